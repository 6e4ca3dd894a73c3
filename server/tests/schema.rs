//! Schema drift: SQLite and PostgreSQL are built from two sets of migrations, so nothing but a
//! test keeps them alike. This one builds both and compares what the code relies on: tables,
//! columns, nullability, defaults, indexes (by name, with their columns) and unique keys. Column
//! types differ by design (INTEGER / BIGINT, REAL / DOUBLE PRECISION) and are not compared.

mod common;
use common::TestApp;
use sqlx::{AnyPool, Row};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, PartialEq)]
struct Schema {
    /// table -> column -> (not null, default)
    columns: BTreeMap<String, BTreeMap<String, (bool, Option<String>)>>,
    /// index name -> (table, columns)
    indexes: BTreeMap<String, (String, Vec<String>)>,
    /// (table, columns) of every unique key
    unique: BTreeSet<(String, Vec<String>)>,
}

/// Defaults written alike: no casts (`'x'::text`), booleans as 0 / 1, sequences (the
/// backends' autoincrement) left out.
fn default_value(raw: Option<String>) -> Option<String> {
    let raw = raw.filter(|d| !d.is_empty() && !d.starts_with("nextval("))?;
    let uncast = raw
        .split("::")
        .next()
        .unwrap_or(&raw)
        .trim_matches(|c| c == '(' || c == ')');
    Some(match uncast {
        "false" => "0".into(),
        "true" => "1".into(),
        other => other.to_string(),
    })
}

fn ours(table: &str) -> bool {
    !table.starts_with("_sqlx")
        && !table.starts_with("sqlite_")
        && !table.starts_with("tower_sessions")
}

async fn strings(pool: &AnyPool, sql: &str, bind: Option<&str>) -> Vec<Vec<Option<String>>> {
    let mut q = sqlx::query(sql);
    if let Some(b) = bind {
        q = q.bind(b.to_string());
    }
    q.fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                .collect()
        })
        .collect()
}

async fn sqlite_schema(pool: &AnyPool) -> Schema {
    let mut s = Schema::default();
    let tables = strings(
        pool,
        "SELECT name FROM sqlite_master WHERE type = 'table'",
        None,
    )
    .await;
    for t in tables
        .into_iter()
        .filter_map(|r| r[0].clone())
        .filter(|t| ours(t))
    {
        let cols = strings(
            pool,
            "SELECT name, CAST(\"notnull\" AS TEXT), dflt_value, CAST(pk AS TEXT) FROM pragma_table_info($1)",
            Some(&t),
        )
        .await;
        let columns = cols
            .into_iter()
            .map(|c| {
                // A primary key is never null, declared so or not.
                let not_null = c[1].as_deref() == Some("1") || c[3].as_deref() != Some("0");
                (
                    c[0].clone().unwrap(),
                    (not_null, default_value(c[2].clone())),
                )
            })
            .collect();
        s.columns.insert(t.clone(), columns);
        let indexes = strings(
            pool,
            "SELECT name, origin, CAST(\"unique\" AS TEXT) FROM pragma_index_list($1)",
            Some(&t),
        )
        .await;
        for i in indexes {
            let name = i[0].clone().unwrap();
            let cols: Vec<String> = strings(
                pool,
                "SELECT name FROM pragma_index_info($1) ORDER BY seqno",
                Some(&name),
            )
            .await
            .into_iter()
            .filter_map(|r| r[0].clone())
            .collect();
            match i[1].as_deref() {
                Some("c") => {
                    if i[2].as_deref() == Some("1") {
                        s.unique.insert((t.clone(), cols.clone()));
                    }
                    s.indexes.insert(name, (t.clone(), cols));
                }
                Some("u") => {
                    s.unique.insert((t.clone(), cols));
                }
                _ => {}
            }
        }
    }
    s
}

async fn postgres_schema(pool: &AnyPool) -> Schema {
    let mut s = Schema::default();
    let cols = strings(
        pool,
        "SELECT table_name::text, column_name::text, is_nullable::text, column_default::text FROM information_schema.columns \
         WHERE table_schema = 'public'",
        None,
    )
    .await;
    for c in cols {
        let table = c[0].clone().unwrap();
        if ours(&table) {
            s.columns.entry(table).or_default().insert(
                c[1].clone().unwrap(),
                (c[2].as_deref() == Some("NO"), default_value(c[3].clone())),
            );
        }
    }
    let indexes = strings(
        pool,
        "SELECT i.relname::text, t.relname::text, ix.indisunique::text, ix.indisprimary::text, \
            (SELECT string_agg(a.attname::text, ',' ORDER BY k.n) FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), \
            (SELECT c.contype::text FROM pg_constraint c WHERE c.conindid = i.oid LIMIT 1) \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'",
        None,
    )
    .await;
    for i in indexes {
        let (name, table) = (i[0].clone().unwrap(), i[1].clone().unwrap());
        let cols: Vec<String> = i[4]
            .clone()
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect();
        if !ours(&table) || i[3].as_deref() == Some("true") {
            continue;
        }
        let unique = i[2].as_deref() == Some("true");
        if unique {
            s.unique.insert((table.clone(), cols.clone()));
        }
        // A UNIQUE constraint's index is named by PostgreSQL; CREATE INDEX ones by us.
        if i[5].as_deref() != Some("u") {
            s.indexes.insert(name, (table, cols));
        }
    }
    s
}

#[tokio::test]
async fn sqlite_and_postgres_have_the_same_schema() {
    let Some(pg) = TestApp::postgres().await else {
        return;
    };
    let sqlite = TestApp::sqlite().await;
    let lite = sqlite_schema(&sqlite.state.db.pool).await;
    let post = postgres_schema(&pg.state.db.pool).await;
    assert!(lite.columns.len() > 30, "the schema was read: {lite:?}");
    assert!(
        lite.indexes.len() > 20,
        "the indexes were read: {:?}",
        lite.indexes
    );
    let tables = |s: &Schema| s.columns.keys().cloned().collect::<Vec<_>>();
    assert_eq!(tables(&lite), tables(&post), "tables");
    for (table, columns) in &lite.columns {
        assert_eq!(
            columns, &post.columns[table],
            "columns of {table} (SQLite left, PostgreSQL right)"
        );
    }
    assert_eq!(
        lite.indexes, post.indexes,
        "indexes (SQLite left, PostgreSQL right)"
    );
    assert_eq!(
        lite.unique, post.unique,
        "unique keys (SQLite left, PostgreSQL right)"
    );
}

/// A SQLite database made before the SQLite `0008` became `0020` (it applied that migration as
/// version 8) opens with the new code (sqlx refuses a database that applied a version it does not
/// know) and is on the new numbering afterwards.
#[tokio::test]
async fn a_sqlite_database_from_before_the_renumbering_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let versions = |db: &flightdeck::db::Db| {
        let pool = db.pool.clone();
        async move {
            sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<i64, _>(0))
                .collect::<Vec<i64>>()
        }
    };
    let db = flightdeck::db::Db::connect(&url).await.unwrap();
    let new = versions(&db).await;
    assert!(new.contains(&20) && !new.contains(&8), "{new:?}");
    // As the old numbering left it.
    sqlx::query("UPDATE _sqlx_migrations SET version = 8 WHERE version = 20")
        .execute(&db.pool)
        .await
        .unwrap();
    db.pool.close().await;

    let reopened = flightdeck::db::Db::connect(&url).await.unwrap();
    assert_eq!(versions(&reopened).await, new);
}
