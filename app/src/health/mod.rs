//! Capability B: components and their probes, SLOs with error budgets and burn rates, alerts.
//! Shared types and the pure rules (a component's status, budget and burn arithmetic, alert
//! transitions and fingerprints) that the server, the API and the pages all use.

pub mod alert;
pub mod charts;
pub mod component;
pub mod escalation;
pub mod grid;
pub mod objective;
pub mod probe;
pub mod routing_form;
pub mod slo;

use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// A component's health, as the grid shows it in color and in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Down,
    Unknown,
}
text_enum!(HealthStatus { Healthy = "healthy", Degraded = "degraded", Down = "down", Unknown = "unknown" });

impl HealthStatus {
    pub fn label(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Down => "Down",
            HealthStatus::Unknown => "Unknown",
        }
    }

    /// How bad it is, for sorting the worst first: healthy 0, unknown 1, degraded 2, down 3.
    pub fn rank(self) -> u8 {
        match self {
            HealthStatus::Healthy => 0,
            HealthStatus::Unknown => 1,
            HealthStatus::Degraded => 2,
            HealthStatus::Down => 3,
        }
    }
}

/// Live-update topics of capability B.
pub mod topics {
    pub use super::alert::topics::ALERTS;
    pub const COMPONENTS: &str = "components";
    pub const SLOS: &str = "slos";
}
