//! The listing calls themselves: each paginates to the end and turns a
//! failure into a [`ListingError`]. Only the inventory calls these.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::cache::{Listing, ListingError};
use crate::aws::{error_code, AwsContext};

/// Every page of a paginated request, `items` taken from each page.
macro_rules! all_pages {
    ($req:expr, $call:expr, $region:expr, |$page:ident| $items:expr) => {{
        let started = std::time::Instant::now();
        let mut out = Vec::new();
        let mut pages = $req.into_paginator().send();
        let mut count = 0usize;
        while let Some(page) = pages.next().await {
            let $page = page.map_err(|e| ListingError::from_sdk($call, $region, &e))?;
            out.extend($items);
            count += 1;
        }
        // Under `-v`: where a long run spends its time.
        tracing::info!(call = $call, region = $region, items = out.len(), pages = count, secs = started.elapsed().as_secs_f64(), "listed");
        Ok(Arc::new(out))
    }};
}

/// An EC2 instance with the account that owns its reservation (for its ARN).
#[derive(Debug, Clone)]
pub struct InstanceRecord {
    pub owner_id: String,
    pub instance: aws_sdk_ec2::types::Instance,
}

impl InstanceRecord {
    pub fn id(&self) -> &str {
        self.instance.instance_id().unwrap_or("")
    }
    pub fn arn(&self, region: &str) -> String {
        format!("arn:aws:ec2:{region}:{}:instance/{}", self.owner_id, self.id())
    }
    /// `terminated` / `shutting-down` instances are gone: never in scope.
    pub fn is_gone(&self) -> bool {
        matches!(self.state(), "terminated" | "shutting-down")
    }
    pub fn state(&self) -> &str {
        self.instance.state().and_then(|s| s.name()).map(|n| n.as_str()).unwrap_or("")
    }
}

/// A load balancer with its tags (DescribeTags).
#[derive(Debug, Clone)]
pub struct LoadBalancerRecord {
    pub lb: aws_sdk_elasticloadbalancingv2::types::LoadBalancer,
    pub tags: BTreeMap<String, String>,
}

/// An S3 bucket: its region and, when scope tags are set, its tags.
/// `problem` says what could not be read about it.
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    pub name: String,
    pub region: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub problem: Option<crate::model::Msg>,
}

pub fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

pub fn rds_tags(tags: &[aws_sdk_rds::types::Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

pub async fn instances(aws: &AwsContext, region: &str) -> Listing<InstanceRecord> {
    all_pages!(aws.ec2(region).describe_instances(), "ec2:DescribeInstances", Some(region), |p| p
        .reservations()
        .iter()
        .flat_map(|r| r.instances().iter().map(|i| InstanceRecord { owner_id: r.owner_id().unwrap_or("").to_string(), instance: i.clone() }))
        .collect::<Vec<_>>())
}

pub async fn volumes(aws: &AwsContext, region: &str) -> Listing<aws_sdk_ec2::types::Volume> {
    all_pages!(aws.ec2(region).describe_volumes(), "ec2:DescribeVolumes", Some(region), |p| p.volumes().to_vec())
}

pub async fn security_groups(aws: &AwsContext, region: &str) -> Listing<aws_sdk_ec2::types::SecurityGroup> {
    all_pages!(aws.ec2(region).describe_security_groups(), "ec2:DescribeSecurityGroups", Some(region), |p| p.security_groups().to_vec())
}

pub async fn network_interfaces(aws: &AwsContext, region: &str) -> Listing<aws_sdk_ec2::types::NetworkInterface> {
    all_pages!(aws.ec2(region).describe_network_interfaces(), "ec2:DescribeNetworkInterfaces", Some(region), |p| p.network_interfaces().to_vec())
}

pub async fn vpcs(aws: &AwsContext, region: &str) -> Listing<aws_sdk_ec2::types::Vpc> {
    all_pages!(aws.ec2(region).describe_vpcs(), "ec2:DescribeVpcs", Some(region), |p| p.vpcs().to_vec())
}

pub async fn subnets(aws: &AwsContext, region: &str) -> Listing<aws_sdk_ec2::types::Subnet> {
    all_pages!(aws.ec2(region).describe_subnets(), "ec2:DescribeSubnets", Some(region), |p| p.subnets().to_vec())
}

pub async fn images(aws: &AwsContext, region: &str) -> Listing<aws_sdk_ec2::types::Image> {
    all_pages!(aws.ec2(region).describe_images().owners("self"), "ec2:DescribeImages", Some(region), |p| p.images().to_vec())
}

pub async fn snapshots(aws: &AwsContext, region: &str) -> Listing<aws_sdk_ec2::types::Snapshot> {
    all_pages!(aws.ec2(region).describe_snapshots().owner_ids("self"), "ec2:DescribeSnapshots", Some(region), |p| p.snapshots().to_vec())
}

pub async fn load_balancers(aws: &AwsContext, region: &str, with_tags: bool) -> Listing<LoadBalancerRecord> {
    const TAGS: &str = "elasticloadbalancing:DescribeTags";
    let elb = aws.elbv2(region);
    let lbs: Arc<Vec<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>> =
        all_pages!(elb.describe_load_balancers(), "elasticloadbalancing:DescribeLoadBalancers", Some(region), |p| p.load_balancers().to_vec())?;
    let mut tags: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let arns: Vec<String> = if with_tags { lbs.iter().filter_map(|l| l.load_balancer_arn().map(str::to_string)).collect() } else { Vec::new() };
    // DescribeTags takes at most 20 ARNs.
    for chunk in arns.chunks(20) {
        let out = elb.describe_tags().set_resource_arns(Some(chunk.to_vec())).send().await.map_err(|e| ListingError::from_sdk(TAGS, Some(region), &e))?;
        for d in out.tag_descriptions() {
            let t = d.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
            tags.insert(d.resource_arn().unwrap_or("").to_string(), t);
        }
    }
    Ok(Arc::new(
        lbs.iter().map(|lb| LoadBalancerRecord { tags: tags.remove(lb.load_balancer_arn().unwrap_or("")).unwrap_or_default(), lb: lb.clone() }).collect(),
    ))
}

pub async fn listeners(aws: &AwsContext, region: &str, lb_arn: &str) -> Listing<aws_sdk_elasticloadbalancingv2::types::Listener> {
    all_pages!(aws.elbv2(region).describe_listeners().load_balancer_arn(lb_arn), "elasticloadbalancing:DescribeListeners", Some(region), |p| p
        .listeners()
        .to_vec())
}

pub async fn target_groups(aws: &AwsContext, region: &str) -> Listing<aws_sdk_elasticloadbalancingv2::types::TargetGroup> {
    all_pages!(aws.elbv2(region).describe_target_groups(), "elasticloadbalancing:DescribeTargetGroups", Some(region), |p| p.target_groups().to_vec())
}

pub async fn target_health(aws: &AwsContext, region: &str, tg_arn: &str) -> Listing<aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription> {
    const CALL: &str = "elasticloadbalancing:DescribeTargetHealth";
    let out = aws.elbv2(region).describe_target_health().target_group_arn(tg_arn).send().await.map_err(|e| ListingError::from_sdk(CALL, Some(region), &e))?;
    Ok(Arc::new(out.target_health_descriptions().to_vec()))
}

pub async fn db_instances(aws: &AwsContext, region: &str) -> Listing<aws_sdk_rds::types::DbInstance> {
    all_pages!(aws.rds(region).describe_db_instances(), "rds:DescribeDBInstances", Some(region), |p| p.db_instances().to_vec())
}

pub async fn db_clusters(aws: &AwsContext, region: &str) -> Listing<aws_sdk_rds::types::DbCluster> {
    all_pages!(aws.rds(region).describe_db_clusters(), "rds:DescribeDBClusters", Some(region), |p| p.db_clusters().to_vec())
}

pub async fn trails(aws: &AwsContext, region: &str) -> Listing<aws_sdk_cloudtrail::types::Trail> {
    const CALL: &str = "cloudtrail:DescribeTrails";
    let out = aws.cloudtrail(region).describe_trails().include_shadow_trails(true).send().await.map_err(|e| ListingError::from_sdk(CALL, Some(region), &e))?;
    Ok(Arc::new(out.trail_list().to_vec()))
}

pub async fn log_groups(aws: &AwsContext, region: &str) -> Listing<aws_sdk_cloudwatchlogs::types::LogGroup> {
    all_pages!(aws.logs(region).describe_log_groups(), "logs:DescribeLogGroups", Some(region), |p| p.log_groups().to_vec())
}

pub async fn backup_plans(aws: &AwsContext, region: &str) -> Listing<aws_sdk_backup::types::BackupPlansListMember> {
    all_pages!(aws.backup(region).list_backup_plans(), "backup:ListBackupPlans", Some(region), |p| p.backup_plans_list().to_vec())
}

pub async fn backup_selections(aws: &AwsContext, region: &str, plan_id: &str) -> Listing<aws_sdk_backup::types::BackupSelectionsListMember> {
    all_pages!(aws.backup(region).list_backup_selections().backup_plan_id(plan_id), "backup:ListBackupSelections", Some(region), |p| p
        .backup_selections_list()
        .to_vec())
}

pub async fn backup_vaults(aws: &AwsContext, region: &str) -> Listing<aws_sdk_backup::types::BackupVaultListMember> {
    all_pages!(aws.backup(region).list_backup_vaults(), "backup:ListBackupVaults", Some(region), |p| p.backup_vault_list().to_vec())
}

pub async fn iam_roles(aws: &AwsContext, home: &str) -> Listing<aws_sdk_iam::types::Role> {
    all_pages!(aws.iam(home).list_roles(), "iam:ListRoles", None::<&str>, |p| p.roles().to_vec())
}

/// `LocationConstraint` → region (empty means us-east-1, `EU` is eu-west-1).
pub fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    }
}

/// Every bucket with its region; tags only when scope needs them.
pub async fn buckets(aws: &AwsContext, home: &str, with_tags: bool) -> Listing<Bucket> {
    const LIST: &str = "s3:ListBuckets";
    const LOCATION: &str = "s3:GetBucketLocation";
    const TAGGING: &str = "s3:GetBucketTagging";
    let s3 = aws.s3(home);
    let mut token: Option<String> = None;
    let mut names = Vec::new();
    loop {
        let out = s3.list_buckets().set_continuation_token(token.clone()).send().await.map_err(|e| ListingError::from_sdk(LIST, None, &e))?;
        names.extend(out.buckets().iter().filter_map(|b| b.name().map(str::to_string)));
        token = out.continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut b = Bucket { name, ..Default::default() };
        match s3.get_bucket_location().bucket(&b.name).send().await {
            Ok(loc) => b.region = Some(location_region(loc.location_constraint().map(|c| c.as_str()))),
            Err(e) => b.problem = Some(crate::aws::failure(LOCATION, &e)),
        }
        if let (true, Some(region)) = (with_tags, b.region.clone()) {
            match aws.s3(&region).get_bucket_tagging().bucket(&b.name).send().await {
                Ok(t) => b.tags = t.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
                Err(e) if error_code(&e) == Some("NoSuchTagSet") => {}
                Err(e) => b.problem = Some(crate::aws::failure(TAGGING, &e)),
            }
        }
        out.push(b);
    }
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::location_region;

    #[test]
    fn legacy_location_constraints() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("ap-northeast-3")), "ap-northeast-3");
    }
}
