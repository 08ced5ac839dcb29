//! HTTP client: hyper 1 with a keep-alive pool (http and https via rustls).
//! Connections are bounded by the in-flight limit the runner enforces.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, COOKIE, SET_COOKIE};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::profile::{resolve_url, Login, Operation};
use crate::LoadError;

pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

pub fn build(pool_size: usize) -> Result<HttpClient, LoadError> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| LoadError::Client(format!("TLS root certificates: {e}")))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).pool_max_idle_per_host(pool_size).pool_idle_timeout(Duration::from_secs(30)).build(https))
}

/// An operation made ready to send: parsed once, cloned per request.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub name: String,
    pub method: Method,
    pub uri: Uri,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    pub expect_status: Vec<u16>,
    pub expect_body: Option<String>,
}

impl Prepared {
    pub fn new(op: &Operation, base: Option<&str>, auth: &[(HeaderName, HeaderValue)]) -> Result<Self, LoadError> {
        let method = Method::from_bytes(op.method.as_bytes()).map_err(|_| LoadError::Profile(format!("bad method {}", op.method)))?;
        let mut headers = parse_headers(&op.headers)?;
        headers.extend(auth.iter().cloned());
        Ok(Self {
            name: op.name.clone(),
            method,
            uri: resolve_url(base, &op.url)?,
            headers,
            body: Bytes::from(op.body.clone().unwrap_or_default()),
            expect_status: op.expect_status.clone(),
            expect_body: op.expect_body.clone(),
        })
    }

    pub fn request(&self) -> Result<Request<Full<Bytes>>, LoadError> {
        let mut b = Request::builder().method(self.method.clone()).uri(self.uri.clone());
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        b.body(Full::new(self.body.clone())).map_err(|e| LoadError::Profile(format!("{}: {e}", self.name)))
    }

    /// Why the answer does not pass the operation's checks, if it does not.
    pub fn check(&self, status: u16, body: &[u8]) -> Option<Failure> {
        let status_ok = if self.expect_status.is_empty() { (200..300).contains(&status) } else { self.expect_status.contains(&status) };
        if !status_ok {
            return Some(Failure::Status(status));
        }
        if let Some(want) = &self.expect_body {
            if !contains(body, want.as_bytes()) {
                return Some(Failure::Body);
            }
        }
        None
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn parse_headers(h: &std::collections::BTreeMap<String, String>) -> Result<Vec<(HeaderName, HeaderValue)>, LoadError> {
    h.iter()
        .map(|(k, v)| {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| LoadError::Profile(format!("bad header name `{k}`")))?;
            let value = HeaderValue::from_str(v).map_err(|_| LoadError::Profile(format!("bad value for header `{k}`")))?;
            Ok((name, value))
        })
        .collect()
}

/// Why one request counts as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Status(u16),
    Body,
    Timeout,
    Transport,
}

/// Send one request and read the whole answer. `Ok((status, body))` or the transport error text.
pub async fn send(client: &HttpClient, req: Request<Full<Bytes>>) -> Result<(u16, Bytes, http::HeaderMap), String> {
    let resp = client.request(req).await.map_err(|e| format!("{e:?}"))?;
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body, parts.headers))
}

/// Run the login step; returns the headers every operation then carries.
pub async fn login(client: &HttpClient, login: &Login, base: Option<&str>, timeout: Duration) -> Result<Vec<(HeaderName, HeaderValue)>, LoadError> {
    let op = Operation {
        name: "login".into(),
        method: login.method.clone(),
        url: login.url.clone(),
        headers: login.headers.clone(),
        body: login.body.clone(),
        expect_status: login.expect_status.clone(),
        expect_body: None,
    };
    let prepared = Prepared::new(&op, base, &[])?;
    let (status, body, headers) = tokio::time::timeout(timeout, send(client, prepared.request()?))
        .await
        .map_err(|_| LoadError::Login(format!("no answer within {} ms", timeout.as_millis())))?
        .map_err(LoadError::Login)?;
    if let Some(f) = prepared.check(status, &body) {
        return Err(LoadError::Login(format!("{f:?} (HTTP {status})")));
    }
    if let Some(field) = &login.token_json_field {
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| LoadError::Login(format!("answer is not JSON: {e}")))?;
        let token = v.get(field).and_then(|t| t.as_str()).ok_or_else(|| LoadError::Login(format!("answer has no string field `{field}`")))?;
        let name =
            HeaderName::from_bytes(login.token_header.as_bytes()).map_err(|_| LoadError::Profile(format!("bad token_header `{}`", login.token_header)))?;
        let value =
            HeaderValue::from_str(&format!("{}{token}", login.token_prefix)).map_err(|_| LoadError::Login("token is not a valid header value".into()))?;
        return Ok(vec![(name, value)]);
    }
    let cookies: Vec<String> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .map(|c| c.trim().to_string())
        .filter(|c| c.contains('='))
        .collect();
    if cookies.is_empty() {
        return Err(LoadError::Login("answer set no cookie (and no token_json_field is configured)".into()));
    }
    let value = HeaderValue::from_str(&cookies.join("; ")).map_err(|_| LoadError::Login("cookie is not a valid header value".into()))?;
    Ok(vec![(COOKIE, value)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_status_and_body() {
        let op = Operation {
            name: "x".into(),
            method: "GET".into(),
            url: "http://h/".into(),
            headers: Default::default(),
            body: None,
            expect_status: vec![],
            expect_body: Some("住民".into()),
        };
        let p = Prepared::new(&op, None, &[]).expect("prepared");
        assert_eq!(p.check(200, "住民票".as_bytes()), None);
        assert_eq!(p.check(200, b"other"), Some(Failure::Body));
        assert_eq!(p.check(500, "住民".as_bytes()), Some(Failure::Status(500)));
    }
}
