//! The automatic kill switch: a flag that names an SLO is switched to its safe variant when that
//! SLO starts paging. The change goes through the ordinary write path, so it is in the flag's
//! history, the audit trail (actor `flightdeck`, with the reason) and the live feed.

use super::Flags;
use app::flags::Flag;

/// The flag with its kill switch thrown: disabled everywhere, serving the safe variant. `None`
/// when it has no kill switch or serves the safe variant already.
pub fn thrown(flag: &Flag) -> Option<Flag> {
    let safe = &flag.kill_switch.as_ref()?.variant;
    let mut next = flag.clone();
    next.enabled = false;
    next.default_variant = safe.clone();
    for settings in next.environments.values_mut() {
        if settings.enabled.is_some() {
            settings.enabled = Some(false);
        }
        if settings.default_variant.is_some() {
            settings.default_variant = Some(safe.clone());
        }
    }
    (next != *flag).then_some(next)
}

impl Flags {
    /// Throws the kill switch of every flag that follows the SLO `slo` of `service`; `why` is the
    /// audited reason.
    pub async fn kill_for_slo(&self, service: &str, slo: &str, why: &str) {
        let named: Vec<Flag> = self
            .snapshot()
            .flags
            .values()
            .filter(|f| {
                f.kill_switch
                    .as_ref()
                    .is_some_and(|k| k.follows(service, slo))
            })
            .map(|f| (**f).clone())
            .collect();
        for current in named {
            let Some(next) = thrown(&current) else {
                continue;
            };
            let key = current.key.clone();
            match self
                .replace("flightdeck", current, next, "killed", Some(why))
                .await
            {
                Ok(_) => tracing::warn!(flag = %key, slo, "kill switch thrown"),
                Err(e) => {
                    tracing::error!(flag = %key, error = %e.message, "throwing a kill switch failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::flags::evaluate::{evaluate, Context, Reason};

    #[test]
    fn a_thrown_flag_serves_the_safe_variant_in_every_environment() {
        let flag: Flag = serde_json::from_value(serde_json::json!({
            "key": "new-checkout", "kind": "boolean",
            "variants": {"on": true, "off": false}, "default_variant": "on",
            "rollout": {"on": 50, "off": 50},
            "environments": {"production": {"enabled": true, "default_variant": "on"}},
            "kill_switch": {"slo": "checkout-availability", "variant": "off"}
        }))
        .unwrap();
        let next = thrown(&flag).unwrap();
        for env in [None, Some("production"), Some("staging")] {
            let e = evaluate(&next, &Context::default(), env).unwrap();
            assert_eq!(
                (e.variant.as_str(), e.reason),
                ("off", Reason::Disabled),
                "{env:?}"
            );
        }
        assert_eq!(thrown(&next), None, "throwing it twice changes nothing");
    }
}
