//! Server function of the System page (viewers).

use crate::error::AppError;
use crate::system::HealthHistory;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

/// The samples of the last `hours` (1 to 720).
#[server(endpoint = "system_health")]
pub async fn load_system_health(hours: u32) -> Result<HealthHistory, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            let hours = hours.clamp(1, 720);
            let since = crate::components::common::now_ms() - i64::from(hours) * 3_600_000;
            Ok(HealthHistory {
                since,
                samples: ports()?.system.health_history(since).await?,
            })
        }
        .await,
    )
}
