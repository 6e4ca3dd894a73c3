//! Human time for tables: "3 min ago" next to the exact UTC time in a tooltip.

/// `then` and `now` in Unix milliseconds.
pub fn relative(then: i64, now: i64) -> String {
    let secs = (now - then) / 1000;
    if secs < 0 {
        return "just now".into();
    }
    match secs {
        0..=44 => "just now".into(),
        45..=89 => "1 min ago".into(),
        90..=3_599 => format!("{} min ago", (secs + 30) / 60),
        3_600..=86_399 => format!("{} h ago", secs / 3_600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// A short length of time: "850 ms", "42 s", "3 min 5 s", "2 h 10 min".
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    let secs = ms / 1000;
    match secs {
        0 => format!("{ms} ms"),
        1..=59 => format!("{secs} s"),
        60..=3_599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3_600, (secs % 3_600) / 60),
    }
}

/// ISO 8601 in UTC, to the second, without a time library (works the same in WASM).
pub fn iso_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// RFC 3339 in UTC: `2026-12-01T22:00:00Z`, with milliseconds only when there are some.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let fraction = if millis == 0 {
        String::new()
    } else {
        format!(".{millis:03}")
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Hour of the day (0–23) and day of the week (0 = Sunday) in UTC.
pub fn hour_and_weekday(ms: i64) -> (u32, u32) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    (
        (secs.rem_euclid(86_400) / 3600) as u32,
        (days + 4).rem_euclid(7) as u32,
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_the_clock() {
        assert_eq!(rfc3339(1_796_162_400_000), "2026-12-01T22:00:00Z");
        assert_eq!(rfc3339(1_796_162_400_250), "2026-12-01T22:00:00.250Z");
        // 2026-12-01 is a Tuesday.
        assert_eq!(hour_and_weekday(1_796_162_400_000), (22, 2));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(42_400), "42 s");
        assert_eq!(duration(185_000), "3 min 5 s");
        assert_eq!(duration(7_800_000), "2 h 10 min");
        assert_eq!(duration(-5), "0 ms");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_000_000_000;
        assert_eq!(relative(now - 5_000, now), "just now");
        assert_eq!(relative(now - 60_000, now), "1 min ago");
        assert_eq!(relative(now - 600_000, now), "10 min ago");
        assert_eq!(relative(now - 7_200_000, now), "2 h ago");
        assert_eq!(relative(now - 3 * 86_400_000, now), "3 d ago");
        assert_eq!(relative(now + 10_000, now), "just now");
    }

    #[test]
    fn iso_matches_known_instants() {
        assert_eq!(iso_utc(0), "1970-01-01 00:00:00 UTC");
        // 2026-11-21 21:55:56 UTC
        assert_eq!(iso_utc(1_795_298_156_000), "2026-11-21 21:55:56 UTC");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }
}
