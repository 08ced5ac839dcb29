//! `verify --restore-drill` and `drill cleanup`: the CLI side of the restore
//! drill — Ctrl-C handling, the progress line, the drill's own JSON record,
//! and the loud warning when something could not be deleted.

use crate::cli::Site;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use gcverify_checks::aws::AwsContext;
use gcverify_checks::drill::{self, DrillOptions, DrillReport};
use gcverify_checks::probes::ProbeInput;
use gcverify_checks::Catalog;
use gcverify_scenarios::Scenario;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::DrillCleanupArgs;
use crate::verify::config_err;

/// The journal folder of an environment.
pub fn state_dir(out_dir: &Path) -> PathBuf {
    out_dir.join("restore-drill")
}

/// Refuse before anything starts when the drill cannot judge anything.
pub fn check_runnable(scenario: &Scenario, only: Option<&[String]>, site: Site) -> Result<()> {
    let Some(cfg) = scenario.continuity.drill.as_ref() else {
        return Err(config_err(format!("--restore-drill: {}", drill::DrillError::NotConfigured)));
    };
    if site == Site::Dr && cfg.dr.is_none() {
        return Err(config_err(format!("--restore-drill --site dr: {}", drill::DrillError::NoDrTarget)));
    }
    if let Some(only) = only {
        // The items whose points judge the drill (RTO/RLO, restored data, DR rebuild, generation).
        let catalog = Catalog::builtin();
        let mut judged: Vec<&str> = vec!["A.1.3.2", "A.1.3.3"];
        judged.extend(catalog.items_reading("[continuity.drill"));
        if !only.iter().any(|id| judged.contains(&id.as_str())) {
            return Err(config_err(format!("--restore-drill is judged by {}, which --only leaves out", judged.join(", "))));
        }
    }
    Ok(())
}

/// The demo's drill: the isolated targets' generated IDs put into the
/// scenario's placeholders, and a PostgreSQL copy of the demo database (as of
/// the recovery point) behind every database the emulator restores. Kept alive
/// while the drill runs.
async fn prepare_demo(scenario: &mut Scenario, demo_db: Option<&crate::database::DemoDatabase>) -> Result<Option<gcverify_demo::restore_copy::RestoreCopies>> {
    use gcverify_demo::seed_continuity::{drill_target_ids, DRILL_SG_PLACEHOLDER, DRILL_SUBNET_PLACEHOLDER};
    let (Some(demo), Some(endpoint)) = (scenario.demo.clone(), scenario.aws.endpoint_url.clone()) else { return Ok(None) };
    let regions = [scenario.aws.primary_region.clone(), scenario.aws.dr_region.clone()];
    let Some(cfg) = scenario.continuity.drill.as_mut() else { return Ok(None) };
    for (i, region) in regions.iter().enumerate() {
        let (subnet, sg) = drill_target_ids(&endpoint, region).await.context("the demo's isolated drill target")?;
        let (subnet_id, groups) = match (i, cfg.dr.as_mut()) {
            (0, _) => (&mut cfg.subnet_id, &mut cfg.security_group_ids),
            (_, Some(dr)) => (&mut dr.subnet_id, &mut dr.security_group_ids),
            (_, None) => continue,
        };
        if let Some(s) = subnet_id.as_mut().filter(|s| s.as_str() == DRILL_SUBNET_PLACEHOLDER) {
            *s = subnet.clone();
        }
        for g in groups.iter_mut().filter(|g| g.as_str() == DRILL_SG_PLACEHOLDER) {
            *g = sg.clone();
        }
    }
    let Some(db) = demo_db else {
        eprintln!("gcverify: the demo database did not start: the restored databases have nothing behind them (their points are 検証不能)");
        return Ok(None);
    };
    // The non-compliant demo's backups miss the last hours of 異動: the copy is older than its recovery point says.
    let stale = (demo.seed != gcverify_scenarios::DemoSeed::Compliant).then(|| chrono::Duration::hours(gcverify_demo::seed_continuity::STALE_DATA_HOURS));
    let copies = gcverify_demo::restore_copy::RestoreCopies::start(db.source(), stale).await?;
    gcverify_demo::moto::admin(&endpoint, "restore-hook", &serde_json::json!({"url": copies.url()})).context("registering the demo's restore hook")?;
    Ok(Some(copies))
}

/// Run the drill with Ctrl-C handling; writes `restore-drill/<id>-report.json`.
pub async fn run(
    scenario: Arc<Scenario>,
    aws: Arc<AwsContext>,
    out_dir: &Path,
    site: Site,
    generation: Option<u32>,
    demo_db: Option<&crate::database::DemoDatabase>,
) -> Result<DrillReport> {
    let mut scenario = (*scenario).clone();
    let _copies = prepare_demo(&mut scenario, demo_db).await?;
    let scenario = Arc::new(scenario);
    let cfg = scenario.continuity.drill.clone().ok_or_else(|| config_err(drill::DrillError::NotConfigured.to_string()))?;
    let catalog = Catalog::builtin();
    let item = catalog.get("A.1.3.2").cloned().context("catalog has no A.1.3.2")?;
    let now = chrono::Utc::now();
    let levels = catalog.levels_in_force(&scenario);
    let level = levels.get("A.1.3.2").cloned().unwrap_or_else(|| item.selected_level.clone());
    let input = ProbeInput::alone(item, level, Arc::new(levels), scenario.clone(), aws, now, None);
    let mut opts = DrillOptions::new(&cfg, state_dir(out_dir), now);
    opts.site = match site {
        Site::Primary => drill::Site::Primary,
        Site::Dr => drill::Site::Dr,
    };
    if let Some(n) = generation {
        opts.generation = n as usize;
    }

    let (handle, cancel) = drill::cancel::pair();
    let done = Arc::new(AtomicBool::new(false));
    // tokio keeps SIGINT captured once listened to: after the drill, Ctrl-C must still end the run.
    let listener = {
        let done = done.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if done.load(Ordering::SeqCst) {
                    eprintln!("gcverify: interrupted");
                    std::process::exit(130);
                }
                match handle.interrupt() {
                    1 => eprintln!("gcverify: Ctrl-C — stopping the drill; waiting for running restores to finish so their copies can be deleted (Ctrl-C again to leave them to `cargo xtask drill cleanup`)"),
                    _ => eprintln!("gcverify: Ctrl-C again — not waiting; run `cargo xtask drill cleanup` later to delete what the running restores create"),
                }
            }
        })
    };
    let bar = ProgressBar::new_spinner();
    let interactive = std::io::stderr().is_terminal();
    if interactive {
        if let Ok(style) = ProgressStyle::with_template("{spinner} 復元訓練 {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let progress = {
        let bar = bar.clone();
        move |m: String| {
            if interactive {
                bar.set_message(m);
            } else {
                eprintln!("gcverify: drill: {m}");
            }
        }
    };
    let report = drill::run(&input, &opts, cancel, &progress).await;
    bar.finish_and_clear();
    done.store(true, Ordering::SeqCst);
    drop(listener); // keeps running detached: a later Ctrl-C exits (see above)
    let report = report.map_err(|e| config_err(e.to_string()))?;

    let path = opts.state_dir.join(format!("{}-report.json", report.drill_id));
    std::fs::create_dir_all(&opts.state_dir).with_context(|| format!("creating {}", opts.state_dir.display()))?;
    std::fs::write(&path, serde_json::to_string_pretty(&report)?).with_context(|| format!("writing {}", path.display()))?;
    for r in &report.resources {
        let times = match (r.restore_secs, r.health_secs) {
            (Some(a), Some(b)) => format!("restore {}s + healthy after {}s", a, b),
            (Some(a), None) => format!("restore {a}s"),
            _ => "-".into(),
        };
        eprintln!("gcverify: drill {} {:?}: {times}; {}; cleanup: {:?}", r.name, r.stage, r.detail, r.cleanup);
    }
    eprintln!("gcverify: wrote {}", path.display());
    warn_left_behind(&report);
    Ok(report)
}

fn warn_left_behind(report: &DrillReport) {
    let left = report.left_behind();
    if left.is_empty() {
        return;
    }
    eprintln!("gcverify: WARNING: the restore drill could not delete everything it created (costs continue):");
    for r in left {
        eprintln!("  - {} (job {}): {:?}", r.name, r.job_id.as_deref().unwrap_or("-"), r.cleanup);
    }
    eprintln!("gcverify: run `cargo xtask drill cleanup --env ...` (it reads the journal and the {} tag)", drill::kinds::TAG);
}

/// `cargo xtask drill cleanup`.
pub async fn cleanup(args: DrillCleanupArgs) -> Result<i32> {
    let path = crate::verify::scenario_path(args.env.as_deref(), args.scenario.as_ref())?;
    let scenario = gcverify_checks::load_scenario(&path, &Catalog::builtin()).map_err(|e| config_err(e.to_string()))?;
    let out_dir = args.out.clone().unwrap_or_else(|| crate::home::default_out(&scenario.environment.name));
    let aws = AwsContext::load(&scenario.aws).await;
    let mut regions = vec![scenario.aws.primary_region.clone()];
    if scenario.aws.dr_region != scenario.aws.primary_region {
        regions.push(scenario.aws.dr_region.clone());
    }
    let report = drill::cleanup(&aws, &regions, &state_dir(&out_dir), args.dry_run).await.map_err(|e| anyhow::anyhow!(e))?;
    for d in &report.deleted {
        println!("deleted  {d}");
    }
    for p in &report.pending {
        println!("pending  {p}");
    }
    for f in &report.failed {
        println!("FAILED   {f}");
    }
    for j in &report.journals_left {
        println!("journal kept: {}", j.display());
    }
    if report.deleted.is_empty() && report.clean() {
        println!("nothing left behind by restore drills in {}", regions.join(", "));
    }
    Ok(if report.clean() { 0 } else { gcverify_checks::model::exit_code::INCOMPLETE })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> Scenario {
        let path = crate::cli::repo_root().join("scenarios").join(name);
        gcverify_checks::load_scenario(&path, &Catalog::builtin()).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn the_example_and_demo_scenarios_configure_a_runnable_drill() {
        let prod = load("prod.example.toml");
        let d = prod.continuity.drill.as_ref().expect("prod.example.toml has [continuity.drill]");
        assert_eq!(d.health_checks.len(), 2);
        assert!(check_runnable(&prod, None, Site::Primary).is_ok());
        assert!(check_runnable(&prod, None, Site::Dr).is_ok(), "the example has a DR target");
        assert!(check_runnable(&prod, Some(&["A.1.3.3".to_string()]), Site::Primary).is_ok());
        assert!(check_runnable(&prod, Some(&["A.1.4.1".to_string()]), Site::Dr).is_ok(), "A.1.4.1 judges the DR rebuild");
        let e = check_runnable(&prod, Some(&["E.6.1.2".to_string()]), Site::Primary).expect_err("--only without the drill's rows");
        assert!(e.to_string().contains("A.1.3.2"), "{e}");
        let mut no_dr = prod.clone();
        no_dr.continuity.drill.as_mut().expect("drill").dr = None;
        let e = check_runnable(&no_dr, None, Site::Dr).expect_err("--site dr without a DR target");
        assert!(e.to_string().contains("[continuity.drill.dr]"), "{e}");
        // The demos restore through the emulator at both sites (demo/tests and xtask/tests/drill_demo.rs run them).
        for name in ["demo.toml", "demo-noncompliant.toml"] {
            let demo = load(name);
            assert!(check_runnable(&demo, None, Site::Primary).is_ok(), "{name}");
            assert!(check_runnable(&demo, None, Site::Dr).is_ok(), "{name}");
            let d = demo.continuity.drill.as_ref().expect("drill");
            assert_eq!(d.subnet_id.as_deref(), Some(gcverify_demo::seed_continuity::DRILL_SUBNET_PLACEHOLDER), "{name}: filled in by prepare_demo");
            assert!(!d.validations.is_empty(), "{name}: the restored database is validated");
        }
        let mut none = load("demo.toml");
        none.continuity.drill = None;
        let e = check_runnable(&none, None, Site::Primary).expect_err("no drill target");
        assert!(e.downcast_ref::<crate::verify::ConfigError>().is_some(), "a usage error (exit 3): {e}");
        assert!(e.to_string().contains("[continuity.drill]"), "{e}");
    }
}
