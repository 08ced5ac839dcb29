//! E.6.1.2 蓄積データの暗号化: EBS default encryption in every used region,
//! every EBS volume, RDS instances and clusters, S3 default encryption.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Findings, ProbeInput};
use crate::aws::{error_code, AwsContext};
use crate::model::{Msg, Outcome};

/// IAM actions this probe calls (see `permissions`).
pub const ACTIONS: &[&str] = &[
    "ec2:GetEbsEncryptionByDefault",
    "ec2:DescribeVolumes",
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusters",
    // IAM action names, which differ from the S3 API names
    // (ListBuckets, GetBucketEncryption).
    "s3:ListAllMyBuckets",
    "s3:GetBucketLocation",
    "s3:GetBucketTagging",
    "s3:GetEncryptionConfiguration",
];

#[derive(Default)]
struct Counts {
    regions: usize,
    volumes: usize,
    databases: usize,
    buckets: usize,
}

pub async fn at_rest(input: Arc<ProbeInput>) -> Findings {
    if input.level == "0" {
        return Findings::decided(
            Outcome::NotApplicable,
            Msg::new("対象外: 選択レベル0（暗号化の要求なし）", "not applicable: level 0 requires no encryption"),
        );
    }
    let mut f = Findings::new(input.now);
    let mut n = Counts::default();
    let tags = &input.scenario.scope.tags;
    for region in input.scenario.aws.used_regions() {
        let ec2 = input.aws.ec2(&region);
        ebs_default(&ec2, &region, &mut f, &mut n).await;
        ebs_volumes(&ec2, &region, tags, &mut f, &mut n).await;
        rds(&input.aws.rds(&region), &region, tags, &mut f, &mut n).await;
    }
    s3_buckets(&input.aws, &input.scenario.aws.primary_region, tags, &mut f, &mut n).await;
    f.ok_summary(Msg::new(
        format!("EBS既定暗号化 有効({}リージョン)、EBSボリューム{}本・RDS{}件・S3バケット{}件すべて暗号化済", n.regions, n.volumes, n.databases, n.buckets),
        format!(
            "EBS default encryption on in {} region(s); all {} EBS volume(s), {} RDS database(s) and {} S3 bucket(s) encrypted",
            n.regions, n.volumes, n.databases, n.buckets
        ),
    ));
    f
}

async fn ebs_default(ec2: &aws_sdk_ec2::Client, region: &str, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "ec2:GetEbsEncryptionByDefault";
    match ec2.get_ebs_encryption_by_default().send().await {
        Ok(out) => {
            n.regions += 1;
            match out.ebs_encryption_by_default() {
                Some(true) => f.pass("ebs-encryption-by-default", Some(region), "EbsEncryptionByDefault=true", CALL),
                Some(false) => f.fail("ebs-encryption-by-default", Some(region), "EbsEncryptionByDefault=false", CALL),
                None => f.error("ebs-encryption-by-default", Some(region), format!("{CALL}: answer had no EbsEncryptionByDefault"), CALL),
            }
        }
        Err(e) => f.aws_error(CALL, Some(region), &e),
    }
}

fn tag_filters(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ec2::types::Filter> {
    tags.iter().map(|(k, v)| aws_sdk_ec2::types::Filter::builder().name(format!("tag:{k}")).values(v).build()).collect()
}

async fn ebs_volumes(ec2: &aws_sdk_ec2::Client, region: &str, tags: &BTreeMap<String, String>, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "ec2:DescribeVolumes";
    let mut pages = ec2.describe_volumes().set_filters(Some(tag_filters(tags))).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return f.aws_error(CALL, Some(region), &e),
        };
        for v in page.volumes() {
            let id = v.volume_id().unwrap_or("(no id)");
            n.volumes += 1;
            let attached = v.attachments().iter().filter_map(|a| a.instance_id()).collect::<Vec<_>>().join(",");
            let attached = if attached.is_empty() { String::new() } else { format!(" attached to {attached}") };
            if v.encrypted() == Some(true) {
                f.pass(id, Some(region), format!("Encrypted=true KmsKeyId={}{attached}", v.kms_key_id().unwrap_or("-")), CALL);
            } else {
                f.fail(id, Some(region), format!("Encrypted=false{attached}"), CALL);
            }
        }
    }
}

fn in_scope(resource_tags: &[(Option<&str>, Option<&str>)], wanted: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|(k, v)| resource_tags.iter().any(|(rk, rv)| *rk == Some(k.as_str()) && *rv == Some(v.as_str())))
}

async fn rds(rds: &aws_sdk_rds::Client, region: &str, tags: &BTreeMap<String, String>, f: &mut Findings, n: &mut Counts) {
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
        for db in page.db_instances() {
            let t: Vec<_> = db.tag_list().iter().map(|t| (t.key(), t.value())).collect();
            if !in_scope(&t, tags) {
                continue;
            }
            let id = db.db_instance_identifier().unwrap_or("(no id)");
            n.databases += 1;
            if db.storage_encrypted() == Some(true) {
                f.pass(id, Some(region), format!("StorageEncrypted=true KmsKeyId={}", db.kms_key_id().unwrap_or("-")), INSTANCES);
            } else {
                f.fail(id, Some(region), "StorageEncrypted=false", INSTANCES);
            }
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
            let t: Vec<_> = c.tag_list().iter().map(|t| (t.key(), t.value())).collect();
            if !in_scope(&t, tags) {
                continue;
            }
            let id = c.db_cluster_identifier().unwrap_or("(no id)");
            n.databases += 1;
            if c.storage_encrypted() == Some(true) {
                f.pass(id, Some(region), "StorageEncrypted=true (cluster)", CLUSTERS);
            } else {
                f.fail(id, Some(region), "StorageEncrypted=false (cluster)", CLUSTERS);
            }
        }
    }
}

async fn s3_buckets(aws: &AwsContext, home: &str, tags: &BTreeMap<String, String>, f: &mut Findings, n: &mut Counts) {
    let Some(list) = super::buckets::with_regions(aws, home, f).await else { return };
    for (name, region) in list {
        let client = aws.s3(&region);
        if !tags.is_empty() && !bucket_in_scope(&client, &name, &region, tags, f).await {
            continue;
        }
        bucket_encryption(&client, &name, &region, f, n).await;
    }
}

async fn bucket_in_scope(s3: &aws_sdk_s3::Client, name: &str, region: &str, tags: &BTreeMap<String, String>, f: &mut Findings) -> bool {
    match s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => {
            let t: Vec<_> = out.tag_set().iter().map(|t| (Some(t.key()), Some(t.value()))).collect();
            in_scope(&t, tags)
        }
        Err(e) if error_code(&e) == Some("NoSuchTagSet") => false,
        Err(e) => {
            f.aws_error("s3:GetBucketTagging", Some(region), &e);
            false
        }
    }
}

async fn bucket_encryption(s3: &aws_sdk_s3::Client, name: &str, region: &str, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "s3:GetBucketEncryption";
    match s3.get_bucket_encryption().bucket(name).send().await {
        Ok(out) => {
            n.buckets += 1;
            let algos: Vec<String> = out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .map(|d| format!("SSEAlgorithm={} KMSMasterKeyID={}", d.sse_algorithm().as_str(), d.kms_master_key_id().unwrap_or("-")))
                .collect();
            if algos.is_empty() {
                f.fail(name, Some(region), "no default encryption rule", CALL);
            } else {
                f.pass(name, Some(region), algos.join(", "), CALL);
            }
        }
        Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => {
            n.buckets += 1;
            f.fail(name, Some(region), "no default encryption (ServerSideEncryptionConfigurationNotFoundError)", CALL);
        }
        Err(e) => f.aws_error(CALL, Some(region), &e),
    }
}
