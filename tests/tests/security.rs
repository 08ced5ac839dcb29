//! Security probes against a real moto server: E.5.1.1 (MFA), E.5.2.1
//! (操作制限), E.7.1.1 / E.7.1.3 (logging), F.1.1.1 / F.1.2.1 (residency).
//! Compliant seed → OK (E.5.1.1: ERROR, moto has no root MFA); each rule's
//! violation → NG naming the resource; endpoint gone → ERROR.

mod common;

use common::*;
use gcverify_checks::{EvidenceStatus, ItemResult, Outcome, RunReport};
use gcverify_demo::seed::{emulator_config, PRIMARY, SYSTEM_TAG};
use gcverify_demo::seed_security as sec;

const ITEMS: [&str; 6] = ["E.5.1.1", "E.5.2.1", "E.7.1.1", "E.7.1.3", "F.1.1.1", "F.1.2.1"];

fn security_scenario(extra: &str) -> gcverify_scenarios::Scenario {
    scenario(&format!(
        "{BASE}\n[access]\nadmin_roles_require_mfa = true\n{extra}\n[logging]\nlog_groups = [\"/juki/app\", \"/juki/audit\"]\nretention_days = 365\nrecent_hours = 24\n"
    ))
}

fn failing(i: &ItemResult) -> Vec<String> {
    i.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.clone()).collect()
}

fn assert_ng_names(r: &RunReport, id: &str, names: &[&str]) {
    let i = item(r, id);
    assert_eq!(i.outcome, Outcome::Ng, "{id}: {}\n{}", i.summary_en, evidence_text(i));
    let fails = failing(i);
    for n in names {
        assert!(fails.iter().any(|f| f.contains(n)), "{id}: {n} not among the violations {fails:?}\n{}", evidence_text(i));
    }
}

#[tokio::test]
async fn compliant_seed_is_ok_and_root_mfa_is_observed_through_the_extension() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");
    let r = run(&server.endpoint(), security_scenario(""), &ITEMS).await;
    for id in ["E.5.2.1", "E.7.1.1", "E.7.1.3", "F.1.1.1", "F.1.2.1"] {
        let i = item(&r, id);
        assert_eq!(i.verified_by(&i.probe), Outcome::Ok, "{id}: {}\n{}", i.summary_en, evidence_text(i));
    }
    // moto alone hard-codes AccountMFAEnabled=0; the extension serves the
    // seeded value and says so, so it is an observation.
    let mfa = item(&r, "E.5.1.1");
    let admin = mfa.points.iter().find(|p| p.id == "admin-mfa").expect("admin-mfa point");
    assert_eq!(admin.outcome, Outcome::Ok, "{}\n{}", admin.summary_en, evidence_text(mfa));
    assert!(mfa.evidence.iter().any(|e| e.subject == "root-account" && e.status == EvidenceStatus::Pass && e.detail == "AccountMFAEnabled=1"));
    // The customer-side point is the login check's: without [login] it is 検証不能, not OK.
    let staff = mfa.points.iter().find(|p| p.id == "staff-2fa").expect("staff-2fa point");
    assert!(staff.outcome == Outcome::Error && staff.summary_en.contains("no [login]"), "{}", staff.summary_en);
    for user in ["ope-tanaka", "ope-suzuki"] {
        assert!(mfa.evidence.iter().any(|e| e.subject == user && e.status == EvidenceStatus::Pass), "{user}\n{}", evidence_text(mfa));
    }
    assert!(mfa.evidence.iter().any(|e| e.subject == sec::ADMIN_ROLE && e.status == EvidenceStatus::Pass && e.detail.contains("MultiFactorAuthPresent")));

    let rest = item(&r, "E.5.2.1");
    let text = evidence_text(rest);
    assert!(text.contains("HttpTokens=required"), "{text}");
    assert!(text.contains("juki-db") && text.contains("PubliclyAccessible=false"), "{text}");
    assert!(text.contains(sec::WEB_SG), "{text}");
    assert!(text.contains("juki-documents") && text.contains("all four settings true"), "{text}");

    let audit = item(&r, "E.7.1.1");
    assert!(audit.evidence.iter().any(|e| e.subject == sec::TRAIL && e.status == EvidenceStatus::Pass));
    for g in sec::LOG_GROUPS {
        assert!(audit.evidence.iter().any(|e| e.subject == g && e.status == EvidenceStatus::Pass), "{g}");
    }
    let mon = item(&r, "E.7.1.3");
    assert!(evidence_text(mon).contains(sec::FLOW_LOG_GROUP), "{}", evidence_text(mon));

    let res = item(&r, "F.1.1.1");
    // Every enabled region outside Japan was scanned and found empty.
    let scanned = res.evidence.iter().filter(|e| e.subject.starts_with("region:") && e.status == EvidenceStatus::Pass).count();
    assert!(scanned >= 15, "only {scanned} regions scanned\n{}", evidence_text(res));
    assert!(
        !res.evidence.iter().any(|e| e.subject == "region:ap-northeast-1" || e.subject == "region:ap-northeast-3"),
        "allowed regions are not scanned for absence"
    );
    assert!(res.evidence.iter().any(|e| e.subject == "juki-documents" && e.region.as_deref() == Some(PRIMARY)));
}

#[tokio::test]
async fn noncompliant_seed_names_every_planted_violation() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), false).await.expect("seed");
    let r = run(&server.endpoint(), security_scenario(""), &ITEMS).await;
    assert_ng_names(&r, "E.5.1.1", &[sec::ADMIN_USER, "root-account"]);
    assert_ng_names(&r, "E.5.2.1", &[sec::OPEN_SSH_SG, sec::ADMIN_USER]);
    assert!(item(&r, "E.5.2.1").summary_en.contains("port 22 open to 0.0.0.0/0"), "{}", item(&r, "E.5.2.1").summary_en);
    assert_ng_names(&r, "E.7.1.1", &[sec::TRAIL]);
    assert!(item(&r, "E.7.1.1").summary_en.contains("IsLogging=false"));
    assert_ng_names(&r, "E.7.1.3", &["cloudtrail"]);
    for id in ["F.1.1.1", "F.1.2.1"] {
        assert_ng_names(&r, id, &[sec::FOREIGN_BUCKET]);
        let i = item(&r, id);
        assert!(i.evidence.iter().any(|e| e.subject == sec::FOREIGN_BUCKET && e.region.as_deref() == Some(sec::FOREIGN_REGION)));
    }
}

#[tokio::test]
async fn break_glass_users_are_accepted() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), false).await.expect("seed");
    let r = run(&server.endpoint(), security_scenario(&format!("break_glass_users = [\"{}\"]", sec::ADMIN_USER)), &["E.5.2.1"]).await;
    let i = item(&r, "E.5.2.1");
    assert!(
        i.evidence.iter().any(|e| e.subject == sec::ADMIN_USER && e.status == EvidenceStatus::Pass && e.detail.contains("break-glass")),
        "{}",
        evidence_text(i)
    );
    // The open SSH group is still a violation.
    assert_eq!(failing(i).len(), 1, "{:?}", failing(i));
}

/// A security group tagged as the system's, `port` open to 0.0.0.0/0; its ID.
async fn tagged_group_open_to_the_world(ec2: &aws_sdk_ec2::Client, name: &str, port: i32) -> String {
    let sg = ec2
        .create_security_group()
        .group_name(name)
        .description("t")
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                .tags(aws_sdk_ec2::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build())
                .build(),
        )
        .send()
        .await
        .expect("sg");
    let id = sg.group_id().expect("sg id").to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
                .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .expect("ingress");
    id
}

#[tokio::test]
async fn each_restriction_rule_reports_its_resource() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let conf = emulator_config(&ep, PRIMARY);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let tag = |kind| {
        aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(kind)
            .tags(aws_sdk_ec2::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build())
            .build()
    };
    // RDP and PostgreSQL to ::/0 in an untagged group that is in scope only
    // because the tagged instance uses it; an extra port (8443) to 0.0.0.0/0
    // in a tagged group.
    let sg = ec2.create_security_group().group_name("wide-open").description("t").send().await.expect("sg");
    let sg_id = sg.group_id().expect("sg id").to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&sg_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(3389)
                .to_port(5432)
                .ipv6_ranges(aws_sdk_ec2::types::Ipv6Range::builder().cidr_ipv6("::/0").build())
                .build(),
        )
        .send()
        .await
        .expect("ingress");
    let extra_id = tagged_group_open_to_the_world(&ec2, "extra-port", 8443).await;
    // IMDSv1 instance.
    let run_out = ec2
        .run_instances()
        .image_id("ami-0abcdef1234567890")
        .min_count(1)
        .max_count(1)
        .security_group_ids(&sg_id)
        .tag_specifications(tag(aws_sdk_ec2::types::ResourceType::Instance))
        .send()
        .await
        .expect("instance");
    let imdsv1 = run_out.instances()[0].instance_id().expect("id").to_string();
    // Public database.
    aws_sdk_rds::Client::new(&conf)
        .create_db_instance()
        .db_instance_identifier("juki-public-db")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("u")
        .master_user_password("demo-password-1234")
        .publicly_accessible(true)
        .tags(aws_sdk_rds::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build())
        .send()
        .await
        .expect("db");
    // Bucket without a public access block.
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
    s3.create_bucket()
        .bucket("juki-open-bucket")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(PRIMARY)).build(),
        )
        .send()
        .await
        .expect("bucket");
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build().expect("tag"))
        .build()
        .expect("tagging");
    s3.put_bucket_tagging().bucket("juki-open-bucket").tagging(tagging).send().await.expect("bucket tags");

    let r = run(&ep, security_scenario("extra_admin_ports = [8443]"), &["E.5.2.1"]).await;
    assert_ng_names(&r, "E.5.2.1", &[&imdsv1, &sg_id, &extra_id, "juki-public-db"]);
    // A bucket without its own block may still be covered by the account-level
    // block, which the emulator cannot serve (S3 Control puts the account ID in
    // front of the host): that bucket is 検証不能, never OK (checks/tests/public_access_mocks.rs
    // covers the account-level answers).
    let bucket = item(&r, "E.5.2.1").evidence.iter().find(|e| e.subject == "juki-open-bucket").expect("bucket evidence");
    assert_eq!(bucket.status, EvidenceStatus::Error, "{}", bucket.detail);
    assert!(bucket.detail.contains("no bucket-level public access block") && bucket.detail.contains("could not be read"), "{}", bucket.detail);
    let text = evidence_text(item(&r, "E.5.2.1"));
    assert!(text.contains("port 3389,5432 open to ::/0"), "{text}");
    assert!(text.contains("port 8443 open to 0.0.0.0/0"), "{text}");
    assert!(text.contains("HttpTokens=optional"), "{text}");
}

/// An open admin port only in the DR region, in a tagged group, while the
/// primary region is clean: a one-region check would call it OK.
#[tokio::test]
async fn an_open_admin_port_only_in_the_dr_region_is_ng() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let before = run(&ep, security_scenario(""), &["E.5.2.1"]).await;
    assert!(failing(item(&before, "E.5.2.1")).is_empty(), "the compliant seed has no violation: {}", evidence_text(item(&before, "E.5.2.1")));
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(&ep, gcverify_demo::seed::DR));
    let sg_id = tagged_group_open_to_the_world(&ec2, "dr-bastion", 22).await;
    let r = run(&ep, security_scenario(""), &["E.5.2.1"]).await;
    assert_ng_names(&r, "E.5.2.1", &[&sg_id]);
    let e = item(&r, "E.5.2.1").evidence.iter().find(|e| e.subject.contains(&sg_id)).expect("the DR group's evidence");
    assert_eq!(e.region.as_deref(), Some(gcverify_demo::seed::DR), "{}", e.detail);
}

/// Full admin written into the user (an inline policy), not attached: as
/// direct as AdministratorAccess, and a check of attached policies alone misses it.
#[tokio::test]
async fn an_inline_administrator_policy_on_a_user_is_ng() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let iam = aws_sdk_iam::Client::new(&emulator_config(&ep, PRIMARY));
    iam.create_user().user_name("ops-inline").send().await.expect("user");
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    iam.put_user_policy().user_name("ops-inline").policy_name("all").policy_document(everything).send().await.expect("inline policy");
    let read_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    iam.create_user().user_name("reader").send().await.expect("user");
    iam.put_user_policy().user_name("reader").policy_name("read").policy_document(read_only).send().await.expect("inline policy");
    let r = run(&ep, security_scenario(""), &["E.5.2.1"]).await;
    assert_ng_names(&r, "E.5.2.1", &["ops-inline"]);
    let i = item(&r, "E.5.2.1");
    let e = i.evidence.iter().find(|e| e.subject == "ops-inline").expect("the user's evidence");
    assert!(e.detail.contains("inline:all"), "{}", e.detail);
    assert!(!failing(i).iter().any(|f| f == "reader"), "{}", evidence_text(i));
}

#[tokio::test]
async fn role_named_for_mfa_without_the_condition_is_ng() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let iam = aws_sdk_iam::Client::new(&emulator_config(&ep, PRIMARY));
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name("juki-ops-role").assume_role_policy_document(trust).send().await.expect("role");
    let r = run(&ep, security_scenario("mfa_required_roles = [\"juki-ops-role\", \"juki-missing-role\"]"), &["E.5.1.1"]).await;
    assert_ng_names(&r, "E.5.1.1", &["juki-ops-role", "juki-missing-role"]);
}

#[tokio::test]
async fn each_logging_rule_reports_its_resource() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let conf = emulator_config(&ep, PRIMARY);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    logs.create_log_group().log_group_name("/juki/short").send().await.expect("group");
    logs.put_retention_policy().log_group_name("/juki/short").retention_in_days(30).send().await.expect("retention");
    logs.create_log_group().log_group_name("/juki/silent").send().await.expect("group");
    // A second system VPC without a flow log.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.expect("vpc");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    ec2.create_tags().resources(&vpc_id).tags(aws_sdk_ec2::types::Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build()).send().await.expect("tag");
    // A single-region trail without validation, next to the compliant one.
    let ct = aws_sdk_cloudtrail::Client::new(&conf);
    ct.create_trail().name("juki-local-trail").s3_bucket_name("juki-cloudtrail").send().await.expect("trail");

    let text = format!(
        "{BASE}\n[logging]\nlog_groups = [\"/juki/app\", \"/juki/short\", \"/juki/silent\", \"/juki/missing\"]\nretention_days = 365\nrecent_hours = 24\n"
    );
    let r = run(&ep, scenario(&text), &["E.7.1.1", "E.7.1.3"]).await;
    assert_ng_names(&r, "E.7.1.1", &["/juki/short", "/juki/silent", "/juki/missing"]);
    let audit = item(&r, "E.7.1.1");
    assert!(audit.evidence.iter().any(|e| e.subject == "/juki/app" && e.status == EvidenceStatus::Pass));
    // The compliant trail carries the account; the extra one is context.
    assert!(audit.evidence.iter().any(|e| e.subject == "juki-local-trail" && e.status == EvidenceStatus::Info));
    assert_ng_names(&r, "E.7.1.3", &[&vpc_id]);
}

#[tokio::test]
async fn resources_outside_japan_are_named_per_service() {
    let server = moto().await;
    let ep = server.endpoint();
    gcverify_demo::seed(&ep, true).await.expect("seed");
    let eu = aws_sdk_ec2::Client::new(&emulator_config(&ep, "eu-west-1"));
    let inst = eu.run_instances().image_id("ami-0abcdef1234567890").min_count(1).max_count(1).send().await.expect("instance");
    let inst_id = inst.instances()[0].instance_id().expect("id").to_string();
    let usw = aws_sdk_ec2::Client::new(&emulator_config(&ep, "us-west-2"));
    let vol = usw.create_volume().availability_zone("us-west-2a").size(10).send().await.expect("volume");
    let vol_id = vol.volume_id().expect("volume id").to_string();
    aws_sdk_rds::Client::new(&emulator_config(&ep, "us-east-2"))
        .create_db_instance()
        .db_instance_identifier("offshore-db")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("u")
        .master_user_password("demo-password-1234")
        .send()
        .await
        .expect("db");
    aws_sdk_backup::Client::new(&emulator_config(&ep, "sa-east-1")).create_backup_vault().backup_vault_name("offshore-vault").send().await.expect("vault");

    let r = run(&ep, security_scenario(""), &["F.1.1.1"]).await;
    assert_ng_names(&r, "F.1.1.1", &[&inst_id, &vol_id, "offshore-db", "offshore-vault"]);
    let i = item(&r, "F.1.1.1");
    assert!(i.evidence.iter().any(|e| e.subject == inst_id && e.region.as_deref() == Some("eu-west-1")));
    // Allowing those regions in the scenario makes the same environment compliant.
    let allow = "[residency]\nallowed_regions = [\"ap-northeast-1\", \"ap-northeast-3\", \"eu-west-1\", \"us-west-2\", \"us-east-2\", \"sa-east-1\"]\n";
    let r = run(&ep, scenario(&format!("{BASE}\n{allow}")), &["F.1.2.1"]).await;
    let i = item(&r, "F.1.2.1");
    assert_eq!(i.verified_by(&i.probe), Outcome::Ok, "{}\n{}", i.summary_en, evidence_text(i));
}

#[tokio::test]
async fn endpoint_gone_gives_error_rows() {
    let mut server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");
    let endpoint = server.endpoint();
    server.stop();
    let r = run(&endpoint, security_scenario(""), &ITEMS).await;
    for id in ITEMS {
        let i = item(&r, id);
        assert_eq!(i.outcome, Outcome::Error, "{id}: {}", i.summary_en);
        // Every point the emulator serves says why (E.5.1.1's login point needs no AWS).
        let said = std::iter::once(&i.summary_en).chain(i.points.iter().map(|p| &p.summary_en)).any(|s| s.contains("unreachable"));
        assert!(said, "{id}: {}", i.summary_en);
    }
}
