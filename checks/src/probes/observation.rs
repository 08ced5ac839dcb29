//! 観測不足: a point measured over time (稼働率, operating hours, response
//! time) is OK only after enough observation. The catalog declares the
//! standard's minimum on the point (`observation = { days = 30 }`); a
//! scenario may set another with a reason (`[observation."A.1.5.1"]`), which
//! the 事象 then states. Less than the minimum turns an OK into 要確認; a
//! violation already observed stays NG.

use super::{Findings, ProbeInput};
use crate::catalog::MinObservation;
use crate::model::Msg;

/// The minimum in force for one probe's point of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Required {
    pub days: Option<f64>,
    pub samples: Option<u64>,
    /// The catalog's (the standard's) minimum.
    pub standard: MinObservation,
    /// The scenario's reason, when it set its own minimum.
    pub reason: Option<String>,
}

impl Required {
    /// The minimum for `probe`'s point of the input's item.
    pub fn of(input: &ProbeInput, probe: &str) -> Self {
        let standard = input.item.points.iter().find(|p| p.verifier == probe).and_then(|p| p.observation).unwrap_or_default();
        match input.scenario.observation.iter().find(|(id, _)| id.get_ref() == &input.item.id) {
            Some((_, o)) => Required { days: o.days.or(standard.days), samples: o.samples.or(standard.samples), standard, reason: Some(o.reason.clone()) },
            None => Required { days: standard.days, samples: standard.samples, standard, reason: None },
        }
    }

    /// Judge an observed period (seconds) against the minimum days.
    pub fn period(&self, observed_secs: f64, f: &mut Findings) {
        let Some(days) = self.days else { return };
        let need = days * 86_400.0;
        if observed_secs + 1e-6 < need {
            f.short_observation(Msg::new(
                format!("観測期間 {} < 必要 {}", span(observed_secs), span(need)),
                format!("observed {} < required {}", span(observed_secs), span(need)),
            ));
        } else if let Some(standard) = self.standard.days.filter(|d| observed_secs + 1e-6 < d * 86_400.0) {
            self.shortened(f, &span(observed_secs), &span(standard * 86_400.0));
        }
    }

    /// Judge a sample count (e.g. requests of one operation) against the minimum.
    pub fn samples(&self, what: &str, observed: u64, f: &mut Findings) {
        let Some(need) = self.samples else { return };
        if observed < need {
            f.short_observation(Msg::new(format!("{what} {observed}件 < 必要 {need}件"), format!("{what}: {observed} samples < required {need}")));
        } else if let Some(standard) = self.standard.samples.filter(|s| observed < *s) {
            self.shortened(f, &format!("{what} {observed}件"), &format!("{standard}件"));
        }
    }

    /// Enough for the scenario's lowered minimum, not for the standard's: never
    /// 確認済 — 要確認 「観測期間短縮」 with the scenario's reason.
    fn shortened(&self, f: &mut Findings, observed: &str, standard: &str) {
        let reason = self.reason.as_deref().unwrap_or("-");
        f.short_observation(Msg::new(
            format!("観測期間短縮: {observed} / {standard}（シナリオで下限を変更: {reason}）"),
            format!("shortened observation: {observed} / {standard} (minimum lowered by the scenario: {reason})"),
        ));
    }
}

/// A minimum the scenario set below the standard's, for the reports' tally.
pub fn lowered(catalog: &crate::catalog::Catalog, scenario: &gcverify_scenarios::Scenario) -> Vec<crate::model::LoweredMinimum> {
    let mut out = Vec::new();
    for (id, o) in &scenario.observation {
        let Some(item) = catalog.get(id.get_ref()) else { continue };
        let Some(standard) = item.points.iter().find_map(|p| p.observation) else { continue };
        let lower_days = matches!((o.days, standard.days), (Some(s), Some(c)) if s < c);
        let lower_samples = matches!((o.samples, standard.samples), (Some(s), Some(c)) if s < c);
        if lower_days || lower_samples {
            out.push(crate::model::LoweredMinimum {
                item: item.id.clone(),
                scenario: describe(o.days, o.samples),
                standard: describe(standard.days, standard.samples),
                reason: o.reason.clone(),
            });
        }
    }
    out
}

fn describe(days: Option<f64>, samples: Option<u64>) -> String {
    let mut parts = Vec::new();
    if let Some(d) = days {
        parts.push(span(d * 86_400.0));
    }
    if let Some(n) = samples {
        parts.push(format!("{n} samples"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// "30 d", "5.0 h", "6 s".
fn span(secs: f64) -> String {
    if secs >= 86_400.0 {
        format!("{:.1} d", secs / 86_400.0)
    } else if secs >= 3_600.0 {
        format!("{:.1} h", secs / 3_600.0)
    } else if secs >= 60.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{secs:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;

    fn req(days: Option<f64>, samples: Option<u64>, reason: Option<&str>) -> Required {
        Required { days, samples, standard: MinObservation { days: Some(30.0), samples: Some(1000) }, reason: reason.map(str::to_string) }
    }

    fn ok_findings() -> Findings {
        let mut f = Findings::new();
        f.pass("x", None, "fine", "t");
        f
    }

    #[test]
    fn a_short_period_turns_ok_into_pending_and_says_what_was_observed() {
        let mut f = ok_findings();
        req(Some(30.0), None, None).period(6.0, &mut f);
        let c = f.conclude("3");
        assert_eq!(c.outcome, Outcome::Pending);
        assert!(c.summary.ja.contains("観測不足") && c.summary.ja.contains("観測期間 6 s < 必要 30.0 d"), "{}", c.summary.ja);
        assert!(c.achieved_level.is_none());
    }

    #[test]
    fn enough_observation_stays_ok_and_a_lowered_minimum_is_pending() {
        let mut f = ok_findings();
        req(Some(30.0), None, None).period(31.0 * 86_400.0, &mut f);
        assert_eq!(f.conclude("3").outcome, Outcome::Ok);

        // A minimum the scenario lowered is met, the standard's is not: 要確認, never 確認済.
        let mut f = ok_findings();
        req(Some(0.00005), None, Some("デモ: 数秒の記録")).period(6.0, &mut f);
        let c = f.conclude("3");
        assert_eq!(c.outcome, Outcome::Pending);
        assert!(c.summary.ja.contains("観測期間短縮: 6 s / 30.0 d（シナリオで下限を変更: デモ: 数秒の記録）"), "{}", c.summary.ja);
        assert!(c.achieved_level.is_none());

        let mut f = ok_findings();
        req(None, Some(20), Some("デモ")).samples("照会", 20, &mut f);
        let c = f.conclude("3");
        assert_eq!(c.outcome, Outcome::Pending);
        assert!(c.summary.ja.contains("観測期間短縮: 照会 20件 / 1000件"), "{}", c.summary.ja);
    }

    #[test]
    fn too_few_samples_is_pending_but_an_observed_violation_stays_ng() {
        let mut f = ok_findings();
        req(None, Some(1000), None).samples("住民票照会", 60, &mut f);
        let c = f.conclude("3");
        assert_eq!(c.outcome, Outcome::Pending);
        assert!(c.summary.en.contains("住民票照会: 60 samples < required 1000"), "{}", c.summary.en);

        let mut f = Findings::new();
        f.fail("住民票照会", None, "p95 4000 ms > 3000 ms", "t");
        req(None, Some(1000), None).samples("住民票照会", 60, &mut f);
        assert_eq!(f.conclude("3").outcome, Outcome::Ng);
    }

    #[test]
    fn no_minimum_declared_changes_nothing() {
        let mut f = ok_findings();
        req(None, None, None).period(1.0, &mut f);
        req(None, None, None).samples("a", 1, &mut f);
        assert_eq!(f.conclude("3").outcome, Outcome::Ok);
    }
}
