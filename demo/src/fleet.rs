//! Small environments in several emulated accounts, for fleet runs (tests,
//! `bench fleet`): moto switches account by the role ARN assumed with STS,
//! so each account is seeded with the credentials of a role in it.

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice, InstanceType, ResourceType, Tag, TagSpecification};

use crate::seed::{emulator_config, DR, PRIMARY};

/// The role a fleet entry assumes in `account` (moto needs no such role to exist).
pub fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/gcverify-readonly")
}

/// SDK configuration acting inside `account` of the emulator at `endpoint`.
pub async fn account_config(endpoint: &str, account: &str, region: &str) -> Result<SdkConfig> {
    let sts = aws_sdk_sts::Client::new(&emulator_config(endpoint, region));
    let out = sts.assume_role().role_arn(role_arn(account)).role_session_name("gcverify-seed").send().await.context("sts:AssumeRole")?;
    let c = out.credentials().context("AssumeRole answer had no credentials")?;
    let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()), None, "gcverify-fleet-seed");
    Ok(SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build())
}

/// One municipality's share of an account: an instance (encrypted root)
/// tagged `tags`, and with `violation` an unencrypted data volume attached
/// to it, tagged the same. Default EBS encryption on in both regions.
pub async fn seed_municipality(endpoint: &str, account: &str, tags: &[(&str, &str)], violation: bool) -> Result<()> {
    for region in [PRIMARY, DR] {
        let ec2 = aws_sdk_ec2::Client::new(&account_config(endpoint, account, region).await?);
        ec2.enable_ebs_encryption_by_default().send().await.context("ec2:EnableEbsEncryptionByDefault")?;
    }
    let ec2 = aws_sdk_ec2::Client::new(&account_config(endpoint, account, PRIMARY).await?);
    let spec = |kind: ResourceType| {
        let mut s = TagSpecification::builder().resource_type(kind);
        for (k, v) in tags {
            s = s.tags(Tag::builder().key(*k).value(*v).build());
        }
        s.build()
    };
    let root = BlockDeviceMapping::builder().device_name("/dev/xvda").ebs(EbsBlockDevice::builder().volume_size(20).encrypted(true).build()).build();
    let run = ec2
        .run_instances()
        .image_id("ami-0abcdef1234567890")
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .placement(aws_sdk_ec2::types::Placement::builder().availability_zone(format!("{PRIMARY}a")).build())
        .block_device_mappings(root)
        .tag_specifications(spec(ResourceType::Instance))
        .tag_specifications(spec(ResourceType::Volume))
        .send()
        .await
        .context("ec2:RunInstances")?;
    let instance = run.instances().first().and_then(|i| i.instance_id()).context("no instance id")?.to_string();
    if violation {
        let vol = ec2
            .create_volume()
            .availability_zone(format!("{PRIMARY}a"))
            .size(50)
            .encrypted(false)
            .tag_specifications(spec(ResourceType::Volume))
            .send()
            .await
            .context("ec2:CreateVolume")?;
        let id = vol.volume_id().context("no volume id")?;
        ec2.attach_volume().volume_id(id).instance_id(&instance).device("/dev/sdf").send().await.context("ec2:AttachVolume")?;
    }
    Ok(())
}
