//! The fleet summary: every environment of a fleet in one view — a terminal
//! matrix (environment × item), `fleet.json` and `fleet.xlsx` (one row per
//! environment with the items as coloured columns; a sheet per item listing
//! the environments that are NG or 検証不能 with their 事象).
//!
//! A summary is a pure function of its members, in name order, so the
//! shards of a fleet (`verify --fleet --shard i/n`) merge
//! (`report --merge`) to the summary one run would have written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use gcverify_checks::model::{exit_code, Lang, Outcome, RunReport};
use rust_xlsxwriter::{Color, Format as XFormat, FormatAlign, FormatBorder, Workbook};
use serde::{Deserialize, Serialize};

/// File name of the fleet summary (JSON) in `<out>/<fleet>/`.
pub const FLEET_JSON: &str = "fleet.json";
/// File name of the fleet spreadsheet.
pub const FLEET_XLSX: &str = "fleet.xlsx";
/// Version of `fleet.json`'s shape.
pub const FLEET_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetSummary {
    pub schema_version: u32,
    pub fleet: String,
    /// `i/n` when this summary covers one shard; `None` for a whole fleet.
    pub shard: Option<String>,
    /// Item IDs in catalog order: the matrix's columns.
    pub items: Vec<String>,
    pub members: Vec<MemberSummary>,
    /// 団体間のデータ分離 (共同利用): supplementary rows, not from the standard's table.
    #[serde(default)]
    pub separation: Vec<SeparationRow>,
}

/// One environment's line of the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberSummary {
    pub name: String,
    pub municipality: String,
    pub system: String,
    /// 共同利用 group, if the environment shares its system.
    pub shared: Option<String>,
    /// AWS account the environment's credentials are (STS), if they could be used.
    pub account: Option<String>,
    /// Why the account could not be used at all (then every probed row is 検証不能).
    pub unreachable: Option<String>,
    /// Throttled AWS attempts during the run (each retry counts).
    pub throttled: u64,
    /// Outcome per item ID (items not run are absent).
    pub outcomes: BTreeMap<String, Outcome>,
    /// 事象 of the NG and 検証不能 rows (ja, en).
    pub findings: BTreeMap<String, (String, String)>,
    /// Where the environment's own reports are, relative to the fleet folder.
    pub dir: String,
    pub exit_code: i32,
}

/// The 団体間のデータ分離 check of one 共同利用 group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeparationRow {
    pub group: String,
    pub outcome: Outcome,
    pub summary: String,
    pub summary_en: String,
    /// One line per pair and path tried (`A市 → B町: ...`).
    pub observations: Vec<String>,
}

impl MemberSummary {
    pub fn from_report(report: &RunReport, shared: Option<String>, account: Option<String>, unreachable: Option<String>, throttled: u64) -> Self {
        let outcomes = report.items.iter().map(|i| (i.id.clone(), i.outcome)).collect();
        let findings = report
            .items
            .iter()
            .filter(|i| matches!(i.outcome, Outcome::Ng | Outcome::Error))
            .map(|i| (i.id.clone(), (i.summary.clone(), i.summary_en.clone())))
            .collect();
        Self {
            name: report.environment.clone(),
            municipality: report.municipality.clone(),
            system: report.system.clone(),
            shared,
            account,
            unreachable,
            throttled,
            outcomes,
            findings,
            dir: report.environment.clone(),
            exit_code: report.exit_code(),
        }
    }

    pub fn count(&self, o: Outcome) -> usize {
        self.outcomes.values().filter(|x| **x == o).count()
    }
}

impl FleetSummary {
    pub fn new(fleet: &str, shard: Option<String>, items: Vec<String>, mut members: Vec<MemberSummary>, separation: Vec<SeparationRow>) -> Self {
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Self { schema_version: FLEET_SCHEMA_VERSION, fleet: fleet.to_string(), shard, items, members, separation }
    }

    /// The worst over the fleet: NG anywhere → 1, else anything incomplete → 2.
    pub fn exit_code(&self) -> i32 {
        let codes = self.members.iter().map(|m| m.exit_code).chain(self.separation.iter().map(|s| exit_code::for_worst(s.outcome)));
        codes.fold(exit_code::ALL_OK, |worst, c| if worst == exit_code::NG || c == exit_code::NG { exit_code::NG } else { worst.max(c) })
    }

    /// Shards of one fleet as one summary. Members must not repeat.
    pub fn merge(parts: Vec<FleetSummary>) -> anyhow::Result<FleetSummary> {
        let Some(first) = parts.first() else { bail!("nothing to merge") };
        let (fleet, items) = (first.fleet.clone(), first.items.clone());
        let mut members: Vec<MemberSummary> = Vec::new();
        let mut separation = Vec::new();
        for p in parts {
            if p.fleet != fleet {
                bail!("shards of different fleets: `{}` and `{}`", fleet, p.fleet);
            }
            if p.items != items {
                bail!("shards of fleet `{fleet}` ran different items (--only differs)");
            }
            for m in p.members {
                if members.iter().any(|x| x.name == m.name) {
                    bail!("environment `{}` appears in two shards", m.name);
                }
                members.push(m);
            }
            separation.extend(p.separation);
        }
        separation.sort_by(|a: &SeparationRow, b| a.group.cmp(&b.group));
        Ok(FleetSummary::new(&fleet, None, items, members, separation))
    }
}

/// Compact mark of an outcome in the matrix: its symbol from the one table (style.rs).
pub fn mark(o: Option<Outcome>) -> char {
    o.and_then(|o| crate::style::look(o).symbol.chars().next()).unwrap_or(' ')
}

/// The terminal matrix: one line per environment, the items grouped by 大項目
/// letter, then the counts; below, the items NG or 検証不能 somewhere and where.
pub fn render_matrix(s: &FleetSummary, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let width = s.members.iter().map(|m| m.name.chars().count()).max().unwrap_or(4).max(8);
    let groups: Vec<(char, Vec<&String>)> = s.items.iter().fold(Vec::new(), |mut acc: Vec<(char, Vec<&String>)>, id| {
        let letter = id.chars().next().unwrap_or('?');
        match acc.last_mut() {
            Some((l, ids)) if *l == letter => ids.push(id),
            _ => acc.push((letter, vec![id])),
        }
        acc
    });
    let mut out = String::new();
    let title =
        if ja { format!("フリート {} — {}環境", s.fleet, s.members.len()) } else { format!("fleet {} — {} environments", s.fleet, s.members.len()) };
    out.push_str(&title);
    if let Some(shard) = &s.shard {
        out.push_str(&format!(" (shard {shard})"));
    }
    out.push('\n');
    out.push_str(&format!("{:width$}  ", if ja { "環境" } else { "env" }));
    for (letter, ids) in &groups {
        out.push_str(&format!("{:<w$} ", letter, w = ids.len()));
    }
    out.push_str(if ja { " OK  NG 不能 要確認 対象外 抑制" } else { " OK  NG ERR PEND N/A throttled" });
    out.push('\n');
    for m in &s.members {
        out.push_str(&format!("{:width$}  ", m.name));
        for (_, ids) in &groups {
            out.extend(ids.iter().map(|id| mark(m.outcomes.get(*id).copied())));
            out.push(' ');
        }
        out.push_str(&format!(
            "{:>3} {:>3} {:>3} {:>4} {:>4} {:>5}",
            m.count(Outcome::Ok),
            m.count(Outcome::Ng),
            m.count(Outcome::Error),
            m.count(Outcome::Pending),
            m.count(Outcome::NotApplicable),
            m.throttled
        ));
        if let Some(why) = &m.unreachable {
            out.push_str(&format!("  {}: {why}", if ja { "接続不可" } else { "unreachable" }));
        }
        out.push('\n');
    }
    out.push_str(if ja { "凡例: ○ OK  × NG  ! 検証不能  ? 要確認  - 対象外\n" } else { "legend: ○ OK  × NG  ! ERROR  ? PENDING  - N/A\n" });
    for o in [Outcome::Ng, Outcome::Error] {
        for id in &s.items {
            let envs: Vec<&str> = s.members.iter().filter(|m| m.outcomes.get(id) == Some(&o)).map(|m| m.name.as_str()).collect();
            if !envs.is_empty() {
                out.push_str(&format!("{} {id}: {}\n", o.label(lang), envs.join(", ")));
            }
        }
    }
    for r in &s.separation {
        let head = if ja {
            "団体間のデータ分離（補足・標準の表外）"
        } else {
            "separation between municipalities (supplementary, not in the standard's table)"
        };
        out.push_str(&format!("{head} [{}] {}: {}\n", r.group, r.outcome.label(lang), if ja { &r.summary } else { &r.summary_en }));
        // The pairs that are not separated (or not verified); every line is in fleet.json / fleet.xlsx.
        for line in r.observations.iter().filter(|l| !l.contains(": 分離 / separated")) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    let code = s.exit_code();
    out.push_str(&format!("{} {code}\n", if ja { "終了コード" } else { "exit code" }));
    out
}

pub fn write_fleet_json(s: &FleetSummary, dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join(FLEET_JSON);
    let text = serde_json::to_string_pretty(s).context("serialising the fleet summary")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A saved `fleet.json`; errors name the file and line.
pub fn read_fleet_json(path: &Path) -> anyhow::Result<FleetSummary> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let s: FleetSummary = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    if s.schema_version != FLEET_SCHEMA_VERSION {
        bail!("{}: fleet.json schema version {} (this gcverify reads {})", path.display(), s.schema_version, FLEET_SCHEMA_VERSION);
    }
    Ok(s)
}

pub fn write_fleet_xlsx(s: &FleetSummary, dir: &Path, lang: Lang) -> anyhow::Result<PathBuf> {
    let path = dir.join(FLEET_XLSX);
    let ja = lang == Lang::Ja;
    let mut wb = Workbook::new();
    let cell = XFormat::new().set_border(FormatBorder::Thin).set_border_color(Color::RGB(0xBFBFBF)).set_align(FormatAlign::Top);
    let header = cell.clone().set_bold().set_background_color(Color::RGB(0xDDEBF7)).set_text_wrap();
    let center = cell.clone().set_align(FormatAlign::Center);
    // The outcome colours of every format (style.rs). The cells keep the bare
    // label: scripts read them, and the matrix has no room for a symbol.
    let fill = |o: Outcome| {
        let l = crate::style::look(o);
        center.clone().set_background_color(Color::RGB(l.fill)).set_font_color(Color::RGB(l.ink))
    };
    let sheet = wb.add_worksheet().set_name(if ja { "フリート" } else { "Fleet" })?;
    sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0).set_repeat_rows(0, 0)?;
    let fixed: Vec<&str> = if ja {
        vec!["環境", "団体名", "システム", "共同利用", "アカウント"]
    } else {
        vec!["environment", "municipality", "system", "shared", "account"]
    };
    let counts: Vec<String> =
        [Outcome::Ok, Outcome::Ng, Outcome::Error, Outcome::Pending, Outcome::NotApplicable].iter().map(|o| o.label(lang).to_string()).collect();
    let heads = fixed.iter().map(|s| s.to_string()).chain(s.items.iter().cloned()).chain(counts).chain([if ja { "抑制回数" } else { "throttled" }.to_string()]);
    for (col, h) in (0_u16..).zip(heads) {
        sheet.write_with_format(0, col, h, &header)?;
    }
    let n_fixed = fixed.len() as u16;
    for (r, m) in s.members.iter().enumerate() {
        let row = r as u32 + 1;
        let values = [m.name.as_str(), &m.municipality, &m.system, m.shared.as_deref().unwrap_or(""), m.account.as_deref().unwrap_or("")];
        for (c, v) in values.iter().enumerate() {
            sheet.write_with_format(row, c as u16, *v, &cell)?;
        }
        for (c, id) in s.items.iter().enumerate() {
            let c = n_fixed + c as u16;
            match m.outcomes.get(id) {
                Some(o) => sheet.write_with_format(row, c, o.label(lang), &fill(*o))?,
                None => sheet.write_with_format(row, c, "", &cell)?,
            };
        }
        let base = n_fixed + s.items.len() as u16;
        for (k, o) in [Outcome::Ok, Outcome::Ng, Outcome::Error, Outcome::Pending, Outcome::NotApplicable].iter().enumerate() {
            sheet.write_with_format(row, base + k as u16, m.count(*o) as u32, &center)?;
        }
        sheet.write_with_format(row, base + 5, m.throttled as f64, &center)?;
    }
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 12)?;
    sheet.set_column_width(2, 18)?;
    sheet.set_freeze_panes(1, n_fixed)?;
    for (c, _) in s.items.iter().enumerate() {
        sheet.set_column_width(n_fixed + c as u16, 9)?;
    }
    // A sheet per item that is NG or 検証不能 somewhere: where, and the 事象.
    for id in &s.items {
        let bad: Vec<&MemberSummary> = s.members.iter().filter(|m| matches!(m.outcomes.get(id), Some(Outcome::Ng | Outcome::Error))).collect();
        if bad.is_empty() {
            continue;
        }
        let ws = wb.add_worksheet().set_name(id)?;
        ws.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0).set_repeat_rows(0, 0)?;
        let heads = if ja { ["環境", "団体名", "結果", "事象"] } else { ["environment", "municipality", "outcome", "finding"] };
        for (c, h) in heads.iter().enumerate() {
            ws.write_with_format(0, c as u16, *h, &header)?;
        }
        for (r, m) in bad.iter().enumerate() {
            let row = r as u32 + 1;
            let o = m.outcomes.get(id).copied().unwrap_or(Outcome::Error);
            let (sja, sen) = m.findings.get(id).cloned().unwrap_or_default();
            ws.write_with_format(row, 0, &m.name, &cell)?;
            ws.write_with_format(row, 1, &m.municipality, &cell)?;
            ws.write_with_format(row, 2, o.label(lang), &fill(o))?;
            ws.write_with_format(row, 3, if ja { sja } else { sen }, &cell.clone().set_text_wrap())?;
        }
        ws.set_column_width(0, 16)?;
        ws.set_column_width(1, 12)?;
        ws.set_column_width(3, 100)?;
    }
    if !s.separation.is_empty() {
        let ws = wb.add_worksheet().set_name(if ja { "団体間分離（補足）" } else { "Separation (suppl.)" })?;
        let heads = if ja { ["共同利用", "結果", "事象", "観測"] } else { ["group", "outcome", "finding", "observations"] };
        for (c, h) in heads.iter().enumerate() {
            ws.write_with_format(0, c as u16, *h, &header)?;
        }
        for (r, row) in s.separation.iter().enumerate() {
            let rr = r as u32 + 1;
            ws.write_with_format(rr, 0, &row.group, &cell)?;
            ws.write_with_format(rr, 1, row.outcome.label(lang), &fill(row.outcome))?;
            ws.write_with_format(rr, 2, if ja { &row.summary } else { &row.summary_en }, &cell.clone().set_text_wrap())?;
            ws.write_with_format(rr, 3, row.observations.join("\n"), &cell.clone().set_text_wrap())?;
        }
        ws.set_column_width(2, 60)?;
        ws.set_column_width(3, 80)?;
    }
    wb.save(&path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, outcomes: &[(&str, Outcome)]) -> MemberSummary {
        MemberSummary {
            name: name.into(),
            municipality: format!("{name}市"),
            system: "住民記録".into(),
            shared: None,
            account: Some("111111111111".into()),
            unreachable: None,
            throttled: 0,
            outcomes: outcomes.iter().map(|(i, o)| (i.to_string(), *o)).collect(),
            findings: outcomes.iter().filter(|(_, o)| *o != Outcome::Ok).map(|(i, _)| (i.to_string(), ("事象".into(), "finding".into()))).collect(),
            dir: name.into(),
            exit_code: exit_code::for_worst(gcverify_checks::model::combine(outcomes.iter().map(|(_, o)| *o))),
        }
    }

    fn items() -> Vec<String> {
        vec!["A.1.1.1".into(), "A.1.2.1".into(), "E.6.1.2".into()]
    }

    #[test]
    fn the_matrix_marks_every_cell_and_names_where_items_fail() {
        let s = FleetSummary::new(
            "asp",
            None,
            items(),
            vec![
                member("b-town", &[("A.1.1.1", Outcome::Ok), ("A.1.2.1", Outcome::Error), ("E.6.1.2", Outcome::Ng)]),
                member("a-city", &[("A.1.1.1", Outcome::Ok), ("A.1.2.1", Outcome::Ok), ("E.6.1.2", Outcome::Ok)]),
            ],
            vec![],
        );
        let text = render_matrix(&s, Lang::Ja);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].starts_with("a-city") && lines[2].contains("○○ ○"), "{text}");
        assert!(lines[3].starts_with("b-town") && lines[3].contains("○! ×"), "{text}");
        assert!(text.contains("NG E.6.1.2: b-town"), "{text}");
        assert!(text.contains("検証不能 A.1.2.1: b-town"), "{text}");
        assert_eq!(s.exit_code(), 1);
    }

    #[test]
    fn a_separation_row_is_shown_after_the_items_marked_as_supplementary_and_counts() {
        let row = SeparationRow {
            group: "kyodo".into(),
            outcome: Outcome::Ng,
            summary: "他団体のデータを読めた: A市 → B町 (SQL)".into(),
            summary_en: "another municipality's data could be read: A市 → B町 (SQL)".into(),
            observations: vec![
                "A市 → B町: 読めた / could read — SQL b_town.residents: x".into(),
                "B町 → A市: 分離 / separated — SQL a_city.residents: y".into(),
            ],
        };
        let s = FleetSummary::new("f", None, items(), vec![member("a", &[("A.1.1.1", Outcome::Ok)])], vec![row]);
        let text = render_matrix(&s, Lang::Ja);
        assert!(text.contains("団体間のデータ分離（補足・標準の表外） [kyodo] NG: 他団体のデータを読めた: A市 → B町"), "{text}");
        assert!(text.contains("  A市 → B町: 読めた") && !text.contains("B町 → A市"), "only the pairs not separated: {text}");
        assert_eq!(s.exit_code(), 1, "the row counts in the exit code");
    }

    #[test]
    fn exit_code_is_the_worst_with_ng_above_incomplete() {
        let s = |ms: Vec<MemberSummary>| FleetSummary::new("f", None, items(), ms, vec![]);
        assert_eq!(s(vec![member("a", &[("A.1.1.1", Outcome::Ok)])]).exit_code(), 0);
        assert_eq!(s(vec![member("a", &[("A.1.1.1", Outcome::Ok)]), member("b", &[("A.1.1.1", Outcome::Error)])]).exit_code(), 2);
        assert_eq!(s(vec![member("a", &[("A.1.1.1", Outcome::Ng)]), member("b", &[("A.1.1.1", Outcome::Error)])]).exit_code(), 1);
        assert_eq!(s(vec![member("b", &[("A.1.1.1", Outcome::Error)]), member("a", &[("A.1.1.1", Outcome::Ng)])]).exit_code(), 1);
    }

    #[test]
    fn shards_merge_to_the_whole_and_refuse_overlaps() {
        let a = member("a", &[("A.1.1.1", Outcome::Ok)]);
        let b = member("b", &[("A.1.1.1", Outcome::Ng)]);
        let c = member("c", &[("A.1.1.1", Outcome::Error)]);
        let whole = FleetSummary::new("f", None, items(), vec![a.clone(), b.clone(), c.clone()], vec![]);
        let s1 = FleetSummary::new("f", Some("1/2".into()), items(), vec![a.clone(), c.clone()], vec![]);
        let s2 = FleetSummary::new("f", Some("2/2".into()), items(), vec![b.clone()], vec![]);
        assert_eq!(FleetSummary::merge(vec![s2.clone(), s1.clone()]).expect("merges"), whole);
        assert!(FleetSummary::merge(vec![s1.clone(), s1.clone()]).unwrap_err().to_string().contains("two shards"));
        let other = FleetSummary::new("g", None, items(), vec![b], vec![]);
        assert!(FleetSummary::merge(vec![s1, other]).is_err());
    }

    #[test]
    fn json_round_trips_and_xlsx_is_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = FleetSummary::new("f", None, items(), vec![member("a", &[("E.6.1.2", Outcome::Ng)])], vec![]);
        let p = write_fleet_json(&s, dir.path()).expect("json");
        assert_eq!(read_fleet_json(&p).expect("reads"), s);
        std::fs::write(&p, "{\n  \"schema_version\": 1,\n  \"fleet\": 3\n}").expect("write");
        assert!(read_fleet_json(&p).unwrap_err().to_string().contains("fleet.json:3:"));
        let x = write_fleet_xlsx(&s, dir.path(), Lang::Ja).expect("xlsx");
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&x).expect("opens");
        use calamine::Reader;
        let names = wb.sheet_names();
        assert_eq!(names, vec!["フリート".to_string(), "E.6.1.2".to_string()]);
        let range = wb.worksheet_range("フリート").expect("sheet");
        assert_eq!(range.get_value((1, 7)).map(|v| v.to_string()).as_deref(), Some("NG"), "E.6.1.2's column");
    }
}
