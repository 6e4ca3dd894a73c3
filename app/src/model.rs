//! Types shared by the server, the browser and the REST API. Pure data and pure rules only.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Roles are ordered: every role can do what the ones below it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Whether a caller holding `self` may do something that needs `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role '{other}': use viewer, operator or admin"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Token,
}

/// Who is calling: a signed-in user or a machine holding an API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub kind: PrincipalKind,
    /// The user's or the token's row id.
    pub id: i64,
    /// What a scoped token is limited to; empty for people and unscoped tokens.
    #[serde(default)]
    pub scopes: Vec<crate::scopes::Scope>,
    /// The environment a token evaluates feature flags for when the context names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl Principal {
    /// How the audit trail names this caller: tokens are marked so nobody mistakes one for a person.
    pub fn actor(&self) -> String {
        match self.kind {
            PrincipalKind::User => self.name.clone(),
            PrincipalKind::Token => format!("token:{}", self.name),
        }
    }
}

/// Placed in the request's extensions by the server's authentication layer, read by server
/// functions. `None` inside means the request carries no valid session or token.
#[derive(Debug, Clone, Default)]
pub struct Caller(pub Option<Principal>);

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub role: Role,
    pub kind: PrincipalKind,
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Self {
        Me {
            username: p.name.clone(),
            role: p.role,
            kind: p.kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// Unix milliseconds.
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// When an admin disabled the account; `None` while it is enabled.
    #[serde(default)]
    pub disabled_at: Option<i64>,
}

/// `PATCH /api/v1/users/{username}`: what an admin changes about an account. Disabling ends
/// its sessions and revokes the tokens it created, at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub role: Option<Role>,
    /// A new password (the CLI reads it from standard input).
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// What the token is limited to; empty: everything its role allows.
    #[serde(default)]
    pub scopes: Vec<crate::scopes::Scope>,
    /// The environment it evaluates feature flags for when the context names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The first characters of the token, enough to recognise it, never enough to use it.
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What a token is limited to beyond its role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenLimits {
    /// Empty: everything its role allows.
    #[serde(default)]
    pub scopes: Vec<crate::scopes::Scope>,
    /// The environment whose flag settings it evaluates when the context names none.
    #[serde(default)]
    pub environment: Option<String>,
}

/// A token just created: the only time its secret is ever shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub summary: TokenSummary,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub reason: Option<String>,
    /// Free-form JSON detail, already free of secrets. Kept as raw JSON text: the browser passes it
    /// through without building a `serde_json::Value`, which keeps that code out of the bundle.
    pub detail: Box<serde_json::value::RawValue>,
}

/// A filter and a page position for the audit trail; newest first, `before` is an entry id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub before: Option<i64>,
    pub limit: Option<u32>,
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Entries about one service: its own, and those of its targets (`service/environment`).
    #[serde(default)]
    pub service: Option<String>,
}

impl AuditQuery {
    /// The page size to use, or an explanation of why the one asked for is refused.
    pub fn checked_limit(&self) -> Result<u32, String> {
        page_size(self.limit)
    }
}

/// Every list's page size: 50 unless asked, at most 500.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// The page size a list request asked for, checked: the one rule of every paged endpoint.
pub fn page_size(limit: Option<u32>) -> Result<u32, String> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(n) => Err(format!("limit must be from 1 to {MAX_PAGE_SIZE}, not {n}")),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` to get the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// One message on `GET /ws`, as DESIGN.md fixes it: `{ "seq", "topic", "type", "data" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMessage {
    pub seq: i64,
    pub topic: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: serde_json::Value,
}

/// What the browser keeps of an event: enough to know what changed. Pages fetch the new state
/// themselves; the payload (`data`) is skipped while parsing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EventHeader {
    pub seq: i64,
    pub topic: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// What a browser sends on `GET /ws`: the topics it wants and the last `seq` it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Subscribe {
        topics: Vec<String>,
        #[serde(default)]
        since: Option<i64>,
    },
}

/// Topics the foundation publishes on; later capabilities add their own.
pub mod topics {
    pub const AUDIT: &str = "audit";
    /// Control messages from the server itself (`subscribed`, `lagged`).
    pub const SYSTEM: &str = "system";
}

/// Usernames: what a person can type and a log can show without escaping.
pub fn validate_username(name: &str) -> Result<(), String> {
    let ok_len = (2..=64).contains(&name.chars().count());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok_len {
        return Err("Username must be 2 to 64 characters long.".into());
    }
    if !ok_chars {
        return Err("Username may use letters, digits and . _ - @ only.".into());
    }
    Ok(())
}

/// Passwords: length is what matters; composition rules only push people to predictable patterns.
pub fn validate_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 12 {
        return Err("Password must be at least 12 characters long.".into());
    }
    if n > 256 {
        return Err("Password must be at most 256 characters long.".into());
    }
    Ok(())
}

pub fn validate_token_name(name: &str) -> Result<(), String> {
    validate_username(name).map_err(|e| e.replace("Username", "Token name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_allow_what_is_below() {
        assert!(Role::Admin.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Admin));
        assert_eq!("Operator".parse::<Role>(), Ok(Role::Operator));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn event_message_uses_the_contract_field_names() {
        let m = EventMessage {
            seq: 7,
            topic: "audit".into(),
            kind: "audit.created".into(),
            data: serde_json::json!({"id": 1}),
        };
        let v: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(v["type"], "audit.created");
        assert_eq!(v["seq"], 7);
        let header: EventHeader = serde_json::from_value(v).unwrap();
        assert_eq!(
            header,
            EventHeader {
                seq: 7,
                topic: "audit".into(),
                kind: "audit.created".into()
            }
        );
        let sub: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","topics":["audit"],"since":3}"#).unwrap();
        assert_eq!(
            sub,
            ClientMessage::Subscribe {
                topics: vec!["audit".into()],
                since: Some(3)
            }
        );
    }

    #[test]
    fn audit_limits_are_bounded() {
        let q = |limit| AuditQuery {
            limit,
            ..Default::default()
        };
        assert_eq!(q(None).checked_limit(), Ok(50));
        assert_eq!(q(Some(10)).checked_limit(), Ok(10));
        assert!(q(Some(0)).checked_limit().is_err());
        assert!(q(Some(501)).checked_limit().is_err());
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(validate_username("alice.ops").is_ok());
        assert!(validate_username("a").is_err());
        assert!(validate_username("bob smith").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password("correct horse battery").is_ok());
        assert_eq!(
            validate_token_name("x").unwrap_err(),
            "Token name must be 2 to 64 characters long."
        );
    }
}
