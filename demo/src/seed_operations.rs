//! Seeds what the operations probes read (C.2.3.5 パッチ適用, E.4.3.4 ウィルス
//! 定義ファイル, E.5.1.1 root MFA) into the emulator extension: every in-scope
//! instance registered with SSM (agent online) and its Patch Manager state
//! after last night's install; the anti-virus definition association
//! (`[patching] av_association`) targeting them and succeeding every 6 hours;
//! root MFA on.
//!
//! Non-compliant: [`MISSING_PATCH`] misses a security patch, the association
//! last succeeded [`STALE_AV_DAYS`] days ago (failing since), root has no MFA.

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use serde_json::json;

use crate::moto::admin;
use crate::seed::PRIMARY;

/// The scenario's `[patching] av_association`.
pub const AV_ASSOCIATION: &str = "juki-av-definitions";
/// Non-compliant: the instance (Name tag) with a missing security patch.
pub const MISSING_PATCH: &str = "juki-web01";
pub const STALE_AV_DAYS: i64 = 5;

pub async fn seed_operations(endpoint: &str, compliant: bool) -> Result<()> {
    let now = Utc::now();
    let instances: Vec<_> = crate::seed_continuity::in_scope(endpoint).await?.into_iter().filter(|r| r.arn.contains(":instance/")).collect();
    let ids: Vec<String> = instances.iter().filter_map(|r| r.arn.rsplit('/').next().map(str::to_string)).collect();
    let registered: Vec<serde_json::Value> = instances
        .iter()
        .zip(&ids)
        .map(|(r, id)| {
            let missing = !compliant && r.name == MISSING_PATCH;
            json!({
                "InstanceId": id,
                "ComputerName": r.name,
                "PingStatus": "Online",
                "LastPingDateTime": (now - Duration::minutes(3)).to_rfc3339(),
                "Patch": {
                    "PatchGroup": "juki",
                    "Operation": "Install",
                    "OperationEndTime": (now - Duration::hours(4)).to_rfc3339(),
                    "InstalledCount": 412,
                    "InstalledOtherCount": 38,
                    "NotApplicableCount": 1210,
                    "MissingCount": if missing { 1 } else { 0 },
                    "SecurityNonCompliantCount": if missing { 1 } else { 0 },
                },
            })
        })
        .collect();
    admin(endpoint, "ssm-instances", &json!({"region": PRIMARY, "instances": registered})).context("registering SSM managed instances")?;

    // Every 6 hours for two days; non-compliant: failing for the last STALE_AV_DAYS days.
    let runs: Vec<serde_json::Value> = (0..8)
        .map(|n| {
            let at = now - Duration::hours(1 + 6 * n);
            let failing = !compliant && now - at < Duration::days(STALE_AV_DAYS);
            json!({"status": if failing { "Failed" } else { "Success" }, "at": at.to_rfc3339()})
        })
        .chain((!compliant).then(|| json!({"status": "Success", "at": (now - Duration::days(STALE_AV_DAYS) - Duration::hours(1)).to_rfc3339()})))
        .collect();
    admin(
        endpoint,
        "ssm-association",
        &json!({
            "region": PRIMARY,
            "Name": "AWS-RunShellScript",
            "AssociationName": AV_ASSOCIATION,
            "ScheduleExpression": "rate(6 hours)",
            "Targets": [{"Key": "InstanceIds", "Values": ids}],
            "executions": runs,
        }),
    )
    .context("creating the anti-virus definition association")?;

    admin(endpoint, "root-mfa", &json!({"enabled": compliant})).context("setting root MFA")?;
    Ok(())
}
