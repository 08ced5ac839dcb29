//! The charts of report.html, drawn with plotters' SVG backend from the
//! numbers the probes put into the evidence (`Figure`) and the load probe's
//! interval logs beside result.json. A chart without data says so in words.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration};
use gcverify_checks::model::{DayAvailability, Figure, RunReport};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{bi, esc};
use crate::{jst_second, JST};

type Drawn = Result<(), Box<dyn std::error::Error>>;

const SERIES: [RGBColor; 6] =
    [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(148, 103, 189), RGBColor(140, 86, 75), RGBColor(23, 190, 207)];
const GOOD: RGBColor = RGBColor(84, 160, 84);
const BAD: RGBColor = RGBColor(214, 39, 40);
const NO_DATA: RGBColor = RGBColor(200, 200, 200);

pub(super) fn all(o: &mut String, r: &RunReport, artefacts: &Path) {
    latency(o, r, artefacts);
    availability(o, r);
    rpo(o, r);
    drill(o, r);
}

/// Every figure of the given kind in the rows `ids`, with its row's id.
fn figures<'a>(r: &'a RunReport, ids: &'a [&str]) -> impl Iterator<Item = (&'a str, &'a Figure)> + 'a {
    r.items
        .iter()
        .filter(move |i| ids.contains(&i.id.as_str()))
        .flat_map(|i| i.evidence.iter().filter_map(move |e| e.figure.as_ref().map(|f| (i.id.as_str(), f))))
}

fn open(o: &mut String, id: &str, ja: &str, en: &str) {
    let _ = write!(o, "<div class=\"chart\" id=\"chart-{id}\"><h3>{}</h3>", bi(ja, en));
}

fn no_data(o: &mut String, ja: &str, en: &str) {
    let _ = write!(o, "<p class=\"nodata\">{}</p>", bi(ja, en));
}

/// An SVG of `w`×`h` drawn by `draw`; a drawing failure becomes a sentence, not a broken chart.
fn svg(o: &mut String, w: u32, h: u32, draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Drawn) {
    let mut s = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| draw(&root).map_err(|e| e.to_string()))
            .and_then(|_| root.present().map_err(|e| e.to_string()))
    };
    match result {
        Ok(()) => o.push_str(&s),
        Err(e) => no_data(o, &format!("図を描けなかった: {e}"), &format!("the chart could not be drawn: {e}")),
    }
}

// ---------------------------------------------------------------- latency (B.2.1.4 / B.2.1.5)

/// Where the interval log is now: beside result.json (`load/NAME`, `NAME`), else where the run wrote it.
fn find_log(log: &str, artefacts: &Path) -> Option<PathBuf> {
    let given = Path::new(log);
    let name = given.file_name()?;
    [artefacts.join("load").join(name), artefacts.join(name), given.to_path_buf()].into_iter().find(|p| p.is_file())
}

/// x of a quantile on the percentile axis: 0 → 0, 0.9 → 1, 0.99 → 2, …
fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-6).log10()
}

fn nines_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let s = format!("{p:.4}");
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

fn latency(o: &mut String, r: &RunReport, artefacts: &Path) {
    open(o, "latency", "B.2.1.4/B.2.1.5 応答時間のパーセンタイル分布", "B.2.1.4/B.2.1.5 response-time percentile distribution");
    let logs: Vec<(&str, &str, &str, u64)> = figures(r, &["B.2.1.4", "B.2.1.5"])
        .filter_map(|(id, f)| match f {
            Figure::LatencyLog { phase, log, threshold_ms, .. } => Some((id, phase.as_str(), log.as_str(), *threshold_ms)),
            _ => None,
        })
        .collect();
    if logs.is_empty() {
        no_data(
            o,
            "この実行には負荷試験の測定結果がない（B.2.1.4/B.2.1.5 が測定されていない）",
            "this run has no load measurement (B.2.1.4/B.2.1.5 were not measured)",
        );
    }
    for (id, phase, log, threshold) in logs {
        let _ = write!(o, "<h4>{} — {}</h4>", esc(id), esc(phase));
        let Some(path) = find_log(log, artefacts) else {
            no_data(o, &format!("ヒストグラムのログ {log} が見つからない"), &format!("the histogram log {log} was not found"));
            continue;
        };
        let dists = match gcverify_loadgen::read_distributions(&path) {
            Ok(d) if d.iter().any(|d| !d.points.is_empty()) => d,
            Ok(_) => {
                no_data(o, &format!("{} に記録された応答がない", path.display()), &format!("{} records no answers", path.display()));
                continue;
            }
            Err(e) => {
                no_data(o, &format!("ヒストグラムを読めない: {e}"), &format!("the histogram could not be read: {e}"));
                continue;
            }
        };
        let max_ms = dists.iter().flat_map(|d| d.points.iter().map(|p| p.1)).fold(0.0, f64::max);
        let min_ms = dists.iter().flat_map(|d| d.points.iter().map(|p| p.1)).filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        let (y_lo, y_hi) = ((min_ms.min(1.0) * 0.5).max(0.001), max_ms.max(5000.0) * 2.0);
        let x_hi = dists.iter().flat_map(|d| d.points.iter().map(|p| nines(p.0))).fold(3.0, f64::max).ceil();
        svg(o, 900, 380, |root| {
            let mut chart =
                ChartBuilder::on(root).margin(12).x_label_area_size(36).y_label_area_size(64).build_cartesian_2d(0f64..x_hi, (y_lo..y_hi).log_scale())?;
            chart.configure_mesh().x_desc("percentile").y_desc("latency (ms)").x_labels(x_hi as usize + 1).x_label_formatter(&|x| nines_label(*x)).draw()?;
            for (k, d) in dists.iter().enumerate() {
                let color = SERIES[k % SERIES.len()];
                chart
                    .draw_series(LineSeries::new(d.points.iter().map(|(q, ms)| (nines(*q), ms.max(y_lo))), color.stroke_width(2)))?
                    .label(format!("{} (n={})", d.name, d.count))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            }
            for (ms, label, color) in [(3000.0, "3 s (B.2.1.4)", RGBColor(191, 144, 0)), (5000.0, "5 s (B.2.1.5)", BAD)] {
                chart
                    .draw_series(LineSeries::new([(0.0, ms), (x_hi, ms)], color.stroke_width(1)))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            }
            chart.configure_series_labels().position(SeriesLabelPosition::UpperLeft).background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
            Ok(())
        });
        let _ = write!(
            o,
            "<p>{}</p>",
            bi(
                &format!("目標 {threshold} ms。横軸はパーセンタイル（対数）、縦軸は意図した送信時刻からの応答時間（対数）。"),
                &format!("Target {threshold} ms. Percentile (log) across, latency from the intended send time (log) up.")
            )
        );
    }
    o.push_str("</div>\n");
}

// ---------------------------------------------------------------- availability (A.1.5.1)

fn day_rate(d: &DayAvailability) -> Option<f64> {
    let known = d.up + d.down;
    (known > 0).then(|| d.up as f64 * 100.0 / known as f64)
}

fn minutes_text(m: f64) -> String {
    if m >= 120.0 {
        format!("{:.1} h", m / 60.0)
    } else if m >= 1.0 {
        format!("{m:.0} min")
    } else {
        format!("{:.0} s", m * 60.0)
    }
}

fn availability(o: &mut String, r: &RunReport) {
    open(o, "availability", "A.1.5.1 稼働率（日別）・停止・許容停止時間", "A.1.5.1 availability per day, outages and error budget");
    let Some(Figure::Availability { from, to, required_percent, days, outages, budget_allowed_minutes, budget_used_minutes, .. }) =
        figures(r, &["A.1.5.1"]).map(|(_, f)| f).find(|f| matches!(f, Figure::Availability { .. }))
    else {
        no_data(o, "この実行には稼働率の記録がない（A.1.5.1 が算出されていない）", "this run has no availability record (A.1.5.1 was not computed)");
        o.push_str("</div>\n");
        return;
    };
    let _ = write!(
        o,
        "<p>{}</p>",
        bi(
            &format!("期間 {} – {} JST、要求 {required_percent}%", jst_second(*from), jst_second(*to)),
            &format!("Period {} – {} JST, required {required_percent}%", jst_second(*from), jst_second(*to))
        )
    );
    let _ = write!(o, "<h4>{}</h4>", bi("日別稼働率", "Availability per day"));
    if days.is_empty() {
        no_data(o, "期間中に運用時間がない", "no operating time in the period");
    } else {
        heat_map(o, days, *required_percent);
        o.push_str("<table class=\"days\"><tr>");
        let _ = write!(
            o,
            "<th>{}</th><th>{}</th><th>{}</th>",
            bi("日付", "Date"),
            bi("稼働率", "Availability"),
            bi("稼働/停止/不明（スライス）", "up/down/unknown (slices)")
        );
        o.push_str("</tr>");
        // Every day of a short period; of a long one the days that fall short.
        for d in days.iter().filter(|d| days.len() <= 31 || day_rate(d).is_none_or(|x| x < *required_percent)) {
            let rate = day_rate(d).map(|x| format!("{x:.3}%")).unwrap_or_else(|| "-".into());
            let _ = write!(o, "<tr><td>{}</td><td>{rate}</td><td>{}/{}/{}</td></tr>", d.date, d.up, d.down, d.unknown);
        }
        o.push_str("</table>");
    }
    let _ = write!(o, "<h4>{}</h4>", bi("停止の時系列", "Outage timeline"));
    if outages.is_empty() {
        let _ = write!(o, "<p>{}</p>", bi("期間中の停止なし", "no outage in the period"));
    } else {
        let total = (*to - *from).num_seconds().max(1) as f64;
        let long = *to - *from > Duration::days(2);
        let from = *from;
        svg(o, 900, 110, |root| {
            let mut chart = ChartBuilder::on(root).margin(10).x_label_area_size(30).build_cartesian_2d(0f64..total, 0f64..1f64)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .disable_y_axis()
                .x_labels(6)
                .x_label_formatter(&|x| {
                    let t = (from + Duration::milliseconds((*x * 1000.0) as i64)).with_timezone(&JST);
                    if long {
                        t.format("%m-%d").to_string()
                    } else {
                        t.format("%H:%M:%S").to_string()
                    }
                })
                .draw()?;
            chart.draw_series(std::iter::once(Rectangle::new([(0.0, 0.2), (total, 0.8)], GOOD.mix(0.35).filled())))?;
            chart.draw_series(outages.iter().map(|s| {
                let a = (s.start - from).num_milliseconds() as f64 / 1000.0;
                let b = ((s.end - from).num_milliseconds() as f64 / 1000.0).max(a + total / 900.0);
                Rectangle::new([(a, 0.05), (b, 0.95)], BAD.filled())
            }))?;
            Ok(())
        });
        o.push_str("<ul>");
        for s in outages {
            let _ = write!(o, "<li>{} – {} JST ({})</li>", jst_second(s.start), jst_second(s.end), minutes_text((s.end - s.start).num_seconds() as f64 / 60.0));
        }
        o.push_str("</ul>");
    }
    let _ = write!(o, "<h4>{}</h4>", bi("許容停止時間（エラーバジェット）", "Error budget"));
    let (allowed, used) = (*budget_allowed_minutes, *budget_used_minutes);
    let hi = allowed.max(used).max(1e-6) * 1.1;
    svg(o, 900, 90, |root| {
        let mut chart = ChartBuilder::on(root).margin(10).x_label_area_size(28).build_cartesian_2d(0f64..hi, 0f64..2f64)?;
        chart.configure_mesh().disable_y_mesh().disable_y_axis().x_labels(6).x_label_formatter(&|m| minutes_text(*m)).draw()?;
        chart.draw_series(std::iter::once(Rectangle::new([(0.0, 1.1), (allowed, 1.9)], NO_DATA.filled())))?;
        let color = if used <= allowed { GOOD } else { BAD };
        chart.draw_series(std::iter::once(Rectangle::new([(0.0, 0.1), (used.max(hi / 900.0), 0.9)], color.filled())))?;
        Ok(())
    });
    let _ = write!(
        o,
        "<p>{}</p>",
        bi(
            &format!("許容停止 {}（上・灰）、停止 {}（下）、残り {}", minutes_text(allowed), minutes_text(used), minutes_text((allowed - used).max(0.0))),
            &format!("allowed {} (top, grey), down {} (bottom), left {}", minutes_text(allowed), minutes_text(used), minutes_text((allowed - used).max(0.0)))
        )
    );
    o.push_str("</div>\n");
}

/// Calendar heat map: one column per week, Monday on top, a cell per day coloured by its 稼働率.
fn heat_map(o: &mut String, days: &[DayAvailability], required: f64) {
    let (Some(first), Some(last)) = (days.first(), days.last()) else { return };
    let monday = first.date - Duration::days(i64::from(first.date.weekday().num_days_from_monday()));
    let weeks = ((last.date - monday).num_days() / 7 + 1) as i32;
    let cell = 16;
    let (left, top) = (34, 22);
    let w = (left + weeks * (cell + 2) + 20).max(300) as u32;
    svg(o, w, (top + 7 * (cell + 2) + 10) as u32, |root| {
        let style = ("sans-serif", 11).into_font().color(&BLACK);
        for (row, name) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].iter().enumerate() {
            root.draw(&Text::new(*name, (2, top + row as i32 * (cell + 2) + 3), style.clone()))?;
        }
        let mut month = 0;
        for d in days {
            let week = ((d.date - monday).num_days() / 7) as i32;
            let row = d.date.weekday().num_days_from_monday() as i32;
            let (x, y) = (left + week * (cell + 2), top + row * (cell + 2));
            if d.date.month() != month {
                month = d.date.month();
                root.draw(&Text::new(d.date.format("%Y-%m").to_string(), (x, 4), style.clone()))?;
            }
            let color = match day_rate(d) {
                None => NO_DATA,
                Some(x) if x >= 100.0 => RGBColor(0, 128, 0),
                Some(x) if x >= required => GOOD,
                Some(x) if x >= required - 1.0 => RGBColor(255, 170, 60),
                Some(_) => BAD,
            };
            root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], color.filled()))?;
        }
        Ok(())
    });
    let _ = write!(
        o,
        "<p><small>{}</small></p>",
        bi(
            &format!("濃緑 100%、緑 要求（{required}%）以上、橙 要求未満（1ポイント以内）、赤 それ未満、灰 データなし"),
            &format!("dark green 100%, green ≥ required ({required}%), orange below by ≤ 1 point, red below that, grey no data")
        )
    );
}

// ---------------------------------------------------------------- RPO (A.1.3.1) and the restore drill (A.1.3.2)

/// One resource's bar: its name, segments (hours, colour) and limit (hours).
type Bar = (String, Vec<(f64, RGBColor)>, Option<f64>);

/// Horizontal bars, one per resource, with each row's limit as a black mark.
fn bars(o: &mut String, rows: &[Bar]) {
    let hi = rows.iter().map(|(_, segs, lim)| segs.iter().map(|s| s.0).sum::<f64>().max(lim.unwrap_or(0.0))).fold(1e-6, f64::max) * 1.15;
    let n = rows.len() as f64;
    svg(o, 900, (60 + rows.len() * 34) as u32, |root| {
        let mut chart = ChartBuilder::on(root).margin(12).x_label_area_size(30).build_cartesian_2d(0f64..hi, 0f64..n)?;
        chart.configure_mesh().disable_y_mesh().disable_y_axis().x_desc("hours").x_labels(8).x_label_formatter(&|h| format!("{h:.1}")).draw()?;
        for (k, (name, segs, limit)) in rows.iter().enumerate() {
            let y = n - k as f64 - 1.0;
            let mut x = 0.0;
            for (v, color) in segs {
                chart.draw_series(std::iter::once(Rectangle::new([(x, y + 0.15), (x + v.max(hi / 900.0), y + 0.55)], color.filled())))?;
                x += v;
            }
            if let Some(l) = limit {
                chart.draw_series(LineSeries::new([(*l, y + 0.05), (*l, y + 0.95)], BLACK.stroke_width(2)))?;
            }
            chart.draw_series(std::iter::once(Text::new(name.clone(), (0.0, y + 0.95), ("sans-serif", 12).into_font())))?;
        }
        Ok(())
    });
}

fn hours(secs: i64) -> f64 {
    secs as f64 / 3600.0
}

fn rpo(o: &mut String, r: &RunReport) {
    open(
        o,
        "rpo",
        "A.1.3.1 復旧時点（RPO）: リソースごとの最新復旧点の経過時間と上限",
        "A.1.3.1 RPO: age of each resource's newest restorable point against the limit",
    );
    let rows: Vec<Bar> = figures(r, &["A.1.3.1"])
        .filter_map(|(_, f)| match f {
            Figure::RpoAge { resource, age_secs, limit_secs } => {
                let over = limit_secs.is_some_and(|l| *age_secs > l);
                Some((resource.clone(), vec![(hours(*age_secs), if over { BAD } else { GOOD })], limit_secs.map(hours)))
            }
            _ => None,
        })
        .collect();
    if rows.is_empty() {
        no_data(o, "この実行には復旧点の測定結果がない", "this run measured no recovery point age");
    } else {
        bars(o, &rows);
        let _ = write!(
            o,
            "<p>{}</p>",
            bi(
                "棒: 最新の復旧可能時点からの経過時間（緑 上限内、赤 超過）、黒線: 上限",
                "bar: age of the newest restorable point (green within, red over), black line: the limit"
            )
        );
    }
    o.push_str("</div>\n");
}

fn drill(o: &mut String, r: &RunReport) {
    let rows: Vec<Bar> = figures(r, &["A.1.3.2"])
        .filter_map(|(_, f)| match f {
            Figure::DrillTiming { resource, restore_secs, health_secs, rto_secs, healthy } => {
                let total = restore_secs.unwrap_or(0) + health_secs.unwrap_or(0);
                let over = !healthy || rto_secs.is_some_and(|t| total > t);
                let restore_color = if over { BAD } else { SERIES[0] };
                let mut segs = vec![(hours(restore_secs.unwrap_or(0)), restore_color)];
                if let Some(h) = health_secs {
                    segs.push((hours(*h), if over { RGBColor(240, 128, 128) } else { SERIES[2] }));
                }
                Some((resource.clone(), segs, rto_secs.map(hours)))
            }
            _ => None,
        })
        .collect();
    // Only a run with a drill (verify --restore-drill) has this chart.
    if rows.is_empty() {
        return;
    }
    open(o, "drill", "A.1.3.2 復元訓練の所要時間と目標復旧時間（RTO）", "A.1.3.2 restore drill timings against the RTO");
    bars(o, &rows);
    let _ = write!(
        o,
        "<p>{}</p>",
        bi(
            "棒: 復元（青）＋正常性確認（緑）、赤は目標超過または未完了、黒線: RTO",
            "bar: restore (blue) + until healthy (green), red when over or unfinished, black line: the RTO"
        )
    );
    o.push_str("</div>\n");
}
