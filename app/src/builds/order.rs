//! The orders of the Builds page's pipelines: worst first (the page's own), and by the columns
//! a CI dashboard's users sort by to find what is slow or busy. Each column's first order puts
//! what needs a look on top; choosing it again reverses it.

use super::stats::PipelineStats;
use super::BuildStatus;
use std::cmp::Ordering;

/// The Builds page's order, worst first: the lowest success rate (none yet counts as all
/// green), and of equal rates the pipeline red now first; otherwise as given (by name).
pub fn worst_first(a: &PipelineStats, b: &PipelineStats) -> Ordering {
    let rate = |s: &PipelineStats| s.success_rate.unwrap_or(1.0);
    let green = |s: &PipelineStats| s.last_status != Some(BuildStatus::Failure);
    rate(a).total_cmp(&rate(b)).then(green(a).cmp(&green(b)))
}

/// A column of the Builds page that orders its pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineOrder {
    /// By name, A to Z.
    Name,
    /// By success rate, the lowest first ([`worst_first`]).
    Worst,
    /// By p50 duration, the slowest first; a pipeline with no finished build stays last.
    Slowest,
    /// By number of builds, the most first.
    Busiest,
}

/// Which column orders the list, and whether its first order is reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorting {
    pub by: PipelineOrder,
    pub reversed: bool,
}

impl Default for Sorting {
    fn default() -> Self {
        Sorting {
            by: PipelineOrder::Worst,
            reversed: false,
        }
    }
}

impl Sorting {
    /// The sorting after choosing column `by`: its first order, or the other one if it was
    /// already chosen.
    pub fn choose(self, by: PipelineOrder) -> Sorting {
        Sorting {
            by,
            reversed: self.by == by && !self.reversed,
        }
    }

    /// `a` before `b` in this order. Ties keep the name order, so a list sorted twice reads the
    /// same; a p50 not yet known stays last both ways, as it is no answer to "which is slow".
    pub fn compare(self, a: &PipelineStats, b: &PipelineStats) -> Ordering {
        let turn = |o: Ordering| if self.reversed { o.reverse() } else { o };
        let by = match self.by {
            PipelineOrder::Name => turn(a.pipeline.cmp(&b.pipeline)),
            PipelineOrder::Worst => turn(worst_first(a, b)),
            PipelineOrder::Busiest => turn(b.builds.cmp(&a.builds)),
            PipelineOrder::Slowest => match (a.duration_p50_s, b.duration_p50_s) {
                (Some(x), Some(y)) => turn(y.total_cmp(&x)),
                (x, y) => y.is_some().cmp(&x.is_some()),
            },
        };
        by.then_with(|| a.pipeline.cmp(&b.pipeline))
    }

    /// The sorting as the page's address keeps it (`sort=p50`, `sort=-p50` when reversed);
    /// none for the page's own order, worst first, so its plain address stays plain.
    pub fn param(self) -> Option<String> {
        if self == Sorting::default() {
            return None;
        }
        let column = match self.by {
            PipelineOrder::Name => "name",
            PipelineOrder::Worst => "success",
            PipelineOrder::Slowest => "p50",
            PipelineOrder::Busiest => "builds",
        };
        Some(format!("{}{column}", if self.reversed { "-" } else { "" }))
    }

    /// The sorting a `sort=` value names; the page's own for anything else, as a link that
    /// names an unknown column is better shown than refused.
    pub fn from_param(value: Option<&str>) -> Sorting {
        let value = value.unwrap_or_default();
        let (reversed, column) = match value.strip_prefix('-') {
            Some(column) => (true, column),
            None => (false, value),
        };
        let by = match column {
            "name" => PipelineOrder::Name,
            "success" => PipelineOrder::Worst,
            "p50" => PipelineOrder::Slowest,
            "builds" => PipelineOrder::Busiest,
            _ => return Sorting::default(),
        };
        Sorting { by, reversed }
    }

    /// The `aria-sort` of column `column`: how it orders the list when it does.
    pub fn aria_sort(self, column: PipelineOrder) -> Option<&'static str> {
        // Name and the success rate (worst first) go up; p50 (slowest first) and builds (most
        // first) go down.
        let ascending = matches!(column, PipelineOrder::Name | PipelineOrder::Worst);
        (self.by == column).then_some(if ascending != self.reversed {
            "ascending"
        } else {
            "descending"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::stats::pipeline_stats;
    use crate::builds::stats::tests::{build, outcomes};
    use crate::builds::Build;
    use BuildStatus::*;

    /// A pipeline whose builds on main had `statuses` and took `duration_s` each.
    fn pipeline(name: &str, statuses: &[BuildStatus], duration_s: f64) -> PipelineStats {
        let builds: Vec<Build> = statuses
            .iter()
            .enumerate()
            .map(|(i, s)| build("main", *s, i as i64 * 10, duration_s))
            .collect();
        pipeline_stats(name, &outcomes(&builds))
    }

    fn names(all: &[PipelineStats]) -> Vec<&str> {
        all.iter().map(|s| s.pipeline.as_str()).collect()
    }

    fn sample() -> Vec<PipelineStats> {
        vec![
            pipeline("a-green", &[Success, Failure, Success], 300.0),
            pipeline("b-never-finished", &[Running], 0.0),
            pipeline("c-red-now", &[Success, Success, Failure], 60.0),
            pipeline("d-worst", &[Failure, Failure, Success, Success], 900.0),
        ]
    }

    #[test]
    fn a_sorting_survives_the_address_and_the_page_s_own_leaves_it_plain() {
        let columns = [
            PipelineOrder::Name,
            PipelineOrder::Worst,
            PipelineOrder::Slowest,
            PipelineOrder::Busiest,
        ];
        for by in columns {
            for reversed in [false, true] {
                let sorting = Sorting { by, reversed };
                let param = sorting.param();
                assert_eq!(Sorting::from_param(param.as_deref()), sorting, "{param:?}");
            }
        }
        assert_eq!(Sorting::default().param(), None);
        let slowest = Sorting::default().choose(PipelineOrder::Slowest);
        assert_eq!(slowest.param().as_deref(), Some("p50"));
        assert_eq!(
            slowest.choose(PipelineOrder::Slowest).param().as_deref(),
            Some("-p50")
        );
        for unknown in [
            None,
            Some(""),
            Some("-"),
            Some("colour"),
            Some("--p50"),
            Some("P50"),
        ] {
            assert_eq!(
                Sorting::from_param(unknown),
                Sorting::default(),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn the_worst_pipeline_comes_first_and_of_equal_rates_the_one_red_now() {
        let mut all = sample();
        all.sort_by(worst_first);
        assert_eq!(
            names(&all),
            ["d-worst", "c-red-now", "a-green", "b-never-finished"]
        );
    }

    #[test]
    fn each_column_first_puts_what_needs_a_look_on_top_and_again_reverses() {
        let sorted = |sorting: Sorting| {
            let mut all = sample();
            all.sort_by(|a, b| sorting.compare(a, b));
            names(&all).join(" ")
        };
        let start = Sorting::default();
        let slowest = start.choose(PipelineOrder::Slowest);
        let quickest = slowest.choose(PipelineOrder::Slowest);
        let by_name = quickest.choose(PipelineOrder::Name);
        for (sorting, expected) in [
            (start, "d-worst c-red-now a-green b-never-finished"),
            // The running build has no duration: last either way.
            (slowest, "d-worst a-green c-red-now b-never-finished"),
            (quickest, "c-red-now a-green d-worst b-never-finished"),
            // Of equal counts (a-green's and c-red-now's three), by name.
            (
                quickest.choose(PipelineOrder::Busiest),
                "d-worst a-green c-red-now b-never-finished",
            ),
            (by_name, "a-green b-never-finished c-red-now d-worst"),
            (
                by_name.choose(PipelineOrder::Name),
                "d-worst c-red-now b-never-finished a-green",
            ),
            // Best first: the pipeline with no rate yet counts as all green.
            (
                start.choose(PipelineOrder::Worst),
                "b-never-finished a-green c-red-now d-worst",
            ),
        ] {
            assert_eq!(sorted(sorting), expected, "{sorting:?}");
        }
    }

    #[test]
    fn only_the_ordering_column_says_its_direction() {
        let start = Sorting::default();
        assert_eq!(start.aria_sort(PipelineOrder::Worst), Some("ascending"));
        assert_eq!(start.aria_sort(PipelineOrder::Slowest), None);
        let slowest = start.choose(PipelineOrder::Slowest);
        assert_eq!(
            slowest.aria_sort(PipelineOrder::Slowest),
            Some("descending")
        );
        assert_eq!(
            slowest
                .choose(PipelineOrder::Slowest)
                .aria_sort(PipelineOrder::Slowest),
            Some("ascending")
        );
        assert_eq!(slowest.aria_sort(PipelineOrder::Worst), None);
    }
}
