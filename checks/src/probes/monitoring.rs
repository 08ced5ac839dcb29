//! C.1.3.1 監視: CloudWatch metric alarms in the used regions. Level 4
//! (リソース監視) needs alarms on CPU, memory and disk; level 5 (パフォーマンス
//! 監視) also on response time / latency. Each counting alarm must have an
//! enabled action (ActionsEnabled and AlarmActions non-empty); an alarm stuck
//! in INSUFFICIENT_DATA means its metric is not delivered and is a violation.
//! Which metric names count per category comes from the scenario's `[monitoring]`.
//! Every EC2 instance and RDS/Aurora database in scope must itself be watched:
//! a working alarm of each category whose dimensions name it (InstanceId or its
//! Auto Scaling group, DBInstanceIdentifier, DBClusterIdentifier).

use std::sync::Arc;

use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use chrono::{DateTime, Duration, Utc};

use super::continuity::Resource;
use super::{Findings, ProbeInput};
use crate::inventory::Kind;
use crate::model::{Msg, Outcome};
use gcverify_scenarios::Monitoring;

pub const ACTIONS: &[&str] = &["cloudwatch:DescribeAlarms", "ec2:DescribeInstances", "rds:DescribeDBInstances", "rds:DescribeDBClusters"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "monitoring.alarms",
        ja: "対象のインスタンス・DBごとにCPU・メモリ・ディスク等の閾値アラームと通知先がある",
        en: "Every in-scope instance and database has threshold alarms (CPU, memory, disk, ...) with a notification target",
        detail: "CloudWatch alarms on CPU, memory, disk (level 4) and response time/latency (level 5), each with actions enabled and an SNS action; alarms stuck in INSUFFICIENT_DATA are NG; every EC2 instance / RDS / Aurora database in scope needs its own alarms (by dimension, or its Auto Scaling group).",
        section: "[monitoring]",
        actions: ACTIONS,
        emulator: "the emulator extension (demo/emulator): moto's alarms behind a CloudWatch CBOR bridge; the demos seed alarms per resource",
        claims: &[super::registry::claim("alarms-per-resource", "対象の各インスタンス・DB に CPU・メモリ・ディスク等のアラームがある", "Every instance and database in scope has CPU, memory, disk (latency) alarms", super::registry::Basis::Setting), super::registry::claim("alarm-notifies", "アラームが有効なアクション（SNS）を持ちデータを受信している", "The alarms have enabled SNS actions and receive data", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("a_dr_region_instance_in_scope_without_alarms_is_ng", crate::probes::registry::Class::PartialObservation, "an instance without alarms only in the DR region", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("disabled_action_and_stuck_insufficient_data_are_ng_naming_the_alarm", crate::probes::registry::Class::HappyPathOnly, "an alarm with its action disabled or never receiving data", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("every_instance_in_scope_needs_its_own_alarms", crate::probes::registry::Class::UnlistedData, "a system-wide alarm standing in for an unwatched instance", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::Nearest, "That a notification reaches a person (a confirmed SNS subscription, a mail read) is not observed.")],
        run: |i| Box::pin(alarms(i)),
    },
];

/// An alarm still in INSUFFICIENT_DATA after this long is "stuck".
const STUCK_AFTER: Duration = Duration::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Cpu,
    Memory,
    Disk,
    Latency,
}

impl Category {
    fn label(self) -> (&'static str, &'static str) {
        match self {
            Category::Cpu => ("CPU", "CPU"),
            Category::Memory => ("メモリ", "memory"),
            Category::Disk => ("ディスク", "disk"),
            Category::Latency => ("応答時間", "response time/latency"),
        }
    }
    fn metrics(self, m: &Monitoring) -> &[String] {
        match self {
            Category::Cpu => &m.cpu_metrics,
            Category::Memory => &m.memory_metrics,
            Category::Disk => &m.disk_metrics,
            Category::Latency => &m.latency_metrics,
        }
    }
}

/// Categories C.1.3.1's level requires. `Ok(None)`: not applicable.
pub fn required(level: &str) -> Result<Option<Vec<Category>>, String> {
    use Category::*;
    match level {
        "0" => Ok(None),
        "4" => Ok(Some(vec![Cpu, Memory, Disk])),
        "5" => Ok(Some(vec![Cpu, Memory, Disk, Latency])),
        // 死活/エラー監視 are judged from logs and status checks, not by this probe.
        other => Err(format!("level {other} (死活監視/エラー監視) is not judged by this probe; it verifies levels 4-5")),
    }
}

/// Metric names an alarm watches (plain metric alarm or metric-math inputs).
fn metric_names(a: &MetricAlarm) -> Vec<&str> {
    let mut v: Vec<&str> = a.metric_name().into_iter().collect();
    v.extend(a.metrics().iter().filter_map(|q| q.metric_stat()).filter_map(|s| s.metric()).filter_map(|m| m.metric_name()));
    v
}

pub async fn alarms(input: Arc<ProbeInput>) -> Findings {
    let need = match required(&input.level) {
        Ok(None) => return Findings::level_asks_nothing(&input.level),
        Ok(Some(n)) => n,
        Err(why) => return Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {why}"), format!("could not verify: {why}"))),
    };
    const CALL: &str = "cloudwatch:DescribeAlarms";
    let mut f = Findings::new();
    let mut seen = Vec::new();
    let mut read_all = true;
    for region in input.scenario.aws.used_regions() {
        let cw = input.aws.cloudwatch(&region);
        let mut pages = cw.describe_alarms().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => seen.extend(p.metric_alarms().iter().map(|a| (region.clone(), a.clone()))),
                Err(e) => {
                    f.aws_error(CALL, Some(&region), &e);
                    read_all = false;
                    break;
                }
            }
        }
    }
    if !read_all {
        // A region whose alarms could not be read may hold the missing category: no verdict on absence.
        return f;
    }
    let working = judge(&seen, &need, &input.scenario.monitoring, input.now, &mut f);
    let resources = crate::probes::continuity::in_scope_resources(&input, &mut f, &input.scenario.aws.used_regions()).await;
    let working: Vec<&MetricAlarm> = working.iter().map(|i| &seen[*i].1).collect();
    per_resource(&working, &resources, &need, &input.scenario.monitoring, &mut f);
    f
}

/// Dimensions that name resource `r` in CloudWatch, and the categories it needs.
fn identity(r: &Resource) -> (Vec<(&'static str, String)>, &'static [Category]) {
    use Category::*;
    match crate::probes::continuity::resource_type(&r.arn).as_str() {
        "EC2" => {
            let mut d = vec![("InstanceId", r.name.clone())];
            if let Some(asg) = r.tags.get("aws:autoscaling:groupName") {
                d.push(("AutoScalingGroupName", asg.clone()));
            }
            (d, &[Cpu, Memory, Disk])
        }
        "RDS" => (vec![("DBInstanceIdentifier", r.name.clone())], &[Cpu, Memory, Disk]),
        // Aurora storage grows by itself: no disk alarm expected.
        "Aurora" => (vec![("DBClusterIdentifier", r.name.clone())], &[Cpu, Memory]),
        _ => (Vec::new(), &[]),
    }
}

/// Dimensions an alarm watches (plain metric alarm or metric-math inputs).
fn dimensions(a: &MetricAlarm) -> Vec<(&str, &str)> {
    let plain = a.dimensions().iter();
    let math = a.metrics().iter().filter_map(|q| q.metric_stat()).filter_map(|s| s.metric()).flat_map(|m| m.dimensions().iter());
    plain.chain(math).filter_map(|d| Some((d.name()?, d.value()?))).collect()
}

/// Each EC2 instance / RDS or Aurora database in scope has a working alarm of every required category.
pub(crate) fn per_resource(working: &[&MetricAlarm], resources: &[Resource], need: &[Category], m: &Monitoring, f: &mut Findings) {
    const SRC: &str = "cloudwatch:DescribeAlarms";
    let mut checked = 0;
    f.claim("alarms-per-resource");
    for r in resources {
        let (ids, cats) = identity(r);
        if ids.is_empty() {
            continue;
        }
        checked += 1;
        let mut missing = Vec::new();
        let mut names = Vec::new();
        for c in need.iter().filter(|c| cats.contains(c)) {
            let hit = working.iter().find(|a| {
                let metrics = metric_names(a);
                metrics.iter().any(|mn| c.metrics(m).iter().any(|x| x == mn))
                    && dimensions(a).iter().any(|(k, v)| ids.iter().any(|(ik, iv)| ik == k && iv == v))
            });
            match hit {
                Some(a) => {
                    names.push((format!("{}: {}", c.label().0, a.alarm_name().unwrap_or("?")), format!("{}: {}", c.label().1, a.alarm_name().unwrap_or("?"))))
                }
                None => missing.push(c.label()),
            }
        }
        let who = ids.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" or ");
        let subject = r.label();
        if missing.is_empty() {
            let ja = names.iter().map(|n| n.0.as_str()).collect::<Vec<_>>().join("、");
            let en = names.iter().map(|n| n.1.as_str()).collect::<Vec<_>>().join(", ");
            f.pass(&subject, None, crate::msg!("監視あり: {ja}", "watched: {en}"), SRC);
        } else {
            let ja = missing.iter().map(|m| m.0).collect::<Vec<_>>().join("・");
            let en = missing.iter().map(|m| m.1).collect::<Vec<_>>().join("/");
            f.fail(
                &subject,
                None,
                crate::msg!("このリソースに有効な{ja}アラームなし（ディメンション {who}）", "no working {en} alarm on this resource (dimension {who})"),
                SRC,
            );
        }
    }
    // System-wide alarms never stand in for the resources they should watch.
    f.require_resources(checked, &[Kind::Instance, Kind::DbInstance, Kind::DbCluster]);
}

/// Judge the alarms by category; returns the indices of the working ones (action enabled, not stuck).
pub fn judge(alarms: &[(String, MetricAlarm)], need: &[Category], m: &Monitoring, now: DateTime<Utc>, f: &mut Findings) -> Vec<usize> {
    const SRC: &str = "cloudwatch:DescribeAlarms";
    let mut covered = Vec::new();
    let mut working = Vec::new();
    f.claim("alarm-notifies");
    for (i, (region, a)) in alarms.iter().enumerate() {
        let name = a.alarm_name().unwrap_or("(no name)");
        if !name.starts_with(&m.alarm_name_prefix) {
            continue;
        }
        let metrics = metric_names(a);
        let cats: Vec<Category> = need.iter().copied().filter(|c| metrics.iter().any(|mn| c.metrics(m).iter().any(|x| x == mn))).collect();
        if cats.is_empty() {
            continue;
        }
        let cat_en = cats.iter().map(|c| c.label().1).collect::<Vec<_>>().join("+");
        let cat_ja = cats.iter().map(|c| c.label().0).collect::<Vec<_>>().join("+");
        let state = a.state_value().map(StateValue::as_str).unwrap_or("?");
        let settings = format!("ActionsEnabled={} AlarmActions=[{}] State={state}", a.actions_enabled().unwrap_or(false), a.alarm_actions().join(","));
        let metric = metrics.join(",");
        let detail = crate::msg!("{cat_ja}: メトリクス {metric} {settings}", "{cat_en}: metric {metric} {settings}");
        let has_action = a.actions_enabled() == Some(true) && !a.alarm_actions().is_empty();
        let since = a.state_updated_timestamp().and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), 0));
        let stuck = a.state_value() == Some(&StateValue::InsufficientData) && since.is_none_or(|s| now - s > STUCK_AFTER);
        if !has_action {
            f.fail(
                name,
                Some(region),
                detail.wrap(("", ": 有効なアラームアクションなし（誰にも通知されない）"), ("", ": no enabled alarm action (no one is notified)")),
                SRC,
            );
        } else if stuck {
            let since = since.map(|s| s.to_rfc3339()).unwrap_or_else(|| "unknown".into());
            f.fail(
                name,
                Some(region),
                detail.wrap(
                    ("", &format!(": {since} から INSUFFICIENT_DATA（メトリクスが届いていない？）")),
                    ("", &format!(": INSUFFICIENT_DATA since {since} (metric not delivered?)")),
                ),
                SRC,
            );
        } else {
            f.pass(name, Some(region), detail, SRC);
            covered.extend(cats);
            working.push(i);
        }
    }
    let mut missing = Vec::new();
    f.claim("alarms-per-resource");
    for c in need {
        if !covered.contains(c) {
            missing.push(*c);
            f.fail(
                &format!("alarms:{}", c.label().1),
                None,
                crate::msg!(
                    "{ja}のメトリクス（{metrics}）に有効なアクションのあるアラームなし",
                    "no working alarm with an enabled action on {en} metrics ({metrics})";
                    ja = c.label().0,
                    en = c.label().1,
                    metrics = c.metrics(m).join(", ")
                ),
                SRC,
            );
        }
    }
    if missing.is_empty() {
        let ja = need.iter().map(|c| c.label().0).collect::<Vec<_>>().join("・");
        let en = need.iter().map(|c| c.label().1).collect::<Vec<_>>().join(", ");
        f.ok_summary(Msg::new(format!("{ja}のアラームが通知アクション付きで稼働"), format!("alarms with enabled actions cover {en}")));
    }
    working
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str, metric: &str, actions: bool, state: StateValue) -> (String, MetricAlarm) {
        let mut b = MetricAlarm::builder().alarm_name(name).metric_name(metric).actions_enabled(actions).state_value(state);
        if actions {
            b = b.alarm_actions("arn:aws:sns:ap-northeast-1:123456789012:ops");
        }
        ("ap-northeast-1".into(), b.build())
    }

    fn outcome(alarms: &[(String, MetricAlarm)], level: &str) -> crate::probes::Conclusion {
        let need = required(level).expect("level").expect("required");
        let mut f = Findings::new();
        judge(alarms, &need, &Monitoring::default(), Utc::now(), &mut f);
        f.conclude(level)
    }

    fn resource_alarms() -> Vec<(String, MetricAlarm)> {
        vec![
            alarm("cpu", "CPUUtilization", true, StateValue::Ok),
            alarm("mem", "mem_used_percent", true, StateValue::Ok),
            alarm("disk", "disk_used_percent", true, StateValue::Alarm),
        ]
    }

    #[test]
    fn level_4_needs_resources_level_5_also_latency() {
        assert_eq!(outcome(&resource_alarms(), "4").outcome, Outcome::Ok);
        let c = outcome(&resource_alarms(), "5");
        assert_eq!(c.outcome, Outcome::Ng);
        assert!(c.summary.en.contains("response time/latency"), "{}", c.summary.en);
        let mut all = resource_alarms();
        all.push(alarm("alb-latency", "TargetResponseTime", true, StateValue::Ok));
        assert_eq!(outcome(&all, "5").outcome, Outcome::Ok);
    }

    #[test]
    fn alarm_without_action_or_stuck_is_ng() {
        let mut a = resource_alarms();
        a.push(alarm("cpu-silent", "CPUUtilization", false, StateValue::Ok));
        let c = outcome(&a, "4");
        assert_eq!(c.outcome, Outcome::Ng);
        assert!(c.summary.en.contains("cpu-silent"), "{}", c.summary.en);

        let mut a = resource_alarms();
        a[1] = alarm("mem", "mem_used_percent", true, StateValue::InsufficientData);
        let c = outcome(&a, "4");
        assert_eq!(c.outcome, Outcome::Ng);
        assert!(c.summary.en.contains("INSUFFICIENT_DATA"), "{}", c.summary.en);
    }

    fn with_dim(mut a: (String, MetricAlarm), name: &str, value: &str) -> (String, MetricAlarm) {
        a.1 = MetricAlarm::builder()
            .set_alarm_name(a.1.alarm_name().map(str::to_string))
            .set_metric_name(a.1.metric_name().map(str::to_string))
            .actions_enabled(true)
            .alarm_actions("arn:aws:sns:ap-northeast-1:123456789012:ops")
            .state_value(StateValue::Ok)
            .dimensions(aws_sdk_cloudwatch::types::Dimension::builder().name(name).value(value).build())
            .build();
        a
    }

    fn resource(arn: &str, name: &str, tags: &[(&str, &str)]) -> Resource {
        Resource { arn: arn.into(), name: name.into(), tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), pitr: None }
    }

    fn per(alarms: &[(String, MetricAlarm)], resources: &[Resource]) -> crate::probes::Conclusion {
        let need = required("4").expect("level").expect("required");
        let mut f = Findings::new();
        let working = judge(alarms, &need, &Monitoring::default(), Utc::now(), &mut f);
        let working: Vec<&MetricAlarm> = working.iter().map(|i| &alarms[*i].1).collect();
        per_resource(&working, resources, &need, &Monitoring::default(), &mut f);
        f.conclude("4")
    }

    #[test]
    fn every_instance_and_database_needs_its_own_alarms() {
        let web1 = resource("arn:aws:ec2:ap-northeast-1:1:instance/i-web1", "i-web1", &[]);
        let web2 = resource("arn:aws:ec2:ap-northeast-1:1:instance/i-web2", "i-web2", &[("aws:autoscaling:groupName", "juki-web")]);
        let db = resource("arn:aws:rds:ap-northeast-1:1:db:juki-db", "juki-db", &[]);
        let alarms = vec![
            with_dim(alarm("w1-cpu", "CPUUtilization", true, StateValue::Ok), "InstanceId", "i-web1"),
            with_dim(alarm("w1-mem", "mem_used_percent", true, StateValue::Ok), "InstanceId", "i-web1"),
            with_dim(alarm("w1-disk", "disk_used_percent", true, StateValue::Ok), "InstanceId", "i-web1"),
            // web2 is watched through its Auto Scaling group.
            with_dim(alarm("asg-cpu", "CPUUtilization", true, StateValue::Ok), "AutoScalingGroupName", "juki-web"),
            with_dim(alarm("asg-mem", "mem_used_percent", true, StateValue::Ok), "AutoScalingGroupName", "juki-web"),
            with_dim(alarm("asg-disk", "disk_used_percent", true, StateValue::Ok), "AutoScalingGroupName", "juki-web"),
            with_dim(alarm("db-cpu", "CPUUtilization", true, StateValue::Ok), "DBInstanceIdentifier", "juki-db"),
            with_dim(alarm("db-mem", "FreeableMemory", true, StateValue::Ok), "DBInstanceIdentifier", "juki-db"),
        ];
        let c = per(&alarms, &[web1.clone(), web2.clone(), db.clone()]);
        assert_eq!(c.outcome, Outcome::Ng, "the database has no disk alarm");
        let text = c.evidence.iter().map(|e| format!("{:?} {} {}", e.status, e.subject, e.detail.en)).collect::<Vec<_>>().join("\n");
        assert!(text.contains("Fail juki-db no working disk alarm on this resource (dimension DBInstanceIdentifier=juki-db)"), "{text}");
        assert!(text.contains("Pass i-web2 watched"), "{text}");
        let mut all = alarms.clone();
        all.push(with_dim(alarm("db-disk", "FreeStorageSpace", true, StateValue::Ok), "DBInstanceIdentifier", "juki-db"));
        assert_eq!(per(&all, &[web1, web2, db]).outcome, Outcome::Ok);
        // A second instance nobody watches: category coverage alone would have said OK.
        let web3 = resource("arn:aws:ec2:ap-northeast-1:1:instance/i-web3", "i-web3", &[]);
        let c = per(&all, &[web3]);
        assert_eq!(c.outcome, Outcome::Ng);
    }

    #[test]
    fn levels_outside_4_5() {
        assert!(matches!(required("0"), Ok(None)));
        assert!(required("2").is_err());
    }
}
