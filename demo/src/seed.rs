//! Seeds the emulator with a municipal 住民記録 (resident records) system:
//! web/AP/DB instances, an RDS database, document and log buckets, a daily
//! backup plan copying to the DR region, CloudTrail and IAM users with MFA.
//! The non-compliant variant plants violations the probes must find.

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use aws_sdk_backup::types::{BackupPlanInput, BackupRuleInput, CopyAction, Lifecycle};
use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice, InstanceType, ResourceType, Tag, TagSpecification};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};

pub const PRIMARY: &str = "ap-northeast-1";
pub const DR: &str = "ap-northeast-3";
pub const SYSTEM_TAG: (&str, &str) = ("System", "juki");

/// What was planted, so tests can assert the probes name it.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub instances: Vec<String>,
    pub volumes: Vec<String>,
    /// Violations planted (non-compliant seed only).
    pub unencrypted_volumes: Vec<String>,
    pub unencrypted_databases: Vec<String>,
    pub unencrypted_buckets: Vec<String>,
    pub regions_without_ebs_default: Vec<String>,
    pub backup_plan: String,
    pub dr_vault_arn: Option<String>,
}

/// SDK configuration for the emulator (static test credentials).
pub fn emulator_config(endpoint: &str, region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "gcverify-demo",
        )))
        .build()
}

pub(crate) fn s3_client(endpoint: &str, region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&emulator_config(endpoint, region)).force_path_style(true).build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn tag_spec(kind: ResourceType, name: &str) -> TagSpecification {
    tag_spec_with(kind, SYSTEM_TAG, name)
}

/// Tags `kind` at creation with the system's scope tag and a Name.
pub(crate) fn tag_spec_with(kind: ResourceType, (key, value): (&str, &str), name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key(key).value(value).build())
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

/// Seed a compliant (`compliant = true`) or non-compliant environment.
pub async fn seed(endpoint: &str, compliant: bool) -> Result<Seeded> {
    let mut out = Seeded::default();
    ec2(endpoint, compliant, &mut out).await.context("seeding EC2")?;
    rds(endpoint, compliant, &mut out).await.context("seeding RDS")?;
    s3(endpoint, compliant, &mut out).await.context("seeding S3")?;
    backup(endpoint, compliant, &mut out).await.context("seeding AWS Backup")?;
    trail_and_iam(endpoint).await.context("seeding CloudTrail/IAM")?;
    crate::seed_network::seed_network(endpoint, compliant).await.context("seeding the load balancer")?;
    crate::seed_security::seed_security(endpoint, compliant).await.context("seeding security and logging")?;
    crate::seed_continuity::seed_continuity(endpoint, compliant).await.context("seeding the DR-region continuity artefacts")?;
    Ok(out)
}

async fn ec2(endpoint: &str, compliant: bool, out: &mut Seeded) -> Result<()> {
    for region in [PRIMARY, DR] {
        let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, region));
        if compliant || region == PRIMARY {
            ec2.enable_ebs_encryption_by_default().send().await?;
        } else {
            out.regions_without_ebs_default.push(region.to_string());
        }
    }
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, PRIMARY));
    let vpc = ec2.create_vpc().cidr_block("10.20.0.0/16").send().await?;
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).context("no VPC id")?.to_string();
    let subnet = ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.20.1.0/24").availability_zone(format!("{PRIMARY}a")).send().await?;
    let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).context("no subnet id")?.to_string();
    for (name, kind) in [("juki-web01", InstanceType::T3Medium), ("juki-ap01", InstanceType::M5Large), ("juki-db01", InstanceType::R5Large)] {
        let root = BlockDeviceMapping::builder().device_name("/dev/xvda").ebs(EbsBlockDevice::builder().volume_size(50).encrypted(true).build()).build();
        let run = ec2
            .run_instances()
            .image_id("ami-0abcdef1234567890")
            .instance_type(kind)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet_id)
            .block_device_mappings(root)
            // IMDSv2 only (E.5.2.1).
            .metadata_options(aws_sdk_ec2::types::InstanceMetadataOptionsRequest::builder().http_tokens(aws_sdk_ec2::types::HttpTokensState::Required).build())
            .tag_specifications(tag_spec(ResourceType::Instance, name))
            .tag_specifications(tag_spec(ResourceType::Volume, name))
            .send()
            .await?;
        let id = run.instances().first().and_then(|i| i.instance_id()).context("no instance id")?.to_string();
        out.instances.push(id);
    }
    // The DB server's data volume: the planted violation when non-compliant.
    let data = ec2
        .create_volume()
        .availability_zone(format!("{PRIMARY}a"))
        .size(200)
        .encrypted(compliant)
        .tag_specifications(tag_spec(ResourceType::Volume, "juki-db01-data"))
        .send()
        .await?;
    let vol = data.volume_id().context("no volume id")?.to_string();
    if let Some(db) = out.instances.last() {
        ec2.attach_volume().volume_id(&vol).instance_id(db).device("/dev/sdf").send().await?;
    }
    if !compliant {
        out.unencrypted_volumes.push(vol.clone());
    }
    let vols = ec2.describe_volumes().send().await?;
    out.volumes = vols.volumes().iter().filter_map(|v| v.volume_id().map(str::to_string)).collect();
    Ok(())
}

async fn rds(endpoint: &str, compliant: bool, out: &mut Seeded) -> Result<()> {
    let rds = aws_sdk_rds::Client::new(&emulator_config(endpoint, PRIMARY));
    rds.create_db_instance()
        .db_instance_identifier("juki-db")
        .db_instance_class("db.r6g.large")
        .engine("postgres")
        .allocated_storage(100)
        .master_username("juki_admin")
        .master_user_password("demo-password-1234")
        .storage_encrypted(compliant)
        // Not reachable from the internet (E.5.2.1).
        .publicly_accessible(false)
        .tags(aws_sdk_rds::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build())
        .send()
        .await?;
    if !compliant {
        out.unencrypted_databases.push("juki-db".into());
    }
    Ok(())
}

async fn s3(endpoint: &str, compliant: bool, out: &mut Seeded) -> Result<()> {
    let s3 = s3_client(endpoint, PRIMARY);
    for bucket in ["juki-documents", "juki-app-logs"] {
        create_bucket(&s3, bucket, PRIMARY).await?;
        s3.put_bucket_tagging()
            .bucket(bucket)
            .tagging(aws_sdk_s3::types::Tagging::builder().tag_set(aws_sdk_s3::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build()?).build()?)
            .send()
            .await?;
        let leave_unencrypted = !compliant && bucket == "juki-app-logs";
        if leave_unencrypted {
            out.unencrypted_buckets.push(bucket.to_string());
            continue;
        }
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).build()?)
            .build();
        s3.put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build()?)
            .send()
            .await?;
    }
    Ok(())
}

async fn backup(endpoint: &str, compliant: bool, out: &mut Seeded) -> Result<()> {
    let primary = aws_sdk_backup::Client::new(&emulator_config(endpoint, PRIMARY));
    let dr = aws_sdk_backup::Client::new(&emulator_config(endpoint, DR));
    primary.create_backup_vault().backup_vault_name("juki-vault").send().await?;
    let dr_vault = dr.create_backup_vault().backup_vault_name("juki-dr-vault").send().await?;
    let dr_arn = dr_vault.backup_vault_arn().context("no DR vault ARN")?.to_string();
    // 02:00 JST every day; non-compliant: Sundays only and no copy to the DR region.
    let (plan, schedule) = if compliant { ("juki-daily", "cron(0 17 ? * * *)") } else { ("juki-weekly", "cron(0 17 ? * SUN *)") };
    let mut rule = BackupRuleInput::builder()
        .rule_name(if compliant { "daily-with-dr-copy" } else { "weekly" })
        .target_backup_vault_name("juki-vault")
        .schedule_expression(schedule)
        .lifecycle(Lifecycle::builder().delete_after_days(35).build());
    if compliant {
        rule = rule
            .copy_actions(CopyAction::builder().destination_backup_vault_arn(&dr_arn).lifecycle(Lifecycle::builder().delete_after_days(35).build()).build()?);
        out.dr_vault_arn = Some(dr_arn);
    }
    primary.create_backup_plan().backup_plan(BackupPlanInput::builder().backup_plan_name(plan).rules(rule.build()?).build()?).send().await?;
    out.backup_plan = plan.to_string();
    Ok(())
}

/// A bucket in `region` (LocationConstraint set, as outside us-east-1).
pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) -> Result<()> {
    s3.create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build())
        .send()
        .await?;
    Ok(())
}

/// A virtual MFA device for `user`, enabled (moto accepts any codes).
pub(crate) async fn enable_virtual_mfa(iam: &aws_sdk_iam::Client, user: &str) -> Result<()> {
    let device = iam.create_virtual_mfa_device().virtual_mfa_device_name(user).send().await.context("CreateVirtualMFADevice")?;
    let serial = device.virtual_mfa_device().map(|d| d.serial_number().to_string()).context("no MFA serial")?;
    iam.enable_mfa_device()
        .user_name(user)
        .serial_number(serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .context("EnableMFADevice")?;
    Ok(())
}

async fn trail_and_iam(endpoint: &str) -> Result<()> {
    let s3 = s3_client(endpoint, PRIMARY);
    create_bucket(&s3, "juki-cloudtrail", PRIMARY).await?;
    s3.put_bucket_encryption()
        .bucket("juki-cloudtrail")
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build()?)
                        .build(),
                )
                .build()?,
        )
        .send()
        .await?;
    let trail = aws_sdk_cloudtrail::Client::new(&emulator_config(endpoint, PRIMARY));
    trail.create_trail().name("juki-trail").s3_bucket_name("juki-cloudtrail").is_multi_region_trail(true).enable_log_file_validation(true).send().await?;
    trail.start_logging().name("juki-trail").send().await?;

    let iam = aws_sdk_iam::Client::new(&emulator_config(endpoint, PRIMARY));
    for user in ["ope-tanaka", "ope-suzuki"] {
        iam.create_user().user_name(user).send().await?;
        iam.create_login_profile().user_name(user).password("Demo-Passw0rd!").send().await?;
        enable_virtual_mfa(&iam, user).await?;
    }
    Ok(())
}
