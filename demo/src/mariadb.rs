//! A throwaway MariaDB server for the deep checks' tests: the Debian
//! package's `mariadbd`, a fresh data directory in a temporary folder, a free
//! 127.0.0.1 port, binary logging so that a second server can replicate it.
//! The administrator connects over the server's own socket; the checks log in
//! over TCP with a password like they would on RDS. Killed and removed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{Connection, Executor};

use crate::moto::free_port;
use crate::postgres::{juki_resident, JUKI_ROWS, READ_ONLY_ROLE};

/// `mariadbd` and `mariadb-install-db`: `GCVERIFY_MARIADB_BIN` (a folder holding
/// both), else the Debian package's places.
pub fn find_binaries() -> Option<(PathBuf, PathBuf)> {
    let dirs: Vec<PathBuf> = match std::env::var_os("GCVERIFY_MARIADB_BIN") {
        Some(d) => vec![PathBuf::from(d)],
        None => vec![PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")],
    };
    let find = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file());
    Some((find("mariadbd")?, find("mariadb-install-db")?))
}

pub struct MariaDbServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
}

impl MariaDbServer {
    /// Initialise and start a server with `server_id` (binary log on).
    pub async fn start(server_id: u32) -> Result<Self> {
        let (server, install) = find_binaries().context("MariaDB is not installed (apt-get install mariadb-server), or set GCVERIFY_MARIADB_BIN")?;
        let dir = tempfile::Builder::new().prefix("gcverify-mariadb-").tempdir().context("temporary folder")?;
        let data = dir.path().join("data");
        // SAFETY: geteuid has no preconditions.
        let user = if unsafe { libc::geteuid() } == 0 { "root".to_string() } else { std::env::var("USER").unwrap_or_else(|_| "nobody".into()) };
        let out = Command::new(&install)
            .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--user={user}"))
            // Its own temporary folder: bootstraps running side by side in /tmp collide.
            .arg(format!("--tmpdir={}", dir.path().display()))
            .output()
            .with_context(|| format!("running {}", install.display()))?;
        if !out.status.success() {
            bail!("mariadb-install-db failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
        }
        let port = free_port()?;
        let child = Command::new(&server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--tmpdir={}", dir.path().display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!("--log-error={}", dir.path().join("error.log").display()))
            .arg(format!("--port={port}"))
            .arg(format!("--user={user}"))
            .arg(format!("--server-id={server_id}"))
            .args(["--bind-address=127.0.0.1", "--log-bin=mysql-bin", "--skip-name-resolve", "--innodb-buffer-pool-size=16M", "--character-set-server=utf8mb4"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
        let mut s = Self { child: Some(child), dir, port };
        s.wait_ready(Duration::from_secs(60)).await?;
        Ok(s)
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    let log = std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                    bail!("mariadbd exited with {status}: {}", log.lines().rev().take(5).collect::<Vec<_>>().join(" | "));
                }
            }
            if self.admin().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("mariadbd did not answer within {} s", limit.as_secs())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// root over the server's socket (no password: a throwaway server).
    pub async fn admin(&self) -> Result<MySqlConnection> {
        let opts = MySqlConnectOptions::new().socket(self.dir.path().join("sock")).username("root").charset("utf8mb4");
        MySqlConnection::connect_with(&opts).await.context("connecting to the throwaway MariaDB")
    }

    /// A second server replicating this one from its first binary log.
    pub async fn start_replica(&self) -> Result<Self> {
        let mut primary = self.admin().await?;
        primary
            .execute("CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl-pw'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'")
            .await
            .context("creating the replication user")?;
        let replica = Self::start(2).await?;
        let mut r = replica.admin().await?;
        let change = format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', MASTER_PASSWORD='repl-pw', \
             MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no",
            self.port
        );
        r.execute(change.as_str()).await.context("CHANGE MASTER TO")?;
        r.execute("START SLAVE").await.context("START SLAVE")?;
        Ok(replica)
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The demo's 住民記録 table on MariaDB: names AES-encrypted (VARBINARY),
/// addresses as base64 of AES ciphertext, 個人番号 as `ENC:` + hex, kana
/// encrypted — or, with `plaintext_kana`, stored readable. `gcverify_ro`
/// (password `ro_password`) may read `juki` and monitor replication.
pub async fn seed_juki(server: &MariaDbServer, ro_password: &str, plaintext_kana: bool) -> Result<()> {
    let mut db = server.admin().await?;
    db.execute(
        "CREATE DATABASE juki CHARACTER SET utf8mb4;
         CREATE TABLE juki.residents (id INT AUTO_INCREMENT PRIMARY KEY, name_enc VARBINARY(512), address_enc TEXT,
                                      my_number_enc VARCHAR(100), kana_enc VARBINARY(512), note TEXT)",
    )
    .await
    .context("creating the 住民記録 table")?;
    // A role name and a generated password: no user text reaches this statement.
    let user = format!("'{READ_ONLY_ROLE}'@'%'");
    db.execute(format!("CREATE USER {user} IDENTIFIED BY '{}'", ro_password.replace('\'', "''")).as_str()).await.context("creating the read-only user")?;
    db.execute(format!("GRANT SELECT ON juki.* TO {user}; GRANT SLAVE MONITOR ON *.* TO {user}").as_str()).await.context("granting SELECT")?;
    let kana = if plaintext_kana { "CAST(? AS BINARY)" } else { "AES_ENCRYPT(?, 'demo-key')" };
    let sql = format!(
        "INSERT INTO juki.residents (name_enc, address_enc, my_number_enc, kana_enc)
         VALUES (AES_ENCRYPT(?, 'demo-key'), TO_BASE64(AES_ENCRYPT(?, 'demo-key')), CONCAT('ENC:', SHA2(RAND(), 256)), {kana})"
    );
    for i in 0..JUKI_ROWS {
        let [name, address, kana] = juki_resident(i);
        sqlx::query(&sql).bind(name).bind(address).bind(kana).execute(&mut db).await.context("inserting a resident")?;
    }
    Ok(())
}

/// Whether tests that start a throwaway server can run (as
/// [`crate::postgres::available_for_tests`], with GCVERIFY_REQUIRE_MARIADB).
pub fn available_for_tests() -> bool {
    if find_binaries().is_some() {
        return true;
    }
    if std::env::var_os("GCVERIFY_REQUIRE_MARIADB").is_some() {
        panic!("GCVERIFY_REQUIRE_MARIADB is set but MariaDB is not installed (apt-get install mariadb-server)");
    }
    eprintln!("NOT RUN: MariaDB is not installed (apt-get install mariadb-server); the MySQL/MariaDB deep checks were not exercised");
    false
}

/// A 共同利用 system on MariaDB: per municipality `(database, user, password)`
/// a database holding a `residents` table with one row, and a user that may
/// read its own database only.
pub async fn seed_shared(server: &MariaDbServer, municipalities: &[(&str, &str, &str)]) -> Result<()> {
    let mut db = server.admin().await?;
    // Names and passwords are the test's own constants: no user text reaches these statements.
    for (schema, user, password) in municipalities {
        let sql = format!(
            "CREATE DATABASE {schema} CHARACTER SET utf8mb4;
             CREATE TABLE {schema}.residents (id INT AUTO_INCREMENT PRIMARY KEY, name_enc VARBINARY(64));
             INSERT INTO {schema}.residents (name_enc) VALUES (X'00');
             CREATE USER '{user}'@'%' IDENTIFIED BY '{}';
             GRANT SELECT ON {schema}.* TO '{user}'@'%';",
            password.replace('\'', "''")
        );
        db.execute(sql.as_str()).await.with_context(|| format!("creating database {schema} and user {user}"))?;
    }
    Ok(())
}

/// Run administrator statements (tests: a GRANT across municipalities).
pub async fn admin_execute(server: &MariaDbServer, sql: &str) -> Result<()> {
    let mut db = server.admin().await?;
    db.execute(sql).await.with_context(|| format!("running `{sql}`"))?;
    Ok(())
}
