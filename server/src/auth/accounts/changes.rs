//! Changes an admin makes to an existing account: disable or enable it, change its role, set a
//! new password. Disabling ends the account's sessions (they are checked on every request) and
//! revokes the tokens it created.

use super::{decode_user, parse_role, Accounts};
use crate::audit::NewAudit;
use crate::auth::password;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::model::{validate_password, Role, UserChange, UserSummary};
use sqlx::Row;

impl Accounts {
    /// Disables or enables an account, changes its role, or sets a new password; audited. The
    /// last enabled admin can be neither disabled nor demoted, so nobody is locked out.
    pub async fn change_user(
        &self,
        actor: &str,
        username: &str,
        change: UserChange,
    ) -> Result<UserSummary, AppError> {
        if change == UserChange::default() {
            return Err(AppError::unprocessable(
                "Say what to change: disabled, role or password.",
            ));
        }
        if change.disabled == Some(true) && actor == username {
            return Err(AppError::conflict(
                "You cannot disable your own account; ask another admin.",
            ));
        }
        let hash = match &change.password {
            Some(password) => {
                validate_password(password).map_err(AppError::unprocessable)?;
                Some(
                    password::hash_blocking(password.clone())
                        .await
                        .context("hashing a password")?,
                )
            }
            None => None,
        };
        let now = crate::now_ms();
        let mut tx = store::begin(&self.pool).await?;
        let row = sqlx::query("SELECT id, role, disabled_at FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await
            .context("changing a user")?
            .ok_or_else(|| AppError::missing(format!("No user named '{username}'.")))?;
        let id: i64 = row.try_get("id").context("changing a user")?;
        let role = parse_role(
            &row.try_get::<String, _>("role")
                .context("changing a user")?,
        )
        .context("changing a user")?;
        let was_disabled: Option<i64> = row.try_get("disabled_at").context("changing a user")?;
        let loses_admin = role == Role::Admin
            && was_disabled.is_none()
            && (change.disabled == Some(true) || change.role.is_some_and(|r| r != Role::Admin));
        if loses_admin {
            let others: i64 = sqlx::query(
                "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.try_get(0))
            .context("changing a user")?;
            if others == 0 {
                return Err(AppError::conflict(format!(
                    "{username} is the last enabled admin; make another admin first."
                )));
            }
        }
        let disabled_at = match change.disabled {
            Some(true) => Some(was_disabled.unwrap_or(now)),
            Some(false) => None,
            None => was_disabled,
        };
        sqlx::query(
            "UPDATE users SET role = $2, password_hash = COALESCE($3, password_hash), disabled_at = $4, \
             disabled_by = CASE WHEN $4 IS NULL THEN NULL ELSE COALESCE(disabled_by, $5) END WHERE id = $1",
        )
        .bind(id)
        .bind(change.role.unwrap_or(role).as_str())
        .bind(hash.as_deref())
        .bind(disabled_at)
        .bind(actor)
        .execute(&mut *tx)
        .await
        .context("changing a user")?;
        // Disabling takes the account's machines with it: the tokens it created are revoked.
        let mut revoked = Vec::new();
        if change.disabled == Some(true) {
            revoked = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE created_by = $2 AND revoked_at IS NULL RETURNING id",
            )
            .bind(now)
            .bind(username)
            .fetch_all(&mut *tx)
            .await
            .context("changing a user")?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<Vec<_>, _>>()
            .context("changing a user")?;
        }
        let user = sqlx::query(
            "SELECT id, username, role, created_at, last_sign_in_at, disabled_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .and_then(|r| decode_user(&r))
        .context("changing a user")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor,
                action: "user.updated",
                target: username,
                reason: None,
                detail: serde_json::json!({
                    "disabled": change.disabled,
                    "role": change.role,
                    "password_reset": change.password.is_some(),
                    "tokens_revoked": revoked.len(),
                }),
            },
        )
        .await?;
        for id in revoked {
            self.tokens.forget(id);
        }
        Ok(user)
    }
}
