//! The SQL of the builds store.

use crate::error::internal;
use app::builds::features::{Prior, AUTHOR_WINDOW, PIPELINE_WINDOW};
use app::builds::{Build, BuildQuery, BuildStatus, BuildTrigger, LiveAccuracy, PreRun};
use app::error::AppError;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

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
        url: r.try_get("url")?,
        predicted_failure: r.try_get("predicted_failure")?,
        model_version: r.try_get("model_version")?,
    })
}

fn decode_all(rows: &[AnyRow], what: &str) -> Result<Vec<Build>, AppError> {
    rows.iter()
        .map(decode)
        .collect::<Result<_, _>>()
        .map_err(|e| internal(what, e))
}

pub async fn find(
    pool: &AnyPool,
    source: &str,
    source_id: &str,
) -> Result<Option<Build>, AppError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM builds WHERE source = $1 AND source_id = $2"
    ))
    .bind(source)
    .bind(source_id)
    .fetch_optional(pool)
    .await
    .map_err(|e| internal("finding a build", e))?;
    row.map(|r| decode(&r))
        .transpose()
        .map_err(|e| internal("decoding a build", e))
}

/// Binds the columns every write sets, as $1..$21 in [`COLUMNS`] order after `id`. Real numbers
/// travel as text and are cast in SQL: sqlx 0.8.6's Any driver binds a missing `f64` as a
/// PostgreSQL `float4`, so a statement first prepared with one would refuse a later value.
macro_rules! bind_fields {
    ($q:expr, $b:expr) => {
        $q.bind(&$b.source)
            .bind(&$b.source_id)
            .bind(&$b.pipeline)
            .bind(&$b.repo)
            .bind(&$b.workflow)
            .bind(&$b.branch)
            .bind(&$b.commit)
            .bind($b.author.as_deref())
            .bind($b.trigger.as_str())
            .bind($b.message.as_deref())
            .bind($b.files_changed)
            .bind($b.lines_added)
            .bind($b.lines_deleted)
            .bind($b.started_at)
            .bind($b.finished_at)
            .bind($b.duration_s.map(|v| v.to_string()))
            .bind($b.status.as_str())
            .bind($b.tests_total)
            .bind($b.tests_failed)
            .bind($b.coverage.map(|v| v.to_string()))
            .bind($b.url.as_deref())
    };
}

const INSERT: &str = "INSERT INTO builds (source, source_id, pipeline, repo, workflow, branch, commit_sha, author, trigger_kind, message, \
    files_changed, lines_added, lines_deleted, started_at, finished_at, duration_s, status, tests_total, tests_failed, coverage, url, \
    predicted_failure, predicted_outcome, baseline_outcome, model_version, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, CAST($16 AS DOUBLE PRECISION), $17, $18, $19, \
    CAST($20 AS DOUBLE PRECISION), $21, CAST($22 AS DOUBLE PRECISION), $23, $24, $25, $26, $26)";

const UPDATE: &str = "UPDATE builds SET source = $1, source_id = $2, pipeline = $3, repo = $4, workflow = $5, branch = $6, commit_sha = $7, \
    author = $8, trigger_kind = $9, message = $10, files_changed = $11, lines_added = $12, lines_deleted = $13, started_at = $14, \
    finished_at = $15, duration_s = CAST($16 AS DOUBLE PRECISION), status = $17, tests_total = $18, tests_failed = $19, \
    coverage = CAST($20 AS DOUBLE PRECISION), url = $21, updated_at = $22";

pub async fn insert(
    tx: &mut Transaction<'_, Any>,
    b: &Build,
    predicted: &str,
    baseline: &str,
) -> Result<i64, AppError> {
    let sql = format!("{INSERT} RETURNING id");
    let q = bind_fields!(sqlx::query(&sql), b)
        .bind(b.predicted_failure.map(|v| v.to_string()))
        .bind(predicted)
        .bind(baseline)
        .bind(b.model_version)
        .bind(crate::now_ms());
    q.fetch_one(&mut **tx)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| internal("storing a build", e))
}

pub async fn update(tx: &mut Transaction<'_, Any>, b: &Build) -> Result<(), AppError> {
    let sql = format!("{UPDATE} WHERE id = $23");
    bind_fields!(sqlx::query(&sql), b)
        .bind(crate::now_ms())
        .bind(b.id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(|e| internal("updating a build", e))
}

/// Inserts or updates by source id, without a prediction; true when it was new.
pub async fn upsert_plain(tx: &mut Transaction<'_, Any>, b: &Build) -> Result<bool, AppError> {
    let sql = format!("{UPDATE} WHERE source = $1 AND source_id = $2");
    let done = bind_fields!(sqlx::query(&sql), b)
        .bind(crate::now_ms())
        .execute(&mut **tx)
        .await
        .map_err(|e| internal("updating a build", e))?;
    if done.rows_affected() > 0 {
        return Ok(false);
    }
    bind_fields!(sqlx::query(INSERT), b)
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(None::<i64>)
        .bind(crate::now_ms())
        .execute(&mut **tx)
        .await
        .map_err(|e| internal("storing a build", e))?;
    Ok(true)
}

/// Outcomes (true: failed) of the latest finished builds matching `filter`, newest first.
async fn outcomes(
    pool: &AnyPool,
    filter: &str,
    binds: &[&str],
    before: i64,
    limit: usize,
) -> Result<Vec<bool>, sqlx::Error> {
    let sql = format!(
        "SELECT status FROM builds WHERE {filter} AND started_at < ${} AND status IN ('success', 'failure') ORDER BY started_at DESC LIMIT {limit}",
        binds.len() + 1
    );
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(*b);
    }
    let rows = q.bind(before).fetch_all(pool).await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map(|s| s == "failure"))
        .collect()
}

/// What came before a build, from the database (as `History` computes it in memory).
pub async fn prior(pool: &AnyPool, pre: &PreRun) -> Result<Prior, AppError> {
    let fail = |e| internal("reading a build's history", e);
    let branch = outcomes(
        pool,
        "pipeline = $1 AND branch = $2",
        &[&pre.pipeline, &pre.branch],
        pre.started_at,
        50,
    )
    .await
    .map_err(fail)?;
    let count = |w: &[bool]| (w.iter().filter(|f| **f).count() as u32, w.len() as u32);
    let author = match &pre.author {
        Some(a) => count(
            &outcomes(pool, "author = $1", &[a], pre.started_at, AUTHOR_WINDOW)
                .await
                .map_err(fail)?,
        ),
        None => (0, 0),
    };
    let pipeline = count(
        &outcomes(
            pool,
            "pipeline = $1",
            &[&pre.pipeline],
            pre.started_at,
            PIPELINE_WINDOW,
        )
        .await
        .map_err(fail)?,
    );
    let last: Option<i64> = sqlx::query("SELECT MAX(started_at) FROM builds WHERE pipeline = $1 AND branch = $2 AND started_at < $3")
        .bind(&pre.pipeline)
        .bind(&pre.branch)
        .bind(pre.started_at)
        .fetch_one(pool)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(fail)?;
    Ok(Prior {
        previous_failed: branch.first().copied(),
        red_streak: branch.iter().take_while(|f| **f).count() as u32,
        author,
        pipeline,
        since_last_s: last.map(|at| (pre.started_at - at) as f64 / 1000.0),
    })
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
    if let Some(cursor) = q.cursor {
        binds.push(cursor.to_string());
        sql.push_str(&format!(" AND id < CAST(${} AS BIGINT)", binds.len()));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let mut query = sqlx::query(&sql);
    for b in &binds {
        query = query.bind(b.as_str());
    }
    let rows = query
        .fetch_all(pool)
        .await
        .map_err(|e| internal("listing builds", e))?;
    let mut items = decode_all(&rows, "decoding builds")?;
    let next = (items.len() as i64 > limit).then(|| {
        items.truncate(limit as usize);
        items.last().map(|b| b.id)
    });
    Ok((items, next.flatten()))
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
    .map_err(|e| internal("reading builds", e))?;
    decode_all(&rows, "decoding builds")
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
    .map_err(|e| internal("scoring predictions", e))?;
    let mut triples = Vec::new();
    for r in &rows {
        let get = |c: &str| {
            r.try_get::<String, _>(c)
                .map_err(|e| internal("scoring predictions", e))
        };
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
