//! A tiny HTTP server on 127.0.0.1 that tests and the demo probe, stop and
//! restart on the same port (stopped = connection refused, as when the real
//! system is down). Not a general web server: it answers every request with
//! one status and body, then closes the connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct LocalTarget {
    addr: SocketAddr,
    body: Arc<String>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    task: Option<JoinHandle<()>>,
}

impl LocalTarget {
    /// Listen on an ephemeral loopback port.
    pub async fn start(body: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut t = Self { addr, body: Arc::new(body.to_string()), status: Arc::new(AtomicU16::new(200)), delay_ms: Arc::new(AtomicU64::new(0)), task: None };
        t.serve(listener);
        Ok(t)
    }

    fn serve(&mut self, listener: TcpListener) {
        let (body, status, delay) = (self.body.clone(), self.status.clone(), self.delay_ms.clone());
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { continue };
                let (body, status, delay) = (body.clone(), status.clone(), delay.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    // Read the request head (bounded), then answer.
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.len() < 64 * 1024 {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let d = delay.load(Ordering::Relaxed);
                    if d > 0 {
                        tokio::time::sleep(Duration::from_millis(d)).await;
                    }
                    let code = status.load(Ordering::Relaxed);
                    let head = format!(
                        "HTTP/1.1 {code} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        if code < 400 { "OK" } else { "Error" },
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(body.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        }));
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    pub fn set_status(&self, code: u16) {
        self.status.store(code, Ordering::Relaxed);
    }

    pub fn set_delay(&self, d: Duration) {
        self.delay_ms.store(u64::try_from(d.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn is_running(&self) -> bool {
        self.task.is_some()
    }

    /// Close the port: new connections are refused.
    pub async fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listen again on the same port.
    pub async fn restart(&mut self) -> std::io::Result<()> {
        self.stop().await;
        let listener = TcpListener::bind(self.addr).await?;
        self.serve(listener);
        Ok(())
    }
}

impl Drop for LocalTarget {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
