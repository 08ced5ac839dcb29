//! Shared by the `aws-smithy-mocks` tests: an [`AwsContext`] whose every
//! client answers from canned rules instead of the network.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_types::retry::RetryConfig;
use gcverify_checks::aws::AwsContext;

/// `custom_endpoint = false`: the context stands for real AWS (not an emulator).
/// Retries keep their count but not their waiting, so throttling tests are fast.
pub fn aws(rules: &[Rule]) -> Arc<AwsContext> {
    Arc::new(AwsContext::from_config(config(), false).with_interceptor(interceptor(rules)))
}

#[allow(dead_code)] // only some test binaries have a DR region that answers differently
/// As [`aws`], but clients of `region` answer `regional` first (then `rules`):
/// a DR region whose resources differ from the primary's.
pub fn aws_regional(rules: &[Rule], region: &str, regional: &[Rule]) -> Arc<AwsContext> {
    let both: Vec<Rule> = regional.iter().chain(rules).cloned().collect();
    Arc::new(AwsContext::from_config(config(), false).with_interceptor(interceptor(rules)).with_region_interceptor(region, interceptor(&both)))
}

fn interceptor(rules: &[Rule]) -> MockResponseInterceptor {
    let mut mocks = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for r in rules.iter().chain(inventory_defaults().iter()) {
        mocks = mocks.with_rule(r);
    }
    mocks
}

fn config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-northeast-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("AKIDTEST", "secret", None, None, "test")))
        .http_client(create_mock_http_client())
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
        .build()
}

/// Answers for the inventory's listings that a test did not give (rules
/// match in order, so a test's own rule wins): an empty account. The
/// credential report is refused, so IAM users come from the per-user calls
/// a test mocks, unless the test answers the report itself.
pub fn inventory_defaults() -> Vec<Rule> {
    use aws_sdk_iam::error::ErrorMetadata;
    vec![
        mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_volumes).then_output(|| aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_security_groups)
            .then_output(|| aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_network_interfaces)
            .then_output(|| aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_subnets).then_output(|| aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_images).then_output(|| aws_sdk_ec2::operation::describe_images::DescribeImagesOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_snapshots).then_output(|| aws_sdk_ec2::operation::describe_snapshots::DescribeSnapshotsOutput::builder().build()),
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
            .then_output(|| aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput::builder().build()),
        mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups)
            .then_output(|| aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_instances)
            .then_output(|| aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_clusters)
            .then_output(|| aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput::builder().build()),
        mock!(aws_sdk_s3::Client::list_buckets).then_output(|| aws_sdk_s3::operation::list_buckets::ListBucketsOutput::builder().build()),
        mock!(aws_sdk_cloudtrail::Client::describe_trails)
            .then_output(|| aws_sdk_cloudtrail::operation::describe_trails::DescribeTrailsOutput::builder().build()),
        mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
            .then_output(|| aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput::builder().build()),
        mock!(aws_sdk_backup::Client::list_backup_plans).then_output(|| aws_sdk_backup::operation::list_backup_plans::ListBackupPlansOutput::builder().build()),
        mock!(aws_sdk_backup::Client::list_backup_vaults)
            .then_output(|| aws_sdk_backup::operation::list_backup_vaults::ListBackupVaultsOutput::builder().build()),
        // Refused by default, so tests that mock ListAttachedUserPolicies see the per-user path.
        mock!(aws_sdk_iam::Client::get_account_authorization_details).then_error(|| {
            aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsError::generic(
                ErrorMetadata::builder().code("AccessDenied").message("not in this test").build(),
            )
        }),
        mock!(aws_sdk_iam::Client::generate_credential_report).then_error(|| {
            aws_sdk_iam::operation::generate_credential_report::GenerateCredentialReportError::generic(
                ErrorMetadata::builder().code("AccessDenied").message("not allowed in this test").build(),
            )
        }),
    ]
}

#[allow(dead_code)] // only the continuity and drill tests read backup plans
/// One backup plan `juki-daily` (ID `plan-1`) whose one rule `rule()` builds.
pub fn backup_plan(rule: impl Fn() -> aws_sdk_backup::types::BackupRule + Send + Sync + 'static) -> Vec<Rule> {
    use aws_sdk_backup::operation::get_backup_plan::GetBackupPlanOutput;
    use aws_sdk_backup::operation::list_backup_plans::ListBackupPlansOutput;
    use aws_sdk_backup::types::{BackupPlan, BackupPlansListMember};
    vec![
        mock!(aws_sdk_backup::Client::list_backup_plans).then_output(|| {
            ListBackupPlansOutput::builder()
                .backup_plans_list(BackupPlansListMember::builder().backup_plan_name("juki-daily").backup_plan_id("plan-1").build())
                .build()
        }),
        mock!(aws_sdk_backup::Client::get_backup_plan).then_output(move || {
            GetBackupPlanOutput::builder()
                .backup_plan_id("plan-1")
                .backup_plan(BackupPlan::builder().backup_plan_name("juki-daily").rules(rule()).build().expect("plan"))
                .build()
        }),
    ]
}
