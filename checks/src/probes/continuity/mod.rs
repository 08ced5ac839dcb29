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
pub(crate) mod points;
mod restore;
mod rpo;
mod scope;
mod selection;

pub use business_days::BusinessCalendar;
pub use coverage::coverage;
pub use dr::dr_site;
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
fn note_skipped(f: &mut Findings, region: &str, skipped: &[String]) {
    if !skipped.is_empty() {
        f.info("not-checked", Some(region), format!("not checked after the listing failed: {}", skipped.join(",")), "continuity");
    }
}

fn not_applicable(level: &str, why_ja: &str, why_en: &str) -> Findings {
    Findings::decided(Outcome::NotApplicable, Msg::new(format!("対象外: 選択レベル{level}（{why_ja}）"), format!("not applicable: level {level} ({why_en})")))
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
