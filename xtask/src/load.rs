//! `probe load` (run the response-time probe alone) and the demo's local
//! web target. The bench lives in loadgen/src/bin/loadbench.rs (`cargo xtask bench load`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use gcverify_checks::aws::AwsContext;
use gcverify_checks::model::Lang;
use gcverify_checks::{Catalog, RunOptions};
use gcverify_loadgen::server::{ServerConfig, TestServer};
use gcverify_scenarios::{DemoSeed, Scenario};

use crate::verify::ConfigError;

/// Which phase `probe load` runs.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LoadPhase {
    /// 通常時 (B.2.1.4).
    Normal,
    /// アクセス集中時 (B.2.1.5).
    Peak,
}

/// Demo scenarios get a local web target (the delay server on 127.0.0.1)
/// when their load profile is enabled and names no base URL. The compliant
/// demo answers in ~20 ms; the non-compliant one in ~3.5 s, so B.2.1.4 (3 s)
/// is NG while B.2.1.5 (5 s) stays OK.
pub async fn demo_target(scenario: &mut Scenario) -> Result<Option<TestServer>> {
    let Some(demo) = &scenario.demo else { return Ok(None) };
    if !scenario.performance.enabled || scenario.performance.base_url.is_some() {
        return Ok(None);
    }
    let delay = if demo.seed == DemoSeed::Compliant { 20 } else { 3500 };
    let server = gcverify_loadgen::server::start(ServerConfig::delay_ms(delay), 0).await.context("starting the demo web target")?;
    eprintln!("gcverify: demo web target (delay {delay} ms) at {}", server.url());
    scenario.performance.base_url = Some(server.url());
    Ok(Some(server))
}

/// Before a run: the load probe's histograms go to `<out>/load` unless the
/// scenario names a folder, and demo scenarios get their web target.
pub async fn prepare(scenario: &mut Scenario, out_dir: &std::path::Path) -> Result<Option<TestServer>> {
    if scenario.performance.output_dir.is_none() {
        scenario.performance.output_dir = Some(out_dir.join("load"));
    }
    demo_target(scenario).await
}

/// `cargo xtask probe load`: B.2.1.4 and/or B.2.1.5 through the engine,
/// with the live view, printing every operation's figures.
pub async fn probe_load(env: Option<String>, scenario: Option<PathBuf>, phase: Option<LoadPhase>, lang: Lang) -> Result<i32> {
    let catalog = Catalog::builtin();
    let path = crate::verify::scenario_path(env.as_deref(), scenario.as_ref())?;
    let mut scenario = gcverify_checks::load_scenario(&path, &catalog).map_err(|e| ConfigError(e.to_string()))?;
    if scenario.performance.profile.is_none() {
        return Err(ConfigError(format!("{}: no [performance] profile = \"...\" (see docs/load-probe.md)", path.display())).into());
    }
    if !scenario.performance.enabled {
        return Err(ConfigError(format!("{}: [performance] enabled = false; set it to true to send load", path.display())).into());
    }
    let out_dir = crate::home::default_out(&scenario.environment.name);
    let _target = prepare(&mut scenario, &out_dir).await?;
    let items: Vec<String> = match phase {
        Some(LoadPhase::Normal) => vec!["B.2.1.4".into()],
        Some(LoadPhase::Peak) => vec!["B.2.1.5".into()],
        None => vec!["B.2.1.4".into(), "B.2.1.5".into()],
    };
    gcverify_checks::probes::performance::LIVE_VIEW.store(std::io::stderr().is_terminal(), std::sync::atomic::Ordering::Relaxed);
    let mut opts = RunOptions::from_scenario(&scenario);
    opts.only = Some(items);
    let aws = AwsContext::load(&scenario.aws).await;
    let out = gcverify_checks::probes::performance::output_dir(&scenario);
    let report = gcverify_checks::run(&catalog, Arc::new(scenario), Arc::new(aws), opts, &|_| {}).await;
    // This command judges the load probe alone: the rows' other 確認観点 are verify's business.
    const PROBE: &str = "performance.response_time";
    let mut worst = Vec::new();
    for item in &report.items {
        let outcome = item.verified_by(PROBE);
        let summary = item.points.iter().find(|p| p.verifier == PROBE).map(|p| p.summary(lang).to_string()).unwrap_or_else(|| item.summary(lang).to_string());
        println!("{} {} [{}] {}", item.id, item.metric, outcome.label(lang), summary);
        for e in &item.evidence {
            println!("    {:?} {}: {}", e.status, e.subject, e.detail);
        }
        worst.push(outcome);
    }
    eprintln!("gcverify: histograms and phase results in {}", out.display());
    Ok(gcverify_checks::model::exit_code::for_worst(gcverify_checks::model::combine(worst)))
}
