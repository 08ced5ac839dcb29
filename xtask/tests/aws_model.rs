//! The benchmarks' AWS-like endpoint model in front of a real moto: it
//! really delays (measured ≥ modelled), replays (moto sees a repeated read
//! once) and throttles (a burst beyond the bucket gets the service's
//! throttling error, which gcverify's own SDK configuration — adaptive
//! retry — retries until every call succeeds; the model and gcverify both
//! count the throttles).

mod common;

use std::time::{Duration, Instant};

use common::moto_exe;
use gcverify_checks::aws::AwsContext;
use gcverify_cli::aws_model::{AwsModel, ModelParams, Rate};

const REGION: &str = "ap-northeast-1";

/// Requests moto has answered: its log has one `"METHOD path HTTP/1.1" status` line each.
fn moto_requests(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log).unwrap_or_default().lines().filter(|l| l.contains("\" ")).count()
}

/// gcverify's production AWS configuration (adaptive retry, 5 attempts) with the emulator's static credentials.
async fn context(endpoint: &str) -> AwsContext {
    let aws = gcverify_scenarios::Aws { endpoint_url: Some(endpoint.to_string()), primary_region: REGION.into(), ..Default::default() };
    AwsContext::load_limited(&aws, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_delays_replays_and_throttles_and_the_sdk_retries() {
    // The SDK's default chain reads these; nothing of a user's AWS setup is used.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/gcverify-test-config");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/gcverify-test-credentials");
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_ENDPOINT_URL");

    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("moto.log");
    let moto = gcverify_demo::MotoServer::start_with_log(&moto_exe(), Some(&log)).await.expect("moto starts");
    let params = ModelParams {
        rtt: Duration::from_millis(150),
        per_kib: Duration::from_millis(2),
        jitter: Duration::ZERO,
        throttle: true,
        // A small bucket so that a burst of ten is throttled: 3 at once, 4 more per second.
        overrides: vec![("ec2".into(), Rate { capacity: 3.0, refill_per_sec: 4.0 })],
        rate_scale: 1.0,
    };
    let model = AwsModel::start(&moto.endpoint(), params.clone()).await.expect("model starts");
    let aws = context(&model.endpoint()).await;
    let ec2 = aws.ec2(REGION);

    // 1. Delay: the first call is recorded (moto answers it) and held for the modelled time.
    let started = Instant::now();
    let first = ec2.describe_vpcs().send().await;
    let took = started.elapsed();
    assert!(first.is_ok(), "{first:?}");
    let s = model.tool("gcverify");
    assert_eq!((s.calls, s.recorded, s.replayed, s.throttled), (1, 1, 0, 0), "{s:?}");
    assert_eq!(s.operations.get("ec2:DescribeVpcs"), Some(&1), "calls are counted per operation: {:?}", s.operations);
    let modelled = params.base_delay(s.bytes_out as usize);
    assert!(modelled > Duration::from_millis(150), "the answer's size adds to the round trip: {modelled:?}");
    assert!(took >= modelled, "measured {took:?} < modelled {modelled:?}");

    // 2. Replay: the same read again is answered from memory; moto sees nothing.
    tokio::time::sleep(Duration::from_millis(300)).await; // moto logs a request after answering it
    let (moto_before, hits_before) = (moto_requests(&log), model.upstream_hits());
    let started = Instant::now();
    let again = ec2.describe_vpcs().send().await;
    let took = started.elapsed();
    assert!(again.is_ok(), "{again:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(moto_requests(&log), moto_before, "moto saw the repeated request");
    assert_eq!(model.upstream_hits(), hits_before);
    assert_eq!(model.tool("gcverify").replayed, 1);
    assert!(took >= modelled, "a replayed answer is held as long: {took:?} < {modelled:?}");

    // 3. Throttle: ten at once against a bucket of 3 (+4/s); every call succeeds after retries.
    let calls = (0..10).map(|_| {
        let ec2 = ec2.clone();
        async move { ec2.describe_vpcs().send().await.map(|_| ()).map_err(|e| format!("{e:?}")) }
    });
    let results = futures_join_all(calls).await;
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "a throttled call was not retried to success: {failed:?}");
    let s = model.tool("gcverify");
    assert!(s.throttled > 0, "the burst was not throttled: {s:?}");
    assert_eq!(s.calls, 12 + s.throttled, "each throttled attempt is a call of its own: {s:?}");
    assert_eq!(aws.throttled(), s.throttled, "gcverify's own count of throttled attempts");
    assert_eq!(model.upstream_hits(), hits_before, "the burst was served from memory");

    // 4. A JSON-protocol service answers ThrottlingException the same way (CloudWatch Logs, 10 TPS documented).
    let logs = aws.logs(REGION);
    let burst = (0..14).map(|_| {
        let logs = logs.clone();
        async move { logs.describe_log_groups().send().await.map(|_| ()).map_err(|e| format!("{e:?}")) }
    });
    let results = futures_join_all(burst).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let after = model.tool("gcverify");
    assert!(after.throttled > s.throttled, "14 DescribeLogGroups at once exceed its bucket of 10: {after:?}");
    assert_eq!(aws.throttled(), after.throttled);
}

/// Run the futures concurrently on this runtime; results in order.
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
