//! API tokens: `fdt_` and 40 random hex digits (160 bits). Only the SHA-256 of a token is stored;
//! a leaked database cannot be replayed against the API. SHA-256 (not argon2) is enough because
//! the secret is random, not chosen by a person, and it keeps every API call cheap.

use rand::RngCore;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "fdt_";

pub struct Generated {
    pub token: String,
    pub hash: String,
    /// Shown in lists so people can tell tokens apart.
    pub display_prefix: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn generate() -> Generated {
    let mut secret = [0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("{PREFIX}{}", hex(&secret));
    Generated {
        hash: hash(&token),
        display_prefix: token[..PREFIX.len() + 6].to_string(),
        token,
    }
}

pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = generate();
        let b = generate();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 44);
        assert!(a.token.starts_with("fdt_"));
        assert_eq!(a.hash, hash(&a.token));
        assert!(!a.hash.contains(&a.token[4..]));
        assert!(a.token.starts_with(&a.display_prefix));
        assert_eq!(a.display_prefix.len(), 10);
    }
}
