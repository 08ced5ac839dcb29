//! Logging probes. The split between the two items:
//!
//! E.7.1.1 ログの取得 (`logging.audit`) — *what is recorded and kept*: a
//! CloudTrail trail that is logging, with log-file validation and management
//! events; the CloudWatch Logs groups the scenario names exist, keep logs at
//! least `retention_days` and received an event within `recent_hours`.
//!
//! E.7.1.3 不正監視対象 (`logging.monitoring`) — *which resources are
//! covered*: a logging trail is multi-region (every region, including those
//! the system does not use, where an intruder would go), and every VPC of the
//! system in every used region has an active flow log of ALL traffic.

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::types::OrderBy;

use super::{Findings, ProbeInput};
use crate::inventory::{Kind, Scoped};
use crate::model::Msg;

/// IAM actions these probes call (see `permissions`).
pub const ACTIONS: &[&str] = &[
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "logging.audit",
        ja: "サーバログと監査ログ（CloudTrail・CloudWatch Logs）の取得と保存期間",
        en: "Server and audit logs (CloudTrail, CloudWatch Logs) are collected and kept long enough",
        detail: "A CloudTrail trail logging with log-file validation and management events; the scenario's CloudWatch Logs groups exist, keep ≥ `retention_days` and received events within `recent_hours`.",
        section: "[logging]",
        actions: ACTIONS,
        emulator: "moto: CloudTrail, CloudWatch Logs",
        claims: &[super::registry::claim("server-logs-collected", "サーバ・ミドルウェアのログがロググループに保持期間付きで届いている", "Server and middleware logs arrive in their log groups, kept for the retention", super::registry::Basis::Effect), super::registry::claim("audit-trail", "CloudTrail が管理イベントをログ検証付きで記録している", "CloudTrail logs management events with log-file validation", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("each_logging_rule_reports_its_resource", crate::probes::registry::Class::Nearest, "a trail without log-file validation or not logging", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("an_empty_account_with_an_empty_scenario_has_no_ok_point", crate::probes::registry::Class::UnlistedData, "no [logging] log groups: server logs never judged", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "A log group's recent events are judged by its newest stream: one server that stopped logging while others go on is not told apart."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "Log-file validation is read as a setting; the digest files are not checked against the logs.")],
        run: |i| Box::pin(audit(i)),
    },
    super::registry::ProbeDef {
        name: "logging.monitoring",
        ja: "監視対象の機器（システムのVPC）すべてにフローログ、証跡が全リージョンを対象",
        en: "Every monitored device (the system's VPCs) has flow logs, and a trail covers every region",
        detail: "A multi-region trail is logging; every in-scope VPC has an active ALL-traffic flow log.",
        section: "[logging]",
        actions: ACTIONS,
        emulator: "moto: EC2 flow logs, CloudTrail",
        claims: &[super::registry::claim("devices-monitored", "全リージョンの証跡と VPC フローログが記録中", "A multi-region trail and VPC flow logs are logging", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("each_logging_rule_reports_its_resource", crate::probes::registry::Class::Nearest, "a VPC without an active flow log", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("an_empty_account_with_an_empty_scenario_has_no_ok_point", crate::probes::registry::Class::UnlistedData, "nothing in scope", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "A trail's IsLogging is read at one moment; a trail stopped and restarted between runs is not seen."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "A flow log's ACTIVE status stands for delivery; its records at the destination are not read.")],
        run: |i| Box::pin(monitoring(i)),
    },
];

/// One trail as observed.
#[derive(Debug, Clone, Default)]
pub struct TrailView {
    pub name: String,
    pub home_region: String,
    pub multi_region: bool,
    pub validation: bool,
    /// `None`: status could not be read (recorded as ERROR).
    pub logging: Option<bool>,
    /// `None`: selectors could not be read (recorded as ERROR).
    pub management_events: Option<bool>,
}

impl TrailView {
    fn describe(&self) -> String {
        let opt = |v: Option<bool>| v.map(|b| b.to_string()).unwrap_or_else(|| "?".into());
        format!(
            "HomeRegion={} IsMultiRegionTrail={} IsLogging={} LogFileValidationEnabled={} ManagementEvents={}",
            self.home_region,
            self.multi_region,
            opt(self.logging),
            self.validation,
            opt(self.management_events)
        )
    }

    /// What E.7.1.1 needs of a trail; empty when it complies.
    pub fn audit_defects(&self) -> Vec<(&'static str, &'static str)> {
        let mut d = Vec::new();
        if self.logging == Some(false) {
            d.push(("記録停止中（IsLogging=false）", "not logging (IsLogging=false)"));
        }
        if !self.validation {
            d.push(("ログファイルの検証が無効", "log-file validation off"));
        }
        if self.management_events == Some(false) {
            d.push(("管理イベントを記録しない", "management events not recorded"));
        }
        d
    }

    /// [`Self::audit_defects`] joined, in both languages.
    fn defects_text(&self) -> Msg {
        let d = self.audit_defects();
        Msg::new(d.iter().map(|x| x.0).collect::<Vec<_>>().join("、"), d.iter().map(|x| x.1).collect::<Vec<_>>().join(", "))
    }

    fn complete(&self) -> bool {
        self.logging.is_some() && self.management_events.is_some()
    }
}

/// Read every trail visible from `region` (shadow trails included, so a
/// multi-region trail homed elsewhere is seen) with status and selectors.
pub async fn read_trails(input: &ProbeInput, region: &str, f: &mut Findings) -> Option<Vec<TrailView>> {
    let listed = match input.inventory.trails(region).await {
        Ok(t) => t,
        Err(e) => {
            f.listing_error(&e);
            return None;
        }
    };
    let mut seen = Vec::new();
    let mut trails = Vec::new();
    for t in listed.iter() {
        let arn = t.trail_arn().or(t.name()).unwrap_or("").to_string();
        if arn.is_empty() || seen.contains(&arn) {
            continue;
        }
        seen.push(arn.clone());
        let home = t.home_region().unwrap_or(region).to_string();
        // Status and selectors are answered by the trail's home region.
        let client = input.aws.cloudtrail(&home);
        let mut view = TrailView {
            name: t.name().unwrap_or(&arn).to_string(),
            home_region: home.clone(),
            multi_region: t.is_multi_region_trail() == Some(true),
            validation: t.log_file_validation_enabled() == Some(true),
            ..Default::default()
        };
        match client.get_trail_status().name(&arn).send().await {
            Ok(s) => view.logging = Some(s.is_logging() == Some(true)),
            Err(e) => f.aws_error("cloudtrail:GetTrailStatus", Some(&home), &e),
        }
        match client.get_event_selectors().trail_name(&arn).send().await {
            Ok(s) => {
                let basic =
                    s.event_selectors().iter().any(|e| e.include_management_events() == Some(true) && e.read_write_type().is_none_or(|r| r.as_str() == "All"));
                let advanced = s
                    .advanced_event_selectors()
                    .iter()
                    .any(|a| a.field_selectors().iter().any(|fs| fs.field() == "eventCategory" && fs.equals().iter().any(|v| v == "Management")));
                view.management_events = Some(basic || advanced);
            }
            Err(e) => f.aws_error("cloudtrail:GetEventSelectors", Some(&home), &e),
        }
        trails.push(view);
    }
    Some(trails)
}

// ------------------------------------------------------------------ E.7.1.1

pub async fn audit(input: Arc<ProbeInput>) -> Findings {
    let region = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let mut good_trails = Vec::new();
    f.claim("audit-trail");
    if let Some(trails) = read_trails(&input, &region, &mut f).await {
        judge_audit_trails(&trails, &mut f, &mut good_trails);
    }
    f.claim("server-logs-collected");
    let groups = log_groups(&input, &region, &mut f).await;
    f.ok_summary(Msg::new(
        format!("CloudTrail {} が記録中（ログファイル検証・管理イベント有効）、ロググループ{groups}件が保持期間・直近の受信を満たす", good_trails.join(",")),
        format!(
            "CloudTrail {} logging with log-file validation and management events; {groups} log group(s) meet retention and recent-event requirements",
            good_trails.join(",")
        ),
    ));
    f
}

pub fn judge_audit_trails(trails: &[TrailView], f: &mut Findings, good: &mut Vec<String>) {
    const SRC: &str = "cloudtrail:GetTrailStatus";
    let complying: Vec<&TrailView> = trails.iter().filter(|t| t.complete() && t.audit_defects().is_empty()).collect();
    if trails.is_empty() {
        f.fail("cloudtrail", None, Msg::new("CloudTrail の証跡が存在しない", "no CloudTrail trail exists"), "cloudtrail:DescribeTrails");
        return;
    }
    for t in trails {
        if complying.iter().any(|c| std::ptr::eq(*c, t)) {
            good.push(t.name.clone());
            f.pass(&t.name, Some(&t.home_region), crate::msg!("監査ログを記録: {0}", "{0}", t.describe()), SRC);
        } else if !complying.is_empty() || !t.complete() {
            // Another trail already records everything, or this one could not be fully read (ERROR recorded).
            let d = t.defects_text();
            f.info(&t.name, Some(&t.home_region), Msg::new(format!("{}（{}）", t.describe(), d.ja), format!("{} ({})", t.describe(), d.en)), SRC);
        } else {
            let d = t.defects_text();
            f.fail(&t.name, Some(&t.home_region), Msg::new(format!("{}: {}", d.ja, t.describe()), format!("{}: {}", d.en, t.describe())), SRC);
        }
    }
}

/// The scenario's log groups: exist, retention, recent events. Returns how many comply.
async fn log_groups(input: &ProbeInput, region: &str, f: &mut Findings) -> usize {
    const GROUPS: &str = "logs:DescribeLogGroups";
    const STREAMS: &str = "logs:DescribeLogStreams";
    let cfg = &input.scenario.logging;
    if cfg.log_groups.is_empty() {
        f.info(
            "log-groups",
            Some(region),
            Msg::new(
                "シナリオにロググループの指定なし（[logging] log_groups）: アプリケーションログは未確認",
                "no log groups named in the scenario ([logging] log_groups): application logs not checked",
            ),
            "scenario",
        );
        return 0;
    }
    let listed = match input.inventory.log_groups(region).await {
        Ok(l) => l,
        Err(e) => {
            f.listing_error(&e);
            return 0;
        }
    };
    let logs = input.aws.logs(region);
    let mut ok = 0;
    for name in &cfg.log_groups {
        let found = listed.iter().find(|g| g.log_group_name() == Some(name.as_str())).map(|g| g.retention_in_days());
        let Some(retention) = found else {
            f.fail(name, Some(region), Msg::new("シナリオで指定したロググループが存在しない", "log group named in the scenario does not exist"), GROUPS);
            continue;
        };
        let newest = match logs.describe_log_streams().log_group_name(name).order_by(OrderBy::LastEventTime).descending(true).limit(1).send().await {
            Ok(out) => out.log_streams().first().and_then(|s| s.last_event_timestamp()),
            Err(e) => {
                f.aws_error(STREAMS, Some(region), &e);
                continue;
            }
        };
        match judge_log_group(retention, newest, cfg.retention_days, cfg.recent_hours, input.now) {
            Ok(detail) => {
                ok += 1;
                f.pass(name, Some(region), detail, STREAMS);
            }
            Err(detail) => f.fail(name, Some(region), detail, STREAMS),
        }
    }
    ok
}

/// Retention (None = never expire) and newest event (epoch ms) against the scenario.
pub fn judge_log_group(
    retention: Option<i32>,
    newest_ms: Option<i64>,
    min_days: u32,
    recent_hours: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Msg, Msg> {
    let mut problems: Vec<Msg> = Vec::new();
    let retention_txt = match retention {
        None => "retention=never expire".to_string(),
        Some(d) => {
            if i64::from(d) < i64::from(min_days) {
                problems.push(crate::msg!("保存期間 {d}日 < 必要 {min_days}日", "retention {d} days < required {min_days}"));
            }
            format!("retention={d}d")
        }
    };
    let newest = newest_ms.and_then(chrono::DateTime::from_timestamp_millis);
    let newest_txt = newest.map(|t| t.to_rfc3339()).unwrap_or_else(|| "none".into());
    match newest {
        Some(t) if now - t <= chrono::Duration::hours(i64::from(recent_hours)) => {}
        _ => problems.push(crate::msg!(
            "直近{recent_hours}時間にイベントなし（最新のイベント: {newest_txt}）",
            "no event in the last {recent_hours}h (newest event: {newest_txt})"
        )),
    }
    if problems.is_empty() {
        Ok(crate::msg!(
            "保存期間を満たす（{retention_txt}、必要 {min_days}日以上）、最新のイベント {newest_txt}",
            "{retention_txt} (≥{min_days}d required); newest event {newest_txt}"
        ))
    } else {
        let ja = problems.iter().map(|p| p.ja.as_str()).collect::<Vec<_>>().join("、");
        let en = problems.iter().map(|p| p.en.as_str()).collect::<Vec<_>>().join("; ");
        Err(Msg::new(format!("{ja}（{retention_txt}、最新のイベント {newest_txt}）"), format!("{en} ({retention_txt}, newest event {newest_txt})")))
    }
}

// ------------------------------------------------------------------ E.7.1.3

pub async fn monitoring(input: Arc<ProbeInput>) -> Findings {
    let primary = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let mut covering = Vec::new();
    if let Some(trails) = read_trails(&input, &primary, &mut f).await {
        judge_coverage(&trails, &mut f, &mut covering);
    }
    let mut vpcs = 0;
    for region in input.scenario.aws.used_regions() {
        vpcs += flow_logs(&input.aws.ec2(&region), &region, &input.inventory.scoped_vpcs(&region).await, &mut f).await;
    }
    // A trail is account-wide: it never stands in for the system's VPCs.
    f.require_resources(vpcs, &[Kind::Vpc]);
    f.ok_summary(Msg::new(
        format!("全リージョンを CloudTrail {} が記録、システムのVPC {vpcs}件すべてにフローログ（ALL）", covering.join(",")),
        format!("CloudTrail {} records every region; all {vpcs} system VPC(s) have an active ALL-traffic flow log", covering.join(",")),
    ));
    f
}

pub fn judge_coverage(trails: &[TrailView], f: &mut Findings, covering: &mut Vec<String>) {
    const SRC: &str = "cloudtrail:DescribeTrails";
    for t in trails.iter().filter(|t| t.multi_region && t.logging == Some(true)) {
        covering.push(t.name.clone());
        f.pass(&t.name, Some(&t.home_region), crate::msg!("全リージョンを記録: {0}", "covers every region: {0}", t.describe()), SRC);
    }
    if covering.is_empty() && trails.iter().all(|t| t.logging.is_some()) {
        let seen = trails.iter().map(|t| format!("{} ({})", t.name, t.describe())).collect::<Vec<_>>().join("; ");
        let (seen_ja, seen_en) = if seen.is_empty() { ("証跡なし".to_string(), "no trails".to_string()) } else { (seen.clone(), seen) };
        f.fail(
            "cloudtrail",
            None,
            crate::msg!(
                "記録中のマルチリージョン証跡なし: 証跡のホーム以外のリージョンは監視されない。確認した証跡: {seen_ja}",
                "no logging multi-region trail: regions outside the trail's home go unmonitored; seen: {seen_en}"
            ),
            SRC,
        );
    }
}

/// Flow logs on the system's VPCs (in scope: tagged, named, or holding an
/// in-scope resource). Returns VPCs judged.
async fn flow_logs(ec2: &aws_sdk_ec2::Client, region: &str, scoped: &Scoped<aws_sdk_ec2::types::Vpc>, f: &mut Findings) -> usize {
    const FLOWS: &str = "ec2:DescribeFlowLogs";
    f.scoped_complete(scoped);
    let vpcs: Vec<String> = scoped.items.iter().filter_map(|(v, _)| v.vpc_id().map(str::to_string)).collect();
    if vpcs.is_empty() {
        f.info("vpcs", Some(region), Msg::new("このリージョンにシステムの VPC なし", "no VPC of the system in this region"), "ec2:DescribeVpcs");
        return 0;
    }
    let filter = aws_sdk_ec2::types::Filter::builder().name("resource-id").set_values(Some(vpcs.clone())).build();
    let mut logs = Vec::new();
    let mut pages = ec2.describe_flow_logs().filter(filter).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => logs.extend(p.flow_logs().iter().cloned()),
            Err(e) => {
                f.aws_error(FLOWS, Some(region), &e);
                return 0;
            }
        }
    }
    let why = |id: &str| scoped.items.iter().find(|(v, _)| v.vpc_id() == Some(id)).map(|(_, w)| w.clone()).unwrap_or(crate::inventory::Why::Named);
    for vpc in &vpcs {
        let mine: Vec<_> = logs.iter().filter(|l| l.resource_id() == Some(vpc.as_str())).collect();
        let describe = |l: &aws_sdk_ec2::types::FlowLog| {
            format!(
                "{} status={} traffic={} deliver={} → {} {}",
                l.flow_log_id().unwrap_or("-"),
                l.flow_log_status().unwrap_or("-"),
                l.traffic_type().map(|t| t.as_str()).unwrap_or("-"),
                l.deliver_logs_status().unwrap_or("-"),
                l.log_destination_type().map(|t| t.as_str()).unwrap_or("-"),
                l.log_group_name().or(l.log_destination()).unwrap_or("-"),
            )
        };
        let good = mine.iter().find(|l| {
            l.flow_log_status() == Some("ACTIVE") && l.traffic_type().map(|t| t.as_str()) == Some("ALL") && l.deliver_logs_status() != Some("FAILED")
        });
        match good {
            Some(l) => f.pass(vpc, Some(region), super::scoped(crate::msg!("フローログあり: {0}", "{0}", describe(l)), &why(vpc)), FLOWS),
            None if mine.is_empty() => {
                f.fail(vpc, Some(region), super::scoped(Msg::new("この VPC にフローログなし", "no flow log on this VPC"), &why(vpc)), FLOWS)
            }
            None => f.fail(
                vpc,
                Some(region),
                {
                    let all = mine.iter().map(|l| describe(l)).collect::<Vec<_>>().join("; ");
                    crate::msg!("全通信（ALL）を配信中の有効なフローログなし: {all}", "no active ALL-traffic flow log delivering: {all}")
                },
                FLOWS,
            ),
        }
    }
    vpcs.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use chrono::{TimeZone, Utc};

    fn trail(name: &str, logging: bool, validation: bool, mgmt: bool, multi: bool) -> TrailView {
        TrailView {
            name: name.into(),
            home_region: "ap-northeast-1".into(),
            multi_region: multi,
            validation,
            logging: Some(logging),
            management_events: Some(mgmt),
        }
    }

    #[test]
    fn one_good_trail_is_enough_and_a_bad_only_trail_is_named() {
        let mut f = Findings::new();
        judge_audit_trails(&[trail("good", true, true, true, true), trail("old", false, false, true, false)], &mut f, &mut vec![]);
        assert_eq!(f.conclude("1").outcome, Outcome::Ok);
        let mut f = Findings::new();
        judge_audit_trails(&[trail("juki-trail", false, true, true, true)], &mut f, &mut vec![]);
        let c = f.conclude("1");
        assert_eq!(c.outcome, Outcome::Ng);
        assert!(c.summary.en.contains("juki-trail") && c.summary.en.contains("IsLogging=false"), "{}", c.summary.en);
        let mut f = Findings::new();
        judge_audit_trails(&[], &mut f, &mut vec![]);
        assert_eq!(f.conclude("1").outcome, Outcome::Ng);
    }

    #[test]
    fn coverage_needs_a_logging_multi_region_trail() {
        let mut f = Findings::new();
        judge_coverage(&[trail("single", true, true, true, false)], &mut f, &mut vec![]);
        assert_eq!(f.conclude("1").outcome, Outcome::Ng);
        let mut f = Findings::new();
        judge_coverage(&[trail("multi", true, true, true, true)], &mut f, &mut vec![]);
        assert_eq!(f.conclude("1").outcome, Outcome::Ok);
    }

    #[test]
    fn log_group_retention_and_recency() {
        let now = Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).single().expect("time");
        let hour_ago = (now - chrono::Duration::hours(1)).timestamp_millis();
        let two_days_ago = (now - chrono::Duration::hours(48)).timestamp_millis();
        assert!(judge_log_group(Some(400), Some(hour_ago), 365, 24, now).is_ok());
        assert!(judge_log_group(None, Some(hour_ago), 365, 24, now).is_ok(), "never-expire complies");
        let e = judge_log_group(Some(30), Some(hour_ago), 365, 24, now).expect_err("short retention");
        assert!(e.contains("retention 30 days < required 365"), "{e}");
        assert!(judge_log_group(Some(400), Some(two_days_ago), 365, 24, now).is_err());
        assert!(judge_log_group(Some(400), None, 365, 24, now).is_err());
    }
}
