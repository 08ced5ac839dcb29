//! Continuity probes: whether the system can be recovered, from what is
//! actually recorded (recovery points, restore jobs, DR-region copies), not
//! from configuration alone.
//!
//! - `backup.coverage` (C.1.2.2 / C.1.2.3): every resource in scope is in a
//!   backup selection and has a fresh, encrypted recovery point.
//! - `continuity.rpo` (A.1.3.1): measured RPO per resource against 営業日.
//! - `continuity.rto` / `continuity.rlo` (A.1.3.2 / A.1.3.3): restore-job history.
//! - `continuity.dr_site` (A.1.4.1 / A.3.1.1 / A.3.2.1): DR-region copies,
//!   rebuild artefacts, the 72-hour data export.

mod business_days;
mod coverage;
mod dr;
mod generations;
pub(crate) mod points;
mod restore;
mod rpo;
mod scope;
mod selection;

pub use business_days::BusinessCalendar;
pub use coverage::coverage;
pub use dr::dr_site;
pub use generations::generations;
pub use restore::{rlo, rto};
pub use rpo::rpo;
pub use scope::resource_type;
pub(crate) use scope::{discover, in_scope_resources, Resource};
pub use selection::glob;

use chrono::{DateTime, Duration, Utc};

use super::Findings;
use crate::model::{Msg, Outcome};

/// IAM actions these probes call (see `permissions`). All read-only; the
/// restore drill's write actions are in `crate::drill::ACTIONS`, a separate policy.
pub const ACTIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeImages",
    "ec2:DescribeLaunchTemplates",
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusters",
    "backup:ListBackupPlans",
    "backup:GetBackupPlan",
    "backup:ListBackupSelections",
    "backup:GetBackupSelection",
    "backup:ListRecoveryPointsByResource",
    "backup:ListRecoveryPointsByBackupVault",
    "backup:DescribeRecoveryPoint",
    "backup:ListRestoreJobs",
    // IAM action of the S3 ListObjectsV2 API.
    "s3:ListBucket",
];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "backup.coverage",
        ja: "対象リソースすべてがバックアップ選択に含まれ、新しく完了した暗号化済みの復旧ポイントがある",
        en: "Every in-scope resource is in a backup selection and has a recent, completed, encrypted recovery point",
        detail: "Every declared or tag-selected resource is in a backup selection, has a completed, encrypted recovery point younger than the level's interval; retention keeps the scenario's generations.",
        section: "[backup] [continuity]",
        actions: ACTIONS,
        emulator: "the emulator extension (demo/emulator): backup selections and recovery points; faults (denied, HTML errors) with mocks",
        claims: &[crate::probes::registry::claim("resources-backed-up", "対象の各リソースに期間内の完了した暗号化済み復旧ポイントがある", "Every resource in scope has a recent, completed, encrypted recovery point", crate::probes::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("coverage_gap_is_ng_naming_the_resource", crate::probes::registry::Class::UnlistedData, "an in-scope resource in no backup selection", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("coverage_only_expired_or_running_points_is_ng", crate::probes::registry::Class::Nearest, "only expired or running recovery points", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("coverage_unencrypted_point_is_ng", crate::probes::registry::Class::Nearest, "an unencrypted recovery point", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "Recovery points are listed per resource in the primary region; copies in the DR region are judged by backup.generations and continuity.dr_site."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "Whether a recovery point really restores is not tried here; the restore drill (`verify --restore-drill`) does.")],
        run: |i| Box::pin(coverage(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.rpo",
        ja: "リソースごとの実測RPO（最新の復旧ポイント／PITR）を営業日の目標と比較",
        en: "Measured RPO per resource (newest recovery point / PITR) against the business-day target",
        detail: "Measured RPO per resource (now − newest completed recovery point, or RDS `LatestRestorableTime`) vs. the level: 1営業日前 counted with Japanese holidays and 年末年始; 障害発生時点 needs continuous backup/PITR. Worst resource in 事象.",
        section: "[continuity]",
        actions: ACTIONS,
        emulator: "the emulator extension's recovery points; moto for RDS PITR settings; faults with mocks",
        claims: &[crate::probes::registry::claim("rpo-measured", "最新の復旧ポイントの経過時間が RPO 以内（実測）", "The newest recovery point's age is within the RPO", crate::probes::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("rpo_level_3_needs_pitr_and_reports_lag", crate::probes::registry::Class::Nearest, "a database without PITR, or lagging, where the level needs the point of failure", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("rpo_level_3_a_declared_stateless_server_needs_its_daily_point", crate::probes::registry::Class::UnlistedData, "at 障害発生時点, a server declared stateless whose daily point is stale", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("rpo_level_3_a_declared_stateless_server_needs_its_daily_point", crate::probes::registry::Class::HappyPathOnly, "at 障害発生時点, an EC2 server not declared stateless, with daily points only (its archive logs cannot be seen)", crate::model::Outcome::Pending), crate::probes::registry::counterfeit("rpo_denied_listing_is_error", crate::probes::registry::Class::PartialObservation, "recovery points that cannot be listed", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "A server declared in `[continuity] stateless_servers` is taken at its word: business data written on it is not looked for."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Measures the resources in scope (tags, attachments, `[backup] resources`); a database the scope does not reach is not measured."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "The age of the newest recovery point is measured; that it restores the data is shown only by the drill.")],
        run: |i| Box::pin(rpo(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.rto",
        ja: "復元ジョブ履歴（または --restore-drill）の実測復旧時間を目標と比較",
        en: "Measured recovery time from restore-job history (or --restore-drill) against the target",
        detail: "From restore-job history: duration of the newest completed restore vs. RTO (3 h cloud / 12 h application cause), its age; no history → ERROR (never OK). With `verify --restore-drill`: a real restore into an isolated target, restore time + time until healthy, copies deleted (see below).",
        section: "[continuity]",
        actions: ACTIONS,
        emulator: "the emulator extension's restore-job history (seeded by the demos); with --restore-drill the demo's drill restores through the extension (its restore duration is the emulator's, said in the evidence); throttling and refused deletes with mocks",
        claims: &[crate::probes::registry::claim("restore-within-rto", "実際の復元にかかった時間が RTO 以内", "An actual restore took no longer than the RTO", crate::probes::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("rto_slow_failed_and_stale_are_ng", crate::probes::registry::Class::Nearest, "a restore slower than the RTO, failed or too old", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("rto_without_history_is_error_never_ok", crate::probes::registry::Class::HappyPathOnly, "no restore ever made", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "Judges the newest completed restore job; older, slower restores are not re-judged."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "A job's duration ends when AWS marks it COMPLETED; the time until the application is usable again is measured only by the drill's health checks.")],
        run: |i| Box::pin(rto(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.rlo",
        ja: "復元ジョブ履歴（または --restore-drill）で復旧できた範囲（システム全体／特定業務）",
        en: "Recovery level from restore-job history (or --restore-drill): whole system or the named services",
        detail: "From restore-job history: duration of the newest completed restore vs. RTO (3 h cloud / 12 h application cause), its age; no history → ERROR (never OK). With `verify --restore-drill`: a real restore into an isolated target, restore time + time until healthy, copies deleted (see below).",
        section: "[continuity]",
        actions: ACTIONS,
        emulator: "the emulator extension's restore-job history (seeded by the demos)",
        claims: &[crate::probes::registry::claim("restore-within-rlo", "実際の復元が求める範囲まで RLO 内に完了", "An actual restore reached the required level within its target", crate::probes::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("rlo_needs_every_resource_type_restored_at_level_2", crate::probes::registry::Class::PartialObservation, "one resource type restored, not all", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("rows_needing_recovery_points_or_restore_jobs_are_error_never_ok", crate::probes::registry::Class::HappyPathOnly, "no restore job the emulator can show", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Expects a restore of each resource type present in scope; a type the scope does not reach is not asked for.")],
        run: |i| Box::pin(rlo(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.dr_site",
        ja: "DRリージョンのバックアップコピー・再構築用AMI/起動テンプレート・72時間以内のデータ提供",
        en: "DR-region backup copies, rebuild artefacts (AMIs, launch templates) and the 72-hour data export",
        detail: "A recovery-point copy of every protected resource in the DR region younger than 24 h; the scenario's AMIs/launch templates exist there; the 72-hour data export (S3) is fresh, else a desk attestation is needed.",
        section: "[continuity] [backup]",
        actions: ACTIONS,
        emulator: "moto: plans, AMIs, launch templates, S3 export; DR recovery points through the emulator extension",
        claims: &[crate::probes::registry::claim("dr-copies", "DR リージョンに各リソースの最近の復旧ポイントの複製と、宣言した再構築用 AMI・起動テンプレートがある", "Recent copies of every protected resource, and the declared rebuild AMIs and launch templates, exist in the DR region", crate::probes::registry::Basis::Effect), crate::probes::registry::claim("anpi-export", "安否確認用データの出力が新しい", "The safety-confirmation export is fresh", crate::probes::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("dr_copies_fresh_is_ok_and_stale_or_missing_is_ng", crate::probes::registry::Class::PartialObservation, "a copy missing or stale in the DR region for one resource", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("missing_dr_artefacts_and_unwritten_export_are_ng", crate::probes::registry::Class::Nearest, "rebuild AMIs missing in the DR region, no fresh export", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "AMIs and launch templates are the ones the scenario names; a server rebuilt from an image not named is not checked."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "Copies and images in the DR region are seen to exist; a rebuild from them is shown only by `verify --restore-drill --site dr` (drill.dr_rebuild).")],
        run: |i| Box::pin(dr_site(i)),
    },
    super::registry::ProbeDef {
        name: "backup.generations",
        ja: "対象リソースごとに、主リージョンとDRリージョンの両方に必要な世代数の復旧ポイントがある",
        en: "Each in-scope resource has the required generations of usable recovery points in the primary and in the DR region",
        detail: "For every in-scope resource (EC2, RDS, Aurora, `[backup] resources`): usable (COMPLETED/AVAILABLE) recovery points in the primary region (ListRecoveryPointsByResource) and in the DR vaults the plans copy to (ListRecoveryPointsByBackupVault), each at least `[backup] generations` (1 when unset). Fewer in either region, or no copy rule to the DR region → NG naming the resource and region; a listing that fails → ERROR.",
        section: "[backup]",
        actions: ACTIONS,
        emulator: "the emulator extension's recovery points in both regions; an unreadable vault with mocks",
        claims: &[crate::probes::registry::claim("generations-kept", "両リージョンに必要世代数の復旧ポイントがある", "Both regions hold the required generations of recovery points", crate::probes::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("generations_missing_in_the_dr_region_is_ng_and_an_unreadable_vault_is_error", crate::probes::registry::Class::PartialObservation, "enough generations in the primary region only", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("generations_in_both_regions_are_counted_per_resource", crate::probes::registry::Class::UnlistedData, "generations counted for one resource standing in for another", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "Counts usable recovery points; that an older generation restores is shown only by the drill with `--generation`.")],
        run: |i| Box::pin(generations(i)),
    },
];

/// SDK timestamp → chrono.
pub(crate) fn ts(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// "31h05m" — measured ages and durations in evidence.
pub fn hm(d: Duration) -> String {
    let m = d.num_minutes();
    let sign = if m < 0 { "-" } else { "" };
    format!("{sign}{}h{:02}m", m.abs() / 60, m.abs() % 60)
}

/// "31時間5分" for 事象.
pub fn hm_ja(d: Duration) -> String {
    let m = d.num_minutes();
    let sign = if m < 0 { "-" } else { "" };
    format!("{sign}{}時間{}分", m.abs() / 60, m.abs() % 60)
}

/// "2026-12-28 03:00 JST".
pub fn jst(t: DateTime<Utc>) -> String {
    gcverify_availability::calendar::to_jst(t).format("%Y-%m-%d %H:%M JST").to_string()
}

/// After a listing failed once, the remaining resources are not asked again
/// (same call, same cause); say which were left unchecked.
/// Names of the DR-region vaults the plans' copy actions write to.
pub(crate) fn dr_vaults(rules: &[super::backup::Rule], dr: &str) -> Vec<String> {
    let mut vaults: Vec<String> = rules
        .iter()
        .flat_map(|r| r.copies_to.iter())
        .filter(|arn| super::backup::arn_region(arn) == Some(dr) && arn.contains(":backup-vault:"))
        .filter_map(|arn| arn.rsplit(':').next().map(str::to_string))
        .collect();
    vaults.sort();
    vaults.dedup();
    vaults
}

fn note_skipped(f: &mut Findings, region: &str, skipped: &[String]) {
    if !skipped.is_empty() {
        f.info(
            "not-checked",
            Some(region),
            crate::msg!("一覧取得の失敗後は未確認: {0}", "not checked after the listing failed: {0}", skipped.join(",")),
            "continuity",
        );
    }
}

/// A level the catalog lists no parameters for: this probe cannot judge it.
fn unsupported_level(item: &crate::catalog::Item, level: &str) -> Findings {
    let supported = item.param_levels().join(", ");
    let note = item.param::<String>("unsupported").map(|n| format!("; {n}")).unwrap_or_default();
    unsupported(level, &format!("{}: 0, {supported}{note}", item.id))
}

fn unsupported(level: &str, why: &str) -> Findings {
    Findings::decided(
        Outcome::Error,
        Msg::new(format!("検証不能: レベル{level}の判定は未対応（{why}）"), format!("could not verify: level {level} is not supported by this probe ({why})")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_durations() {
        assert_eq!(hm(Duration::minutes(31 * 60 + 5)), "31h05m");
        assert_eq!(hm_ja(Duration::minutes(65)), "1時間5分");
        assert_eq!(hm(Duration::minutes(-5)), "-0h05m");
    }
}
