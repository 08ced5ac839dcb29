//! A local TLS endpoint (rustls on 127.0.0.1) with certificates made by
//! rcgen: for E.6.1.1's active TLS probe in the tests and in the demo, which
//! stands it in for the 庁舎⇔ガバクラ endpoint. Valid or expired leaves for
//! `localhost` signed by a fresh private CA, or a self-signed leaf.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

/// A leaf certificate, its key, and the CA that issued it.
pub struct Certs {
    pub leaf_pem: String,
    pub key_pem: String,
    pub leaf_der: Vec<u8>,
    pub key_der: Vec<u8>,
    /// PEM of the issuing CA (None for self-signed).
    pub ca_pem: Option<String>,
}

fn params(expired: bool) -> Result<CertificateParams> {
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).context("certificate parameters")?;
    p.distinguished_name.push(DnType::CommonName, "localhost");
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    Ok(p)
}

/// A leaf for `localhost` signed by a fresh CA (valid, or expired on 2021-01-01).
pub fn ca_signed(expired: bool) -> Result<Certs> {
    let ca_key = KeyPair::generate().context("CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "gcverify test CA");
    let ca_cert = ca_params.self_signed(&ca_key).context("CA certificate")?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let key = KeyPair::generate().context("leaf key")?;
    let leaf = params(expired)?.signed_by(&key, &issuer).context("leaf certificate")?;
    Ok(Certs { leaf_pem: leaf.pem(), key_pem: key.serialize_pem(), leaf_der: leaf.der().to_vec(), key_der: key.serialize_der(), ca_pem: Some(ca_cert.pem()) })
}

/// A self-signed leaf for `localhost`.
pub fn self_signed() -> Result<Certs> {
    let key = KeyPair::generate().context("key")?;
    let cert = params(false)?.self_signed(&key).context("certificate")?;
    Ok(Certs { leaf_pem: cert.pem(), key_pem: key.serialize_pem(), leaf_der: cert.der().to_vec(), key_der: key.serialize_der(), ca_pem: None })
}

/// A rustls server on 127.0.0.1 that completes handshakes while the runtime lives.
pub async fn start(c: &Certs) -> Result<SocketAddr> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(c.leaf_der.clone())], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key_der.clone())))
        .context("TLS server configuration")?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding a loopback port")?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await;
            });
        }
    });
    Ok(addr)
}
