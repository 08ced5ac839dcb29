//! moto server lifecycle: find or install it, start it on a free
//! 127.0.0.1 port, wait until it answers, stop it (also on drop).
//!
//! What is started is this project's extension of moto
//! (`demo/emulator/gcverify_emulator.py`, embedded here so an installed binary
//! needs no source tree), run with the Python of moto's venv: it adds the
//! Backup, SSM, CloudWatch (CBOR) and root-MFA behaviour moto lacks, and an
//! admin endpoint ([`admin`]) to seed state no AWS API can create.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The moto version the project is tested with.
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.5";

/// The launcher that patches moto and starts its server (same CLI as `moto_server`).
pub const EMULATOR_SCRIPT: &str = include_str!("../emulator/gcverify_emulator.py");

/// The Python of the venv `moto_server` was installed into (it imports moto).
pub fn python_beside(moto_server: &Path) -> Option<PathBuf> {
    let dir = moto_server.parent()?;
    ["python", "python3"].iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// Where to find `moto_server`: `$GCVERIFY_MOTO_SERVER`, then the repo's
/// `.venv`, then `PATH`.
pub fn find_moto_server(repo_root: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GCVERIFY_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let venv = repo_root.join(".venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("moto_server")).find(|p| p.is_file()))
}

/// Create `<repo>/.venv` with moto if it is missing; returns `moto_server`'s path.
/// Prints what it does, since the first install takes a minute.
pub fn ensure_venv(repo_root: &Path) -> Result<PathBuf> {
    let venv = repo_root.join(".venv");
    let exe = venv.join("bin/moto_server");
    if exe.is_file() {
        return Ok(exe);
    }
    eprintln!("gcverify: installing the local AWS emulator ({MOTO_REQUIREMENT}) into {} ...", venv.display());
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv), "python3 -m venv")?;
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check", MOTO_REQUIREMENT]), "pip install moto")?;
    if !exe.is_file() {
        bail!("{} was not created by pip install {MOTO_REQUIREMENT}", exe.display());
    }
    Ok(exe)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("{what}: could not start"))?;
    if !status.success() {
        bail!("{what} failed with {status}");
    }
    Ok(())
}

/// A running moto server (with this project's extension); killed when dropped.
pub struct MotoServer {
    child: Option<Child>,
    addr: SocketAddr,
    /// Holds the launcher script written out for Python; removed on drop.
    _script: tempfile::TempDir,
}

impl MotoServer {
    /// Start `exe` on a free loopback port and wait (up to 60 s) until it answers.
    pub async fn start(exe: &Path) -> Result<Self> {
        Self::start_with_log(exe, None).await
    }

    /// As [`start`](Self::start), appending moto's request log (one line per
    /// API call) to `log`: `bench scale` counts the calls each tool makes.
    pub async fn start_with_log(exe: &Path, log: Option<&Path>) -> Result<Self> {
        let python = python_beside(exe).with_context(|| {
            format!("no python beside {}: the emulator extension runs with the Python of moto's venv (see README, \"The emulator extension\")", exe.display())
        })?;
        let dir = tempfile::Builder::new().prefix("gcverify-emulator").tempdir().context("temp dir for the emulator launcher")?;
        let script = dir.path().join("gcverify_emulator.py");
        std::fs::write(&script, EMULATOR_SCRIPT).with_context(|| format!("writing {}", script.display()))?;
        let mut last_err = None;
        // A port picked free can be taken before moto binds it; try a few.
        for _ in 0..3 {
            let port = free_port()?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let child = Command::new(&python)
                .arg(&script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(match log {
                    Some(path) => {
                        Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("opening {}", path.display()))?)
                    }
                    None => Stdio::null(),
                })
                .spawn()
                .with_context(|| format!("could not start {}", exe.display()))?;
            let mut child = Some(child);
            match wait_ready(&mut child, addr, Duration::from_secs(60)).await {
                Ok(()) => return Ok(Self { child, addr, _script: dir }),
                Err(e) => {
                    if let Some(mut c) = child.take() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("moto did not start")))
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forget every resource (moto's `POST /moto-api/reset`).
    pub fn reset(&self) -> Result<()> {
        let status = http_status(self.addr, "POST", "/moto-api/reset")?;
        if status != 200 {
            bail!("moto reset answered HTTP {status}");
        }
        Ok(())
    }

    /// Kill the server (idempotent).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn free_port() -> Result<u16> {
    let l = TcpListener::bind(("127.0.0.1", 0)).context("no free loopback port")?;
    Ok(l.local_addr()?.port())
}

async fn wait_ready(child: &mut Option<Child>, addr: SocketAddr, limit: Duration) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(child) = child.as_mut() {
            if let Some(status) = child.try_wait()? {
                bail!("the emulator (moto) exited with {status} before answering");
            }
        }
        if http_status(addr, "GET", "/moto-api/").is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the emulator (moto) did not answer on {addr} within {}s", limit.as_secs())
}

/// `POST /gcverify-api/<what>` with a JSON body on the emulator at `endpoint`
/// (`http://127.0.0.1:PORT`): seeds state no AWS API creates (back-dated
/// recovery points, SSM agent/patch/association state, root MFA, restore
/// duration). Returns the JSON answer.
pub fn admin(endpoint: &str, what: &str, body: &serde_json::Value) -> Result<serde_json::Value> {
    let addr: SocketAddr =
        endpoint.trim_start_matches("http://").trim_end_matches('/').parse().with_context(|| format!("not an emulator endpoint: {endpoint}"))?;
    let payload = body.to_string();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "POST /gcverify-api/{what} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}", payload.len())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let (head, json) = answer.split_once("\r\n\r\n").with_context(|| format!("not an HTTP answer from {what}"))?;
    let status: u16 = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).with_context(|| format!("no status from {what}"))?;
    if status != 200 {
        bail!("emulator admin {what} answered HTTP {status}: {json}");
    }
    serde_json::from_str(json).with_context(|| format!("emulator admin {what}: not JSON"))
}

/// Minimal HTTP/1.0 request, enough to poll and reset moto.
pub(crate) fn http_status(addr: SocketAddr, method: &str, path: &str) -> Result<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n")?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf)?;
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).with_context(|| format!("not an HTTP answer: {head:?}"))
}
