//! Demo only: a throwaway PostgreSQL (the Debian package) holding a small
//! 住民記録 table, so that E.6.1.2's database point runs in the demo, and a
//! streaming replica standing for the 庁舎内縮退運転サーバ (A.1.3.1 / A.3.x). The
//! scenario names them with `host = "{demo_postgres}"` / `"{demo_postgres_replica}"`.

use anyhow::{Context, Result};
use gcverify_demo::postgres::PgServer;
use gcverify_scenarios::Scenario;
use std::io::Read;

pub const PLACEHOLDER: &str = "{demo_postgres}";
/// A `[[database.replica]]` host: a streaming replica of the demo database.
pub const REPLICA_PLACEHOLDER: &str = "{demo_postgres_replica}";

/// The demo's servers, stopped when dropped.
pub struct DemoDatabase {
    _primary: PgServer,
    _replica: Option<PgServer>,
}

impl DemoDatabase {
    /// The primary, for the restore drill's copies (`crate::drill`).
    pub fn source(&self) -> gcverify_demo::postgres::PgSource {
        self._primary.source()
    }
}

/// Where PostgreSQL cannot start, the host says why in the row's reason.
const UNAVAILABLE_HOST: &str = "demo-postgresql-not-installed.invalid";

/// `n` bytes of /dev/urandom: the demo's credentials are fresh for each run.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).context("reading /dev/urandom")?;
    Ok(b)
}

/// A fresh random password (hex of `n` random bytes).
pub fn random_hex(n: usize) -> Result<String> {
    Ok(random_bytes(n)?.iter().map(|x| format!("{x:02x}")).collect())
}

/// Start and seed the demo database when the demo scenario asks for it.
pub async fn prepare_demo(scenario: &mut Scenario) -> Result<Option<DemoDatabase>> {
    let Some(demo) = scenario.demo.as_ref() else { return Ok(None) };
    let compliant = demo.seed == gcverify_scenarios::DemoSeed::Compliant;
    let Some(db) = scenario.database.as_mut().filter(|d| d.host == PLACEHOLDER) else { return Ok(None) };
    eprintln!("gcverify: starting a throwaway PostgreSQL with a 住民記録 table for the demo ...");
    let admin_password = random_hex(16)?;
    let server = match PgServer::start(&admin_password).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gcverify: PostgreSQL could not start ({e:#}): the database points (E.6.1.2, A.1.3.1, A.3.x) will be 検証不能");
            db.host = UNAVAILABLE_HOST.to_string();
            for r in db.replicas.iter_mut().filter(|r| r.host == REPLICA_PLACEHOLDER) {
                r.host = UNAVAILABLE_HOST.to_string();
            }
            return Ok(None);
        }
    };
    let ro_password = random_hex(16)?;
    gcverify_demo::postgres::seed_juki(&server, &ro_password, !compliant).await.context("seeding the demo database")?;
    let var = db.password_env.clone().context("the demo [database] names no password_env")?;
    // Set before any probe runs; the value is this run's random password, never printed.
    std::env::set_var(&var, &ro_password);
    db.host = "127.0.0.1".to_string();
    db.port = Some(server.port());
    // The demo's B.1.1.x metric commands (psql) read the port from here.
    std::env::set_var("GCVERIFY_DEMO_PG_PORT", server.port().to_string());
    db.user = gcverify_demo::postgres::READ_ONLY_ROLE.to_string();
    let mut replica = None;
    if db.replicas.iter().any(|r| r.host == REPLICA_PLACEHOLDER) {
        let r = server.start_replica().await.context("starting the demo replica (庁舎内縮退運転サーバ)")?;
        for entry in db.replicas.iter_mut().filter(|e| e.host == REPLICA_PLACEHOLDER) {
            entry.host = "127.0.0.1".to_string();
            entry.port = Some(r.port());
        }
        replica = Some(r);
    }
    Ok(Some(DemoDatabase { _primary: server, _replica: replica }))
}
