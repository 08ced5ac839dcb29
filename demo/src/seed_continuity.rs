//! Seeds what the continuity probes read: in the DR region (ap-northeast-3)
//! an AMI and a launch template to rebuild the AP server and the 72-hour
//! 安否確認 data export bucket; AWS Backup state as a real account has it
//! after a week of nightly runs (the emulator extension serves it): a
//! selection of the plan in scope covering the system's tag, a daily recovery
//! point of every in-scope EC2 instance and RDS database with a copy in the
//! DR vault, and a restore test of each a few weeks ago. Then the operations
//! (SSM, root MFA) and monitoring (alarms) state.
//!
//! The non-compliant seed has neither AMI nor launch template, an export
//! bucket the job never wrote to, [`STALE_BACKUP`] whose newest recovery
//! point is [`STALE_BACKUP_DAYS`] days old, and no copy in the DR vault (its
//! plan has no copy action either).

use anyhow::{Context, Result};
use aws_sdk_backup::types::{BackupSelection, Condition, ConditionType};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::moto::admin;
use crate::seed::{emulator_config, DR, PRIMARY, SYSTEM_TAG};
use crate::MOTO_ACCOUNT;

pub const DR_IMAGE: &str = "juki-ap-dr";
pub const DR_LAUNCH_TEMPLATE: &str = "juki-ap-dr";
pub const EXPORT_BUCKET: &str = "juki-anpi-export";
pub const EXPORT_PREFIX: &str = "anpi/";
/// The primary and DR vaults `seed::backup` creates.
pub const VAULT: &str = "juki-vault";
pub const DR_VAULT: &str = "juki-dr-vault";
/// Daily recovery points kept per resource (a week of nightly runs).
pub const HISTORY_DAYS: i64 = 7;
/// Non-compliant: the instance (Name tag) whose backups stopped.
pub const STALE_BACKUP: &str = "juki-ap01";
pub const STALE_BACKUP_DAYS: i64 = 9;
/// Non-compliant: the database's backups miss this many hours of 異動 before
/// their recovery point (the restore drill's validation must catch it).
pub const STALE_DATA_HOURS: i64 = 3;

/// The restore drill's isolated target in each region (`[continuity.drill]`
/// and `[continuity.drill.dr]` of the demo scenarios): a VPC of its own with
/// one subnet, a security group without ingress rules and a DB subnet group,
/// all named [`DRILL_TARGET`]; the role AWS Backup restores with.
pub const DRILL_TARGET: &str = "gcverify-drill-isolated";
pub const DRILL_ROLE: &str = "gcverify-restore-drill";
/// How long the emulator takes over a restore job in the demo (`restore-duration`);
/// the drill's evidence says the time is an emulator's.
pub const DRILL_RESTORE_SECONDS: f64 = 3.0;
/// Placeholders the demo scenarios use for the target's generated IDs (see [`drill_target_ids`]).
pub const DRILL_SUBNET_PLACEHOLDER: &str = "{demo_drill_subnet}";
pub const DRILL_SG_PLACEHOLDER: &str = "{demo_drill_sg}";

fn name_tag(kind: aws_sdk_ec2::types::ResourceType) -> aws_sdk_ec2::types::TagSpecification {
    let tag = aws_sdk_ec2::types::Tag::builder().key("Name").value(DRILL_TARGET).build();
    aws_sdk_ec2::types::TagSpecification::builder().resource_type(kind).tags(tag).build()
}

/// Not tagged with the system's scope tag: the drill's network is not the system's.
async fn drill_targets(endpoint: &str) -> Result<()> {
    use aws_sdk_ec2::types::ResourceType;
    for (region, cidr) in [(PRIMARY, "10.99.0.0/16"), (DR, "10.98.0.0/16")] {
        let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, region));
        let vpc = ec2.create_vpc().cidr_block(cidr).tag_specifications(name_tag(ResourceType::Vpc)).send().await.context("CreateVpc")?;
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).context("no VPC id")?.to_string();
        let sub_cidr = cidr.replace(".0.0/16", ".1.0/24");
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(sub_cidr)
            .availability_zone(format!("{region}a"))
            .tag_specifications(name_tag(ResourceType::Subnet))
            .send()
            .await
            .context("CreateSubnet")?;
        let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).context("no subnet id")?.to_string();
        ec2.create_security_group()
            .group_name(DRILL_TARGET)
            .description("restore drill: no route to production, no ingress")
            .vpc_id(&vpc_id)
            .tag_specifications(name_tag(ResourceType::SecurityGroup))
            .send()
            .await
            .context("CreateSecurityGroup")?;
        aws_sdk_rds::Client::new(&emulator_config(endpoint, region))
            .create_db_subnet_group()
            .db_subnet_group_name(DRILL_TARGET)
            .db_subnet_group_description("restore drill: isolated")
            .subnet_ids(subnet_id)
            .send()
            .await
            .context("CreateDBSubnetGroup")?;
    }
    let trust =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    aws_sdk_iam::Client::new(&emulator_config(endpoint, PRIMARY))
        .create_role()
        .role_name(DRILL_ROLE)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .context("CreateRole")?;
    admin(endpoint, "restore-duration", &json!({"seconds": DRILL_RESTORE_SECONDS})).context("setting the emulator's restore duration")?;
    Ok(())
}

/// The drill target's subnet and security group IDs in `region` (the emulator generates them).
pub async fn drill_target_ids(endpoint: &str, region: &str) -> Result<(String, String)> {
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, region));
    let named = aws_sdk_ec2::types::Filter::builder().name("tag:Name").values(DRILL_TARGET).build();
    let subnets = ec2.describe_subnets().filters(named.clone()).send().await.context("DescribeSubnets")?;
    let subnet = subnets.subnets().iter().find_map(|s| s.subnet_id()).with_context(|| format!("no subnet {DRILL_TARGET} in {region}"))?;
    let groups = ec2.describe_security_groups().filters(named).send().await.context("DescribeSecurityGroups")?;
    let sg = groups.security_groups().iter().find_map(|g| g.group_id()).with_context(|| format!("no security group {DRILL_TARGET} in {region}"))?;
    Ok((subnet.to_string(), sg.to_string()))
}

/// An in-scope resource as AWS Backup names it.
#[derive(Debug, Clone)]
pub struct Protected {
    pub arn: String,
    /// Name tag or DB identifier, for messages.
    pub name: String,
}

/// The EC2 instances and RDS databases carrying the system's scope tag in the primary region.
pub async fn in_scope(endpoint: &str) -> Result<Vec<Protected>> {
    let conf = emulator_config(endpoint, PRIMARY);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let filter = aws_sdk_ec2::types::Filter::builder().name(format!("tag:{}", SYSTEM_TAG.0)).values(SYSTEM_TAG.1).build();
    let mut out = Vec::new();
    for r in ec2.describe_instances().filters(filter).send().await.context("listing the system's instances")?.reservations() {
        for i in r.instances() {
            let Some(id) = i.instance_id() else { continue };
            let name = i.tags().iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value()).unwrap_or(id);
            out.push(Protected { arn: format!("arn:aws:ec2:{PRIMARY}:{MOTO_ACCOUNT}:instance/{id}"), name: name.to_string() });
        }
    }
    let rds = aws_sdk_rds::Client::new(&conf);
    for db in rds.describe_db_instances().send().await.context("listing the system's databases")?.db_instances() {
        let tagged = db.tag_list().iter().any(|t| t.key() == Some(SYSTEM_TAG.0) && t.value() == Some(SYSTEM_TAG.1));
        if let (true, Some(arn), Some(id)) = (tagged, db.db_instance_arn(), db.db_instance_identifier()) {
            out.push(Protected { arn: arn.to_string(), name: id.to_string() });
        }
    }
    Ok(out)
}

pub async fn seed_continuity(endpoint: &str, compliant: bool) -> Result<()> {
    artefacts(endpoint, compliant).await?;
    drill_targets(endpoint).await.context("seeding the restore drill's isolated targets")?;
    backups(endpoint, compliant).await.context("seeding AWS Backup selections, recovery points and restore history")?;
    crate::seed_operations::seed_operations(endpoint, compliant).await.context("seeding SSM and root MFA")?;
    crate::seed_monitoring::seed_monitoring(endpoint, compliant).await.context("seeding CloudWatch alarms")?;
    Ok(())
}

/// The plan `seed::backup` created (daily, or weekly when non-compliant): its ID.
async fn plan_id(backup: &aws_sdk_backup::Client) -> Result<String> {
    let plans = backup.list_backup_plans().send().await.context("ListBackupPlans")?;
    plans.backup_plans_list().iter().find_map(|p| p.backup_plan_id().map(str::to_string)).context("no backup plan to select resources for")
}

/// A tag selection on the plan, nightly points for a week with their DR copies, a restore test per resource.
async fn backups(endpoint: &str, compliant: bool) -> Result<()> {
    let backup = aws_sdk_backup::Client::new(&emulator_config(endpoint, PRIMARY));
    let plan = plan_id(&backup).await?;
    let tag = Condition::builder().condition_type(ConditionType::Stringequals).condition_key(SYSTEM_TAG.0).condition_value(SYSTEM_TAG.1).build()?;
    let selection = BackupSelection::builder()
        .selection_name("juki-tagged")
        .iam_role_arn(format!("arn:aws:iam::{MOTO_ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"))
        .list_of_tags(tag)
        .build()?;
    backup.create_backup_selection().backup_plan_id(&plan).backup_selection(selection).send().await.context("CreateBackupSelection")?;

    // Relative to now, so the demo is the same whenever it runs: the newest
    // point is from 2 hours ago (tonight's run), then one a day.
    let now = Utc::now();
    for r in in_scope(endpoint).await? {
        let stale = !compliant && r.name == STALE_BACKUP;
        let newest = if stale { now - Duration::days(STALE_BACKUP_DAYS) } else { now - Duration::hours(2) };
        let created: Vec<String> = (0..HISTORY_DAYS).map(|d| (newest - Duration::days(d)).to_rfc3339()).collect();
        let mut body = json!({"region": PRIMARY, "vault": VAULT, "resource_arn": r.arn, "created": created, "delete_after_days": 35});
        if compliant {
            body["copy_to"] = json!({"region": DR, "vault": DR_VAULT});
        }
        admin(endpoint, "recovery-points", &body).with_context(|| format!("recovery points of {}", r.name))?;
        // A restore test 3 weeks ago; its copy was deleted afterwards.
        let minutes = if r.arn.contains(":rds:") { 95 } else { 40 };
        let at: DateTime<Utc> = now - Duration::days(21);
        let copy = r.arn.contains(":rds:").then(|| format!("arn:aws:rds:{PRIMARY}:{MOTO_ACCOUNT}:db:{}-restore-test", r.name));
        admin(
            endpoint,
            "restore-jobs",
            &json!({"region": PRIMARY, "resource_arn": r.arn, "created": at.to_rfc3339(), "minutes": minutes, "created_resource_arn": copy}),
        )
        .with_context(|| format!("restore history of {}", r.name))?;
    }
    Ok(())
}

async fn artefacts(endpoint: &str, compliant: bool) -> Result<()> {
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, DR));
    if compliant {
        ec2.register_image()
            .name(DR_IMAGE)
            .description("住民記録 AP server, rebuilt in the DR region")
            .root_device_name("/dev/xvda")
            .send()
            .await
            .context("registering the DR AMI")?;
        let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
            .image_id("ami-0abcdef1234567890")
            .instance_type(aws_sdk_ec2::types::InstanceType::M5Large)
            .build();
        ec2.create_launch_template()
            .launch_template_name(DR_LAUNCH_TEMPLATE)
            .launch_template_data(data)
            .send()
            .await
            .context("creating the DR launch template")?;
    }
    let s3 = crate::seed::s3_client(endpoint, DR);
    crate::seed::create_bucket(&s3, EXPORT_BUCKET, DR).await.context("creating the export bucket")?;
    // Encrypted in both seeds: the export is not one of the planted E.6.1.2 violations.
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).build()?)
        .build();
    s3.put_bucket_encryption()
        .bucket(EXPORT_BUCKET)
        .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build()?)
        .send()
        .await?;
    // Public access blocked in both seeds: not one of the planted E.5.2.1 violations either.
    let block = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block().bucket(EXPORT_BUCKET).public_access_block_configuration(block).send().await?;
    if compliant {
        let csv = "氏名,住所,安否\nデモ太郎,デモ市1-1,確認済\n";
        s3.put_object().bucket(EXPORT_BUCKET).key(format!("{EXPORT_PREFIX}anpi-latest.csv")).body(ByteStream::from(csv.as_bytes().to_vec())).send().await?;
    }
    Ok(())
}
