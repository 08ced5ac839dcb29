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
