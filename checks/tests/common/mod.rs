//! Shared by the `aws-smithy-mocks` tests: an [`AwsContext`] whose every
//! client answers from canned rules instead of the network.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_mocks::{create_mock_http_client, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_types::retry::RetryConfig;
use gcverify_checks::aws::AwsContext;

/// `custom_endpoint = false`: the context stands for real AWS (not an emulator).
/// Retries keep their count but not their waiting, so throttling tests are fast.
pub fn aws(rules: &[Rule]) -> Arc<AwsContext> {
    let mut mocks = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for r in rules {
        mocks = mocks.with_rule(r);
    }
    let conf = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-northeast-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("AKIDTEST", "secret", None, None, "test")))
        .http_client(create_mock_http_client())
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
        .build();
    Arc::new(AwsContext::from_config(conf, false).with_interceptor(mocks))
}
