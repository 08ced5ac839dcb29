//! 対処 on NG rows: for each violated claim of each NG point, what to change
//! (`checks/data/remedies.toml`, naming the AWS setting), said once for every
//! format: terminal, md, html, xlsx (考察・分析), junit, result.json.

use gcverify_checks::model::{EvidenceStatus, ItemResult, Lang, Outcome};
use gcverify_checks::remedies::Remedy;
use serde_json::{json, Value};

/// One violated claim and its 対処, with the points that violated it.
pub(crate) struct Line {
    pub points: Vec<String>,
    pub verifier: String,
    pub claim: String,
    pub remedy: &'static Remedy,
}

/// The row's 対処, in point order, each (verifier, claim) once; empty unless NG.
pub(crate) fn lines(result: &ItemResult) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    if result.outcome != Outcome::Ng {
        return out;
    }
    for p in result.points.iter().filter(|p| p.outcome == Outcome::Ng) {
        for claim in p.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).filter_map(|e| e.claim.as_deref()) {
            // A claim no verifier declares is a probe defect the verdict reports; it has no remedy to show.
            let Some(remedy) = gcverify_checks::remedies::remedy(&p.verifier, claim) else { continue };
            match out.iter_mut().find(|l| l.verifier == p.verifier && l.claim == claim) {
                Some(l) if !l.points.contains(&p.id) => l.points.push(p.id.clone()),
                Some(_) => {}
                None => out.push(Line { points: vec![p.id.clone()], verifier: p.verifier.clone(), claim: claim.to_string(), remedy }),
            }
        }
    }
    out
}

/// 「［point］対処」 one line per violated claim; empty when there is none.
pub(crate) fn text(result: &ItemResult, lang: Lang) -> String {
    lines(result).iter().map(|l| format!("［{}］{}", l.points.join(", "), l.remedy.text(lang))).collect::<Vec<_>>().join("\n")
}

/// The label every format puts before it.
pub(crate) fn label(lang: Lang) -> &'static str {
    if lang == Lang::Ja {
        "対処"
    } else {
        "Remedy"
    }
}

/// result.json's `remediation`: `[{points, verifier, claim, ja, en}]`.
pub(crate) fn json(result: &ItemResult) -> Value {
    Value::Array(
        lines(result)
            .into_iter()
            .map(|l| json!({"points": l.points, "verifier": l.verifier, "claim": l.claim, "ja": l.remedy.ja, "en": l.remedy.en}))
            .collect(),
    )
}

/// `head` followed by 「対処: …」 (the xlsx's 考察・分析, the terminal's 事象).
pub(crate) fn appended(head: &str, result: &ItemResult, lang: Lang) -> String {
    let remedy = text(result, lang);
    match (head.is_empty(), remedy.is_empty()) {
        (_, true) => head.to_string(),
        (true, false) => format!("{}: {remedy}", label(lang)),
        (false, false) => format!("{head}\n{}: {remedy}", label(lang)),
    }
}
