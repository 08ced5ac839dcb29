//! Every message in both languages (issue 27): both demos' result.json are
//! walked, and every text a Japanese report shows (事象, 確認観点の事象, each
//! evidence detail, warnings) must be Japanese, every text an English report
//! shows must be English; `report --from … --lang en` prints English only.
//!
//! The allow-lists are small and explicit: a Japanese-mode text may be data
//! only (IDs, ARNs, numbers, `Key=value`); an English-mode text may carry the
//! scenario's own words (names, reasons, notes the ASP wrote in Japanese),
//! the resources' names, and the catalog's transcription of the standard and
//! the pilot (小項目 and the pilot's 対象外 reasons have no English in the
//! catalog), which are data, not gcverify's language.

mod common;

use std::path::Path;

use common::{text, xtask};

/// Kana and kanji: what makes a text Japanese (full-width punctuation alone does not).
fn is_japanese(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff66}'..='\u{ff9f}')
}

/// Japanese script, Japanese punctuation and full-width forms (for the English check).
fn is_japanese_script(c: char) -> bool {
    is_japanese(c) || matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
}

/// A text that is data only: no English word in it (an ASCII-letter token of
/// three or more letters starting lower-case, e.g. "encrypted", "old"), only
/// IDs, ARNs, numbers and `Key=value` pairs — nothing to translate.
fn data_only(text: &str) -> bool {
    !text
        .split(|c: char| c.is_whitespace() || "()[]{},;\"'`".contains(c))
        .map(|t| t.trim_matches(|c: char| ".:!?".contains(c)))
        .any(|t| t.len() >= 3 && t.chars().all(|c| c.is_ascii_alphabetic()) && t.starts_with(|c: char| c.is_ascii_lowercase()))
}

/// Runs of Japanese script in `text`.
fn japanese_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_japanese_script(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// The words the ASP wrote (scenario files, their evidence and load
/// profiles) and the catalog's transcription of the standard: their Japanese
/// is data an English report quotes as given.
fn scenario_words() -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root");
    let root = repo.join("scenarios");
    let mut out = std::fs::read_to_string(repo.join("checks/catalog.toml")).expect("catalog");
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
            let p = entry.path();
            // The scenario crate's source is gcverify's code, not the ASP's words.
            if p == root.join("src") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                out.push_str(&t);
                out.push('\n');
            }
        }
    }
    out
}

/// One text a report shows, where it came from, and in which language.
struct Shown {
    at: String,
    ja: String,
    en: String,
}

/// Every language-picked text of a result.json: row and point 事象, evidence details, warnings.
fn shown(json: &serde_json::Value) -> (Vec<Shown>, Vec<String>) {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut out = Vec::new();
    let mut subjects = Vec::new();
    let detail = |e: &serde_json::Value| match &e["detail"] {
        serde_json::Value::Object(m) => (m.get("ja").map(&s).unwrap_or_default(), m.get("en").map(&s).unwrap_or_default()),
        other => (s(other), s(other)),
    };
    for w in json["warnings"].as_array().into_iter().flatten() {
        out.push(Shown { at: "warning".into(), ja: s(&w["ja"]), en: s(&w["en"]) });
    }
    for item in json["items"].as_array().expect("items") {
        let id = s(&item["id"]);
        out.push(Shown { at: format!("{id} 事象"), ja: s(&item["summary"]), en: s(&item["summary_en"]) });
        let evidence = item["evidence"].as_array().into_iter().flatten();
        let points = item["points"].as_array().into_iter().flatten();
        for e in evidence.chain(points.clone().flat_map(|p| p["evidence"].as_array().into_iter().flatten())) {
            let (ja, en) = detail(e);
            subjects.push(s(&e["subject"]));
            out.push(Shown { at: format!("{id} {} {} ({})", s(&e["status"]), s(&e["subject"]), s(&e["source"])), ja, en });
        }
        for p in points {
            out.push(Shown { at: format!("{id} {} 事象", s(&p["id"])), ja: s(&p["summary"]), en: s(&p["summary_en"]) });
        }
    }
    (out, subjects)
}

/// Japanese in an English text that is neither the scenario's words nor a resource's name.
fn foreign_japanese(en: &str, words: &str, subjects: &[String]) -> Vec<String> {
    japanese_runs(en)
        .into_iter()
        .filter(|r| r.chars().any(is_japanese))
        .filter(|r| !words.contains(r.as_str()) && !subjects.iter().any(|s| s.contains(r.as_str())))
        .collect()
}

fn offenders(json: &serde_json::Value, words: &str) -> (Vec<String>, Vec<String>) {
    let (texts, subjects) = shown(json);
    let mut not_ja = Vec::new();
    let mut not_en = Vec::new();
    for t in &texts {
        if !t.ja.is_empty() && !t.ja.chars().any(is_japanese) && !data_only(&t.ja) {
            not_ja.push(format!("{}: {}", t.at, t.ja));
        }
        let foreign = foreign_japanese(&t.en, words, &subjects);
        if !foreign.is_empty() {
            not_en.push(format!("{}: {foreign:?} in {}", t.at, t.en));
        }
    }
    not_ja.sort();
    not_ja.dedup();
    not_en.sort();
    not_en.dedup();
    (not_ja, not_en)
}

#[test]
fn the_rules_of_this_test_hold() {
    assert!(data_only("E-001 arn:aws:kms:ap-northeast-1:123456789012:key/abc Encrypted=false 42"));
    assert!(!data_only("Encrypted=false (in scope: scope tags)"));
    assert!(!data_only("juki-db: no usable copy."));
    assert_eq!(japanese_runs("reviewer=山田 note=（済）"), ["山田", "（済）"]);
    assert_eq!(foreign_japanese("reviewer=山田 and 暗号化なし", "reviewer = \"山田\"", &[]), ["暗号化なし"]);
}

/// Both demos, every text in the language asked for.
#[test]
fn both_demos_say_everything_in_japanese_and_in_english() {
    let words = scenario_words();
    let mut failures = Vec::new();
    for (name, args) in [("demo", vec!["demo"]), ("demo-noncompliant", vec!["demo", "--noncompliant"])] {
        let out = tempfile::tempdir().expect("tempdir");
        let dir = out.path().to_str().expect("utf8");
        let o = xtask(&[args.as_slice(), &["--format", "json", "--out", dir]].concat());
        let result = out.path().join("result.json");
        let body = std::fs::read_to_string(&result).unwrap_or_else(|e| panic!("{name}: {e}\n{}", text(&o)));
        let json: serde_json::Value = serde_json::from_str(&body).expect("result.json is JSON");
        let (not_ja, not_en) = offenders(&json, &words);
        if !not_ja.is_empty() {
            failures.push(format!("{name}: {} Japanese-mode text(s) without Japanese:\n  {}", not_ja.len(), not_ja.join("\n  ")));
        }
        if !not_en.is_empty() {
            failures.push(format!("{name}: {} English-mode text(s) with Japanese of gcverify's own:\n  {}", not_en.len(), not_en.join("\n  ")));
        }
        // The terminal table in English, re-rendered from the same run with its NG/ERROR details.
        let o = xtask(&["report", "--from", dir, "--format", "table", "--lang", "en", "--no-color"]);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(!stdout.trim().is_empty(), "{name}: report --lang en printed nothing\n{}", text(&o));
        let subjects = shown(&json).1;
        let foreign: Vec<String> = stdout
            .lines()
            .filter(|l| !foreign_japanese(l, &words, &subjects).is_empty())
            .map(|l| format!("{:?} in {l}", foreign_japanese(l, &words, &subjects)))
            .collect();
        if !foreign.is_empty() {
            failures.push(format!("{name}: `report --lang en` lines with Japanese of gcverify's own:\n  {}", foreign.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
