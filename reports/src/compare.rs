//! 前回比 as every format says it: a headline with the counts per kind of
//! change, then one line per changed row. The words are made here once; the
//! formats only lay them out.

use std::fmt::Write as _;

use gcverify_checks::comparison::{Change, ChangeKind, Comparison};
use gcverify_checks::model::{Lang, Outcome};

use crate::jst_minute;
use crate::rows::readable;

/// Title of the section / sheet.
pub(crate) fn title(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "前回比",
        Lang::En => "Since the previous run",
    }
}

/// `前回: 20261130T170000Z-… (2026-12-01 02:00 JST, prod)` or that there was none.
pub(crate) fn baseline_line(c: &Comparison, lang: Lang) -> String {
    match (&c.baseline, lang) {
        (Some(b), Lang::Ja) => format!("前回: {} ({} JST, {}) — {}", b.run_id, jst_minute(b.started_at), b.environment, b.source),
        (Some(b), Lang::En) => format!("previous: {} ({} JST, {}) — {}", b.run_id, jst_minute(b.started_at), b.environment, b.source),
        (None, Lang::Ja) => "前回: なし".to_string(),
        (None, Lang::En) => "previous: none".to_string(),
    }
}

/// `新たにNG 1 / 新たに検証不能 0 / …`, or `変化なし` when nothing changed.
pub(crate) fn counts(c: &Comparison, lang: Lang) -> String {
    if c.is_empty() {
        return match lang {
            Lang::Ja => "変化なし".into(),
            Lang::En => "no change".into(),
        };
    }
    ChangeKind::ALL.iter().map(|&k| format!("{} {}", k.label(lang), c.count(k))).collect::<Vec<_>>().join(" / ")
}

fn outcome(o: Option<Outcome>, lang: Lang) -> &'static str {
    match (o, lang) {
        (Some(o), _) => o.label(lang),
        (None, Lang::Ja) => "（未実施）",
        (None, Lang::En) => "(not run)",
    }
}

/// `OK → NG`
pub(crate) fn transition(ch: &Change, lang: Lang) -> String {
    format!("{} → {}", outcome(ch.before, lang), outcome(ch.after, lang))
}

/// The 事象 now (or, for a row not run this time, the last one seen).
pub(crate) fn finding(ch: &Change, lang: Lang) -> String {
    let now = ch.after_summary.as_ref().or(ch.before_summary.as_ref()).map(|m| readable(m.get(lang))).unwrap_or_default();
    match (&ch.before_summary, ch.kind) {
        (Some(before), ChangeKind::FindingChanged) => {
            format!("{now} ({}: {})", if lang == Lang::Ja { "前回" } else { "before" }, readable(before.get(lang)))
        }
        _ => now,
    }
}

/// The 前回比 as `検証結果.md` has it (`report --diff --format md`).
pub fn render_comparison_markdown(c: &Comparison, lang: Lang) -> String {
    let mut out = String::new();
    crate::markdown::comparison(&mut out, c, lang);
    out
}

/// The whole section as plain text: the terminal (after the table, and
/// `report --diff`) and JUnit's system-out.
pub fn render_comparison(c: &Comparison, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {} — {}", title(lang), counts(c, lang), baseline_line(c, lang));
    for n in &c.notes {
        let _ = writeln!(out, "  ! {}", n.get(lang));
    }
    for ch in &c.changes {
        let _ = writeln!(out, "  [{}] {} {}: {} — {}", ch.kind.label(lang), ch.id, ch.metric, transition(ch, lang), finding(ch, lang));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::compared_report;
    use gcverify_checks::catalog::Catalog;
    use gcverify_checks::comparison::compare;

    /// Every format says the newly NG row, and none says 前回比 without a comparison.
    #[test]
    fn every_format_carries_the_comparison() {
        let (report, id) = compared_report();
        let table = crate::render_table(&report, Lang::Ja, Some(200), false);
        assert!(table.contains("前回比: 新たにNG 1") && table.contains(&format!("[新たにNG] {id} ")), "{table}");

        let md = crate::render_markdown(&report, Lang::Ja);
        let section = md.find("## 前回比: 新たにNG 1").expect("md section");
        assert!(section < md.find("| 項番 | 小項目 | 選択レベル").expect("main table"), "前回比 comes before the table");
        assert!(md.contains(&format!("| {id} | ")) && md.contains("| **新たにNG** | OK → NG |"), "{md}");

        let junit = crate::render_junit(&report, Lang::Ja);
        assert!(junit.contains("前回比\" tests=\"1\" failures=\"1\" errors=\"0\""), "{junit}");
        assert!(junit.contains("type=\"newly_ng\">未暗号化のボリューム vol-1 &lt;b&gt;</failure>"), "{junit}");
        let ng = report.count(Outcome::Ng);
        assert!(junit.contains(&format!("tests=\"{}\" failures=\"{}\"", report.items.len() + 1, ng + 1)), "totals include the 前回比 suite");

        let html = crate::render_html(&report, Lang::Ja, std::path::Path::new("."));
        let at = html.find("<section id=\"comparison\">").expect("html section");
        assert!(at < html.find("<section id=\"results\">").expect("results"));
        assert!(html.contains("未暗号化のボリューム vol-1 &lt;b&gt;") && !html.contains("vol-1 <b>"), "escaped");

        let json: serde_json::Value = serde_json::from_str(&crate::to_json_string(&report, &Catalog::builtin()).expect("json")).expect("JSON");
        assert_eq!(json["comparison"]["changes"][0]["kind"], "newly_ng");
        assert_eq!(json["comparison"]["baseline"]["source"], "history/20261102T000000Z-00000001.json");
        let back: gcverify_checks::RunReport = serde_json::from_value({
            let mut v = json.clone();
            v.as_object_mut().expect("object").retain(|k, _| k != "schema_version" && k != "counts");
            v
        })
        .expect("reads back");
        assert_eq!(back.comparison, report.comparison);

        let plain = crate::testutil::sample_report();
        for text in [crate::render_markdown(&plain, Lang::Ja), crate::render_junit(&plain, Lang::Ja), crate::render_table(&plain, Lang::Ja, None, false)] {
            assert!(!text.contains("前回比"), "no comparison asked: no section");
        }
        assert!(!crate::render_html(&plain, Lang::Ja, std::path::Path::new(".")).contains("id=\"comparison\""));
    }

    /// No change: one passing JUnit case, 変化なし everywhere.
    #[test]
    fn an_unchanged_night_reads_as_no_change() {
        let mut report = crate::testutil::sample_report();
        let base = report.clone();
        report.comparison = Some(compare(Some((&base, "h.json".into())), &report));
        let junit = crate::render_junit(&report, Lang::Ja);
        assert!(junit.contains("前回比\" tests=\"1\" failures=\"0\" errors=\"0\"") && junit.contains("name=\"変化なし\""), "{junit}");
        assert!(crate::render_markdown(&report, Lang::Ja).contains("## 前回比: 変化なし"));
        assert!(crate::render_table(&report, Lang::En, None, false).contains("Since the previous run: no change"));
    }

    #[test]
    fn text_says_no_change_or_lists_each_change_with_its_transition() {
        let before = crate::testutil::sample_report();
        let same = compare(Some((&before, "history/x.json".into())), &before);
        let t = render_comparison(&same, Lang::Ja);
        assert!(t.starts_with("前回比: 変化なし — 前回: "), "{t}");
        assert!(t.contains("history/x.json"), "{t}");
        assert_eq!(t.lines().count(), 1, "{t}");

        let mut after = before.clone();
        let i = after.items.iter().position(|i| i.outcome == Outcome::Ok).expect("an OK row");
        after.items[i].outcome = Outcome::Ng;
        after.items[i].summary = "未暗号化のボリューム vol-1".into();
        after.items[i].summary_en = "unencrypted volume vol-1".into();
        let c = compare(Some((&before, "h".into())), &after);
        let t = render_comparison(&c, Lang::Ja);
        assert!(t.contains("新たにNG 1"), "{t}");
        let id = &after.items[i].id;
        assert!(t.contains(&format!("[新たにNG] {id} ")) && t.contains("OK → NG — 未暗号化のボリューム vol-1"), "{t}");
        let en = render_comparison(&c, Lang::En);
        assert!(en.contains("[newly NG]") && en.contains("unencrypted volume"), "{en}");
    }
}
