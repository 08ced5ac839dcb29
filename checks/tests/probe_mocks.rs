//! The implemented probes against canned AWS answers (`aws-smithy-mocks`),
//! for the paths the local emulator cannot produce: permission denied,
//! throttling, an endpoint that does not implement an API (HTML 404 without
//! an AWS error code), and particular data shapes.
//!
//! Every client the probes build gets one shared `MockResponseInterceptor`
//! (via `AwsContext::with_interceptor`) in `RuleMode::MatchAny`: the first
//! rule matching the request's input type (and `match_requests` filter, if
//! any) answers; overrides therefore come before the healthy defaults. A
//! request no rule matches panics inside the interceptor. Tests that call a
//! probe directly then fail with "must_match was enabled but no rules
//! matched"; tests that go through `engine::run` get an ERROR row
//! ("probe crashed: ...") instead, which their outcome assertions catch.
//!
//! Error answers are mostly given as raw HTTP responses in each service's
//! wire format, so the SDK's own error parsing (and retry classification)
//! runs exactly as against AWS.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_mocks::{mock, Rule};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use chrono::{DateTime, TimeZone, Utc};

use gcverify_checks::probes::{self, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, EvidenceStatus, Outcome, RunOptions};

mod common;
use common::aws;

const DR_VAULT: &str = "arn:aws:backup:ap-northeast-3:123456789012:backup-vault:gc-dr";
const PRIMARY_VAULT: &str = "arn:aws:backup:ap-northeast-1:123456789012:backup-vault:gc-copy";
const DAILY: &str = "cron(0 3 * * ? *)";
const WEEKLY: &str = "cron(0 3 ? * SUN *)";

// ---------------------------------------------------------------- harness

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("fixed clock")
}

fn scenario(extra: &str) -> Arc<gcverify_scenarios::Scenario> {
    let text = format!("[environment]\nname = \"t\"\n{extra}");
    Arc::new(gcverify_scenarios::parse(&text, Path::new("t.toml")).expect("scenario"))
}

fn levels(s: &gcverify_scenarios::Scenario) -> BTreeMap<String, String> {
    Catalog::builtin().levels_in_force(s)
}

fn input(id: &str, level: &str, scenario_extra: &str, rules: &[Rule]) -> Arc<ProbeInput> {
    let item = Catalog::builtin().get(id).cloned().expect("catalog item");
    let scenario = scenario(scenario_extra);
    Arc::new(ProbeInput::alone(item, level.to_string(), Arc::new(levels(&scenario)), scenario, aws(rules), now(), None))
}

async fn at_rest(level: &str, extra: &str, rules: &[Rule]) -> Conclusion {
    probes::encryption::at_rest(input("E.6.1.2", level, extra, rules)).await.conclude(level)
}
async fn schedule(level: &str, extra: &str, rules: &[Rule]) -> Conclusion {
    probes::backup::schedule(input("C.1.2.5", level, extra, rules)).await.conclude(level)
}
async fn remote_copy(level: &str, extra: &str, rules: &[Rule]) -> Conclusion {
    probes::backup::remote_copy(input("A.3.2.2", level, extra, rules)).await.conclude(level)
}

/// Runs one item through the real engine (its level map, scenario overrides, task isolation).
async fn via_engine(id: &str, extra: &str, rules: &[Rule]) -> gcverify_checks::ItemResult {
    let opts = RunOptions { only: Some(vec![id.to_string()]), now: now(), timeout: Duration::from_secs(30), concurrency: 1, drill: None, unreachable: None };
    let mut report = gcverify_checks::run(&Catalog::builtin(), scenario(extra), aws(rules), opts, &|_| {}).await;
    assert_eq!(report.items.len(), 1);
    report.items.remove(0)
}

fn http(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut r = HttpResponse::new(StatusCode::try_from(status).expect("status"), SdkBody::from(body.to_string()));
    for (k, v) in headers {
        r.headers_mut().insert(k.to_string(), v.to_string());
    }
    r
}

/// EC2 (ec2 query protocol) error body.
fn ec2_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(
        status,
        &[("content-type", "text/xml;charset=UTF-8")],
        &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>11111111-2222-3333-4444-555555555555</RequestID></Response>"),
    )
}

/// RDS (awsQuery protocol) error body.
fn rds_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(
        status,
        &[("content-type", "text/xml")],
        &format!("<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"),
    )
}

/// S3 (restXml) error body.
fn s3_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(
        status,
        &[("content-type", "application/xml")],
        &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>R1</RequestId><HostId>H1</HostId></Error>"),
    )
}

/// AWS Backup (restJson1) error.
fn backup_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(status, &[("content-type", "application/json"), ("x-amzn-errortype", code)], &format!("{{\"Message\":\"{message}\"}}"))
}

fn html_404() -> HttpResponse {
    http(404, &[("content-type", "text/html")], "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>")
}

// ---------------------------------------------------------- E.6.1.2 rules

mod ec2 {
    pub use aws_sdk_ec2::operation::describe_snapshots::DescribeSnapshotsOutput;
    pub use aws_sdk_ec2::operation::describe_volumes::{DescribeVolumesError, DescribeVolumesOutput};
    pub use aws_sdk_ec2::operation::get_ebs_encryption_by_default::GetEbsEncryptionByDefaultOutput;
    pub use aws_sdk_ec2::types::{Snapshot, Tag, Volume, VolumeAttachment};
    pub use aws_sdk_ec2::Client;
}
mod rds {
    pub use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
    pub use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    pub use aws_sdk_rds::types::{DbCluster, DbInstance, Tag};
    pub use aws_sdk_rds::Client;
}
mod s3 {
    pub use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
    pub use aws_sdk_s3::operation::get_bucket_location::GetBucketLocationOutput;
    pub use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
    pub use aws_sdk_s3::types::{
        Bucket, BucketLocationConstraint, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    };
    pub use aws_sdk_s3::Client;
}

fn volume(id: &str, encrypted: bool, instance: Option<&str>) -> ec2::Volume {
    let mut v = ec2::Volume::builder().volume_id(id).encrypted(encrypted);
    if encrypted {
        v = v.kms_key_id("arn:aws:kms:ap-northeast-1:123456789012:key/k-1");
    }
    if let Some(i) = instance {
        v = v.attachments(ec2::VolumeAttachment::builder().instance_id(i).volume_id(id).build());
    }
    v.build()
}

fn ebs_default(on: bool) -> Rule {
    mock!(ec2::Client::get_ebs_encryption_by_default).then_output(move || ec2::GetEbsEncryptionByDefaultOutput::builder().ebs_encryption_by_default(on).build())
}

fn volumes(vols: Vec<ec2::Volume>) -> Rule {
    mock!(ec2::Client::describe_volumes).then_output(move || ec2::DescribeVolumesOutput::builder().set_volumes(Some(vols.clone())).build())
}

fn db_instances(dbs: Vec<rds::DbInstance>) -> Rule {
    mock!(rds::Client::describe_db_instances).then_output(move || rds::DescribeDbInstancesOutput::builder().set_db_instances(Some(dbs.clone())).build())
}

fn db_clusters(cs: Vec<rds::DbCluster>) -> Rule {
    mock!(rds::Client::describe_db_clusters).then_output(move || rds::DescribeDbClustersOutput::builder().set_db_clusters(Some(cs.clone())).build())
}

fn buckets(names: &'static [&'static str]) -> Rule {
    mock!(s3::Client::list_buckets)
        .then_output(move || s3::ListBucketsOutput::builder().set_buckets(Some(names.iter().map(|n| s3::Bucket::builder().name(*n).build()).collect())).build())
}

fn bucket_location() -> Rule {
    mock!(s3::Client::get_bucket_location)
        .then_output(|| s3::GetBucketLocationOutput::builder().location_constraint(s3::BucketLocationConstraint::ApNortheast1).build())
}

fn bucket_kms() -> Rule {
    mock!(s3::Client::get_bucket_encryption).then_output(|| {
        let by_default = s3::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(s3::ServerSideEncryption::AwsKms)
            .kms_master_key_id("arn:aws:kms:ap-northeast-1:123456789012:key/k-s3")
            .build()
            .expect("sse default");
        let conf = s3::ServerSideEncryptionConfiguration::builder()
            .rules(s3::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build())
            .build()
            .expect("sse conf");
        s3::GetBucketEncryptionOutput::builder().server_side_encryption_configuration(conf).build()
    })
}

/// A compliant account: both regions answer the same (rules repeat).
/// Per region: 2 encrypted volumes, 1 encrypted instance, 1 encrypted cluster; 1 bucket with SSE-KMS.
fn healthy_encryption() -> Vec<Rule> {
    vec![
        ebs_default(true),
        volumes(vec![volume("vol-0aaa", true, Some("i-0123")), volume("vol-0bbb", true, None)]),
        db_instances(vec![rds::DbInstance::builder()
            .db_instance_identifier("juki-db")
            .storage_encrypted(true)
            .kms_key_id("arn:aws:kms:ap-northeast-1:123456789012:key/k-rds")
            .build()]),
        db_clusters(vec![rds::DbCluster::builder().db_cluster_identifier("juki-aurora").storage_encrypted(true).build()]),
        buckets(&["gc-docs"]),
        bucket_location(),
        bucket_kms(),
    ]
}

/// `overrides` first, so they win over the healthy defaults for the same operation.
fn with(overrides: Vec<Rule>, base: Vec<Rule>) -> Vec<Rule> {
    overrides.into_iter().chain(base).collect()
}

fn errors(c: &Conclusion) -> Vec<&gcverify_checks::Msg> {
    c.evidence.iter().filter(|e| e.status == EvidenceStatus::Error).map(|e| &e.detail).collect()
}

// ------------------------------------------------------------- E.6.1.2

#[tokio::test]
async fn encryption_all_encrypted_is_ok_with_counts() {
    let c = at_rest("2", "", &healthy_encryption()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert_eq!(c.summary.en, "EBS default encryption on in 2 region(s); all 4 EBS volume(s) (0 snapshot(s)), 4 RDS database(s) and 1 S3 bucket(s) encrypted");
    assert_eq!(c.achieved_level.as_deref(), Some("2"));
    let vol = c.evidence.iter().find(|e| e.subject == "vol-0aaa").expect("volume evidence");
    assert_eq!(vol.status, EvidenceStatus::Pass);
    assert!(vol.detail.contains("in scope: whole account (no [scope] tags)"), "{}", vol.detail);
    let bucket = c.evidence.iter().find(|e| e.subject == "gc-docs").expect("bucket evidence");
    assert_eq!(
        bucket.detail,
        "SSEAlgorithm=aws:kms KMSMasterKeyID=arn:aws:kms:ap-northeast-1:123456789012:key/k-s3 (in scope: whole account (no [scope] tags))"
    );
    assert_eq!(bucket.region.as_deref(), Some("ap-northeast-1"));
}

#[tokio::test]
async fn ebs_default_unauthorized_is_error_permission_denied() {
    let denied = mock!(ec2::Client::get_ebs_encryption_by_default)
        .then_http_response(|| ec2_error(403, "UnauthorizedOperation", "You are not authorized to perform this operation."));
    let c = at_rest("2", "", &with(vec![denied.clone()], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("ec2:GetEbsEncryptionByDefault: permission denied UnauthorizedOperation: You are not authorized"), "{}", c.summary.en);
    assert!(c.summary.ja.starts_with("検証不能"), "{}", c.summary.ja);
    assert_eq!(c.achieved_level, None);
    // Both regions were asked and both denials recorded; a 403 is not retried.
    assert_eq!(denied.num_calls(), 2);
    let regions: Vec<_> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Error).map(|e| e.region.as_deref()).collect();
    assert_eq!(regions, [Some("ap-northeast-1"), Some("ap-northeast-3")]);
    // The rest was still observed.
    assert!(c.evidence.iter().any(|e| e.subject == "vol-0aaa" && e.status == EvidenceStatus::Pass));
}

#[tokio::test]
async fn describe_volumes_throttled_is_error_after_retries() {
    // A modeled error carrying only the code, as a service error with code `Throttling`.
    let throttled = mock!(ec2::Client::describe_volumes)
        .then_error(|| ec2::DescribeVolumesError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build()));
    let c = at_rest("2", "", &with(vec![throttled.clone()], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("ec2:DescribeVolumes: throttled Throttling: Rate exceeded"), "{}", c.summary.en);
    // The SDK retried (standard mode, 3 attempts) before the probe gave up.
    assert!(throttled.num_calls() > 2, "calls: {}", throttled.num_calls());
}

#[tokio::test]
async fn unencrypted_volume_beats_access_denied_elsewhere() {
    let vols = volumes(vec![volume("vol-0aaa", true, None), volume("vol-0bad", false, Some("i-0456"))]);
    let denied = mock!(rds::Client::describe_db_instances).then_http_response(|| {
        rds_error(403, "AccessDenied", "User: arn:aws:iam::123456789012:user/audit is not authorized to perform: rds:DescribeDBInstances")
    });
    let c = at_rest("2", "", &with(vec![vols, denied], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains("vol-0bad (ap-northeast-1): Encrypted=false (in scope: whole account"), "{}", c.summary.en);
    assert!(c.summary.ja.starts_with("違反 2件"), "{}", c.summary.ja);
    // The denial stays in the evidence.
    let errs = errors(&c);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].en.starts_with("rds:DescribeDBInstances: permission denied AccessDenied: User:"), "{errs:?}");
}

#[tokio::test]
async fn describe_volumes_follows_pagination() {
    let page2 = mock!(ec2::Client::describe_volumes)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| ec2::DescribeVolumesOutput::builder().volumes(volume("vol-0late", false, None)).build());
    let page1 = mock!(ec2::Client::describe_volumes)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| ec2::DescribeVolumesOutput::builder().volumes(volume("vol-0aaa", true, None)).next_token("page-2").build());
    let c = at_rest("2", "", &with(vec![page2.clone(), page1], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains("vol-0late (ap-northeast-1): Encrypted=false"), "{}", c.summary.en);
    assert_eq!(page2.num_calls(), 2, "second page read once per region");
}

#[tokio::test]
async fn html_404_on_describe_db_clusters_is_error_unimplemented_api() {
    let not_there = mock!(rds::Client::describe_db_clusters).then_http_response(html_404);
    let c = at_rest("2", "", &with(vec![not_there], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(
        c.summary.en.contains("rds:DescribeDBClusters: endpoint answered HTTP 404 without an AWS error code (the endpoint does not implement this API?)"),
        "{}",
        c.summary.en
    );
}

#[tokio::test]
async fn ebs_default_off_is_ng() {
    let off = ebs_default(false);
    let c = at_rest("2", "", &with(vec![off], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("ebs-encryption-by-default (ap-northeast-1): EbsEncryptionByDefault=false"), "{}", c.summary.en);
}

#[tokio::test]
async fn s3_bucket_without_default_encryption_is_ng_naming_it() {
    let none = mock!(s3::Client::get_bucket_encryption)
        .then_http_response(|| s3_error(404, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"));
    let c = at_rest("2", "", &with(vec![none], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(
        c.summary.en.contains("gc-docs (ap-northeast-1): no default encryption (ServerSideEncryptionConfigurationNotFoundError) (in scope"),
        "{}",
        c.summary.en
    );
}

#[tokio::test]
async fn s3_list_buckets_denied_is_error() {
    let denied = mock!(s3::Client::list_buckets).then_http_response(|| s3_error(403, "AccessDenied", "Access Denied"));
    let c = at_rest("2", "", &with(vec![denied], healthy_encryption())).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(c.summary.en.contains("s3:ListBuckets: permission denied AccessDenied: Access Denied"), "{}", c.summary.en);
}

#[tokio::test]
async fn scope_tags_filter_volumes_databases_and_buckets() {
    // Volumes: the account's listing holds another system's unencrypted volume; only the tagged one is judged.
    let tagged_volume = ec2::Volume::builder().volume_id("vol-0aaa").encrypted(true).tags(ec2::Tag::builder().key("System").value("juki").build()).build();
    let vols = volumes(vec![tagged_volume, volume("other-vol", false, None)]);
    // Databases are filtered client-side: the untagged unencrypted one is out of scope.
    let tagged = rds::Tag::builder().key("System").value("juki").build();
    let dbs = db_instances(vec![
        rds::DbInstance::builder().db_instance_identifier("other-db").storage_encrypted(false).build(),
        rds::DbInstance::builder().db_instance_identifier("juki-db").storage_encrypted(true).tag_list(tagged.clone()).build(),
    ]);
    let clusters = db_clusters(vec![rds::DbCluster::builder().db_cluster_identifier("other-aurora").storage_encrypted(false).build()]);
    // The bucket has no tags at all: out of scope, so GetBucketEncryption must not be called.
    let no_tags = mock!(s3::Client::get_bucket_tagging).then_http_response(|| s3_error(404, "NoSuchTagSet", "The TagSet does not exist"));
    let encryption = bucket_kms();
    let rules = vec![ebs_default(true), vols, dbs, clusters, buckets(&["gc-docs"]), bucket_location(), no_tags.clone(), encryption.clone()];
    let c = at_rest("2", "[scope.tags]\nSystem = \"juki\"\n", &rules).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert_eq!(c.summary.en, "EBS default encryption on in 2 region(s); all 2 EBS volume(s) (0 snapshot(s)), 2 RDS database(s) and 0 S3 bucket(s) encrypted");
    assert!(!c.evidence.iter().any(|e| e.subject.starts_with("other-")), "{:?}", c.evidence);
    assert_eq!(no_tags.num_calls(), 1);
    assert_eq!(encryption.num_calls(), 0);
}

/// A snapshot of an in-scope volume holds the system's data: unencrypted → NG;
/// a snapshot of another system's volume is not judged.
#[tokio::test]
async fn unencrypted_snapshot_of_an_in_scope_volume_is_ng() {
    let tagged_volume = ec2::Volume::builder().volume_id("vol-0aaa").encrypted(true).tags(ec2::Tag::builder().key("System").value("juki").build()).build();
    let vols = volumes(vec![tagged_volume, volume("other-vol", false, None)]);
    let snaps = mock!(ec2::Client::describe_snapshots).then_output(|| {
        ec2::DescribeSnapshotsOutput::builder()
            .snapshots(ec2::Snapshot::builder().snapshot_id("snap-juki").volume_id("vol-0aaa").encrypted(false).build())
            .snapshots(ec2::Snapshot::builder().snapshot_id("snap-other").volume_id("other-vol").encrypted(false).build())
            .build()
    });
    let rules = vec![ebs_default(true), vols, snaps];
    let c = at_rest("2", "[scope.tags]\nSystem = \"juki\"\n", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    let fails: Vec<&str> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, ["snap-juki", "snap-juki"], "one per region (the canned answer is the same in both)");
    assert!(c.summary.en.contains("snap-juki (ap-northeast-1): Encrypted=false (in scope: copy of vol-0aaa)"), "{}", c.summary.en);
}

// ---------------------------------------------------------- backup rules

mod backup {
    pub use aws_sdk_backup::operation::describe_backup_vault::{DescribeBackupVaultError, DescribeBackupVaultOutput};
    pub use aws_sdk_backup::operation::get_backup_plan::GetBackupPlanOutput;
    pub use aws_sdk_backup::operation::list_backup_plans::ListBackupPlansOutput;
    pub use aws_sdk_backup::operation::list_recovery_points_by_backup_vault::ListRecoveryPointsByBackupVaultOutput;
    pub use aws_sdk_backup::types::error::ResourceNotFoundException;
    pub use aws_sdk_backup::types::{BackupPlan, BackupPlansListMember, BackupRule, CopyAction, RecoveryPointByBackupVault, RecoveryPointStatus};
    pub use aws_sdk_backup::Client;
}

struct R {
    name: &'static str,
    schedule: &'static str,
    continuous: bool,
    copies: &'static [&'static str],
}

fn daily(copies: &'static [&'static str]) -> R {
    R { name: "daily", schedule: DAILY, continuous: false, copies }
}
fn weekly(copies: &'static [&'static str]) -> R {
    R { name: "weekly", schedule: WEEKLY, continuous: false, copies }
}

/// ListBackupPlans answering one plan `gov-backup`, and GetBackupPlan answering its rules.
fn plan(rules: Vec<R>) -> Vec<Rule> {
    let list = mock!(backup::Client::list_backup_plans).then_output(|| {
        backup::ListBackupPlansOutput::builder()
            .backup_plans_list(backup::BackupPlansListMember::builder().backup_plan_name("gov-backup").backup_plan_id("plan-1").build())
            .build()
    });
    let rules = Arc::new(rules);
    let get = mock!(backup::Client::get_backup_plan).match_requests(|r| r.backup_plan_id() == Some("plan-1")).then_output(move || {
        let mut p = backup::BackupPlan::builder().backup_plan_name("gov-backup");
        for r in rules.iter() {
            let mut b = backup::BackupRule::builder()
                .rule_name(r.name)
                .target_backup_vault_name("gc-main")
                .schedule_expression(r.schedule)
                .enable_continuous_backup(r.continuous);
            for arn in r.copies {
                b = b.copy_actions(backup::CopyAction::builder().destination_backup_vault_arn(*arn).build().expect("copy action"));
            }
            p = p.rules(b.build().expect("backup rule"));
        }
        backup::GetBackupPlanOutput::builder().backup_plan(p.build().expect("backup plan")).backup_plan_id("plan-1").build()
    });
    vec![list, get]
}

fn vault_exists() -> Rule {
    mock!(backup::Client::describe_backup_vault).match_requests(|r| r.backup_vault_name() == Some("gc-dr")).then_output(|| {
        backup::DescribeBackupVaultOutput::builder().backup_vault_name("gc-dr").backup_vault_arn(DR_VAULT).number_of_recovery_points(12).build()
    })
}

/// The whole DR vault's listing: copies `(hours old, status)`.
fn dr_copies(list: &'static [(i64, &'static str)]) -> Rule {
    mock!(backup::Client::list_recovery_points_by_backup_vault)
        .match_requests(|r| r.backup_vault_name() == Some("gc-dr") && r.by_resource_arn().is_none())
        .then_output(move || {
            let pts = list
                .iter()
                .enumerate()
                .map(|(i, (h, status))| {
                    backup::RecoveryPointByBackupVault::builder()
                        .recovery_point_arn(format!("{DR_VAULT}:copy-{i}"))
                        .creation_date(aws_smithy_types::DateTime::from_secs((now() - chrono::Duration::hours(*h)).timestamp()))
                        .status(backup::RecoveryPointStatus::from(*status))
                        .build()
                })
                .collect();
            backup::ListRecoveryPointsByBackupVaultOutput::builder().set_recovery_points(Some(pts)).build()
        })
}

/// A DR vault with yesterday's copies, as a daily copy rule leaves it.
fn recent_copies() -> Rule {
    dr_copies(&[(6, "COMPLETED"), (30, "COMPLETED"), (54, "EXPIRED")])
}

// ------------------------------------------------------------- C.1.2.5

#[tokio::test]
async fn list_backup_plans_denied_is_error() {
    let denied = mock!(backup::Client::list_backup_plans).then_http_response(|| {
        backup_error(403, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/audit is not authorized to perform: backup:ListBackupPlans")
    });
    let c = schedule("4", "", &[denied]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("backup:ListBackupPlans: permission denied AccessDeniedException: User:"), "{}", c.summary.en);
}

#[tokio::test]
async fn daily_plan_is_ok_at_level_4() {
    let c = schedule("4", "", &plan(vec![daily(&[])])).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert_eq!(c.summary.en, "required daily (every 24h or more often): 1 rule(s) comply (shortest interval 24h), e.g. gov-backup/daily");
    assert_eq!(c.achieved_level.as_deref(), Some("4"));
    assert!(c.evidence.iter().any(|e| e.subject == "gov-backup/daily" && e.detail.contains("ScheduleExpression=cron(0 3 * * ? *) (max interval 24h)")));
}

#[tokio::test]
async fn weekly_plan_is_ng_at_level_4() {
    let c = schedule("4", "", &plan(vec![weekly(&[])])).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(
        c.summary
            .en
            .contains("backup-plans (ap-northeast-1): no rule runs daily (every 24h or more often); most frequent observed: gov-backup/weekly every 168h"),
        "{}",
        c.summary.en
    );
}

#[tokio::test]
async fn weekly_plan_is_ok_at_level_3_set_by_the_scenario() {
    let r = via_engine("C.1.2.5", "[levels]\n\"C.1.2.5\" = \"3\"\n", &plan(vec![weekly(&[])])).await;
    assert_eq!(r.selected_level, "3");
    assert_eq!(r.verified_by("backup.schedule"), Outcome::Ok, "{}", r.summary_en);
    let interval = r.points.iter().find(|p| p.id == "interval").expect("point");
    assert!(interval.summary_en.starts_with("required weekly (every 168h or more often): 1 rule(s) comply"), "{}", interval.summary_en);
    // The schedule is fine, but nothing copies to the DR region: both-regions is NG, so is the row.
    assert_eq!(r.verified_by("backup.generations"), Outcome::Ng, "{}", r.summary_en);
    assert_eq!(r.outcome, Outcome::Ng, "{}", r.summary_en);
    assert!(r.summary_en.contains("no backup rule copies to a vault in the DR region"), "{}", r.summary_en);
    assert_eq!(r.achieved_level, None, "no 実現したレベル while points are unverified");
}

#[tokio::test]
async fn continuous_rule_is_ok_at_level_5_and_daily_only_is_ng() {
    let continuous = R { name: "pitr", schedule: DAILY, continuous: true, copies: &[] };
    let c = schedule("5", "", &plan(vec![daily(&[]), continuous])).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert!(c.summary.en.starts_with("required continuous backup: 1 rule(s) comply"), "{}", c.summary.en);
    assert!(c.summary.en.ends_with("e.g. gov-backup/pitr"), "{}", c.summary.en);

    let c = schedule("5", "", &plan(vec![daily(&[])])).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains("no rule runs continuous backup"), "{}", c.summary.en);
}

#[tokio::test]
async fn plan_named_in_scenario_but_missing_is_ng_and_others_are_not_read() {
    let rules = plan(vec![daily(&[])]);
    let get = rules[1].clone();
    let c = schedule("4", "[backup]\nplans = [\"juki-plan\"]\n", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains("juki-plan (ap-northeast-1): backup plan named in the scenario does not exist"), "{}", c.summary.en);
    assert_eq!(get.num_calls(), 0, "plans outside the scenario's list are not read");
}

#[tokio::test]
async fn get_backup_plan_html_404_is_recorded_as_unimplemented_api() {
    let list = plan(vec![])[0].clone();
    let get = mock!(backup::Client::get_backup_plan).then_http_response(html_404);
    let c = schedule("4", "", &[list, get]).await;
    assert!(errors(&c).iter().any(|e| e.en.starts_with("backup:GetBackupPlan: endpoint answered HTTP 404 without an AWS error code")), "{:?}", c.evidence);
    assert_ne!(c.outcome, Outcome::Ok);
}

/// Unread plans are not "no rule": when GetBackupPlan fails, the absence of a
/// compliant rule was not observed, so the row must be ERROR, not NG.
#[tokio::test]
async fn unreadable_plan_is_error_not_ng() {
    let list = plan(vec![])[0].clone();
    let get = mock!(backup::Client::get_backup_plan)
        .then_http_response(|| backup_error(403, "AccessDeniedException", "not authorized to perform: backup:GetBackupPlan"));
    let c = schedule("4", "", &[list.clone(), get.clone()]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("backup:GetBackupPlan: permission denied"), "{}", c.summary.en);
    let c = remote_copy("2", "", &[list, get]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
}

/// Two plans, the readable one weekly, the other denied: at level 4 the daily
/// rule may be in the unread plan, so this is ERROR, not NG.
#[tokio::test]
async fn weekly_plan_plus_unreadable_plan_is_error_not_ng() {
    let list = mock!(backup::Client::list_backup_plans).then_output(|| {
        backup::ListBackupPlansOutput::builder()
            .backup_plans_list(backup::BackupPlansListMember::builder().backup_plan_name("gov-backup").backup_plan_id("plan-1").build())
            .backup_plans_list(backup::BackupPlansListMember::builder().backup_plan_name("secret").backup_plan_id("plan-2").build())
            .build()
    });
    let denied = mock!(backup::Client::get_backup_plan)
        .match_requests(|r| r.backup_plan_id() == Some("plan-2"))
        .then_http_response(|| backup_error(403, "AccessDeniedException", "denied"));
    let weekly_plan = plan(vec![weekly(&[])])[1].clone();
    let c = schedule("4", "", &[list, denied, weekly_plan]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
}

// ------------------------------------------------------------- A.3.2.2

#[tokio::test]
async fn daily_copy_to_existing_dr_vault_is_ok() {
    let vault = vault_exists();
    let rules = with(vec![vault.clone(), recent_copies()], plan(vec![daily(&[DR_VAULT])]));
    let c = remote_copy("2", "", &rules).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert_eq!(c.summary.en, "backups copied to vault gc-dr in DR region ap-northeast-3 (1 rule(s))");
    let copied = c
        .evidence
        .iter()
        .find(|e| e.status == EvidenceStatus::Pass && e.claim.as_deref() == Some("dr-recovery-points"))
        .expect("recovery points in the DR vault");
    assert_eq!(copied.subject, DR_VAULT);
    assert_eq!(copied.region.as_deref(), Some("ap-northeast-3"));
    assert!(copied.detail.contains("3 listed: 2 COMPLETED, 1 EXPIRED") && copied.detail.contains("6.0h old"), "{}", copied.detail);
    assert_eq!(vault.num_calls(), 1);
}

/// A copy rule to an empty DR vault is a setting without its effect: NG, not OK.
#[tokio::test]
async fn copy_rule_to_an_empty_dr_vault_is_ng() {
    let rules = with(vec![vault_exists(), dr_copies(&[])], plan(vec![daily(&[DR_VAULT])]));
    let c = remote_copy("2", "", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains("no usable recovery point has been copied into the DR vault (0 listed)"), "{}", c.summary.en);
}

/// Copies that stopped a month ago: the vault is not empty, but no copy is as
/// recent as the daily rule promises.
#[tokio::test]
async fn only_stale_copies_in_the_dr_vault_is_ng() {
    let rules = with(vec![vault_exists(), dr_copies(&[(24 * 30, "COMPLETED"), (24 * 31, "COMPLETED"), (2, "PARTIAL")])], plan(vec![daily(&[DR_VAULT])]));
    let c = remote_copy("2", "", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains("copies have stopped: the newest usable copy in the DR vault is 720.0h old"), "{}", c.summary.en);
}

/// The listing refused: the copy rule alone is not the point's proof.
#[tokio::test]
async fn dr_vault_listing_denied_is_not_ok() {
    let denied = mock!(backup::Client::list_recovery_points_by_backup_vault).then_http_response(|| backup_error(403, "AccessDeniedException", "denied"));
    let rules = with(vec![vault_exists(), denied], plan(vec![daily(&[DR_VAULT])]));
    let c = remote_copy("2", "", &rules).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("backup:ListRecoveryPointsByBackupVault: permission denied"), "{}", c.summary.en);
}

#[tokio::test]
async fn daily_copy_via_engine_uses_c125_level_from_catalog() {
    // Through the engine: levels["C.1.2.5"] is the catalog's 4 (daily).
    let rules = with(vec![vault_exists(), recent_copies()], plan(vec![daily(&[DR_VAULT])]));
    let r = via_engine("A.3.2.2", "", &rules).await;
    assert_eq!(r.verified_by("backup.remote_copy"), Outcome::Ok, "{}", r.summary_en);
    // A weekly rule copying to the DR vault does not satisfy level 4 ...
    let rules = with(vec![vault_exists(), recent_copies()], plan(vec![weekly(&[DR_VAULT])]));
    let r = via_engine("A.3.2.2", "", &rules).await;
    assert_eq!(r.outcome, Outcome::Ng, "{}", r.summary_en);
    assert!(r.summary_en.contains("no rule running daily (every 24h or more often) copies to a vault in the DR region ap-northeast-3"), "{}", r.summary_en);
    // ... but does when the scenario sets C.1.2.5 to weekly.
    let rules = with(vec![vault_exists(), recent_copies()], plan(vec![weekly(&[DR_VAULT])]));
    let r = via_engine("A.3.2.2", "[levels]\n\"C.1.2.5\" = \"3\"\n", &rules).await;
    assert_eq!(r.verified_by("backup.remote_copy"), Outcome::Ok, "{}", r.summary_en);
}

#[tokio::test]
async fn copy_to_missing_dr_vault_is_ng_naming_the_arn() {
    let missing = mock!(backup::Client::describe_backup_vault)
        .then_http_response(|| backup_error(404, "ResourceNotFoundException", "Backup vault with name gc-dr is not found"));
    let rules = with(vec![missing], plan(vec![daily(&[DR_VAULT])]));
    let c = remote_copy("2", "", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains(&format!("{DR_VAULT} (ap-northeast-3): rule gov-backup/daily copies to a vault that does not exist")), "{}", c.summary.en);
}

#[tokio::test]
async fn copy_to_missing_dr_vault_modeled_error_is_ng() {
    // The modeled variant must carry its code in the metadata, as the SDK's
    // deserializer sets it; the probe matches on the code.
    let missing = mock!(backup::Client::describe_backup_vault).then_error(|| {
        backup::DescribeBackupVaultError::ResourceNotFoundException(
            backup::ResourceNotFoundException::builder()
                .message("not found")
                .meta(ErrorMetadata::builder().code("ResourceNotFoundException").message("not found").build())
                .build(),
        )
    });
    let c = remote_copy("2", "", &with(vec![missing], plan(vec![daily(&[DR_VAULT])]))).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
}

#[tokio::test]
async fn describe_backup_vault_throttled_is_error() {
    let throttled = mock!(backup::Client::describe_backup_vault).then_http_response(|| backup_error(400, "ThrottlingException", "Rate exceeded"));
    let rules = with(vec![throttled.clone()], plan(vec![daily(&[DR_VAULT])]));
    let c = remote_copy("2", "", &rules).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("backup:DescribeBackupVault: throttled ThrottlingException: Rate exceeded"), "{}", c.summary.en);
    assert!(throttled.num_calls() > 1, "throttling is retried; calls: {}", throttled.num_calls());
}

#[tokio::test]
async fn copy_only_within_primary_region_is_ng() {
    // No DescribeBackupVault rule: the probe must not look at any vault.
    let c = remote_copy("2", "", &plan(vec![daily(&[PRIMARY_VAULT])])).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(
        c.summary.en.contains(&format!(
            "no rule running daily (every 24h or more often) copies to a vault in the DR region ap-northeast-3 (copy actions seen: gov-backup/daily → {PRIMARY_VAULT})"
        )),
        "{}",
        c.summary.en
    );
}

#[tokio::test]
async fn remote_copy_list_denied_is_error() {
    let denied = mock!(backup::Client::list_backup_plans).then_http_response(|| backup_error(403, "AccessDeniedException", "denied"));
    let c = remote_copy("2", "", &[denied]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("backup:ListBackupPlans: permission denied"), "{}", c.summary.en);
}
