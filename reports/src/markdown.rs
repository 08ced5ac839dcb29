//! `検証結果.md`: the 検証結果 table as GitHub/GitLab-flavoured Markdown (one
//! row per item), then the observations behind every NG and 検証不能 row, so
//! that a merge request, a wiki or an issue can carry the run as it is.

use std::fmt::Write as _;

use gcverify_checks::model::{ItemResult, Lang, Outcome, RunReport};

use crate::provenance::Stamp;
use crate::rows::readable;
use crate::{jst_minute, tally};

/// The Markdown report, in `lang`.
pub fn render_markdown(report: &RunReport, lang: Lang) -> String {
    render_markdown_with(report, lang, &Stamp::default())
}

/// As [`render_markdown`], with the run's result.json digest in its provenance.
pub(crate) fn render_markdown_with(report: &RunReport, lang: Lang, stamp: &Stamp) -> String {
    let ja = lang == Lang::Ja;
    let mut out = String::new();
    let title = if ja { "検証結果" } else { "Verification results" };
    let _ = writeln!(out, "# {title}: {} {} ({})\n", cell(&report.municipality), cell(&report.system), cell(&report.environment));
    let _ = writeln!(
        out,
        "{} {} – {} JST · gcverify {} · {} `{}`\n",
        if ja { "実行" } else { "Run" },
        jst_minute(report.started_at),
        jst_minute(report.finished_at),
        report.tool_version,
        if ja { "実行ID" } else { "run ID" },
        cell(&report.run_id)
    );
    let _ = writeln!(out, "**{}**\n", tally(report, lang));
    // Provenance: what an auditor cross-checks with the xlsx's cover.
    header_row(&mut out, &if ja { ["来歴", "値"] } else { ["Provenance", "Value"] });
    for f in crate::provenance::facts(report, stamp) {
        let _ = writeln!(out, "| {} | {} |", f.label(lang), cell(f.value(lang)));
    }
    out.push('\n');
    if let Some(c) = &report.comparison {
        comparison(&mut out, c, lang);
    }
    header_row(&mut out, &if ja { ["項番", "小項目", "選択レベル", "種別", "結果", "事象"] } else { ["ID", "Metric", "Level", "Kind", "Result", "Finding"] });
    for i in &report.items {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            i.id,
            cell(&i.metric),
            cell(&i.selected_level),
            cell(i.kind.label(lang)),
            mark(i.outcome, lang),
            cell(&readable(i.summary(lang)))
        );
    }
    let troubled: Vec<&ItemResult> = report.items.iter().filter(|i| matches!(i.outcome, Outcome::Ng | Outcome::Error)).collect();
    if !troubled.is_empty() {
        let _ = writeln!(out, "\n## {}\n", if ja { "NG・検証不能の詳細" } else { "NG and ERROR details" });
        for i in troubled {
            let _ = writeln!(out, "### {} {} — {}\n", i.id, cell(&i.metric), crate::style::marked(i.outcome, lang));
            let _ = writeln!(out, "{}\n", cell(&readable(i.summary(lang))));
            for (label, text) in [
                (if ja { "原因" } else { "Cause" }, crate::rows::cause(i, lang)),
                (if ja { "考察・分析" } else { "Analysis" }, crate::rows::analysis(i, lang)),
                (crate::remedy::label(lang), crate::remedy::text(i, lang)),
            ] {
                if !text.is_empty() {
                    let _ = writeln!(out, "**{label}**: {}\n", cell(&text));
                }
            }
            for e in &i.evidence {
                let region = e.region.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                let id = e.id.as_deref().map(|n| format!("{n} ")).unwrap_or_default();
                let detail = readable(e.detail.get(lang));
                let _ = writeln!(out, "- {id}{} `{}`{region}: {} — {}", e.status.label(lang), cell(&e.subject), cell(&detail), cell(&e.source));
            }
            out.push('\n');
        }
    }
    for w in &report.warnings {
        let _ = writeln!(out, "> {}", cell(if ja { &w.ja } else { &w.en }));
    }
    if let Some(l) = crate::lowered_minimums(report, lang) {
        let _ = writeln!(out, "\n{l}");
    }
    out
}

/// 前回比 before the table: what a nightly reader looks for first.
pub(crate) fn comparison(out: &mut String, c: &gcverify_checks::comparison::Comparison, lang: Lang) {
    let _ = writeln!(out, "## {}: {}\n", crate::compare::title(lang), crate::compare::counts(c, lang));
    let _ = writeln!(out, "{}\n", cell(&crate::compare::baseline_line(c, lang)));
    for n in &c.notes {
        let _ = writeln!(out, "> {}\n", cell(n.get(lang)));
    }
    if c.changes.is_empty() {
        return;
    }
    header_row(out, &if lang == Lang::Ja { ["項番", "小項目", "変化", "結果", "事象"] } else { ["ID", "Metric", "Change", "Result", "Finding"] });
    for ch in &c.changes {
        let _ = writeln!(
            out,
            "| {} | {} | **{}** | {} | {} |",
            ch.id,
            cell(&ch.metric),
            ch.kind.label(lang),
            crate::compare::transition(ch, lang),
            cell(&crate::compare::finding(ch, lang))
        );
    }
    out.push('\n');
}

/// A table's header and its `|---|` line.
fn header_row(out: &mut String, names: &[&str]) {
    let _ = writeln!(out, "| {} |", names.join(" | "));
    let _ = writeln!(out, "|{}|", names.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
}

/// The outcome with its symbol (style.rs), bold when it needs attention.
fn mark(o: Outcome, lang: Lang) -> String {
    match o {
        Outcome::Ng | Outcome::Error => format!("**{}**", crate::style::marked(o, lang)),
        _ => crate::style::marked(o, lang),
    }
}

/// Text made safe inside a table cell: pipes escaped, line breaks as `<br>`.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace("\r\n", "\n").replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample_report;

    #[test]
    fn fifty_rows_and_details_for_every_ng_and_error_row() {
        let report = sample_report();
        let md = render_markdown(&report, Lang::Ja);
        let table: Vec<&str> = md.lines().skip_while(|l| !l.starts_with("| 項番")).take_while(|l| l.starts_with('|')).collect();
        let rows = table.iter().filter(|l| l.starts_with("| ") && !l.starts_with("| 項番")).count();
        assert_eq!(rows, 50, "{md}");
        // Every table row has exactly the header's 6 cells (7 unescaped pipes).
        for l in table.iter().filter(|l| l.starts_with("| ")) {
            let pipes = l.match_indices('|').filter(|(i, _)| *i == 0 || &l[i - 1..*i] != "\\").count();
            assert_eq!(pipes, 7, "{l}");
        }
        let troubled = report.items.iter().filter(|i| matches!(i.outcome, Outcome::Ng | Outcome::Error)).count();
        assert!(troubled > 0);
        assert_eq!(md.matches("\n### ").count(), troubled, "{md}");
        assert!(md.contains("**× NG**") && md.contains("**! 検証不能**"), "{md}");
        assert!(md.contains(&tally(&report, Lang::Ja)));
        assert!(md.contains(&format!("実行ID `{}`", report.run_id)), "{md}");
        assert!(md.contains("- E-0"), "evidence cited by number: {md}");
    }

    #[test]
    fn english_and_cells_that_would_break_the_table() {
        let mut report = sample_report();
        report.items[0].summary_en = "a | b\nsecond line".into();
        let md = render_markdown(&report, Lang::En);
        assert!(md.starts_with("# Verification results:"), "{md}");
        assert!(md.contains("a \\| b<br>second line"), "{md}");
        assert!(md.contains("| ID | Metric | Level | Kind | Result | Finding |"));
    }
}
