//! Desk (机上) items: the scenario carries a reviewer's attestation with its
//! evidence and an expiry, like an InSpec waiver. Missing or expired → 要確認.
//! The evidence is checked like any other: a file must be inside the
//! scenario's folder (or `$GCVERIFY_EVIDENCE_ROOT`), exist and is hashed; a URL
//! must be https; a paper reference is shown as such; a placeholder, a missing
//! file or one outside the root makes the point 要確認, never OK.

use chrono::NaiveDate;
use gcverify_scenarios::{AttestedResult, Scenario};

use std::path::{Path, PathBuf};

use crate::model::{AttestationRecord, DocumentKind, Msg, Outcome};
use crate::probes::Findings;

/// The whole item's attestation (one without `point`).
pub fn evaluate(item_id: &str, scenario: &Scenario, today: NaiveDate) -> Findings {
    // The newest attestation for the item counts.
    let latest = scenario.attestation.iter().filter(|a| a.item.get_ref() == item_id && a.point.is_none()).max_by_key(|a| a.date);
    let Some(a) = latest else {
        return Findings::decided(
            Outcome::Pending,
            Msg::new("要確認: 机上確認の記録（attestation）がシナリオにない", "pending: no attestation for this desk item in the scenario"),
        );
    };
    judge(item_id, a, scenario, today)
}

/// One 確認観点: the newest attestation naming the point; when there is none
/// and `whole_item_counts` (the point is verified by attestation), the
/// newest attestation of the whole item.
pub fn evaluate_point(item_id: &str, point: &str, whole_item_counts: bool, scenario: &Scenario, today: NaiveDate) -> Findings {
    evaluate_point_or(item_id, point, whole_item_counts, scenario, today, || {
        Msg::new(
            format!("要確認: 確認観点 {point} の確認記録（attestation, point = \"{point}\"）がシナリオにない"),
            format!("pending: no attestation for point {point} (attestation with point = \"{point}\") in the scenario"),
        )
    })
}

/// As [`evaluate_point`], with the caller's 要確認 reason when nothing attests the point.
pub fn evaluate_point_or(
    item_id: &str,
    point: &str,
    whole_item_counts: bool,
    scenario: &Scenario,
    today: NaiveDate,
    missing: impl FnOnce() -> Msg,
) -> Findings {
    let of_item = || scenario.attestation.iter().filter(|a| a.item.get_ref() == item_id);
    let for_point = of_item().filter(|a| a.point.as_ref().is_some_and(|p| p.get_ref() == point)).max_by_key(|a| a.date);
    let chosen = for_point.or_else(|| if whole_item_counts { of_item().filter(|a| a.point.is_none()).max_by_key(|a| a.date) } else { None });
    match chosen {
        Some(a) => judge(item_id, a, scenario, today),
        None => Findings::decided(Outcome::Pending, missing()),
    }
}

fn judge(item_id: &str, a: &gcverify_scenarios::Attestation, scenario: &Scenario, today: NaiveDate) -> Findings {
    let source = scenario.path().map(crate::relative_path).unwrap_or_else(|| "scenario".into());
    let record = record(a, scenario, today);
    let fields = format!(
        "reviewer={} date={} expires={} evidence={}{}{}",
        a.reviewer,
        a.date,
        a.expires.as_ref().map(|e| e.get_ref().to_string()).unwrap_or_else(|| "-".into()),
        a.evidence,
        record.sha256.as_ref().map(|d| format!(" sha256={d}")).unwrap_or_default(),
        if a.note.is_empty() { String::new() } else { format!(" note={}", a.note) }
    );
    let detail = crate::msg!(
        "確認記録 result={ja} {fields}",
        "attestation result={en} {fields}";
        ja = record.result.label(crate::model::Lang::Ja),
        en = record.result.label(crate::model::Lang::En)
    );
    if record.expired {
        let exp = record.expires.map(|e| e.to_string()).unwrap_or_default();
        let mut f = Findings::decided(
            Outcome::Pending,
            Msg::new(format!("要確認: {} の確認記録は {exp} に期限切れ", a.reviewer), format!("pending: attestation by {} expired on {exp}", a.reviewer)),
        );
        f.info(item_id, None, detail, &source);
        f.attestation(record);
        return f;
    }
    if let (Some(problem), AttestedResult::Ok | AttestedResult::NotApplicable) = (&record.document_problem, a.result) {
        let mut f = Findings::decided(
            Outcome::Pending,
            Msg::new(format!("要確認: 確認記録の根拠が使えない: {problem}"), format!("pending: the attestation's evidence does not count: {problem}")),
        );
        f.info(item_id, None, detail, &source);
        f.attestation(record);
        return f;
    }
    let (outcome, ja, en) = match a.result {
        AttestedResult::Ok => (Outcome::Ok, "確認済", "attested"),
        AttestedResult::Ng => (Outcome::Ng, "不適合と確認", "attested as not met"),
        AttestedResult::NotApplicable => (Outcome::NotApplicable, "対象外と確認", "attested as not applicable"),
    };
    let note_ja = if a.note.is_empty() { String::new() } else { format!("（{}）", a.note) };
    let note_en = if a.note.is_empty() { String::new() } else { format!(" ({})", a.note) };
    let mut f = Findings::decided(
        outcome,
        Msg::new(
            format!("{ja}: {} {} 根拠 {}（{}）{note_ja}", a.reviewer, a.date, a.evidence, record.document_kind.label(crate::model::Lang::Ja)),
            format!("{en}: {} on {}, evidence {} ({}){note_en}", a.reviewer, a.date, a.evidence, record.document_kind.label(crate::model::Lang::En)),
        ),
    );
    f.info(item_id, None, detail, &source);
    f.attestation(record);
    f
}

/// Texts the example scenario uses where a real value belongs.
const PLACEHOLDERS: &[&str] = &["example.invalid", "example.com", "example.org", "〇〇", "担当者名", "TODO", "TBD"];

/// File endings that make a 根拠 a file path (a reference like 「契約書 第12条」 has none).
const FILE_ENDINGS: &[&str] =
    &[".pdf", ".xlsx", ".xls", ".docx", ".doc", ".md", ".txt", ".csv", ".png", ".jpg", ".jpeg", ".zip", ".html", ".json", ".toml", ".pptx"];

/// The attestation as fields, with the 根拠 checked: its kind, its SHA-256
/// when it is a file, and what is wrong with it.
pub fn record(a: &gcverify_scenarios::Attestation, scenario: &Scenario, today: NaiveDate) -> AttestationRecord {
    let result = match a.result {
        AttestedResult::Ok => Outcome::Ok,
        AttestedResult::Ng => Outcome::Ng,
        AttestedResult::NotApplicable => Outcome::NotApplicable,
    };
    let root = evidence_root(scenario);
    let checked = check_document(&a.evidence, root.as_deref());
    let placeholder = PLACEHOLDERS.iter().find(|p| a.evidence.contains(**p) || a.reviewer.contains(**p));
    let problem = match (placeholder, checked.problem) {
        (Some(p), _) => Some(format!("例の値（{p}）のまま / a placeholder ({p}) left in")),
        (None, problem) => problem,
    };
    let expires = a.expires.as_ref().map(|e| *e.get_ref());
    AttestationRecord {
        result,
        reviewer: a.reviewer.clone(),
        date: a.date,
        expires,
        expired: expires.is_some_and(|e| e < today),
        document: a.evidence.clone(),
        document_kind: checked.kind,
        document_problem: problem,
        sha256: checked.sha256,
        note: (!a.note.is_empty()).then(|| a.note.clone()),
    }
}

/// Where evidence files must be: `$GCVERIFY_EVIDENCE_ROOT`, else the scenario's folder.
fn evidence_root(scenario: &Scenario) -> Option<PathBuf> {
    std::env::var_os("GCVERIFY_EVIDENCE_ROOT").map(PathBuf::from).or_else(|| scenario.path().and_then(Path::parent).map(Path::to_path_buf))
}

struct Checked {
    kind: DocumentKind,
    sha256: Option<String>,
    problem: Option<String>,
}

/// A 根拠 judged: an https URL, a paper reference, or a file that must
/// resolve (symlinks followed) inside `root`, exist and be read.
fn check_document(evidence: &str, root: Option<&Path>) -> Checked {
    let text = evidence.trim();
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Checked { kind: DocumentKind::Url, sha256: None, problem: None };
    }
    if lower.contains("://") {
        return Checked { kind: DocumentKind::Url, sha256: None, problem: Some(format!("URL は https のみ: {text} / only https URLs count")) };
    }
    let looks_like_file = text.contains('/') || text.contains('\\') || FILE_ENDINGS.iter().any(|e| lower.ends_with(e));
    if !looks_like_file {
        return Checked { kind: DocumentKind::Paper, sha256: None, problem: None };
    }
    let file = |problem: String| Checked { kind: DocumentKind::File, sha256: None, problem: Some(problem) };
    let Some(root) = root.and_then(|r| r.canonicalize().ok()) else {
        return file(format!("根拠ファイルの置き場所（シナリオのフォルダ）が分からない: {text} / no evidence root to resolve {text} in"));
    };
    let path = Path::new(text);
    let joined = if path.is_absolute() { path.to_path_buf() } else { root.join(path) };
    let resolved = match joined.canonicalize() {
        Ok(p) => p,
        Err(_) => return file(format!("根拠ファイルがない: {text} / evidence file not found")),
    };
    if !resolved.starts_with(&root) {
        return file(format!("根拠ファイルが根拠の置き場所（{}）の外: {text} / evidence outside the evidence root", crate::relative_path(&root)));
    }
    match std::fs::read(&resolved) {
        Ok(bytes) if resolved.is_file() => Checked { kind: DocumentKind::File, sha256: Some(crate::sha256_hex(&bytes)), problem: None },
        Ok(_) => file(format!("根拠がファイルでない: {text} / evidence is not a file")),
        Err(e) => file(format!("根拠ファイルを読めない: {text}: {e} / evidence file unreadable")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Conclusion;
    use std::path::Path;

    fn scenario(extra: &str) -> Scenario {
        let text = format!("[environment]\nname = \"t\"\n{extra}");
        gcverify_scenarios::parse(&text, Path::new("t.toml")).expect("valid")
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    const ATT: &str =
        "[[attestation]]\nitem = \"E.1.1.1\"\nresult = \"OK\"\nevidence = \"レビュー記録 2026年10月\"\nreviewer = \"山田\"\ndate = 2026-10-01\nexpires = 2027-03-31\n";

    #[test]
    fn missing_attestation_is_pending() {
        let c = evaluate("E.1.1.1", &scenario(""), day("2026-11-23")).conclude("1");
        assert_eq!(c.outcome, Outcome::Pending);
    }

    #[test]
    fn valid_attestation_is_ok_with_evidence() {
        let c = evaluate("E.1.1.1", &scenario(ATT), day("2026-11-23")).conclude("1");
        assert_eq!(c.outcome, Outcome::Ok);
        assert!(c.summary.ja.contains("レビュー記録 2026年10月（文書参照・ファイルなし）"), "{}", c.summary.ja);
        assert!(c.evidence[0].detail.contains("result=OK reviewer=山田"), "{}", c.evidence[0].detail);
        let r = c.attestation.expect("record");
        assert_eq!((r.reviewer.as_str(), r.document.as_str(), r.result, r.expired), ("山田", "レビュー記録 2026年10月", Outcome::Ok, false));
        assert_eq!(r.expires, Some(day("2027-03-31")));
        assert_eq!((r.sha256, r.document_kind, r.document_problem), (None, DocumentKind::Paper, None), "a paper reference: no digest, no problem");
    }

    #[test]
    fn an_existing_document_gets_its_sha256_relative_to_the_scenario() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("docs")).expect("mkdir");
        std::fs::write(dir.path().join("docs/review.pdf"), b"abc").expect("write");
        let text = format!("[environment]\nname = \"t\"\n{}", ATT.replace("レビュー記録 2026年10月", "docs/review.pdf"));
        let s = gcverify_scenarios::parse(&text, &dir.path().join("t.toml")).expect("valid");
        let c = evaluate("E.1.1.1", &s, day("2026-11-23")).conclude("1");
        let r = c.attestation.expect("record");
        assert_eq!(r.document, "docs/review.pdf", "as written, relative");
        // sha256("abc")
        assert_eq!(r.sha256.as_deref(), Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert!(c.evidence[0].detail.contains("sha256=ba7816bf"), "{}", c.evidence[0].detail);
        let expired = evaluate("E.1.1.1", &s, day("2027-04-01")).conclude("1");
        assert!(expired.attestation.is_some_and(|r| r.expired));
    }

    #[test]
    fn expired_attestation_is_pending() {
        let c = evaluate("E.1.1.1", &scenario(ATT), day("2027-04-01")).conclude("1");
        assert_eq!(c.outcome, Outcome::Pending);
        assert!(c.summary.en.contains("expired on 2027-03-31"));
    }

    const POINT_ATT: &str = "[[attestation]]\nitem = \"E.5.1.1\"\npoint = \"staff-2fa\"\nresult = \"OK\"\nevidence = \"ログイン試験記録\"\nreviewer = \"佐藤\"\ndate = 2026-10-01\nexpires = 2027-03-31\n";

    #[test]
    fn a_point_attestation_covers_its_point_only_until_it_expires() {
        let s = scenario(POINT_ATT);
        let c = evaluate_point("E.5.1.1", "staff-2fa", false, &s, day("2026-11-23")).conclude("1");
        assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
        assert!(c.summary.ja.contains("ログイン試験記録"));
        let other = evaluate_point("E.5.1.1", "admin-mfa", true, &s, day("2026-11-23")).conclude("1");
        assert_eq!(other.outcome, Outcome::Pending, "another point is not covered: {}", other.summary.en);
        assert!(other.summary.en.contains("point admin-mfa"), "{}", other.summary.en);
        let expired = evaluate_point("E.5.1.1", "staff-2fa", false, &s, day("2027-04-01")).conclude("1");
        assert_eq!(expired.outcome, Outcome::Pending);
        assert!(expired.summary.en.contains("expired on 2027-03-31"), "{}", expired.summary.en);
        // A point attestation never stands in for the whole item.
        assert_eq!(evaluate("E.5.1.1", &s, day("2026-11-23")).conclude("1").outcome, Outcome::Pending);
    }

    #[test]
    fn a_whole_item_attestation_covers_attestation_points_but_not_deep_checks() {
        let s = scenario(&ATT.replace("E.1.1.1", "E.5.1.1"));
        assert_eq!(evaluate_point("E.5.1.1", "procedures", true, &s, day("2026-11-23")).conclude("1").outcome, Outcome::Ok);
        assert_eq!(evaluate_point("E.5.1.1", "staff-2fa", false, &s, day("2026-11-23")).conclude("1").outcome, Outcome::Pending);
    }

    #[test]
    fn newest_attestation_wins() {
        let newer = ATT.replace("2026-10-01", "2026-11-01").replace("\"OK\"", "\"NG\"");
        let c = evaluate("E.1.1.1", &scenario(&format!("{ATT}{newer}")), day("2026-11-23")).conclude("1");
        assert_eq!(c.outcome, Outcome::Ng);
    }

    /// The scenario in `dir` attesting E.1.1.1 with `evidence`.
    fn judged_in(dir: &Path, evidence: &str) -> Conclusion {
        let text = format!("[environment]\nname = \"t\"\n{}", ATT.replace("レビュー記録 2026年10月", evidence));
        let s = gcverify_scenarios::parse(&text, &dir.join("t.toml")).expect("valid");
        evaluate("E.1.1.1", &s, day("2026-11-23")).conclude("1")
    }

    fn problem(c: &Conclusion) -> String {
        c.attestation.as_ref().and_then(|r| r.document_problem.clone()).unwrap_or_default()
    }

    #[test]
    fn evidence_that_does_not_count_makes_the_point_pending_never_ok() {
        let outer = tempfile::tempdir().expect("tempdir");
        let root = outer.path().join("scenarios");
        std::fs::create_dir(&root).expect("mkdir");
        std::fs::write(outer.path().join("secret.txt"), b"outside").expect("write");
        std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("link.txt")).expect("symlink");
        let outside_abs = outer.path().join("secret.txt").display().to_string();
        for (evidence, why) in [
            ("docs/missing.pdf", "根拠ファイルがない"),
            ("../secret.txt", "外"),
            (outside_abs.as_str(), "外"),
            ("link.txt", "外"),
            ("https://example.invalid/docs/policy-review.pdf", "例の値"),
            ("http://intranet/review.pdf", "https のみ"),
        ] {
            let c = judged_in(&root, evidence);
            assert_eq!(c.outcome, Outcome::Pending, "{evidence}: {}", c.summary.ja);
            assert!(problem(&c).contains(why), "{evidence}: {}", problem(&c));
            assert!(c.summary.ja.contains("根拠が使えない"), "{evidence}: {}", c.summary.ja);
            assert_eq!(c.attestation.as_ref().and_then(|r| r.sha256.clone()), None, "{evidence}: nothing outside the root is read");
        }
        // The example file's reviewer is a placeholder too.
        let text = format!("[environment]\nname = \"t\"\n{}", ATT.replace("山田", "〇〇市 情報政策課 担当者名"));
        let s = gcverify_scenarios::parse(&text, &root.join("t.toml")).expect("valid");
        assert_eq!(evaluate("E.1.1.1", &s, day("2026-11-23")).conclude("1").outcome, Outcome::Pending);
    }

    #[test]
    fn a_present_file_and_an_https_url_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("review.md"), b"abc").expect("write");
        let c = judged_in(dir.path(), "review.md");
        assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.ja);
        let r = c.attestation.expect("record");
        assert_eq!(r.document_kind, DocumentKind::File);
        assert_eq!(r.sha256.as_deref(), Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        let url = judged_in(dir.path(), "https://wiki.city.lg.jp/review/12");
        assert_eq!(url.outcome, Outcome::Ok, "{}", url.summary.ja);
        assert_eq!(url.attestation.map(|r| r.document_kind), Some(DocumentKind::Url));
    }

    #[test]
    fn an_attested_ng_stays_ng_whatever_its_evidence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = format!("[environment]\nname = \"t\"\n{}", ATT.replace("\"OK\"", "\"NG\"").replace("レビュー記録 2026年10月", "docs/missing.pdf"));
        let s = gcverify_scenarios::parse(&text, &dir.path().join("t.toml")).expect("valid");
        assert_eq!(evaluate("E.1.1.1", &s, day("2026-11-23")).conclude("1").outcome, Outcome::Ng);
    }
}
