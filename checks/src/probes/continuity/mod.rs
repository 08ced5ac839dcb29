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
        emulator: "mocks only: moto serves no Backup selections or recovery points",
        run: |i| Box::pin(coverage(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.rpo",
        ja: "リソースごとの実測RPO（最新の復旧ポイント／PITR）を営業日の目標と比較",
        en: "Measured RPO per resource (newest recovery point / PITR) against the business-day target",
        detail: "Measured RPO per resource (now − newest completed recovery point, or RDS `LatestRestorableTime`) vs. the level: 1営業日前 counted with Japanese holidays and 年末年始; 障害発生時点 needs continuous backup/PITR. Worst resource in 事象.",
        section: "[continuity]",
        actions: ACTIONS,
        emulator: "mocks for recovery points; moto for RDS PITR settings",
        run: |i| Box::pin(rpo(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.rto",
        ja: "復元ジョブ履歴（または --restore-drill）の実測復旧時間を目標と比較",
        en: "Measured recovery time from restore-job history (or --restore-drill) against the target",
        detail: "From restore-job history: duration of the newest completed restore vs. RTO (3 h cloud / 12 h application cause), its age; no history → ERROR (never OK). With `verify --restore-drill`: a real restore into an isolated target, restore time + time until healthy, copies deleted (see below).",
        section: "[continuity]",
        actions: ACTIONS,
        emulator: "mocks only: moto serves no restore jobs; the drill runs against mocks",
        run: |i| Box::pin(rto(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.rlo",
        ja: "復元ジョブ履歴（または --restore-drill）で復旧できた範囲（システム全体／特定業務）",
        en: "Recovery level from restore-job history (or --restore-drill): whole system or the named services",
        detail: "From restore-job history: duration of the newest completed restore vs. RTO (3 h cloud / 12 h application cause), its age; no history → ERROR (never OK). With `verify --restore-drill`: a real restore into an isolated target, restore time + time until healthy, copies deleted (see below).",
        section: "[continuity]",
        actions: ACTIONS,
        emulator: "mocks only: moto serves no restore jobs",
        run: |i| Box::pin(rlo(i)),
    },
    super::registry::ProbeDef {
        name: "continuity.dr_site",
        ja: "DRリージョンのバックアップコピー・再構築用AMI/起動テンプレート・72時間以内のデータ提供",
        en: "DR-region backup copies, rebuild artefacts (AMIs, launch templates) and the 72-hour data export",
        detail: "A recovery-point copy of every protected resource in the DR region younger than 24 h; the scenario's AMIs/launch templates exist there; the 72-hour data export (S3) is fresh, else a desk attestation is needed.",
        section: "[continuity] [backup]",
        actions: ACTIONS,
        emulator: "moto: plans, AMIs, launch templates, S3 export; DR recovery points only with mocks",
        run: |i| Box::pin(dr_site(i)),
    },
    super::registry::ProbeDef {
        name: "backup.generations",
        ja: "対象リソースごとに、主リージョンとDRリージョンの両方に必要な世代数の復旧ポイントがある",
        en: "Each in-scope resource has the required generations of usable recovery points in the primary and in the DR region",
        detail: "For every in-scope resource (EC2, RDS, Aurora, `[backup] resources`): usable (COMPLETED/AVAILABLE) recovery points in the primary region (ListRecoveryPointsByResource) and in the DR vaults the plans copy to (ListRecoveryPointsByBackupVault), each at least `[backup] generations` (1 when unset). Fewer in either region, or no copy rule to the DR region → NG naming the resource and region; a listing that fails → ERROR.",
        section: "[backup]",
        actions: ACTIONS,
        emulator: "mocks only: moto serves no recovery points",
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
        f.info("not-checked", Some(region), format!("not checked after the listing failed: {}", skipped.join(",")), "continuity");
    }
}

fn not_applicable(level: &str, why_ja: &str, why_en: &str) -> Findings {
    Findings::decided(Outcome::NotApplicable, Msg::new(format!("対象外: 選択レベル{level}（{why_ja}）"), format!("not applicable: level {level} ({why_en})")))
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
