//! C.2.3.5 パッチ適用 and E.4.3.4 ウィルス定義ファイル, through Systems Manager:
//! every in-scope running EC2 instance must be SSM-managed and online; its
//! patch state must show no failed installs and no missing critical/security
//! patches; the anti-virus definition association named in the scenario must
//! have succeeded within the age the E.4.3.4 level allows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_ssm::types::{AssociationFilter, AssociationFilterKey, InstancePatchState, PingStatus};
use chrono::{DateTime, Duration, Utc};

use super::{Findings, ProbeInput};
use crate::model::{Msg, Outcome};

pub const ACTIONS: &[&str] =
    &["ec2:DescribeInstances", "ssm:DescribeInstanceInformation", "ssm:DescribeInstancePatchStates", "ssm:ListAssociations", "ssm:DescribeAssociation"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "operations.patching",
        ja: "全サーバがSSM管理下でオンライン、最新パッチ適用済み（失敗・重要パッチの未適用なし）",
        en: "Every server is SSM-managed and online, with the latest patches (no failed or missing critical patches)",
        detail: "Every in-scope instance SSM-managed and online; no failed installs, no missing critical/security patches.",
        section: "[patching]",
        actions: ACTIONS,
        emulator: "the emulator extension (demo/emulator): SSM managed instances and patch states seeded by the demos; faults with mocks",
        claims: &[super::registry::claim(
            "patches-applied",
            "対象インスタンスが SSM 管理下で、重要・セキュリティパッチの欠落・失敗がない",
            "Instances in scope are SSM-managed with no missing or failed critical/security patches",
            super::registry::Basis::Effect,
        )],
        counterfeits: &[
            crate::probes::registry::counterfeit(
                "missing_security_patch_and_failed_install_are_ng",
                crate::probes::registry::Class::Nearest,
                "a missing security patch, a failed install",
                crate::model::Outcome::Ng,
            ),
            crate::probes::registry::counterfeit(
                "unmanaged_instance_is_ng",
                crate::probes::registry::Class::UnlistedData,
                "an in-scope instance SSM does not manage",
                crate::model::Outcome::Ng,
            ),
        ],
        unseen: &[
            crate::probes::registry::unseen(
                crate::probes::registry::Class::PartialObservation,
                "Patch state is as SSM last reported it: an instance whose agent has not scanned since a patch was released looks current until its next scan.",
            ),
            crate::probes::registry::unseen(
                crate::probes::registry::Class::HappyPathOnly,
                "No patch is installed as a test; the installed and missing counts are SSM's.",
            ),
        ],
        run: |i| Box::pin(patching(i)),
    },
    super::registry::ProbeDef {
        name: "operations.antivirus",
        ja: "全サーバでウイルス定義の自動更新（SSM関連付け）が最近成功している",
        en: "Every server updates its antivirus definitions automatically (an SSM association that succeeded recently)",
        detail: "The scenario's AV-definition SSM association last succeeded within 24 h (level 2) and targets every managed instance.",
        section: "[patching]",
        actions: ACTIONS,
        emulator: "the emulator extension: the AV association and its executions seeded by the demos; faults with mocks",
        claims: &[
            super::registry::claim(
                "av-applied-recently",
                "定義ファイル更新の関連付けが期間内に成功している",
                "The AV-definition association last succeeded within the age",
                super::registry::Basis::Effect,
            ),
            super::registry::claim(
                "av-targets-every-server",
                "関連付けが対象の全管理インスタンスを対象にしている",
                "The association targets every managed instance in scope",
                super::registry::Basis::Setting,
            ),
        ],
        counterfeits: &[
            crate::probes::registry::counterfeit(
                "stale_av_definitions_are_ng_at_level_2_and_ok_at_level_1",
                crate::probes::registry::Class::Nearest,
                "definitions last applied more than 24 h ago",
                crate::model::Outcome::Ng,
            ),
            crate::probes::registry::counterfeit(
                "av_association_missing_instance_or_unmanaged_is_ng",
                crate::probes::registry::Class::UnlistedData,
                "a managed instance the association does not target",
                crate::model::Outcome::Ng,
            ),
        ],
        unseen: &[
            crate::probes::registry::unseen(
                crate::probes::registry::Class::PartialObservation,
                "The association's last execution is judged, not each instance's definition date on disk.",
            ),
            crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "No test file (EICAR) is placed to show the scanner catches it."),
        ],
        run: |i| Box::pin(antivirus(i)),
    },
];

/// In-scope running instances per region. `None` when the scope is
/// incomplete. Stopped in-scope instances are named as context: they get
/// no patches while stopped, but SSM cannot be asked about them.
async fn instances(input: &ProbeInput, f: &mut Findings) -> Option<BTreeMap<String, Vec<String>>> {
    const CALL: &str = "ec2:DescribeInstances";
    let mut out = BTreeMap::new();
    let mut complete = true;
    for region in input.scenario.aws.used_regions() {
        let scoped = input.inventory.scoped_instances(&region).await;
        complete &= f.scoped_complete(&scoped);
        let mut ids = Vec::new();
        for (rec, why) in &scoped.items {
            if rec.state() == "running" {
                ids.push(rec.id().to_string());
            } else {
                f.info(
                    rec.id(),
                    Some(&region),
                    Msg::new(format!("対象（{}）だが {} のため未確認", why.ja(), rec.state()), format!("in scope ({why}) but {}: not checked", rec.state())),
                    CALL,
                );
            }
        }
        out.insert(region, ids);
    }
    complete.then_some(out)
}

/// Instances SSM reports as managed and online (PingStatus=Online); others are
/// recorded as violations. Returns the online ones, `None` when SSM could not be read.
async fn managed(ssm: &aws_sdk_ssm::Client, region: &str, ids: &[String], f: &mut Findings) -> Option<Vec<String>> {
    const CALL: &str = "ssm:DescribeInstanceInformation";
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut pages = ssm.describe_instance_information().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => {
                for i in p.instance_information_list() {
                    if let Some(id) = i.instance_id() {
                        seen.insert(id.to_string(), i.ping_status().map(PingStatus::as_str).unwrap_or("?").to_string());
                    }
                }
            }
            Err(e) => {
                f.aws_error(CALL, Some(region), &e);
                return None;
            }
        }
    }
    let mut online = Vec::new();
    for id in ids {
        match seen.get(id).map(String::as_str) {
            None => f.fail(
                id,
                Some(region),
                Msg::new(
                    "SSM 管理下にない（SSM Agent 未登録）: パッチ適用を確認・自動化できない",
                    "not SSM-managed (no SSM Agent registration): patching cannot be verified or automated",
                ),
                CALL,
            ),
            Some("Online") => online.push(id.clone()),
            Some(status) => f.fail(id, Some(region), crate::msg!("SSM 管理下だが PingStatus={status}", "SSM-managed but PingStatus={status}"), CALL),
        }
    }
    Some(online)
}

fn no_instances(f: &mut Findings, by_region: &BTreeMap<String, Vec<String>>) -> bool {
    if by_region.values().all(Vec::is_empty) {
        f.error(
            "instances",
            None,
            Msg::new("稼働中の対象 EC2 インスタンスなし: 確認するものがない", "no running in-scope EC2 instance found: nothing to verify"),
            "ec2:DescribeInstances",
        );
        return true;
    }
    false
}

/// C.2.3.5 OS等パッチ適用タイミング.
pub async fn patching(input: Arc<ProbeInput>) -> Findings {
    let mut f = Findings::new();
    let Some(by_region) = instances(&input, &mut f).await else { return f };
    if no_instances(&mut f, &by_region) {
        return f;
    }
    let mut checked = 0;
    for (region, ids) in by_region.iter().filter(|(_, ids)| !ids.is_empty()) {
        let ssm = input.aws.ssm(region);
        let Some(online) = managed(&ssm, region, ids, &mut f).await else { continue };
        for chunk in online.chunks(50) {
            match ssm.describe_instance_patch_states().set_instance_ids(Some(chunk.to_vec())).send().await {
                Ok(out) => {
                    let states: Vec<&InstancePatchState> = out.instance_patch_states().iter().collect();
                    for id in chunk {
                        match states.iter().find(|s| s.instance_id() == id.as_str()) {
                            Some(s) => {
                                checked += 1;
                                judge_patch_state(s, region, &mut f);
                            }
                            None => f.fail(
                                id,
                                Some(region),
                                Msg::new("パッチ状態の報告なし（Patch Manager で未スキャン）", "no patch state reported (never scanned by Patch Manager)"),
                                "ssm:DescribeInstancePatchStates",
                            ),
                        }
                    }
                }
                Err(e) => f.aws_error("ssm:DescribeInstancePatchStates", Some(region), &e),
            }
        }
    }
    f.ok_summary(Msg::new(
        format!("{checked}台すべてSSM管理下、重要・セキュリティパッチの未適用なし、適用失敗なし"),
        format!("all {checked} instance(s) SSM-managed with no missing critical/security patches and no failed installs"),
    ));
    f
}

pub fn judge_patch_state(s: &InstancePatchState, region: &str, f: &mut Findings) {
    const SRC: &str = "ssm:DescribeInstancePatchStates";
    let critical = s.critical_non_compliant_count().unwrap_or(0);
    let security = s.security_non_compliant_count().unwrap_or(0);
    let failed = s.failed_count();
    let scanned = DateTime::<Utc>::from_timestamp(s.operation_end_time().secs(), 0).map(|t| t.to_rfc3339()).unwrap_or_else(|| "?".into());
    let detail = crate::msg!(
        "ベースライン {0} Operation={1}（{scanned}）: Installed={2} Missing={3} Failed={failed} CriticalNonCompliant={critical} SecurityNonCompliant={security}",
        "baseline {0} Operation={1} at {scanned}: Installed={2} Missing={3} Failed={failed} CriticalNonCompliant={critical} SecurityNonCompliant={security}",
        s.baseline_id(),
        s.operation().as_str(),
        s.installed_count(),
        s.missing_count()
    );
    let mut problems: Vec<Msg> = Vec::new();
    if failed > 0 {
        problems.push(crate::msg!("適用失敗 {failed}件", "{failed} failed install(s)"));
    }
    if critical > 0 {
        problems.push(crate::msg!("重要パッチ未適用 {critical}件", "{critical} missing critical patch(es)"));
    }
    if security > 0 {
        problems.push(crate::msg!("セキュリティパッチ未適用 {security}件", "{security} missing security patch(es)"));
    }
    if problems.is_empty() {
        f.pass(s.instance_id(), Some(region), detail, SRC);
    } else {
        let ja = problems.iter().map(|p| p.ja.as_str()).collect::<Vec<_>>().join("、");
        let en = problems.iter().map(|p| p.en.as_str()).collect::<Vec<_>>().join(", ");
        f.fail(s.instance_id(), Some(region), Msg::new(format!("{ja}。{}", detail.ja), format!("{en}; {}", detail.en)), SRC);
    }
}

/// How old the AV association's last success may be at E.4.3.4's level.
pub fn av_max_age(level: &str, p: &gcverify_scenarios::Patching) -> Result<Option<Duration>, String> {
    match level {
        "0" => Ok(None),
        "1" => Ok(Some(Duration::hours(p.av_max_age_hours_periodic.into()))),
        "2" => Ok(Some(Duration::hours(p.av_max_age_hours.into()))),
        other => Err(format!("level {other} is not defined for E.4.3.4 (0-2)")),
    }
}

/// E.4.3.4 ウィルス定義ファイル適用タイミング.
pub async fn antivirus(input: Arc<ProbeInput>) -> Findings {
    let max_age = match av_max_age(&input.level, &input.scenario.patching) {
        Ok(None) => return Findings::level_asks_nothing(&input.level),
        Ok(Some(d)) => d,
        Err(why) => return Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {why}"), format!("could not verify: {why}"))),
    };
    let Some(name) = input.scenario.patching.av_association.clone() else {
        return Findings::decided(
            Outcome::Error,
            Msg::new(
                "検証不能: シナリオの [patching] av_association（ウィルス定義更新の関連付け名）が未設定",
                "could not verify: the scenario names no anti-virus definition association ([patching] av_association)",
            ),
        );
    };
    let mut f = Findings::new();
    let Some(by_region) = instances(&input, &mut f).await else { return f };
    if no_instances(&mut f, &by_region) {
        return f;
    }
    let mut managed_count = 0;
    for (region, ids) in by_region.iter().filter(|(_, ids)| !ids.is_empty()) {
        let ssm = input.aws.ssm(region);
        if let Some(online) = managed(&ssm, region, ids, &mut f).await {
            managed_count += online.len();
            association(&ssm, region, &name, &online, max_age, input.now, &mut f).await;
        }
    }
    f.ok_summary(Msg::new(
        format!("ウィルス定義更新 {name} が{}時間以内に成功、{managed_count}台がSSM管理下", max_age.num_hours()),
        format!("AV definition association {name} succeeded within {}h; {managed_count} instance(s) SSM-managed", max_age.num_hours()),
    ));
    f
}

async fn association(ssm: &aws_sdk_ssm::Client, region: &str, name: &str, online: &[String], max_age: Duration, now: DateTime<Utc>, f: &mut Findings) {
    const LIST: &str = "ssm:ListAssociations";
    const DESCRIBE: &str = "ssm:DescribeAssociation";
    f.claim("av-applied-recently");
    let filter = match AssociationFilter::builder().key(AssociationFilterKey::AssociationName).value(name).build() {
        Ok(x) => x,
        Err(e) => return f.error(name, Some(region), crate::msg!("{LIST}: 要求を作れない: {e}", "{LIST}: {e}"), LIST),
    };
    let mut ids = Vec::new();
    let mut pages = ssm.list_associations().association_filter_list(filter).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => ids.extend(p.associations().iter().filter_map(|a| a.association_id()).map(str::to_string)),
            Err(e) => return f.aws_error(LIST, Some(region), &e),
        }
    }
    if ids.is_empty() {
        f.fail(name, Some(region), Msg::new("ウイルス定義更新の関連付けが存在しない", "anti-virus definition association does not exist"), LIST);
        f.claim("av-targets-every-server");
        return f.fail(
            name,
            Some(region),
            Msg::new("ウイルス定義更新の関連付けなし: 対象のサーバなし", "no anti-virus definition association: no server is a target"),
            LIST,
        );
    }
    let mut targets = BTreeSet::new();
    for id in ids {
        let d = match ssm.describe_association().association_id(&id).send().await {
            Ok(o) => o,
            Err(e) => {
                f.aws_error(DESCRIBE, Some(region), &e);
                continue;
            }
        };
        let Some(desc) = d.association_description() else {
            f.error(name, Some(region), super::no_field(DESCRIBE, "AssociationDescription"), DESCRIBE);
            continue;
        };
        for t in desc.targets() {
            if t.key() == Some("InstanceIds") {
                targets.extend(t.values().iter().cloned());
            } else {
                targets.insert(format!("{}={}", t.key().unwrap_or("?"), t.values().join(",")));
            }
        }
        let subject = format!("{name} ({id})");
        let last = desc.last_successful_execution_date().and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), 0));
        match last {
            Some(t) if now - t <= max_age => f.pass(
                &subject,
                Some(region),
                crate::msg!(
                    "{1}時間以内に成功（LastSuccessfulExecutionDate={0}）",
                    "LastSuccessfulExecutionDate={0} (within {1}h)",
                    t.to_rfc3339(),
                    max_age.num_hours()
                ),
                DESCRIBE,
            ),
            Some(t) => f.fail(
                &subject,
                Some(region),
                crate::msg!(
                    "最後の成功が{1}時間より前（LastSuccessfulExecutionDate={0}）",
                    "LastSuccessfulExecutionDate={0} is older than {1}h",
                    t.to_rfc3339(),
                    max_age.num_hours()
                ),
                DESCRIBE,
            ),
            None => f.fail(&subject, Some(region), Msg::new("関連付けが一度も成功していない", "the association never succeeded"), DESCRIBE),
        }
    }
    // Instance-ID targets must cover every managed instance; tag targets cannot be resolved here.
    f.claim("av-targets-every-server");
    let listed = targets.iter().map(String::as_str).collect::<Vec<_>>().join("; ");
    if targets.contains("*") || targets.contains("InstanceIds=*") {
        f.pass(name, Some(region), crate::msg!("すべての管理下インスタンスが対象（*）: {listed}", "targets every managed instance (*): {listed}"), DESCRIBE);
    } else if targets.iter().any(|t| t.starts_with("i-")) {
        let missing: Vec<&String> = online.iter().filter(|i| !targets.contains(*i)).collect();
        for id in &missing {
            f.fail(id, Some(region), crate::msg!("ウイルス定義更新の関連付け {name} の対象外", "not a target of the anti-virus association {name}"), DESCRIBE);
        }
        if missing.is_empty() && !online.is_empty() {
            f.pass(
                name,
                Some(region),
                crate::msg!("対象の管理下インスタンス {0}台すべてが対象", "targets all {0} managed instance(s) in scope", online.len()),
                DESCRIBE,
            );
        }
    } else {
        f.pass(name, Some(region), crate::msg!("タグで対象を指定: {listed}", "has targets, by tag: {listed}"), DESCRIBE);
        f.unverified(Msg::new(
            format!("{name}: 対象がタグ指定（{listed}）で、各サーバが対象かは未確認"),
            format!("{name}: targets are tags ({listed}); whether every server is one was not verified"),
        ));
    }
    let all = targets.into_iter().collect::<Vec<_>>().join("; ");
    f.info(name, Some(region), crate::msg!("対象: {all}", "targets: {all}"), DESCRIBE);
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::types::PatchOperationType;

    fn state(failed: i32, critical: i32, security: i32) -> InstancePatchState {
        InstancePatchState::builder()
            .instance_id("i-1")
            .patch_group("g")
            .baseline_id("pb-1")
            .operation_start_time(aws_smithy_types::DateTime::from_secs(0))
            .operation_end_time(aws_smithy_types::DateTime::from_secs(60))
            .operation(PatchOperationType::Scan)
            .missing_count(3)
            .failed_count(failed)
            .critical_non_compliant_count(critical)
            .security_non_compliant_count(security)
            .build()
            .expect("patch state")
    }

    fn outcome(s: &InstancePatchState) -> Outcome {
        let mut f = Findings::new();
        judge_patch_state(s, "r", &mut f);
        f.conclude("4").outcome
    }

    #[test]
    fn patch_state_rules() {
        // Non-critical missing patches wait for the periodic maintenance (level 4).
        assert_eq!(outcome(&state(0, 0, 0)), Outcome::Ok);
        assert_eq!(outcome(&state(1, 0, 0)), Outcome::Ng);
        assert_eq!(outcome(&state(0, 2, 0)), Outcome::Ng);
        assert_eq!(outcome(&state(0, 0, 1)), Outcome::Ng);
    }

    #[test]
    fn av_age_follows_level_and_scenario() {
        let p = gcverify_scenarios::Patching::default();
        assert_eq!(av_max_age("2", &p).expect("l2"), Some(Duration::hours(24)));
        assert_eq!(av_max_age("1", &p).expect("l1"), Some(Duration::hours(744)));
        assert_eq!(av_max_age("0", &p).expect("l0"), None);
        assert!(av_max_age("3", &p).is_err());
    }
}
