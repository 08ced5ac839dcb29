//! The pilot's columns (選択時の条件, 備考, 原因, 考察・分析) and the run's
//! provenance where people read (xlsx cover, report.html, 検証結果.md), the
//! raw records in SHA256SUMS, and a moved run folder that renders its charts.

#[allow(dead_code)]
#[path = "../src/testutil.rs"]
mod testutil;

use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use gcverify_checks::catalog::Catalog;
use gcverify_checks::model::{Evidence, EvidenceStatus, Figure, Lang, Outcome, PointResult, RunReport};
use gcverify_reports::{read_json, write_files, write_files_with, Format};

fn cell(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn sheet(path: &Path, name: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).expect("xlsx opens");
    wb.worksheet_range(name).expect("sheet").rows().map(|r| r.iter().map(cell).collect()).collect()
}

fn point(id: &str, verifier: &str, outcome: Outcome, summary: &str, evidence: Vec<Evidence>) -> PointResult {
    PointResult {
        id: id.into(),
        text: format!("{id} の確認観点"),
        text_en: format!("point {id}"),
        refers_to: vec![],
        verifier: verifier.into(),
        outcome,
        summary: summary.into(),
        summary_en: summary.into(),
        evidence,
        attestation: None,
        period: None,
    }
}

fn observation(status: EvidenceStatus, claim: &str, detail: &str) -> Evidence {
    Evidence {
        id: None,
        status,
        subject: "arn:aws:s3:::juki-bucket".into(),
        region: None,
        detail: detail.into(),
        source: "s3:GetPublicAccessBlock".into(),
        claim: Some(claim.into()),
        observed_at: testutil::t0(),
        figure: None,
    }
}

/// The sample with an NG row whose point names its violated claim and an
/// 検証不能 row whose point says why.
fn report_with_causes() -> (RunReport, String, String) {
    let mut r = testutil::sample_report();
    let ng = r.items.iter().position(|i| i.outcome == Outcome::Ng).expect("an NG row");
    let fail = observation(EvidenceStatus::Fail, "s3-public-blocked", "BlockPublicAcls=false");
    r.items[ng].evidence.push(fail.clone());
    r.items[ng].points = vec![point("no-public", "access.restrictions", Outcome::Ng, "NG: 公開設定あり", vec![fail])];
    let error = r.items.iter().position(|i| i.outcome == Outcome::Error).expect("an ERROR row");
    r.items[error].points = vec![point("logs-kept", "logging.trail", Outcome::Error, "検証不能: 権限不足 (AccessDenied)", vec![])];
    r.number_evidence();
    let (ng, error) = (r.items[ng].id.clone(), r.items[error].id.clone());
    (r, ng, error)
}

#[test]
fn pilot_columns_come_from_the_catalog_and_cause_from_the_run() {
    let (report, ng, error) = report_with_causes();
    let catalog = Catalog::builtin();
    let tmp = tempfile::tempdir().expect("tempdir");
    write_files(&report, &catalog, &[Format::Xlsx, Format::Html, Format::Markdown], tmp.path(), Lang::Ja).expect("write");
    let rows = sheet(&tmp.path().join("検証結果.xlsx"), "検証結果");
    let header = &rows[2];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}: {header:?}"));
    for (name, group) in [
        ("選択レベル", "非機能要件の標準"),
        ("選択時の条件", "非機能要件の標準"),
        ("備考", "非機能要件の標準"),
        ("原因", "検証結果"),
        ("考察・分析", "検証結果"),
    ] {
        let c = col(name);
        let g = (0..=c).rev().find(|k| !rows[1][*k].is_empty()).expect("a group");
        assert_eq!(rows[1][g], group, "{name} under {group}");
    }
    let data = &rows[3..];
    for (row, result) in data.iter().zip(&report.items) {
        let item = catalog.get(&result.id).expect("catalog row");
        if !item.selection_condition.trim_start().starts_with("同 No.") {
            assert_eq!(row[col("選択時の条件")], item.selection_condition, "{}", result.id);
        }
        if !item.notes.trim_start().starts_with("同 No.") {
            assert_eq!(row[col("備考")], item.notes, "{}", result.id);
        }
        let cause = &row[col("原因")];
        match result.outcome {
            Outcome::Ng | Outcome::Error | Outcome::Pending => assert!(!cause.is_empty(), "{}: 原因 filled", result.id),
            Outcome::Ok | Outcome::NotApplicable => assert!(cause.is_empty(), "{}: {cause}", result.id),
        }
    }
    let row_of = |id: &str| data.iter().find(|r| r[0] == id).expect("row");
    let ng_cause = &row_of(&ng)[col("原因")];
    let claim = gcverify_checks::probes::lookup("access.restrictions").and_then(|d| d.claim("s3-public-blocked")).expect("claim registered");
    assert!(ng_cause.starts_with("［no-public］no-public の確認観点 — 違反: "), "{ng_cause}");
    assert!(ng_cause.contains(&format!("{}（s3-public-blocked）", claim.ja)), "the violated claim: {ng_cause}");
    assert!(ng_cause.contains("（証跡 E-"), "the evidence that shows it: {ng_cause}");
    let error_cause = &row_of(&error)[col("原因")];
    assert_eq!(error_cause, "［logs-kept］権限不足 (AccessDenied)", "the reason, without a doubled 検証不能");
    let analysis = &row_of(&ng)[col("考察・分析")];
    assert!(analysis.starts_with("確認観点 1件中 0件 確認済、NG: no-public"), "{analysis}");

    let html = std::fs::read_to_string(tmp.path().join("report.html")).expect("html");
    assert!(html.contains("違反: ") && html.contains("s3-public-blocked"), "原因 in the HTML");
    assert!(html.contains("選択時の条件") && html.contains("<dl class=\"standard\">"), "the standard's columns in the HTML");
    let md = std::fs::read_to_string(tmp.path().join("検証結果.md")).expect("md");
    assert!(md.contains("**原因**: ［no-public］") && md.contains("**原因**: ［logs-kept］権限不足"), "{md}");
}

#[test]
fn provenance_is_on_the_cover_the_html_header_and_the_markdown() {
    let (mut report, _, _) = report_with_causes();
    // No OS user (a container): 実行者 falls back to the STS caller.
    report.run_by = None;
    let tmp = tempfile::tempdir().expect("tempdir");
    write_files(&report, &Catalog::builtin(), &[Format::Json, Format::Xlsx, Format::Html, Format::Markdown], tmp.path(), Lang::Ja).expect("write");
    let sha = gcverify_checks::sha256_hex(&std::fs::read(tmp.path().join("result.json")).expect("json"));
    let caller = report.target.caller_arn.clone().expect("caller");
    let commit = report.tool_commit.clone().expect("commit");
    let cover = sheet(&tmp.path().join("検証結果.xlsx"), "表紙");
    let value = |label: &str| cover.iter().find(|r| r[0] == label).map(|r| r[1].clone()).unwrap_or_else(|| panic!("{label}: {cover:?}"));
    assert_eq!(value("result.json SHA-256"), sha);
    assert_eq!(value("実行ID"), report.run_id);
    assert!(value("ツール").contains(&commit));
    assert_eq!(value("アカウントID"), "123456789012");
    assert_eq!(value("呼び出し元 ARN"), caller);
    assert!(value("実行者").starts_with(&format!("{caller}（STS 呼び出し元")), "{}", value("実行者"));
    let edition = "「地方自治体の業務プロセス・情報システムの非機能要件の標準（標準非機能要件）」（令和２年９月 内閣官房IT室・総務省）";
    assert_eq!(value("基準の版"), edition, "the catalog's [standard]");
    assert!(value("シナリオ").contains(&"ab".repeat(32)));

    let html = std::fs::read_to_string(tmp.path().join("report.html")).expect("html");
    let md = std::fs::read_to_string(tmp.path().join("検証結果.md")).expect("md");
    for (what, text) in [("html", &html), ("md", &md)] {
        for needle in [sha.as_str(), report.run_id.as_str(), commit.as_str(), "123456789012", caller.as_str(), &"ab".repeat(32), "基準の版", edition, "実行者"]
        {
            assert!(text.contains(needle), "{what} lacks {needle}");
        }
    }
    // Evidence numbers in the HTML, as the xlsx's 証跡 sheet has them.
    let ids: Vec<&str> = report.items.iter().flat_map(|i| i.evidence.iter().filter_map(|e| e.id.as_deref())).collect();
    assert!(ids.len() > 50);
    for id in ids {
        assert!(html.contains(&format!("<li id=\"{id}\"><b class=\"eid\">{id}</b>")), "{id} in the HTML");
    }
    // The run ID heads every printed page.
    assert!(html.contains(&format!("@top-left{{content:\"gcverify 検証結果 実行ID {}\"", report.run_id)), "page header");

    // Recorded as 実行者 (no --run-by), the caller still says it is one; a --run-by name stands as given.
    for (run_by, shown) in [(caller.clone(), format!("{caller}（STS 呼び出し元")), ("情報政策課 山田".to_string(), "情報政策課 山田".to_string())]
    {
        let mut r = report.clone();
        r.run_by = Some(run_by);
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(&r, &Catalog::builtin(), &[Format::Xlsx, Format::Markdown], dir.path(), Lang::Ja).expect("write");
        let cover = sheet(&dir.path().join("検証結果.xlsx"), "表紙");
        let value = cover.iter().find(|row| row[0] == "実行者").map(|row| row[1].clone()).expect("実行者");
        assert!(value.starts_with(&shown), "{value}");
        assert!(std::fs::read_to_string(dir.path().join("検証結果.md")).expect("md").contains(&shown));
    }

    // Rendered again from its result.json (report --from), the digest is the same file's.
    let again = tempfile::tempdir().expect("tempdir");
    let back = read_json(&tmp.path().join("result.json")).expect("read back");
    write_files_with(&back, &Catalog::builtin(), &[Format::Markdown], again.path(), Lang::Ja, tmp.path()).expect("re-render");
    assert!(std::fs::read_to_string(again.path().join("検証結果.md")).expect("md").contains(&sha));

    // A result.json from a catalog that recorded no edition says so, not a guess.
    let mut old = back;
    old.catalog.standard_version = None;
    write_files(&old, &Catalog::builtin(), &[Format::Markdown], again.path(), Lang::Ja).expect("re-render");
    assert!(std::fs::read_to_string(again.path().join("検証結果.md")).expect("md").contains("項目カタログが標準の版を記録していない"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

#[test]
fn raw_records_are_in_sha256sums_and_a_moved_folder_renders_its_charts() {
    let base = tempfile::tempdir().expect("tempdir");
    let run = base.path().join("run");
    std::fs::create_dir_all(run.join("load")).expect("mkdir");
    let log = run.join("load").join("normal.hlog");
    testutil::write_hlog(&log, &[("住民票照会", &[12, 15, 20, 25, 40, 90])]);
    std::fs::write(run.join("load").join("normal.json"), "{}").expect("summary");
    std::fs::write(run.join("availability.sqlite"), b"SQLite format 3\0").expect("store");
    let mut report = testutil::sample_report();
    let b214 = report.items.iter_mut().find(|i| i.id == "B.2.1.4").expect("B.2.1.4");
    b214.evidence.push(Evidence {
        figure: Some(Figure::LatencyLog { phase: "normal".into(), log: log.display().to_string(), threshold_ms: 3000, percentile: "p95".into() }),
        ..observation(EvidenceStatus::Info, "latency", "HdrHistogram V2 interval log")
    });
    report.number_evidence();
    write_files(&report, &Catalog::builtin(), &[Format::Json, Format::Xlsx, Format::Html], &run, Lang::Ja).expect("write");

    let sums = std::fs::read_to_string(run.join("SHA256SUMS")).expect("sums");
    let names: Vec<&str> = sums.lines().skip(1).filter_map(|l| l.split_once("  ").map(|(_, n)| n)).collect();
    assert_eq!(names, ["availability.sqlite", "load/normal.hlog", "load/normal.json", "report.html", "result.json", "検証結果.xlsx"]);
    if let Ok(status) = std::process::Command::new("sha256sum").args(["-c", "--strict", "--quiet", "SHA256SUMS"]).current_dir(&run).status() {
        assert!(status.success(), "sha256sum -c checks the raw records too");
    }
    let json = std::fs::read_to_string(run.join("result.json")).expect("json");
    assert!(json.contains("\"log\": \"load/normal.hlog\""), "the log by its path in the run folder");
    assert!(!json.contains(&run.display().to_string()), "no absolute path of the run folder in result.json");

    // The folder copied elsewhere and the original gone: report --from still draws the latency chart.
    let moved = base.path().join("archive").join("2026-11");
    copy_dir(&run, &moved);
    std::fs::remove_dir_all(&run).expect("remove the original");
    let back = read_json(&moved.join("result.json")).expect("read the moved run");
    let out = base.path().join("rendered");
    write_files_with(&back, &Catalog::builtin(), &[Format::Html], &out, Lang::Ja, &moved).expect("render from the moved folder");
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    let at = html.find("id=\"chart-latency\"").expect("latency chart");
    let chart = &html[at..at + html[at..].find("</div>").expect("chart ends")];
    assert!(chart.contains("<svg"), "drawn: {chart:.400}");
    assert!(!chart.contains("class=\"nodata\""), "{chart:.400}");
}

/// An NG row says what to change (the violated claim's 対処 from
/// checks/data/remedies.toml) in every format; other rows say none.
#[test]
fn ng_rows_carry_the_violated_claims_remedy_in_every_format() {
    let (report, ng, error) = report_with_causes();
    let remedy = gcverify_checks::remedies::remedy("access.restrictions", "s3-public-blocked").expect("a remedy");
    let tmp = tempfile::tempdir().expect("tempdir");
    write_files(&report, &Catalog::builtin(), &[Format::Json, Format::Xlsx, Format::Html, Format::Markdown, Format::Junit], tmp.path(), Lang::Ja)
        .expect("write");

    let rows = sheet(&tmp.path().join("検証結果.xlsx"), "検証結果");
    let col = rows[2].iter().position(|h| h == "考察・分析").expect("考察・分析");
    let analysis = |id: &str| rows[3..].iter().find(|r| r[0] == id).map(|r| r[col].clone()).expect("row");
    assert!(analysis(&ng).ends_with(&format!("\n対処: ［no-public］{}", remedy.ja)), "{}", analysis(&ng));
    assert!(!analysis(&error).contains("対処"), "no remedy on 検証不能: {}", analysis(&error));

    let html = std::fs::read_to_string(tmp.path().join("report.html")).expect("html");
    assert!(html.contains(&remedy.ja) && html.contains(&remedy.en), "both languages in the HTML");
    let md = std::fs::read_to_string(tmp.path().join("検証結果.md")).expect("md");
    assert!(md.contains(&format!("**対処**: ［no-public］{}", remedy.ja)), "{md}");

    let junit = std::fs::read_to_string(tmp.path().join("junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("junit parses");
    let failure = doc.descendants().find(|n| n.has_tag_name("failure")).expect("a failure");
    assert!(failure.attribute("message").is_some_and(|m| m.contains(&remedy.ja)), "in the failure message");
    assert!(failure.text().is_some_and(|t| t.contains(&remedy.ja)), "in the failure body");

    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("result.json")).expect("json")).expect("JSON");
    for row in json["items"].as_array().expect("items") {
        let remediation = row["remediation"].as_array().expect("remediation is an array");
        if row["id"] == ng.as_str() {
            assert_eq!(
                row["remediation"],
                serde_json::json!([{"points": ["no-public"], "verifier": "access.restrictions", "claim": "s3-public-blocked", "ja": remedy.ja, "en": remedy.en}])
            );
        } else {
            assert!(remediation.is_empty() || row["outcome"] == "NG", "{}: remediation only on NG rows", row["id"]);
        }
    }

    let table = gcverify_reports::render_table(&report, Lang::En, Some(400), false);
    assert!(table.contains(&format!("Remedy: ［no-public］{}", remedy.en)), "{table}");
}
