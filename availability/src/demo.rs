//! The demo's availability history, recorded for real: a local HTTP target on
//! 127.0.0.1 is probed every second for a few seconds by the same probe code
//! as production. The non-compliant demo stops the target for three checks and
//! restarts it, so the outage is observed, not invented. The period covered
//! is those few seconds, and reports say so.

use std::path::Path;
use std::time::Duration;

use gcverify_scenarios::AvailabilityConfig;

use crate::daemon::Probe;
use crate::local_target::LocalTarget;
use crate::{Config, Error};

/// The placeholder demo scenarios use in target URLs.
pub const PLACEHOLDER: &str = "{demo_target}";

/// Point `{demo_target}` URLs at a fresh local target; `None` when no target uses it.
pub async fn start_target(section: &mut AvailabilityConfig) -> Result<Option<LocalTarget>, Error> {
    if !section.targets.iter().any(|t| t.url.as_deref().is_some_and(|u| u.contains(PLACEHOLDER)) || t.tcp.as_deref().is_some_and(|u| u.contains(PLACEHOLDER))) {
        return Ok(None);
    }
    let server = LocalTarget::start("<html><title>住民記録システム ログイン</title></html>").await.map_err(|e| Error::Config(format!("demo target: {e}")))?;
    for t in &mut section.targets {
        if let Some(u) = &mut t.url {
            *u = u.replace(PLACEHOLDER, &server.address());
        }
        if let Some(a) = &mut t.tcp {
            *a = a.replace(PLACEHOLDER, &server.address());
        }
    }
    Ok(Some(server))
}

/// What the demo recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub cycles: usize,
    pub failed_checks: usize,
}

/// Record a short real history into a fresh store: `compliant` keeps the
/// target up; otherwise it is stopped for three checks in the middle.
pub async fn record(section: &mut AvailabilityConfig, base_dir: &Path, compliant: bool) -> Result<(Recorded, LocalTarget), Error> {
    let mut server = start_target(section).await?.ok_or_else(|| Error::Config(format!("demo: no target URL uses {PLACEHOLDER}")))?;
    let cfg = Config::from_scenario(section, base_dir)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = cfg.store.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let mut probe = Probe::new(&cfg, None)?;
    let plan: &[bool] = if compliant { &[true; 6] } else { &[true, true, false, false, false, true, true] };
    let mut failed = 0;
    let tick = Duration::from_secs(u64::try_from(cfg.slot_secs).unwrap_or(1));
    for (i, &up) in plan.iter().enumerate() {
        if up && !server.is_running() {
            server.restart().await.map_err(|e| Error::Config(format!("demo target restart: {e}")))?;
        } else if !up && server.is_running() {
            server.stop().await;
        }
        let c = probe.once().await?;
        failed += c.results.iter().filter(|(_, r)| !r.ok).count();
        if i + 1 < plan.len() {
            tokio::time::sleep(crate::daemon::sleep_until_next_slot(chrono::Utc::now(), cfg.slot_secs).min(tick)).await;
        }
    }
    // The last slot has to be over before it counts.
    tokio::time::sleep(crate::daemon::sleep_until_next_slot(chrono::Utc::now(), cfg.slot_secs)).await;
    Ok((Recorded { cycles: plan.len(), failed_checks: failed }, server))
}
