//! C.1.3.1 (CloudWatch alarms), C.2.3.5 (SSM patch states) and E.4.3.4 (AV
//! association) against canned answers (`aws-smithy-mocks`): the local
//! emulator cannot serve these (CloudWatch's CBOR protocol, SSM instance
//! information / patch states / association executions are not implemented).
//! Each probe is run for OK, NG, an unmanaged instance, access denied and
//! throttling (retried, then ERROR).

use std::path::Path;
use std::sync::Arc;

use aws_sdk_cloudwatch as cw;
use aws_sdk_ec2 as ec2;
use aws_sdk_ssm as ssm;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use chrono::{DateTime, TimeZone, Utc};

use gcverify_checks::probes::{self, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, EvidenceStatus, Outcome};

mod common;
use common::aws;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("fixed clock")
}

/// One region only (primary = DR), so region-agnostic mock rules are not seen twice.
fn input(id: &str, level: &str, extra: &str, rules: &[Rule]) -> Arc<ProbeInput> {
    let text = format!("[environment]\nname = \"t\"\n[aws]\nprimary_region = \"ap-northeast-1\"\ndr_region = \"ap-northeast-1\"\n{extra}");
    let scenario = Arc::new(gcverify_scenarios::parse(&text, Path::new("t.toml")).expect("scenario"));
    let item = Catalog::builtin().get(id).cloned().expect("catalog item");
    let levels = Catalog::builtin().levels_in_force(&scenario);
    Arc::new(ProbeInput::alone(item, level.to_string(), Arc::new(levels), scenario, aws(rules), now(), None))
}

fn errors(c: &Conclusion) -> String {
    c.evidence.iter().filter(|e| e.status == EvidenceStatus::Error).map(|e| e.detail.to_string()).collect::<Vec<_>>().join("; ")
}

fn html_404() -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(404).expect("status"), SdkBody::from("<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>"))
}

// ---------------------------------------------------------------- C.1.3.1

fn alarm(name: &str, metric: &str, enabled: bool, state: cw::types::StateValue) -> cw::types::MetricAlarm {
    let mut b = cw::types::MetricAlarm::builder()
        .alarm_name(name)
        .metric_name(metric)
        .actions_enabled(enabled)
        .state_value(state)
        .state_updated_timestamp(aws_smithy_types::DateTime::from_secs(now().timestamp() - 86_400));
    if enabled {
        b = b.alarm_actions("arn:aws:sns:ap-northeast-1:123456789012:juki-ops");
    }
    // The web server's own alarms watch it by InstanceId.
    if name.starts_with("juki-web01") {
        b = b.dimensions(cw::types::Dimension::builder().name("InstanceId").value("i-0web01").build());
    }
    b.build()
}

fn alarms_rule(list: Vec<cw::types::MetricAlarm>) -> Rule {
    mock!(cw::Client::describe_alarms)
        .then_output(move || cw::operation::describe_alarms::DescribeAlarmsOutput::builder().set_metric_alarms(Some(list.clone())).build())
}

fn full_alarm_set() -> Vec<cw::types::MetricAlarm> {
    use cw::types::StateValue::*;
    vec![
        alarm("juki-web01-cpu", "CPUUtilization", true, Ok),
        alarm("juki-web01-mem", "mem_used_percent", true, Ok),
        alarm("juki-web01-disk", "disk_used_percent", true, Ok),
        alarm("juki-alb-latency", "TargetResponseTime", true, Ok),
    ]
}

/// EC2 instances in scope (no RDS); the test's own rules come first and win.
fn inventory(ids: &'static [&'static str]) -> Vec<Rule> {
    vec![
        mock!(ec2::Client::describe_instances).then_output(move || {
            let list = ids
                .iter()
                .map(|id| {
                    ec2::types::Instance::builder()
                        .instance_id(*id)
                        .state(ec2::types::InstanceState::builder().name(ec2::types::InstanceStateName::Running).build())
                        .build()
                })
                .collect();
            ec2::operation::describe_instances::DescribeInstancesOutput::builder()
                .reservations(ec2::types::Reservation::builder().owner_id("123456789012").set_instances(Some(list)).build())
                .build()
        }),
        mock!(aws_sdk_rds::Client::describe_db_instances)
            .then_output(|| aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_clusters)
            .then_output(|| aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput::builder().build()),
    ]
}

async fn monitoring(level: &str, rules: &[Rule]) -> Conclusion {
    let mut all = rules.to_vec();
    all.extend(inventory(&[]));
    probes::monitoring::alarms(input("C.1.3.1", level, "", &all)).await.conclude(level)
}

fn on_instance(mut a: cw::types::MetricAlarm, id: &str) -> cw::types::MetricAlarm {
    a.dimensions = Some(vec![cw::types::Dimension::builder().name("InstanceId").value(id).build()]);
    a
}

#[tokio::test]
async fn every_instance_in_scope_needs_its_own_alarms() {
    use cw::types::StateValue::Ok as Fine;
    let watched = vec![
        on_instance(alarm("juki-web01-cpu", "CPUUtilization", true, Fine), "i-web01"),
        on_instance(alarm("juki-web01-mem", "mem_used_percent", true, Fine), "i-web01"),
        on_instance(alarm("juki-web01-disk", "disk_used_percent", true, Fine), "i-web01"),
    ];
    let mut rules = vec![alarms_rule(watched.clone())];
    rules.extend(inventory(&["i-web01"]));
    let c = monitoring("4", &rules).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert!(c.evidence.iter().any(|e| e.subject == "i-web01" && e.status == EvidenceStatus::Pass), "{:?}", c.evidence);

    // A second instance with no alarm of its own: every category is still "covered" by web01's alarms.
    let mut rules = vec![alarms_rule(watched)];
    rules.extend(inventory(&["i-web01", "i-web02"]));
    let c = monitoring("4", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng);
    let fail = c.evidence.iter().find(|e| e.status == EvidenceStatus::Fail).expect("a finding");
    assert_eq!(fail.subject, "i-web02");
    assert!(fail.detail.contains("cpu/memory/disk") || fail.detail.contains("CPU/memory/disk"), "{}", fail.detail);
}

/// The scope covers the DR region too: a standby instance there needs its own alarms.
#[tokio::test]
async fn a_dr_region_instance_in_scope_without_alarms_is_ng() {
    use cw::types::StateValue::Ok as Fine;
    let watched = vec![
        on_instance(alarm("juki-web01-cpu", "CPUUtilization", true, Fine), "i-web01"),
        on_instance(alarm("juki-web01-mem", "mem_used_percent", true, Fine), "i-web01"),
        on_instance(alarm("juki-web01-disk", "disk_used_percent", true, Fine), "i-web01"),
    ];
    let primary: Vec<Rule> = std::iter::once(alarms_rule(watched)).chain(inventory(&["i-web01"])).collect();
    // 大阪 (ap-northeast-3): one standby instance, no alarm at all.
    let dr: Vec<Rule> = std::iter::once(alarms_rule(Vec::new())).chain(inventory(&["i-dr01"])).collect();
    let text = "[environment]\nname = \"t\"\n[aws]\nprimary_region = \"ap-northeast-1\"\ndr_region = \"ap-northeast-3\"\n";
    let scenario = Arc::new(gcverify_scenarios::parse(text, Path::new("t.toml")).expect("scenario"));
    let item = Catalog::builtin().get("C.1.3.1").cloned().expect("catalog item");
    let levels = Arc::new(Catalog::builtin().levels_in_force(&scenario));
    let input = ProbeInput::alone(item, "4".into(), levels, scenario, common::aws_regional(&primary, "ap-northeast-3", &dr), now(), None);
    let c = probes::monitoring::alarms(Arc::new(input)).await.conclude("4");
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    let fails: Vec<&str> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, ["i-dr01"], "{:?}", c.evidence);
    assert!(c.evidence.iter().any(|e| e.subject == "i-web01" && e.status == EvidenceStatus::Pass));
}

#[tokio::test]
async fn unreadable_inventory_is_error_not_ok() {
    let denied = mock!(ec2::Client::describe_instances).then_error(|| {
        ec2::operation::describe_instances::DescribeInstancesError::generic(ErrorMetadata::builder().code("UnauthorizedOperation").message("no").build())
    });
    let c = monitoring("4", &[alarms_rule(full_alarm_set()), denied]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
}

#[tokio::test]
async fn alarms_for_every_category_with_actions_is_ok() {
    let rules: Vec<Rule> = std::iter::once(alarms_rule(full_alarm_set())).chain(inventory(&["i-0web01"])).collect();
    let c = monitoring("5", &rules).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    // Four categories plus the one in-scope instance watched by its own alarms.
    assert_eq!(c.evidence.iter().filter(|e| e.status == EvidenceStatus::Pass).count(), 5);
    // System-wide alarms alone, with nothing in scope, are no OK.
    let c = monitoring("5", &[alarms_rule(full_alarm_set())]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.ja.contains("対象リソースなし（[scope] を確認）"), "{}", c.summary.ja);
}

#[tokio::test]
async fn missing_latency_alarm_is_ng_at_level_5_but_ok_at_level_4() {
    let mut set = full_alarm_set();
    set.pop();
    let rules: Vec<Rule> = std::iter::once(alarms_rule(set.clone())).chain(inventory(&["i-0web01"])).collect();
    let c = monitoring("5", &rules).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("response time/latency"), "{}", c.summary.en);
    let rules: Vec<Rule> = std::iter::once(alarms_rule(set)).chain(inventory(&["i-0web01"])).collect();
    assert_eq!(monitoring("4", &rules).await.outcome, Outcome::Ok);
}

#[tokio::test]
async fn disabled_action_and_stuck_insufficient_data_are_ng_naming_the_alarm() {
    let mut set = full_alarm_set();
    set[0] = alarm("juki-web01-cpu", "CPUUtilization", false, cw::types::StateValue::Ok);
    set[1] = alarm("juki-web01-mem", "mem_used_percent", true, cw::types::StateValue::InsufficientData);
    let c = monitoring("5", &[alarms_rule(set)]).await;
    assert_eq!(c.outcome, Outcome::Ng);
    let fails: Vec<&str> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert!(fails.contains(&"juki-web01-cpu") && fails.contains(&"juki-web01-mem"), "{fails:?}");
}

#[tokio::test]
async fn describe_alarms_access_denied_is_error() {
    let denied = mock!(cw::Client::describe_alarms).then_error(|| {
        cw::operation::describe_alarms::DescribeAlarmsError::generic(
            ErrorMetadata::builder().code("AccessDenied").message("not authorized to perform cloudwatch:DescribeAlarms").build(),
        )
    });
    let c = monitoring("5", &[denied]).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(errors(&c).contains("permission denied"), "{}", errors(&c));
}

#[tokio::test]
async fn describe_alarms_throttled_is_error() {
    let throttled = mock!(cw::Client::describe_alarms).then_error(|| {
        cw::operation::describe_alarms::DescribeAlarmsError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build())
    });
    let c = monitoring("5", &[throttled]).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(errors(&c).contains("throttled"), "{}", errors(&c));
}

#[tokio::test]
async fn monitoring_level_2_is_error_unsupported() {
    assert_eq!(monitoring("2", &[]).await.outcome, Outcome::Error);
}

// ---------------------------------------------------------------- C.2.3.5 / E.4.3.4

fn instances_rule(ids: &'static [&'static str]) -> Rule {
    mock!(ec2::Client::describe_instances).then_output(move || {
        let r = ec2::types::Reservation::builder()
            .set_instances(Some(
                ids.iter()
                    .map(|i| {
                        ec2::types::Instance::builder()
                            .instance_id(*i)
                            .state(ec2::types::InstanceState::builder().name(ec2::types::InstanceStateName::Running).build())
                            .build()
                    })
                    .collect(),
            ))
            .build();
        ec2::operation::describe_instances::DescribeInstancesOutput::builder().reservations(r).build()
    })
}

fn managed_rule(ids: &'static [&'static str]) -> Rule {
    mock!(ssm::Client::describe_instance_information).then_output(move || {
        ssm::operation::describe_instance_information::DescribeInstanceInformationOutput::builder()
            .set_instance_information_list(Some(
                ids.iter().map(|i| ssm::types::InstanceInformation::builder().instance_id(*i).ping_status(ssm::types::PingStatus::Online).build()).collect(),
            ))
            .build()
    })
}

fn patch_state(id: &str, failed: i32, critical: i32, security: i32) -> ssm::types::InstancePatchState {
    ssm::types::InstancePatchState::builder()
        .instance_id(id)
        .patch_group("juki")
        .baseline_id("pb-0123456789abcdef0")
        .operation_start_time(aws_smithy_types::DateTime::from_secs(now().timestamp() - 7200))
        .operation_end_time(aws_smithy_types::DateTime::from_secs(now().timestamp() - 3600))
        .operation(ssm::types::PatchOperationType::Scan)
        .installed_count(120)
        .missing_count(critical + security + 2)
        .failed_count(failed)
        .critical_non_compliant_count(critical)
        .security_non_compliant_count(security)
        .build()
        .expect("patch state")
}

fn patch_rule(states: Vec<ssm::types::InstancePatchState>) -> Rule {
    mock!(ssm::Client::describe_instance_patch_states).then_output(move || {
        ssm::operation::describe_instance_patch_states::DescribeInstancePatchStatesOutput::builder().set_instance_patch_states(Some(states.clone())).build()
    })
}

async fn patching(rules: &[Rule]) -> Conclusion {
    probes::operations::patching(input("C.2.3.5", "4", "", rules)).await.conclude("4")
}

#[tokio::test]
async fn patched_managed_instances_are_ok() {
    let c = patching(&[
        instances_rule(&["i-web", "i-db"]),
        managed_rule(&["i-web", "i-db"]),
        patch_rule(vec![patch_state("i-web", 0, 0, 0), patch_state("i-db", 0, 0, 0)]),
    ])
    .await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert!(c.summary.en.contains("all 2 instance(s)"), "{}", c.summary.en);
}

#[tokio::test]
async fn missing_security_patch_and_failed_install_are_ng() {
    let c = patching(&[
        instances_rule(&["i-web", "i-db"]),
        managed_rule(&["i-web", "i-db"]),
        patch_rule(vec![patch_state("i-web", 1, 0, 0), patch_state("i-db", 0, 0, 3)]),
    ])
    .await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("i-web") && c.summary.en.contains("failed install"), "{}", c.summary.en);
    assert!(c.summary.en.contains("i-db") && c.summary.en.contains("3 missing security"), "{}", c.summary.en);
}

#[tokio::test]
async fn unmanaged_instance_is_ng() {
    let c = patching(&[instances_rule(&["i-web", "i-rogue"]), managed_rule(&["i-web"]), patch_rule(vec![patch_state("i-web", 0, 0, 0)])]).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("i-rogue") && c.summary.en.contains("not SSM-managed"), "{}", c.summary.en);
}

#[tokio::test]
async fn ssm_access_denied_and_throttled_are_error() {
    let denied = mock!(ssm::Client::describe_instance_information).then_error(|| {
        ssm::operation::describe_instance_information::DescribeInstanceInformationError::generic(
            ErrorMetadata::builder().code("AccessDeniedException").message("denied").build(),
        )
    });
    let c = patching(&[instances_rule(&["i-web"]), denied]).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(errors(&c).contains("permission denied"), "{}", errors(&c));

    let throttled = mock!(ssm::Client::describe_instance_patch_states).then_error(|| {
        ssm::operation::describe_instance_patch_states::DescribeInstancePatchStatesError::generic(
            ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build(),
        )
    });
    let c = patching(&[instances_rule(&["i-web"]), managed_rule(&["i-web"]), throttled]).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(errors(&c).contains("throttled"), "{}", errors(&c));
}

#[tokio::test]
async fn unimplemented_ssm_api_is_error_naming_it() {
    let not_there = mock!(ssm::Client::describe_instance_information).then_http_response(html_404);
    let c = patching(&[instances_rule(&["i-web"]), not_there]).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(errors(&c).contains("does not implement"), "{}", errors(&c));
}

const AV: &str = "[patching]\nav_association = \"juki-av-update\"\n";

fn association_rules(hours_ago: i64, targets: &'static [&'static str]) -> Vec<Rule> {
    vec![
        mock!(ssm::Client::list_associations).then_output(|| {
            ssm::operation::list_associations::ListAssociationsOutput::builder()
                .associations(ssm::types::Association::builder().association_id("assoc-1").name("juki-av-update").build())
                .build()
        }),
        mock!(ssm::Client::describe_association).then_output(move || {
            ssm::operation::describe_association::DescribeAssociationOutput::builder()
                .association_description(
                    ssm::types::AssociationDescription::builder()
                        .association_id("assoc-1")
                        .association_name("juki-av-update")
                        .last_successful_execution_date(aws_smithy_types::DateTime::from_secs(now().timestamp() - hours_ago * 3600))
                        .targets(ssm::types::Target::builder().key("InstanceIds").set_values(Some(targets.iter().map(|s| s.to_string()).collect())).build())
                        .build(),
                )
                .build()
        }),
    ]
}

async fn antivirus(level: &str, extra: &str, rules: Vec<Rule>) -> Conclusion {
    probes::operations::antivirus(input("E.4.3.4", level, extra, &rules)).await.conclude(level)
}

#[tokio::test]
async fn av_definitions_updated_within_24h_is_ok() {
    let mut rules = vec![instances_rule(&["i-web", "i-db"]), managed_rule(&["i-web", "i-db"])];
    rules.extend(association_rules(3, &["i-web", "i-db"]));
    let c = antivirus("2", AV, rules).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
}

#[tokio::test]
async fn stale_av_definitions_are_ng_at_level_2_and_ok_at_level_1() {
    let mut rules = vec![instances_rule(&["i-web"]), managed_rule(&["i-web"])];
    rules.extend(association_rules(30, &["i-web"]));
    let c = antivirus("2", AV, rules.clone()).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("older than 24h"), "{}", c.summary.en);
    // Level 1 (定期保守時) allows 31 days by default.
    assert_eq!(antivirus("1", AV, rules).await.outcome, Outcome::Ok);
}

#[tokio::test]
async fn av_association_missing_instance_or_unmanaged_is_ng() {
    let mut rules = vec![instances_rule(&["i-web", "i-db"]), managed_rule(&["i-web", "i-db"])];
    rules.extend(association_rules(3, &["i-web"]));
    let c = antivirus("2", AV, rules).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("i-db"), "{}", c.summary.en);

    let mut rules = vec![instances_rule(&["i-web", "i-db"]), managed_rule(&["i-web"])];
    rules.extend(association_rules(3, &["i-web", "i-db"]));
    let c = antivirus("2", AV, rules).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("not SSM-managed"), "{}", c.summary.en);
}

#[tokio::test]
async fn av_association_absent_is_ng_and_unnamed_is_error() {
    let none = mock!(ssm::Client::list_associations).then_output(|| ssm::operation::list_associations::ListAssociationsOutput::builder().build());
    let c = antivirus("2", AV, vec![instances_rule(&["i-web"]), managed_rule(&["i-web"]), none]).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("does not exist"), "{}", c.summary.en);
    assert_eq!(antivirus("2", "", vec![]).await.outcome, Outcome::Error);
}

#[tokio::test]
async fn av_list_associations_denied_and_throttled_are_error() {
    let denied = mock!(ssm::Client::list_associations).then_error(|| {
        ssm::operation::list_associations::ListAssociationsError::generic(ErrorMetadata::builder().code("AccessDeniedException").message("denied").build())
    });
    let c = antivirus("2", AV, vec![instances_rule(&["i-web"]), managed_rule(&["i-web"]), denied]).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(errors(&c).contains("permission denied"), "{}", errors(&c));
    let throttled = mock!(ssm::Client::list_associations).then_error(|| {
        ssm::operation::list_associations::ListAssociationsError::generic(ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build())
    });
    let c = antivirus("2", AV, vec![instances_rule(&["i-web"]), managed_rule(&["i-web"]), throttled]).await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(errors(&c).contains("throttled"), "{}", errors(&c));
}
