//! PostgreSQL: the session's transaction, sampling, pgcrypto, the standby's
//! WAL receiver and replay lag.

use gcverify_scenarios::Database;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Connection, Executor, Row};

use super::session::{
    connect_timed_out, isolated, reason, schema_and_table, Mode, ReadError, ReadInfo, ReplicaState, SessionError, TextColumn, BATCH_ROWS, CONNECT_TIMEOUT,
    PROGRESS_EVERY, SMALL_TABLE,
};
use crate::probes::secret::Secret;

pub(super) async fn open(db: &Database, password: Option<&Secret>) -> Result<PgConnection, SessionError> {
    let mut opts = PgConnectOptions::new_without_pgpass()
        .host(&db.host)
        .port(db.port.unwrap_or(5432))
        .username(&db.user)
        .database(&db.database)
        .application_name("gcverify")
        .ssl_mode(if db.tls { PgSslMode::VerifyFull } else { PgSslMode::Disable });
    if let Some(p) = password {
        opts = opts.password(p.expose());
    }
    if let Some(ca) = &db.ca_file {
        opts = opts.ssl_root_cert(ca);
    }
    let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&opts)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(SessionError(reason(db, &e))),
        Err(_) => return Err(connect_timed_out(db)),
    };
    let ms = db.statement_timeout_secs.saturating_mul(1000);
    // The timeout is an integer we format, never scenario text.
    let begin = format!("BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}");
    conn.execute(begin.as_str()).await.map_err(|e| SessionError(reason(db, &e)))?;
    Ok(conn)
}

/// `"schema"."table"` / `"column"`: identifiers the scenario validated as plain, quoted.
pub fn quote(ident: &str) -> String {
    ident.split('.').map(|p| format!("\"{}\"", p.replace('"', "\"\""))).collect::<Vec<_>>().join(".")
}

/// One row at most of `"schema"."table"`, in a savepoint so a refusal does not abort the transaction.
pub(super) async fn read_one(conn: &mut PgConnection, schema: &str, table: &str) -> Result<(), sqlx::Error> {
    conn.execute("SAVEPOINT gcverify_separation").await?;
    let sql = format!("SELECT 1 FROM {}.{} LIMIT 1", quote(schema), quote(table));
    let r = sqlx::query(&sql).fetch_optional(&mut *conn).await.map(drop);
    let _ = conn.execute("ROLLBACK TO SAVEPOINT gcverify_separation").await;
    r
}

/// The column's data type; `None`: no such column visible.
async fn column_type(conn: &mut PgConnection, table: &str, column: &str) -> Result<Option<String>, sqlx::Error> {
    let (schema, name) = schema_and_table(table);
    sqlx::query_scalar(
        "SELECT data_type::text FROM information_schema.columns WHERE table_name = $1 AND column_name = $2 \
         AND (($3::text IS NOT NULL AND table_schema = $3) OR ($3::text IS NULL AND table_schema = ANY(current_schemas(false)))) LIMIT 1",
    )
    .bind(name)
    .bind(column)
    .bind(schema)
    .fetch_optional(&mut *conn)
    .await
}

/// Rows in the table: `pg_class.reltuples` when the estimate says the table
/// is large, else `count(*)`; and its pages. `(rows, exact, pages)`.
async fn row_count(conn: &mut PgConnection, table: &str) -> Result<(u64, bool, u64), sqlx::Error> {
    let est: Option<(f64, i64)> = sqlx::query_as("SELECT reltuples::float8, relpages::int8 FROM pg_class WHERE oid = to_regclass($1)")
        .bind(quote(table))
        .fetch_optional(&mut *conn)
        .await?;
    let pages = est.map_or(1, |(_, p)| p.max(1) as u64);
    match est {
        // reltuples is −1 before the first VACUUM/ANALYZE (PostgreSQL 14+): counted instead.
        Some((rows, _)) if rows >= SMALL_TABLE as f64 => Ok((rows as u64, false, pages)),
        _ => {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quote(table))).fetch_one(&mut *conn).await?;
            Ok((n.max(0) as u64, true, pages))
        }
    }
}

/// bytea as stored, any other type as its UTF-8 text; `None`: no such column.
/// Sampled: `ORDER BY random()` over a counted small table, else the engine's
/// `TABLESAMPLE` (BERNOULLI: every row with probability p; SYSTEM above
/// 2,000,000 rows: at least 400 random pages), then a random `n` of what
/// it returned — never the first rows in physical order. All: a cursor
/// fetched in batches.
pub(super) async fn read(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
    mode: Mode,
    visit: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<Option<ReadInfo>, ReadError> {
    let Some(ty) = column_type(conn, table, column).await? else { return Ok(None) };
    let (t, c) = (quote(table), quote(column));
    let value = if ty == "bytea" { c.clone() } else { format!("convert_to({c}::text, 'UTF8')") };
    match mode {
        Mode::Sample(n) => {
            let (rows, exact, pages) = row_count(conn, table).await?;
            let (sql, method) = if rows <= SMALL_TABLE {
                (format!("SELECT {value} FROM {t} WHERE {c} IS NOT NULL ORDER BY random() LIMIT {n}"), "ORDER BY random()".to_string())
            } else {
                // Four times the sample in rows, so that NULLs leave enough; SYSTEM also ≥ 400 pages.
                let by_rows = (n as f64 * 4.0 / rows as f64) * 100.0;
                let (kind, pct) = if rows > 2_000_000 { ("SYSTEM", by_rows.max(400.0 / pages as f64 * 100.0)) } else { ("BERNOULLI", by_rows) };
                let pct = pct.clamp(0.0001, 100.0);
                (
                    format!("SELECT v FROM (SELECT {value} AS v FROM {t} TABLESAMPLE {kind}({pct:.6}) WHERE {c} IS NOT NULL) s ORDER BY random() LIMIT {n}"),
                    format!("TABLESAMPLE {kind}({pct:.4} %) then ORDER BY random()"),
                )
            };
            let values: Vec<Vec<u8>> = sqlx::query_scalar(&sql).fetch_all(&mut *conn).await?;
            for v in &values {
                visit(v);
            }
            Ok(Some(ReadInfo { rows, exact, read: values.len() as u64, method }))
        }
        Mode::All => {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}")).fetch_one(&mut *conn).await?;
            conn.execute(format!("DECLARE gcverify_all NO SCROLL CURSOR FOR SELECT {value} FROM {t} WHERE {c} IS NOT NULL").as_str()).await?;
            let mut read = 0u64;
            let fetch = format!("FETCH FORWARD {BATCH_ROWS} FROM gcverify_all");
            loop {
                // Each FETCH is its own statement: the statement timeout bounds a batch, not the table.
                let batch: Vec<Vec<u8>> = sqlx::query_scalar(&fetch).fetch_all(&mut *conn).await?;
                for v in &batch {
                    visit(v);
                }
                let before = read;
                read += batch.len() as u64;
                if read / PROGRESS_EVERY > before / PROGRESS_EVERY {
                    tracing::info!("{table}.{column}: {read} of {n} rows read");
                }
                if batch.len() < BATCH_ROWS as usize {
                    break;
                }
            }
            conn.execute("CLOSE gcverify_all").await?;
            Ok(Some(ReadInfo { rows: n.max(0) as u64, exact: true, read, method: format!("every row (cursor, batches of {BATCH_ROWS})") }))
        }
    }
}

/// Text-like columns of base tables in `schemas` (empty: the current schema).
pub(super) async fn text_columns(conn: &mut PgConnection, schemas: &[String]) -> Result<Vec<TextColumn>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE t.table_type = 'BASE TABLE' \
           AND c.table_schema = ANY(CASE WHEN cardinality($1::text[]) = 0 THEN ARRAY[current_schema()::text] ELSE $1::text[] END) \
           AND c.data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb') \
         ORDER BY 1, 2, c.ordinal_position",
    )
    .bind(schemas)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(schema, table, column)| TextColumn { schema, table, column }).collect())
}

/// The cluster's system identifier: a streaming replica shares its primary's.
pub(super) async fn identity(conn: &mut PgConnection) -> Result<String, sqlx::Error> {
    isolated(conn, "SELECT system_identifier::text FROM pg_control_system()").await
}

pub(super) async fn encryption_report(conn: &mut PgConnection) -> Vec<(String, Result<String, sqlx::Error>)> {
    let r = sqlx::query("SELECT extversion FROM pg_extension WHERE extname = 'pgcrypto'").fetch_optional(conn).await.map(|row| match row {
        Some(row) => format!("pgcrypto {} installed", row.try_get::<String, _>(0).unwrap_or_default()),
        None => "pgcrypto not installed (encryption, if any, is done by the application)".to_string(),
    });
    vec![("pgcrypto".to_string(), r)]
}

pub(super) async fn replica_state(conn: &mut PgConnection) -> Result<ReplicaState, sqlx::Error> {
    let row = sqlx::query(
        "SELECT pg_is_in_recovery(),
                (SELECT status FROM pg_stat_wal_receiver LIMIT 1),
                EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL),
                CASE WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
                     ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END",
    )
    .fetch_one(&mut *conn)
    .await?;
    let receiver: Option<String> = row.try_get(1).unwrap_or(None);
    let running: bool = row.try_get(2).unwrap_or(false);
    Ok(ReplicaState {
        standby: row.try_get(0).unwrap_or(false),
        receiving_ok: receiver.as_deref() == Some("streaming"),
        // PostgreSQL hides the receiver's state from roles without pg_read_all_stats.
        hidden: running && receiver.is_none(),
        receiving: receiver,
        lag_secs: row.try_get(3).unwrap_or(None),
        follows: identity(conn).await.map_err(|e| e.to_string()),
    })
}

/// The scenario's own query returning one integer.
pub(super) async fn count(conn: &mut PgConnection, query: &str) -> Result<i64, sqlx::Error> {
    isolated(conn, query).await
}

/// `query` (one timestamp) as seconds since the epoch.
pub(super) async fn epoch(conn: &mut PgConnection, query: &str) -> Result<Option<f64>, sqlx::Error> {
    isolated(conn, &format!("SELECT EXTRACT(EPOCH FROM ({query}))::float8")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_part_by_part() {
        assert_eq!(quote("residents"), "\"residents\"");
        assert_eq!(quote("juki.residents"), "\"juki\".\"residents\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
