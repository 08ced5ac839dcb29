//! F.1.1.1 構築時の制約条件 / F.1.2.1 運用時の制約条件 (`residency.regions`):
//! data stays in Japan. Every enabled region is scanned (bounded
//! concurrency) for compute (EC2 instances), storage (EBS volumes), databases
//! (RDS instances and clusters) and backups (AWS Backup vaults) outside the
//! allowed regions; every S3 bucket's location must be an allowed region.
//! Account-wide on purpose: data outside Japan is a violation whatever its tags.

use std::future::Future;
use std::sync::Arc;

use futures::stream::{self, StreamExt};

use super::{buckets, Findings, ProbeInput};
use crate::aws::AwsContext;
use crate::model::{Msg, Outcome};

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

/// One observation made while scanning a region, applied to `Findings` afterwards
/// (region scans run concurrently, `Findings` is filled in region order).
#[derive(Debug, Clone, PartialEq)]
pub enum Obs {
    Found { kind: &'static str, id: String, region: String, call: &'static str },
    Clean { region: String, counted: String },
    Failed { region: String, reason: String, call: &'static str },
}

pub async fn regions(input: Arc<ProbeInput>) -> Findings {
    if input.level == "0" {
        return Findings::decided(Outcome::NotApplicable, Msg::new("対象外: 選択レベル0（制約条件なし）", "not applicable: level 0 (no constraint)"));
    }
    let cfg = &input.scenario.residency;
    let allowed = cfg.allowed_regions.clone();
    let primary = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new(input.now);
    let Some(enabled) = enabled_regions(&input.aws, &primary, &mut f).await else { return f };
    let outside: Vec<String> = enabled.iter().filter(|r| !allowed.contains(r)).cloned().collect();
    let aws = input.aws.clone();
    let obs = scan_all(outside.clone(), cfg.concurrency, move |region| {
        let aws = aws.clone();
        async move { scan_region(&aws, &region).await }
    })
    .await;
    let mut clean = 0;
    for o in obs {
        match o {
            Obs::Found { kind, id, region, call } => f.fail(&id, Some(&region), format!("{kind} outside the allowed regions ({})", allowed.join(", ")), call),
            Obs::Clean { region, counted } => {
                clean += 1;
                f.pass(&format!("region:{region}"), Some(&region), format!("nothing found: {counted}"), "residency-scan");
            }
            Obs::Failed { region, reason, call } => f.error(call, Some(&region), reason, call),
        }
    }
    let mut in_japan = 0;
    if let Some(list) = buckets::with_regions(&input.aws, &primary, &mut f).await {
        for (bucket, region) in list {
            if allowed.contains(&region) {
                in_japan += 1;
                f.pass(&bucket, Some(&region), "S3 bucket location in an allowed region", "s3:GetBucketLocation");
            } else {
                f.fail(&bucket, Some(&region), format!("S3 bucket located outside the allowed regions ({})", allowed.join(", ")), "s3:GetBucketLocation");
            }
        }
    }
    f.ok_summary(Msg::new(
        format!(
            "許可リージョン（{}）以外の{clean}リージョンに計算・保存・DB・バックアップ資源なし、S3バケット{in_japan}件すべて許可リージョン",
            allowed.join(", ")
        ),
        format!(
            "no compute, storage, database or backup resource in the {clean} region(s) outside {}; all {in_japan} S3 bucket(s) in allowed regions",
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
                f.error(CALL, Some(home), format!("{CALL}: no enabled region listed"), CALL);
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

/// Everything data-bearing in one region, the four services asked at once.
async fn scan_region(aws: &AwsContext, region: &str) -> (String, Vec<Obs>) {
    let (a, b, c, d) = tokio::join!(instances(aws, region), volumes(aws, region), databases(aws, region), vaults(aws, region));
    let mut obs = Vec::new();
    let mut counted = Vec::new();
    for (label, part) in [("EC2 instances", a), ("EBS volumes", b), ("RDS databases", c), ("Backup vaults", d)] {
        if part.iter().all(|o| matches!(o, Obs::Clean { .. })) {
            counted.push(label);
        }
        obs.extend(part.into_iter().filter(|o| !matches!(o, Obs::Clean { .. })));
    }
    if obs.is_empty() {
        obs.push(Obs::Clean { region: region.to_string(), counted: counted.join(", ") });
    }
    (region.to_string(), obs)
}

fn clean(region: &str) -> Vec<Obs> {
    vec![Obs::Clean { region: region.to_string(), counted: String::new() }]
}

fn failed<E>(
    region: &str,
    call: &'static str,
    e: &aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> Vec<Obs>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    vec![Obs::Failed { region: region.to_string(), reason: crate::aws::failure_reason(call, e), call }]
}

async fn instances(aws: &AwsContext, region: &str) -> Vec<Obs> {
    const CALL: &str = "ec2:DescribeInstances";
    let mut found = Vec::new();
    let mut pages = aws.ec2(region).describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return failed(region, CALL, &e),
        };
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            if i.state().and_then(|s| s.name()).map(|s| s.as_str()) == Some("terminated") {
                continue;
            }
            found.push(Obs::Found { kind: "EC2 instance", id: i.instance_id().unwrap_or("(no id)").to_string(), region: region.to_string(), call: CALL });
        }
    }
    if found.is_empty() {
        clean(region)
    } else {
        found
    }
}

async fn volumes(aws: &AwsContext, region: &str) -> Vec<Obs> {
    const CALL: &str = "ec2:DescribeVolumes";
    let mut found = Vec::new();
    let mut pages = aws.ec2(region).describe_volumes().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return failed(region, CALL, &e),
        };
        for v in page.volumes() {
            found.push(Obs::Found { kind: "EBS volume", id: v.volume_id().unwrap_or("(no id)").to_string(), region: region.to_string(), call: CALL });
        }
    }
    if found.is_empty() {
        clean(region)
    } else {
        found
    }
}

async fn databases(aws: &AwsContext, region: &str) -> Vec<Obs> {
    let rds = aws.rds(region);
    let mut found = Vec::new();
    const INSTANCES: &str = "rds:DescribeDBInstances";
    let mut pages = rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return failed(region, INSTANCES, &e),
        };
        for db in page.db_instances() {
            found.push(Obs::Found {
                kind: "RDS instance",
                id: db.db_instance_identifier().unwrap_or("(no id)").to_string(),
                region: region.to_string(),
                call: INSTANCES,
            });
        }
    }
    const CLUSTERS: &str = "rds:DescribeDBClusters";
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return failed(region, CLUSTERS, &e),
        };
        for c in page.db_clusters() {
            found.push(Obs::Found {
                kind: "RDS cluster",
                id: c.db_cluster_identifier().unwrap_or("(no id)").to_string(),
                region: region.to_string(),
                call: CLUSTERS,
            });
        }
    }
    if found.is_empty() {
        clean(region)
    } else {
        found
    }
}

async fn vaults(aws: &AwsContext, region: &str) -> Vec<Obs> {
    const CALL: &str = "backup:ListBackupVaults";
    let mut found = Vec::new();
    let mut pages = aws.backup(region).list_backup_vaults().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return failed(region, CALL, &e),
        };
        for v in page.backup_vault_list() {
            let id = v.backup_vault_arn().or(v.backup_vault_name()).unwrap_or("(no name)").to_string();
            found.push(Obs::Found { kind: "Backup vault", id, region: region.to_string(), call: CALL });
        }
    }
    if found.is_empty() {
        clean(region)
    } else {
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
