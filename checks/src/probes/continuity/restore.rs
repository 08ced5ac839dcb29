//! `continuity.rto` (A.1.3.2) and `continuity.rlo` (A.1.3.3) from restore
//! history: AWS Backup restore jobs whose source is a resource in scope.
//! Only finished jobs count (COMPLETED; FAILED and ABORTED are failed
//! drills); PENDING/RUNNING jobs are reported and not counted. No history
//! is ERROR (復旧実績なし), never OK. With `verify --restore-drill` both rows
//! judge that run's drill instead (crate::drill): restore time plus the time
//! until the copy is healthy, measured now.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use gcverify_scenarios::RtoCause;

use super::scope::{self, Resource};
use super::{hm, hm_ja, jst, ts, unsupported};
use crate::drill::{DrillReport, DrillResource, Stage};
use crate::model::Msg;
use crate::probes::{Findings, ProbeInput};

const CALL: &str = "backup:ListRestoreJobs";

#[derive(Debug, Clone)]
struct Job {
    id: String,
    source: String,
    status: String,
    created: DateTime<Utc>,
    completed: Option<DateTime<Utc>>,
    message: String,
    /// Set when a restore testing plan ran the job.
    testing_plan: Option<String>,
    /// The restore test's validation (SUCCESSFUL, FAILED, TIMED_OUT, VALIDATING) and its message.
    validation: Option<(String, String)>,
}

impl Job {
    fn finished(&self) -> bool {
        matches!(self.status.as_str(), "COMPLETED" | "FAILED" | "ABORTED")
    }
    fn duration(&self) -> Option<Duration> {
        self.completed.map(|c| c - self.created)
    }
    fn describe(&self, now: DateTime<Utc>) -> Msg {
        let (took_ja, took_en) = self.duration().map(|d| (format!("、所要 {}", took_ja(d)), format!(", took {}", took(d)))).unwrap_or_default();
        // AWS's status message is quoted as AWS gave it.
        let msg = if self.message.is_empty() { String::new() } else { format!(" ({})", self.message) };
        let (plan_ja, plan_en) =
            self.testing_plan.as_ref().map(|p| (format!("、復元テスト計画 {p} による"), format!(", by restore testing plan {p}"))).unwrap_or_default();
        let (check_ja, check_en) = match &self.validation {
            Some((v, m)) if m.is_empty() => (format!("、検証 {v}"), format!(", validation {v}")),
            Some((v, m)) => (format!("、検証 {v}（{m}）"), format!(", validation {v} ({m})")),
            None => Default::default(),
        };
        let (id, status, started, days) = (&self.id, &self.status, jst(self.created), (now - self.created).num_days());
        crate::msg!(
            "復元ジョブ {id} {status}（開始 {started}{took_ja}、{days}日前{plan_ja}{check_ja}）{msg}",
            "restore job {id} {status} started {started}{took_en}, {days} days ago{msg}{plan_en}{check_en}"
        )
    }
    /// A restore test whose validation failed or timed out is a failed drill even if the restore completed.
    fn validation_failed(&self) -> bool {
        matches!(self.validation.as_ref().map(|(v, _)| v.as_str()), Some("FAILED" | "TIMED_OUT"))
    }
    fn succeeded(&self) -> bool {
        self.status == "COMPLETED" && !self.validation_failed()
    }
}

/// Restore jobs per in-scope resource (newest first). `None` after a recorded failure.
async fn history(input: &ProbeInput, resources: &[Resource], f: &mut Findings) -> Option<BTreeMap<String, Vec<Job>>> {
    let region = input.scenario.aws.primary_region.as_str();
    let client = input.aws.backup(region);
    let mut by: BTreeMap<String, Vec<Job>> = resources.iter().map(|r| (r.arn.clone(), Vec::new())).collect();
    let mut pages = client.list_restore_jobs().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                f.aws_error(CALL, Some(region), &e);
                return None;
            }
        };
        for j in page.restore_jobs() {
            let (Some(source), Some(created)) = (j.source_resource_arn(), ts(j.creation_date())) else { continue };
            if let Some(list) = by.get_mut(source) {
                list.push(Job {
                    id: j.restore_job_id().unwrap_or("-").to_string(),
                    source: source.to_string(),
                    status: j.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    created,
                    completed: ts(j.completion_date()),
                    message: j.status_message().unwrap_or("").to_string(),
                    testing_plan: j.created_by().and_then(|c| c.restore_testing_plan_arn()).map(str::to_string),
                    validation: j.validation_status().map(|v| (v.as_str().to_string(), j.validation_status_message().unwrap_or("").to_string())),
                });
            }
        }
    }
    for list in by.values_mut() {
        list.sort_by_key(|j| std::cmp::Reverse(j.created));
    }
    Some(by)
}

/// Newest finished job, with a note on running ones that were skipped.
fn latest<'a>(jobs: &'a [Job], region: &str, subject: &str, f: &mut Findings) -> Option<&'a Job> {
    let running: Vec<&str> = jobs.iter().filter(|j| !j.finished()).map(|j| j.id.as_str()).collect();
    if !running.is_empty() {
        let running = running.join(",");
        f.info(subject, Some(region), crate::msg!("実行中の復元ジョブは数えない: {running}", "restore job(s) still running, not counted: {running}"), CALL);
    }
    jobs.iter().find(|j| j.finished())
}

/// The RTO of the level, in hours, and the level's words.
fn rto_hours(level: &str, cause: RtoCause) -> Option<(i64, Msg)> {
    Some(match (level, cause) {
        ("*", RtoCause::Cloud) => (3, Msg::new("レベル*（クラウド及びネットワークに起因: 3時間以内）", "level * (cloud or network cause: within 3 h)")),
        ("*", RtoCause::Application) => (12, Msg::new("レベル*（アプリケーションに起因: 12時間以内）", "level * (application cause: within 12 h)")),
        ("1", _) => (24, Msg::new("レベル1（1営業日以内、24時間とみなす）", "level 1 (within 1 business day, taken as 24 h)")),
        ("2", _) => (12, Msg::new("レベル2（12時間以内）", "level 2 (within 12 h)")),
        ("3", _) => (6, Msg::new("レベル3（6時間以内）", "level 3 (within 6 h)")),
        ("4", _) => (2, Msg::new("レベル4（2時間以内）", "level 4 (within 2 h)")),
        _ => return None,
    })
}

/// A duration for the evidence: hours and minutes, or seconds under a minute
/// (the emulator's restores take seconds; 「0h00m」 would say nothing).
fn took(d: Duration) -> String {
    seconds_or(d, hm)
}

/// The same for the Japanese text.
fn took_ja(d: Duration) -> String {
    seconds_or(d, hm_ja)
}

/// Under a minute in seconds (an emulator's restore takes seconds), else `long`.
fn seconds_or(d: Duration, long: fn(Duration) -> String) -> String {
    if d.num_seconds().abs() < 60 {
        crate::model::duration_text(d.num_seconds() as f64)
    } else {
        long(d)
    }
}

pub async fn rto(input: Arc<ProbeInput>) -> Findings {
    let level = input.level.as_str();
    let Some((hours, why)) = rto_hours(level, input.scenario.continuity.rto_cause) else { return unsupported(level, "0-4 and *") };
    let target = Duration::hours(hours);
    if let Some(d) = &input.drill {
        return rto_from_drill(d, target, &why);
    }
    let max_age = Duration::days(input.scenario.continuity.max_restore_evidence_age_days as i64);
    let region = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let resources = scope::discover(&input, &mut f).await;
    let Some(by) = history(&input, &resources, &mut f).await else { return f };
    let mut worst: Option<(Duration, String, Duration)> = None;
    for r in &resources {
        let jobs = by.get(&r.arn).map(Vec::as_slice).unwrap_or(&[]);
        let Some(job) = latest(jobs, &region, &r.arn, &mut f) else {
            let name = &r.name;
            f.error(
                &r.arn,
                Some(&region),
                crate::msg!(
                    "{name}: 復旧実績なし（このリソースから完了した復元ジョブがない）",
                    "{name}: no restore evidence: no finished restore job from this resource"
                ),
                CALL,
            );
            continue;
        };
        let Msg { ja: text_ja, en: text_en } = job.describe(input.now);
        let (why_ja, why_en) = (&why.ja, &why.en);
        let age = input.now - job.created;
        let (days, max_days) = (age.num_days(), max_age.num_days());
        match job.duration().filter(|_| job.succeeded()) {
            None => f.fail(&r.arn, Some(&region), crate::msg!("直近の復元訓練が失敗: {text_ja}", "most recent restore drill failed: {text_en}"), CALL),
            Some(d) if d > target => {
                let (d_ja, d_en, t_ja, t_en) = (took_ja(d), took(d), hm_ja(target), hm(target));
                f.fail(
                    &r.arn,
                    Some(&region),
                    crate::msg!("復元に {d_ja} かかり目標 {t_ja} を超過 [{why_ja}]: {text_ja}", "restore took {d_en} > RTO {t_en} [{why_en}]: {text_en}"),
                    CALL,
                )
            }
            Some(_) if age > max_age => f.fail(
                &r.arn,
                Some(&region),
                crate::msg!(
                    "復元の実績が {days}日前で {max_days}日より古い: 訓練をやり直す; {text_ja}",
                    "restore evidence is {days} days old > {max_days} days: repeat the drill; {text_en}"
                ),
                CALL,
            ),
            Some(d) => {
                let (d_ja, d_en, t_ja, t_en) = (took_ja(d), took(d), hm_ja(target), hm(target));
                f.pass(
                    &r.arn,
                    Some(&region),
                    crate::msg!("復元 {d_ja} ≤ 目標 {t_ja} [{why_ja}]: {text_ja}", "restore took {d_en} ≤ RTO {t_en} [{why_en}]: {text_en}"),
                    CALL,
                );
                if worst.as_ref().is_none_or(|(w, _, _)| d > *w) {
                    worst = Some((d, r.name.clone(), age));
                }
            }
        }
    }
    f.info(
        "rto-scope",
        Some(&region),
        Msg::new(
            "測定範囲: 履歴の復元ジョブの作成→完了。復元後のアプリケーションの正常性はこの履歴では測らない（`verify --restore-drill` で測る）",
            "measured: restore job creation → completion from history; application health after the restore is not measured here (`verify --restore-drill` measures it)",
        ),
        CALL,
    );
    if let Some((d, name, age)) = worst {
        f.ok_summary(Msg::new(
            format!("復元実績 最長 {}（{name}、{}日前）≤ 目標 {}時間", took_ja(d), age.num_days(), hours),
            format!("restore history: longest {} ({name}, {} days ago) ≤ RTO {hours}h", took(d), age.num_days()),
        ));
    }
    f
}

pub async fn rlo(input: Arc<ProbeInput>) -> Findings {
    let level = input.level.as_str();
    let all_types = match level {
        "1" => false,
        "2" => true,
        _ => return unsupported(level, "1-2"),
    };
    if let Some(d) = &input.drill {
        return rlo_from_drill(d, all_types);
    }
    let max_age = Duration::days(input.scenario.continuity.max_restore_evidence_age_days as i64);
    let region = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let resources = scope::discover(&input, &mut f).await;
    let Some(by) = history(&input, &resources, &mut f).await else { return f };
    // Per resource type in scope: the newest finished restore of any resource of that type.
    let mut types: BTreeMap<String, Vec<&Resource>> = BTreeMap::new();
    for r in &resources {
        types.entry(r.backup_type()).or_default().push(r);
    }
    let mut restored = Vec::new();
    for (ty, members) in &types {
        let jobs: Vec<Job> = members.iter().flat_map(|r| by.get(&r.arn).cloned().unwrap_or_default()).collect();
        let mut jobs = jobs;
        jobs.sort_by_key(|j| std::cmp::Reverse(j.created));
        let subject = format!("type {ty}");
        let Some(job) = latest(&jobs, &region, &subject, &mut f) else {
            let names = members.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(",");
            let msg = crate::msg!("{ty}（{names}）の復旧実績なし", "no restore evidence for {ty} ({names})");
            if all_types {
                f.error(&subject, Some(&region), msg, CALL);
            } else {
                f.info(&subject, Some(&region), msg, CALL);
            }
            continue;
        };
        let Msg { ja: text_ja, en: text_en } = job.describe(input.now);
        let source = &job.source;
        let max_days = max_age.num_days();
        if !job.succeeded() {
            f.fail(
                &subject,
                Some(&region),
                crate::msg!("{ty} の直近の復元が失敗: {source} の{text_ja}", "most recent restore of {ty} failed: {text_en} from {source}"),
                CALL,
            );
        } else if input.now - job.created > max_age {
            f.fail(
                &subject,
                Some(&region),
                crate::msg!(
                    "{ty} の復元実績が {max_days}日より古い: {source} の{text_ja}",
                    "{ty} restore evidence older than {max_days} days: {text_en} from {source}"
                ),
                CALL,
            );
        } else {
            f.pass(&subject, Some(&region), crate::msg!("{ty} を復元: {source} の{text_ja}", "{ty} restored: {text_en} from {source}"), CALL);
            restored.push(ty.clone());
        }
    }
    if !all_types && restored.is_empty() && !types.is_empty() && !f.has(crate::model::EvidenceStatus::Fail) {
        f.error(
            "restore-history",
            Some(&region),
            Msg::new("対象のどのリソース種別にも復旧実績なし", "no restore evidence for any resource type in scope"),
            CALL,
        );
    }
    let (need_ja, need_en) = if all_types { ("全システム機能", "all system functions") } else { ("一部システム機能", "part of the system") };
    f.ok_summary(Msg::new(
        format!("{need_ja}の復旧: 対象種別 {} のうち {} の復元実績あり", types.keys().cloned().collect::<Vec<_>>().join(","), restored.join(",")),
        format!("{need_en}: restores observed for {} of the types in scope ({})", restored.join(","), types.keys().cloned().collect::<Vec<_>>().join(",")),
    ));
    f
}

const DRILL: &str = "restore drill";

fn secs(s: i64) -> Duration {
    Duration::seconds(s)
}

/// One drilled resource as evidence: its measured times, or why there are none.
fn drill_evidence(r: &DrillResource, target: Option<(Duration, &Msg)>, region: &str, f: &mut Findings) -> Option<Duration> {
    let total = drill_evidence_text(r, target, region, f);
    if let Some((t, _)) = target {
        f.figure(crate::model::Figure::DrillTiming {
            resource: r.name.clone(),
            restore_secs: r.restore_secs,
            health_secs: r.health_secs,
            rto_secs: Some(t.num_seconds()),
            healthy: r.stage == Stage::Healthy,
        });
    }
    total
}

fn drill_evidence_text(r: &DrillResource, target: Option<(Duration, &Msg)>, region: &str, f: &mut Findings) -> Option<Duration> {
    let job = r.job_id.as_deref().unwrap_or("-");
    let (name, detail) = (&r.name, &r.detail);
    // `detail` is the drill's own record (English, AWS's words): quoted as is in the Japanese.
    let times = match (r.restore_secs, r.health_secs) {
        (Some(a), Some(b)) => {
            let (a_ja, a_en, b_ja, b_en) = (took_ja(secs(a)), took(secs(a)), took_ja(secs(b)), took(secs(b)));
            crate::msg!("復元 {a_ja}（ジョブ {job}）＋正常化まで {b_ja}", "restore {a_en} (job {job}) + until healthy {b_en}")
        }
        (Some(a), None) => {
            let (a_ja, a_en) = (took_ja(secs(a)), took(secs(a)));
            crate::msg!("復元 {a_ja}（ジョブ {job}）", "restore {a_en} (job {job})")
        }
        _ => crate::msg!("ジョブ {job}", "job {job}"),
    };
    let (times_ja, times_en) = (&times.ja, &times.en);
    match r.stage {
        Stage::Healthy => {
            let total = secs(r.total_secs().unwrap_or(0));
            let (total_ja, total_en) = (took_ja(total), took(total));
            match target {
                Some((t, why)) => {
                    let (t_ja, t_en, why_ja, why_en) = (hm_ja(t), hm(t), &why.ja, &why.en);
                    if total > t {
                        f.fail(
                            &r.source_arn,
                            Some(region),
                            crate::msg!(
                                "復元訓練: {name} 合計 {total_ja} が目標 {t_ja} を超過 [{why_ja}]: {times_ja}（{detail}）",
                                "drill: {name} total {total_en} > RTO {t_en} [{why_en}]: {times_en}; {detail}"
                            ),
                            DRILL,
                        )
                    } else {
                        f.pass(
                            &r.source_arn,
                            Some(region),
                            crate::msg!(
                                "復元訓練: {name} 合計 {total_ja} ≤ 目標 {t_ja} [{why_ja}]: {times_ja}（{detail}）",
                                "drill: {name} total {total_en} ≤ RTO {t_en} [{why_en}]: {times_en}; {detail}"
                            ),
                            DRILL,
                        )
                    }
                }
                None => f.pass(
                    &r.source_arn,
                    Some(region),
                    crate::msg!("復元訓練: {name} を復元し正常: {times_ja}", "drill: {name} restored and healthy: {times_en}"),
                    DRILL,
                ),
            }
            // "Healthy" with no applicable health check is only AWS's readiness: the timing stands, the health claim does not.
            if let Some(m) = crate::probes::drill::aws_readiness_only(r) {
                f.unverified(m);
            }
            return Some(total);
        }
        Stage::RestoreFailed => {
            f.fail(&r.source_arn, Some(region), crate::msg!("復元訓練: {name} の復元に失敗: {detail}", "drill: {name} restore failed: {detail}"), DRILL)
        }
        Stage::Unhealthy => f.fail(
            &r.source_arn,
            Some(region),
            crate::msg!(
                "復元訓練: {name} は復元したが正常にならなかった: {times_ja}（{detail}）",
                "drill: {name} restored but never healthy: {times_en}; {detail}"
            ),
            DRILL,
        ),
        Stage::TimedOut => match (target, r.waited_secs) {
            // Waiting longer than the RTO already answers the question.
            (Some((t, why)), Some(w)) if secs(w) > t => {
                let (w_ja, w_en, t_ja, t_en, why_ja, why_en) = (took_ja(secs(w)), took(secs(w)), hm_ja(t), hm(t), &why.ja, &why.en);
                f.fail(
                    &r.source_arn,
                    Some(region),
                    crate::msg!(
                        "復元訓練: {name} {detail} — 待機 {w_ja} が目標 {t_ja} を超過 [{why_ja}]",
                        "drill: {name} {detail} — waited {w_en} > RTO {t_en} [{why_en}]"
                    ),
                    DRILL,
                )
            }
            _ => f.error(&r.source_arn, Some(region), crate::msg!("復元訓練: {name} が時間内に終わらない: {detail}", "drill: {name} {detail}"), DRILL),
        },
        Stage::Interrupted | Stage::NotStarted => {
            f.error(&r.source_arn, Some(region), crate::msg!("復元訓練: {name} は測定できていない: {detail}", "drill: {name} not measured: {detail}"), DRILL)
        }
    }
    None
}

fn drill_common(d: &DrillReport, f: &mut Findings) {
    for p in &d.problems {
        f.error("restore-drill", Some(&d.region), crate::msg!("復元訓練の前提を確認できない: {p}", "{p}"), DRILL);
    }
    for n in &d.not_drilled {
        let reason = &n.reason;
        let m = crate::msg!("復元訓練の対象外: {reason}", "not drilled: {reason}");
        if n.unmeasured {
            f.error(&n.arn, Some(&d.region), m, DRILL);
        } else {
            f.info(&n.arn, Some(&d.region), m, DRILL);
        }
    }
    if d.interrupted {
        f.error(
            "restore-drill",
            Some(&d.region),
            Msg::new("復元訓練が中断された（Ctrl-C）: 測定が不完全", "the drill was interrupted (Ctrl-C): its measurements are incomplete"),
            DRILL,
        );
    }
    for r in d.left_behind() {
        let cleanup = format!("{:?}", r.cleanup);
        f.info(&r.source_arn, Some(&d.region), crate::msg!("復元訓練のコピーが残っている: {cleanup}", "drill copy left behind: {cleanup}"), DRILL);
    }
    if d.resources.is_empty() && d.problems.is_empty() {
        f.error(
            "restore-drill",
            Some(&d.region),
            Msg::new(
                "復元訓練で何も復元していない（対象に訓練が扱う種別のリソースがない）",
                "the drill restored nothing (no resource in scope of a type it supports)",
            ),
            DRILL,
        );
    }
}

fn rto_from_drill(d: &DrillReport, target: Duration, why: &Msg) -> Findings {
    let mut f = Findings::new();
    drill_common(d, &mut f);
    let mut worst: Option<(Duration, String)> = None;
    for r in &d.resources {
        if let Some(total) = drill_evidence(r, Some((target, why)), &d.region, &mut f) {
            if worst.as_ref().is_none_or(|(w, _)| total > *w) {
                worst = Some((total, r.name.clone()));
            }
        }
    }
    let (id, started) = (&d.drill_id, jst(d.started));
    f.info(
        "rto-scope",
        Some(&d.region),
        crate::msg!(
            "復元訓練 {id}（{started}）で測定: 復元ジョブの作成→完了、および完了→AWSがコピーを利用可能と報告し [continuity.drill] のヘルスチェックがすべて通るまで",
            "measured by restore drill {id} ({started}): restore job creation → completion, plus completion → AWS reports the copy available and every [continuity.drill] health check passes"
        ),
        DRILL,
    );
    let note = d.emulator_note();
    if let Some(n) = &note {
        f.info("restore-drill", Some(&d.region), n.clone(), DRILL);
    }
    if let Some((t, name)) = worst {
        let (ja, en) = note.map(|n| (format!("（{}）", n.ja), format!(" ({})", n.en))).unwrap_or_default();
        f.ok_summary(Msg::new(
            format!("復元訓練 最長 {}（{name}、復元＋正常性確認）≤ 目標 {}時間{ja}", took_ja(t), target.num_hours()),
            format!("restore drill: longest {} ({name}, restore + health) ≤ RTO {}h{en}", took(t), target.num_hours()),
        ));
    }
    f
}

fn rlo_from_drill(d: &DrillReport, all_types: bool) -> Findings {
    let mut f = Findings::new();
    drill_common(d, &mut f);
    let mut types: BTreeMap<String, bool> = BTreeMap::new();
    for r in &d.resources {
        let ok = drill_evidence(r, None, &d.region, &mut f).is_some();
        let e = types.entry(r.resource_type.clone()).or_default();
        *e |= ok;
    }
    let restored: Vec<String> = types.iter().filter(|(_, ok)| **ok).map(|(t, _)| t.clone()).collect();
    let (need_ja, need_en) = if all_types { ("全システム機能", "all system functions") } else { ("一部システム機能", "part of the system") };
    f.ok_summary(Msg::new(
        format!("{need_ja}の復旧: 復元訓練で {} を復元・正常性確認", restored.join(",")),
        format!("{need_en}: the restore drill restored {} and found it healthy", restored.join(",")),
    ));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_of_seconds_is_said_in_seconds_not_0h00m() {
        assert_eq!(took(Duration::seconds(3)), "3.0 s");
        assert_eq!(took_ja(Duration::seconds(42)), "42 s");
        assert_eq!(took(Duration::seconds(0)), "0 s");
        assert_eq!(took(Duration::seconds(125)), "0h02m");
        assert_eq!(took_ja(Duration::minutes(95)), "1時間35分");
    }

    fn copy(health_checks: usize) -> DrillResource {
        DrillResource {
            source_arn: "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-1".into(),
            name: "web-1".into(),
            resource_type: "EC2".into(),
            recovery_point: None,
            point_created: None,
            usable_points: None,
            job_id: Some("job-1".into()),
            stage: Stage::Healthy,
            detail: "AWS reports it available".into(),
            restore_secs: Some(3),
            health_secs: Some(1),
            health_checks,
            waited_secs: None,
            created_arn: None,
            cleanup: crate::drill::CleanupState::NothingCreated,
            validation: Vec::new(),
        }
    }

    fn report(r: DrillResource) -> DrillReport {
        let now = Utc::now();
        DrillReport {
            drill_id: "d".into(),
            region: "ap-northeast-1".into(),
            site: Default::default(),
            generation: 1,
            started: now,
            finished: now,
            interrupted: false,
            resources: vec![r],
            not_drilled: Vec::new(),
            problems: Vec::new(),
            emulated: false,
        }
    }

    #[test]
    fn a_healthy_copy_without_an_applicable_health_check_is_not_ok() {
        let why = Msg::new("レベル4", "level 4");
        let c = rto_from_drill(&report(copy(0)), Duration::hours(2), &why).conclude("4");
        assert_eq!(c.outcome, crate::model::Outcome::Pending, "{c:?}");
        assert!(c.summary.ja.contains("web-1: AWS上の起動のみ確認"), "{}", c.summary.ja);
        let c = rlo_from_drill(&report(copy(0)), true).conclude("2");
        assert_eq!(c.outcome, crate::model::Outcome::Pending, "{c:?}");
        let c = rto_from_drill(&report(copy(1)), Duration::hours(2), &why).conclude("4");
        assert_eq!(c.outcome, crate::model::Outcome::Ok, "{c:?}");
        assert!(c.evidence.iter().any(|e| e.detail.en.contains("restore 3.0 s (job job-1) + until healthy 1.0 s")), "{c:?}");
    }
}
