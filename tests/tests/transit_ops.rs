//! E.6.1.1 (ELB listeners in moto + active TLS probe against local servers),
//! C.4.5.1 (reachability of local listeners), and the rows moto cannot serve
//! (C.1.3.1 CloudWatch, C.2.3.5 / E.4.3.4 SSM), which must come out ERROR with
//! the reason, never OK.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use gcverify_checks::{EvidenceStatus, Outcome};
use gcverify_demo::tls_server::{self, Certs};
use tokio::net::TcpListener;

// ---------------------------------------------------------------- TLS servers

fn ca_signed(expired: bool) -> Certs {
    tls_server::ca_signed(expired).expect("certificates")
}

fn self_signed() -> Certs {
    tls_server::self_signed().expect("certificate")
}

async fn rustls_server(c: &Certs) -> SocketAddr {
    tls_server::start(c).await.expect("TLS server")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p.display().to_string()
}

fn endpoint_toml(addr: SocketAddr, pin: Option<&str>, ca_file: Option<&str>) -> String {
    let mut s = format!("[[transit.endpoints]]\nname = \"庁舎⇔ガバクラ\"\nhost = \"127.0.0.1\"\nport = {}\nserver_name = \"localhost\"\n", addr.port());
    if let Some(p) = pin {
        s.push_str(&format!("pin_sha256 = \"{p}\"\n"));
    }
    if let Some(c) = ca_file {
        s.push_str(&format!("ca_file = '{c}'\n"));
    }
    s
}

fn sha256_hex(der: &[u8]) -> String {
    gcverify_checks::probes::tls::sha256_hex(der)
}

/// E.6.1.1 against an empty moto (no load balancers) and the given endpoints.
async fn transit(endpoints: &str) -> gcverify_checks::ItemResult {
    let server = moto().await;
    let r = run(&server.endpoint(), scenario(&format!("{BASE}\n{endpoints}")), &["E.6.1.1"]).await;
    item(&r, "E.6.1.1").clone()
}

// ---------------------------------------------------------------- E.6.1.1: ELB in moto

/// Compliant listeners are evidence about settings, not about the office ⇔
/// Government Cloud path: without an endpoint to handshake with, not OK.
#[tokio::test]
async fn elb_https_and_redirect_listeners_pass_but_without_an_endpoint_the_path_is_not_ok() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");
    let r = run(&server.endpoint(), scenario(BASE), &["E.6.1.1"]).await;
    let i = item(&r, "E.6.1.1");
    assert_eq!(i.verified_by(&i.probe), Outcome::Error, "{}\n{}", i.summary_en, evidence_text(i));
    assert!(i.summary_en.contains("the office ⇔ Government Cloud path was never probed"), "{}", i.summary_en);
    let text = evidence_text(i);
    assert!(text.contains("pass juki-alb:443 Protocol=HTTPS SslPolicy=ELBSecurityPolicy-TLS13-1-2-2021-06"), "{text}");
    assert!(text.contains("pass juki-alb:80 Protocol=HTTP, default action redirects to HTTPS"), "{text}");
}

#[tokio::test]
async fn elb_plain_http_listener_is_ng_naming_it() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), false).await.expect("seed");
    let r = run(&server.endpoint(), scenario(BASE), &["E.6.1.1"]).await;
    let i = item(&r, "E.6.1.1");
    assert_eq!(i.outcome, Outcome::Ng, "{}", evidence_text(i));
    assert!(i.summary_en.contains(gcverify_demo::seed_network::PLAIN_HTTP_LISTENER), "{}", i.summary_en);
    let fails: Vec<&str> = i.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, vec![gcverify_demo::seed_network::PLAIN_HTTP_LISTENER]);
}

#[tokio::test]
async fn compliant_elb_with_unreachable_endpoint_is_not_ok() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    let r = run(&server.endpoint(), scenario(&format!("{BASE}\n{}", endpoint_toml(closed, None, None))), &["E.6.1.1"]).await;
    let i = item(&r, "E.6.1.1");
    assert_eq!(i.outcome, Outcome::Error, "{}", evidence_text(i));
    assert!(i.summary_en.contains("TCP connect"), "{}", i.summary_en);
}

// ---------------------------------------------------------------- E.6.1.1: active TLS probe

#[tokio::test]
async fn tls_endpoint_with_trusted_certificate_is_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = ca_signed(false);
    let ca = write(dir.path(), "ca.pem", certs.ca_pem.as_deref().expect("ca"));
    let addr = rustls_server(&certs).await;
    let i = transit(&endpoint_toml(addr, None, Some(&ca))).await;
    assert_eq!(i.verified_by(&i.probe), Outcome::Ok, "{}\n{}", i.summary_en, evidence_text(&i));
    let text = evidence_text(&i);
    assert!(text.contains("negotiated TLSv1.3"), "{text}");
    assert!(
        text.contains("cipher suite TLS_AES_256_GCM_SHA384 is on the CRYPTREC") || text.contains("cipher suite TLS_AES_128_GCM_SHA256 is on the CRYPTREC"),
        "{text}"
    );
    assert!(text.contains("subject=`CN=localhost`") && text.contains("certificate chain and name verified"), "{text}");
}

#[tokio::test]
async fn tls_endpoint_with_expired_certificate_is_ng() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = ca_signed(true);
    let ca = write(dir.path(), "ca.pem", certs.ca_pem.as_deref().expect("ca"));
    let addr = rustls_server(&certs).await;
    let i = transit(&endpoint_toml(addr, None, Some(&ca))).await;
    assert_eq!(i.outcome, Outcome::Ng, "{}", evidence_text(&i));
    assert!(i.summary_en.contains("certificate expired on 2021-01-01"), "{}", i.summary_en);
}

#[tokio::test]
async fn tls_endpoint_self_signed_unpinned_is_ng() {
    let certs = self_signed();
    let addr = rustls_server(&certs).await;
    let i = transit(&endpoint_toml(addr, None, None)).await;
    assert_eq!(i.outcome, Outcome::Ng, "{}", evidence_text(&i));
    assert!(i.summary_en.contains("certificate not trusted"), "{}", i.summary_en);
}

#[tokio::test]
async fn tls_endpoint_self_signed_pinned_is_ok_and_wrong_pin_is_ng() {
    let certs = self_signed();
    let addr = rustls_server(&certs).await;
    let pin = sha256_hex(&certs.leaf_der);
    let i = transit(&endpoint_toml(addr, Some(&pin), None)).await;
    assert_eq!(i.verified_by(&i.probe), Outcome::Ok, "{}\n{}", i.summary_en, evidence_text(&i));
    assert!(evidence_text(&i).contains("matches the SHA-256 pinned"), "{}", evidence_text(&i));

    let wrong = "00".repeat(32);
    let i = transit(&endpoint_toml(addr, Some(&wrong), None)).await;
    assert_eq!(i.outcome, Outcome::Ng, "{}", evidence_text(&i));
    assert!(i.summary_en.contains("does not match the pinned"), "{}", i.summary_en);
}

/// `openssl s_server` (Debian's openssl) with the certificate, the key and the
/// protocol/cipher options given; killed on drop.
async fn openssl_server(dir: &Path, certs: &Certs, options: &[&str]) -> (SocketAddr, tokio::process::Child) {
    let Ok(status) = std::process::Command::new("openssl").arg("version").stdout(Stdio::null()).status() else {
        panic!("openssl is required for this test (apt-get install -y openssl)");
    };
    assert!(status.success());
    let cert = write(dir, "c.pem", &certs.leaf_pem);
    let key = write(dir, "k.pem", &certs.key_pem);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let accept = format!("127.0.0.1:{port}");
    let mut args = vec!["s_server", "-accept", &accept, "-cert", &cert, "-key", &key, "-quiet"];
    args.extend_from_slice(options);
    let child = tokio::process::Command::new("openssl")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("openssl s_server starts");
    // Wait (bounded) until it listens.
    let addr: SocketAddr = accept.parse().expect("addr");
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return (addr, child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("openssl s_server did not start listening");
}

/// `openssl s_server` offering only TLS 1.0 with a CBC/SHA-1 suite.
#[tokio::test]
async fn tls10_only_server_is_ng() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = self_signed();
    let (addr, mut child) = openssl_server(dir.path(), &certs, &["-tls1", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"]).await;
    let i = transit(&endpoint_toml(addr, Some(&sha256_hex(&certs.leaf_der)), None)).await;
    let _ = child.kill().await;
    assert_eq!(i.outcome, Outcome::Ng, "{}", evidence_text(&i));
    assert!(i.summary_en.contains("did not negotiate TLS 1.2+"), "{}", i.summary_en);
}

/// A server that negotiates TLS 1.3 with a good suite and a pinned
/// certificate, yet still accepts TLS 1.0 and 1.1 from an old client: the
/// happy handshake alone would call it OK. The same server limited to
/// TLS 1.2+ is OK, both old versions shown refused.
#[tokio::test]
async fn a_server_also_accepting_tls10_beside_tls13_is_ng() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = self_signed();
    let pin = sha256_hex(&certs.leaf_der);
    let (addr, mut child) = openssl_server(dir.path(), &certs, &["-min_protocol", "TLSv1", "-cipher", "DEFAULT:@SECLEVEL=0"]).await;
    let i = transit(&endpoint_toml(addr, Some(&pin), None)).await;
    let _ = child.kill().await;
    assert_eq!(i.outcome, Outcome::Ng, "{}", evidence_text(&i));
    let text = evidence_text(&i);
    assert!(text.contains("negotiated TLSv1.3"), "the happy handshake passed: {text}");
    assert!(text.contains("server also accepts TLS 1.0"), "{text}");
    assert!(text.contains("server also accepts TLS 1.1"), "{text}");

    let (addr, mut child) = openssl_server(dir.path(), &certs, &["-min_protocol", "TLSv1.2"]).await;
    let i = transit(&endpoint_toml(addr, Some(&pin), None)).await;
    let _ = child.kill().await;
    let text = evidence_text(&i);
    assert!(text.contains("TLS 1.0 refused") && text.contains("TLS 1.1 refused"), "{text}");
    assert!(!i.evidence.iter().any(|e| e.status == EvidenceStatus::Fail), "{text}");
}

// ---------------------------------------------------------------- C.4.5.1

#[tokio::test]
async fn integrations_reachable_ok_and_closed_port_ng() {
    let open = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let open_port = open.local_addr().expect("addr").port();
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http_port = http.local_addr().expect("addr").port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = http.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
        }
    });
    let closed_port = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr").port();
    let good = format!(
        "[integrations]\ntimeout_secs = 2\n[[integrations.endpoints]]\nname = \"税務システム\"\ntarget = \"127.0.0.1:{open_port}\"\n[[integrations.endpoints]]\nname = \"連携基盤\"\ntarget = \"http://127.0.0.1:{http_port}/health\"\nexpect_status = 200\n"
    );
    // No AWS call: the endpoint URL is never contacted.
    let r = run("http://127.0.0.1:9", scenario(&format!("{BASE}\n{good}")), &["C.4.5.1"]).await;
    let i = item(&r, "C.4.5.1");
    assert_eq!(i.verified_by(&i.probe), Outcome::Ok, "{}\n{}", i.summary_en, evidence_text(i));
    assert!(evidence_text(i).contains("HTTP 200"), "{}", evidence_text(i));

    let bad = format!("{good}[[integrations.endpoints]]\nname = \"福祉システム\"\ntarget = \"127.0.0.1:{closed_port}\"\n");
    let r = run("http://127.0.0.1:9", scenario(&format!("{BASE}\n{bad}")), &["C.4.5.1"]).await;
    let i = item(&r, "C.4.5.1");
    assert_eq!(i.outcome, Outcome::Ng, "{}", evidence_text(i));
    assert!(i.summary.contains("福祉システム") && i.summary_en.contains("unreachable"), "{}", i.summary);
    drop(open);
}

// ------------------------------------- CloudWatch and SSM through the emulator extension

/// Alarms (CloudWatch over CBOR), patch states and the AV association (SSM)
/// as the extension serves them: the compliant seed is OK from observations,
/// each planted violation of the non-compliant one is NG naming its resource.
#[tokio::test]
async fn cloudwatch_and_ssm_rows_are_judged_from_the_extensions_state() {
    use gcverify_demo::seed_monitoring::MISSING_ALARM;
    use gcverify_demo::seed_operations::{AV_ASSOCIATION, MISSING_PATCH};
    const ROWS: [&str; 3] = ["C.1.3.1", "C.2.3.5", "E.4.3.4"];
    let text = format!("{BASE}\n[patching]\nav_association = \"{AV_ASSOCIATION}\"\n");
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");
    let r = run(&server.endpoint(), scenario(&text), &ROWS).await;
    for id in ROWS {
        let i = item(&r, id);
        assert_eq!(i.verified_by(&i.probe), Outcome::Ok, "{id}: {}\n{}", i.summary_en, evidence_text(i));
    }
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), false).await.expect("seed");
    let r = run(&server.endpoint(), scenario(&text), &ROWS).await;
    // SSM names instances by ID: the planted server's.
    let ec2 = aws_sdk_ec2::Client::new(&gcverify_demo::seed::emulator_config(&server.endpoint(), gcverify_demo::seed::PRIMARY));
    let named =
        ec2.describe_instances().filters(aws_sdk_ec2::types::Filter::builder().name("tag:Name").values(MISSING_PATCH).build()).send().await.expect("instances");
    let unpatched = named.reservations().iter().flat_map(|r| r.instances()).find_map(|i| i.instance_id()).expect("the planted server").to_string();
    for (id, planted) in [("C.1.3.1", MISSING_ALARM), ("C.2.3.5", unpatched.as_str()), ("E.4.3.4", AV_ASSOCIATION)] {
        let i = item(&r, id);
        assert_eq!(i.outcome, Outcome::Ng, "{id}: {}\n{}", i.summary_en, evidence_text(i));
        let fails: Vec<_> = i.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).collect();
        assert!(fails.iter().any(|e| e.subject.contains(planted) || e.detail.contains(planted)), "{id}: {planted} not named\n{}", evidence_text(i));
        assert_eq!(fails.len(), 1, "{id}: only the planted violation\n{}", evidence_text(i));
    }
}
