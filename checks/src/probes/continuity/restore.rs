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
    fn describe(&self, now: DateTime<Utc>) -> String {
        let took = self.duration().map(|d| format!(", took {}", hm(d))).unwrap_or_default();
        let msg = if self.message.is_empty() { String::new() } else { format!(" ({})", self.message) };
        let plan = self.testing_plan.as_ref().map(|p| format!(", by restore testing plan {p}")).unwrap_or_default();
        let check = match &self.validation {
            Some((v, m)) if m.is_empty() => format!(", validation {v}"),
            Some((v, m)) => format!(", validation {v} ({m})"),
            None => String::new(),
        };
        format!("restore job {} {} started {}{took}, {} days ago{msg}{plan}{check}", self.id, self.status, jst(self.created), (now - self.created).num_days())
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
        f.info(subject, Some(region), format!("restore job(s) still running, not counted: {}", running.join(",")), CALL);
    }
    jobs.iter().find(|j| j.finished())
}

/// The RTO of the level, in hours.
fn rto_hours(level: &str, cause: RtoCause) -> Option<(i64, String)> {
    Some(match (level, cause) {
        ("*", RtoCause::Cloud) => (3, "level * (クラウド及びネットワークに起因: 3時間以内)".into()),
        ("*", RtoCause::Application) => (12, "level * (アプリケーションに起因: 12時間以内)".into()),
        ("1", _) => (24, "level 1 (1営業日以内, taken as 24h)".into()),
        ("2", _) => (12, "level 2 (12時間以内)".into()),
        ("3", _) => (6, "level 3 (6時間以内)".into()),
        ("4", _) => (2, "level 4 (2時間以内)".into()),
        _ => return None,
    })
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
            f.error(&r.arn, Some(&region), format!("{}: no restore evidence (復旧実績なし): no finished restore job from this resource", r.name), CALL);
            continue;
        };
        let text = job.describe(input.now);
        let age = input.now - job.created;
        match job.duration().filter(|_| job.succeeded()) {
            None => f.fail(&r.arn, Some(&region), format!("most recent restore drill failed: {text}"), CALL),
            Some(d) if d > target => f.fail(&r.arn, Some(&region), format!("restore took {} > RTO {} [{why}]: {text}", hm(d), hm(target)), CALL),
            Some(_) if age > max_age => f.fail(
                &r.arn,
                Some(&region),
                format!("restore evidence is {} days old > {} days: repeat the drill; {text}", age.num_days(), max_age.num_days()),
                CALL,
            ),
            Some(d) => {
                f.pass(&r.arn, Some(&region), format!("restore took {} ≤ RTO {} [{why}]: {text}", hm(d), hm(target)), CALL);
                if worst.as_ref().is_none_or(|(w, _, _)| d > *w) {
                    worst = Some((d, r.name.clone(), age));
                }
            }
        }
    }
    f.info(
        "rto-scope",
        Some(&region),
        "measured: restore job creation → completion from history; application health after the restore is not measured (restore drill not implemented)",
        CALL,
    );
    if let Some((d, name, age)) = worst {
        f.ok_summary(Msg::new(
            format!("復元実績 最長 {}（{name}、{}日前）≤ 目標 {}時間", hm_ja(d), age.num_days(), hours),
            format!("restore history: longest {} ({name}, {} days ago) ≤ RTO {hours}h", hm(d), age.num_days()),
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
            let msg = format!("no restore evidence (復旧実績なし) for {ty} ({names})");
            if all_types {
                f.error(&subject, Some(&region), msg, CALL);
            } else {
                f.info(&subject, Some(&region), msg, CALL);
            }
            continue;
        };
        let text = format!("{} from {}", job.describe(input.now), job.source);
        if !job.succeeded() {
            f.fail(&subject, Some(&region), format!("most recent restore of {ty} failed: {text}"), CALL);
        } else if input.now - job.created > max_age {
            f.fail(&subject, Some(&region), format!("{ty} restore evidence older than {} days: {text}", max_age.num_days()), CALL);
        } else {
            f.pass(&subject, Some(&region), format!("{ty} restored: {text}"), CALL);
            restored.push(ty.clone());
        }
    }
    if !all_types && restored.is_empty() && !types.is_empty() && !f.has(crate::model::EvidenceStatus::Fail) {
        f.error("restore-history", Some(&region), "no restore evidence (復旧実績なし) for any resource type in scope", CALL);
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
fn drill_evidence(r: &DrillResource, target: Option<(Duration, &str)>, region: &str, f: &mut Findings) -> Option<Duration> {
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

fn drill_evidence_text(r: &DrillResource, target: Option<(Duration, &str)>, region: &str, f: &mut Findings) -> Option<Duration> {
    let job = r.job_id.as_deref().unwrap_or("-");
    let times = match (r.restore_secs, r.health_secs) {
        (Some(a), Some(b)) => format!("restore {} (job {job}) + until healthy {}", hm(secs(a)), hm(secs(b))),
        (Some(a), None) => format!("restore {} (job {job})", hm(secs(a))),
        _ => format!("job {job}"),
    };
    match r.stage {
        Stage::Healthy => {
            let total = secs(r.total_secs().unwrap_or(0));
            match target {
                Some((t, why)) if total > t => {
                    f.fail(&r.source_arn, Some(region), format!("drill: {} total {} > RTO {} [{why}]: {times}; {}", r.name, hm(total), hm(t), r.detail), DRILL)
                }
                Some((t, why)) => {
                    f.pass(&r.source_arn, Some(region), format!("drill: {} total {} ≤ RTO {} [{why}]: {times}; {}", r.name, hm(total), hm(t), r.detail), DRILL)
                }
                None => f.pass(&r.source_arn, Some(region), format!("drill: {} restored and healthy: {times}", r.name), DRILL),
            }
            return Some(total);
        }
        Stage::RestoreFailed => f.fail(&r.source_arn, Some(region), format!("drill: {} restore failed: {}", r.name, r.detail), DRILL),
        Stage::Unhealthy => f.fail(&r.source_arn, Some(region), format!("drill: {} restored but never healthy: {times}; {}", r.name, r.detail), DRILL),
        Stage::TimedOut => match (target, r.waited_secs) {
            // Waiting longer than the RTO already answers the question.
            (Some((t, why)), Some(w)) if secs(w) > t => {
                f.fail(&r.source_arn, Some(region), format!("drill: {} {} — waited {} > RTO {} [{why}]", r.name, r.detail, hm(secs(w)), hm(t)), DRILL)
            }
            _ => f.error(&r.source_arn, Some(region), format!("drill: {} {}", r.name, r.detail), DRILL),
        },
        Stage::Interrupted | Stage::NotStarted => f.error(&r.source_arn, Some(region), format!("drill: {} not measured: {}", r.name, r.detail), DRILL),
    }
    None
}

fn drill_common(d: &DrillReport, f: &mut Findings) {
    for p in &d.problems {
        f.error("restore-drill", Some(&d.region), p.clone(), DRILL);
    }
    for n in &d.not_drilled {
        if n.unmeasured {
            f.error(&n.arn, Some(&d.region), format!("not drilled: {}", n.reason), DRILL);
        } else {
            f.info(&n.arn, Some(&d.region), format!("not drilled: {}", n.reason), DRILL);
        }
    }
    if d.interrupted {
        f.error("restore-drill", Some(&d.region), "the drill was interrupted (Ctrl-C): its measurements are incomplete", DRILL);
    }
    for r in d.left_behind() {
        f.info(&r.source_arn, Some(&d.region), format!("drill copy left behind: {:?}", r.cleanup), DRILL);
    }
    if d.resources.is_empty() && d.problems.is_empty() {
        f.error("restore-drill", Some(&d.region), "the drill restored nothing (no resource in scope of a type it supports)", DRILL);
    }
}

fn rto_from_drill(d: &DrillReport, target: Duration, why: &str) -> Findings {
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
    f.info(
        "rto-scope",
        Some(&d.region),
        format!("measured by restore drill {} ({}): restore job creation → completion, plus completion → AWS reports the copy available and every [continuity.drill] health check passes", d.drill_id, jst(d.started)),
        DRILL,
    );
    let note = d.emulator_note();
    if let Some(n) = &note {
        f.info("restore-drill", Some(&d.region), n.clone(), DRILL);
    }
    if let Some((t, name)) = worst {
        let (ja, en) = note.map(|n| (format!("（{}）", n.ja), format!(" ({})", n.en))).unwrap_or_default();
        f.ok_summary(Msg::new(
            format!("復元訓練 最長 {}（{name}、復元＋正常性確認）≤ 目標 {}時間{ja}", hm_ja(t), target.num_hours()),
            format!("restore drill: longest {} ({name}, restore + health) ≤ RTO {}h{en}", hm(t), target.num_hours()),
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
