//! How a run's AWS calls behave at fleet scale: a limit on concurrent
//! calls shared by every environment of one account ([`CallLimit`], an HTTP
//! client wrapper, so it holds whatever the probes and listings do), and a
//! count of throttled attempts ([`ThrottleCounter`]) reported per
//! environment. Retries themselves are the SDK's adaptive mode.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::Semaphore;

/// The error codes the SDK itself treats as throttling (aws-runtime's list).
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// True when an HTTP answer is AWS saying "slow down": 429, or an error
/// status whose body names a throttling code (XML `<Code>`, JSON `__type`/`code`).
pub fn is_throttled(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let body = String::from_utf8_lossy(body);
    THROTTLING_CODES.iter().any(|code| {
        [format!("<Code>{code}</Code>"), format!("#{code}\""), format!("\"{code}\""), format!("<Code>{code}<")]
            .iter()
            .any(|needle| body.contains(needle.as_str()))
    })
}

/// Counts throttled attempts (each retry of a throttled call counts).
#[derive(Debug, Clone, Default)]
pub struct ThrottleCounter(Arc<AtomicU64>);

impl ThrottleCounter {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for ThrottleCounter {
    fn name(&self) -> &'static str {
        "gcverify::ThrottleCounter"
    }

    fn read_after_attempt(&self, context: &FinalizerInterceptorContextRef<'_>, _rc: &RuntimeComponents, _cfg: &mut ConfigBag) -> Result<(), BoxError> {
        if let Some(response) = context.response() {
            let body = response.body().bytes().unwrap_or_default();
            if is_throttled(response.status().as_u16(), body) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// At most `permits` AWS calls in flight through every client built with
/// this limit; environments of one account share one.
#[derive(Debug, Clone)]
pub struct CallLimit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl CallLimit {
    pub fn new(permits: usize) -> Self {
        let permits = permits.max(1);
        Self { semaphore: Arc::new(Semaphore::new(permits)), permits }
    }

    pub fn permits(&self) -> usize {
        self.permits
    }

    /// Calls now in flight (tests, progress).
    pub fn in_flight(&self) -> usize {
        self.permits - self.semaphore.available_permits()
    }

    /// `inner` with the limit applied to every request it sends.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(LimitedClient { inner, limit: self.clone() })
    }
}

#[derive(Debug)]
struct LimitedClient {
    inner: SharedHttpClient,
    limit: CallLimit,
}

impl HttpClient for LimitedClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector { inner: self.inner.http_connector(settings, components), limit: self.limit.clone() })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limit: CallLimit,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let semaphore = self.limit.semaphore.clone();
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed; if it were, the call goes ahead unlimited.
            let _permit = semaphore.acquire_owned().await.ok();
            inner.call(request).await
        })
    }
}

/// The SDK's default HTTPS client (hyper 1 + rustls with aws-lc, proxy from
/// the environment), built here because a [`CallLimit`] wraps a client.
pub fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_answers_are_told_from_other_errors() {
        assert!(is_throttled(429, b""));
        assert!(is_throttled(503, b"<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>"));
        assert!(is_throttled(400, b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>"));
        assert!(is_throttled(400, br#"{"__type":"com.amazonaws.kms#ThrottlingException","message":"Rate exceeded"}"#));
        assert!(is_throttled(400, br#"{"code":"TooManyRequestsException"}"#));
        assert!(!is_throttled(200, b"<Code>Throttling</Code>"), "a success that mentions the word");
        assert!(!is_throttled(403, b"<Error><Code>AccessDenied</Code><Message>Throttling is not the issue</Message></Error>"));
        assert!(!is_throttled(500, b"<html>Internal Server Error</html>"));
    }
}
