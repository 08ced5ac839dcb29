//! F.1.1.1 構築時の制約条件 / F.1.2.1 運用時の制約条件 (`residency.regions`):
//! data stays in Japan. Every enabled region is scanned (bounded
//! concurrency) for compute (EC2 instances), storage (EBS volumes), databases
//! (RDS instances and clusters) and backups (AWS Backup vaults) outside the
//! allowed regions; every S3 bucket's location must be an allowed region.
//! Account-wide on purpose: data outside Japan is a violation whatever its tags.

use std::future::Future;
use std::sync::Arc;

use futures::stream::{self, StreamExt};

use super::{Findings, ProbeInput};
use crate::aws::AwsContext;
use crate::inventory::{Inventory, Listing};
use crate::model::Msg;

/// IAM actions this probe calls (see `permissions`).
pub const ACTIONS: &[&str] = &[
    "ec2:DescribeRegions",
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusters",
    "backup:ListBackupVaults",
    "s3:ListBuckets",
    "s3:GetBucketLocation",
];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "residency.regions",
        ja: "システムのリソースが日本国内のリージョンにだけある",
        en: "The system's resources are only in Japanese regions",
        detail: "Every enabled region outside the allowed ones (default ap-northeast-1/-3) scanned concurrently for instances, volumes, DB instances/clusters, backup vaults; S3 bucket locations.",
        section: "[residency]",
        actions: ACTIONS,
        emulator: "moto: EC2, RDS, S3 across regions",
        claims: &[super::registry::claim("data-in-japan", "データが国内リージョンのみにある", "Data is held only in Japanese regions", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("resources_outside_japan_are_named_per_service", crate::probes::registry::Class::PartialObservation, "a resource in a region outside Japan that a one-region scan misses", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("noncompliant_seed_names_every_planted_violation", crate::probes::registry::Class::UnlistedData, "an S3 bucket located outside Japan", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("residency_scans_only_the_accounts_partition", crate::probes::registry::Class::HappyPathOnly, "an account (or a wrong profile) holding nothing: nothing outside Japan, nothing inside either", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::Nearest, "Services other than EC2, EBS, RDS, Aurora, AWS Backup and S3 (e.g. DynamoDB, EFS) are not scanned outside Japan.")],
        run: |i| Box::pin(regions(i)),
    },
];

/// One observation made while scanning a region, applied to `Findings` afterwards
/// (region scans run concurrently, `Findings` is filled in region order).
#[derive(Debug, Clone, PartialEq)]
pub enum Obs {
    Found { kind: &'static str, id: String, region: String, call: &'static str },
    Clean { region: String, counted: String },
    Failed { region: String, reason: crate::model::Msg, call: &'static str },
}

pub async fn regions(input: Arc<ProbeInput>) -> Findings {
    let cfg = &input.scenario.residency;
    let allowed = cfg.allowed_regions.clone();
    let primary = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let Some(enabled) = enabled_regions(&input.aws, &primary, &mut f).await else { return f };
    // An endpoint may list regions of other partitions (cn-*, us-gov-*): the
    // account's credentials cannot reach them, so scanning them only yields errors.
    let partition = same_partition(&enabled, &primary);
    let outside: Vec<String> = partition.iter().filter(|r| !allowed.contains(r)).cloned().collect();
    // The allowed regions are scanned too: "nothing outside Japan" proves
    // nothing unless the system's data was seen inside it (no OK about nothing).
    let scanned: Vec<String> = partition.iter().filter(|r| allowed.contains(r)).cloned().chain(outside.iter().cloned()).collect();
    let inv = input.inventory.clone();
    let obs = scan_all(scanned, cfg.concurrency, move |region| {
        let inv = inv.clone();
        async move { scan_region(&inv, &region).await }
    })
    .await;
    let (mut clean, mut held_in_japan) = (Vec::new(), 0usize);
    for o in obs {
        match o {
            Obs::Found { region, .. } if allowed.contains(&region) => held_in_japan += 1,
            Obs::Found { kind, id, region, call } => {
                let list = allowed.join(", ");
                f.fail(&id, Some(&region), crate::msg!("{kind} が許可リージョン（{list}）の外にある", "{kind} outside the allowed regions ({list})"), call)
            }
            Obs::Clean { region, .. } if allowed.contains(&region) => {}
            Obs::Clean { region, counted } => clean.push((region, counted)),
            Obs::Failed { region, reason, call } => f.error(call, Some(&region), reason, call),
        }
    }
    let mut in_japan = 0;
    let listed = input.inventory.buckets().await;
    if let Err(e) = &listed {
        f.listing_error(e);
    }
    for b in listed.iter().flat_map(|l| l.iter()) {
        let (bucket, Some(region)) = (&b.name, b.region.clone()) else {
            f.error(&b.name, None, b.problem.clone().unwrap_or_else(|| Msg::new("バケットのリージョン不明", "bucket region unknown")), "s3:GetBucketLocation");
            continue;
        };
        if allowed.contains(&region) {
            in_japan += 1;
            f.pass(bucket, Some(&region), Msg::new("S3 バケットは許可リージョンにある", "S3 bucket location in an allowed region"), "s3:GetBucketLocation");
        } else {
            f.fail(
                bucket,
                Some(&region),
                crate::msg!("S3 バケットが許可リージョン（{0}）の外にある", "S3 bucket located outside the allowed regions ({0})", allowed.join(", ")),
                "s3:GetBucketLocation",
            );
        }
    }
    if held_in_japan + in_japan == 0 {
        f.error(
            "residency",
            None,
            Msg::new(
                "国内リージョンにも本システムの資源（計算・保存・DB・バックアップ・S3）が見つからず、所在を確認するデータがない（アカウントやタグの誤り？）",
                "no compute, storage, database, backup resource or S3 bucket of the system was found in the allowed regions either: no data to locate (wrong account or tags?)",
            ),
            "residency-scan",
        );
        return f;
    }
    let clean_n = clean.len();
    for (region, counted) in clean {
        f.pass(&format!("region:{region}"), Some(&region), crate::msg!("資源なし（確認: {counted}）", "nothing found: {counted}"), "residency-scan");
    }
    f.ok_summary(Msg::new(
        format!(
            "許可リージョン（{}）以外の{clean_n}リージョンに計算・保存・DB・バックアップ資源なし（国内に{held_in_japan}件）、S3バケット{in_japan}件すべて許可リージョン",
            allowed.join(", ")
        ),
        format!(
            "no compute, storage, database or backup resource in the {clean_n} region(s) outside {} ({held_in_japan} found inside); all {in_japan} S3 bucket(s) in allowed regions",
            allowed.join(", ")
        ),
    ));
    f
}

/// Regions enabled for the account (opt-in regions not opted into are skipped:
/// nothing can exist there).
async fn enabled_regions(aws: &AwsContext, home: &str, f: &mut Findings) -> Option<Vec<String>> {
    const CALL: &str = "ec2:DescribeRegions";
    match aws.ec2(home).describe_regions().send().await {
        Ok(out) => {
            let mut v: Vec<String> =
                out.regions().iter().filter(|r| r.opt_in_status() != Some("not-opted-in")).filter_map(|r| r.region_name().map(str::to_string)).collect();
            v.sort();
            v.dedup();
            if v.is_empty() {
                f.error(CALL, Some(home), crate::msg!("{CALL}: 有効なリージョンが一覧にない", "{CALL}: no enabled region listed"), CALL);
                return None;
            }
            Some(v)
        }
        Err(e) => {
            f.aws_error(CALL, Some(home), &e);
            None
        }
    }
}

/// The AWS partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, …).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

/// The regions of `regions` in the same partition as `home`.
pub fn same_partition(regions: &[String], home: &str) -> Vec<String> {
    let partition = partition_of(home);
    regions.iter().filter(|r| partition_of(r) == partition).cloned().collect()
}

/// Run `scan` for every region with at most `concurrency` in flight; the
/// observations come back sorted by region so evidence is deterministic.
pub async fn scan_all<F, Fut>(regions: Vec<String>, concurrency: usize, scan: F) -> Vec<Obs>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = (String, Vec<Obs>)>,
{
    let mut per_region: Vec<(String, Vec<Obs>)> = stream::iter(regions).map(scan).buffer_unordered(concurrency.max(1)).collect().await;
    per_region.sort_by(|a, b| a.0.cmp(&b.0));
    per_region.into_iter().flat_map(|(_, o)| o).collect()
}

/// Everything data-bearing in one region, the four services asked at once
/// (through the run's inventory: a region the scope also needs is listed once).
async fn scan_region(inv: &Inventory, region: &str) -> (String, Vec<Obs>) {
    let (a, b, c, d, e) =
        tokio::join!(inv.instances(region), inv.volumes(region), inv.db_instances(region), inv.db_clusters(region), inv.backup_vaults(region));
    let parts = [
        ("EC2 instances", found(region, "EC2 instance", "ec2:DescribeInstances", a, |i| Some(i.id()).filter(|_| i.state() != "terminated"))),
        ("EBS volumes", found(region, "EBS volume", "ec2:DescribeVolumes", b, |v| v.volume_id())),
        ("RDS instances", found(region, "RDS instance", "rds:DescribeDBInstances", c, |d| d.db_instance_identifier())),
        ("RDS clusters", found(region, "RDS cluster", "rds:DescribeDBClusters", d, |c| c.db_cluster_identifier())),
        ("Backup vaults", found(region, "Backup vault", "backup:ListBackupVaults", e, |v| v.backup_vault_arn().or(v.backup_vault_name()))),
    ];
    let mut obs = Vec::new();
    let mut counted = Vec::new();
    for (label, part) in parts {
        if part.is_empty() {
            counted.push(label);
        }
        obs.extend(part);
    }
    if obs.is_empty() {
        obs.push(Obs::Clean { region: region.to_string(), counted: counted.join(", ") });
    }
    (region.to_string(), obs)
}

/// What one listing shows in a region outside the allowed ones: each resource, or the failure.
fn found<T>(region: &str, kind: &'static str, call: &'static str, listing: Listing<T>, id: impl Fn(&T) -> Option<&str>) -> Vec<Obs> {
    match listing {
        Ok(list) => list.iter().filter_map(id).map(|id| Obs::Found { kind, id: id.to_string(), region: region.to_string(), call }).collect(),
        Err(e) => vec![Obs::Failed { region: region.to_string(), reason: e.reason, call }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn only_regions_of_the_accounts_partition_are_scanned() {
        let listed: Vec<String> =
            ["ap-northeast-1", "cn-north-1", "us-gov-west-1", "us-east-1", "cn-northwest-1", "us-iso-east-1", "eu-west-1"].map(String::from).to_vec();
        assert_eq!(same_partition(&listed, "ap-northeast-1"), ["ap-northeast-1", "us-east-1", "eu-west-1"]);
        assert_eq!(same_partition(&listed, "cn-north-1"), ["cn-north-1", "cn-northwest-1"]);
        assert_eq!(same_partition(&listed, "us-gov-east-1"), ["us-gov-west-1"]);
        assert_eq!(partition_of("us-isob-east-1"), "aws-iso-b", "us-isob- is not us-iso-");
    }

    #[tokio::test]
    async fn scan_all_respects_the_bound_and_sorts_by_region() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let regions: Vec<String> = (0..30).rev().map(|i| format!("r-{i:02}")).collect();
        let (i, p) = (in_flight.clone(), peak.clone());
        let obs = scan_all(regions, 8, move |r| {
            let (i, p) = (i.clone(), p.clone());
            async move {
                let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                i.fetch_sub(1, Ordering::SeqCst);
                (r.clone(), vec![Obs::Clean { region: r, counted: String::new() }])
            }
        })
        .await;
        assert_eq!(obs.len(), 30);
        assert_eq!(peak.load(Ordering::SeqCst), 8, "exactly the bound is used");
        let order: Vec<String> = obs
            .iter()
            .map(|o| match o {
                Obs::Clean { region, .. } => region.clone(),
                _ => String::new(),
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
    }
}
