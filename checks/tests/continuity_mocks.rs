//! Continuity probes (backup.coverage, continuity.rpo/rto/rlo/dr_site)
//! against canned AWS answers (`aws-smithy-mocks`): the local emulator does
//! not implement backup selections, recovery points or restore jobs, so
//! every path that depends on them is exercised here — completed, failed,
//! expired and still-running records, permission denied, throttling, and an
//! endpoint without the API (HTML 404, no AWS error code). The clock is
//! fixed, so ages and business days are exact. Harness as in probe_mocks.rs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use aws_smithy_mocks::{mock, Rule};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use chrono::{DateTime, TimeZone, Utc};

use gcverify_checks::probes::{self, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, EvidenceStatus, Outcome};

mod common;
use common::aws;

const ACCOUNT: &str = "123456789012";
const I1: &str = "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0juki1";
const I2: &str = "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0juki2";
const DB: &str = "arn:aws:rds:ap-northeast-1:123456789012:db:juki-db";
const DR_VAULT: &str = "arn:aws:backup:ap-northeast-3:123456789012:backup-vault:juki-dr";
const DAILY: &str = "cron(0 18 * * ? *)"; // 03:00 JST

// ---------------------------------------------------------------- harness

/// 2026-04-01 09:00 JST (Wednesday, a business day).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("fixed clock")
}

fn jst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("time") - chrono::Duration::hours(9)
}

fn hours_ago(at: DateTime<Utc>, h: i64) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs((at - chrono::Duration::hours(h)).timestamp())
}
fn smithy(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

const BASE: &str = r#"
[environment]
name = "t"
[aws]
primary_region = "ap-northeast-1"
dr_region = "ap-northeast-3"
[scope]
tags = { System = "juki" }
[backup]
plans = ["juki-daily"]
"#;

fn scenario(extra: &str) -> Arc<gcverify_scenarios::Scenario> {
    Arc::new(gcverify_scenarios::parse(&format!("{BASE}{extra}"), Path::new("t.toml")).expect("scenario"))
}

fn levels(s: &gcverify_scenarios::Scenario) -> BTreeMap<String, String> {
    Catalog::builtin().levels_in_force(s)
}

fn input_at(id: &str, level: &str, extra: &str, rules: &[Rule], at: DateTime<Utc>) -> Arc<ProbeInput> {
    let item = Catalog::builtin().get(id).cloned().expect("catalog item");
    let scenario = scenario(extra);
    Arc::new(ProbeInput::alone(item, level.to_string(), Arc::new(levels(&scenario)), scenario, aws(rules), at, None))
}

async fn coverage(id: &str, level: &str, extra: &str, rules: &[Rule]) -> Conclusion {
    probes::continuity::coverage(input_at(id, level, extra, rules, now())).await.conclude(level)
}
async fn rpo_at(level: &str, rules: &[Rule], at: DateTime<Utc>) -> Conclusion {
    probes::continuity::rpo(input_at("A.1.3.1", level, "", rules, at)).await.conclude(level)
}
async fn rto(level: &str, extra: &str, rules: &[Rule]) -> Conclusion {
    probes::continuity::rto(input_at("A.1.3.2", level, extra, rules, now())).await.conclude(level)
}
async fn rlo(level: &str, rules: &[Rule]) -> Conclusion {
    probes::continuity::rlo(input_at("A.1.3.3", level, "", rules, now())).await.conclude(level)
}
async fn dr(id: &str, level: &str, extra: &str, rules: &[Rule]) -> Conclusion {
    probes::continuity::dr_site(input_at(id, level, extra, rules, now())).await.conclude(level)
}

fn http(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut r = HttpResponse::new(StatusCode::try_from(status).expect("status"), SdkBody::from(body.to_string()));
    for (k, v) in headers {
        r.headers_mut().insert(k.to_string(), v.to_string());
    }
    r
}
/// AWS Backup (restJson1) error.
fn backup_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(status, &[("content-type", "application/json"), ("x-amzn-errortype", code)], &format!("{{\"Message\":\"{message}\"}}"))
}
fn html_404() -> HttpResponse {
    http(404, &[("content-type", "text/html")], "<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>")
}

fn with(overrides: Vec<Rule>, base: Vec<Rule>) -> Vec<Rule> {
    overrides.into_iter().chain(base).collect()
}
fn text(c: &Conclusion) -> String {
    c.evidence.iter().map(|e| format!("{:?} {} {}", e.status, e.subject, e.detail)).collect::<Vec<_>>().join("\n")
}
fn errors(c: &Conclusion) -> Vec<&gcverify_checks::Msg> {
    c.evidence.iter().filter(|e| e.status == EvidenceStatus::Error).map(|e| &e.detail).collect()
}

// ---------------------------------------------------------------- canned answers

mod ec2 {
    pub use aws_sdk_ec2::operation::describe_images::DescribeImagesOutput;
    pub use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
    pub use aws_sdk_ec2::operation::describe_launch_templates::DescribeLaunchTemplatesOutput;
    pub use aws_sdk_ec2::types::{Image, ImageState, Instance, InstanceState, InstanceStateName, LaunchTemplate, Reservation, Tag};
    pub use aws_sdk_ec2::Client;
}
mod rds {
    pub use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
    pub use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    pub use aws_sdk_rds::types::{DbInstance, Tag};
    pub use aws_sdk_rds::Client;
}
mod bk {
    pub use aws_sdk_backup::operation::describe_recovery_point::DescribeRecoveryPointOutput;
    pub use aws_sdk_backup::operation::get_backup_selection::GetBackupSelectionOutput;
    pub use aws_sdk_backup::operation::list_backup_selections::ListBackupSelectionsOutput;
    pub use aws_sdk_backup::operation::list_recovery_points_by_backup_vault::ListRecoveryPointsByBackupVaultOutput;
    pub use aws_sdk_backup::operation::list_recovery_points_by_resource::ListRecoveryPointsByResourceOutput;
    pub use aws_sdk_backup::operation::list_restore_jobs::ListRestoreJobsOutput;
    pub use aws_sdk_backup::types::{
        BackupRule, BackupSelection, BackupSelectionsListMember, Condition, ConditionType, CopyAction, Lifecycle, RecoveryPointByBackupVault,
        RecoveryPointByResource, RecoveryPointStatus, RestoreJobCreator, RestoreJobStatus, RestoreJobsListMember, RestoreValidationStatus,
    };
    pub use aws_sdk_backup::Client;
}
mod s3 {
    pub use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    pub use aws_sdk_s3::types::Object;
    pub use aws_sdk_s3::Client;
}

fn instance(id: &str, system: &str) -> ec2::Instance {
    ec2::Instance::builder()
        .instance_id(id)
        .state(ec2::InstanceState::builder().name(ec2::InstanceStateName::Running).build())
        .tags(ec2::Tag::builder().key("System").value(system).build())
        .build()
}

fn instances(list: Vec<ec2::Instance>) -> Rule {
    mock!(ec2::Client::describe_instances).then_output(move || {
        ec2::DescribeInstancesOutput::builder().reservations(ec2::Reservation::builder().owner_id(ACCOUNT).set_instances(Some(list.clone())).build()).build()
    })
}

/// juki-db with PITR: LatestRestorableTime `lag_min` minutes before now.
fn db(lag_min: Option<i64>, retention: i32) -> Rule {
    mock!(rds::Client::describe_db_instances).then_output(move || {
        let mut d = rds::DbInstance::builder()
            .db_instance_identifier("juki-db")
            .db_instance_arn(DB)
            .backup_retention_period(retention)
            .tag_list(rds::Tag::builder().key("System").value("juki").build());
        if let Some(m) = lag_min {
            d = d.latest_restorable_time(smithy(now() - chrono::Duration::minutes(m)));
        }
        rds::DescribeDbInstancesOutput::builder().db_instances(d.build()).build()
    })
}
fn no_db() -> Vec<Rule> {
    vec![
        mock!(rds::Client::describe_db_instances).then_output(|| rds::DescribeDbInstancesOutput::builder().build()),
        mock!(rds::Client::describe_db_clusters).then_output(|| rds::DescribeDbClustersOutput::builder().build()),
    ]
}
fn no_clusters() -> Rule {
    mock!(rds::Client::describe_db_clusters).then_output(|| rds::DescribeDbClustersOutput::builder().build())
}

fn plans(continuous: bool) -> Vec<Rule> {
    common::backup_plan(move || {
        bk::BackupRule::builder()
            .rule_name("daily")
            .target_backup_vault_name("juki-vault")
            .schedule_expression(DAILY)
            .start_window_minutes(60)
            .completion_window_minutes(120)
            .enable_continuous_backup(continuous)
            .lifecycle(bk::Lifecycle::builder().delete_after_days(35).build())
            .copy_actions(bk::CopyAction::builder().destination_backup_vault_arn(DR_VAULT).build().expect("copy action"))
            .build()
            .expect("rule")
    })
}

/// One selection: by tag System=juki, or (by_tag=false) only instance i-0juki1 and the DB by ARN.
fn selection(by_tag: bool) -> Vec<Rule> {
    vec![
        mock!(bk::Client::list_backup_selections).then_output(|| {
            bk::ListBackupSelectionsOutput::builder()
                .backup_selections_list(bk::BackupSelectionsListMember::builder().selection_id("sel-1").selection_name("juki").backup_plan_id("plan-1").build())
                .build()
        }),
        mock!(bk::Client::get_backup_selection).then_output(move || {
            let s = bk::BackupSelection::builder().selection_name("juki").iam_role_arn("arn:aws:iam::123456789012:role/backup");
            let s = if by_tag {
                s.list_of_tags(
                    bk::Condition::builder()
                        .condition_type(bk::ConditionType::Stringequals)
                        .condition_key("aws:ResourceTag/System")
                        .condition_value("juki")
                        .build()
                        .expect("condition"),
                )
            } else {
                s.resources(I1).resources(DB)
            };
            bk::GetBackupSelectionOutput::builder().backup_plan_id("plan-1").selection_id("sel-1").backup_selection(s.build().expect("selection")).build()
        }),
    ]
}

/// Recovery points of `arn`: (hours before `at`, status).
fn points_of(arn: &'static str, at: DateTime<Utc>, list: &'static [(i64, &'static str)]) -> Rule {
    mock!(bk::Client::list_recovery_points_by_resource).match_requests(move |r| r.resource_arn() == Some(arn)).then_output(move || {
        let pts = list
            .iter()
            .enumerate()
            .map(|(i, (h, status))| {
                bk::RecoveryPointByResource::builder()
                    .recovery_point_arn(format!("{arn}:rp-{i}"))
                    .backup_vault_name("juki-vault")
                    .creation_date(hours_ago(at, *h))
                    .status(bk::RecoveryPointStatus::from(*status))
                    .build()
            })
            .collect();
        bk::ListRecoveryPointsByResourceOutput::builder().set_recovery_points(Some(pts)).build()
    })
}

fn encrypted(on: bool) -> Rule {
    mock!(bk::Client::describe_recovery_point).then_output(move || {
        let o = bk::DescribeRecoveryPointOutput::builder().is_encrypted(on);
        if on { o.encryption_key_arn("arn:aws:kms:ap-northeast-1:123456789012:key/k-backup") } else { o }.build()
    })
}

/// Healthy protection for i-0juki1 (EC2) and juki-db (RDS): 6 h old points, encrypted.
fn healthy() -> Vec<Rule> {
    let mut v = vec![instances(vec![instance("i-0juki1", "juki"), instance("i-0other", "other")]), db(Some(5), 7), no_clusters()];
    v.extend(plans(false));
    v.extend(selection(true));
    v.push(points_of(I1, now(), &[(6, "COMPLETED"), (30, "COMPLETED"), (900, "EXPIRED")]));
    v.push(points_of(DB, now(), &[(6, "COMPLETED")]));
    v.push(encrypted(true));
    v
}

// ------------------------------------------------------------- backup.coverage

#[tokio::test]
async fn coverage_all_selected_fresh_encrypted_is_ok_and_names_each_resource() {
    let c = coverage("C.1.2.2", "2", "", &healthy()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    let t = text(&c);
    assert!(t.contains(I1) && t.contains(DB), "{t}");
    assert!(!t.contains("i-0other"), "out-of-scope instance must not be judged: {t}");
    assert!(t.contains("6h00m old"), "{t}");
    assert!(c.summary.ja.contains("2件") && c.summary.ja.contains("6時間0分"), "{}", c.summary.ja);
}

#[tokio::test]
async fn coverage_gap_is_ng_naming_the_resource() {
    let mut rules = vec![instances(vec![instance("i-0juki1", "juki"), instance("i-0juki2", "juki")])];
    rules.extend(selection(false));
    let c = coverage("C.1.2.3", "1", "", &with(rules, healthy())).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    assert!(c.summary.en.contains(I2) && c.summary.en.contains("not in any backup selection"), "{}", c.summary.en);
}

#[tokio::test]
async fn coverage_unencrypted_point_is_ng() {
    let c = coverage("C.1.2.2", "2", "", &with(vec![encrypted(false)], healthy())).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("IsEncrypted=false"), "{}", c.summary.en);
}

#[tokio::test]
async fn coverage_only_expired_or_running_points_is_ng() {
    let rules = with(vec![points_of(I1, now(), &[(2, "CREATING"), (900, "EXPIRED"), (10, "PARTIAL")])], healthy());
    let c = coverage("C.1.2.2", "2", "", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("no completed recovery point") && c.summary.en.contains("1 EXPIRED"), "{}", c.summary.en);
}

#[tokio::test]
async fn coverage_stale_point_is_ng_with_measured_hours() {
    // Daily (C.1.2.5 level 4) + 1 h start + 2 h completion window = 27 h allowed.
    let c = coverage("C.1.2.2", "2", "", &with(vec![points_of(I1, now(), &[(28, "COMPLETED")])], healthy())).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("28h00m old > allowed 27h00m"), "{}", c.summary.en);
    let c = coverage("C.1.2.2", "2", "", &with(vec![points_of(I1, now(), &[(26, "COMPLETED")])], healthy())).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
}

#[tokio::test]
async fn coverage_generations_beyond_retention_is_ng() {
    // Level 2 (作業ミスも復旧) must say how many generations to keep.
    let c = coverage("C.1.2.3", "2", "", &healthy()).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(errors(&c).iter().any(|e| e.contains("generations")), "{:?}", errors(&c));
    // BASE ends inside [backup]: 35 days of daily points keep 35 generations.
    let c = coverage("C.1.2.3", "2", "generations = 40\n", &healthy()).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    assert!(c.summary.en.contains("keeps about 35 generation(s) < required 40"), "{}", c.summary.en);
    let c = coverage("C.1.2.3", "2", "generations = 30\n", &healthy()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
}

#[tokio::test]
async fn coverage_access_denied_throttled_and_404_are_error() {
    let denied = mock!(bk::Client::list_backup_selections).then_http_response(|| backup_error(403, "AccessDeniedException", "not authorized"));
    let c = coverage("C.1.2.2", "2", "", &with(vec![denied], healthy())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(errors(&c).iter().any(|e| e.contains("permission denied")), "{:?}", errors(&c));

    let throttled = mock!(bk::Client::list_recovery_points_by_resource).then_http_response(|| backup_error(400, "ThrottlingException", "Rate exceeded"));
    let c = coverage("C.1.2.2", "2", "", &with(vec![throttled], healthy())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(errors(&c).iter().any(|e| e.contains("throttled")), "{:?}", errors(&c));

    let missing = mock!(bk::Client::get_backup_selection).then_http_response(html_404);
    let c = coverage("C.1.2.2", "2", "", &with(vec![missing], healthy())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(errors(&c).iter().any(|e| e.contains("without an AWS error code")), "{:?}", errors(&c));
}

// ------------------------------------------------------------- continuity.rpo

fn one_instance() -> Vec<Rule> {
    let mut v = vec![instances(vec![instance("i-0juki1", "juki")])];
    v.extend(no_db());
    v
}

#[tokio::test]
async fn rpo_year_end_counts_business_days() {
    // Checked Monday 2027-01-04 10:00 JST; 12/29-1/3 are 年末年始, so 12/28 is one 営業日 back.
    let at = jst(2027, 1, 4, 10);
    let backup_1228 = at - jst(2026, 12, 28, 3);
    assert_eq!(backup_1228.num_hours(), 175);
    let c = rpo_at("2", &with(vec![points_of(I1, at, &[(175, "COMPLETED")])], one_instance()), at).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(c.summary.ja.contains("175時間0分") && c.summary.ja.contains("2026-12-28"), "{}", c.summary.ja);

    // A backup of Friday 12/25 03:00 JST is two business days back on 1/4.
    let c = rpo_at("2", &with(vec![points_of(I1, at, &[(247, "COMPLETED")])], one_instance()), at).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    assert!(c.summary.en.contains("measured RPO 247h00m") && c.summary.en.contains("i-0juki1"), "{}", c.summary.en);
}

#[tokio::test]
async fn rpo_weekday_and_level_1_five_business_days() {
    // Wed 2026-04-01 09:00 JST: one business day back = Tue 3/31 00:00 JST (33 h).
    let ok = rpo_at("2", &with(vec![points_of(I1, now(), &[(30, "COMPLETED")])], one_instance()), now()).await;
    assert_eq!(ok.outcome, Outcome::Ok, "{}", text(&ok));
    let ng = rpo_at("2", &with(vec![points_of(I1, now(), &[(34, "COMPLETED"), (1, "EXPIRED")])], one_instance()), now()).await;
    assert_eq!(ng.outcome, Outcome::Ng, "expired points do not count: {}", text(&ng));
    // Five business days back from Wed 4/1 = Wed 3/25 00:00 JST (153 h); 3/20 (春分の日) is not involved.
    let l1 = rpo_at("1", &with(vec![points_of(I1, now(), &[(150, "COMPLETED")])], one_instance()), now()).await;
    assert_eq!(l1.outcome, Outcome::Ok, "{}", text(&l1));
}

#[tokio::test]
async fn rpo_rds_takes_the_newer_of_point_and_restorable_time() {
    // Recovery point 40 h old (too old alone), LatestRestorableTime 5 min: OK.
    let mut rules = vec![instances(vec![]), db(Some(5), 7), no_clusters(), points_of(DB, now(), &[(40, "COMPLETED")])];
    rules.extend(plans(false));
    let c = rpo_at("2", &rules, now()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(c.summary.en.contains("0h05m"), "{}", c.summary.en);
}

#[tokio::test]
async fn rpo_level_3_needs_pitr_and_reports_lag() {
    // An EC2 server without continuous backup: its point of failure (archive
    // logs, replication) cannot be seen from AWS: 要確認, never OK.
    let c = rpo_at("3", &healthy(), now()).await;
    assert_eq!(c.outcome, Outcome::Pending, "{}", text(&c));
    assert!(c.summary.en.contains("i-0juki1: recovery to the point of failure"), "{}", c.summary.en);
    assert!(text(&c).contains("PITR lag 0h05m"), "{}", text(&c));

    let mut rules = vec![instances(vec![]), db(Some(5), 7), no_clusters()];
    rules.extend(plans(false));
    let c = rpo_at("3", &rules, now()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(c.summary.ja.contains("0時間5分"), "{}", c.summary.ja);

    let lagging = vec![instances(vec![]), db(Some(40), 7), no_clusters()];
    assert_eq!(rpo_at("3", &lagging, now()).await.outcome, Outcome::Ng);
    let no_pitr = vec![instances(vec![]), db(None, 0), no_clusters()];
    assert_eq!(rpo_at("3", &no_pitr, now()).await.outcome, Outcome::Ng);

    // A continuous rule covers the instance, but its lag cannot be observed: ERROR, not OK.
    let c = rpo_at("3", &with(plans(true), healthy()), now()).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(errors(&c).iter().any(|e| e.contains("no lag to measure")), "{:?}", errors(&c));
}

/// 障害発生時点 for a server the scenario declares stateless: its daily point
/// suffices, said in the evidence; stale → NG; a server not declared still NG.
#[tokio::test]
async fn rpo_level_3_a_declared_stateless_server_needs_its_daily_point() {
    let declared = "[continuity]\nstateless_servers = [\"i-0juki1\"]\n";
    let rpo3 =
        |extra: &'static str, rules: Vec<Rule>| async move { probes::continuity::rpo(input_at("A.1.3.1", "3", extra, &rules, now())).await.conclude("3") };
    let c = rpo3(declared, healthy()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(text(&c).contains("declared stateless") && text(&c).contains("PITR lag 0h05m"), "{}", text(&c));

    // Only a point from before the last business day (40 h at Wed 09:00 JST): NG.
    let mut stale = vec![instances(vec![instance("i-0juki1", "juki")]), db(Some(5), 7), no_clusters(), points_of(I1, now(), &[(40, "COMPLETED")])];
    stale.extend(plans(false));
    stale.extend(selection(true));
    let c = rpo3(declared, stale).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    assert!(c.summary.en.contains("stateless server's newest recovery point"), "{}", c.summary.en);

    // Another server declared: this one is not shown to reach the point of failure.
    let c = rpo3("[continuity]\nstateless_servers = [\"i-0other\"]\n", healthy()).await;
    assert_eq!(c.outcome, Outcome::Pending, "{}", text(&c));
    assert!(c.summary.en.contains("i-0juki1: recovery to the point of failure"), "{}", c.summary.en);
}

#[tokio::test]
async fn rpo_level_3_unreadable_selections_are_not_a_violation() {
    // A continuous rule exists but the selections cannot be read: whether it covers i-0juki1 is unknown.
    let denied = mock!(bk::Client::list_backup_selections).then_http_response(|| backup_error(403, "AccessDeniedException", "no"));
    let mut rules = vec![denied];
    rules.extend(plans(true));
    let c = rpo_at("3", &with(rules, healthy()), now()).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
}

#[tokio::test]
async fn a_failed_listing_is_reported_once_not_per_resource() {
    let missing = mock!(bk::Client::list_recovery_points_by_resource).then_http_response(html_404);
    let mut rules = vec![missing, instances(vec![instance("i-0juki1", "juki"), instance("i-0juki2", "juki")])];
    rules.extend(no_db());
    let c = rpo_at("2", &with(rules, healthy()), now()).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert_eq!(errors(&c).len(), 1, "{:?}", errors(&c));
    assert!(text(&c).contains("not checked after the listing failed: i-0juki2"), "{}", text(&c));
}

/// The RPO chart lists every in-scope resource: a measured age, nothing to
/// recover from (a violation) or not checked (its evidence says why).
#[tokio::test]
async fn rpo_records_a_figure_for_every_in_scope_resource() {
    use gcverify_checks::model::Figure;
    let figures = |c: &Conclusion| -> Vec<Figure> { c.evidence.iter().filter_map(|e| e.figure.clone()).collect() };
    // Level 3: the database's PITR lag is measured; the EC2 server's point of failure cannot be seen.
    let c = rpo_at("3", &healthy(), now()).await;
    let f = figures(&c);
    assert!(f.iter().any(|f| matches!(f, Figure::RpoAge { age_secs: 300, limit_secs: Some(_), .. })), "{f:?}");
    assert!(f.contains(&Figure::RpoUnmeasured { resource: "i-0juki1".into(), limit_secs: Some(15 * 60), violation: false }), "{f:?}");
    // No PITR at all: nothing to recover from.
    let c = rpo_at("3", &[instances(vec![]), db(None, 0), no_clusters()], now()).await;
    assert!(figures(&c).iter().any(|f| matches!(f, Figure::RpoUnmeasured { violation: true, .. })), "{:?}", figures(&c));
    // A failed listing: both servers listed, neither measured.
    let missing = mock!(bk::Client::list_recovery_points_by_resource).then_http_response(html_404);
    let mut rules = vec![missing, instances(vec![instance("i-0juki1", "juki"), instance("i-0juki2", "juki")])];
    rules.extend(no_db());
    let c = rpo_at("2", &with(rules, healthy()), now()).await;
    let names: Vec<String> = figures(&c)
        .into_iter()
        .map(|f| match f {
            Figure::RpoUnmeasured { resource, violation: false, .. } => resource,
            other => panic!("only unmeasured resources: {other:?}"),
        })
        .collect();
    assert_eq!(names, ["i-0juki1", "i-0juki2"]);
}

#[tokio::test]
async fn rpo_denied_listing_is_error() {
    let denied = mock!(bk::Client::list_recovery_points_by_resource).then_http_response(|| backup_error(403, "AccessDeniedException", "no"));
    let c = rpo_at("2", &with(vec![denied], one_instance()), now()).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
}

// ------------------------------------------------------------- continuity.rto / rlo

/// Restore jobs: (source, status, hours before now it started, minutes it took).
fn jobs(list: &'static [(&'static str, &'static str, i64, Option<i64>)]) -> Rule {
    mock!(bk::Client::list_restore_jobs).then_output(move || {
        let js = list
            .iter()
            .enumerate()
            .map(|(i, (src, status, h, took))| {
                let start = now() - chrono::Duration::hours(*h);
                let mut j = bk::RestoreJobsListMember::builder()
                    .restore_job_id(format!("job-{i}"))
                    .source_resource_arn(*src)
                    .resource_type(if src.contains(":db:") { "RDS" } else { "EC2" })
                    .status(bk::RestoreJobStatus::from(*status))
                    .creation_date(smithy(start));
                if let Some(m) = took {
                    j = j.completion_date(smithy(start + chrono::Duration::minutes(*m)));
                }
                if *status == "FAILED" {
                    j = j.status_message("Insufficient capacity");
                }
                j.build()
            })
            .collect();
        bk::ListRestoreJobsOutput::builder().set_restore_jobs(Some(js)).build()
    })
}

/// A job run by a restore testing plan, with its validation status.
fn tested_job(validation: &'static str) -> Rule {
    mock!(bk::Client::list_restore_jobs).then_output(move || {
        let start = now() - chrono::Duration::hours(24);
        let j = bk::RestoreJobsListMember::builder()
            .restore_job_id("job-t")
            .source_resource_arn(I1)
            .resource_type("EC2")
            .status(bk::RestoreJobStatus::Completed)
            .creation_date(smithy(start))
            .completion_date(smithy(start + chrono::Duration::minutes(50)))
            .created_by(
                bk::RestoreJobCreator::builder()
                    .restore_testing_plan_arn("arn:aws:backup:ap-northeast-1:123456789012:restore-testing-plan:juki-weekly")
                    .build(),
            )
            .validation_status(bk::RestoreValidationStatus::from(validation))
            .validation_status_message(if validation == "FAILED" { "login page returned 500" } else { "" })
            .build();
        bk::ListRestoreJobsOutput::builder().restore_jobs(j).build()
    })
}

#[tokio::test]
async fn restore_testing_plan_results_count_and_a_failed_validation_is_ng() {
    let ok = rto("*", "", &with(vec![tested_job("SUCCESSFUL")], one_instance())).await;
    assert_eq!(ok.outcome, Outcome::Ok, "{}", text(&ok));
    assert!(text(&ok).contains("restore testing plan") && text(&ok).contains("validation SUCCESSFUL"), "{}", text(&ok));
    let bad = rto("*", "", &with(vec![tested_job("FAILED")], one_instance())).await;
    assert_eq!(bad.outcome, Outcome::Ng, "{}", text(&bad));
    assert!(text(&bad).contains("login page returned 500"), "{}", text(&bad));
    let bad = rlo("2", &with(vec![tested_job("TIMED_OUT")], one_instance())).await;
    assert_eq!(bad.outcome, Outcome::Ng, "{}", text(&bad));
}

#[tokio::test]
async fn rto_completed_within_target_is_ok_with_measured_time_and_age() {
    let c = rto("*", "", &with(vec![jobs(&[(I1, "COMPLETED", 48, Some(80))])], one_instance())).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(c.summary.ja.contains("1時間20分") && c.summary.ja.contains("2日前") && c.summary.ja.contains("3時間"), "{}", c.summary.ja);
}

#[tokio::test]
async fn rto_slow_failed_and_stale_are_ng() {
    let slow = rto("*", "", &with(vec![jobs(&[(I1, "COMPLETED", 48, Some(240))])], one_instance())).await;
    assert_eq!(slow.outcome, Outcome::Ng);
    assert!(slow.summary.en.contains("4h00m > RTO 3h00m"), "{}", slow.summary.en);
    // The same 4 h restore meets the application-cause target (12 h).
    let app = rto("*", "[continuity]\nrto_cause = \"application\"\n", &with(vec![jobs(&[(I1, "COMPLETED", 48, Some(240))])], one_instance())).await;
    assert_eq!(app.outcome, Outcome::Ok, "{}", text(&app));

    let failed = rto("*", "", &with(vec![jobs(&[(I1, "COMPLETED", 200, Some(60)), (I1, "FAILED", 24, Some(10))])], one_instance())).await;
    assert_eq!(failed.outcome, Outcome::Ng);
    assert!(failed.summary.en.contains("most recent restore drill failed") && failed.summary.en.contains("Insufficient capacity"), "{}", failed.summary.en);

    let stale = rto("2", "", &with(vec![jobs(&[(I1, "COMPLETED", 24 * 400, Some(60))])], one_instance())).await;
    assert_eq!(stale.outcome, Outcome::Ng);
    assert!(stale.summary.en.contains("400 days old"), "{}", stale.summary.en);
}

#[tokio::test]
async fn rto_running_jobs_are_not_counted() {
    let c = rto("*", "", &with(vec![jobs(&[(I1, "RUNNING", 1, None), (I1, "PENDING", 2, None), (I1, "COMPLETED", 72, Some(30))])], one_instance())).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(text(&c).contains("still running, not counted: job-0,job-1"), "{}", text(&c));
    let only_running = rto("*", "", &with(vec![jobs(&[(I1, "RUNNING", 1, None)])], one_instance())).await;
    assert_eq!(only_running.outcome, Outcome::Error, "{}", text(&only_running));
}

#[tokio::test]
async fn rto_without_history_is_error_never_ok() {
    let other = rto("*", "", &with(vec![jobs(&[(I2, "COMPLETED", 10, Some(30))])], one_instance())).await;
    assert_eq!(other.outcome, Outcome::Error, "a restore of another resource is no evidence: {}", text(&other));
    assert!(other.summary.en.contains("no restore evidence"), "{}", other.summary.en);
    let denied = mock!(bk::Client::list_restore_jobs).then_http_response(|| backup_error(403, "AccessDeniedException", "no"));
    assert_eq!(rto("*", "", &with(vec![denied], one_instance())).await.outcome, Outcome::Error);
    let missing = mock!(bk::Client::list_restore_jobs).then_http_response(html_404);
    assert_eq!(rto("*", "", &with(vec![missing], one_instance())).await.outcome, Outcome::Error);
}

#[tokio::test]
async fn rlo_needs_every_resource_type_restored_at_level_2() {
    let ec2_only = with(vec![jobs(&[(I1, "COMPLETED", 10, Some(30))])], healthy());
    let c = rlo("2", &ec2_only).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(c.summary.en.contains("no restore evidence") && c.summary.en.contains("RDS"), "{}", c.summary.en);
    assert_eq!(rlo("1", &ec2_only).await.outcome, Outcome::Ok);

    let both = with(vec![jobs(&[(I1, "COMPLETED", 10, Some(30)), (DB, "COMPLETED", 20, Some(50))])], healthy());
    let c = rlo("2", &both).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(c.summary.en.contains("EC2,RDS"), "{}", c.summary.en);

    let db_failed = with(vec![jobs(&[(I1, "COMPLETED", 10, Some(30)), (DB, "FAILED", 20, Some(50))])], healthy());
    assert_eq!(rlo("2", &db_failed).await.outcome, Outcome::Ng);
}

// ------------------------------------------------------------- continuity.dr_site

/// DR-vault copies of `arn`: (hours old, status, encrypted).
fn dr_points(arn: &'static str, list: &'static [(i64, &'static str, bool)]) -> Rule {
    mock!(bk::Client::list_recovery_points_by_backup_vault)
        .match_requests(move |r| r.by_resource_arn() == Some(arn) && r.backup_vault_name() == Some("juki-dr"))
        .then_output(move || {
            let pts = list
                .iter()
                .enumerate()
                .map(|(i, (h, status, enc))| {
                    bk::RecoveryPointByBackupVault::builder()
                        .recovery_point_arn(format!("{arn}:copy-{i}"))
                        .resource_arn(arn)
                        .creation_date(hours_ago(now(), *h))
                        .status(bk::RecoveryPointStatus::from(*status))
                        .is_encrypted(*enc)
                        .build()
                })
                .collect();
            bk::ListRecoveryPointsByBackupVaultOutput::builder().set_recovery_points(Some(pts)).build()
        })
}

fn dr_healthy() -> Vec<Rule> {
    with(vec![dr_points(I1, &[(10, "COMPLETED", true), (34, "COMPLETED", true)]), dr_points(DB, &[(12, "COMPLETED", true)])], healthy())
}

fn ami(present: bool) -> Rule {
    mock!(ec2::Client::describe_images).then_output(move || {
        let o = ec2::DescribeImagesOutput::builder();
        if present { o.images(ec2::Image::builder().image_id("ami-0dr1").name("juki-ap").state(ec2::ImageState::Available).build()) } else { o }.build()
    })
}
fn launch_template() -> Rule {
    mock!(ec2::Client::describe_launch_templates).then_output(|| {
        ec2::DescribeLaunchTemplatesOutput::builder()
            .launch_templates(ec2::LaunchTemplate::builder().launch_template_id("lt-0dr").launch_template_name("juki-lt").latest_version_number(3).build())
            .build()
    })
}
fn export_objects(hours: i64) -> Rule {
    mock!(s3::Client::list_objects_v2).then_output(move || {
        s3::ListObjectsV2Output::builder()
            .contents(s3::Object::builder().key("anpi/2026-03-31.csv").last_modified(hours_ago(now(), hours)).build())
            .contents(s3::Object::builder().key("anpi/2026-03-30.csv").last_modified(hours_ago(now(), hours + 24)).build())
            .build()
    })
}

const DR_EXTRA: &str =
    "[continuity]\ndr_images = [\"juki-ap\"]\ndr_launch_templates = [\"juki-lt\"]\n[continuity.export]\nbucket = \"juki-anpi\"\nprefix = \"anpi/\"\n";

#[tokio::test]
async fn dr_copies_fresh_is_ok_and_stale_or_missing_is_ng() {
    let c = dr("A.3.2.1", "2", "", &dr_healthy()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(c.summary.ja.contains("12時間0分") && c.summary.ja.contains("ap-northeast-3"), "{}", c.summary.ja);

    let stale = dr("A.3.2.1", "2", "", &with(vec![dr_points(I1, &[(30, "COMPLETED", true)])], dr_healthy())).await;
    assert_eq!(stale.outcome, Outcome::Ng);
    assert!(stale.summary.en.contains("30h00m old > 24h00m"), "{}", stale.summary.en);

    let missing = dr("A.3.2.1", "2", "", &with(vec![dr_points(DB, &[(2, "EXPIRED", true)])], dr_healthy())).await;
    assert_eq!(missing.outcome, Outcome::Ng);
    assert!(missing.summary.en.contains("juki-db: no usable copy"), "{}", missing.summary.en);

    let plain = dr("A.3.2.1", "2", "", &with(vec![dr_points(DB, &[(2, "COMPLETED", false)])], dr_healthy())).await;
    assert_eq!(plain.outcome, Outcome::Ng);
}

#[tokio::test]
async fn dr_a141_without_export_needs_attestation_error() {
    let c = dr("A.1.4.1", "2", "", &dr_healthy()).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(c.summary.en.contains("desk attestation"), "{}", c.summary.en);
}

#[tokio::test]
async fn dr_a141_with_artefacts_and_fresh_export_is_ok() {
    let rules = with(vec![ami(true), launch_template(), export_objects(3)], dr_healthy());
    let c = dr("A.1.4.1", "2", DR_EXTRA, &rules).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(c.summary.ja.contains("3時間0分"), "{}", c.summary.ja);
    assert!(text(&c).contains("ami-0dr1") && text(&c).contains("lt-0dr"), "{}", text(&c));

    let old_export = dr("A.1.4.1", "2", DR_EXTRA, &with(vec![ami(true), launch_template(), export_objects(30)], dr_healthy())).await;
    assert_eq!(old_export.outcome, Outcome::Ng);
    let no_ami = dr("A.1.4.1", "2", DR_EXTRA, &with(vec![ami(false), launch_template(), export_objects(3)], dr_healthy())).await;
    assert_eq!(no_ami.outcome, Outcome::Ng);
    assert!(no_ami.summary.en.contains("juki-ap"), "{}", no_ami.summary.en);
}

#[tokio::test]
async fn dr_site_level_3_without_artefacts_is_error_and_throttling_is_error() {
    let c = dr("A.3.1.1", "3", "", &dr_healthy()).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    let throttled = mock!(bk::Client::list_recovery_points_by_backup_vault).then_http_response(|| backup_error(400, "ThrottlingException", "Rate exceeded"));
    let c = dr("A.3.2.1", "2", "", &with(vec![throttled], healthy())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(errors(&c).iter().any(|e| e.contains("throttled")), "{:?}", errors(&c));
}

// ------------------------------------------------------------- backup.generations

async fn gens(extra: &str, rules: &[Rule]) -> Conclusion {
    probes::continuity::generations(input_at("C.1.2.5", "4", extra, rules, now())).await.conclude("4")
}

#[tokio::test]
async fn generations_in_both_regions_are_counted_per_resource() {
    // i-0juki1: 2 usable points at home, 2 copies in the DR vault; juki-db: 1 and 1.
    let c = gens("", &dr_healthy()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    let t = text(&c);
    assert!(t.contains("i-0juki1: 2 usable recovery point(s) in ap-northeast-1") && t.contains("juki-db: 1 usable recovery point(s) in ap-northeast-3"), "{t}");
    assert!(t.contains("generations is not set"), "{t}");

    // Two generations required: juki-db has one in each region (the expired one does not count).
    let c = gens("generations = 2\n", &dr_healthy()).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    let fails: Vec<(&str, Option<&str>)> =
        c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| (e.subject.as_str(), e.region.as_deref())).collect();
    assert_eq!(fails, [(DB, Some("ap-northeast-1")), (DB, Some("ap-northeast-3"))], "{}", text(&c));
}

/// The case that fools a "recovery points exist" check: all of them in one region.
#[tokio::test]
async fn generations_missing_in_the_dr_region_is_ng_and_an_unreadable_vault_is_error() {
    let only_expired = with(vec![dr_points(DB, &[(2, "EXPIRED", true)])], dr_healthy());
    let c = gens("", &only_expired).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(text(&c).contains("juki-db: 0 usable recovery point(s) in ap-northeast-3"), "{}", text(&c));

    let throttled = mock!(bk::Client::list_recovery_points_by_backup_vault).then_http_response(|| backup_error(400, "ThrottlingException", "Rate exceeded"));
    let c = gens("", &with(vec![throttled], healthy())).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
    assert!(errors(&c).iter().any(|e| e.contains("throttled")), "{:?}", errors(&c));
}
