//! Points judged by what this run's restore drill (`crate::drill`) did:
//!
//! - `drill.dr_rebuild` (A.1.4.1 / A.3.x 「西日本リージョンにバックアップした情報から
//!   システムを復旧し…接続できる」): with `--site dr` every resource was restored
//!   from its DR-region copy into the DR region's isolated target and passed
//!   its health checks there.
//! - `drill.restore_generation` (C.1.2.5 「世代を指定して戻すことができる」): the
//!   drill restored the generation asked for (`--generation N`) and the copy
//!   became healthy.

use std::sync::Arc;

use super::{Findings, ProbeInput};
use crate::drill::{DrillReport, DrillResource, Site, Stage};
use crate::model::Msg;

/// The drill's own policy covers what it calls; these read nothing more.
pub const ACTIONS: &[&str] = &[];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "drill.dr_rebuild",
        ja: "`--restore-drill --site dr` でDRリージョンのコピーから隔離環境に復旧し、ヘルスチェックが通ることを確認",
        en: "`--restore-drill --site dr` restores every resource from its DR-region copy into the DR region's isolated target and its health checks pass there",
        detail: "Judges this run's drill when it ran with `--site dr`: each resource's recovery point is looked up in the DR vaults the backup plans copy to, restored into `[continuity.drill.dr]`, and must become healthy (AWS reports it up and every `[[continuity.drill.health_checks]]` passes) before it is deleted. A failed or timed-out restore, a copy never healthy → NG; no DR copy, no target, a refused call, a drill at the primary site or none at all → ERROR; a copy no health check applies to (only AWS's readiness was seen) → 要確認.",
        section: "[continuity.drill.dr]",
        actions: ACTIONS,
        emulator: "the demo drill (`verify --env demo --restore-drill`, `--site dr`, `--generation 2`) restores through the emulator extension, which creates the copies (EC2, RDS) in moto after a set duration (said in the evidence); throttling and refused deletes with mocks",
        claims: &[super::registry::claim("dr-restored-healthy", "DR リージョンの複製から復元し正常に稼働した", "Restored from the DR copies, the system became healthy", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("the_dr_site_is_rebuilt_from_the_dr_copies", crate::probes::registry::Class::Nearest, "a rebuild from the primary region instead of the DR copies", crate::model::Outcome::Error), crate::probes::registry::counterfeit("never_healthy_is_ng_and_the_copy_is_still_deleted", crate::probes::registry::Class::HappyPathOnly, "a copy that never becomes healthy", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("a_copy_without_an_applicable_health_check_is_not_ok", crate::probes::registry::Class::PartialObservation, "a copy judged healthy on AWS readiness alone (no health check applies to its type)", crate::model::Outcome::Pending)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "Each resource is restored and judged on its own; the application started as a whole from the DR copies is not."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Only resources in scope are restored; a dependency outside the scope is not part of the rebuild.")],
        run: |i| Box::pin(dr_rebuild(i)),
    },
    super::registry::ProbeDef {
        name: "drill.restore_generation",
        ja: "`--restore-drill --generation N` で指定した世代の復旧ポイントから復元し、正常に起動することを確認",
        en: "`--restore-drill --generation N` restores the chosen generation of each resource's recovery points and the copy becomes healthy",
        detail: "Judges this run's drill: the recovery point restored is the N-th newest usable one (`[continuity.drill] generation` or `--generation`), and the copy became healthy. Fewer generations than asked, a failed restore, a copy never healthy → NG; no drill or a refused call → ERROR; generation 1 (the newest) shows no choice was made → 要確認.",
        section: "[continuity.drill]",
        actions: ACTIONS,
        emulator: "the demo drill (`verify --env demo --restore-drill`, `--site dr`, `--generation 2`) restores through the emulator extension, which creates the copies (EC2, RDS) in moto after a set duration (said in the evidence); throttling and refused deletes with mocks",
        claims: &[super::registry::claim("chosen-generation-restored", "指定世代の復旧ポイントから復元し正常に稼働した", "The chosen generation was restored and became healthy", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("a_chosen_generation_is_restored_and_judged", crate::probes::registry::Class::PartialObservation, "fewer generations than asked, or the newest standing for a choice", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("failed_restore_job_is_ng_and_creates_nothing_to_delete", crate::probes::registry::Class::Nearest, "a failed restore job", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "The restored copy's data is validated only where `[[continuity.drill.validation]]` declares queries (sql.restore_validation)."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "A restore of a point that should be refused (an expired or deleted one) is not attempted.")],
        run: |i| Box::pin(restore_generation(i)),
    },
];

fn without_drill(how: &str) -> Findings {
    Findings::cannot(
        format!("この確認観点は復元訓練で確かめる（`cargo xtask verify {how}`）: この実行では復元していない"),
        format!("this point is verified by the restore drill (`cargo xtask verify {how}`); this run restored nothing"),
    )
}

/// Failures before any restore, and resources that should have been drilled but were not.
fn problems(report: &DrillReport, f: &mut Findings) {
    for p in &report.problems {
        // The drill's discovery problems are recorded in English (AWS's words); quoted in the Japanese.
        f.error("restore-drill", Some(&report.region), crate::msg!("復元訓練の前提を確認できない: {p}", "{p}"), "restore-drill");
    }
    for n in report.not_drilled.iter().filter(|n| n.unmeasured) {
        let reason = &n.reason;
        f.error(&n.arn, Some(&report.region), crate::msg!("復元訓練の対象外（測定なし）: {reason}", "{reason}"), "restore-drill");
    }
    if report.interrupted {
        f.error("restore-drill", Some(&report.region), crate::msg!("復元訓練が中断された（Ctrl-C）", "the drill was interrupted (Ctrl-C)"), "restore-drill");
    }
    if report.resources.is_empty() {
        f.error("restore-drill", Some(&report.region), crate::msg!("復元訓練で何も復元していない", "the drill restored nothing"), "restore-drill");
    }
    if let Some(n) = report.emulator_note() {
        f.info("restore-drill", Some(&report.region), n, "restore-drill");
    }
}

/// A copy judged healthy with no health check that applies to its type was
/// only seen up by AWS: the point's "healthy" is then not shown (要確認).
pub(crate) fn aws_readiness_only(r: &DrillResource) -> Option<Msg> {
    (r.stage == Stage::Healthy && r.health_checks == 0).then(|| {
        let name = &r.name;
        crate::msg!("{name}: AWS上の起動のみ確認（適用されるヘルスチェックなし）", "{name}: only AWS's readiness was seen (no health check applies to it)")
    })
}

/// One resource's restore as evidence: healthy → pass; a restore that did not
/// work → fail; one that was never tried or could not be followed → error.
fn judge(r: &DrillResource, region: &str, what: &Msg, f: &mut Findings) {
    let point = r.recovery_point.as_deref().unwrap_or("-");
    let detail = &r.detail;
    let stage = format!("{:?}", r.stage);
    let (what_ja, what_en) = (&what.ja, &what.en);
    match r.stage {
        Stage::Healthy => {
            let restore = r.restore_secs.map_or("-".to_string(), |s| crate::model::duration_text(s as f64));
            let health = r.health_secs.map_or("-".to_string(), |s| crate::model::duration_text(s as f64));
            let checks = r.health_checks;
            f.pass(
                &r.name,
                Some(region),
                crate::msg!(
                    "{what_ja}: {point} から復元（{restore}）、{health} 後に正常（適用ヘルスチェック {checks}件: {detail}）",
                    "{what_en}: restored from {point} in {restore}, healthy after {health} ({checks} applicable health check(s): {detail})"
                ),
                "restore-drill",
            );
            if let Some(m) = aws_readiness_only(r) {
                f.unverified(m);
            }
        }
        Stage::RestoreFailed | Stage::TimedOut | Stage::Unhealthy => f.fail(
            &r.name,
            Some(region),
            crate::msg!("{what_ja}: 復元または正常性確認に失敗（{stage}）: {detail}", "{what_en}: {stage}: {detail}"),
            "restore-drill",
        ),
        Stage::NotStarted | Stage::Interrupted => f.error(
            &r.name,
            Some(region),
            crate::msg!("{what_ja}: 復元していない（{stage}）: {detail}", "{what_en}: not restored ({stage}): {detail}"),
            "restore-drill",
        ),
    }
}

pub async fn dr_rebuild(input: Arc<ProbeInput>) -> Findings {
    let Some(report) = input.drill.as_ref() else { return without_drill("--restore-drill --site dr") };
    if report.site != Site::Dr {
        return Findings::cannot(
            "この実行の復元訓練は本番リージョンで行った: DRリージョンからの復旧は `--site dr` で確かめる",
            "this run's drill restored in the primary region: the DR rebuild is verified with `--restore-drill --site dr`",
        );
    }
    let mut f = Findings::new();
    problems(report, &mut f);
    for r in &report.resources {
        judge(r, &report.region, &Msg::new("DRリージョンで復旧", "rebuilt in the DR region"), &mut f);
    }
    let checks = input.scenario.continuity.drill.as_ref().map_or(0, |d| d.health_checks.len());
    if checks == 0 {
        f.unverified(Msg::new(
            "業務での利用（顧客サイトからの接続）は未確認: [[continuity.drill.health_checks]] がなく、AWS上の起動のみ確認",
            "use from the customer site was not checked: no [[continuity.drill.health_checks]], only AWS's readiness was seen",
        ));
    }
    // Checks apply per copy type: count what ran on the copies, not what the scenario lists.
    let applied: usize = report.resources.iter().map(|r| r.health_checks).sum();
    f.ok_summary(Msg::new(
        format!("DRリージョン {} のコピーから {}件を隔離環境に復旧し、適用したヘルスチェック 計{applied}件が通った", report.region, report.resources.len()),
        format!(
            "{} resource(s) rebuilt from the copies in {} and {applied} applicable health check(s) passed there in all",
            report.resources.len(),
            report.region
        ),
    ));
    f
}

pub async fn restore_generation(input: Arc<ProbeInput>) -> Findings {
    let Some(report) = input.drill.as_ref() else { return without_drill("--restore-drill --generation N") };
    let mut f = Findings::new();
    problems(report, &mut f);
    let n = report.generation;
    for r in &report.resources {
        match r.usable_points {
            Some(have) if have < n => f.fail(
                &r.name,
                Some(&report.region),
                crate::msg!("第{n}世代を指定したが、使える復旧ポイントは {have}件のみ", "generation {n} asked for, only {have} usable recovery point(s)"),
                "restore-drill",
            ),
            _ => judge(r, &report.region, &crate::msg!("第{n}世代", "generation {n}"), &mut f),
        }
    }
    if n == 1 {
        f.unverified(Msg::new(
            "世代の指定は未確認: 最新の世代を復元した（古い世代は `--generation 2` 以上で確かめる）",
            "choosing a generation was not shown: the newest was restored (restore an older one with `--generation 2` or more)",
        ));
    }
    f.ok_summary(Msg::new(
        format!("指定した第{n}世代の復旧ポイントから {}件を復元し、正常に起動した", report.resources.len()),
        format!("{} resource(s) restored from the chosen generation {n} and healthy", report.resources.len()),
    ));
    f
}
