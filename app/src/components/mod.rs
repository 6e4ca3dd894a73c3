//! Pieces shared by pages: the signed-in layout, status and error displays.

pub mod alerts;
pub mod common;
pub mod deploy;
pub mod deploy_dialog;
pub mod deploy_log;
pub mod editing;
pub mod layout;
pub mod modal;
pub mod nav;
