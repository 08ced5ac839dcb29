//! A.1.5.1 稼働率 and C.1.1.1 / C.1.1.2 運用時間 from what the availability
//! probe recorded (the local store, or CloudWatch when the scenario says
//! `source = "cloudwatch"`). The recording itself is `cargo xtask probe
//! availability` (gcverify-availability crate); this module only judges.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gcverify_availability::calendar::{to_jst, DayKind, Span};
use gcverify_availability::compute::{judge, Computation, Verdict};
use gcverify_availability::levels::Levels;
use gcverify_availability::{cloudwatch, Config, Evaluation, Source};

use super::observation::Required;
use super::{Findings, ProbeInput};
use crate::model::{DayAvailability, Figure, Msg, Outcome, TimeSpan};

/// IAM actions these probes call (only with `source = "cloudwatch"`).
pub const ACTIONS: &[&str] = &["cloudwatch:GetMetricData"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "availability.uptime",
        ja: "可用性プローブの記録（またはCloudWatch）から運用時間中の稼働率を算出し目標と比較",
        en: "Availability over operating time from the availability probe's record (or CloudWatch) against the level",
        detail: "稼働率 over operating time (Asia/Tokyo calendar, 祝日・年末年始, maintenance excluded) from the probe's SQLite store or CloudWatch; coverage below the minimum → ERROR; outages and remaining error budget in evidence.",
        section: "[availability]",
        actions: ACTIONS,
        emulator: "local HTTP servers and the SQLite store; the CloudWatch source with mocks (the emulator extension serves GetMetricData, not yet seeded)",
        claims: &[super::registry::claim("uptime-measured", "運用時間中の稼働率の実測が要求以上", "Measured 稼働率 over operating time meets the requirement", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("half_an_hour_of_record_is_not_enough_without_a_scenario_minimum", crate::probes::registry::Class::PartialObservation, "a short record standing in for the period", crate::model::Outcome::Pending), crate::probes::registry::counterfeit("missing_store_and_missing_section_are_errors_not_ok", crate::probes::registry::Class::HappyPathOnly, "no record at all", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Measures the endpoints the availability probe watches (`[availability]`); a function not behind those URLs is not observed."), crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "Samples at the probe's interval: an outage shorter than the interval can fall between two samples.")],
        run: |i| Box::pin(uptime(i)),
    },
    super::registry::ProbeDef {
        name: "availability.operating_hours",
        ja: "宣言した運用時間（平日／休日等）を通じてシステムが応答した",
        en: "The system answered throughout its declared operating hours (weekdays / holidays)",
        detail: "The system answered throughout the declared operating hours of 平日 / 休日.",
        section: "[availability]",
        actions: ACTIONS,
        emulator: "local HTTP servers and the SQLite store",
        claims: &[super::registry::claim("usable-on-schedule", "宣言した運用時間中に応答した（実測）", "The system answered throughout the declared operating hours", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("uptime_and_operating_hours_from_the_store", crate::probes::registry::Class::Nearest, "an outage inside the operating hours", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("missing_store_and_missing_section_are_errors_not_ok", crate::probes::registry::Class::HappyPathOnly, "no record at all", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "Samples at the probe's interval: an outage shorter than the interval can fall between two samples."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Endpoints outside `[availability]` are not observed.")],
        run: |i| Box::pin(operating_hours(i)),
    },
];

const SRC_STORE: &str = "availability-store";
const SRC_CW: &str = "cloudwatch:GetMetricData";

fn error(ja: impl Into<String>, en: impl Into<String>) -> Findings {
    Findings::cannot(ja.into(), en.into())
}

/// Load the configuration and compute over the recorded samples.
async fn evaluate(input: &ProbeInput) -> Result<(Config, Evaluation), Findings> {
    let Some(section) = input.scenario.availability.as_ref() else {
        return Err(error(
            "シナリオに [availability]（監視対象・運用カレンダー）がなく、稼働記録を参照できない",
            "the scenario has no [availability] section (targets, calendar), so there is no availability record to read",
        ));
    };
    let base = input.scenario.path().and_then(|p| p.parent()).map(std::path::PathBuf::from).unwrap_or_default();
    let cfg = Config::from_scenario(section, &base).map_err(|e| error(e.to_string(), e.to_string()))?;
    let now = input.now;
    let eval = match cfg.source {
        Source::Store => {
            let c = cfg.clone();
            match tokio::task::spawn_blocking(move || gcverify_availability::evaluate_store(&c, now)).await {
                Ok(Ok(e)) => e,
                Ok(Err(e)) => return Err(error(e.to_string(), e.to_string())),
                Err(e) => return Err(error(format!("集計が異常終了: {e}"), format!("computation crashed: {e}"))),
            }
        }
        Source::CloudWatch => from_cloudwatch(input, &cfg, now).await?,
    };
    Ok((cfg, eval))
}

async fn from_cloudwatch(input: &ProbeInput, cfg: &Config, now: DateTime<Utc>) -> Result<Evaluation, Findings> {
    let cw = cfg.cloudwatch.as_ref().ok_or_else(|| error("[availability.cloudwatch] がない", "no [availability.cloudwatch] table"))?;
    let region = cw.region.clone().unwrap_or_else(|| input.scenario.aws.primary_region.clone());
    let (from, to) = cfg.period(now, None);
    let scope = cfg.calendar.scope(from, to, cfg.slot_secs).map_err(|e| error(e.to_string(), e.to_string()))?;
    let client = input.aws.cloudwatch(&region);
    match cloudwatch::read_series(&client, &cw.namespace, &cfg.probe_name, &cfg.targets, from, to, cfg.slot_secs).await {
        Ok(series) => Ok(gcverify_availability::assemble(cfg, from, to, scope, &series, Vec::new(), format!("CloudWatch {} ({region})", cw.namespace))),
        Err(cloudwatch::ReadError::Sdk(e)) => {
            let mut f = Findings::new();
            f.aws_error(SRC_CW, Some(&region), &*e);
            Err(f)
        }
        Err(cloudwatch::ReadError::Status { target, status, messages }) => {
            let mut f = Findings::new();
            f.error(&target, Some(&region), crate::msg!("{SRC_CW}: 照会の応答 {status}: {messages}", "{SRC_CW}: query answered {status}: {messages}"), SRC_CW);
            Err(f)
        }
    }
}

/// The evaluated period, in seconds (from the first sample when the scenario says so).
fn observed_secs(e: &Evaluation) -> f64 {
    (e.to - e.from).num_milliseconds().max(0) as f64 / 1000.0
}

fn jst(t: DateTime<Utc>) -> String {
    to_jst(t).format("%Y-%m-%d %H:%M").to_string()
}

fn period_text(e: &Evaluation) -> String {
    let first = if e.started_at_first_sample { " (from the first recorded sample)" } else { "" };
    format!("{} – {} JST{first}", jst(e.from), jst(e.to))
}

fn period_text_ja(e: &Evaluation) -> String {
    let first = if e.started_at_first_sample { "（最初の記録から）" } else { "" };
    format!("{} – {} JST{first}", jst(e.from), jst(e.to))
}

fn duration_text(minutes: f64) -> String {
    if minutes >= 120.0 {
        format!("{:.1} h", minutes / 60.0)
    } else if minutes >= 1.0 {
        format!("{minutes:.0} min")
    } else {
        format!("{:.0} s", minutes * 60.0)
    }
}

fn source_of(e: &Evaluation) -> &'static str {
    if e.source.starts_with("CloudWatch") {
        SRC_CW
    } else {
        SRC_STORE
    }
}

/// Evidence common to both items: per-target figures, outages, unknown time,
/// maintenance and closures.
fn context(f: &mut Findings, e: &Evaluation, c: &Computation, outage_status_fail: bool) {
    let src = source_of(e);
    for t in &c.per_target {
        f.info(
            &t.name,
            None,
            crate::msg!(
                "{3}秒区間 稼働 {0} / 停止 {1} / 不明 {2}、未確定の単発失敗 {4}",
                "up {0} / down {1} / unknown {2} slices of {3} s; unconfirmed single failures {4}",
                t.up,
                t.down,
                t.unknown,
                c.slot_secs,
                t.unconfirmed_failures
            ),
            src,
        );
    }
    for o in &c.outages {
        let (a, b) = (e.slot_time(o.start_slot), e.slot_time(o.end_slot));
        let who = o.targets.iter().map(|(n, why)| format!("{n}: {why}")).collect::<Vec<_>>().join("; ");
        let detail = crate::msg!(
            "停止 {0} – {1} JST（{2}）{who}",
            "outage {0} – {1} JST ({2}) {who}",
            jst(a),
            to_jst(b).format("%H:%M:%S"),
            duration_text(c.minutes(o.end_slot - o.start_slot))
        );
        if outage_status_fail {
            f.fail("outage", None, detail, src);
        } else {
            f.info("outage", None, detail, src);
        }
    }
    if c.unknown > 0 {
        let runs: Vec<String> =
            c.unknown_runs.iter().take(5).map(|(a, b)| format!("{} – {}", jst(e.slot_time(*a)), to_jst(e.slot_time(*b)).format("%H:%M"))).collect();
        let more = if c.unknown_runs.len() > 5 { format!(" (+{} more)", c.unknown_runs.len() - 5) } else { String::new() };
        f.info(
            "unknown",
            None,
            Msg::new(
                format!("データなし {}（{} 区間、稼働にも停止にも数えない）: {}{more}", duration_text(c.minutes(c.unknown)), c.unknown, runs.join(", ")),
                format!("no data for {} ({} slices, not counted as up or down): {}{more}", duration_text(c.minutes(c.unknown)), c.unknown, runs.join(", ")),
            ),
            src,
        );
    }
    if !e.probe_not_running.is_empty() {
        f.info(
            "probe-heartbeat",
            None,
            crate::msg!(
                "運用時間のうち {0} はプローブ自体が動いていない（ハートビートなし）",
                "the probe itself was not running for {0} of the operating time (no heartbeat)",
                duration_text(c.minutes(gcverify_availability::slots::total(&e.probe_not_running)))
            ),
            src,
        );
    }
    for m in &e.scope.maintenance {
        f.info(
            "maintenance",
            None,
            crate::msg!(
                "計画保守 {0} – {1} JST「{2}」: {3} を運用時間から除外",
                "planned maintenance {0} – {1} JST \"{2}\": {3} excluded from operating time",
                jst(m.start),
                jst(m.end),
                m.reason,
                duration_text(c.minutes(m.excluded_slots))
            ),
            "scenario",
        );
    }
    for (d, why) in &e.scope.closures {
        f.info("closure", None, crate::msg!("{d} 休業: {why}", "{d} closed: {why}"), "scenario");
    }
}

/// A.1.5.1: 稼働率 over (operating − maintenance) time against the selected level.
pub async fn uptime(input: Arc<ProbeInput>) -> Findings {
    let levels = match Levels::builtin() {
        Ok(l) => l,
        Err(e) => return error(e.clone(), e),
    };
    let Some(level) = levels.uptime(&input.level).cloned() else {
        return error(format!("レベル{}の稼働率が定義されていない", input.level), format!("level {} has no defined availability target", input.level));
    };
    let (cfg, e) = match evaluate(&input).await {
        Ok(x) => x,
        Err(f) => return f,
    };
    let c = &e.all;
    let mut f = Findings::new();
    f.period(e.from, e.to);
    Required::of(&input, "availability.uptime").period(observed_secs(&e), &mut f);
    let src = source_of(&e);
    let rate = c.rate();
    let rate_txt = rate.map(|r| format!("{r:.3}%")).unwrap_or_else(|| "-".into());
    let budget = c.budget(level.percent);
    // The figures once, said in each language.
    let (operating, down_total) = (duration_text(c.minutes(c.scope_slots)), duration_text(c.minutes(c.down)));
    let (allowed, remaining) = (duration_text(budget.allowed_minutes), duration_text(budget.remaining_minutes.max(0.0)));
    let (slot_secs, slots, up, down, unknown, coverage) = (c.slot_secs, c.scope_slots, c.up, c.down, c.unknown, c.coverage());
    let (min_coverage, outages, budget_label, source) = (cfg.min_coverage_percent, c.outages.len(), &level.label, &e.source);
    let figures_ja = format!(
        "期間 {}、運用時間 {operating}（{slot_secs}秒区間 {slots}）、稼働 {up} / 停止 {down} / 不明 {unknown}、カバレッジ {coverage:.1}%（最低 {min_coverage}%）、停止 {outages}件 計 {down_total}、{budget_label} の許容停止 {allowed}・残り {remaining}、データ元 {source}",
        period_text_ja(&e)
    );
    let figures = format!(
        "period {}; operating time {operating} in {slots} slices of {slot_secs} s; up {up} / down {down} / unknown {unknown}; coverage {coverage:.1}% (minimum {min_coverage}%); {outages} outage(s) totalling {down_total}; error budget at {budget_label}: {allowed} allowed, {remaining} remaining; source {source}",
        period_text(&e)
    );
    context(&mut f, &e, c, false);
    if let Some(r) = rate {
        if let Some(best) = levels.a151.iter().filter(|l| r + 1e-9 >= l.percent).max_by(|a, b| a.percent.total_cmp(&b.percent)) {
            f.achieved_level(best.level.clone());
        }
    }
    match judge(c, level.percent, cfg.min_coverage_percent) {
        Verdict::Ok => {
            f.pass(
                "稼働率",
                None,
                Msg::new(
                    format!("稼働率 {rate_txt} ≥ 要求 {}（レベル{}）。{figures_ja}", level.label, level.level),
                    format!("availability {rate_txt} ≥ required {} (level {}); {figures}", level.label, level.level),
                ),
                src,
            );
            f.ok_summary(Msg::new(
                format!(
                    "稼働率 {rate_txt}（要求 {}）期間 {} – {} JST、運用時間 {}、カバレッジ {:.1}%、停止 {}件 計{}、残り許容停止 {}",
                    level.label,
                    jst(e.from),
                    jst(e.to),
                    duration_text(c.minutes(c.scope_slots)),
                    c.coverage(),
                    c.outages.len(),
                    duration_text(c.minutes(c.down)),
                    duration_text(budget.remaining_minutes.max(0.0))
                ),
                format!(
                    "availability {rate_txt} (required {}) over {}, operating time {}, coverage {:.1}%, {} outage(s) totalling {}, error budget left {}",
                    level.label,
                    period_text(&e),
                    duration_text(c.minutes(c.scope_slots)),
                    c.coverage(),
                    c.outages.len(),
                    duration_text(c.minutes(c.down)),
                    duration_text(budget.remaining_minutes.max(0.0))
                ),
            ));
        }
        Verdict::Ng => f.fail(
            "稼働率",
            None,
            Msg::new(
                format!("稼働率 {rate_txt} が要求 {} を下回る（レベル{}）。{figures_ja}", level.label, level.level),
                format!("availability {rate_txt} below required {} (level {}); {figures}", level.label, level.level),
            ),
            src,
        ),
        Verdict::Unknown { ja, en } => f.error("稼働率", None, Msg::new(format!("{ja}。{figures_ja}"), format!("{en}; {figures}")), src),
    }
    f.figure(Figure::Availability {
        from: e.from,
        to: e.to,
        required_percent: level.percent,
        slot_secs: c.slot_secs,
        days: e.daily().into_iter().map(|(date, up, down, unknown)| DayAvailability { date, up, down, unknown }).collect(),
        outages: c.outages.iter().map(|o| TimeSpan { start: e.slot_time(o.start_slot), end: e.slot_time(o.end_slot) }).collect(),
        budget_allowed_minutes: budget.allowed_minutes,
        budget_used_minutes: budget.used_minutes,
    });
    f
}

fn spans_text(spans: &[Span]) -> String {
    if spans.is_empty() {
        return "none".into();
    }
    spans.iter().map(|s| format!("{:02}:{:02}-{:02}:{:02}", s.start / 60, s.start % 60, s.end / 60, s.end % 60)).collect::<Vec<_>>().join(",")
}

/// C.1.1.1 (平日) / C.1.1.2 (休日等): the system answered throughout the
/// declared operating hours of that day kind.
pub async fn operating_hours(input: Arc<ProbeInput>) -> Findings {
    let kind = match input.item.param::<String>("day_kind").as_deref() {
        Ok("weekday") => DayKind::Weekday,
        Ok("holiday") => DayKind::Holiday,
        Ok(other) => return error(format!("カタログの day_kind が不正: {other}"), format!("catalog: unknown day_kind {other} (weekday or holiday)")),
        Err(e) => return error(e.clone(), e),
    };
    let (cfg, e) = match evaluate(&input).await {
        Ok(x) => x,
        Err(f) => return f,
    };
    let declared = spans_text(cfg.calendar.declared(kind));
    if kind == DayKind::Holiday && cfg.calendar.declared(kind).is_empty() {
        return Findings::decided(
            Outcome::NotApplicable,
            Msg::new(
                "対象外: シナリオで休日等の運用時間が定められていない（休日は運用しない）",
                "not applicable: the scenario declares no operating hours on holidays",
            ),
        );
    }
    let c = e.of(kind);
    let mut f = Findings::new();
    f.period(e.from, e.to);
    Required::of(&input, "availability.operating_hours").period(observed_secs(&e), &mut f);
    let src = source_of(&e);
    let levels = Levels::builtin().ok();
    let nominal = levels.as_ref().and_then(|l| l.hours(&input.level)).map(|h| format!("level {} {} (nominal {} h/day)", h.level, h.label, h.nominal_hours));
    let nominal_ja = levels.as_ref().and_then(|l| l.hours(&input.level)).map(|h| format!("レベル{} {}（標準 {} 時間/日）", h.level, h.label, h.nominal_hours));
    f.info(
        kind.en(),
        None,
        Msg::new(
            format!("{}の運用時間の宣言: {declared}。{}", kind.ja(), nominal_ja.unwrap_or_else(|| format!("レベル{}（表に標準の時間なし）", input.level))),
            format!(
                "declared operating hours on {}: {declared}; {}",
                kind.en(),
                nominal.unwrap_or_else(|| format!("level {} (no nominal hours in the table)", input.level))
            ),
        ),
        "scenario",
    );
    context(&mut f, &e, c, true);
    let hours = duration_text(c.minutes(c.scope_slots));
    if c.scope_slots == 0 {
        f.error(
            kind.en(),
            None,
            Msg::new(
                format!("期間 {} に{}の運用時間なし（観測するものがない）", period_text_ja(&e), kind.ja()),
                format!("no {} operating time in the period {} (nothing to observe)", kind.en(), period_text(&e)),
            ),
            src,
        );
        return f;
    }
    if c.coverage() + 1e-9 < cfg.min_coverage_percent {
        f.error(
            kind.en(),
            None,
            Msg::new(
                format!("{}の運用時間のカバレッジ {:.1}% が要求 {}% を下回る", kind.ja(), c.coverage(), cfg.min_coverage_percent),
                format!("coverage {:.1}% of the {} operating time is below the required {}%", c.coverage(), kind.en(), cfg.min_coverage_percent),
            ),
            src,
        );
        return f;
    }
    if c.down == 0 {
        f.pass(
            kind.en(),
            None,
            Msg::new(
                format!("{}の運用時間を通じて応答（{hours}、カバレッジ {:.1}%）期間 {}", kind.ja(), c.coverage(), period_text_ja(&e)),
                format!("answered throughout the {} operating hours ({hours}, coverage {:.1}%) over {}", kind.en(), c.coverage(), period_text(&e)),
            ),
            src,
        );
        f.ok_summary(Msg::new(
            format!(
                "{}の運用時間 {declared} を通じて応答（期間 {} – {} JST、対象 {hours}、カバレッジ {:.1}%）",
                kind.ja(),
                jst(e.from),
                jst(e.to),
                c.coverage()
            ),
            format!("answered throughout the {} operating hours {declared} ({}, {hours}, coverage {:.1}%)", kind.en(), period_text(&e), c.coverage()),
        ));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(0.5), "30 s");
        assert_eq!(duration_text(25.0), "25 min");
        assert_eq!(duration_text(870.0), "14.5 h");
    }
}
