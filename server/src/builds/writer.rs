//! Group commit for arriving builds. `POST /builds`, the CI webhooks and the demo hand each build
//! to one writer task, which stores whatever arrived together in one transaction: one commit (one
//! sync to disk on SQLite) per batch instead of one per build, and every answer waits for the
//! commit that holds its build, so a 201 is durable. A batch is stored in arrival order, each
//! build reading on the same transaction the history written before it (its prior, so its
//! prediction). With one writer, two deliveries of the same new source id no longer both insert:
//! the second finds the first and updates it. A batch that fails is stored again build by build,
//! so a build that cannot be stored (or that another replica inserted meanwhile) fails alone.
//! The writer keeps a connection of its own ([`store::WriterConnection`]), so on SQLite its page
//! cache survives from batch to batch, and on SQLite it remembers what priors read
//! ([`super::prior_cache`]).

use super::prior_cache::{Imports, PriorCache, AUTHOR_ROWS, BRANCH_ROWS, PIPELINE_ROWS};
use super::queries::RecentOf;
use super::{prediction::predict_with, queries, writes, ModelSlot};
use crate::db::Backend;
use crate::error::Context as _;
use crate::store;
use app::builds::features::Prior;
use app::builds::{Build, PreRun, TOPIC};
use app::error::AppError;
use sqlx::{AnyConnection, AnyPool};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A build to store, and where its answer goes.
pub type Job = (Build, oneshot::Sender<Result<Stored, AppError>>);

/// A build as committed.
pub struct Stored {
    pub build: Build,
    /// False when it updated the build with the same source id.
    pub created: bool,
}

/// Builds per commit at most.
const BATCH: usize = 256;

/// Starts the writer; it stops when the last sender is dropped.
pub fn start(pool: AnyPool, model: ModelSlot, imports: Arc<Imports>) -> mpsc::Sender<Job> {
    let (sender, receiver) = mpsc::channel(BATCH * 4);
    tokio::spawn(write_loop(pool, model, imports, receiver));
    sender
}

/// What a batch is stored with besides its builds.
struct Writer {
    connection: store::WriterConnection,
    backend: Backend,
    model: ModelSlot,
    /// SQLite only: PostgreSQL may have other replicas writing builds.
    priors: Option<PriorCache>,
    imports: Arc<Imports>,
}

async fn write_loop(
    pool: AnyPool,
    model: ModelSlot,
    imports: Arc<Imports>,
    mut receiver: mpsc::Receiver<Job>,
) {
    let backend = Backend::of(&pool);
    let mut writer = Writer {
        connection: store::WriterConnection::new(pool),
        backend,
        model,
        priors: (backend == Backend::Sqlite).then(PriorCache::default),
        imports,
    };
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (builds, replies): (Vec<Build>, Vec<_>) = jobs.into_iter().unzip();
        match store_batch(&mut writer, &builds).await {
            Ok(stored) => {
                for (reply, s) in replies.into_iter().zip(stored) {
                    let _ = reply.send(Ok(s));
                }
            }
            Err(error) if builds.len() > 1 => {
                tracing::warn!(error = %error.message, builds = builds.len(), "a batch of builds failed; storing them one by one");
                for (b, reply) in builds.into_iter().zip(replies) {
                    let one = store_batch(&mut writer, std::slice::from_ref(&b)).await;
                    let _ = reply.send(one.map(|mut s| s.remove(0)));
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Stores `builds` in order in one transaction on the writer's connection: all or none. A
/// failure closes the connection, in case it is what failed, and forgets the remembered priors,
/// which may hold what was rolled back.
async fn store_batch(writer: &mut Writer, builds: &[Build]) -> Result<Vec<Stored>, AppError> {
    let (backend, model, imports) = (writer.backend, &writer.model, &writer.imports);
    let priors = &mut writer.priors;
    let outcome = writer
        .connection
        .run("connecting to store builds", async |conn| {
            store_on(conn, backend, model, priors.as_mut(), imports, builds).await
        })
        .await;
    if outcome.is_err() {
        if let Some(priors) = writer.priors.as_mut() {
            priors.forget();
        }
    }
    outcome
}

/// Per new build its insert, and its prior unless `priors` remembers it (PostgreSQL: always);
/// per update one; the lookup of known source ids and the events are one statement each for the
/// whole batch.
async fn store_on(
    conn: &mut AnyConnection,
    backend: Backend,
    model: &ModelSlot,
    mut priors: Option<&mut PriorCache>,
    imports: &Imports,
    builds: &[Build],
) -> Result<Vec<Stored>, AppError> {
    let model = model.read().unwrap_or_else(|e| e.into_inner()).clone();
    let mut tx = store::begin_write_on(conn, backend).await?;
    // Inside the write transaction: no import can commit until it ends.
    if let Some(priors) = priors.as_deref_mut() {
        priors.check_imports(imports);
    }
    let mut unwritten = Unwritten::default();
    // Known from before, or (below) stored earlier in this batch.
    let mut known = queries::stored_by_source_id(&mut tx, backend, builds).await?;
    let mut stored = Vec::with_capacity(builds.len());
    let mut events = Vec::with_capacity(builds.len());
    for b in builds {
        let mut b = b.clone();
        let key = (b.source.clone(), b.source_id.clone());
        let existing = known.get(&key);
        if let Some(old) = existing.filter(|old| !b.follow(old)) {
            stored.push(Stored {
                build: old.clone(),
                created: false,
            });
            continue;
        }
        let created = match existing {
            Some(old) => {
                unwritten.write(&mut tx).await?;
                writes::update(&mut tx, &b).await?;
                if let Some(priors) = priors.as_deref_mut() {
                    priors.updated(old, &b);
                }
                false
            }
            None => {
                let pre = PreRun::from(&b);
                let prior = match priors.as_deref_mut() {
                    Some(priors) => remembered_prior(&mut tx, priors, &mut unwritten, &pre).await?,
                    None => queries::prior(&mut tx, &pre).await?,
                };
                let prediction = predict_with(model.as_deref(), &pre, &prior);
                let baseline = if prior.previous_failed == Some(true) {
                    "failure"
                } else {
                    "success"
                };
                b.predicted_failure = Some(prediction.failure_probability);
                b.model_version = Some(prediction.model.as_ref().map_or(0, |m| m.version));
                match priors.as_deref_mut() {
                    Some(priors) => {
                        b.id = unwritten.number(&mut tx).await?;
                        priors.inserted(&b, b.id);
                        unwritten.rows.push(writes::Numbered {
                            build: b.clone(),
                            predicted: prediction.prediction,
                            baseline,
                        });
                    }
                    None => {
                        b.id =
                            writes::insert(&mut tx, &b, &prediction.prediction, baseline).await?;
                    }
                }
                true
            }
        };
        let kind = if created {
            "build.created"
        } else {
            "build.updated"
        };
        events.push((
            kind,
            serde_json::json!({ "id": b.id, "pipeline": b.pipeline, "branch": b.branch, "status": b.status }),
        ));
        known.insert(key, b.clone());
        stored.push(Stored { build: b, created });
    }
    unwritten.write(&mut tx).await?;
    crate::events::append_all(&mut tx, backend, TOPIC, &events)
        .await
        .context("publishing builds")?;
    tx.commit().await.context("committing builds")?;
    Ok(stored)
}

/// `pre`'s prior from memory, its branch, author and pipeline loaded first if they are new to
/// it; from SQL when memory cannot be sure.
async fn remembered_prior(
    conn: &mut AnyConnection,
    priors: &mut PriorCache,
    unwritten: &mut Unwritten,
    pre: &PreRun,
) -> Result<Prior, AppError> {
    let missing = priors.missing(pre);
    if missing.any() {
        unwritten.write(conn).await?;
    }
    if missing.branch {
        let of = RecentOf::Branch {
            pipeline: &pre.pipeline,
            branch: &pre.branch,
        };
        let rows = queries::recent(conn, of, BRANCH_ROWS).await?;
        priors.load_branch(pre, rows);
    }
    if let Some(author) = pre.author.as_deref().filter(|_| missing.author) {
        let rows = queries::recent(conn, RecentOf::Author(author), AUTHOR_ROWS).await?;
        priors.load_author(author, rows);
    }
    if missing.pipeline {
        let rows = queries::recent(conn, RecentOf::Pipeline(&pre.pipeline), PIPELINE_ROWS).await?;
        priors.load_pipeline(&pre.pipeline, rows);
    }
    match priors.prior(pre) {
        Some(prior) => Ok(prior),
        None => {
            unwritten.write(conn).await?;
            queries::prior(conn, pre).await
        }
    }
}

/// New builds the writer has numbered and not inserted yet (SQLite, where priors come from
/// memory and the batch's transaction holds the only write lock). They go in together, a few
/// rows per statement, before any statement that could read them: a new build on a branch,
/// author and pipeline seen before then costs no statement of its own. (One statement per
/// build, each a hand-over to SQLite's thread and back, held `POST /builds` near 3,500/s.)
#[derive(Default)]
struct Unwritten {
    next_id: Option<i64>,
    rows: Vec<writes::Numbered>,
}

impl Unwritten {
    /// The next build's id, read once per batch.
    async fn number(&mut self, conn: &mut AnyConnection) -> Result<i64, AppError> {
        let id = match self.next_id {
            Some(id) => id,
            None => writes::next_build_id(conn).await?,
        };
        self.next_id = Some(id + 1);
        Ok(id)
    }

    async fn write(&mut self, conn: &mut AnyConnection) -> Result<(), AppError> {
        if !self.rows.is_empty() {
            writes::insert_numbered(conn, &self.rows).await?;
            self.rows.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// A build of acme/shop/ci on `branch` by ada, started `started_s` seconds after
    /// 2026-12-01, read as `POST /builds` reads one.
    fn build(source_id: &str, status: &str, started_s: i64, branch: &str) -> Build {
        let body = serde_json::json!({"pipeline": "acme/shop/ci", "branch": branch,
            "commit": "0123456789abcdef", "author": "ada", "trigger": "push", "status": status,
            "started_at": app::time_fmt::rfc3339((1_796_083_200 + started_s) * 1000), "source_id": source_id});
        super::super::input::read(&body, "api", String::new).unwrap()
    }

    /// The writer on a new SQLite database, its priors remembered or always read from SQL.
    async fn writer(dir: &tempfile::TempDir, remember: bool) -> (crate::db::Db, Writer) {
        let url = format!("sqlite://{}", dir.path().join("fd.db").display());
        let db = crate::db::Db::connect(&url).await.unwrap();
        let writer = Writer {
            connection: store::WriterConnection::new(db.pool.clone()),
            backend: Backend::Sqlite,
            model: ModelSlot::default(),
            priors: remember.then(PriorCache::default),
            imports: Arc::default(),
        };
        (db, writer)
    }

    #[tokio::test]
    async fn a_batch_predicts_each_new_build_from_what_came_before_it_in_the_batch() {
        a_batch_reads_what_came_before_it(true).await;
        a_batch_reads_what_came_before_it(false).await;
    }

    /// One batch, in one order: each new build's prediction (the last-build baseline, with no
    /// model) must read what the deliveries before it in the same transaction left.
    async fn a_batch_reads_what_came_before_it(remember: bool) {
        let dir = tempfile::tempdir().unwrap();
        let (db, mut conn) = writer(&dir, remember).await;
        let earlier = [build("s", "running", 5, "feature/x")];
        store_batch(&mut conn, &earlier).await.unwrap();

        let batch = [
            build("a", "failure", 10, "main"),
            build("s", "failure", 5, "feature/x"), // stored before: an update
            build("b", "running", 20, "main"),
            build("f", "running", 15, "feature/x"),
            build("c", "running", 30, "main"),
            build("d", "success", 40, "main"),
            build("e", "running", 50, "main"),
            build("g", "running", 60, "feature/y"),
            build("g", "success", 60, "feature/y"),
        ];
        let stored = store_batch(&mut conn, &batch).await.unwrap();
        let answer: Vec<_> = stored
            .iter()
            .map(|s| {
                (
                    s.build.source_id.as_str(),
                    s.created,
                    s.build.predicted_failure,
                )
            })
            .collect();
        assert_eq!(
            answer,
            [
                ("a", true, Some(0.0)),
                ("s", false, Some(0.0)),
                ("b", true, Some(1.0)), // a failed before it
                ("f", true, Some(1.0)), // s failed before it, updated in this batch
                ("c", true, Some(1.0)), // b is running: a is still the last outcome
                ("d", true, Some(1.0)),
                ("e", true, Some(0.0)), // d succeeded
                ("g", true, Some(0.0)),
                ("g", false, Some(0.0)),
            ]
        );
        assert_eq!(stored[7].build.id, stored[8].build.id);

        let rows = sqlx::query(
            "SELECT id, source_id, status, predicted_failure, predicted_outcome, baseline_outcome \
             FROM builds ORDER BY id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        // Each row as "source id, status, predicted probability and outcome, baseline".
        let table: Vec<String> = rows
            .iter()
            .map(|r| {
                let (id, status): (String, String) = (r.get(1), r.get(2));
                let predicted: Option<f64> = r.get(3);
                let (outcome, baseline): (Option<String>, Option<String>) = (r.get(4), r.get(5));
                let [outcome, baseline] = [outcome, baseline].map(Option::unwrap_or_default);
                format!("{id} {status} {predicted:?} {outcome} {baseline}")
            })
            .collect();
        // In arrival order; s was stored before the batch, g as its last delivery left it.
        assert_eq!(
            table,
            [
                "s failure Some(0.0) success success",
                "a failure Some(0.0) success success",
                "b running Some(1.0) failure failure",
                "f running Some(1.0) failure failure",
                "c running Some(1.0) failure failure",
                "d success Some(1.0) failure failure",
                "e running Some(0.0) success success",
                "g success Some(0.0) success success",
            ]
        );
        for s in &stored {
            let row = rows.iter().find(|r| r.get::<i64, _>(0) == s.build.id);
            let source_id: Option<String> = row.map(|r| r.get(1));
            assert_eq!(
                source_id.as_ref(),
                Some(&s.build.source_id),
                "the answer's id is the row's"
            );
        }
        drop(conn); // it holds a connection, which closing the pool waits for
        db.close().await;
    }

    /// The writer numbers new builds itself on SQLite: after every id ever given, even one whose
    /// build is gone (`AUTOINCREMENT`), and before ids the database gives other writers.
    #[tokio::test]
    async fn new_builds_are_numbered_after_every_id_ever_given() {
        let dir = tempfile::tempdir().unwrap();
        let (db, mut conn) = writer(&dir, true).await;
        let ids = |stored: Vec<Stored>| stored.iter().map(|s| s.build.id).collect::<Vec<_>>();
        let mut first = [1, 2, 3].map(|n| build(&format!("a{n}"), "success", n, "main"));
        (first[0].coverage, first[0].duration_s) = (Some(81.5), Some(12.25));
        assert_eq!(
            ids(store_batch(&mut conn, &first).await.unwrap()),
            [1, 2, 3]
        );
        // Bound as text, stored as numbers.
        let reals: (String, String, String, f64) = sqlx::query_as(
            "SELECT typeof(coverage), typeof(duration_s), typeof(predicted_failure), coverage FROM builds WHERE id = 1",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(reals, ("real".into(), "real".into(), "real".into(), 81.5));
        sqlx::query("DELETE FROM builds WHERE id = 3")
            .execute(&db.pool)
            .await
            .unwrap();
        let second = [4, 5].map(|n| build(&format!("a{n}"), "failure", n, "main"));
        assert_eq!(ids(store_batch(&mut conn, &second).await.unwrap()), [4, 5]);
        // An import inserts without ids: the database carries on after the writer's.
        let mut imported = build("b1", "success", 6, "main");
        imported.id = 0;
        let mut tx = db.pool.begin().await.unwrap();
        super::super::bulk::insert_all(&mut tx, Backend::Sqlite, &[imported])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let third = [build("a7", "success", 7, "main")];
        assert_eq!(ids(store_batch(&mut conn, &third).await.unwrap()), [7]);
        let stored: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, source_id FROM builds ORDER BY id")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        let expected = [
            (1, "a1"),
            (2, "a2"),
            (4, "a4"),
            (5, "a5"),
            (6, "b1"),
            (7, "a7"),
        ];
        assert_eq!(stored, expected.map(|(id, s)| (id, s.to_string())).to_vec());
        drop(conn);
        db.close().await;
    }

    /// Twelve builds by one author that started in the same millisecond, the two newest failed:
    /// the author's ten-build window takes the newest ids, from SQL and from memory alike.
    #[tokio::test]
    async fn a_window_takes_the_newest_of_builds_that_started_together() {
        let dir = tempfile::tempdir().unwrap();
        let (db, mut w) = writer(&dir, true).await;
        let together: Vec<Build> = (0..12)
            .map(|i| {
                let status = if i >= 10 { "failure" } else { "success" };
                build(&format!("t{i}"), status, 100, &format!("b{i}"))
            })
            .collect();
        store_batch(&mut w, &together).await.unwrap();
        let later = PreRun::from(&build("later", "running", 200, "main"));
        let mut conn = db.pool.acquire().await.unwrap();
        let from_sql = queries::prior(&mut conn, &later).await.unwrap();
        let priors = w.priors.as_mut().unwrap();
        let from_memory = remembered_prior(&mut conn, priors, &mut Unwritten::default(), &later)
            .await
            .unwrap();
        assert_eq!(from_sql.author, (2, 10));
        assert_eq!(from_memory, from_sql);
        assert!(priors.prior(&later).is_some(), "answered from memory");
        drop((conn, w));
        db.close().await;
    }

    /// Remembered priors are the ones SQL reads, over two months of the demo's builds arriving as
    /// CI sends them: each running when it starts and finished later, every ninth one late, after
    /// builds that started after it, a few finished again the other way; halfway, memory starts
    /// again from nothing. Between batches,
    /// every build about to arrive is asked of both; memory must answer nearly all itself.
    #[tokio::test]
    async fn remembered_priors_are_the_ones_sql_reads() {
        let dir = tempfile::tempdir().unwrap();
        let (db, mut w) = writer(&dir, true).await;
        let history = crate::demo::builds::history(3, 60, 8, 1_796_083_200_000);
        let mut deliveries = Vec::new();
        let mut late = Vec::new();
        for (i, b) in history.iter().enumerate() {
            let mut running = b.clone();
            running.status = app::builds::BuildStatus::Running;
            (
                running.finished_at,
                running.duration_s,
                running.tests_failed,
            ) = (None, None, None);
            if i % 9 == 4 {
                late.push(running);
                late.push(b.clone());
                continue;
            }
            deliveries.push(running);
            if i >= 3 {
                deliveries.push(history[i - 3].clone());
            }
            if i >= 6 && i % 50 == 0 {
                // Re-run to the other outcome (a flake that passed), delivered under its id.
                let mut again = history[i - 6].clone();
                again.status = match again.status {
                    app::builds::BuildStatus::Failure => app::builds::BuildStatus::Success,
                    _ => app::builds::BuildStatus::Failure,
                };
                deliveries.push(again);
            }
            if i % 9 == 0 {
                deliveries.append(&mut late);
            }
        }
        deliveries.extend(history.iter().rev().take(3).cloned());
        let (mut asked, mut remembered) = (0, 0);
        let batches: Vec<_> = deliveries.chunks(40).collect();
        for (n, batch) in batches.iter().copied().enumerate() {
            if n == batches.len() / 2 {
                // As after a restart: what memory loads now is cut off by its limits.
                w.priors = Some(PriorCache::default());
            }
            let mut conn = db.pool.acquire().await.unwrap();
            let priors = w.priors.as_mut().unwrap();
            for b in batch {
                let pre = PreRun::from(b);
                let from_sql = queries::prior(&mut conn, &pre).await.unwrap();
                let from_memory =
                    remembered_prior(&mut conn, priors, &mut Unwritten::default(), &pre)
                        .await
                        .unwrap();
                assert_eq!(from_memory, from_sql, "{} {}", b.source_id, b.started_at);
                asked += 1;
                remembered += usize::from(priors.prior(&pre).is_some());
            }
            drop(conn);
            store_batch(&mut w, batch).await.unwrap();
        }
        assert!(asked > 3_000, "{asked}");
        assert!(remembered * 100 >= asked * 95, "{remembered} of {asked}");
        drop(w);
        db.close().await;
    }
}
