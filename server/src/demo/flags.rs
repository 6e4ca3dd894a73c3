//! Demo feature flags: a boolean rolled out by percentage with a kill switch on the checkout
//! SLO, a string flag targeted by country and plan, and an object flag tried in staging and switched off
//! in production.

use crate::state::AppState;
use serde_json::json;

pub async fn fill(state: &AppState) -> Result<(), String> {
    let flags = [
        json!({
            "key": "one-page-checkout",
            "description": "The new one-page checkout",
            "kind": "boolean",
            "variants": {"on": true, "off": false},
            "default_variant": "off",
            "rules": [
                {"name": "staff", "roles": ["staff"], "variant": "on"},
                {"users": ["maria.sre", "dev.okafor"], "variant": "on"}
            ],
            "rollout": {"on": 20, "off": 80},
            "environments": {"dev": {"rollout": {"on": 100, "off": 0}}},
            "kill_switch": {"slo": "availability", "service": "checkout-api", "variant": "off"}
        }),
        json!({
            "key": "search-ranking",
            "description": "Which ranking model search uses",
            "kind": "string",
            "variants": {"bm25": "bm25", "learned": "learned-v3"},
            "default_variant": "bm25",
            "rules": [{"conditions": ["country in [\"NL\", \"DE\"]", "plan == \"pro\""], "variant": "learned"}]
        }),
        json!({
            "key": "holiday-banner",
            "description": "The seasonal banner on the home page",
            "kind": "object",
            "variants": {"none": {}, "winter": {"text": "Winter sale", "colour": "#1d4ed8"}},
            "default_variant": "none",
            "environments": {
                "staging": {"default_variant": "winter"},
                "production": {"enabled": false}
            }
        }),
    ];
    for value in flags {
        let flag = serde_json::from_value(value).map_err(|e| format!("demo flag: {e}"))?;
        state
            .flags
            .create("maria.sre", flag)
            .await
            .map_err(|e| e.message)?;
    }
    Ok(())
}
