//! A read-only session on the system's database: connection from the
//! scenario's `[database]` (password from the environment variable or the
//! Secrets Manager secret it names), TLS verified unless the scenario says
//! `tls = false`, a `READ ONLY` transaction and a statement timeout. Nothing
//! here can write. What differs between engines lives in `postgres` and
//! `mysql`; this module picks one and keeps the judgements engine-free.

use std::time::Duration;

use gcverify_scenarios::Database;
use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;

use super::{mysql, postgres};
use crate::aws::AwsContext;
use crate::probes::secret::{self, Secret};

/// Why a session could not be had, in words a person can act on (never a credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionError(pub String);

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long connecting may take before the check gives up.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The engine's default port.
pub fn default_port(db: &Database) -> u16 {
    match db.engine.get_ref().as_str() {
        "mysql" | "mariadb" => 3306,
        _ => 5432,
    }
}

/// `host:port/database`, for evidence (no user, no password).
pub fn target(db: &Database) -> String {
    format!("{}:{}/{}", db.host, db.port.unwrap_or_else(|| default_port(db)), db.database)
}

/// The password from `password_env` or `secret_arn` (its `password` key); none
/// when neither is set (trust or certificate authentication).
async fn password(db: &Database, aws: &AwsContext) -> Result<Option<Secret>, String> {
    let found = secret::resolve(aws, db.password_env.as_deref(), db.secret_arn.as_deref(), "password", "[database] password_env").await?;
    match (&found, &db.secret_arn) {
        (None, Some(arn)) => Err(format!("secret {arn} has no `password` key / the secret holds no password")),
        _ => Ok(found),
    }
}

/// A connection of one of the engines read today.
pub enum Conn {
    Postgres(PgConnection),
    /// MySQL or MariaDB; `mariadb` as the server reports itself.
    MySql {
        conn: MySqlConnection,
        mariadb: bool,
    },
}

/// An open read-only session.
pub struct Session {
    conn: Conn,
    db: Database,
}

/// How much of a column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A random sample of at most this many non-null values, drawn across the whole table.
    Sample(u32),
    /// Every row, in batches of [`BATCH_ROWS`] (`sample = "all"`).
    All,
}

/// Rows fetched per batch when every row is read (memory stays flat).
pub const BATCH_ROWS: u32 = 10_000;
/// Rows read between two progress lines when every row is read.
pub const PROGRESS_EVERY: u64 = 500_000;
/// Up to this many rows (by the engine's estimate) the table is counted
/// exactly and sampled with `ORDER BY random()`; above, sampled by the engine.
pub const SMALL_TABLE: u64 = 100_000;

/// How a column's values were read, for the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadInfo {
    /// Rows in the table.
    pub rows: u64,
    /// `rows` was counted (`count(*)`), not the engine's estimate.
    pub exact: bool,
    /// Non-null values visited.
    pub read: u64,
    /// How they were chosen (`ORDER BY random()`, `TABLESAMPLE SYSTEM(0.03)`, every row …).
    pub method: String,
}

impl ReadInfo {
    /// `400 of 20000 rows (exact count), 2.000 % of the table, by ORDER BY random()`.
    pub fn describe(&self) -> String {
        let count = if self.exact { "exact count" } else { "engine's estimate" };
        let pct = if self.rows == 0 { 100.0 } else { self.read as f64 * 100.0 / self.rows as f64 };
        format!("{} of {} rows ({count}), {pct:.3} % of the table, by {}", self.read, self.rows, self.method)
    }

    /// [`Self::describe`] in Japanese.
    pub fn describe_ja(&self) -> String {
        let count = if self.exact { "実数" } else { "エンジンの推定値" };
        let pct = if self.rows == 0 { 100.0 } else { self.read as f64 * 100.0 / self.rows as f64 };
        format!("{} 行中 {} 行（{count}）、表の {pct:.3} %、方法 {}", self.rows, self.read, self.method)
    }

    /// Both.
    pub fn describe_msg(&self) -> crate::model::Msg {
        crate::model::Msg::new(self.describe_ja(), self.describe())
    }
}

/// Why a read failed: the server's answer, or a read this engine cannot do as asked.
pub enum ReadError {
    Db(sqlx::Error),
    Unsupported(String),
}

impl From<sqlx::Error> for ReadError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

/// A text-like column of a base table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumn {
    pub schema: String,
    pub table: String,
    pub column: String,
}

/// What a synchronised site says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaState {
    /// A standby / a replica at all.
    pub standby: bool,
    /// Receiving from the primary, in the engine's words (`streaming`; `Yes/Yes`); `None`: not running.
    pub receiving: Option<String>,
    pub receiving_ok: bool,
    /// The state exists but this role may not read it.
    pub hidden: bool,
    /// Seconds behind the primary (`None`: nothing replayed yet / unknown).
    pub lag_secs: Option<f64>,
    /// The primary it replicates, as [`Session::identity`] reads it there
    /// (PostgreSQL: the system identifier it shares; MySQL/MariaDB: `Master_Server_Id`);
    /// `Err`: could not be read, and why.
    pub follows: Result<String, String>,
}

impl Session {
    /// Connect and open the read-only transaction with its statement timeout.
    pub async fn open(db: &Database, aws: &AwsContext) -> Result<Self, SessionError> {
        let engine = db.engine.get_ref().as_str();
        if !matches!(engine, "postgres" | "mysql" | "mariadb") {
            return Err(SessionError(format!(
                "データベースエンジン {engine} は未対応（postgres / mysql / mariadb） / engine {engine} not supported yet (postgres, mysql, mariadb)"
            )));
        }
        let password = password(db, aws).await.map_err(SessionError)?;
        let conn = match engine {
            "postgres" => Conn::Postgres(postgres::open(db, password.as_ref()).await?),
            _ => {
                let (conn, mariadb) = mysql::open(db, password.as_ref()).await?;
                Conn::MySql { conn, mariadb }
            }
        };
        Ok(Self { conn, db: db.clone() })
    }

    /// A driver error as a reason naming the database (never a credential).
    pub fn reason(&self, e: &sqlx::Error) -> String {
        reason(&self.db, e)
    }

    /// `engine:host:port/database`, the evidence source.
    pub fn source(&self) -> String {
        format!("{}:{}", self.db.engine.get_ref(), target(&self.db))
    }

    /// Visit the non-null values of a column, as bytes (binary types as
    /// stored, others as their UTF-8 text): a random sample across the whole
    /// table, or every row in batches. Returns how the values were read.
    pub async fn read(&mut self, table: &str, column: &str, mode: Mode, visit: &mut (dyn FnMut(&[u8]) + Send)) -> Result<ReadInfo, String> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => postgres::read(c, table, column, mode, visit).await,
            Conn::MySql { conn, .. } => mysql::read(conn, table, column, mode, visit).await,
        };
        match r {
            Ok(Some(v)) => Ok(v),
            Ok(None) => {
                Err(format!("列 {table}.{column} が見つからない（または参照権限がない） / column {table}.{column} not found (or not visible to this user)"))
            }
            Err(ReadError::Db(e)) => Err(self.reason(&e)),
            Err(ReadError::Unsupported(why)) => Err(why),
        }
    }

    /// The text-like columns (text, varchar, char, bytea/blob, json) of the
    /// base tables in `schemas` (none: the default schema) this user can see.
    pub async fn text_columns(&mut self, schemas: &[String]) -> Result<Vec<TextColumn>, String> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => postgres::text_columns(c, schemas).await,
            Conn::MySql { conn, .. } => mysql::text_columns(conn, schemas).await,
        };
        r.map_err(|e| self.reason(&e))
    }

    /// The schema an unqualified table name means (PostgreSQL `current_schema()`, MySQL `DATABASE()`).
    pub async fn default_schema(&mut self) -> Result<String, String> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => sqlx::query_scalar::<_, Option<String>>("SELECT current_schema()::text").fetch_one(c).await,
            Conn::MySql { conn, .. } => sqlx::query_scalar::<_, Option<String>>("SELECT CAST(DATABASE() AS CHAR)").fetch_one(conn).await,
        };
        match r {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err("no default schema / database selected".to_string()),
            Err(e) => Err(self.reason(&e)),
        }
    }

    /// Which database cluster this is, as its replicas report the primary they
    /// follow: PostgreSQL's system identifier, MySQL/MariaDB's `@@server_id`.
    pub async fn identity(&mut self) -> Result<String, String> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => postgres::identity(c).await,
            Conn::MySql { conn, .. } => mysql::identity(conn).await,
        };
        r.map_err(|e| self.reason(&e))
    }

    /// What the engine itself reports about encryption of the declared tables
    /// (pgcrypto installed; InnoDB table encryption): `(subject, text)`.
    pub async fn encryption_report(&mut self, tables: &[&str]) -> Vec<(String, Result<String, String>)> {
        let out = match &mut self.conn {
            Conn::Postgres(c) => postgres::encryption_report(c).await,
            Conn::MySql { conn, .. } => mysql::encryption_report(conn, tables).await,
        };
        out.into_iter().map(|(s, r)| (s, r.map_err(|e| reason(&self.db, &e)))).collect()
    }

    /// The replication state, read on a replica.
    pub async fn replica_state(&mut self) -> Result<ReplicaState, String> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => postgres::replica_state(c).await,
            Conn::MySql { conn, .. } => mysql::replica_state(conn).await,
        };
        r.map_err(|e| self.reason(&e))
    }

    /// The scenario's own query (one integer), isolated so that a failure
    /// does not abort the next one.
    pub async fn count(&mut self, query: &str) -> Result<i64, String> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => postgres::count(c, query).await,
            Conn::MySql { conn, .. } => mysql::count(conn, query).await,
        };
        r.map_err(|e| self.reason(&e))
    }

    /// The scenario's own query returning one timestamp, as UTC (`None`: NULL, no rows).
    pub async fn newest(&mut self, query: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => postgres::epoch(c, query).await,
            Conn::MySql { conn, .. } => mysql::epoch(conn, query).await,
        };
        let secs = r.map_err(|e| self.reason(&e))?;
        Ok(secs.and_then(|s| chrono::DateTime::from_timestamp_millis((s * 1000.0) as i64)))
    }

    /// `SELECT 1 FROM schema.table LIMIT 1` inside a savepoint (a refusal leaves
    /// the READ ONLY transaction usable): `Ok` when the read ran (rows or none),
    /// else whether the server refused it for lack of privilege, with the reason.
    pub async fn try_read(&mut self, schema: &str, table: &str) -> Result<(), ReadRefused> {
        let r = match &mut self.conn {
            Conn::Postgres(c) => postgres::read_one(c, schema, table).await,
            Conn::MySql { conn, .. } => mysql::read_one(conn, schema, table).await,
        };
        r.map_err(|e| ReadRefused { permission: is_permission_error(&e), code: error_code(&e), reason: self.reason(&e) })
    }

    /// Run a statement as it is, inside the session (tests: a write must be refused).
    pub async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        use sqlx::Executor;
        match &mut self.conn {
            Conn::Postgres(c) => c.execute(sql).await.map(drop),
            Conn::MySql { conn, .. } => conn.execute(sql).await.map(drop),
        }
    }

    /// End the transaction (a rollback: nothing was written, nothing may be).
    pub async fn close(self) {
        use sqlx::{Connection, Executor};
        match self.conn {
            Conn::Postgres(mut c) => {
                let _ = c.execute("ROLLBACK").await;
                let _ = c.close().await;
            }
            Conn::MySql { mut conn, .. } => {
                let _ = conn.execute("ROLLBACK").await;
                let _ = conn.close().await;
            }
        }
    }
}

/// A read the server did not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRefused {
    /// Refused for lack of privilege (PostgreSQL 42501; MySQL/MariaDB 1142, 1143, 1044).
    pub permission: bool,
    /// SQLSTATE / server error number, when the server answered.
    pub code: Option<String>,
    pub reason: String,
}

/// The server refused the statement for lack of privilege: PostgreSQL SQLSTATE
/// 42501 (insufficient_privilege), MySQL/MariaDB 1142 (command denied for the
/// table), 1143 (for a column), 1044 (access denied to the database).
pub fn is_permission_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            if let Some(n) = mysql::error_number(d.as_ref()) {
                matches!(n, 1142 | 1143 | 1044)
            } else {
                d.code().as_deref() == Some("42501")
            }
        }
        _ => false,
    }
}

/// SQLSTATE (PostgreSQL) or error number (MySQL/MariaDB) of a server's answer.
fn error_code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => mysql::error_number(d.as_ref()).map(|n| n.to_string()).or_else(|| d.code().map(|c| c.into_owned())),
        _ => None,
    }
}

/// Turn a driver error into a reason; the driver's text never carries the password.
pub(super) fn reason(db: &Database, e: &sqlx::Error) -> String {
    let what = match e {
        sqlx::Error::Io(io) => format!("接続できない / cannot connect: {io}"),
        sqlx::Error::Tls(t) => format!("TLS 接続に失敗 / TLS failed: {t}"),
        sqlx::Error::Database(d) => {
            let kind = match (d.code().as_deref(), mysql::error_number(d.as_ref())) {
                (Some("28P01" | "28000"), _) | (_, Some(1045)) => Some("認証に失敗 / authentication failed"),
                (Some("57014"), _) | (_, Some(1969 | 3024)) => Some("文タイムアウト / statement timed out"),
                (Some("42501"), _) | (_, Some(1142 | 1143 | 1227 | 1044)) => Some("権限不足 / permission denied"),
                (Some("3D000"), _) | (_, Some(1049)) => Some("データベースがない / no such database"),
                _ => None,
            };
            match (kind, d.code()) {
                (Some(k), _) => format!("{k}: {}", d.message()),
                (None, Some(code)) => format!("{} (SQLSTATE {code})", d.message()),
                (None, None) => d.message().to_string(),
            }
        }
        sqlx::Error::PoolTimedOut => "接続タイムアウト / connection timed out".to_string(),
        other => other.to_string(),
    };
    format!("{} ({}): {what}", db.engine.get_ref(), target(db))
}

/// The error when connecting took longer than [`CONNECT_TIMEOUT`].
pub(super) fn connect_timed_out(db: &Database) -> SessionError {
    SessionError(format!("{} ({}): 接続タイムアウト / connection timed out after {} s", db.engine.get_ref(), target(db), CONNECT_TIMEOUT.as_secs()))
}

/// One value of the scenario's own query, inside a savepoint so that a
/// failed query leaves the READ ONLY transaction usable for the next one.
pub(super) async fn isolated<DB, C, T>(conn: &mut C, sql: &str) -> Result<T, sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut C: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    T: Send + Unpin,
    (T,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    use sqlx::Executor;
    (&mut *conn).execute("SAVEPOINT gcverify_process").await?;
    let value = sqlx::query_scalar::<DB, T>(sql).fetch_one(&mut *conn).await;
    let _ = (&mut *conn).execute("ROLLBACK TO SAVEPOINT gcverify_process").await;
    value
}

/// `table` or `schema.table` split.
pub(super) fn schema_and_table(table: &str) -> (Option<&str>, &str) {
    match table.split_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, table),
    }
}
