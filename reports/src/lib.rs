//! Renders a gcverify run: a terminal table ([`render_table`]), `result.json`
//! ([`write_json`]), `検証結果.xlsx` ([`write_xlsx`]) in the layout of the
//! 検証結果 table, `検証結果.md` ([`render_markdown`]) and `junit.xml`
//! ([`render_junit`]), `report.html` ([`render_html`]). [`write_files`] writes the file formats a user asked
//! for into one directory.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, Utc};
use gcverify_checks::catalog::Catalog;
use gcverify_checks::model::{Outcome, RunReport};

pub use gcverify_checks::model::Lang;

mod html;
mod json;
mod junit;
mod markdown;
mod table;
mod xlsx;

pub use html::render_html;
pub use json::{read_json, to_json_string, write_json, JSON_SCHEMA_VERSION};
pub use junit::render_junit;
pub use markdown::render_markdown;
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
/// returns the paths written, in the order requested. [`Format::Table`] is not
/// a file and is skipped; a format requested twice is written once.
pub fn write_files(report: &RunReport, catalog: &Catalog, formats: &[Format], dir: &Path, lang: Lang) -> anyhow::Result<Vec<PathBuf>> {
    write_files_with(report, catalog, formats, dir, lang, dir)
}

/// As [`write_files`], with the run's artefacts (the load probe's interval
/// logs for report.html) read from `artefacts` rather than `dir`.
pub fn write_files_with(report: &RunReport, catalog: &Catalog, formats: &[Format], dir: &Path, lang: Lang, artefacts: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating output directory {}", dir.display()))?;
    let mut seen = HashSet::new();
    let mut written = Vec::new();
    for &format in formats {
        if !seen.insert(format) {
            continue;
        }
        let Some(name) = format.file_name() else { continue };
        let path = dir.join(name);
        match format {
            Format::Table => continue,
            Format::Json => write_json(report, &path)?,
            Format::Xlsx => write_xlsx(report, catalog, &path)?,
            Format::Markdown => std::fs::write(&path, render_markdown(report, lang)).with_context(|| format!("writing {}", path.display()))?,
            Format::Junit => std::fs::write(&path, render_junit(report, lang)).with_context(|| format!("writing {}", path.display()))?,
            Format::Html => std::fs::write(&path, render_html(report, lang, artefacts)).with_context(|| format!("writing {}", path.display()))?,
        }
        written.push(path);
    }
    Ok(written)
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
        assert_eq!(paths, vec![dir.join("検証結果.xlsx"), dir.join("result.json"), dir.join("検証結果.md"), dir.join("junit.xml"), dir.join("report.html")]);
        for p in &paths {
            assert!(std::fs::metadata(p).expect("written").len() > 0, "{}", p.display());
        }
        let only_table = write_files(&report, &catalog, &[Format::Table], &dir, Lang::Ja).expect("table only");
        assert!(only_table.is_empty());
    }
}
