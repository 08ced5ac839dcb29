//! https through the per-connection workers: a rustls server on 127.0.0.1
//! with a certificate for `localhost`, trusted through `SSL_CERT_FILE` (read
//! by the native-roots loader). Its own test binary, so the variable cannot
//! leak into other tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use gcverify_loadgen::server::PAGE;
use gcverify_loadgen::{run_phase, Profile, RunOptions, Verdict};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{CertificateParams, DnType, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_targets_work_and_connections_are_kept() {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = params.self_signed(&key).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert.pem()).expect("write ca");
    // SAFETY: set before any thread of this test binary reads the environment.
    std::env::set_var("SSL_CERT_FILE", &ca);

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted) = (acceptor.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                counted.fetch_add(1, Ordering::Relaxed);
                let svc = service_fn(|_req| async { Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(PAGE.as_bytes())))) });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), svc).await;
            });
        }
    });

    let text = format!(
        "base_url = \"https://localhost:{port}\"\n[client]\nschedule_tolerance_ms = 250\nmax_in_flight = 8\n[[operation]]\nname = \"tls\"\nurl = \"/\"\nexpect_body = \"住民記録\"\n[phase.normal]\nduration_secs = 1\nrates = {{ tls = 200 }}\n"
    );
    let p = Profile::parse(&text).expect("profile");
    let r = run_phase(&p, "normal", 3000, &RunOptions::default()).await.expect("runs");
    let op = &r.operations[0];
    assert_eq!(r.verdict(), Verdict::Ok, "{}", op.line());
    assert_eq!(op.ok, 200, "{}", op.line());
    // Keep-alive: a handful of TLS connections carried 200 requests.
    let n = handshakes.load(Ordering::Relaxed);
    assert!((1..=8).contains(&n), "{n} TLS handshakes for 200 requests");
}
