//! Running one phase: a scheduler task per operation sends at the intended
//! times (open model), request tasks time each request, and one recorder
//! task folds the samples into HdrHistograms, writes the interval log and
//! drives the live view.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use tokio::sync::{mpsc, Semaphore};

use crate::client::{self, Failure, HttpClient, Prepared};
use crate::profile::{Percentile, Profile};
use crate::results::{Failures, OpReport, PhaseReport, Quantiles, ScheduleReport, Slo};
use crate::schedule::Arrivals;
use crate::LoadError;

/// Microseconds, 1 µs to 1 hour, 3 significant digits.
const HIGHEST_US: u64 = 3_600_000_000;

pub fn histogram() -> Histogram<u64> {
    // Bounds are constants known to be valid.
    Histogram::new_with_bounds(1, HIGHEST_US, 3).unwrap_or_else(|_| unreachable!("valid histogram bounds"))
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the profile's `base_url` (the demo's local target).
    pub base_url: Option<String>,
    /// Where the interval log (`<phase>.hlog`) and `<phase>.json` go.
    pub out_dir: Option<PathBuf>,
    /// Show the live view on stderr.
    pub progress: bool,
}

/// One answered (or failed) request.
#[derive(Debug, Clone, Copy)]
struct Sample {
    op: usize,
    /// Intended send time, from the phase start.
    intended: Duration,
    /// Completion time, from the phase start.
    done: Duration,
    latency_us: u64,
    service_us: u64,
    lag_us: u64,
    failure: Option<Failure>,
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).clamp(1, HIGHEST_US)
}

/// Run phase `phase_name` of `profile`, judged against `threshold_ms` (from the selected level).
pub async fn run_phase(profile: &Profile, phase_name: &str, threshold_ms: u64, opts: &RunOptions) -> Result<PhaseReport, LoadError> {
    let phase = profile.phase.get(phase_name).ok_or_else(|| {
        LoadError::Profile(format!("the load profile has no phase `{phase_name}` (has: {})", profile.phase.keys().cloned().collect::<Vec<_>>().join(", ")))
    })?;
    let base = opts.base_url.as_deref().or(profile.base_url.as_deref());
    let c = &profile.client;
    let timeout = Duration::from_millis(c.timeout_ms);
    let http = client::build(c.max_in_flight)?;
    let auth = match &profile.login {
        Some(l) => client::login(&http, l, base, timeout).await?,
        None => Vec::new(),
    };
    let mut ops = Vec::new();
    for op in &profile.operations {
        if let Some(rate) = phase.rates.get(&op.name) {
            let p = Prepared::new(op, base, &auth)?;
            p.request()?; // fail now, not per request
            ops.push((Arc::new(p), *rate));
        }
    }
    let slo = Slo { threshold_ms, percentile: phase.percentile, max_error_rate: phase.max_error_rate };
    let measure_start = Duration::from_secs_f64(phase.measure_start_secs());
    let end_secs = phase.total_secs();
    let interval = Duration::from_millis(c.interval_ms.unwrap_or(1000).max(10));

    if let Some(dir) = &opts.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| LoadError::Output(format!("{}: {e}", dir.display())))?;
    }
    let log_path = opts.out_dir.as_ref().map(|d| d.join(format!("{phase_name}.hlog")));
    let (tx, rx) = mpsc::unbounded_channel::<Sample>();
    let started_at = chrono::Utc::now();
    let wall_start = SystemTime::now();
    let start = Instant::now();
    let rec_cfg = RecCfg {
        names: ops.iter().map(|(p, _)| p.name.clone()).collect(),
        measure_start,
        end: Duration::from_secs_f64(end_secs),
        tolerance_us: c.schedule_tolerance_ms * 1000,
        interval,
        log_path: log_path.clone(),
        wall_start,
        start,
        progress: opts.progress.then(|| progress_bar(phase_name)),
        phase: phase_name.to_string(),
    };
    let recorder = tokio::spawn(record(rx, rec_cfg));

    let sem = Arc::new(Semaphore::new(c.max_in_flight));
    let mut schedulers = Vec::new();
    for (i, (op, rate)) in ops.iter().enumerate() {
        let job = OpJob {
            index: i,
            op: op.clone(),
            arrivals: Arrivals { rate: *rate, ramp: phase.ramp_secs },
            start,
            end_secs,
            sem: sem.clone(),
            http: http.clone(),
            tx: tx.clone(),
            timeout,
        };
        schedulers.push(tokio::spawn(schedule_op(job)));
    }
    drop(tx);
    let mut in_flight_waits = 0;
    for s in schedulers {
        in_flight_waits += s.await.map_err(|e| LoadError::Internal(format!("scheduler task: {e}")))?;
    }
    // The recorder ends when the last request task has reported.
    let rec = recorder.await.map_err(|e| LoadError::Internal(format!("recorder task: {e}")))??;

    let duration = phase.duration_secs;
    let operations = ops
        .iter()
        .zip(rec.ops.iter())
        .map(|((p, rate), r)| {
            let total = r.failures.total();
            let done = r.ok + total;
            let slo_value_us = match slo.percentile {
                Percentile::All => r.latency.max(),
                Percentile::Q(q) => r.latency.value_at_quantile(q),
            };
            OpReport {
                name: p.name.clone(),
                target_rate: *rate,
                achieved_rate: r.completed_in_window as f64 / duration,
                intended: r.intended,
                completed: done,
                ok: r.ok,
                error_rate: if done == 0 { 0.0 } else { total as f64 / done as f64 },
                failures: r.failures.clone(),
                latency_ms: Quantiles::of(&r.latency),
                service_ms: Quantiles::of(&r.service),
                below_threshold: if r.latency.is_empty() { 0.0 } else { r.latency.quantile_below(threshold_ms.saturating_mul(1000)) },
                slo_value_ms: slo_value_us as f64 / 1000.0,
            }
        })
        .collect();
    let late_fraction = if rec.sends == 0 { 0.0 } else { rec.late as f64 / rec.sends as f64 };
    let schedule = ScheduleReport {
        tolerance_ms: c.schedule_tolerance_ms,
        max_late_fraction: c.max_late_fraction,
        sends: rec.sends,
        late: rec.late,
        late_fraction,
        lag_p99_ms: if rec.lag.is_empty() { 0.0 } else { rec.lag.value_at_quantile(0.99) as f64 / 1000.0 },
        lag_max_ms: if rec.lag.is_empty() { 0.0 } else { rec.lag.max() as f64 / 1000.0 },
        in_flight_waits,
        max_in_flight: c.max_in_flight,
        kept: late_fraction <= c.max_late_fraction,
    };
    let report = PhaseReport {
        phase: phase_name.to_string(),
        started_at,
        duration_secs: duration,
        warmup_secs: phase.warmup_secs,
        ramp_secs: phase.ramp_secs,
        timeout_ms: c.timeout_ms,
        slo,
        schedule,
        operations,
        interval_log: log_path,
        rss_max_kb: rec.rss_max_kb,
    };
    if let Some(dir) = &opts.out_dir {
        let path = dir.join(format!("{phase_name}.json"));
        let json = serde_json::to_vec_pretty(&report).map_err(|e| LoadError::Output(e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| LoadError::Output(format!("{}: {e}", path.display())))?;
    }
    Ok(report)
}

struct OpJob {
    index: usize,
    op: Arc<Prepared>,
    arrivals: Arrivals,
    start: Instant,
    end_secs: f64,
    sem: Arc<Semaphore>,
    http: HttpClient,
    tx: mpsc::UnboundedSender<Sample>,
    timeout: Duration,
}

/// Send requests of one operation at their intended times; returns how often
/// the in-flight limit made it wait. Late sends still measure from the
/// intended time, so waiting here never hides latency.
async fn schedule_op(job: OpJob) -> u64 {
    let mut waits = 0;
    let mut k = 0u64;
    loop {
        let offset = job.arrivals.intended(k);
        if offset >= job.end_secs {
            break;
        }
        k += 1;
        let intended = job.start + Duration::from_secs_f64(offset);
        if intended > Instant::now() {
            tokio::time::sleep_until(intended.into()).await;
        }
        let permit = match job.sem.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                waits += 1;
                match job.sem.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => break,
                }
            }
        };
        let Ok(req) = job.op.request() else { break };
        let (http, op, tx, timeout, start, index) = (job.http.clone(), job.op.clone(), job.tx.clone(), job.timeout, job.start, job.index);
        tokio::spawn(async move {
            let sent = Instant::now();
            let res = tokio::time::timeout(timeout, client::send(&http, req)).await;
            let done = Instant::now();
            drop(permit);
            let failure = match res {
                Err(_) => Some(Failure::Timeout),
                Ok(Err(e)) => {
                    tracing::debug!(op = %op.name, error = %e, "request failed");
                    Some(Failure::Transport)
                }
                Ok(Ok((status, body, _))) => op.check(status, &body),
            };
            let (mut latency, mut service) = (done - intended, done - sent);
            if failure.is_some() {
                // A failure is never faster than the timeout.
                latency = latency.max(timeout);
                service = service.max(timeout);
            }
            let _ = tx.send(Sample {
                op: index,
                intended: intended - start,
                done: done - start,
                latency_us: us(latency),
                service_us: us(service),
                lag_us: us(sent.saturating_duration_since(intended)),
                failure,
            });
        });
    }
    waits
}

struct RecCfg {
    names: Vec<String>,
    measure_start: Duration,
    end: Duration,
    tolerance_us: u64,
    interval: Duration,
    log_path: Option<PathBuf>,
    wall_start: SystemTime,
    start: Instant,
    progress: Option<indicatif::ProgressBar>,
    phase: String,
}

struct OpRec {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    interval: Histogram<u64>,
    intended: u64,
    ok: u64,
    failures: Failures,
    completed_in_window: u64,
}

struct RecOut {
    ops: Vec<OpRec>,
    lag: Histogram<u64>,
    sends: u64,
    late: u64,
    rss_max_kb: Option<u64>,
}

async fn record(mut rx: mpsc::UnboundedReceiver<Sample>, cfg: RecCfg) -> Result<RecOut, LoadError> {
    let mut ops: Vec<OpRec> = cfg
        .names
        .iter()
        .map(|_| OpRec {
            latency: histogram(),
            service: histogram(),
            interval: histogram(),
            intended: 0,
            ok: 0,
            failures: Failures::default(),
            completed_in_window: 0,
        })
        .collect();
    let mut lag = histogram();
    let (mut sends, mut late) = (0u64, 0u64);
    let mut rss_max_kb = rss_kb();
    let tags: Vec<String> = cfg.names.iter().map(|n| n.replace([',', ' ', '\r', '\n'], "_")).collect();

    let mut file = match &cfg.log_path {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| LoadError::Output(format!("{}: {e}", p.display())))?)),
        None => None,
    };
    let mut serializer = V2DeflateSerializer::new();
    let mut log = match file.as_mut() {
        Some(f) => Some(
            IntervalLogWriterBuilder::new()
                .add_comment(&format!("gcverify-loadgen phase {} latency (completion - intended send), microseconds", cfg.phase))
                .with_start_time(cfg.wall_start)
                .with_base_time(cfg.wall_start)
                .with_max_value_divisor(1000.0)
                .begin_log_with(f, &mut serializer)
                .map_err(|e| LoadError::Output(e.to_string()))?,
        ),
        None => None,
    };

    let mut tick = tokio::time::interval(cfg.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut last = Instant::now();
    let mut interval_start = Duration::ZERO;
    let mut interval_n = 0u64;
    let mut interval_err = 0u64;
    let mut errors_total = 0u64;
    loop {
        tokio::select! {
            s = rx.recv() => {
                let Some(s) = s else { break };
                sends += 1;
                lag.saturating_record(s.lag_us);
                if s.lag_us > cfg.tolerance_us { late += 1; }
                let r = &mut ops[s.op];
                r.interval.saturating_record(s.latency_us);
                interval_n += 1;
                if s.failure.is_some() { interval_err += 1; errors_total += 1; }
                if s.done >= cfg.measure_start && s.done < cfg.end {
                    r.completed_in_window += 1;
                }
                if s.intended >= cfg.measure_start {
                    r.intended += 1;
                    r.latency.saturating_record(s.latency_us);
                    r.service.saturating_record(s.service_us);
                    match s.failure {
                        None => r.ok += 1,
                        Some(Failure::Status(_)) => r.failures.status += 1,
                        Some(Failure::Body) => r.failures.body += 1,
                        Some(Failure::Timeout) => r.failures.timeout += 1,
                        Some(Failure::Transport) => r.failures.transport += 1,
                    }
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let elapsed = now - cfg.start;
                let secs = (now - last).as_secs_f64();
                let p95 = ops.iter().filter(|o| !o.interval.is_empty()).map(|o| o.interval.value_at_quantile(0.95)).max().unwrap_or(0);
                if let Some(bar) = &cfg.progress {
                    bar.set_message(format!(
                        "{} {:.0}/{:.0}s  rate {:.0}/s  errors {} ({} now)  p95 {:.1} ms",
                        cfg.phase, elapsed.as_secs_f64(), cfg.end.as_secs_f64(), interval_n as f64 / secs, errors_total, interval_err, p95 as f64 / 1000.0
                    ));
                }
                flush(&mut log, &mut ops, &tags, interval_start, elapsed)?;
                rss_max_kb = rss_max_kb.max(rss_kb());
                interval_start = elapsed;
                last = now;
                interval_n = 0;
                interval_err = 0;
            }
        }
    }
    flush(&mut log, &mut ops, &tags, interval_start, cfg.start.elapsed())?;
    drop(log);
    if let Some(mut f) = file {
        use std::io::Write;
        f.flush().map_err(|e| LoadError::Output(e.to_string()))?;
    }
    if let Some(bar) = &cfg.progress {
        bar.finish_and_clear();
    }
    rss_max_kb = rss_max_kb.max(rss_kb());
    Ok(RecOut { ops, lag, sends, late, rss_max_kb })
}

type Log<'a, 'b> = hdrhistogram::serialization::interval_log::IntervalLogWriter<'a, 'b, std::io::BufWriter<std::fs::File>, V2DeflateSerializer>;

fn flush(log: &mut Option<Log<'_, '_>>, ops: &mut [OpRec], tags: &[String], from: Duration, to: Duration) -> Result<(), LoadError> {
    for (r, tag) in ops.iter_mut().zip(tags) {
        if let Some(log) = log.as_mut() {
            if !r.interval.is_empty() {
                log.write_histogram(&r.interval, from, to.saturating_sub(from), Tag::new(tag))
                    .map_err(|e| LoadError::Output(format!("interval log: {e:?}")))?;
            }
        }
        r.interval.reset();
    }
    Ok(())
}

fn progress_bar(phase: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} 負荷 {msg}") {
        bar.set_style(style);
    }
    bar.set_message(format!("{phase} starting"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Resident memory of this process (VmRSS), in KiB.
pub fn rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}
