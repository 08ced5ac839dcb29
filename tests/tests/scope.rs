//! Scope against a real moto server: a mistyped `[scope]` tag gives no OK
//! about nothing (ERROR on every resource-judging row, and a warning naming
//! the values seen), and a volume attached to an in-scope instance is judged
//! although it carries no tag.

mod common;

use common::*;
use gcverify_checks::{EvidenceStatus, Outcome};
use gcverify_demo::seed::{emulator_config, PRIMARY, SYSTEM_TAG};

/// Rows that judge the system's resources (not account-level facts alone).
const RESOURCE_ROWS: [&str; 9] = ["E.6.1.2", "E.5.2.1", "E.7.1.3", "C.1.3.1", "C.2.3.5", "E.4.3.4", "C.1.2.2", "C.1.2.3", "A.1.3.1"];

async fn unencrypted_volume(ec2: &aws_sdk_ec2::Client, az: &str, tagged: bool) -> String {
    let mut req = ec2.create_volume().availability_zone(az).size(8).encrypted(false);
    if tagged {
        req = req.tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Volume)
                .tags(aws_sdk_ec2::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build())
                .build(),
        );
    }
    req.send().await.expect("volume").volume_id().expect("volume id").to_string()
}

#[tokio::test]
async fn a_mistyped_scope_tag_is_error_on_every_resource_row_and_warns() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(&ep, PRIMARY));
    // The account holds an unencrypted volume of the system: with the right tag it is NG.
    let bad = unencrypted_volume(&ec2, "ap-northeast-1a", true).await;

    let typo = BASE.replace("System = \"juki\"", "System = \"jyuk1\"");
    let r = run(&ep, scenario(&typo), &RESOURCE_ROWS).await;
    for id in RESOURCE_ROWS {
        let i = item(&r, id);
        assert_eq!(i.outcome, Outcome::Error, "{id}: {}\n{}", i.summary_en, evidence_text(i));
    }
    let enc = item(&r, "E.6.1.2");
    assert!(enc.summary.contains("対象リソースなし（[scope] を確認）"), "{}", enc.summary);
    assert!(!enc.summary.contains("すべて暗号化済"), "{}", enc.summary);
    let warning = r.warnings.first().expect("a scope warning before the table");
    assert!(warning.ja.contains("System=jyuk1 に一致するリソースなし"), "{}", warning.ja);
    assert!(warning.ja.contains("System の値: juki（"), "{}", warning.ja);

    // The same account with the right tag: the volume is found and judged.
    let r = run(&ep, scenario(BASE), &["E.6.1.2"]).await;
    let enc = item(&r, "E.6.1.2");
    assert_eq!(enc.outcome, Outcome::Ng, "{}", enc.summary_en);
    assert!(enc.evidence.iter().any(|e| e.subject == bad && e.status == EvidenceStatus::Fail), "{}", evidence_text(enc));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[tokio::test]
async fn an_untagged_volume_attached_to_an_in_scope_instance_is_judged() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(&ep, PRIMARY));
    let tagged = ec2
        .describe_instances()
        .filters(aws_sdk_ec2::types::Filter::builder().name(format!("tag:{}", SYSTEM_TAG.0)).values(SYSTEM_TAG.1).build())
        .send()
        .await
        .expect("instances");
    let instance = tagged.reservations().iter().flat_map(|r| r.instances()).next().expect("a seeded instance of the system");
    let id = instance.instance_id().expect("id").to_string();
    let az = instance.placement().and_then(|p| p.availability_zone()).expect("az").to_string();
    // AWS does not copy the instance's tags to a volume attached later.
    let data = unencrypted_volume(&ec2, &az, false).await;
    ec2.attach_volume().volume_id(&data).instance_id(&id).device("/dev/sdf").send().await.expect("attach");
    // Another system's untagged, unattached volume stays out of scope.
    let stranger = unencrypted_volume(&ec2, &az, false).await;

    let r = run(&ep, scenario(BASE), &["E.6.1.2"]).await;
    let enc = item(&r, "E.6.1.2");
    assert_eq!(enc.outcome, Outcome::Ng, "{}\n{}", enc.summary_en, evidence_text(enc));
    let fail = enc.evidence.iter().find(|e| e.subject == data).expect("the attached volume is judged");
    assert_eq!(fail.status, EvidenceStatus::Fail);
    assert!(fail.detail.contains("Encrypted=false") && fail.detail.contains(&format!("attached to {id}")), "{}", fail.detail);
    assert!(enc.summary_en.contains(&data) && enc.summary_en.contains(&id), "{}", enc.summary_en);
    assert!(!enc.evidence.iter().any(|e| e.subject == stranger), "{}", evidence_text(enc));
}
