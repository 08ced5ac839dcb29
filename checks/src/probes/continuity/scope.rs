//! Which resources must be recoverable: the scenario's `[backup] resources`
//! ARNs plus the EC2 instances and RDS databases of the primary region that
//! carry every `[scope] tags` tag (all of them when no tags are set).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::ts;
use crate::probes::{Findings, ProbeInput};

/// Point-in-time restore state of an RDS instance or cluster.
#[derive(Debug, Clone)]
pub struct Pitr {
    pub retention_days: i32,
    pub latest_restorable: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub arn: String,
    /// Short name for messages (instance ID, DB identifier, or the ARN).
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub pitr: Option<Pitr>,
}

impl Resource {
    fn declared(arn: &str) -> Self {
        Self { arn: arn.to_string(), name: arn.to_string(), tags: BTreeMap::new(), pitr: None }
    }

    /// AWS Backup's resource type for the ARN (EC2, EBS, RDS, Aurora, ...).
    pub fn backup_type(&self) -> String {
        resource_type(&self.arn)
    }
}

/// `arn:aws:ec2:r:a:instance/i-1` → `EC2`; AWS Backup's type names.
pub fn resource_type(arn: &str) -> String {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or("");
    let rest = arn.splitn(6, ':').nth(5).unwrap_or("");
    match service {
        "ec2" if rest.starts_with("volume/") => "EBS".into(),
        "ec2" => "EC2".into(),
        "rds" if rest.starts_with("cluster:") => "Aurora".into(),
        "rds" => "RDS".into(),
        "dynamodb" => "DynamoDB".into(),
        "elasticfilesystem" => "EFS".into(),
        "s3" => "S3".into(),
        "fsx" => "FSx".into(),
        other => other.to_string(),
    }
}

fn in_scope(tags: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|(k, v)| tags.get(k) == Some(v))
}

/// Resources in scope, sorted by ARN. Failed calls are recorded in `f`
/// (the row then cannot be OK); what could be read is still returned.
/// Nothing in scope is an ERROR: continuity needs something to recover.
pub async fn discover(input: &ProbeInput, f: &mut Findings) -> Vec<Resource> {
    let list = in_scope_resources(input, f).await;
    if list.is_empty() {
        f.error(
            "scope",
            Some(input.scenario.aws.primary_region.as_str()),
            "no resource in scope: declare [backup] resources or tag the system's EC2 instances / RDS databases with the [scope] tags",
            "ec2:DescribeInstances",
        );
    }
    list
}

/// As [`discover`], without judging an empty result.
pub async fn in_scope_resources(input: &ProbeInput, f: &mut Findings) -> Vec<Resource> {
    let region = input.scenario.aws.primary_region.as_str();
    let wanted = &input.scenario.scope.tags;
    let mut all = Vec::new();
    ec2_instances(&input.aws.ec2(region), region, f, &mut all).await;
    rds(&input.aws.rds(region), region, f, &mut all).await;
    let declared = &input.scenario.backup.resources;
    let mut out: BTreeMap<String, Resource> =
        all.into_iter().filter(|r| in_scope(&r.tags, wanted) || declared.contains(&r.arn)).map(|r| (r.arn.clone(), r)).collect();
    for arn in declared {
        out.entry(arn.clone()).or_insert_with(|| Resource::declared(arn));
    }
    out.into_values().collect()
}

async fn ec2_instances(ec2: &aws_sdk_ec2::Client, region: &str, f: &mut Findings, out: &mut Vec<Resource>) {
    const CALL: &str = "ec2:DescribeInstances";
    let mut pages = ec2.describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return f.aws_error(CALL, Some(region), &e),
        };
        for res in page.reservations() {
            let owner = res.owner_id().unwrap_or("");
            for i in res.instances() {
                let state = i.state().and_then(|s| s.name()).map(|n| n.as_str()).unwrap_or("");
                if matches!(state, "terminated" | "shutting-down") {
                    continue;
                }
                let Some(id) = i.instance_id() else { continue };
                let tags = i.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect();
                out.push(Resource { arn: format!("arn:aws:ec2:{region}:{owner}:instance/{id}"), name: id.to_string(), tags, pitr: None });
            }
        }
    }
}

async fn rds(rds: &aws_sdk_rds::Client, region: &str, f: &mut Findings, out: &mut Vec<Resource>) {
    const INSTANCES: &str = "rds:DescribeDBInstances";
    let mut pages = rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                f.aws_error(INSTANCES, Some(region), &e);
                break;
            }
        };
        // Aurora members are backed up and restored as their cluster.
        for db in page.db_instances().iter().filter(|d| d.db_cluster_identifier().is_none()) {
            let (Some(arn), Some(id)) = (db.db_instance_arn(), db.db_instance_identifier()) else { continue };
            let tags = db.tag_list().iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect();
            let pitr = Pitr { retention_days: db.backup_retention_period().unwrap_or(0), latest_restorable: ts(db.latest_restorable_time()) };
            out.push(Resource { arn: arn.to_string(), name: id.to_string(), tags, pitr: Some(pitr) });
        }
    }
    const CLUSTERS: &str = "rds:DescribeDBClusters";
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return f.aws_error(CLUSTERS, Some(region), &e),
        };
        for c in page.db_clusters() {
            let (Some(arn), Some(id)) = (c.db_cluster_arn(), c.db_cluster_identifier()) else { continue };
            let tags = c.tag_list().iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect();
            let pitr = Pitr { retention_days: c.backup_retention_period().unwrap_or(0), latest_restorable: ts(c.latest_restorable_time()) };
            out.push(Resource { arn: arn.to_string(), name: id.to_string(), tags, pitr: Some(pitr) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_from_arns() {
        assert_eq!(resource_type("arn:aws:ec2:ap-northeast-1:1:instance/i-1"), "EC2");
        assert_eq!(resource_type("arn:aws:ec2:ap-northeast-1:1:volume/vol-1"), "EBS");
        assert_eq!(resource_type("arn:aws:rds:ap-northeast-1:1:db:juki"), "RDS");
        assert_eq!(resource_type("arn:aws:rds:ap-northeast-1:1:cluster:juki"), "Aurora");
        assert_eq!(resource_type("arn:aws:elasticfilesystem:ap-northeast-1:1:file-system/fs-1"), "EFS");
    }
}
