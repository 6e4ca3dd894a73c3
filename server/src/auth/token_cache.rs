//! API tokens verified in the last few seconds. A machine that calls often (Prometheus and
//! Alertmanager send alerts many times a second) would otherwise cost a database read per
//! request; with this, one per token every [`TTL`]. A token revoked through this server is
//! forgotten at once; one revoked through another replica stops working here within [`TTL`].

use app::model::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(5);

/// More distinct tokens than this within one TTL and the cache starts over; it is a shortcut, not
/// a store.
const MAX_TOKENS: usize = 1_024;

/// How often a token's `last_used_at` is written at most.
pub const USE_RECORD_EVERY_MS: i64 = 60_000;

#[derive(Default)]
pub struct TokenCache {
    /// Token hash -> who it is and when the database said so.
    verified: Mutex<HashMap<String, (Principal, Instant)>>,
    /// Token id -> when this process last set out to record its use (ms since the epoch).
    use_recorded: Mutex<HashMap<i64, i64>>,
}

impl TokenCache {
    pub fn get(&self, hash: &str) -> Option<Principal> {
        let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        verified
            .get(hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(principal, _)| principal.clone())
    }

    pub fn put(&self, hash: String, principal: Principal) {
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= MAX_TOKENS {
            verified.clear();
        }
        verified.insert(hash, (principal, Instant::now()));
    }

    /// Whether this caller should write token `id`'s `last_used_at` now: true for one caller per
    /// [`USE_RECORD_EVERY_MS`], so a burst of requests that all missed the cache writes it once.
    pub fn claim_use_record(&self, id: i64, now_ms: i64) -> bool {
        let mut recorded = self.use_recorded.lock().unwrap_or_else(|e| e.into_inner());
        if recorded
            .get(&id)
            .is_some_and(|at| *at > now_ms - USE_RECORD_EVERY_MS)
        {
            return false;
        }
        if recorded.len() >= MAX_TOKENS {
            recorded.clear();
        }
        recorded.insert(id, now_ms);
        true
    }

    /// Forgets the token with row id `id` (it was revoked).
    pub fn forget(&self, id: i64) {
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        verified.retain(|_, (principal, _)| principal.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{PrincipalKind, Role};

    fn token(id: i64) -> Principal {
        Principal {
            name: format!("bot-{id}"),
            role: Role::Operator,
            kind: PrincipalKind::Token,
            id,
            scopes: Vec::new(),
            environment: None,
        }
    }

    #[test]
    fn remembers_until_revoked() {
        let cache = TokenCache::default();
        assert_eq!(cache.get("h1"), None);
        cache.put("h1".into(), token(1));
        cache.put("h2".into(), token(2));
        assert_eq!(cache.get("h1"), Some(token(1)));
        cache.forget(1);
        assert_eq!(cache.get("h1"), None);
        assert_eq!(cache.get("h2"), Some(token(2)));
    }

    #[test]
    fn one_caller_records_a_use_per_interval() {
        let cache = TokenCache::default();
        assert!(cache.claim_use_record(1, 1_000_000));
        assert!(!cache.claim_use_record(1, 1_000_001));
        assert!(cache.claim_use_record(2, 1_000_001));
        assert!(!cache.claim_use_record(1, 1_000_000 + USE_RECORD_EVERY_MS - 1));
        assert!(cache.claim_use_record(1, 1_000_000 + USE_RECORD_EVERY_MS));
    }

    #[test]
    fn stays_bounded() {
        let cache = TokenCache::default();
        for id in 0..(MAX_TOKENS as i64 + 10) {
            cache.put(format!("h{id}"), token(id));
        }
        assert!(cache.verified.lock().unwrap().len() <= MAX_TOKENS);
        assert_eq!(
            cache.get(&format!("h{}", MAX_TOKENS + 9)),
            Some(token(MAX_TOKENS as i64 + 9))
        );
    }
}
