//! The terminal table.

use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::{Cell, ColumnConstraint, ContentArrangement, Table, Width};
use gcverify_checks::model::{Outcome, RunReport};

use crate::Lang;

fn headers(lang: Lang) -> [&'static str; 6] {
    match lang {
        Lang::Ja => ["項番", "小項目", "選択レベル", "種別", "結果", "事象"],
        Lang::En => ["ID", "Metric", "Level", "Kind", "Result", "Finding"],
    }
}

/// The outcome's colour and symbol from the one table (style.rs). The label
/// leads (`NG x`) so the column lines up and scripts matching `| NG ` still do.
fn outcome_cell(outcome: Outcome, lang: Lang, color: bool) -> Cell {
    let look = crate::style::look(outcome);
    let cell = Cell::new(format!("{} {}", outcome.label(lang), look.ascii));
    match look.term {
        Some(c) if color => cell.fg(c),
        _ => cell,
    }
}

/// Terminal table of the run: columns 項番, 小項目, 選択レベル, 種別, 結果, 事象
/// (ID, Metric, Level, Kind, Result, Finding in English), one row per item in
/// report order, followed by a one-line tally of the outcomes.
///
/// `width` is the width to wrap to. With `None` comfy-table decides: it
/// wraps to the terminal when stdout is one and does not limit the width
/// otherwise. `color` colours the result cell with ANSI escapes (OK green,
/// NG red, ERROR/PENDING yellow), whether or not stdout is a terminal; with
/// `false` the output contains no escapes.
pub fn render_table(report: &RunReport, lang: Lang, width: Option<u16>, color: bool) -> String {
    render_table_with(report, lang, width, color, false)
}

/// As [`render_table`]; with `detail`, one line per 確認観点 under its row
/// (its id, verifier, outcome, text and 事象).
pub fn render_table_with(report: &RunReport, lang: Lang, width: Option<u16>, color: bool, detail: bool) -> String {
    let mut table = Table::new();
    table.load_preset(ASCII_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = width {
        table.set_width(w);
    }
    if color {
        table.enforce_styling();
    }
    table.set_header(headers(lang));
    for item in &report.items {
        let result = outcome_cell(item.outcome, lang, color);
        table.add_row(vec![
            Cell::new(&item.id),
            Cell::new(&item.metric),
            Cell::new(&item.selected_level),
            Cell::new(item.kind.label(lang)),
            result,
            Cell::new(crate::remedy::appended(item.summary(lang), item, lang)),
        ]);
        if !detail {
            continue;
        }
        for p in &item.points {
            let outcome = outcome_cell(p.outcome, lang, color);
            table.add_row(vec![
                Cell::new(""),
                Cell::new(format!("└ {}", p.id)),
                Cell::new(""),
                Cell::new(p.verifier_label(lang)),
                outcome,
                Cell::new(format!("{}: {}", p.text(lang), p.summary(lang))),
            ]);
        }
    }
    // ID, level, kind and result never wrap; metric and finding share the rest.
    for idx in [0, 2, 3, 4] {
        if let Some(col) = table.column_mut(idx) {
            col.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    // Leave most of a narrow terminal to the finding, not the metric name.
    if let Some(col) = table.column_mut(1) {
        col.set_constraint(ColumnConstraint::UpperBoundary(Width::Percentage(30)));
    }
    let lowered = crate::lowered_minimums(report, lang).map(|l| format!("{l}\n")).unwrap_or_default();
    let mut out = format!("{table}\n{lowered}{}", crate::tally(report, lang));
    if let Some(c) = &report.comparison {
        out.push_str("\n\n");
        out.push_str(crate::compare::render_comparison(c, lang).trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample_report;

    fn count(report: &RunReport, o: Outcome) -> usize {
        report.items.iter().filter(|i| i.outcome == o).count()
    }

    /// Rows of the rendered table whose first cell is an item ID, in order.
    fn ids_in_rows(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix('|'))
            .filter_map(|l| l.split('|').next())
            .map(|c| c.trim().to_string())
            .filter(|c| c.split('.').count() == 4)
            .collect()
    }

    #[test]
    fn japanese_table_lists_every_item_with_japanese_labels() {
        let report = sample_report();
        let text = render_table(&report, Lang::Ja, None, false);
        let ids: Vec<String> = report.items.iter().map(|i| i.id.clone()).collect();
        assert_eq!(ids.len(), 50);
        assert_eq!(ids_in_rows(&text), ids);
        for h in ["項番", "小項目", "選択レベル", "種別", "結果", "事象"] {
            assert!(text.contains(h), "missing header {h}");
        }
        for label in ["OK", "NG", "検証不能", "対象外", "要確認", "実機", "机上"] {
            assert!(text.contains(label), "missing {label}");
        }
        assert!(!text.contains("PENDING") && !text.contains("Finding"));
        assert!(!text.contains('\x1b'), "no colour requested");
        let last = text.lines().last().expect("tally line");
        let expected = format!(
            "OK {} / NG {} / 検証不能 {} / 対象外 {} / 要確認 {}",
            count(&report, Outcome::Ok),
            count(&report, Outcome::Ng),
            count(&report, Outcome::Error),
            count(&report, Outcome::NotApplicable),
            count(&report, Outcome::Pending)
        );
        assert_eq!(last, expected);
        // Each row carries its own result label.
        for item in &report.items {
            let row = text.lines().find(|l| l.starts_with(&format!("| {} ", item.id))).unwrap_or_else(|| panic!("row for {}", item.id));
            assert!(row.contains(item.outcome.label(Lang::Ja)), "{row}");
        }
    }

    #[test]
    fn english_table_uses_english_headers_labels_and_summaries() {
        let report = sample_report();
        let text = render_table(&report, Lang::En, Some(400), false);
        for h in ["ID", "Metric", "Level", "Kind", "Result", "Finding"] {
            assert!(text.contains(h), "missing header {h}");
        }
        for label in ["ERROR", "N/A", "PENDING", "system", "desk"] {
            assert!(text.contains(label), "missing {label}");
        }
        assert!(!text.contains("検証不能") && !text.contains("要確認"));
        assert!(text.contains("finding 0 for "));
        assert_eq!(ids_in_rows(&text).len(), 50);
        let last = text.lines().last().expect("tally line");
        assert!(last.starts_with("OK ") && last.contains(" / ERROR ") && last.contains(" / PENDING "), "{last}");
    }

    #[test]
    fn detail_adds_one_line_per_point() {
        let report = sample_report();
        let plain = render_table(&report, Lang::Ja, Some(400), false);
        let detailed = render_table_with(&report, Lang::Ja, Some(400), false, true);
        assert!(!plain.contains("└ probe-point"));
        assert!(detailed.contains("└ probe-point") && detailed.contains("└ desk-point"), "{detailed}");
        let desk = detailed.lines().find(|l| l.contains("└ desk-point")).expect("desk line");
        assert!(desk.contains("机上") && desk.contains("要確認") && desk.contains("手順書を確認"), "{desk}");
    }

    #[test]
    fn width_wraps_the_table_and_color_adds_escapes() {
        let report = sample_report();
        let wide = render_table(&report, Lang::Ja, Some(400), false);
        let narrow = render_table(&report, Lang::Ja, Some(100), false);
        let display_width = |l: &str| l.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>();
        let table_lines = |t: &str| t.lines().filter(|l| l.starts_with('|') || l.starts_with('+')).map(display_width).max();
        assert!(table_lines(&wide).unwrap_or(0) > 100, "unwrapped table is wider than 100");
        assert!(table_lines(&narrow).unwrap_or(usize::MAX) <= 100, "wrapped to 100 columns");
        assert!(narrow.lines().count() > wide.lines().count());
        assert_eq!(ids_in_rows(&narrow).len(), 50);

        let coloured = render_table(&report, Lang::Ja, Some(120), true);
        let row_of = |o: Outcome| {
            let item = report.items.iter().find(|i| i.outcome == o).expect("outcome present");
            coloured.lines().find(|l| l.starts_with(&format!("| {} ", item.id))).expect("row").to_string()
        };
        for o in [Outcome::Ok, Outcome::Ng, Outcome::Error, Outcome::Pending] {
            assert!(row_of(o).contains("\x1b["), "{o:?} result is coloured");
        }
        assert!(!row_of(Outcome::NotApplicable).contains("\x1b["), "N/A is not coloured");
    }
}
