//! Error budgets and burn rates, the arithmetic of the SRE workbook (chapter 5, "Alerting on
//! SLOs"). Pure: the server evaluates SLOs with it, the pages explain a budget with it, and both
//! test it the same way.
//!
//! Terms: over some span of time an SLI counts `good` and `total` events (requests, probe checks,
//! minutes). The error rate is `bad / total`. The objective (0.999 for 99.9%) allows an error rate
//! of `1 - objective`: the error budget. The burn rate is how many times faster than allowed the
//! budget is being spent: `error rate / (1 - objective)`. A burn rate of 1 spends exactly the whole
//! budget over the SLO window.

use serde::{Deserialize, Serialize};

/// Good and total events over a span of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub good: f64,
    pub total: f64,
}

impl Counts {
    pub fn new(good: f64, total: f64) -> Counts {
        Counts { good, total }
    }

    pub fn bad(self) -> f64 {
        (self.total - self.good).max(0.0)
    }

    /// The share of good events; `None` without data (no events is not the same as all good).
    pub fn sli(self) -> Option<f64> {
        (self.total > 0.0).then(|| (self.good / self.total).clamp(0.0, 1.0))
    }

    pub fn error_rate(self) -> Option<f64> {
        self.sli().map(|sli| 1.0 - sli)
    }

    /// How many times faster than the objective allows the budget is spent.
    pub fn burn_rate(self, objective: f64) -> Option<f64> {
        self.error_rate()
            .map(|rate| rate / allowed_error_rate(objective))
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, other: Counts) -> Counts {
        Counts::new(self.good + other.good, self.total + other.total)
    }
}

/// `1 - objective`, never zero: an objective of 100% would make every error an infinite burn, so
/// objectives are validated to lie strictly between 0 and 1 ([`validate_objective`]).
pub fn allowed_error_rate(objective: f64) -> f64 {
    (1.0 - objective).max(f64::EPSILON)
}

/// Objectives are shares in (0, 1): 0.999 is "99.9%".
pub fn validate_objective(objective: f64) -> Result<(), String> {
    if objective.is_finite() && objective > 0.0 && objective < 1.0 {
        Ok(())
    } else {
        Err(format!(
            "The objective must lie between 0 and 1 (0.999 means 99.9%), not {objective}."
        ))
    }
}

/// The SLO windows the product offers.
pub const WINDOW_DAYS: [u32; 2] = [28, 30];

/// The windows burn rates are computed over, shortest first, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BurnWindow {
    #[serde(rename = "5m")]
    M5,
    #[serde(rename = "30m")]
    M30,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "2h")]
    H2,
    #[serde(rename = "6h")]
    H6,
    #[serde(rename = "1d")]
    D1,
    #[serde(rename = "3d")]
    D3,
}

impl BurnWindow {
    pub const ALL: [BurnWindow; 7] = [
        BurnWindow::M5,
        BurnWindow::M30,
        BurnWindow::H1,
        BurnWindow::H2,
        BurnWindow::H6,
        BurnWindow::D1,
        BurnWindow::D3,
    ];

    pub fn seconds(self) -> i64 {
        match self {
            BurnWindow::M5 => 5 * 60,
            BurnWindow::M30 => 30 * 60,
            BurnWindow::H1 => 3600,
            BurnWindow::H2 => 2 * 3600,
            BurnWindow::H6 => 6 * 3600,
            BurnWindow::D1 => 86_400,
            BurnWindow::D3 => 3 * 86_400,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BurnWindow::M5 => "5m",
            BurnWindow::M30 => "30m",
            BurnWindow::H1 => "1h",
            BurnWindow::H2 => "2h",
            BurnWindow::H6 => "6h",
            BurnWindow::D1 => "1d",
            BurnWindow::D3 => "3d",
        }
    }
}

/// Page someone now, or open a ticket for working hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    Page,
    Ticket,
}

/// One multiwindow rule: fires when the burn rate over both the long and the short window exceeds
/// `factor`. The long window makes it significant, the short one makes it stop soon after the
/// burning stops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurnRule {
    pub severity: RuleSeverity,
    pub long: BurnWindow,
    pub short: BurnWindow,
    pub factor: f64,
}

/// The workbook's recommended rules for a 30-day SLO.
pub const RULES: [BurnRule; 4] = [
    BurnRule {
        severity: RuleSeverity::Page,
        long: BurnWindow::H1,
        short: BurnWindow::M5,
        factor: 14.4,
    },
    BurnRule {
        severity: RuleSeverity::Page,
        long: BurnWindow::H6,
        short: BurnWindow::M30,
        factor: 6.0,
    },
    BurnRule {
        severity: RuleSeverity::Ticket,
        long: BurnWindow::D1,
        short: BurnWindow::H2,
        factor: 3.0,
    },
    BurnRule {
        severity: RuleSeverity::Ticket,
        long: BurnWindow::D3,
        short: BurnWindow::H6,
        factor: 1.0,
    },
];

impl BurnRule {
    /// Whether the rule fires given the burn rate of each window (`None`: no data in it, which
    /// never fires). Strictly greater, as the workbook's `> 14.4 * (1 - objective)`; the relative
    /// tolerance keeps a rate that is the factor up to rounding from firing.
    pub fn fires(&self, burn: impl Fn(BurnWindow) -> Option<f64>) -> bool {
        let over = |w| burn(w).is_some_and(|rate| rate > self.factor * (1.0 + 1e-9));
        over(self.long) && over(self.short)
    }

    /// The share of a `window_days` budget a burn at exactly `factor` spends over the long window:
    /// the workbook's "2% of the budget in one hour" for the first page rule.
    pub fn budget_spent(&self, window_days: u32) -> f64 {
        self.factor * self.long.seconds() as f64 / (window_days as f64 * 86_400.0)
    }

    pub fn label(&self) -> String {
        format!(
            "{}x over {} and {}",
            trim_float(self.factor),
            self.long.as_str(),
            self.short.as_str()
        )
    }
}

fn trim_float(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

/// How long a constant burn rate takes to spend a whole budget of `window_days` (workbook table
/// 5-4: rate 1 takes the whole window, 1,000 takes 43 minutes on 30 days).
pub fn time_to_exhaustion_s(burn_rate: f64, window_days: u32) -> Option<f64> {
    (burn_rate > 0.0).then(|| window_days as f64 * 86_400.0 / burn_rate)
}

/// The error budget over the SLO window, with the numbers it was computed from, so a page can
/// show the working rather than a bare percentage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub objective: f64,
    pub window_days: u32,
    pub good: f64,
    pub total: f64,
    /// `total * (1 - objective)`: the bad events the objective allows over the window so far.
    pub allowed_bad: f64,
    pub bad: f64,
    /// `1 - bad / allowed_bad`: 1 is untouched, 0 is spent, below 0 is overspent. 1 without data.
    pub remaining: f64,
}

impl Budget {
    pub fn compute(objective: f64, window_days: u32, counts: Counts) -> Budget {
        let allowed_bad = counts.total * allowed_error_rate(objective);
        let bad = counts.bad();
        let remaining = if counts.total > 0.0 {
            1.0 - bad / allowed_bad
        } else {
            1.0
        };
        Budget {
            objective,
            window_days,
            good: counts.good,
            total: counts.total,
            allowed_bad,
            bad,
            remaining,
        }
    }

    pub fn sli(&self) -> Option<f64> {
        Counts::new(self.good, self.total).sli()
    }

    /// The working, in words: what the page shows under the figure.
    pub fn explain(&self) -> String {
        if self.total <= 0.0 {
            return format!(
                "No events in the last {} days yet, so none of the budget is spent.",
                self.window_days
            );
        }
        format!(
            "{} of {} events were bad over the last {} days. A {} objective allows {} bad \
             ({} × {}), so {} of the budget is spent and {} remains.",
            count(self.bad),
            count(self.total),
            self.window_days,
            percent(self.objective, 3),
            count(self.allowed_bad),
            count(self.total),
            percent(1.0 - self.objective, 3),
            percent(1.0 - self.remaining, 1),
            percent(self.remaining, 1),
        )
    }
}

/// `0.999` -> `99.9%`, with at most `decimals` decimals and no trailing zeros.
pub fn percent(share: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, share * 100.0);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}%")
}

fn count(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.1}")
    }
}

/// Burn rates of every window and which rules fire: the evaluation of one SLO at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub budget: Budget,
    pub burn_rates: Vec<WindowBurn>,
    pub firing: Vec<BurnRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowBurn {
    pub window: BurnWindow,
    pub good: f64,
    pub total: f64,
    /// `None` when the window holds no events.
    pub burn_rate: Option<f64>,
}

/// Evaluates an SLO from the counts of its whole window and of each burn window.
pub fn evaluate(
    objective: f64,
    window_days: u32,
    whole: Counts,
    per_window: impl Fn(BurnWindow) -> Counts,
) -> Evaluation {
    let burn_rates: Vec<WindowBurn> = BurnWindow::ALL
        .iter()
        .map(|&window| {
            let counts = per_window(window);
            WindowBurn {
                window,
                good: counts.good,
                total: counts.total,
                burn_rate: counts.burn_rate(objective),
            }
        })
        .collect();
    let burn = |w: BurnWindow| {
        burn_rates
            .iter()
            .find(|b| b.window == w)
            .and_then(|b| b.burn_rate)
    };
    let firing = RULES
        .iter()
        .filter(|rule| rule.fires(burn))
        .copied()
        .collect();
    Evaluation {
        budget: Budget::compute(objective, window_days, whole),
        burn_rates,
        firing,
    }
}

/// When the budget runs out if the last hour's burn rate holds, in words: the question an
/// on-call engineer asks first on an SLO page.
pub fn exhaustion(remaining: f64, hourly_burn: Option<f64>, window_days: u32) -> String {
    let Some(rate) = hourly_burn else {
        return "No events in the last hour, so no forecast.".into();
    };
    if remaining <= 0.0 {
        return "The budget is spent: every further bad event breaks the objective.".into();
    }
    if rate <= 1.0 {
        return format!(
            "At the last hour's burn rate ({rate:.1}x) the budget lasts the whole {window_days}-day window."
        );
    }
    // Burning at 1x spends the whole budget in the window; at `rate`, what is left lasts
    // remaining * window / rate.
    let hours = remaining * f64::from(window_days) * 24.0 / rate;
    let left = if hours < 1.0 {
        format!("{:.0} min", (hours * 60.0).max(1.0))
    } else if hours < 48.0 {
        format!("{hours:.0} h")
    } else {
        format!("{:.1} days", hours / 24.0)
    };
    format!("At the last hour's burn rate ({rate:.1}x) the budget runs out in {left}.")
}

impl Evaluation {
    /// The burn rate over the last hour, the forecast's basis.
    pub fn hourly_burn(&self) -> Option<f64> {
        self.burn_rates
            .iter()
            .find(|b| b.window == BurnWindow::H1)
            .and_then(|b| b.burn_rate)
    }

    /// The most urgent firing rule's severity.
    pub fn severity(&self) -> Option<RuleSeverity> {
        if self.firing.iter().any(|r| r.severity == RuleSeverity::Page) {
            Some(RuleSeverity::Page)
        } else if self.firing.is_empty() {
            None
        } else {
            Some(RuleSeverity::Ticket)
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_forecast_says_when_the_budget_runs_out() {
        assert_eq!(
            exhaustion(0.5, Some(6.0), 30),
            "At the last hour's burn rate (6.0x) the budget runs out in 2.5 days."
        );
        assert_eq!(
            exhaustion(0.1, Some(14.4), 30),
            "At the last hour's burn rate (14.4x) the budget runs out in 5 h."
        );
        assert!(exhaustion(0.8, Some(0.5), 28).contains("lasts the whole 28-day window"));
        assert!(exhaustion(-0.2, Some(3.0), 30).starts_with("The budget is spent"));
        assert!(exhaustion(0.9, None, 30).starts_with("No events"));
    }

    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn workbook_rules_spend_the_documented_share_of_a_30_day_budget() {
        // Workbook table 5-6: 2% in 1 hour, 5% in 6 hours, 10% in 1 day, 10% in 3 days.
        let spent: Vec<f64> = RULES.iter().map(|r| r.budget_spent(30)).collect();
        for (got, want) in spent.iter().zip([0.02, 0.05, 0.10, 0.10]) {
            assert!(close(*got, want), "{got} != {want}");
        }
    }

    #[test]
    fn workbook_time_to_exhaustion() {
        // Table 5-4: burn rate 1 -> 30 days, 2 -> 15 days, 10 -> 3 days, 1,000 -> 43.2 minutes.
        let days = |rate| time_to_exhaustion_s(rate, 30).unwrap() / 86_400.0;
        assert!(close(days(1.0), 30.0));
        assert!(close(days(2.0), 15.0));
        assert!(close(days(10.0), 3.0));
        assert!(close(
            time_to_exhaustion_s(1000.0, 30).unwrap() / 60.0,
            43.2
        ));
        assert_eq!(time_to_exhaustion_s(0.0, 30), None);
    }

    #[test]
    fn budget_of_a_99_9_slo_with_a_million_requests() {
        // 1,000,000 requests at 99.9% allow 1,000 bad ones; 250 bad leave 75% of the budget.
        let budget = Budget::compute(0.999, 30, Counts::new(999_750.0, 1_000_000.0));
        assert!(close(budget.allowed_bad, 1000.0));
        assert!(close(budget.bad, 250.0));
        assert!(close(budget.remaining, 0.75));
        assert_eq!(
            budget.explain(),
            "250 of 1000000 events were bad over the last 30 days. A 99.9% objective allows 1000 \
             bad (1000000 × 0.1%), so 25% of the budget is spent and 75% remains."
        );
        let overspent = Budget::compute(0.999, 30, Counts::new(998_000.0, 1_000_000.0));
        assert!(close(overspent.remaining, -1.0));
    }

    #[test]
    fn no_data_is_no_burn_and_an_untouched_budget() {
        assert_eq!(Counts::default().burn_rate(0.999), None);
        assert_eq!(Budget::compute(0.99, 28, Counts::default()).remaining, 1.0);
        let eval = evaluate(0.999, 30, Counts::default(), |_| Counts::default());
        assert!(eval.firing.is_empty());
    }

    #[test]
    fn page_rule_needs_both_windows() {
        // 2% errors against a 99.9% objective is a 20x burn.
        let burning = Counts::new(98.0, 100.0);
        let calm = Counts::new(100.0, 100.0);
        assert!(close(burning.burn_rate(0.999).unwrap(), 20.0));
        // Burning over the last hour but already stopped in the last five minutes: no page.
        let stopped = evaluate(0.999, 30, burning, |w| {
            if w == BurnWindow::M5 {
                calm
            } else {
                burning
            }
        });
        assert!(!stopped.firing.iter().any(|r| r.long == BurnWindow::H1));
        // Burning in both: the 14.4x page fires, and so do the slower ones.
        let both = evaluate(0.999, 30, burning, |_| burning);
        assert_eq!(both.firing.len(), 4);
        assert_eq!(both.severity(), Some(RuleSeverity::Page));
    }

    #[test]
    fn burn_exactly_at_the_factor_does_not_fire_but_just_above_does() {
        // 1.44% errors at 99.9% is exactly 14.4x.
        let at = Counts::new(10_000.0 - 144.0, 10_000.0);
        let above = Counts::new(10_000.0 - 145.0, 10_000.0);
        let rule = RULES[0];
        assert!(!rule.fires(|_| at.burn_rate(0.999)));
        assert!(rule.fires(|_| above.burn_rate(0.999)));
    }

    #[test]
    fn labels_and_percentages_read_well() {
        assert_eq!(RULES[0].label(), "14.4x over 1h and 5m");
        assert_eq!(RULES[3].label(), "1x over 3d and 6h");
        assert_eq!(percent(0.999, 3), "99.9%");
        assert_eq!(percent(0.75, 1), "75%");
        assert!(validate_objective(1.0).is_err());
        assert!(validate_objective(0.0).is_err());
        assert!(validate_objective(f64::NAN).is_err());
        assert!(validate_objective(0.995).is_ok());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn counts() -> impl Strategy<Value = Counts> {
            (0u32..1_000_000, 0u32..1_000_000).prop_map(|(a, b)| {
                let (good, total) = if a <= b { (a, b) } else { (b, a) };
                Counts::new(good as f64, total as f64)
            })
        }

        fn objective() -> impl Strategy<Value = f64> {
            prop_oneof![
                Just(0.9),
                Just(0.99),
                Just(0.995),
                Just(0.999),
                Just(0.9999),
                0.5f64..0.99999
            ]
        }

        proptest! {
            #[test]
            fn burn_rate_one_spends_exactly_the_budget(objective in objective(), total in 1u32..10_000_000) {
                // Bad events at exactly the allowed rate leave nothing and burn at 1x.
                let total = total as f64;
                let bad = total * (1.0 - objective);
                let c = Counts::new(total - bad, total);
                prop_assert!((c.burn_rate(objective).unwrap() - 1.0).abs() < 1e-6);
                prop_assert!(Budget::compute(objective, 30, c).remaining.abs() < 1e-6);
            }

            #[test]
            fn remaining_budget_is_one_minus_the_whole_window_burn(objective in objective(), c in counts()) {
                let budget = Budget::compute(objective, 30, c);
                match c.burn_rate(objective) {
                    Some(burn) => prop_assert!((budget.remaining - (1.0 - burn)).abs() < 1e-6 * burn.max(1.0)),
                    None => prop_assert_eq!(budget.remaining, 1.0),
                }
                prop_assert!(budget.remaining <= 1.0);
            }

            #[test]
            fn more_bad_events_never_leave_more_budget(objective in objective(), c in counts(), extra in 1u32..1000) {
                let worse = Counts::new(c.good, c.total + extra as f64);
                prop_assert!(Budget::compute(objective, 30, worse).remaining <= Budget::compute(objective, 30, c).remaining + 1e-12);
            }

            #[test]
            fn a_stricter_objective_burns_faster(c in counts(), loose in 0.5f64..0.99, gap in 0.001f64..0.009) {
                let strict = loose + gap;
                if let (Some(a), Some(b)) = (c.burn_rate(loose), c.burn_rate(strict)) {
                    prop_assert!(b >= a);
                }
            }

            #[test]
            fn rules_fire_iff_both_windows_exceed_the_factor(long in 0.0f64..30.0, short in 0.0f64..30.0) {
                for rule in RULES {
                    let fires = rule.fires(|w| Some(if w == rule.long { long } else if w == rule.short { short } else { 0.0 }));
                    prop_assert_eq!(fires, long > rule.factor * (1.0 + 1e-9) && short > rule.factor * (1.0 + 1e-9));
                }
            }

            #[test]
            fn a_page_fires_whenever_every_window_burns_above_14_4(burn in 14.41f64..1000.0) {
                let eval_burn = |_| Some(burn);
                prop_assert!(RULES.iter().all(|r| r.fires(eval_burn)));
            }
        }
    }
}
