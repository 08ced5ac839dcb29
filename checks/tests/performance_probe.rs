//! Performance probes end to end at probe level:
//! - B.2.1.4/B.2.1.5 against a local web target with known latency (real load, seconds);
//! - B.2.2.x batch windows from a real command and from CloudWatch;
//! - B.1.1.x metric assertions from CloudWatch.
//!
//! CloudWatch answers come from `aws-smithy-mocks`: the Rust SDK talks CBOR to
//! CloudWatch and the local emulator (moto) cannot parse it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataOutput};
use aws_sdk_cloudwatch::types::MetricDataResult;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::error::ErrorMetadata;
use chrono::Utc;

use gcverify_checks::probes::{performance, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, Outcome};
use gcverify_loadgen::server::{self, ServerConfig};

mod common;
use common::aws;

fn input(id: &str, level: &str, scenario_text: &str, scenario_path: &Path, rules: &[Rule]) -> Arc<ProbeInput> {
    let text = format!("[environment]\nname = \"perf-test\"\n{scenario_text}");
    let scenario = Arc::new(gcverify_scenarios::parse(&text, scenario_path).expect("scenario"));
    Arc::new(ProbeInput::alone(
        Catalog::builtin().get(id).cloned().expect("item"),
        level.into(),
        Arc::new(BTreeMap::new()),
        scenario,
        aws(rules),
        Utc::now(),
        None,
    ))
}

fn metric_values(values: Vec<f64>) -> Rule {
    mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(move || {
        GetMetricDataOutput::builder().metric_data_results(MetricDataResult::builder().id("m0").set_values(Some(values.clone())).build()).build()
    })
}

fn denied() -> Rule {
    mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_error(|| {
        GetMetricDataError::generic(ErrorMetadata::builder().code("AccessDenied").message("not authorized to perform cloudwatch:GetMetricData").build())
    })
}

// ---------------------------------------------------------------- response time (real load)

/// A scenario folder with a profile pointing at `url`, fast phases.
fn load_scenario(dir: &Path, url: &str, enabled: bool) -> String {
    let mut f = std::fs::File::create(dir.join("profile.toml")).expect("profile file");
    write!(
        f,
        "base_url = \"{url}\"\n[client]\nschedule_tolerance_ms = 250\n[[operation]]\nname = \"照会\"\nurl = \"/\"\nexpect_body = \"住民記録\"\n[phase.normal]\nduration_secs = 1.5\nrates = {{ \"照会\" = 40 }}\n[phase.peak]\nduration_secs = 1.5\nrates = {{ \"照会\" = 80 }}\npercentile = \"p99\"\n"
    )
    .expect("write");
    format!("{SHORT_OBSERVATION}[performance]\nenabled = {enabled}\nprofile = \"profile.toml\"\noutput_dir = \"{}\"\n", dir.join("out").display())
}

/// 1.5-second phases send 60 / 120 requests; the standard's minimum is 1,000 per operation.
const SHORT_OBSERVATION: &str =
    "[observation.\"B.2.1.4\"]\nsamples = 30\nreason = \"test: 1.5 s phases\"\n[observation.\"B.2.1.5\"]\nsamples = 60\nreason = \"test: 1.5 s phases\"\n";

async fn response_time(id: &str, level: &str, delay_ms: u64) -> (Conclusion, tempfile::TempDir) {
    let srv = server::start(ServerConfig::delay_ms(delay_ms), 0).await.expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let text = load_scenario(dir.path(), &srv.url(), true);
    let c = performance::response_time(input(id, level, &text, &dir.path().join("s.toml"), &[])).await.conclude(level);
    (c, dir)
}

/// 60 requests are not the 1,000 per operation the point needs: 要確認, never OK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_requests_are_pending_not_ok() {
    let srv = server::start(ServerConfig::delay_ms(10), 0).await.expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let text = load_scenario(dir.path(), &srv.url(), true).replace(SHORT_OBSERVATION, "");
    let c = performance::response_time(input("B.2.1.4", "4", &text, &dir.path().join("s.toml"), &[])).await.conclude("4");
    assert_eq!(c.outcome, Outcome::Pending, "{:?}", c);
    assert!(c.summary.ja.contains("観測不足") && c.summary.en.contains("normal/照会:") && c.summary.en.contains("< required 1000"), "{}", c.summary.en);
}

/// The test's phases meet only a scenario-lowered minimum: under the threshold is 要確認
/// (観測期間短縮), never OK; over it is NG whatever the observation length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_time_under_the_threshold_on_a_lowered_minimum_is_pending_and_over_it_ng() {
    // Level 4 = 1秒以内; a 50 ms server meets it, but on 30 of the standard's 1000 samples.
    let (met, dir) = response_time("B.2.1.4", "4", 50).await;
    assert_eq!(met.outcome, Outcome::Pending, "{:?}", met);
    assert!(met.summary.ja.contains("観測期間短縮"), "{}", met.summary.ja);
    assert!(met.evidence.iter().any(|e| e.detail.contains("p95")), "{:?}", met.evidence);
    assert!(dir.path().join("out/normal.hlog").is_file());

    // A 1.2 s server violates level 4 (1 s) ...
    let (ng, _d) = response_time("B.2.1.5", "4", 1200).await;
    assert_eq!(ng.outcome, Outcome::Ng, "{:?}", ng);
    assert!(ng.summary.en.contains("p99"), "{}", ng.summary.en);
    // ... and meets level 3 (3 s), still only on a lowered minimum.
    let (met3, _d) = response_time("B.2.1.5", "3", 1200).await;
    assert_eq!(met3.outcome, Outcome::Pending, "{:?}", met3);
}

#[tokio::test]
async fn response_time_is_error_when_not_enabled_or_not_configured_and_na_at_level_0() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = load_scenario(dir.path(), "http://127.0.0.1:9", false);
    let c = performance::response_time(input("B.2.1.4", "3", &text, &dir.path().join("s.toml"), &[])).await.conclude("3");
    assert_eq!(c.outcome, Outcome::Error);
    assert!(c.summary.en.contains("enabled = false"), "{}", c.summary.en);

    let c = performance::response_time(input("B.2.1.4", "3", "", Path::new("s.toml"), &[])).await.conclude("3");
    assert_eq!(c.outcome, Outcome::Error);

    let c = performance::response_time(input("B.2.1.4", "0", "", Path::new("s.toml"), &[])).await.conclude("0");
    assert_eq!(c.outcome, Outcome::NotApplicable);
}

#[tokio::test]
async fn unreachable_target_is_ng_through_its_error_rate_not_ok() {
    // Nothing listens on port 9: every request is a transport failure.
    let dir = tempfile::tempdir().expect("tmp");
    let text = load_scenario(dir.path(), "http://127.0.0.1:9", true);
    let c = performance::response_time(input("B.2.1.4", "3", &text, &dir.path().join("s.toml"), &[])).await.conclude("3");
    assert_eq!(c.outcome, Outcome::Ng, "{c:?}");
    assert!(c.summary.en.contains("error rate 100.00%"), "{}", c.summary.en);
}

// ---------------------------------------------------------------- batch windows

#[tokio::test]
async fn batch_duration_from_a_command_must_leave_room_for_a_rerun() {
    let text = "[[performance.batch]]\nname = \"日次\"\nitem = \"B.2.2.1\"\nwindow_minutes = 60\ncommand = \"echo 1700\"\n\
                [[performance.batch]]\nname = \"月次\"\nitem = \"B.2.2.1\"\nwindow_minutes = 60\ncommand = \"echo 1900\"\n";
    // Level 2 (再実行の余裕): ≤ 30 min. 1700 s passes, 1900 s does not.
    let c = performance::batch(input("B.2.2.1", "2", text, Path::new("s.toml"), &[])).await.conclude("2");
    assert_eq!(c.outcome, Outcome::Ng, "{c:?}");
    assert!(c.summary.en.contains("月次"), "{}", c.summary.en);
    // Level 1 (所定の時間内): ≤ 60 min: both pass.
    let c = performance::batch(input("B.2.2.1", "1", text, Path::new("s.toml"), &[])).await.conclude("1");
    assert_eq!(c.outcome, Outcome::Ok, "{c:?}");
    // A failing command is 検証不能.
    let bad = "[[performance.batch]]\nname = \"x\"\nitem = \"B.2.2.2\"\nwindow_minutes = 60\ncommand = \"exit 1\"\n";
    let c = performance::batch(input("B.2.2.2", "2", bad, Path::new("s.toml"), &[])).await.conclude("2");
    assert_eq!(c.outcome, Outcome::Error, "{c:?}");
    // No batch for the item: 検証不能.
    let c = performance::batch(input("B.2.2.2", "2", "", Path::new("s.toml"), &[])).await.conclude("2");
    assert_eq!(c.outcome, Outcome::Error, "{c:?}");
}

const CW_BATCH: &str = "[[performance.batch]]\nname = \"月次統計\"\nitem = \"B.2.2.2\"\nwindow_minutes = 120\n\
    cloudwatch = { namespace = \"Juki/Batch\", metric = \"DurationMinutes\", seconds_per_unit = 60 }\n";

#[tokio::test]
async fn batch_duration_from_cloudwatch() {
    // 55 min ≤ 60 min (half of 120): OK.
    let c = performance::batch(input("B.2.2.2", "2", CW_BATCH, Path::new("s.toml"), &[metric_values(vec![40.0, 55.0])])).await.conclude("2");
    assert_eq!(c.outcome, Outcome::Ok, "{c:?}");
    // 61 min: NG.
    let c = performance::batch(input("B.2.2.2", "2", CW_BATCH, Path::new("s.toml"), &[metric_values(vec![61.0])])).await.conclude("2");
    assert_eq!(c.outcome, Outcome::Ng, "{c:?}");
    // No datapoints: 検証不能, never OK.
    let c = performance::batch(input("B.2.2.2", "2", CW_BATCH, Path::new("s.toml"), &[metric_values(vec![])])).await.conclude("2");
    assert_eq!(c.outcome, Outcome::Error, "{c:?}");
    assert!(c.summary.en.contains("no datapoints"), "{}", c.summary.en);
}

// ---------------------------------------------------------------- metric assertions

const CW_METRIC: &str = "[[performance.metric]]\nitem = \"B.1.1.2\"\nname = \"同時アクセス数\"\nmax = 200\n\
    cloudwatch = { namespace = \"AWS/ApplicationELB\", metric = \"ActiveConnectionCount\", dimensions = { LoadBalancer = \"app/x/1\" } }\n\
    [[performance.metric]]\nitem = \"B.1.1.4\"\nname = \"リクエスト件数\"\nbaseline = 10000\ntolerance_pct = 10\nbaseline_source = \"現行システム 2026年9月 月次報告\"\n\
    cloudwatch = { namespace = \"AWS/ApplicationELB\", metric = \"RequestCount\", stat = \"Sum\", period_secs = 3600 }\n";

#[tokio::test]
async fn metric_assertions_against_limits_and_baselines() {
    let c = performance::workload(input("B.1.1.2", "1", CW_METRIC, Path::new("s.toml"), &[metric_values(vec![120.0, 180.0])])).await.conclude("1");
    assert_eq!(c.outcome, Outcome::Ok, "{c:?}");
    let c = performance::workload(input("B.1.1.2", "1", CW_METRIC, Path::new("s.toml"), &[metric_values(vec![120.0, 250.0])])).await.conclude("1");
    assert_eq!(c.outcome, Outcome::Ng, "{c:?}");
    // Sum over the window: 4000 + 5500 = 9500, within 10% of 10000.
    let c = performance::workload(input("B.1.1.4", "0", CW_METRIC, Path::new("s.toml"), &[metric_values(vec![4000.0, 5500.0])])).await.conclude("0");
    assert_eq!(c.outcome, Outcome::Ok, "{c:?}");
    let c = performance::workload(input("B.1.1.4", "0", CW_METRIC, Path::new("s.toml"), &[metric_values(vec![4000.0, 4000.0])])).await.conclude("0");
    assert_eq!(c.outcome, Outcome::Ng, "{c:?}");
}

/// B.1.1.3/B.1.1.4 ask for the figures before and after the migration to be
/// compared: a limit alone, or a baseline without its source, is 要確認.
#[tokio::test]
async fn data_totals_without_the_current_systems_figure_are_pending() {
    let limit_only = "[[performance.metric]]\nitem = \"B.1.1.4\"\nname = \"リクエスト件数\"\nmax = 1000000\n\
        cloudwatch = { namespace = \"AWS/ApplicationELB\", metric = \"RequestCount\", stat = \"Sum\", period_secs = 3600 }\n";
    let c = performance::workload(input("B.1.1.4", "0", limit_only, Path::new("s.toml"), &[metric_values(vec![4000.0, 5500.0])])).await.conclude("0");
    assert_eq!(c.outcome, Outcome::Pending, "{c:?}");
    assert!(c.summary.ja.contains("移行前後の比較は未実施"), "{}", c.summary.ja);
    let no_source = CW_METRIC.replace("baseline_source = \"現行システム 2026年9月 月次報告\"\n", "");
    let c = performance::workload(input("B.1.1.4", "0", &no_source, Path::new("s.toml"), &[metric_values(vec![4000.0, 5500.0])])).await.conclude("0");
    assert_eq!(c.outcome, Outcome::Pending, "{c:?}");
    assert!(c.summary.ja.contains("baseline_source"), "{}", c.summary.ja);
    // Off the baseline stays NG whatever its source.
    let c = performance::workload(input("B.1.1.4", "0", &no_source, Path::new("s.toml"), &[metric_values(vec![4000.0, 4000.0])])).await.conclude("0");
    assert_eq!(c.outcome, Outcome::Ng, "{c:?}");
}

#[tokio::test]
async fn metric_assertion_denied_is_error_with_the_reason() {
    let c = performance::workload(input("B.1.1.2", "1", CW_METRIC, Path::new("s.toml"), &[denied()])).await.conclude("1");
    assert_eq!(c.outcome, Outcome::Error, "{c:?}");
    assert!(c.summary.en.contains("permission denied"), "{}", c.summary.en);
    // Unconfigured item: 検証不能.
    let c = performance::workload(input("B.1.1.1", "1", CW_METRIC, Path::new("s.toml"), &[])).await.conclude("1");
    assert_eq!(c.outcome, Outcome::Error, "{c:?}");
}
