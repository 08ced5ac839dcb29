//! The generator against a local server with known latency (127.0.0.1,
//! started by each test, a second or two of load at modest rates).

use std::time::Duration;

use gcverify_loadgen::server::{self, ServerConfig};
use gcverify_loadgen::{run_phase, Profile, RunOptions, Verdict};

/// Tests that are not about the schedule allow 250 ms of send lag: the
/// machine running them may be busy compiling.
fn profile(base: &str, ops: &str, phase: &str, client: &str) -> Profile {
    let text = format!("base_url = \"{base}\"\n[client]\nschedule_tolerance_ms = 250\n{client}\n{ops}\n[phase.normal]\n{phase}\n");
    Profile::parse(&text).unwrap_or_else(|e| panic!("profile: {e}\n{text}"))
}

const ROOT: &str = "[[operation]]\nname = \"住民票照会\"\nurl = \"/\"\nexpect_body = \"住民記録\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p95_under_and_over_the_threshold() {
    let srv = server::start(ServerConfig::delay_ms(30), 0).await.expect("server");
    let p = profile(&srv.url(), ROOT, "duration_secs = 1.5\nwarmup_secs = 0.3\nrates = { \"住民票照会\" = 60 }", "");
    let ok = run_phase(&p, "normal", 200, &RunOptions::default()).await.expect("runs");
    assert_eq!(ok.verdict(), Verdict::Ok, "{:?}", ok.operations[0].line());
    let op = &ok.operations[0];
    assert!(op.latency_ms.p50 >= 30.0 && op.latency_ms.p95 < 100.0, "{}", op.line());
    assert!(op.completed >= 80, "{}", op.line());
    assert!((op.below_threshold - 1.0).abs() < 1e-9);

    let ng = run_phase(&p, "normal", 20, &RunOptions::default()).await.expect("runs");
    match ng.verdict() {
        Verdict::Ng(v) => assert!(v[0].contains("p95") && v[0].contains("> 20 ms"), "{v:?}"),
        other => panic!("expected NG, got {other:?}"),
    }
    assert!(ng.operations[0].below_threshold < 0.05);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_latency_and_in_the_percentile_the_file_demands() {
    // The server stops answering for 1 s starting 0.5 s in.
    let cfg = ServerConfig {
        delay: Duration::from_millis(5),
        stall_every: Duration::from_secs(60),
        stall_for: Duration::from_secs(1),
        stall_offset: Duration::from_millis(500),
    };
    let srv = server::start(cfg, 0).await.expect("server");
    let p = profile(&srv.url(), ROOT, "duration_secs = 2.5\nrates = { \"住民票照会\" = 100 }\npercentile = \"p99\"", "");
    let r = run_phase(&p, "normal", 500, &RunOptions::default()).await.expect("runs");
    let op = &r.operations[0];
    // ~40% of the requests arrive during the stall and wait up to 1 s.
    assert!(op.latency_ms.p99 > 800.0, "stall hidden: {}", op.line());
    assert!(op.latency_ms.p50 < 800.0, "{}", op.line());
    assert!(r.schedule.kept, "{:?}", r.schedule);
    assert!(matches!(r.verdict(), Verdict::Ng(_)), "{:?}", r.verdict());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_generator_still_measures_from_the_intended_time_and_says_error() {
    // Two in-flight slots against a 1 s stall: the scheduler must wait, so
    // the schedule is missed (ERROR), but latency still counts the wait while
    // service time (what a closed-model tool reports) hides it.
    let cfg = ServerConfig {
        delay: Duration::from_millis(5),
        stall_every: Duration::from_secs(60),
        stall_for: Duration::from_secs(1),
        stall_offset: Duration::from_millis(300),
    };
    let srv = server::start(cfg, 0).await.expect("server");
    let p = profile(&srv.url(), ROOT, "duration_secs = 2\nrates = { \"住民票照会\" = 100 }", "max_in_flight = 2");
    let r = run_phase(&p, "normal", 3000, &RunOptions::default()).await.expect("runs");
    let op = &r.operations[0];
    assert!(!r.schedule.kept, "{:?}", r.schedule);
    assert!(r.schedule.in_flight_waits > 0);
    match r.verdict() {
        Verdict::Error(why) => assert!(why.contains("fell behind"), "{why}"),
        other => panic!("expected ERROR, got {other:?}"),
    }
    assert!(op.latency_ms.p90 > 400.0, "latency hid the stall: {}", op.line());
    assert!(op.service_ms.p90 < 100.0, "service time should look fine: {}", op.line());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_timeouts_are_counted_at_the_timeout_value() {
    let srv = server::start(ServerConfig::default(), 0).await.expect("server");
    let ops = "[[operation]]\nname = \"err\"\nurl = \"/status/500\"\n[[operation]]\nname = \"hang\"\nurl = \"/hang\"\n[[operation]]\nname = \"body\"\nurl = \"/\"\nexpect_body = \"no such text\"\n";
    let p = profile(&srv.url(), ops, "duration_secs = 1\nrates = { err = 20, hang = 10, body = 10 }", "timeout_ms = 300");
    let r = run_phase(&p, "normal", 3000, &RunOptions::default()).await.expect("runs");
    let by = |n: &str| r.operations.iter().find(|o| o.name == n).expect("op");
    let (err, hang, body) = (by("err"), by("hang"), by("body"));
    assert_eq!(err.failures.status, err.completed);
    assert!(err.completed >= 18, "{}", err.line());
    assert_eq!(hang.failures.timeout, hang.completed);
    assert!(hang.completed >= 9, "{}", hang.line());
    assert!(hang.latency_ms.p50 >= 300.0, "timeouts recorded at the timeout: {}", hang.line());
    assert!(err.latency_ms.p50 >= 300.0, "failed checks recorded at the timeout: {}", err.line());
    assert_eq!(body.failures.body, body.completed);
    assert_eq!(err.error_rate, 1.0);
    match r.verdict() {
        Verdict::Ng(v) => assert_eq!(v.iter().filter(|l| l.contains("error rate")).count(), 3, "{v:?}"),
        other => panic!("expected NG, got {other:?}"),
    }
    // Connection refused is a transport failure.
    let closed = profile("http://127.0.0.1:9", "[[operation]]\nname = \"x\"\nurl = \"/\"\n", "duration_secs = 0.3\nrates = { x = 10 }", "timeout_ms = 300");
    let r = run_phase(&closed, "normal", 3000, &RunOptions::default()).await.expect("runs");
    assert_eq!(r.operations[0].failures.transport, r.operations[0].completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_cookie_is_reused_and_histograms_are_logged() {
    let srv = server::start(ServerConfig::delay_ms(2), 0).await.expect("server");
    let text = format!(
        "base_url = \"{}\"\n[login]\nurl = \"/login\"\nbody = \"user=demo\"\n[[operation]]\nname = \"private\"\nurl = \"/private\"\n[phase.normal]\nduration_secs = 1.2\nrates = {{ private = 50 }}\n",
        srv.url()
    );
    let p = Profile::parse(&text).expect("profile");
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let r = run_phase(&p, "normal", 3000, &opts).await.expect("runs");
    let op = &r.operations[0];
    assert_eq!(op.ok, op.completed, "{}", op.line());
    assert!(op.completed >= 50);

    let log = std::fs::read(dir.path().join("normal.hlog")).expect("interval log written");
    let intervals: Vec<_> = hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&log)
        .filter_map(|e| match e {
            Ok(hdrhistogram::serialization::interval_log::LogEntry::Interval(i)) => Some(i.tag().map(|t| t.as_str().to_string())),
            _ => None,
        })
        .collect();
    assert!(intervals.len() >= 2, "{intervals:?}");
    assert!(intervals.iter().all(|t| t.as_deref() == Some("private")));
    // Read back for report.html: every request counted, ending at the maximum.
    let dist = gcverify_loadgen::read_distributions(&dir.path().join("normal.hlog")).expect("distribution");
    assert_eq!(dist.len(), 1);
    assert_eq!(dist[0].name, "private");
    assert_eq!(dist[0].count, op.completed, "the log holds the verdict's samples");
    assert_eq!(dist[0].warmup, 0, "no warm-up in this phase");
    let last = dist[0].points.last().expect("points");
    assert_eq!(last.0, 1.0);
    assert!(last.1 >= 2.0 && (last.1 - op.latency_ms.max).abs() <= op.latency_ms.max * 0.01 + 0.01, "{last:?} vs max {}", op.latency_ms.max);
    assert!(dist[0].points.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    assert!(gcverify_loadgen::read_distributions(&dir.path().join("missing.hlog")).expect_err("missing").contains("missing.hlog"));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("normal.json")).expect("json")).expect("valid json");
    assert_eq!(json["operations"][0]["name"], "private");

    // Without the cookie the same operation fails.
    let nologin = Profile::parse(&text.replace("[login]\nurl = \"/login\"\nbody = \"user=demo\"\n", "")).expect("profile");
    let r = run_phase(&nologin, "normal", 3000, &RunOptions::default()).await.expect("runs");
    assert_eq!(r.operations[0].failures.status, r.operations[0].completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_one_connection_cannot_keep_is_reported_as_a_miss() {
    // One connection to a 50 ms server carries at most 20 req/s; 200 req/s are asked
    // for 0.25 s. Every intended request is still sent (late), so it takes ~2.5 s.
    let srv = server::start(ServerConfig::delay_ms(50), 0).await.expect("server");
    let p = profile(&srv.url(), ROOT, "duration_secs = 0.25\nrates = { \"住民票照会\" = 200 }", "max_in_flight = 1");
    let r = run_phase(&p, "normal", 3000, &RunOptions::default()).await.expect("runs");
    let op = &r.operations[0];
    assert!(!r.schedule.kept, "{:?}", r.schedule);
    assert!(r.schedule.late_fraction > 0.5, "{:?}", r.schedule);
    assert!(r.schedule.in_flight_waits > 0, "{:?}", r.schedule);
    match r.verdict() {
        Verdict::Error(why) => assert!(why.contains("fell behind") && why.contains("in-flight limit 1"), "{why}"),
        other => panic!("expected ERROR, got {other:?}"),
    }
    // Every request went out on the one connection, one after another.
    assert_eq!(op.completed, 50, "{}", op.line());
    assert_eq!(op.ok, 50, "{}", op.line());
    assert!(op.achieved_rate <= 25.0 / 0.25, "{}", op.line());
    assert!(op.service_ms.p50 >= 50.0 && op.service_ms.p50 < 100.0, "{}", op.line());
    // Latency counts the queueing behind the schedule: the last one waited ~2.25 s.
    assert!(op.latency_ms.max > 2000.0, "{}", op.line());
    assert!(op.latency_ms.p50 > 1000.0, "{}", op.line());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_closes_are_reopened() {
    let srv = server::start(ServerConfig::default(), 0).await.expect("server");
    let ops = "[[operation]]\nname = \"close\"\nurl = \"/close\"\nexpect_body = \"住民記録\"\n";
    let p = profile(&srv.url(), ops, "duration_secs = 1\nrates = { close = 200 }", "max_in_flight = 4");
    let r = run_phase(&p, "normal", 3000, &RunOptions::default()).await.expect("runs");
    let op = &r.operations[0];
    assert_eq!(op.ok, op.completed, "{}", op.line());
    assert!(op.completed >= 180, "{}", op.line());
    assert!(r.schedule.kept, "{:?}", r.schedule);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_operations_and_threads_share_the_schedule() {
    let srv = server::start(ServerConfig::delay_ms(2), 0).await.expect("server");
    let ops = "[[operation]]\nname = \"a\"\nurl = \"/\"\n[[operation]]\nname = \"b\"\nurl = \"/delay/10\"\n";
    for threads in [1, 3] {
        let p = profile(&srv.url(), ops, "duration_secs = 1\nwarmup_secs = 0.2\nrates = { a = 300, b = 100 }", &format!("threads = {threads}"));
        let r = run_phase(&p, "normal", 3000, &RunOptions::default()).await.expect("runs");
        let by = |n: &str| r.operations.iter().find(|o| o.name == n).expect("op");
        let (a, b) = (by("a"), by("b"));
        assert_eq!(r.verdict(), Verdict::Ok, "threads {threads}: {} / {}", a.line(), b.line());
        // Intended slots of the measured second, split over the threads without loss or overlap.
        assert_eq!(a.intended, 300, "threads {threads}: {}", a.line());
        assert_eq!(b.intended, 100, "threads {threads}: {}", b.line());
        assert!(b.latency_ms.p50 >= 10.0 && a.latency_ms.p50 < 10.0, "threads {threads}: {} / {}", a.line(), b.line());
    }
}

/// Warm-up is sent but neither judged nor drawn: the interval log keeps it
/// under its own tag, so the distribution a chart reads has the verdict's n.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_up_is_logged_apart_and_the_chart_has_the_verdicts_n() {
    let srv = server::start(ServerConfig::delay_ms(2), 0).await.expect("server");
    let p = profile(&srv.url(), "[[operation]]\nname = \"page\"\nurl = \"/\"\n", "duration_secs = 1.0\nwarmup_secs = 0.6\nrates = { page = 40 }", "");
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let r = run_phase(&p, "normal", 3000, &opts).await.expect("runs");
    let op = &r.operations[0];
    assert_eq!(r.verdict(), Verdict::Ok, "{}", op.line());
    let dist = gcverify_loadgen::read_distributions(&dir.path().join("normal.hlog")).expect("distribution");
    assert_eq!(dist.len(), 1, "warm-up is not an operation of its own: {dist:?}");
    assert_eq!(dist[0].name, "page");
    assert_eq!(dist[0].count, op.completed, "the chart's n is the verdict's n ({})", op.line());
    assert!((38..=42).contains(&op.completed), "1 s at 40/s: {}", op.line());
    assert!((20..=28).contains(&dist[0].warmup), "0.6 s of warm-up at 40/s kept apart: {}", dist[0].warmup);
    let log = String::from_utf8_lossy(&std::fs::read(dir.path().join("normal.hlog")).expect("log")).to_string();
    assert!(log.contains(&format!("Tag={}page,", gcverify_loadgen::WARMUP_TAG_PREFIX)), "warm-up intervals tagged");
    // Offered and completed said apart.
    assert!(op.line().contains("offered 40.0/s") && op.line().contains("completed "), "{}", op.line());
    assert!(op.line_ja().contains("送信レート 40.0/秒") && op.line_ja().contains("完了レート"), "{}", op.line_ja());
}
