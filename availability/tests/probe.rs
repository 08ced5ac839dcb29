//! End-to-end tests of the availability probe against a real HTTP server on
//! 127.0.0.1 that the test stops and restarts. The probe's clock is injected
//! (`Probe::cycle_at`), so outage intervals are exact to the slot and the
//! tests take no longer than the real checks.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use gcverify_availability::calendar::parse_jst;
use gcverify_availability::compute::{judge, Verdict};
use gcverify_availability::daemon::Probe;
use gcverify_availability::local_target::LocalTarget;
use gcverify_availability::store::Store;
use gcverify_availability::{evaluate_store, Config};

fn config(dir: &Path, url: &str, extra: &str) -> Config {
    let text = format!(
        r#"
[environment]
name = "t"

[availability]
store = "avail.sqlite"
interval_secs = 60
consecutive_failures = 2
period_from_first_sample = true
from = 2026-11-01
to = 2026-11-30
{extra}

[availability.calendar]
weekday_hours = "09:00-17:00"
holiday_hours = ""

[[availability.targets]]
name = "juki-web"
url = "{url}/login"
body_contains = "住民記録"
"#
    );
    let path = dir.join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let s = gcverify_scenarios::load(&path).unwrap();
    Config::from_scenario(s.availability.as_ref().unwrap(), dir).unwrap()
}

fn at(jst: &str) -> DateTime<Utc> {
    parse_jst("t", jst).unwrap()
}

/// Run cycles at `start + i min` for each entry of `plan` (true = server up).
async fn drive(probe: &mut Probe, server: &mut LocalTarget, start: DateTime<Utc>, plan: &[bool]) {
    for (i, &up) in plan.iter().enumerate() {
        if up && !server.is_running() {
            server.restart().await.unwrap();
        } else if !up && server.is_running() {
            server.stop().await;
        }
        probe.cycle_at(start + Duration::minutes(i as i64)).await.unwrap();
    }
}

#[tokio::test]
async fn stopping_the_server_gives_the_exact_outage_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = LocalTarget::start("住民記録システム").await.unwrap();
    let cfg = config(dir.path(), &server.url(), "");
    let mut probe = Probe::new(&cfg, None).unwrap();
    // Tue 2026-11-24 10:00 JST: 10 up, 5 down (stopped), 5 up, one 503, 9 up.
    let start = at("2026-11-24T10:00");
    let mut plan = [true; 30];
    plan[10..15].fill(false);
    drive(&mut probe, &mut server, start, &plan[..20]).await;
    server.set_status(503);
    probe.cycle_at(start + Duration::minutes(20)).await.unwrap();
    server.set_status(200);
    drive(&mut probe, &mut server, start + Duration::minutes(21), &plan[21..]).await;

    let e = evaluate_store(&cfg, at("2026-11-24T10:30")).unwrap();
    let c = &e.all;
    assert_eq!((c.scope_slots, c.up, c.down, c.unknown), (30, 25, 5, 0), "{c:?}");
    assert_eq!(c.outages.len(), 1);
    let o = &c.outages[0];
    assert_eq!((e.slot_time(o.start_slot), e.slot_time(o.end_slot)), (at("2026-11-24T10:10"), at("2026-11-24T10:15")));
    assert!(o.targets[0].1.contains("connect"), "{:?}", o.targets);
    assert_eq!(c.unconfirmed_failures, 1, "the single 503 is not an outage");
    assert!((c.rate().unwrap() - 25.0 * 100.0 / 30.0).abs() < 1e-9);
    assert_eq!(judge(c, 99.5, 95.0), Verdict::Ng);
    assert!(e.probe_not_running.is_empty());
    assert_eq!(e.weekday.down, 5);
    assert_eq!(e.holiday.scope_slots, 0);
}

#[tokio::test]
async fn maintenance_and_holidays_are_excluded_and_closing_time_clips() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = LocalTarget::start("住民記録システム").await.unwrap();
    let maint = r#"
[[availability.maintenance]]
reason = "OSパッチ適用"
start = "2026-11-24T10:10"
end = "2026-11-24T10:15"
"#;
    let cfg = config(dir.path(), &server.url(), maint);
    let mut probe = Probe::new(&cfg, None).unwrap();
    // The same outage, inside a planned maintenance window.
    let mut plan = [true; 20];
    plan[10..15].fill(false);
    drive(&mut probe, &mut server, at("2026-11-24T10:00"), &plan).await;
    // An outage across closing time 17:00: 16:55-17:05 down.
    let mut evening = [true; 20];
    evening[5..15].fill(false);
    drive(&mut probe, &mut server, at("2026-11-24T16:50"), &evening).await;
    // 勤労感謝の日 (Mon 2026-11-23, a holiday with no operating hours): down all morning, irrelevant.
    drive(&mut probe, &mut server, at("2026-11-23T09:00"), &[false; 10]).await;

    let e = evaluate_store(&cfg, at("2026-11-24T18:00")).unwrap();
    // From the first sample (11-23 09:00) to 18:00 on 11-24: only 11-24 09:00-17:00 operates, minus 5 min maintenance.
    assert_eq!(e.all.scope_slots, 8 * 60 - 5);
    assert_eq!(e.all.down, 5, "only 16:55-17:00 counts: {:?}", e.all.outages);
    assert_eq!(e.all.outages.len(), 1);
    assert_eq!(e.slot_time(e.all.outages[0].end_slot), at("2026-11-24T17:00"));
    assert_eq!(e.scope.maintenance.len(), 1);
    assert_eq!((e.scope.maintenance[0].reason.as_str(), e.scope.maintenance[0].excluded_slots), ("OSパッチ適用", 5));
    assert_eq!(e.holiday.scope_slots, 0);
    // Samples cover only 10:00-10:20 and 16:50-17:00 of the day: coverage is far below 95% → 検証不能.
    assert!(e.all.coverage() < 10.0);
    assert!(matches!(judge(&e.all, 99.5, 95.0), Verdict::Unknown { .. }));
}

#[tokio::test]
async fn clock_jumps_neither_duplicate_nor_invent_samples() {
    let dir = tempfile::tempdir().unwrap();
    let server = LocalTarget::start("住民記録システム").await.unwrap();
    let cfg = config(dir.path(), &server.url(), "");
    let mut probe = Probe::new(&cfg, None).unwrap();
    let t0 = at("2026-11-24T10:00");
    for m in [0, 1, 2] {
        assert_eq!(probe.cycle_at(t0 + Duration::minutes(m)).await.unwrap().inserted, 1);
    }
    // The clock jumps back two minutes: the slots exist, nothing is added.
    assert_eq!(probe.cycle_at(t0 + Duration::minutes(1) + Duration::seconds(30)).await.unwrap().inserted, 0);
    // ... then forwards by seven minutes: 10:03-10:09 have no sample.
    assert_eq!(probe.cycle_at(t0 + Duration::minutes(10)).await.unwrap().inserted, 1);

    let store = Store::open(&cfg.store, 60).unwrap();
    let id = store.find_target("juki-web").unwrap().unwrap();
    let slots: Vec<i64> = store.samples(id).unwrap().iter().map(|s| s.slot).collect();
    let s0 = t0.timestamp() / 60;
    assert_eq!(slots, vec![s0, s0 + 1, s0 + 2, s0 + 10]);

    let e = evaluate_store(&cfg, t0 + Duration::minutes(11)).unwrap();
    assert_eq!((e.all.scope_slots, e.all.up, e.all.down, e.all.unknown), (11, 4, 0, 7));
    assert_eq!(e.all.unknown_runs, vec![(s0 + 3, s0 + 10)]);
    assert_eq!(gcverify_availability::slots::total(&e.probe_not_running), 7, "no heartbeat while the clock skipped");
    // 4 of 11 slices known: coverage 36% < 95% → ERROR, never OK.
    assert!(matches!(judge(&e.all, 99.5, 95.0), Verdict::Unknown { .. }));
}
