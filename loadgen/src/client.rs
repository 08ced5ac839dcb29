//! HTTP client, two ways:
//!
//! - [`build`] / [`send`] / [`login`]: hyper-util's pooled client, for the
//!   login step and for single requests (the availability probe).
//! - [`Conn`] / [`exchange`]: one HTTP/1.1 connection owned by one load
//!   worker (hyper's `client::conn::http1` over TCP with `TCP_NODELAY`, or
//!   rustls for https), driven inline by the worker's own task — no pool, no
//!   task per request. The load generator's hot path (see `run.rs`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, COOKIE, HOST, SET_COOKIE};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower_service::Service;

use crate::profile::{resolve_url, Login, Operation};
use crate::LoadError;

pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Makes TCP (`TCP_NODELAY`) or rustls (native roots) connections for a URI.
pub type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

pub fn connector() -> Result<Connector, LoadError> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| LoadError::Client(format!("TLS root certificates: {e}")))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

pub fn build(pool_size: usize) -> Result<HttpClient, LoadError> {
    Ok(Client::builder(TokioExecutor::new()).pool_max_idle_per_host(pool_size).pool_idle_timeout(Duration::from_secs(30)).build(connector()?))
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

/// Where one operation goes over a worker's own connection: the request in
/// origin form with a `Host` header, and which endpoint (scheme + authority)
/// it needs a connection to.
#[derive(Debug, Clone)]
pub struct Target {
    pub prepared: std::sync::Arc<Prepared>,
    origin: Uri,
    host: HeaderValue,
    /// `scheme://authority/`, what [`Conn::open`] connects to.
    pub endpoint: Uri,
}

impl Target {
    pub fn new(prepared: std::sync::Arc<Prepared>) -> Result<Self, LoadError> {
        let uri = &prepared.uri;
        let bad = |why: &str| LoadError::Profile(format!("{}: URL `{uri}` {why}", prepared.name));
        let scheme = uri.scheme_str().ok_or_else(|| bad("has no scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("is neither http nor https"));
        }
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        let default_port = if scheme == "https" { 443 } else { 80 };
        // Like hyper-util's client: the port only when it is not the scheme's default.
        let host = match authority.port_u16() {
            Some(p) if p != default_port => format!("{}:{p}", authority.host()),
            _ => authority.host().to_string(),
        };
        let host = HeaderValue::from_str(&host).map_err(|_| bad("has a host that is not a valid header value"))?;
        let origin: Uri = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/").parse().map_err(|_| bad("has a bad path"))?;
        let endpoint: Uri = format!("{scheme}://{authority}/").parse().map_err(|_| bad("has a bad authority"))?;
        Ok(Self { prepared, origin, host, endpoint })
    }

    /// The request as sent on a worker connection (origin form, `Host` unless the operation sets one).
    pub fn request(&self) -> Request<Full<Bytes>> {
        let p = &self.prepared;
        let mut req = Request::new(Full::new(p.body.clone()));
        *req.method_mut() = p.method.clone();
        *req.uri_mut() = self.origin.clone();
        let h = req.headers_mut();
        for (k, v) in &p.headers {
            h.append(k.clone(), v.clone());
        }
        if !h.contains_key(HOST) {
            h.insert(HOST, self.host.clone());
        }
        req
    }
}

type Io = hyper_rustls::MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

/// One HTTP/1.1 keep-alive connection, owned by one worker. Its connection
/// future is polled by the worker itself while a request is outstanding.
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
    conn: Pin<Box<http1::Connection<Io, Full<Bytes>>>>,
    closed: bool,
}

enum Trip {
    /// The request never went out on this connection (it was closed): safe to send again.
    NotSent(String),
    Failed(String),
}

impl Conn {
    pub async fn open(connector: &mut Connector, endpoint: &Uri) -> Result<Self, String> {
        std::future::poll_fn(|cx| connector.poll_ready(cx)).await.map_err(|e| format!("connect: {e}"))?;
        let io = connector.call(endpoint.clone()).await.map_err(|e| format!("connect {endpoint}: {e}"))?;
        let (sender, conn) = http1::handshake(io).await.map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
        Ok(Self { sender, conn: Box::pin(conn), closed: false })
    }

    /// Whether the connection can take another request: processes what the
    /// server sent while the connection was idle (a close, an EOF) without waiting.
    fn usable(&mut self) -> bool {
        if !self.closed {
            let mut cx = Context::from_waker(Waker::noop());
            if self.conn.as_mut().poll(&mut cx).is_ready() {
                self.closed = true;
            }
        }
        !self.closed && !self.sender.is_closed()
    }

    /// Send one request and read the whole answer (the body kept only when `keep_body`).
    async fn round_trip(&mut self, req: Request<Full<Bytes>>, keep_body: bool) -> Result<(u16, Bytes), Trip> {
        let Self { sender, conn, closed } = self;
        let exchange = async move {
            if let Err(e) = sender.ready().await {
                return Err(Trip::NotSent(e.to_string()));
            }
            let resp = match sender.try_send_request(req).await {
                Ok(r) => r,
                Err(mut e) => {
                    return Err(match e.take_message() {
                        Some(_) => Trip::NotSent(e.into_error().to_string()),
                        None => Trip::Failed(format!("{:?}", e.into_error())),
                    })
                }
            };
            let status = resp.status().as_u16();
            let mut body = resp.into_body();
            let bytes = if keep_body {
                body.collect().await.map_err(|e| Trip::Failed(e.to_string()))?.to_bytes()
            } else {
                while let Some(frame) = body.frame().await {
                    frame.map_err(|e| Trip::Failed(e.to_string()))?;
                }
                Bytes::new()
            };
            Ok((status, bytes))
        };
        drive(conn.as_mut(), closed, exchange).await.unwrap_or_else(|| Err(Trip::Failed("connection closed before the answer".into())))
    }
}

/// Poll `fut` to completion while also driving the connection it runs on;
/// `None` when the connection ended first.
async fn drive<T, F: Future<Output = T>>(mut conn: Pin<&mut http1::Connection<Io, Full<Bytes>>>, closed: &mut bool, fut: F) -> Option<T> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        if *closed {
            return Poll::Ready(None);
        }
        if conn.as_mut().poll(cx).is_ready() {
            *closed = true;
        }
        // The connection may have delivered the answer (or ended, so the request fails): look again.
        match fut.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(Some(out)),
            Poll::Pending if *closed => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// One request of `target` on the worker's connection `slot`, (re)connecting
/// as needed. A request that never went out (the server had closed the idle
/// connection) is resent once on a fresh connection, as a pooled client would.
/// Any failure drops the connection.
pub async fn exchange(slot: &mut Option<Conn>, connector: &mut Connector, target: &Target, keep_body: bool) -> Result<(u16, Bytes), String> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let reuse = slot.as_mut().is_some_and(Conn::usable);
        let mut conn = match slot.take() {
            Some(c) if reuse => c,
            _ => Conn::open(connector, &target.endpoint).await?,
        };
        match conn.round_trip(target.request(), keep_body).await {
            Ok(answer) => {
                *slot = Some(conn);
                return Ok(answer);
            }
            Err(Trip::NotSent(_)) if attempt == 1 => {}
            Err(Trip::NotSent(why) | Trip::Failed(why)) => return Err(why),
        }
    }
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
