//! What one phase measured, and the verdict against the SLO.

use serde::Serialize;

use crate::profile::Percentile;

/// The SLO a phase is judged against: the threshold comes from the selected
/// level, the percentile from the profile.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Slo {
    pub threshold_ms: u64,
    #[serde(serialize_with = "ser_pct")]
    pub percentile: Percentile,
    pub max_error_rate: f64,
}

fn ser_pct<S: serde::Serializer>(p: &Percentile, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Quantiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Quantiles {
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Self::default();
        }
        Self {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Failures {
    /// Unexpected status code.
    pub status: u64,
    /// Body lacked the expected text.
    pub body: u64,
    /// No complete answer within the timeout.
    pub timeout: u64,
    /// Connection refused/reset, protocol errors.
    pub transport: u64,
}

impl Failures {
    pub fn total(&self) -> u64 {
        self.status + self.body + self.timeout + self.transport
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OpReport {
    pub name: String,
    pub target_rate: f64,
    /// Requests answered (any outcome) per second of the measured window.
    pub achieved_rate: f64,
    /// Requests whose intended time fell in the measured window.
    pub intended: u64,
    pub completed: u64,
    pub ok: u64,
    pub failures: Failures,
    pub error_rate: f64,
    /// completion − intended send time (failures recorded at ≥ the timeout).
    pub latency_ms: Quantiles,
    /// completion − actual send time (what a closed-model tool reports).
    pub service_ms: Quantiles,
    /// Fraction of requests answered within the threshold.
    pub below_threshold: f64,
    /// The latency at the SLO percentile (max for `all`).
    pub slo_value_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduleReport {
    pub tolerance_ms: u64,
    pub max_late_fraction: f64,
    pub sends: u64,
    /// Sends more than `tolerance_ms` behind their intended time.
    pub late: u64,
    pub late_fraction: f64,
    pub lag_p99_ms: f64,
    pub lag_max_ms: f64,
    /// Times the in-flight limit made the scheduler wait.
    pub in_flight_waits: u64,
    pub max_in_flight: usize,
    pub kept: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    pub phase: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub duration_secs: f64,
    pub warmup_secs: f64,
    pub ramp_secs: f64,
    pub timeout_ms: u64,
    pub slo: Slo,
    pub schedule: ScheduleReport,
    pub operations: Vec<OpReport>,
    /// V2 interval log of the latency histograms (one tag per operation).
    pub interval_log: Option<std::path::PathBuf>,
    /// Peak resident memory of the process during the phase, if readable.
    pub rss_max_kb: Option<u64>,
}

/// The outcome for the row.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ok,
    /// Violations, one text per operation.
    Ng(Vec<String>),
    /// Could not measure honestly.
    Error(String),
}

impl PhaseReport {
    pub fn verdict(&self) -> Verdict {
        let s = &self.schedule;
        if !s.kept {
            return Verdict::Error(format!(
                "load generator fell behind its schedule: {} of {} sends ({:.2}%) more than {} ms late (max lag {:.0} ms, in-flight limit {} reached {} times); the figures would understate the load",
                s.late,
                s.sends,
                s.late_fraction * 100.0,
                s.tolerance_ms,
                s.lag_max_ms,
                s.max_in_flight,
                s.in_flight_waits
            ));
        }
        if let Some(op) = self.operations.iter().find(|o| o.completed == 0) {
            return Verdict::Error(format!("operation `{}`: no request completed in the measured window", op.name));
        }
        let mut ng = Vec::new();
        for op in &self.operations {
            if op.slo_value_ms > self.slo.threshold_ms as f64 {
                ng.push(format!("{}: {} = {:.1} ms > {} ms", op.name, self.slo.percentile, op.slo_value_ms, self.slo.threshold_ms));
            }
            if op.error_rate > self.slo.max_error_rate {
                ng.push(format!(
                    "{}: error rate {:.2}% > {:.2}% (status {}, body {}, timeout {}, transport {})",
                    op.name,
                    op.error_rate * 100.0,
                    self.slo.max_error_rate * 100.0,
                    op.failures.status,
                    op.failures.body,
                    op.failures.timeout,
                    op.failures.transport
                ));
            }
        }
        if ng.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Ng(ng)
        }
    }
}

impl OpReport {
    /// One line for evidence and the terminal. The offered rate (the schedule's)
    /// and the completed rate (answers in the measured window) are said apart:
    /// a low completed rate at a high offered one is a slow or failing system,
    /// not a load never applied.
    pub fn line(&self) -> String {
        self.said(false)
    }

    /// [`Self::line`] in Japanese.
    pub fn line_ja(&self) -> String {
        self.said(true)
    }

    /// The figures once, said in Japanese or English.
    fn said(&self, ja: bool) -> String {
        let (name, offered, due, completed_rate, n, ok) = (&self.name, self.target_rate, self.intended, self.achieved_rate, self.completed, self.ok);
        let (errors, error_pct, within) = (self.failures.total(), self.error_rate * 100.0, self.below_threshold * 100.0);
        let (status, body, timeout, transport) = (self.failures.status, self.failures.body, self.failures.timeout, self.failures.transport);
        let l = &self.latency_ms;
        let (p50, p90, p95, p99, p999, max) = (l.p50, l.p90, l.p95, l.p99, l.p999, l.max);
        let (s50, s99) = (self.service_ms.p50, self.service_ms.p99);
        if ja {
            format!(
                "{name}: 送信レート {offered:.1}/秒（計測区間内の予定 {due}件）、完了レート {completed_rate:.1}/秒; n={n} 正常={ok} エラー={errors}（{error_pct:.2}%: ステータス {status}、本文 {body}、タイムアウト {timeout}、通信 {transport}）; 応答時間 p50 {p50:.1} p90 {p90:.1} p95 {p95:.1} p99 {p99:.1} p99.9 {p999:.1} 最大 {max:.1} ms; サービス時間 p50 {s50:.1} p99 {s99:.1} ms; 上限内 {within:.2}%"
            )
        } else {
            format!(
                "{name}: offered {offered:.1}/s ({due} due in the measured window), completed {completed_rate:.1}/s; n={n} ok={ok} errors={errors} ({error_pct:.2}%: status {status}, body {body}, timeout {timeout}, transport {transport}); latency p50 {p50:.1} p90 {p90:.1} p95 {p95:.1} p99 {p99:.1} p99.9 {p999:.1} max {max:.1} ms; service p50 {s50:.1} p99 {s99:.1} ms; within threshold {within:.2}%"
            )
        }
    }
}

/// The interval log's tag prefix of an operation's warm-up samples (`warmup:<operation>`):
/// sent, not judged, and not drawn.
pub const WARMUP_TAG_PREFIX: &str = "warmup:";

/// One operation's latency percentile distribution read back from an interval log:
/// the samples the verdict counted (intended in the measured window).
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// The operation (the log's tag).
    pub name: String,
    /// (quantile 0..=1, latency ms), ascending, ending at the maximum.
    pub points: Vec<(f64, f64)>,
    /// Samples in the distribution: the verdict's n.
    pub count: u64,
    /// Warm-up samples the log also holds, left out of `points` and `count`.
    pub warmup: u64,
}

/// The percentile distribution per operation of a V2 interval log written by
/// [`crate::run_phase`] (every interval of a tag added up), for charts.
pub fn read_distributions(path: &std::path::Path) -> Result<Vec<Distribution>, String> {
    use base64::Engine as _;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut per_tag: Vec<(String, hdrhistogram::Histogram<u64>)> = Vec::new();
    let mut warmup: Vec<(String, u64)> = Vec::new();
    let mut de = hdrhistogram::serialization::Deserializer::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| format!("{}: not an interval log: {e:?}", path.display()))?;
        let LogEntry::Interval(i) = entry else { continue };
        let tag = i.tag().map(|t| t.as_str().to_string()).unwrap_or_default();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(i.encoded_histogram())
            .map_err(|e| format!("{}: interval of `{tag}` is not base64: {e}", path.display()))?;
        let h: hdrhistogram::Histogram<u64> =
            de.deserialize(&mut std::io::Cursor::new(raw)).map_err(|e| format!("{}: interval of `{tag}` does not decode: {e:?}", path.display()))?;
        if let Some(op) = tag.strip_prefix(WARMUP_TAG_PREFIX) {
            match warmup.iter_mut().find(|(t, _)| t == op) {
                Some((_, n)) => *n += h.len(),
                None => warmup.push((op.to_string(), h.len())),
            }
            continue;
        }
        match per_tag.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, total)) => total.add(&h).map_err(|e| format!("{}: adding intervals of `{tag}`: {e:?}", path.display()))?,
            None => per_tag.push((tag, h)),
        }
    }
    Ok(per_tag
        .into_iter()
        .map(|(name, h)| {
            let mut points: Vec<(f64, f64)> =
                h.iter_quantiles(4).map(|v| (v.quantile_iterated_to(), h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0)).collect();
            points.dedup_by(|b, a| a.0 == b.0);
            let warmup = warmup.iter().find(|(t, _)| *t == name).map_or(0, |(_, n)| *n);
            Distribution { name, points, count: h.len(), warmup }
        })
        .collect())
}
