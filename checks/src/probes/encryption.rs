//! E.6.1.2 蓄積データの暗号化: EBS default encryption in every used region,
//! and every in-scope EBS volume (attached ones included), RDS instance and
//! cluster and S3 bucket. With none of those in scope the row is ERROR: the
//! account-level default never stands in for the resources.

use std::sync::Arc;

use super::{Findings, ProbeInput};
use crate::aws::error_code;
use crate::inventory::{Inventory, Kind, Scoped, Why};
use crate::model::Msg;

/// IAM actions this probe calls (see `permissions`).
pub const ACTIONS: &[&str] = &[
    "ec2:GetEbsEncryptionByDefault",
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusters",
    // IAM action names, which differ from the S3 API names
    // (ListBuckets, GetBucketEncryption).
    "s3:ListAllMyBuckets",
    "s3:GetBucketLocation",
    "s3:GetBucketTagging",
    "s3:GetEncryptionConfiguration",
];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "encryption.at_rest",
        ja: "保存データの暗号化: 対象のEBSボリューム（アタッチ先を含む）・スナップショット・RDS・S3の暗号化と、両リージョンのEBS既定暗号化",
        en: "Encryption at rest: in-scope EBS volumes (attached ones included), snapshots, RDS and S3 encryption, and EBS default encryption in both regions",
        detail: "EBS default encryption on in the primary and DR regions; every in-scope EBS volume (attached ones included, tagged or not) `Encrypted`; in-scope RDS instances/clusters `StorageEncrypted`; every in-scope S3 bucket has default encryption. NG names the offenders and why they are in scope; no volume, database or bucket in scope → ERROR.",
        section: "[scope]",
        actions: ACTIONS,
        emulator: "moto: EC2, RDS, S3 (encryption flags, attachments, snapshots)",
        claims: &[super::registry::claim("storage-encrypted", "EBS・RDS・S3 の保存時暗号化が有効", "EBS, RDS and S3 encryption at rest is on", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("describe_volumes_follows_pagination", crate::probes::registry::Class::PartialObservation, "an unencrypted volume on the second page of DescribeVolumes", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("an_untagged_volume_attached_to_an_in_scope_instance_is_judged", crate::probes::registry::Class::UnlistedData, "an untagged volume attached to a tagged instance", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("unencrypted_snapshot_of_an_in_scope_volume_is_ng", crate::probes::registry::Class::UnlistedData, "an unencrypted snapshot of an in-scope volume", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("ebs_default_off_is_ng", crate::probes::registry::Class::Nearest, "EBS default encryption off in a region", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "Reads the encryption settings; no one tries to read stored data without the key (a KMS key policy letting any principal decrypt is not examined).")],
        run: |i| Box::pin(at_rest(i)),
    },
];

#[derive(Default)]
struct Counts {
    regions: usize,
    volumes: usize,
    snapshots: usize,
    databases: usize,
    buckets: usize,
}

pub async fn at_rest(input: Arc<ProbeInput>) -> Findings {
    let mut f = Findings::new();
    let mut n = Counts::default();
    let inv = &input.inventory;
    for region in input.scenario.aws.used_regions() {
        ebs_default(&input.aws.ec2(&region), &region, &mut f, &mut n).await;
        ebs_volumes(&inv.scoped_volumes(&region).await, &region, &mut f, &mut n);
        snapshots(&inv.scoped_snapshots(&region).await, &region, &mut f, &mut n);
        databases(inv, &region, &mut f, &mut n).await;
    }
    let buckets = inv.scoped_buckets().await;
    f.scoped_complete(&buckets);
    for (b, why) in &buckets.items {
        let Some(region) = &b.region else { continue };
        bucket_encryption(&input.aws.s3(region), &b.name, region, why, &mut f, &mut n).await;
    }
    // Default encryption is an account setting: it never stands in for the resources.
    f.require_resources(n.volumes + n.databases + n.buckets, &[Kind::Volume, Kind::DbInstance, Kind::DbCluster, Kind::Bucket]);
    f.ok_summary(Msg::new(
        format!(
            "EBS既定暗号化 有効({}リージョン)、EBSボリューム{}本（スナップショット{}件）・RDS{}件・S3バケット{}件すべて暗号化済",
            n.regions, n.volumes, n.snapshots, n.databases, n.buckets
        ),
        format!(
            "EBS default encryption on in {} region(s); all {} EBS volume(s) ({} snapshot(s)), {} RDS database(s) and {} S3 bucket(s) encrypted",
            n.regions, n.volumes, n.snapshots, n.databases, n.buckets
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
                Some(true) => f.pass(
                    "ebs-encryption-by-default",
                    Some(region),
                    Msg::new("EBSの既定暗号化が有効（EbsEncryptionByDefault=true）", "EbsEncryptionByDefault=true"),
                    CALL,
                ),
                Some(false) => f.fail(
                    "ebs-encryption-by-default",
                    Some(region),
                    Msg::new("EBSの既定暗号化が無効（EbsEncryptionByDefault=false）", "EbsEncryptionByDefault=false"),
                    CALL,
                ),
                None => f.error("ebs-encryption-by-default", Some(region), super::no_field(CALL, "EbsEncryptionByDefault"), CALL),
            }
        }
        Err(e) => f.aws_error(CALL, Some(region), &e),
    }
}

fn ebs_volumes(volumes: &Scoped<aws_sdk_ec2::types::Volume>, region: &str, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "ec2:DescribeVolumes";
    f.scoped_complete(volumes);
    for (v, why) in &volumes.items {
        let id = v.volume_id().unwrap_or("(no id)");
        n.volumes += 1;
        if v.encrypted() == Some(true) {
            f.pass(
                id,
                Some(region),
                super::scoped(crate::msg!("暗号化あり（Encrypted=true KmsKeyId={0}）", "Encrypted=true KmsKeyId={0}", v.kms_key_id().unwrap_or("-")), why),
                CALL,
            );
        } else {
            f.fail(id, Some(region), super::scoped(Msg::new("暗号化なし（Encrypted=false）", "Encrypted=false"), why), CALL);
        }
    }
}

/// Snapshots of in-scope volumes hold the same data: they must be encrypted too.
fn snapshots(snaps: &Scoped<aws_sdk_ec2::types::Snapshot>, region: &str, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "ec2:DescribeSnapshots";
    f.scoped_complete(snaps);
    for (s, why) in &snaps.items {
        let id = s.snapshot_id().unwrap_or("(no id)");
        n.snapshots += 1;
        if s.encrypted() == Some(true) {
            f.pass(id, Some(region), super::scoped(Msg::new("暗号化あり（Encrypted=true）", "Encrypted=true"), why), CALL);
        } else {
            f.fail(id, Some(region), super::scoped(Msg::new("暗号化なし（Encrypted=false）", "Encrypted=false"), why), CALL);
        }
    }
}

async fn databases(inv: &Inventory, region: &str, f: &mut Findings, n: &mut Counts) {
    const INSTANCES: &str = "rds:DescribeDBInstances";
    const CLUSTERS: &str = "rds:DescribeDBClusters";
    let dbs = inv.scoped_db_instances(region).await;
    f.scoped_complete(&dbs);
    for (db, why) in &dbs.items {
        let id = db.db_instance_identifier().unwrap_or("(no id)");
        n.databases += 1;
        if db.storage_encrypted() == Some(true) {
            f.pass(
                id,
                Some(region),
                super::scoped(
                    crate::msg!("暗号化あり（StorageEncrypted=true KmsKeyId={0}）", "StorageEncrypted=true KmsKeyId={0}", db.kms_key_id().unwrap_or("-")),
                    why,
                ),
                INSTANCES,
            );
        } else {
            f.fail(id, Some(region), super::scoped(Msg::new("暗号化なし（StorageEncrypted=false）", "StorageEncrypted=false"), why), INSTANCES);
        }
    }
    let clusters = inv.scoped_db_clusters(region).await;
    f.scoped_complete(&clusters);
    for (c, why) in &clusters.items {
        let id = c.db_cluster_identifier().unwrap_or("(no id)");
        n.databases += 1;
        if c.storage_encrypted() == Some(true) {
            f.pass(
                id,
                Some(region),
                super::scoped(Msg::new("クラスター暗号化あり（StorageEncrypted=true）", "StorageEncrypted=true (cluster)"), why),
                CLUSTERS,
            );
        } else {
            f.fail(
                id,
                Some(region),
                super::scoped(Msg::new("クラスター暗号化なし（StorageEncrypted=false）", "StorageEncrypted=false (cluster)"), why),
                CLUSTERS,
            );
        }
    }
}

async fn bucket_encryption(s3: &aws_sdk_s3::Client, name: &str, region: &str, why: &Why, f: &mut Findings, n: &mut Counts) {
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
                f.fail(name, Some(region), super::scoped(Msg::new("既定の暗号化ルールなし", "no default encryption rule"), why), CALL);
            } else {
                f.pass(name, Some(region), super::scoped(crate::msg!("既定の暗号化あり（{0}）", "{0}", algos.join(", ")), why), CALL);
            }
        }
        Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => {
            n.buckets += 1;
            f.fail(
                name,
                Some(region),
                super::scoped(
                    Msg::new(
                        "既定の暗号化なし（ServerSideEncryptionConfigurationNotFoundError）",
                        "no default encryption (ServerSideEncryptionConfigurationNotFoundError)",
                    ),
                    why,
                ),
                CALL,
            );
        }
        Err(e) => f.aws_error(CALL, Some(region), &e),
    }
}
