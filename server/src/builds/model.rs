//! The failure predictor: a logistic regression fitted by smartcore on standardised features,
//! evaluated time-ordered (oldest 70 % train, newest 30 % test, against the baselines), then
//! fitted again on the whole history for use. Its parameters are kept as JSON in
//! `build_models`, so it survives restarts and every replica predicts alike. A prediction's
//! factors are each feature's share of the log-odds (weight × standardised value).

use app::builds::evaluation::{
    best_threshold, evaluate, scores, split_at, Bar, Evaluation, Sample,
};
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

/// Too little history to learn from: fewer examples, or only one outcome.
pub const MIN_SAMPLES: usize = 30;

/// The fitted parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fitted {
    pub weights: Vec<f64>,
    pub intercept: f64,
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
    pub threshold: f64,
    /// The names of the features the weights belong to, in order (empty in models stored
    /// before they were recorded).
    #[serde(default)]
    pub features: Vec<String>,
    /// Each feature's smallest and largest value in the builds it was fitted on (empty in models
    /// stored before they were recorded). A value outside is read as the nearest edge: the
    /// model learnt nothing beyond it, and a straight line extended there (47 days since the
    /// last build, where builds came hourly) would say a build fails for certain.
    #[serde(default)]
    pub lows: Vec<f64>,
    #[serde(default)]
    pub highs: Vec<f64>,
}

impl Fitted {
    /// Whether this model was fitted on the features `names` computes now: one fitted on other
    /// features would weigh the wrong values.
    pub fn reads(&self, names: &[&str]) -> bool {
        self.features
            .iter()
            .map(String::as_str)
            .eq(names.iter().copied())
    }

    /// Each value as standard deviations from the mean; an unknown one
    /// ([`UNKNOWN`](app::builds::features::UNKNOWN)) as the
    /// mean itself, so it moves the odds neither way.
    fn standardised(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .enumerate()
            .zip(self.means.iter().zip(&self.stds))
            .map(|((j, v), (m, s))| {
                if v.is_nan() {
                    return 0.0;
                }
                let v = match (self.lows[..].get(j), self.highs[..].get(j)) {
                    (Some(low), Some(high)) => v.clamp(*low, *high),
                    _ => *v,
                };
                (v - m) / s
            })
            .collect()
    }

    /// Each feature's share of the log-odds of failure.
    pub fn contributions(&self, x: &[f64]) -> Vec<f64> {
        self.standardised(x)
            .iter()
            .zip(&self.weights)
            .map(|(z, w)| z * w)
            .collect()
    }

    pub fn probability(&self, x: &[f64]) -> f64 {
        let logit: f64 = self.intercept + self.contributions(x).iter().sum::<f64>();
        1.0 / (1.0 + (-logit).exp())
    }
}

/// The known values of feature `j` in `rows`.
fn known<'a>(rows: &'a [&'a Sample], j: usize) -> impl Iterator<Item = f64> + 'a {
    rows.iter()
        .map(move |s| s.features[j])
        .filter(|v| !v.is_nan())
}

/// Means and standard deviations of the known values (0 and 1 where none is known; 1 where a
/// feature never varies).
fn scaling(rows: &[&Sample]) -> (Vec<f64>, Vec<f64>) {
    let p = rows.first().map_or(0, |s| s.features.len());
    (0..p)
        .map(|j| {
            let n = known(rows, j).count().max(1) as f64;
            let mean = known(rows, j).sum::<f64>() / n;
            let sd = (known(rows, j).map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            (mean, if sd > 1e-9 { sd } else { 1.0 })
        })
        .unzip()
}

/// How many of `rows` failed, when they are enough to learn from; else why not (`what` they
/// are).
fn enough(rows: &[&Sample], what: &str) -> Result<usize, String> {
    let failures = rows.iter().filter(|s| s.failed).count();
    if rows.len() < MIN_SAMPLES || failures == 0 || failures == rows.len() {
        return Err(format!(
            "Not enough history to learn from: {what} {} finished builds ({failures} failed); at least {MIN_SAMPLES} with both outcomes are needed.",
            rows.len()
        ));
    }
    Ok(failures)
}

/// Fits on `rows`; the threshold is chosen for the best F1 on them.
fn fit(rows: &[&Sample], what: &str) -> Result<Fitted, String> {
    let failures = enough(rows, what)?;
    let (means, stds) = scaling(rows);
    let mut fitted = Fitted {
        weights: Vec::new(),
        intercept: 0.0,
        means,
        stds,
        threshold: 0.5,
        features: Vec::new(),
        lows: Vec::new(),
        highs: Vec::new(),
    };
    // Standardised before the range is set: every row is inside it anyway.
    let x: Vec<Vec<f64>> = rows
        .iter()
        .map(|s| fitted.standardised(&s.features))
        .collect();
    let y: Vec<u32> = rows.iter().map(|s| u32::from(s.failed)).collect();
    let matrix = DenseMatrix::from_2d_vec(&x).map_err(|e| e.to_string())?;
    let parameters = LogisticRegressionParameters::default().with_alpha(1.0);
    let model = LogisticRegression::fit(&matrix, &y, parameters).map_err(|e| e.to_string())?;
    let range = |pick: fn(f64, f64) -> f64| -> Vec<f64> {
        (0..x[0].len())
            .map(|j| known(rows, j).reduce(pick).unwrap_or(0.0))
            .collect()
    };
    fitted.lows = range(f64::min);
    fitted.highs = range(f64::max);
    let coefficients = model.coefficients();
    fitted.weights = (0..x[0].len()).map(|j| *coefficients.get((0, j))).collect();
    fitted.intercept = *model.intercept().get((0, 0));
    let probabilities: Vec<f64> = rows
        .iter()
        .map(|s| fitted.probability(&s.features))
        .collect();
    let actual: Vec<bool> = rows.iter().map(|s| s.failed).collect();
    // Chosen against "always the majority" and "same as last time" on these builds.
    let baseline: Vec<bool> = rows.iter().map(|s| s.baseline_failed).collect();
    let baseline = scores(&baseline, &actual);
    let share = failures as f64 / rows.len() as f64;
    let bar = Bar {
        accuracy: share.max(1.0 - share).max(baseline.accuracy),
        f1: baseline.f1,
    };
    fitted.threshold = best_threshold(&probabilities, &actual, bar);
    Ok(fitted)
}

/// Evaluates time-ordered, then fits on everything. `samples` are oldest first.
pub fn train(samples: &[Sample]) -> Result<(Fitted, Evaluation), String> {
    let cut = split_at(samples.len());
    let (train, test) = samples.split_at(cut);
    let all: Vec<&Sample> = samples.iter().collect();
    // Said of the whole history first: the oldest 70 % are what a short one fails on.
    enough(&all, "the history holds")?;
    let train_rows: Vec<&Sample> = train.iter().collect();
    let held_out = fit(&train_rows, "the oldest 70 %, the training part, hold")?;
    let predicted: Vec<bool> = test
        .iter()
        .map(|s| held_out.probability(&s.features) >= held_out.threshold)
        .collect();
    let share = train.iter().filter(|s| s.failed).count() as f64 / train.len().max(1) as f64;
    let evaluation = evaluate(test, &predicted, share, held_out.threshold);
    let mut fitted = fit(&all, "the history holds")?;
    // The threshold that was tested is the one used.
    fitted.threshold = held_out.threshold;
    Ok((fitted, evaluation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::builds::features::Prior;

    /// Failures follow the first feature; the second is noise.
    fn synthetic(n: usize) -> Vec<Sample> {
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        (0..n)
            .map(|_| {
                let (a, b) = (next(), next());
                let failed = a + 0.2 * next() > 0.8;
                Sample {
                    features: vec![a, b],
                    failed,
                    baseline_failed: next() < 0.2,
                    prior: Prior::default(),
                }
            })
            .collect()
    }

    #[test]
    fn it_learns_what_predicts_failure_and_beats_the_baselines() {
        let (fitted, evaluation) = train(&synthetic(2000)).unwrap();
        assert!(fitted.weights[0] > 1.0, "{fitted:?}");
        assert!(
            fitted.weights[0].abs() > 5.0 * fitted.weights[1].abs(),
            "{fitted:?}"
        );
        assert!(evaluation.accuracy > 0.85, "{evaluation:?}");
        assert!(evaluation.f1 > evaluation.baseline_f1, "{evaluation:?}");
        assert_eq!(evaluation.test_samples, 600);
        assert!(fitted.probability(&[0.99, 0.5]) > 0.5);
        assert!(fitted.probability(&[0.1, 0.5]) < 0.2);
    }

    #[test]
    fn a_value_beyond_what_it_was_fitted_on_reads_as_the_nearest_edge() {
        let (fitted, _) = train(&synthetic(2000)).unwrap();
        assert!(fitted.highs[0] < 1.0 && fitted.lows[0] > 0.0, "{fitted:?}");
        let edge = fitted.probability(&[fitted.highs[0], 0.5]);
        assert_eq!(fitted.probability(&[50.0, 0.5]), edge);
        assert_eq!(
            fitted.probability(&[-50.0, 0.5]),
            fitted.probability(&[fitted.lows[0], 0.5])
        );
        // A model stored before the range was recorded reads values as they are.
        let old = Fitted {
            lows: Vec::new(),
            highs: Vec::new(),
            ..fitted.clone()
        };
        assert!(old.probability(&[50.0, 0.5]) > edge);
    }

    #[test]
    fn an_unknown_value_reads_as_a_typical_one() {
        // Every third build did not say its first feature.
        let mut samples = synthetic(2000);
        for s in samples.iter_mut().step_by(3) {
            s.features[0] = f64::NAN;
        }
        let (fitted, evaluation) = train(&samples).unwrap();
        assert!(fitted.weights[0] > 1.0, "{fitted:?}");
        assert!(evaluation.accuracy > 0.8, "{evaluation:?}");
        let known: Vec<f64> = samples
            .iter()
            .map(|s| s.features[0])
            .filter(|v| !v.is_nan())
            .collect();
        let mean = known.iter().sum::<f64>() / known.len() as f64;
        assert!((fitted.means[0] - mean).abs() < 1e-9, "{fitted:?}");
        assert!(fitted.lows[0] > 0.0 && fitted.highs[0] < 1.0, "{fitted:?}");
        assert_eq!(fitted.contributions(&[f64::NAN, 0.5])[0], 0.0);
        let typical = fitted.probability(&[mean, 0.5]);
        assert!((fitted.probability(&[f64::NAN, 0.5]) - typical).abs() < 1e-12);
        // The stored model holds no NaN (JSON would write it as null and not read it back).
        let json = serde_json::to_string(&fitted).unwrap();
        assert!(!json.contains("null"), "{json}");
        let stored: Fitted = serde_json::from_str(&json).unwrap();
        assert!((stored.probability(&[f64::NAN, 0.5]) - typical).abs() < 1e-9);
    }

    #[test]
    fn too_little_history_is_refused_with_the_reason() {
        let err = train(&synthetic(10)).unwrap_err();
        assert!(err.contains("Not enough history"), "{err}");
        // Counted over the whole history, not the training part it was cut into.
        assert!(
            err.contains("the history holds 10 finished builds"),
            "{err}"
        );
    }
}
