//! `検証結果.xlsx`: a cover sheet to sign (表紙), the 検証結果 table in the
//! pilot's layout, its 確認観点, and the evidence (証跡) each row cites, all
//! set up to print on A4 landscape with the run ID on every page.

use std::path::Path;

use anyhow::Context as _;
use gcverify_checks::catalog::{Catalog, Item, Kind};
use gcverify_checks::comparison::Comparison;
use gcverify_checks::model::{EvidenceStatus, ItemResult, Outcome, RunReport};
use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format as XFormat, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::provenance::Stamp;
use crate::{compare, rows};
use crate::{jst_minute, jst_month, jst_second, Lang, OUTCOMES};

/// Sheet names.
pub(crate) const COVER_SHEET: &str = "表紙";
pub(crate) const RESULTS_SHEET: &str = "検証結果";
pub(crate) const EVIDENCE_SHEET: &str = "証跡";
pub(crate) const POINTS_SHEET: &str = "確認観点";
pub(crate) const COMPARISON_SHEET: &str = "前回比";

/// Columns of the 前回比 sheet with their widths.
pub(crate) const COMPARISON_COLUMNS: [(&str, f64); 6] = [("項番", 10.0), ("小項目", 22.0), ("変化", 14.0), ("前回", 9.0), ("今回", 9.0), ("事象", 80.0)];

/// Columns of the 確認観点 sheet with their widths.
pub(crate) const POINT_COLUMNS: [(&str, f64); 7] =
    [("項番", 10.0), ("観点ID", 16.0), ("確認観点", 44.0), ("参照（同 No.N）", 30.0), ("検証手段", 22.0), ("結果", 10.0), ("事象", 60.0)];

/// Columns of the 検証結果 sheet with their widths (in characters), narrow
/// enough that the sheet fits A3 landscape at [`RESULTS_SCALE`] (a test
/// renders it); long texts wrap into taller rows instead.
pub(crate) const RESULT_COLUMNS: [(&str, f64); 25] = [
    ("項番", 8.0),
    ("大項目", 6.0),
    ("中項目", 7.0),
    ("小項目", 10.0),
    ("メトリクス説明", 16.0),
    ("選択レベル", 12.0),
    ("選択時の条件", 13.0),
    ("備考", 13.0),
    ("検証実施有無", 4.0),
    ("判断理由", 10.0),
    ("検証事項", 15.0),
    ("検証範囲", 9.0),
    ("種別", 4.0),
    ("方法", 16.0),
    ("開始月", 8.0),
    ("終了月", 8.0),
    ("結果", 8.0),
    ("事象", 20.0),
    ("原因", 17.0),
    ("考察・分析", 12.0),
    ("証跡", 8.0),
    ("実現したレベル", 9.0),
    ("達成", 4.0),
    ("対処結果", 5.0),
    ("対処内容", 8.0),
];

/// The index of a 検証結果 column by its name.
pub(crate) fn column(name: &str) -> usize {
    RESULT_COLUMNS.iter().position(|c| c.0 == name).unwrap_or_else(|| panic!("no column {name}"))
}

/// The pilot's group header above the columns: name, first and last column.
pub(crate) const RESULT_GROUPS: [(&str, u16, u16); 6] =
    [("非機能要件の標準", 0, 7), ("検証内容", 8, 11), ("検証方法", 12, 13), ("検証予定時期", 14, 15), ("検証結果", 16, 22), ("対処結果", 23, 24)];

/// Columns of the 証跡 sheet with their widths.
pub(crate) const EVIDENCE_COLUMNS: [(&str, f64); 8] =
    [("証跡番号", 9.0), ("項番", 9.0), ("状態", 8.0), ("対象", 44.0), ("リージョン", 14.0), ("観測内容", 60.0), ("取得元", 26.0), ("観測時刻 (JST)", 19.0)];

/// Rows of the 検証結果 sheet: title, group header, column header, data.
const GROUP_ROW: u32 = 1;
const HEADER_ROW: u32 = 2;
/// Column index of 小項目; panes freeze to its right.
const METRIC_COL: u16 = 3;
/// Column index of 結果.
const RESULT_COL: u16 = 16;
/// Print scale (%) of the 検証結果 sheet: 11 pt text prints at 8.25 pt. Fixed,
/// not "fit to width", so no viewer shrinks it further.
pub(crate) const RESULTS_SCALE: u16 = 75;
/// Excel's paper size codes.
const A4: u8 = 9;
const A3: u8 = 8;
/// Points per printed line of 11 pt text, and Excel's highest row.
const LINE_HEIGHT: f64 = 15.0;
const MAX_ROW_HEIGHT: f64 = 409.0;

/// Cell formats shared by the sheets.
struct Styles {
    title: XFormat,
    header: XFormat,
    cell: XFormat,
    center: XFormat,
    ok: XFormat,
    ng: XFormat,
    error: XFormat,
    pending: XFormat,
    na: XFormat,
    label: XFormat,
    number: XFormat,
    sign: XFormat,
}

impl Styles {
    fn new() -> Self {
        let cell = XFormat::new().set_text_wrap().set_align(FormatAlign::Top).set_border(FormatBorder::Thin).set_border_color(Color::RGB(0xBFBFBF));
        let center = cell.clone().set_align(FormatAlign::Center);
        // Every outcome's fill and text from the one table (style.rs), bold where it needs attention.
        let filled = |o: Outcome| {
            let l = crate::style::look(o);
            let f = center.clone().set_background_color(Color::RGB(l.fill)).set_font_color(Color::RGB(l.ink));
            if matches!(o, Outcome::Ng | Outcome::Error | Outcome::Ok) {
                f.set_bold()
            } else {
                f
            }
        };
        Styles {
            title: XFormat::new().set_bold().set_font_size(14).set_align(FormatAlign::VerticalCenter),
            header: XFormat::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border(FormatBorder::Thin),
            ok: filled(Outcome::Ok),
            ng: filled(Outcome::Ng),
            error: filled(Outcome::Error),
            pending: filled(Outcome::Pending),
            na: filled(Outcome::NotApplicable),
            label: cell.clone().set_bold().set_background_color(Color::RGB(0xDDEBF7)),
            number: cell.clone().set_align(FormatAlign::Right),
            sign: XFormat::new().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter),
            center,
            cell,
        }
    }

    fn outcome(&self, outcome: Outcome) -> &XFormat {
        match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Ng => &self.ng,
            Outcome::Error => &self.error,
            Outcome::Pending => &self.pending,
            Outcome::NotApplicable => &self.na,
        }
    }

    fn evidence(&self, status: EvidenceStatus) -> &XFormat {
        match status {
            EvidenceStatus::Pass => &self.ok,
            EvidenceStatus::Fail => &self.ng,
            EvidenceStatus::Error => &self.error,
            EvidenceStatus::Info => &self.center,
        }
    }
}

fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::None => "",
        k => k.label(Lang::Ja),
    }
}

/// 開始月 / 終了月: the period the evidence covers (稼働率 record, load run),
/// else the months the row was verified in.
fn months(result: &ItemResult) -> (String, String) {
    match result.period {
        Some(p) => (jst_month(p.from), jst_month(p.to)),
        None => (jst_month(result.started_at), jst_month(result.finished_at)),
    }
}

/// The 25 cells of one 検証結果 row, as text.
pub(crate) fn result_row(result: &ItemResult, item: Option<&Item>, catalog: &Catalog) -> [String; 25] {
    let field = |f: fn(&Item) -> &String| item.map(|i| rows::resolved(i, catalog, f)).unwrap_or_default();
    let verified = rows::verified(result, item);
    let achieved = match result.outcome {
        Outcome::Ok => "OK",
        Outcome::Ng => "NG",
        _ => "-",
    };
    let (start, end) = months(result);
    [
        result.id.clone(),
        item.map(|i| i.category.clone()).unwrap_or_else(|| result.category.clone()),
        item.map(|i| i.subcategory.clone()).unwrap_or_default(),
        item.map(|i| i.metric.clone()).unwrap_or_else(|| result.metric.clone()),
        item.map(|i| i.description.clone()).unwrap_or_default(),
        rows::level_with_label(&result.selected_level, item),
        field(|i| &i.selection_condition),
        field(|i| &i.notes),
        if verified { "有" } else { "無" }.to_string(),
        rows::reason(result, item),
        field(|i| &i.check_item),
        field(|i| &i.scope),
        kind_text(result.kind).to_string(),
        rows::method(result, Lang::Ja),
        start,
        end,
        crate::style::marked(result.outcome, Lang::Ja),
        rows::readable(&result.summary),
        rows::cause(result, Lang::Ja),
        crate::remedy::appended(&rows::analysis(result, Lang::Ja), result, Lang::Ja),
        rows::evidence_refs(&result.evidence),
        rows::achieved(result, item),
        achieved.to_string(),
        // 対処結果 is the team's to fill in after the run.
        String::new(),
        String::new(),
    ]
}

fn subject(report: &RunReport) -> String {
    [report.municipality.as_str(), report.system.as_str()].into_iter().filter(|s| !s.trim().is_empty()).collect::<Vec<_>>().join(" ")
}

fn title(report: &RunReport) -> String {
    let subject = subject(report);
    let mut t = String::from("検証結果 — ");
    if !subject.is_empty() {
        t.push_str(&subject);
        t.push(' ');
    }
    t.push_str(&format!("({})  実施 {} – {} (JST)", report.environment, jst_minute(report.started_at), jst_minute(report.finished_at)));
    t
}

/// Text for an Excel header/footer: `&` is its control character.
fn hf(s: &str) -> String {
    s.replace('&', "&&")
}

/// How a sheet goes on paper.
#[derive(Clone, Copy)]
enum Paper {
    /// Landscape, one page wide, as many down as needed.
    Landscape(u8),
    /// Landscape at a fixed scale (%), the columns made to fit.
    Scaled(u8, u16),
    /// A4 portrait, everything on one page (the cover to sign).
    OnePage,
}

/// `paper`, `repeat` rows on every page, and the 団体名, sheet, run ID and
/// page x/y on every page.
fn print_setup(sheet: &mut Worksheet, report: &RunReport, name: &str, repeat: Option<(u32, u32)>, paper: Paper) -> Result<(), XlsxError> {
    match paper {
        Paper::Landscape(size) => {
            sheet.set_paper_size(size);
            sheet.set_landscape();
            sheet.set_print_fit_to_pages(1, 0);
        }
        Paper::Scaled(size, scale) => {
            sheet.set_paper_size(size);
            sheet.set_landscape();
            sheet.set_print_scale(scale);
        }
        Paper::OnePage => {
            sheet.set_paper_size(A4);
            sheet.set_portrait();
            sheet.set_print_fit_to_pages(1, 1);
        }
    }
    sheet.set_margins(0.3, 0.3, 0.6, 0.6, 0.3, 0.3);
    if let Some((first, last)) = repeat {
        sheet.set_repeat_rows(first, last)?;
    }
    sheet.set_header(format!("&L{}&C{}&R実行ID {}", hf(&subject(report)), hf(name), hf(&report.run_id)));
    sheet.set_footer(format!("&L{} ({})&Cページ &P / &N&R{}", hf(&report.environment), hf(&jst_minute(report.started_at)), hf(&report.run_id)));
    Ok(())
}

/// Lines a cell's text takes at a column width (characters; full-width
/// characters count two): what a row's height must hold to print it all.
fn lines_needed(text: &str, width: f64) -> usize {
    let per_line = (width - 1.0).max(1.0);
    text.split('\n')
        .map(|l| {
            let w: usize = l.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
            ((w as f64 / per_line).ceil() as usize).max(1)
        })
        .sum()
}

/// The height that shows every line of the tallest cell of a row.
fn row_height<'a>(cells: impl IntoIterator<Item = (&'a str, f64)>) -> f64 {
    let lines = cells.into_iter().map(|(t, w)| lines_needed(t, w)).max().unwrap_or(1);
    (lines as f64 * LINE_HEIGHT + 3.0).min(MAX_ROW_HEIGHT)
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
    for (name, first, last) in RESULT_GROUPS {
        if first == last {
            sheet.write_string_with_format(GROUP_ROW, first, name, &st.header)?;
        } else {
            sheet.merge_range(GROUP_ROW, first, GROUP_ROW, last, name, &st.header)?;
        }
    }
    write_header(sheet, HEADER_ROW, &RESULT_COLUMNS, &st.header)?;
    // Narrow columns wrap their names over several lines.
    sheet.set_row_height(HEADER_ROW, row_height(RESULT_COLUMNS.iter().map(|(n, w)| (*n, *w))).max(32.0))?;

    // Short, code-like columns are centred.
    let centred = ["項番", "検証実施有無", "種別", "開始月", "終了月", "証跡", "達成", "対処結果"].map(|n| column(n) as u16);
    let mut row = HEADER_ROW;
    for result in &report.items {
        row += 1;
        let cells = result_row(result, catalog.get(&result.id), catalog);
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
        sheet.set_row_height(row, row_height(cells.iter().map(String::as_str).zip(RESULT_COLUMNS.iter().map(|c| c.1))))?;
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, METRIC_COL + 1)?;
    sheet.autofilter(HEADER_ROW, 0, row, last_col)?;
    print_setup(sheet, report, RESULTS_SHEET, Some((GROUP_ROW, HEADER_ROW)), Paper::Scaled(A3, RESULTS_SCALE))
}

fn evidence_sheet(sheet: &mut Worksheet, report: &RunReport, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(EVIDENCE_SHEET)?;
    write_header(sheet, 0, &EVIDENCE_COLUMNS, &st.header)?;
    let mut row = 0u32;
    for result in &report.items {
        for ev in &result.evidence {
            row += 1;
            let cells = [
                ev.id.clone().unwrap_or_default(),
                result.id.clone(),
                // The 証跡 sheet is Japanese: 適合 / 違反 / 参考 / 検証不能.
                ev.status.label(Lang::Ja).to_string(),
                ev.subject.clone(),
                ev.region.clone().unwrap_or_default(),
                rows::readable(&ev.detail.ja),
                ev.source.clone(),
                jst_second(ev.observed_at),
            ];
            for (col, text) in (0u16..).zip(cells.iter()) {
                let style = match col {
                    2 => st.evidence(ev.status),
                    0 | 1 | 7 => &st.center,
                    _ => &st.cell,
                };
                sheet.write_string_with_format(row, col, text, style)?;
            }
            sheet.set_row_height(row, row_height(cells.iter().map(String::as_str).zip(EVIDENCE_COLUMNS.iter().map(|c| c.1))))?;
        }
    }
    sheet.set_freeze_panes(1, 2)?;
    sheet.autofilter(0, 0, row, (EVIDENCE_COLUMNS.len() - 1) as u16)?;
    print_setup(sheet, report, EVIDENCE_SHEET, Some((0, 0)), Paper::Landscape(A4))
}

/// One row per 確認観点 of every row: which were verified, by what, and which not.
fn points_sheet(sheet: &mut Worksheet, report: &RunReport, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(POINTS_SHEET)?;
    write_header(sheet, 0, &POINT_COLUMNS, &st.header)?;
    let mut row = 0u32;
    for result in &report.items {
        for p in &result.points {
            row += 1;
            let cells = [
                result.id.clone(),
                p.id.clone(),
                p.text.clone(),
                p.refers_to.join("\n"),
                p.verifier_label(Lang::Ja).to_string(),
                crate::style::marked(p.outcome, Lang::Ja),
                rows::readable(&p.summary),
            ];
            for (col, text) in (0u16..).zip(cells.iter()) {
                let style = match col {
                    5 => st.outcome(p.outcome),
                    0 => &st.center,
                    _ => &st.cell,
                };
                sheet.write_string_with_format(row, col, text, style)?;
            }
            sheet.set_row_height(row, row_height(cells.iter().map(String::as_str).zip(POINT_COLUMNS.iter().map(|c| c.1))))?;
        }
    }
    sheet.set_freeze_panes(1, 2)?;
    sheet.autofilter(0, 0, row, (POINT_COLUMNS.len() - 1) as u16)?;
    print_setup(sheet, report, POINTS_SHEET, Some((0, 0)), Paper::Landscape(A4))
}

/// What the cover says about the run, label by label: the run, then its
/// provenance (as the HTML and the Markdown say it), then where it ran.
pub(crate) fn cover_facts(report: &RunReport, stamp: &Stamp) -> Vec<(&'static str, String)> {
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "（記録なし）".to_string());
    let t = &report.target;
    let mut facts = vec![
        ("団体名", report.municipality.clone()),
        ("システム名", report.system.clone()),
        ("環境", report.environment.clone()),
        ("基準", report.catalog.standard.clone()),
        ("項目カタログ", format!("{}項目 SHA-256 {}", report.catalog.items, report.catalog.sha256)),
        ("検証期間 (JST)", format!("{} – {}", jst_second(report.started_at), jst_second(report.finished_at))),
    ];
    facts.extend(crate::provenance::facts(report, stamp).into_iter().map(|f| (f.ja, f.value_ja)));
    facts.extend([
        (
            "接続先",
            match (&t.endpoint, t.emulator) {
                (Some(e), true) => format!("エミュレータ {e}（デモ）"),
                (Some(e), false) => format!("カスタムエンドポイント {e}"),
                (None, _) => "AWS".to_string(),
            },
        ),
        ("パーティション", or_none(&t.partition)),
        ("リージョン（主 / DR）", format!("{} / {}", t.primary_region.as_deref().unwrap_or("-"), t.dr_region.as_deref().unwrap_or("-"))),
    ]);
    if let Some(c) = &report.comparison {
        facts.push(("前回比", format!("{}\n{}", compare::counts(c, Lang::Ja), compare::baseline_line(c, Lang::Ja))));
    }
    facts
}

fn cover_sheet(sheet: &mut Worksheet, report: &RunReport, stamp: &Stamp, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(COVER_SHEET)?;
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 14)?;
    for col in 2..=6u16 {
        sheet.set_column_width(col, 12)?;
    }
    sheet.set_column_width(7, 30)?;
    let last = 7u16;
    // A fact's value spans columns 1..=7: its row is as tall as its text wraps at that width.
    let value_width = 14.0 + 5.0 * 12.0 + 30.0;
    sheet.merge_range(0, 0, 0, last, "非機能要件 検証結果報告書", &st.title)?;
    sheet.set_row_height(0, 28)?;
    let mut row = 2u32;
    for (label, value) in cover_facts(report, stamp) {
        sheet.write_string_with_format(row, 0, label, &st.label)?;
        sheet.merge_range(row, 1, row, last, &value, &st.cell)?;
        sheet.set_row_height(row, row_height([(value.as_str(), value_width)]))?;
        row += 1;
    }

    // Counts per outcome, then per 大項目 in table order.
    row += 1;
    sheet.write_string_with_format(row, 0, "大項目", &st.header)?;
    for (col, o) in (1u16..).zip(OUTCOMES) {
        sheet.write_string_with_format(row, col, crate::style::marked(o, Lang::Ja), st.outcome(o))?;
    }
    sheet.write_string_with_format(row, 6, "計", &st.header)?;
    let mut categories: Vec<&str> = Vec::new();
    for i in &report.items {
        if !categories.contains(&i.category.as_str()) {
            categories.push(&i.category);
        }
    }
    for cat in &categories {
        row += 1;
        let of_cat: Vec<&ItemResult> = report.items.iter().filter(|i| i.category == *cat).collect();
        sheet.write_string_with_format(row, 0, *cat, &st.label)?;
        for (col, o) in (1u16..).zip(OUTCOMES) {
            sheet.write_number_with_format(row, col, of_cat.iter().filter(|i| i.outcome == o).count() as f64, &st.number)?;
        }
        sheet.write_number_with_format(row, 6, of_cat.len() as f64, &st.number)?;
    }
    row += 1;
    sheet.write_string_with_format(row, 0, "合計", &st.label)?;
    for (col, o) in (1u16..).zip(OUTCOMES) {
        sheet.write_number_with_format(row, col, report.count(o) as f64, &st.number)?;
    }
    sheet.write_number_with_format(row, 6, report.items.len() as f64, &st.number)?;

    for w in &report.warnings {
        row += 2;
        sheet.write_string_with_format(row, 0, "警告", &st.label)?;
        sheet.merge_range(row, 1, row, last, &w.ja, &st.cell)?;
        sheet.set_row_height(row, row_height([(w.ja.as_str(), value_width)]))?;
    }
    if let Some(l) = crate::lowered_minimums(report, Lang::Ja) {
        row += 2;
        sheet.write_string_with_format(row, 0, "観測期間短縮", &st.label)?;
        sheet.merge_range(row, 1, row, last, &l, &st.cell)?;
        sheet.set_row_height(row, row_height([(l.as_str(), value_width)]))?;
    }

    // Signatures: name and date left blank for the people who sign.
    row += 2;
    sheet.write_string_with_format(row, 0, "承認欄", &st.header)?;
    sheet.merge_range(row, 1, row, 4, "氏名", &st.header)?;
    sheet.merge_range(row, 5, row, 6, "日付", &st.header)?;
    sheet.write_string_with_format(row, 7, "印・署名", &st.header)?;
    for role in ["作成者", "確認者", "承認者"] {
        row += 1;
        sheet.write_string_with_format(row, 0, role, &st.label)?;
        sheet.merge_range(row, 1, row, 4, "", &st.sign)?;
        sheet.merge_range(row, 5, row, 6, "", &st.sign)?;
        sheet.write_blank(row, 7, &st.sign)?;
        sheet.set_row_height(row, 36)?;
    }
    print_setup(sheet, report, COVER_SHEET, None, Paper::OnePage)
}

/// 前回比 (`--compare`): the baseline, counts per kind of change, one row per changed item.
fn comparison_sheet(sheet: &mut Worksheet, report: &RunReport, c: &Comparison, st: &Styles) -> Result<(), XlsxError> {
    sheet.set_name(COMPARISON_SHEET)?;
    let last = (COMPARISON_COLUMNS.len() - 1) as u16;
    sheet.merge_range(0, 0, 0, last, &format!("前回比: {}", compare::counts(c, Lang::Ja)), &st.title)?;
    sheet.set_row_height(0, 24)?;
    sheet.merge_range(1, 0, 1, last, &compare::baseline_line(c, Lang::Ja), &st.cell)?;
    let mut row = 1u32;
    for n in &c.notes {
        row += 1;
        sheet.merge_range(row, 0, row, last, &n.ja, &st.cell)?;
    }
    row += 1;
    let header_row = row;
    write_header(sheet, header_row, &COMPARISON_COLUMNS, &st.header)?;
    for ch in &c.changes {
        row += 1;
        let cells = [
            ch.id.clone(),
            ch.metric.clone(),
            ch.kind.label(Lang::Ja).to_string(),
            ch.before.map(|o| crate::style::marked(o, Lang::Ja)).unwrap_or_else(|| "（未実施）".into()),
            ch.after.map(|o| crate::style::marked(o, Lang::Ja)).unwrap_or_else(|| "（未実施）".into()),
            compare::finding(ch, Lang::Ja),
        ];
        for (col, text) in (0u16..).zip(cells.iter()) {
            let style = match (col, if col == 3 { ch.before } else { ch.after }) {
                (3 | 4, Some(o)) => st.outcome(o),
                (0 | 2 | 3 | 4, _) => &st.center,
                _ => &st.cell,
            };
            sheet.write_string_with_format(row, col, text, style)?;
        }
        sheet.set_row_height(row, row_height(cells.iter().map(String::as_str).zip(COMPARISON_COLUMNS.iter().map(|c| c.1))))?;
    }
    print_setup(sheet, report, COMPARISON_SHEET, Some((header_row, header_row)), Paper::Landscape(A4))
}

fn build(report: &RunReport, catalog: &Catalog, stamp: &Stamp) -> Result<Workbook, XlsxError> {
    let st = Styles::new();
    let mut workbook = Workbook::new();
    // The file's own timestamp is the run's, so the same run renders the same bytes.
    let created = ExcelDateTime::from_timestamp(report.started_at.timestamp())?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("検証結果 {} {}", subject(report), report.environment))
            .set_subject(report.catalog.standard.as_str())
            .set_author("gcverify")
            .set_comment(format!("実行ID {}", report.run_id))
            .set_creation_datetime(&created),
    );
    cover_sheet(workbook.add_worksheet(), report, stamp, &st)?;
    if let Some(c) = &report.comparison {
        comparison_sheet(workbook.add_worksheet(), report, c, &st)?;
    }
    results_sheet(workbook.add_worksheet(), report, catalog, &st)?;
    points_sheet(workbook.add_worksheet(), report, &st)?;
    evidence_sheet(workbook.add_worksheet(), report, &st)?;
    Ok(workbook)
}

/// Writes `検証結果.xlsx`: sheets `表紙` (the run, counts per outcome and
/// 大項目, approval fields), `検証結果` (the pilot's columns and groups, one
/// row per item joined with the catalog by ID), `確認観点` and `証跡` (one
/// numbered row per observation). Same report, same bytes.
pub fn write_xlsx(report: &RunReport, catalog: &Catalog, path: &Path) -> anyhow::Result<()> {
    write_xlsx_with(report, catalog, path, &Stamp::default())
}

/// As [`write_xlsx`], with the run's result.json digest on the cover.
pub(crate) fn write_xlsx_with(report: &RunReport, catalog: &Catalog, path: &Path, stamp: &Stamp) -> anyhow::Result<()> {
    let mut workbook = build(report, catalog, stamp).context("building the 検証結果 workbook")?;
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
        cover: Rows,
        names: Vec<String>,
        /// The sheets' XML, by file name in the zip (print setup is only there).
        xml: std::collections::BTreeMap<String, String>,
    }

    fn unzip(path: &Path) -> std::collections::BTreeMap<String, String> {
        use std::io::Read as _;
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("a zip");
        (0..zip.len())
            .map(|i| {
                let mut f = zip.by_index(i).expect("entry");
                let mut body = String::new();
                f.read_to_string(&mut body).expect("UTF-8 XML");
                (f.name().to_string(), body)
            })
            .collect()
    }

    fn written_from(report: RunReport) -> Written {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("検証結果.xlsx");
        write_xlsx(&report, &Catalog::builtin(), &path).expect("write_xlsx");
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens with calamine");
        let names = wb.sheet_names();
        let results = sheet_rows(&mut wb, RESULTS_SHEET);
        let evidence = sheet_rows(&mut wb, EVIDENCE_SHEET);
        let cover = sheet_rows(&mut wb, COVER_SHEET);
        Written { report, results, evidence, cover, names, xml: unzip(&path) }
    }

    fn written() -> Written {
        written_from(sample_report())
    }

    #[test]
    fn comparison_sheet_follows_the_cover_and_lists_the_changed_rows() {
        let (report, id) = crate::testutil::compared_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("検証結果.xlsx");
        write_xlsx(&report, &Catalog::builtin(), &path).expect("write_xlsx");
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens");
        assert_eq!(wb.sheet_names(), [COVER_SHEET, COMPARISON_SHEET, RESULTS_SHEET, POINTS_SHEET, EVIDENCE_SHEET]);
        let rows = sheet_rows(&mut wb, COMPARISON_SHEET);
        assert!(rows[0][0].starts_with("前回比: 新たにNG 1"), "{:?}", rows[0]);
        assert!(rows[1][0].contains("history/20261102T000000Z-00000001.json"), "{:?}", rows[1]);
        let header = rows.iter().position(|r| r[0] == "項番").expect("header row");
        assert_eq!(
            rows[header + 1][..5],
            [id.as_str(), report.items.iter().find(|i| i.id == id).map(|i| i.metric.as_str()).unwrap_or(""), "新たにNG", "○ OK", "× NG"]
        );
        let cover = sheet_rows(&mut wb, COVER_SHEET);
        assert!(cover.iter().any(|r| r[0] == "前回比" && r[1].starts_with("新たにNG 1")), "{cover:?}");
        assert!(!written().names.iter().any(|n| n == COMPARISON_SHEET), "no comparison: no sheet");
    }

    fn header() -> Vec<&'static str> {
        RESULT_COLUMNS.iter().map(|c| c.0).collect()
    }

    #[test]
    fn results_sheet_has_the_pilots_layout_with_group_header() {
        let Written { report, results: rows, names, .. } = written();
        assert_eq!(names, ["表紙", "検証結果", "確認観点", "証跡"], "the cover first");

        let title = &rows[0][0];
        assert!(title.starts_with("検証結果 — サンプル市 住民記録システム (stg)"), "{title}");
        assert!(title.contains("2026-11-02 10:00"), "start in JST: {title}");
        assert!(title.contains("2026-12-02 10:00"), "finish in JST: {title}");

        // The group row above the columns, each group over its columns.
        for (name, first, _) in RESULT_GROUPS {
            assert_eq!(rows[1][first as usize], name);
        }
        let header_row: Vec<&str> = rows[2].iter().map(String::as_str).collect();
        assert_eq!(header_row, header());
        for h in ["判断理由", "対処結果", "証跡", "実現したレベル"] {
            assert!(header_row.contains(&h), "{h}");
        }

        let data = &rows[3..];
        assert_eq!(data.len(), 50, "one row per item, nothing after");
        let ids: Vec<&str> = data.iter().map(|r| r[0].as_str()).collect();
        let expected_ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, expected_ids);

        let catalog = Catalog::builtin();
        for (row, result) in data.iter().zip(&report.items) {
            let item = catalog.get(&result.id).expect("catalog item");
            let col = |name: &str| {
                let idx = header_row.iter().position(|h| *h == name).expect("column");
                row[idx].as_str()
            };
            assert_eq!(col("結果"), crate::style::marked(result.outcome, Lang::Ja), "{}", result.id);
            assert_eq!(col("大項目"), item.category);
            assert_eq!(col("中項目"), item.subcategory);
            assert_eq!(col("小項目"), item.metric);
            assert_eq!(col("メトリクス説明"), item.description);
            assert!(!col("検証事項").trim_start().starts_with("同 No."), "{}: {}", result.id, col("検証事項"));
            assert!(!col("方法").contains(item.method.as_str()) || item.method.is_empty(), "{}: 方法 is this run's, not the pilot's", result.id);
            assert_eq!(col("開始月"), "2026年11月");
            let expected_achieved = match result.outcome {
                Outcome::Ok => "OK",
                Outcome::Ng => "NG",
                _ => "-",
            };
            assert_eq!(col("達成"), expected_achieved, "{}", result.id);
            if result.outcome == Outcome::Ok {
                let level = result.achieved_level.clone().unwrap_or_else(|| result.selected_level.clone());
                assert_eq!(col("実現したレベル"), crate::rows::level_with_label(&level, Some(item)), "{}", result.id);
            } else {
                assert_eq!(col("実現したレベル"), "", "{}", result.id);
            }
            assert_eq!(col("証跡"), crate::rows::evidence_refs(&result.evidence));
            assert_eq!(col("対処結果"), "", "left for the team");
            if item.verified {
                assert_eq!(col("検証実施有無"), "有", "{}", result.id);
                assert_eq!(col("事象"), result.summary);
            } else {
                assert_eq!(col("検証実施有無"), "無", "{}", result.id);
                assert_eq!(col("判断理由"), item.not_verified_reason.trim(), "{}", result.id);
            }
            if result.selected_level == item.selected_level {
                assert_eq!(col("選択レベル"), format!("{} {}", item.selected_level, item.selected_label).trim_end());
            }
        }
        // The last item finishes in December (JST).
        assert_eq!(data[49][column("終了月")], "2026年12月");
        assert_eq!(data[0][column("終了月")], "2026年11月");
        // Row 1 overrides the level (3): the standard's label if 3 is the standard level, else bare.
        assert!(data[1][5].starts_with('3'), "{}", data[1][5]);
        assert!(data.iter().any(|r| r[column("検証実施有無")] == "無"), "sample has not-verified items");
        // A row with evidence cites its numbers; the 証跡 sheet has them.
        assert_eq!(data[1][column("証跡")], "E-001");
    }

    #[test]
    fn achieved_level_reads_like_the_selected_level_and_fills_ok_desk_rows() {
        let mut report = sample_report();
        let catalog = Catalog::builtin();
        let desk = report.items.iter().position(|i| i.kind == Kind::Desk && catalog.get(&i.id).is_some_and(|c| c.verified)).expect("a desk row");
        report.items[desk].outcome = Outcome::Ok;
        report.items[desk].achieved_level = None;
        let item = catalog.get(&report.items[desk].id).expect("item");
        let row = result_row(&report.items[desk], Some(item), &catalog);
        assert_eq!(row[column("実現したレベル")], crate::rows::level_with_label(&item.selected_level, Some(item)));
        assert!(!row[column("実現したレベル")].is_empty());
        let a151 = catalog.get("A.1.5.1").expect("A.1.5.1");
        assert_eq!(crate::rows::level_with_label(&a151.selected_level, Some(a151)), format!("{} {}", a151.selected_level, a151.selected_label));
    }

    #[test]
    fn every_sheet_prints_one_page_wide_with_run_id_and_page_numbers() {
        let w = written();
        let sheets: Vec<(&String, &String)> = w.xml.iter().filter(|(n, _)| n.starts_with("xl/worksheets/sheet")).collect();
        assert_eq!(sheets.len(), 4);
        for (name, xml) in sheets {
            match name.as_str() {
                // The cover to sign: A4 portrait, on one page whatever it holds.
                "xl/worksheets/sheet1.xml" => {
                    assert!(xml.contains("paperSize=\"9\"") && xml.contains("orientation=\"portrait\""), "{name}: A4 portrait");
                    assert!(!xml.contains("fitToHeight=\"0\""), "{name}: one page tall");
                }
                // The main table: A3 landscape at 75 %, so its 25 columns print at 8 pt or more.
                "xl/worksheets/sheet2.xml" => {
                    assert!(xml.contains("paperSize=\"8\"") && xml.contains("orientation=\"landscape\""), "{name}: A3 landscape");
                    assert!(xml.contains(&format!("scale=\"{RESULTS_SCALE}\"")) && !xml.contains("fitToPage"), "{name}: a fixed scale");
                    assert!(f64::from(RESULTS_SCALE) * 11.0 / 100.0 >= 8.0);
                }
                _ => {
                    assert!(xml.contains("paperSize=\"9\"") && xml.contains("orientation=\"landscape\""), "{name}: A4 landscape");
                    assert!(xml.contains("fitToHeight=\"0\""), "{name}: as many pages down as needed");
                }
            }
            if name != "xl/worksheets/sheet2.xml" {
                assert!(xml.contains("fitToWidth=\"1\"") || xml.contains("<pageSetUpPr fitToPage=\"1\"/>"), "{name}: fit to width");
            }
            assert!(xml.contains(&format!("実行ID {}", w.report.run_id)), "{name}: run ID in the header");
            assert!(xml.contains("&amp;P / &amp;N"), "{name}: page x/y");
            assert!(xml.contains("サンプル市"), "{name}: 団体名");
        }
        // Header rows repeat: the group and column rows of 検証結果, the header of the others.
        let wb = &w.xml["xl/workbook.xml"];
        assert!(wb.contains("Print_Titles\" localSheetId=\"1\">検証結果!$2:$3"), "{wb}");
        assert!(wb.contains("Print_Titles\" localSheetId=\"3\">証跡!$1:$1"), "{wb}");
        // Every data row has a height (wrapped text prints), taller for longer text.
        let results = &w.xml["xl/worksheets/sheet2.xml"];
        let heights: Vec<f64> =
            results.split("<row ").skip(4).filter_map(|r| r.split("ht=\"").nth(1).and_then(|h| h.split('"').next()).and_then(|h| h.parse().ok())).collect();
        assert_eq!(heights.len(), 50, "{results:.2000}");
        assert!(heights.iter().all(|h| *h >= LINE_HEIGHT), "{heights:?}");
        assert!(heights.iter().any(|h| *h > 3.0 * LINE_HEIGHT), "long rows are taller: {heights:?}");
    }

    #[test]
    fn row_heights_follow_the_text() {
        assert_eq!(lines_needed("abc", 10.0), 1);
        assert_eq!(lines_needed("あいうえおかきくけこ", 10.0), 3, "full-width characters count two");
        assert_eq!(lines_needed("a\nb\nc", 40.0), 3);
        assert_eq!(row_height([("a\nb", 10.0), ("x", 10.0)]), 2.0 * LINE_HEIGHT + 3.0);
        assert_eq!(row_height([(&"あ".repeat(10_000)[..], 10.0)]), MAX_ROW_HEIGHT);
    }

    #[test]
    fn error_and_pending_have_fills_of_their_own() {
        let st = Styles::new();
        let fills: Vec<&XFormat> = OUTCOMES.iter().map(|o| st.outcome(*o)).collect();
        for (i, a) in fills.iter().enumerate() {
            for b in &fills[i + 1..] {
                assert_ne!(a, b, "every outcome its own style");
            }
        }
        assert_ne!(st.outcome(Outcome::Error), st.outcome(Outcome::Pending));
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
        assert_eq!(rows[1][5], crate::style::marked(first[0].outcome, Lang::Ja));
        assert_eq!(rows[2][4], "机上（確認記録）", "attestation shown as a desk check: {:?}", rows[2]);
        assert_eq!(rows[2][5], "? 要確認");
    }

    #[test]
    fn evidence_sheet_has_one_numbered_row_per_evidence_entry() {
        let Written { report, evidence: rows, .. } = written();
        let header: Vec<&str> = rows[0].iter().map(String::as_str).collect();
        assert_eq!(header, ["証跡番号", "項番", "状態", "対象", "リージョン", "観測内容", "取得元", "観測時刻 (JST)"]);
        let expected: Vec<(String, &gcverify_checks::model::Evidence)> =
            report.items.iter().flat_map(|i| i.evidence.iter().map(move |e| (i.id.clone(), e))).collect();
        assert!(expected.len() > 50, "sample has plenty of evidence");
        assert_eq!(rows.len() - 1, expected.len());
        for (n, (row, (id, ev))) in rows[1..].iter().zip(&expected).enumerate() {
            assert_eq!(row[0], format!("E-{:03}", n + 1));
            assert_eq!(&row[1], id);
            // Japanese on the Japanese sheet, not the JSON's status words.
            assert_eq!(row[2], ev.status.label(Lang::Ja));
            assert!(["適合", "違反", "参考", "検証不能"].contains(&row[2].as_str()), "{}", row[2]);
            assert_eq!(row[3], ev.subject);
            assert_eq!(row[4], ev.region.clone().unwrap_or_default());
            assert_eq!(row[5], ev.detail.ja);
            assert_eq!(row[6], ev.source);
            assert_eq!(row[7], jst_second(ev.observed_at));
        }
    }

    #[test]
    fn cover_has_the_run_counts_per_category_and_blank_signatures() {
        let Written { report, cover: rows, .. } = written();
        let value = |label: &str| rows.iter().find(|r| r[0] == label).map(|r| r[1].clone()).unwrap_or_else(|| panic!("row {label}: {rows:?}"));
        assert_eq!(rows[0][0], "非機能要件 検証結果報告書");
        assert_eq!(value("環境"), "stg");
        assert_eq!(value("団体名"), "サンプル市");
        assert_eq!(value("システム名"), "住民記録システム");
        assert_eq!(value("基準"), "地方公共団体情報システム非機能要件の標準");
        assert_eq!(value("実行ID"), report.run_id);
        assert!(value("ツール").starts_with("gcverify 0.1.0"));
        assert_eq!(value("シナリオ"), format!("scenarios/stg.toml\nSHA-256 {}\n＋ scenarios/base.toml SHA-256 {}", "ab".repeat(32), "cd".repeat(32)));
        assert!(value("検証期間 (JST)").starts_with("2026-11-02 10:00:00"));
        // Totals: the outcome header, one row per 大項目, and 合計 over all.
        let head = rows.iter().position(|r| r[0] == "大項目").expect("totals header");
        let labels: Vec<String> = OUTCOMES.iter().map(|o| crate::style::marked(*o, Lang::Ja)).collect();
        assert_eq!(rows[head][1..6].to_vec(), labels);
        let total = rows.iter().find(|r| r[0] == "合計").expect("合計");
        for (k, o) in OUTCOMES.iter().enumerate() {
            assert_eq!(total[k + 1], report.count(*o).to_string(), "{o:?}");
        }
        assert_eq!(total[6], "50");
        let mut categories: Vec<&str> = Vec::new();
        for i in &report.items {
            if !categories.contains(&i.category.as_str()) {
                categories.push(&i.category);
            }
        }
        let per_cat: usize = rows[head + 1..head + 1 + categories.len()].iter().map(|r| r[6].parse::<usize>().expect("count")).sum();
        assert_eq!(per_cat, 50, "the 大項目 rows add up");
        for role in ["作成者", "確認者", "承認者"] {
            let r = rows.iter().find(|r| r[0] == role).unwrap_or_else(|| panic!("{role}"));
            assert!(r[1..].iter().all(String::is_empty), "{role} is left blank to sign: {r:?}");
        }
    }

    #[test]
    fn the_same_report_gives_the_same_bytes() {
        let report = sample_report();
        let tmp = tempfile::tempdir().expect("tempdir");
        let (a, b) = (tmp.path().join("a.xlsx"), tmp.path().join("b.xlsx"));
        write_xlsx(&report, &Catalog::builtin(), &a).expect("a");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write_xlsx(&report, &Catalog::builtin(), &b).expect("b");
        assert!(std::fs::read(&a).expect("a") == std::fs::read(&b).expect("b"), "xlsx differs between two renders of one report");
        let core = &unzip(&a)["docProps/core.xml"];
        assert!(core.contains("2026-11-02T01:00:00Z"), "created at the run's start: {core}");
    }

    #[test]
    fn items_missing_from_the_catalog_still_get_a_row() {
        let mut report = sample_report();
        report.items.truncate(2);
        report.items[1].id = "Z.9.9.9".to_string();
        report.items[1].metric = "独自項目".to_string();
        let row = result_row(&report.items[1], None, &Catalog::builtin());
        assert_eq!(row[0], "Z.9.9.9");
        assert_eq!(row[3], "独自項目");
        assert_eq!(row[4], "");
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("x.xlsx");
        write_xlsx(&report, &Catalog::builtin(), &path).expect("write_xlsx");
        let mut wb: Xlsx<_> = open_workbook(&path).expect("opens");
        let rows = sheet_rows(&mut wb, RESULTS_SHEET);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[4][0], "Z.9.9.9");
    }
}
