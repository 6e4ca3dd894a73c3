//! One module per page.

mod alert;
mod alert_channels;
mod alert_routing;
mod alerts;
mod audit;
mod coming;
mod config;
mod config_dialogs;
mod dashboard;
mod deployment;
mod deployments;
mod flag;
mod flags;
mod health;
mod not_found;
mod settings;
mod signin;
mod slos;
mod system;

pub use crate::components::nav::Section;
pub use alert::AlertPage;
pub use alerts::AlertsPage;
pub use audit::AuditPage;
pub use coming::ComingPage;
pub use config::ConfigPage;
pub use dashboard::DashboardPage;
pub use deployment::DeploymentPage;
pub use deployments::DeploymentsPage;
pub use flag::FlagPage;
pub use flags::FlagsPage;
pub use health::{ComponentPage, HealthPage};
pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use signin::{safe_next, SignInPage};
pub use slos::{SloPage, SlosPage};
pub use system::SystemPage;
