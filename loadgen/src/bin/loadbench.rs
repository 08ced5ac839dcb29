//! `loadbench` (run by `cargo xtask bench load`, always in release): the load
//! generator against local targets on 127.0.0.1 (nginx serving a static page,
//! the Rust delay server), next to `oha` and `wrk` on the same targets, in one
//! bounded run. Prints figures; asserts nothing (performance goals are
//! measured, not tested). A separate binary so the release build does not
//! drag in the AWS SDK, and so the generator is measured optimised like oha/wrk.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use gcverify_loadgen::server::ServerConfig;
use gcverify_loadgen::{run_phase, PhaseReport, Profile, RunOptions};
use tokio::process::{Child, Command};

/// Compare gcverify's open-model generator with oha and wrk on 127.0.0.1.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "loadbench")]
pub struct BenchArgs {
    /// Seconds per measurement (each tool, each target).
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Seconds of the memory run at 5,000 req/s.
    #[arg(long, default_value_t = 20.0)]
    pub memory_secs: f64,
    /// Connections for the closed-model tools (wrk, oha) in the max-rate test.
    #[arg(long, default_value_t = 64)]
    pub connections: u32,
    /// Only this part: max, fixed, stall or memory (default: all, in that order).
    #[arg(long)]
    pub part: Option<String>,
    /// Target rates of the open-model ladder in the max-rate test (default: 0.5, 0.7,
    /// 0.8, 0.9, 0.95, 1.0, 1.2, 1.5 × oha's closed-loop rate).
    #[arg(long, value_delimiter = ',')]
    pub max_rates: Vec<f64>,
    /// Generator threads of gcverify-loadgen (`[client] threads`; default: the profile default, 1).
    #[arg(long)]
    pub threads: Option<usize>,
    /// gcverify-loadgen's max_in_flight (connection limit) in the max-rate and memory runs.
    #[arg(long, default_value_t = 4096)]
    pub max_in_flight: usize,
}

/// One line of the comparison.
#[derive(Debug, Clone)]
struct Row {
    tool: String,
    target: String,
    mode: String,
    rps: f64,
    p50: f64,
    p99: f64,
    note: String,
}

fn print_rows(title: &str, rows: &[Row]) {
    println!("\n== {title}");
    println!("{:<22} {:<26} {:<30} {:>10} {:>10} {:>10}  note", "tool", "target", "mode", "req/s", "p50 ms", "p99 ms");
    for r in rows {
        println!("{:<22} {:<26} {:<30} {:>10.0} {:>10.2} {:>10.2}  {}", r.tool, r.target, r.mode, r.rps, r.p50, r.p99, r.note);
    }
}

#[tokio::main]
async fn main() {
    let args = <BenchArgs as clap::Parser>::parse();
    if let Err(e) = bench(args).await {
        eprintln!("loadbench: {e:#}");
        std::process::exit(4);
    }
}

async fn bench(args: BenchArgs) -> Result<()> {
    let secs = args.secs.max(1.0);
    let want = |part: &str| args.part.as_deref().is_none_or(|p| p == part);
    let oha = which("oha");
    let wrk = which("wrk");
    let nginx_bin = which("nginx").or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()));
    println!("gcverify bench load — {} cores, {secs} s per measurement", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("tools: oha {}, wrk {}, nginx {}", found(&oha), found(&wrk), found(&nginx_bin));

    // ---- 1. maximum rate against nginx (static page)
    let tmp = tempfile::tempdir().context("temp dir")?;
    let mut rows = Vec::new();
    let mut nginx = None;
    if let Some(bin) = &nginx_bin {
        match start_nginx(bin, tmp.path()).await {
            Ok((child, url)) => nginx = Some((child, url)),
            Err(e) => println!("nginx: could not start: {e:#}"),
        }
    }
    let (max_url, max_target) = match &nginx {
        Some((_, url)) => (url.clone(), "nginx static page".to_string()),
        None => (String::new(), String::new()),
    };
    let delay0 = start_server(ServerConfig::default()).await?;
    let (max_url, max_target) = if max_url.is_empty() { (delay0.url(), "rust server, 0 ms".to_string()) } else { (max_url, max_target) };
    if want("max") {
        let mut oha_max = None;
        if let Some(o) = &oha {
            match run_oha(o, &max_url, secs, args.connections, None, false).await {
                Ok(r) => {
                    oha_max = Some(r.rps);
                    rows.push(Row { tool: "oha".into(), target: max_target.clone(), mode: format!("closed, {} conns", args.connections), ..r });
                }
                Err(e) => println!("oha failed: {e:#}"),
            }
        }
        let mut wrk_max = None;
        if let Some(w) = &wrk {
            match run_wrk(w, &max_url, secs, args.connections).await {
                Ok(r) => {
                    wrk_max = Some(r.rps);
                    rows.push(Row { tool: "wrk".into(), target: max_target.clone(), mode: format!("closed, {} conns", args.connections), ..r });
                }
                Err(e) => println!("wrk failed: {e:#}"),
            }
        }
        // Open model: step the target rate up; the maximum sustained rate is the
        // highest target whose schedule held, with no errors and ≥ 98 % achieved.
        let reference = oha_max.or(wrk_max).unwrap_or(10_000.0);
        let mut sustained: Option<f64> = None;
        let ladder: Vec<f64> = if args.max_rates.is_empty() {
            [0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.2, 1.5].iter().map(|f| (reference * f).round().max(100.0)).collect()
        } else {
            args.max_rates.clone()
        };
        let mut oha_paced: Option<f64> = None;
        for rate in ladder {
            let r = run_loadgen(&max_url, rate, secs, 0.5, args.max_in_flight, args.threads).await?;
            let op = &r.operations[0];
            let held = r.schedule.kept && op.failures.total() == 0 && op.achieved_rate >= 0.98 * rate;
            if held {
                sustained = Some(rate);
            }
            rows.push(Row {
                tool: "gcverify-loadgen".into(),
                target: max_target.clone(),
                mode: format!("open, target {rate:.0}/s"),
                rps: op.achieved_rate,
                p50: op.latency_ms.p50,
                p99: op.latency_ms.p99,
                note: format!(
                    "{} (late {:.2}%, lag p99 {:.1} ms, errors {})",
                    if held { "sustained" } else { "NOT sustained" },
                    r.schedule.late_fraction * 100.0,
                    r.schedule.lag_p99_ms,
                    op.failures.total()
                ),
            });
            // The same paced rate from oha (-q, latency correction): the target
            // serves paced arrivals less efficiently than a saturating closed loop,
            // so this is the like-for-like comparison.
            if let Some(o) = &oha {
                match run_oha(o, &max_url, secs, 256, Some(rate), true).await {
                    Ok(x) => {
                        let oha_held = x.rps >= 0.98 * rate;
                        if oha_held {
                            oha_paced = Some(rate);
                        }
                        rows.push(Row {
                            tool: "oha".into(),
                            target: max_target.clone(),
                            mode: format!("-q {rate:.0} -c 256 --latency-correction"),
                            note: format!("{} ({})", if oha_held { "sustained" } else { "NOT sustained" }, x.note),
                            ..x
                        });
                    }
                    Err(e) => println!("oha -q failed: {e:#}"),
                }
            }
            if !held {
                break;
            }
        }
        print_rows("maximum rate (static page)", &rows);
        if let Some(o) = oha_paced {
            println!("highest paced rate oha sustained on the same ladder: {o:.0}/s");
        }
        match (sustained, oha_max) {
            (Some(s), Some(o)) => println!("max sustained open-model rate {s:.0}/s vs oha {o:.0}/s: ratio {:.2}", s / o),
            (Some(s), None) => println!("max sustained open-model rate {s:.0}/s (oha not available)"),
            (None, _) => println!("open model did not sustain even the lowest step"),
        }
        if let (Some(s), Some(w)) = (sustained, wrk_max) {
            println!("max sustained open-model rate {s:.0}/s vs wrk {w:.0}/s: ratio {:.2}", s / w);
        }
    }

    if want("fixed") {
        // ---- 2. fixed rate against a known 50 ms delay: ground truth is 50 ms + loopback
        let mut rows = Vec::new();
        let delay = start_server(ServerConfig::delay_ms(50)).await?;
        let rate = 400.0;
        let r = run_loadgen(&delay.url(), rate, secs, 0.5, 4096, args.threads).await?;
        let lg = &r.operations[0];
        rows.push(Row {
            tool: "gcverify-loadgen".into(),
            target: "rust server, 50 ms".into(),
            mode: format!("open, {rate:.0}/s"),
            rps: lg.achieved_rate,
            p50: lg.latency_ms.p50,
            p99: lg.latency_ms.p99,
            note: format!("service p99 {:.2} ms", lg.service_ms.p99),
        });
        let mut wrk_p99 = None;
        if let Some(w) = &wrk {
            // 20 connections × (1 / 50 ms) = the same 400 req/s, closed.
            if let Ok(x) = run_wrk(w, &delay.url(), secs, 20).await {
                wrk_p99 = Some(x.p99);
                rows.push(Row { tool: "wrk".into(), target: "rust server, 50 ms".into(), mode: "closed, 20 conns".into(), ..x });
            }
        }
        if let Some(o) = &oha {
            if let Ok(x) = run_oha(o, &delay.url(), secs, 64, Some(rate), true).await {
                rows.push(Row { tool: "oha".into(), target: "rust server, 50 ms".into(), mode: format!("-q {rate:.0} --latency-correction"), ..x });
            }
        }
        print_rows("fixed rate, known latency (ground truth 50 ms)", &rows);
        println!(
            "loadgen p99 {:.2} ms vs ground truth 50 ms: {:+.1}%{}",
            lg.latency_ms.p99,
            (lg.latency_ms.p99 / 50.0 - 1.0) * 100.0,
            wrk_p99.map(|w| format!("; vs wrk p99 {w:.2} ms: {:+.1}%", (lg.latency_ms.p99 / w - 1.0) * 100.0)).unwrap_or_default()
        );
    }

    if want("stall") {
        // ---- 3. a server that stalls 2 s once per 10 s
        let mut rows = Vec::new();
        let stall_cfg = ServerConfig {
            delay: Duration::from_millis(5),
            stall_every: Duration::from_secs(10),
            stall_for: Duration::from_secs(2),
            stall_offset: Duration::from_secs(3),
        };
        let stall_secs = 10.0;
        let rate = 200.0;
        let stall = start_server(stall_cfg).await?;
        let r = run_loadgen(&stall.url(), rate, stall_secs, 0.0, 4096, args.threads).await?;
        let lg = &r.operations[0];
        rows.push(Row {
            tool: "gcverify-loadgen".into(),
            target: "rust server, stall 2s/10s".into(),
            mode: format!("open, {rate:.0}/s"),
            rps: lg.achieved_rate,
            p50: lg.latency_ms.p50,
            p99: lg.latency_ms.p99,
            note: format!("service time p99 {:.1} ms (what a closed model sees)", lg.service_ms.p99),
        });
        if let Some(w) = &wrk {
            let stall = start_server(stall_cfg).await?;
            if let Ok(x) = run_wrk(w, &stall.url(), stall_secs, 4).await {
                rows.push(Row { tool: "wrk".into(), target: "rust server, stall 2s/10s".into(), mode: "closed, 4 conns".into(), ..x });
            }
        }
        if let Some(o) = &oha {
            let stall = start_server(stall_cfg).await?;
            if let Ok(x) = run_oha(o, &stall.url(), stall_secs, 4, Some(rate), false).await {
                rows.push(Row { tool: "oha".into(), target: "rust server, stall 2s/10s".into(), mode: format!("-q {rate:.0}, 4 conns, no correction"), ..x });
            }
        }
        print_rows(&format!("stall 2 s once per 10 s ({stall_secs} s runs)"), &rows);
    }

    if want("memory") {
        // ---- 4. memory: 5,000 req/s, RSS at the end of a short and a longer run
        println!("\n== memory at 5000 req/s (target: {})", max_target);
        let mut prev: Option<(f64, u64)> = None;
        for s in [args.memory_secs / 4.0, args.memory_secs] {
            let before = gcverify_loadgen::rss_kb().unwrap_or(0);
            let r = run_loadgen(&max_url, 5000.0, s, 0.5, args.max_in_flight, args.threads).await?;
            let rss = r.rss_max_kb.unwrap_or(0);
            let op = &r.operations[0];
            println!(
                "{s:>5.1} s: achieved {:.0}/s, errors {}, schedule kept {}, RSS before {} KiB, max during {} KiB ({:.1} MiB)",
                op.achieved_rate,
                op.failures.total(),
                r.schedule.kept,
                before,
                rss,
                rss as f64 / 1024.0
            );
            if let Some((ps, prss)) = prev {
                let per_min = (rss as f64 - prss as f64) / (s - ps) * 60.0 / 1024.0;
                println!(
                "RSS growth {:+.2} MiB per minute of run; linear extrapolation to 10 min: {:.1} MiB (EXTRAPOLATED from {ps:.0} s and {s:.0} s runs, not measured)",
                per_min,
                rss as f64 / 1024.0 + per_min * (600.0 - s) / 60.0
            );
            }
            prev = Some((s, rss));
        }
    }
    if let Some((mut child, _)) = nginx {
        let _ = child.kill().await;
    }
    Ok(())
}

fn found(p: &Option<PathBuf>) -> String {
    p.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "NOT FOUND".into())
}

fn which(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(home)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A delay server on its own thread and runtime, so it does not share the
/// generator's scheduler. It serves until the bench process ends.
struct ThreadServer {
    addr: std::net::SocketAddr,
}

impl ThreadServer {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn start_server(cfg: ServerConfig) -> Result<ThreadServer> {
    let (tx, rx) = tokio::sync::oneshot::channel::<std::io::Result<std::net::SocketAddr>>();
    std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        rt.block_on(async move {
            let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await.and_then(|l| l.local_addr().map(|a| (l, a))) {
                Ok(x) => x,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let _ = tx.send(Ok(listener.1));
            gcverify_loadgen::server::serve(listener.0, cfg).await;
        });
    });
    let addr = rx.await.context("delay server thread")??;
    Ok(ThreadServer { addr })
}

async fn free_port() -> Result<u16> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    Ok(l.local_addr()?.port())
}

/// nginx with one worker and no master process (`master_process off`): the
/// child is the worker itself, so killing it (also on drop) leaves no orphan
/// worker behind to eat CPU in later measurements.
async fn start_nginx(bin: &Path, dir: &Path) -> Result<(Child, String)> {
    let port = free_port().await?;
    let www = dir.join("www");
    std::fs::create_dir_all(&www)?;
    std::fs::write(www.join("index.html"), gcverify_loadgen::server::PAGE)?;
    let conf = format!(
        "user root;\nworker_processes 1;\nmaster_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 8192; }}\nhttp {{\n access_log off;\n client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f; uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;\n keepalive_requests 1000000;\n server {{ listen 127.0.0.1:{port}; root {w}; location / {{ }} }}\n}}\n",
        d = dir.display(),
        w = www.display()
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("spawning nginx")?;
    let url = format!("http://127.0.0.1:{port}/index.html");
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("nginx did not listen on 127.0.0.1:{port} within 5 s (see {}/error.log)", dir.display())
}

async fn run_loadgen(url: &str, rate: f64, secs: f64, warmup: f64, in_flight: usize, threads: Option<usize>) -> Result<PhaseReport> {
    let threads = threads.map(|t| format!("threads = {t}\n")).unwrap_or_default();
    let text = format!(
        "[client]\nmax_in_flight = {in_flight}\ntimeout_ms = 10000\n{threads}[[operation]]\nname = \"page\"\nurl = \"{url}\"\n[phase.bench]\nduration_secs = {secs}\nwarmup_secs = {warmup}\nrates = {{ page = {rate} }}\n"
    );
    let p = Profile::parse(&text).map_err(|e| anyhow::anyhow!("bench profile: {e}"))?;
    let opts = RunOptions { progress: std::io::IsTerminal::is_terminal(&std::io::stderr()), ..Default::default() };
    Ok(run_phase(&p, "bench", 3000, &opts).await?)
}

async fn output(cmd: &mut Command, limit: f64) -> Result<String> {
    let out = tokio::time::timeout(Duration::from_secs_f64(limit + 30.0), cmd.stdin(Stdio::null()).kill_on_drop(true).output())
        .await
        .context("tool did not finish in time")??;
    if !out.status.success() {
        bail!("exit {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn run_wrk(bin: &Path, url: &str, secs: f64, conns: u32) -> Result<Row> {
    let threads = conns.clamp(1, 2);
    let text = output(
        Command::new(bin).args(["-t", &threads.to_string(), "-c", &conns.to_string(), "-d", &format!("{}s", secs.ceil() as u64), "--latency", url]),
        secs,
    )
    .await?;
    parse_wrk(&text).with_context(|| format!("parsing wrk output:\n{text}"))
}

/// wrk's `--latency` distribution and `Requests/sec:` line.
fn parse_wrk(text: &str) -> Option<Row> {
    let ms = |v: &str| -> Option<f64> {
        let v = v.trim();
        if let Some(x) = v.strip_suffix("us") {
            x.parse::<f64>().ok().map(|x| x / 1000.0)
        } else if let Some(x) = v.strip_suffix("ms") {
            x.parse().ok()
        } else if let Some(x) = v.strip_suffix('m') {
            x.parse::<f64>().ok().map(|x| x * 60_000.0)
        } else if let Some(x) = v.strip_suffix('s') {
            x.parse::<f64>().ok().map(|x| x * 1000.0)
        } else {
            None
        }
    };
    let pct = |p: &str| text.lines().map(str::trim).find(|l| l.starts_with(p)).and_then(|l| l.split_whitespace().nth(1)).and_then(ms);
    let rps = text.lines().find(|l| l.starts_with("Requests/sec:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let errors = text.lines().find(|l| l.contains("Non-2xx") || l.contains("Socket errors")).map(str::trim).unwrap_or("").to_string();
    Some(Row { tool: String::new(), target: String::new(), mode: String::new(), rps, p50: pct("50%")?, p99: pct("99%")?, note: errors })
}

async fn run_oha(bin: &Path, url: &str, secs: f64, conns: u32, qps: Option<f64>, correction: bool) -> Result<Row> {
    let mut cmd = Command::new(bin);
    cmd.args(["--no-tui", "--output-format", "json", "-z", &format!("{}s", secs.ceil() as u64), "-c", &conns.to_string()]);
    if let Some(q) = qps {
        cmd.args(["-q", &format!("{q}")]);
    }
    if correction {
        cmd.arg("--latency-correction");
    }
    cmd.arg(url);
    let text = output(&mut cmd, secs).await?;
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("oha JSON: {text}"))?;
    let f = |p: &[&str]| p.iter().try_fold(&v, |v, k| v.get(k)).and_then(|x| x.as_f64());
    Ok(Row {
        tool: String::new(),
        target: String::new(),
        mode: String::new(),
        rps: f(&["summary", "requestsPerSec"]).unwrap_or(0.0),
        p50: f(&["metrics", "latency_ms", "p50"]).or_else(|| f(&["latencyPercentiles", "p50"]).map(|s| s * 1000.0)).unwrap_or(f64::NAN),
        p99: f(&["metrics", "latency_ms", "p99"]).or_else(|| f(&["latencyPercentiles", "p99"]).map(|s| s * 1000.0)).unwrap_or(f64::NAN),
        note: format!("success rate {:.3}", f(&["summary", "successRate"]).unwrap_or(f64::NAN)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wrk_latency_output() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Latency Distribution\n     50%  512.00us\n     75%    1.20ms\n     90%    2.00ms\n     99%    1.50s\n  100 requests in 5.00s, 1.00MB read\nRequests/sec:  12345.67\nTransfer/sec:      1.00MB\n";
        let r = parse_wrk(text).expect("parses");
        assert!((r.rps - 12345.67).abs() < 1e-6);
        assert!((r.p50 - 0.512).abs() < 1e-9);
        assert!((r.p99 - 1500.0).abs() < 1e-9);
    }
}
