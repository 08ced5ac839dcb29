//! Recovery points: per resource in a region (ListRecoveryPointsByResource)
//! and per resource in one vault (ListRecoveryPointsByBackupVault, which also
//! lists the copies that copy actions put into a DR vault).

use chrono::{DateTime, Utc};

use super::ts;
use crate::probes::Findings;

#[derive(Debug, Clone)]
pub struct Point {
    pub arn: String,
    pub vault: String,
    pub created: DateTime<Utc>,
    pub status: String,
    /// Only known from the vault listing; `None` from the resource listing.
    pub encrypted: Option<bool>,
}

impl Point {
    /// A point a restore can start from. EXPIRED, PARTIAL, CREATING, DELETING do not count.
    pub fn usable(&self) -> bool {
        matches!(self.status.as_str(), "COMPLETED" | "AVAILABLE")
    }
}

/// The newest usable point.
pub fn newest(points: &[Point]) -> Option<&Point> {
    points.iter().filter(|p| p.usable()).max_by_key(|p| p.created)
}

/// The `n`-th newest usable point (1 = the newest): the generation a drill restores.
pub fn generation(points: &[Point], n: usize) -> Option<&Point> {
    let mut usable: Vec<&Point> = points.iter().filter(|p| p.usable()).collect();
    usable.sort_by_key(|p| std::cmp::Reverse(p.created));
    usable.get(n.checked_sub(1)?).copied()
}

/// "3 listed: 1 COMPLETED, 2 EXPIRED" — what was there when none is usable.
/// [`census`] in Japanese: 「一覧 3件: 2 COMPLETED, 1 EXPIRED」.
pub fn census_ja(points: &[Point]) -> String {
    census(points).replacen(" listed", "件", 1).replacen(&points.len().to_string(), &format!("一覧 {}", points.len()), 1)
}

/// [`census`] and [`census_ja`] as one text.
pub fn census_msg(points: &[Point]) -> crate::model::Msg {
    crate::model::Msg::new(census_ja(points), census(points))
}

pub fn census(points: &[Point]) -> String {
    let mut by: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for p in points {
        *by.entry(p.status.as_str()).or_default() += 1;
    }
    let parts: Vec<String> = by.iter().map(|(s, n)| format!("{n} {s}")).collect();
    format!("{} listed{}{}", points.len(), if parts.is_empty() { "" } else { ": " }, parts.join(", "))
}

/// Points of one resource in the client's region; `None` after a recorded failure.
pub async fn by_resource(backup: &aws_sdk_backup::Client, region: &str, arn: &str, f: &mut Findings) -> Option<Vec<Point>> {
    const CALL: &str = "backup:ListRecoveryPointsByResource";
    let mut out = Vec::new();
    let mut pages = backup.list_recovery_points_by_resource().resource_arn(arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.recovery_points().iter().filter_map(|r| {
                Some(Point {
                    arn: r.recovery_point_arn()?.to_string(),
                    vault: r.backup_vault_name().unwrap_or("").to_string(),
                    created: ts(r.creation_date())?,
                    status: r.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    encrypted: None,
                })
            })),
            Err(e) => {
                f.aws_error(CALL, Some(region), &e);
                return None;
            }
        }
    }
    Some(out)
}

/// Points in one vault (of one resource, or all of them); `None` after a recorded failure.
pub async fn in_vault(backup: &aws_sdk_backup::Client, region: &str, vault: &str, arn: Option<&str>, f: &mut Findings) -> Option<Vec<Point>> {
    const CALL: &str = "backup:ListRecoveryPointsByBackupVault";
    let mut out = Vec::new();
    let mut pages = backup.list_recovery_points_by_backup_vault().backup_vault_name(vault).set_by_resource_arn(arn.map(str::to_string)).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.recovery_points().iter().filter_map(|r| {
                Some(Point {
                    arn: r.recovery_point_arn()?.to_string(),
                    vault: vault.to_string(),
                    created: ts(r.creation_date())?,
                    status: r.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    encrypted: Some(r.is_encrypted()),
                })
            })),
            Err(e) => {
                f.aws_error(CALL, Some(region), &e);
                return None;
            }
        }
    }
    Some(out)
}

/// IsEncrypted of one point (the resource listing does not carry it).
pub async fn is_encrypted(backup: &aws_sdk_backup::Client, region: &str, p: &Point, f: &mut Findings) -> Option<(bool, String)> {
    const CALL: &str = "backup:DescribeRecoveryPoint";
    match backup.describe_recovery_point().backup_vault_name(&p.vault).recovery_point_arn(&p.arn).send().await {
        Ok(o) => Some((o.is_encrypted(), o.encryption_key_arn().unwrap_or("-").to_string())),
        Err(e) => {
            f.aws_error(CALL, Some(region), &e);
            None
        }
    }
}
