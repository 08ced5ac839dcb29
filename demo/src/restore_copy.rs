//! The demo's restored databases are real: the emulator's `restore-hook`
//! (see `emulator/gcverify_emulator.py`) calls this local HTTP endpoint when a
//! restore job creates an RDS instance or Aurora cluster, and it answers with
//! the address of a PostgreSQL copy of the demo database as of the recovery
//! point (`pg_basebackup`, then the residents updated after the point removed).
//! The emulator reports that address as the restored endpoint, so the drill's
//! health checks and `[[continuity.drill.validation]]` queries read real data.
//! The copies stop when this is dropped.

use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::postgres::{PgServer, PgSource};

/// Running copies, each with the recovery point it stands for.
type Copies = Arc<Mutex<Vec<(PgServer, String)>>>;

pub struct RestoreCopies {
    url: String,
    copies: Copies,
    task: tokio::task::JoinHandle<()>,
}

impl RestoreCopies {
    /// Serve the hook on a free 127.0.0.1 port. `stale`: the copies lack this
    /// much before the recovery point too (the non-compliant demo's backup
    /// that missed the last hours of 異動, which the drill's validation must catch).
    pub async fn start(source: PgSource, stale: Option<Duration>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the restore hook")?;
        let url = format!("http://{}/restored", listener.local_addr()?);
        let copies: Copies = Arc::default();
        let task = {
            let copies = copies.clone();
            tokio::spawn(async move {
                while let Ok((conn, _)) = listener.accept().await {
                    let (source, copies) = (source.clone(), copies.clone());
                    tokio::spawn(async move {
                        if let Err(e) = serve(conn, source, stale, copies).await {
                            tracing::warn!(error = %format!("{e:#}"), "demo restore hook");
                        }
                    });
                }
            })
        };
        Ok(Self { url, copies, task })
    }

    /// The URL to give the emulator (`POST /gcverify-api/restore-hook {"url"}`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many copies were made (tests).
    pub fn made(&self) -> usize {
        self.copies.lock().map(|c| c.len()).unwrap_or(0)
    }
}

impl Drop for RestoreCopies {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One hook call: read the JSON, make the copy, answer its address.
async fn serve(mut conn: TcpStream, source: PgSource, stale: Option<Duration>, copies: Copies) -> Result<()> {
    let body = read_request(&mut conn).await?;
    let answer = match copy_for(&body, source, stale, &copies).await {
        Ok(port) => ("200 OK", json!({"Address": "127.0.0.1", "Port": port}).to_string()),
        Err(e) => ("500 Internal Server Error", json!({"error": format!("{e:#}")}).to_string()),
    };
    let reply =
        format!("HTTP/1.1 {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", answer.0, answer.1.len(), answer.1);
    conn.write_all(reply.as_bytes()).await.context("answering the restore hook")?;
    Ok(())
}

async fn read_request(conn: &mut TcpStream) -> Result<serde_json::Value> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed before the request was complete");
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        if buf.len() >= end + 4 + len {
            return serde_json::from_slice(&buf[end + 4..end + 4 + len]).context("the restore hook's body is not JSON");
        }
    }
}

/// A copy of the source as of the recovery point; its port.
async fn copy_for(body: &serde_json::Value, source: PgSource, stale: Option<Duration>, copies: &Copies) -> Result<u16> {
    use sqlx::Executor;
    let point: DateTime<Utc> = body["RecoveryPointCreationDate"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .context("no RecoveryPointCreationDate")?;
    let created = body["CreatedResourceArn"].as_str().unwrap_or("-").to_string();
    let copy = tokio::task::spawn_blocking(move || PgServer::copy_of(&source)).await.context("copy task")??;
    // What was updated after the point is not in a backup taken at the point.
    let cutoff = point - stale.unwrap_or_else(Duration::zero);
    copy.admin("juki")
        .await?
        .execute(sqlx::query("DELETE FROM residents WHERE updated_at > $1::timestamptz").bind(cutoff.to_rfc3339()))
        .await
        .context("rolling the copy back to the recovery point")?;
    let port = copy.port();
    tracing::info!(%created, port, %point, "demo: a PostgreSQL copy stands for the restored database");
    copies.lock().map_err(|_| anyhow::anyhow!("copies lock poisoned"))?.push((copy, created));
    Ok(port)
}
