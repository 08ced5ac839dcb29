//! `cargo xtask probe availability`: the availability probe (A.1.5.1) as a
//! daemon or one cycle, and the short real recording the demo makes before
//! `verify` reads the store.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use gcverify_availability::daemon::{run_with, RunOpts};
use gcverify_availability::local_target::LocalTarget;
use gcverify_availability::{cloudwatch, demo, Config};
use gcverify_checks::Catalog;
use gcverify_scenarios::Scenario;

use crate::cli::AvailabilityArgs;
use crate::verify::config_err;

fn base_dir(path: &Path) -> PathBuf {
    path.parent().map(PathBuf::from).unwrap_or_default()
}

pub async fn probe(args: AvailabilityArgs) -> Result<i32> {
    let path = crate::verify::scenario_path(args.env.as_deref(), args.scenario.as_ref())?;
    let scenario = gcverify_checks::load_scenario(&path, &Catalog::builtin()).map_err(|e| config_err(e.to_string()))?;
    let mut section = scenario.availability.clone().ok_or_else(|| config_err(format!("{}: no [availability] section (targets, calendar)", path.display())))?;
    // Demo scenarios point their target at a local server started here.
    let _target = if scenario.demo.is_some() { demo::start_target(&mut section).await.map_err(|e| config_err(e.to_string()))? } else { None };
    let cfg = Config::from_scenario(&section, &base_dir(&path)).map_err(|e| config_err(e.to_string()))?;
    let publisher = cloudwatch::publisher_from_env(&scenario, &cfg).await;
    eprintln!(
        "gcverify: availability probe `{}`: {} target(s) every {} s → {}{}",
        cfg.probe_name,
        cfg.targets.len(),
        cfg.slot_secs,
        cfg.store.display(),
        if publisher.is_some() { " + CloudWatch" } else { "" }
    );
    let n = run_with(&cfg, publisher, &RunOpts { once: args.once, cycles: args.cycles, ..Default::default() }).await.context("availability probe")?;
    eprintln!("gcverify: {n} cycle(s) recorded");
    Ok(0)
}

/// Demo only: record a few seconds of real probing (the non-compliant demo
/// stops and restarts the target) so A.1.5.1 is computed from the store.
/// The store goes to `out_dir/availability.sqlite`. Returns the local
/// target, which must live until the run ends.
pub async fn record_demo(scenario: &mut Scenario, path: &Path, out_dir: &Path) -> Result<Option<LocalTarget>> {
    let Some(demo_cfg) = scenario.demo.as_ref() else { return Ok(None) };
    let compliant = demo_cfg.seed == gcverify_scenarios::DemoSeed::Compliant;
    let Some(section) = scenario.availability.as_mut() else { return Ok(None) };
    // Each run records into its own output folder, so concurrent demo runs never share a store.
    let out_dir = if out_dir.is_absolute() { out_dir.to_path_buf() } else { std::env::current_dir().context("current directory")?.join(out_dir) };
    section.store = out_dir.join("availability.sqlite");
    eprintln!("gcverify: recording a short availability history against a local target (a few seconds) ...");
    let (rec, target) = demo::record(section, &base_dir(path), compliant).await.context("recording the demo availability history")?;
    eprintln!("gcverify: recorded {} probe cycles ({} failed checks) into the availability store", rec.cycles, rec.failed_checks);
    Ok(Some(target))
}
