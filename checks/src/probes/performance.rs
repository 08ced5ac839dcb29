//! Performance probes:
//! - `performance.response_time` (B.2.1.4 通常時 / B.2.1.5 アクセス集中時):
//!   runs the `normal` / `peak` phase of the scenario's load profile with the
//!   open-model generator (gcverify-loadgen); threshold from the level.
//! - `performance.batch` (B.2.2.1 / B.2.2.2): each batch's duration (from a
//!   CloudWatch metric or a command) must fit the level's share of its window.
//! - `performance.workload` (B.1.1.x): metric assertions — a number from
//!   CloudWatch or a command compared with a limit or a baseline ± tolerance.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use gcverify_loadgen::{Profile, RunOptions, Verdict};
use gcverify_scenarios::{PerformanceCloudWatch, Scenario};
use serde::Deserialize;

use super::{Findings, ProbeInput};
use crate::model::{duration_text, Msg, Outcome};

/// IAM actions this module calls (batch and metric assertions read CloudWatch).
pub const ACTIONS: &[&str] = &["cloudwatch:GetMetricData"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "performance.response_time",
        ja: "負荷プロファイルを送信し、操作・フェーズごとの応答時間パーセンタイルを目標と比較",
        en: "Sends the load profile and compares response-time percentiles per operation and phase with the target",
        detail: "The scenario's load profile (`scenarios/load/*.toml`) run open-model (fixed arrival rate, latency from the intended send time, HdrHistogram); p95 (or the profile's percentile) under 3000/5000 ms; schedule misses → ERROR.",
        section: "[performance]",
        actions: ACTIONS,
        emulator: "local HTTP servers (open-model load generator)",
        claims: &[super::registry::claim("percentile-within-limit", "負荷をかけた実測の応答時間が上限内", "Measured response time under load is within the limit", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("too_few_requests_are_pending_not_ok", crate::probes::registry::Class::PartialObservation, "fewer requests than the minimum sample", crate::model::Outcome::Pending), crate::probes::registry::counterfeit("unreachable_target_is_ng_through_its_error_rate_not_ok", crate::probes::registry::Class::HappyPathOnly, "a target that answers nothing (fast errors)", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Only the requests of the load profile are timed; screens the profile does not name are not.")],
        run: |i| Box::pin(response_time(i)),
    },
    super::registry::ProbeDef {
        name: "performance.batch",
        ja: "バッチ処理時間（CloudWatchまたはコマンド）が処理時間枠の許容割合以内",
        en: "Batch durations (CloudWatch or a command) within the allowed share of their window",
        detail: "Each batch's duration (CloudWatch metric or a command) ≤ half its window, so a rerun fits.",
        section: "[[performance.batch]]",
        actions: ACTIONS,
        emulator: "commands; the CloudWatch source with mocks (the emulator extension's CBOR bridge serves GetMetricData, not yet seeded with metrics)",
        claims: &[super::registry::claim("batch-fits-window", "バッチの実測時間が時間枠の半分以内", "Measured batch duration fits half its window", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("batch_duration_from_a_command_must_leave_room_for_a_rerun", crate::probes::registry::Class::Nearest, "a batch taking more than half its window", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("an_empty_account_with_an_empty_scenario_has_no_ok_point", crate::probes::registry::Class::UnlistedData, "no batch declared", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "One observed run per batch (the latest metric datapoint or this run's command); a long run on another day is not seen."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "Whether a rerun completes in the rest of the window is not tried; the rule is duration ≤ half the window.")],
        run: |i| Box::pin(batch(i)),
    },
    super::registry::ProbeDef {
        name: "performance.workload",
        ja: "業務量の指標（利用者数・同時アクセス・データ量等）が上限・基準値の範囲内",
        en: "Workload metrics (users, concurrent access, data volume, ...) within their limits or baselines",
        detail: "Metric assertions: a CloudWatch metric or command compared with the declared limit or a baseline ± tolerance.",
        section: "[[performance.metric]]",
        actions: ACTIONS,
        emulator: "commands; the CloudWatch source with mocks (the emulator extension's CBOR bridge serves GetMetricData, not yet seeded with metrics)",
        claims: &[super::registry::claim("within-limit", "実測値が宣言した上限・基準の範囲内", "The measured value is within the declared limit or baseline", super::registry::Basis::Effect), super::registry::claim("compared-with-current", "移行後の実測値が現行システムの値（出典付き）と比べ大きな相違がない", "The value measured after the migration does not differ much from the current system's figure (with its source)", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("metric_assertions_against_limits_and_baselines", crate::probes::registry::Class::Nearest, "a value over its limit or off its baseline", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("data_totals_without_the_current_systems_figure_are_pending", crate::probes::registry::Class::HappyPathOnly, "a limit where the point asks for a before/after comparison", crate::model::Outcome::Pending)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "A metric is read over the scenario's period; a peak outside it is not seen."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Only the metrics the scenario declares are compared.")],
        run: |i| Box::pin(workload(i)),
    },
];

/// Show the load generator's live view on stderr (set by `xtask probe load`).
pub static LIVE_VIEW: AtomicBool = AtomicBool::new(false);

/// Load phases never overlap: two at once would each measure the other's load.
static LOAD_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------- levels (data)

#[derive(Debug, Deserialize)]
struct LevelTable {
    response_time: Vec<LevelRow>,
    batch: Vec<LevelRow>,
}

#[derive(Debug, Deserialize)]
struct LevelRow {
    items: Vec<String>,
    level: String,
    label: String,
    #[serde(default)]
    ms: Option<u64>,
    #[serde(default)]
    factor: Option<f64>,
}

fn levels() -> Result<&'static LevelTable, String> {
    static T: OnceLock<Result<LevelTable, String>> = OnceLock::new();
    T.get_or_init(|| toml::from_str(include_str!("performance_levels.toml")).map_err(|e| format!("performance_levels.toml: {e}")))
        .as_ref()
        .map_err(Clone::clone)
}

fn find<'a>(rows: &'a [LevelRow], item: &str, level: &str) -> Result<&'a LevelRow, String> {
    rows.iter()
        .find(|r| r.level == level && r.items.iter().any(|i| i == item))
        .ok_or_else(|| format!("level `{level}` of {item} has no defined target (performance_levels.toml)"))
}

/// The response-time threshold of a level: `Ok(None)` for 管理対象外.
pub fn threshold_ms(item: &str, level: &str) -> Result<(Option<u64>, String), String> {
    let row = find(&levels()?.response_time, item, level)?;
    Ok((row.ms, row.label.clone()))
}

/// The share of a batch window a batch may use: `Ok(None)` for 規定しない.
pub fn batch_factor(item: &str, level: &str) -> Result<(Option<f64>, String), String> {
    let row = find(&levels()?.batch, item, level)?;
    Ok((row.factor, row.label.clone()))
}

fn cannot(why: impl std::fmt::Display) -> Findings {
    Findings::cannot(&why, &why)
}

// ---------------------------------------------------------------- response time

/// The profile path (relative to the scenario file) and the output folder.
pub fn profile_path(s: &Scenario) -> Option<PathBuf> {
    let p = s.performance.profile.as_ref()?;
    Some(match s.path().and_then(|sp| sp.parent()) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.clone(),
    })
}

pub fn output_dir(s: &Scenario) -> PathBuf {
    s.performance.output_dir.clone().unwrap_or_else(|| PathBuf::from("target/gcverify").join(&s.environment.name).join("load"))
}

pub async fn response_time(input: Arc<ProbeInput>) -> Findings {
    let id = input.item.id.as_str();
    // Which profile phase stands for the item (catalog: params.phase).
    let phase = match input.item.param::<String>("phase") {
        Ok(p) => p,
        Err(e) => return cannot(e),
    };
    let (ms, label) = match threshold_ms(id, &input.level) {
        Ok(t) => t,
        Err(e) => return cannot(e),
    };
    let Some(threshold) = ms else {
        return Findings::decided(
            Outcome::NotApplicable,
            Msg::new(format!("対象外: 選択レベル{}（{label}）", input.level), format!("not applicable: level {} ({label})", input.level)),
        );
    };
    let s = &input.scenario;
    let Some(path) = profile_path(s) else {
        return Findings::cannot("シナリオに [performance] profile がない", "no [performance] profile in the scenario");
    };
    if !s.performance.enabled {
        return Findings::cannot(
            format!("負荷送信が無効（[performance] enabled = false）、プロファイル {}", path.display()),
            format!("load is disabled ([performance] enabled = false); profile {}", path.display()),
        );
    }
    let profile = match Profile::load(&path) {
        Ok(p) => p,
        Err(e) => return cannot(e),
    };
    let opts = RunOptions { base_url: s.performance.base_url.clone(), out_dir: Some(output_dir(s)), progress: LIVE_VIEW.load(Ordering::Relaxed) };
    let _guard = LOAD_LOCK.lock().await;
    let report = match gcverify_loadgen::run_phase(&profile, &phase, threshold, &opts).await {
        Ok(r) => r,
        Err(e) => return cannot(e),
    };
    drop(_guard);
    let mut f = judge_phase(&report, &label);
    // 観測不足: every operation of the phase needs its minimum number of requests.
    let required = super::observation::Required::of(&input, "performance.response_time");
    for op in &report.operations {
        required.samples(&format!("{phase}/{}", op.name), op.completed, &mut f);
    }
    f
}

/// Evidence and outcome from a measured phase.
pub fn judge_phase(report: &gcverify_loadgen::PhaseReport, label: &str) -> Findings {
    const SRC: &str = "loadgen";
    let mut f = Findings::new();
    f.period(report.started_at, report.started_at + chrono::Duration::milliseconds((report.duration_secs * 1000.0) as i64));
    let pct = report.slo.percentile.to_string();
    let thr = report.slo.threshold_ms;
    let sched = &report.schedule;
    let sched_text_ja = format!(
        "送信予定: {} 件、{} ms 超の遅れ {} 件（{:.2}%）、遅れ p99 {:.1} ms 最大 {:.1} ms、送信中の待ち {}",
        sched.sends,
        sched.tolerance_ms,
        sched.late,
        sched.late_fraction * 100.0,
        sched.lag_p99_ms,
        sched.lag_max_ms,
        sched.in_flight_waits
    );
    let sched_text = format!(
        "schedule: {} sends, {} late > {} ms ({:.2}%), lag p99 {:.1} ms max {:.1} ms, in-flight waits {}",
        sched.sends,
        sched.late,
        sched.tolerance_ms,
        sched.late_fraction * 100.0,
        sched.lag_p99_ms,
        sched.lag_max_ms,
        sched.in_flight_waits
    );
    match report.verdict() {
        Verdict::Error(why) => {
            for op in &report.operations {
                f.info(&op.name, None, Msg::new(format!("計測値 {}", op.line_ja()), op.line()), SRC);
            }
            f.error("load-generator", None, crate::msg!("負荷試験を判定できない: {why}", "{why}"), SRC);
            return f;
        }
        Verdict::Ng(_) | Verdict::Ok => {}
    }
    for op in &report.operations {
        let over = op.slo_value_ms > thr as f64;
        let errs = op.error_rate > report.slo.max_error_rate;
        let (line, line_ja) = (op.line(), op.line_ja());
        let value = op.slo_value_ms;
        let mut detail = crate::msg!("{pct} {value:.1} ms ≤ {thr} ms。計測値 {line_ja}", "{pct} {value:.1} ms ≤ {thr} ms; {line}");
        if over {
            detail = crate::msg!("{pct} {value:.1} ms > {thr} ms。計測値 {line_ja}", "{pct} {value:.1} ms > {thr} ms; {line}");
        }
        if errs {
            let (rate, max) = (op.error_rate * 100.0, report.slo.max_error_rate * 100.0);
            detail = detail.wrap((&format!("エラー率 {rate:.2}% > {max:.2}%。"), ""), (&format!("error rate {rate:.2}% > {max:.2}%; "), ""));
        }
        if over || errs {
            f.fail(&op.name, None, detail, SRC);
        } else {
            f.pass(&op.name, None, detail, SRC);
        }
    }
    f.info("load-generator", None, Msg::new(sched_text_ja, sched_text), SRC);
    if let Some(log) = &report.interval_log {
        f.info("histograms", None, crate::msg!("HdrHistogram V2 区間ログ: {0}", "HdrHistogram V2 interval log: {0}", log.display()), SRC);
        f.figure(crate::model::Figure::LatencyLog { phase: report.phase.clone(), log: log.display().to_string(), threshold_ms: thr, percentile: pct.clone() });
    }
    let worst = report.operations.iter().map(|o| o.slo_value_ms).fold(0.0, f64::max);
    f.ok_summary(Msg::new(
        format!(
            "{}（{label}）: 主要処理{}件の{pct}がすべて{thr}ms以内（最大 {worst:.0}ms、{}秒間の実測）",
            report.phase,
            report.operations.len(),
            report.duration_secs
        ),
        format!(
            "{} ({label}): {pct} of all {} operations within {thr} ms (worst {worst:.0} ms, measured for {} s)",
            report.phase,
            report.operations.len(),
            report.duration_secs
        ),
    ));
    f
}

// ---------------------------------------------------------------- batch windows

pub async fn batch(input: Arc<ProbeInput>) -> Findings {
    let id = input.item.id.as_str();
    let (factor, label) = match batch_factor(id, &input.level) {
        Ok(t) => t,
        Err(e) => return cannot(e),
    };
    let Some(factor) = factor else {
        return Findings::decided(
            Outcome::NotApplicable,
            Msg::new(format!("対象外: 選択レベル{}（{label}）", input.level), format!("not applicable: level {} ({label})", input.level)),
        );
    };
    let batches: Vec<_> = input.scenario.performance.batch.iter().filter(|b| b.item == id).collect();
    if batches.is_empty() {
        return Findings::cannot(format!("シナリオの [[performance.batch]] に {id} のバッチがない"), format!("no [[performance.batch]] for {id}"));
    }
    let mut f = Findings::new();
    for b in batches {
        let Some(secs) = read_number(&input, b.cloudwatch.as_ref(), b.command.as_deref(), &b.name, &mut f).await else { continue };
        let window = b.window_minutes * 60.0;
        let allowed = window * factor;
        let detail = crate::msg!(
            "処理時間 {0}、処理時間枠 {1}、許容 {2}（{label}: 枠の {3:.0}%）",
            "duration {0}, window {1}, allowed {2} ({label}: {3:.0}% of the window)",
            duration_text(secs),
            duration_text(window),
            duration_text(allowed),
            factor * 100.0
        );
        if secs <= allowed {
            f.pass(&b.name, None, detail, source_name(b.cloudwatch.as_ref()));
        } else {
            f.fail(&b.name, None, detail, source_name(b.cloudwatch.as_ref()));
        }
    }
    f.ok_summary(Msg::new(
        format!("全バッチが処理時間枠の{:.0}%以内（{label}）", factor * 100.0),
        format!("every batch within {:.0}% of its window ({label})", factor * 100.0),
    ));
    f
}

// ---------------------------------------------------------------- metric assertions

pub async fn workload(input: Arc<ProbeInput>) -> Findings {
    let id = input.item.id.as_str();
    let metrics: Vec<_> = input.scenario.performance.metric.iter().filter(|m| m.item == id).collect();
    if metrics.is_empty() {
        return Findings::cannot(format!("シナリオの [[performance.metric]] に {id} の指標がない"), format!("no [[performance.metric]] for {id}"));
    }
    // B.1.1.3/B.1.1.4 ask for the figure before and after the migration to be
    // compared: a limit alone does not make that comparison.
    let compare = input.item.points.iter().any(|p| p.claims.iter().any(|c| c == COMPARED));
    let mut f = Findings::new();
    for m in metrics {
        if m.max.is_none() && m.min.is_none() && m.baseline.is_none() {
            f.error(&m.name, None, Msg::new("判定条件に max・min・baseline のいずれもない", "assertion has none of max, min, baseline"), "scenario");
            continue;
        }
        if m.baseline.is_some() != m.tolerance_pct.is_some() {
            f.error(&m.name, None, Msg::new("baseline と tolerance_pct は両方とも指定する", "baseline and tolerance_pct go together"), "scenario");
            continue;
        }
        let src = source_name(m.cloudwatch.as_ref());
        let Some(v) = read_number(&input, m.cloudwatch.as_ref(), m.command.as_deref(), &m.name, &mut f).await else { continue };
        let baseline = m.baseline.zip(m.tolerance_pct);
        if !compare {
            f.claim(WITHIN_LIMIT);
            record(&mut f, &m.name, assert_metric(v, m.max, m.min, baseline), src);
            continue;
        }
        if m.max.is_some() || m.min.is_some() {
            f.claim(WITHIN_LIMIT);
            record(&mut f, &m.name, assert_metric(v, m.max, m.min, None), src);
        }
        f.claim(COMPARED);
        match (baseline, m.baseline_source.as_deref().filter(|s| !s.trim().is_empty())) {
            (Some(b), source) => {
                let src_of =
                    |d: Msg| d.wrap(("", &format!("。現行値の出典: {}", source.unwrap_or("-"))), ("", &format!("; source: {}", source.unwrap_or("-"))));
                let judged = assert_metric(v, None, None, Some(b)).map(src_of).map_err(src_of);
                record(&mut f, &m.name, judged, src);
                if source.is_none() {
                    f.unverified(Msg::new(
                        format!("{}: 現行システムの値の出典（baseline_source）が未記載", m.name),
                        format!("{}: the current system's figure has no source (baseline_source)", m.name),
                    ));
                }
            }
            (None, _) => {
                f.pass(&m.name, None, crate::msg!("移行後の値 {v} を計測", "measured after the migration: {v}"), src);
                f.unverified(Msg::new(
                    format!("{}: 現行システムの値（baseline, baseline_source）がなく移行前後の比較は未実施", m.name),
                    format!("{}: no figure of the current system (baseline, baseline_source): before/after not compared", m.name),
                ));
            }
        }
    }
    f
}

const WITHIN_LIMIT: &str = "within-limit";
const COMPARED: &str = "compared-with-current";

fn record(f: &mut Findings, name: &str, judged: Result<Msg, Msg>, src: &str) {
    match judged {
        Ok(d) => f.pass(name, None, d, src),
        Err(d) => f.fail(name, None, d, src),
    }
}

/// `Ok(detail)` when `v` is within every given bound.
pub fn assert_metric(v: f64, max: Option<f64>, min: Option<f64>, baseline: Option<(f64, f64)>) -> Result<Msg, Msg> {
    let mut parts = vec![format!("value {v}")];
    let mut parts_ja = vec![format!("値 {v}")];
    let mut ok = true;
    if let Some(mx) = max {
        ok &= v <= mx;
        parts.push(format!("max {mx}"));
        parts_ja.push(format!("上限 {mx}"));
    }
    if let Some(mn) = min {
        ok &= v >= mn;
        parts.push(format!("min {mn}"));
        parts_ja.push(format!("下限 {mn}"));
    }
    if let Some((b, tol)) = baseline {
        let dev = if b == 0.0 {
            if v == 0.0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (v - b).abs() / b.abs() * 100.0
        };
        ok &= dev <= tol;
        parts.push(format!("baseline {b} ± {tol}% (deviation {dev:.1}%)"));
        parts_ja.push(format!("現行値 {b} ± {tol}%（乖離 {dev:.1}%）"));
    }
    let d = Msg::new(parts_ja.join("、"), parts.join(", "));
    if ok {
        Ok(d)
    } else {
        Err(d)
    }
}

fn source_name(cw: Option<&PerformanceCloudWatch>) -> &'static str {
    if cw.is_some() {
        "cloudwatch:GetMetricData"
    } else {
        "command"
    }
}

/// One number from exactly one source; failures go into `f` as ERROR.
async fn read_number(input: &ProbeInput, cw: Option<&PerformanceCloudWatch>, cmd: Option<&str>, name: &str, f: &mut Findings) -> Option<f64> {
    match (cw, cmd) {
        (Some(q), None) => {
            let region = q.region.clone().unwrap_or_else(|| input.scenario.aws.primary_region.clone());
            let client = input.aws.cloudwatch(&region);
            cloudwatch_value(&client, q, input.now, &region, name, f).await.map(|v| v * q.seconds_per_unit)
        }
        (None, Some(c)) => match run_command(c).await {
            Ok(v) => Some(v),
            Err(e) => {
                f.error(name, None, crate::msg!("コマンドで値を得られない: {e}", "{e}"), "command");
                None
            }
        },
        _ => {
            f.error(name, None, Msg::new("`cloudwatch` か `command` のどちらか一つを指定する", "give exactly one of `cloudwatch` or `command`"), "scenario");
            None
        }
    }
}

/// Run `sh -c cmd` (60 s at most) and parse the last line it prints as a number.
pub async fn run_command(cmd: &str) -> Result<f64, String> {
    let child = tokio::process::Command::new("sh").arg("-c").arg(cmd).stdin(std::process::Stdio::null()).kill_on_drop(true).output();
    let out = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .map_err(|_| format!("`{cmd}` did not finish within 60 s"))?
        .map_err(|e| format!("`{cmd}` could not run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("`{cmd}` exited with {}: {}", out.status, err.trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    last.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("`{cmd}` printed `{last}`, not a number"))
}

async fn cloudwatch_value(
    client: &aws_sdk_cloudwatch::Client,
    q: &PerformanceCloudWatch,
    now: chrono::DateTime<chrono::Utc>,
    region: &str,
    name: &str,
    f: &mut Findings,
) -> Option<f64> {
    const CALL: &str = "cloudwatch:GetMetricData";
    let dims: Vec<Dimension> = q.dimensions.iter().map(|(k, v)| Dimension::builder().name(k).value(v).build()).collect();
    let metric = Metric::builder().namespace(&q.namespace).metric_name(&q.metric).set_dimensions(Some(dims)).build();
    let stat = MetricStat::builder().metric(metric).period(q.period_secs).stat(&q.stat).build();
    let query = MetricDataQuery::builder().id("m0").metric_stat(stat).return_data(true).build();
    let start = now - chrono::Duration::hours(q.lookback_hours);
    let to_ts = |t: chrono::DateTime<chrono::Utc>| aws_smithy_types::DateTime::from_secs(t.timestamp());
    let mut values = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let res = client
            .get_metric_data()
            .metric_data_queries(query.clone())
            .start_time(to_ts(start))
            .end_time(to_ts(now))
            .set_next_token(token.clone())
            .send()
            .await;
        let out = match res {
            Ok(o) => o,
            Err(e) => {
                f.aws_error(CALL, Some(region), &e);
                return None;
            }
        };
        for r in out.metric_data_results() {
            values.extend_from_slice(r.values());
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if values.is_empty() {
        f.error(
            name,
            Some(region),
            crate::msg!(
                "{0}/{1} {2}: 直近 {3} 時間にデータポイントなし",
                "{0}/{1} {2}: no datapoints in the last {3} h",
                q.namespace,
                q.metric,
                q.stat,
                q.lookback_hours
            ),
            CALL,
        );
        return None;
    }
    let v = aggregate(&q.stat, &values);
    f.info(
        name,
        Some(region),
        crate::msg!(
            "{0}/{1} {2} 直近 {3} 時間: データポイント {4}件、集計値 {v}",
            "{0}/{1} {2} over {3} h: {4} datapoints, aggregate {v}",
            q.namespace,
            q.metric,
            q.stat,
            q.lookback_hours,
            values.len()
        ),
        CALL,
    );
    Some(v)
}

/// Fold per-period values into one figure for the look-back window.
/// Percentiles fold by maximum (the worst period), which never flatters.
pub fn aggregate(stat: &str, v: &[f64]) -> f64 {
    match stat {
        "Sum" | "SampleCount" => v.iter().sum(),
        "Minimum" => v.iter().copied().fold(f64::INFINITY, f64::min),
        "Average" => v.iter().sum::<f64>() / v.len() as f64,
        _ => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_come_from_the_level_table() {
        assert_eq!(threshold_ms("B.2.1.4", "3").map(|t| t.0), Ok(Some(3000)));
        assert_eq!(threshold_ms("B.2.1.5", "2").map(|t| t.0), Ok(Some(5000)));
        assert_eq!(threshold_ms("B.2.1.4", "0").map(|t| t.0), Ok(None));
        assert!(threshold_ms("B.2.1.4", "5").is_err());
        assert_eq!(batch_factor("B.2.2.1", "2").map(|t| t.0), Ok(Some(0.5)));
        assert_eq!(batch_factor("B.2.2.2", "1").map(|t| t.0), Ok(Some(1.0)));
    }

    #[test]
    fn metric_assertions() {
        assert!(assert_metric(90.0, Some(100.0), None, None).is_ok());
        assert!(assert_metric(101.0, Some(100.0), None, None).is_err());
        assert!(assert_metric(5.0, None, Some(10.0), None).is_err());
        assert!(assert_metric(1040.0, None, None, Some((1000.0, 5.0))).is_ok());
        assert!(assert_metric(1060.0, None, None, Some((1000.0, 5.0))).is_err());
    }

    #[test]
    fn aggregation_never_flatters_percentiles() {
        assert_eq!(aggregate("p99", &[1.0, 3.0, 2.0]), 3.0);
        assert_eq!(aggregate("Sum", &[1.0, 3.0]), 4.0);
        assert_eq!(aggregate("Minimum", &[2.0, 3.0]), 2.0);
    }

    #[tokio::test]
    async fn command_source_reads_the_last_number() {
        assert_eq!(run_command("echo starting; echo 1234.5").await, Ok(1234.5));
        assert!(run_command("echo nope").await.is_err());
        let e = run_command("echo oops >&2; exit 3").await.expect_err("fails");
        assert!(e.contains("oops"), "{e}");
    }
}
