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
        }
        self.note(f);
    }

    /// Judge a sample count (e.g. requests of one operation) against the minimum.
    pub fn samples(&self, what: &str, observed: u64, f: &mut Findings) {
        let Some(need) = self.samples else { return };
        if observed < need {
            f.short_observation(Msg::new(format!("{what} {observed}件 < 必要 {need}件"), format!("{what}: {observed} samples < required {need}")));
        }
        self.note(f);
    }

    /// The scenario's own minimum is stated with the result, so an OK on a short run says so.
    fn note(&self, f: &mut Findings) {
        let Some(reason) = &self.reason else { return };
        let standard = describe(self.standard.days, self.standard.samples);
        let used = describe(self.days, self.samples);
        f.observation_note(Msg::new(
            format!("観測下限はシナリオ指定 {used}（標準 {standard}）: {reason}"),
            format!("minimum observation set by the scenario to {used} (standard {standard}): {reason}"),
        ));
    }
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
    fn enough_observation_stays_ok_and_a_scenario_minimum_is_stated() {
        let mut f = ok_findings();
        req(Some(30.0), None, None).period(31.0 * 86_400.0, &mut f);
        assert_eq!(f.conclude("3").outcome, Outcome::Ok);

        let mut f = ok_findings();
        req(Some(0.00005), None, Some("デモ: 数秒の記録")).period(6.0, &mut f);
        let c = f.conclude("3");
        assert_eq!(c.outcome, Outcome::Ok);
        assert!(c.summary.ja.contains("観測下限はシナリオ指定 4 s（標準 30.0 d, 1000 samples）: デモ: 数秒の記録"), "{}", c.summary.ja);
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
