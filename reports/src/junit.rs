//! `junit.xml`: one test case per item, for CI systems (GitLab, Jenkins,
//! GitHub Actions reporters). NG is a failure, 検証不能 an error, 要確認 and
//! 対象外 are skipped with their reason, OK passes. A skipped case says which
//! it is three ways (CI systems show different parts): the property
//! `gcverify.outcome` (`PENDING` / `N/A`), `<skipped type=…>`, and the
//! message's prefix (「要確認: 」/「対象外: 」, `PENDING: `/`N/A: ` in English).

use std::fmt::Write as _;

use gcverify_checks::comparison::{ChangeKind, Comparison};
use gcverify_checks::model::{Lang, Outcome, RunReport};

/// The JUnit XML of a run.
pub fn render_junit(report: &RunReport, lang: Lang) -> String {
    let count = |o: Outcome| report.count(o);
    let secs = (report.finished_at - report.started_at).num_milliseconds().max(0) as f64 / 1000.0;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let name = format!("gcverify {} {} {}", report.municipality, report.system, report.environment);
    let compared = report.comparison.as_ref().map(|c| comparison_suite(c, &name, report, lang));
    let (c_tests, c_failures, c_errors) = compared.as_ref().map(|s| (s.tests, s.failures, s.errors)).unwrap_or_default();
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{secs:.3}\">",
        esc(&name),
        report.items.len() + c_tests,
        count(Outcome::Ng) + c_failures,
        count(Outcome::Error) + c_errors,
        count(Outcome::Pending) + count(Outcome::NotApplicable)
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{secs:.3}\" timestamp=\"{}\">",
        esc(&name),
        report.items.len(),
        count(Outcome::Ng),
        count(Outcome::Error),
        count(Outcome::Pending) + count(Outcome::NotApplicable),
        report.started_at.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let _ = writeln!(out, "    <properties>\n      <property name=\"run_id\" value=\"{}\"/>", esc(&report.run_id));
    if let Some(c) = &report.tool_commit {
        let _ = writeln!(out, "      <property name=\"tool_commit\" value=\"{}\"/>", esc(c));
    }
    out.push_str("    </properties>\n");
    for i in &report.items {
        let t = (i.finished_at - i.started_at).num_milliseconds().max(0) as f64 / 1000.0;
        let _ = write!(out, "    <testcase classname=\"{}\" name=\"{} {}\" time=\"{t:.3}\"", esc(&i.category), esc(&i.id), esc(&i.metric));
        let summary = esc(&crate::rows::readable(i.summary(lang)));
        let body = i
            .evidence
            .iter()
            .map(|e| {
                let id = e.id.as_deref().map(|n| format!("{n} ")).unwrap_or_default();
                let region = e.region.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                format!("{id}{} {}{region}: {}", e.status.label(lang), e.subject, crate::rows::readable(e.detail.get(lang)))
            })
            .collect::<Vec<_>>()
            .join("\n");
        match i.outcome {
            Outcome::Ok => out.push_str("/>\n"),
            Outcome::Ng => {
                // The message says what to change, too: GitLab shows it without opening the body.
                let summary = esc(&crate::remedy::appended(&crate::rows::readable(i.summary(lang)), i, lang));
                let body = crate::remedy::appended(&body, i, lang);
                let _ = writeln!(out, ">\n      <failure message=\"{summary}\" type=\"NG\">{}</failure>\n    </testcase>", esc(&body));
            }
            Outcome::Error => {
                let _ = writeln!(out, ">\n      <error message=\"{summary}\" type=\"ERROR\">{}</error>\n    </testcase>", esc(&body));
            }
            Outcome::Pending | Outcome::NotApplicable => {
                // Both are "skipped" to a CI system; the property and the type
                // (and the message's prefix) tell 要確認, which needs a person, from 対象外.
                let message = esc(&format!("{}: {}", i.outcome.label(lang), crate::rows::without_outcome(&crate::rows::readable(i.summary(lang)), i.outcome)));
                let _ = writeln!(
                    out,
                    ">\n      <properties><property name=\"gcverify.outcome\" value=\"{code}\"/></properties>\n      <skipped type=\"{code}\" message=\"{message}\"/>\n    </testcase>",
                    code = outcome_code(i.outcome)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
    if let Some(suite) = compared {
        out.push_str(&suite.xml);
    }
    out.push_str("</testsuites>\n");
    out
}

/// The 前回比 suite: a newly NG row fails, a newly 検証不能 row errs, other
/// changes pass with what changed; no change is one passing case. A CI
/// system then shows regressions apart from findings already known.
struct Suite {
    xml: String,
    tests: usize,
    failures: usize,
    errors: usize,
}

fn comparison_suite(c: &Comparison, name: &str, report: &RunReport, lang: Lang) -> Suite {
    let title = crate::compare::title(lang);
    let failures = c.count(ChangeKind::NewlyNg);
    let errors = c.count(ChangeKind::NewlyError);
    let tests = c.changes.len().max(1);
    let mut xml = String::new();
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{} {title}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"0.000\" timestamp=\"{}\">",
        esc(name),
        report.started_at.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let _ = writeln!(xml, "    <system-out>{}</system-out>", esc(&crate::compare::render_comparison(c, lang)));
    if c.changes.is_empty() {
        let _ = writeln!(xml, "    <testcase classname=\"{title}\" name=\"{}\" time=\"0.000\"/>", esc(&crate::compare::counts(c, lang)));
    }
    for ch in &c.changes {
        let case = format!("{} {}", ch.id, ch.metric);
        let message = esc(&format!("{}: {}", ch.kind.label(lang), crate::compare::transition(ch, lang)));
        let finding = esc(&crate::compare::finding(ch, lang));
        let _ = write!(xml, "    <testcase classname=\"{title}\" name=\"{}\" time=\"0.000\">", esc(&case));
        match ch.kind {
            ChangeKind::NewlyNg => {
                let _ = write!(xml, "\n      <failure message=\"{message}\" type=\"newly_ng\">{finding}</failure>\n    ");
            }
            ChangeKind::NewlyError => {
                let _ = write!(xml, "\n      <error message=\"{message}\" type=\"newly_error\">{finding}</error>\n    ");
            }
            _ => {
                let _ = write!(xml, "\n      <system-out>{message} — {finding}</system-out>\n    ");
            }
        }
        xml.push_str("</testcase>\n");
    }
    xml.push_str("  </testsuite>\n");
    Suite { xml, tests, failures, errors }
}

/// The outcome as the JSON and the CI property name it: `PENDING`, `N/A`, …
fn outcome_code(o: Outcome) -> &'static str {
    o.label(Lang::En)
}

/// XML text and attribute escaping; characters XML 1.0 forbids are dropped.
fn esc(s: &str) -> String {
    crate::markup::escape(s, crate::markup::Markup::Xml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample_report;

    #[test]
    fn one_case_per_item_with_failures_errors_and_skips_counted() {
        let mut report = sample_report();
        report.items[2].summary = "違反 <script>&\"x\"\u{1}".into();
        let xml = render_junit(&report, Lang::Ja);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).expect("suite");
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), 50);
        let n = |tag: &str| cases.iter().filter(|c| c.children().any(|k| k.has_tag_name(tag))).count();
        assert_eq!(n("failure"), report.count(Outcome::Ng));
        assert_eq!(n("error"), report.count(Outcome::Error));
        assert_eq!(n("skipped"), report.count(Outcome::Pending) + report.count(Outcome::NotApplicable));
        assert_eq!(suite.attribute("failures"), Some(report.count(Outcome::Ng).to_string().as_str()));
        assert_eq!(suite.attribute("errors"), Some(report.count(Outcome::Error).to_string().as_str()));
        // Text survives escaping as it was (minus the control character).
        let third = &cases[2];
        let msg = third.children().find(|k| k.is_element()).and_then(|k| k.attribute("message")).unwrap_or("");
        if report.items[2].outcome == Outcome::Ng {
            assert_eq!(msg, "違反 <script>&\"x\"");
        }
        assert!(cases[0].attribute("name").is_some_and(|s| s.starts_with(&report.items[0].id)));
        let run_id = suite.descendants().find(|n| n.has_tag_name("property") && n.attribute("name") == Some("run_id")).and_then(|n| n.attribute("value"));
        assert_eq!(run_id, Some(report.run_id.as_str()));
    }

    /// GitLab shows skipped cases alike: the property, the type and the
    /// prefix tell 要確認 (a person must look) from 対象外, once each.
    #[test]
    fn pending_and_not_applicable_are_told_apart_without_a_doubled_prefix() {
        let report = sample_report();
        for lang in [Lang::Ja, Lang::En] {
            let xml = render_junit(&report, lang);
            let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
            for (case, item) in doc.descendants().filter(|n| n.has_tag_name("testcase")).zip(&report.items) {
                let skipped = case.children().find(|k| k.has_tag_name("skipped"));
                let property = case
                    .descendants()
                    .find(|k| k.has_tag_name("property") && k.attribute("name") == Some("gcverify.outcome"))
                    .and_then(|k| k.attribute("value"));
                match item.outcome {
                    Outcome::Pending | Outcome::NotApplicable => {
                        let skipped = skipped.unwrap_or_else(|| panic!("{} is skipped", item.id));
                        let code = item.outcome.label(Lang::En);
                        assert_eq!(property, Some(code), "{}", item.id);
                        assert_eq!(skipped.attribute("type"), Some(code), "{}", item.id);
                        let message = skipped.attribute("message").unwrap_or("");
                        let label = item.outcome.label(lang);
                        assert!(message.starts_with(&format!("{label}: ")), "{message}");
                        assert_eq!(message.matches(label).count(), 1, "prefix once: {message}");
                    }
                    _ => assert!(skipped.is_none() && property.is_none(), "{}", item.id),
                }
            }
        }
        // The sample's 対象外 summaries start with 「対象外: 」 themselves.
        assert!(report.items.iter().any(|i| i.outcome == Outcome::NotApplicable && i.summary.starts_with("対象外: ")));
        assert_eq!(crate::rows::without_outcome("対象外: 対象外：理由", Outcome::NotApplicable), "理由");
        assert_eq!(crate::rows::without_outcome("要確認の理由", Outcome::Pending), "要確認の理由");
        assert_eq!(crate::rows::without_outcome("N/A: pilot", Outcome::NotApplicable), "pilot");
    }
}
