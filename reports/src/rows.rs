//! What one row of the 検証結果 table says, as text: shared by the
//! spreadsheet and `result.json`, so both tell the same 方法, 判断理由 and
//! 実現したレベル.

use gcverify_checks::catalog::{Catalog, Item, Verifier};
use gcverify_checks::model::{AttestationRecord, Evidence, EvidenceStatus, ItemResult, Lang, Outcome, PointResult};

/// How many distinct API calls a 方法 line names before it says "他N件".
const SOURCES_SHOWN: usize = 6;

/// A catalog text that is only 「同 No.N」 replaced by row N's text of the
/// same field (followed, a few links at most), with the reference kept as a
/// note: the printed row reads on its own.
pub(crate) fn resolved(item: &Item, catalog: &Catalog, field: fn(&Item) -> &String) -> String {
    let mut text = field(item).clone();
    let mut via: Vec<String> = Vec::new();
    for _ in 0..4 {
        let trimmed = text.trim();
        let refs = catalog.referenced(trimmed);
        let is_only_ref =
            trimmed.starts_with('同') && trimmed.trim_start_matches('同').trim().strip_prefix("No.").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
        let [target] = refs.as_slice() else { break };
        if !is_only_ref {
            break;
        }
        via.push(format!("{}（{}）", trimmed, target.id));
        text = field(target).clone();
    }
    if via.is_empty() {
        text
    } else {
        format!("{text}\n［{}と同じ］", via.join("→"))
    }
}

/// 判断理由 of a 対象外 row: the pilot's reason, or the scenario's / the rule's.
pub(crate) fn reason(result: &ItemResult, item: Option<&Item>) -> String {
    if result.outcome != Outcome::NotApplicable {
        return String::new();
    }
    if let Some(r) = item.map(|i| i.not_verified_reason.trim()).filter(|r| !r.is_empty() && result.probe == "not_applicable") {
        return r.to_string();
    }
    result.summary.trim_start_matches("対象外").trim_start_matches([':', '：', ' ']).to_string()
}

/// 検証実施有無: 無 for rows the pilot did not verify.
pub(crate) fn verified(result: &ItemResult, item: Option<&Item>) -> bool {
    !(result.outcome == Outcome::NotApplicable && (item.is_some_and(|i| !i.verified) || result.probe == "not_applicable"))
}

/// A level as the 選択レベル column shows it: `"3 99.5%"` with the catalog's label.
pub(crate) fn level_with_label(level: &str, item: Option<&Item>) -> String {
    let label = item.and_then(|i| {
        if level == i.selected_level && !i.selected_label.is_empty() {
            Some(i.selected_label.as_str())
        } else if level == i.standard_level && !i.standard_label.is_empty() {
            Some(i.standard_label.as_str())
        } else {
            None
        }
    });
    match label {
        Some(l) => format!("{level} {l}"),
        None => level.to_string(),
    }
}

/// 実現したレベル: what an OK row reached (the selected level when nothing
/// more was established), blank otherwise.
pub(crate) fn achieved(result: &ItemResult, item: Option<&Item>) -> String {
    let level = result.achieved_level.clone().or_else(|| (result.outcome == Outcome::Ok).then(|| result.selected_level.clone()));
    level.map(|l| level_with_label(&l, item)).unwrap_or_default()
}

/// 方法: how THIS run verified the row, one line per verifier: the probe and
/// the calls it made, or 机上 with the reviewer's record.
pub(crate) fn method(result: &ItemResult, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    if result.points.is_empty() {
        return match result.probe.as_str() {
            "not_applicable" => if ja { "検証せず（判断理由を参照）" } else { "not verified (see the reason)" }.to_string(),
            "attestation" => desk_line(None, result.attestation.as_ref(), lang),
            probe => probe_line(probe, &[], &result.evidence, lang),
        };
    }
    let mut lines: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for p in &result.points {
        match Verifier::of(&p.verifier) {
            Verifier::Attestation => lines.push(desk_line(Some(p), p.attestation.as_ref(), lang)),
            _ if seen.contains(&p.verifier.as_str()) => {}
            _ => {
                seen.push(&p.verifier);
                let served: Vec<&PointResult> = result.points.iter().filter(|q| q.verifier == p.verifier).collect();
                let evidence: Vec<Evidence> = served.iter().flat_map(|q| q.evidence.iter().cloned()).collect();
                lines.push(probe_line(&p.verifier, &served, &evidence, lang));
            }
        }
    }
    lines.join("\n")
}

fn point_ids(points: &[&PointResult], lang: Lang) -> String {
    if points.is_empty() {
        return String::new();
    }
    let ids = points
        .iter()
        .map(|p| if p.outcome == Outcome::NotApplicable { format!("{}={}", p.id, p.outcome.label(lang)) } else { p.id.clone() })
        .collect::<Vec<_>>()
        .join(", ");
    format!("［{ids}］")
}

/// `実機 encryption.at_rest: <what it observes>（ec2:DescribeVolumes、…）［points］`
fn probe_line(name: &str, points: &[&PointResult], evidence: &[Evidence], lang: Lang) -> String {
    let what = gcverify_checks::probes::lookup(name).map(|d| d.describe(lang)).unwrap_or_default();
    let mut sources: Vec<&str> = Vec::new();
    for e in evidence {
        // "scope" marks a missing resource, not a call made.
        if e.source != "scope" && !sources.contains(&e.source.as_str()) {
            sources.push(&e.source);
        }
    }
    let more = sources.len().saturating_sub(SOURCES_SHOWN);
    let mut calls = sources.iter().take(SOURCES_SHOWN).copied().collect::<Vec<_>>().join(if lang == Lang::Ja { "、" } else { ", " });
    if more > 0 {
        calls.push_str(&if lang == Lang::Ja { format!(" 他{more}件") } else { format!(" +{more}") });
    }
    let (kind, open, close) = if lang == Lang::Ja { ("実機", "（", "）") } else { ("system", " (", ")") };
    let calls = if calls.is_empty() { String::new() } else { format!("{open}{calls}{close}") };
    format!("{kind} {name}: {what}{calls}{}", point_ids(points, lang))
}

/// `机上 確認記録［point］: 山田 2026-10-01 根拠 docs/x.pdf（SHA-256 ab12…）`
fn desk_line(point: Option<&PointResult>, record: Option<&AttestationRecord>, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let ids = point.map(|p| point_ids(&[p], lang)).unwrap_or_default();
    let head = if ja { format!("机上 確認記録{ids}") } else { format!("desk (attestation){ids}") };
    match record {
        None => format!("{head}: {}", if ja { "記録なし（要確認）" } else { "none recorded (pending)" }),
        Some(r) => {
            let digest = r.sha256.as_deref().map(|d| format!(" SHA-256 {}", &d[..d.len().min(16)])).unwrap_or_default();
            let expired = if r.expired {
                if ja {
                    "（期限切れ）"
                } else {
                    " (expired)"
                }
            } else {
                ""
            };
            if ja {
                format!("{head}: {} {} 根拠 {}{digest}{expired}", r.reviewer, r.date, r.document)
            } else {
                format!("{head}: {} on {}, evidence {}{digest}{expired}", r.reviewer, r.date, r.document)
            }
        }
    }
}

/// 原因: why a row is not OK, as far as the run knows: each NG point's
/// violated claim(s) with the evidence that shows it, each 検証不能 or 要確認
/// point's reason. Blank for OK and 対象外 (and for a reviewer to complete).
pub(crate) fn cause(result: &ItemResult, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    if !matches!(result.outcome, Outcome::Ng | Outcome::Error | Outcome::Pending) {
        return String::new();
    }
    let mut lines: Vec<String> = Vec::new();
    for p in result.points.iter().filter(|p| p.outcome == result.outcome) {
        if p.outcome == Outcome::Ng {
            let failed: Vec<&Evidence> = p.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).collect();
            let def = gcverify_checks::probes::lookup(&p.verifier);
            let mut claims: Vec<String> = Vec::new();
            for c in failed.iter().filter_map(|e| e.claim.as_deref()) {
                let text = def.and_then(|d| d.claim(c)).map(|d| format!("{}（{c}）", if ja { d.ja } else { d.en })).unwrap_or_else(|| c.to_string());
                if !claims.contains(&text) {
                    claims.push(text);
                }
            }
            let claims = if claims.is_empty() {
                String::new()
            } else {
                format!("{}{}", if ja { " — 違反: " } else { " — violated: " }, claims.join(if ja { "、" } else { ", " }))
            };
            let refs = evidence_refs(&failed.into_iter().cloned().collect::<Vec<_>>());
            let refs = if refs.is_empty() {
                String::new()
            } else {
                if ja {
                    format!("（証跡 {refs}）")
                } else {
                    format!(" (evidence {refs})")
                }
            };
            lines.push(format!("［{}］{}{claims}{refs}", p.id, p.text(lang)));
        } else {
            lines.push(format!("［{}］{}", p.id, without_outcome(&readable(p.summary(lang)), p.outcome)));
        }
    }
    if lines.is_empty() {
        // A row decided without points: its failing observations, or its summary.
        let status = if result.outcome == Outcome::Ng { EvidenceStatus::Fail } else { EvidenceStatus::Error };
        lines = result.evidence.iter().filter(|e| e.status == status).take(5).map(|e| format!("{}: {}", e.subject, readable(e.detail.get(lang)))).collect();
        if lines.is_empty() {
            lines.push(without_outcome(&readable(result.summary(lang)), result.outcome).to_string());
        }
    }
    lines.join("\n")
}

/// 考察・分析: what the run can say about a row beyond its 事象 — how many of
/// its points were verified and which evidence to read first; blank when it
/// has nothing to add (a reviewer completes it).
pub(crate) fn analysis(result: &ItemResult, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    if result.points.is_empty() || !matches!(result.outcome, Outcome::Ng | Outcome::Error | Outcome::Pending) {
        return String::new();
    }
    let judged: Vec<&PointResult> = result.points.iter().filter(|p| p.outcome != Outcome::NotApplicable).collect();
    let ok = judged.iter().filter(|p| p.outcome == Outcome::Ok).count();
    let mut out = if ja { format!("確認観点 {}件中 {ok}件 確認済", judged.len()) } else { format!("{ok} of {} points verified", judged.len()) };
    let by = |o: Outcome| judged.iter().filter(|p| p.outcome == o).map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
    for o in [Outcome::Ng, Outcome::Error, Outcome::Pending] {
        let ids = by(o);
        if !ids.is_empty() {
            out.push_str(&format!("{}{}: {ids}", if ja { "、" } else { "; " }, o.label(lang)));
        }
    }
    let key: Vec<Evidence> = result.evidence.iter().filter(|e| matches!(e.status, EvidenceStatus::Fail | EvidenceStatus::Error)).cloned().collect();
    let refs = evidence_refs(&key);
    if !refs.is_empty() {
        out.push_str(&if ja { format!("。まず読む証跡: {refs}") } else { format!(". Evidence to read first: {refs}") });
    }
    out
}

/// A text without the outcome's label in front (「検証不能: …」 → 「…」).
pub(crate) fn without_outcome(text: &str, o: Outcome) -> &str {
    let mut s = text.trim_start();
    // Repeated: a text may carry the label twice.
    loop {
        let before = s;
        for label in [o.label(Lang::Ja), o.label(Lang::En)] {
            // Only the label as a prefix (「対象外: …」), not a word that begins with it.
            if let Some(rest) = s.strip_prefix(label).filter(|r| r.starts_with([':', '：', ' ', '　'])) {
                s = rest.trim_start_matches([':', '：', ' ', '　']);
            }
        }
        if s == before {
            return s;
        }
    }
}

/// `E-001〜E-004, E-007`: the row's evidence numbers, consecutive runs shortened.
pub(crate) fn evidence_refs(evidence: &[Evidence]) -> String {
    let nums: Vec<(u32, &str)> =
        evidence.iter().filter_map(|e| e.id.as_deref()).filter_map(|id| id.strip_prefix("E-")?.parse().ok().map(|n| (n, id))).collect();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len() && nums[j + 1].0 == nums[j].0 + 1 {
            j += 1;
        }
        parts.push(if j > i { format!("{}〜{}", nums[i].1, nums[j].1) } else { nums[i].1.to_string() });
        i = j + 1;
    }
    parts.join(", ")
}

/// Developer text made readable for a person: Rust debug dumps of SDK
/// errors (`DispatchFailure(DispatchFailure { source: ... })`) become their
/// innermost message; everything else is kept as it is.
pub(crate) fn readable(text: &str) -> String {
    const DUMPS: [&str; 5] = ["DispatchFailure(", "ServiceError(", "ResponseError(", "TimeoutError(", "ConstructionFailure("];
    let Some(at) = DUMPS.iter().filter_map(|d| text.find(d)).min() else { return text.to_string() };
    let dump = &text[at..];
    // The innermost quoted message ("tcp connect error", "Connection refused") says most.
    let quoted: Vec<&str> = dump.split('"').skip(1).step_by(2).filter(|s| !s.trim().is_empty()).collect();
    let what = quoted.last().map(|q| q.to_string()).unwrap_or_else(|| "AWS SDK error".to_string());
    let kind = DUMPS.iter().find(|d| dump.starts_with(**d)).map(|d| d.trim_end_matches('(')).unwrap_or("");
    let label = match kind {
        "DispatchFailure" => "接続不可 / endpoint unreachable",
        "TimeoutError" => "タイムアウト / timed out",
        "ConstructionFailure" => "要求を作れない / request could not be built",
        _ => "応答エラー / error response",
    };
    format!("{}{label}: {what}", &text[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_same_as_reference_reads_the_referenced_rows_text() {
        let catalog = Catalog::builtin();
        let tenth = &catalog.items()[9];
        let referring = catalog.items().iter().find(|i| i.check_item.trim() == "同 No.10").expect("an item saying 同 No.10");
        let text = resolved(referring, &catalog, |i| &i.check_item);
        assert!(text.starts_with(tenth.check_item.as_str()), "{text}");
        assert!(text.contains(&format!("同 No.10（{}）と同じ", tenth.id)), "{text}");
        assert!(!text.starts_with("同 No."), "{text}");
        // A text that only mentions a row keeps its wording.
        assert_eq!(resolved(tenth, &catalog, |i| &i.check_item), tenth.check_item);
        for item in catalog.items() {
            for field in [(|i: &Item| &i.check_item) as fn(&Item) -> &String, |i| &i.scope, |i| &i.method] {
                let t = resolved(item, &catalog, field);
                assert!(!t.trim().starts_with("同 No."), "{}: {t}", item.id);
            }
        }
    }

    #[test]
    fn evidence_refs_shorten_consecutive_numbers() {
        let e = |id: &str| Evidence {
            id: Some(id.into()),
            status: gcverify_checks::EvidenceStatus::Pass,
            subject: String::new(),
            region: None,
            detail: gcverify_checks::Msg::default(),
            source: String::new(),
            claim: None,
            observed_at: chrono::Utc::now(),
            figure: None,
        };
        assert_eq!(evidence_refs(&[e("E-001"), e("E-002"), e("E-003"), e("E-007")]), "E-001〜E-003, E-007");
        assert_eq!(evidence_refs(&[e("E-010")]), "E-010");
        assert_eq!(evidence_refs(&[]), "");
    }

    #[test]
    fn sdk_debug_dumps_become_a_reason() {
        let raw = r#"ec2:DescribeVolumes: DispatchFailure(DispatchFailure { source: ConnectorError { kind: Io, source: hyper_util::client::legacy::Error(Connect, ConnectError("tcp connect error", 127.0.0.1:9, Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })) } })"#;
        assert_eq!(readable(raw), "ec2:DescribeVolumes: 接続不可 / endpoint unreachable: Connection refused");
        assert_eq!(readable("Encrypted=false"), "Encrypted=false");
    }
}
