//! Storage: one `AnyPool` for Flightdeck's own tables (portable SQL, `$n` placeholders, times as
//! Unix milliseconds) plus the typed pool the session store needs. SQLite is the embedded default
//! (WAL, foreign keys on); PostgreSQL is chosen by a `postgres://` URL. Migrations are embedded, one
//! folder per backend because their DDL differs, and run before anything is served: a failed
//! migration stops the process.

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// SQLite migrations that shipped under another number: (old, new, description). The SQLite
/// `0008` (`slo_counts_clustered`) shared its number with PostgreSQL's `0008` (`event_notify`),
/// two different changes under one version; it is `0020` now, so a version means one migration
/// on both backends. A database that applied it as 8 is told its new number before migrating:
/// the SQL, and so the checksum sqlx verifies, is the same.
const RENUMBERED_SQLITE: [(i64, i64, &str); 1] = [(8, 20, "slo counts clustered")];

async fn renumber_sqlite_migrations(pool: &sqlx::AnyPool) -> Result<(), sqlx::Error> {
    let migrated: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await?;
    if migrated.is_none() {
        return Ok(());
    }
    for (old, new, description) in RENUMBERED_SQLITE {
        sqlx::query(
            "UPDATE _sqlx_migrations SET version = $1 WHERE version = $2 AND description = $3",
        )
        .bind(new)
        .bind(old)
        .bind(description)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// How many pages the WAL may hold before the committing connection copies them back into the
/// database file (SQLite's default is 1,000). A checkpoint copies each page once however often it
/// changed, and busy tables change the same pages again and again: alerts resent by Prometheus
/// touched ~120 of the same ~300 pages per commit, so at 1,000 the alert writer checkpointed every
/// ninth commit; at 10,000 (40 MB of WAL) a tenth as often, and its commit went from 430 to 360 µs
/// (health_bench). Reads are unaffected: they find a page's newest copy through the WAL index.
const WAL_AUTOCHECKPOINT_PAGES: &str = "10000";

/// The Any driver takes no SQLite options, so its connections get these at connect time.
fn sqlite_pragmas() -> String {
    format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
         PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Which database `pool` talks to, from its URL.
    pub fn of(pool: &sqlx::AnyPool) -> Backend {
        if pool
            .connect_options()
            .database_url
            .scheme()
            .starts_with("postgres")
        {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The pool the session store uses; it needs the concrete driver.
#[derive(Debug, Clone)]
pub enum TypedPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub typed: TypedPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database migration failed, nothing was served: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("session store set-up failed: {0}")]
    Sessions(sqlx::Error),
}

/// `sqlite://data/flightdeck.db` -> `data/flightdeck.db`; `None` for in-memory databases.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let db = match backend {
            Backend::Sqlite => {
                if let Some(path) = sqlite_file(url) {
                    if let Some(dir) = std::path::Path::new(path)
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                    {
                        std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir {
                            path: dir.display().to_string(),
                            source,
                        })?;
                    }
                }
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(DbError::Connect)?
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES);
                // The typed pool opens first so the file exists, in WAL mode, before the Any pool.
                // No ping before handing out a connection: a SQLite connection is a file on
                // this machine, and the ping's round trip to the connection's thread was 5 % of
                // a page's time (perf, the dashboard under wrk). A broken one fails its query.
                let typed = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(4)
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await
                    .map_err(DbError::Connect)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(sqlite_pragmas().as_str()).await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                Db {
                    pool,
                    typed: TypedPool::Sqlite(typed),
                    backend,
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                let typed = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                Db {
                    pool,
                    typed: TypedPool::Postgres(typed),
                    backend,
                }
            }
        };
        match db.backend {
            Backend::Sqlite => {
                renumber_sqlite_migrations(&db.pool)
                    .await
                    .map_err(|e| DbError::Migrate(e.into()))?;
                SQLITE_MIGRATIONS.run(&db.pool).await?
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&db.pool).await?,
        }
        Ok(db)
    }

    /// Cheap liveness probe for `/api/health`.
    pub async fn ping(&self) -> Result<Duration, sqlx::Error> {
        let start = std::time::Instant::now();
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(start.elapsed())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        match &self.typed {
            TypedPool::Sqlite(p) => p.close().await,
            TypedPool::Postgres(p) => p.close().await,
        }
    }
}

/// Reads a boolean column on either backend: PostgreSQL returns BOOLEAN, while SQLite stores 0/1
/// and the Any driver reports it as an integer.
pub fn get_bool(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<bool, _>(column)
        .or_else(|_| row.try_get::<i64, _>(column).map(|v| v != 0))
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/flightdeck.db"),
            Some("data/flightdeck.db")
        );
        assert_eq!(sqlite_file("sqlite:/tmp/x.db?mode=rwc"), Some("/tmp/x.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
