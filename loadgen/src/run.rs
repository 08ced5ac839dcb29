//! Running one phase, wrk2-style.
//!
//! Generator threads (`[client] threads`, default 1 — one thread sustains
//! ~58,000 req/s against nginx on the bench machine), each with its own
//! current-thread tokio runtime, take every N-th intended slot of each
//! operation's schedule (fixed in advance from the rate). On each thread a
//! small set of **workers** — one HTTP/1.1 connection each, grown on demand
//! up to the thread's share of `max_in_flight` — pass a turn around: the
//! worker holding the turn claims the next slot, sleeps until its intended
//! time if that is still ahead (never when behind), hands the turn on and
//! sends on its own connection. Samples go straight into the thread's
//! HdrHistograms: no task or channel message per request. The caller's task
//! folds the threads' interval histograms into the V2 interval log and the
//! live view, and merges everything at the end.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use crate::client::{self, Conn, Connector, Failure, Prepared, Target};
use crate::profile::{Percentile, Profile};
use crate::results::{Failures, OpReport, PhaseReport, Quantiles, ScheduleReport, Slo, WARMUP_TAG_PREFIX};
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

/// A late slot counts against the in-flight limit when every connection was busy
/// and the slot was claimed more than this behind its intended time.
const LIMIT_LAG: Duration = Duration::from_millis(1);

/// Run phase `phase_name` of `profile`, judged against `threshold_ms` (from the selected level).
pub async fn run_phase(profile: &Profile, phase_name: &str, threshold_ms: u64, opts: &RunOptions) -> Result<PhaseReport, LoadError> {
    let phase = profile.phase.get(phase_name).ok_or_else(|| {
        LoadError::Profile(format!("the load profile has no phase `{phase_name}` (has: {})", profile.phase.keys().cloned().collect::<Vec<_>>().join(", ")))
    })?;
    let base = opts.base_url.as_deref().or(profile.base_url.as_deref());
    let c = &profile.client;
    let timeout = Duration::from_millis(c.timeout_ms);
    let auth = match &profile.login {
        Some(l) => client::login(&client::build(1)?, l, base, timeout).await?,
        None => Vec::new(),
    };
    let mut ops = Vec::new();
    for op in &profile.operations {
        if let Some(rate) = phase.rates.get(&op.name) {
            let p = Prepared::new(op, base, &auth)?;
            p.request()?; // fail now, not per request
            ops.push(OpPlan { target: Target::new(Arc::new(p))?, arrivals: Arrivals { rate: *rate, ramp: phase.ramp_secs } });
        }
    }
    let connector = client::connector()?;
    let slo = Slo { threshold_ms, percentile: phase.percentile, max_error_rate: phase.max_error_rate };
    let measure_start = Duration::from_secs_f64(phase.measure_start_secs());
    let end_secs = phase.total_secs();
    let interval = Duration::from_millis(c.interval_ms.unwrap_or(1000).max(10));

    if let Some(dir) = &opts.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| LoadError::Output(format!("{}: {e}", dir.display())))?;
    }
    let log_path = opts.out_dir.as_ref().map(|d| d.join(format!("{phase_name}.hlog")));
    let names: Vec<String> = ops.iter().map(|o| o.target.prepared.name.clone()).collect();

    let threads = c.threads.unwrap_or(1).clamp(1, c.max_in_flight);
    let started_at = chrono::Utc::now();
    let wall_start = SystemTime::now();
    // A little lead so that the threads are up before the first slot is due.
    let start = Instant::now() + Duration::from_millis(5);
    let common = Arc::new(Common {
        ops,
        start,
        end_secs,
        measure_start,
        end: Duration::from_secs_f64(end_secs),
        timeout,
        tolerance_us: c.schedule_tolerance_ms * 1000,
        connector,
        stop: AtomicBool::new(false),
    });
    // Tells the threads to stop claiming slots if this future is dropped (a probe timeout).
    let _stop = StopOnDrop(common.clone());
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut recs = Vec::new();
    let mut handles = Vec::new();
    for index in 0..threads {
        let rec = Arc::new(Mutex::new(ThreadRec::new(names.len())));
        recs.push(rec.clone());
        let plan = ThreadPlan { index, stride: threads, max_workers: c.max_in_flight / threads + usize::from(index < c.max_in_flight % threads) };
        let (common, done) = (common.clone(), done_tx.clone());
        let handle = std::thread::Builder::new()
            .name(format!("loadgen-{index}"))
            .spawn(move || {
                let r = generator_thread(plan, common, rec);
                drop(done);
                r
            })
            .map_err(|e| LoadError::Internal(format!("starting a generator thread: {e}")))?;
        handles.push(handle);
    }
    drop(done_tx);

    // ---- while the threads run: interval log, live view, memory
    let progress = opts.progress.then(|| progress_bar(phase_name));
    let mut file = match &log_path {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| LoadError::Output(format!("{}: {e}", p.display())))?)),
        None => None,
    };
    let mut serializer = V2DeflateSerializer::new();
    let mut log = match file.as_mut() {
        Some(f) => Some(
            IntervalLogWriterBuilder::new()
                .add_comment(&format!("gcverify-loadgen phase {phase_name} latency (completion - intended send), microseconds"))
                .with_start_time(wall_start)
                .with_base_time(wall_start)
                .with_max_value_divisor(1000.0)
                .begin_log_with(f, &mut serializer)
                .map_err(|e| LoadError::Output(e.to_string()))?,
        ),
        None => None,
    };
    let mut totals: Vec<OpRec> = names.iter().map(|_| OpRec::new()).collect();
    let mut rss_max_kb = rss_kb();
    let tags: Vec<String> = names.iter().map(|n| n.replace([',', ' ', '\r', '\n'], "_")).collect();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::from_std(start + interval), interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut interval_start = Duration::ZERO;
    let mut last = start;
    let mut errors_total = 0u64;
    let end = Duration::from_secs_f64(end_secs);
    loop {
        tokio::select! {
            d = done_rx.recv() => if d.is_none() { break },
            _ = tick.tick() => {
                let now = Instant::now();
                let elapsed = now.saturating_duration_since(start);
                let (n, err) = take_intervals(&recs, &mut totals);
                errors_total += err;
                if let Some(bar) = &progress {
                    let secs = now.saturating_duration_since(last).as_secs_f64().max(1e-3);
                    let p95 = totals
                        .iter()
                        .flat_map(|o| [&o.interval, &o.warmup_interval])
                        .filter(|h| !h.is_empty())
                        .map(|h| h.value_at_quantile(0.95))
                        .max()
                        .unwrap_or(0);
                    bar.set_message(format!(
                        "{} {:.0}/{:.0}s  rate {:.0}/s  errors {} ({} now)  p95 {:.1} ms",
                        phase_name, elapsed.as_secs_f64(), end.as_secs_f64(), n as f64 / secs, errors_total, err, p95 as f64 / 1000.0
                    ));
                }
                flush(&mut log, &mut totals, &tags, interval_start, elapsed)?;
                rss_max_kb = rss_max_kb.max(rss_kb());
                interval_start = elapsed;
                last = now;
            }
        }
    }
    for h in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(LoadError::Internal(format!("generator thread: {e}"))),
            Err(_) => return Err(LoadError::Internal("a generator thread panicked".into())),
        }
    }
    take_intervals(&recs, &mut totals);
    flush(&mut log, &mut totals, &tags, interval_start, start.elapsed())?;
    drop(log);
    if let Some(mut f) = file {
        use std::io::Write;
        f.flush().map_err(|e| LoadError::Output(e.to_string()))?;
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    rss_max_kb = rss_max_kb.max(rss_kb());

    // ---- merge the threads' histograms and counters
    let mut lag = histogram();
    let (mut sends, mut late, mut in_flight_waits) = (0u64, 0u64, 0u64);
    for rec in &recs {
        let r = lock(rec);
        for (t, o) in totals.iter_mut().zip(&r.ops) {
            t.merge(o);
        }
        merge_hist(&mut lag, &r.lag);
        sends += r.sends;
        late += r.late;
        in_flight_waits += r.in_flight_waits;
    }

    let duration = phase.duration_secs;
    let operations = common
        .ops
        .iter()
        .zip(totals.iter())
        .map(|(plan, r)| {
            let total = r.failures.total();
            let done = r.ok + total;
            let slo_value_us = match slo.percentile {
                Percentile::All => r.latency.max(),
                Percentile::Q(q) => r.latency.value_at_quantile(q),
            };
            OpReport {
                name: plan.target.prepared.name.clone(),
                target_rate: plan.arrivals.rate,
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
    let late_fraction = if sends == 0 { 0.0 } else { late as f64 / sends as f64 };
    let schedule = ScheduleReport {
        tolerance_ms: c.schedule_tolerance_ms,
        max_late_fraction: c.max_late_fraction,
        sends,
        late,
        late_fraction,
        lag_p99_ms: if lag.is_empty() { 0.0 } else { lag.value_at_quantile(0.99) as f64 / 1000.0 },
        lag_max_ms: if lag.is_empty() { 0.0 } else { lag.max() as f64 / 1000.0 },
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
        rss_max_kb,
    };
    if let Some(dir) = &opts.out_dir {
        let path = dir.join(format!("{phase_name}.json"));
        let json = serde_json::to_vec_pretty(&report).map_err(|e| LoadError::Output(e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| LoadError::Output(format!("{}: {e}", path.display())))?;
    }
    Ok(report)
}

/// One operation: where it goes and when its requests are due.
struct OpPlan {
    target: Target,
    arrivals: Arrivals,
}

/// What every generator thread shares (read-only, apart from the stop flag).
struct Common {
    ops: Vec<OpPlan>,
    start: Instant,
    end_secs: f64,
    measure_start: Duration,
    end: Duration,
    timeout: Duration,
    tolerance_us: u64,
    connector: Connector,
    stop: AtomicBool,
}

struct StopOnDrop(Arc<Common>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
    }
}

/// Thread `index` of `stride` takes slots index, index + stride, ... of every operation.
#[derive(Debug, Clone, Copy)]
struct ThreadPlan {
    index: usize,
    stride: usize,
    max_workers: usize,
}

fn lock(rec: &Mutex<ThreadRec>) -> MutexGuard<'_, ThreadRec> {
    rec.lock().unwrap_or_else(|e| e.into_inner())
}

fn merge_hist(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    // Same bounds everywhere, so adding cannot fail.
    let _ = into.add(from);
}

fn generator_thread(plan: ThreadPlan, common: Arc<Common>, rec: Arc<Mutex<ThreadRec>>) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    let next = common.ops.iter().map(|o| (plan.index as u64, o.arrivals.intended(plan.index as u64))).collect();
    let state = Rc::new(Local { common, plan, next: RefCell::new(next), turn: tokio::sync::Mutex::new(()), workers: Cell::new(1), busy: Cell::new(0), rec });
    local.spawn_local(worker(state, false));
    // The LocalSet completes when its last worker has ended.
    rt.block_on(local);
    Ok(())
}

/// One generator thread's state, shared by its workers.
struct Local {
    common: Arc<Common>,
    plan: ThreadPlan,
    /// Per operation: the next slot index of this thread and its intended offset (s).
    next: RefCell<Vec<(u64, f64)>>,
    /// Held by the worker that claims the next slot and waits for its time.
    turn: tokio::sync::Mutex<()>,
    workers: Cell<usize>,
    /// Workers with a request outstanding.
    busy: Cell<usize>,
    rec: Arc<Mutex<ThreadRec>>,
}

impl Local {
    /// The earliest unclaimed slot of this thread over all operations, if any is left before the end.
    fn claim(&self) -> Option<(usize, f64)> {
        let mut next = self.next.borrow_mut();
        let (op, &(k, offset)) = next.iter().enumerate().filter(|(_, (_, off))| *off < self.common.end_secs).min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))?;
        let k = k + self.plan.stride as u64;
        next[op] = (k, self.common.ops[op].arrivals.intended(k));
        Some((op, offset))
    }
}

/// A worker: one connection (per endpoint), one request at a time.
///
/// A worker added while the others are busy (`connect_ahead`) opens its
/// connection before it takes the turn, so the connect does not delay a slot.
/// It does not count as busy meanwhile: counting it would add another worker
/// at every hand-over during the connect, and at tens of thousands of
/// requests per second that runs away (measured: 8.6 % late sends, lag p99
/// 168 ms at 33,000/s against nginx; 1.5 ms without).
async fn worker(local: Rc<Local>, connect_ahead: bool) {
    let c = local.common.clone();
    let mut connector = c.connector.clone();
    let mut conns: Vec<Option<Conn>> = c.ops.iter().map(|_| None).collect();
    if connect_ahead {
        if let Some(first) = c.ops.first() {
            if let Ok(Ok(conn)) = tokio::time::timeout(c.timeout, Conn::open(&mut connector, &first.target.endpoint)).await {
                conns[0] = Some(conn);
            }
        }
    }
    // Operations sharing an endpoint share the connection.
    let slot_of: Vec<usize> = c.ops.iter().map(|o| c.ops.iter().position(|p| p.target.endpoint == o.target.endpoint).unwrap_or(0)).collect();
    loop {
        let turn = local.turn.lock().await;
        if c.stop.load(Ordering::Relaxed) {
            break;
        }
        let Some((op, offset)) = local.claim() else { break };
        let intended = c.start + Duration::from_secs_f64(offset);
        let now = Instant::now();
        let mut limited = false;
        if intended > now {
            // Never sleep when behind: the timer's granularity is 1 ms.
            tokio::time::sleep_until(intended.into()).await;
        } else if now - intended > LIMIT_LAG && local.busy.get() + 1 >= local.plan.max_workers {
            limited = true;
        }
        // Hand the turn on. If every other worker is busy, add one (up to this thread's share of the limit).
        local.busy.set(local.busy.get() + 1);
        if local.busy.get() >= local.workers.get() && local.workers.get() < local.plan.max_workers {
            local.workers.set(local.workers.get() + 1);
            tokio::task::spawn_local(worker(local.clone(), true));
        }
        drop(turn);

        let plan = &c.ops[op];
        let keep_body = plan.target.prepared.expect_body.is_some();
        let sent = Instant::now();
        let res = tokio::time::timeout(c.timeout, client::exchange(&mut conns[slot_of[op]], &mut connector, &plan.target, keep_body)).await;
        let done = Instant::now();
        local.busy.set(local.busy.get() - 1);
        let failure = match res {
            Err(_) => {
                // The answer may still come on this connection: never reuse it.
                conns[slot_of[op]] = None;
                Some(Failure::Timeout)
            }
            Ok(Err(e)) => {
                tracing::debug!(op = %plan.target.prepared.name, error = %e, "request failed");
                Some(Failure::Transport)
            }
            Ok(Ok((status, body))) => plan.target.prepared.check(status, &body),
        };
        let (mut latency, mut service) = (done.saturating_duration_since(intended), done - sent);
        if failure.is_some() {
            // A failure is never faster than the timeout.
            latency = latency.max(c.timeout);
            service = service.max(c.timeout);
        }
        let sample = Sample {
            op,
            intended: intended.saturating_duration_since(c.start),
            done: done.saturating_duration_since(c.start),
            latency_us: us(latency),
            service_us: us(service),
            lag_us: us(sent.saturating_duration_since(intended)),
            failure,
        };
        lock(&local.rec).record(&sample, &c, limited);
    }
    local.workers.set(local.workers.get() - 1);
}

/// One operation's figures (per thread, then merged).
struct OpRec {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    /// Latency of the current interval (log and live view): the samples the verdict counts
    /// (intended in the measured window), so a chart of the log has the verdict's n.
    interval: Histogram<u64>,
    /// The current interval's warm-up samples, logged under their own tag ([`WARMUP_TAG_PREFIX`]).
    warmup_interval: Histogram<u64>,
    intended: u64,
    ok: u64,
    failures: Failures,
    completed_in_window: u64,
}

impl OpRec {
    fn new() -> Self {
        Self {
            latency: histogram(),
            service: histogram(),
            interval: histogram(),
            warmup_interval: histogram(),
            intended: 0,
            ok: 0,
            failures: Failures::default(),
            completed_in_window: 0,
        }
    }

    fn merge(&mut self, o: &OpRec) {
        merge_hist(&mut self.latency, &o.latency);
        merge_hist(&mut self.service, &o.service);
        self.intended += o.intended;
        self.ok += o.ok;
        self.failures.status += o.failures.status;
        self.failures.body += o.failures.body;
        self.failures.timeout += o.failures.timeout;
        self.failures.transport += o.failures.transport;
        self.completed_in_window += o.completed_in_window;
    }
}

/// What one generator thread recorded.
struct ThreadRec {
    ops: Vec<OpRec>,
    lag: Histogram<u64>,
    sends: u64,
    late: u64,
    in_flight_waits: u64,
    interval_n: u64,
    interval_err: u64,
}

impl ThreadRec {
    fn new(ops: usize) -> Self {
        Self { ops: (0..ops).map(|_| OpRec::new()).collect(), lag: histogram(), sends: 0, late: 0, in_flight_waits: 0, interval_n: 0, interval_err: 0 }
    }

    fn record(&mut self, s: &Sample, c: &Common, limited: bool) {
        self.sends += 1;
        self.lag.saturating_record(s.lag_us);
        if s.lag_us > c.tolerance_us {
            self.late += 1;
        }
        if limited {
            self.in_flight_waits += 1;
        }
        self.interval_n += 1;
        if s.failure.is_some() {
            self.interval_err += 1;
        }
        let r = &mut self.ops[s.op];
        if s.intended >= c.measure_start {
            r.interval.saturating_record(s.latency_us);
        } else {
            r.warmup_interval.saturating_record(s.latency_us);
        }
        if s.done >= c.measure_start && s.done < c.end {
            r.completed_in_window += 1;
        }
        if s.intended >= c.measure_start {
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
}

/// Move every thread's interval histograms into `totals`; returns (answers, failures) of the interval.
fn take_intervals(recs: &[Arc<Mutex<ThreadRec>>], totals: &mut [OpRec]) -> (u64, u64) {
    let (mut n, mut err) = (0, 0);
    for rec in recs {
        let mut r = lock(rec);
        for (t, o) in totals.iter_mut().zip(r.ops.iter_mut()) {
            for (total, own) in [(&mut t.interval, &mut o.interval), (&mut t.warmup_interval, &mut o.warmup_interval)] {
                if !own.is_empty() {
                    merge_hist(total, own);
                    own.reset();
                }
            }
        }
        n += std::mem::take(&mut r.interval_n);
        err += std::mem::take(&mut r.interval_err);
    }
    (n, err)
}

type Log<'a, 'b> = hdrhistogram::serialization::interval_log::IntervalLogWriter<'a, 'b, std::io::BufWriter<std::fs::File>, V2DeflateSerializer>;

/// Write each operation's interval histograms (if not empty: the measured one under the
/// operation's tag, the warm-up one under `warmup:<tag>`) and reset them.
fn flush(log: &mut Option<Log<'_, '_>>, ops: &mut [OpRec], tags: &[String], from: Duration, to: Duration) -> Result<(), LoadError> {
    for (r, tag) in ops.iter_mut().zip(tags) {
        if let Some(log) = log.as_mut() {
            let warmup_tag = format!("{WARMUP_TAG_PREFIX}{tag}");
            for (h, tag) in [(&r.interval, tag.as_str()), (&r.warmup_interval, warmup_tag.as_str())] {
                if !h.is_empty() {
                    log.write_histogram(h, from, to.saturating_sub(from), Tag::new(tag)).map_err(|e| LoadError::Output(format!("interval log: {e:?}")))?;
                }
            }
        }
        r.interval.reset();
        r.warmup_interval.reset();
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
