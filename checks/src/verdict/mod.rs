//! The verdict: the one place where outcomes are decided. Probes observe and
//! record ([`Findings`]); here a 確認観点 is judged from the evidence of its
//! own claims, a row from its points, and a row or point is 対象外 (scenario,
//! pilot, level) with its reason. Desk points are judged from their
//! attestation ([`attestation`]).
//!
//! A point's rule: NG when any observation of its claims is a violation; else
//! 検証不能 when any observation failed; else each claim needs at least one
//! compliant observation — a claim of the *effect* kind with nothing observed
//! while the point's settings were seen is 要確認 「実績未確認」, any other claim
//! with nothing observed is 検証不能 「観測なし」; then 観測不足 / parts not
//! verified make it 要確認; only then OK, and an OK carries its [`Proof`].

pub mod attestation;

use std::collections::BTreeMap;

use crate::catalog::{Item, Point, RowVerifier, Verifier};
use crate::model::{combine, Evidence, EvidenceStatus, Lang, Msg, Outcome, PointResult};
use crate::probes::registry::{Basis, ClaimDef, ProbeDef};
use crate::probes::Findings;

/// The compliant observations an OK rests on: never empty. Only this module
/// builds one, so no OK can be built without evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum Proof {
    /// Indices of the compliant observations in the conclusion's evidence.
    Observed(Vec<usize>),
    /// A reviewer's attestation whose evidence was checked (see [`attestation`]).
    Attested,
}

/// What a probe, a point or a row came to.
#[derive(Debug, Clone)]
pub struct Conclusion {
    pub outcome: Outcome,
    pub summary: Msg,
    pub evidence: Vec<Evidence>,
    pub achieved_level: Option<String>,
    /// The attestation that decided it (desk points), field by field.
    pub attestation: Option<crate::model::AttestationRecord>,
    /// The time the evidence covers (稼働率 record, load run), if it covers one.
    pub period: Option<crate::model::Period>,
    /// Set exactly when `outcome` is OK (private: only the verdict builds conclusions).
    proof: Option<Proof>,
}

impl Conclusion {
    /// The 確認観点's line in the result, holding what the point came to.
    pub fn into_point(self, id: String, text: String, text_en: String, refers_to: Vec<String>, verifier: String) -> PointResult {
        PointResult {
            id,
            text,
            text_en,
            refers_to,
            verifier,
            outcome: self.outcome,
            summary: self.summary.ja,
            summary_en: self.summary.en,
            evidence: self.evidence,
            attestation: self.attestation,
            period: self.period,
        }
    }

    /// What an OK rests on (`None` for any other outcome).
    pub fn proof(&self) -> Option<&Proof> {
        self.proof.as_ref()
    }

    fn decided(outcome: Outcome, summary: Msg, evidence: Vec<Evidence>) -> Self {
        debug_assert!(outcome != Outcome::Ok, "an OK needs a proof");
        Self { outcome, summary, evidence, achieved_level: None, attestation: None, period: None, proof: None }
    }

    fn ok(proof: Proof, summary: Msg, evidence: Vec<Evidence>, achieved_level: Option<String>) -> Self {
        Self { outcome: Outcome::Ok, summary, evidence, achieved_level, attestation: None, period: None, proof: Some(proof) }
    }

    /// 対象外 with its reason (judged before or instead of observing).
    pub fn not_applicable(reason: Msg) -> Self {
        Self::decided(Outcome::NotApplicable, reason, Vec::new())
    }

    /// 検証不能 with its reason (the verifier could not run at all).
    pub fn cannot(reason: Msg) -> Self {
        Self::decided(Outcome::Error, reason, Vec::new())
    }
}

/// Which of a probe's observations a judgement reads.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// All of them (a probe judged on its own).
    Whole,
    /// Those bearing on these claims, each of which must be observed.
    Claims(&'a [&'static ClaimDef]),
}

impl Scope<'_> {
    fn covers(&self, claim: Option<&str>) -> bool {
        match (self, claim) {
            (Scope::Whole, _) | (_, None) => true,
            (Scope::Claims(cs), Some(c)) => cs.iter().any(|d| d.id == c),
        }
    }
}

/// Each observation names its claim: a probe with one claim need not say it;
/// in a probe with several, a compliant or violating observation that names
/// none is a probe defect and counts as 検証不能, never for or against a point.
pub fn attribute(findings: &mut Findings, def: &ProbeDef) {
    let only = (def.claims.len() == 1).then(|| def.claims[0].id);
    for e in &mut findings.evidence {
        if let Some(c) = &e.claim {
            // A claim its verifier does not declare would prove no point: its
            // violation would vanish from every row.
            if def.claim(c).is_none() && matches!(e.status, EvidenceStatus::Pass | EvidenceStatus::Fail) {
                e.detail = e.detail.wrap((&format!("未登録の確認観点 {c}（プローブの不備）: "), ""), (&format!("undeclared claim {c} (probe defect): "), ""));
                e.status = EvidenceStatus::Error;
                e.claim = None;
            }
            continue;
        }
        if let Some(id) = only {
            e.claim = Some(id.to_string());
        } else if matches!(e.status, EvidenceStatus::Pass | EvidenceStatus::Fail) {
            e.detail = e.detail.wrap(("確認観点の対応が不明（プローブの不備）: ", ""), ("claim not named (probe defect): ", ""));
            e.status = EvidenceStatus::Error;
        }
    }
    if let Some(id) = only {
        for (claim, _) in findings.short_observation.iter_mut().chain(findings.unverified.iter_mut()) {
            claim.get_or_insert(id);
        }
    }
}

/// Judge `f` over `scope`.
pub fn conclude(f: &Findings, scope: Scope<'_>, selected_level: &str) -> Conclusion {
    let evidence: Vec<Evidence> = f.evidence.iter().filter(|e| scope.covers(e.claim.as_deref())).cloned().collect();
    if let Some((outcome, summary)) = &f.decided {
        // An OK by rule is an attestation's, whose evidence the attestation module checked.
        let mut c = match outcome {
            // Only an attestation decides an OK without observations.
            Outcome::Ok if f.attestation.is_none() => Conclusion::decided(
                Outcome::Error,
                Msg::new("検証不能: 根拠のない OK（プローブの不備）", "could not verify: an OK without evidence (probe defect)"),
                evidence,
            ),
            Outcome::Ok => Conclusion::ok(Proof::Attested, summary.clone(), evidence, f.achieved_level.clone().or_else(|| Some(selected_level.to_string()))),
            other => Conclusion::decided(*other, summary.clone(), evidence),
        };
        if c.outcome != Outcome::Ok {
            c.achieved_level = f.achieved_level.clone();
        }
        c.attestation = f.attestation.clone();
        c.period = f.period;
        return c;
    }
    let mut c = judge_observations(f, scope, evidence, selected_level);
    c.attestation = f.attestation.clone();
    c.period = f.period;
    c
}

fn judge_observations(f: &Findings, scope: Scope<'_>, evidence: Vec<Evidence>, selected_level: &str) -> Conclusion {
    let indices = |s: EvidenceStatus| evidence.iter().enumerate().filter(|(_, e)| e.status == s).map(|(i, _)| i).collect::<Vec<_>>();
    let (fails, errors, passes) = (indices(EvidenceStatus::Fail), indices(EvidenceStatus::Error), indices(EvidenceStatus::Pass));
    if !fails.is_empty() {
        let list = brief(fails.iter().map(|&i| &evidence[i]));
        let summary = Msg::new(format!("違反 {}件: {}", fails.len(), list.ja), format!("{} violation(s): {}", fails.len(), list.en));
        let mut c = Conclusion::decided(Outcome::Ng, summary, evidence);
        c.achieved_level = f.achieved_level.clone();
        return c;
    }
    if !errors.is_empty() {
        // The same failure seen in several regions or listings is said once.
        let mut unique: Vec<&Msg> = Vec::new();
        for &i in &errors {
            if !unique.contains(&&evidence[i].detail) {
                unique.push(&evidence[i].detail);
            }
        }
        let ja = cut(&unique.iter().map(|m| m.ja.as_str()).collect::<Vec<_>>(), "; ");
        let en = cut(&unique.iter().map(|m| m.en.as_str()).collect::<Vec<_>>(), "; ");
        return Conclusion::decided(Outcome::Error, Msg::new(format!("検証不能: {ja}"), format!("could not verify: {en}")), evidence);
    }
    if passes.is_empty() {
        return Conclusion::decided(Outcome::Error, Msg::new("検証不能: 確認できる対象が観測されなかった", "could not verify: nothing was observed"), evidence);
    }
    // Every claim of the point needs its own compliant observation.
    if let Scope::Claims(claims) = scope {
        let unobserved: Vec<&ClaimDef> = claims.iter().copied().filter(|c| !passes.iter().any(|&i| evidence[i].claim.as_deref() == Some(c.id))).collect();
        if !unobserved.is_empty() {
            let ja = unobserved.iter().map(|c| c.ja).collect::<Vec<_>>().join("、");
            let en = unobserved.iter().map(|c| c.en).collect::<Vec<_>>().join("; ");
            let (outcome, summary) = if unobserved.iter().all(|c| c.basis == Basis::Effect) {
                (
                    Outcome::Pending,
                    Msg::new(
                        format!("要確認: 設定のみ確認（実績未確認）: {ja}"),
                        format!("pending: only the setting was seen (the effect was not observed): {en}"),
                    ),
                )
            } else {
                (Outcome::Error, Msg::new(format!("検証不能: 観測なし: {ja}"), format!("could not verify: nothing observed for: {en}")))
            };
            return Conclusion::decided(outcome, summary, evidence);
        }
    }
    let summary = f
        .ok_summary
        .clone()
        .unwrap_or_else(|| Msg::new(format!("{}件の確認項目すべて適合", passes.len()), format!("all {} observations compliant", passes.len())));
    let relevant = |list: &[(Option<&'static str>, Msg)]| -> Vec<Msg> { list.iter().filter(|(c, _)| scope.covers(*c)).map(|(_, m)| m.clone()).collect() };
    let unverified = relevant(&f.unverified);
    if !unverified.is_empty() {
        let (ja, en) = joined(&unverified);
        let summary = Msg::new(format!("要確認: {ja}。確認できた範囲では: {}", summary.ja), format!("pending: {en}; what was verified: {}", summary.en));
        return Conclusion::decided(Outcome::Pending, summary, evidence);
    }
    let short = relevant(&f.short_observation);
    if !short.is_empty() {
        let (ja, en) = joined(&short);
        let summary = Msg::new(
            format!("要確認: 観測不足（{ja}）。観測した範囲では: {}", summary.ja),
            format!("pending: not enough observation ({en}); what was observed: {}", summary.en),
        );
        return Conclusion::decided(Outcome::Pending, summary, evidence);
    }
    Conclusion::ok(Proof::Observed(passes), summary, evidence, f.achieved_level.clone().or_else(|| Some(selected_level.to_string())))
}

fn joined(list: &[Msg]) -> (String, String) {
    (list.iter().map(|m| m.ja.as_str()).collect::<Vec<_>>().join("、"), list.iter().map(|m| m.en.as_str()).collect::<Vec<_>>().join("; "))
}

/// The first few, then a count of the rest.
fn cut(items: &[&str], sep: &str) -> String {
    const SHOWN: usize = 3;
    let mut list = items.iter().take(SHOWN).copied().collect::<Vec<_>>().join(sep);
    if items.len() > SHOWN {
        list.push_str(&format!("{sep}+{}", items.len() - SHOWN));
    }
    list
}

/// "vol-1 (ap-northeast-1): Encrypted=false; ..." for the first few, then a count, in each language.
fn brief<'a>(items: impl Iterator<Item = &'a Evidence>) -> Msg {
    let items: Vec<&Evidence> = items.collect();
    let list = |lang: Lang| {
        let parts: Vec<String> = items
            .iter()
            .map(|e| match &e.region {
                Some(r) => format!("{} ({r}): {}", e.subject, e.detail.get(lang)),
                None => format!("{}: {}", e.subject, e.detail.get(lang)),
            })
            .collect();
        cut(&parts.iter().map(String::as_str).collect::<Vec<_>>(), "; ")
    };
    Msg::new(list(Lang::Ja), list(Lang::En))
}

/// The claims a point names, resolved against the registry: its own
/// verifier's by bare id, another's as `verifier/claim`; none listed means the
/// verifier's only claim. An error is a catalog defect (a test checks them all).
pub fn claims_of(point: &Point) -> Result<BTreeMap<&'static str, Vec<&'static ClaimDef>>, String> {
    let mut out: BTreeMap<&'static str, Vec<&'static ClaimDef>> = BTreeMap::new();
    let own = crate::probes::lookup(&point.verifier).ok_or_else(|| format!("point {}: verifier {} is not registered", point.id, point.verifier))?;
    if point.claims.is_empty() {
        match own.claims {
            [only] => {
                out.entry(own.name).or_default().push(only);
            }
            many => {
                let ids = many.iter().map(|c| c.id).collect::<Vec<_>>().join(", ");
                return Err(format!("point {}: {} has several claims ({ids}); list the point's `claims`", point.id, own.name));
            }
        }
        return Ok(out);
    }
    for name in &point.claims {
        let (def, id) = match name.split_once('/') {
            Some((verifier, id)) => (crate::probes::lookup(verifier).ok_or_else(|| format!("point {}: claim {name}: no verifier {verifier}", point.id))?, id),
            None => (own, name.as_str()),
        };
        let claim = def.claim(id).ok_or_else(|| format!("point {}: {} has no claim {id}", point.id, def.name))?;
        out.entry(def.name).or_default().push(claim);
    }
    Ok(out)
}

/// One point from the runs of the probes it needs (each run once per row):
/// the evidence of its claims only. Several verifiers: combined as a row is.
pub fn point(point: &Point, runs: &BTreeMap<&'static str, Findings>, level: &str) -> Conclusion {
    let claims = match claims_of(point) {
        Ok(c) => c,
        Err(e) => return Conclusion::cannot(Msg::new(format!("検証不能: カタログの不備: {e}"), format!("could not verify: catalog defect: {e}"))),
    };
    let mut parts: Vec<Conclusion> = Vec::new();
    for (verifier, cs) in &claims {
        let c = match runs.get(verifier) {
            Some(f) => conclude(f, Scope::Claims(cs), level),
            None => not_run(verifier),
        };
        parts.push(c);
    }
    if parts.len() == 1 {
        return parts.remove(0);
    }
    let outcome = combine(parts.iter().map(|c| c.outcome));
    let lead = parts.iter().find(|c| c.outcome == outcome).map(|c| c.summary.clone()).unwrap_or_default();
    let evidence: Vec<Evidence> = parts.iter().flat_map(|c| c.evidence.iter().cloned()).collect();
    if outcome == Outcome::Ok {
        let passes = evidence.iter().enumerate().filter(|(_, e)| e.status == EvidenceStatus::Pass).map(|(i, _)| i).collect();
        let achieved = parts.iter().find_map(|c| c.achieved_level.clone());
        return Conclusion::ok(Proof::Observed(passes), lead, evidence, achieved);
    }
    Conclusion::decided(outcome, lead, evidence)
}

/// The verifiers a row's applicable points need, each to run once.
pub fn verifiers_needed(item: &Item, level: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for p in item.points.iter().filter(|p| p.applies_at(level)) {
        if let Ok(claims) = claims_of(p) {
            for v in claims.keys() {
                if !out.contains(v) {
                    out.push(v);
                }
            }
        } else if let Some(def) = crate::probes::lookup(&p.verifier) {
            // A catalog defect: the point says so; its probe still runs for the others.
            if !out.contains(&def.name) {
                out.push(def.name);
            }
        }
    }
    // The row's own probe decides whether the item applies at all.
    if let Some(def) = item.probe.name().and_then(crate::probes::lookup) {
        if !out.contains(&def.name) {
            out.insert(0, def.name);
        }
    }
    out
}

/// 検証不能 for a verifier nothing registers (a catalog defect).
pub fn not_run(name: &str) -> Conclusion {
    Conclusion::cannot(Msg::new(
        format!("検証不能: 検証手段 {name} が登録されていない（カタログの不備）"),
        format!("could not verify: verifier {name} is not registered (catalog defect)"),
    ))
}

/// 対象外 rows: by the scenario, by the pilot's judgement, or a raised level
/// of an item the pilot left out (then a reviewer's attestation decides).
pub fn whole_row(item: &Item, level: &str, scenario: &gcverify_scenarios::Scenario, today: chrono::NaiveDate) -> Option<Conclusion> {
    if let Some((_, reason)) = scenario.not_applicable.iter().find(|(id, _)| id.get_ref() == &item.id) {
        return Some(Conclusion::not_applicable(Msg::new(format!("対象外: {reason}"), format!("not applicable: {reason}"))));
    }
    if let Some(why) = item.not_applicable_at.get(level) {
        // The pilot's own reason, where it gave one, goes with the level's.
        let pilot = item.not_verified_reason.trim();
        let (also_ja, also_en) =
            if pilot.is_empty() { (String::new(), String::new()) } else { (format!("。判断理由: {pilot}"), format!("; pilot's reason: {pilot}")) };
        return Some(Conclusion::not_applicable(Msg::new(
            format!("対象外: 選択レベル{level}（{}）{also_ja}", why.ja),
            format!("not applicable: level {level} ({}){also_en}", why.en),
        )));
    }
    if item.probe != RowVerifier::NotVerified {
        return None;
    }
    if level != item.selected_level && level != "0" {
        // N/A would no longer be the pilot's judgement: a reviewer's evidence is needed.
        return Some(attestation::evaluate(&item.id, scenario, today).conclude(level));
    }
    Some(pilot_not_applicable(item))
}

/// The pilot's 判断理由 as the reason of a 対象外 row.
fn pilot_not_applicable(item: &Item) -> Conclusion {
    let reason = item.not_verified_reason.trim();
    Conclusion::not_applicable(Msg::new(format!("対象外: {reason}"), format!("not applicable (pilot judgement): {reason}")))
}

/// A point outside its levels, or of an item its own probe found 対象外.
pub fn point_not_applicable(item: &Item, p: &Point, level: &str, item_na: Option<&Conclusion>) -> Option<Conclusion> {
    if let (Some(na), false) = (item_na, item.probe.name() == Some(p.verifier.as_str())) {
        return Some(Conclusion::not_applicable(Msg::new(
            format!("対象外（{}の判断）: {}", item.probe, na.summary.ja.trim_start_matches("対象外: ")),
            format!("not applicable ({}): {}", item.probe, na.summary.en.trim_start_matches("not applicable: ")),
        )));
    }
    if !p.applies_at(level) {
        return Some(Conclusion::not_applicable(Msg::new(
            format!("対象外: 選択レベル{level}では不要（レベル{}のみ）", p.levels.join("/")),
            format!("not applicable at level {level} (levels {} only)", p.levels.join("/")),
        )));
    }
    None
}

/// A desk point: its attestation, or the item's when the point names none.
pub fn desk_point(item: &Item, p: &Point, scenario: &gcverify_scenarios::Scenario, today: chrono::NaiveDate, level: &str) -> Conclusion {
    match Verifier::of(&p.verifier) {
        Verifier::Attestation => attestation::evaluate_point(&item.id, &p.id, true, scenario, today).conclude(level),
        Verifier::Probe(name) | Verifier::Unknown(name) => not_run(name),
    }
}

/// The row from its points: NG > 検証不能 > 要確認 > OK, 対象外 points drop
/// out; a row whose points are all 対象外 is 対象外 with their reason (the
/// pilot's 判断理由 when the pilot did not verify the item). Its 事象 counts
/// every violation of every point, each observation once.
pub fn row(item: &Item, points: &[PointResult], level: &str, runs: &BTreeMap<&'static str, Findings>) -> Conclusion {
    let outcome = combine(points.iter().map(|p| p.outcome));
    // Evidence once per observation: a probe serving two points is listed once.
    let mut evidence: Vec<Evidence> = runs.values().flat_map(|f| f.evidence.iter().cloned()).collect();
    for p in points.iter().filter(|p| !matches!(Verifier::of(&p.verifier), Verifier::Probe(_))) {
        evidence.extend(p.evidence.iter().cloned());
    }
    let period = points.iter().filter(|p| p.outcome != Outcome::NotApplicable).filter_map(|p| p.period).reduce(crate::model::Period::union);
    let mut c = match outcome {
        Outcome::NotApplicable => {
            let reason = if !item.verified && !item.not_verified_reason.trim().is_empty() {
                pilot_not_applicable(item).summary
            } else {
                points.first().map(|p| Msg::new(p.summary.clone(), p.summary_en.clone())).unwrap_or_else(|| Msg::new("対象外", "not applicable"))
            };
            Conclusion::not_applicable(reason)
        }
        Outcome::Ok => {
            let passes = evidence.iter().enumerate().filter(|(_, e)| e.status == EvidenceStatus::Pass).map(|(i, _)| i).collect::<Vec<_>>();
            let achieved = runs.values().find_map(|f| f.achieved_level.clone()).or_else(|| Some(level.to_string()));
            let summary = row_summary(outcome, points);
            if passes.is_empty() {
                // Every point OK by attestation: the attestations are the proof.
                Conclusion::ok(Proof::Attested, summary, evidence, achieved)
            } else {
                Conclusion::ok(Proof::Observed(passes), summary, evidence, achieved)
            }
        }
        other => Conclusion::decided(other, row_summary(other, points), evidence),
    };
    c.period = period;
    c
}

/// 事象 of a row: for NG every violation of every point (each observation
/// once), else the deciding point's 事象; then which points were verified.
fn row_summary(outcome: Outcome, points: &[PointResult]) -> Msg {
    let applicable: Vec<&PointResult> = points.iter().filter(|p| p.outcome != Outcome::NotApplicable).collect();
    let observed = |p: &&&PointResult| matches!(Verifier::of(&p.verifier), Verifier::Probe(_));
    let deciding = match outcome {
        Outcome::Ng | Outcome::Error => applicable.iter().find(|p| p.outcome == outcome),
        _ => applicable.iter().find(observed).or_else(|| applicable.iter().find(|p| p.outcome == outcome)),
    };
    let (mut lead_ja, mut lead_en) = deciding.or(applicable.first()).map(|p| (p.summary.clone(), p.summary_en.clone())).unwrap_or_default();
    if outcome == Outcome::Ng {
        let mut violations: Vec<&Evidence> = Vec::new();
        for p in applicable.iter().filter(|p| p.outcome == Outcome::Ng) {
            for e in p.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail) {
                if !violations.contains(&e) {
                    violations.push(e);
                }
            }
        }
        // Attested NG points have no violation evidence: their own 事象 leads.
        if !violations.is_empty() {
            let list = brief(violations.iter().copied());
            lead_ja = format!("違反 {}件: {}", violations.len(), list.ja);
            lead_en = format!("{} violation(s): {}", violations.len(), list.en);
        }
    }
    if applicable.len() <= 1 {
        return Msg::new(lead_ja, lead_en);
    }
    let short = |t: &str| -> String {
        let head: String = t.chars().take(24).collect();
        if head.chars().count() < t.chars().count() {
            format!("{head}…")
        } else {
            head
        }
    };
    let names = |want: &dyn Fn(Outcome) -> bool, lang: Lang| -> String {
        applicable
            .iter()
            .filter(|p| want(p.outcome))
            .map(|p| {
                let state = if p.outcome == Outcome::Ok { String::new() } else { format!("={}", p.outcome.label(lang)) };
                match lang {
                    Lang::Ja => format!("{}「{}」{state}", p.id, short(&p.text)),
                    Lang::En => format!("{}{state}", p.id),
                }
            })
            .collect::<Vec<_>>()
            .join("、")
    };
    let ok = |o: Outcome| o == Outcome::Ok;
    let not_ok = |o: Outcome| o != Outcome::Ok;
    let verified = applicable.iter().filter(|p| p.outcome == Outcome::Ok).count();
    let or_none = |s: String, none: &str| if s.is_empty() { none.to_string() } else { s };
    Msg::new(
        format!(
            "{lead_ja}［確認観点 {verified}/{}: 確認済 {}／未確認 {}］",
            applicable.len(),
            or_none(names(&ok, Lang::Ja), "なし"),
            or_none(names(&not_ok, Lang::Ja), "なし")
        ),
        format!(
            "{lead_en} [points {verified}/{}: verified {}; not verified {}]",
            applicable.len(),
            or_none(names(&ok, Lang::En), "none"),
            or_none(names(&not_ok, Lang::En), "none")
        ),
    )
}

#[cfg(test)]
mod tests;
