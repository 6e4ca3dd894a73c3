//! Back-filled history written as a set: many new builds in one `INSERT`, many updates in one
//! `UPDATE`. The rows travel as one JSON parameter that the database unpacks (`json_each` on
//! SQLite, `json_to_recordset` on PostgreSQL), as the alert writer's repeats do. An import of
//! 100,000 builds took 14–16 s with a statement per build and takes 4–6 s so (`docs/benchmarks.md`).
//!
//! The live writer does not use these: tried for its batches (of a few dozen builds), they were
//! 5–10 % slower, its SQLite thread busier with unpacking JSON. On SQLite it numbers its new
//! builds and inserts them a few rows per statement of plain parameters (`writer::Unwritten`).

use crate::db::Backend;
use crate::error::Context as _;
use app::builds::Build;
use app::error::AppError;
use serde::Serialize;
use sqlx::{Any, Transaction};
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

/// One row of the JSON parameter; the names are the columns'.
#[derive(Serialize)]
struct JsonRow<'a> {
    /// Its place in the slice: the insert stores rows in this order, so ids follow the import's.
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
}

impl<'a> JsonRow<'a> {
    fn new(n: usize, b: &'a Build) -> Self {
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
        }
    }
}

/// The rows of the JSON parameter `$2` as a table `v` with `columns`. (Two parameters, so
/// numbered ones on both databases: binding many is what `store::placeholders` avoids.)
fn rows_from_json(backend: Backend, columns: &[(&str, &str)]) -> String {
    match backend {
        Backend::Sqlite => {
            let cells: Vec<String> = columns
                .iter()
                .map(|(c, _)| format!("value->>'{c}' AS {c}"))
                .collect();
            format!("(SELECT {} FROM json_each($2)) AS v", cells.join(", "))
        }
        Backend::Postgres => {
            let cells: Vec<String> = columns.iter().map(|(c, t)| format!("{c} {t}")).collect();
            format!("json_to_recordset($2::json) AS v({})", cells.join(", "))
        }
    }
}

fn insert_sql(backend: Backend) -> &'static str {
    static SQL: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    SQL[backend as usize].get_or_init(|| {
        let names: Vec<&str> = FIELDS.iter().map(|(c, _)| *c).collect();
        let values: Vec<String> = names.iter().map(|c| format!("v.{c}")).collect();
        let mut columns = vec![("n", "BIGINT")];
        columns.extend(&FIELDS);
        format!(
            "INSERT INTO builds ({}, created_at, updated_at) SELECT {}, $1, $1 FROM {} ORDER BY v.n",
            names.join(", "),
            values.join(", "),
            rows_from_json(backend, &columns)
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
            "UPDATE builds SET {}, updated_at = $1 FROM {} WHERE builds.id = v.id",
            set.join(", "),
            rows_from_json(backend, &columns)
        )
    })
}

/// Inserts `builds` (new, with source ids unique among them) in their order, so their ids
/// follow it, without predictions: there was nobody to predict for.
pub async fn insert_all(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    builds: &[Build],
) -> Result<(), AppError> {
    write(tx, insert_sql(backend), builds, "storing builds").await
}

/// Writes each of `builds` over the stored build with its id (ids unique among them).
pub async fn update_all(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    builds: &[Build],
) -> Result<(), AppError> {
    write(tx, update_sql(backend), builds, "updating builds").await
}

/// Runs `sql` on `builds`, a slice of rows at a time.
async fn write(
    tx: &mut Transaction<'_, Any>,
    sql: &str,
    builds: &[Build],
    what: &str,
) -> Result<(), AppError> {
    for slice in builds.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<JsonRow> = slice
            .iter()
            .enumerate()
            .map(|(n, b)| JsonRow::new(n, b))
            .collect();
        let rows = serde_json::to_string(&rows).context(what)?;
        sqlx::query(sql)
            .bind(crate::now_ms())
            .bind(rows)
            .execute(&mut **tx)
            .await
            .context(what)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statements name the columns from `FIELDS`; the rows carry the struct's fields. A
    /// column added to one and not the other would be written as NULL.
    #[test]
    fn a_row_carries_exactly_the_columns_the_statements_read() {
        let body = serde_json::json!({"pipeline": "acme/shop/ci", "branch": "main",
            "commit": "0123abcd", "started_at": "2026-12-01T00:00:00Z"});
        let build = super::super::input::read(&body, "api", String::new).unwrap();
        let row = serde_json::to_value(JsonRow::new(0, &build)).unwrap();
        let carried: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut read: Vec<&str> = ["n", "id"].into();
        read.extend(FIELDS.iter().map(|(c, _)| *c));
        let sorted = |mut v: Vec<&str>| {
            v.sort_unstable();
            v.into_iter().map(String::from).collect::<Vec<_>>()
        };
        assert_eq!(sorted(carried), sorted(read));
    }
}
