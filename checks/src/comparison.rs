//! 前回比: what changed between two runs of one environment — rows newly NG,
//! fixed, newly 検証不能, with another outcome, or with a changed 事象 — so a
//! nightly run can say "what is new since last night" and fail on regressions
//! only (`--fail-on new-ng`).
//!
//! 事象 are compared with every token holding a digit masked: ports of a
//! local emulator, durations, percentages and generated IDs differ between
//! runs that observed the same thing. The 確認観点' outcomes are compared
//! exactly, so a point that turns NG is a change even when the text is alike.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{exit_code, Msg, Outcome, RunReport};

/// One comparison of a run with its baseline, as recorded in the run's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The run compared with; `None` when there was none (the first run): then
    /// every NG and 検証不能 row counts as new, so a first night cannot pass
    /// `--fail-on new-ng` with findings nobody has seen.
    pub baseline: Option<Baseline>,
    /// Rows that changed, in the current run's row order (rows only in the
    /// baseline last).
    pub changes: Vec<Change>,
    /// Said with the comparison: e.g. the baseline is of another environment.
    pub notes: Vec<Msg>,
}

/// The run a comparison is against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub run_id: String,
    pub environment: String,
    pub started_at: DateTime<Utc>,
    /// Where it was read from (relative to the working directory when under it).
    pub source: String,
}

/// How a row changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// NG now, not NG before (or not run before).
    NewlyNg,
    /// 検証不能 now, not before.
    NewlyError,
    /// NG or 検証不能 before, OK now.
    Fixed,
    /// Another outcome change (e.g. OK → 要確認, NG → 対象外).
    OutcomeChanged,
    /// The same outcome (NG, 検証不能 or 要確認) with another 事象 or 確認観点 outcomes.
    FindingChanged,
    /// Run before, not this time (e.g. another `--only`).
    NotRun,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 6] =
        [ChangeKind::NewlyNg, ChangeKind::NewlyError, ChangeKind::Fixed, ChangeKind::OutcomeChanged, ChangeKind::FindingChanged, ChangeKind::NotRun];

    pub fn label(self, lang: crate::model::Lang) -> &'static str {
        use crate::model::Lang::*;
        match (self, lang) {
            (ChangeKind::NewlyNg, Ja) => "新たにNG",
            (ChangeKind::NewlyNg, En) => "newly NG",
            (ChangeKind::NewlyError, Ja) => "新たに検証不能",
            (ChangeKind::NewlyError, En) => "newly ERROR",
            (ChangeKind::Fixed, Ja) => "解消",
            (ChangeKind::Fixed, En) => "fixed",
            (ChangeKind::OutcomeChanged, Ja) => "結果の変化",
            (ChangeKind::OutcomeChanged, En) => "outcome changed",
            (ChangeKind::FindingChanged, Ja) => "事象の変化",
            (ChangeKind::FindingChanged, En) => "finding changed",
            (ChangeKind::NotRun, Ja) => "今回未実施",
            (ChangeKind::NotRun, En) => "not run this time",
        }
    }
}

/// One row that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: String,
    pub metric: String,
    pub kind: ChangeKind,
    /// `None`: the row was not in that run.
    pub before: Option<Outcome>,
    pub after: Option<Outcome>,
    /// 事象 before and now (ja, en); `None` where the row was not run.
    pub before_summary: Option<Msg>,
    pub after_summary: Option<Msg>,
}

impl Comparison {
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// `--fail-on new-ng`: 1 when a row is newly NG, 2 when one is newly
    /// 検証不能 (an expired credential must not make a green night), else 0.
    pub fn exit_code(&self) -> i32 {
        if self.count(ChangeKind::NewlyNg) > 0 {
            exit_code::NG
        } else if self.count(ChangeKind::NewlyError) > 0 {
            exit_code::INCOMPLETE
        } else {
            exit_code::ALL_OK
        }
    }
}

/// `current` compared with `baseline` (`None`: no earlier run).
pub fn compare(baseline: Option<(&RunReport, String)>, current: &RunReport) -> Comparison {
    compare_in_history(baseline, &[], current)
}

/// As [`compare`], with the runs before the baseline (`earlier`, newest
/// first, e.g. from the history): a row NG in the baseline that is back now to
/// the outcome it had before its NG is 「解消」 — 検証不能 → NG → 検証不能 is a
/// fix, not 「新たに検証不能」, so `--fail-on new-ng` never fails on one.
/// Without that history the step alone decides (NG → 検証不能 stays new:
/// an expired credential must not hide an NG).
pub fn compare_in_history(baseline: Option<(&RunReport, String)>, earlier: &[&RunReport], current: &RunReport) -> Comparison {
    let before: BTreeMap<&str, &crate::model::ItemResult> =
        baseline.as_ref().map(|(b, _)| b.items.iter().map(|i| (i.id.as_str(), i)).collect()).unwrap_or_default();
    let mut changes = Vec::new();
    for now in &current.items {
        let was = before.get(now.id.as_str()).copied();
        let kind = match was {
            None => match now.outcome {
                Outcome::Ng => Some(ChangeKind::NewlyNg),
                Outcome::Error => Some(ChangeKind::NewlyError),
                // A row not run before that is fine now is not news.
                _ => None,
            },
            Some(was) => match classify(was, now) {
                Some(ChangeKind::NewlyError | ChangeKind::OutcomeChanged)
                    if was.outcome == Outcome::Ng && before_its_ng(earlier, &now.id) == Some(now.outcome) =>
                {
                    Some(ChangeKind::Fixed)
                }
                kind => kind,
            },
        };
        if let Some(kind) = kind {
            changes.push(Change {
                id: now.id.clone(),
                metric: now.metric.clone(),
                kind,
                before: was.map(|w| w.outcome),
                after: Some(now.outcome),
                before_summary: was.map(|w| Msg::new(w.summary.clone(), w.summary_en.clone())),
                after_summary: Some(Msg::new(now.summary.clone(), now.summary_en.clone())),
            });
        }
    }
    if let Some((b, _)) = &baseline {
        for was in b.items.iter().filter(|w| !current.items.iter().any(|i| i.id == w.id)) {
            changes.push(Change {
                id: was.id.clone(),
                metric: was.metric.clone(),
                kind: ChangeKind::NotRun,
                before: Some(was.outcome),
                after: None,
                before_summary: Some(Msg::new(was.summary.clone(), was.summary_en.clone())),
                after_summary: None,
            });
        }
    }
    let mut notes = Vec::new();
    match &baseline {
        None => notes.push(Msg::new(
            "比較対象の前回結果なし（初回）: NG・検証不能の行はすべて新規として扱う",
            "no earlier run to compare with (first run): every NG and ERROR row counts as new",
        )),
        Some((b, _)) if b.environment != current.environment => notes.push(Msg::new(
            format!("前回結果は別の環境（{}）のもの: 環境の違いも変化に表れる", b.environment),
            format!("the baseline is of another environment ({}): differences between the environments show as changes", b.environment),
        )),
        Some(_) => {}
    }
    if let Some((b, _)) = &baseline {
        if !b.catalog.sha256.is_empty() && !current.catalog.sha256.is_empty() && b.catalog.sha256 != current.catalog.sha256 {
            notes.push(Msg::new(
                "前回結果とカタログ（確認観点・判定）が異なる: 変化にはカタログの変更によるものを含む",
                "the baseline was judged with another catalog: some changes may come from the catalog, not the system",
            ));
        }
    }
    Comparison {
        baseline: baseline.map(|(b, source)| Baseline { run_id: b.run_id.clone(), environment: b.environment.clone(), started_at: b.started_at, source }),
        changes,
        notes,
    }
}

/// The row's outcome in the newest of `earlier` where it was not NG (`None`:
/// NG as far back as known, or not run).
fn before_its_ng(earlier: &[&RunReport], id: &str) -> Option<Outcome> {
    for run in earlier {
        match run.items.iter().find(|i| i.id == id).map(|i| i.outcome) {
            Some(Outcome::Ng) => continue,
            other => return other,
        }
    }
    None
}

fn classify(was: &crate::model::ItemResult, now: &crate::model::ItemResult) -> Option<ChangeKind> {
    use Outcome::*;
    if was.outcome != now.outcome {
        return Some(match (was.outcome, now.outcome) {
            (_, Ng) => ChangeKind::NewlyNg,
            (_, Error) => ChangeKind::NewlyError,
            (Ng | Error, Ok) => ChangeKind::Fixed,
            _ => ChangeKind::OutcomeChanged,
        });
    }
    if !matches!(now.outcome, Ng | Error | Pending) {
        return None;
    }
    let points = |i: &crate::model::ItemResult| i.points.iter().map(|p| (p.id.clone(), p.outcome)).collect::<BTreeMap<_, _>>();
    let changed = masked(&was.summary) != masked(&now.summary) || points(was) != points(now);
    changed.then_some(ChangeKind::FindingChanged)
}

/// The 事象 with every token (a run of letters and digits) that holds a digit
/// replaced by `#`: `vol-0ab12 ほか3件 (127.0.0.1:4566)` → `vol-# ほか#件 (#.#.#.#:#)`.
pub fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.chars().any(|c| c.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testutil::{item, report};

    #[test]
    fn masking_ignores_numbers_ports_and_generated_ids_but_not_words() {
        assert_eq!(masked("vol-0ab12 ほか3件 (127.0.0.1:4566)"), "vol-# ほか#件 (#.#.#.#:#)");
        assert_eq!(masked("p95 2.9 s"), "# #.# s");
        assert_eq!(masked("AccessDenied"), "AccessDenied");
        assert_ne!(masked("AccessDenied: ec2:DescribeVolumes"), masked("timeout: ec2:DescribeVolumes"));
    }

    #[test]
    fn the_same_run_twice_compares_empty() {
        let a = report(vec![
            item("A", Outcome::Ok, "12件暗号化"),
            item("B", Outcome::Error, "応答なし (127.0.0.1:4001)"),
            item("C", Outcome::Ng, "vol-01 未暗号化"),
        ]);
        let mut b = a.clone();
        b.items[1].summary = "応答なし (127.0.0.1:5123)".into();
        b.items[2].summary = "vol-07 未暗号化".into();
        let c = compare(Some((&a, "h.json".into())), &b);
        assert!(c.is_empty(), "{c:?}");
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        assert_eq!(c.exit_code(), 0);
        assert_eq!(c.baseline.as_ref().map(|x| x.source.as_str()), Some("h.json"));
    }

    #[test]
    fn every_kind_of_change_is_told_apart() {
        let before = report(vec![
            item("ng", Outcome::Ok, ""),
            item("err", Outcome::Ok, ""),
            item("fix", Outcome::Ng, "x"),
            item("chg", Outcome::Ok, ""),
            item("text", Outcome::Ng, "未暗号化"),
            item("gone", Outcome::Ok, ""),
            item("same", Outcome::Ng, "x"),
        ]);
        let after = report(vec![
            item("ng", Outcome::Ng, "未暗号化"),
            item("err", Outcome::Error, "AccessDenied"),
            item("fix", Outcome::Ok, ""),
            item("chg", Outcome::Pending, "署名なし"),
            item("text", Outcome::Ng, "公開されている"),
            item("same", Outcome::Ng, "x"),
            item("new", Outcome::Ng, "y"),
        ]);
        let c = compare(Some((&before, String::new())), &after);
        let kinds: Vec<(&str, ChangeKind)> = c.changes.iter().map(|x| (x.id.as_str(), x.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("ng", ChangeKind::NewlyNg),
                ("err", ChangeKind::NewlyError),
                ("fix", ChangeKind::Fixed),
                ("chg", ChangeKind::OutcomeChanged),
                ("text", ChangeKind::FindingChanged),
                ("new", ChangeKind::NewlyNg),
                ("gone", ChangeKind::NotRun),
            ]
        );
        assert_eq!(c.exit_code(), exit_code::NG);
        assert_eq!(c.changes[0].before, Some(Outcome::Ok));
        assert_eq!(c.changes[6].after, None);
    }

    /// The row's history decides: back to the state before its NG is a fix.
    #[test]
    fn a_row_back_to_its_state_before_the_ng_is_fixed() {
        let night = |o: Outcome| report(vec![item("E.6.1.2", o, "")]);
        for (first, planted, removed) in
            [(Outcome::Error, Outcome::Ng, Outcome::Error), (Outcome::Ok, Outcome::Ng, Outcome::Ok), (Outcome::Pending, Outcome::Ng, Outcome::Pending)]
        {
            let (n1, n2, n3) = (night(first), night(planted), night(removed));
            let c = compare_in_history(Some((&n2, String::new())), &[&n1], &n3);
            assert_eq!(c.changes.iter().map(|x| x.kind).collect::<Vec<_>>(), [ChangeKind::Fixed], "{first:?} → NG → {removed:?}");
            assert_eq!(c.exit_code(), exit_code::ALL_OK, "{first:?} → NG → {removed:?}: a fix never fails --fail-on new-ng");
            assert_eq!(ChangeKind::Fixed.label(crate::model::Lang::Ja), "解消");
            // Several NG nights in a row: the state before the first of them counts.
            let c = compare_in_history(Some((&n2, String::new())), &[&n2, &n2, &n1], &n3);
            assert_eq!(c.changes.iter().map(|x| x.kind).collect::<Vec<_>>(), [ChangeKind::Fixed]);
        }
        // OK → NG → 検証不能 is not back where it was: still newly 検証不能 (the NG may be hidden).
        let c = compare_in_history(Some((&night(Outcome::Ng), String::new())), &[&night(Outcome::Ok)], &night(Outcome::Error));
        assert_eq!(c.changes.iter().map(|x| x.kind).collect::<Vec<_>>(), [ChangeKind::NewlyError]);
        // No history: the step alone, as before.
        let c = compare(Some((&night(Outcome::Ng), String::new())), &night(Outcome::Error));
        assert_eq!(c.changes.iter().map(|x| x.kind).collect::<Vec<_>>(), [ChangeKind::NewlyError]);
    }

    #[test]
    fn a_point_turning_ng_under_the_same_text_is_a_change() {
        let before = report(vec![item("a", Outcome::Ng, "2件")]);
        let mut after = before.clone();
        before.items[0].points.first().expect("a point");
        after.items[0].points[0].outcome = Outcome::Ok;
        let c = compare(Some((&before, String::new())), &after);
        assert_eq!(c.changes.iter().map(|x| x.kind).collect::<Vec<_>>(), [ChangeKind::FindingChanged]);
    }

    #[test]
    fn a_first_run_counts_every_ng_and_error_as_new_and_says_so() {
        let now = report(vec![item("a", Outcome::Ok, ""), item("b", Outcome::Error, "denied"), item("c", Outcome::Pending, "")]);
        let c = compare(None, &now);
        assert_eq!(c.changes.iter().map(|x| (x.id.as_str(), x.kind)).collect::<Vec<_>>(), [("b", ChangeKind::NewlyError)]);
        assert_eq!(c.exit_code(), exit_code::INCOMPLETE, "newly 検証不能 is not a pass");
        assert!(c.baseline.is_none());
        assert!(c.notes[0].ja.contains("初回"));
    }

    #[test]
    fn another_environment_or_catalog_is_noted() {
        let mut a = report(vec![item("a", Outcome::Ok, "")]);
        a.catalog.sha256 = "one".into();
        let mut b = a.clone();
        b.environment = "stg".into();
        b.catalog.sha256 = "other".into();
        let c = compare(Some((&a, String::new())), &b);
        assert!(c.is_empty());
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
    }
}
