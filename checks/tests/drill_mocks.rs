//! The restore drill against canned AWS answers (`aws-smithy-mocks`), for the
//! faults the emulator cannot produce: a job that fails without creating
//! anything, an instance AWS never reports up, a restore slower than the RTO,
//! Ctrl-C (once: wait and delete; twice: leave it to `drill cleanup`, which
//! then finishes from the journal), cleanup while a job still runs, a refused
//! delete, a refused start, a missing isolated target, RDS naming and types
//! the drill cannot restore, a copy the host cannot reach. What the emulator
//! serves (restores that create EC2/RDS copies, generations, the DR site, a
//! failed job that left a copy, failing health checks, validation of the
//! restored data) runs against it: tests/tests/drill_emulator.rs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_mocks::{mock, Rule};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use chrono::{DateTime, TimeZone, Utc};

use gcverify_checks::drill::{self, CleanupState, DrillOptions, DrillReport, Stage};
use gcverify_checks::probes::{self, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, Outcome};
use gcverify_demo::postgres::PgServer;

mod common;
use common::aws;

const ACCOUNT: &str = "123456789012";
const I1: &str = "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0juki1";
const COPY: &str = "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0copy";
const DB: &str = "arn:aws:rds:ap-northeast-1:123456789012:db:juki-db";

mod ec2 {
    pub use aws_sdk_ec2::operation::create_tags::CreateTagsOutput;
    pub use aws_sdk_ec2::operation::describe_instance_status::DescribeInstanceStatusOutput;
    pub use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
    pub use aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput;
    pub use aws_sdk_ec2::operation::modify_instance_attribute::ModifyInstanceAttributeOutput;
    pub use aws_sdk_ec2::operation::terminate_instances::TerminateInstancesOutput;
    pub use aws_sdk_ec2::types::{
        EbsInstanceBlockDevice, Instance, InstanceBlockDeviceMapping, InstanceState, InstanceStateName, InstanceStatus, InstanceStatusSummary, Reservation,
        SummaryStatus, Tag,
    };
    pub use aws_sdk_ec2::Client;
}
mod rds {
    pub use aws_sdk_rds::operation::add_tags_to_resource::AddTagsToResourceOutput;
    pub use aws_sdk_rds::operation::delete_db_instance::DeleteDbInstanceOutput;
    pub use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
    pub use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    pub use aws_sdk_rds::types::{DbInstance, Endpoint, Tag};
    pub use aws_sdk_rds::Client;
}
mod bk {
    pub use aws_sdk_backup::operation::describe_restore_job::DescribeRestoreJobOutput;
    pub use aws_sdk_backup::operation::get_recovery_point_restore_metadata::GetRecoveryPointRestoreMetadataOutput;
    pub use aws_sdk_backup::operation::list_recovery_points_by_resource::ListRecoveryPointsByResourceOutput;
    pub use aws_sdk_backup::operation::start_restore_job::StartRestoreJobOutput;
    pub use aws_sdk_backup::types::{RecoveryPointByResource, RecoveryPointStatus, RestoreJobStatus};
    pub use aws_sdk_backup::Client;
}

// ---------------------------------------------------------------- harness

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("fixed clock")
}
fn smithy(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

const DRILL: &str = r#"
[continuity.drill]
iam_role_arn = "arn:aws:iam::123456789012:role/gcverify-restore"
subnet_id = "subnet-iso"
security_group_ids = ["sg-iso"]
db_subnet_group = "iso-db"
"#;

fn scenario(extra: &str) -> Arc<gcverify_scenarios::Scenario> {
    let text = format!(
        "[environment]\nname = \"t\"\n[aws]\nprimary_region = \"ap-northeast-1\"\ndr_region = \"ap-northeast-3\"\n[scope]\ntags = {{ System = \"juki\" }}\n{extra}"
    );
    Arc::new(gcverify_scenarios::parse(&text, Path::new("t.toml")).expect("scenario"))
}

fn input(id: &str, level: &str, extra: &str, rules: &[Rule], drill: Option<DrillReport>) -> Arc<ProbeInput> {
    let item = Catalog::builtin().get(id).cloned().expect("catalog item");
    Arc::new(ProbeInput::alone(item, level.to_string(), Default::default(), scenario(extra), aws(rules), now(), drill.map(Arc::new)))
}

fn opts(dir: &Path) -> DrillOptions {
    DrillOptions {
        drill_id: "gcverify-drill-20260401000000".into(),
        state_dir: dir.to_path_buf(),
        poll: Duration::from_millis(5),
        restore_timeout: Duration::from_secs(10),
        health_timeout: Duration::from_secs(3),
        site: drill::Site::Primary,
        generation: 1,
    }
}

/// Run the drill (never cancelled).
async fn drill_with(extra: &str, rules: &[Rule], o: &DrillOptions) -> DrillReport {
    let i = input("A.1.3.2", "*", extra, rules, None);
    drill::run(&i, o, drill::Cancel::never(), &|_| {}).await.expect("drill runs")
}

async fn rto(report: DrillReport, level: &str) -> Conclusion {
    probes::continuity::rto(input("A.1.3.2", level, DRILL, &[], Some(report))).await.conclude(level)
}

fn text(c: &Conclusion) -> String {
    c.evidence.iter().map(|e| format!("{:?} {} {}", e.status, e.subject, e.detail)).collect::<Vec<_>>().join("\n")
}

fn http(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut r = HttpResponse::new(StatusCode::try_from(status).expect("status"), SdkBody::from(body.to_string()));
    for (k, v) in headers {
        r.headers_mut().insert(k.to_string(), v.to_string());
    }
    r
}
fn backup_error(status: u16, code: &str) -> HttpResponse {
    http(status, &[("content-type", "application/json"), ("x-amzn-errortype", code)], "{\"Message\":\"denied by policy\"}")
}
fn ec2_error(status: u16, code: &str) -> HttpResponse {
    http(
        status,
        &[("content-type", "text/xml")],
        &format!("<Response><Errors><Error><Code>{code}</Code><Message>not allowed</Message></Error></Errors><RequestID>r1</RequestID></Response>"),
    )
}

// ---------------------------------------------------------------- canned answers

/// Discovery lists the production instance; a lookup by ID (the copy) answers with the copy.
fn instances() -> Rule {
    mock!(ec2::Client::describe_instances).then_compute_output(|req| {
        if req.instance_ids().is_empty() {
            let prod = ec2::Instance::builder()
                .instance_id("i-0juki1")
                .state(ec2::InstanceState::builder().name(ec2::InstanceStateName::Running).build())
                .tags(ec2::Tag::builder().key("System").value("juki").build())
                .build();
            ec2::DescribeInstancesOutput::builder().reservations(ec2::Reservation::builder().owner_id(ACCOUNT).instances(prod).build()).build()
        } else {
            let copy = ec2::Instance::builder()
                .instance_id("i-0copy")
                .private_ip_address("127.0.0.1")
                .block_device_mappings(
                    ec2::InstanceBlockDeviceMapping::builder()
                        .device_name("/dev/xvdb")
                        .ebs(ec2::EbsInstanceBlockDevice::builder().delete_on_termination(false).build())
                        .build(),
                )
                .build();
            ec2::DescribeInstancesOutput::builder().reservations(ec2::Reservation::builder().owner_id(ACCOUNT).instances(copy).build()).build()
        }
    })
}
fn no_db() -> Vec<Rule> {
    vec![
        mock!(rds::Client::describe_db_instances).then_output(|| rds::DescribeDbInstancesOutput::builder().build()),
        mock!(rds::Client::describe_db_clusters).then_output(|| rds::DescribeDbClustersOutput::builder().build()),
    ]
}
fn point() -> Rule {
    mock!(bk::Client::list_recovery_points_by_resource).then_compute_output(|req| {
        let arn = req.resource_arn().unwrap_or("");
        bk::ListRecoveryPointsByResourceOutput::builder()
            .recovery_points(
                bk::RecoveryPointByResource::builder()
                    .recovery_point_arn(format!("{arn}:rp-1"))
                    .backup_vault_name("juki-vault")
                    .creation_date(smithy(now() - chrono::Duration::hours(6)))
                    .status(bk::RecoveryPointStatus::Completed)
                    .build(),
            )
            .build()
    })
}
fn metadata() -> Rule {
    mock!(bk::Client::get_recovery_point_restore_metadata).then_output(|| {
        bk::GetRecoveryPointRestoreMetadataOutput::builder()
            .restore_metadata("InstanceType", "m5.large")
            .restore_metadata("NetworkInterfaces", "[{\"SubnetId\":\"subnet-prod\"}]")
            .build()
    })
}
/// Accepts only a start that goes to the isolated subnet with the drill role.
fn start() -> Rule {
    mock!(bk::Client::start_restore_job)
        .match_requests(|r| {
            let md = r.metadata().cloned().unwrap_or_default();
            r.iam_role_arn() == Some("arn:aws:iam::123456789012:role/gcverify-restore")
                && md.get("SubnetId").map(String::as_str) == Some("subnet-iso")
                && !md.contains_key("NetworkInterfaces")
        })
        .then_output(|| bk::StartRestoreJobOutput::builder().restore_job_id("job-1").build())
}
fn job(status: bk::RestoreJobStatus, created: Option<&'static str>) -> bk::DescribeRestoreJobOutput {
    let started = now() - chrono::Duration::minutes(40);
    let mut o = bk::DescribeRestoreJobOutput::builder().restore_job_id("job-1").status(status.clone()).creation_date(smithy(started));
    if matches!(status, bk::RestoreJobStatus::Completed | bk::RestoreJobStatus::Failed) {
        o = o.completion_date(smithy(started + chrono::Duration::minutes(25)));
    }
    if status == bk::RestoreJobStatus::Failed {
        o = o.status_message("snapshot not accessible");
    }
    if let Some(c) = created {
        o = o.created_resource_arn(c);
    }
    o.build()
}
/// RUNNING `n` times, then `last`.
fn job_after(n: usize, last: bk::RestoreJobStatus, created: Option<&'static str>) -> Rule {
    if n == 0 {
        return mock!(bk::Client::describe_restore_job).then_output(move || job(last.clone(), created));
    }
    mock!(bk::Client::describe_restore_job)
        .sequence()
        .output(|| job(bk::RestoreJobStatus::Running, None))
        .times(n)
        .output(move || job(last.clone(), created))
        .repeatedly()
        .build()
}
fn tags() -> Rule {
    mock!(ec2::Client::create_tags)
        .match_requests(|r| r.resources().contains(&"i-0copy".to_string()) && r.tags().iter().any(|t| t.key() == Some(drill::kinds::TAG)))
        .then_output(|| ec2::CreateTagsOutput::builder().build())
}
fn status(ok: bool) -> Rule {
    mock!(ec2::Client::describe_instance_status).then_output(move || status_output(ok))
}
fn modify() -> Rule {
    mock!(ec2::Client::modify_instance_attribute).then_output(|| ec2::ModifyInstanceAttributeOutput::builder().build())
}
fn terminate() -> Rule {
    mock!(ec2::Client::terminate_instances)
        .match_requests(|r| r.instance_ids() == ["i-0copy".to_string()])
        .then_output(|| ec2::TerminateInstancesOutput::builder().build())
}

/// The EC2 path up to the restore job: discovery, point, metadata, start, `job`, then `rest`.
fn ec2_path(job: Rule, rest: Vec<Rule>) -> Vec<Rule> {
    let mut rules = vec![instances(), point(), metadata(), start(), job];
    rules.extend(no_db());
    rules.extend(rest);
    rules
}

fn journal_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

const RDS_COPY: &str = "arn:aws:rds:ap-northeast-1:123456789012:db:gcverify-drill-20260401000000-0";

/// The RDS path of a drill: discovery of `juki-db`, its point, a start that
/// must go to the isolated subnet group, the job, tagging and deletion; the
/// copy answers at `address:port`. Returns the start and delete rules to count.
fn rds_path(address: &'static str, port: u16) -> (Vec<Rule>, Rule, Rule) {
    let start = mock!(bk::Client::start_restore_job)
        .match_requests(|r| {
            let md = r.metadata().cloned().unwrap_or_default();
            md.get("DBInstanceIdentifier").map(String::as_str) == Some("gcverify-drill-20260401000000-0")
                && md.get("DBSubnetGroupName").map(String::as_str) == Some("iso-db")
                && md.get("DeletionProtection").map(String::as_str) == Some("false")
        })
        .then_output(|| bk::StartRestoreJobOutput::builder().restore_job_id("job-1").build());
    let delete = mock!(rds::Client::delete_db_instance)
        .match_requests(|r| r.skip_final_snapshot() == Some(true) && r.db_instance_identifier() == Some("gcverify-drill-20260401000000-0"))
        .then_output(|| rds::DeleteDbInstanceOutput::builder().build());
    let rules = vec![
        mock!(ec2::Client::describe_instances).then_output(|| ec2::DescribeInstancesOutput::builder().build()),
        mock!(rds::Client::describe_db_instances).then_compute_output(move |r| {
            let db = match r.db_instance_identifier() {
                None => rds::DbInstance::builder()
                    .db_instance_identifier("juki-db")
                    .db_instance_arn(DB)
                    .tag_list(rds::Tag::builder().key("System").value("juki").build()),
                Some(id) => rds::DbInstance::builder()
                    .db_instance_identifier(id)
                    .db_instance_status("available")
                    .endpoint(rds::Endpoint::builder().address(address).port(port as i32).build()),
            };
            rds::DescribeDbInstancesOutput::builder().db_instances(db.build()).build()
        }),
        mock!(rds::Client::describe_db_clusters).then_output(|| rds::DescribeDbClustersOutput::builder().build()),
        point(),
        mock!(bk::Client::get_recovery_point_restore_metadata).then_output(|| bk::GetRecoveryPointRestoreMetadataOutput::builder().build()),
        start.clone(),
        job_after(1, bk::RestoreJobStatus::Completed, Some(RDS_COPY)),
        mock!(rds::Client::add_tags_to_resource).then_output(|| rds::AddTagsToResourceOutput::builder().build()),
        delete.clone(),
    ];
    (rules, start, delete)
}

/// C.1.2.2 「手順通りに復元できる」 by the data: the restored copy (a real
/// PostgreSQL the mocked RDS endpoint points at) is read with the validation
/// queries before it is deleted; the source is another real PostgreSQL.
#[tokio::test]
async fn restored_database_is_validated_by_queries_before_it_is_deleted() {
    use sqlx::Executor;
    if !gcverify_demo::postgres::available_for_tests() {
        return;
    }
    let (source, copy) = (PgServer::start("src-admin").await.expect("source"), PgServer::start("copy-admin").await.expect("copy"));
    for s in [&source, &copy] {
        gcverify_demo::postgres::seed_juki(s, "ro-secret", false).await.expect("seed");
        // The newest business record: 10 minutes before the recovery point (now − 6 h).
        s.admin("juki").await.expect("admin").execute("UPDATE residents SET updated_at = '2026-03-31 17:50:00+00'").await.expect("dating the records");
    }
    std::env::set_var("GCVERIFY_DRILL_DB_PW", "ro-secret");
    let scenario = |lag_limit: f64| {
        format!(
            "[database]\nengine = \"postgres\"\nhost = \"127.0.0.1\"\nport = {}\ndatabase = \"juki\"\nuser = \"gcverify_ro\"\npassword_env = \"GCVERIFY_DRILL_DB_PW\"\ntls = false\n{DRILL}\
             [[continuity.drill.validation]]\nname = \"住民数\"\nquery = \"SELECT count(*) FROM residents\"\ntolerance_percent = 1\n\
             [[continuity.drill.validation]]\nname = \"最終更新\"\nquery = \"SELECT max(updated_at) FROM residents\"\nkind = \"newest\"\nmax_lag_minutes = {lag_limit}\n",
            source.port()
        )
    };
    let judge = |extra: String, report: DrillReport| async move {
        probes::sql::restore::restore_validation(input("C.1.2.2", "*", &extra, &[], Some(report))).await.conclude("*")
    };
    let dir = tempfile::tempdir().expect("tempdir");

    // The copy holds what the source holds, up to 10 minutes before the point.
    let (rules, _, delete) = rds_path("127.0.0.1", copy.port());
    let report = drill_with(&scenario(30.0), &rules, &opts(dir.path())).await;
    let r = &report.resources[0];
    assert_eq!(r.stage, Stage::Healthy, "{r:?}");
    assert_eq!(delete.num_calls(), 1, "the copy is deleted after the validation");
    let c = judge(scenario(30.0), report.clone()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", text(&c));
    assert!(text(&c).contains("restored 20, source 20") && text(&c).contains("10.0 min before the recovery point"), "{}", text(&c));

    // A tighter RPO limit than the restored data meets, then rows missing.
    drop(report);
    let (rules, _, _) = rds_path("127.0.0.1", copy.port());
    let report = drill_with(&scenario(5.0), &rules, &opts(dir.path())).await;
    let c = judge(scenario(5.0), report).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    assert!(text(&c).contains("(limit 5 min)"), "{}", text(&c));
    copy.admin("juki").await.expect("admin").execute("DELETE FROM residents WHERE id <= 5").await.expect("delete rows");
    let (rules, _, _) = rds_path("127.0.0.1", copy.port());
    let report = drill_with(&scenario(30.0), &rules, &opts(dir.path())).await;
    let c = judge(scenario(30.0), report).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    assert!(text(&c).contains("restored 15, source 20 (tolerance 1%)"), "{}", text(&c));

    // A copy the host cannot reach is 検証不能, and so is a run without the drill.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let (rules, _, delete) = rds_path("127.0.0.1", closed);
    let report = drill_with(&scenario(30.0), &rules, &opts(dir.path())).await;
    assert_eq!(delete.num_calls(), 1);
    let c = judge(scenario(30.0), report).await;
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("restored copy"), "{}", c.summary.en);
    let c = probes::sql::restore::restore_validation(input("C.1.2.2", "*", &scenario(30.0), &[], None)).await.conclude("*");
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("--restore-drill"), "{}", c.summary.en);
}

// ------------------------------------------------- generations and the DR site

// ---------------------------------------------------------------- tests

fn status_output(ok: bool) -> ec2::DescribeInstanceStatusOutput {
    let s = if ok { ec2::SummaryStatus::Ok } else { ec2::SummaryStatus::Initializing };
    ec2::DescribeInstanceStatusOutput::builder()
        .instance_statuses(
            ec2::InstanceStatus::builder()
                .instance_state(ec2::InstanceState::builder().name(ec2::InstanceStateName::Running).build())
                .instance_status(ec2::InstanceStatusSummary::builder().status(s.clone()).build())
                .system_status(ec2::InstanceStatusSummary::builder().status(s).build())
                .build(),
        )
        .build()
}

#[tokio::test]
async fn restore_slower_than_the_rto_is_ng() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rules =
        vec![instances(), point(), metadata(), start(), job_after(0, bk::RestoreJobStatus::Completed, Some(COPY)), tags(), status(true), modify(), terminate()];
    rules.extend(no_db());
    let report = drill_with(DRILL, &rules, &opts(dir.path())).await;
    // 25 minutes against level 4's 2 hours is in time; DRILL has no health check, so the
    // copy's health is only AWS's readiness: 要確認, not OK (see the counterfeit below).
    let c = rto(report.clone(), "4").await;
    assert_eq!(c.outcome, Outcome::Pending, "{}", text(&c));
    assert!(text(&c).contains("≤ RTO 2h00m"), "{}", text(&c));
    let mut slow = report;
    slow.resources[0].restore_secs = Some(7 * 3600);
    let c = rto(slow, "4").await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
    assert!(text(&c).contains("> RTO 2h00m"), "{}", text(&c));
}

/// Counterfeit: health checks are configured, but none applies to an EC2 copy
/// (it uses `{endpoint}`, a database's): the copy was only seen up by AWS, so no
/// point that claims it healthy is OK. (Counted globally, the one check made it OK.)
#[tokio::test]
async fn a_copy_without_an_applicable_health_check_is_not_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rules =
        vec![instances(), point(), metadata(), start(), job_after(0, bk::RestoreJobStatus::Completed, Some(COPY)), tags(), status(true), modify(), terminate()];
    rules.extend(no_db());
    let extra = format!("{DRILL}\n[[continuity.drill.health_checks]]\nname = \"db port\"\ntcp = \"{{endpoint}}:{{port}}\"\n");
    let report = drill_with(&extra, &rules, &opts(dir.path())).await;
    let r = &report.resources[0];
    assert_eq!((r.stage, r.health_checks), (Stage::Healthy, 0), "{r:?}");
    let reason = |c: &Conclusion| c.summary.ja.contains("i-0juki1") && c.summary.ja.contains("AWS上の起動のみ確認（適用されるヘルスチェックなし）");
    let judge = |id: &'static str, report: DrillReport| {
        let extra = extra.clone();
        async move {
            let i = input(id, "*", &extra, &[], Some(report));
            let level = i.level.clone();
            match id {
                "A.1.4.1" => probes::drill::dr_rebuild(i).await,
                "C.1.2.5" => probes::drill::restore_generation(i).await,
                _ => probes::continuity::rto(i).await,
            }
            .conclude(&level)
        }
    };
    let c = judge("A.1.3.2", report.clone()).await;
    assert!(c.outcome == Outcome::Pending && reason(&c), "{:?} {}\n{}", c.outcome, c.summary, text(&c));
    let mut dr = report.clone();
    dr.site = drill::Site::Dr;
    let c = judge("A.1.4.1", dr.clone()).await;
    assert!(c.outcome == Outcome::Pending && reason(&c), "{:?} {}\n{}", c.outcome, c.summary, text(&c));
    dr.generation = 2;
    dr.resources[0].usable_points = Some(2);
    let c = judge("C.1.2.5", dr.clone()).await;
    assert!(c.outcome == Outcome::Pending && reason(&c), "{:?} {}\n{}", c.outcome, c.summary, text(&c));
    // The same drill with a check that ran on the copy is OK.
    dr.resources[0].health_checks = 1;
    assert_eq!(judge("A.1.4.1", dr.clone()).await.outcome, Outcome::Ok);
    assert_eq!(judge("C.1.2.5", dr).await.outcome, Outcome::Ok);
}

#[tokio::test]
async fn failed_restore_job_is_ng_and_creates_nothing_to_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let term = terminate();
    let rules = ec2_path(job_after(1, bk::RestoreJobStatus::Failed, None), vec![term.clone()]);
    let report = drill_with(DRILL, &rules, &opts(dir.path())).await;
    let r = &report.resources[0];
    assert_eq!(r.stage, Stage::RestoreFailed);
    assert!(r.detail.contains("snapshot not accessible"), "{}", r.detail);
    assert_eq!(r.cleanup, CleanupState::NothingCreated);
    assert_eq!(term.num_calls(), 0);
    assert_eq!(journal_files(dir.path()), 0);
    let c = rto(report, "*").await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
}

#[tokio::test]
async fn never_healthy_is_ng_and_the_copy_is_still_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let term = terminate();
    let mut rules = vec![
        instances(),
        point(),
        metadata(),
        start(),
        job_after(0, bk::RestoreJobStatus::Completed, Some(COPY)),
        tags(),
        status(false),
        modify(),
        term.clone(),
    ];
    rules.extend(no_db());
    let mut o = opts(dir.path());
    o.health_timeout = Duration::from_millis(60);
    let report = drill_with(DRILL, &rules, &o).await;
    let r = &report.resources[0];
    assert_eq!(r.stage, Stage::Unhealthy, "{r:?}");
    assert!(r.detail.contains("instance status initializing"), "{}", r.detail);
    assert_eq!(term.num_calls(), 1);
    let c = rto(report, "*").await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", text(&c));
}

#[tokio::test]
async fn first_ctrl_c_waits_for_the_restore_and_deletes_the_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let term = terminate();
    let status_rule = status(true);
    let mut rules = vec![
        instances(),
        point(),
        metadata(),
        start(),
        job_after(3, bk::RestoreJobStatus::Completed, Some(COPY)),
        tags(),
        status_rule.clone(),
        modify(),
        term.clone(),
    ];
    rules.extend(no_db());
    let i = input("A.1.3.2", "*", DRILL, &rules, None);
    let (handle, cancel) = drill::cancel::pair();
    let pressed = AtomicBool::new(false);
    let progress = |m: String| {
        if m.contains("RUNNING") && !pressed.swap(true, Ordering::SeqCst) {
            handle.interrupt();
        }
    };
    let report = drill::run(&i, &opts(dir.path()), cancel, &progress).await.expect("drill");
    assert!(report.interrupted);
    let r = &report.resources[0];
    assert_eq!(r.stage, Stage::Interrupted, "{r:?}");
    assert!(matches!(r.cleanup, CleanupState::Deleted(_)), "{:?}", r.cleanup);
    assert_eq!(term.num_calls(), 1);
    assert_eq!(status_rule.num_calls(), 0, "no health measurement after Ctrl-C");
    assert_eq!(journal_files(dir.path()), 0);
    let c = rto(report, "*").await;
    assert_eq!(c.outcome, Outcome::Error, "an interrupted drill measures nothing: {}", text(&c));
}

#[tokio::test]
async fn second_ctrl_c_leaves_the_job_to_cleanup_which_finishes_from_the_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = ec2_path(job_after(usize::MAX / 2, bk::RestoreJobStatus::Completed, Some(COPY)), vec![]);
    let i = input("A.1.3.2", "*", DRILL, &rules, None);
    let (handle, cancel) = drill::cancel::pair();
    let progress = |m: String| {
        if m.contains("RUNNING") {
            handle.interrupt();
            handle.interrupt();
        }
    };
    let report = drill::run(&i, &opts(dir.path()), cancel, &progress).await.expect("drill");
    let r = &report.resources[0];
    assert_eq!(r.stage, Stage::Interrupted);
    assert!(matches!(&r.cleanup, CleanupState::Pending(p) if p.contains("drill cleanup")), "{:?}", r.cleanup);
    assert_eq!(report.left_behind().len(), 1);
    assert_eq!(journal_files(dir.path()), 1, "the journal keeps the running job");

    // Later: the job has finished; cleanup reads the journal and deletes the copy.
    let term = terminate();
    let rules = vec![
        mock!(bk::Client::describe_restore_job).then_output(|| job(bk::RestoreJobStatus::Completed, Some(COPY))),
        instances(),
        modify(),
        term.clone(),
        mock!(ec2::Client::describe_volumes).then_output(|| ec2::DescribeVolumesOutput::builder().build()),
    ];
    let mut rules = rules;
    rules.extend(no_db());
    let ctx = aws(&rules);
    let c = drill::cleanup(&ctx, &["ap-northeast-1".to_string()], dir.path(), false).await.expect("cleanup");
    assert!(c.clean(), "{c:?}");
    assert_eq!(term.num_calls(), 1);
    assert!(c.deleted.iter().any(|d| d.contains("i-0copy")), "{c:?}");
    assert_eq!(journal_files(dir.path()), 0, "journal removed once nothing is pending");
}

#[tokio::test]
async fn cleanup_while_the_job_still_runs_keeps_the_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut j = drill::journal::Journal::new(dir.path(), "gcverify-drill-1");
    j.add(drill::journal::Entry { source_arn: I1.into(), job_id: "job-1".into(), region: "ap-northeast-1".into(), created_arn: None, cleaned: false })
        .expect("journal");
    let mut rules = vec![
        mock!(bk::Client::describe_restore_job).then_output(|| job(bk::RestoreJobStatus::Running, None)),
        instances(),
        mock!(ec2::Client::describe_volumes).then_output(|| ec2::DescribeVolumesOutput::builder().build()),
    ];
    rules.extend(no_db());
    let c = drill::cleanup(&aws(&rules), &["ap-northeast-1".to_string()], dir.path(), false).await.expect("cleanup");
    assert!(!c.clean());
    assert!(c.pending[0].contains("RUNNING"), "{c:?}");
    assert_eq!(c.journals_left.len(), 1);
}

#[tokio::test]
async fn refused_delete_is_reported_as_left_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rules = vec![
        instances(),
        point(),
        metadata(),
        start(),
        job_after(0, bk::RestoreJobStatus::Completed, Some(COPY)),
        tags(),
        status(true),
        modify(),
        mock!(ec2::Client::terminate_instances).then_http_response(|| ec2_error(403, "UnauthorizedOperation")),
    ];
    rules.extend(no_db());
    let report = drill_with(DRILL, &rules, &opts(dir.path())).await;
    let r = &report.resources[0];
    assert_eq!(r.stage, Stage::Healthy, "the measurement itself stands");
    assert!(matches!(&r.cleanup, CleanupState::Failed(f) if f.contains("UnauthorizedOperation") && f.contains("NOT deleted")), "{:?}", r.cleanup);
    assert_eq!(report.left_behind().len(), 1);
    assert_eq!(journal_files(dir.path()), 1, "journal kept for drill cleanup");
    let c = rto(report, "*").await;
    assert!(text(&c).contains("left behind"), "{}", text(&c));
}

#[tokio::test]
async fn refused_start_creates_nothing_and_is_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let describe = job_after(0, bk::RestoreJobStatus::Completed, Some(COPY));
    let mut rules = vec![
        instances(),
        point(),
        metadata(),
        mock!(bk::Client::start_restore_job).then_http_response(|| backup_error(403, "AccessDeniedException")),
        describe.clone(),
    ];
    rules.extend(no_db());
    let report = drill_with(DRILL, &rules, &opts(dir.path())).await;
    let r = &report.resources[0];
    assert_eq!(r.stage, Stage::NotStarted);
    assert!(r.detail.contains("AccessDenied"), "{}", r.detail);
    assert_eq!(r.cleanup, CleanupState::NothingCreated);
    assert_eq!(describe.num_calls(), 0);
    assert_eq!(journal_files(dir.path()), 0);
    let c = rto(report, "*").await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
}

#[tokio::test]
async fn no_isolated_target_means_no_restore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = start();
    let mut rules = vec![instances(), point(), metadata(), start.clone()];
    rules.extend(no_db());
    let cfg = "[continuity.drill]\niam_role_arn = \"arn:aws:iam::123456789012:role/gcverify-restore\"\n";
    let report = drill_with(cfg, &rules, &opts(dir.path())).await;
    assert_eq!(report.resources[0].stage, Stage::NotStarted);
    assert!(report.resources[0].detail.contains("subnet_id"), "{}", report.resources[0].detail);
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn rds_copy_is_named_isolated_and_deleted_without_final_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (rules, start, delete) = rds_path("copy.rds.local", 5432);
    let report = drill_with(DRILL, &rules, &opts(dir.path())).await;
    let r = &report.resources[0];
    assert_eq!(r.resource_type, "RDS");
    assert_eq!(r.stage, Stage::Healthy, "{r:?}");
    assert_eq!(start.num_calls(), 1);
    assert_eq!(delete.num_calls(), 1);
    assert!(matches!(&r.cleanup, CleanupState::Deleted(d) if d.contains("no final snapshot")), "{:?}", r.cleanup);
}

#[tokio::test]
async fn types_the_drill_cannot_delete_are_not_restored_and_the_row_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = start();
    let mut rules = vec![mock!(ec2::Client::describe_instances).then_output(|| ec2::DescribeInstancesOutput::builder().build()), start.clone()];
    rules.extend(no_db());
    let extra = format!("[backup]\nresources = [\"arn:aws:s3:::juki-export\"]\n{DRILL}");
    let report = drill_with(&extra, &rules, &opts(dir.path())).await;
    assert!(report.resources.is_empty());
    assert_eq!(start.num_calls(), 0);
    assert!(report.not_drilled[0].reason.contains("cannot be drilled") && report.not_drilled[0].unmeasured, "{:?}", report.not_drilled);
    let c = rto(report, "*").await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
}

#[test]
fn scenario_without_drill_table_is_refused() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let i = input("A.1.3.2", "*", "", &[], None);
    let e = rt.block_on(drill::run(&i, &opts(dir.path()), drill::Cancel::never(), &|_| {})).expect_err("no [continuity.drill]");
    assert!(e.to_string().contains("[continuity.drill]"), "{e}");
}

#[tokio::test]
async fn only_the_listed_resources_are_drilled_and_unknown_ones_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = ec2_path(job_after(0, bk::RestoreJobStatus::Completed, Some(COPY)), vec![]);
    let extra = format!("{DRILL}resources = [\"arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0gone\"]\n");
    let report = drill_with(&extra, &rules, &opts(dir.path())).await;
    assert!(report.resources.is_empty(), "{report:?}");
    assert_eq!(report.not_drilled.len(), 1);
    assert_eq!(report.not_drilled[0].arn, I1);
    assert!(!report.not_drilled[0].unmeasured, "left out on purpose");
    assert!(report.problems.iter().any(|p| p.contains("i-0gone") && p.contains("not found in scope")), "{:?}", report.problems);
    let c = rto(report, "*").await;
    assert_eq!(c.outcome, Outcome::Error, "{}", text(&c));
}
