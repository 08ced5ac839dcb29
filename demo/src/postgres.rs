//! A throwaway PostgreSQL cluster for the deep checks' tests (and, later, the
//! demo): the Debian package's own binaries, a fresh data directory in a
//! temporary folder, a free 127.0.0.1 port, password authentication over TCP.
//! Stopped and removed on drop. PostgreSQL refuses to run as root, so under
//! root the server runs as the package's `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::Connection;

use crate::moto::free_port;

/// The superuser of the throwaway cluster.
pub const SUPERUSER: &str = "postgres";

/// The folder holding `initdb` / `pg_ctl`: `GCVERIFY_PG_BIN`, PATH, or the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GCVERIFY_PG_BIN").map(PathBuf::from) {
        return dir.join("initdb").is_file().then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file()))
}

/// Whether tests that start a throwaway cluster can run: without PostgreSQL
/// they say NOT RUN, unless GCVERIFY_REQUIRE_POSTGRES is set (as `.ci/run`
/// does): then they fail.
pub fn available_for_tests() -> bool {
    if find_bin_dir().is_some() {
        return true;
    }
    if std::env::var_os("GCVERIFY_REQUIRE_POSTGRES").is_some() {
        panic!("GCVERIFY_REQUIRE_POSTGRES is set but PostgreSQL is not installed (apt-get install postgresql)");
    }
    eprintln!("NOT RUN: PostgreSQL is not installed (apt-get install postgresql); the SQL deep checks were not exercised");
    false
}

/// A running server to copy from (its port and superuser password).
#[derive(Clone)]
pub struct PgSource {
    port: u16,
    password: String,
}

pub struct PgServer {
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    port: u16,
    password: String,
    run_as: Option<String>,
}

impl PgServer {
    /// A temporary folder the server's user owns, with a password file; not started.
    fn prepare(password: &str) -> Result<(Self, PathBuf)> {
        let bin = find_bin_dir().context("PostgreSQL is not installed (apt-get install postgresql), or set GCVERIFY_PG_BIN")?;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let run_as = root.then(|| SUPERUSER.to_string());
        let dir = tempfile::Builder::new().prefix("gcverify-pg-").tempdir().context("temporary folder")?;
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, password).context("password file")?;
        if let Some(user) = &run_as {
            let (uid, gid) = user_ids(user)?;
            for p in [dir.path(), pwfile.as_path()] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid)).with_context(|| format!("chown {}", p.display()))?;
            }
        }
        let port = free_port()?;
        Ok((Self { bin, data, port, password: password.to_string(), run_as, _dir: dir }, pwfile))
    }

    fn launch(&self) -> Result<()> {
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, path_str(self._dir.path())?);
        let log = self._dir.path().join("server.log");
        self.run("pg_ctl", &["-D", path_str(&self.data)?, "-o", &opts, "-l", path_str(&log)?, "-w", "-t", "60", "start"], &[])
    }

    /// A streaming replica of this server (pg_basebackup -R), started on its own port.
    pub async fn start_replica(&self) -> Result<Self> {
        let (replica, _) = Self::prepare(&self.password)?;
        let port = self.port.to_string();
        replica.run(
            "pg_basebackup",
            &["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, "-D", path_str(&replica.data)?, "-R", "-X", "stream", "-c", "fast"],
            &[("PGPASSWORD", self.password.as_str())],
        )?;
        replica.launch()?;
        Ok(replica)
    }

    /// What [`PgServer::copy_of`] needs to copy this server from another thread.
    pub fn source(&self) -> PgSource {
        PgSource { port: self.port, password: self.password.clone() }
    }

    /// An independent copy of a running server (pg_basebackup without -R: not
    /// a standby), started on its own port with the same roles and data —
    /// what a restore from a backup gives. Blocking (runs the tools).
    pub fn copy_of(source: &PgSource) -> Result<Self> {
        let (copy, _) = Self::prepare(&source.password)?;
        let port = source.port.to_string();
        copy.run(
            "pg_basebackup",
            &["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, "-D", path_str(&copy.data)?, "-X", "stream", "-c", "fast"],
            &[("PGPASSWORD", source.password.as_str())],
        )?;
        copy.launch()?;
        Ok(copy)
    }

    /// initdb + start; the superuser's password is `password`.
    pub async fn start(password: &str) -> Result<Self> {
        let (server, pwfile) = Self::prepare(password)?;
        server.run(
            "initdb",
            &[
                "-D",
                path_str(&server.data)?,
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--pwfile",
                path_str(&pwfile)?,
                "-E",
                "UTF8",
                "--locale=C",
            ],
            &[],
        )?;
        server.launch()?;
        Ok(server)
    }

    fn run(&self, tool: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
        let exe = self.bin.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        // runuser keeps the environment (no --login), so PGPASSWORD reaches the tool.
        let out = cmd.args(args).envs(env.iter().copied()).output().with_context(|| format!("running {}", exe.display()))?;
        if !out.status.success() {
            bail!("{tool} failed ({}): {}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A superuser connection (no TLS: the throwaway cluster has none).
    pub async fn admin(&self, database: &str) -> Result<PgConnection> {
        let opts = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(self.port)
            .username(SUPERUSER)
            .password(&self.password)
            .database(database)
            .ssl_mode(PgSslMode::Disable);
        PgConnection::connect_with(&opts).await.context("connecting to the throwaway PostgreSQL")
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data) {
            let _ = self.run("pg_ctl", &["-D", data, "-m", "immediate", "stop"], &[]);
        }
    }
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str().with_context(|| format!("{} is not UTF-8", p.display()))
}

/// uid and gid of a system user, from /etc/passwd.
fn user_ids(user: &str) -> Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&user) && f.len() > 3)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .with_context(|| format!("no system user {user} (the postgresql package creates it)"))
}

/// Resident `i` of the seeded 住民記録 table in the clear: name, address, kana
/// (both engines' seeds store these, encrypted or not).
pub fn juki_resident(i: i32) -> [String; 3] {
    [format!("住基 花子{i}"), format!("東京都千代田区霞が関{i}-1-1"), format!("ジュウキ ハナコ{i}")]
}

/// Fragments of the seeded residents' clear text that no result may show.
pub const JUKI_PLAINTEXT: &[&str] = &["住基", "花子", "東京都", "霞が関", "ジュウキ", "ハナコ"];

/// The read-only role the deep checks log in as.
pub const READ_ONLY_ROLE: &str = "gcverify_ro";
/// Rows of the seeded 住民記録 table.
pub const JUKI_ROWS: i32 = 20;
/// The newest resident update (`updated_at`) is this many minutes old, the
/// others one day older each: 5 minutes before the demo's nightly recovery
/// point (2 hours old, `seed_continuity`).
pub const JUKI_NEWEST_MINUTES: i64 = 125;

/// A database `juki` with a small 住民記録 table `residents`: names and
/// addresses encrypted with pgcrypto, 個人番号 as `ENC:` + ciphertext, kana
/// encrypted too — or, with `plaintext_kana`, kana stored readable (the
/// violation). `gcverify_ro` (password `ro_password`) may only read it.
pub async fn seed_juki(server: &PgServer, ro_password: &str, plaintext_kana: bool) -> Result<()> {
    use sqlx::Executor;
    let mut admin = server.admin("postgres").await?;
    admin.execute("CREATE DATABASE juki").await.context("CREATE DATABASE juki")?;
    let mut db = server.admin("juki").await?;
    db.execute(
        "CREATE EXTENSION pgcrypto;
         CREATE TABLE residents (id serial PRIMARY KEY, name_enc bytea, address_enc text, my_number_enc text, kana_enc bytea, note text,
                                 updated_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .context("creating the 住民記録 table")?;
    // A role name and a generated password: no user text reaches this statement.
    db.execute(format!("CREATE ROLE {READ_ONLY_ROLE} LOGIN PASSWORD '{}'", ro_password.replace('\'', "''")).as_str())
        .await
        .context("creating the read-only role")?;
    // pg_monitor: read-only statistics, e.g. a replica's WAL receiver state (sql.replica_lag).
    db.execute(format!("GRANT SELECT ON residents TO {READ_ONLY_ROLE}; GRANT pg_monitor TO {READ_ONLY_ROLE}").as_str()).await.context("granting SELECT")?;
    let kana = if plaintext_kana { "convert_to($3, 'UTF8')" } else { "pgp_sym_encrypt($3, 'demo-key')" };
    let sql = format!(
        "INSERT INTO residents (name_enc, address_enc, my_number_enc, kana_enc) VALUES (
           pgp_sym_encrypt($1, 'demo-key'), armor(pgp_sym_encrypt($2, 'demo-key')), 'ENC:' || encode(gen_random_bytes(24), 'hex'), {kana})"
    );
    for i in 0..JUKI_ROWS {
        let [name, address, kana] = juki_resident(i);
        sqlx::query(&sql).bind(name).bind(address).bind(kana).execute(&mut db).await.context("inserting a resident")?;
    }
    // One 異動 a day, the newest just before tonight's backup (see JUKI_NEWEST_MINUTES).
    db.execute(format!("UPDATE residents SET updated_at = now() - interval '{JUKI_NEWEST_MINUTES} minutes' - (id - 1) * interval '1 day'").as_str())
        .await
        .context("dating the residents' updates")?;
    Ok(())
}

/// The database of a 共同利用 system: one schema per municipality.
pub const SHARED_DATABASE: &str = "kyodo";

/// A 共同利用 system's database `kyodo`: per municipality `(schema, role,
/// password)` a schema holding a `residents` table with one row, and a login
/// role that may read its own schema only (USAGE + SELECT) — the logical
/// separation the fleet's separation row verifies.
pub async fn seed_shared(server: &PgServer, municipalities: &[(&str, &str, &str)]) -> Result<()> {
    use sqlx::Executor;
    let mut admin = server.admin("postgres").await?;
    admin.execute(format!("CREATE DATABASE {SHARED_DATABASE}").as_str()).await.context("CREATE DATABASE kyodo")?;
    let mut db = server.admin(SHARED_DATABASE).await?;
    // Names and passwords are the test's own constants: no user text reaches these statements.
    for (schema, role, password) in municipalities {
        let sql = format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.residents (id serial PRIMARY KEY, name_enc bytea);
             INSERT INTO {schema}.residents (name_enc) VALUES ('\\x00'::bytea);
             CREATE ROLE {role} LOGIN PASSWORD '{}';
             GRANT USAGE ON SCHEMA {schema} TO {role};
             GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role};",
            password.replace('\'', "''")
        );
        db.execute(sql.as_str()).await.with_context(|| format!("creating schema {schema} and role {role}"))?;
    }
    // PUBLIC may not read what a municipality's role cannot.
    db.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC").await.context("REVOKE on public")?;
    Ok(())
}

/// Run administrator statements on the 共同利用 database (tests: a GRANT across municipalities).
pub async fn shared_admin(server: &PgServer, sql: &str) -> Result<()> {
    use sqlx::Executor;
    let mut db = server.admin(SHARED_DATABASE).await?;
    db.execute(sql).await.with_context(|| format!("running `{sql}`"))?;
    Ok(())
}
