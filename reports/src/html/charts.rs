//! The charts of report.html, drawn with plotters' SVG backend from the
//! numbers the probes put into the evidence (`Figure`) and the load probe's
//! interval logs beside result.json. A chart without data says so in words.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration};
use gcverify_checks::model::{DayAvailability, Figure, RunReport};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
pub(super) fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-6).log10()
}

fn nines_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let s = format!("{p:.4}");
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// The quantile a verdict judged, from its name (`p95` → 0.95, `p99.9` → 0.999).
pub(super) fn judged_quantile(name: &str) -> Option<f64> {
    let p: f64 = name.trim().trim_start_matches(['p', 'P']).parse().ok()?;
    (0.0..100.0).contains(&p).then_some(p / 100.0)
}

/// Where the percentile axis ends for `n` answers: the highest quantile they
/// resolve, 1 − 1/n (99 % for 100, 99.9 % for 1,000), at least 90 %.
pub(super) fn axis_end(n: u64) -> f64 {
    if n < 10 {
        return 1.0;
    }
    nines(1.0 - 1.0 / n as f64)
}

/// The points of a distribution on the axis, cut where it ends: the curve
/// says nothing beyond what the samples resolve.
pub(super) fn plotted(points: &[(f64, f64)], x_hi: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = points.iter().map(|(q, ms)| (nines(*q), *ms)).filter(|(x, _)| *x <= x_hi + 1e-9).collect();
    // The last resolved value continues to the axis' end (a quantile beyond is the maximum seen).
    if let (Some(&(x, _)), Some(&(_, max))) = (out.last(), points.last()) {
        if x < x_hi {
            out.push((x_hi, max));
        }
    }
    out
}

fn latency(o: &mut String, r: &RunReport, artefacts: &Path) {
    open(o, "latency", "B.2.1.4/B.2.1.5 応答時間のパーセンタイル分布", "B.2.1.4/B.2.1.5 response-time percentile distribution");
    let logs: Vec<(&str, &str, &str, u64, &str)> = figures(r, &["B.2.1.4", "B.2.1.5"])
        .filter_map(|(id, f)| match f {
            Figure::LatencyLog { phase, log, threshold_ms, percentile } => Some((id, phase.as_str(), log.as_str(), *threshold_ms, percentile.as_str())),
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
    for (id, phase, log, threshold, percentile) in logs {
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
        let judged = judged_quantile(percentile);
        let max_ms = dists.iter().flat_map(|d| d.points.iter().map(|p| p.1)).fold(threshold as f64, f64::max);
        let min_ms = dists.iter().flat_map(|d| d.points.iter().map(|p| p.1)).filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        let (y_lo, y_hi) = ((min_ms.min(1.0) * 0.5).max(0.001), max_ms * 2.0);
        // The percentile axis ends where the samples do: n answers resolve quantiles up to 1 − 1/n.
        let n = dists.iter().map(|d| d.count).max().unwrap_or(0);
        let x_hi = axis_end(n).max(judged.map(nines).unwrap_or(0.0));
        svg(o, 900, 380, |root| {
            // The legend has its own column right of the plot, never over the data.
            let (plot, legend) = root.split_horizontally(700);
            let mut chart =
                ChartBuilder::on(&plot).margin(12).x_label_area_size(36).y_label_area_size(64).build_cartesian_2d(0f64..x_hi, (y_lo..y_hi).log_scale())?;
            chart
                .configure_mesh()
                .x_desc("percentile")
                .y_desc("latency (ms)")
                .x_labels(x_hi.ceil() as usize + 1)
                .x_label_formatter(&|x| nines_label(*x))
                .draw()?;
            let mut entries: Vec<(String, RGBColor)> = Vec::new();
            for (k, d) in dists.iter().enumerate() {
                let color = SERIES[k % SERIES.len()];
                chart.draw_series(LineSeries::new(plotted(&d.points, x_hi).into_iter().map(|(x, ms)| (x, ms.max(y_lo))), color.stroke_width(2)))?;
                entries.push((format!("{} (n={})", d.name, d.count), color));
            }
            // The limit the verdict applied, and the percentile it judged.
            chart.draw_series(LineSeries::new([(0.0, threshold as f64), (x_hi, threshold as f64)], BAD.stroke_width(1)))?;
            entries.push((format!("limit {threshold} ms"), BAD));
            if let Some(q) = judged {
                chart.draw_series(LineSeries::new([(nines(q), y_lo), (nines(q), y_hi)], BLACK.stroke_width(1)))?;
                entries.push((format!("judged {percentile}"), BLACK));
            }
            let style = ("sans-serif", 13).into_font().color(&BLACK);
            for (k, (label, color)) in entries.iter().enumerate() {
                let y = 24 + k as i32 * 20;
                legend.draw(&PathElement::new(vec![(4, y + 7), (22, y + 7)], color.stroke_width(2)))?;
                legend.draw(&Text::new(label.clone(), (28, y), style.clone()))?;
            }
            Ok(())
        });
        rates(o, &dists, &path);
        let _ = write!(
            o,
            "<p>{}</p>",
            bi(
                &format!(
                    "判定: {percentile} ≤ {threshold} ms（赤線が上限、黒の縦線が判定したパーセンタイル）。n = 判定に使った応答数（ウォームアップを除く）、横軸は応答数で決まる {} まで。横軸はパーセンタイル（対数）、縦軸は意図した送信時刻からの応答時間（対数）。",
                    nines_label(x_hi)
                ),
                &format!(
                    "Judged: {percentile} ≤ {threshold} ms (red line: the limit, black vertical: the percentile judged). n = answers the verdict used (warm-up excluded); the axis ends at {}, what n answers resolve. Percentile (log) across, latency from the intended send time (log) up.",
                    nines_label(x_hi)
                )
            )
        );
    }
    o.push_str("</div>\n");
}

/// Per operation, the offered and the completed rate apart (from the phase's
/// `<phase>.json` beside its log, when there), the warm-up left out, and a
/// word when the log's n is not the verdict's (a log from before warm-up was
/// kept apart).
fn rates(o: &mut String, dists: &[gcverify_loadgen::Distribution], log: &Path) {
    let phase: Option<serde_json::Value> = std::fs::read(log.with_extension("json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let window = phase.as_ref().and_then(|p| p["duration_secs"].as_f64());
    let mut lines: Vec<(String, String)> = Vec::new();
    for d in dists {
        let op = phase.as_ref().and_then(|p| p["operations"].as_array()).and_then(|ops| ops.iter().find(|op| op["name"] == d.name.as_str()));
        let (mut ja, mut en) = (format!("{}: ", d.name), format!("{}: ", d.name));
        if let Some(op) = op {
            let num = |k: &str| op[k].as_f64().unwrap_or(f64::NAN);
            let window = window.map(gcverify_checks::model::duration_text).unwrap_or_else(|| "?".into());
            // Completed counts answers inside the window: a slow system answers after it, which is not load left unsent.
            let (due, answered) = (op["intended"].as_u64().unwrap_or(0), op["completed"].as_u64().unwrap_or(0));
            ja.push_str(&format!(
                "送信レート {:.1}/秒（計測区間 {window} の予定 {due}件、応答 {answered}件）、完了レート {:.1}/秒（区間内に返った応答。区間後に返った応答は含まない）",
                num("target_rate"),
                num("achieved_rate")
            ));
            en.push_str(&format!(
                "offered {:.1}/s ({due} due in the {window} window, {answered} answered), completed {:.1}/s (answers returned inside the window; later ones not counted)",
                num("target_rate"),
                num("achieved_rate")
            ));
            if let Some(n) = op["completed"].as_u64().filter(|n| *n != d.count) {
                ja.push_str(&format!("。判定の n={n} と図の n={} が異なる（ウォームアップを分けて記録する前のログ）", d.count));
                en.push_str(&format!("; the verdict's n={n} is not the chart's n={} (a log from before warm-up was kept apart)", d.count));
            }
        } else {
            ja.push_str(&format!("n={}", d.count));
            en.push_str(&format!("n={}", d.count));
        }
        if d.warmup > 0 {
            ja.push_str(&format!("。ウォームアップの {}件は判定にも図にも含めない", d.warmup));
            en.push_str(&format!("; {} warm-up answers neither judged nor drawn", d.warmup));
        }
        lines.push((ja, en));
    }
    o.push_str("<ul class=\"rates\">");
    for (ja, en) in lines {
        let _ = write!(o, "<li>{}</li>", bi(&ja, &en));
    }
    o.push_str("</ul>");
}

// ---------------------------------------------------------------- availability (A.1.5.1)

fn day_rate(d: &DayAvailability) -> Option<f64> {
    let known = d.up + d.down;
    (known > 0).then(|| d.up as f64 * 100.0 / known as f64)
}

/// Minutes as [`gcverify_checks::model::duration_text`] says them.
pub(super) fn minutes_text(m: f64) -> String {
    gcverify_checks::model::duration_text(m * 60.0)
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
        heat_map(o, days, *required_percent, (*from, *to));
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
            let covered = day_coverage_secs(d.date, (*from, *to));
            let rate = day_rate(d).map(|x| format!("{x:.3}%")).unwrap_or_else(|| "-".into());
            let rate = if covered < 86_400 { format!("{rate}（観測不足 {} / 24 h）", minutes_text(covered as f64 / 60.0)) } else { rate };
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
            let _ = write!(
                o,
                "<li>{} – {} JST ({})</li>",
                jst_second(s.start),
                jst_second(s.end),
                minutes_text((s.end - s.start).num_milliseconds() as f64 / 60_000.0)
            );
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

/// Seconds of JST day `date` inside the period: less than a day's 86,400 on
/// the first and last day of a period that starts or ends within a day.
pub(super) fn day_coverage_secs(date: chrono::NaiveDate, period: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)) -> i64 {
    let Some(start) = date.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(JST).single()) else { return 0 };
    let start = start.with_timezone(&chrono::Utc);
    let end = start + Duration::days(1);
    (end.min(period.1) - start.max(period.0)).num_seconds().max(0)
}

/// Calendar heat map: one column per week, Monday on top, a cell per day
/// coloured by its 稼働率; a day the period covers only in part is hatched
/// 観測不足, never coloured as if the whole day had been seen.
fn heat_map(o: &mut String, days: &[DayAvailability], required: f64, period: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)) {
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
            let partial = day_coverage_secs(d.date, period) < 86_400;
            if partial {
                // 観測不足: light grey, hatched.
                root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], RGBColor(235, 235, 235).filled()))?;
                for k in (0..cell * 2).step_by(4) {
                    let (a, b) = ((x + (k - cell).max(0), y + k.min(cell)), (x + k.min(cell), y + (k - cell).max(0)));
                    root.draw(&PathElement::new(vec![a, b], RGBColor(120, 120, 120).stroke_width(1)))?;
                }
                continue;
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
            &format!("濃緑 100%、緑 要求（{required}%）以上、橙 要求未満（1ポイント以内）、赤 それ未満、灰 データなし、斜線 観測不足（期間がその日の一部だけ）"),
            &format!("dark green 100%, green ≥ required ({required}%), orange below by ≤ 1 point, red below that, grey no data, hatched: observed for part of the day only")
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
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc("hours")
            .x_labels(8)
            .label_style(("sans-serif", 14))
            // As many decimals as the value has (0.05, 0.1, 0.15), so no two ticks read alike.
            .x_label_formatter(&|h| format!("{}", (h * 1000.0).round() / 1000.0))
            .draw()?;
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
            chart.draw_series(std::iter::once(Text::new(name.clone(), (0.0, y + 0.95), ("sans-serif", 15).into_font())))?;
        }
        Ok(())
    });
}

fn hours(secs: i64) -> f64 {
    secs as f64 / 3600.0
}

/// One row of the RPO chart: an in-scope resource, its measured age (None:
/// not measured) and limit, and whether it has nothing to recover from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RpoRow {
    pub resource: String,
    pub age_secs: Option<i64>,
    pub limit_secs: Option<i64>,
    pub violation: bool,
}

/// Every in-scope resource the RPO probe recorded, measured or not, in its order.
pub(super) fn rpo_rows(r: &RunReport) -> Vec<RpoRow> {
    figures(r, &["A.1.3.1"])
        .filter_map(|(_, f)| match f {
            Figure::RpoAge { resource, age_secs, limit_secs } => Some(RpoRow {
                resource: resource.clone(),
                age_secs: Some(*age_secs),
                limit_secs: *limit_secs,
                violation: limit_secs.is_some_and(|l| *age_secs > l),
            }),
            Figure::RpoUnmeasured { resource, limit_secs, violation } => {
                Some(RpoRow { resource: resource.clone(), age_secs: None, limit_secs: *limit_secs, violation: *violation })
            }
            _ => None,
        })
        .collect()
}

/// An axis for durations up to `hi_secs`: its unit (seconds per unit, suffix) and
/// ticks (value in units) at a 1-2-5 step, so no two labels read alike.
pub(super) fn duration_ticks(hi_secs: f64) -> (f64, &'static str, Vec<f64>) {
    let (unit, suffix) = match hi_secs {
        h if h <= 120.0 => (1.0, "s"),
        h if h <= 2.0 * 3600.0 => (60.0, "min"),
        h if h <= 3.0 * 86_400.0 => (3600.0, "h"),
        _ => (86_400.0, "d"),
    };
    let hi = (hi_secs / unit).max(1e-9);
    let raw = hi / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let ticks = (0..).map(|k| k as f64 * step).take_while(|t| *t <= hi + step * 1e-9).collect();
    (unit, suffix, ticks)
}

/// A tick's label: as many decimals as the step needs (0.5, 1, 1.5 …), never 0.1 twice.
pub(super) fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    format!("{v:.decimals$}")
}

/// Pixel layout of the RPO chart (the test reads the SVG back with it).
pub(super) const RPO_PLOT: (i32, i32) = (250, 870);
const RPO_ROW: i32 = 30;
const RPO_TOP: i32 = 10;

fn rpo(o: &mut String, r: &RunReport) {
    open(
        o,
        "rpo",
        "A.1.3.1 復旧時点（RPO）: 対象リソースごとの最新復旧点の経過時間と上限",
        "A.1.3.1 RPO: age of each in-scope resource's newest restorable point against the limit",
    );
    let rows = rpo_rows(r);
    if rows.is_empty() {
        no_data(o, "この実行には復旧点の測定結果がない", "this run measured no recovery point age");
        o.push_str("</div>\n");
        return;
    }
    let hi_secs = rows.iter().flat_map(|r| [r.age_secs, r.limit_secs]).flatten().max().unwrap_or(3600).max(1) as f64 * 1.1;
    let (unit, suffix, ticks) = duration_ticks(hi_secs);
    let step = ticks.get(1).copied().unwrap_or(1.0);
    let axis_hi = ticks.last().copied().unwrap_or(1.0).max(hi_secs / unit);
    let (x0, x1) = RPO_PLOT;
    let x_of = |secs: i64| x0 + ((secs as f64 / unit) / axis_hi * f64::from(x1 - x0)).round() as i32;
    let h = RPO_TOP + rows.len() as i32 * RPO_ROW + 40;
    svg(o, 900, h as u32, |root| {
        // plotters writes 1/1.24 of the size asked: 15 and 14 come out at 12 and 11 px.
        let name_style = ("sans-serif", 15).into_font().color(&BLACK);
        let tick_style = ("sans-serif", 14).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        let axis_y = RPO_TOP + rows.len() as i32 * RPO_ROW + 4;
        for (k, row) in rows.iter().enumerate() {
            let y = RPO_TOP + k as i32 * RPO_ROW;
            root.draw(&Text::new(row.resource.clone(), (6, y + 8), name_style.clone()))?;
            match row.age_secs {
                Some(age) => {
                    let color = if row.violation { BAD } else { GOOD };
                    root.draw(&Rectangle::new([(x0, y + 6), (x_of(age).max(x0 + 1), y + RPO_ROW - 6)], color.filled()))?;
                }
                None => {
                    // Not measured: a grey band says the row has no number, not a zero.
                    root.draw(&Rectangle::new([(x0, y + 6), (x1, y + RPO_ROW - 6)], RGBColor(238, 238, 238).filled()))?;
                    let (text, color) =
                        if row.violation { ("NG 復旧点なし / nothing to recover from", BAD) } else { ("未確認 / not checked", RGBColor(80, 80, 80)) };
                    root.draw(&Text::new(text, (x0 + 6, y + 8), ("sans-serif", 14).into_font().color(&color)))?;
                }
            }
            if let Some(l) = row.limit_secs {
                let x = x_of(l);
                root.draw(&PathElement::new(vec![(x, y + 2), (x, y + RPO_ROW - 2)], BLACK.stroke_width(2)))?;
            }
        }
        root.draw(&PathElement::new(vec![(x0, axis_y), (x1, axis_y)], BLACK.stroke_width(1)))?;
        for t in &ticks {
            let x = x0 + (t / axis_hi * f64::from(x1 - x0)).round() as i32;
            root.draw(&PathElement::new(vec![(x, axis_y), (x, axis_y + 4)], BLACK.stroke_width(1)))?;
            root.draw(&Text::new(format!("{} {suffix}", tick_label(*t, step)), (x, axis_y + 7), tick_style.clone()))?;
        }
        Ok(())
    });
    let _ = write!(
        o,
        "<p>{}</p>",
        bi(
            "棒: 最新の復旧可能時点からの経過時間（緑 上限内、赤 超過）、黒線: 上限、灰色の行: 経過時間を測れなかったリソース（理由は証跡）",
            "bar: age of the newest restorable point (green within, red over), black line: the limit, grey row: a resource whose age was not measured (the evidence says why)"
        )
    );
    // The same numbers in words, for reading and for print.
    let _ = write!(
        o,
        "<table class=\"rpo\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        bi("リソース", "Resource"),
        bi("経過時間", "Age"),
        bi("上限", "Limit"),
        bi("判定", "Judged")
    );
    for row in &rows {
        let text = |s: Option<i64>| s.map(|s| gcverify_checks::model::duration_text(s as f64)).unwrap_or_else(|| "—".into());
        let state = match (row.age_secs, row.violation) {
            (Some(_), false) => bi("上限内", "within"),
            (Some(_), true) => bi("超過", "over"),
            (None, true) => bi("復旧点なし", "nothing to recover from"),
            (None, false) => bi("未確認", "not checked"),
        };
        let _ = write!(o, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{state}</td></tr>", esc(&row.resource), text(row.age_secs), text(row.limit_secs));
    }
    o.push_str("</table></div>\n");
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
