//! report.html in a real browser: the demo's page opened in headless Chromium
//! (Debian package `chromium`), screenshotted, and its DOM after the scripts
//! ran checked for the 50 rows and the charts, with no console error. Without
//! Chromium the tests say NOT RUN, unless GCVERIFY_REQUIRE_CHROMIUM=1 (as
//! `.ci/run` sets), when they must run. GCVERIFY_SCREENSHOT=PATH keeps the
//! screenshot there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GCVERIFY_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n))).find(|p| p.is_file())
}

/// Chromium, or `None` after saying NOT RUN; a panic when CI requires it.
fn require_chromium(test: &str) -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("GCVERIFY_REQUIRE_CHROMIUM").is_none_or(|v| v != "1"),
            "GCVERIFY_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install chromium)"
        );
        eprintln!("{test}: NOT RUN — Chromium is not installed (apt-get install chromium); report.html was not checked in a browser");
    }
    found
}

/// Headless Chromium with a throwaway profile, killed if it takes over a minute.
fn headless(bin: &Path, profile: &Path, args: &[String]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args);
    gcverify_demo::process::output_within(&mut cmd, Duration::from_secs(90)).expect("chromium finishes within 90 s")
}

/// Console errors and uncaught exceptions Chromium logged for the page.
fn console_errors(stderr: &str) -> Vec<String> {
    stderr.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).map(str::to_string).collect()
}

/// The DOM after the page's scripts ran, and what the console said.
fn dump_dom(bin: &Path, page: &Path, profile: &Path) -> (String, Vec<String>) {
    let o = headless(bin, profile, &["--virtual-time-budget=5000".into(), "--dump-dom".into(), format!("file://{}", page.display())]);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "chromium --dump-dom failed: {stderr}");
    (String::from_utf8_lossy(&o.stdout).into_owned(), console_errors(&stderr))
}

#[test]
fn console_errors_of_a_broken_page_are_caught() {
    let Some(bin) = require_chromium("console_errors_of_a_broken_page_are_caught") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("broken.html");
    std::fs::write(&page, "<!DOCTYPE html><html><body><p id=x>x</p><script>console.error('planted console error');undefinedFunction();</script></body></html>")
        .expect("write page");
    let (dom, errors) = dump_dom(&bin, &page, &dir.path().join("profile"));
    assert!(dom.contains("<p id=\"x\">x</p>"), "{dom}");
    assert!(errors.iter().any(|e| e.contains("planted console error")), "console.error not seen: {errors:?}");
    assert!(errors.iter().any(|e| e.contains("undefinedFunction")), "uncaught exception not seen: {errors:?}");
}

#[test]
fn demo_report_html_renders_table_and_charts_in_chromium() {
    let Some(bin) = require_chromium("demo_report_html_renders_table_and_charts_in_chromium") else { return };
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().to_str().expect("utf8");
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["verify", "--env", "demo", "--format", "json,html", "--out", dir])
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("xtask runs");
    assert!(matches!(o.status.code(), Some(0..=2)), "demo ran: {}", String::from_utf8_lossy(&o.stderr));
    let page = out.path().join("report.html");
    let html = std::fs::read_to_string(&page).expect("report.html written");
    // Evidence may name URLs as text; nothing may be loaded from one.
    for load in ["src=\"http", "href=\"http", "url(http", "<link", "@import"] {
        assert!(!html.contains(load), "report.html loads something ({load})");
    }

    let (dom, errors) = dump_dom(&bin, &page, &out.path().join("profile"));
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert!(dom.contains("data-ready=\"1\""), "the page's script ran to its end");
    assert_eq!(dom.matches("<tr class=\"item\"").count(), 50, "50 rows");
    for id in ["latency", "availability"] {
        let at = dom.find(&format!("id=\"chart-{id}\"")).unwrap_or_else(|| panic!("chart-{id} in the DOM"));
        let chart = &dom[at..];
        let chart = &chart[..chart.find("</div>").expect("chart ends")];
        assert!(chart.contains("<svg"), "chart-{id} drew an SVG: {chart}");
        assert!(!chart.contains("class=\"nodata\""), "the demo has data for chart-{id}: {chart}");
    }

    let shot = std::env::var_os("GCVERIFY_SCREENSHOT").map(PathBuf::from).unwrap_or_else(|| out.path().join("report.png"));
    let o = headless(
        &bin,
        &out.path().join("profile-shot"),
        &[format!("--screenshot={}", shot.display()), "--window-size=1400,5200".into(), format!("file://{}", page.display())],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a real screenshot ({} bytes)", png.len());
}
