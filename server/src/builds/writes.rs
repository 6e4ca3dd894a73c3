//! The statements that write a build: the insert (returning its id), the writer's numbered
//! inserts on SQLite, and the update of a build delivered again. Reads are in `queries`.

use crate::error::Context as _;
use app::builds::Build;
use app::error::AppError;
use sqlx::{Any, AnyConnection, Row, Transaction};

/// Binds the columns every write sets, as $1..$21 in `queries::COLUMNS` order after `id`. Real numbers
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

/// The columns of a new build but its id, in the order [`bind_new`] binds them (a macro, so
/// both inserts below are built from the one list).
macro_rules! new_columns {
    () => {
        "source, source_id, pipeline, repo, workflow, branch, commit_sha, author, trigger_kind, message, \
        files_changed, lines_added, lines_deleted, started_at, finished_at, duration_s, status, tests_total, tests_failed, coverage, url, \
        predicted_failure, predicted_outcome, baseline_outcome, model_version, created_at, updated_at"
    };
}
const NEW_COLUMNS: usize = 27;

const INSERT: &str = concat!(
    "INSERT INTO builds (",
    new_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, CAST($16 AS DOUBLE PRECISION), \
    $17, $18, $19, CAST($20 AS DOUBLE PRECISION), $21, CAST($22 AS DOUBLE PRECISION), $23, $24, $25, $26, $27) RETURNING id"
);

/// Binds a new build's columns ([`new_columns`]): its fields, the prediction made for it, and `now`
/// as both its times.
macro_rules! bind_new {
    ($q:expr, $b:expr, $predicted:expr, $baseline:expr, $now:expr) => {
        bind_fields!($q, $b)
            .bind($b.predicted_failure.map(|v| v.to_string()))
            .bind($predicted)
            .bind($baseline)
            .bind($b.model_version)
            .bind($now)
            .bind($now)
    };
}

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
    let q = bind_new!(sqlx::query(INSERT), b, predicted, baseline, crate::now_ms());
    q.fetch_one(&mut **tx)
        .await
        .and_then(|r| r.try_get(0))
        .context("storing a build")
}

/// A new build numbered by the writer, with what was predicted for it.
pub struct Numbered {
    pub build: Build,
    pub predicted: String,
    pub baseline: &'static str,
}

/// The id the next build inserted gets (SQLite, inside a write transaction, which no other
/// connection can insert during): past the largest ever given (`AUTOINCREMENT` never reuses one).
pub async fn next_build_id(conn: &mut AnyConnection) -> Result<i64, AppError> {
    sqlx::query_scalar(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'builds'), 0), \
        COALESCE((SELECT MAX(id) FROM builds), 0)) + 1",
    )
    .fetch_one(conn)
    .await
    .context("numbering builds")
}

/// Inserts `rows` with their ids, a few rows per statement (SQLite only): a batch of new builds
/// costs a statement per few builds instead of one each. The real numbers bound as text need no
/// `CAST` here: SQLite stores well-formed numeric text in a `REAL` column as a real.
pub async fn insert_numbered(conn: &mut AnyConnection, rows: &[Numbered]) -> Result<(), AppError> {
    use crate::store::{rows_per_statement, values_placeholders};
    let now = crate::now_ms();
    let columns = 1 + NEW_COLUMNS;
    for chunk in rows.chunks(rows_per_statement(columns)) {
        let sql = format!(
            "INSERT INTO builds (id, {}) VALUES {}",
            new_columns!(),
            values_placeholders(crate::db::Backend::Sqlite, chunk.len(), columns)
        );
        let mut q = sqlx::query(&sql);
        for row in chunk {
            let b = &row.build;
            q = bind_new!(q.bind(b.id), b, row.predicted.as_str(), row.baseline, now);
        }
        q.execute(&mut *conn).await.context("storing builds")?;
    }
    Ok(())
}

pub async fn update(tx: &mut Transaction<'_, Any>, b: &Build) -> Result<(), AppError> {
    let sql = format!("{UPDATE} WHERE id = $23");
    bind_fields!(sqlx::query(&sql), b)
        .bind(crate::now_ms())
        .bind(b.id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .context("updating a build")
}
