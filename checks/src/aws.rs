//! AWS access: one SDK configuration per run (default credential chain, so
//! profiles, SSO and assume-role work), per-region clients, and the rule that
//! turns every SDK failure into a "could not verify" reason.

use std::time::Duration;

use crate::model::Msg;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::timeout::TimeoutConfig;

/// Shared SDK configuration for one run.
#[derive(Debug, Clone)]
pub struct AwsContext {
    base: SdkConfig,
    /// True when talking to a custom endpoint (an emulator): S3 then needs path-style addressing.
    custom_endpoint: bool,
    /// Extra interceptors added to every client built here (tests: canned
    /// responses). Empty in production.
    interceptors: Vec<SharedInterceptor>,
    /// Per-region replacements of `interceptors` (tests: a DR region that answers differently).
    regional: std::collections::BTreeMap<String, Vec<SharedInterceptor>>,
    /// Throttled attempts of every client built here (reported per environment).
    throttles: crate::aws_calls::ThrottleCounter,
}

/// One client constructor per service, each with the context's interceptors.
macro_rules! clients {
    ($($name:ident => $krate:ident,)*) => {
        $(
            pub fn $name(&self, region: &str) -> $krate::Client {
                let mut conf = $krate::config::Builder::from(&self.config(region));
                for i in self.interceptors_for(region) {
                    conf.push_interceptor(i.clone());
                }
                conf.push_interceptor(SharedInterceptor::new(self.throttles.clone()));
                $krate::Client::from_conf(conf.build())
            }
        )*
    };
}

impl AwsContext {
    /// Resolve configuration from the scenario's `[aws]` table and the usual
    /// environment (`AWS_PROFILE`, `AWS_ENDPOINT_URL`, SSO cache, ...).
    /// No network call happens here; credentials resolve on first use.
    pub async fn load(aws: &gcverify_scenarios::Aws) -> Self {
        Self::load_limited(aws, None).await
    }

    /// As [`Self::load`], with every call through `limit` (shared by the
    /// environments of one account in a fleet run) and, when `[aws] role_arn`
    /// is set, credentials from STS AssumeRole on top of the default chain.
    /// Retries are the SDK's adaptive mode: throttling slows the client down.
    pub async fn load_limited(aws: &gcverify_scenarios::Aws, limit: Option<&crate::aws_calls::CallLimit>) -> Self {
        Self::load_with_retry(aws, limit, aws_config::retry::RetryConfig::adaptive().with_max_attempts(5)).await
    }

    /// As [`Self::load_limited`] with its own retry policy (tests: short backoffs).
    pub async fn load_with_retry(aws: &gcverify_scenarios::Aws, limit: Option<&crate::aws_calls::CallLimit>, retry: aws_config::retry::RetryConfig) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(aws.primary_region.clone())).retry_config(retry).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(90))
                .build(),
        );
        if let Some(limit) = limit {
            loader = loader.http_client(limit.wrap(crate::aws_calls::default_https_client()));
        }
        if let Some(profile) = &aws.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &aws.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut base = loader.load().await;
        if let Some(role) = &aws.role_arn {
            let mut provider =
                aws_config::sts::AssumeRoleProvider::builder(role).session_name(aws.session_name.as_deref().unwrap_or("gcverify")).configure(&base);
            if let Some(id) = &aws.external_id {
                provider = provider.external_id(id);
            }
            let provider = provider.build().await;
            base = base.into_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider)).build();
        }
        let custom_endpoint = aws.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        Self { base, custom_endpoint, interceptors: Vec::new(), regional: Default::default(), throttles: Default::default() }
    }

    /// Throttled attempts so far, over every client built from this context.
    pub fn throttled(&self) -> u64 {
        self.throttles.count()
    }

    /// Wrap an existing configuration (tests).
    pub fn from_config(base: SdkConfig, custom_endpoint: bool) -> Self {
        Self { base, custom_endpoint, interceptors: Vec::new(), regional: Default::default(), throttles: Default::default() }
    }

    /// Add an interceptor to every client built from this context, in every
    /// region (tests: `aws_smithy_mocks::MockResponseInterceptor`). The same
    /// instance is shared by all clients, so its rules see every call.
    pub fn with_interceptor(mut self, interceptor: impl Intercept + 'static) -> Self {
        self.interceptors.push(SharedInterceptor::new(interceptor));
        self
    }

    /// Clients of `region` use this interceptor instead of the shared ones
    /// (tests: canned answers that differ between the primary and DR region).
    pub fn with_region_interceptor(mut self, region: &str, interceptor: impl Intercept + 'static) -> Self {
        self.regional.entry(region.to_string()).or_default().push(SharedInterceptor::new(interceptor));
        self
    }

    pub fn config(&self, region: &str) -> SdkConfig {
        self.base.to_builder().region(Region::new(region.to_string())).build()
    }

    clients! {
        ec2 => aws_sdk_ec2,
        rds => aws_sdk_rds,
        backup => aws_sdk_backup,
        iam => aws_sdk_iam,
        cloudtrail => aws_sdk_cloudtrail,
        logs => aws_sdk_cloudwatchlogs,
        elbv2 => aws_sdk_elasticloadbalancingv2,
        cloudwatch => aws_sdk_cloudwatch,
        ssm => aws_sdk_ssm,
        sts => aws_sdk_sts,
        kms => aws_sdk_kms,
        s3control => aws_sdk_s3control,
        wafv2 => aws_sdk_wafv2,
        secretsmanager => aws_sdk_secretsmanager,
    }

    /// S3 needs path-style addressing on an emulator.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let mut conf = aws_sdk_s3::config::Builder::from(&self.config(region)).force_path_style(self.custom_endpoint);
        for i in self.interceptors_for(region) {
            conf.push_interceptor(i.clone());
        }
        conf.push_interceptor(SharedInterceptor::new(self.throttles.clone()));
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    /// Interceptors for clients of `region`: its own set if a test gave one, else the shared one.
    fn interceptors_for(&self, region: &str) -> &[SharedInterceptor] {
        self.regional.get(region).unwrap_or(&self.interceptors)
    }

    /// True when the endpoint is a custom one (an emulator): values such an
    /// endpoint hard-codes (e.g. root MFA) are not observations.
    pub fn is_custom_endpoint(&self) -> bool {
        self.custom_endpoint
    }

    /// Who the run verifies as (STS GetCallerIdentity): account ID, caller
    /// ARN and the partition read from the ARN; the reason when it failed
    /// (a role that cannot be assumed, an endpoint that is down — a fleet
    /// environment is checked so before its probes run).
    pub async fn caller_identity(&self, region: &str) -> Result<Identity, String> {
        const CALL: &str = "sts:GetCallerIdentity";
        let out = self.sts(region).get_caller_identity().send().await.map_err(|e| failure_reason(CALL, &e))?;
        let arn = out.arn().unwrap_or_default().to_string();
        Ok(Identity { account_id: out.account().map(str::to_string), partition: partition_of_arn(&arn), caller_arn: (!arn.is_empty()).then_some(arn) })
    }
}

/// The caller as STS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: Option<String>,
    pub caller_arn: Option<String>,
    pub partition: Option<String>,
}

/// `aws` of `arn:aws:iam::123456789012:user/x`.
pub fn partition_of_arn(arn: &str) -> Option<String> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then(|| parts.next()).flatten().filter(|p| !p.is_empty()).map(str::to_string)
}

/// `123456789012` of `arn:aws:iam::123456789012:role/x` (`None` when the ARN
/// names no account, as S3 bucket ARNs do).
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then(|| parts.nth(3)).flatten().filter(|a| !a.is_empty())
}

/// Why an AWS call failed, in words an operator can act on, in both
/// languages. Every such failure makes the row ERROR (検証不能), never OK or NG.
pub fn failure<E>(call: &str, err: &SdkError<E, HttpResponse>) -> Msg
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    match err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => match err.code() {
            Some(code) => {
                // The code and the service's message are the server's words, kept as given.
                let msg = err.message().unwrap_or("");
                let (ja, en) = classify_code(code);
                let said = format!("{code}: {msg}").trim_end_matches([':', ' ']).to_string();
                Msg::new(format!("{call}: {ja} {said}"), format!("{call}: {en}{said}"))
            }
            None => without_code(call, status),
        },
        SdkError::TimeoutError(_) => Msg::new(format!("{call}: タイムアウト"), format!("{call}: timed out")),
        SdkError::DispatchFailure(_) => {
            if let Some(why) = credentials_failure(err) {
                return why.wrap((&format!("{call}: "), ""), (&format!("{call}: "), ""));
            }
            let cause = root_cause(err);
            let at = connect_address(&format!("{err:?}")).map(|a| format!("{a}: ")).unwrap_or_default();
            Msg::new(format!("{call}: 接続不可: {at}{cause}"), format!("{call}: endpoint unreachable: {at}{cause}"))
        }
        _ => {
            let ctx = DisplayErrorContext(err).to_string();
            Msg::new(format!("{call}: 呼び出し失敗: {ctx}"), format!("{call}: {ctx}"))
        }
    }
}

/// [`failure`] in English, for callers that keep one text (the drill's
/// journal, preflight, the fleet's separation pairs).
pub fn failure_reason<E>(call: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    failure(call, err).en
}

/// An answer without an AWS error code: 403 is most likely a denial by
/// something in front of the API (an SCP-less proxy, an emulator's IAM, a
/// VPC endpoint policy); 404/5xx an endpoint that does not serve the API.
fn without_code(call: &str, status: Option<u16>) -> Msg {
    match status {
        Some(s @ (401 | 403)) => Msg::new(
            format!("{call}: AWS のエラーコードなしの HTTP {s}: 権限不足の可能性（ロールのポリシーとエンドポイントポリシーを確認）"),
            format!("{call}: HTTP {s} without an AWS error code: permission denied? — check the role's policy and any endpoint policy"),
        ),
        Some(s) => Msg::new(
            format!("{call}: エンドポイントが AWS のエラーコードなしで HTTP {s} を返した（この API を実装していない可能性）"),
            format!("{call}: endpoint answered HTTP {s} without an AWS error code (the endpoint does not implement this API?)"),
        ),
        None => Msg::new(format!("{call}: エンドポイントが AWS のエラーコードなしで応答した"), format!("{call}: endpoint answered without an AWS error code")),
    }
}

/// The innermost error's text ("Connection refused (os error 111)").
/// A call that never left because its credentials could not be had (a role
/// that cannot be assumed, an expired SSO session): said so, with STS's own
/// error when AssumeRole answered one.
fn credentials_failure(err: &(dyn std::error::Error + 'static)) -> Option<Msg> {
    type AssumeRoleFailure = SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, HttpResponse>;
    let mut found = false;
    // From the cause on: the call's own error may be an AssumeRole failure itself.
    let mut e = err.source();
    while let Some(cur) = e {
        if let Some(sts) = cur.downcast_ref::<AssumeRoleFailure>() {
            return Some(failure("sts:AssumeRole", sts).wrap(("認証情報を取得できない: ", ""), ("credentials unavailable: ", "")));
        }
        found |= cur.downcast_ref::<aws_credential_types::provider::error::CredentialsError>().is_some();
        e = cur.source();
    }
    found.then(|| {
        let cause = root_cause(err);
        Msg::new(format!("認証情報を取得できない: {cause}"), format!("credentials unavailable: {cause}"))
    })
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut e = err;
    while let Some(next) = e.source() {
        e = next;
    }
    e.to_string()
}

/// The address a connection was attempted to, from hyper's connect error
/// (`ConnectError("tcp connect error", 127.0.0.1:9, ...)`): the only place
/// the SDK's dispatch failure carries it.
fn connect_address(debug: &str) -> Option<String> {
    let rest = &debug[debug.find("ConnectError(\"")? + "ConnectError(\"".len()..];
    let rest = &rest[rest.find("\", ")? + 3..];
    let token = rest.split([',', ')']).next()?.trim();
    token.parse::<std::net::SocketAddr>().is_ok().then(|| token.to_string())
}

/// The error code of a service error, if the endpoint sent one.
pub fn error_code<E>(err: &SdkError<E, HttpResponse>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(ctx) => ctx.err().code(),
        _ => None,
    }
}

/// What kind of failure an error code is, (ja, en): the English one ends in
/// a space when not empty, so that it reads before the code.
fn classify_code(code: &str) -> (&'static str, &'static str) {
    let c = code.to_ascii_lowercase();
    if c.contains("accessdenied") || c.contains("unauthorized") || c.contains("notauthorized") || c == "authorizationerror" || c.contains("forbidden") {
        ("権限不足", "permission denied ")
    } else if c.contains("throttl") || c.contains("limitexceeded") || c.contains("toomanyrequests") || c == "slowdown" {
        ("スロットリング", "throttled ")
    } else if c.contains("expiredtoken") || c.contains("invalidclienttokenid") || c.contains("signaturedoesnotmatch") {
        ("認証情報エラー", "credentials rejected ")
    } else {
        ("エラー応答", "")
    }
}

#[cfg(test)]
mod tests {
    use super::classify_code;

    #[test]
    fn partition_comes_from_the_arn() {
        assert_eq!(super::partition_of_arn("arn:aws:iam::123456789012:user/a").as_deref(), Some("aws"));
        assert_eq!(super::partition_of_arn("arn:aws-cn:sts::1:assumed-role/r/s").as_deref(), Some("aws-cn"));
        assert_eq!(super::partition_of_arn("not-an-arn"), None);
        assert_eq!(super::partition_of_arn("arn::iam::1:x"), None);
        assert_eq!(super::account_of_arn("arn:aws:iam::123456789012:role/r"), Some("123456789012"));
        assert_eq!(super::account_of_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(super::account_of_arn("123456789012"), None);
    }

    #[test]
    fn a_403_without_code_is_a_likely_denial_not_a_missing_api() {
        let r = super::without_code("ec2:DescribeVolumes", Some(403));
        assert!(r.ja.contains("権限不足の可能性") && r.en.contains("permission denied?"), "{r}");
        assert!(!r.contains("does not implement") && !r.contains("実装していない"), "{r}");
        let r = super::without_code("ec2:DescribeVolumes", Some(404));
        assert!(r.en.contains("does not implement this API?") && r.ja.contains("実装していない可能性"), "{r}");
    }

    #[test]
    fn the_connect_address_is_read_from_hypers_error() {
        let debug = r#"DispatchFailure(DispatchFailure { source: ConnectorError { kind: Io, source: hyper_util::client::legacy::Error(Connect, ConnectError("tcp connect error", 127.0.0.1:9, Os { code: 111 })) } })"#;
        assert_eq!(super::connect_address(debug).as_deref(), Some("127.0.0.1:9"));
        assert_eq!(super::connect_address(r#"ConnectError("dns error", Custom { kind: Uncategorized })"#), None);
        assert_eq!(super::connect_address("nothing here"), None);
    }

    #[test]
    fn classifies_denial_and_throttling() {
        assert_eq!(classify_code("AccessDeniedException"), ("権限不足", "permission denied "));
        assert_eq!(classify_code("UnauthorizedOperation").1, "permission denied ");
        assert_eq!(classify_code("Throttling"), ("スロットリング", "throttled "));
        assert_eq!(classify_code("RequestLimitExceeded").1, "throttled ");
        assert_eq!(classify_code("ExpiredToken").1, "credentials rejected ");
        assert_eq!(classify_code("InvalidParameterValue"), ("エラー応答", ""));
    }
}
