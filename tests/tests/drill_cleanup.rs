//! `drill cleanup` against the local AWS emulator (moto): it must delete the
//! copies a drill left behind — EC2 instances and EBS volumes tagged
//! `gcverify:restore-drill`, RDS instances named `gcverify-drill-*` — and
//! nothing else. A dry run deletes nothing. (The drill's own restores through
//! the emulator extension: drill_emulator.rs.)

mod common;

use aws_sdk_ec2::types::{Filter, InstanceType, ResourceType, Tag, TagSpecification};
use gcverify_checks::drill::{self, kinds::TAG};

async fn instance(ec2: &aws_sdk_ec2::Client, tag: Option<&str>) -> String {
    let mut req = ec2.run_instances().image_id("ami-0abcdef1234567890").instance_type(InstanceType::T3Micro).min_count(1).max_count(1);
    if let Some(v) = tag {
        req = req.tag_specifications(TagSpecification::builder().resource_type(ResourceType::Instance).tags(Tag::builder().key(TAG).value(v).build()).build());
    }
    let out = req.send().await.expect("run_instances");
    out.instances()[0].instance_id().expect("instance id").to_string()
}

async fn state(ec2: &aws_sdk_ec2::Client, id: &str) -> String {
    let out = ec2.describe_instances().instance_ids(id).send().await.expect("describe");
    out.reservations()[0].instances()[0].state().and_then(|s| s.name()).map(|n| n.as_str().to_string()).unwrap_or_default()
}

async fn db(rds: &aws_sdk_rds::Client, id: &str) {
    rds.create_db_instance()
        .db_instance_identifier(id)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("password123")
        .send()
        .await
        .expect("create db");
}

async fn db_ids(rds: &aws_sdk_rds::Client) -> Vec<String> {
    let out = rds.describe_db_instances().send().await.expect("describe dbs");
    out.db_instances().iter().filter(|d| d.db_instance_status() != Some("deleting")).filter_map(|d| d.db_instance_identifier().map(str::to_string)).collect()
}

#[tokio::test]
async fn cleanup_deletes_only_what_drills_created() {
    let server = common::moto().await;
    let aws = common::emulator(&server.endpoint());
    let ec2 = aws.ec2("ap-northeast-1");
    let rds = aws.rds("ap-northeast-1");
    let prod = instance(&ec2, None).await;
    let copy = instance(&ec2, Some("gcverify-drill-20261123000000")).await;
    let vol = ec2.create_volume().availability_zone("ap-northeast-1a").size(8).send().await.expect("volume").volume_id().expect("id").to_string();
    ec2.create_tags().resources(&vol).tags(Tag::builder().key(TAG).value("gcverify-drill-20261123000000").build()).send().await.expect("tag volume");
    let prod_vol = ec2.create_volume().availability_zone("ap-northeast-1a").size(8).send().await.expect("volume").volume_id().expect("id").to_string();
    db(&rds, "juki-db").await;
    db(&rds, "gcverify-drill-20261123000000-1").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let regions = ["ap-northeast-1".to_string()];

    let dry = drill::cleanup(&aws, &regions, dir.path(), true).await.expect("dry run");
    assert_eq!(dry.deleted.len(), 3, "{dry:?}");
    assert!(dry.deleted.iter().all(|d| d.contains("dry run")), "{dry:?}");
    assert_eq!(state(&ec2, &copy).await, "running", "a dry run deletes nothing");

    let report = drill::cleanup(&aws, &regions, dir.path(), false).await.expect("cleanup");
    assert!(report.clean(), "{report:?}");
    assert_eq!(report.deleted.len(), 3, "{report:?}");
    assert!(matches!(state(&ec2, &copy).await.as_str(), "shutting-down" | "terminated"));
    assert_eq!(state(&ec2, &prod).await, "running", "production instance untouched");
    let vols = ec2.describe_volumes().filters(Filter::builder().name("volume-id").values(&vol).values(&prod_vol).build()).send().await.expect("volumes");
    let left: Vec<&str> = vols.volumes().iter().filter_map(|v| v.volume_id()).collect();
    assert_eq!(left, vec![prod_vol.as_str()], "the drill volume is gone, the production one stays");
    assert_eq!(db_ids(&rds).await, vec!["juki-db".to_string()]);

    let again = drill::cleanup(&aws, &regions, dir.path(), false).await.expect("second cleanup");
    assert!(again.deleted.is_empty() && again.clean(), "nothing left: {again:?}");
}
