//! The writer's memory of what its prior reads (SQLite only), so a new build on a branch, by an
//! author and of a pipeline seen before costs no statement for its prior. Reading the prior from
//! SQL was the gap between 2,700–3,500 new builds/s and the 5,000 target (`docs/benchmarks.md`, Builds): its
//! SQL and a round trip to the connection's thread, build after build.
//!
//! Each branch, author and pipeline keeps its newest finished builds (a branch: every start
//! too), loaded from SQL the first time it is needed and kept up to date by the builds the
//! writer stores. The answers are those of [`super::queries::prior`], which a test holds them
//! to; where memory cannot be sure (a build that started before what is kept), the writer asks
//! SQL. The only other writer of builds, an import, says so in [`Imports`], and the writer then
//! forgets everything. PostgreSQL may have other replicas writing, so it always asks SQL.

use app::builds::features::{Prior, AUTHOR_LONG_WINDOW, AUTHOR_WINDOW, PIPELINE_WINDOW};
use app::builds::{Build, BuildStatus, PreRun};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The red streak is counted up to this many builds, as SQL counts it.
pub const STREAK_CAP: usize = 50;
/// Rows loaded for a branch (its builds of any status), an author and a pipeline (finished).
pub const BRANCH_ROWS: usize = STREAK_CAP + 14;
pub const AUTHOR_ROWS: usize = AUTHOR_LONG_WINDOW + 28;
pub const PIPELINE_ROWS: usize = PIPELINE_WINDOW + 14;
/// Past this many branches remembered, the writer starts again from nothing: each keeps at most
/// 80 builds of about 100 bytes, so memory stays under 40 MB for branches.
const MAX_BRANCHES: usize = 5_000;

/// Imports being written now, and how many were written.
#[derive(Default)]
pub struct Imports {
    writing: AtomicU64,
    done: AtomicU64,
}

impl Imports {
    /// Held while an import writes, from before its transaction to after its commit (or not).
    pub fn writing(&self) -> ImportWriting<'_> {
        self.writing.fetch_add(1, Ordering::SeqCst);
        ImportWriting(self)
    }

    /// How many imports were done, or `None` while one is being written. `writing` is read
    /// first and an import counts itself done before it stops writing, so a `Some` never misses
    /// an import committed before it was read.
    fn done(&self) -> Option<u64> {
        let writing = self.writing.load(Ordering::SeqCst);
        let done = self.done.load(Ordering::SeqCst);
        (writing == 0).then_some(done)
    }
}

pub struct ImportWriting<'a>(&'a Imports);

impl Drop for ImportWriting<'_> {
    fn drop(&mut self) {
        self.0.done.fetch_add(1, Ordering::SeqCst);
        self.0.writing.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A finished build as the prior reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub failed: bool,
    pub commit: String,
    pub tests_failed: Option<i64>,
}

/// A build as memory keeps it: its start, its id, and its outcome once it finished (`None`
/// while it runs; authors and pipelines keep finished builds only).
pub type Entry = (i64, i64, Option<Outcome>);

/// One key's builds ordered by (start, id), oldest first: every build of the key that started
/// after `complete_after` is here (all of them when it is `None`).
#[derive(Debug, Clone)]
struct Recent {
    items: Vec<Entry>,
    complete_after: Option<i64>,
    keep: usize,
}

impl Recent {
    /// From rows newest first, `limit` asked for: when that many came, older ones may exist.
    fn loaded(mut rows: Vec<Entry>, limit: usize) -> Recent {
        rows.reverse();
        let complete_after = (rows.len() >= limit).then(|| rows[0].0);
        Recent {
            items: rows,
            complete_after,
            keep: limit,
        }
    }

    fn known(&self, started_at: i64) -> bool {
        self.complete_after.is_none_or(|c| started_at > c)
    }

    fn before(&self, t: i64) -> &[Entry] {
        &self.items[..self.items.partition_point(|e| e.0 < t)]
    }

    /// The newest `n` that started before `t`, oldest first, when they are surely all known.
    fn newest(&self, t: i64, n: usize) -> Option<&[Entry]> {
        let before = self.before(t);
        let slice = &before[before.len().saturating_sub(n)..];
        let sure = self.complete_after.is_none()
            || (slice.len() == n && slice.first().is_some_and(|e| self.known(e.0)));
        sure.then_some(slice)
    }

    fn insert(&mut self, started_at: i64, id: i64, value: Option<Outcome>) {
        if !self.known(started_at) {
            return;
        }
        let at = self
            .items
            .partition_point(|e| (e.0, e.1) < (started_at, id));
        self.items.insert(at, (started_at, id, value));
        if self.items.len() > self.keep + self.keep / 4 {
            let dropped = self.items.len() - self.keep;
            self.complete_after = Some(self.items[dropped - 1].0);
            self.items.drain(..dropped);
        }
    }

    /// Failures among the newest `n` finished before `t`, of how many.
    fn rate(&self, t: i64, n: usize) -> Option<(u32, u32)> {
        let window = self.newest(t, n)?;
        let failed = window
            .iter()
            .filter(|e| e.2.as_ref().is_some_and(|o| o.failed))
            .count();
        Some((failed as u32, window.len() as u32))
    }
}

/// The writer's memory; see the module's comment.
#[derive(Default)]
pub struct PriorCache {
    /// Each branch's builds of any status.
    branches: HashMap<(String, String), Recent>,
    authors: HashMap<String, Recent>,
    pipelines: HashMap<String, Recent>,
    /// Imports done when the last batch began.
    imports_seen: Option<u64>,
}

/// What the cache needs loaded before it can answer for a build.
pub struct Missing {
    pub branch: bool,
    pub author: bool,
    pub pipeline: bool,
}

impl Missing {
    pub fn any(&self) -> bool {
        self.branch || self.author || self.pipeline
    }
}

impl PriorCache {
    /// At the start of a batch, inside its write transaction: forgets everything when an import
    /// has written (or is writing) since the last batch.
    pub fn check_imports(&mut self, imports: &Imports) {
        let done = imports.done();
        if done.is_none() || done != self.imports_seen {
            self.forget();
        }
        self.imports_seen = done;
    }

    pub fn forget(&mut self) {
        self.branches.clear();
        self.authors.clear();
        self.pipelines.clear();
    }

    pub fn missing(&self, pre: &PreRun) -> Missing {
        Missing {
            branch: !self
                .branches
                .contains_key(&(pre.pipeline.clone(), pre.branch.clone())),
            author: pre
                .author
                .as_ref()
                .is_some_and(|a| !self.authors.contains_key(a)),
            pipeline: !self.pipelines.contains_key(&pre.pipeline),
        }
    }

    /// Rows newest first, as [`super::queries::recent`] reads them.
    pub fn load_branch(&mut self, pre: &PreRun, rows: Vec<Entry>) {
        if self.branches.len() >= MAX_BRANCHES {
            self.forget();
        }
        let key = (pre.pipeline.clone(), pre.branch.clone());
        self.branches.insert(key, Recent::loaded(rows, BRANCH_ROWS));
    }

    pub fn load_author(&mut self, author: &str, rows: Vec<Entry>) {
        self.authors
            .insert(author.to_string(), Recent::loaded(rows, AUTHOR_ROWS));
    }

    pub fn load_pipeline(&mut self, pipeline: &str, rows: Vec<Entry>) {
        self.pipelines
            .insert(pipeline.to_string(), Recent::loaded(rows, PIPELINE_ROWS));
    }

    /// The prior SQL would read for `pre`, when everything it reads is loaded and surely known.
    pub fn prior(&self, pre: &PreRun) -> Option<Prior> {
        let t = pre.started_at;
        let branch = self
            .branches
            .get(&(pre.pipeline.clone(), pre.branch.clone()))?;
        let pipeline = self
            .pipelines
            .get(&pre.pipeline)?
            .rate(t, PIPELINE_WINDOW)?;
        let (author, author_long) = match &pre.author {
            Some(a) => {
                let builds = self.authors.get(a)?;
                (
                    builds.rate(t, AUTHOR_WINDOW)?,
                    builds.rate(t, AUTHOR_LONG_WINDOW)?,
                )
            }
            None => ((0, 0), (0, 0)),
        };
        let last_start = branch.newest(t, 1)?.first().map(|e| e.0);
        let finished: Vec<(i64, &Outcome)> = branch
            .before(t)
            .iter()
            .filter_map(|e| e.2.as_ref().map(|o| (e.0, o)))
            .collect();
        let previous = match finished.last() {
            Some((at, o)) if branch.known(*at) => Some(*o),
            Some(_) => return None,
            None if branch.complete_after.is_none() => None,
            None => return None,
        };
        let red_streak = streak(branch, &finished)?;
        Some(Prior {
            previous_failed: previous.map(|o| o.failed),
            red_streak,
            author,
            pipeline,
            author_long,
            since_last_s: last_start.map(|at| (t - at) as f64 / 1000.0),
            previous_tests_failed: previous.filter(|o| o.failed).and_then(|o| o.tests_failed),
            previous_commit: previous.map(|o| o.commit.clone()),
        })
    }

    /// Remembers a build the writer inserted (`id` its new id).
    pub fn inserted(&mut self, b: &Build, id: i64) {
        let outcome = outcome(b);
        if let Some(branch) = self
            .branches
            .get_mut(&(b.pipeline.clone(), b.branch.clone()))
        {
            branch.insert(b.started_at, id, outcome.clone());
        }
        if outcome.is_some() {
            self.finished(b, id, outcome);
        }
    }

    /// Remembers an update of `old` (stored before) to `new`. A build that only finished is
    /// added where it started; anything else it changed makes its keys be loaded again.
    pub fn updated(&mut self, old: &Build, new: &Build) {
        let same_place = old.pipeline == new.pipeline
            && old.branch == new.branch
            && old.author == new.author
            && old.started_at == new.started_at;
        if same_place && outcome(old) == outcome(new) {
            return; // still running, or the same outcome said again
        }
        if same_place && outcome(old).is_none() {
            let outcome = outcome(new);
            if outcome.is_some() {
                if let Some(branch) = self
                    .branches
                    .get_mut(&(new.pipeline.clone(), new.branch.clone()))
                {
                    if let Some(e) = branch.items.iter_mut().find(|e| e.1 == old.id) {
                        e.2 = outcome.clone();
                    } else if branch.known(new.started_at) {
                        // Every start after `complete_after` is here; this one is not: unsure.
                        self.branches
                            .remove(&(new.pipeline.clone(), new.branch.clone()));
                    }
                }
                self.finished(new, old.id, outcome);
            }
            return;
        }
        for b in [old, new] {
            self.branches
                .remove(&(b.pipeline.clone(), b.branch.clone()));
            if let Some(a) = &b.author {
                self.authors.remove(a);
            }
            self.pipelines.remove(&b.pipeline);
        }
    }

    fn finished(&mut self, b: &Build, id: i64, outcome: Option<Outcome>) {
        if let Some(a) = b.author.as_ref().and_then(|a| self.authors.get_mut(a)) {
            a.insert(b.started_at, id, outcome.clone());
        }
        if let Some(p) = self.pipelines.get_mut(&b.pipeline) {
            p.insert(b.started_at, id, outcome);
        }
    }
}

/// What a stored build leaves for the prior: its outcome once it finished.
pub fn outcome(b: &Build) -> Option<Outcome> {
    let failed = match b.status {
        BuildStatus::Failure => true,
        BuildStatus::Success => false,
        _ => return None,
    };
    Some(Outcome {
        failed,
        commit: b.commit.clone(),
        tests_failed: b.tests_failed,
    })
}

/// The finished builds on the branch since its last success before `t` (`finished`, oldest
/// first), up to [`STREAK_CAP`]; a success at the same time as the last success does not count.
fn streak(branch: &Recent, finished: &[(i64, &Outcome)]) -> Option<u32> {
    let count = |after: i64| {
        finished
            .iter()
            .filter(|(at, _)| *at > after)
            .count()
            .min(STREAK_CAP) as u32
    };
    match finished.iter().rposition(|(_, o)| !o.failed) {
        Some(i) if branch.known(finished[i].0) => Some(count(finished[i].0)),
        Some(_) => None,
        None => match branch.complete_after {
            None => Some(count(i64::MIN)),
            Some(c) => (count(c) as usize >= STREAK_CAP).then_some(STREAK_CAP as u32),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre() -> PreRun {
        PreRun {
            pipeline: "acme/shop/ci".into(),
            branch: "main".into(),
            commit: None,
            author: None,
            trigger: None,
            message: None,
            files_changed: None,
            lines_added: None,
            lines_deleted: None,
            started_at: 10_000,
        }
    }

    /// `cache` with the branch and pipeline of [`pre`] loaded, neither with builds yet.
    fn load(cache: &mut PriorCache) {
        cache.load_branch(&pre(), vec![]);
        cache.load_pipeline("acme/shop/ci", vec![]);
    }

    /// A batch's start: `cache` checks `imports`, then says whether it still knew [`pre`]'s
    /// branch and pipeline (loaded again after each check).
    fn remembers(cache: &mut PriorCache, imports: &Imports) -> bool {
        cache.check_imports(imports);
        let known = cache.prior(&pre()).is_some();
        load(cache);
        known
    }

    #[test]
    fn an_import_makes_the_writer_forget_while_it_writes_and_after() {
        let imports = Imports::default();
        let mut cache = PriorCache::default();
        cache.check_imports(&imports);
        load(&mut cache);
        assert!(remembers(&mut cache, &imports));
        let one = imports.writing();
        assert!(
            !remembers(&mut cache, &imports),
            "forgotten while it writes"
        );
        let two = imports.writing();
        assert!(!remembers(&mut cache, &imports));
        drop(one);
        assert!(
            !remembers(&mut cache, &imports),
            "one is done, the other still writes"
        );
        drop(two);
        assert!(!remembers(&mut cache, &imports), "once after the last");
        assert!(remembers(&mut cache, &imports));
    }

    #[test]
    fn what_was_cut_off_is_asked_of_sql() {
        // A branch loaded at its limit: its oldest start may have more builds than came.
        let rows: Vec<_> = (0..BRANCH_ROWS as i64)
            .rev()
            .map(|i| (1_000 + i * 10, i + 1, None))
            .collect();
        let mut cache = PriorCache::default();
        cache.load_branch(&pre(), rows);
        cache.load_pipeline("acme/shop/ci", vec![]);
        let at = |t: i64| PreRun {
            started_at: t,
            ..pre()
        };
        // Nothing finished among what is known, and older builds may have: unsure.
        assert!(cache.prior(&at(100_000)).is_none());
        assert!(cache.prior(&at(1_000)).is_none());
    }
}
