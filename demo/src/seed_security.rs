//! Security and logging part of the demo seed (E.5.1.1, E.5.2.1, E.7.1.1,
//! E.7.1.3, F.1.1.1/F.1.2.1). Runs after `seed::seed` created the VPC,
//! instances, buckets, trail and operator users.
//!
//! Both variants: the VPC is tagged as the system's and has an ALL-traffic
//! flow log; the web security group allows only 443 from 10.0.0.0/8; the
//! application log groups keep logs 400 days and hold a fresh event; the
//! trail records management events; every bucket blocks public access; an
//! administrator role requires MFA to be assumed.
//! Non-compliant adds: SSH open to the world, an administrator user without
//! MFA, a bucket in us-east-1 (encrypted and tagged, so only residency
//! flags it), and the trail stopped.

use anyhow::{Context, Result};
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, Tag, TagSpecification};
use aws_sdk_s3::types::{
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use crate::seed::{emulator_config, PRIMARY, SYSTEM_TAG};

pub const WEB_SG: &str = "juki-web-sg";
/// Planted (non-compliant): SSH from 0.0.0.0/0.
pub const OPEN_SSH_SG: &str = "juki-maint-sg";
/// Planted (non-compliant): console user with an administrator policy and no MFA.
pub const ADMIN_USER: &str = "ope-admin";
/// Customer-managed policy granting `*` on `*` (moto does not ship AWS managed policies).
pub const ADMIN_POLICY: &str = "juki-AdministratorAccess";
pub const ADMIN_ROLE: &str = "juki-admin-role";
/// Planted (non-compliant): bucket outside Japan.
pub const FOREIGN_BUCKET: &str = "juki-export-us";
pub const FOREIGN_REGION: &str = "us-east-1";
pub const LOG_GROUPS: [&str; 2] = ["/juki/app", "/juki/audit"];
pub const FLOW_LOG_GROUP: &str = "/juki/vpc-flow";
pub const TRAIL: &str = "juki-trail";

pub async fn seed_security(endpoint: &str, compliant: bool) -> Result<()> {
    let vpc = network(endpoint, compliant).await.context("security groups and flow logs")?;
    logs(endpoint).await.context("log groups")?;
    iam(endpoint, compliant).await.context("IAM admin role and user")?;
    trail(endpoint, compliant).await.context("CloudTrail selectors")?;
    if !compliant {
        foreign_bucket(endpoint).await.context("bucket outside Japan")?;
    }
    public_access_blocks(endpoint).await.context("S3 public access blocks")?;
    tracing::debug!(vpc, compliant, "security seed done");
    Ok(())
}

fn s3(endpoint: &str, region: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&emulator_config(endpoint, region)).force_path_style(true).build())
}

async fn network(endpoint: &str, compliant: bool) -> Result<String> {
    let conf = emulator_config(endpoint, PRIMARY);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpcs = ec2.describe_vpcs().send().await?;
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|v| v.cidr_block() == Some("10.20.0.0/16"))
        .and_then(|v| v.vpc_id())
        .context("the 住民記録 VPC (10.20.0.0/16) was not seeded")?
        .to_string();
    ec2.create_tags()
        .resources(&vpc)
        .tags(Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build())
        .tags(Tag::builder().key("Name").value("juki-vpc").build())
        .send()
        .await?;

    let sg_tags = |name: &str| {
        TagSpecification::builder()
            .resource_type(ResourceType::SecurityGroup)
            .tags(Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build())
            .tags(Tag::builder().key("Name").value(name).build())
            .build()
    };
    let web = ec2
        .create_security_group()
        .group_name(WEB_SG)
        .description("HTTPS from the LGWAN side only")
        .vpc_id(&vpc)
        .tag_specifications(sg_tags(WEB_SG))
        .send()
        .await?;
    let web_id = web.group_id().context("no SG id")?.to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&web_id)
        .ip_permissions(
            IpPermission::builder().ip_protocol("tcp").from_port(443).to_port(443).ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build()).build(),
        )
        .send()
        .await?;
    if !compliant {
        let maint =
            ec2.create_security_group().group_name(OPEN_SSH_SG).description("maintenance").vpc_id(&vpc).tag_specifications(sg_tags(OPEN_SSH_SG)).send().await?;
        ec2.authorize_security_group_ingress()
            .group_id(maint.group_id().context("no SG id")?)
            .ip_permissions(
                IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build(),
            )
            .send()
            .await?;
    }

    // Flow logs deliver to CloudWatch Logs through a role the service assumes.
    let iam = aws_sdk_iam::Client::new(&conf);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = iam.create_role().role_name("juki-flowlogs").assume_role_policy_document(trust).send().await?;
    let role_arn = role.role().map(|r| r.arn().to_string()).context("no role ARN")?;
    aws_sdk_cloudwatchlogs::Client::new(&conf).create_log_group().log_group_name(FLOW_LOG_GROUP).send().await?;
    ec2.create_flow_logs()
        .resource_ids(&vpc)
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::CloudWatchLogs)
        .log_group_name(FLOW_LOG_GROUP)
        .deliver_logs_permission_arn(role_arn)
        .send()
        .await?;
    Ok(vpc)
}

async fn logs(endpoint: &str) -> Result<()> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&emulator_config(endpoint, PRIMARY));
    let now = chrono_free_now_ms();
    for group in LOG_GROUPS {
        logs.create_log_group().log_group_name(group).send().await?;
        logs.put_retention_policy().log_group_name(group).retention_in_days(400).send().await?;
        logs.create_log_stream().log_group_name(group).log_stream_name("juki-ap01").send().await?;
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name("juki-ap01")
            .log_events(aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(now).message("login ok user=ope-tanaka").build()?)
            .send()
            .await?;
    }
    Ok(())
}

fn chrono_free_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

async fn iam(endpoint: &str, compliant: bool) -> Result<()> {
    let iam = aws_sdk_iam::Client::new(&emulator_config(endpoint, PRIMARY));
    let admin_doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let policy = iam.create_policy().policy_name(ADMIN_POLICY).policy_document(admin_doc).send().await?;
    let policy_arn = policy.policy().and_then(|p| p.arn()).context("no policy ARN")?.to_string();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"true"}}}}}}]}}"#,
        crate::MOTO_ACCOUNT
    );
    iam.create_role().role_name(ADMIN_ROLE).assume_role_policy_document(trust).send().await?;
    iam.attach_role_policy().role_name(ADMIN_ROLE).policy_arn(&policy_arn).send().await?;
    if !compliant {
        iam.create_user().user_name(ADMIN_USER).send().await?;
        iam.create_login_profile().user_name(ADMIN_USER).password("Demo-Passw0rd!").send().await?;
        iam.attach_user_policy().user_name(ADMIN_USER).policy_arn(&policy_arn).send().await?;
    }
    Ok(())
}

async fn trail(endpoint: &str, compliant: bool) -> Result<()> {
    let ct = aws_sdk_cloudtrail::Client::new(&emulator_config(endpoint, PRIMARY));
    ct.put_event_selectors()
        .trail_name(TRAIL)
        .event_selectors(
            aws_sdk_cloudtrail::types::EventSelector::builder()
                .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::All)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await?;
    if !compliant {
        ct.stop_logging().name(TRAIL).send().await?;
    }
    Ok(())
}

async fn foreign_bucket(endpoint: &str) -> Result<()> {
    let s3 = s3(endpoint, FOREIGN_REGION);
    // us-east-1 takes no LocationConstraint.
    s3.create_bucket().bucket(FOREIGN_BUCKET).send().await?;
    s3.put_bucket_tagging()
        .bucket(FOREIGN_BUCKET)
        .tagging(aws_sdk_s3::types::Tagging::builder().tag_set(aws_sdk_s3::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build()?).build()?)
        .send()
        .await?;
    // Encrypted, so E.6.1.2 stays about the planted encryption violations only.
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build()?)
        .build();
    s3.put_bucket_encryption()
        .bucket(FOREIGN_BUCKET)
        .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build()?)
        .send()
        .await?;
    Ok(())
}

async fn public_access_blocks(endpoint: &str) -> Result<()> {
    let home = s3(endpoint, PRIMARY);
    let list = home.list_buckets().send().await?;
    for b in list.buckets() {
        let Some(name) = b.name() else { continue };
        let loc = home.get_bucket_location().bucket(name).send().await?;
        let region = match loc.location_constraint().map(|c| c.as_str()) {
            None | Some("") => FOREIGN_REGION.to_string(),
            Some(r) => r.to_string(),
        };
        s3(endpoint, &region)
            .put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await?;
    }
    Ok(())
}
