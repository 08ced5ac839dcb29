use std::path::Path;

use chrono::Duration;
use gcverify_checks::model::{DayAvailability, Evidence, EvidenceStatus, Figure, Lang, TimeSpan};

use super::render_html;
use crate::testutil::{sample_report, t0, write_hlog};

fn ev(subject: &str, figure: Figure) -> Evidence {
    Evidence {
        id: None,
        status: EvidenceStatus::Pass,
        subject: subject.into(),
        region: None,
        detail: "measured".into(),
        source: "test".into(),
        claim: None,
        observed_at: t0(),
        figure: Some(figure),
    }
}

fn item_mut<'a>(r: &'a mut gcverify_checks::model::RunReport, id: &str) -> &'a mut gcverify_checks::model::ItemResult {
    r.items.iter_mut().find(|i| i.id == id).expect("item in the sample")
}

#[test]
fn fifty_rows_both_languages_counts_and_nothing_fetched() {
    let report = sample_report();
    let html = render_html(&report, Lang::Ja, Path::new("/nonexistent"));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"ja\" class=\"ja\">"), "{}", &html[..80]);
    assert_eq!(html.matches("<tr class=\"item\"").count(), 50);
    for i in &report.items {
        assert!(html.contains(&format!("id=\"item-{}\" data-outcome=", i.id)), "{}", i.id);
    }
    // Both languages are in the page; the toggle only switches which shows.
    assert!(html.contains("<span class=\"ja\">検証結果</span><span class=\"en\">Verification results</span>"));
    assert!(html.contains("finding 0 for ") && html.contains("の事象 0"));
    for o in crate::OUTCOMES {
        assert!(html.contains(&format!("<b>{}</b>", report.count(o))), "{o:?}");
    }
    // The first row's two points and evidence sit in its details.
    assert!(html.contains("<code>probe-point</code>") && html.contains("<code>desk-point</code>"));
    assert!(html.contains("E.7.1.1 ログを取得する"));
    // Self-contained: no external script, stylesheet, font or image.
    for bad in ["src=\"http", "href=\"http", "<link", "@import", "url(", "<img", "<script src"] {
        assert!(!html.contains(bad), "page references {bad}");
    }
    assert_eq!(html.matches("<script>").count(), 1);
    let en = render_html(&report, Lang::En, Path::new("/nonexistent"));
    assert!(en.starts_with("<!DOCTYPE html>\n<html lang=\"en\" class=\"en\">"));
}

#[test]
fn charts_without_data_say_so_and_draw_nothing() {
    let html = render_html(&sample_report(), Lang::Ja, Path::new("/nonexistent"));
    assert!(!html.contains("<svg"), "no figure, no chart");
    assert!(html.contains("この実行には負荷試験の測定結果がない"));
    assert!(html.contains("この実行には稼働率の記録がない"));
    assert!(html.contains("この実行には復旧点の測定結果がない"));
    // No drill in this run: no drill chart at all.
    assert!(!html.contains("chart-drill"));
}

#[test]
fn every_text_from_the_run_is_escaped() {
    let mut report = sample_report();
    let evil = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>";
    report.municipality = evil.into();
    report.run_by = Some(evil.into());
    let first = &mut report.items[0];
    first.metric = evil.into();
    first.category = evil.into();
    first.summary = evil.into();
    first.points[0].text = evil.into();
    first.evidence.push(ev(evil, Figure::RpoAge { resource: evil.into(), age_secs: 3600, limit_secs: Some(7200) }));
    let rpo = item_mut(&mut report, "A.1.3.1");
    rpo.evidence.push(ev(evil, Figure::RpoAge { resource: evil.into(), age_secs: 3600, limit_secs: Some(7200) }));
    let html = render_html(&report, Lang::Ja, Path::new("/nonexistent"));
    assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
    assert!(!html.contains("<img"), "no injected element");
    assert!(!html.contains("onerror=alert(2)>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&lt;img"), "escaped text present");
    // The chart label (inside the SVG) is escaped too.
    let svg = &html[html.find("id=\"chart-rpo\"").expect("rpo chart")..];
    let svg = &svg[..svg.find("</svg>").expect("svg drawn")];
    assert!(svg.contains("&lt;script&gt;"), "{svg}");
    // A filter value with a quote cannot break out of its attribute.
    assert!(html.contains("data-category=\"&lt;script&gt;"));
}

#[test]
fn rpo_availability_latency_and_drill_charts_from_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("load")).expect("load dir");
    write_hlog(&dir.path().join("load/normal.hlog"), &[("住民票照会", &[12, 15, 20, 25, 40, 90]), ("ログイン", &[30, 35, 50])]);
    let mut report = sample_report();
    // The run wrote the log elsewhere (another machine): found beside result.json by name.
    item_mut(&mut report, "B.2.1.4").evidence.push(ev(
        "histograms",
        Figure::LatencyLog { phase: "normal".into(), log: "/elsewhere/load/normal.hlog".into(), threshold_ms: 3000, percentile: "p95".into() },
    ));
    item_mut(&mut report, "B.2.1.5").evidence.push(ev(
        "histograms",
        Figure::LatencyLog { phase: "peak".into(), log: "/elsewhere/load/peak.hlog".into(), threshold_ms: 5000, percentile: "p95".into() },
    ));
    let rpo = item_mut(&mut report, "A.1.3.1");
    rpo.evidence.push(ev("db", Figure::RpoAge { resource: "juki-db".into(), age_secs: 3 * 3600, limit_secs: Some(24 * 3600) }));
    rpo.evidence.push(ev("vol", Figure::RpoAge { resource: "juki-app-volume".into(), age_secs: 30 * 3600, limit_secs: Some(24 * 3600) }));
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    item_mut(&mut report, "A.1.5.1").evidence.push(ev(
        "稼働率",
        Figure::Availability {
            from: t0(),
            to: t0() + Duration::days(3),
            required_percent: 99.5,
            slot_secs: 60,
            days: vec![
                DayAvailability { date: day("2026-11-02"), up: 540, down: 0, unknown: 0 },
                DayAvailability { date: day("2026-11-03"), up: 500, down: 40, unknown: 0 },
                DayAvailability { date: day("2026-11-04"), up: 0, down: 0, unknown: 540 },
            ],
            outages: vec![TimeSpan { start: t0() + Duration::hours(25), end: t0() + Duration::hours(25) + Duration::minutes(40) }],
            budget_allowed_minutes: 8.1,
            budget_used_minutes: 40.0,
        },
    ));
    let html = render_html(&report, Lang::Ja, dir.path());
    let section = |id: &str| {
        let start = html.find(&format!("id=\"chart-{id}\"")).unwrap_or_else(|| panic!("chart {id}"));
        let rest = &html[start..];
        rest[..rest.find("</div>").expect("chart end")].to_string()
    };
    let latency = section("latency");
    assert_eq!(latency.matches("<svg").count(), 1, "one chart for the phase whose log exists: {latency}");
    assert!(latency.contains("住民票照会 (n=6)") && latency.contains("ログイン (n=3)"), "legend names operations and counts");
    assert!(latency.contains("limit 3000 ms") && latency.contains("judged p95"), "the verdict's limit and percentile");
    assert!(!latency.contains("5000"), "only the limit this row was judged by");
    assert!(latency.contains("ヒストグラムのログ /elsewhere/load/peak.hlog が見つからない"), "the missing one says so");
    let avail = section("availability");
    assert_eq!(avail.matches("<svg").count(), 3, "heat map, timeline, budget");
    assert!(avail.contains("<td>2026-11-03</td><td>92.593%</td><td>500/40/0</td>"), "{avail}");
    assert!(avail.contains("<td>2026-11-04</td><td>-</td>"), "a day without data is not 100%");
    assert!(avail.contains("停止 40 min"));
    let rpo = section("rpo");
    assert_eq!(rpo.matches("<svg").count(), 1);
    assert!(rpo.contains("juki-db") && rpo.contains("juki-app-volume"));
    // Red for the resource over its limit, green for the one within.
    assert!(rpo.contains("#D62728") && rpo.contains("#54A054"), "{rpo}");
    assert!(!html.contains("chart-drill"));

    item_mut(&mut report, "A.1.3.2").evidence.push(ev(
        "drill",
        Figure::DrillTiming { resource: "juki-db".into(), restore_secs: Some(1800), health_secs: Some(300), rto_secs: Some(6 * 3600), healthy: true },
    ));
    let html = render_html(&report, Lang::Ja, dir.path());
    let drill = &html[html.find("id=\"chart-drill\"").expect("drill chart when the run has a drill")..];
    assert!(drill[..drill.find("</div>").expect("end")].contains("<svg"));
}

/// The latency chart shows what was judged: the axis ends where the samples
/// do, the curve stops there, the limit and the judged percentile are drawn.
#[test]
fn latency_axis_ends_at_the_sample_count_and_marks_what_was_judged() {
    use super::charts::{axis_end, judged_quantile, minutes_text, nines, plotted};
    assert_eq!(judged_quantile("p95"), Some(0.95));
    assert!(judged_quantile("p99.9").is_some_and(|q| (q - 0.999).abs() < 1e-12));
    assert_eq!(judged_quantile("max"), None);
    assert!((axis_end(100) - 2.0).abs() < 1e-9, "99 % for 100 answers");
    assert!((axis_end(1000) - 3.0).abs() < 1e-9, "99.9 % for 1,000");
    assert!((axis_end(200) - nines(0.995)).abs() < 1e-9);
    // A distribution resolved to 99.9999 % is cut at what 200 samples say.
    let points = [(0.5, 10.0), (0.9, 20.0), (0.99, 30.0), (0.999, 40.0), (0.999999, 50.0)];
    let cut = plotted(&points, axis_end(200));
    assert!(cut.iter().all(|(x, _)| *x <= axis_end(200) + 1e-9), "{cut:?}");
    assert_eq!(cut.last().map(|p| p.1), Some(50.0), "the maximum seen at the axis' end");
    assert_eq!(minutes_text(1.3 / 60.0), "1.3 s");
    assert_eq!(minutes_text(0.3 / 60.0), "0.3 s");
    assert_eq!(minutes_text(0.03 / 60.0), "0.03 s");
    assert_eq!(minutes_text(0.0), "0 s");
    assert_eq!(minutes_text(5.5), "5.5 min");
    assert_eq!(minutes_text(180.0), "3.0 h");
}

/// A day the period covers for 6 seconds is hatched 観測不足, not a green 100 % day.
#[test]
fn a_day_observed_in_part_is_hatched_not_green() {
    use super::charts::day_coverage_secs;
    let day = chrono::NaiveDate::parse_from_str("2026-11-02", "%Y-%m-%d").expect("date");
    // t0 is 2026-11-02 10:00 JST.
    assert_eq!(day_coverage_secs(day, (t0(), t0() + Duration::seconds(6))), 6);
    assert_eq!(day_coverage_secs(day, (t0() - Duration::days(2), t0() + Duration::days(2))), 86_400);
    assert_eq!(day_coverage_secs(day, (t0() + Duration::days(1), t0() + Duration::days(2))), 0);
    let mut report = sample_report();
    item_mut(&mut report, "A.1.5.1").evidence.push(ev(
        "稼働率",
        Figure::Availability {
            from: t0(),
            to: t0() + Duration::seconds(6),
            required_percent: 99.5,
            slot_secs: 1,
            days: vec![DayAvailability { date: day, up: 6, down: 0, unknown: 0 }],
            outages: vec![],
            budget_allowed_minutes: 0.0005,
            budget_used_minutes: 0.0,
        },
    ));
    let html = render_html(&report, Lang::Ja, Path::new("/nonexistent"));
    let at = html.find("id=\"chart-availability\"").expect("chart");
    let chart = &html[at..];
    let svg = &chart[chart.find("<svg").expect("calendar")..chart.find("</svg>").expect("end")];
    assert!(!svg.contains("fill=\"#008000\""), "not painted a dark-green 100 % day: {svg:.600}");
    assert!(svg.matches("<polyline").count() >= 4, "hatched: {svg:.600}");
    assert!(chart.contains("100.000%（観測不足 6.0 s / 24 h）"), "the table says so too");
}

/// The RPO chart lists every in-scope resource (unmeasured ones as such) and its
/// SVG says the figures' numbers: each bar's length, read back through the axis's
/// own tick labels, is the resource's age; each black mark is its limit; ticks read
/// distinct and in type of 10 px or more.
#[test]
fn rpo_chart_lists_every_resource_and_its_bars_are_the_figures() {
    use super::charts::{duration_ticks, rpo_rows, tick_label, RPO_PLOT};
    let mut report = sample_report();
    let rpo = item_mut(&mut report, "A.1.3.1");
    rpo.evidence.push(ev("db", Figure::RpoAge { resource: "juki-db".into(), age_secs: 3 * 3600, limit_secs: Some(24 * 3600) }));
    rpo.evidence.push(ev("vol", Figure::RpoAge { resource: "juki-app-volume".into(), age_secs: 30 * 3600, limit_secs: Some(24 * 3600) }));
    rpo.evidence.push(ev("i-1", Figure::RpoUnmeasured { resource: "i-0juki1".into(), limit_secs: Some(24 * 3600), violation: false }));
    rpo.evidence.push(ev("db2", Figure::RpoUnmeasured { resource: "juki-db2".into(), limit_secs: None, violation: true }));
    let rows = rpo_rows(&report);
    assert_eq!(rows.len(), 4);
    let html = render_html(&report, Lang::Ja, Path::new("/nonexistent"));
    let at = html.find("id=\"chart-rpo\"").expect("rpo chart");
    let chart = &html[at..];
    let svg = &chart[chart.find("<svg").expect("svg")..chart.find("</svg>").expect("end") + 6];
    let doc = roxmltree::Document::parse(svg).expect("the SVG parses");
    let texts: Vec<(f64, f64, String, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
            let size = n.attribute("font-size").and_then(|v| v.trim_end_matches("px").parse::<f64>().ok()).unwrap_or(0.0);
            (num("x"), num("y"), n.text().unwrap_or("").trim().to_string(), size)
        })
        .collect();
    assert!(texts.iter().all(|t| t.3 >= 10.0), "every label ≥ 10 px: {texts:?}");
    // Every resource named, the unmeasured ones said so.
    for name in ["juki-db", "juki-app-volume", "i-0juki1", "juki-db2"] {
        assert!(texts.iter().any(|t| t.2 == name), "{name} listed: {texts:?}");
    }
    assert!(texts.iter().any(|t| t.2.starts_with("未確認")), "not checked said");
    assert!(texts.iter().any(|t| t.2.contains("復旧点なし")), "nothing to recover from said");
    // Ticks: distinct labels, read as the axis's scale (px per hour).
    let ticks: Vec<(f64, f64)> = texts.iter().filter_map(|t| t.2.strip_suffix(" h").and_then(|v| v.parse::<f64>().ok()).map(|v| (t.0, v))).collect();
    assert!(ticks.len() >= 3, "{texts:?}");
    let labels: Vec<&str> = texts.iter().filter(|t| t.2.ends_with(" h")).map(|t| t.2.as_str()).collect();
    let mut distinct = labels.clone();
    distinct.dedup();
    assert_eq!(distinct, labels, "no tick label twice");
    let (x_zero, px_per_h) = (ticks[0].0, (ticks[ticks.len() - 1].0 - ticks[0].0) / (ticks[ticks.len() - 1].1 - ticks[0].1));
    assert_eq!(x_zero, f64::from(RPO_PLOT.0));
    // Bars (green/red rects), top to bottom = the measured figures in order.
    let fill = |n: &roxmltree::Node| n.attribute("fill").unwrap_or("").to_ascii_uppercase();
    let bars: Vec<(f64, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && ["#54A054", "#D62728"].contains(&fill(n).as_str()))
        .map(|n| (n.attribute("width").and_then(|w| w.parse::<f64>().ok()).expect("width"), fill(&n)))
        .collect();
    let measured: Vec<_> = rows.iter().filter(|r| r.age_secs.is_some()).collect();
    assert_eq!(bars.len(), measured.len(), "{svg}");
    for (bar, row) in bars.iter().zip(&measured) {
        let hours = bar.0 / px_per_h;
        let age = row.age_secs.expect("measured") as f64 / 3600.0;
        assert!((hours - age).abs() < 0.2, "{}: bar {hours:.2} h, figure {age:.2} h", row.resource);
        assert_eq!(bar.1, if row.violation { "#D62728" } else { "#54A054" }, "{}", row.resource);
    }
    // Limits: one black mark per row that has one, at the limit.
    let marks: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke").is_some_and(|s| s.eq_ignore_ascii_case("#000000")))
        .filter_map(|n| {
            let pts: Vec<(f64, f64)> = n
                .attribute("points")?
                .split_whitespace()
                .filter_map(|p| p.split_once(',').and_then(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?))))
                .collect();
            // Vertical and taller than a tick: a limit mark.
            (pts.len() == 2 && pts[0].0 == pts[1].0 && (pts[1].1 - pts[0].1).abs() > 10.0).then_some(pts[0].0)
        })
        .collect();
    let limits: Vec<f64> = rows.iter().filter_map(|r| r.limit_secs).map(|l| l as f64 / 3600.0).collect();
    assert_eq!(marks.len(), limits.len(), "{svg}");
    for (x, l) in marks.iter().zip(&limits) {
        assert!(((x - x_zero) / px_per_h - l).abs() < 0.2, "limit mark at {:.2} h, figure {l} h", (x - x_zero) / px_per_h);
    }
    // The table below says the same in words.
    assert!(chart.contains("<td>juki-app-volume</td><td>30.0 h</td><td>24.0 h</td><td><span class=\"ja\">超過</span>"), "{chart}");
    assert!(chart.contains("<td>i-0juki1</td><td>—</td><td>24.0 h</td><td><span class=\"ja\">未確認</span>"));

    // Ticks in other ranges: distinct labels too (the 0.0, 0.1, 0.1 h of a short RPO).
    for hi in [0.23 * 3600.0, 50.0, 700.0, 5000.0, 4.0 * 86_400.0, 0.3] {
        let (_, _, ticks) = duration_ticks(hi);
        let step = ticks[1] - ticks[0];
        let labels: Vec<String> = ticks.iter().map(|t| tick_label(*t, step)).collect();
        let mut d = labels.clone();
        d.dedup();
        assert_eq!(d, labels, "hi {hi}");
        assert!((3..=11).contains(&labels.len()), "hi {hi}: {labels:?}");
    }
}

/// The latency chart draws the samples the verdict used: warm-up (its own tag in
/// the log) is left out of the curve and of n, and said so; the offered and the
/// completed rate are said apart; a log whose n is not the verdict's says so.
#[test]
fn latency_chart_n_is_the_verdicts_n_and_rates_are_said_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("load")).expect("load dir");
    let warm = format!("{}住民票照会", gcverify_loadgen::WARMUP_TAG_PREFIX);
    write_hlog(&dir.path().join("load/normal.hlog"), &[("住民票照会", &[12, 15, 20, 25, 40, 90]), (warm.as_str(), &[900, 1200, 2000])]);
    // The phase's figures as loadgen writes them beside its log (the verdict's n = completed).
    let phase = serde_json::json!({"duration_secs": 60.0, "operations": [{"name": "住民票照会", "target_rate": 60.0, "achieved_rate": 2.7, "completed": 6, "intended": 6}]});
    std::fs::write(dir.path().join("load/normal.json"), phase.to_string()).expect("phase json");
    let mut report = sample_report();
    item_mut(&mut report, "B.2.1.4")
        .evidence
        .push(ev("histograms", Figure::LatencyLog { phase: "normal".into(), log: "load/normal.hlog".into(), threshold_ms: 3000, percentile: "p95".into() }));
    let chart = |html: &str| {
        let at = html.find("id=\"chart-latency\"").expect("chart");
        let rest = &html[at..];
        rest[..rest.find("</div>").expect("end")].to_string()
    };
    let html = render_html(&report, Lang::Ja, dir.path());
    let c = chart(&html);
    let verdict_n = phase["operations"][0]["completed"].as_u64().expect("n");
    assert!(c.contains(&format!("住民票照会 (n={verdict_n})")), "the chart's n is the verdict's: {c}");
    assert!(!c.contains("n=9"), "warm-up not counted");
    assert!(c.contains("ウォームアップの 3件は判定にも図にも含めない"), "{c}");
    assert!(c.contains("送信レート 60.0/秒（計測区間 1.0 min の予定 6件、応答 6件）、完了レート 2.7/秒"), "{c}");
    assert!(c.contains("offered 60.0/s (6 due in the 1.0 min window, 6 answered), completed 2.7/s"), "{c}");
    assert!(!c.contains("判定の n="), "n agrees: {c}");

    // A log that counted warm-up with the rest: the difference is said, not hidden.
    write_hlog(&dir.path().join("load/normal.hlog"), &[("住民票照会", &[12, 15, 20, 25, 40, 90, 900, 1200, 2000])]);
    let c = chart(&render_html(&report, Lang::Ja, dir.path()));
    assert!(c.contains("判定の n=6 と図の n=9 が異なる"), "{c}");
}
