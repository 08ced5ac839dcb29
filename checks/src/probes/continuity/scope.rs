//! Which resources must be recoverable: the scenario's `[backup] resources`
//! ARNs plus the EC2 instances and RDS databases in the run's scope (see
//! `inventory::scope`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::ts;
use crate::inventory::{ec2_tags, rds_tags};
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

    /// The name for messages, with its `Name` tag when that says more (an instance ID alone does not).
    pub fn label(&self) -> String {
        match self.tags.get("Name") {
            Some(n) if *n != self.name => format!("{} ({n})", self.name),
            _ => self.name.clone(),
        }
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

/// Resources in scope in the primary region, sorted by ARN. Failed
/// listings are recorded in `f` (the row then cannot be OK); what could be
/// read is still returned. Nothing in scope is an ERROR: continuity needs
/// something to recover. (AWS Backup plans are read in the primary region,
/// so coverage is judged there; C.1.3.1 asks both regions.)
pub async fn discover(input: &ProbeInput, f: &mut Findings) -> Vec<Resource> {
    let primary = input.scenario.aws.primary_region.clone();
    let list = in_scope_resources(input, f, std::slice::from_ref(&primary)).await;
    if list.is_empty() {
        f.error(
            "scope",
            Some(primary.as_str()),
            crate::model::Msg::new(
                "対象リソースなし: [backup] resources を宣言するか、システムの EC2 インスタンス・RDS データベースに [scope] のタグを付ける",
                "no resource in scope: declare [backup] resources or tag the system's EC2 instances / RDS databases with the [scope] tags",
            ),
            "ec2:DescribeInstances",
        );
    }
    list
}

/// EC2 instances, RDS instances (not Aurora members: those are backed up
/// as their cluster) and Aurora clusters in scope in `regions`, plus the
/// `[backup] resources` ARNs, without judging an empty result.
pub async fn in_scope_resources(input: &ProbeInput, f: &mut Findings, regions: &[String]) -> Vec<Resource> {
    let inv = &input.inventory;
    let mut out: BTreeMap<String, Resource> = BTreeMap::new();
    for region in regions {
        let instances = inv.scoped_instances(region).await;
        f.scoped_complete(&instances);
        for (rec, _) in &instances.items {
            let r = Resource { arn: rec.arn(region), name: rec.id().to_string(), tags: ec2_tags(rec.instance.tags()), pitr: None };
            out.insert(r.arn.clone(), r);
        }
        let dbs = inv.scoped_db_instances(region).await;
        f.scoped_complete(&dbs);
        for (db, _) in dbs.items.iter().filter(|(d, _)| d.db_cluster_identifier().is_none()) {
            let (Some(arn), Some(id)) = (db.db_instance_arn(), db.db_instance_identifier()) else { continue };
            let pitr = Pitr { retention_days: db.backup_retention_period().unwrap_or(0), latest_restorable: ts(db.latest_restorable_time()) };
            out.insert(arn.to_string(), Resource { arn: arn.to_string(), name: id.to_string(), tags: rds_tags(db.tag_list()), pitr: Some(pitr) });
        }
        let clusters = inv.scoped_db_clusters(region).await;
        f.scoped_complete(&clusters);
        for (c, _) in &clusters.items {
            let (Some(arn), Some(id)) = (c.db_cluster_arn(), c.db_cluster_identifier()) else { continue };
            let pitr = Pitr { retention_days: c.backup_retention_period().unwrap_or(0), latest_restorable: ts(c.latest_restorable_time()) };
            out.insert(arn.to_string(), Resource { arn: arn.to_string(), name: id.to_string(), tags: rds_tags(c.tag_list()), pitr: Some(pitr) });
        }
    }
    for arn in &input.scenario.backup.resources {
        out.entry(arn.clone()).or_insert_with(|| Resource::declared(arn));
    }
    out.into_values().collect()
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
