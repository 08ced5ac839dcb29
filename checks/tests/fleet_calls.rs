//! A fleet's AWS calls against a local HTTP server that plays EC2: the
//! per-account limit holds the calls in flight (and without it they are
//! not held, so the test can fail), and throttled attempts are counted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gcverify_checks::aws::{failure_reason, AwsContext};
use gcverify_checks::aws_calls::CallLimit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EMPTY: &str =
    "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>";
const THROTTLED: &str =
    "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>";

#[derive(Default)]
struct Seen {
    in_flight: AtomicUsize,
    most: AtomicUsize,
    requests: AtomicUsize,
}

/// Answers every request after `delay` with `status` and `body`, recording concurrency.
async fn server(status: u16, body: &'static str, delay: Duration) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = s.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                    let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..head_end + len);
                    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    seen.most.fetch_max(now, Ordering::SeqCst);
                    seen.requests.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                    if sock.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn aws_for(endpoint: &str) -> gcverify_scenarios::Aws {
    // The default chain reads these; no profile, no real AWS.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::remove_var("AWS_PROFILE");
    gcverify_scenarios::Aws { endpoint_url: Some(endpoint.to_string()), ..Default::default() }
}

async fn burst(ctx: &AwsContext, n: usize) {
    let ec2 = ctx.ec2("ap-northeast-1");
    let calls = (0..n).map(|_| {
        let ec2 = ec2.clone();
        async move { ec2.describe_instances().send().await }
    });
    for r in futures::future::join_all(calls).await {
        r.expect("the server answers every call");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_limit_holds_calls_in_flight() {
    let (endpoint, seen) = server(200, EMPTY, Duration::from_millis(150)).await;
    let limit = CallLimit::new(2);
    // Two environments of one account share the limit.
    let a = AwsContext::load_limited(&aws_for(&endpoint), Some(&limit)).await;
    let b = AwsContext::load_limited(&aws_for(&endpoint), Some(&limit)).await;
    tokio::join!(burst(&a, 6), burst(&b, 6));
    assert_eq!(seen.requests.load(Ordering::SeqCst), 12);
    assert_eq!(seen.most.load(Ordering::SeqCst), 2, "at most the limit in flight, and it is reached");
    assert_eq!(limit.in_flight(), 0);

    // Without a limit the same burst is not held: the assertion above can fail.
    // A long answer time, so that even a loaded machine has the burst in flight together.
    let (endpoint, seen) = server(200, EMPTY, Duration::from_millis(600)).await;
    let free = AwsContext::load_limited(&aws_for(&endpoint), None).await;
    burst(&free, 8).await;
    assert!(seen.most.load(Ordering::SeqCst) > 2, "unlimited: {}", seen.most.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_attempts_are_counted_and_the_failure_says_throttled() {
    let (endpoint, seen) = server(503, THROTTLED, Duration::from_millis(1)).await;
    // The production policy (adaptive, 5 attempts) with short backoffs, so the test takes milliseconds.
    let retry = aws_config::retry::RetryConfig::adaptive()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20));
    let ctx = AwsContext::load_with_retry(&aws_for(&endpoint), None, retry).await;
    let err = ctx.ec2("ap-northeast-1").describe_instances().send().await.expect_err("always throttled");
    let attempts = seen.requests.load(Ordering::SeqCst);
    assert_eq!(attempts, 4, "the SDK retried the throttled call to its last attempt");
    assert_eq!(ctx.throttled(), attempts as u64, "every throttled attempt counted");
    let why = failure_reason("ec2:DescribeInstances", &err);
    assert!(why.contains("RequestLimitExceeded"), "{why}");

    // A plain answer counts nothing.
    let (endpoint, _) = server(200, EMPTY, Duration::from_millis(1)).await;
    let ctx = AwsContext::load_limited(&aws_for(&endpoint), None).await;
    burst(&ctx, 3).await;
    assert_eq!(ctx.throttled(), 0);
}
