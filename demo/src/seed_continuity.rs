//! Seeds what the continuity probes can read from the emulator in the DR
//! region (ap-northeast-3): an AMI and a launch template to rebuild the AP
//! server, and the 72-hour 安否確認 data export bucket. The compliant seed
//! writes today's export; the non-compliant one has neither AMI nor launch
//! template and an export bucket the job never wrote to.
//! (Backup selections, recovery points and restore jobs cannot be seeded:
//! the emulator does not implement them.)

use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule};

use crate::seed::{emulator_config, DR};

pub const DR_IMAGE: &str = "juki-ap-dr";
pub const DR_LAUNCH_TEMPLATE: &str = "juki-ap-dr";
pub const EXPORT_BUCKET: &str = "juki-anpi-export";
pub const EXPORT_PREFIX: &str = "anpi/";

pub async fn seed_continuity(endpoint: &str, compliant: bool) -> Result<()> {
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
