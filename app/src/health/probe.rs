//! A component's status from its latest probe results: the one rule behind the health grid,
//! written once and tested with properties.
//!
//! Only the [`RECENT`] newest checks count, so a component recovers from an old outage without
//! waiting for history to age out:
//! - no checks yet: unknown;
//! - every recent check failed: down;
//! - some (not all) recent checks failed: degraded (flapping, or just failed, or recovering);
//! - all passed but the newest was slower than the latency threshold: degraded;
//! - otherwise healthy.

use super::HealthStatus;
use serde::{Deserialize, Serialize};

/// How many of the newest checks decide the status.
pub const RECENT: usize = 5;

/// One probe check as the status rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub ok: bool,
    /// Absent when the probe failed before an answer arrived (refused, timed out).
    pub latency_ms: Option<u32>,
}

/// `newest_first`: the component's checks, newest first (more than [`RECENT`] may be passed).
pub fn status(newest_first: &[Check], latency_threshold_ms: Option<u32>) -> HealthStatus {
    let recent = &newest_first[..newest_first.len().min(RECENT)];
    let Some(newest) = recent.first() else {
        return HealthStatus::Unknown;
    };
    let failed = recent.iter().filter(|c| !c.ok).count();
    if failed == recent.len() {
        HealthStatus::Down
    } else if failed > 0 || too_slow(newest, latency_threshold_ms) {
        // Some recent checks failed, or all passed but the newest was slower than the threshold.
        HealthStatus::Degraded
    } else {
        HealthStatus::Healthy
    }
}

fn too_slow(check: &Check, threshold: Option<u32>) -> bool {
    matches!((check.latency_ms, threshold), (Some(latency), Some(limit)) if latency > limit)
}

/// Why the rule chose the status, in words for the component page.
pub fn explain(newest_first: &[Check], latency_threshold_ms: Option<u32>) -> String {
    let recent = &newest_first[..newest_first.len().min(RECENT)];
    let failed = recent.iter().filter(|c| !c.ok).count();
    match status(newest_first, latency_threshold_ms) {
        HealthStatus::Unknown => "No checks have run yet.".into(),
        HealthStatus::Down if recent.len() == 1 => "The only check so far failed.".into(),
        HealthStatus::Down => format!("All of the last {} checks failed.", recent.len()),
        HealthStatus::Degraded if failed > 0 => {
            format!("{failed} of the last {} checks failed.", recent.len())
        }
        HealthStatus::Degraded => format!(
            "The last check took {} ms, over the {} ms threshold.",
            recent[0].latency_ms.unwrap_or(0),
            latency_threshold_ms.unwrap_or(0)
        ),
        HealthStatus::Healthy if recent.len() == 1 => "The only check so far passed.".into(),
        HealthStatus::Healthy => format!("The last {} checks passed.", recent.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(ms: u32) -> Check {
        Check {
            ok: true,
            latency_ms: Some(ms),
        }
    }
    const FAIL: Check = Check {
        ok: false,
        latency_ms: None,
    };

    #[test]
    fn examples() {
        assert_eq!(status(&[], Some(100)), HealthStatus::Unknown);
        assert_eq!(status(&[ok(20)], Some(100)), HealthStatus::Healthy);
        assert_eq!(status(&[ok(200)], Some(100)), HealthStatus::Degraded);
        assert_eq!(status(&[ok(200)], None), HealthStatus::Healthy);
        assert_eq!(status(&[FAIL], Some(100)), HealthStatus::Down);
        assert_eq!(
            status(&[FAIL, ok(10), ok(10)], None),
            HealthStatus::Degraded
        );
        assert_eq!(status(&[ok(10), FAIL, FAIL], None), HealthStatus::Degraded);
        // An outage older than the recent checks no longer counts.
        let recovered = [ok(10), ok(10), ok(10), ok(10), ok(10), FAIL, FAIL, FAIL];
        assert_eq!(status(&recovered, Some(100)), HealthStatus::Healthy);
        assert_eq!(
            explain(&[FAIL, ok(1)], None),
            "1 of the last 2 checks failed."
        );
        assert_eq!(
            explain(&[ok(300)], Some(250)),
            "The last check took 300 ms, over the 250 ms threshold."
        );
    }

    fn check() -> impl Strategy<Value = Check> {
        (any::<bool>(), 0u32..2000).prop_map(|(ok, ms)| Check {
            ok,
            latency_ms: ok.then_some(ms),
        })
    }

    proptest! {
        #[test]
        fn unknown_exactly_without_checks(checks in prop::collection::vec(check(), 0..12), limit in prop::option::of(0u32..2000)) {
            prop_assert_eq!(status(&checks, limit) == HealthStatus::Unknown, checks.is_empty());
        }

        #[test]
        fn down_exactly_when_every_recent_check_failed(checks in prop::collection::vec(check(), 1..12), limit in prop::option::of(0u32..2000)) {
            let all_failed = checks.iter().take(RECENT).all(|c| !c.ok);
            prop_assert_eq!(status(&checks, limit) == HealthStatus::Down, all_failed);
        }

        #[test]
        fn healthy_means_recent_checks_passed_within_the_threshold(checks in prop::collection::vec(check(), 1..12), limit in prop::option::of(0u32..2000)) {
            if status(&checks, limit) == HealthStatus::Healthy {
                prop_assert!(checks.iter().take(RECENT).all(|c| c.ok));
                prop_assert!(!too_slow(&checks[0], limit));
            }
        }

        #[test]
        fn only_the_recent_checks_count(recent in prop::collection::vec(check(), RECENT..=RECENT), older in prop::collection::vec(check(), 0..10), limit in prop::option::of(0u32..2000)) {
            let mut all = recent.clone();
            all.extend(older);
            prop_assert_eq!(status(&all, limit), status(&recent, limit));
        }

        #[test]
        fn a_failure_never_makes_things_look_better(checks in prop::collection::vec(check(), 1..12), at in 0usize..RECENT, limit in prop::option::of(0u32..2000)) {
            let mut worse = checks.clone();
            let index = at.min(worse.len() - 1);
            worse[index] = Check { ok: false, latency_ms: None };
            prop_assert!(status(&worse, limit).rank() >= status(&checks, limit).rank());
        }

        #[test]
        fn no_threshold_no_slowness(checks in prop::collection::vec(check(), 1..12)) {
            let healthy_or_failed = status(&checks, None) != HealthStatus::Degraded
                || checks.iter().take(RECENT).any(|c| !c.ok);
            prop_assert!(healthy_or_failed);
        }
    }
}
