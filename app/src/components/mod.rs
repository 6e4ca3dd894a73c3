//! Pieces shared by pages: the signed-in layout, status and error displays.

pub mod alerts;
pub mod audit;
pub mod builds;
pub mod change_fields;
pub mod chart_key;
pub mod common;
pub mod confirm;
pub mod deploy;
pub mod deploy_dialog;
pub mod deploy_log;
pub mod editing;
pub mod flag_restore;
pub mod flag_rollout;
pub mod flags;
pub mod health;
pub mod layout;
pub mod modal;
pub mod nav;
pub mod release_ci;
