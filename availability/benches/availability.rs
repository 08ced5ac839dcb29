//! Benchmarks (figures in docs/availability.md):
//! - ingest: one probe cycle of 10 targets recorded in one transaction,
//!   `synchronous=FULL` (the default: survives power loss) and `NORMAL`;
//!   the per-sample cost is the cycle time / 10.
//! - compute: 稼働率 for one year of 1-minute samples of 10 targets
//!   (~5.3 M rows) with the calendar (weekdays 08:30-20:30, 休日 closed,
//!   年末年始) and maintenance windows. Prints the wall time of one full
//!   evaluation and the store size, then lets criterion time it.
//!
//! The year store is built once into target/availability-bench/ (about a
//! minute) and reused.
//!
//!   cargo bench -p gcverify-availability

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use gcverify_availability::calendar::parse_jst;
use gcverify_availability::check::CheckOutcome;
use gcverify_availability::store::{Durability, Store};
use gcverify_availability::{evaluate_store, Config};

const TARGETS: usize = 10;

fn bench_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/availability-bench");
    std::fs::create_dir_all(&d).expect("bench dir");
    d
}

fn year_config(dir: &std::path::Path) -> Config {
    let mut text = String::from(
        r#"
[environment]
name = "bench"

[availability]
store = "year.sqlite"
interval_secs = 60
from = 2026-01-01
to = 2026-12-31
probe_name = "bench"

[availability.calendar]
weekday_hours = "08:30-20:30"
holiday_hours = ""

[[availability.maintenance]]
reason = "月次定期保守"
days = ["sun"]
nth = 1
hours = "00:00-06:00"

[[availability.maintenance]]
reason = "平日夜間バッチ前点検"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "20:00-20:30"

[[availability.maintenance]]
reason = "基盤更改"
start = "2026-05-16T08:00"
end = "2026-05-17T20:00"
"#,
    );
    for i in 0..TARGETS {
        text.push_str(&format!("\n[[availability.targets]]\nname = \"t{i}\"\nurl = \"http://127.0.0.1:9/{i}\"\n"));
    }
    let s = gcverify_scenarios::parse(&text, &dir.join("bench.toml")).expect("bench scenario");
    Config::from_scenario(s.availability.as_ref().expect("section"), dir).expect("bench config")
}

/// One year, every minute, every target; a 3-slot failure run every ~7 days
/// per target and an isolated failure every ~2 days.
fn build_year(cfg: &Config) {
    let year_start = parse_jst("b", "2026-01-01T00:00").expect("start").timestamp() / 60;
    let year_end = parse_jst("b", "2027-01-01T00:00").expect("end").timestamp() / 60;
    let expected = (year_end - year_start) * TARGETS as i64;
    if let Ok(s) = Store::open(&cfg.store, 60) {
        if s.count().unwrap_or(0) == expected {
            return;
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = cfg.store.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let t = Instant::now();
    let mut store = Store::open_with(&cfg.store, 60, Durability::Normal).expect("store");
    for (i, target) in cfg.targets.iter().enumerate() {
        let id = store.target_id(&target.name, &target.spec()).expect("target");
        let rows = (year_start..year_end).map(|s| {
            let k = s - year_start + i as i64 * 977;
            let fail = k % 10_007 < 3 || k % 2_879 == 0;
            (s, !fail)
        });
        store.record_bulk(id, rows).expect("bulk");
    }
    store.heartbeat_bulk(&cfg.probe_name, year_start..year_end).expect("heartbeats");
    store.checkpoint().expect("checkpoint");
    eprintln!("built {} rows in {:.1}s", store.count().unwrap_or(0), t.elapsed().as_secs_f64());
}

fn file_size(p: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|s| {
            let mut q = p.as_os_str().to_owned();
            q.push(s);
            std::fs::metadata(q).map(|m| m.len()).unwrap_or(0)
        })
        .sum()
}

fn compute(c: &mut Criterion) {
    let dir = bench_dir();
    let cfg = year_config(&dir);
    build_year(&cfg);
    let now: DateTime<Utc> = parse_jst("b", "2027-01-01T00:00").expect("now");
    let rows = Store::open(&cfg.store, 60).and_then(|s| s.count()).unwrap_or(0);
    // One cold-ish run, reported as is.
    let t = Instant::now();
    let e = evaluate_store(&cfg, now).expect("evaluate");
    let first = t.elapsed();
    println!(
        "year evaluation: {rows} rows, store {:.1} MiB, first run {:.3} s; operating slices {}, up {}, down {}, outages {}, 稼働率 {:.4}%, maintenance hits {}",
        file_size(&cfg.store) as f64 / 1024.0 / 1024.0,
        first.as_secs_f64(),
        e.all.scope_slots,
        e.all.up,
        e.all.down,
        e.all.outages.len(),
        e.all.rate().unwrap_or(0.0),
        e.scope.maintenance.len()
    );
    let mut g = c.benchmark_group("compute");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("year_10_targets_1min", |b| b.iter(|| evaluate_store(&cfg, now).expect("evaluate")));
    g.finish();
}

fn ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let up = CheckOutcome { ok: true, latency_ms: Some(42), status: Some(200), detail: None };
    let mut g = c.benchmark_group("ingest_cycle_10_targets");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    for (name, durability) in [("full", Durability::Full), ("normal", Durability::Normal)] {
        let mut store = Store::open_with(&dir.path().join(format!("{name}.sqlite")), 60, durability).expect("store");
        let ids: Vec<i64> = (0..TARGETS).map(|i| store.target_id(&format!("t{i}"), "x").expect("target")).collect();
        let mut slot = 0i64;
        g.bench_function(name, |b| {
            b.iter(|| {
                slot += 1;
                let rows: Vec<(i64, &CheckOutcome)> = ids.iter().map(|id| (*id, &up)).collect();
                store.record("bench", slot, slot * 60_000, &rows).expect("record")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, ingest, compute);
criterion_main!(benches);
