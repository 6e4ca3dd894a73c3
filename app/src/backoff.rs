//! Reconnect delays for the live connection: exponential with a cap, and jitter so that a
//! hundred tablets that lost the server at the same moment do not all come back in the same one.

/// Delay in milliseconds before reconnect attempt `attempt` (0 = first retry).
/// `jitter` in [0, 1) spreads the delay over the upper half of the step.
pub fn reconnect_delay_ms(attempt: u32, jitter: f64) -> u64 {
    const BASE_MS: u64 = 500;
    const CAP_MS: u64 = 30_000;
    let step = BASE_MS.saturating_mul(1u64 << attempt.min(16)).min(CAP_MS);
    let jitter = jitter.clamp(0.0, 0.999_999);
    step / 2 + ((step / 2) as f64 * jitter) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_then_stays_at_the_cap() {
        assert_eq!(reconnect_delay_ms(0, 0.0), 250);
        assert_eq!(reconnect_delay_ms(1, 0.0), 500);
        assert_eq!(reconnect_delay_ms(3, 0.0), 2_000);
        assert_eq!(reconnect_delay_ms(10, 0.0), 15_000);
        assert_eq!(reconnect_delay_ms(60, 0.0), 15_000);
        assert!(reconnect_delay_ms(60, 0.99) < 30_000);
    }

    #[test]
    fn jitter_stays_within_the_step() {
        for attempt in 0..20 {
            for j in [0.0, 0.3, 0.7, 1.5, -1.0] {
                let d = reconnect_delay_ms(attempt, j);
                let step = (500u64 << attempt.min(16)).min(30_000);
                assert!(
                    d >= step / 2 && d < step,
                    "attempt {attempt} jitter {j}: {d}"
                );
            }
        }
    }
}
