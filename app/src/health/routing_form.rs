//! The text fields of the alert-routing forms, read the way Alertmanager users write them:
//! matchers as `job="api", severity=~"critical|page"` (operators `=`, `!=`, `=~`, `!~`; quotes
//! optional unless the value holds a comma) and escalation steps one per line as
//! `DELAY CHANNEL`, the delay in seconds or with a unit (`0 oncall-slack`, `15m email-leads`).

use super::alert::Matcher;
use super::escalation::{EscalationStep, NewPolicy};

/// The policy form's four fields as a policy to add or change.
pub fn parse_policy(
    name: String,
    rank: &str,
    matchers: &str,
    steps: &str,
) -> Result<NewPolicy, String> {
    let rank = match rank.trim() {
        "" => 0,
        text => text
            .parse()
            .map_err(|_| "The rank is a whole number; lower ranks are tried first.".to_string())?,
    };
    Ok(NewPolicy {
        name,
        rank,
        matchers: parse_matchers(matchers)?,
        steps: parse_steps(steps)?,
    })
}

pub fn parse_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    split_outside_quotes(text)
        .into_iter()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_matcher)
        .collect()
}

fn parse_matcher(part: &str) -> Result<Matcher, String> {
    let at = part.find(['=', '!']).ok_or_else(|| {
        format!("'{part}' is not a matcher; write it as name=value (or !=, =~, !~).")
    })?;
    let (name, rest) = part.split_at(at);
    let (op, value) = ["=~", "!~", "!=", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v)))
        .ok_or_else(|| format!("'{part}' has no operator; use =, !=, =~ or !~."))?;
    let name = name.trim();
    let valid_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(format!(
            "'{name}' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)."
        ));
    }
    Ok(Matcher {
        name: name.to_string(),
        value: unquote(value.trim()),
        is_regex: op.ends_with('~'),
        is_equal: op.starts_with('='),
    })
}

/// A value as written: a quoted one loses its quotes and its escapes (`\"` and `\\`, as
/// [`Matcher::describe`] writes them; any other backslash is kept, so `"api\d+"` stays a regex).
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next @ ('"' | '\\')) => out.push(next),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits on commas that are not inside double quotes (where `\"` is a quote, not the end).
fn split_outside_quotes(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

pub fn parse_steps(text: &str) -> Result<Vec<EscalationStep>, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (delay, channel) = line.split_once(char::is_whitespace).ok_or_else(|| {
                format!("'{line}': write a step as DELAY CHANNEL, for example '5m oncall-slack'.")
            })?;
            Ok(EscalationStep {
                delay_s: parse_delay(delay).ok_or_else(|| {
                    format!("'{delay}' is not a delay; use seconds or 30s, 5m, 1h, 1d.")
                })?,
                channel: channel.trim().to_string(),
            })
        })
        .collect()
}

fn parse_delay(text: &str) -> Option<u32> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    number.parse::<u32>().ok()?.checked_mul(factor)
}

/// A step's delay as people write it: `0`, `90s`, `15m`, `2h`, `1d`.
pub fn format_delay(seconds: u32) -> String {
    match seconds {
        0 => "0".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Matchers as the form's field shows them, for editing: what [`parse_matchers`] reads back.
pub fn format_matchers(matchers: &[Matcher]) -> String {
    let described: Vec<String> = matchers.iter().map(Matcher::describe).collect();
    described.join(", ")
}

/// Steps as the form's field shows them, one per line: what [`parse_steps`] reads back.
pub fn format_steps(steps: &[EscalationStep]) -> String {
    let lines: Vec<String> = steps
        .iter()
        .map(|s| format!("{} {}", format_delay(s.delay_s), s.channel))
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_shown_for_editing_reads_back_the_same() {
        let matchers = parse_matchers(
            r#"job=~"api|web", severity!="info", team="a,b", quote="say \"hi\", ok", path=~"C:\\x\d+""#,
        )
        .unwrap();
        assert_eq!(matchers[3].value, r#"say "hi", ok"#);
        assert_eq!(matchers[4].value, r"C:\x\d+");
        assert_eq!(
            parse_matchers(&format_matchers(&matchers)).unwrap(),
            matchers
        );
        let steps = parse_steps("0 oncall-slack\n90s pager\n15m email leads\n1d archive").unwrap();
        assert_eq!(
            format_steps(&steps),
            "0 oncall-slack\n90s pager\n15m email leads\n1d archive"
        );
        assert_eq!(parse_steps(&format_steps(&steps)).unwrap(), steps);
    }

    fn described(text: &str) -> Vec<String> {
        parse_matchers(text)
            .unwrap()
            .iter()
            .map(Matcher::describe)
            .collect()
    }

    #[test]
    fn matchers_read_like_alertmanagers() {
        assert_eq!(
            described(r#"job=api, severity=~"critical|page", env!="dev", team!~ops.*"#),
            [
                r#"job="api""#,
                r#"severity=~"critical|page""#,
                r#"env!="dev""#,
                r#"team!~"ops.*""#
            ]
        );
        assert_eq!(
            described(r#"instance=~"db-{1,3}""#),
            [r#"instance=~"db-{1,3}""#]
        );
        assert!(parse_matchers("").unwrap().is_empty());
        for bad in ["job", "=api", "1job=api", "job name=api", "job!api"] {
            assert!(parse_matchers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_are_delay_then_channel() {
        let steps = parse_steps("0 oncall-slack\n\n  15m email leads \n1h pager").unwrap();
        let read: Vec<(u32, &str)> = steps
            .iter()
            .map(|s| (s.delay_s, s.channel.as_str()))
            .collect();
        assert_eq!(
            read,
            [(0, "oncall-slack"), (900, "email leads"), (3_600, "pager")]
        );
        for bad in ["oncall", "5x oncall", "-1 oncall", "99999999999 oncall"] {
            assert!(parse_steps(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delays_print_back_as_written() {
        for (s, text) in [
            (0, "0"),
            (45, "45s"),
            (900, "15m"),
            (7_200, "2h"),
            (86_400, "1d"),
            (90, "90s"),
        ] {
            assert_eq!(format_delay(s), text);
            assert_eq!(parse_delay(&format_delay(s)), Some(s));
        }
    }
}
