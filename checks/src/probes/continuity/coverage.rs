//! `backup.coverage` (C.1.2.2 外部データの利用可否 / C.1.2.3 データ復旧の対応範囲):
//! every resource in scope is in a backup selection of a plan in scope, has a
//! completed recovery point younger than C.1.2.5's interval plus the rule's
//! start and completion windows, that point is encrypted, and the retention
//! keeps the scenario's generations.

use std::sync::Arc;

use chrono::Duration;

use super::scope::{self, Resource};
use super::{hm, hm_ja, jst, points, selection};
use crate::model::{Msg, Outcome};
use crate::probes::backup::{self, Interval, Rule};
use crate::probes::{Findings, ProbeInput};

const SELECTIONS: &str = "backup:GetBackupSelection";

/// Plans' rules and selections in the primary region.
pub(super) struct Protection {
    pub rules: Vec<Rule>,
    pub selections: Vec<selection::Selection>,
    /// Every plan and selection could be read: "in no selection" is then a fact.
    pub complete: bool,
}

impl Protection {
    pub async fn read(input: &ProbeInput, f: &mut Findings) -> Option<Self> {
        let region = input.scenario.aws.primary_region.as_str();
        let client = input.aws.backup(region);
        let errors = |f: &Findings| f.evidence().iter().filter(|e| e.status == crate::model::EvidenceStatus::Error).count();
        let before = errors(f);
        let rules = backup::read_rules(input, region, f, input.now.date_naive()).await?;
        let plans_read = errors(f) == before;
        let mut plans: Vec<(String, String)> = rules.iter().map(|r| (r.plan.clone(), r.plan_id.clone())).collect();
        plans.sort();
        plans.dedup();
        let (selections, complete) = selection::read(input, &client, region, &plans, f).await;
        Some(Self { rules, selections, complete: complete && plans_read })
    }

    /// Selections that select `r`, and the rules of their plans.
    pub fn covering(&self, r: &Resource) -> (Vec<&selection::Selection>, Vec<&Rule>) {
        let sels: Vec<_> = self.selections.iter().filter(|s| s.matches(r)).collect();
        let rules = self.rules.iter().filter(|rule| sels.iter().any(|s| s.plan == rule.plan)).collect();
        (sels, rules)
    }
}

pub async fn coverage(input: Arc<ProbeInput>) -> Findings {
    let level = input.level.as_str();
    #[derive(serde::Deserialize)]
    struct Need {
        /// Level 2 of C.1.2.3: data lost by staff mistakes is recovered too (generations kept).
        operator_mistakes: bool,
    }
    let operator_mistakes = match input.item.level_param::<Need>(level) {
        Ok(Some(n)) => n.operator_mistakes,
        Ok(None) => return super::unsupported_level(&input.item, level),
        Err(e) => return Findings::cannot(&e, &e),
    };
    let region = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let generations = match (input.scenario.backup.generations, operator_mistakes) {
        (Some(n), _) => Some(n),
        (None, false) => None,
        (None, true) => {
            f.error(
                "generations",
                None,
                Msg::new(
                    "レベル2（職員の作業ミス等によるデータ損失も復旧）には [backup] generations（保持すべき世代数）が必要",
                    "level 2 (recovery from data loss by staff error too) needs [backup] generations: how many generations must be kept",
                ),
                "scenario",
            );
            None
        }
    };
    let interval_level = input.levels.get("C.1.2.5").cloned().unwrap_or_else(|| "4".into());
    let interval = match backup::required_interval(&interval_level) {
        Ok(i) => i,
        Err(why) => return Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {why}"), format!("could not verify: {why}"))),
    };
    let resources = scope::discover(&input, &mut f).await;
    let Some(prot) = Protection::read(&input, &mut f).await else { return f };
    let client = input.aws.backup(&region);
    let mut oldest: Option<(Duration, String)> = None;
    let (mut listing_failed, mut skipped) = (false, Vec::new());
    for r in &resources {
        let (sels, rules) = prot.covering(r);
        if sels.is_empty() {
            if prot.complete {
                let mut plans: Vec<&str> = prot.rules.iter().map(|r| r.plan.as_str()).collect();
                plans.dedup();
                let plans = if plans.is_empty() { "no backup plan in scope".to_string() } else { plans.join(",") };
                f.fail(
                    &r.arn,
                    Some(&region),
                    crate::msg!(
                        "{0}: 対象プランのどのバックアップ選択にも含まれない（{plans}）",
                        "{0}: not in any backup selection of the plans in scope ({plans})",
                        r.name
                    ),
                    SELECTIONS,
                );
            } else {
                f.info(
                    &r.arn,
                    Some(&region),
                    Msg::new("読めたバックアップ選択に含まれない。一部の選択を読めない", "in no readable backup selection; some selections could not be read"),
                    SELECTIONS,
                );
            }
            continue;
        }
        let sel_txt = sels.iter().map(|s| format!("{}/{}", s.plan, s.name)).collect::<Vec<_>>().join(",");
        let Some(allowed) = allowed_age(&interval, &rules) else {
            f.fail(
                &r.arn,
                Some(&region),
                crate::msg!(
                    "{sel_txt} で選択されているが、プランに評価できるスケジュールのルールなし",
                    "selected by {sel_txt}, but its plans have no rule with an evaluable schedule"
                ),
                SELECTIONS,
            );
            continue;
        };
        if listing_failed {
            skipped.push(r.name.clone());
            continue;
        }
        let Some(list) = points::by_resource(&client, &region, &r.arn, &mut f).await else {
            // Same call, same cause for the rest: stop instead of repeating the failure.
            listing_failed = true;
            continue;
        };
        let Some(newest) = points::newest(&list) else {
            f.fail(
                &r.arn,
                Some(&region),
                Msg::new(
                    format!("{sel_txt} で選択されているが、完了した復旧ポイントなし（{}）", points::census_ja(&list)),
                    format!("selected by {sel_txt}, but no completed recovery point ({})", points::census(&list)),
                ),
                "backup:ListRecoveryPointsByResource",
            );
            continue;
        };
        let age = input.now - newest.created;
        let mut ok = true;
        if age > allowed.0 {
            ok = false;
            f.fail(
                &r.arn,
                Some(&region),
                Msg::new(
                    format!("最新の完了した復旧ポイント {} は {} 経過 > 許容 {}（{}）", jst(newest.created), hm(age), hm(allowed.0), allowed.1.ja),
                    format!("newest completed recovery point {} is {} old > allowed {} ({})", jst(newest.created), hm(age), hm(allowed.0), allowed.1.en),
                ),
                "backup:ListRecoveryPointsByResource",
            );
        }
        let Some((encrypted, key)) = points::is_encrypted(&client, &region, newest, &mut f).await else { continue };
        if !encrypted {
            ok = false;
            f.fail(
                &r.arn,
                Some(&region),
                crate::msg!("復旧ポイント {0} は暗号化なし（IsEncrypted=false）", "recovery point {0} is not encrypted (IsEncrypted=false)", newest.arn),
                "backup:DescribeRecoveryPoint",
            );
        }
        let completed = list.iter().filter(|p| p.usable()).count();
        if let Some(n) = generations {
            let keeps = kept_generations(&rules);
            if keeps.is_some_and(|k| k < n as i64) {
                ok = false;
                f.fail(
                    &r.arn,
                    Some(&region),
                    crate::msg!(
                        "保持期間で約 {0} 世代 < 必要 {n} 世代（ルール: {1}）",
                        "retention keeps about {0} generation(s) < required {n} (rules: {1})",
                        keeps.unwrap_or(0),
                        retention_text(&rules)
                    ),
                    "backup:GetBackupPlan",
                );
            }
        }
        if ok {
            f.pass(
                &r.arn,
                Some(&region),
                Msg::new(
                    format!(
                        "{} は {sel_txt} で選択、最新の復旧ポイント {}（{} 経過 ≤ {}）、{key} で暗号化、利用可能 {completed}件{}",
                        r.name,
                        jst(newest.created),
                        hm(age),
                        hm(allowed.0),
                        generations.map(|n| format!("、保持 {n} 世代以上")).unwrap_or_default()
                    ),
                    format!(
                        "{} selected by {sel_txt}; newest recovery point {} ({} old ≤ {}), encrypted with {key}; {completed} usable point(s){}",
                        r.name,
                        jst(newest.created),
                        hm(age),
                        hm(allowed.0),
                        generations.map(|n| format!("; retention keeps ≥ {n} generations")).unwrap_or_default()
                    ),
                ),
                "backup:ListRecoveryPointsByResource",
            );
            if oldest.as_ref().is_none_or(|(a, _)| age > *a) {
                oldest = Some((age, r.name.clone()));
            }
        }
    }
    super::note_skipped(&mut f, &region, &skipped);
    if let Some((age, name)) = oldest {
        f.ok_summary(Msg::new(
            format!("{}件のリソースすべてバックアップ選択済・暗号化済、最新復旧ポイントの最大経過 {}（{name}）", resources.len(), hm_ja(age)),
            format!("all {} resource(s) selected for backup and encrypted; oldest newest-recovery-point is {} old ({name})", resources.len(), hm(age)),
        ));
    }
    f
}

/// How old the newest recovery point may be, and why.
fn allowed_age(interval: &Interval, rules: &[&Rule]) -> Option<(Duration, Msg)> {
    let best = rules.iter().filter_map(|r| r.gap.as_ref().ok().map(|g| (*g, r.window))).min_by_key(|(g, _)| *g)?;
    let (base, ja, en) = match interval {
        Interval::AtMost(d, ja, en) => (*d, format!("{ja} {}時間", d.num_hours()), format!("{en} {}h", d.num_hours())),
        _ => (best.0, format!("スケジュール {}", hm(best.0)), format!("schedule {}", hm(best.0))),
    };
    let window = hm(best.1);
    Some((base + best.1, Msg::new(format!("{ja}＋開始・完了の時間枠 {window}"), format!("{en} + start/completion window {window}"))))
}

/// Generations the longest-retaining rule keeps: DeleteAfterDays / interval.
/// `None` when a rule keeps points until deleted by hand.
fn kept_generations(rules: &[&Rule]) -> Option<i64> {
    let mut best = 0;
    for r in rules {
        let Ok(gap) = &r.gap else { continue };
        match r.delete_after_days {
            None => return None,
            Some(d) => best = best.max(Duration::days(d).num_minutes() / gap.num_minutes().max(1)),
        }
    }
    Some(best)
}

fn retention_text(rules: &[&Rule]) -> String {
    rules
        .iter()
        .map(|r| format!("{}/{} DeleteAfterDays={}", r.plan, r.name, r.delete_after_days.map(|d| d.to_string()).unwrap_or("-".into())))
        .collect::<Vec<_>>()
        .join(", ")
}
