//! MySQL and MariaDB (RDS offers both): the session's transaction and
//! timeouts (MariaDB `max_statement_time`, MySQL `max_execution_time`),
//! sampling, InnoDB table encryption as the engine reports it, and the
//! replica's `SHOW REPLICA STATUS`.

use gcverify_scenarios::Database;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlRow, MySqlSslMode};
use sqlx::{Connection, Executor, Row};

use super::session::{
    connect_timed_out, isolated, reason, schema_and_table, Mode, ReadError, ReadInfo, ReplicaState, SessionError, TextColumn, BATCH_ROWS, CONNECT_TIMEOUT,
    PROGRESS_EVERY, SMALL_TABLE,
};
use crate::probes::secret::Secret;

/// The server's error number (1045 access denied …), when the error is MySQL's.
pub(super) fn error_number(e: &dyn sqlx::error::DatabaseError) -> Option<u16> {
    e.try_downcast_ref::<MySqlDatabaseError>().map(MySqlDatabaseError::number)
}

/// Connect, then a READ ONLY transaction with the statement and lock timeouts.
/// Returns whether the server is MariaDB.
pub(super) async fn open(db: &Database, password: Option<&Secret>) -> Result<(MySqlConnection, bool), SessionError> {
    let mut opts = MySqlConnectOptions::new()
        .host(&db.host)
        .port(db.port.unwrap_or(3306))
        .username(&db.user)
        .database(&db.database)
        .charset("utf8mb4")
        .ssl_mode(if db.tls { MySqlSslMode::VerifyIdentity } else { MySqlSslMode::Disabled });
    if let Some(p) = password {
        opts = opts.password(p.expose());
    }
    if let Some(ca) = &db.ca_file {
        opts = opts.ssl_ca(ca);
    }
    let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, MySqlConnection::connect_with(&opts)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(SessionError(reason(db, &e))),
        Err(_) => return Err(connect_timed_out(db)),
    };
    let fail = |e: sqlx::Error| SessionError(reason(db, &e));
    let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&mut conn).await.map_err(fail)?;
    let mariadb = version.contains("MariaDB");
    let secs = db.statement_timeout_secs.max(1);
    // Integers we format, never scenario text.
    let timeout = if mariadb { format!("SET SESSION max_statement_time = {secs}") } else { format!("SET SESSION max_execution_time = {}", secs * 1000) };
    for stmt in [timeout, format!("SET SESSION lock_wait_timeout = {secs}"), "START TRANSACTION READ ONLY".to_string()] {
        conn.execute(stmt.as_str()).await.map_err(fail)?;
    }
    Ok((conn, mariadb))
}

/// `` `schema`.`table` `` / `` `column` ``: identifiers the scenario validated as plain, quoted.
pub fn quote(ident: &str) -> String {
    ident.split('.').map(|p| format!("`{}`", p.replace('`', "``"))).collect::<Vec<_>>().join(".")
}

/// One row at most of `` `schema`.`table` `` (a refusal leaves the transaction usable).
pub(super) async fn read_one(conn: &mut MySqlConnection, schema: &str, table: &str) -> Result<(), sqlx::Error> {
    let sql = format!("SELECT 1 FROM {}.{} LIMIT 1", quote(schema), quote(table));
    sqlx::query(&sql).fetch_optional(&mut *conn).await.map(drop)
}

const BINARY_TYPES: &[&str] = &["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"];

/// Binary types are read as stored, any other as its UTF-8 text; `None`: no
/// such column. Sampled: `ORDER BY RAND()` over a counted small table, else
/// each row kept with probability p (`RAND() < p`, a full scan) and a random
/// `n` of those — never the first rows in physical order. All: keyset
/// pagination on a single-column integer primary key, in batches.
pub(super) async fn read(
    conn: &mut MySqlConnection,
    table: &str,
    column: &str,
    mode: Mode,
    visit: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<Option<ReadInfo>, ReadError> {
    let (schema, name) = schema_and_table(table);
    let ty: Option<String> = sqlx::query_scalar(
        "SELECT CAST(DATA_TYPE AS CHAR) FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND COLUMN_NAME = ? LIMIT 1",
    )
    .bind(schema)
    .bind(name)
    .bind(column)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(ty) = ty else { return Ok(None) };
    let (t, c) = (quote(table), quote(column));
    let value = if BINARY_TYPES.contains(&ty.to_ascii_lowercase().as_str()) { c.clone() } else { format!("CAST(CONVERT({c} USING utf8mb4) AS BINARY)") };
    match mode {
        Mode::Sample(n) => {
            let estimate: Option<Option<u64>> = sqlx::query_scalar(
                "SELECT CAST(TABLE_ROWS AS UNSIGNED) FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
            )
            .bind(schema)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
            let (rows, exact) = match estimate.flatten() {
                Some(e) if e >= SMALL_TABLE => (e, false),
                _ => {
                    let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(&mut *conn).await?;
                    (n.max(0) as u64, true)
                }
            };
            let (sql, method) = if rows <= SMALL_TABLE {
                (format!("SELECT {value} FROM {t} WHERE {c} IS NOT NULL ORDER BY RAND() LIMIT {n}"), "ORDER BY RAND()".to_string())
            } else {
                // Four times the sample in rows, so that NULLs leave enough.
                let p = (n as f64 * 4.0 / rows as f64).clamp(0.000001, 1.0);
                (
                    format!("SELECT v FROM (SELECT {value} AS v FROM {t} WHERE {c} IS NOT NULL AND RAND() < {p:.8}) s ORDER BY RAND() LIMIT {n}"),
                    format!("RAND() < {:.4} % over every row, then ORDER BY RAND()", p * 100.0),
                )
            };
            let values: Vec<Vec<u8>> = sqlx::query_scalar(&sql).fetch_all(&mut *conn).await?;
            for v in &values {
                visit(v);
            }
            Ok(Some(ReadInfo { rows, exact, read: values.len() as u64, method }))
        }
        Mode::All => {
            let keys: Vec<(String, String)> = sqlx::query_as(
                "SELECT CAST(k.COLUMN_NAME AS CHAR), CAST(c.DATA_TYPE AS CHAR) FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME \
                 WHERE k.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND k.TABLE_NAME = ? AND k.CONSTRAINT_NAME = 'PRIMARY'",
            )
            .bind(schema)
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
            let pk = match keys.as_slice() {
                [(k, ty)] if ["tinyint", "smallint", "mediumint", "int", "integer", "bigint"].contains(&ty.to_ascii_lowercase().as_str()) => quote(k),
                _ => {
                    return Err(ReadError::Unsupported(format!(
                        "sample = \"all\" は MySQL/MariaDB では単一列の整数主キーが必要（{table} にない） / sample = \"all\" on MySQL/MariaDB needs a single-column integer primary key, which {table} has not"
                    )))
                }
            };
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(&mut *conn).await?;
            let sql = format!("SELECT CAST({pk} AS SIGNED), {value} FROM {t} WHERE {pk} > ? AND {c} IS NOT NULL ORDER BY {pk} LIMIT {BATCH_ROWS}");
            let (mut after, mut read) = (i64::MIN, 0u64);
            loop {
                // One statement per batch: the statement timeout bounds a batch, not the table.
                let batch: Vec<(i64, Vec<u8>)> = sqlx::query_as(&sql).bind(after).fetch_all(&mut *conn).await?;
                for (_, v) in &batch {
                    visit(v);
                }
                let before = read;
                read += batch.len() as u64;
                if read / PROGRESS_EVERY > before / PROGRESS_EVERY {
                    tracing::info!("{table}.{column}: {read} of {n} rows read");
                }
                match batch.last() {
                    Some((k, _)) if batch.len() == BATCH_ROWS as usize => after = *k,
                    _ => break,
                }
            }
            Ok(Some(ReadInfo { rows: n.max(0) as u64, exact: true, read, method: format!("every row (primary-key ranges of {BATCH_ROWS})") }))
        }
    }
}

/// Text-like columns of base tables in `schemas` (empty: the current database).
pub(super) async fn text_columns(conn: &mut MySqlConnection, schemas: &[String]) -> Result<Vec<TextColumn>, sqlx::Error> {
    let within = if schemas.is_empty() { "= DATABASE()".to_string() } else { format!("IN ({})", vec!["?"; schemas.len()].join(", ")) };
    let sql = format!(
        "SELECT CAST(c.TABLE_SCHEMA AS CHAR), CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS c \
         JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
         WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA {within} \
           AND LOWER(c.DATA_TYPE) IN ('char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'binary', 'varbinary', \
                                     'tinyblob', 'blob', 'mediumblob', 'longblob', 'json') \
         ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION"
    );
    let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
    for s in schemas {
        q = q.bind(s);
    }
    let rows = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(schema, table, column)| TextColumn { schema, table, column }).collect())
}

/// `@@server_id`: what a replica reports as `Master_Server_Id`.
pub(super) async fn identity(conn: &mut MySqlConnection) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT CAST(@@server_id AS CHAR)").fetch_one(conn).await
}

/// The declared tables' encryption option (MariaDB `ENCRYPTED=YES`, MySQL `ENCRYPTION='Y'`).
pub(super) async fn encryption_report(conn: &mut MySqlConnection, tables: &[&str]) -> Vec<(String, Result<String, sqlx::Error>)> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for &table in tables {
        if seen.contains(&table) {
            continue;
        }
        seen.push(table);
        let (schema, name) = schema_and_table(table);
        let r = sqlx::query_scalar::<_, Option<String>>(
            "SELECT CAST(CREATE_OPTIONS AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
        )
        .bind(schema)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map(|o| match o.flatten().unwrap_or_default() {
            opts if opts.to_ascii_uppercase().contains("ENCRYPT") => format!("table encryption at rest set ({opts})"),
            _ => "no table encryption option (encryption, if any, is done by the application)".to_string(),
        });
        out.push((format!("{table} (engine)"), r));
    }
    out
}

/// `SHOW REPLICA STATUS` (MySQL 8.0.22+, MariaDB 10.5+), else `SHOW SLAVE STATUS`.
pub(super) async fn replica_state(conn: &mut MySqlConnection) -> Result<ReplicaState, sqlx::Error> {
    let rows = match sqlx::query("SHOW REPLICA STATUS").fetch_all(&mut *conn).await {
        Ok(r) => r,
        // 1064: a server older than the REPLICA spelling.
        Err(sqlx::Error::Database(d)) if error_number(d.as_ref()) == Some(1064) => sqlx::query("SHOW SLAVE STATUS").fetch_all(&mut *conn).await?,
        Err(e) => return Err(e),
    };
    let Some(row) = rows.first() else {
        return Ok(ReplicaState {
            standby: false,
            receiving: None,
            receiving_ok: false,
            hidden: false,
            lag_secs: None,
            follows: Err("not a replica / レプリカではない".to_string()),
        });
    };
    let io = text(row, &["Replica_IO_Running", "Slave_IO_Running"]);
    let sql = text(row, &["Replica_SQL_Running", "Slave_SQL_Running"]);
    let lag = text(row, &["Seconds_Behind_Source", "Seconds_Behind_Master"]).and_then(|s| s.parse::<f64>().ok());
    let ok = io.as_deref() == Some("Yes") && sql.as_deref() == Some("Yes");
    Ok(ReplicaState {
        standby: true,
        receiving: Some(format!("IO thread {}, SQL thread {}", io.as_deref().unwrap_or("?"), sql.as_deref().unwrap_or("?"))),
        receiving_ok: ok,
        hidden: false,
        lag_secs: if ok { lag } else { None },
        follows: text(row, &["Source_Server_Id", "Master_Server_Id"])
            .ok_or_else(|| "SHOW REPLICA STATUS gives no Master_Server_Id / 複製元のサーバIDが読めない".to_string()),
    })
}

/// A status column by the first of its names present, whatever its SQL type.
fn text(row: &MySqlRow, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        row.try_get::<Option<String>, _>(*n)
            .ok()
            .flatten()
            .or_else(|| row.try_get::<Option<Vec<u8>>, _>(*n).ok().flatten().map(|b| String::from_utf8_lossy(&b).into_owned()))
            .or_else(|| row.try_get::<Option<i64>, _>(*n).ok().flatten().map(|v| v.to_string()))
            .or_else(|| row.try_get::<Option<u64>, _>(*n).ok().flatten().map(|v| v.to_string()))
    })
}

/// The scenario's own query returning one integer.
pub(super) async fn count(conn: &mut MySqlConnection, query: &str) -> Result<i64, sqlx::Error> {
    isolated(conn, query).await
}

/// `query` (one DATETIME/TIMESTAMP) as seconds since the epoch (the session's time zone).
pub(super) async fn epoch(conn: &mut MySqlConnection, query: &str) -> Result<Option<f64>, sqlx::Error> {
    isolated(conn, &format!("SELECT CAST(UNIX_TIMESTAMP(({query})) AS DOUBLE)")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_backticks_part_by_part() {
        assert_eq!(quote("residents"), "`residents`");
        assert_eq!(quote("juki.residents"), "`juki`.`residents`");
        assert_eq!(quote("a`b"), "`a``b`");
    }
}
