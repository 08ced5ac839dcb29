//! Desk (机上) items: the scenario carries a reviewer's attestation with its
//! evidence and an expiry, like an InSpec waiver. Missing or expired → 要確認.

use chrono::NaiveDate;
use gcverify_scenarios::{AttestedResult, Scenario};

use std::path::{Path, PathBuf};

use super::Findings;
use crate::model::{AttestationRecord, Msg, Outcome};

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
    let detail = format!(
        "result={} reviewer={} date={} expires={} evidence={}{}{}",
        record.result.label(crate::model::Lang::En),
        a.reviewer,
        a.date,
        a.expires.as_ref().map(|e| e.get_ref().to_string()).unwrap_or_else(|| "-".into()),
        a.evidence,
        record.sha256.as_ref().map(|d| format!(" sha256={d}")).unwrap_or_default(),
        if a.note.is_empty() { String::new() } else { format!(" note={}", a.note) }
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
            format!("{ja}: {} {} 根拠 {}{note_ja}", a.reviewer, a.date, a.evidence),
            format!("{en}: {} on {}, evidence {}{note_en}", a.reviewer, a.date, a.evidence),
        ),
    );
    f.info(item_id, None, detail, &source);
    f.attestation(record);
    f
}

/// The attestation as fields, with the document's SHA-256 when it is a file
/// (relative paths are the scenario's folder's, then the working directory's).
pub fn record(a: &gcverify_scenarios::Attestation, scenario: &Scenario, today: NaiveDate) -> AttestationRecord {
    let result = match a.result {
        AttestedResult::Ok => Outcome::Ok,
        AttestedResult::Ng => Outcome::Ng,
        AttestedResult::NotApplicable => Outcome::NotApplicable,
    };
    let doc = Path::new(&a.evidence);
    let candidates: Vec<PathBuf> = if doc.is_absolute() {
        vec![doc.to_path_buf()]
    } else {
        scenario.path().and_then(Path::parent).map(|d| d.join(doc)).into_iter().chain(std::iter::once(doc.to_path_buf())).collect()
    };
    // A ticket number or URL is no file: no digest, not an error.
    let sha256 = candidates.iter().find(|p| p.is_file()).and_then(|p| std::fs::read(p).ok()).map(|bytes| crate::sha256_hex(&bytes));
    let expires = a.expires.as_ref().map(|e| *e.get_ref());
    AttestationRecord {
        result,
        reviewer: a.reviewer.clone(),
        date: a.date,
        expires,
        expired: expires.is_some_and(|e| e < today),
        document: if doc.is_absolute() { crate::relative_path(doc) } else { a.evidence.clone() },
        sha256,
        note: (!a.note.is_empty()).then(|| a.note.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(extra: &str) -> Scenario {
        let text = format!("[environment]\nname = \"t\"\n{extra}");
        gcverify_scenarios::parse(&text, Path::new("t.toml")).expect("valid")
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    const ATT: &str =
        "[[attestation]]\nitem = \"E.1.1.1\"\nresult = \"OK\"\nevidence = \"review.pdf\"\nreviewer = \"山田\"\ndate = 2026-10-01\nexpires = 2027-03-31\n";

    #[test]
    fn missing_attestation_is_pending() {
        let c = evaluate("E.1.1.1", &scenario(""), day("2026-11-23")).conclude("1");
        assert_eq!(c.outcome, Outcome::Pending);
    }

    #[test]
    fn valid_attestation_is_ok_with_evidence() {
        let c = evaluate("E.1.1.1", &scenario(ATT), day("2026-11-23")).conclude("1");
        assert_eq!(c.outcome, Outcome::Ok);
        assert!(c.summary.ja.contains("review.pdf"));
        assert!(c.evidence[0].detail.contains("result=OK reviewer=山田"), "{}", c.evidence[0].detail);
        let r = c.attestation.expect("record");
        assert_eq!((r.reviewer.as_str(), r.document.as_str(), r.result, r.expired), ("山田", "review.pdf", Outcome::Ok, false));
        assert_eq!(r.expires, Some(day("2027-03-31")));
        assert_eq!(r.sha256, None, "no such file: no digest");
    }

    #[test]
    fn an_existing_document_gets_its_sha256_relative_to_the_scenario() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("docs")).expect("mkdir");
        std::fs::write(dir.path().join("docs/review.pdf"), b"abc").expect("write");
        let text = format!("[environment]\nname = \"t\"\n{}", ATT.replace("review.pdf", "docs/review.pdf"));
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

    const POINT_ATT: &str = "[[attestation]]\nitem = \"E.5.1.1\"\npoint = \"staff-2fa\"\nresult = \"OK\"\nevidence = \"login-test.pdf\"\nreviewer = \"佐藤\"\ndate = 2026-10-01\nexpires = 2027-03-31\n";

    #[test]
    fn a_point_attestation_covers_its_point_only_until_it_expires() {
        let s = scenario(POINT_ATT);
        let c = evaluate_point("E.5.1.1", "staff-2fa", false, &s, day("2026-11-23")).conclude("1");
        assert_eq!(c.outcome, Outcome::Ok, "{}", c.summary.en);
        assert!(c.summary.ja.contains("login-test.pdf"));
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
}
