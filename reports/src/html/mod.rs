//! `report.html`: one self-contained page (inline CSS, a few lines of inline
//! JS, charts as inline SVG; nothing fetched, since 庁舎 terminals on LGWAN
//! have no internet). Both languages are in the page and a button switches
//! between them; `lang` picks the one shown first. Every text from the run
//! (resource names, tags, 事象) is escaped.

mod charts;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use gcverify_checks::catalog::{Catalog, Item};
use gcverify_checks::model::{Evidence, ItemResult, Lang, Outcome, RunReport};

use crate::provenance::Stamp;
use crate::{jst_minute, jst_second, rows, OUTCOMES};

/// The page, in `lang` first. `artefacts` is the run's output folder (the
/// load probe's interval logs lie under `load/` there).
pub fn render_html(report: &RunReport, lang: Lang, artefacts: &Path) -> String {
    render_html_with(report, &Catalog::builtin(), lang, artefacts, &Stamp::default())
}

/// As [`render_html`], with the catalog the rows come from (選択時の条件, 備考)
/// and the run's result.json digest for the header.
pub(crate) fn render_html_with(report: &RunReport, catalog: &Catalog, lang: Lang, artefacts: &Path, stamp: &Stamp) -> String {
    let mut o = String::with_capacity(256 * 1024);
    let first = if lang == Lang::En { "en" } else { "ja" };
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{first}\" class=\"{first}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} {} {}</title>\n<style>{CSS}{}{}</style>\n</head>\n<body>\n",
        esc("検証結果"),
        esc(&report.municipality),
        esc(&report.system),
        outcome_css(),
        page_css(report)
    );
    let _ = writeln!(
        o,
        "<header><h1>{} <small>{} {} ({})</small></h1><button id=\"lang-toggle\" type=\"button\">{}</button></header>",
        bi("検証結果", "Verification results"),
        esc(&report.municipality),
        esc(&report.system),
        esc(&report.environment),
        bi("English", "日本語")
    );
    summary(&mut o, report);
    provenance(&mut o, report, stamp);
    for w in &report.warnings {
        let _ = writeln!(o, "<p class=\"warning\">{}</p>", bi(&w.ja, &w.en));
    }
    if let (Some(ja), Some(en)) = (crate::lowered_minimums(report, Lang::Ja), crate::lowered_minimums(report, Lang::En)) {
        let _ = writeln!(o, "<p class=\"warning\" id=\"lowered-minimums\">{}</p>", bi(&ja, &en).replace('\n', "<br>"));
    }
    if let Some(c) = &report.comparison {
        comparison(&mut o, c);
    }
    table(&mut o, report, catalog);
    let _ = writeln!(o, "<section id=\"charts\"><h2>{}</h2>", bi("図", "Charts"));
    charts::all(&mut o, report, artefacts);
    o.push_str("</section>\n");
    let _ = write!(o, "<footer>gcverify {}</footer>\n<script>{JS}</script>\n</body>\n</html>\n", esc(&report.tool_version));
    o
}

fn summary(o: &mut String, r: &RunReport) {
    o.push_str("<section id=\"summary\"><dl>");
    let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", bi("環境", "Environment"), esc(&r.environment));
    let _ = write!(o, "<dt>{}</dt><dd>{} – {} JST</dd>", bi("実行期間", "Run"), jst_second(r.started_at), jst_second(r.finished_at));
    let (from, to) = verification_period(r);
    let _ = write!(o, "<dt>{}</dt><dd>{} – {} JST</dd>", bi("検証対象期間", "Period verified"), jst_minute(from), jst_minute(to));
    o.push_str("</dl><ul class=\"counts\">");
    for out in OUTCOMES {
        let _ = write!(o, "<li class=\"o-{}\">{} <b>{}</b></li>", css_outcome(out), outcome_label(out), r.count(out));
    }
    o.push_str("</ul></section>\n");
}

/// The earliest start and latest end over the rows (a 稼働率 row covers its recorded history).
fn verification_period(r: &RunReport) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let from = r.items.iter().map(|i| i.started_at).min().unwrap_or(r.started_at);
    let to = r.items.iter().map(|i| i.finished_at).max().unwrap_or(r.finished_at);
    (from.min(r.started_at), to.max(r.finished_at))
}

/// Run ID, commit, account, caller, 実行者, 基準の版, scenario and result.json
/// digests: what an auditor cross-checks with the xlsx's cover.
fn provenance(o: &mut String, r: &RunReport, stamp: &Stamp) {
    o.push_str("<section id=\"provenance\"><dl>");
    for f in crate::provenance::facts(r, stamp) {
        let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", bi(f.ja, f.en), bi(&f.value_ja, &f.value_en).replace('\n', "<br>"));
    }
    o.push_str("</dl></section>\n");
}

/// Paper: A4 landscape, the run ID and page x/y in the margins of every page.
fn page_css(r: &RunReport) -> String {
    // Only the characters a run ID has: the value goes inside a CSS string.
    let id: String = r.run_id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')).collect();
    format!(
        "@page{{size:A4 landscape;margin:14mm 10mm 12mm;@top-left{{content:\"gcverify 検証結果 実行ID {id}\";font:8pt sans-serif;color:#444}}@bottom-right{{content:counter(page) \" / \" counter(pages);font:8pt sans-serif;color:#444}}}}\n"
    )
}

fn table(o: &mut String, r: &RunReport, catalog: &Catalog) {
    let categories: BTreeSet<&str> = r.items.iter().map(|i| i.category.as_str()).collect();
    let _ = write!(
        o,
        "<section id=\"results\"><h2>{}</h2>\n<div class=\"filters\"><label>{} <select id=\"f-outcome\"><option value=\"\">*</option>",
        bi("検証結果", "Results"),
        bi("結果", "Result"),
    );
    for out in OUTCOMES {
        let _ = write!(o, "<option value=\"{}\">{} / {}</option>", css_outcome(out), esc(out.label(Lang::Ja)), esc(out.label(Lang::En)));
    }
    let _ = write!(o, "</select></label> <label>{} <select id=\"f-category\"><option value=\"\">*</option>", bi("大項目", "Category"));
    for c in &categories {
        let _ = write!(o, "<option value=\"{0}\">{0}</option>", esc(c));
    }
    let _ = writeln!(o, "</select></label> <span>{} <b id=\"shown\">{}</b> / {}</span></div>", bi("表示", "Shown"), r.items.len(), r.items.len());
    let _ = writeln!(
        o,
        "<table id=\"items\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        bi("項番", "ID"),
        bi("大項目", "Category"),
        bi("小項目", "Metric"),
        bi("選択レベル", "Level"),
        bi("種別", "Kind"),
        bi("結果", "Result"),
        bi("事象・確認観点・証跡", "Finding, points, evidence")
    );
    for i in &r.items {
        row(o, i, catalog.get(&i.id));
    }
    o.push_str("</tbody></table></section>\n");
}

fn row(o: &mut String, i: &ItemResult, item: Option<&Item>) {
    let oc = css_outcome(i.outcome);
    let _ = write!(
        o,
        "<tr class=\"item\" id=\"item-{id}\" data-outcome=\"{oc}\" data-category=\"{cat}\"><td>{id}</td><td>{cat}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"o-{oc}\">{}</td><td>",
        esc(&i.metric),
        esc(&i.selected_level),
        bi(i.kind.label(Lang::Ja), i.kind.label(Lang::En)),
        outcome_label(i.outcome),
        id = esc(&i.id),
        cat = esc(&i.category),
    );
    let _ = write!(o, "<div class=\"finding\">{}</div>", bi(&i.summary, &i.summary_en));
    // 原因 and 考察・分析 where the run knows them, as the xlsx's columns say.
    for (ja, en, f) in
        [("原因", "Cause", rows::cause as fn(&ItemResult, Lang) -> String), ("考察・分析", "Analysis", rows::analysis), ("対処", "Remedy", crate::remedy::text)]
    {
        let (tja, ten) = (f(i, Lang::Ja), f(i, Lang::En));
        if !tja.is_empty() {
            let _ = write!(o, "<div class=\"cause\"><b>{}</b> {}</div>", bi(ja, en), bi(&tja, &ten).replace('\n', "<br>"));
        }
    }
    let standard = item.filter(|c| !c.selection_condition.trim().is_empty() || !c.notes.trim().is_empty());
    if !i.points.is_empty() || !i.evidence.is_empty() || standard.is_some() {
        let _ = write!(
            o,
            "<details><summary>{}</summary>",
            bi(
                &format!("確認観点 {}件・証跡 {}件", i.points.len(), i.evidence.len()),
                &format!("{} point(s), {} observation(s)", i.points.len(), i.evidence.len())
            )
        );
        if let Some(c) = standard {
            // The standard's own words, as the catalog transcribes them (Japanese only).
            let _ = write!(
                o,
                "<dl class=\"standard\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
                bi("選択レベル", "Selected level"),
                esc(&rows::level_with_label(&i.selected_level, Some(c))),
                bi("選択時の条件", "Conditions for the level"),
                esc(c.selection_condition.trim()).replace('\n', "<br>"),
                bi("備考", "Notes"),
                esc(c.notes.trim()).replace('\n', "<br>")
            );
        }
        if !i.points.is_empty() {
            let _ = write!(
                o,
                "<table class=\"points\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
                bi("確認観点", "Point"),
                bi("検証手段", "Verifier"),
                bi("結果", "Result"),
                bi("事象", "Finding")
            );
            for p in &i.points {
                let refs = if p.refers_to.is_empty() { String::new() } else { format!("<br><small>{}</small>", esc(&p.refers_to.join(" / "))) };
                let _ = write!(
                    o,
                    "<tr><td><code>{}</code> {}{refs}</td><td>{}</td><td class=\"o-{}\">{}</td><td>{}</td></tr>",
                    esc(&p.id),
                    bi(&p.text, &p.text_en),
                    bi(p.verifier_label(Lang::Ja), p.verifier_label(Lang::En)),
                    css_outcome(p.outcome),
                    outcome_label(p.outcome),
                    bi(&p.summary, &p.summary_en)
                );
            }
            o.push_str("</table>");
        }
        if !i.evidence.is_empty() {
            o.push_str("<ul class=\"evidence\">");
            for e in &i.evidence {
                evidence(o, e);
            }
            o.push_str("</ul>");
        }
        o.push_str("</details>");
    }
    o.push_str("</td></tr>\n");
}

fn evidence(o: &mut String, e: &Evidence) {
    let region = e.region.as_deref().map(|r| format!(" ({})", esc(r))).unwrap_or_default();
    let _ = write!(
        o,
        "<li{}>{}<span class=\"ev-{:?}\">{}</span> <code>{}</code>{region}: {} <small>— {} · {}</small></li>",
        e.id.as_deref().map(|id| format!(" id=\"{}\"", esc(id))).unwrap_or_default(),
        e.id.as_deref().map(|id| format!("<b class=\"eid\">{}</b> ", esc(id))).unwrap_or_default(),
        e.status,
        bi(e.status.label(Lang::Ja), e.status.label(Lang::En)),
        esc(&e.subject),
        bi(&e.detail.ja, &e.detail.en),
        esc(&e.source),
        jst_second(e.observed_at)
    );
}

/// 前回比, above the table: the baseline, counts per kind of change, the changed rows.
fn comparison(o: &mut String, c: &gcverify_checks::comparison::Comparison) {
    use crate::compare;
    let both = |f: &dyn Fn(Lang) -> String| bi(&f(Lang::Ja), &f(Lang::En));
    let _ = writeln!(o, "<section id=\"comparison\"><h2>{}: {}</h2>", bi(compare::title(Lang::Ja), compare::title(Lang::En)), both(&|l| compare::counts(c, l)));
    let _ = writeln!(o, "<p>{}</p>", both(&|l| compare::baseline_line(c, l)));
    for n in &c.notes {
        let _ = writeln!(o, "<p class=\"warning\">{}</p>", bi(&n.ja, &n.en));
    }
    if !c.changes.is_empty() {
        let _ = writeln!(
            o,
            "<table class=\"changes\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            bi("項番", "ID"),
            bi("小項目", "Metric"),
            bi("変化", "Change"),
            bi("結果", "Result"),
            bi("事象", "Finding")
        );
        for ch in &c.changes {
            let after = ch.after.map(css_outcome).unwrap_or("na");
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td><b>{}</b></td><td class=\"o-{after}\">{}</td><td>{}</td></tr>",
                esc(&ch.id),
                esc(&ch.metric),
                bi(ch.kind.label(Lang::Ja), ch.kind.label(Lang::En)),
                both(&|l| compare::transition(ch, l)),
                both(&|l| compare::finding(ch, l))
            );
        }
        o.push_str("</tbody></table>\n");
    }
    o.push_str("</section>\n");
}

/// `× NG` in both languages: the symbol of style.rs, then the label.
fn outcome_label(o: Outcome) -> String {
    format!("<span class=\"sym\">{}</span> {}", esc(crate::style::look(o).symbol), bi(o.label(Lang::Ja), o.label(Lang::En)))
}

/// The outcome classes' colours, from the one table (style.rs).
fn outcome_css() -> String {
    let mut css = String::new();
    for l in crate::style::LOOKS {
        let _ = write!(css, ".o-{}{{background:{};color:{}}}", css_outcome(l.outcome), crate::style::hex(l.fill), crate::style::hex(l.ink));
    }
    // Evidence states in the ink of the outcome they lead to.
    let ink = |o: Outcome| crate::style::hex(crate::style::look(o).ink);
    let _ = write!(
        css,
        ".ev-Pass{{color:{}}}.ev-Fail{{color:{}}}.ev-Error{{color:{}}}",
        ink(Outcome::Ok),
        crate::style::hex(crate::style::look(Outcome::Ng).fill),
        ink(Outcome::Error)
    );
    css.push('\n');
    css
}

fn css_outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Ng => "ng",
        Outcome::Error => "error",
        Outcome::NotApplicable => "na",
        Outcome::Pending => "pending",
    }
}

/// Both languages; CSS shows the one the page is in.
pub(crate) fn bi(ja: &str, en: &str) -> String {
    if ja == en {
        return esc(ja);
    }
    format!("<span class=\"ja\">{}</span><span class=\"en\">{}</span>", esc(ja), esc(en))
}

/// HTML text and attribute escaping.
pub(crate) fn esc(s: &str) -> String {
    crate::markup::escape(s, crate::markup::Markup::Html)
}

const CSS: &str = r#"
body{font-family:"Noto Sans JP","IPAexGothic","IPAGothic","Hiragino Sans","Meiryo",sans-serif;margin:1.5em;color:#222;font-size:14px}
html.ja .en,html.en .ja{display:none}
header{display:flex;justify-content:space-between;align-items:center}
h1 small{font-weight:normal;font-size:60%;color:#555}
#summary dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0 0 .6em}
#summary dt{font-weight:bold}
.counts{display:flex;gap:.6em;list-style:none;padding:0}
.counts li{padding:.3em .8em;border-radius:4px;border:1px solid #ccc}
.o-ng,.o-error{font-weight:bold}
.sym{font-weight:bold}
.filters{margin:.5em 0}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:.25em .4em;vertical-align:top;text-align:left}
thead th{background:#ddebf7;position:sticky;top:0}
#items td:nth-child(-n+6):not(:nth-child(2)):not(:nth-child(3)){white-space:nowrap}
table.points{margin:.4em 0;font-size:95%}
table.changes td:nth-child(-n+4){white-space:nowrap}
ul.evidence{margin:.3em 0;padding-left:1.2em;font-size:92%}
.ev-Fail{font-weight:bold}.ev-Info{color:#555}
details summary{cursor:pointer;color:#1f4e79}
.warning{background:#fff2cc;padding:.4em;border-left:4px solid #bf9000}
.chart{margin:1em 0;page-break-inside:avoid}
.chart svg{max-width:100%;height:auto;border:1px solid #ddd}
.nodata{color:#666;font-style:italic}
footer{margin-top:2em;color:#888;font-size:85%}
#provenance dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:0 0 .6em;font-size:90%}
#provenance dt{font-weight:bold}#provenance dd{margin:0;overflow-wrap:anywhere}
.cause{font-size:92%;margin-top:.2em}
dl.standard{display:grid;grid-template-columns:max-content auto;gap:.1em .8em;font-size:92%;margin:.3em 0}
dl.standard dd{margin:0}
b.eid{font-family:monospace;font-weight:normal;color:#333}
#results{overflow-x:auto}
#items td,code{overflow-wrap:anywhere}
@media (max-width:600px){
 body{margin:.5em;font-size:13px}#summary dl,#provenance dl{grid-template-columns:1fr}.counts{flex-wrap:wrap}
 /* A phone reads each row as a card: ID, metric, level, kind and result on a line, the finding under them. */
 #items thead,#items td:nth-child(2){display:none}
 #items,#items tbody{display:block}
 #items tr.item{display:flex;flex-wrap:wrap;border:1px solid #bbb;margin:0 0 .5em}
 #items tr.item td{border:none}
 #items tr.item td:last-child{flex-basis:100%;border-top:1px solid #ddd}
}
@media print{
 body{margin:0;font-size:9pt}
 #lang-toggle,.filters{display:none}
 details>summary{list-style:none;color:#222}
 details::details-content{content-visibility:visible;display:block}
 thead th{position:static}
 tr,.chart,li{break-inside:avoid}
 .counts li{border:1px solid #666}
 #results{overflow:visible}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

const JS: &str = r#"
(function(){
  var root=document.documentElement;
  document.getElementById('lang-toggle').addEventListener('click',function(){
    var en=root.classList.contains('ja');
    root.classList.toggle('ja',!en);root.classList.toggle('en',en);root.lang=en?'en':'ja';
  });
  var fo=document.getElementById('f-outcome'),fc=document.getElementById('f-category'),shown=document.getElementById('shown');
  function apply(){
    var n=0;
    document.querySelectorAll('tr.item').forEach(function(tr){
      var show=(!fo.value||tr.dataset.outcome===fo.value)&&(!fc.value||tr.dataset.category===fc.value);
      tr.hidden=!show;if(show)n++;
    });
    shown.textContent=n;
  }
  fo.addEventListener('change',apply);fc.addEventListener('change',apply);apply();
  // Paper shows the evidence of every row, opened or not.
  var opened=[];
  window.addEventListener('beforeprint',function(){document.querySelectorAll('details:not([open])').forEach(function(d){d.open=true;opened.push(d);});});
  window.addEventListener('afterprint',function(){opened.forEach(function(d){d.open=false;});opened=[];});
  document.body.setAttribute('data-ready','1');
})();
"#;

#[cfg(test)]
mod tests;
