//! E.5.2.1 S3 public access: a bucket without its own block is covered by the
//! account-level block (S3 Control). Only reachable with canned answers: the
//! S3 Control client puts the account ID in front of the endpoint's host,
//! which a local emulator on 127.0.0.1 cannot serve.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
use aws_sdk_iam::operation::list_users::ListUsersOutput;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_s3::operation::get_bucket_location::GetBucketLocationOutput;
use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockError;
use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
use aws_sdk_s3::types::{Bucket, BucketLocationConstraint};
use aws_sdk_s3control::operation::get_public_access_block::{GetPublicAccessBlockError as AccountBlockError, GetPublicAccessBlockOutput as AccountBlockOutput};
use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::error::ErrorMetadata;
use chrono::{TimeZone, Utc};

use gcverify_checks::probes::{self, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, EvidenceStatus, Outcome};

mod common;
use common::aws;

/// Everything E.5.2.1 reads, empty, plus one bucket `juki-export` without its own block.
fn base() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| DescribeSecurityGroupsOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| DescribeInstancesOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| DescribeDbInstancesOutput::builder().build()),
        mock!(aws_sdk_iam::Client::list_users).then_output(|| ListUsersOutput::builder().set_users(Some(vec![])).build().expect("users")),
        mock!(aws_sdk_s3::Client::list_buckets).then_output(|| ListBucketsOutput::builder().buckets(Bucket::builder().name("juki-export").build()).build()),
        mock!(aws_sdk_s3::Client::get_bucket_location)
            .then_output(|| GetBucketLocationOutput::builder().location_constraint(BucketLocationConstraint::ApNortheast1).build()),
        mock!(aws_sdk_s3::Client::get_public_access_block)
            .then_error(|| GetPublicAccessBlockError::generic(ErrorMetadata::builder().code("NoSuchPublicAccessBlockConfiguration").message("none").build())),
        mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| GetCallerIdentityOutput::builder().account("123456789012").build()),
    ]
}

fn account(all_on: bool) -> Rule {
    mock!(aws_sdk_s3control::Client::get_public_access_block).then_output(move || {
        AccountBlockOutput::builder()
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(all_on)
                    .build(),
            )
            .build()
    })
}

async fn restrictions(extra: Rule) -> Conclusion {
    restrictions_with(&[], extra).await
}

/// `first` answer before the base rules (rules match in order).
async fn restrictions_with(first: &[Rule], extra: Rule) -> Conclusion {
    let text = "[environment]\nname = \"t\"\n[aws]\nprimary_region = \"ap-northeast-1\"\ndr_region = \"ap-northeast-1\"\n";
    let scenario = Arc::new(gcverify_scenarios::parse(text, Path::new("t.toml")).expect("scenario"));
    let mut rules = first.to_vec();
    rules.extend(base());
    rules.push(extra);
    let input = Arc::new(ProbeInput::alone(
        Catalog::builtin().get("E.5.2.1").cloned().expect("item"),
        "1".into(),
        Arc::new(Default::default()),
        scenario,
        aws(&rules),
        Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("clock"),
        None,
    ));
    probes::access::restrictions(input).await.conclude("1")
}

fn bucket_evidence(c: &Conclusion) -> (EvidenceStatus, String) {
    let e = c.evidence.iter().find(|e| e.subject == "juki-export").expect("evidence for the bucket");
    (e.status, e.detail.to_string())
}

#[tokio::test]
async fn account_level_block_covers_a_bucket_without_its_own() {
    let c = restrictions(account(true)).await;
    assert_eq!(c.outcome, Outcome::Ok, "{:?}", c.evidence);
    let (status, detail) = bucket_evidence(&c);
    assert_eq!(status, EvidenceStatus::Pass);
    assert!(detail.contains("account-level"), "{detail}");
}

#[tokio::test]
async fn partial_account_level_block_leaves_the_bucket_ng() {
    let c = restrictions(account(false)).await;
    assert_eq!(c.outcome, Outcome::Ng);
    let (status, detail) = bucket_evidence(&c);
    assert_eq!(status, EvidenceStatus::Fail);
    assert!(detail.contains("RestrictPublicBuckets=false"), "{detail}");
}

#[tokio::test]
async fn no_account_level_configuration_is_ng() {
    let none = mock!(aws_sdk_s3control::Client::get_public_access_block)
        .then_error(|| AccountBlockError::generic(ErrorMetadata::builder().code("NoSuchPublicAccessBlockConfiguration").message("none").build()));
    let c = restrictions(none).await;
    assert_eq!(c.outcome, Outcome::Ng, "{:?}", c.evidence);
}

#[tokio::test]
async fn unreadable_account_level_block_is_error_not_ng() {
    let denied = mock!(aws_sdk_s3control::Client::get_public_access_block)
        .then_error(|| AccountBlockError::generic(ErrorMetadata::builder().code("AccessDenied").message("not authorized").build()));
    let c = restrictions(denied).await;
    assert_eq!(c.outcome, Outcome::Error, "{:?}", c.evidence);
    let (status, detail) = bucket_evidence(&c);
    assert_eq!(status, EvidenceStatus::Error);
    assert!(detail.contains("could not be read"), "{detail}");
}

/// Who holds an administrator policy comes from one GetAccountAuthorizationDetails
/// (AdministratorAccess, or a customer policy allowing * on *), with no
/// ListAttachedUserPolicies / GetPolicy call per user.
#[tokio::test]
async fn administrator_policies_come_from_one_authorization_listing() {
    use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
    use aws_sdk_iam::operation::get_login_profile::GetLoginProfileOutput;
    use aws_sdk_iam::operation::list_attached_user_policies::ListAttachedUserPoliciesOutput;
    use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
    use aws_sdk_iam::types::{AttachedPolicy, LoginProfile, ManagedPolicyDetail, PolicyVersion, User, UserDetail};
    let when = aws_smithy_types::DateTime::from_secs(0);
    let user =
        move |n: &str| User::builder().user_name(n).user_id(n).arn(format!("arn:aws:iam::1:user/{n}")).path("/").create_date(when).build().expect("user");
    let users = mock!(aws_sdk_iam::Client::list_users)
        .then_output(move || ListUsersOutput::builder().users(user("ope-a")).users(user("ope-b")).users(user("ope-c")).build().expect("users"));
    let login = mock!(aws_sdk_iam::Client::get_login_profile).then_output(move || {
        GetLoginProfileOutput::builder().login_profile(LoginProfile::builder().user_name("x").create_date(when).build().expect("profile")).build()
    });
    let mfa = mock!(aws_sdk_iam::Client::list_mfa_devices).then_output(|| ListMfaDevicesOutput::builder().set_mfa_devices(Some(vec![])).build().expect("mfa"));
    const CUSTOM: &str = "arn:aws:iam::1:policy/everything";
    let details = mock!(aws_sdk_iam::Client::get_account_authorization_details).then_output(|| {
        let attached = |arn: &str| AttachedPolicy::builder().policy_arn(arn).build();
        GetAccountAuthorizationDetailsOutput::builder()
            .user_detail_list(
                UserDetail::builder().user_name("ope-a").attached_managed_policies(attached("arn:aws:iam::aws:policy/AdministratorAccess")).build(),
            )
            .user_detail_list(UserDetail::builder().user_name("ope-b").attached_managed_policies(attached(CUSTOM)).build())
            .user_detail_list(UserDetail::builder().user_name("ope-c").attached_managed_policies(attached("arn:aws:iam::aws:policy/ReadOnlyAccess")).build())
            .policies(
                ManagedPolicyDetail::builder()
                    .arn(CUSTOM)
                    .policy_version_list(
                        PolicyVersion::builder()
                            .is_default_version(true)
                            .document("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D")
                            .build(),
                    )
                    .build(),
            )
            .is_truncated(false)
            .build()
    });
    let per_user = mock!(aws_sdk_iam::Client::list_attached_user_policies).then_output(|| ListAttachedUserPoliciesOutput::builder().build());
    let c = restrictions_with(&[users, login, mfa, details.clone(), per_user.clone()], account(true)).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", c.summary.en);
    let fails: Vec<(&str, &str)> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| (e.subject.as_str(), e.source.as_str())).collect();
    assert_eq!(fails, [("ope-a", "iam:GetAccountAuthorizationDetails"), ("ope-b", "iam:GetAccountAuthorizationDetails")], "{:?}", c.evidence);
    assert!(c.evidence.iter().any(|e| e.subject == "ope-c" && e.status == EvidenceStatus::Pass));
    assert_eq!(details.num_calls(), 1);
    assert_eq!(per_user.num_calls(), 0, "no per-user call when the listing answered");
}
