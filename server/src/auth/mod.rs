//! Who is calling: the users and tokens (`accounts`), passwords (argon2id), API tokens (random,
//! stored as SHA-256), server-side sessions (tower-sessions over the database), the layer that
//! resolves each request's [`app::model::Caller`], and the brake on repeated failed sign-ins.

pub mod accounts;
pub mod caller;
pub mod password;
pub mod proxies;
pub mod sessions;
pub mod throttle;
pub mod token;
pub mod token_cache;

/// Session key holding the signed-in user's id.
pub const SESSION_USER_ID: &str = "user_id";
/// When the session's user signed in (Unix ms): a session ends this long after it began,
/// however busy (`FLIGHTDECK_SESSION_MAX_HOURS`).
pub const SESSION_SIGNED_IN_AT: &str = "signed_in_at";
