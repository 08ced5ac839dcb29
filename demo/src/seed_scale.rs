//! Seeds the emulator with N resources for `cargo xtask bench scale`: EC2
//! instances (each with its root volume), extra EBS volumes, security groups,
//! IAM users with console passwords and CloudWatch Logs groups, spread over
//! the primary and DR regions, a tenth of each kind non-compliant
//! (unencrypted volume, SSH open to the internet, console user without MFA).
//! One multi-region trail, so both tools have something to find logging.

use anyhow::{Context, Result};
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, HttpTokensState, InstanceMetadataOptionsRequest, IpPermission, IpRange, ResourceType, TagSpecification,
};
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::seed::{emulator_config, DR, PRIMARY};

/// The scope tag of the seeded system (its scenario's `[scope] tags`).
pub const SCALE_TAG: (&str, &str) = ("System", "scale");

/// How many of each kind for `total` resources (their sum is `total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalePlan {
    pub instances: usize,
    /// Volumes besides the instances' root volumes (moto creates one per instance).
    pub extra_volumes: usize,
    pub security_groups: usize,
    pub users: usize,
    pub log_groups: usize,
}

impl ScalePlan {
    /// 10 % instances, 10 % their root volumes, 30 % extra volumes, 20 %
    /// security groups, 10 % IAM users, 20 % log groups.
    pub fn for_total(total: usize) -> Self {
        let instances = total / 10;
        let extra_volumes = total * 3 / 10;
        let security_groups = total * 2 / 10;
        let users = total / 10;
        let log_groups = total - 2 * instances - extra_volumes - security_groups - users;
        Self { instances, extra_volumes, security_groups, users, log_groups }
    }

    pub fn total(&self) -> usize {
        2 * self.instances + self.extra_volumes + self.security_groups + self.users + self.log_groups
    }
}

/// Every `NONCOMPLIANT_EVERY`-th resource of a kind is the violation.
const NONCOMPLIANT_EVERY: usize = 10;
/// Concurrent seeding calls (moto's server is threaded).
const CONCURRENCY: usize = 8;
/// Instances per RunInstances call.
const INSTANCE_BATCH: usize = 100;

fn tags(kind: ResourceType, name: &str) -> TagSpecification {
    crate::seed::tag_spec_with(kind, SCALE_TAG, name)
}

/// `make(i)` for every i below `count`, [`CONCURRENCY`] at a time; the first failure stops it.
async fn each<F, Fut>(count: usize, make: F) -> Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    stream::iter(0..count).map(make).buffer_unordered(CONCURRENCY).try_collect::<Vec<()>>().await?;
    Ok(())
}

/// Half of each kind in each region (regional kinds), `i` decides which.
fn region_of(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        PRIMARY
    } else {
        DR
    }
}

pub async fn seed_scale(endpoint: &str, plan: ScalePlan) -> Result<()> {
    for region in [PRIMARY, DR] {
        let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, region));
        ec2.enable_ebs_encryption_by_default().send().await.context("EnableEbsEncryptionByDefault")?;
    }
    instances(endpoint, plan.instances).await.context("seeding instances")?;
    volumes(endpoint, plan.extra_volumes).await.context("seeding volumes")?;
    security_groups(endpoint, plan.security_groups).await.context("seeding security groups")?;
    users(endpoint, plan.users).await.context("seeding IAM users")?;
    log_groups(endpoint, plan.log_groups).await.context("seeding log groups")?;
    trail(endpoint).await.context("seeding the trail")?;
    Ok(())
}

async fn instances(endpoint: &str, count: usize) -> Result<()> {
    each(count.div_ceil(INSTANCE_BATCH), |batch| async move {
        let start = batch * INSTANCE_BATCH;
        let n = INSTANCE_BATCH.min(count - start);
        let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, region_of(batch)));
        let root = BlockDeviceMapping::builder().device_name("/dev/xvda").ebs(EbsBlockDevice::builder().volume_size(8).encrypted(true).build()).build();
        ec2.run_instances()
            .image_id("ami-0abcdef1234567890")
            .min_count(n as i32)
            .max_count(n as i32)
            .block_device_mappings(root)
            .metadata_options(InstanceMetadataOptionsRequest::builder().http_tokens(HttpTokensState::Required).build())
            .tag_specifications(tags(ResourceType::Instance, &format!("scale-ap-{start}")))
            .tag_specifications(tags(ResourceType::Volume, &format!("scale-ap-{start}")))
            .send()
            .await
            .context("RunInstances")?;
        Ok(())
    })
    .await
}

async fn volumes(endpoint: &str, count: usize) -> Result<()> {
    each(count, |i| async move {
        let region = region_of(i);
        let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, region));
        ec2.create_volume()
            .availability_zone(format!("{region}a"))
            .size(20)
            .encrypted(!i.is_multiple_of(NONCOMPLIANT_EVERY))
            .tag_specifications(tags(ResourceType::Volume, &format!("scale-data-{i}")))
            .send()
            .await
            .context("CreateVolume")?;
        Ok(())
    })
    .await
}

async fn security_groups(endpoint: &str, count: usize) -> Result<()> {
    each(count, |i| async move {
        let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, region_of(i)));
        let name = format!("scale-sg-{i}");
        let sg = ec2
            .create_security_group()
            .group_name(&name)
            .description("gcverify scale bench")
            .tag_specifications(tags(ResourceType::SecurityGroup, &name))
            .send()
            .await
            .context("CreateSecurityGroup")?;
        let id = sg.group_id().context("no group id")?.to_string();
        // Compliant groups allow HTTPS from a private range; every tenth opens SSH to the world.
        let (port, cidr) = if i.is_multiple_of(NONCOMPLIANT_EVERY) { (22, "0.0.0.0/0") } else { (443, "10.0.0.0/8") };
        let rule = IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port).ip_ranges(IpRange::builder().cidr_ip(cidr).build()).build();
        ec2.authorize_security_group_ingress().group_id(id).ip_permissions(rule).send().await.context("AuthorizeSecurityGroupIngress")?;
        Ok(())
    })
    .await
}

async fn users(endpoint: &str, count: usize) -> Result<()> {
    let iam = aws_sdk_iam::Client::new(&emulator_config(endpoint, PRIMARY));
    each(count, |i| {
        let iam = iam.clone();
        async move {
            let user = format!("scale-user-{i}");
            iam.create_user().user_name(&user).send().await.context("CreateUser")?;
            iam.create_login_profile().user_name(&user).password("Scale-Passw0rd!").send().await.context("CreateLoginProfile")?;
            if !i.is_multiple_of(NONCOMPLIANT_EVERY) {
                crate::seed::enable_virtual_mfa(&iam, &user).await?;
            }
            Ok(())
        }
    })
    .await
}

async fn log_groups(endpoint: &str, count: usize) -> Result<()> {
    each(count, |i| async move {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&emulator_config(endpoint, region_of(i)));
        logs.create_log_group().log_group_name(format!("/scale/app-{i}")).send().await.context("CreateLogGroup")?;
        Ok(())
    })
    .await
}

async fn trail(endpoint: &str) -> Result<()> {
    crate::seed::create_bucket(&crate::seed::s3_client(endpoint, PRIMARY), "scale-cloudtrail", PRIMARY).await?;
    let trail = aws_sdk_cloudtrail::Client::new(&emulator_config(endpoint, PRIMARY));
    trail.create_trail().name("scale-trail").s3_bucket_name("scale-cloudtrail").is_multi_region_trail(true).enable_log_file_validation(true).send().await?;
    trail.start_logging().name("scale-trail").send().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ScalePlan;

    #[test]
    fn the_plan_adds_up_to_the_total() {
        for n in [10, 2_500, 5_000, 10_000, 12_345] {
            let plan = ScalePlan::for_total(n);
            assert_eq!(plan.total(), n, "{plan:?}");
        }
        assert_eq!(ScalePlan::for_total(10_000).instances, 1_000);
    }
}
