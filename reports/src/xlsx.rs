//! `検証結果.xlsx`: the 検証結果 table, the evidence behind it, and a summary.

use std::path::Path;

use anyhow::Context as _;
use gcverify_checks::catalog::{Catalog, Item, Kind};
use gcverify_checks::model::{EvidenceStatus, ItemResult, Outcome, RunReport};
use rust_xlsxwriter::{Color, Format as XFormat, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::{jst_minute, jst_month, jst_second, Lang, OUTCOMES};

/// Sheet names.
pub(crate) const RESULTS_SHEET: &str = "検証結果";
pub(crate) const EVIDENCE_SHEET: &str = "証跡";
pub(crate) const SUMMARY_SHEET: &str = "概要";
pub(crate) const POINTS_SHEET: &str = "確認観点";

/// Columns of the 確認観点 sheet with their widths.
pub(crate) const POINT_COLUMNS: [(&str, f64); 7] =
    [("項番", 10.0), ("観点ID", 16.0), ("確認観点", 50.0), ("参照（同 No.N）", 36.0), ("検証手段", 24.0), ("結果", 9.0), ("事象", 60.0)];

/// Columns of the 検証結果 sheet with their widths (in characters).
pub(crate) const RESULT_COLUMNS: [(&str, f64); 17] = [
    ("項番", 10.0),
    ("大項目", 12.0),
    ("中項目", 14.0),
    ("小項目", 20.0),
    ("メトリクス説明", 50.0),
    ("選択レベル", 22.0),
    ("検証実施有無", 8.0),
    ("検証事項", 36.0),
    ("検証範囲", 18.0),
    ("種別", 6.0),
    ("方法", 36.0),
    ("開始月", 11.0),
    ("終了月", 11.0),
    ("結果", 9.0),
    ("事象", 60.0),
    ("実現したレベル", 9.0),
    ("達成", 6.0),
];

/// Columns of the 証跡 sheet with their widths.
pub(crate) const EVIDENCE_COLUMNS: [(&str, f64); 7] =
    [("項番", 10.0), ("状態", 7.0), ("対象", 50.0), ("リージョン", 16.0), ("観測内容", 60.0), ("取得元", 30.0), ("観測時刻 (JST)", 20.0)];

/// Row of the 検証結果 sheet's header (row 0 is the title).
const HEADER_ROW: u32 = 1;
/// Column index of 小項目; panes freeze to its right.
const METRIC_COL: u16 = 3;
/// Column index of 結果.
const RESULT_COL: u16 = 13;

/// Cell formats shared by the sheets.
struct Styles {
    title: XFormat,
    header: XFormat,
    cell: XFormat,
    center: XFormat,
    ok: XFormat,
    ng: XFormat,
    warn: XFormat,
    na: XFormat,
    label: XFormat,
    number: XFormat,
}

impl Styles {
    fn new() -> Self {
        let cell = XFormat::new().set_text_wrap().set_align(FormatAlign::Top).set_border(FormatBorder::Thin).set_border_color(Color::RGB(0xBFBFBF));
        let center = cell.clone().set_align(FormatAlign::Center);
        let filled = |fill: u32, font: u32| center.clone().set_background_color(Color::RGB(fill)).set_font_color(Color::RGB(font));
        Styles {
            title: XFormat::new().set_bold().set_font_size(14).set_align(FormatAlign::VerticalCenter),
            header: XFormat::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border(FormatBorder::Thin),
            // Excel's Good / Bad / Neutral palettes, and a plain grey.
            ok: filled(0xC6EFCE, 0x006100).set_bold(),
            ng: filled(0xFFC7CE, 0x9C0006).set_bold(),
            warn: filled(0xFFEB9C, 0x9C5700),
            na: filled(0xD9D9D9, 0x404040),
            label: cell.clone().set_bold().set_background_color(Color::RGB(0xDDEBF7)),
            number: cell.clone().set_align(FormatAlign::Right),
            center,
            cell,
        }
    }

    fn outcome(&self, outcome: Outcome) -> &XFormat {
        match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Ng => &self.ng,
            Outcome::Error | Outcome::Pending => &self.warn,
            Outcome::NotApplicable => &self.na,
        }
    }

    fn evidence(&self, status: EvidenceStatus) -> &XFormat {
        match status {
            EvidenceStatus::Pass => &self.ok,
            EvidenceStatus::Fail => &self.ng,
            EvidenceStatus::Error => &self.warn,
            EvidenceStatus::Info => &self.center,
        }
    }
}

/// 選択レベル: `"{level} {label}"` when the level is the catalog's selected one.
fn level_text(result: &ItemResult, item: Option<&Item>) -> String {
    match item {
        Some(item) if item.selected_level == result.selected_level && !item.selected_label.is_empty() => {
            format!("{} {}", result.selected_level, item.selected_label)
        }
        _ => result.selected_level.clone(),
    }
}

fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::None => "",
        k => k.label(Lang::Ja),
    }
}

/// The 17 cells of one 検証結果 row, as text.
pub(crate) fn result_row(result: &ItemResult, item: Option<&Item>) -> [String; 17] {
    let field = |f: fn(&Item) -> &String| item.map(|i| f(i).clone()).unwrap_or_default();
    let not_verified = result.outcome == Outcome::NotApplicable && (item.is_some_and(|i| !i.verified) || result.probe == "not_applicable");
    let mut finding = result.summary.clone();
    if not_verified {
        let reason = item.map(|i| i.not_verified_reason.trim()).unwrap_or_default();
        if !reason.is_empty() && !finding.contains(reason) {
            if !finding.is_empty() {
                finding.push('\n');
            }
            finding.push_str("判断理由: ");
            finding.push_str(reason);
        }
    }
    let achieved = match result.outcome {
        Outcome::Ok => "OK",
        Outcome::Ng => "NG",
        _ => "-",
    };
    [
        result.id.clone(),
        item.map(|i| i.category.clone()).unwrap_or_else(|| result.category.clone()),
        field(|i| &i.subcategory),
        item.map(|i| i.metric.clone()).unwrap_or_else(|| result.metric.clone()),
        field(|i| &i.description),
        level_text(result, item),
        if not_verified { "無" } else { "有" }.to_string(),
        field(|i| &i.check_item),
        field(|i| &i.scope),
        kind_text(result.kind).to_string(),
        field(|i| &i.method),
        jst_month(result.started_at),
        jst_month(result.finished_at),
        result.outcome.label(Lang::Ja).to_string(),
        finding,
        result.achieved_level.clone().unwrap_or_default(),
        achieved.to_string(),
    ]
}

fn title(report: &RunReport) -> String {
    let subject: Vec<&str> = [report.municipality.as_str(), report.system.as_str()].into_iter().filter(|s| !s.trim().is_empty()).collect();
    let mut t = String::from("検証結果 — ");
    if !subject.is_empty() {
        t.push_str(&subject.join(" "));
        t.push(' ');
    }
    t.push_str(&format!("({})  実施 {} – {} (JST)", report.environment, jst_minute(report.started_at), jst_minute(report.finished_at)));
    t
}

fn write_header(sheet: &mut Worksheet, row: u32, columns: &[(&str, f64)], style: &XFormat) -> Result<(), XlsxError> {
    for (col, (name, width)) in (0u16..).zip(columns) {
        sheet.write_string_with_format(row, col, *name, style)?;
        sheet.set_column_width(col, *width)?;
    }
    Ok(())
}

fn results_sheet(sheet: &mut Worksheet, report: &RunReport, catalog: &Catalog, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(RESULTS_SHEET)?;
    let last_col = (RESULT_COLUMNS.len() - 1) as u16;
    sheet.merge_range(0, 0, 0, last_col, &title(report), &st.title)?;
    sheet.set_row_height(0, 24)?;
    write_header(sheet, HEADER_ROW, &RESULT_COLUMNS, &st.header)?;
    sheet.set_row_height(HEADER_ROW, 32)?;

    // Short, code-like columns are centred.
    let centred = [0u16, 6, 9, 11, 12, 15, 16];
    let mut row = HEADER_ROW;
    for result in &report.items {
        row += 1;
        let cells = result_row(result, catalog.get(&result.id));
        for (col, text) in (0u16..).zip(cells.iter()) {
            let style = if col == RESULT_COL {
                st.outcome(result.outcome)
            } else if centred.contains(&col) {
                &st.center
            } else {
                &st.cell
            };
            sheet.write_string_with_format(row, col, text, style)?;
        }
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, METRIC_COL + 1)?;
    sheet.autofilter(HEADER_ROW, 0, row, last_col)?;
    sheet.set_landscape();
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    Ok(())
}

fn evidence_sheet(sheet: &mut Worksheet, report: &RunReport, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(EVIDENCE_SHEET)?;
    write_header(sheet, 0, &EVIDENCE_COLUMNS, &st.header)?;
    let mut row = 0u32;
    for result in &report.items {
        for ev in &result.evidence {
            row += 1;
            // The 証跡 sheet is Japanese: 適合 / 違反 / 参考 / 検証不能.
            let status = ev.status.label(gcverify_checks::model::Lang::Ja);
            sheet.write_string_with_format(row, 0, &result.id, &st.center)?;
            sheet.write_string_with_format(row, 1, status, st.evidence(ev.status))?;
            sheet.write_string_with_format(row, 2, &ev.subject, &st.cell)?;
            sheet.write_string_with_format(row, 3, ev.region.as_deref().unwrap_or(""), &st.cell)?;
            sheet.write_string_with_format(row, 4, &ev.detail, &st.cell)?;
            sheet.write_string_with_format(row, 5, &ev.source, &st.cell)?;
            sheet.write_string_with_format(row, 6, jst_second(ev.observed_at), &st.center)?;
        }
    }
    sheet.set_freeze_panes(1, 1)?;
    sheet.autofilter(0, 0, row, (EVIDENCE_COLUMNS.len() - 1) as u16)?;
    Ok(())
}

/// One row per 確認観点 of every row: which were verified, by what, and which not.
fn points_sheet(sheet: &mut Worksheet, report: &RunReport, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(POINTS_SHEET)?;
    write_header(sheet, 0, &POINT_COLUMNS, &st.header)?;
    let mut row = 0u32;
    for result in &report.items {
        for p in &result.points {
            row += 1;
            sheet.write_string_with_format(row, 0, &result.id, &st.center)?;
            sheet.write_string_with_format(row, 1, &p.id, &st.cell)?;
            sheet.write_string_with_format(row, 2, &p.text, &st.cell)?;
            sheet.write_string_with_format(row, 3, p.refers_to.join("\n"), &st.cell)?;
            sheet.write_string_with_format(row, 4, p.verifier_label(Lang::Ja), &st.cell)?;
            sheet.write_string_with_format(row, 5, p.outcome.label(Lang::Ja), st.outcome(p.outcome))?;
            sheet.write_string_with_format(row, 6, &p.summary, &st.cell)?;
        }
    }
    sheet.set_freeze_panes(1, 2)?;
    sheet.autofilter(0, 0, row, (POINT_COLUMNS.len() - 1) as u16)?;
    Ok(())
}

fn summary_sheet(sheet: &mut Worksheet, report: &RunReport, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(SUMMARY_SHEET)?;
    sheet.set_column_width(0, 18)?;
    sheet.set_column_width(1, 48)?;
    let texts = [
        ("環境", report.environment.clone()),
        ("団体名", report.municipality.clone()),
        ("システム名", report.system.clone()),
        ("ツールバージョン", format!("gcverify {}", report.tool_version)),
        ("開始 (JST)", jst_second(report.started_at)),
        ("終了 (JST)", jst_second(report.finished_at)),
    ];
    let mut row = 0u32;
    for (label, value) in &texts {
        sheet.write_string_with_format(row, 0, *label, &st.label)?;
        sheet.write_string_with_format(row, 1, value, &st.cell)?;
        row += 1;
    }
    row += 1;
    sheet.write_string_with_format(row, 0, "結果", &st.header)?;
    sheet.write_string_with_format(row, 1, "件数", &st.header)?;
    for outcome in OUTCOMES {
        row += 1;
        sheet.write_string_with_format(row, 0, outcome.label(Lang::Ja), st.outcome(outcome))?;
        sheet.write_number_with_format(row, 1, report.count(outcome) as f64, &st.number)?;
    }
    row += 1;
    sheet.write_string_with_format(row, 0, "合計", &st.label)?;
    sheet.write_number_with_format(row, 1, report.items.len() as f64, &st.number)?;
    Ok(())
}

fn build(report: &RunReport, catalog: &Catalog) -> Result<Workbook, XlsxError> {
    let st = Styles::new();
    let mut workbook = Workbook::new();
    results_sheet(workbook.add_worksheet(), report, catalog, &st)?;
    points_sheet(workbook.add_worksheet(), report, &st)?;
    evidence_sheet(workbook.add_worksheet(), report, &st)?;
    summary_sheet(workbook.add_worksheet(), report, &st)?;
    Ok(workbook)
}

/// Writes `検証結果.xlsx`: sheet `検証結果` (title row, the 17 columns of the
/// real table, one row per item joined with the catalog by ID), sheet `証跡`
/// (one row per evidence entry) and sheet `概要` (run metadata and counts).
pub fn write_xlsx(report: &RunReport, catalog: &Catalog, path: &Path) -> anyhow::Result<()> {
    let mut workbook = build(report, catalog).context("building the 検証結果 workbook")?;
    workbook.save(path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample_report;
    use calamine::{open_workbook, Data, Reader, Xlsx};

    fn text(d: &Data) -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            other => other.to_string(),
        }
    }

    /// Every row of a sheet as text, with absolute row/column positions.
    fn sheet_rows(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>, name: &str) -> Vec<Vec<String>> {
        let range = wb.worksheet_range(name).expect("sheet exists");
        let (r0, c0) = range.start().expect("sheet not empty");
        assert_eq!((r0, c0), (0, 0), "{name} starts at A1");
        range.rows().map(|r| r.iter().map(text).collect()).collect()
    }

    type Rows = Vec<Vec<String>>;

    /// The sample report and what calamine reads back from its workbook.
    struct Written {
        report: RunReport,
        results: Rows,
        evidence: Rows,
        summary: Rows,
        names: Vec<String>,
    }

    fn written() -> Written {
        let report = sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("検証結果.xlsx");
        write_xlsx(&report, &Catalog::builtin(), &path).expect("write_xlsx");
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens with calamine");
        let names = wb.sheet_names();
        let results = sheet_rows(&mut wb, RESULTS_SHEET);
        let evidence = sheet_rows(&mut wb, EVIDENCE_SHEET);
        let summary = sheet_rows(&mut wb, SUMMARY_SHEET);
        Written { report, results, evidence, summary, names }
    }

    #[test]
    fn results_sheet_has_the_real_table_layout() {
        let Written { report, results: rows, names, .. } = written();
        assert_eq!(names, ["検証結果", "確認観点", "証跡", "概要"]);

        let title = &rows[0][0];
        assert!(title.starts_with("検証結果 — サンプル市 住民記録システム (stg)"), "{title}");
        assert!(title.contains("2026-11-02 10:00"), "start in JST: {title}");
        assert!(title.contains("2026-12-02 10:00"), "finish in JST: {title}");

        let header: Vec<&str> = rows[1].iter().map(String::as_str).collect();
        assert_eq!(
            header,
            [
                "項番",
                "大項目",
                "中項目",
                "小項目",
                "メトリクス説明",
                "選択レベル",
                "検証実施有無",
                "検証事項",
                "検証範囲",
                "種別",
                "方法",
                "開始月",
                "終了月",
                "結果",
                "事象",
                "実現したレベル",
                "達成"
            ]
        );

        let data = &rows[2..];
        assert_eq!(data.len(), 50, "one row per item, nothing after");
        let ids: Vec<&str> = data.iter().map(|r| r[0].as_str()).collect();
        let expected_ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, expected_ids);

        let catalog = Catalog::builtin();
        for (row, result) in data.iter().zip(&report.items) {
            let item = catalog.get(&result.id).expect("catalog item");
            let col = |name: &str| {
                let idx = header.iter().position(|h| *h == name).expect("column");
                row[idx].as_str()
            };
            assert_eq!(col("結果"), result.outcome.label(Lang::Ja), "{}", result.id);
            assert_eq!(col("大項目"), item.category);
            assert_eq!(col("中項目"), item.subcategory);
            assert_eq!(col("小項目"), item.metric);
            assert_eq!(col("メトリクス説明"), item.description);
            assert_eq!(col("検証事項"), item.check_item);
            assert_eq!(col("方法"), item.method);
            assert_eq!(col("開始月"), "2026年11月");
            let expected_achieved = match result.outcome {
                Outcome::Ok => "OK",
                Outcome::Ng => "NG",
                _ => "-",
            };
            assert_eq!(col("達成"), expected_achieved, "{}", result.id);
            assert_eq!(col("実現したレベル"), result.achieved_level.as_deref().unwrap_or(""));
            if item.verified {
                assert_eq!(col("検証実施有無"), "有", "{}", result.id);
                assert_eq!(col("事象"), result.summary);
            } else {
                assert_eq!(col("検証実施有無"), "無", "{}", result.id);
                assert!(col("事象").contains(item.not_verified_reason.trim()), "{}", result.id);
            }
            if result.selected_level == item.selected_level {
                assert_eq!(col("選択レベル"), format!("{} {}", item.selected_level, item.selected_label).trim_end());
            } else {
                assert_eq!(col("選択レベル"), result.selected_level);
            }
        }
        // The last item finishes in December (JST).
        assert_eq!(data[49][12], "2026年12月");
        assert_eq!(data[0][12], "2026年11月");
        // Row 1 overrides the level, so no catalog label is attached.
        assert_eq!(data[1][5], "3");
        assert!(data.iter().any(|r| r[6] == "無"), "sample has not-verified items");
    }

    #[test]
    fn points_sheet_lists_every_point_with_its_verifier_and_outcome() {
        let report = sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("検証結果.xlsx");
        write_xlsx(&report, &Catalog::builtin(), &path).expect("write");
        let mut wb: Xlsx<_> = open_workbook(&path).expect("open");
        let rows = sheet_rows(&mut wb, POINTS_SHEET);
        assert_eq!(rows[0], POINT_COLUMNS.iter().map(|(h, _)| h.to_string()).collect::<Vec<_>>());
        let expected: usize = report.items.iter().map(|i| i.points.len()).sum();
        assert!(expected >= 2, "the sample has points");
        assert_eq!(rows.len() - 1, expected);
        let first = &report.items[0].points;
        assert_eq!(rows[1][1], first[0].id);
        assert_eq!(rows[1][5], first[0].outcome.label(Lang::Ja));
        assert_eq!(rows[2][4], "机上（確認記録）", "attestation shown as a desk check: {:?}", rows[2]);
        assert_eq!(rows[2][5], "要確認");
    }

    #[test]
    fn evidence_sheet_has_one_row_per_evidence_entry() {
        let Written { report, evidence: rows, .. } = written();
        let header: Vec<&str> = rows[0].iter().map(String::as_str).collect();
        assert_eq!(header, ["項番", "状態", "対象", "リージョン", "観測内容", "取得元", "観測時刻 (JST)"]);
        let expected: Vec<(String, &gcverify_checks::model::Evidence)> =
            report.items.iter().flat_map(|i| i.evidence.iter().map(move |e| (i.id.clone(), e))).collect();
        assert!(expected.len() > 50, "sample has plenty of evidence");
        assert_eq!(rows.len() - 1, expected.len());
        for (row, (id, ev)) in rows[1..].iter().zip(&expected) {
            assert_eq!(&row[0], id);
            // Japanese on the Japanese sheet, not the JSON's status words.
            assert_eq!(row[1], ev.status.label(gcverify_checks::model::Lang::Ja));
            assert!(["適合", "違反", "参考", "検証不能"].contains(&row[1].as_str()), "{}", row[1]);
            assert_eq!(row[2], ev.subject);
            assert_eq!(row[3], ev.region.clone().unwrap_or_default());
            assert_eq!(row[4], ev.detail);
            assert_eq!(row[5], ev.source);
            assert_eq!(row[6], jst_second(ev.observed_at));
            assert!(row[6].starts_with("2026-11-02 10:"), "{}", row[6]);
        }
    }

    #[test]
    fn summary_sheet_has_metadata_and_counts() {
        let Written { report, summary: rows, .. } = written();
        let value = |label: &str| rows.iter().find(|r| r[0] == label).map(|r| r[1].clone()).unwrap_or_else(|| panic!("row {label}"));
        assert_eq!(value("環境"), "stg");
        assert_eq!(value("団体名"), "サンプル市");
        assert_eq!(value("システム名"), "住民記録システム");
        assert_eq!(value("ツールバージョン"), "gcverify 0.1.0");
        assert_eq!(value("開始 (JST)"), "2026-11-02 10:00:00");
        for o in OUTCOMES {
            assert_eq!(value(o.label(Lang::Ja)), report.count(o).to_string(), "{o:?}");
        }
        assert_eq!(value("合計"), "50");
    }

    #[test]
    fn items_missing_from_the_catalog_still_get_a_row() {
        let mut report = sample_report();
        report.items.truncate(2);
        report.items[1].id = "Z.9.9.9".to_string();
        report.items[1].metric = "独自項目".to_string();
        let row = result_row(&report.items[1], None);
        assert_eq!(row[0], "Z.9.9.9");
        assert_eq!(row[3], "独自項目");
        assert_eq!(row[4], "");
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("x.xlsx");
        write_xlsx(&report, &Catalog::builtin(), &path).expect("write_xlsx");
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens");
        let rows = sheet_rows(&mut wb, RESULTS_SHEET);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[3][0], "Z.9.9.9");
    }
}
