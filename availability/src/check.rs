//! One check of one target, the way a user would reach it: an HTTP(S)
//! request (status, body text, response-time ceiling), a business-level check
//! (the load profile's login step, then some of its operations, e.g. 住民票照会)
//! or a TCP connect for services that do not speak HTTP. A check never panics or errors out: every
//! failure is a failed check with the reason.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gcverify_loadgen::client::{self as lg, Prepared};
use gcverify_loadgen::Profile;
use gcverify_scenarios::AvailabilityTarget;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("availability target `{0}`: give exactly one of `url` (HTTP), `profile` (business check) or `tcp` (host:port)")]
    Kind(String),
    #[error("availability target `{name}`: {why}")]
    Profile { name: String, why: String },
    #[error("availability target `{name}`: `{url}` is not an http:// or https:// URL")]
    Url { name: String, url: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// What to check.
#[derive(Debug, Clone)]
pub enum Check {
    Http {
        url: String,
        expect_status: Vec<u16>,
        body_contains: Option<String>,
        max_response: Option<Duration>,
        timeout: Duration,
    },
    Tcp {
        address: String,
        timeout: Duration,
    },
    /// Login (if the profile has one), then these operations in order.
    Business {
        profile: Arc<Profile>,
        operations: Vec<String>,
        max_response: Option<Duration>,
        timeout: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub check: Check,
}

impl Target {
    /// `base_dir`: where a relative `profile` path starts (the scenario's folder).
    pub fn from_config(t: &AvailabilityTarget, base_dir: &Path) -> Result<Self, TargetError> {
        let timeout = Duration::from_millis(t.timeout_ms.unwrap_or(10_000));
        if let Some(path) = &t.profile {
            if t.url.is_some() || t.tcp.is_some() {
                return Err(TargetError::Kind(t.name.clone()));
            }
            let bad = |why: String| TargetError::Profile { name: t.name.clone(), why };
            let path = if path.is_absolute() { path.clone() } else { base_dir.join(path) };
            let mut profile = Profile::load(&path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
            if let Some(base) = &t.base_url {
                profile.base_url = Some(base.clone());
            }
            let operations = if t.operations.is_empty() { profile.operations.iter().map(|o| o.name.clone()).collect() } else { t.operations.clone() };
            for name in &operations {
                let op = profile.operations.iter().find(|o| &o.name == name).ok_or_else(|| bad(format!("operation `{name}` is not in {}", path.display())))?;
                // Resolve URLs now, so a bad one is a configuration error, not a failed check.
                Prepared::new(op, profile.base_url.as_deref(), &[]).map_err(|e| bad(e.to_string()))?;
            }
            let max_response = t.max_response_ms.map(Duration::from_millis);
            return Ok(Self { name: t.name.clone(), check: Check::Business { profile: Arc::new(profile), operations, max_response, timeout } });
        }
        let check = match (&t.url, &t.tcp) {
            (Some(url), None) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(TargetError::Url { name: t.name.clone(), url: url.clone() });
                }
                Check::Http {
                    url: url.clone(),
                    expect_status: t.expect_status.clone(),
                    body_contains: t.body_contains.clone(),
                    max_response: t.max_response_ms.map(Duration::from_millis),
                    timeout,
                }
            }
            (None, Some(address)) => Check::Tcp { address: address.clone(), timeout },
            _ => return Err(TargetError::Kind(t.name.clone())),
        };
        Ok(Self { name: t.name.clone(), check })
    }

    /// URL or host:port, for the store and reports.
    pub fn spec(&self) -> String {
        match &self.check {
            Check::Http { url, .. } => url.clone(),
            Check::Tcp { address, .. } => format!("tcp://{address}"),
            Check::Business { profile, operations, .. } => {
                format!("{} [{}]", profile.base_url.as_deref().unwrap_or("(no base_url)"), operations.join(" → "))
            }
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    pub ok: bool,
    pub latency_ms: Option<i64>,
    /// HTTP status, when one was received.
    pub status: Option<i64>,
    /// Why it failed.
    pub detail: Option<String>,
}

impl CheckOutcome {
    fn fail(latency: Option<Duration>, status: Option<u16>, why: String) -> Self {
        Self { ok: false, latency_ms: latency.map(ms), status: status.map(i64::from), detail: Some(why) }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs checks; holds one HTTP client (connection reuse off: every check
/// opens a new connection, as a user's first request of the day would).
#[derive(Clone)]
pub struct Checker {
    http: reqwest::Client,
}

impl Checker {
    pub fn new() -> Result<Self, TargetError> {
        // reqwest is built without a bundled crypto provider; use the
        // aws-lc-rs one the AWS SDK already links (ignore "already installed").
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .user_agent(concat!("gcverify-availability/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TargetError::Client(e.to_string()))?;
        Ok(Self { http })
    }

    pub async fn run(&self, check: &Check) -> CheckOutcome {
        match check {
            Check::Http { url, expect_status, body_contains, max_response, timeout } => {
                self.http_check(url, expect_status, body_contains.as_deref(), *max_response, *timeout).await
            }
            Check::Tcp { address, timeout } => tcp_check(address, *timeout).await,
            Check::Business { profile, operations, max_response, timeout } => business_check(profile, operations, *max_response, *timeout).await,
        }
    }

    async fn http_check(&self, url: &str, expect: &[u16], body_contains: Option<&str>, max: Option<Duration>, timeout: Duration) -> CheckOutcome {
        let started = Instant::now();
        let answer = tokio::time::timeout(timeout, async {
            let resp = self.http.get(url).send().await?;
            let status = resp.status().as_u16();
            let body = resp.text().await?;
            Ok::<_, reqwest::Error>((status, body))
        })
        .await;
        let latency = started.elapsed();
        let (status, body) = match answer {
            Err(_) => return CheckOutcome::fail(Some(latency), None, format!("no answer within {} ms", timeout.as_millis())),
            Ok(Err(e)) => return CheckOutcome::fail(Some(latency), None, describe(&e)),
            Ok(Ok(x)) => x,
        };
        let status_ok = if expect.is_empty() { (200..400).contains(&status) } else { expect.contains(&status) };
        if !status_ok {
            return CheckOutcome::fail(Some(latency), Some(status), format!("HTTP {status}"));
        }
        if let Some(needle) = body_contains {
            if !body.contains(needle) {
                return CheckOutcome::fail(Some(latency), Some(status), format!("HTTP {status} but the body lacks `{needle}`"));
            }
        }
        if let Some(max) = max {
            if latency > max {
                return CheckOutcome::fail(
                    Some(latency),
                    Some(status),
                    format!("answered in {} ms, over the {} ms ceiling", latency.as_millis(), max.as_millis()),
                );
            }
        }
        CheckOutcome { ok: true, latency_ms: Some(ms(latency)), status: Some(status.into()), detail: None }
    }
}

/// The innermost cause, e.g. "Connection refused (os error 111)".
/// "connect failed: <innermost cause>" (reqwest's own Display hides the cause).
pub fn describe(e: &reqwest::Error) -> String {
    let mut src: &dyn std::error::Error = e;
    while let Some(next) = src.source() {
        src = next;
    }
    let kind = if e.is_connect() {
        "connect failed"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    format!("{kind}: {src}")
}

/// Login, then each operation in order on one fresh connection pool; the first
/// failure ends the check. The ceiling applies to the whole sequence.
async fn business_check(profile: &Profile, operations: &[String], max: Option<Duration>, timeout: Duration) -> CheckOutcome {
    let started = Instant::now();
    let sequence = async {
        let client = lg::build(1).map_err(|e| (None, e.to_string()))?;
        let base = profile.base_url.as_deref();
        let auth = match &profile.login {
            Some(login) => lg::login(&client, login, base, timeout).await.map_err(|e| (None, e.to_string()))?,
            None => Vec::new(),
        };
        let mut last = None;
        for name in operations {
            let op = profile.operations.iter().find(|o| &o.name == name).ok_or_else(|| (None, format!("operation `{name}` not in the profile")))?;
            let prepared = Prepared::new(op, base, &auth).map_err(|e| (None, e.to_string()))?;
            let request = prepared.request().map_err(|e| (None, e.to_string()))?;
            let (status, body, _) = lg::send(&client, request).await.map_err(|e| (None, format!("{name}: request failed: {e}")))?;
            if let Some(failure) = prepared.check(status, &body) {
                let why = match failure {
                    lg::Failure::Body => format!("{name}: HTTP {status} but the body lacks the expected text"),
                    _ => format!("{name}: HTTP {status}"),
                };
                return Err((Some(status), why));
            }
            last = Some(status);
        }
        Ok(last)
    };
    let answer = tokio::time::timeout(timeout, sequence).await;
    let latency = started.elapsed();
    let status = match answer {
        Err(_) => return CheckOutcome::fail(Some(latency), None, format!("business check not done within {} ms", timeout.as_millis())),
        Ok(Err((status, why))) => return CheckOutcome::fail(Some(latency), status, why),
        Ok(Ok(status)) => status,
    };
    if let Some(max) = max {
        if latency > max {
            return CheckOutcome::fail(
                Some(latency),
                status,
                format!("business check took {} ms, over the {} ms ceiling", latency.as_millis(), max.as_millis()),
            );
        }
    }
    CheckOutcome { ok: true, latency_ms: Some(ms(latency)), status: status.map(i64::from), detail: None }
}

async fn tcp_check(address: &str, timeout: Duration) -> CheckOutcome {
    let started = Instant::now();
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => CheckOutcome { ok: true, latency_ms: Some(ms(started.elapsed())), status: None, detail: None },
        Ok(Err(e)) => CheckOutcome::fail(Some(started.elapsed()), None, format!("TCP connect to {address}: {e}")),
        Err(_) => CheckOutcome::fail(Some(started.elapsed()), None, format!("TCP connect to {address}: no answer within {} ms", timeout.as_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local_target::LocalTarget;

    fn http(url: String) -> Check {
        Check::Http { url, expect_status: vec![], body_contains: Some("住民記録".into()), max_response: None, timeout: Duration::from_secs(5) }
    }

    #[tokio::test]
    async fn http_checks_status_body_and_refusal() {
        let checker = Checker::new().unwrap();
        let mut server = LocalTarget::start("住民記録システム ログイン").await.unwrap();
        let url = format!("{}/login", server.url());
        let up = checker.run(&http(url.clone())).await;
        assert!(up.ok, "{up:?}");
        assert_eq!(up.status, Some(200));

        let wrong =
            Check::Http { url: url.clone(), expect_status: vec![], body_contains: Some("税務".into()), max_response: None, timeout: Duration::from_secs(5) };
        let wrong_body = checker.run(&wrong).await;
        assert!(!wrong_body.ok && wrong_body.detail.as_deref().unwrap_or("").contains("lacks"), "{wrong_body:?}");

        server.set_status(503);
        let unavailable = checker.run(&http(url.clone())).await;
        assert_eq!((unavailable.ok, unavailable.status), (false, Some(503)));

        server.stop().await;
        let refused = checker.run(&http(url)).await;
        assert!(!refused.ok && refused.detail.as_deref().unwrap_or("").contains("connect"), "{refused:?}");
    }

    #[tokio::test]
    async fn slow_answers_fail_the_ceiling_and_tcp_checks_connect() {
        let checker = Checker::new().unwrap();
        let server = LocalTarget::start("ok").await.unwrap();
        server.set_delay(Duration::from_millis(150));
        let slow = checker
            .run(&Check::Http {
                url: server.url(),
                expect_status: vec![200],
                body_contains: None,
                max_response: Some(Duration::from_millis(50)),
                timeout: Duration::from_secs(5),
            })
            .await;
        assert!(!slow.ok && slow.detail.as_deref().unwrap_or("").contains("ceiling"), "{slow:?}");
        let tcp = checker.run(&Check::Tcp { address: server.address(), timeout: Duration::from_secs(2) }).await;
        assert!(tcp.ok, "{tcp:?}");
        // A port nobody listens on (bound then released).
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let closed = checker.run(&Check::Tcp { address: free.to_string(), timeout: Duration::from_secs(2) }).await;
        assert!(!closed.ok);
    }

    #[test]
    fn targets_need_exactly_one_kind() {
        let t = |url: Option<&str>, tcp: Option<&str>| AvailabilityTarget {
            name: "x".into(),
            url: url.map(String::from),
            tcp: tcp.map(String::from),
            expect_status: vec![],
            body_contains: None,
            max_response_ms: None,
            timeout_ms: None,
            profile: None,
            operations: vec![],
            base_url: None,
        };
        let here = Path::new(".");
        assert!(Target::from_config(&t(Some("http://a"), None), here).is_ok());
        assert!(Target::from_config(&t(None, Some("a:5432")), here).is_ok());
        assert!(Target::from_config(&t(None, None), here).is_err());
        assert!(Target::from_config(&t(Some("ftp://a"), None), here).is_err());
    }

    const PROFILE: &str = r#"
[login]
url = "/login"
expect_status = [200]

[[operation]]
name = "住民票照会"
url = "/"
expect_body = "住民記録"

[[operation]]
name = "異動届入力"
url = "/private"

[phase.normal]
duration_secs = 1
rates = { "住民票照会" = 1, "異動届入力" = 1 }
"#;

    fn business_target(dir: &Path, base: &str, operations: &[&str], with_login: bool) -> Result<Target, TargetError> {
        let text = if with_login { PROFILE.to_string() } else { PROFILE.replace("[login]\nurl = \"/login\"\nexpect_status = [200]\n", "") };
        std::fs::write(dir.join("p.toml"), text).unwrap();
        Target::from_config(
            &AvailabilityTarget {
                name: "juki-business".into(),
                url: None,
                tcp: None,
                expect_status: vec![],
                body_contains: None,
                max_response_ms: None,
                timeout_ms: Some(5000),
                profile: Some("p.toml".into()),
                operations: operations.iter().map(|s| s.to_string()).collect(),
                base_url: Some(base.into()),
            },
            dir,
        )
    }

    #[tokio::test]
    async fn business_check_logs_in_then_runs_the_operations() {
        let dir = tempfile::tempdir().unwrap();
        let server = gcverify_loadgen::server::start(gcverify_loadgen::server::ServerConfig::default(), 0).await.unwrap();
        let checker = Checker::new().unwrap();

        let t = business_target(dir.path(), &server.url(), &[], true).unwrap();
        assert!(t.spec().contains("住民票照会 → 異動届入力"), "{}", t.spec());
        let up = checker.run(&t.check).await;
        assert!(up.ok, "{up:?}");
        assert_eq!(up.status, Some(200));

        // Without the login step the private page answers 401: the check fails, naming the operation.
        let t = business_target(dir.path(), &server.url(), &["異動届入力"], false).unwrap();
        let denied = checker.run(&t.check).await;
        assert_eq!((denied.ok, denied.status), (false, Some(401)), "{denied:?}");
        assert!(denied.detail.as_deref().unwrap_or("").contains("異動届入力"), "{denied:?}");

        // An operation the profile does not have is a configuration error.
        assert!(matches!(business_target(dir.path(), &server.url(), &["税額照会"], true), Err(TargetError::Profile { .. })));

        drop(server);
        let t = business_target(dir.path(), "http://127.0.0.1:9", &["住民票照会"], false).unwrap();
        let down = checker.run(&t.check).await;
        assert!(!down.ok && down.status.is_none(), "{down:?}");
    }
}
