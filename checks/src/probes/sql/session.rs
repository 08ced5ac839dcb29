//! A read-only session on the system's database: connection from the
//! scenario's `[database]` (password from the environment variable it names),
//! TLS verified unless the scenario says `tls = false`, a `READ ONLY`
//! transaction and a statement timeout. Nothing here can write.

use std::time::Duration;

use gcverify_scenarios::Database;

use crate::aws::AwsContext;
use crate::probes::secret::{self, Secret};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Connection, Executor};

/// Why a session could not be had, in words a person can act on (never a credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionError(pub String);

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long connecting may take before the check gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `host:port/database`, for evidence (no user, no password).
pub fn target(db: &Database) -> String {
    format!("{}:{}/{}", db.host, db.port.unwrap_or(5432), db.database)
}

/// Turn a driver error into a reason; the driver's text never carries the password.
fn reason(db: &Database, e: &sqlx::Error) -> String {
    let what = match e {
        sqlx::Error::Io(io) => format!("接続できない / cannot connect: {io}"),
        sqlx::Error::Tls(t) => format!("TLS 接続に失敗 / TLS failed: {t}"),
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some("28P01") | Some("28000") => format!("認証に失敗 / authentication failed: {}", d.message()),
            Some("57014") => format!("文タイムアウト / statement timed out: {}", d.message()),
            Some("42501") => format!("権限不足 / permission denied: {}", d.message()),
            Some("3D000") => format!("データベースがない / no such database: {}", d.message()),
            Some(code) => format!("{} (SQLSTATE {code})", d.message()),
            None => d.message().to_string(),
        },
        sqlx::Error::PoolTimedOut => "接続タイムアウト / connection timed out".to_string(),
        other => other.to_string(),
    };
    format!("{} ({}): {what}", db.engine.get_ref(), target(db))
}

/// The password from `password_env` or `secret_arn` (its `password` key); none
/// when neither is set (trust or certificate authentication).
async fn password(db: &Database, aws: &AwsContext) -> Result<Option<Secret>, String> {
    match (&db.password_env, &db.secret_arn) {
        (Some(var), _) => secret::from_env(var, "[database] password_env").map(Some),
        (None, Some(arn)) => match secret::from_secrets_manager(aws, arn, "password").await? {
            Some(p) => Ok(Some(p)),
            None => Err(format!("secret {arn} has no `password` key / the secret holds no password")),
        },
        (None, None) => Ok(None),
    }
}

/// An open read-only session.
pub struct Session {
    conn: PgConnection,
    db: Database,
}

impl Session {
    /// Connect and open the read-only transaction with its statement timeout.
    pub async fn open(db: &Database, aws: &AwsContext) -> Result<Self, SessionError> {
        match db.engine.get_ref().as_str() {
            "postgres" => {}
            other => {
                return Err(SessionError(format!("データベースエンジン {other} は未対応（postgres のみ） / engine {other} not supported yet (postgres only)")))
            }
        }
        let password = password(db, aws).await.map_err(SessionError)?;
        let mut opts = PgConnectOptions::new_without_pgpass()
            .host(&db.host)
            .port(db.port.unwrap_or(5432))
            .username(&db.user)
            .database(&db.database)
            .application_name("gcverify")
            .ssl_mode(if db.tls { PgSslMode::VerifyFull } else { PgSslMode::Disable });
        if let Some(p) = &password {
            opts = opts.password(p.expose());
        }
        if let Some(ca) = &db.ca_file {
            opts = opts.ssl_root_cert(ca);
        }
        let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&opts)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(SessionError(reason(db, &e))),
            Err(_) => {
                return Err(SessionError(format!(
                    "{} ({}): 接続タイムアウト / connection timed out after {} s",
                    db.engine.get_ref(),
                    target(db),
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
        };
        let ms = db.statement_timeout_secs.saturating_mul(1000);
        // The timeout is an integer we format, never scenario text.
        let begin = format!("BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}");
        conn.execute(begin.as_str()).await.map_err(|e| SessionError(reason(db, &e)))?;
        Ok(Self { conn, db: db.clone() })
    }

    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    pub fn reason(&self, e: &sqlx::Error) -> String {
        reason(&self.db, e)
    }

    /// End the transaction (a rollback: nothing was written, nothing may be).
    pub async fn close(mut self) {
        let _ = self.conn.execute("ROLLBACK").await;
        let _ = self.conn.close().await;
    }
}

/// `"schema"."table"` / `"column"`: identifiers the scenario validated as plain, quoted.
pub fn quote(ident: &str) -> String {
    ident.split('.').map(|p| format!("\"{}\"", p.replace('"', "\"\""))).collect::<Vec<_>>().join(".")
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
