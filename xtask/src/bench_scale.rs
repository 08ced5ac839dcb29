//! `cargo xtask bench scale`: gcverify against Prowler on the same emulated
//! account of N resources. For each N it starts a fresh moto (its request
//! log counts every API call), seeds instances, volumes, security groups,
//! IAM users with console passwords and log groups in ap-northeast-1 and
//! ap-northeast-3 (a tenth of each non-compliant), then, in one run and
//! interleaved, times and records the peak RSS of:
//!
//! - the four-row `verify --only E.5.1.1,E.5.2.1,E.6.1.2,E.7.1.3`,
//! - the full `verify` (all 50 rows),
//! - Prowler's five equivalent checks (installed from PyPI into
//!   `target/bench-scale/prowler-venv`).
//!
//! gcverify is measured as its release binary (Prowler runs as installed).
//! Every run is printed, not the best, and written to
//! `target/bench-scale/results.json`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use gcverify_demo::seed_scale::{seed_scale, ScalePlan, SCALE_TAG};

use crate::aws_model::{AwsModel, Model, ModelArgs, ToolStats};
use crate::cli::repo_root;

/// Prowler's checks that correspond to the four rows.
pub const PROWLER_CHECKS: &[&str] = &[
    "ec2_ebs_volume_encryption",
    "ec2_ebs_default_encryption",
    "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
    "iam_user_mfa_enabled_console_access",
    "cloudtrail_multi_region_enabled",
];
const FOUR_ROWS: &str = "E.5.1.1,E.5.2.1,E.6.1.2,E.7.1.3";
const REGIONS: [&str; 2] = ["ap-northeast-1", "ap-northeast-3"];

#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// Resources to seed; a comma-separated list runs a series (e.g. 2500,5000,10000).
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    pub resources: Vec<usize>,
    /// Runs of each tool per size; every run is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Leave Prowler out (no PyPI install; gcverify figures only).
    #[arg(long)]
    pub no_prowler: bool,
    /// Leave the full 50-row verify out.
    #[arg(long)]
    pub no_full: bool,
    /// After seeding the first size, print moto's endpoint and keep it running
    /// until interrupted, instead of timing (for profiling the emulator by hand).
    #[arg(long)]
    pub hold: bool,
    /// The Prowler release installed from PyPI.
    #[arg(long, default_value = "5.46.0")]
    pub prowler_version: String,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
enum Tool {
    #[serde(rename = "gcverify --only 4 rows")]
    FourRows,
    #[serde(rename = "gcverify full")]
    Full,
    #[serde(rename = "prowler 5 checks")]
    Prowler,
}

impl Tool {
    fn file_stem(self) -> &'static str {
        match self {
            Tool::FourRows => "gcverify-4rows",
            Tool::Full => "gcverify-full",
            Tool::Prowler => "prowler",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Tool::FourRows => "gcverify --only (4 rows)",
            Tool::Full => "gcverify (50 rows)",
            Tool::Prowler => "prowler (5 checks)",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
struct Measurement {
    resources: usize,
    tool: Tool,
    run: usize,
    wall_secs: f64,
    /// CPU time of the process itself (user + system): the rest of the wall time is waiting on the endpoint.
    cpu_secs: f64,
    peak_rss_mib: f64,
    /// Calls the tool made (under the model: every answer, throttled ones included; else moto's request log).
    api_calls: u64,
    /// Throttling answers the tool got (only the AWS model throttles).
    throttles: u64,
    /// Under the AWS model: how its calls were served.
    model: Option<ToolStats>,
    /// Lines of the tool's log naming a throttling error (a call given up on, or reported as 検証不能).
    throttle_errors_logged: u64,
    pub exit_code: i32,
}

pub async fn bench(args: ScaleArgs) -> Result<i32> {
    if args.resources.is_empty() || args.resources.contains(&0) || args.runs == 0 {
        bail!("--resources needs sizes above 0 and --runs at least 1");
    }
    let root = repo_root();
    let work = root.join("target/bench-scale");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let xtask = build_release(&root)?;
    let moto = match gcverify_demo::find_moto_server(&root) {
        Some(exe) => exe,
        None => gcverify_demo::ensure_venv(&root).context("installing moto")?,
    };
    let prowler = if args.no_prowler { None } else { Some(ensure_prowler(&work, &args.prowler_version)?) };

    let mut all = Vec::new();
    let mut recording = Vec::new();
    let mut floors = Vec::new();
    for &n in &args.resources {
        let plan = ScalePlan::for_total(n);
        let log = work.join(format!("moto-{n}.log"));
        let _ = std::fs::remove_file(&log);
        let server = gcverify_demo::MotoServer::start_with_log(&moto, Some(&log)).await.context("starting moto")?;
        eprintln!("bench scale: seeding {n} resources ({plan:?}) at {} ...", server.endpoint());
        let started = Instant::now();
        seed_scale(&server.endpoint(), plan).await.context("seeding")?;
        eprintln!("bench scale: seeded in {:.1} s ({} API calls)", started.elapsed().as_secs_f64(), count_calls(&log)?);
        let model = match args.model.model {
            Model::Aws => Some(AwsModel::start(&server.endpoint(), args.model.params()).await.context("starting the AWS model")?),
            Model::Moto => None,
        };
        let endpoint = model.as_ref().map(AwsModel::endpoint).unwrap_or_else(|| server.endpoint());
        let scenario = write_scenario(&work, n, &endpoint)?;
        // Under the model the floor is the model's, not moto's: it is left out.
        if model.is_none() {
            floors.push(emulator_floor(&server.endpoint(), &scenario, n).await?);
        }
        if args.hold {
            eprintln!("bench scale: holding moto at {} (scenario {}); Ctrl-C ends it", server.endpoint(), scenario.display());
            tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
            return Ok(0);
        }

        let mut tools = vec![Tool::FourRows];
        if !args.no_full {
            tools.push(Tool::Full);
        }
        if prowler.is_some() {
            tools.push(Tool::Prowler);
        }
        // Under the model, run 0 of each tool is the recording pass (moto answers what the model has not seen yet); it is printed, not summarised.
        let first = if model.is_some() { 0 } else { 1 };
        for run in first..=args.runs {
            // Interleaved, so that a slow phase of the machine hits every tool alike.
            for &tool in &tools {
                let log_file = work.join(format!("{}-{n}-run{run}.log", tool.file_stem()));
                let mut cmd = match tool {
                    Tool::FourRows | Tool::Full => verify_command(&xtask, &scenario, &work.join(format!("out-{n}")), tool == Tool::FourRows, &log_file)?,
                    Tool::Prowler => prowler_command(prowler.as_deref().unwrap_or(Path::new("prowler")), &work.join(format!("prowler-out-{n}")), &log_file)?,
                };
                cmd.env("AWS_ENDPOINT_URL", &endpoint);
                let before = count_calls(&log)?;
                let model_before = model.as_ref().map(AwsModel::total);
                let m = measure(&mut cmd).with_context(|| format!("running {}", tool.label()))?;
                // moto writes a request's log line after answering it.
                tokio::time::sleep(Duration::from_millis(300)).await;
                let model_stats = model.as_ref().zip(model_before).map(|(m, b)| m.total().since(&b));
                let calls = match &model_stats {
                    Some(s) => s.calls,
                    None => count_calls(&log)? - before,
                };
                let row = Measurement {
                    resources: n,
                    tool,
                    run,
                    wall_secs: m.wall.as_secs_f64(),
                    cpu_secs: m.cpu.as_secs_f64(),
                    peak_rss_mib: m.max_rss_kib as f64 / 1024.0,
                    api_calls: calls,
                    throttles: model_stats.as_ref().map(|s| s.throttled).unwrap_or(0),
                    model: model_stats,
                    throttle_errors_logged: throttle_log_lines(&log_file),
                    exit_code: m.exit_code,
                };
                let served = row
                    .model
                    .as_ref()
                    .map(|s| {
                        format!(
                            "  (replayed {}, recorded {}, passed {}, {:.1} MiB out; calls: {})",
                            s.replayed,
                            s.recorded,
                            s.passed_through,
                            s.bytes_out as f64 / 1048576.0,
                            s.top_operations(6)
                        )
                    })
                    .unwrap_or_default();
                eprintln!(
                    "bench scale: N={n} {} {:<26} {:>8.2} s (cpu {:.2} s)  {:>7.1} MiB  {:>6} calls  {:>4} throttled  {} throttling errors logged  exit {}{served}",
                    if run == 0 { "recording pass".to_string() } else { format!("run {run}") },
                    tool.label(),
                    row.wall_secs,
                    row.cpu_secs,
                    row.peak_rss_mib,
                    row.api_calls,
                    row.throttles,
                    row.throttle_errors_logged,
                    row.exit_code
                );
                // verify exits 1 (NG) or 2 (ERROR) by design; 3/4 mean it did not run.
                if matches!(tool, Tool::FourRows | Tool::Full) && row.exit_code >= 3 || tool == Tool::Prowler && row.exit_code != 0 {
                    bail!("{} exited {} (see its output above)", tool.label(), row.exit_code);
                }
                if run == 0 {
                    recording.push(row);
                } else {
                    all.push(row);
                }
            }
        }
        drop(model);
        drop(server);
    }
    if let Model::Aws = args.model.model {
        println!("\n{}; run 0 of each tool (the recording pass) is in results.json, not below", args.model.params().describe());
    }
    print_summary(&all, args.runs);
    for f in &floors {
        println!(
            "N={}: emulator floor {:.2} s = one listing at a time, the sum of their answer times ({} listings)",
            f.resources,
            f.total_secs,
            f.listings.len()
        );
    }
    let json = work.join("results.json");
    let doc = serde_json::json!({ "model": args.model.model, "runs": all, "recording_pass": recording, "emulator_floor": floors });
    std::fs::write(&json, serde_json::to_string_pretty(&doc)?).with_context(|| format!("writing {}", json.display()))?;
    println!("\nevery run: {}", json.display());
    Ok(0)
}

/// One listing's answer time, made alone.
#[derive(Debug, Clone, serde::Serialize)]
struct ListingTime {
    listing: String,
    region: String,
    items: usize,
    secs: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Floor {
    resources: usize,
    total_secs: f64,
    listings: Vec<ListingTime>,
}

/// The inventory's scope listings and the four rows' own reads, made one at a
/// time. moto answers one request at a time (Python's GIL), so no client
/// that reads these resources can finish sooner than their sum: this is the
/// floor any tool's time against this emulator stands on.
async fn emulator_floor(endpoint: &str, scenario_path: &Path, resources: usize) -> Result<Floor> {
    use gcverify_checks::inventory::{Inventory, Listing};
    let catalog = gcverify_checks::catalog::Catalog::builtin();
    let scenario = gcverify_checks::load_scenario(scenario_path, &catalog).map_err(|e| anyhow::anyhow!("{e}"))?;
    let aws = gcverify_checks::aws::AwsContext::from_config(gcverify_demo::seed::emulator_config(endpoint, REGIONS[0]), true);
    let inv = Inventory::new(std::sync::Arc::new(aws), std::sync::Arc::new(scenario));
    let n_of = |l: &Result<usize, String>| l.as_ref().copied().unwrap_or(0);
    fn count<T>(l: Listing<T>) -> Result<usize, String> {
        l.map(|v| v.len()).map_err(|e| e.to_string())
    }
    let mut listings = Vec::new();
    let mut time = |listing: &str, region: &str, started: Instant, items: Result<usize, String>| -> Result<()> {
        if let Err(e) = &items {
            bail!("{listing} in {region}: {e}");
        }
        let t = ListingTime { listing: listing.into(), region: region.into(), items: n_of(&items), secs: started.elapsed().as_secs_f64() };
        eprintln!("bench scale: floor {:<22} {:<15} {:>6} items {:>7.2} s", t.listing, t.region, t.items, t.secs);
        listings.push(t);
        Ok(())
    };
    for region in REGIONS {
        let s = Instant::now();
        time("DescribeInstances", region, s, count(inv.instances(region).await))?;
        let s = Instant::now();
        time("DescribeVolumes", region, s, count(inv.volumes(region).await))?;
        let s = Instant::now();
        time("DescribeSecurityGroups", region, s, count(inv.security_groups(region).await))?;
        let s = Instant::now();
        time("DescribeNetworkInterfaces", region, s, count(inv.network_interfaces(region).await))?;
        let s = Instant::now();
        time("DescribeVpcs", region, s, count(inv.vpcs(region).await))?;
        let s = Instant::now();
        time("DescribeSubnets", region, s, count(inv.subnets(region).await))?;
    }
    let s = Instant::now();
    time("IAM users", "global", s, count(inv.iam_users().await))?;
    let s = Instant::now();
    time("GetAccountAuthorizationDetails", "global", s, count(inv.iam_authorization().await))?;
    let total_secs = listings.iter().map(|l| l.secs).sum();
    Ok(Floor { resources, total_secs, listings })
}

pub(crate) fn build_release(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench scale: building gcverify (release) ...");
    let status = Command::new(cargo).args(["build", "--quiet", "--release", "--package", "xtask"]).current_dir(root).status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed with {status}");
    }
    Ok(root.join("target/release/xtask"))
}

fn ensure_prowler(work: &Path, version: &str) -> Result<PathBuf> {
    let venv = work.join("prowler-venv");
    let exe = venv.join("bin/prowler");
    let stamp = venv.join(format!(".prowler-{version}"));
    if exe.is_file() && stamp.is_file() {
        return Ok(exe);
    }
    eprintln!("bench scale: installing prowler=={version} from PyPI into {} (a few minutes) ...", venv.display());
    let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().context("python3 -m venv")?.success()
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", &format!("prowler=={version}")])
            .status()
            .context("pip install prowler")?
            .success();
    if !ok || !exe.is_file() {
        bail!("installing prowler=={version} into {} failed", venv.display());
    }
    std::fs::write(&stamp, version)?;
    Ok(exe)
}

/// The scale system's scenario: moto's endpoint, both regions, the scale tag as scope.
fn write_scenario(work: &Path, n: usize, endpoint: &str) -> Result<PathBuf> {
    let path = work.join(format!("scale-{n}.toml"));
    let text = format!(
        "# Written by `cargo xtask bench scale`.\n\
         [environment]\nname = \"scale-{n}\"\nmunicipality = \"ベンチ市\"\nsystem = \"住民記録システム\"\nvendor = \"ベンチASP\"\n\n\
         [aws]\nendpoint_url = \"{endpoint}\"\nprimary_region = \"{}\"\ndr_region = \"{}\"\n\n\
         [engine]\nprobe_timeout_secs = 900\n\n\
         [scope]\ntags = {{ {} = \"{}\" }}\n",
        REGIONS[0], REGIONS[1], SCALE_TAG.0, SCALE_TAG.1
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The emulator's static test credentials, and nothing of the user's AWS setup.
pub(crate) fn emulator_env(cmd: &mut Command) {
    for var in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing").env("AWS_DEFAULT_REGION", REGIONS[0]).env("AWS_REGION", REGIONS[0]);
}

/// `-v`: the log (kept in `log_file`) times every listing, so a slow run shows which call was slow.
fn verify_command(xtask: &Path, scenario: &Path, out: &Path, four_rows: bool, log_file: &Path) -> Result<Command> {
    let mut cmd = Command::new(xtask);
    cmd.arg("-v").arg("verify").arg("--scenario").arg(scenario).arg("--out").arg(out).args(["--format", "json", "--no-color"]);
    if four_rows {
        cmd.args(["--only", FOUR_ROWS]);
    }
    let log = std::fs::File::create(log_file).with_context(|| format!("creating {}", log_file.display()))?;
    cmd.stdout(std::process::Stdio::null()).stderr(log);
    emulator_env(&mut cmd);
    cmd.env_remove("GCVERIFY_LOG");
    Ok(cmd)
}

/// Prowler's log (stderr) is kept in `log_file`: its errors show calls it gave up on.
fn prowler_command(prowler: &Path, out: &Path, log_file: &Path) -> Result<Command> {
    let mut cmd = Command::new(prowler);
    cmd.args(["aws", "--no-banner", "--ignore-exit-code-3", "--output-formats", "json-ocsf", "--region"]).args(REGIONS).arg("--checks").args(PROWLER_CHECKS);
    cmd.arg("--output-directory").arg(out);
    let log = std::fs::File::create(log_file).with_context(|| format!("creating {}", log_file.display()))?;
    cmd.stdout(std::process::Stdio::null()).stderr(log);
    emulator_env(&mut cmd);
    Ok(cmd)
}

/// Lines of a tool's log that name a throttling error: calls it reported as failed, not retried to success.
fn throttle_log_lines(log_file: &Path) -> u64 {
    let text = std::fs::read(log_file).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    text.lines().filter(|l| ["Throttling", "RequestLimitExceeded", "Rate exceeded", "SlowDown", "スロットリング"].iter().any(|w| l.contains(w))).count() as u64
}

/// moto's request log: one line per answered request.
fn count_calls(log: &Path) -> Result<u64> {
    let file = std::fs::File::open(log).with_context(|| format!("opening {}", log.display()))?;
    let mut n = 0;
    for line in std::io::BufReader::new(file).lines() {
        if line?.contains("\" ") {
            n += 1;
        }
    }
    Ok(n)
}

pub(crate) struct Measured {
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kib: i64,
    pub exit_code: i32,
}

/// Run to completion; wall time and the child's own peak RSS (wait4's rusage).
pub(crate) fn measure(cmd: &mut Command) -> Result<Measured> {
    let started = Instant::now();
    let child = cmd.spawn().context("spawning")?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child, which nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if rc != pid {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let exit_code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    // The child is reaped; dropping `child` does not wait again.
    drop(child);
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Ok(Measured { wall, cpu: tv(usage.ru_utime) + tv(usage.ru_stime), max_rss_kib: usage.ru_maxrss, exit_code })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn print_summary(all: &[Measurement], runs: usize) {
    let mut sizes: Vec<usize> = all.iter().map(|m| m.resources).collect();
    sizes.dedup();
    println!("\n== bench scale: every run (wall s (cpu s) / peak RSS MiB / API calls / throttled) ==");
    println!("{:>7} {:<26} {}", "N", "tool", (1..=runs).map(|r| format!("{:>36}", format!("run {r}"))).collect::<String>());
    for &n in &sizes {
        for tool in [Tool::FourRows, Tool::Full, Tool::Prowler] {
            let rows: Vec<&Measurement> = all.iter().filter(|m| m.resources == n && m.tool == tool).collect();
            if rows.is_empty() {
                continue;
            }
            let cells: String = rows
                .iter()
                .map(|m| format!("{:>36}", format!("{:.2} ({:.2}) / {:.0} / {} / {}", m.wall_secs, m.cpu_secs, m.peak_rss_mib, m.api_calls, m.throttles)))
                .collect();
            println!("{n:>7} {:<26} {cells}", tool.label());
        }
    }
    println!("\n== per size: medians, and every run's ratio to Prowler ==");
    for &n in &sizes {
        let of = |tool: Tool| all.iter().filter(|m| m.resources == n && m.tool == tool).collect::<Vec<_>>();
        let (four, full, prowler) = (of(Tool::FourRows), of(Tool::Full), of(Tool::Prowler));
        // Medians of one tool's runs: "wall s RSS MiB, calls/resource", or "-" when it did not run.
        let medians = |rows: &[&Measurement]| -> String {
            if rows.is_empty() {
                return "-".into();
            }
            let med = |f: fn(&Measurement) -> f64| median(rows.iter().map(|m| f(m)).collect());
            format!("{:.2} s {:.0} MiB, {:.3} calls/resource", med(|m| m.wall_secs), med(|m| m.peak_rss_mib), med(|m| m.api_calls as f64) / n as f64)
        };
        println!("N={n}: 4 rows {} | full {} | prowler {}", medians(&four), medians(&full), medians(&prowler));
        if prowler.len() == four.len() && !prowler.is_empty() {
            let speed: Vec<String> = four.iter().zip(&prowler).map(|(g, p)| format!("{:.1}×", p.wall_secs / g.wall_secs)).collect();
            let memory: Vec<String> = four.iter().zip(&prowler).map(|(g, p)| format!("1/{:.1}", p.peak_rss_mib / g.peak_rss_mib)).collect();
            println!("  4 rows vs prowler, run by run: faster {} ; peak RSS {}", speed.join(", "), memory.join(", "));
            if full.len() == prowler.len() {
                let speed: Vec<String> = full.iter().zip(&prowler).map(|(g, p)| format!("{:.1}×", p.wall_secs / g.wall_secs)).collect();
                println!("  full verify vs prowler, run by run: faster {}", speed.join(", "));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn measure_reports_exit_code_and_memory_of_the_child() {
        let m = measure(Command::new("sh").args(["-c", "exit 3"])).expect("runs");
        assert_eq!(m.exit_code, 3);
        assert!(m.max_rss_kib > 0, "{}", m.max_rss_kib);
    }

    #[test]
    fn calls_are_counted_from_request_lines_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("moto.log");
        std::fs::write(&log, " * Running on http://127.0.0.1:5000\n127.0.0.1 - - [01/Dec/2026 07:05:54] \"POST / HTTP/1.1\" 200 -\n127.0.0.1 - - [x] \"GET /moto-api/ HTTP/1.0\" 200 -\n").expect("write");
        assert_eq!(count_calls(&log).expect("counts"), 2);
    }
}
