//! E.5.1.1 root-account MFA against canned IAM answers (`aws-smithy-mocks`):
//! moto hard-codes `AccountMFAEnabled=0`, so the OK path, the NG path on a
//! real (non-emulator) endpoint, permission denied and throttling are only
//! reachable here.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_iam::operation::get_account_summary::{GetAccountSummaryError, GetAccountSummaryOutput};
use aws_sdk_iam::operation::list_users::ListUsersOutput;
use aws_sdk_iam::types::SummaryKeyType;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use chrono::{TimeZone, Utc};

use gcverify_checks::probes::{self, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, EvidenceStatus, Outcome};

mod common;
use common::aws;

async fn mfa(level: &str, rules: &[Rule]) -> Conclusion {
    let scenario = Arc::new(gcverify_scenarios::parse("[environment]\nname = \"t\"\n", Path::new("t.toml")).expect("scenario"));
    let input = Arc::new(ProbeInput::alone(
        Catalog::builtin().get("E.5.1.1").cloned().expect("item"),
        level.into(),
        Arc::new(Default::default()),
        scenario,
        aws(rules),
        Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("clock"),
        None,
    ));
    probes::access::mfa(input).await.conclude(level)
}

fn summary(mfa: i32) -> Rule {
    mock!(aws_sdk_iam::Client::get_account_summary).then_output(move || {
        GetAccountSummaryOutput::builder().summary_map(SummaryKeyType::AccountMfaEnabled, mfa).summary_map(SummaryKeyType::Users, 0).build()
    })
}

fn no_users() -> Rule {
    mock!(aws_sdk_iam::Client::list_users).then_output(|| ListUsersOutput::builder().set_users(Some(vec![])).build().expect("output"))
}

/// IAM (awsQuery) error body.
fn iam_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let mut r = HttpResponse::new(
        StatusCode::try_from(status).expect("status"),
        SdkBody::from(format!(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        )),
    );
    r.headers_mut().insert("content-type", "text/xml");
    r
}

#[tokio::test]
async fn root_mfa_enabled_is_ok() {
    let c = mfa("3", &[summary(1), no_users()]).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
    assert!(c.evidence.iter().any(|e| e.subject == "root-account" && e.status == EvidenceStatus::Pass && e.detail == "AccountMFAEnabled=1"));
}

#[tokio::test]
async fn root_without_mfa_on_real_aws_is_ng() {
    let c = mfa("3", &[summary(0), no_users()]).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    assert!(c.summary.en.contains("root-account: AccountMFAEnabled=0"), "{}", c.summary.en);
}

#[tokio::test]
async fn level_one_does_not_require_root_mfa() {
    // No other observation is made: nothing compliant was seen, so never OK.
    let c = mfa("1", &[summary(0), no_users()]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.evidence.iter().all(|e| e.status != EvidenceStatus::Fail));
}

#[tokio::test]
async fn access_denied_is_error() {
    let denied = mock!(aws_sdk_iam::Client::get_account_summary).then_http_response(|| {
        iam_error(403, "AccessDenied", "User: arn:aws:iam::123456789012:user/audit is not authorized to perform: iam:GetAccountSummary")
    });
    let c = mfa("3", &[denied, no_users()]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("iam:GetAccountSummary: permission denied"), "{}", c.summary.en);
}

#[tokio::test]
async fn throttling_is_error_after_retries() {
    let throttled = mock!(aws_sdk_iam::Client::get_account_summary)
        .then_error(|| GetAccountSummaryError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build()));
    let c = mfa("3", &[throttled.clone(), no_users()]).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
    assert!(c.summary.en.contains("throttled"), "{}", c.summary.en);
    assert!(throttled.num_calls() > 2, "retried: {}", throttled.num_calls());
}

/// Console users come from one credential report (no per-user calls); a user
/// with a password and no MFA is NG, one without a password is only context.
#[tokio::test]
async fn console_users_are_read_from_the_credential_report() {
    use aws_sdk_iam::operation::generate_credential_report::GenerateCredentialReportOutput;
    use aws_sdk_iam::operation::get_credential_report::GetCredentialReportOutput;
    use aws_sdk_iam::types::ReportStateType;
    let report = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active\n\
        <root_account>,arn:aws:iam::1:root,2020,not_supported,N/A,N/A,N/A,true\n\
        ope-tanaka,arn:aws:iam::1:user/ope-tanaka,2020,true,N/A,N/A,N/A,true\n\
        ope-sato,arn:aws:iam::1:user/ope-sato,2020,true,N/A,N/A,N/A,false\n\
        batch,arn:aws:iam::1:user/batch,2020,false,N/A,N/A,N/A,false\n";
    let generate = mock!(aws_sdk_iam::Client::generate_credential_report)
        .then_output(|| GenerateCredentialReportOutput::builder().state(ReportStateType::Complete).build());
    let get = mock!(aws_sdk_iam::Client::get_credential_report).then_output(move || {
        GetCredentialReportOutput::builder()
            .content(aws_smithy_types::Blob::new(report.as_bytes().to_vec()))
            .generated_time(aws_smithy_types::DateTime::from_secs(1_774_915_200))
            .build()
    });
    let list = mock!(aws_sdk_iam::Client::list_users).then_output(|| ListUsersOutput::builder().build().expect("output"));
    let c = mfa("2", &[summary(1), generate, get, list.clone()]).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    let fails: Vec<&str> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, ["ope-sato"]);
    let tanaka = c.evidence.iter().find(|e| e.subject == "ope-tanaka").expect("tanaka");
    assert_eq!(tanaka.status, EvidenceStatus::Pass);
    assert!(tanaka.detail.contains("credential report generated"), "{}", tanaka.detail);
    assert!(c.evidence.iter().any(|e| e.subject == "batch" && e.status == EvidenceStatus::Info));
    assert_eq!(list.num_calls(), 0, "the report replaces the per-user calls");
}

/// F.1.1.1: an endpoint that lists regions of other partitions (cn-*, us-gov-*)
/// gets only the account's own partition scanned; the others are not even listed.
#[tokio::test]
async fn residency_scans_only_the_accounts_partition() {
    use aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput;
    use aws_sdk_ec2::types::Region;
    let regions = mock!(aws_sdk_ec2::Client::describe_regions).then_output(|| {
        let mut out = DescribeRegionsOutput::builder();
        for r in ["ap-northeast-1", "ap-northeast-3", "us-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1"] {
            out = out.regions(Region::builder().region_name(r).opt_in_status("opt-in-not-required").build());
        }
        out.build()
    });
    let instances =
        mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput::builder().build());
    let scenario = Arc::new(gcverify_scenarios::parse("[environment]\nname = \"t\"\n", Path::new("t.toml")).expect("scenario"));
    let item = Catalog::builtin().get("F.1.1.1").cloned().expect("item");
    let level = item.selected_level.clone();
    let input = Arc::new(ProbeInput::alone(item, level.clone(), Arc::new(Default::default()), scenario, aws(&[regions, instances.clone()]), Utc::now(), None));
    let c = probes::residency::regions(input).await.conclude(&level);
    // Two allowed regions and us-east-1; never cn-* or us-gov-*.
    assert_eq!(instances.num_calls(), 3, "only the aws partition is scanned: {:?}", c.evidence);
    // An account with nothing in it holds no data to locate: not OK about nothing.
    assert_eq!(c.outcome, Outcome::Error, "{} {:?}", c.summary.en, c.evidence);
    assert!(c.summary.en.contains("no data to locate"), "{}", c.summary.en);
}
