//! Demo only: a local TLS endpoint standing in for the 庁舎⇔ガバクラ endpoint
//! of E.6.1.1, so that the active TLS probe runs in the demo. The scenario
//! names it with `host = "{demo_tls}"`; its certificate is issued by a private
//! CA made for this run (the scenario's `ca_file` is pointed at it) — valid in
//! `demo`, expired in `demo-noncompliant`.

use anyhow::{Context, Result};
use gcverify_demo::tls_server;
use gcverify_scenarios::Scenario;

pub const PLACEHOLDER: &str = "{demo_tls}";

/// Keeps the CA file for as long as the run needs it.
pub struct DemoTls {
    _dir: tempfile::TempDir,
}

pub async fn prepare_demo(scenario: &mut Scenario) -> Result<Option<DemoTls>> {
    let Some(demo) = scenario.demo.as_ref() else { return Ok(None) };
    let expired = demo.seed != gcverify_scenarios::DemoSeed::Compliant;
    if !scenario.transit.endpoints.iter().any(|e| e.host == PLACEHOLDER) {
        return Ok(None);
    }
    let certs = tls_server::ca_signed(expired)?;
    let addr = tls_server::start(&certs).await?;
    let dir = tempfile::tempdir().context("temporary folder for the demo CA")?;
    let ca = dir.path().join("demo-ca.pem");
    std::fs::write(&ca, certs.ca_pem.as_deref().unwrap_or_default()).with_context(|| format!("writing {}", ca.display()))?;
    eprintln!("gcverify: demo TLS endpoint (private CA{}) at {addr}", if expired { ", expired certificate" } else { "" });
    for e in scenario.transit.endpoints.iter_mut().filter(|e| e.host == PLACEHOLDER) {
        e.host = addr.ip().to_string();
        e.port = addr.port();
        e.server_name = Some("localhost".into());
        e.ca_file = Some(ca.clone());
    }
    Ok(Some(DemoTls { _dir: dir }))
}
