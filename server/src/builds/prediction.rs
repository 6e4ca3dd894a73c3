//! What the failure model (or, without one, the last-build baseline) says of a build about to
//! run, with the factors in words.

use super::StoredModel;
use app::builds::factors::{explain, reasons};
use app::builds::features::{features, Prior, NAMES};
use app::builds::{Factor, ModelRef, PreRun, Prediction};

pub fn predict_with(model: Option<&StoredModel>, pre: &PreRun, prior: &Prior) -> Prediction {
    let Some(model) = model else {
        let failed = prior.previous_failed == Some(true);
        let reason = match prior.previous_failed {
            Some(true) => "the previous build on this branch failed",
            Some(false) => "the previous build on this branch succeeded",
            None => "no earlier build on this branch; assumed to succeed",
        };
        return Prediction {
            failure_probability: if failed { 1.0 } else { 0.0 },
            prediction: if failed { "failure" } else { "success" }.into(),
            factors: vec![Factor {
                name: "previous_failed".into(),
                contribution: if failed { 1.0 } else { 0.0 },
                reason: format!(
                    "{reason} (no model is trained yet: this is the last-build baseline)"
                ),
            }],
            model: None,
            basis: "last_build_baseline".into(),
        };
    };
    let x = features(pre, prior);
    let p = model.fitted.probability(&x);
    let mut factors: Vec<Factor> = reasons(&x, &model.fitted.contributions(&x))
        .into_iter()
        // Only what moves the odds noticeably.
        .filter(|(_, c)| c.abs() > 0.05)
        .map(|(i, c)| Factor {
            name: NAMES[i].into(),
            contribution: (c * 1000.0).round() / 1000.0,
            reason: explain(i, pre, prior),
        })
        .collect();
    factors.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    factors.truncate(6);
    Prediction {
        failure_probability: p,
        prediction: if p >= model.fitted.threshold {
            "failure"
        } else {
            "success"
        }
        .into(),
        factors,
        model: Some(ModelRef {
            version: model.version,
            trained_at: app::time_fmt::rfc3339(model.trained_at),
        }),
        basis: "model".into(),
    }
}
