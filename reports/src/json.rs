//! `result.json`: the run report plus a schema version and the outcome counts.

use std::path::Path;

use anyhow::Context as _;
use gcverify_checks::model::{Outcome, RunReport};
use serde::Serialize;

/// Version of the `result.json` layout; bumped on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Counts {
    #[serde(rename = "OK")]
    ok: usize,
    #[serde(rename = "NG")]
    ng: usize,
    #[serde(rename = "ERROR")]
    error: usize,
    #[serde(rename = "N/A")]
    not_applicable: usize,
    #[serde(rename = "PENDING")]
    pending: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    #[serde(flatten)]
    report: &'a RunReport,
    counts: Counts,
}

/// The JSON text of `result.json` (pretty-printed, trailing newline).
pub fn to_json_string(report: &RunReport) -> anyhow::Result<String> {
    let doc = JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        report,
        counts: Counts {
            ok: report.count(Outcome::Ok),
            ng: report.count(Outcome::Ng),
            error: report.count(Outcome::Error),
            not_applicable: report.count(Outcome::NotApplicable),
            pending: report.count(Outcome::Pending),
        },
    };
    let mut text = serde_json::to_string_pretty(&doc).context("serialising the run report")?;
    text.push('\n');
    Ok(text)
}

/// Writes `result.json`: the [`RunReport`] as pretty JSON with a top-level
/// `"schema_version": 1` and `"counts": {"OK","NG","ERROR","N/A","PENDING"}`.
pub fn write_json(report: &RunReport, path: &Path) -> anyhow::Result<()> {
    let text = to_json_string(report)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Reads a saved `result.json` back (for `cargo xtask report --from`): the
/// schema version must be this one; errors name the file and the line.
pub fn read_json(path: &Path) -> anyhow::Result<RunReport> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}:{}:{}: not JSON: {e}", path.display(), e.line(), e.column()))?;
    let obj = doc.as_object_mut().ok_or_else(|| anyhow::anyhow!("{}: not a gcverify result (no JSON object)", path.display()))?;
    match obj.remove("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(JSON_SCHEMA_VERSION) => {}
        Some(v) => anyhow::bail!("{}: schema_version {v}, this gcverify reads {JSON_SCHEMA_VERSION}", path.display()),
        None => anyhow::bail!("{}: no schema_version: not a gcverify result.json", path.display()),
    }
    obj.remove("counts");
    serde_json::from_value(doc).with_context(|| format!("{}: not a gcverify result", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{evidence_count, sample_report};
    use serde_json::Value;

    #[test]
    fn json_round_trips_with_required_keys_and_counts() {
        let report = sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("result.json");
        write_json(&report, &path).expect("write_json");
        let text = std::fs::read_to_string(&path).expect("read back");
        let v: Value = serde_json::from_str(&text).expect("valid JSON");

        assert_eq!(v["schema_version"], 1);
        for key in ["environment", "started_at", "finished_at", "items", "counts"] {
            assert!(v.get(key).is_some(), "missing top-level {key}");
        }
        assert_eq!(v["environment"], "stg");
        let items = v["items"].as_array().expect("items array");
        assert_eq!(items.len(), 50);
        for (i, (j, r)) in items.iter().zip(&report.items).enumerate() {
            for key in ["id", "category", "metric", "selected_level", "kind", "outcome", "summary", "evidence"] {
                assert!(j.get(key).is_some(), "item {i} lacks {key}");
            }
            assert_eq!(j["id"], r.id.as_str());
            let outcome: Outcome = serde_json::from_value(j["outcome"].clone()).expect("outcome");
            assert_eq!(outcome, r.outcome);
            assert_eq!(j["evidence"].as_array().expect("evidence array").len(), evidence_count(i));
        }

        let counts = &v["counts"];
        let keys: Vec<&str> = counts.as_object().expect("counts object").keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["ERROR", "N/A", "NG", "OK", "PENDING"]);
        let mut total = 0;
        for (key, outcome) in
            [("OK", Outcome::Ok), ("NG", Outcome::Ng), ("ERROR", Outcome::Error), ("N/A", Outcome::NotApplicable), ("PENDING", Outcome::Pending)]
        {
            let n = counts[key].as_u64().expect("count is a number") as usize;
            assert_eq!(n, report.count(outcome), "{key}");
            assert!(n > 0, "sample has some {key}");
            total += n;
        }
        assert_eq!(total, 50);

        // The report part deserialises back into a RunReport (extra keys ignored).
        let back: RunReport = serde_json::from_value(v).expect("RunReport from result.json");
        assert_eq!(back.items.len(), 50);
        assert_eq!(back.items[1].evidence, report.items[1].evidence);
        assert_eq!(back.started_at, report.started_at);
    }

    #[test]
    fn a_written_report_reads_back_the_same_and_bad_files_say_why() {
        let report = crate::testutil::sample_report();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("result.json");
        write_json(&report, &path).expect("write");
        let back = read_json(&path).expect("read back");
        assert_eq!(to_json_string(&back).expect("json"), to_json_string(&report).expect("json"));
        std::fs::write(&path, "{\"schema_version\": 99}").expect("write");
        assert!(read_json(&path).expect_err("newer schema").to_string().contains("schema_version 99"));
        std::fs::write(&path, "{\n  \"items\": [,]\n}").expect("write");
        let e = read_json(&path).expect_err("broken").to_string();
        assert!(e.contains("result.json:2:"), "{e}");
    }

    #[test]
    fn write_json_reports_the_path_on_failure() {
        let report = sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("missing-dir").join("result.json");
        let err = write_json(&report, &path).expect_err("parent does not exist");
        assert!(format!("{err:#}").contains("missing-dir"), "{err:#}");
    }
}
