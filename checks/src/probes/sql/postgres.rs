//! PostgreSQL: the session's transaction, sampling, pgcrypto, the standby's
//! WAL receiver and replay lag.

use gcverify_scenarios::Database;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Connection, Executor, Row};

use super::session::{connect_timed_out, isolated, reason, schema_and_table, ReplicaState, SessionError, CONNECT_TIMEOUT};
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

/// bytea is read as is, any other type as its text form; `None`: no such column.
pub(super) async fn sample(conn: &mut PgConnection, table: &str, column: &str, limit: u32) -> Result<Option<Vec<Vec<u8>>>, sqlx::Error> {
    let (schema, name) = schema_and_table(table);
    let ty: Option<String> = sqlx::query_scalar(
        "SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = $2 \
         AND (($3::text IS NOT NULL AND table_schema = $3) OR ($3::text IS NULL AND table_schema = ANY(current_schemas(false)))) LIMIT 1",
    )
    .bind(name)
    .bind(column)
    .bind(schema)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(ty) = ty else { return Ok(None) };
    let (t, c) = (quote(table), quote(column));
    if ty == "bytea" {
        let sql = format!("SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT {limit}");
        sqlx::query_scalar::<_, Vec<u8>>(&sql).fetch_all(conn).await.map(Some)
    } else {
        let sql = format!("SELECT {c}::text FROM {t} WHERE {c} IS NOT NULL LIMIT {limit}");
        let rows: Vec<String> = sqlx::query_scalar(&sql).fetch_all(conn).await?;
        Ok(Some(rows.into_iter().map(String::into_bytes).collect()))
    }
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
    .fetch_one(conn)
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
