//! `cargo xtask bench fleet`: a fleet of N small environments (one emulated
//! account each, moto switching account by the role assumed) verified
//! concurrently (`--jobs`) against the same environments one after another
//! in one run (`--jobs 1`): wall time and the process's peak RSS, every
//! run printed and written to `target/bench-fleet/results.json`.
//!
//! `--latency-ms` puts a proxy in front of moto that holds every request that
//! long (`bench_latency.rs`): AWS answers a call after a round trip and its own
//! work, moto at once, and without that wait concurrency has nothing to overlap.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use gcverify_demo::fleet::{role_arn, seed_municipality};

use crate::aws_model::{AwsModel, Model, ModelArgs, ToolStats};
use crate::bench_scale::{build_release, emulator_env, measure, Measured};
use crate::cli::repo_root;

#[derive(Debug, Clone, clap::Args)]
pub struct FleetBenchArgs {
    /// Environments per fleet; a comma-separated list runs a series.
    #[arg(long, value_delimiter = ',', default_value = "10,50,100")]
    pub envs: Vec<usize>,
    /// Runs of each mode per size; every run is reported.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Environments at once in the concurrent mode.
    #[arg(long, default_value_t = 16)]
    pub jobs: u32,
    /// Item IDs each environment verifies (small environments, a few AWS listings).
    #[arg(long, default_value = "E.6.1.2,E.5.2.1")]
    pub only: String,
    /// Hold every request this long before moto sees it (models AWS's answer
    /// time; 0: moto as it is). A comma-separated list runs each.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub latency_ms: Vec<u64>,
    /// Sizes above this run only the concurrent mode (a sequential run of 1,000
    /// environments takes the better part of an hour); the summary says so.
    #[arg(long)]
    pub sequential_up_to: Option<usize>,
    /// `--model aws` replaces `--latency-ms` with the AWS-like endpoint model (latency, replay, throttling).
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, serde::Serialize)]
struct Row {
    envs: usize,
    latency_ms: u64,
    mode: String,
    run: usize,
    wall_secs: f64,
    cpu_secs: f64,
    peak_rss_mib: f64,
    exit_code: i32,
    /// Under the AWS model: calls and throttling answers of the run.
    api_calls: Option<u64>,
    throttles: Option<u64>,
    model: Option<ToolStats>,
    /// From fleet.json: environments verified, those with a 検証不能 row or unreachable, throttled attempts they report.
    fleet: Option<FleetOutcome>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
struct FleetOutcome {
    environments: usize,
    unreachable: usize,
    with_error_rows: usize,
    /// 検証不能 rows whose 事象 names throttling (retries exhausted).
    throttled_error_rows: usize,
    throttled_attempts: u64,
}

/// What the fleet itself reported in `<out>/bench/fleet.json`.
fn fleet_outcome(out: &Path) -> Option<FleetOutcome> {
    let text = std::fs::read_to_string(out.join("bench").join("fleet.json")).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let members = doc["members"].as_array()?;
    let mut o = FleetOutcome { environments: members.len(), ..Default::default() };
    for m in members {
        o.unreachable += usize::from(!m["unreachable"].is_null());
        o.throttled_attempts += m["throttled"].as_u64().unwrap_or(0);
        let errors: Vec<&str> =
            m["outcomes"].as_object().map(|x| x.iter().filter(|(_, v)| *v == "ERROR").map(|(k, _)| k.as_str()).collect()).unwrap_or_default();
        o.with_error_rows += usize::from(!errors.is_empty());
        o.throttled_error_rows += errors
            .iter()
            .filter(|id| {
                m["findings"][**id]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|t| t.as_str().is_some_and(|t| t.contains("throttl") || t.contains("スロットリング"))))
            })
            .count();
    }
    Some(o)
}

pub async fn bench(args: FleetBenchArgs) -> Result<i32> {
    let root = repo_root();
    let work = root.join("target/bench-fleet");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let xtask = build_release(&root)?;
    let exe = gcverify_demo::find_moto_server(&root).map(Ok).unwrap_or_else(|| gcverify_demo::ensure_venv(&root))?;
    let mut rows = Vec::new();
    for &n in &args.envs {
        let moto = gcverify_demo::MotoServer::start(&exe).await.context("starting moto")?;
        let ep = moto.endpoint();
        eprintln!("bench fleet: seeding {n} accounts ...");
        for i in 0..n {
            seed_municipality(&ep, &account(i), &[("System", "juki")], i % 10 == 9).await.with_context(|| format!("seeding account {i}"))?;
        }
        let model = match args.model.model {
            Model::Aws => Some(AwsModel::start(&ep, args.model.params()).await.context("starting the AWS model")?),
            Model::Moto => None,
        };
        let latencies = if model.is_some() { vec![0] } else { args.latency_ms.clone() };
        for &latency_ms in &latencies {
            let ep = match &model {
                Some(m) => m.endpoint(),
                None if latency_ms == 0 => ep.clone(),
                None => crate::bench_latency::start(&ep, std::time::Duration::from_millis(latency_ms)).await?,
            };
            let fleet = write_fleet(&work, n, &ep)?;
            // Under the model, run 0 (concurrent only) is the recording pass: printed, kept in results.json, not in the speed-ups.
            let first = if model.is_some() { 0 } else { 1 };
            let sequential = args.sequential_up_to.is_none_or(|max| n <= max);
            for run in first..=args.runs {
                // Interleaved, so drift on the machine hits both modes alike.
                for jobs in if run == 0 || !sequential { vec![args.jobs] } else { vec![args.jobs, 1] } {
                    let mode = if jobs == 1 { "sequential (--jobs 1)".to_string() } else { format!("concurrent (--jobs {jobs})") };
                    let out = work.join(format!("out-{n}-{latency_ms}-{jobs}-{run}"));
                    let _ = std::fs::remove_dir_all(&out);
                    let mut cmd = Command::new(&xtask);
                    cmd.arg("verify").arg("--fleet").arg(&fleet).arg("--out").arg(&out).args([
                        "--format",
                        "json",
                        "--only",
                        &args.only,
                        "--jobs",
                        &jobs.to_string(),
                    ]);
                    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
                    emulator_env(&mut cmd);
                    let before = model.as_ref().map(AwsModel::total);
                    let m: Measured = measure(&mut cmd)?;
                    let stats = model.as_ref().zip(before).map(|(m, b)| m.total().since(&b));
                    let row = Row {
                        envs: n,
                        latency_ms,
                        mode,
                        run,
                        wall_secs: m.wall.as_secs_f64(),
                        cpu_secs: m.cpu.as_secs_f64(),
                        peak_rss_mib: m.max_rss_kib as f64 / 1024.0,
                        exit_code: m.exit_code,
                        api_calls: stats.as_ref().map(|s| s.calls),
                        throttles: stats.as_ref().map(|s| s.throttled),
                        model: stats,
                        fleet: fleet_outcome(&out),
                    };
                    let extra = match (&row.model, &row.fleet) {
                        (Some(s), Some(f)) => format!(
                            "  calls {} throttled {} (replayed {}, passed {})  envs {} with 検証不能 {} (throttling {}) unreachable {}",
                            s.calls, s.throttled, s.replayed, s.passed_through, f.environments, f.with_error_rows, f.throttled_error_rows, f.unreachable
                        ),
                        (None, Some(f)) => format!("  envs {} with 検証不能 {} unreachable {}", f.environments, f.with_error_rows, f.unreachable),
                        _ => String::new(),
                    };
                    println!(
                        "N={:<4} {} {:<24} {}: wall {:>7.2} s  cpu {:>7.2} s  peak RSS {:>6.1} MiB  exit {}{extra}",
                        row.envs,
                        if model.is_some() { "aws model ".to_string() } else { format!("latency {:>3} ms", row.latency_ms) },
                        row.mode,
                        if run == 0 { "recording pass".to_string() } else { format!("run {run}") },
                        row.wall_secs,
                        row.cpu_secs,
                        row.peak_rss_mib,
                        row.exit_code
                    );
                    rows.push(row);
                }
            }
        }
        drop(model);
        drop(moto);
    }
    println!("\nN     latency  speed-up (sequential wall / concurrent wall, per run)");
    let latencies = if args.model.model == Model::Aws { vec![0] } else { args.latency_ms.clone() };
    for &n in &args.envs {
        for &l in &latencies {
            let walls = |seq: bool| {
                rows.iter()
                    .filter(|r| r.envs == n && r.latency_ms == l && r.run > 0 && r.mode.starts_with("seq") == seq)
                    .map(|r| r.wall_secs)
                    .collect::<Vec<_>>()
            };
            let ratios: Vec<String> = walls(true).iter().zip(walls(false)).map(|(s, c)| format!("{:.2}×", s / c)).collect();
            if ratios.is_empty() {
                println!("{n:<5} {l:>4} ms  - (concurrent only: --sequential-up-to)");
            } else {
                println!("{n:<5} {l:>4} ms  {}", ratios.join(", "));
            }
        }
    }
    if let Model::Aws = args.model.model {
        println!("{}; the recording pass (run 0) is in results.json, not above", args.model.params().describe());
    }
    let path = work.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rows)?).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench fleet: wrote {}", path.display());
    Ok(0)
}

fn account(i: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + i as u64)
}

fn write_fleet(work: &Path, n: usize, endpoint: &str) -> Result<std::path::PathBuf> {
    let base = work.join("base.toml");
    std::fs::write(&base, format!("[environment]\nname = \"base\"\n\n[aws]\nendpoint_url = \"{endpoint}\"\n\n[scope]\ntags = {{ System = \"juki\" }}\n"))?;
    let mut text = String::from("[fleet]\nname = \"bench\"\nbase = \"base.toml\"\n");
    for i in 0..n {
        text.push_str(&format!("\n[[environment]]\nname = \"env{i:04}\"\nmunicipality = \"団体{i}\"\nrole_arn = \"{}\"\n", role_arn(&account(i))));
    }
    let path = work.join(format!("fleet-{n}.toml"));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
