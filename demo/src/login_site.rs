//! The staff login site with TOTP (`demo/login_site`, Django + django-otp):
//! set up in a temporary directory and started on a free loopback port, for
//! the E.5.1.1 ① login check's tests and the demo. The Python packages live
//! in the repo's `.venv` beside moto (`demo/login_site/requirements.txt`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::moto::{free_port, http_status};

/// The test account the demo and tests set up.
pub const STAFF_USER: &str = "staff01";
/// Its TOTP secret (base32, 160 bits): a fixed test value, like the demo's credentials.
pub const STAFF_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// How the site treats the password step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// ID + password, then a TOTP code (compliant).
    Totp,
    /// The password alone logs in (the deliberately noncompliant site).
    PasswordOnly,
    /// The second step takes any six digits.
    AnyCode,
    /// The second step works, but the portal opens after the password alone.
    PortalAfterPassword,
    /// Codes are not marked used: one code logs in twice within its time step.
    Replay,
}

impl Mode {
    fn env(self) -> &'static str {
        match self {
            Mode::Totp => "totp",
            Mode::PasswordOnly => "password-only",
            Mode::AnyCode => "any-code",
            Mode::PortalAfterPassword => "portal-after-password",
            Mode::Replay => "replay",
        }
    }
}

/// Where the site's code is.
pub fn site_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("login_site")
}

/// The venv the site's packages go to: that of `$GCVERIFY_MOTO_SERVER`, else `<repo>/.venv`.
fn venv_bin(repo_root: &Path) -> PathBuf {
    std::env::var_os("GCVERIFY_MOTO_SERVER")
        .map(PathBuf::from)
        .and_then(|m| m.parent().map(Path::to_path_buf))
        .filter(|d| d.join("pip").is_file())
        .unwrap_or_else(|| repo_root.join(".venv/bin"))
}

/// The venv's Python when it has Django and django-otp.
pub fn find_python(repo_root: &Path) -> Option<PathBuf> {
    let py = venv_bin(repo_root).join("python");
    let importable = Command::new(&py).args(["-c", "import django, django_otp"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    importable.is_ok_and(|s| s.success()).then_some(py)
}

/// Install the site's requirements into the venv if they are missing (the
/// demo's and tests' first start; `.ci/run` does the same beforehand).
pub fn ensure_requirements(repo_root: &Path) -> Result<PathBuf> {
    if let Some(py) = find_python(repo_root) {
        return Ok(py);
    }
    if !venv_bin(repo_root).join("pip").is_file() {
        crate::moto::ensure_venv(repo_root)?;
    }
    let pip = venv_bin(repo_root).join("pip");
    let requirements = site_dir().join("requirements.txt");
    eprintln!("gcverify: installing the demo's login site ({}) with {} ...", requirements.display(), pip.display());
    let status = Command::new(&pip)
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .with_context(|| format!("could not start {}", pip.display()))?;
    if !status.success() {
        bail!("pip install -r {} failed with {status}", requirements.display());
    }
    find_python(repo_root).context("Django / django-otp still not importable after pip install")
}

/// A running login site; killed when dropped, its database removed with it.
pub struct LoginSite {
    child: Option<Child>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl LoginSite {
    /// Set up `STAFF_USER` with `password` (and `totp_secret`, base32, if given)
    /// and start the site in `mode`.
    pub async fn start(python: &Path, mode: Mode, password: &str, totp_secret: Option<&str>) -> Result<Self> {
        let dir = tempfile::tempdir().context("temporary directory for the login site")?;
        let db = dir.path().join("login.sqlite3");
        let manage = site_dir().join("manage.py");
        let mut setup = Command::new(python);
        setup
            .arg(&manage)
            .args(["gcverify_setup", "--username", STAFF_USER, "--password-env", "GCVERIFY_LOGIN_SITE_PASSWORD"])
            .env("GCVERIFY_LOGIN_SITE_DB", &db)
            .env("GCVERIFY_LOGIN_SITE_PASSWORD", password)
            .stdout(Stdio::null());
        if let Some(secret) = totp_secret {
            setup.args(["--totp-secret-base32", secret]);
        }
        let status = setup.status().with_context(|| format!("could not start {}", python.display()))?;
        if !status.success() {
            bail!("login site setup (manage.py gcverify_setup) failed with {status}");
        }
        let mut last_err = None;
        // A port picked free can be taken before the server binds it; try a few.
        for _ in 0..3 {
            let port = free_port()?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut child = Command::new(python)
                .arg(&manage)
                .args(["runserver", &addr.to_string(), "--noreload"])
                .env("GCVERIFY_LOGIN_SITE_DB", &db)
                .env("GCVERIFY_LOGIN_SITE_MODE", mode.env())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("could not start {}", python.display()))?;
            match wait_ready(&mut child, addr, Duration::from_secs(30)).await {
                Ok(()) => return Ok(Self { child: Some(child), addr, _dir: dir }),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("the login site did not start")))
    }

    /// `http://127.0.0.1:PORT/path`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Until `/healthz` answers 200, the server exits, or `limit` passes.
async fn wait_ready(child: &mut Child, addr: SocketAddr, limit: Duration) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait()? {
            bail!("the login site exited with {status} before answering");
        }
        if http_status(addr, "GET", "/healthz").is_ok_and(|s| s == 200) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the login site did not answer on {addr} within {}s", limit.as_secs())
}

impl Drop for LoginSite {
    fn drop(&mut self) {
        self.stop();
    }
}
