//! Demo configuration: timeouts and log levels for all environments with production's own, and a
//! sensitive database password that the page shows only as set.

use crate::runtime_config::NewValue;
use crate::state::AppState;
use app::model::Principal;
use serde_json::json;

pub async fn fill(state: &AppState, maria: &Principal) -> Result<(), String> {
    let password = format!("demo-{}", crate::auth::token::generate().token);
    let values = [
        ("all", "http.timeout_ms", json!(500), false),
        ("production", "http.timeout_ms", json!(250), false),
        ("all", "log.level", json!("info"), false),
        ("dev", "log.level", json!("debug"), false),
        ("all", "checkout.max_items", json!(50), false),
        ("production", "db.password", json!(password), true),
    ];
    for (environment, key, value, sensitive) in values {
        let new = NewValue {
            value,
            sensitive: Some(sensitive),
            reason: None,
        };
        state
            .config_values
            .set(maria, environment, key, new)
            .await
            .map_err(|e| e.message)?;
    }
    Ok(())
}
