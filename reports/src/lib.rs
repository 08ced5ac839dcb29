//! Renders a gcverify run: a terminal table ([`render_table`]), `result.json`
//! ([`write_json`]), `検証結果.xlsx` ([`write_xlsx`]) in the layout of the
//! 検証結果 table, `検証結果.md` ([`render_markdown`]) and `junit.xml`
//! ([`render_junit`]), `report.html` ([`render_html`]). [`write_files`] writes the file formats a user asked
//! for into one directory, with a `SHA256SUMS` manifest of them, and removes
//! what earlier runs left there in other formats.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, Utc};
use gcverify_checks::catalog::Catalog;
use gcverify_checks::model::{Outcome, RunReport};

pub use gcverify_checks::model::Lang;

mod compare;
pub mod fleet;
pub mod history;
mod html;
mod json;
mod junit;
mod markdown;
mod markup;
mod provenance;
mod remedy;
mod rows;
pub mod signature;
mod style;
mod table;
mod xlsx;

pub use compare::{render_comparison, render_comparison_markdown};
pub use html::render_html;
pub use json::{read_json, to_json_string, write_json, JSON_SCHEMA, JSON_SCHEMA_VERSION};
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use provenance::Stamp;
pub use table::{render_table, render_table_with};
pub use xlsx::write_xlsx;

/// File name of the JSON report inside the output directory.
pub const JSON_FILE_NAME: &str = "result.json";
/// File name of the spreadsheet inside the output directory.
pub const XLSX_FILE_NAME: &str = "検証結果.xlsx";
/// File name of the Markdown report.
pub const MARKDOWN_FILE_NAME: &str = "検証結果.md";
/// File name of the JUnit report.
pub const JUNIT_FILE_NAME: &str = "junit.xml";
/// File name of the manifest of a run's files (`sha256sum -c SHA256SUMS`).
pub const SUMS_FILE_NAME: &str = "SHA256SUMS";
/// File name of the HTML report.
pub const HTML_FILE_NAME: &str = "report.html";

/// All outcomes, in the order they are tallied everywhere.
pub(crate) const OUTCOMES: [Outcome; 5] = [Outcome::Ok, Outcome::Ng, Outcome::Error, Outcome::NotApplicable, Outcome::Pending];

/// An output format the user can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Terminal table (printed, never written to a file).
    Table,
    /// `result.json`
    Json,
    /// `検証結果.xlsx`
    Xlsx,
    /// `検証結果.md` (GitHub/GitLab-flavoured table + NG/ERROR details)
    Markdown,
    /// `junit.xml` (one test case per item)
    Junit,
    /// `report.html` (self-contained page with charts)
    Html,
}

impl Format {
    /// Every format, in the order of their names in error messages.
    pub const ALL: [Format; 6] = [Format::Table, Format::Json, Format::Xlsx, Format::Markdown, Format::Junit, Format::Html];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Xlsx => "xlsx",
            Format::Markdown => "md",
            Format::Junit => "junit",
            Format::Html => "html",
        }
    }

    /// File name this format is written to, `None` for the terminal table.
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Format::Table => None,
            Format::Json => Some(JSON_FILE_NAME),
            Format::Xlsx => Some(XLSX_FILE_NAME),
            Format::Markdown => Some(MARKDOWN_FILE_NAME),
            Format::Junit => Some(JUNIT_FILE_NAME),
            Format::Html => Some(HTML_FILE_NAME),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{given}`; valid formats are: {}", Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))]
pub struct ParseFormatError {
    pub given: String,
}

impl FromStr for Format {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(wanted)).ok_or_else(|| ParseFormatError { given: s.to_string() })
    }
}

/// Writes the requested file formats into `dir` (created if missing) and
/// returns the paths written, in the order requested, then `SHA256SUMS`.
/// [`Format::Table`] is not a file and is skipped; a format requested twice
/// is written once.
///
/// A folder never mixes runs: gcverify's own files of formats not written
/// now are removed (other files are left alone), except a `result.json` of
/// this very run (the source `report --from` renders). `SHA256SUMS` lists
/// every report file of the run in the folder, headed by its run ID.
pub fn write_files(report: &RunReport, catalog: &Catalog, formats: &[Format], dir: &Path, lang: Lang) -> anyhow::Result<Vec<PathBuf>> {
    write_files_with(report, catalog, formats, dir, lang, dir)
}

/// As [`write_files`], with the run's artefacts (the load probe's interval
/// logs for report.html) read from `artefacts` rather than `dir`.
pub fn write_files_with(report: &RunReport, catalog: &Catalog, formats: &[Format], dir: &Path, lang: Lang, artefacts: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating output directory {}", dir.display()))?;
    let report = &relative_artefacts(report, dir, artefacts);
    // result.json first, in memory: every other format names its digest.
    let json = if formats.contains(&Format::Json) { Some(to_json_string(report, catalog)?) } else { None };
    let stamp = Stamp {
        result_sha256: match &json {
            Some(text) => Some(gcverify_checks::sha256_hex(text.as_bytes())),
            None => [dir, artefacts]
                .iter()
                .map(|d| d.join(JSON_FILE_NAME))
                .find(|p| same_run(p, report))
                .and_then(|p| std::fs::read(p).ok())
                .map(|b| gcverify_checks::sha256_hex(&b)),
        },
    };
    let mut seen = HashSet::new();
    let mut written = Vec::new();
    for &format in formats {
        if !seen.insert(format) {
            continue;
        }
        let Some(name) = format.file_name() else { continue };
        let path = dir.join(name);
        let write = |text: &str| std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()));
        match format {
            Format::Table => continue,
            Format::Json => write(json.as_deref().unwrap_or_default())?,
            Format::Xlsx => xlsx::write_xlsx_with(report, catalog, &path, &stamp)?,
            Format::Markdown => write(&markdown::render_markdown_with(report, lang, &stamp))?,
            Format::Junit => write(&render_junit(report, lang))?,
            Format::Html => write(&html::render_html_with(report, catalog, lang, artefacts, &stamp))?,
        }
        written.push(path);
    }
    if written.is_empty() {
        return Ok(written);
    }
    let mut listed: Vec<PathBuf> = written.clone();
    for format in Format::ALL.into_iter().filter(|f| !seen.contains(f)) {
        let Some(name) = format.file_name() else { continue };
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        if format == Format::Json && same_run(&path, report) {
            listed.push(path);
            continue;
        }
        std::fs::remove_file(&path).with_context(|| format!("removing {} left by an earlier run", path.display()))?;
    }
    listed.extend(raw_files(dir));
    let sums = dir.join(SUMS_FILE_NAME);
    std::fs::write(&sums, manifest(report, dir, &listed)?).with_context(|| format!("writing {}", sums.display()))?;
    written.push(sums);
    Ok(written)
}

/// Folder (beside the reports) of the load probe's interval logs and summaries.
pub const LOAD_DIR: &str = "load";
/// The availability probe's sample store when the run keeps it beside the reports.
pub const AVAILABILITY_STORE: &str = "availability.sqlite";

/// The run's raw records in its folder: the load histograms (`load/*`) and the
/// availability store, listed in SHA256SUMS by their path in the folder.
fn raw_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(LOAD_DIR))
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    let store = dir.join(AVAILABILITY_STORE);
    if store.is_file() {
        files.push(store);
    }
    files.sort();
    files
}

/// The report with its interval logs named by their path inside the run
/// folder (`load/normal.hlog`), not where the run happened to write them: a
/// folder moved or copied renders its charts again.
fn relative_artefacts(report: &RunReport, dir: &Path, artefacts: &Path) -> RunReport {
    let mut out = report.clone();
    let roots: Vec<PathBuf> = [dir, artefacts].iter().filter_map(|d| d.canonicalize().ok()).collect();
    for e in out.items.iter_mut().flat_map(|i| i.evidence.iter_mut().chain(i.points.iter_mut().flat_map(|p| p.evidence.iter_mut()))) {
        if let Some(gcverify_checks::model::Figure::LatencyLog { log, .. }) = &mut e.figure {
            let path = Path::new(log.as_str());
            let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            if let Some(rel) = roots.iter().find_map(|r| full.strip_prefix(r).ok()) {
                *log = rel.to_string_lossy().replace('\\', "/");
            }
        }
    }
    out
}

/// Whether a saved `result.json` is of `report`'s run. A file without a run
/// ID (schema version 1) read back has none either: it may be the source
/// being rendered, so it counts as the same run rather than being removed.
fn same_run(path: &Path, report: &RunReport) -> bool {
    let Some(doc) = std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()) else { return false };
    doc["run_id"].as_str().unwrap_or_default() == report.run_id
}

/// `sha256sum -c` input: a `#` comment with the run ID (coreutils skips it),
/// then `<hex>  <path in the folder>` per file, sorted so the manifest is stable.
fn manifest(report: &RunReport, dir: &Path, files: &[PathBuf]) -> anyhow::Result<String> {
    let mut lines: Vec<(String, String)> = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {} for {SUMS_FILE_NAME}", path.display()))?;
        let name = path
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        lines.push((name, gcverify_checks::sha256_hex(&bytes)));
    }
    lines.sort();
    lines.dedup();
    let lines: Vec<String> = lines.into_iter().map(|(name, hex)| format!("{hex}  {name}")).collect();
    Ok(format!("# gcverify run {} ({} {})\n{}\n", report.run_id, report.environment, jst_second(report.started_at), lines.join("\n")))
}

/// Japan Standard Time (UTC+9, no daylight saving).
pub(crate) const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+9 is a valid offset"),
};

/// `2026-11-02 10:00` in JST.
pub(crate) fn jst_minute(t: DateTime<Utc>) -> String {
    t.with_timezone(&JST).format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-02 10:00:05` in JST.
pub(crate) fn jst_second(t: DateTime<Utc>) -> String {
    t.with_timezone(&JST).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `2026年11月` in JST (開始月 / 終了月).
pub(crate) fn jst_month(t: DateTime<Utc>) -> String {
    t.with_timezone(&JST).format("%Y年%-m月").to_string()
}

/// `OK 12 / NG 1 / 検証不能 30 / 対象外 4 / 要確認 3`
pub fn tally(report: &RunReport, lang: Lang) -> String {
    OUTCOMES.iter().map(|&o| format!("{} {}", o.label(lang), report.count(o))).collect::<Vec<_>>().join(" / ")
}

/// The minimum observations the scenario lowered, one line each, under a
/// heading: every report says them, since their points cannot be 確認済.
pub fn lowered_minimums(report: &RunReport, lang: Lang) -> Option<String> {
    if report.lowered_minimums.is_empty() {
        return None;
    }
    let head = match lang {
        Lang::Ja => "観測期間短縮（シナリオが下限を標準より下げた項目: 確認観点は要確認）",
        Lang::En => "Shortened observation (the scenario lowered the standard's minimum: those points are PENDING)",
    };
    let lines = report.lowered_minimums.iter().map(|m| format!("- {}", m.line(lang))).collect::<Vec<_>>().join("\n");
    Some(format!("{head}\n{lines}"))
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parses_every_name_and_lists_them_on_error() {
        assert_eq!("table".parse::<Format>(), Ok(Format::Table));
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        assert_eq!(" xlsx ".parse::<Format>(), Ok(Format::Xlsx));
        let err = "csv".parse::<Format>().expect_err("csv is not a format");
        let msg = err.to_string();
        assert!(msg.contains("`csv`"), "{msg}");
        for name in ["table", "json", "xlsx", "md", "junit", "html"] {
            assert!(msg.contains(name), "{msg} lacks {name}");
        }
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
    }

    #[test]
    fn jst_formatting() {
        let t = DateTime::parse_from_rfc3339("2026-11-30T15:30:05Z").expect("valid").with_timezone(&Utc);
        assert_eq!(jst_month(t), "2026年12月");
        assert_eq!(jst_minute(t), "2026-12-01 00:30");
        assert_eq!(jst_second(t), "2026-12-01 00:30:05");
    }

    #[test]
    fn write_files_writes_requested_formats_once_and_skips_table() {
        let report = testutil::sample_report();
        let catalog = Catalog::builtin();
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("out").join("nested");
        let paths = write_files(
            &report,
            &catalog,
            &[Format::Table, Format::Xlsx, Format::Json, Format::Xlsx, Format::Markdown, Format::Junit, Format::Html],
            &dir,
            Lang::Ja,
        )
        .expect("write_files");
        assert_eq!(
            paths,
            vec![
                dir.join("検証結果.xlsx"),
                dir.join("result.json"),
                dir.join("検証結果.md"),
                dir.join("junit.xml"),
                dir.join("report.html"),
                dir.join("SHA256SUMS")
            ]
        );
        for p in &paths {
            assert!(std::fs::metadata(p).expect("written").len() > 0, "{}", p.display());
        }
        let only_table = write_files(&report, &catalog, &[Format::Table], &dir, Lang::Ja).expect("table only");
        assert!(only_table.is_empty());
    }

    /// The manifest is what `sha256sum -c` checks: it passes on the files as
    /// written and fails when one is edited.
    #[test]
    fn sha256sums_lists_every_file_and_sha256sum_checks_it() {
        let report = testutil::sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        write_files(&report, &Catalog::builtin(), &[Format::Json, Format::Xlsx, Format::Markdown, Format::Junit], dir, Lang::Ja).expect("write");
        let sums = std::fs::read_to_string(dir.join(SUMS_FILE_NAME)).expect("SHA256SUMS");
        assert!(sums.starts_with(&format!("# gcverify run {} ", report.run_id)), "{sums}");
        let names: Vec<&str> = sums.lines().skip(1).map(|l| l.split_once("  ").map(|(_, n)| n).unwrap_or("")).collect();
        assert_eq!(names, ["junit.xml", "result.json", "検証結果.md", "検証結果.xlsx"]);
        for line in sums.lines().skip(1) {
            let (hex, name) = line.split_once("  ").expect("two spaces");
            assert_eq!(hex, gcverify_checks::sha256_hex(&std::fs::read(dir.join(name)).expect("file")), "{name}");
        }
        let check = || {
            std::process::Command::new("sha256sum")
                .args(["-c", "--strict", "--quiet", SUMS_FILE_NAME])
                .current_dir(dir)
                .stderr(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .status()
        };
        match check() {
            Ok(status) => {
                assert!(status.success(), "sha256sum -c accepts the manifest");
                let md = dir.join(MARKDOWN_FILE_NAME);
                let edited = std::fs::read_to_string(&md).expect("md").replace("OK", "NG");
                std::fs::write(&md, edited).expect("edit");
                assert!(!check().expect("runs").success(), "an edited report is detected");
            }
            // Without coreutils the digests above were checked by hand.
            Err(e) => eprintln!("sha256sum not run: {e}"),
        }
    }

    /// A run that writes fewer formats leaves no file of an older run beside
    /// its own; files that are not gcverify's stay.
    #[test]
    fn stale_outputs_of_other_runs_are_removed_but_other_files_stay() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let old = testutil::sample_report();
        write_files(&old, &Catalog::builtin(), &[Format::Json, Format::Xlsx, Format::Junit], dir, Lang::Ja).expect("first run");
        std::fs::write(dir.join("notes.txt"), "mine").expect("user file");
        let mut new = testutil::sample_report();
        new.run_id = "20261103T000000Z-0000beef".into();
        let written = write_files(&new, &Catalog::builtin(), &[Format::Markdown], dir, Lang::Ja).expect("second run");
        assert_eq!(written, [dir.join(MARKDOWN_FILE_NAME), dir.join(SUMS_FILE_NAME)]);
        for gone in [JSON_FILE_NAME, XLSX_FILE_NAME, JUNIT_FILE_NAME] {
            assert!(!dir.join(gone).exists(), "{gone} of the older run is removed");
        }
        assert!(dir.join("notes.txt").exists(), "not gcverify's: left alone");
        assert!(std::fs::read_to_string(dir.join(MARKDOWN_FILE_NAME)).expect("md").contains(&new.run_id));

        // Re-rendering from a run's own result.json keeps it and lists it.
        write_files(&new, &Catalog::builtin(), &[Format::Json], dir, Lang::Ja).expect("json");
        write_files(&new, &Catalog::builtin(), &[Format::Xlsx], dir, Lang::Ja).expect("xlsx from the same run");
        assert!(dir.join(JSON_FILE_NAME).exists(), "the same run's result.json stays");
        let sums = std::fs::read_to_string(dir.join(SUMS_FILE_NAME)).expect("sums");
        assert!(sums.contains("  result.json") && sums.contains("  検証結果.xlsx"), "{sums}");

        // A version 1 result.json (no run ID) rendered in place is not removed either.
        let mut v1 = read_json(&dir.join(JSON_FILE_NAME)).expect("read back");
        v1.run_id.clear();
        let mut doc: serde_json::Value = serde_json::from_str(&to_json_string(&v1, &Catalog::builtin()).expect("json")).expect("JSON");
        doc.as_object_mut().expect("object").remove("run_id");
        doc["schema_version"] = serde_json::json!(1);
        std::fs::write(dir.join(JSON_FILE_NAME), doc.to_string()).expect("write v1-like");
        let back = read_json(&dir.join(JSON_FILE_NAME)).expect("v1 reads");
        write_files(&back, &Catalog::builtin(), &[Format::Markdown], dir, Lang::Ja).expect("md from it");
        assert!(dir.join(JSON_FILE_NAME).exists(), "the source without a run ID stays");
    }
}
