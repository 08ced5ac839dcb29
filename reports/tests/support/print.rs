//! Printing a run's 検証結果.xlsx (LibreOffice) and report.html (Chromium) to
//! PDF and checking the paper: page sizes, the print scale, the run ID on
//! every page, every row and the collapsed evidence printed. One copy, used by
//! `reports/tests/report_print.rs` (the 50-row sample run) and
//! `xtask/tests/print_demos.rs` (both demos, as a user runs them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use gcverify_checks::model::RunReport;

pub fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|d| names.iter().map(move |n| d.join(n))).find(|p| p.is_file())
}

/// The program, or `None` after saying NOT RUN; a panic when CI requires it.
pub fn require(test: &str, names: &[&str], env: &str, install: &str) -> Option<PathBuf> {
    let found = on_path(names);
    if found.is_none() {
        assert!(std::env::var_os(env).is_none_or(|v| v != "1"), "{env}=1 but {} is not installed ({install})", names[0]);
        eprintln!("{test}: NOT RUN — {} is not installed ({install})", names[0]);
    }
    found
}

/// LibreOffice and poppler, or `None` after saying NOT RUN.
pub fn require_libreoffice(test: &str) -> Option<PathBuf> {
    let soffice = require(test, &["soffice", "libreoffice"], "GCVERIFY_REQUIRE_LIBREOFFICE", "apt-get install libreoffice-calc poppler-utils")?;
    require(test, &["pdftotext"], "GCVERIFY_REQUIRE_LIBREOFFICE", "apt-get install poppler-utils")?;
    Some(soffice)
}

/// Chromium and poppler, or `None` after saying NOT RUN.
pub fn require_chromium(test: &str) -> Option<()> {
    require(test, &["chromium", "chromium-browser", "google-chrome"], "GCVERIFY_REQUIRE_CHROMIUM", "apt-get install chromium")?;
    require(test, &["pdftotext"], "GCVERIFY_REQUIRE_LIBREOFFICE", "apt-get install poppler-utils")?;
    Some(())
}

/// Runs a program, killed (by its pid) after `limit`.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    gcverify_demo::process::output_within(cmd, limit).unwrap_or_else(|e| panic!("{e:#}"))
}

/// `GCVERIFY_SCREENS/<sub>` (created), where the PDFs and PNGs are kept when set.
pub fn screens(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("GCVERIFY_SCREENS")?).join(sub);
    std::fs::create_dir_all(&dir).expect("GCVERIFY_SCREENS");
    Some(dir)
}

/// Each page's size in points, from `pdfinfo -f 1 -l N`.
fn page_sizes(pdf: &Path) -> Vec<(f64, f64)> {
    let o = run(Command::new("pdfinfo").args(["-f", "1", "-l", "9999"]).arg(pdf), Duration::from_secs(30));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size: "))
        .filter_map(|l| {
            let dims = l.split(" size: ").nth(1)?;
            let mut it = dims.split_whitespace();
            let w: f64 = it.next()?.parse().ok()?;
            it.next();
            let h: f64 = it.next()?.parse().ok()?;
            Some((w, h))
        })
        .collect()
}

/// The text of each page (pdftotext separates pages with form feeds).
fn pages(pdf: &Path) -> Vec<String> {
    let o = run(Command::new("pdftotext").args(["-layout"]).arg(pdf).arg("-"), Duration::from_secs(30));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Font sizes (pt) of the Japanese words on page `n` (1-based), from
/// `pdftotext -bbox`: a full-width character advances one em, so a word of
/// only kanji and kana is as wide as its characters times the font size.
fn font_sizes(pdf: &Path, n: usize) -> Vec<f64> {
    let o = run(Command::new("pdftotext").args(["-bbox", "-f", &n.to_string(), "-l", &n.to_string()]).arg(pdf).arg("-"), Duration::from_secs(30));
    let html = String::from_utf8_lossy(&o.stdout).into_owned();
    let full_width = |c: char| matches!(c as u32, 0x3041..=0x30FF | 0x4E00..=0x9FFF);
    html.split("<word ")
        .skip(1)
        .filter_map(|w| {
            let attr = |k: &str| w.split(&format!("{k}=\"")).nth(1)?.split('"').next()?.parse::<f64>().ok();
            let text = w.split('>').nth(1)?.split('<').next()?;
            let chars = text.chars().count();
            (chars >= 2 && text.chars().all(full_width)).then_some((attr("xMax")? - attr("xMin")?) / chars as f64)
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 3.0
}

/// A4 is 595 × 842 pt, A3 842 × 1191 pt.
const A4: (f64, f64) = (595.3, 841.9);
const A3: (f64, f64) = (841.9, 1190.6);

/// 検証結果.xlsx printed by LibreOffice: the cover on one A4 page, the table on
/// A3 landscape at 8 pt or more with its header on every page, every row printed.
pub fn check_xlsx(soffice: &Path, xlsx: &Path, report: &RunReport, work: &Path, keep: Option<&Path>) {
    // A profile of its own: a user's running LibreOffice (or a parallel test) is not disturbed.
    let profile = format!("-env:UserInstallation=file://{}", work.join("lo-profile").display());
    let started = Instant::now();
    let o = run(
        Command::new(soffice).arg(&profile).args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"]).arg(work).arg(xlsx),
        Duration::from_secs(180),
    );
    let pdf = work.join(xlsx.with_extension("pdf").file_name().expect("a file name"));
    assert!(pdf.is_file(), "LibreOffice wrote no PDF: {}", String::from_utf8_lossy(&o.stderr));
    let took = started.elapsed();
    // Kept before anything is checked: a failure is read on the paper itself.
    if let Some(dir) = keep {
        std::fs::copy(&pdf, dir.join("xlsx.pdf")).expect("keep the PDF");
    }

    let sizes = page_sizes(&pdf);
    let texts = pages(&pdf);
    assert_eq!(sizes.len(), texts.len(), "one size per page");
    // The cover: A4 portrait, the title and every signature line on page 1.
    assert!(near(sizes[0].0, A4.0) && near(sizes[0].1, A4.1), "cover on A4 portrait: {:?}", sizes[0]);
    for needle in ["非機能要件 検証結果報告書", "作成者", "確認者", "承認者", &report.run_id] {
        assert!(texts[0].contains(needle), "cover page lacks {needle}: {}", texts[0]);
    }
    assert!(!texts[1].contains("承認者"), "nothing of the cover spills onto page 2");
    // The main table: A3 landscape, its header on every page, 8 pt or more.
    let main: Vec<usize> = (1..texts.len()).filter(|&k| near(sizes[k].0, A3.1) && near(sizes[k].1, A3.0)).collect();
    assert!(!main.is_empty(), "the 検証結果 sheet on A3 landscape: {sizes:?}");
    for &k in &main {
        for head in ["項番", "選択時の条件", "原因", "考察・分析", "対処内容"] {
            assert!(texts[k].contains(head), "page {} lacks the header {head}", k + 1);
        }
    }
    // The sheet's own scale makes 11 pt text 8 pt or more (LibreOffice and Excel honour it) ...
    let sheet_xml = {
        use std::io::Read as _;
        let mut zip = zip::ZipArchive::new(std::fs::File::open(xlsx).expect("xlsx")).expect("a zip");
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet2.xml").expect("the 検証結果 sheet").read_to_string(&mut xml).expect("utf8");
        xml
    };
    let scale: f64 = sheet_xml.split("scale=\"").nth(1).and_then(|v| v.split('"').next()).and_then(|v| v.parse().ok()).expect("a print scale");
    assert!(scale * 11.0 / 100.0 >= 8.0, "scale {scale} % prints 11 pt text below 8 pt");
    // ... and the PDF shows it (the issue's fit-to-width gave about 4 pt).
    let first_main = main[0] + 1;
    let sizes_pt = font_sizes(&pdf, first_main);
    let size = median(sizes_pt.clone());
    eprintln!(
        "xlsx → PDF by LibreOffice in {took:?}: {} pages ({} of the main table on A3); main table's text {size:.1} pt (median over {} Japanese words)",
        texts.len(),
        main.len(),
        sizes_pt.len()
    );
    assert!(size >= 7.9, "the main table prints at {size:.1} pt (< 8 pt)");
    let ids_in_main: usize = main.iter().map(|&k| report.items.iter().filter(|i| texts[k].contains(&i.id)).count()).sum();
    assert!(ids_in_main >= report.items.len(), "every row printed ({ids_in_main} of {})", report.items.len());

    if let Some(dir) = keep {
        for (page, name) in [(1, "xlsx-page1"), (first_main, "xlsx-main-page1")] {
            let o = run(
                Command::new("pdftoppm")
                    .args(["-png", "-r", "80", "-singlefile", "-f", &page.to_string(), "-l", &page.to_string()])
                    .arg(&pdf)
                    .arg(dir.join(name)),
                Duration::from_secs(60),
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
}

fn chromium(profile: &Path, args: &[String]) -> Output {
    let bin = on_path(&["chromium", "chromium-browser", "google-chrome"]).expect("chromium");
    run(
        Command::new(bin)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--hide-scrollbars"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args),
        Duration::from_secs(90),
    )
}

/// report.html printed by Chromium: A4 landscape, the run ID on every page, the
/// evidence of collapsed rows printed, no controls; screenshots at 1280 and 390 px kept.
pub fn check_html(page: &Path, report: &RunReport, work: &Path, keep: Option<&Path>) {
    let pdf = work.join("report.pdf");
    let url = format!("file://{}", page.display());
    let o = chromium(&work.join("profile"), &[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".into(), url.clone()]);
    assert!(pdf.is_file(), "Chromium wrote no PDF: {}", String::from_utf8_lossy(&o.stderr));
    let sizes = page_sizes(&pdf);
    let texts = pages(&pdf);
    eprintln!("report.html → PDF by Chromium: {} pages", texts.len());
    for (k, s) in sizes.iter().enumerate() {
        assert!(near(s.0, A4.1) && near(s.1, A4.0), "page {} on A4 landscape: {s:?}", k + 1);
    }
    for (k, t) in texts.iter().enumerate() {
        assert!(t.contains(&report.run_id), "page {} lacks the run ID in its header", k + 1);
    }
    let all = texts.join("\n");
    // Evidence sits in collapsed <details>: printed all the same.
    let last_evidence = report.items.iter().rev().flat_map(|i| i.evidence.iter()).find_map(|e| e.id.clone()).expect("evidence");
    assert!(all.contains(&last_evidence), "the evidence of collapsed rows is printed ({last_evidence})");
    for control in ["English", "表示"] {
        assert!(!all.lines().any(|l| l.trim() == control), "control {control} printed");
    }

    if let Some(dir) = keep {
        std::fs::copy(&pdf, dir.join("html-print.pdf")).expect("keep the PDF");
        let o = run(
            Command::new("pdftoppm").args(["-png", "-r", "60", "-singlefile", "-f", "1", "-l", "1"]).arg(&pdf).arg(dir.join("html-print-page1")),
            Duration::from_secs(60),
        );
        assert!(o.status.success());
        for (w, h, name) in [(1280, 2400, "html-desktop-1280.png"), (390, 2400, "html-phone-390.png")] {
            let o = chromium(
                &work.join(format!("profile-{w}")),
                &[format!("--screenshot={}", dir.join(name).display()), format!("--window-size={w},{h}"), url.clone()],
            );
            assert!(dir.join(name).is_file(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
}
