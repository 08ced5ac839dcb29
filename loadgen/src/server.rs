//! A small local web target with known latency, for tests, the bench and
//! the demo. Listens on 127.0.0.1 only.
//!
//! Routes: `/` (the configured delay), `/delay/<ms>`, `/status/<code>`,
//! `/close` (answers with `Connection: close`), `/hang` (never answers), `POST /login` (sets a session cookie) and
//! `/private` (401 without that cookie). Stall mode: every `stall_every`
//! the whole server stops answering for `stall_for` — requests arriving
//! then wait until the stall ends (like a GC pause or a blocked DB pool).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub const SESSION: &str = "gcv-session=s3cret";
pub const PAGE: &str = "<html><body>住民記録システム デモ OK</body></html>";

#[derive(Debug, Clone, Copy, Default)]
pub struct ServerConfig {
    /// Delay of `/` and `/private`.
    pub delay: Duration,
    /// Stall period (zero: never stall).
    pub stall_every: Duration,
    pub stall_for: Duration,
    /// First stall starts this long after the server starts.
    pub stall_offset: Duration,
}

impl ServerConfig {
    pub fn delay_ms(ms: u64) -> Self {
        Self { delay: Duration::from_millis(ms), ..Default::default() }
    }

    /// How long a request arriving `t` after start waits for a stall to end.
    pub fn stall_wait(&self, t: Duration) -> Duration {
        if self.stall_every.is_zero() || self.stall_for.is_zero() || t < self.stall_offset {
            return Duration::ZERO;
        }
        let every = self.stall_every.as_micros();
        let phase = Duration::from_micros(((t - self.stall_offset).as_micros() % every) as u64);
        self.stall_for.saturating_sub(phase)
    }
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bind 127.0.0.1:`port` (0: any free port) and serve in the background.
pub async fn start(cfg: ServerConfig, port: u16) -> std::io::Result<TestServer> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(serve(listener, cfg));
    Ok(TestServer { addr, task })
}

/// Accept connections until the task is dropped.
pub async fn serve(listener: TcpListener, cfg: ServerConfig) {
    let started = Instant::now();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(req, cfg, started));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

async fn handle(req: Request<Incoming>, cfg: ServerConfig, started: Instant) -> Result<Response<Full<Bytes>>, Infallible> {
    let stall = cfg.stall_wait(started.elapsed());
    if !stall.is_zero() {
        tokio::time::sleep(stall).await;
    }
    let path = req.uri().path().to_string();
    let reply = |code: StatusCode, body: &str| {
        let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
        *r.status_mut() = code;
        r
    };
    let resp = if path == "/" || path == "/index.html" {
        sleep(cfg.delay).await;
        reply(StatusCode::OK, PAGE)
    } else if let Some(ms) = path.strip_prefix("/delay/") {
        sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
        reply(StatusCode::OK, PAGE)
    } else if let Some(code) = path.strip_prefix("/status/") {
        let code = code.parse::<u16>().ok().and_then(|c| StatusCode::from_u16(c).ok()).unwrap_or(StatusCode::BAD_REQUEST);
        reply(code, "status")
    } else if path == "/close" {
        // Answers, then closes the connection (as servers do after N keep-alive requests).
        let mut r = reply(StatusCode::OK, PAGE);
        r.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
        r
    } else if path == "/hang" {
        std::future::pending::<()>().await;
        reply(StatusCode::OK, "")
    } else if path == "/login" && req.method() == http::Method::POST {
        let mut r = reply(StatusCode::OK, "{\"token\":\"t0ken\"}");
        if let Ok(v) = http::HeaderValue::from_str(&format!("{SESSION}; Path=/; HttpOnly")) {
            r.headers_mut().insert(http::header::SET_COOKIE, v);
        }
        r
    } else if path == "/private" {
        let cookie = req.headers().get(http::header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if cookie.split(';').any(|c| c.trim() == SESSION) {
            sleep(cfg.delay).await;
            reply(StatusCode::OK, PAGE)
        } else {
            reply(StatusCode::UNAUTHORIZED, "login required")
        }
    } else {
        reply(StatusCode::NOT_FOUND, "not found")
    };
    Ok(resp)
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_windows() {
        let c = ServerConfig {
            stall_every: Duration::from_secs(10),
            stall_for: Duration::from_secs(2),
            stall_offset: Duration::from_secs(3),
            ..Default::default()
        };
        assert_eq!(c.stall_wait(Duration::from_secs(1)), Duration::ZERO);
        assert_eq!(c.stall_wait(Duration::from_millis(3500)), Duration::from_millis(1500));
        assert_eq!(c.stall_wait(Duration::from_secs(6)), Duration::ZERO);
        assert_eq!(c.stall_wait(Duration::from_millis(13_100)), Duration::from_millis(1900));
    }
}
