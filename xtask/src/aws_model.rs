//! An AWS-like endpoint model for the benchmarks (`bench … --model aws`): an
//! HTTP proxy in front of the emulator that
//!
//! - records each distinct read's answer on a first pass and then serves it
//!   from memory, concurrently (moto answers one request at a time; AWS
//!   answers every account and region in parallel);
//! - holds every answer for a modelled latency: a fixed round trip, a
//!   per-KiB term for the answer's size, and uniform jitter;
//! - throttles with token buckets per account, region and API family at
//!   AWS's documented rates where documented ([`rate_for`]), answering as AWS
//!   does (EC2 `RequestLimitExceeded` 503, query `Throttling` 400, JSON
//!   `ThrottlingException` 400, S3 `SlowDown` 503);
//! - counts calls, throttles and bytes per client tool (told by User-Agent);
//! - passes through (and counts) what it cannot replay: writes, STS
//!   credentials, and reads whose answer was an error.
//!
//! The key of a recorded answer is the account, region, service, method,
//! path, canonical query and body (form parameters sorted) and the JSON
//! target, without any signature or date header.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;
use tokio::sync::OnceCell;

/// `--model` of the scale and fleet benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Model {
    /// moto as it is: one request at a time, no network, no throttling.
    Moto,
    /// The AWS-like endpoint model in front of moto.
    Aws,
}

/// The model's knobs on the command line (defaults: ap-northeast-1 from a client in Japan).
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// Endpoint: `moto` (the emulator as it is) or `aws` (the AWS-like model in front of it).
    #[arg(long, value_enum, default_value = "moto")]
    pub model: Model,
    /// Model: fixed time per call (network round trip plus the service's own work), ms.
    #[arg(long, default_value_t = 50.0)]
    pub rtt_ms: f64,
    /// Model: added time per KiB of answer (transfer and the service's work per item), ms.
    #[arg(long, default_value_t = 0.25)]
    pub per_kib_ms: f64,
    /// Model: uniform jitter added to each call, 0..this many ms.
    #[arg(long, default_value_t = 25.0)]
    pub jitter_ms: f64,
    /// Model: no throttling (latency and replay only).
    #[arg(long)]
    pub no_throttle: bool,
    /// Model: every bucket's size and refill times this (a stress test of retrying; 1 = AWS's rates).
    #[arg(long, default_value_t = 1.0)]
    pub rate_scale: f64,
}

impl ModelArgs {
    pub fn params(&self) -> ModelParams {
        ModelParams {
            rtt: Duration::from_secs_f64(self.rtt_ms.max(0.0) / 1000.0),
            per_kib: Duration::from_secs_f64(self.per_kib_ms.max(0.0) / 1000.0),
            jitter: Duration::from_secs_f64(self.jitter_ms.max(0.0) / 1000.0),
            throttle: !self.no_throttle,
            overrides: Vec::new(),
            rate_scale: if self.rate_scale > 0.0 { self.rate_scale } else { 1.0 },
        }
    }
}

/// A token bucket's size and refill per second.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Rate {
    pub capacity: f64,
    pub refill_per_sec: f64,
}

#[derive(Debug, Clone)]
pub struct ModelParams {
    pub rtt: Duration,
    pub per_kib: Duration,
    pub jitter: Duration,
    pub throttle: bool,
    /// Rates replacing [`rate_for`]'s for a family (exact, e.g. `ec2:DescribeVpcs`) or a whole service (`ec2`); tests use small buckets.
    pub overrides: Vec<(String, Rate)>,
    /// Multiplies every rate not overridden (stress tests; 1 = AWS's rates).
    pub rate_scale: f64,
}

impl ModelParams {
    /// The parameters in one line, for the benchmarks' output.
    pub fn describe(&self) -> String {
        format!(
            "AWS model: {:.0} ms per call + {:.2} ms per KiB + 0..{:.0} ms jitter; throttling {}",
            self.rtt.as_secs_f64() * 1000.0,
            self.per_kib.as_secs_f64() * 1000.0,
            self.jitter.as_secs_f64() * 1000.0,
            if !self.throttle {
                "off".to_string()
            } else if self.rate_scale == 1.0 {
                "at AWS's rates".to_string()
            } else {
                format!("at {}× AWS's rates", self.rate_scale)
            }
        )
    }

    /// The modelled time of one answer of `bytes` (jitter excluded).
    pub fn base_delay(&self, bytes: usize) -> Duration {
        self.rtt + self.per_kib.mul_f64(bytes as f64 / 1024.0)
    }
}

/// What the model counted for one client tool.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ToolStats {
    /// Every request answered, throttled ones included.
    pub calls: u64,
    /// Answered from memory.
    pub replayed: u64,
    /// First seen: forwarded to the emulator and kept for the next time.
    pub recorded: u64,
    /// Not replayable (writes, credentials, errors): forwarded every time.
    pub passed_through: u64,
    /// Answered with the service's throttling error.
    pub throttled: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Sum of the modelled delays (round trip + size + jitter) of these answers, s.
    pub modelled_secs: f64,
    /// Calls per `service:Operation` (throttled attempts included): what a run's call count is made of.
    pub operations: BTreeMap<String, u64>,
}

impl ToolStats {
    /// What happened between two snapshots.
    pub fn since(&self, before: &ToolStats) -> ToolStats {
        ToolStats {
            calls: self.calls - before.calls,
            replayed: self.replayed - before.replayed,
            recorded: self.recorded - before.recorded,
            passed_through: self.passed_through - before.passed_through,
            throttled: self.throttled - before.throttled,
            bytes_in: self.bytes_in - before.bytes_in,
            bytes_out: self.bytes_out - before.bytes_out,
            modelled_secs: self.modelled_secs - before.modelled_secs,
            operations: self
                .operations
                .iter()
                .map(|(op, n)| (op.clone(), n - before.operations.get(op).copied().unwrap_or(0)))
                .filter(|(_, n)| *n > 0)
                .collect(),
        }
    }

    /// The `top` most called operations, "ec2:DescribeVolumes 12, …", for the benchmarks' output.
    pub fn top_operations(&self, top: usize) -> String {
        let mut ops: Vec<(&String, &u64)> = self.operations.iter().collect();
        ops.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut text: Vec<String> = ops.iter().take(top).map(|(op, n)| format!("{op} {n}")).collect();
        if ops.len() > top {
            text.push(format!("… {} more operations", ops.len() - top));
        }
        text.join(", ")
    }
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    rate: Rate,
}

impl Bucket {
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate.refill_per_sec).min(self.rate.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Only the first of concurrent identical misses goes upstream; the rest wait for its answer.
type Slot = Arc<OnceCell<Answer>>;

struct State {
    upstream: String,
    params: ModelParams,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Slot>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    stats: Mutex<HashMap<String, ToolStats>>,
    /// Access key → account, learned from STS AssumeRole answers (moto's accounts are switched by role).
    accounts: Mutex<HashMap<String, String>>,
    upstream_hits: AtomicU64,
}

/// A running model; dropping it stops accepting connections.
pub struct AwsModel {
    endpoint: String,
    state: Arc<State>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for AwsModel {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl AwsModel {
    /// Start on 127.0.0.1 in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, params: ModelParams) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the AWS model")?;
        let addr = listener.local_addr().context("the AWS model's address")?;
        // reqwest is built here with rustls and no default crypto provider: the workspace's aws-lc one (as checks' probes do).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().context("the AWS model's upstream client")?;
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            params,
            http,
            cache: Mutex::default(),
            buckets: Mutex::default(),
            stats: Mutex::default(),
            accounts: Mutex::default(),
            upstream_hits: AtomicU64::new(0),
        });
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(state, req).await) }
                    });
                    // A client that hangs up mid-answer ends only its own connection.
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Self { endpoint: format!("http://{addr}"), state, accept })
    }

    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Per tool (`gcverify`, `prowler`, `other`), what was counted so far.
    pub fn stats(&self) -> HashMap<String, ToolStats> {
        self.state.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// One tool's counts so far (zeros if it made no call).
    pub fn tool(&self, tool: &str) -> ToolStats {
        self.stats().remove(tool).unwrap_or_default()
    }

    /// Every tool's counts added up.
    pub fn total(&self) -> ToolStats {
        self.stats().values().fold(ToolStats::default(), |mut a, s| {
            a.calls += s.calls;
            a.replayed += s.replayed;
            a.recorded += s.recorded;
            a.passed_through += s.passed_through;
            a.throttled += s.throttled;
            a.bytes_in += s.bytes_in;
            a.bytes_out += s.bytes_out;
            a.modelled_secs += s.modelled_secs;
            for (op, n) in &s.operations {
                *a.operations.entry(op.clone()).or_default() += n;
            }
            a
        })
    }

    /// Requests the emulator itself received through the model.
    pub fn upstream_hits(&self) -> u64 {
        self.state.upstream_hits.load(Ordering::Relaxed)
    }
}

/// Which tool sent a request, by its User-Agent.
pub fn tool_of(user_agent: &str) -> &'static str {
    let ua = user_agent.to_ascii_lowercase();
    if ua.contains("aws-sdk-rust") {
        "gcverify"
    } else if ua.contains("botocore") || ua.contains("boto3") || ua.contains("prowler") {
        "prowler"
    } else {
        "other"
    }
}

/// What a request is: from the SigV4 credential scope, the JSON target or the query's Action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub access_key: String,
    pub region: String,
    pub service: String,
    pub operation: String,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// EC2's query protocol (its own error shape).
    Ec2Query,
    /// awsQuery (IAM, STS, RDS, ELBv2, CloudWatch).
    Query,
    /// awsJson 1.0/1.1 (`X-Amz-Target`).
    Json,
    /// S3's REST-XML.
    S3,
    /// Other REST protocols (restJson).
    Rest,
}

fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

/// Classify a request from its parts.
pub fn classify(method: &str, path: &str, query: &str, authorization: &str, target: Option<&str>, body: &[u8]) -> Call {
    // `Credential=AKID/20261203/ap-northeast-1/ec2/aws4_request`
    let scope: Vec<&str> =
        authorization.split("Credential=").nth(1).map(|s| s.split([',', ' ']).next().unwrap_or_default()).unwrap_or_default().split('/').collect();
    let access_key = scope.first().copied().unwrap_or_default().to_string();
    let region = scope.get(2).copied().unwrap_or("us-east-1").to_string();
    let service = scope.get(3).copied().unwrap_or("unknown").to_string();
    if let Some(t) = target {
        let operation = t.rsplit('.').next().unwrap_or(t).to_string();
        return Call { access_key, region, service, operation, protocol: Protocol::Json };
    }
    let body_text = String::from_utf8_lossy(body);
    let action = form_pairs(query).into_iter().chain(form_pairs(&body_text)).find(|(k, _)| k == "Action").map(|(_, v)| v);
    if let Some(operation) = action {
        let protocol = if service == "ec2" { Protocol::Ec2Query } else { Protocol::Query };
        return Call { access_key, region, service, operation, protocol };
    }
    // REST: the method and the query's sub-resource names stand for the operation (S3 `GET ?encryption`).
    let mut names: Vec<String> = form_pairs(query).into_iter().map(|(k, _)| k).filter(|k| !k.starts_with("X-Amz-") && !k.starts_with("x-id")).collect();
    names.sort();
    let depth = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).count();
    let operation = format!("{method} depth{depth} {}", names.join("&"));
    let protocol = if service == "s3" { Protocol::S3 } else { Protocol::Rest };
    Call { access_key, region, service, operation, protocol }
}

fn is_read(call: &Call, method: &str) -> bool {
    if call.service == "sts" {
        // Credentials must be fresh; the caller's identity is a read.
        return call.operation == "GetCallerIdentity";
    }
    match call.protocol {
        Protocol::S3 | Protocol::Rest => method == "GET" || method == "HEAD",
        // Not `Generate*`: GenerateCredentialReport starts a job and answers STARTED, then COMPLETE; a
        // replayed STARTED kept gcverify polling and then reading users one by one (547 calls for four rows).
        _ => ["Describe", "List", "Get", "Search", "Lookup"].iter().any(|p| call.operation.starts_with(p)),
    }
}

/// The bucket a call draws from and its size and refill, per account and region.
///
/// Sources: EC2 "Request throttling for the Amazon EC2 API" (per API:
/// non-mutating 100 / 20 per s, unfiltered and unpaginated non-mutating
/// 50 / 10, mutating 200 / 5); CloudWatch Logs quotas (DescribeLogGroups and
/// most control-plane APIs 10 TPS); KMS request quotas (List* 100 rps); STS
/// (600 rps per account and region); S3 (5,500 GET/HEAD per prefix per s).
/// Assumed, not published: IAM 20 / 20 per s for the whole service, RDS,
/// CloudTrail and everything else as EC2's non-mutating rate per API.
pub fn rate_for(call: &Call, body: &[u8]) -> (String, Rate) {
    let r = |capacity: f64, refill_per_sec: f64| Rate { capacity, refill_per_sec };
    let op = call.operation.as_str();
    let per_api = format!("{}:{op}", call.service);
    let read = ["Describe", "List", "Get", "Search"].iter().any(|p| op.starts_with(p));
    match call.service.as_str() {
        "ec2" if read => {
            let text = String::from_utf8_lossy(body);
            let narrowed = text.contains("Filter.") || text.contains("MaxResults") || text.contains("NextToken") || text.contains("Id.");
            if narrowed {
                (per_api, r(100.0, 20.0))
            } else {
                (format!("{per_api} (unfiltered)"), r(50.0, 10.0))
            }
        }
        "ec2" => (per_api, r(200.0, 5.0)),
        "iam" => ("iam".into(), r(20.0, 20.0)),
        "sts" => ("sts".into(), r(600.0, 600.0)),
        "logs" => (per_api, r(10.0, 10.0)),
        "kms" => (per_api, r(100.0, 100.0)),
        "s3" => ("s3".into(), r(5500.0, 5500.0)),
        "cloudtrail" => (per_api, r(10.0, 10.0)),
        _ => (per_api, r(100.0, 20.0)),
    }
}

/// The service's own throttling answer.
fn throttle_answer(call: &Call) -> Answer {
    let id = format!("{:08x}-model", fastrand::u32(..));
    let xml = |status: u16, body: String| Answer { status, headers: vec![("content-type".into(), b"text/xml".to_vec())], body: Bytes::from(body) };
    match call.protocol {
        Protocol::Ec2Query => xml(
            503,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>{id}</RequestID></Response>"),
        ),
        Protocol::Query => xml(
            400,
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"),
        ),
        Protocol::S3 => xml(
            503,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{id}</RequestId></Error>"),
        ),
        Protocol::Json | Protocol::Rest => Answer {
            status: 400,
            headers: vec![
                ("content-type".into(), b"application/x-amz-json-1.1".to_vec()),
                ("x-amzn-errortype".into(), b"ThrottlingException".to_vec()),
                ("x-amzn-requestid".into(), id.into_bytes()),
            ],
            body: Bytes::from_static(br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
        },
    }
}

/// Form parameters sorted, signature and date parameters left out.
fn canonical_form(text: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_pairs(text).into_iter().filter(|(k, _)| !k.starts_with("X-Amz-")).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// What of a request decides its answer (no signature, no date).
struct Sent<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    target: Option<&'a str>,
    content_type: &'a str,
    body: &'a [u8],
}

fn cache_key(account: &str, call: &Call, sent: &Sent<'_>) -> String {
    let Sent { method, path, query, target, content_type, body } = *sent;
    let body = if content_type.starts_with("application/x-www-form-urlencoded") {
        canonical_form(&String::from_utf8_lossy(body))
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    format!("{account}|{}|{}|{method}|{path}|{}|{}|{body}", call.region, call.service, canonical_form(query), target.unwrap_or_default())
}

/// `<AccessKeyId>` and the account of `<Arn>arn:aws:sts::ACCOUNT:assumed-role/…` in an AssumeRole answer.
fn assumed_account(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let between = |open: &str, close: &str| -> Option<String> {
        let start = text.find(open)? + open.len();
        let end = text[start..].find(close)? + start;
        Some(text[start..end].trim().to_string())
    };
    let key = between("<AccessKeyId>", "</AccessKeyId>")?;
    let arn = between("<Arn>", "</Arn>")?;
    let account = arn.split(':').nth(4).filter(|a| a.len() == 12)?.to_string();
    Some((key, account))
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> &'a str {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn respond(answer: &Answer) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(answer.status);
    for (k, v) in &answer.headers {
        builder = builder.header(k.as_str(), v.as_slice());
    }
    builder.body(Full::new(answer.body.clone())).unwrap_or_else(|_| Response::new(Full::new(answer.body.clone())))
}

fn bad_gateway(reason: String) -> Answer {
    Answer { status: 502, headers: vec![("content-type".into(), b"text/plain".to_vec())], body: Bytes::from(reason) }
}

/// How one request was answered, for the counts.
enum Served {
    Replayed,
    Recorded,
    Passed,
    Throttled,
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let authorization = header(&req, "authorization").to_string();
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = header(&req, "content-type").to_string();
    let tool = tool_of(header(&req, "user-agent"));
    let headers = req.headers().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return respond(&bad_gateway(format!("reading the request: {e}"))),
    };
    let call = classify(&method, &path, &query, &authorization, target.as_deref(), &body);
    let account = state.accounts.lock().ok().and_then(|a| a.get(&call.access_key).cloned()).unwrap_or_else(|| "default".into());

    let (answer, served) = 'answer: {
        if state.params.throttle {
            let (family, mut rate) = rate_for(&call, &body);
            match state.params.overrides.iter().find(|(f, _)| *f == family || *f == call.service) {
                Some((_, r)) => rate = *r,
                None => {
                    let k = state.params.rate_scale;
                    rate = Rate { capacity: (rate.capacity * k).max(1.0), refill_per_sec: rate.refill_per_sec * k };
                }
            }
            let key = format!("{account}|{}|{family}", call.region);
            let allowed = match state.buckets.lock() {
                Ok(mut b) => b.entry(key).or_insert(Bucket { tokens: rate.capacity, last: arrived, rate }).take(arrived),
                Err(_) => true,
            };
            if !allowed {
                break 'answer (throttle_answer(&call), Served::Throttled);
            }
        }
        let forward = || forward(&state, &method, &path, &query, &headers, body.clone());
        if !is_read(&call, &method) {
            let answer = forward().await;
            if call.operation == "AssumeRole" && answer.status == 200 {
                if let (Some((key, acct)), Ok(mut map)) = (assumed_account(&answer.body), state.accounts.lock()) {
                    map.insert(key, acct);
                }
            }
            break 'answer (answer, Served::Passed);
        }
        let key = cache_key(
            &account,
            &call,
            &Sent { method: &method, path: &path, query: &query, target: target.as_deref(), content_type: &content_type, body: &body },
        );
        // The guard is dropped before any await (a std MutexGuard is not Send).
        let slot = state.cache.lock().ok().map(|mut c| c.entry(key).or_default().clone());
        let Some(slot) = slot else { break 'answer (forward().await, Served::Passed) };
        if let Some(a) = slot.get() {
            break 'answer (a.clone(), Served::Replayed);
        }
        let (mut fresh, mut went): (Option<Answer>, bool) = (None, false);
        let (fresh_ref, went_ref, forward_ref) = (&mut fresh, &mut went, &forward);
        let kept = slot
            .get_or_try_init(|| async move {
                *went_ref = true;
                let a = forward_ref().await;
                // Only a success is kept: an error may be a state that passes ("report not ready yet"), so it is asked again next time.
                if a.status < 400 {
                    Ok(a)
                } else {
                    *fresh_ref = Some(a);
                    Err(())
                }
            })
            .await
            .cloned();
        match (kept, fresh) {
            (_, Some(a)) => (a, Served::Passed),
            (Ok(a), None) => (a, if went { Served::Recorded } else { Served::Replayed }),
            (Err(()), None) => (bad_gateway("no answer".into()), Served::Passed),
        }
    };
    let jitter = state.params.jitter.mul_f64(fastrand::f64());
    let delay = state.params.base_delay(answer.body.len()) + jitter;
    let until = arrived + delay;
    tokio::time::sleep_until(until.into()).await;
    if let Ok(mut stats) = state.stats.lock() {
        let s = stats.entry(tool.to_string()).or_default();
        s.calls += 1;
        s.bytes_in += body.len() as u64;
        s.bytes_out += answer.body.len() as u64;
        s.modelled_secs += delay.as_secs_f64();
        *s.operations.entry(format!("{}:{}", call.service, call.operation)).or_default() += 1;
        match served {
            Served::Replayed => s.replayed += 1,
            Served::Recorded => s.recorded += 1,
            Served::Passed => s.passed_through += 1,
            Served::Throttled => s.throttled += 1,
        }
    }
    respond(&answer)
}

async fn forward(state: &State, method: &str, path: &str, query: &str, headers: &hyper::HeaderMap, body: Bytes) -> Answer {
    state.upstream_hits.fetch_add(1, Ordering::Relaxed);
    let url = if query.is_empty() { format!("{}{path}", state.upstream) } else { format!("{}{path}?{query}", state.upstream) };
    let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return bad_gateway(format!("unsupported method {method}"));
    };
    let mut req = state.http.request(method, url).body(body);
    for (k, v) in headers {
        if !matches!(k.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            req = req.header(k.as_str(), v.as_bytes());
        }
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return bad_gateway(format!("the emulator did not answer: {e}")),
    };
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "content-length" | "connection" | "transfer-encoding" | "date" | "server" | "keep-alive"))
        .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
        .collect();
    match resp.bytes().await {
        Ok(body) => Answer { status, headers, body },
        Err(e) => bad_gateway(format!("reading the emulator's answer: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/ap-northeast-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    #[test]
    fn requests_are_classified_by_scope_target_and_action() {
        let c = classify("POST", "/", "", AUTH, None, b"Action=DescribeVolumes&Version=2016-11-15");
        assert_eq!((c.region.as_str(), c.service.as_str(), c.operation.as_str(), c.protocol), ("ap-northeast-1", "ec2", "DescribeVolumes", Protocol::Ec2Query));
        let logs = AUTH.replace("/ec2/", "/logs/");
        let c = classify("POST", "/", "", &logs, Some("Logs_20140328.DescribeLogGroups"), b"{}");
        assert_eq!((c.service.as_str(), c.operation.as_str(), c.protocol), ("logs", "DescribeLogGroups", Protocol::Json));
        let iam = AUTH.replace("/ap-northeast-1/ec2/", "/us-east-1/iam/");
        let c = classify("POST", "/", "", &iam, None, b"Action=ListUsers&Version=2010-05-08");
        assert_eq!((c.service.as_str(), c.protocol), ("iam", Protocol::Query));
        let s3 = AUTH.replace("/ec2/", "/s3/");
        let c = classify("GET", "/bucket", "encryption=", &s3, None, b"");
        assert_eq!((c.protocol, c.operation.as_str()), (Protocol::S3, "GET depth1 encryption"));
        assert!(is_read(&c, "GET"));
        let sts = AUTH.replace("/ec2/", "/sts/");
        assert!(!is_read(&classify("POST", "/", "", &sts, None, b"Action=AssumeRole&RoleArn=x"), "POST"), "credentials are never replayed");
        assert!(is_read(&classify("POST", "/", "", &sts, None, b"Action=GetCallerIdentity"), "POST"));
        assert!(!is_read(&classify("POST", "/", "", &iam, None, b"Action=GenerateCredentialReport"), "POST"), "its answer changes: STARTED, then COMPLETE");
    }

    #[test]
    fn the_key_leaves_out_signature_and_date_and_sorts_parameters() {
        let call = classify("POST", "/", "", AUTH, None, b"Action=DescribeVolumes");
        let form = "application/x-www-form-urlencoded; charset=utf-8";
        let a = cache_key(
            "1",
            &call,
            &Sent {
                method: "POST",
                path: "/",
                query: "X-Amz-Date=1&b=2&a=1",
                target: None,
                content_type: form,
                body: b"Version=2016-11-15&Action=DescribeVolumes",
            },
        );
        let b = cache_key(
            "1",
            &call,
            &Sent {
                method: "POST",
                path: "/",
                query: "a=1&b=2&X-Amz-Date=2",
                target: None,
                content_type: form,
                body: b"Action=DescribeVolumes&Version=2016-11-15",
            },
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            cache_key(
                "2",
                &call,
                &Sent { method: "POST", path: "/", query: "a=1&b=2", target: None, content_type: form, body: b"Action=DescribeVolumes&Version=2016-11-15" }
            ),
            "accounts are apart"
        );
        assert_ne!(
            a,
            cache_key(
                "1",
                &call,
                &Sent {
                    method: "POST",
                    path: "/",
                    query: "a=1&b=2",
                    target: None,
                    content_type: form,
                    body: b"Action=DescribeVolumes&NextToken=x&Version=2016-11-15"
                }
            )
        );
    }

    #[test]
    fn ec2_rates_are_the_documented_ones() {
        let call = classify("POST", "/", "", AUTH, None, b"Action=DescribeVolumes");
        assert_eq!(rate_for(&call, b"Action=DescribeVolumes&MaxResults=1000").1, Rate { capacity: 100.0, refill_per_sec: 20.0 });
        let (family, rate) = rate_for(&call, b"Action=DescribeVolumes");
        assert_eq!((family.as_str(), rate), ("ec2:DescribeVolumes (unfiltered)", Rate { capacity: 50.0, refill_per_sec: 10.0 }));
        let create = classify("POST", "/", "", AUTH, None, b"Action=CreateVolume");
        assert_eq!(rate_for(&create, b"").1, Rate { capacity: 200.0, refill_per_sec: 5.0 });
    }

    #[test]
    fn every_throttling_answer_is_one_the_sdk_retries() {
        for (service, target, body) in
            [("ec2", None, "Action=DescribeVpcs"), ("iam", None, "Action=ListUsers"), ("logs", Some("Logs_20140328.DescribeLogGroups"), "{}"), ("s3", None, "")]
        {
            let auth = AUTH.replace("/ec2/", &format!("/{service}/"));
            let call = classify("POST", "/", "", &auth, target, body.as_bytes());
            let a = throttle_answer(&call);
            assert!(gcverify_checks::aws_calls::is_throttled(a.status, &a.body), "{service}: {} {}", a.status, String::from_utf8_lossy(&a.body));
        }
    }

    #[test]
    fn an_assumed_role_answer_names_its_key_and_account() {
        let body = b"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId></Credentials><AssumedRoleUser><Arn>arn:aws:sts::100000000007:assumed-role/r/gcverify</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>";
        assert_eq!(assumed_account(body), Some(("ASIAEXAMPLE".into(), "100000000007".into())));
        assert_eq!(assumed_account(b"<Error/>"), None);
    }

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_size() {
        let t0 = Instant::now();
        let mut b = Bucket { tokens: 2.0, last: t0, rate: Rate { capacity: 2.0, refill_per_sec: 10.0 } };
        assert!(b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
        let later = t0 + Duration::from_secs(10);
        assert!(b.take(later) && b.take(later) && !b.take(later), "never more than its size");
    }
}
