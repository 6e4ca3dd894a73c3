//! Builds written as a set: many new builds in one `INSERT`, many updates in one `UPDATE`. The
//! rows travel as one JSON parameter that the database unpacks (`json_each` on SQLite,
//! `json_to_recordset` on PostgreSQL), as the alert writer's repeats do: on SQLite every statement
//! is a round trip to sqlx's database thread, and with a statement per build those round trips
//! were most of the builds writer's time (see the README's builds figures).

use crate::db::Backend;
use crate::error::Context as _;
use app::builds::Build;
use app::error::AppError;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use std::sync::OnceLock;

/// Rows per statement: a year of back-filled history goes in slices this size, so one JSON
/// parameter stays a few hundred kilobytes.
const ROWS_PER_STATEMENT: usize = 500;

/// The columns a write sets, with their PostgreSQL types (what `json_to_recordset` reads).
const FIELDS: [(&str, &str); 21] = [
    ("source", "TEXT"),
    ("source_id", "TEXT"),
    ("pipeline", "TEXT"),
    ("repo", "TEXT"),
    ("workflow", "TEXT"),
    ("branch", "TEXT"),
    ("commit_sha", "TEXT"),
    ("author", "TEXT"),
    ("trigger_kind", "TEXT"),
    ("message", "TEXT"),
    ("files_changed", "BIGINT"),
    ("lines_added", "BIGINT"),
    ("lines_deleted", "BIGINT"),
    ("started_at", "BIGINT"),
    ("finished_at", "BIGINT"),
    ("duration_s", "DOUBLE PRECISION"),
    ("status", "TEXT"),
    ("tests_total", "BIGINT"),
    ("tests_failed", "BIGINT"),
    ("coverage", "DOUBLE PRECISION"),
    ("url", "TEXT"),
];

/// The columns only an insert sets: the prediction made when the build arrived.
const PREDICTION: [(&str, &str); 4] = [
    ("predicted_failure", "DOUBLE PRECISION"),
    ("predicted_outcome", "TEXT"),
    ("baseline_outcome", "TEXT"),
    ("model_version", "BIGINT"),
];

/// A new build to insert, with what was predicted for it and what the last-build baseline said
/// (`None` for back-filled history: there was nobody to predict for).
pub struct NewRow<'a> {
    pub build: &'a Build,
    pub predicted: Option<&'a str>,
    pub baseline: Option<&'a str>,
}

/// One row of the JSON parameter; the names are the columns'.
#[derive(Serialize)]
struct JsonRow<'a> {
    /// Its place in the slice: the insert stores rows in this order, so ids follow arrival.
    n: usize,
    id: i64,
    source: &'a str,
    source_id: &'a str,
    pipeline: &'a str,
    repo: &'a str,
    workflow: &'a str,
    branch: &'a str,
    commit_sha: &'a str,
    author: Option<&'a str>,
    trigger_kind: &'a str,
    message: Option<&'a str>,
    files_changed: Option<i64>,
    lines_added: Option<i64>,
    lines_deleted: Option<i64>,
    started_at: i64,
    finished_at: Option<i64>,
    duration_s: Option<f64>,
    status: &'a str,
    tests_total: Option<i64>,
    tests_failed: Option<i64>,
    coverage: Option<f64>,
    url: Option<&'a str>,
    predicted_failure: Option<f64>,
    predicted_outcome: Option<&'a str>,
    baseline_outcome: Option<&'a str>,
    model_version: Option<i64>,
}

impl<'a> JsonRow<'a> {
    fn new(n: usize, b: &'a Build, predicted: Option<&'a str>, baseline: Option<&'a str>) -> Self {
        JsonRow {
            n,
            id: b.id,
            source: &b.source,
            source_id: &b.source_id,
            pipeline: &b.pipeline,
            repo: &b.repo,
            workflow: &b.workflow,
            branch: &b.branch,
            commit_sha: &b.commit,
            author: b.author.as_deref(),
            trigger_kind: b.trigger.as_str(),
            message: b.message.as_deref(),
            files_changed: b.files_changed,
            lines_added: b.lines_added,
            lines_deleted: b.lines_deleted,
            started_at: b.started_at,
            finished_at: b.finished_at,
            duration_s: b.duration_s,
            status: b.status.as_str(),
            tests_total: b.tests_total,
            tests_failed: b.tests_failed,
            coverage: b.coverage,
            url: b.url.as_deref(),
            predicted_failure: predicted.and(b.predicted_failure),
            predicted_outcome: predicted,
            baseline_outcome: baseline,
            model_version: predicted.and(b.model_version),
        }
    }
}

/// The rows of the JSON parameter `param` as a table `v` with `columns`.
fn rows_from_json(backend: Backend, param: &str, columns: &[(&str, &str)]) -> String {
    match backend {
        Backend::Sqlite => {
            let cells: Vec<String> = columns
                .iter()
                .map(|(c, _)| format!("value->>'{c}' AS {c}"))
                .collect();
            format!("(SELECT {} FROM json_each({param})) AS v", cells.join(", "))
        }
        Backend::Postgres => {
            let cells: Vec<String> = columns.iter().map(|(c, t)| format!("{c} {t}")).collect();
            format!(
                "json_to_recordset({param}::json) AS v({})",
                cells.join(", ")
            )
        }
    }
}

fn param(backend: Backend, n: u8) -> String {
    match backend {
        Backend::Sqlite => format!("?{n}"),
        Backend::Postgres => format!("${n}"),
    }
}

fn insert_sql(backend: Backend) -> &'static str {
    static SQL: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    SQL[backend as usize].get_or_init(|| {
        let written: Vec<(&str, &str)> = FIELDS.iter().chain(&PREDICTION).copied().collect();
        let names: Vec<&str> = written.iter().map(|(c, _)| *c).collect();
        let values: Vec<String> = names.iter().map(|c| format!("v.{c}")).collect();
        let mut columns = vec![("n", "BIGINT")];
        columns.extend(&written);
        let now = param(backend, 1);
        format!(
            "INSERT INTO builds ({}, created_at, updated_at) SELECT {}, {now}, {now} FROM {} \
             ORDER BY v.n RETURNING id, source, source_id",
            names.join(", "),
            values.join(", "),
            rows_from_json(backend, &param(backend, 2), &columns)
        )
    })
}

fn update_sql(backend: Backend) -> &'static str {
    static SQL: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    SQL[backend as usize].get_or_init(|| {
        let set: Vec<String> = FIELDS.iter().map(|(c, _)| format!("{c} = v.{c}")).collect();
        let mut columns = vec![("id", "BIGINT")];
        columns.extend(&FIELDS);
        format!(
            "UPDATE builds SET {}, updated_at = {} FROM {} WHERE builds.id = v.id",
            set.join(", "),
            param(backend, 1),
            rows_from_json(backend, &param(backend, 2), &columns)
        )
    })
}

/// Inserts `rows` in their order and returns their ids, in the same order.
pub async fn insert_all(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    rows: &[NewRow<'_>],
) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::with_capacity(rows.len());
    for slice in rows.chunks(ROWS_PER_STATEMENT) {
        let json: Vec<JsonRow> = slice
            .iter()
            .enumerate()
            .map(|(n, r)| JsonRow::new(n, r.build, r.predicted, r.baseline))
            .collect();
        let json = serde_json::to_string(&json).context("storing builds")?;
        let stored = sqlx::query(insert_sql(backend))
            .bind(crate::now_ms())
            .bind(json)
            .fetch_all(&mut **tx)
            .await
            .context("storing builds")?;
        // RETURNING promises no order: the rows are matched by their source ids, unique in the
        // table and so in the slice.
        let mut by_key = std::collections::HashMap::with_capacity(stored.len());
        for row in &stored {
            let id: i64 = row.try_get(0).context("storing builds")?;
            let source: String = row.try_get(1).context("storing builds")?;
            let source_id: String = row.try_get(2).context("storing builds")?;
            by_key.insert((source, source_id), id);
        }
        for r in slice {
            let key = (r.build.source.clone(), r.build.source_id.clone());
            let id = by_key.get(&key).copied().ok_or_else(|| {
                crate::error::internal("storing builds", "a build was not stored")
            })?;
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Writes each of `builds` over the stored build with its id (ids unique among them).
pub async fn update_all(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    builds: &[Build],
) -> Result<(), AppError> {
    for slice in builds.chunks(ROWS_PER_STATEMENT) {
        let json: Vec<JsonRow> = slice
            .iter()
            .enumerate()
            .map(|(n, b)| JsonRow::new(n, b, None, None))
            .collect();
        let json = serde_json::to_string(&json).context("updating builds")?;
        sqlx::query(update_sql(backend))
            .bind(crate::now_ms())
            .bind(json)
            .execute(&mut **tx)
            .await
            .context("updating builds")?;
    }
    Ok(())
}
