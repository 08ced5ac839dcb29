//! C.4.5.1 外部システムとの接続: every integration endpoint (連携先) the
//! scenario lists is reachable: a TCP connect for `host:port`, an HTTP(S) GET
//! for a URL whose status must match the expected one (default: below 500).
//! All endpoints are tried concurrently, each under the scenario's timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Findings, ProbeInput};
use crate::model::Msg;
use gcverify_scenarios::IntegrationEndpoint;

/// No AWS calls: this probe only opens connections.
pub const ACTIONS: &[&str] = &[];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[super::registry::ProbeDef {
    name: "operations.external_connectivity",
    ja: "シナリオの連携先（TCP/HTTP）に到達できる",
    en: "The integration endpoints named in the scenario answer (TCP / HTTP)",
    detail: "TCP connect or HTTP status of each integration endpoint in the scenario.",
    section: "[[integrations.endpoints]]",
    actions: ACTIONS,
    emulator: "local TCP/HTTP servers",
    claims: &[super::registry::claim("endpoints-reachable", "連携先に接続できる", "The integration endpoints can be reached", super::registry::Basis::Effect)],
    counterfeits: &[
        crate::probes::registry::counterfeit(
            "integrations_reachable_ok_and_closed_port_ng",
            crate::probes::registry::Class::Nearest,
            "a partner endpoint with its port closed",
            crate::model::Outcome::Ng,
        ),
        crate::probes::registry::counterfeit(
            "endpoint_gone_gives_error_rows",
            crate::probes::registry::Class::HappyPathOnly,
            "the whole environment unreachable",
            crate::model::Outcome::Error,
        ),
    ],
    unseen: &[
        crate::probes::registry::unseen(
            crate::probes::registry::Class::PartialObservation,
            "Connects from this machine's network position; the servers' own route to an integration may differ.",
        ),
        crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Only the endpoints the scenario lists are tried."),
    ],
    run: |i| Box::pin(external_connectivity(i)),
}];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tcp { host: String, port: u16 },
    Http { tls: bool, host: String, port: u16, path: String },
}

/// `host:port` or `http(s)://host[:port][/path]`.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let split_host_port = |hp: &str, default: Option<u16>| -> Result<(String, u16), String> {
        match hp.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() => Ok((h.trim_matches(['[', ']']).to_string(), p.parse().map_err(|_| format!("bad port in `{s}`"))?)),
            _ => match default {
                Some(d) if !hp.is_empty() => Ok((hp.to_string(), d)),
                _ => Err(format!("`{s}` is neither host:port nor an http(s) URL")),
            },
        }
    };
    for (scheme, tls, port) in [("http://", false, 80), ("https://", true, 443)] {
        if let Some(rest) = s.strip_prefix(scheme) {
            let (hp, path) = match rest.find('/') {
                Some(i) => (&rest[..i], rest[i..].to_string()),
                None => (rest, "/".to_string()),
            };
            let (host, port) = split_host_port(hp, Some(port))?;
            return Ok(Target::Http { tls, host, port, path });
        }
    }
    let (host, port) = split_host_port(s, None)?;
    Ok(Target::Tcp { host, port })
}

pub async fn external_connectivity(input: Arc<ProbeInput>) -> Findings {
    let cfg = &input.scenario.integrations;
    let mut f = Findings::new();
    if cfg.endpoints.is_empty() {
        f.error(
            "integrations",
            None,
            Msg::new(
                "シナリオに連携先の記載なし（[integrations] endpoints）: 確認するものがない",
                "the scenario lists no integration endpoints ([integrations] endpoints): nothing to check",
            ),
            "scenario",
        );
        return f;
    }
    let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
    let checks = cfg.endpoints.iter().map(|ep| async move { (ep, check(ep, timeout).await) });
    for (ep, result) in futures::future::join_all(checks).await {
        record(ep, result, &mut f);
    }
    f.ok_summary(Msg::new(
        format!("連携先{}件すべてに接続可能", cfg.endpoints.len()),
        format!("all {} integration endpoint(s) reachable", cfg.endpoints.len()),
    ));
    f
}

/// What one endpoint did.
#[derive(Debug)]
pub enum Reach {
    /// The target in the scenario is malformed.
    Invalid(String),
    Connected {
        elapsed: Duration,
    },
    Http {
        status: u16,
        elapsed: Duration,
    },
    Unreachable(String),
}

fn record(ep: &IntegrationEndpoint, r: Reach, f: &mut Findings) {
    let subject = format!("{} ({})", ep.name, ep.target);
    let ms = |d: Duration| d.as_millis();
    match r {
        Reach::Invalid(why) => f.error(&subject, None, crate::msg!("連携先の記載が不正: {why}", "{why}"), "scenario"),
        Reach::Connected { elapsed } => f.pass(&subject, None, crate::msg!("TCP 接続成功（{0} ms）", "TCP connect OK in {0} ms", ms(elapsed)), "tcp-connect"),
        Reach::Http { status, elapsed } => {
            let ok = match ep.expect_status {
                Some(want) => status == want,
                None => status < 500,
            };
            let want = ep.expect_status.map(|s| s.to_string()).unwrap_or_else(|| "<500".into());
            if ok {
                f.pass(
                    &subject,
                    None,
                    crate::msg!("HTTP {status}（{0} ms、期待 {want}）", "HTTP {status} in {0} ms (expected {want})", ms(elapsed)),
                    "http-get",
                );
            } else {
                f.fail(&subject, None, crate::msg!("HTTP {status}、期待 {want}", "HTTP {status}, expected {want}"), "http-get");
            }
        }
        Reach::Unreachable(why) => f.fail(&subject, None, crate::msg!("到達できない: {why}", "unreachable: {why}"), "tcp-connect"),
    }
}

pub async fn check(ep: &IntegrationEndpoint, timeout: Duration) -> Reach {
    let target = match parse_target(&ep.target) {
        Ok(t) => t,
        Err(why) => return Reach::Invalid(why),
    };
    let start = Instant::now();
    let (host, port) = match &target {
        Target::Tcp { host, port } | Target::Http { host, port, .. } => (host.clone(), *port),
    };
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), port))).await {
        Err(_) => return Reach::Unreachable(format!("connect timed out after {}s", timeout.as_secs())),
        Ok(Err(e)) => return Reach::Unreachable(format!("connect failed: {e}")),
        Ok(Ok(s)) => s,
    };
    let Target::Http { tls, path, .. } = target else {
        return Reach::Connected { elapsed: start.elapsed() };
    };
    let status = if tls {
        match tls_stream(tcp, &host, timeout).await {
            Ok(s) => tokio::time::timeout(timeout, http_status(s, &host, port, &path)).await,
            Err(why) => return Reach::Unreachable(why),
        }
    } else {
        tokio::time::timeout(timeout, http_status(tcp, &host, port, &path)).await
    };
    match status {
        Err(_) => Reach::Unreachable(format!("no HTTP answer within {}s", timeout.as_secs())),
        Ok(Err(why)) => Reach::Unreachable(why),
        Ok(Ok(status)) => Reach::Http { status, elapsed: start.elapsed() },
    }
}

/// HTTPS with the system trust store and normal certificate verification.
async fn tls_stream(tcp: TcpStream, host: &str, timeout: Duration) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| format!("invalid server name `{host}`: {e}"))?;
    match tokio::time::timeout(timeout, tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp)).await {
        Err(_) => Err("TLS handshake timed out".into()),
        Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
        Ok(Ok(s)) => Ok(s),
    }
}

/// Send one GET and read the status line only (the body is irrelevant to reachability).
async fn http_status<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, host: &str, port: u16, path: &str) -> Result<u16, String> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: gcverify\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.map_err(|e| format!("sending request failed: {e}"))?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < 8192 {
        let n = s.read(&mut chunk).await.map_err(|e| format!("reading answer failed: {e}"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    let line = line.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().and_then(|c| c.parse::<u16>().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => Ok(code),
        _ => Err(format!("not an HTTP answer: `{}`", line.chars().take(60).collect::<String>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn targets_parse() {
        assert_eq!(parse_target("10.0.0.5:1521"), Ok(Target::Tcp { host: "10.0.0.5".into(), port: 1521 }));
        assert_eq!(
            parse_target("http://renkei.example/health"),
            Ok(Target::Http { tls: false, host: "renkei.example".into(), port: 80, path: "/health".into() })
        );
        assert_eq!(parse_target("https://a.example:8443"), Ok(Target::Http { tls: true, host: "a.example".into(), port: 8443, path: "/".into() }));
        assert!(parse_target("nohostport").is_err());
        assert!(parse_target("h:notaport").is_err());
    }

    fn ep(target: String, expect: Option<u16>) -> IntegrationEndpoint {
        IntegrationEndpoint { name: "x".into(), target, expect_status: expect }
    }

    /// A one-shot HTTP server on 127.0.0.1 answering `status`.
    async fn http_server(status: u16) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = l.local_addr().expect("addr").port();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n").as_bytes()).await;
            }
        });
        port
    }

    async fn closed_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        port
    }

    #[tokio::test]
    async fn tcp_and_http_checks_against_local_listeners() {
        let t = Duration::from_secs(2);
        let port = http_server(204).await;
        assert!(matches!(check(&ep(format!("http://127.0.0.1:{port}/ping"), Some(204)), t).await, Reach::Http { status: 204, .. }));
        let closed = closed_port().await;
        assert!(matches!(check(&ep(format!("127.0.0.1:{closed}"), None), t).await, Reach::Unreachable(_)));
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let open = l.local_addr().expect("addr").port();
        assert!(matches!(check(&ep(format!("127.0.0.1:{open}"), None), t).await, Reach::Connected { .. }));
    }

    #[test]
    fn status_judgement() {
        let mut f = Findings::new();
        record(&ep("http://h/".into(), Some(200)), Reach::Http { status: 503, elapsed: Duration::ZERO }, &mut f);
        assert_eq!(f.conclude("1").outcome, crate::model::Outcome::Ng);
        let mut f = Findings::new();
        record(&ep("http://h/".into(), None), Reach::Http { status: 404, elapsed: Duration::ZERO }, &mut f);
        assert_eq!(f.conclude("1").outcome, crate::model::Outcome::Ok);
    }
}
