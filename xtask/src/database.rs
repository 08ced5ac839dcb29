//! Demo only: a throwaway PostgreSQL (the Debian package) holding a small
//! 住民記録 table, so that E.6.1.2's database point runs in the demo. The
//! scenario names it with `host = "{demo_postgres}"`.

use anyhow::{Context, Result};
use gcverify_demo::postgres::PgServer;
use gcverify_scenarios::Scenario;
use std::io::Read;

pub const PLACEHOLDER: &str = "{demo_postgres}";

/// Where PostgreSQL cannot start, the host says why in the row's reason.
const UNAVAILABLE_HOST: &str = "demo-postgresql-not-installed.invalid";

/// A fresh random password for this run (hex of 16 bytes of /dev/urandom).
fn password() -> Result<String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).context("reading /dev/urandom")?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Start and seed the demo database when the demo scenario asks for it.
pub async fn prepare_demo(scenario: &mut Scenario) -> Result<Option<PgServer>> {
    let Some(demo) = scenario.demo.as_ref() else { return Ok(None) };
    let compliant = demo.seed == gcverify_scenarios::DemoSeed::Compliant;
    let Some(db) = scenario.database.as_mut().filter(|d| d.host == PLACEHOLDER) else { return Ok(None) };
    eprintln!("gcverify: starting a throwaway PostgreSQL with a 住民記録 table for the demo ...");
    let admin_password = password()?;
    let server = match PgServer::start(&admin_password).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gcverify: PostgreSQL could not start ({e:#}): E.6.1.2's database point will be 検証不能");
            db.host = UNAVAILABLE_HOST.to_string();
            return Ok(None);
        }
    };
    let ro_password = password()?;
    gcverify_demo::postgres::seed_juki(&server, &ro_password, !compliant).await.context("seeding the demo database")?;
    let var = db.password_env.clone().context("the demo [database] names no password_env")?;
    // Set before any probe runs; the value is this run's random password, never printed.
    std::env::set_var(&var, &ro_password);
    db.host = "127.0.0.1".to_string();
    db.port = Some(server.port());
    db.user = gcverify_demo::postgres::READ_ONLY_ROLE.to_string();
    Ok(Some(server))
}
