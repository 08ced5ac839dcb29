//! `result.json`: the run report plus a schema version, the outcome counts,
//! and per row what the spreadsheet shows (resolved 検証事項/範囲, this run's
//! 方法, 判断理由). Its shape is `reports/schema/result.schema.json`.

use std::path::Path;

use anyhow::Context as _;
use gcverify_checks::catalog::Catalog;
use gcverify_checks::model::{Lang, Outcome, RunReport};
use serde_json::{json, Value};

use crate::rows;

/// Version of the `result.json` layout; bumped on incompatible changes.
/// 2: run ID, provenance (tool commit, scenario digest, AWS identity,
/// catalog), attestation fields, evidence numbers, row texts; optional
/// fields are `null` instead of absent.
/// 3: an evidence detail is `{"ja", "en"}` (a plain string before, read as both).
pub const JSON_SCHEMA_VERSION: u32 = 3;

/// Versions [`read_json`] reads: 1 lacks the provenance, which reads as unknown.
const READABLE_VERSIONS: [u64; 3] = [1, 2, 3];

/// The JSON Schema of `result.json`.
pub const JSON_SCHEMA: &str = include_str!("../schema/result.schema.json");

/// The JSON text of `result.json` (pretty-printed, trailing newline).
pub fn to_json_string(report: &RunReport, catalog: &Catalog) -> anyhow::Result<String> {
    let mut doc = serde_json::to_value(report).context("serialising the run report")?;
    let obj = doc.as_object_mut().context("a run report serialises to an object")?;
    let counts = json!({
        "OK": report.count(Outcome::Ok),
        "NG": report.count(Outcome::Ng),
        "ERROR": report.count(Outcome::Error),
        "N/A": report.count(Outcome::NotApplicable),
        "PENDING": report.count(Outcome::Pending),
    });
    if let Some(items) = obj.get_mut("items").and_then(Value::as_array_mut) {
        for (value, result) in items.iter_mut().zip(&report.items) {
            let Some(row) = value.as_object_mut() else { continue };
            let item = catalog.get(&result.id);
            let text = |f: fn(&gcverify_checks::Item) -> &String| item.map(|i| rows::resolved(i, catalog, f));
            let reason = rows::reason(result, item);
            let achieved = rows::achieved(result, item);
            row.insert("verified".into(), json!(rows::verified(result, item)));
            row.insert("check_item".into(), json!(text(|i| &i.check_item)));
            row.insert("scope".into(), json!(text(|i| &i.scope)));
            row.insert("method".into(), json!(rows::method(result, Lang::Ja)));
            row.insert("method_en".into(), json!(rows::method(result, Lang::En)));
            row.insert("reason".into(), json!((!reason.is_empty()).then_some(reason)));
            row.insert("achieved".into(), json!((!achieved.is_empty()).then_some(achieved)));
            row.insert("evidence_refs".into(), json!(rows::evidence_refs(&result.evidence)));
            // 対処結果: what the team did about the row, filled in after the run.
            row.insert("remedy".into(), Value::Null);
            // 対処: what to change for each violated claim (NG rows; empty otherwise).
            row.insert("remediation".into(), crate::remedy::json(result));
        }
    }
    let mut out = serde_json::Map::new();
    out.insert("schema_version".into(), json!(JSON_SCHEMA_VERSION));
    out.append(obj);
    out.insert("counts".into(), counts);
    let mut text = serde_json::to_string_pretty(&Value::Object(out)).context("serialising the run report")?;
    text.push('\n');
    Ok(text)
}

/// Writes `result.json`: the [`RunReport`] as pretty JSON with a top-level
/// `"schema_version"` and `"counts": {"OK","NG","ERROR","N/A","PENDING"}`.
pub fn write_json(report: &RunReport, catalog: &Catalog, path: &Path) -> anyhow::Result<()> {
    let text = to_json_string(report, catalog)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Reads a saved `result.json` back (for `cargo xtask report --from`): the
/// schema version must be one this gcverify reads; errors name the file and the line.
pub fn read_json(path: &Path) -> anyhow::Result<RunReport> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}:{}:{}: not JSON: {e}", path.display(), e.line(), e.column()))?;
    let obj = doc.as_object_mut().ok_or_else(|| anyhow::anyhow!("{}: not a gcverify result (no JSON object)", path.display()))?;
    match obj.remove("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if READABLE_VERSIONS.contains(&v) => {}
        Some(v) => anyhow::bail!("{}: schema_version {v}, this gcverify reads {JSON_SCHEMA_VERSION} (and 1, 2)", path.display()),
        None => anyhow::bail!("{}: no schema_version: not a gcverify result.json", path.display()),
    }
    obj.remove("counts");
    serde_json::from_value(doc).with_context(|| format!("{}: not a gcverify result", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{evidence_count, sample_report};
    use serde_json::{json, Value};

    #[test]
    fn json_round_trips_with_required_keys_and_counts() {
        let report = sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("result.json");
        write_json(&report, &Catalog::builtin(), &path).expect("write_json");
        let text = std::fs::read_to_string(&path).expect("read back");
        let v: Value = serde_json::from_str(&text).expect("valid JSON");

        assert_eq!(v["schema_version"], JSON_SCHEMA_VERSION);
        for key in ["run_id", "environment", "started_at", "finished_at", "items", "counts", "tool_commit", "scenario", "target", "catalog"] {
            assert!(v.get(key).is_some(), "missing top-level {key}");
        }
        assert_eq!(v["environment"], "stg");
        let items = v["items"].as_array().expect("items array");
        assert_eq!(items.len(), 50);
        for (i, (j, r)) in items.iter().zip(&report.items).enumerate() {
            for key in [
                "id",
                "category",
                "metric",
                "selected_level",
                "kind",
                "outcome",
                "summary",
                "evidence",
                "check_item",
                "scope",
                "method",
                "reason",
                "remedy",
                "achieved_level",
                "attestation",
                "period",
            ] {
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
        write_json(&report, &Catalog::builtin(), &path).expect("write");
        let back = read_json(&path).expect("read back");
        assert_eq!(to_json_string(&back, &Catalog::builtin()).expect("json"), to_json_string(&report, &Catalog::builtin()).expect("json"));
        std::fs::write(&path, "{\"schema_version\": 99}").expect("write");
        assert!(read_json(&path).expect_err("newer schema").to_string().contains("schema_version 99"));
        std::fs::write(&path, "{\n  \"items\": [,]\n}").expect("write");
        let e = read_json(&path).expect_err("broken").to_string();
        assert!(e.contains("result.json:2:"), "{e}");
    }

    /// Every error of `doc` against the shipped schema (empty: valid).
    fn schema_errors(doc: &Value) -> Vec<String> {
        let schema: Value = serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
        validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    /// A run with a 前回比 (and a first run's, without a baseline) follows the schema too.
    #[test]
    fn result_json_with_a_comparison_follows_the_schema() {
        let (report, _) = crate::testutil::compared_report();
        let doc: Value = serde_json::from_str(&to_json_string(&report, &Catalog::builtin()).expect("json")).expect("JSON");
        assert_eq!(schema_errors(&doc), Vec::<String>::new());
        let mut first = sample_report();
        first.comparison = Some(gcverify_checks::comparison::compare(None, &first));
        let doc: Value = serde_json::from_str(&to_json_string(&first, &Catalog::builtin()).expect("json")).expect("JSON");
        assert_eq!(schema_errors(&doc), Vec::<String>::new());
        assert!(doc["comparison"]["baseline"].is_null());
        let mut wrong = doc.clone();
        wrong["comparison"]["changes"][0]["kind"] = json!("regressed");
        assert!(!schema_errors(&wrong).is_empty(), "an unknown kind of change is caught");
    }

    #[test]
    fn result_json_follows_its_schema_and_the_schema_catches_drift() {
        let mut report = sample_report();
        report.items[3].attestation = Some(gcverify_checks::model::AttestationRecord {
            result: Outcome::Ok,
            reviewer: "山田".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("date"),
            expires: None,
            expired: false,
            document: "docs/review.pdf".into(),
            document_kind: gcverify_checks::model::DocumentKind::File,
            document_problem: None,
            sha256: Some("ab".repeat(32)),
            note: None,
        });
        report.items[4].period = Some(gcverify_checks::model::Period { from: report.started_at, to: report.finished_at });
        let doc: Value = serde_json::from_str(&to_json_string(&report, &Catalog::builtin()).expect("json")).expect("JSON");
        assert_eq!(schema_errors(&doc), Vec::<String>::new());
        // Optional values are null, not absent.
        assert!(doc["items"][0].as_object().is_some_and(|o| o.contains_key("achieved_level") && o.contains_key("remedy") && o.contains_key("period")));
        assert!(doc["tool_commit"].is_string() && doc["target"]["endpoint"].is_null());

        // The schema is strict enough to notice a field that is missing, mistyped or new.
        let mut missing = doc.clone();
        missing["items"][0].as_object_mut().expect("item").remove("method");
        assert!(!schema_errors(&missing).is_empty());
        let mut mistyped = doc.clone();
        mistyped["counts"]["OK"] = json!("3");
        assert!(!schema_errors(&mistyped).is_empty());
        let mut extra = doc.clone();
        extra["items"][0]["surprise"] = json!(1);
        assert!(!schema_errors(&extra).is_empty());
        let mut bad_outcome = doc;
        bad_outcome["items"][0]["outcome"] = json!("PASS");
        assert!(!schema_errors(&bad_outcome).is_empty());
    }

    #[test]
    fn rows_carry_the_sheets_texts() {
        let report = sample_report();
        let catalog = Catalog::builtin();
        let doc: Value = serde_json::from_str(&to_json_string(&report, &catalog).expect("json")).expect("JSON");
        for (j, r) in doc["items"].as_array().expect("items").iter().zip(&report.items) {
            let row = crate::xlsx::result_row(r, catalog.get(&r.id), &catalog);
            let col = |name: &str| row[crate::xlsx::column(name)].as_str();
            assert_eq!(j["check_item"], col("検証事項"), "{}", r.id);
            assert_eq!(j["method"], col("方法"), "{}", r.id);
            assert_eq!(j["reason"].as_str().unwrap_or(""), col("判断理由"), "{}", r.id);
            assert_eq!(j["achieved"].as_str().unwrap_or(""), col("実現したレベル"), "{}", r.id);
            assert_eq!(j["evidence_refs"], col("証跡"), "{}", r.id);
        }
    }

    #[test]
    fn version_one_files_still_read() {
        let report = sample_report();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("result.json");
        let mut v: Value = serde_json::from_str(&to_json_string(&report, &Catalog::builtin()).expect("json")).expect("JSON");
        v["schema_version"] = json!(1);
        for key in ["run_id", "tool_commit", "scenario", "target", "catalog"] {
            v.as_object_mut().expect("object").remove(key);
        }
        std::fs::write(&path, v.to_string()).expect("write");
        let back = read_json(&path).expect("a version 1 file reads");
        assert_eq!(back.items.len(), 50);
        assert_eq!(back.run_id, "", "unknown in version 1");
    }

    #[test]
    fn write_json_reports_the_path_on_failure() {
        let report = sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("missing-dir").join("result.json");
        let err = write_json(&report, &Catalog::builtin(), &path).expect_err("parent does not exist");
        assert!(format!("{err:#}").contains("missing-dir"), "{err:#}");
    }
}
