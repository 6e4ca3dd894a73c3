//! The SQL that reads the builds store (its writes are in `writes`).

use crate::error::Context as _;
use app::builds::features::{Prior, AUTHOR_LONG_WINDOW, AUTHOR_WINDOW, PIPELINE_WINDOW};
use app::builds::{
    Build, BuildOutcome, BuildQuery, BuildStatus, BuildTrigger, LiveAccuracy, PreRun,
};
use app::error::AppError;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

const COLUMNS: &str = "id, source, source_id, pipeline, repo, workflow, branch, commit_sha, author, trigger_kind, message, \
    files_changed, lines_added, lines_deleted, started_at, finished_at, duration_s, status, tests_total, tests_failed, \
    coverage, url, predicted_failure, model_version";

fn decode(r: &AnyRow) -> Result<Build, sqlx::Error> {
    let bad = |what: &str, v: String| sqlx::Error::Decode(format!("{what} '{v}'").into());
    let status: String = r.try_get("status")?;
    let trigger: String = r.try_get("trigger_kind")?;
    Ok(Build {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        source_id: r.try_get("source_id")?,
        pipeline: r.try_get("pipeline")?,
        repo: r.try_get("repo")?,
        workflow: r.try_get("workflow")?,
        branch: r.try_get("branch")?,
        commit: r.try_get("commit_sha")?,
        author: r.try_get("author")?,
        trigger: BuildTrigger::parse(&trigger).ok_or_else(|| bad("trigger", trigger.clone()))?,
        message: r.try_get("message")?,
        files_changed: r.try_get("files_changed")?,
        lines_added: r.try_get("lines_added")?,
        lines_deleted: r.try_get("lines_deleted")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        duration_s: r.try_get("duration_s")?,
        status: BuildStatus::parse(&status).ok_or_else(|| bad("status", status.clone()))?,
        tests_total: r.try_get("tests_total")?,
        tests_failed: r.try_get("tests_failed")?,
        coverage: r.try_get("coverage")?,
        // Kept links lose credentials on the way in; one stored before that, on the way out.
        url: r
            .try_get::<Option<String>, _>("url")?
            .map(|u| app::redact::without_credentials(&u)),
        predicted_failure: r.try_get("predicted_failure")?,
        model_version: r.try_get("model_version")?,
    })
}

fn decode_all(rows: &[AnyRow], what: &str) -> Result<Vec<Build>, AppError> {
    rows.iter()
        .map(decode)
        .collect::<Result<_, _>>()
        .context(what)
}

/// The stored builds among `keys` (source, source id): one statement per source and few
/// hundred ids, on the unique index.
pub async fn find_all(
    conn: &mut AnyConnection,
    backend: crate::db::Backend,
    keys: &[(&str, &str)],
) -> Result<Vec<Build>, AppError> {
    let mut by_source: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (source, id) in keys {
        by_source.entry(source).or_default().push(id);
    }
    let mut found = Vec::new();
    for (source, ids) in by_source {
        for chunk in ids.chunks(crate::store::rows_per_statement(1) - 1) {
            let sql = format!(
                "SELECT {COLUMNS} FROM builds WHERE source = {} AND source_id IN ({})",
                crate::store::placeholders(backend, 0, 1),
                crate::store::placeholders(backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(source);
            for id in chunk {
                q = q.bind(*id);
            }
            let rows = q.fetch_all(&mut *conn).await.context("finding builds")?;
            found.extend(decode_all(&rows, "decoding a build")?);
        }
    }
    Ok(found)
}

/// The stored builds with the source ids of `builds`, by (source, source id): what a batch of
/// deliveries or an import follows.
pub async fn stored_by_source_id(
    conn: &mut AnyConnection,
    backend: crate::db::Backend,
    builds: &[Build],
) -> Result<std::collections::HashMap<(String, String), Build>, AppError> {
    let keys: Vec<(&str, &str)> = builds
        .iter()
        .map(|b| (b.source.as_str(), b.source_id.as_str()))
        .collect();
    Ok(find_all(conn, backend, &keys)
        .await?
        .into_iter()
        .map(|b| ((b.source.clone(), b.source_id.clone()), b))
        .collect())
}

/// A failure-rate window of the prior, as two columns: how many and how many failed among the
/// newest finished builds whose `column` is `$key`, at most `$limit` of them. Counted where it is
/// read, so a hundred-build window costs two values, not a hundred rows. Builds that started in
/// the same millisecond are taken newest id first, as training's history and the writer's
/// memory order them, so the edge of a window is the same in all three.
fn window_sql(column: &str, key: u8, limit: u8) -> String {
    let newest = format!(
        "FROM (SELECT status FROM builds WHERE {column} = ${key} AND started_at < $4 \
        AND status IN ('success', 'failure') ORDER BY started_at DESC, id DESC LIMIT ${limit}) w"
    );
    format!(
        "(SELECT COUNT(*) {newest}), \
        (SELECT SUM(CASE WHEN status = 'failure' THEN 1 ELSE 0 END) {newest})"
    )
}

/// The branch's last finished build, its red streak (the finished builds since its last
/// success, all failures, counted up to 50), the author's two windows, the pipeline's window and
/// the branch's last start: one row, each column a subquery. The writer reads a prior per new
/// build, and on SQLite each row is a hand-over between the connection's thread and the writer
/// (the prior was first 54 rows, then 7, one per part; `docs/benchmarks.md` has what one row saved).
/// Every part keeps `status IN ('success', 'failure')`, a filter on the indexes' own `status`
/// column (migration 0023), and a branch with no success yet counts its streak from the earliest
/// time.
fn prior_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let branch = "FROM builds WHERE pipeline = $1 AND branch = $2 AND started_at < $4";
        // Three columns of one build: two runs that started in the same second (a push and
        // its pull request's) must not lend the last one its status and the other its commit.
        let previous = |column: &str| {
            format!(
                "(SELECT {column} {branch} AND status IN ('success', 'failure') \
                ORDER BY started_at DESC, id DESC LIMIT 1)"
            )
        };
        format!(
            "SELECT {}, {}, {}, \
            (SELECT COUNT(*) FROM (SELECT 1 {branch} AND status IN ('success', 'failure') \
                AND started_at > COALESCE((SELECT MAX(started_at) {branch} \
                AND status IN ('success', 'failure') AND status = 'success'), -9223372036854775807) \
                LIMIT 50) s), \
            {}, {}, {}, \
            (SELECT MAX(started_at) {branch})",
            previous("status"),
            previous("commit_sha"),
            previous("tests_failed"),
            window_sql("author", 3, 5),
            window_sql("author", 3, 7),
            window_sql("pipeline", 1, 6),
        )
    })
}

/// What came before a build, from the database (as `History` computes it in memory). On the
/// writer's transaction it sees the builds written before it in the same batch.
pub async fn prior(conn: &mut AnyConnection, pre: &PreRun) -> Result<Prior, AppError> {
    let row = sqlx::query(prior_sql())
        .bind(&pre.pipeline)
        .bind(&pre.branch)
        .bind(pre.author.as_deref())
        .bind(pre.started_at)
        .bind(AUTHOR_WINDOW as i64)
        .bind(PIPELINE_WINDOW as i64)
        .bind(AUTHOR_LONG_WINDOW as i64)
        .fetch_one(&mut *conn)
        .await
        .context("reading a build's history")?;
    let decoded = (|| -> Result<Prior, sqlx::Error> {
        // A window: its failures (no sum over no builds), of how many.
        let window = |count: usize| -> Result<(u32, u32), sqlx::Error> {
            let total: i64 = row.try_get(count)?;
            let failed: Option<i64> = row.try_get(count + 1)?;
            Ok((failed.unwrap_or(0) as u32, total as u32))
        };
        let previous_status: Option<String> = row.try_get(0)?;
        let previous_failed = previous_status.map(|s| s == "failure");
        let previous_tests_failed: Option<i64> = row.try_get(2)?;
        let streak: i64 = row.try_get(3)?;
        let last: Option<i64> = row.try_get(10)?;
        Ok(Prior {
            previous_failed,
            red_streak: streak as u32,
            author: window(4)?,
            author_long: window(6)?,
            pipeline: window(8)?,
            since_last_s: last.map(|at| (pre.started_at - at) as f64 / 1000.0),
            previous_tests_failed: previous_tests_failed.filter(|_| previous_failed == Some(true)),
            previous_commit: row.try_get(1)?,
        })
    })();
    decoded.context("reading a build's history")
}

/// Which builds [`recent`] reads: a branch's of any status, or an author's or a pipeline's
/// finished ones.
pub enum RecentOf<'a> {
    Branch { pipeline: &'a str, branch: &'a str },
    Author(&'a str),
    Pipeline(&'a str),
}

/// The newest `limit` builds of a key for [`super::prior_cache`]: (start, id, outcome once
/// finished), newest first by start. Rows that started together are put in id order here, which
/// is exact: only the oldest start can be cut off by the limit, and the cache never trusts it.
pub async fn recent(
    conn: &mut AnyConnection,
    of: RecentOf<'_>,
    limit: usize,
) -> Result<Vec<super::prior_cache::Entry>, AppError> {
    let finished = "status IN ('success', 'failure')";
    let (filter, keys) = match of {
        RecentOf::Branch { pipeline, branch } => (
            "pipeline = $1 AND branch = $2".to_string(),
            vec![pipeline, branch],
        ),
        RecentOf::Author(author) => (format!("author = $1 AND {finished}"), vec![author]),
        RecentOf::Pipeline(pipeline) => (format!("pipeline = $1 AND {finished}"), vec![pipeline]),
    };
    let sql = format!(
        "SELECT started_at, id, status, commit_sha, tests_failed FROM builds WHERE {filter} \
        ORDER BY started_at DESC LIMIT {limit}"
    );
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(key);
    }
    let rows = query
        .fetch_all(&mut *conn)
        .await
        .context("reading builds for a prior")?;
    let mut out = rows
        .iter()
        .map(|r| -> Result<_, sqlx::Error> {
            let status: String = r.try_get(2)?;
            let outcome = matches!(status.as_str(), "success" | "failure").then(
                || -> Result<_, sqlx::Error> {
                    Ok(super::prior_cache::Outcome {
                        failed: status == "failure",
                        commit: r.try_get(3)?,
                        tests_failed: r.try_get(4)?,
                    })
                },
            );
            Ok((r.try_get(0)?, r.try_get(1)?, outcome.transpose()?))
        })
        .collect::<Result<Vec<_>, _>>()
        .context("reading builds for a prior")?;
    out.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
    Ok(out)
}

pub async fn list(pool: &AnyPool, q: &BuildQuery) -> Result<(Vec<Build>, Option<i64>), AppError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let mut sql = format!("SELECT {COLUMNS} FROM builds WHERE 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    for (column, value) in [
        ("pipeline", &q.pipeline),
        ("branch", &q.branch),
        ("status", &q.status),
        ("author", &q.author),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            binds.push(v.to_string());
            sql.push_str(&format!(" AND {column} = ${}", binds.len()));
        }
    }
    // Either sha may be the shorter: a release names the whole, a CI may send the first seven.
    if let Some(commit) = q.commit.as_deref().filter(|c| !c.is_empty()) {
        binds.push(commit.to_ascii_lowercase());
        binds.push(commit.to_ascii_lowercase());
        sql.push_str(&format!(
            " AND (commit_sha LIKE ${} || '%' OR ${} LIKE commit_sha || '%')",
            binds.len() - 1,
            binds.len()
        ));
    }
    // Newest first by when they started, not by when they reached us: a back-filled import
    // arrives after the live builds it predates. The cursor stays the id of the last build
    // shown; the page after it starts below that build's place in the order.
    if let Some(cursor) = q.cursor {
        binds.push(cursor.to_string());
        sql.push_str(&format!(
            " AND (started_at, id) < (SELECT c.started_at, c.id FROM builds c WHERE c.id = CAST(${} AS BIGINT))",
            binds.len()
        ));
    }
    sql.push_str(&format!(
        " ORDER BY started_at DESC, id DESC LIMIT {}",
        limit + 1
    ));
    let mut query = sqlx::query(&sql);
    for b in &binds {
        query = query.bind(b.as_str());
    }
    let rows = query.fetch_all(pool).await.context("listing builds")?;
    let mut items = decode_all(&rows, "decoding builds")?;
    let next = (items.len() as i64 > limit).then(|| {
        items.truncate(limit as usize);
        items.last().map(|b| b.id)
    });
    Ok((items, next.flatten()))
}

/// Every build of any of `commits` (lowercase, 7 to 40 digits), either sha the shorter, newest
/// first and at most `limit`, with perhaps a few more that share a commit's first seven digits
/// (the caller matches whole shas). One read of the table for a page of releases: no index
/// serves a prefix match both ways, and one on the commit would slow every build stored. The
/// first seven digits, looked up in a set, cost a scan and no more: 50 ms at 100,000 builds on
/// SQLite, where a `LIKE` each way for 50 commits took 0.8 to 1.2 s.
pub async fn of_commits(
    pool: &AnyPool,
    commits: &[String],
    limit: i64,
) -> Result<Vec<Build>, AppError> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let set: Vec<String> = (1..=commits.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM builds WHERE substr(commit_sha, 1, 7) IN ({}) \
         ORDER BY started_at DESC, id DESC LIMIT {limit}",
        set.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for commit in commits {
        query = query.bind(commit.get(..7).unwrap_or(commit));
    }
    let rows = query.fetch_all(pool).await.context("reading builds")?;
    decode_all(&rows, "decoding builds")
}

pub async fn since(
    pool: &AnyPool,
    since: i64,
    pipeline: Option<&str>,
    branch: Option<&str>,
) -> Result<Vec<Build>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM builds WHERE started_at >= $1 AND ($2 = '' OR pipeline = $2) AND ($3 = '' OR branch = $3) ORDER BY started_at, id"
    ))
    .bind(since)
    .bind(pipeline.unwrap_or(""))
    .bind(branch.unwrap_or(""))
    .fetch_all(pool)
    .await
    .context("reading builds")?;
    decode_all(&rows, "decoding builds")
}

/// The outcomes of the builds started since `since`, oldest first (optionally one pipeline or
/// branch): the columns the statistics and the charts read, not the messages and links (a third
/// of the columns, and the bulk of the bytes, over a period that can hold 100,000 builds).
///
/// On SQLite through its own driver (`sqlite`, the typed pool): 100,000 builds in 0.2 s, where
/// the Any driver's row conversion took 0.6 s, and every builds page reads them again after each
/// change (`GET /builds/stats` over 100,000 builds: 550 ms). PostgreSQL's Any rows cost less
/// (the same read: 210 ms).
pub async fn outcomes_since(
    pool: &AnyPool,
    sqlite: Option<&sqlx::SqlitePool>,
    since: i64,
    pipeline: Option<&str>,
    branch: Option<&str>,
) -> Result<Vec<BuildOutcome>, AppError> {
    const OUTCOMES: &str = "SELECT pipeline, branch, commit_sha, status, started_at, finished_at, duration_s, coverage FROM builds \
         WHERE started_at >= $1 AND ($2 = '' OR pipeline = $2) AND ($3 = '' OR branch = $3) ORDER BY started_at, id";
    let (pipeline, branch) = (pipeline.unwrap_or(""), branch.unwrap_or(""));
    let outcomes: Result<Vec<BuildOutcome>, sqlx::Error> = match sqlite {
        Some(sqlite) => sqlx::query(OUTCOMES)
            .bind(since)
            .bind(pipeline)
            .bind(branch)
            .fetch_all(sqlite)
            .await
            .and_then(|rows| rows.iter().map(outcome).collect()),
        None => sqlx::query(OUTCOMES)
            .bind(since)
            .bind(pipeline)
            .bind(branch)
            .fetch_all(pool)
            .await
            .and_then(|rows| rows.iter().map(outcome).collect()),
    };
    outcomes.context("reading build outcomes")
}

/// A row of the outcomes read, from either driver.
fn outcome<R: Row>(r: &R) -> Result<BuildOutcome, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = r.try_get("status")?;
    Ok(BuildOutcome {
        pipeline: r.try_get("pipeline")?,
        branch: r.try_get("branch")?,
        commit: r.try_get("commit_sha")?,
        status: BuildStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("status '{status}'").into()))?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        duration_s: r.try_get("duration_s")?,
        coverage: r.try_get("coverage")?,
    })
}

/// A pipeline's newest running or queued builds started since `since`, newest first.
pub async fn unfinished(
    pool: &AnyPool,
    pipeline: &str,
    since: i64,
    limit: i64,
) -> Result<Vec<Build>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM builds WHERE pipeline = $1 AND started_at >= $2 AND status IN ('running', 'queued') \
         ORDER BY started_at DESC, id DESC LIMIT $3"
    ))
    .bind(pipeline)
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading unfinished builds")?;
    decode_all(&rows, "decoding unfinished builds")
}

/// How many builds have finished with an outcome (what a model learns from).
pub async fn finished_count(pool: &AnyPool) -> Result<i64, AppError> {
    sqlx::query("SELECT COUNT(*) FROM builds WHERE status IN ('success', 'failure')")
        .fetch_one(pool)
        .await
        .and_then(|r| r.try_get(0))
        .context("counting finished builds")
}

pub async fn live_accuracy(
    pool: &AnyPool,
    pipeline: Option<&str>,
    n: i64,
) -> Result<LiveAccuracy, AppError> {
    let rows = sqlx::query(
        "SELECT status, predicted_outcome, baseline_outcome FROM builds WHERE predicted_outcome IS NOT NULL \
         AND status IN ('success', 'failure') AND ($1 = '' OR pipeline = $1) ORDER BY finished_at DESC, id DESC LIMIT $2",
    )
    .bind(pipeline.unwrap_or(""))
    .bind(n)
    .fetch_all(pool)
    .await
    .context("scoring predictions")?;
    let mut triples = Vec::new();
    for r in &rows {
        let get = |c: &str| r.try_get::<String, _>(c).context("scoring predictions");
        triples.push((
            get("status")?,
            get("predicted_outcome")?,
            get("baseline_outcome")?,
        ));
    }
    let total = triples.len();
    if total == 0 {
        return Ok(LiveAccuracy::default());
    }
    let share = |hit: usize| Some(hit as f64 / total as f64);
    let failures = triples.iter().filter(|t| t.0 == "failure").count();
    Ok(LiveAccuracy {
        builds: total,
        accuracy: share(triples.iter().filter(|t| t.0 == t.1).count()),
        baseline_accuracy: share(triples.iter().filter(|t| t.0 == t.2).count()),
        majority_accuracy: share(failures.max(total - failures)),
    })
}
