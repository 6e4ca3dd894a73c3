//! Restoring a flag as one of its history entries left it: a new version with that entry's
//! settings, checked as any change is (the environments and SLO it names must still exist), and
//! on the history as `restored` with the version it went back to.

use super::{decode_change, Flags};
use crate::error::Context as _;
use app::error::{AppError, ErrorCode};
use app::flags::restore::{entry_name, restore_changes, restored};
use app::flags::{Flag, FlagChange};

impl Flags {
    pub async fn history_entry(&self, key: &str, change_id: i64) -> Result<FlagChange, AppError> {
        let row = sqlx::query(
            "SELECT id, flag_key, at, actor, action, reason, definition FROM flag_history \
             WHERE flag_key = $1 AND id = $2",
        )
        .bind(key)
        .bind(change_id)
        .fetch_optional(&self.pool)
        .await
        .context("reading a flag's history entry")?;
        let row = row.ok_or_else(|| {
            AppError::missing(format!(
                "Flag '{key}' has no history entry {change_id}; GET /api/v1/flags/{key}/history lists them."
            ))
        })?;
        decode_change(&row).context("decoding a flag's history entry")
    }

    /// Puts back the settings of history entry `change_id` as a new version. With
    /// `expected_version`, only while the flag is still at it: a restore chosen from a page that
    /// has since gone stale is refused (409) rather than undoing a change its author never saw.
    pub async fn restore(
        &self,
        actor: &str,
        key: &str,
        change_id: i64,
        expected_version: Option<i64>,
        reason: Option<&str>,
    ) -> Result<Flag, AppError> {
        let current = self.get(key).await?;
        if let Some(expected) = expected_version.filter(|v| *v != current.version) {
            return Err(AppError::conflict(format!(
                "Flag '{key}' is at version {}, not {expected}: it changed since you looked. Reload its history and choose again.",
                current.version
            )));
        }
        let entry = self.history_entry(key, change_id).await?;
        let name = entry_name(entry.flag.version, entry.id);
        if restore_changes(&current, &entry.flag).is_empty() {
            return Err(AppError::unprocessable(format!(
                "change_id: flag '{key}' already serves what {name} did; there is nothing to restore."
            )));
        }
        let mut flag = restored(&current, &entry.flag);
        flag.validate().map_err(|e| {
            AppError::unprocessable(format!("{name} is no longer a valid flag: {e}"))
        })?;
        self.check_names(&mut flag, Some(&current))
            .await
            .map_err(|e| match e.code {
                ErrorCode::Unprocessable => AppError::unprocessable(format!(
                    "{name} cannot come back as it was: {}",
                    e.message
                )),
                _ => e,
            })?;
        let reason = match app::text::non_blank(reason) {
            Some(why) => format!("Restores {name}: {why}"),
            None => format!("Restores {name}"),
        };
        self.replace(actor, current, flag, "restored", Some(&reason))
            .await
    }
}
