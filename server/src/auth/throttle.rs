//! Slows down password guessing, per address and per username: the first five failures within
//! fifteen minutes are free, then each further attempt must wait twice as long as the one before
//! (2 s, 4 s, ..., capped at 5 min). An attempt counts as a failure the moment it starts, before
//! its password is hashed, so a burst of parallel guesses cannot all slip through the check; a
//! success clears both keys. IPv6 addresses are keyed on their /64 (one host holds all of it).
//! In memory: a restart forgives, which is fine for a brake (it is not a lockout, and it never
//! blocks a user who is not failing).

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

/// What an attempt is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Username(String),
}

/// The address a throttle counts: IPv4 as is, IPv6 by its /64 network.
pub fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<Key, Failures>>,
}

fn wait_after(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exponent = (count - FREE_FAILURES).min(16);
    Duration::from_secs(2u64 << exponent).min(MAX_WAIT)
}

impl SignInThrottle {
    fn keys(addr: IpAddr, username: &str) -> [Key; 2] {
        [
            Key::Address(address_key(addr)),
            Key::Username(username.trim().to_lowercase()),
        ]
    }

    /// Starts an attempt: `Err(wait)` when the address or the username must wait, else the
    /// attempt is counted as a failure until [`SignInThrottle::succeeded`] says otherwise.
    pub fn begin(&self, addr: IpAddr, username: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let keys = Self::keys(addr, username);
        let wait = keys
            .iter()
            .filter_map(|k| map.get(k))
            .filter(|f| now.duration_since(f.last) < WINDOW)
            .map(|f| (f.last + wait_after(f.count)).saturating_duration_since(now))
            .max()
            .unwrap_or(Duration::ZERO);
        if !wait.is_zero() {
            return Err(wait);
        }
        if map.len() >= MAX_TRACKED {
            map.retain(|_, f| now.duration_since(f.last) < WINDOW);
        }
        for key in keys {
            let entry = map.entry(key).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.duration_since(entry.last) >= WINDOW {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
        }
        Ok(())
    }

    /// The attempt's password was right: its address and username start afresh.
    pub fn succeeded(&self, addr: IpAddr, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in Self::keys(addr, username) {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_attempts_are_free_then_waits_double() {
        let t = SignInThrottle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let start = Instant::now();
        for _ in 0..5 {
            assert!(t.begin(ip, "anna", start).is_ok());
        }
        assert_eq!(t.begin(ip, "anna", start), Err(Duration::from_secs(2)));
        let later = start + Duration::from_secs(2);
        assert!(t.begin(ip, "anna", later).is_ok());
        assert_eq!(t.begin(ip, "anna", later), Err(Duration::from_secs(4)));
    }

    #[test]
    fn parallel_attempts_are_counted_before_any_finishes() {
        // 200 guesses started at once: only the five free ones get to hash a password.
        let t = SignInThrottle::default();
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let now = Instant::now();
        let let_through = (0..200)
            .filter(|_| t.begin(ip, "admin", now).is_ok())
            .count();
        assert_eq!(let_through, 5);
    }

    #[test]
    fn one_username_is_protected_across_addresses() {
        let t = SignInThrottle::default();
        let now = Instant::now();
        for i in 0..5 {
            let ip: IpAddr = format!("198.51.100.{i}").parse().unwrap();
            assert!(t.begin(ip, "Admin", now).is_ok());
        }
        let fresh: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(
            t.begin(fresh, "admin", now).is_err(),
            "usernames compare case-insensitively"
        );
        assert!(t.begin(fresh, "someone-else", now).is_ok());
    }

    #[test]
    fn a_success_clears_and_other_addresses_are_unaffected() {
        let t = SignInThrottle::default();
        let bad: IpAddr = "192.0.2.7".parse().unwrap();
        let good: IpAddr = "192.0.2.8".parse().unwrap();
        let now = Instant::now();
        for _ in 0..10 {
            let _ = t.begin(bad, "x", now);
        }
        assert!(t.begin(good, "y", now).is_ok());
        assert!(t.begin(bad, "z", now).is_err());
        t.succeeded(bad, "x");
        assert!(t.begin(bad, "x", now).is_ok());
    }

    #[test]
    fn ipv6_is_keyed_on_its_64() {
        let t = SignInThrottle::default();
        let now = Instant::now();
        for i in 1..=5 {
            let ip: IpAddr = format!("2001:db8:1:2::{i}").parse().unwrap();
            assert!(t.begin(ip, &format!("u{i}"), now).is_ok());
        }
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(t.begin(same_net, "u9", now).is_err());
        assert!(t.begin(other_net, "u9", now).is_ok());
    }

    #[test]
    fn the_wait_is_capped_and_the_window_forgives() {
        let t = SignInThrottle::default();
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let now = Instant::now();
        let mut last = now;
        for i in 0..40 {
            // Each attempt at the moment it is allowed.
            let at = now + Duration::from_secs(i * 301);
            let _ = t.begin(ip, "x", at);
            last = at;
        }
        let wait = t.begin(ip, "x", last).unwrap_err();
        assert!(wait <= MAX_WAIT, "{wait:?}");
        assert!(t
            .begin(ip, "x", last + WINDOW + Duration::from_secs(1))
            .is_ok());
    }
}
