//! CloudWatch: the daemon publishes every sample (`PutMetricData`, metric
//! `Availability` = 1 up / 0 down, `ResponseTime` in ms; dimensions `Target`
//! and `Probe`) so probes on several sites feed one place, and `verify` can
//! read them back (`GetMetricData`, statistic Minimum per slice: a slice with
//! any failed check is a failed slice) instead of the local store.
//!
//! CloudWatch keeps 1-minute points for 15 days only; older periods read at
//! 1-minute slices come back empty, so they show as low coverage (検証不能),
//! never as up. Use the local store for longer periods.

use aws_sdk_cloudwatch::error::SdkError;
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy, StandardUnit, StatusCode};
use aws_smithy_types::error::display::DisplayErrorContext;
use chrono::{DateTime, Utc};

use crate::check::{CheckOutcome, Target};
use crate::compute::Series;
use crate::slots;

pub const METRIC: &str = "Availability";
pub const LATENCY_METRIC: &str = "ResponseTime";

pub struct Publisher {
    client: aws_sdk_cloudwatch::Client,
    namespace: String,
}

fn dims(target: &str, probe: &str) -> Vec<Dimension> {
    vec![Dimension::builder().name("Target").value(target).build(), Dimension::builder().name("Probe").value(probe).build()]
}

impl Publisher {
    pub fn new(client: aws_sdk_cloudwatch::Client, namespace: &str) -> Self {
        Self { client, namespace: namespace.to_string() }
    }

    /// One PutMetricData call per cycle (at most 2 data per target).
    pub async fn publish(&self, probe: &str, slot_start_secs: i64, results: &[(String, CheckOutcome)]) -> Result<(), String> {
        let ts = aws_smithy_types::DateTime::from_secs(slot_start_secs);
        let mut data = Vec::new();
        for (name, r) in results {
            data.push(
                MetricDatum::builder()
                    .metric_name(METRIC)
                    .set_dimensions(Some(dims(name, probe)))
                    .timestamp(ts)
                    .value(if r.ok { 1.0 } else { 0.0 })
                    .unit(StandardUnit::None)
                    .build(),
            );
            if let Some(ms) = r.latency_ms {
                data.push(
                    MetricDatum::builder()
                        .metric_name(LATENCY_METRIC)
                        .set_dimensions(Some(dims(name, probe)))
                        .timestamp(ts)
                        .value(ms as f64)
                        .unit(StandardUnit::Milliseconds)
                        .build(),
                );
            }
        }
        self.client
            .put_metric_data()
            .namespace(&self.namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("cloudwatch:PutMetricData: {}", DisplayErrorContext(&e)))
    }
}

/// The publisher the scenario asks for (`[availability.cloudwatch] publish = true`),
/// with credentials from the scenario's `[aws]` table and the usual chain.
pub async fn publisher_from_env(scenario: &gcverify_scenarios::Scenario, cfg: &crate::Config) -> Option<Publisher> {
    let cw = cfg.cloudwatch.as_ref().filter(|c| c.publish)?;
    let region = cw.region.clone().unwrap_or_else(|| scenario.aws.primary_region.clone());
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new(region));
    if let Some(p) = &scenario.aws.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &scenario.aws.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    Some(Publisher::new(aws_sdk_cloudwatch::Client::new(&loader.load().await), &cw.namespace))
}

#[derive(Debug)]
pub enum ReadError {
    /// The call failed; the caller turns it into 検証不能 with the reason.
    Sdk(Box<SdkError<GetMetricDataError>>),
    /// CloudWatch answered but flagged a query (Forbidden, InternalError).
    Status { target: String, status: String, messages: String },
}

/// Read the samples of every target from `probe` over `[from, to)` as series.
pub async fn read_series(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    probe: &str,
    targets: &[Target],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    slot_secs: i64,
) -> Result<Vec<Series>, ReadError> {
    let period = i32::try_from(slot_secs).unwrap_or(60);
    let queries: Vec<MetricDataQuery> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let metric = Metric::builder().namespace(namespace).metric_name(METRIC).set_dimensions(Some(dims(&t.name, probe))).build();
            MetricDataQuery::builder()
                .id(format!("t{i}"))
                .metric_stat(MetricStat::builder().metric(metric).period(period).stat("Minimum").build())
                .return_data(true)
                .build()
        })
        .collect();
    let mut points: Vec<Vec<(i64, f64)>> = vec![Vec::new(); targets.len()];
    let mut token: Option<String> = None;
    loop {
        let out = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(aws_smithy_types::DateTime::from_secs(from.timestamp()))
            .end_time(aws_smithy_types::DateTime::from_secs(to.timestamp()))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| ReadError::Sdk(Box::new(e)))?;
        for r in out.metric_data_results() {
            let Some(i) = r.id().and_then(|id| id.strip_prefix('t')).and_then(|n| n.parse::<usize>().ok()).filter(|i| *i < targets.len()) else { continue };
            if let Some(s @ (StatusCode::Forbidden | StatusCode::InternalError)) = r.status_code() {
                let messages = r.messages().iter().filter_map(|m| m.value()).collect::<Vec<_>>().join("; ");
                return Err(ReadError::Status { target: targets[i].name.clone(), status: s.as_str().to_string(), messages });
            }
            for (t, v) in r.timestamps().iter().zip(r.values()) {
                points[i].push((t.secs(), *v));
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(targets
        .iter()
        .zip(points)
        .map(|(t, mut p)| {
            p.sort_by_key(|(ts, _)| *ts);
            let present: Vec<i64> = p.iter().map(|(ts, _)| ts.div_euclid(slot_secs)).collect();
            let mut present = present;
            present.dedup();
            let failed =
                p.iter().filter(|(_, v)| *v < 1.0).map(|(ts, _)| (ts.div_euclid(slot_secs), Some(format!("CloudWatch {METRIC} minimum < 1")))).collect();
            Series { name: t.name.clone(), present: slots::from_sorted_slots(&present), failed }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn target(name: &str) -> Target {
        Target { name: name.into(), check: crate::check::Check::Tcp { address: "127.0.0.1:1".into(), timeout: std::time::Duration::from_secs(1) } }
    }

    #[tokio::test]
    async fn reads_minimum_per_slice_and_pages() {
        let t0: i64 = 1_800_000_000; // a whole minute
        let page1 = mock!(aws_sdk_cloudwatch::Client::get_metric_data).match_requests(|r| r.next_token().is_none()).then_output(move || {
            GetMetricDataOutput::builder()
                .metric_data_results(
                    MetricDataResult::builder()
                        .id("t0")
                        .set_timestamps(Some(vec![aws_smithy_types::DateTime::from_secs(t0), aws_smithy_types::DateTime::from_secs(t0 + 60)]))
                        .set_values(Some(vec![1.0, 0.0]))
                        .status_code(StatusCode::PartialData)
                        .build(),
                )
                .next_token("p2")
                .build()
        });
        let page2 = mock!(aws_sdk_cloudwatch::Client::get_metric_data).match_requests(|r| r.next_token() == Some("p2")).then_output(move || {
            GetMetricDataOutput::builder()
                .metric_data_results(
                    MetricDataResult::builder()
                        .id("t0")
                        .set_timestamps(Some(vec![aws_smithy_types::DateTime::from_secs(t0 + 120)]))
                        .set_values(Some(vec![0.0]))
                        .status_code(StatusCode::Complete)
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&page1, &page2]);
        let from = DateTime::from_timestamp(t0, 0).unwrap();
        let series = read_series(&client, "ns", "p", &[target("web")], from, from + chrono::Duration::minutes(10), 60).await.unwrap();
        let s0 = t0 / 60;
        assert_eq!(series[0].present, vec![(s0, s0 + 3)]);
        assert_eq!(series[0].failed.iter().map(|f| f.0).collect::<Vec<_>>(), vec![s0 + 1, s0 + 2]);
        assert_eq!(page2.num_calls(), 1);
    }

    #[tokio::test]
    async fn forbidden_queries_and_failed_calls_are_errors() {
        let forbidden = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(|| {
            GetMetricDataOutput::builder().metric_data_results(MetricDataResult::builder().id("t0").status_code(StatusCode::Forbidden).build()).build()
        });
        let client = mock_client!(aws_sdk_cloudwatch, [&forbidden]);
        let now = Utc::now();
        let r = read_series(&client, "ns", "p", &[target("web")], now - chrono::Duration::hours(1), now, 60).await;
        assert!(matches!(r, Err(ReadError::Status { .. })), "{r:?}");

        let denied = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(r#"{"__type":"AccessDeniedException","message":"no"}"#),
            )
        });
        let client = mock_client!(aws_sdk_cloudwatch, [&denied]);
        let r = read_series(&client, "ns", "p", &[target("web")], now - chrono::Duration::hours(1), now, 60).await;
        assert!(matches!(r, Err(ReadError::Sdk(_))), "{r:?}");
    }

    #[tokio::test]
    async fn publishes_one_call_per_cycle_with_both_metrics() {
        let put = mock!(aws_sdk_cloudwatch::Client::put_metric_data)
            .match_requests(|r| {
                r.namespace() == Some("GCVerify/Availability")
                    && r.metric_data().len() == 3
                    && r.metric_data().iter().any(|d| d.metric_name() == Some(METRIC) && d.value() == Some(0.0))
                    && r.metric_data().iter().all(|d| d.dimensions().iter().any(|x| x.name() == Some("Probe") && x.value() == Some("庁舎")))
            })
            .then_output(|| PutMetricDataOutput::builder().build());
        let client = mock_client!(aws_sdk_cloudwatch, [&put]);
        let p = Publisher::new(client, "GCVerify/Availability");
        let up = CheckOutcome { ok: true, latency_ms: Some(12), status: Some(200), detail: None };
        let down = CheckOutcome { ok: false, latency_ms: None, status: None, detail: Some("refused".into()) };
        p.publish("庁舎", 1_800_000_000, &[("web".into(), up), ("db".into(), down)]).await.unwrap();
        assert_eq!(put.num_calls(), 1);
    }
}
