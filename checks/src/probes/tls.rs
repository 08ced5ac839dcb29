//! Active TLS probe for E.6.1.1: one rustls handshake per endpoint, recording
//! what was actually negotiated (protocol, cipher suite) and the certificate
//! the server presented (subject, issuer, validity, chain verdict, SHA-256).
//!
//! The certificate verifier records the WebPKI verdict instead of aborting,
//! so a server with a bad certificate is still observed (and judged NG)
//! rather than ending as a bare handshake error. The handshake signature is
//! still verified. No application data is sent.
//!
//! rustls only speaks TLS 1.2/1.3 with AEAD suites: a server that offers
//! nothing else (TLS 1.0, CBC-only, RC4 …) fails the handshake, and that
//! failure, when it is a TLS-level refusal, is the observation "the server did
//! not negotiate TLS 1.2+".

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

/// The CRYPTREC-derived suite list shipped with gcverify (see the file's header).
pub const CRYPTREC_TOML: &str = include_str!("../../data/cryptrec-tls.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct CryptrecList {
    pub source: String,
    pub list: String,
    pub min_version: String,
    pub tls13: Vec<String>,
    pub tls12: Vec<String>,
}

impl CryptrecList {
    pub fn builtin() -> Result<Self, String> {
        toml::from_str(CRYPTREC_TOML).map_err(|e| format!("checks/data/cryptrec-tls.toml: {e}"))
    }

    /// Is this suite (IANA or rustls name) on the list?
    pub fn allows_suite(&self, suite: &str) -> bool {
        let name = normalise_suite(suite);
        self.tls13.iter().chain(&self.tls12).any(|s| *s == name)
    }

    /// Is this protocol version at least `min_version`?
    pub fn allows_version(&self, version: &str) -> bool {
        version_rank(version).is_some_and(|v| version_rank(&self.min_version).is_some_and(|min| v >= min))
    }
}

/// rustls writes TLS 1.3 suites `TLS13_AES_128_GCM_SHA256`; IANA writes `TLS_AES_128_GCM_SHA256`.
pub fn normalise_suite(suite: &str) -> String {
    match suite.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => suite.to_string(),
    }
}

fn version_rank(v: &str) -> Option<u8> {
    match v {
        "SSLv3" => Some(0),
        "TLSv1.0" | "TLSv1" => Some(1),
        "TLSv1.1" => Some(2),
        "TLSv1.2" => Some(3),
        "TLSv1.3" => Some(4),
        _ => None,
    }
}

/// What one endpoint answered.
#[derive(Debug, Clone)]
pub enum Handshake {
    /// TCP connect failed or timed out: nothing about TLS was observed.
    Unreachable(String),
    /// The server refused every TLS 1.2/1.3 AEAD offer (alert or incompatible answer).
    Refused(String),
    /// The handshake broke off for a reason that says nothing about the server's TLS settings.
    Broken(String),
    Negotiated(Negotiated),
}

#[derive(Debug, Clone)]
pub struct Negotiated {
    /// `TLSv1.2` / `TLSv1.3`.
    pub version: String,
    /// IANA name.
    pub suite: String,
    pub cert: Option<CertInfo>,
    /// WebPKI verdict for the chain and name: `Ok` or the reason it failed.
    pub chain: Result<(), String>,
}

#[derive(Debug, Clone)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    /// Lowercase hex SHA-256 of the leaf certificate's DER.
    pub sha256: String,
    pub chain_len: usize,
}

pub fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse a leaf certificate for the evidence. A certificate x509-parser cannot
/// read still gets its hash recorded.
pub fn cert_info(der: &[u8], chain_len: usize) -> CertInfo {
    let sha256 = sha256_hex(der);
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => {
            let at = |t: i64| Utc.timestamp_opt(t, 0).single();
            CertInfo {
                subject: c.subject().to_string(),
                issuer: c.issuer().to_string(),
                not_before: at(c.validity().not_before.timestamp()),
                not_after: at(c.validity().not_after.timestamp()),
                sha256,
                chain_len,
            }
        }
        Err(e) => CertInfo { subject: format!("(unparseable certificate: {e})"), issuer: String::new(), not_before: None, not_after: None, sha256, chain_len },
    }
}

/// The certificate chain the server presented and the verdict of the default verifier.
type SeenChain = (Vec<CertificateDer<'static>>, Result<(), String>);

/// Records the chain and the WebPKI verdict, and lets the handshake go on.
#[derive(Debug)]
struct Recorder {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    seen: Mutex<Option<SeenChain>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = match &self.webpki {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now).map(|_| ()).map_err(|e| e.to_string()),
            None => Err("no trusted root certificates available (system store empty and no ca_file)".to_string()),
        };
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        if let Ok(mut slot) = self.seen.lock() {
            *slot = Some((chain, verdict));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Trusted roots: the system store plus the endpoint's own CA file.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = store.add_parsable_certificates(native.certs);
    tracing::debug!(added, "system root certificates loaded");
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
        let certs = <CertificateDer<'static> as rustls::pki_types::pem::PemObject>::pem_slice_iter(&pem)
            .collect::<Result<Vec<CertificateDer<'static>>, _>>()
            .map_err(|e| format!("ca_file {}: {e:?}", path.display()))?;
        let (ok, _) = store.add_parsable_certificates(certs);
        if ok == 0 {
            return Err(format!("ca_file {} holds no usable certificate", path.display()));
        }
    }
    Ok(store)
}

/// Handshake with `host:port`, presenting `server_name` as SNI.
/// `Err` only when the probe itself cannot be set up (bad server name, unreadable CA file).
pub async fn handshake(host: &str, port: u16, server_name: &str, ca_file: Option<&Path>, timeout: Duration) -> Result<Handshake, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let store = Arc::new(roots(ca_file)?);
    let webpki = if store.is_empty() {
        None
    } else {
        Some(WebPkiServerVerifier::builder_with_provider(store, provider.clone()).build().map_err(|e| format!("certificate verifier: {e}"))?)
    };
    let recorder = Arc::new(Recorder { webpki, provider: provider.clone(), seen: Mutex::new(None) });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS client configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_string()).map_err(|e| format!("invalid server name `{server_name}`: {e}"))?;

    let tcp = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Err(_) => return Ok(Handshake::Unreachable(format!("TCP connect to {host}:{port} timed out after {}s", timeout.as_secs()))),
        Ok(Err(e)) => return Ok(Handshake::Unreachable(format!("TCP connect to {host}:{port} failed: {e}"))),
        Ok(Ok(s)) => s,
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Err(_) => return Ok(Handshake::Broken(format!("TLS handshake with {host}:{port} timed out after {}s", timeout.as_secs()))),
        Ok(Err(e)) => return Ok(classify_failure(e)),
        Ok(Ok(s)) => s,
    };
    let (_, conn) = stream.get_ref();
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_string(),
    };
    let suite = conn.negotiated_cipher_suite().map(|s| normalise_suite(&format!("{:?}", s.suite()))).unwrap_or_else(|| "unknown".into());
    let seen = recorder.seen.lock().ok().and_then(|mut s| s.take());
    let (cert, chain) = match seen {
        Some((chain, verdict)) => (chain.first().map(|leaf| cert_info(leaf.as_ref(), chain.len())), verdict),
        None => (None, Err("server presented no certificate".to_string())),
    };
    Ok(Handshake::Negotiated(Negotiated { version, suite, cert, chain }))
}

/// How a server answered a ClientHello offering only an old protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyAnswer {
    /// A ServerHello of that version: the server would speak it.
    Accepted,
    /// An alert, a close, or a ServerHello of another version.
    Refused(String),
    /// Nothing could be asked (connect failed or timed out).
    Unknown(String),
}

/// Offer `host:port` a ClientHello of `version` only (0x0301 TLS 1.0, 0x0302
/// TLS 1.1) with the suites those versions use: a server that completes a
/// TLS 1.2+ handshake may still accept these, and rustls cannot offer them,
/// so the first flight is written by hand and only the ServerHello is read.
pub async fn legacy_version(host: &str, port: u16, server_name: &str, version: u16, timeout: Duration) -> LegacyAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hello = legacy_client_hello(server_name, version);
    let mut tcp = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Err(_) => return LegacyAnswer::Unknown(format!("TCP connect to {host}:{port} timed out after {}s", timeout.as_secs())),
        Ok(Err(e)) => return LegacyAnswer::Unknown(format!("TCP connect to {host}:{port} failed: {e}")),
        Ok(Ok(s)) => s,
    };
    let exchange = async {
        tcp.write_all(&hello).await?;
        let mut head = [0u8; 5];
        tcp.read_exact(&mut head).await?;
        // Handshake record → handshake type, 3-byte length, server_version.
        let mut body = [0u8; 6];
        if head[0] == 0x16 {
            tcp.read_exact(&mut body).await?;
        }
        Ok::<_, std::io::Error>((head, body))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => LegacyAnswer::Unknown(format!("no answer from {host}:{port} within {}s", timeout.as_secs())),
        // A server that closes or resets on an old ClientHello refuses it.
        Ok(Err(e)) => LegacyAnswer::Refused(format!("connection closed ({})", e.kind())),
        Ok(Ok((head, _))) if head[0] == 0x15 => LegacyAnswer::Refused("TLS alert".into()),
        Ok(Ok((head, body))) if head[0] == 0x16 && body[0] == 0x02 => {
            let answered = u16::from_be_bytes([body[4], body[5]]);
            if answered == version {
                LegacyAnswer::Accepted
            } else {
                LegacyAnswer::Refused(format!("ServerHello of version {answered:#06x}"))
            }
        }
        Ok(Ok((head, _))) => LegacyAnswer::Refused(format!("record type {:#04x}", head[0])),
    }
}

/// A TLS 1.0/1.1 ClientHello record: CBC suites of those versions, SNI when the
/// name is a DNS name, the usual curves; the random need not be secret (the
/// handshake is never completed).
fn legacy_client_hello(server_name: &str, version: u16) -> Vec<u8> {
    const SUITES: &[u16] = &[0xc00a, 0xc009, 0xc014, 0xc013, 0x0039, 0x0033, 0x0035, 0x002f, 0x000a];
    let mut ext: Vec<u8> = Vec::new();
    let mut push_ext = |kind: u16, data: &[u8]| {
        ext.extend_from_slice(&kind.to_be_bytes());
        ext.extend_from_slice(&(data.len() as u16).to_be_bytes());
        ext.extend_from_slice(data);
    };
    if server_name.parse::<std::net::IpAddr>().is_err() && !server_name.is_empty() {
        let name = server_name.as_bytes();
        let mut sni = Vec::new();
        sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        push_ext(0x0000, &sni);
    }
    push_ext(0x000a, &[0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]);
    push_ext(0x000b, &[0x01, 0x00]);
    push_ext(0xff01, &[0x00]);
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    body.extend((0..32u32).map(|i| (nanos >> (i % 16 * 8)) as u8 ^ (i as u8).wrapping_mul(37)));
    body.push(0); // no session id
    body.extend_from_slice(&((SUITES.len() * 2) as u16).to_be_bytes());
    for s in SUITES {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]); // null compression only
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// A TLS-level refusal (alert, incompatible offer) says the server will not
/// speak TLS 1.2+/AEAD; an I/O error before any answer says nothing.
fn classify_failure(e: std::io::Error) -> Handshake {
    let text = e.to_string();
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(alert)) => Handshake::Refused(format!("server sent TLS alert {alert:?} to a TLS 1.2/1.3 ClientHello")),
        Some(rustls::Error::PeerIncompatible(why)) => Handshake::Refused(format!("server is incompatible with TLS 1.2/1.3 AEAD: {why:?}")),
        Some(rustls::Error::InvalidMessage(why)) => {
            Handshake::Refused(format!("server answered with a message TLS 1.2/1.3 does not allow (older protocol?): {why:?}"))
        }
        Some(rustls::Error::PeerMisbehaved(why)) => Handshake::Refused(format!("server misbehaved in the handshake: {why:?}")),
        Some(other) => Handshake::Broken(format!("TLS handshake failed: {other}")),
        None => Handshake::Broken(format!("TLS handshake failed: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cryptrec_list_loads_and_excludes_chacha() {
        let l = CryptrecList::builtin().expect("list");
        assert!(l.source.contains("cryptrec.go.jp"));
        assert!(l.allows_suite("TLS13_AES_128_GCM_SHA256"));
        assert!(l.allows_suite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"));
        assert!(!l.allows_suite("TLS13_CHACHA20_POLY1305_SHA256"));
        assert!(!l.allows_suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
        assert!(!l.allows_suite("TLS_RSA_WITH_RC4_128_SHA"));
        assert!(!l.allows_suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"));
    }

    #[test]
    fn legacy_hello_is_a_well_formed_record() {
        let r = legacy_client_hello("portal.example.jp", 0x0301);
        assert_eq!(&r[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([r[3], r[4]]) as usize, r.len() - 5);
        assert_eq!(r[5], 0x01);
        assert_eq!(u32::from_be_bytes([0, r[6], r[7], r[8]]) as usize, r.len() - 9);
        assert_eq!(&r[9..11], &[0x03, 0x01]);
        assert!(r.windows(17).any(|w| w == b"portal.example.jp"));
        assert!(!legacy_client_hello("127.0.0.1", 0x0302).windows(9).any(|w| w == b"127.0.0.1"), "no SNI for an address");
    }

    #[test]
    fn version_threshold() {
        let l = CryptrecList::builtin().expect("list");
        assert!(l.allows_version("TLSv1.2"));
        assert!(l.allows_version("TLSv1.3"));
        assert!(!l.allows_version("TLSv1.0"));
        assert!(!l.allows_version("TLSv1.1"));
        assert!(!l.allows_version("garbage"));
    }
}
