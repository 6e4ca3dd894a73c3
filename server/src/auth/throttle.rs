//! Slows down password guessing from one address: the first five failures within fifteen minutes
//! are free, then each further attempt must wait twice as long as the one before (2 s, 4 s, ...,
//! capped at 5 min). A success clears the address. In memory: a restart forgives, which is fine
//! for a brake (it is not a lockout, and it never blocks a user who is not failing).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_WAIT: Duration = Duration::from_secs(300);
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Default)]
pub struct SignInThrottle {
    by_address: Mutex<HashMap<IpAddr, Failures>>,
}

fn wait_after(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exponent = (count - FREE_FAILURES).min(16);
    Duration::from_secs(2u64 << exponent).min(MAX_WAIT)
}

impl SignInThrottle {
    /// `Err(wait)` when this address must wait before trying again.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&addr) {
            Some(f) if now.duration_since(f.last) < WINDOW => {
                let ready_at = f.last + wait_after(f.count);
                if now < ready_at {
                    Err(ready_at - now)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, addr: IpAddr, now: Instant) {
        let mut map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, f| now.duration_since(f.last) < WINDOW);
        }
        let entry = map.entry(addr).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(entry.last) >= WINDOW {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    pub fn succeeded(&self, addr: IpAddr) {
        self.by_address
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_waits_double() {
        let t = SignInThrottle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let start = Instant::now();
        for _ in 0..4 {
            t.failed(ip, start);
            assert!(t.check(ip, start).is_ok());
        }
        t.failed(ip, start);
        assert_eq!(t.check(ip, start), Err(Duration::from_secs(2)));
        assert!(t.check(ip, start + Duration::from_secs(2)).is_ok());
        t.failed(ip, start + Duration::from_secs(2));
        assert_eq!(
            t.check(ip, start + Duration::from_secs(2)),
            Err(Duration::from_secs(4))
        );
    }

    #[test]
    fn other_addresses_and_successes_are_unaffected() {
        let t = SignInThrottle::default();
        let bad: IpAddr = "192.0.2.7".parse().unwrap();
        let good: IpAddr = "192.0.2.8".parse().unwrap();
        let now = Instant::now();
        for _ in 0..10 {
            t.failed(bad, now);
        }
        assert!(t.check(good, now).is_ok());
        assert!(t.check(bad, now).is_err());
        t.succeeded(bad);
        assert!(t.check(bad, now).is_ok());
    }

    #[test]
    fn the_wait_is_capped_and_the_window_forgives() {
        let t = SignInThrottle::default();
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let now = Instant::now();
        for _ in 0..40 {
            t.failed(ip, now);
        }
        assert_eq!(t.check(ip, now), Err(MAX_WAIT));
        assert!(t.check(ip, now + WINDOW).is_ok());
    }
}
