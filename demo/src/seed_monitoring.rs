//! Seeds the CloudWatch alarms C.1.3.1 (監視情報, level 5) expects: per
//! in-scope instance CPU, memory and disk (CloudWatch agent metrics), per
//! database CPU, freeable memory and free storage, and the load balancer's
//! response time, each notifying the operations topic. The emulator extension
//! serves them to the Rust SDK over CBOR.
//!
//! Non-compliant: [`MISSING_ALARM`] has no disk alarm.

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};

use crate::seed::{emulator_config, PRIMARY};
use crate::MOTO_ACCOUNT;

/// Non-compliant: the instance (Name tag) without a disk alarm.
pub const MISSING_ALARM: &str = "juki-db01";

struct Alarm<'a> {
    name: String,
    namespace: &'a str,
    metric: &'a str,
    dimension: (&'a str, String),
    threshold: f64,
    below: bool,
}

pub async fn seed_monitoring(endpoint: &str, compliant: bool) -> Result<()> {
    let conf = emulator_config(endpoint, PRIMARY);
    let mut alarms = Vec::new();
    for r in crate::seed_continuity::in_scope(endpoint).await? {
        if let Some(id) = r.arn.strip_prefix(&format!("arn:aws:ec2:{PRIMARY}:{MOTO_ACCOUNT}:instance/")) {
            let dim = ("InstanceId", id.to_string());
            alarms.push(Alarm {
                name: format!("{}-cpu", r.name),
                namespace: "AWS/EC2",
                metric: "CPUUtilization",
                dimension: dim.clone(),
                threshold: 80.0,
                below: false,
            });
            alarms.push(Alarm {
                name: format!("{}-mem", r.name),
                namespace: "CWAgent",
                metric: "mem_used_percent",
                dimension: dim.clone(),
                threshold: 85.0,
                below: false,
            });
            if compliant || r.name != MISSING_ALARM {
                alarms.push(Alarm {
                    name: format!("{}-disk", r.name),
                    namespace: "CWAgent",
                    metric: "disk_used_percent",
                    dimension: dim,
                    threshold: 80.0,
                    below: false,
                });
            }
        } else {
            let dim = ("DBInstanceIdentifier", r.name.clone());
            alarms.push(Alarm {
                name: format!("{}-cpu", r.name),
                namespace: "AWS/RDS",
                metric: "CPUUtilization",
                dimension: dim.clone(),
                threshold: 80.0,
                below: false,
            });
            let low_mem = 512.0 * 1024.0 * 1024.0;
            alarms.push(Alarm {
                name: format!("{}-mem", r.name),
                namespace: "AWS/RDS",
                metric: "FreeableMemory",
                dimension: dim.clone(),
                threshold: low_mem,
                below: true,
            });
            let low_disk = 10.0 * 1024.0 * 1024.0 * 1024.0;
            alarms.push(Alarm {
                name: format!("{}-disk", r.name),
                namespace: "AWS/RDS",
                metric: "FreeStorageSpace",
                dimension: dim,
                threshold: low_disk,
                below: true,
            });
        }
    }
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let lbs = elb.describe_load_balancers().send().await.context("listing load balancers")?;
    for lb in lbs.load_balancers() {
        // The LoadBalancer dimension is the ARN's tail: app/NAME/ID.
        let Some(tail) = lb.load_balancer_arn().and_then(|a| a.split_once(":loadbalancer/")).map(|(_, t)| t.to_string()) else { continue };
        let name = lb.load_balancer_name().unwrap_or("alb");
        alarms.push(Alarm {
            name: format!("{name}-latency"),
            namespace: "AWS/ApplicationELB",
            metric: "TargetResponseTime",
            dimension: ("LoadBalancer", tail),
            threshold: 2.0,
            below: false,
        });
    }

    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    let topic = format!("arn:aws:sns:{PRIMARY}:{MOTO_ACCOUNT}:juki-ops");
    for a in alarms {
        cw.put_metric_alarm()
            .alarm_name(&a.name)
            .namespace(a.namespace)
            .metric_name(a.metric)
            .dimensions(Dimension::builder().name(a.dimension.0).value(&a.dimension.1).build())
            .statistic(Statistic::Average)
            .period(300)
            .evaluation_periods(2)
            .threshold(a.threshold)
            .comparison_operator(if a.below { ComparisonOperator::LessThanThreshold } else { ComparisonOperator::GreaterThanThreshold })
            .actions_enabled(true)
            .alarm_actions(&topic)
            .ok_actions(&topic)
            .send()
            .await
            .with_context(|| format!("PutMetricAlarm {}", a.name))?;
        // Metrics are flowing: the alarm has evaluated to OK.
        cw.set_alarm_state().alarm_name(&a.name).state_value(StateValue::Ok).state_reason("Threshold not breached").send().await?;
    }
    Ok(())
}
