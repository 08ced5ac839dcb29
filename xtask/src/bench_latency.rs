//! A TCP proxy in front of the emulator that holds every HTTP request for a
//! fixed time before passing it on: AWS answers each call after a network
//! round trip and its own processing (tens to hundreds of ms), moto at once;
//! without that wait a fleet's concurrency has nothing to overlap.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts the proxy on 127.0.0.1 for `upstream` (`http://host:port`) and
/// returns its endpoint; it runs until the runtime ends.
pub async fn start(upstream: &str, delay: Duration) -> Result<String> {
    let target = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the latency proxy")?;
    let addr = listener.local_addr().context("the latency proxy's address")?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(&target).await {
                    let _ = relay(client, server, delay).await;
                }
            });
        }
    });
    Ok(format!("http://{addr}"))
}

/// Whether a chunk from the client starts a request (rather than continuing a body).
fn starts_request(chunk: &[u8]) -> bool {
    ["GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "PATCH "].iter().any(|m| chunk.starts_with(m.as_bytes()))
}

async fn relay(client: TcpStream, server: TcpStream, delay: Duration) -> std::io::Result<()> {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                return server_write.shutdown().await;
            }
            if starts_request(&buf[..n]) {
                tokio::time::sleep(delay).await;
            }
            server_write.write_all(&buf[..n]).await?;
        }
    };
    let downstream = async move { tokio::io::copy(&mut server_read, &mut client_write).await.map(drop) };
    let (a, b) = tokio::join!(upstream, downstream);
    a.and(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_chunk_of_a_request_waits() {
        assert!(starts_request(b"POST / HTTP/1.1\r\nHost: x\r\n\r\nAction=DescribeVolumes"));
        assert!(starts_request(b"GET /?list-type=2 HTTP/1.1\r\n"));
        assert!(!starts_request(b"Action=DescribeVolumes&Version=2016-11-15"));
    }

    /// The proxy really holds a request for the delay and passes the answer on.
    #[tokio::test]
    async fn a_request_through_the_proxy_takes_the_delay() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = upstream.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = upstream.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            }
        });
        let ep = start(&format!("http://127.0.0.1:{port}"), Duration::from_millis(150)).await.expect("proxy");
        let mut c = TcpStream::connect(ep.trim_start_matches("http://")).await.expect("connect");
        let t = std::time::Instant::now();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("send");
        let mut answer = vec![0u8; 64];
        let n = c.read(&mut answer).await.expect("answer");
        assert!(t.elapsed() >= Duration::from_millis(150), "{:?}", t.elapsed());
        assert!(String::from_utf8_lossy(&answer[..n]).ends_with("ok"));
    }
}
