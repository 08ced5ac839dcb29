//! Run history: every `verify` keeps its `result.json` as
//! `<out>/history/<start, UTC to the microsecond>_<run ID>.json` (names sort
//! by time even for runs started within one second), the oldest beyond the
//! retention removed. `--compare last` reads the newest entry of the same
//! environment from there.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gcverify_checks::catalog::Catalog;
use gcverify_checks::model::RunReport;

/// Folder of the history inside an output folder.
pub const HISTORY_DIR: &str = "history";

/// Runs kept by default: two months of nightly runs.
pub const DEFAULT_KEEP: usize = 60;

/// The history folder of an output folder.
pub fn dir(out: &Path) -> PathBuf {
    out.join(HISTORY_DIR)
}

/// Whether `name` is a history entry gcverify wrote
/// (`20261102T010000.123456Z_20261102T010000Z-1a2b3c4d.json`): other files in
/// the folder are never read or removed.
fn is_entry(name: &str) -> bool {
    let b = name.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    name.ends_with(".json")
        && digits(0..8)
        && b.get(8) == Some(&b'T')
        && digits(9..15)
        && b.get(15) == Some(&b'.')
        && digits(16..22)
        && name.get(22..24) == Some("Z_")
}

/// The entry name of a run.
fn entry_name(report: &RunReport) -> String {
    format!("{}_{}.json", report.started_at.format("%Y%m%dT%H%M%S%.6fZ"), report.run_id)
}

/// History entries of `out`, oldest first.
pub fn entries(out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = dir(out);
    let listing = match std::fs::read_dir(&dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in listing {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        if entry.file_name().to_str().is_some_and(is_entry) {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// Keeps `report` in the history of `out` and removes the oldest entries
/// beyond `keep` (`keep` 0: no history is kept and none is removed).
/// Returns the entry written.
pub fn record(report: &RunReport, catalog: &Catalog, out: &Path, keep: usize) -> anyhow::Result<Option<PathBuf>> {
    if keep == 0 {
        return Ok(None);
    }
    if report.run_id.is_empty() || !report.run_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        anyhow::bail!("run ID `{}` is not one gcverify makes; the run is not kept in the history", report.run_id);
    }
    let dir = dir(out);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(entry_name(report));
    crate::write_json(report, catalog, &path)?;
    let all = entries(out)?;
    for old in all.iter().take(all.len().saturating_sub(keep)) {
        std::fs::remove_file(old).with_context(|| format!("removing {} (beyond the history's {keep} runs)", old.display()))?;
    }
    Ok(Some(path))
}

/// The newest history entry of `environment` in `out`, other than the run
/// `excluding`: the baseline of `--compare last`. Entries that cannot be read
/// are errors, not skipped: a damaged history must not silently move the
/// baseline to an older night.
pub fn last(out: &Path, environment: &str, excluding: &str) -> anyhow::Result<Option<(RunReport, PathBuf)>> {
    for path in entries(out)?.into_iter().rev() {
        let report = crate::read_json(&path).with_context(|| format!("reading the history entry {}", path.display()))?;
        if report.environment == environment && report.run_id != excluding {
            return Ok(Some((report, path)));
        }
    }
    Ok(None)
}

/// A saved run named on the command line: a `result.json`, a history entry,
/// or a folder holding a `result.json`.
pub fn read_run(path: &Path) -> anyhow::Result<RunReport> {
    let file = if path.is_dir() { path.join(crate::JSON_FILE_NAME) } else { path.to_path_buf() };
    crate::read_json(&file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample_report;

    /// A run started `id`'s day of November 2026 (`2026110D…`).
    fn with_id(id: &str, env: &str) -> RunReport {
        let mut r = sample_report();
        r.run_id = id.into();
        r.environment = env.into();
        let day: u32 = id.get(6..8).and_then(|d| d.parse().ok()).unwrap_or(1);
        r.started_at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, day, 0, 0, 0).single().expect("a time");
        r
    }

    #[test]
    fn runs_within_one_second_sort_by_their_start() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut a = with_id("20261101T000000Z-ffffffff", "prod");
        let mut b = with_id("20261101T000000Z-00000000", "prod");
        a.started_at += chrono::Duration::milliseconds(100);
        b.started_at += chrono::Duration::milliseconds(900);
        record(&a, &Catalog::builtin(), tmp.path(), 10).expect("a");
        record(&b, &Catalog::builtin(), tmp.path(), 10).expect("b");
        assert_eq!(last(tmp.path(), "prod", "").expect("read").expect("found").0.run_id, b.run_id, "b started later in the same second");
        let names: Vec<String> =
            entries(tmp.path()).expect("entries").iter().map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["20261101T000000.100000Z_20261101T000000Z-ffffffff.json", "20261101T000000.900000Z_20261101T000000Z-00000000.json"]);
    }

    #[test]
    fn history_keeps_the_newest_runs_and_leaves_other_files_alone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path();
        let catalog = Catalog::builtin();
        std::fs::create_dir_all(dir(out)).expect("dir");
        std::fs::write(dir(out).join("notes.json"), "{}").expect("a user's file");
        for (i, id) in ["20261101T000000Z-00000001", "20261102T000000Z-00000002", "20261103T000000Z-00000003"].iter().enumerate() {
            let written = record(&with_id(id, "prod"), &catalog, out, 2).expect("record").expect("kept");
            assert!(written.starts_with(dir(out)) && written.to_string_lossy().ends_with(&format!("_{id}.json")), "{i}: {}", written.display());
        }
        let names: Vec<String> = entries(out).expect("entries").iter().map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["20261102T000000.000000Z_20261102T000000Z-00000002.json", "20261103T000000.000000Z_20261103T000000Z-00000003.json"]);
        assert!(dir(out).join("notes.json").exists());
        assert_eq!(record(&with_id("20261104T000000Z-00000004", "prod"), &catalog, out, 0).expect("keep 0"), None);
        assert_eq!(entries(out).expect("entries").len(), 2, "keep 0 writes and removes nothing");
        assert!(record(&with_id("../../evil", "prod"), &catalog, out, 5).is_err(), "a run ID is never a path");
    }

    #[test]
    fn last_is_the_newest_of_the_same_environment_but_not_the_run_itself() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path();
        let catalog = Catalog::builtin();
        assert!(last(out, "prod", "").expect("no history").is_none());
        record(&with_id("20261101T000000Z-00000001", "prod"), &catalog, out, 10).expect("record");
        record(&with_id("20261102T000000Z-00000002", "stg"), &catalog, out, 10).expect("record");
        record(&with_id("20261103T000000Z-00000003", "prod"), &catalog, out, 10).expect("record");
        let (r, path) = last(out, "prod", "").expect("read").expect("found");
        assert_eq!(r.run_id, "20261103T000000Z-00000003");
        assert!(path.ends_with("history/20261103T000000.000000Z_20261103T000000Z-00000003.json"));
        assert_eq!(last(out, "prod", "20261103T000000Z-00000003").expect("read").expect("found").0.run_id, "20261101T000000Z-00000001");
        assert_eq!(last(out, "stg", "").expect("read").expect("found").0.run_id, "20261102T000000Z-00000002");
        assert!(last(out, "dev", "").expect("read").is_none());

        std::fs::write(dir(out).join("20261104T000000.000000Z_20261104T000000Z-00000004.json"), "not json").expect("damage");
        let err = last(out, "prod", "").expect_err("a damaged entry is an error").to_string();
        assert!(err.contains("20261104T000000Z-00000004.json"), "{err}");
    }
}
