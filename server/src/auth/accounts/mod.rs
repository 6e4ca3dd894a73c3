//! Users and API tokens: sign-in, the caller lookups the auth layer needs, and the admin
//! operations. Every change is written with its audit entry in one transaction.

use crate::audit::NewAudit;
use crate::auth::token_cache::{TokenCache, USE_RECORD_EVERY_MS};
use crate::auth::{
    caller::client_addr, password, throttle::SignInThrottle, token, SESSION_USER_ID,
};
use crate::error::internal;
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::error::{AppError, ErrorCode};
use app::model::*;
use app::ports::AccountsPort;
use app::scopes::Scope;
use async_trait::async_trait;
use http::request::Parts;
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use std::time::Instant;
use tower_sessions::Session;

mod changes;

pub struct Accounts {
    pool: AnyPool,
    bus: Arc<EventBus>,
    throttle: SignInThrottle,
    /// Proxies whose `X-Forwarded-For` names the client (sign-in throttling keys on it).
    trusted_proxies: Vec<crate::auth::proxies::Cidr>,
    /// Password hashes running at once (sign-ins); more are refused with 429, not queued.
    hashing: tokio::sync::Semaphore,
    tokens: TokenCache,
}

/// Sign-in hashes at once: two cores, and each argon2id hash holds 19 MiB.
const CONCURRENT_HASHES: usize = 4;

/// Who did something when no person or token did: start-up and the command line.
pub const SYSTEM_ACTOR: &str = "system";

fn parse_role(raw: &str) -> Result<Role, sqlx::Error> {
    raw.parse()
        .map_err(|e: String| sqlx::Error::Decode(e.into()))
}

fn decode_user(row: &sqlx::any::AnyRow) -> Result<UserSummary, sqlx::Error> {
    Ok(UserSummary {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: parse_role(&row.try_get::<String, _>("role")?)?,
        created_at: row.try_get("created_at")?,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

/// The stored scopes (`alerts:write,read`); NULL or empty: unscoped.
fn parse_scopes(raw: Option<String>) -> Result<Vec<Scope>, sqlx::Error> {
    Scope::parse_list(raw.as_deref()).map_err(|e| sqlx::Error::Decode(e.into()))
}

fn decode_token(row: &sqlx::any::AnyRow) -> Result<TokenSummary, sqlx::Error> {
    Ok(TokenSummary {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: parse_role(&row.try_get::<String, _>("role")?)?,
        scopes: parse_scopes(row.try_get("scopes")?)?,
        environment: row.try_get("environment")?,
        prefix: row.try_get("prefix")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Accounts {
    pub fn new(
        pool: AnyPool,
        bus: Arc<EventBus>,
        trusted_proxies: Vec<crate::auth::proxies::Cidr>,
    ) -> Self {
        Accounts {
            pool,
            bus,
            trusted_proxies,
            throttle: SignInThrottle::default(),
            hashing: tokio::sync::Semaphore::new(CONCURRENT_HASHES),
            tokens: TokenCache::default(),
        }
    }

    pub async fn count_users(&self) -> Result<i64, AppError> {
        sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get(0))
            .context("counting users")
    }

    pub async fn principal_for_user(&self, id: i64) -> Result<Option<Principal>, AppError> {
        // A disabled account's sessions stop working with its next request.
        let row = sqlx::query(
            "SELECT id, username, role FROM users WHERE id = $1 AND disabled_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .context("loading the session's user")?;
        row.map(|r| {
            Ok::<_, sqlx::Error>(Principal {
                id: r.try_get("id")?,
                name: r.try_get("username")?,
                role: parse_role(&r.try_get::<String, _>("role")?)?,
                kind: PrincipalKind::User,
                scopes: Vec::new(),
                environment: None,
            })
        })
        .transpose()
        .context("decoding a user")
    }

    pub async fn principal_for_token(
        &self,
        presented: &str,
    ) -> Result<Option<Principal>, AppError> {
        let hash = token::hash(presented);
        if let Some(principal) = self.tokens.get(&hash) {
            return Ok(Some(principal));
        }
        let row = sqlx::query(
            "SELECT id, name, role, scopes, environment, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await
        .context("looking up an API token")?;
        let Some(row) = row else { return Ok(None) };
        let principal = (|| -> Result<Principal, sqlx::Error> {
            Ok(Principal {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                role: parse_role(&row.try_get::<String, _>("role")?)?,
                kind: PrincipalKind::Token,
                scopes: parse_scopes(row.try_get("scopes")?)?,
                environment: row.try_get("environment")?,
            })
        })()
        .context("decoding an API token")?;
        self.tokens.put(hash, principal.clone());
        // Written at most once a minute per token, so busy machines do not turn reads into writes.
        // The statement runs only when the read says it is due (on SQLite even an UPDATE that
        // changes nothing takes the write lock), by one of the requests that missed the cache
        // together, and in the background: on SQLite it queues behind other writers, and a burst
        // of 32 alert requests once waited 1.2 s on it (health_bench).
        let now = crate::now_ms();
        let last_used: Option<i64> = row.try_get("last_used_at").unwrap_or(None);
        let due = last_used.is_none_or(|at| at < now - USE_RECORD_EVERY_MS);
        if due && self.tokens.claim_use_record(principal.id, now) {
            let (pool, id) = (self.pool.clone(), principal.id);
            tokio::spawn(async move {
                let recorded = sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(now)
                .bind(id)
                .bind(now - USE_RECORD_EVERY_MS)
                .execute(&pool)
                .await;
                if let Err(error) = recorded {
                    tracing::warn!(%error, "could not record token use");
                }
            });
        }
        Ok(Some(principal))
    }

    /// Creates a user; `actor` is recorded on the audit trail.
    pub async fn add_user(
        &self,
        actor: &str,
        username: &str,
        role: Role,
        password: &str,
    ) -> Result<UserSummary, AppError> {
        validate_username(username).map_err(AppError::unprocessable)?;
        validate_password(password).map_err(AppError::unprocessable)?;
        let hash = password::hash_blocking(password.to_string())
            .await
            .context("hashing a password")?;
        let now = crate::now_ms();
        let mut tx = store::begin(&self.pool).await?;
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(username)
            .bind(&hash)
            .bind(role.as_str())
            .bind(now),
            &mut tx,
            "creating a user",
            |_| format!(
                "A user named '{username}' already exists."
            ),
        )
        .await?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor,
                action: "user.created",
                target: username,
                reason: None,
                detail: serde_json::json!({ "role": role }),
            },
        )
        .await?;
        Ok(UserSummary {
            id,
            username: username.into(),
            role,
            created_at: now,
            last_sign_in_at: None,
            disabled_at: None,
        })
    }

    /// Creates an API token; the secret is in the result and nowhere else.
    pub async fn add_token(
        &self,
        actor: &str,
        name: &str,
        role: Role,
        limits: TokenLimits,
    ) -> Result<NewToken, AppError> {
        validate_token_name(name).map_err(AppError::unprocessable)?;
        let TokenLimits {
            scopes,
            environment,
        } = limits;
        if let Some(environment) = &environment {
            let known = crate::catalog::environment_exists(&self.pool, environment).await?;
            if !known {
                return Err(AppError::unprocessable(format!(
                    "environment: there is no environment named '{environment}'"
                )));
            }
        }
        if let Some(scope) = scopes.iter().find(|s| !role.allows(s.least_role())) {
            return Err(AppError::unprocessable(format!(
                "The scope {scope} needs at least the {} role; this token would be a {role}.",
                scope.least_role()
            )));
        }
        let stored_scopes = (!scopes.is_empty()).then(|| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        });
        let generated = token::generate();
        let now = crate::now_ms();
        let mut tx = store::begin(&self.pool).await?;
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO api_tokens (name, role, token_hash, prefix, created_by, created_at, scopes, environment) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(name)
            .bind(role.as_str())
            .bind(&generated.hash)
            .bind(&generated.display_prefix)
            .bind(actor)
            .bind(now)
            .bind(stored_scopes.as_deref())
            .bind(environment.as_deref()),
            &mut tx,
            "creating a token",
            |_| format!(
                "An active token named '{name}' already exists; revoke it first or pick another name."
            ),
        )
        .await?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor,
                action: "token.created",
                target: name,
                reason: None,
                detail: serde_json::json!({ "role": role, "scopes": scopes, "environment": environment, "prefix": generated.display_prefix }),
            },
        )
        .await?;
        Ok(NewToken {
            summary: TokenSummary {
                id,
                name: name.into(),
                role,
                scopes,
                environment,
                prefix: generated.display_prefix,
                created_by: actor.into(),
                created_at: now,
                last_used_at: None,
                revoked_at: None,
            },
            token: generated.token,
        })
    }

    pub async fn sign_in(
        &self,
        request: &Parts,
        username: &str,
        password: &str,
    ) -> Result<Principal, AppError> {
        let forwarded: Vec<&str> = request
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let addr = crate::auth::proxies::client(
            client_addr(&request.extensions),
            &forwarded,
            &self.trusted_proxies,
        );
        if let Err(wait) = self.throttle.begin(addr, username, Instant::now()) {
            let seconds = wait.as_secs().max(1);
            return Err(AppError::rate_limited(
                format!("Too many failed sign-ins for this account or from your address. Try again in {seconds} s."),
                seconds,
            ));
        }
        // argon2id takes 19 MiB and a core for a while: a few at a time, the rest told to retry
        // at once instead of queueing on the blocking pool (200 parallel guesses reached 561 MB).
        let Ok(_hashing) = self.hashing.try_acquire() else {
            return Err(AppError::rate_limited(
                "Too many sign-ins at this moment. Try again in a second.",
                1,
            ));
        };
        let row =
            sqlx::query("SELECT id, username, role, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL")
                .bind(username)
                .fetch_optional(&self.pool)
                .await
                .context("looking up a user")?;
        let stored_hash = row
            .as_ref()
            .and_then(|r| r.try_get::<String, _>("password_hash").ok());
        let matches = password::verify_blocking(stored_hash, password.to_string()).await;
        let Some(row) = row.filter(|_| matches) else {
            // Already counted when the attempt began.
            tracing::info!(username, %addr, "failed sign-in");
            return Err(AppError::new(
                ErrorCode::Unauthorized,
                "Wrong username or password.",
            ));
        };
        self.throttle.succeeded(addr, username);
        let principal = Principal {
            id: row.try_get("id").context("decoding a user")?,
            name: row.try_get("username").context("decoding a user")?,
            role: parse_role(
                &row.try_get::<String, _>("role")
                    .context("decoding a user")?,
            )
            .context("decoding a user")?,
            kind: PrincipalKind::User,
            scopes: Vec::new(),
            environment: None,
        };
        let session = request
            .extensions
            .get::<Session>()
            .ok_or_else(|| internal("signing in", "no session layer"))?;
        // A new id at sign-in, so a session id planted before sign-in is worthless after it.
        session.cycle_id().await.context("cycling the session id")?;
        session
            .insert(SESSION_USER_ID, principal.id)
            .await
            .context("writing the session")?;
        session
            .insert(crate::auth::SESSION_SIGNED_IN_AT, crate::now_ms())
            .await
            .context("writing the session")?;

        let mut tx = store::begin(&self.pool).await?;
        sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
            .bind(crate::now_ms())
            .bind(principal.id)
            .execute(&mut *tx)
            .await
            .context("recording a sign-in")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &principal.name,
                action: "user.signed_in",
                target: &principal.name,
                reason: None,
                detail: serde_json::json!({ "address": addr.to_string() }),
            },
        )
        .await?;
        Ok(principal)
    }

    pub async fn sign_out(&self, request: &Parts) -> Result<(), AppError> {
        let Some(session) = request.extensions.get::<Session>() else {
            return Ok(());
        };
        let user = session.get::<i64>(SESSION_USER_ID).await.ok().flatten();
        session.flush().await.context("ending a session")?;
        // On the audit trail, and so on the live connection: the tab's other websockets learn
        // at once that their session is gone and close.
        if let Some(principal) = match user {
            Some(id) => self.principal_for_user(id).await?,
            None => None,
        } {
            let tx = store::begin(&self.pool).await?;
            store::commit_audited(
                tx,
                &self.bus,
                NewAudit {
                    actor: &principal.actor(),
                    action: "user.signed_out",
                    target: &principal.name,
                    reason: None,
                    detail: serde_json::json!({}),
                },
            )
            .await?;
        }
        Ok(())
    }

    pub async fn list_users(&self) -> Result<Vec<UserSummary>, AppError> {
        store::list(
            &self.pool,
            "SELECT id, username, role, created_at, last_sign_in_at, disabled_at FROM users ORDER BY username",
            decode_user,
            "listing users",
        )
        .await
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenSummary>, AppError> {
        // Active first, then revoked; newest first within each.
        store::list(&self.pool, "SELECT id, name, role, scopes, environment, prefix, created_by, created_at, last_used_at, revoked_at FROM api_tokens \
             ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, id DESC", decode_token, "listing tokens").await
    }

    pub async fn revoke_token(&self, actor: &Principal, id: i64) -> Result<(), AppError> {
        let mut tx = store::begin(&self.pool).await?;
        let row = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING name")
            .bind(crate::now_ms())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .context("revoking a token")?;
        let Some(row) = row else {
            return Err(AppError::not_found(format!("An active token with id {id}")));
        };
        let name: String = row.try_get(0).context("decoding a token")?;
        // Forgotten before the commit too: the commit publishes `token.revoked`, and an open
        // websocket that checks its token on that event must not find it still cached. (After
        // the commit again, for a request that cached it meanwhile from the old row.)
        self.tokens.forget(id);
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "token.revoked",
                target: &name,
                reason: None,
                detail: serde_json::json!({ "id": id }),
            },
        )
        .await?;
        self.tokens.forget(id);
        Ok(())
    }
}

#[async_trait]
impl AccountsPort for Accounts {
    async fn sign_in(
        &self,
        request: &Parts,
        username: &str,
        password: &str,
    ) -> Result<Principal, AppError> {
        Accounts::sign_in(self, request, username, password).await
    }
    async fn sign_out(&self, request: &Parts) -> Result<(), AppError> {
        Accounts::sign_out(self, request).await
    }
    async fn list_users(&self) -> Result<Vec<UserSummary>, AppError> {
        Accounts::list_users(self).await
    }

    async fn create_user(
        &self,
        actor: &Principal,
        username: &str,
        role: Role,
        password: &str,
    ) -> Result<UserSummary, AppError> {
        self.add_user(&actor.actor(), username, role, password)
            .await
    }

    async fn update_user(
        &self,
        actor: &Principal,
        username: &str,
        change: UserChange,
    ) -> Result<UserSummary, AppError> {
        self.change_user(&actor.actor(), username, change).await
    }
    async fn list_tokens(&self) -> Result<Vec<TokenSummary>, AppError> {
        Accounts::list_tokens(self).await
    }

    async fn create_token(
        &self,
        actor: &Principal,
        name: &str,
        role: Role,
        limits: TokenLimits,
    ) -> Result<NewToken, AppError> {
        self.add_token(&actor.actor(), name, role, limits).await
    }
    async fn revoke_token(&self, actor: &Principal, id: i64) -> Result<(), AppError> {
        Accounts::revoke_token(self, actor, id).await
    }
}
