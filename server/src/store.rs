//! The shapes every audited change and every list takes, written once: open a transaction, insert
//! and get the new id (a unique violation becomes a 409 with the caller's words), record the audit
//! entry and its event, commit, then wake the event bus.

use crate::audit::{record, NewAudit};
use crate::db::Backend;
use crate::error::Context as _;
use crate::error::{internal, removed_meanwhile, violation, Violation};
use crate::events::EventBus;
use app::error::AppError;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row, Transaction};

/// A write transaction, as [`begin_write`] on the pool's own backend: every caller writes, and
/// many read first (a name clash, the current row), which on SQLite must not start deferred.
pub async fn begin(pool: &AnyPool) -> Result<Transaction<'static, Any>, AppError> {
    begin_write(pool, Backend::of(pool)).await
}

/// A transaction that reads and then writes. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred one that read first fails at once with "database is locked"
/// when another writer committed in between, instead of waiting its turn.
pub async fn begin_write(
    pool: &AnyPool,
    backend: crate::db::Backend,
) -> Result<Transaction<'static, Any>, AppError> {
    match backend {
        crate::db::Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        crate::db::Backend::Postgres => pool.begin().await,
    }
    .context("starting a transaction")
}

/// [`begin_write`] on a connection the caller keeps (the alert writer's own).
pub async fn begin_write_on(
    conn: &mut AnyConnection,
    backend: crate::db::Backend,
) -> Result<Transaction<'_, Any>, AppError> {
    match backend {
        crate::db::Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
        crate::db::Backend::Postgres => conn.begin().await,
    }
    .context("starting a transaction")
}

/// A writer's own connection, kept from batch to batch (the alert and build writers'). SQLite
/// empties a connection's page cache whenever another connection has written since its last
/// transaction, and the pool hands out its idle connections in turn, so a batch on a pooled
/// connection read the table's pages from the file again (perf: page-cache refills and their
/// allocations). Closed after an error, in case the connection is what failed; the next batch
/// takes a fresh one.
pub struct WriterConnection {
    pool: AnyPool,
    held: Option<PoolConnection<Any>>,
}

impl WriterConnection {
    pub fn new(pool: AnyPool) -> WriterConnection {
        WriterConnection { pool, held: None }
    }

    /// Runs `work` on the kept connection, or on a new one from the pool (`what` names the work
    /// if none can be had); an error closes the connection.
    pub async fn run<T>(
        &mut self,
        what: &str,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        if self.held.is_none() {
            self.held = Some(self.pool.acquire().await.context(what)?);
        }
        let outcome = work(self.held.as_mut().expect("just connected")).await;
        if outcome.is_err() {
            if let Some(conn) = self.held.take() {
                let _ = conn.close().await;
            }
        }
        outcome
    }
}

/// Runs an `INSERT ... RETURNING id`; `what` names the operation in the log. A unique violation
/// is 409 with `conflict(constraint)` (the constraint's name on PostgreSQL, `None` on SQLite); a
/// foreign-key one is 409 too ([`removed_meanwhile`]).
pub async fn insert_id<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    tx: &mut Transaction<'_, Any>,
    what: &str,
    conflict: impl FnOnce(Option<&str>) -> String,
) -> Result<i64, AppError> {
    match query.fetch_one(&mut **tx).await {
        Ok(row) => row.try_get(0).context(what),
        Err(e) => Err(refused(what, e, conflict)),
    }
}

/// Runs a write that may break a unique constraint (a rename), answering as [`insert_id`] does.
pub async fn execute_unique<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    tx: &mut Transaction<'_, Any>,
    what: &str,
    conflict: impl FnOnce(Option<&str>) -> String,
) -> Result<u64, AppError> {
    match query.execute(&mut **tx).await {
        Ok(done) => Ok(done.rows_affected()),
        Err(e) => Err(refused(what, e, conflict)),
    }
}

fn refused(what: &str, e: sqlx::Error, conflict: impl FnOnce(Option<&str>) -> String) -> AppError {
    match violation(&e) {
        Some(Violation::Unique(constraint)) => AppError::conflict(conflict(constraint)),
        Some(Violation::ForeignKey) => removed_meanwhile(),
        None => internal(what, e),
    }
}

/// Records `entry` in the transaction, commits, and tells the bus there are new events.
pub async fn commit_audited(
    mut tx: Transaction<'_, Any>,
    bus: &EventBus,
    entry: NewAudit<'_>,
) -> Result<(), AppError> {
    let action = entry.action.to_string();
    record(&mut tx, entry)
        .await
        .with_context(|| format!("auditing {action}"))?;
    tx.commit()
        .await
        .with_context(|| format!("committing {action}"))?;
    bus.wake();
    Ok(())
}

/// Bind parameters per statement that batched writes aim for. sqlx's SQLite driver looks up each
/// numbered parameter's name (`$7`) with `sqlite3_bind_parameter_name`, itself a walk along the
/// statement's parameter list, so binding numbered parameters grows with the square of their
/// count: a 4,500-parameter statement took 27% of the CPU of alert ingestion (perf). The batched
/// statements therefore use anonymous `?` parameters on SQLite (see [`values_placeholders`]) and
/// stay around this size on both databases.
pub const PARAMS_PER_STATEMENT: usize = 256;

/// How many rows of `columns` values one batched statement should carry.
pub fn rows_per_statement(columns: usize) -> usize {
    (PARAMS_PER_STATEMENT / columns.max(1)).max(1)
}

/// `($1, $2), ($3, $4), ...` (PostgreSQL) or `(?, ?), (?, ?), ...` (SQLite, where anonymous
/// parameters bind in linear time) for a multi-row `VALUES` of `rows` rows of `columns` values
/// each, bound in row order. The statement must have no other parameters.
pub fn values_placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(backend, r * columns, columns)))
        .collect::<Vec<_>>()
        .join(",")
}

/// `count` parameters separated by commas, numbered from `after + 1` on PostgreSQL.
pub fn placeholders(backend: Backend, after: usize, count: usize) -> String {
    let cells: Vec<String> = (after + 1..=after + count)
        .map(|n| match backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${n}"),
        })
        .collect();
    cells.join(", ")
}

/// Runs a parameterless query and decodes every row.
pub async fn list<T>(
    pool: &AnyPool,
    sql: &'static str,
    decode: fn(&AnyRow) -> Result<T, sqlx::Error>,
    what: &str,
) -> Result<Vec<T>, AppError> {
    let rows = sqlx::query(sql).fetch_all(pool).await.context(what)?;
    rows.iter()
        .map(decode)
        .collect::<Result<_, _>>()
        .context(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(
            values_placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3),($4, $5, $6)"
        );
        assert_eq!(values_placeholders(Backend::Sqlite, 2, 2), "(?, ?),(?, ?)");
        assert_eq!(placeholders(Backend::Postgres, 3, 2), "$4, $5");
    }
}
