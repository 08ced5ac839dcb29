//! Backup probes that read AWS Backup plans:
//! C.1.2.5 バックアップ取得間隔 (schedule vs. the selected level) and
//! A.3.2.2 保管方法 (the backup is copied to a vault in the DR region).
//! Resource coverage (backup selections) and recovery points belong to the
//! continuity probes (C.1.2.3 / A.1.3.1).

use std::sync::Arc;

use chrono::Duration;

use super::continuity::points;
use super::cron;
use super::{Findings, ProbeInput};
use crate::model::{EvidenceStatus, Msg, Outcome};

/// IAM actions this probe calls (see `permissions`).
pub const ACTIONS: &[&str] = &["backup:ListBackupPlans", "backup:GetBackupPlan", "backup:DescribeBackupVault", "backup:ListRecoveryPointsByBackupVault"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "backup.schedule",
        ja: "AWS Backup計画の取得間隔が選択レベル（C.1.2.5）を満たす",
        en: "AWS Backup plan rules run at least as often as the selected level (C.1.2.5) requires",
        detail: "The plans in scope have a rule whose schedule (cron/rate parsed; longest gap over a year) meets the level: 月次 ≤31 日, 週次 ≤7 日, 日次 ≤24 h, continuous.",
        section: "[backup]",
        actions: ACTIONS,
        emulator: "moto: Backup plans and rules",
        claims: &[super::registry::claim("schedule-meets-level", "バックアップ規則のスケジュールがレベルの間隔を満たす", "A backup rule's schedule meets the level's interval", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("weekly_plan_is_ng_at_level_4", crate::probes::registry::Class::Nearest, "a weekly rule where the level needs daily", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("weekly_plan_plus_unreadable_plan_is_error_not_ng", crate::probes::registry::Class::PartialObservation, "the complying plan among those that could not be read", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Judges the plans that select in-scope resources; a resource in no plan is backup.coverage's finding."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "A schedule is a setting: whether jobs ran on it is judged from recovery points by backup.coverage and continuity.rpo.")],
        run: |i| Box::pin(schedule(i)),
    },
    super::registry::ProbeDef {
        name: "backup.remote_copy",
        ja: "遠隔地（DRリージョン）のバックアップ保管庫へのコピー規則とその保管庫",
        en: "Copy rules to a backup vault in the remote (DR) region, and that vault",
        detail: "A rule as frequent as C.1.2.5 requires copies to a vault in the DR region, and that vault exists (the setting); the DR vault's whole listing (ListRecoveryPointsByBackupVault) holds a usable copy no older than the rule's interval plus its start and completion windows (the effect). An empty vault or only stale copies → NG; a listing that cannot be read → 検証不能 (moto 5.2.5 does not serve it).",
        section: "[backup]",
        actions: ACTIONS,
        emulator: "moto: Backup plans and vaults; the DR vault's recovery points through the emulator extension; a denied listing with mocks",
        claims: &[super::registry::claim("copy-rule", "規則が DR リージョンのボールトへの複製を指定し、そのボールトがある", "A rule copies to a vault in the DR region, and the vault exists", super::registry::Basis::Setting), super::registry::claim("dr-recovery-points", "DR リージョンのボールトに複製された復旧ポイントがある", "Copied recovery points are present in the DR-region vault", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("copy_only_within_primary_region_is_ng", crate::probes::registry::Class::Nearest, "a copy action to a vault in the primary region", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("copy_to_missing_dr_vault_is_ng_naming_the_arn", crate::probes::registry::Class::Nearest, "a copy action to a DR vault that does not exist", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("copy_rule_to_an_empty_dr_vault_is_ng", crate::probes::registry::Class::HappyPathOnly, "a copy rule with no copy in the DR vault", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("only_stale_copies_in_the_dr_vault_is_ng", crate::probes::registry::Class::PartialObservation, "a DR vault holding only copies from before the copies stopped", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("dr_vault_listing_denied_is_not_ok", crate::probes::registry::Class::HappyPathOnly, "copies that cannot be listed, only the rule read", crate::model::Outcome::Error)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Copies in the DR vault are not matched to in-scope resources one by one here; backup.generations and continuity.dr_site do that per resource.")],
        run: |i| Box::pin(remote_copy(i)),
    },
];

/// One rule of a backup plan, as observed.
#[derive(Debug, Clone)]
pub struct Rule {
    pub plan: String,
    pub name: String,
    pub schedule: String,
    pub gap: Result<Duration, cron::CronError>,
    pub continuous: bool,
    pub vault: String,
    /// Destination vault ARNs of copy actions.
    pub copies_to: Vec<String>,
    /// Plan ID (for its backup selections).
    pub plan_id: String,
    /// StartWindowMinutes + CompletionWindowMinutes (AWS defaults 8 h + 7 days when absent):
    /// how late a scheduled recovery point may complete.
    pub window: Duration,
    /// Lifecycle DeleteAfterDays; `None` = kept until deleted by hand.
    pub delete_after_days: Option<i64>,
}

/// How often C.1.2.5's level requires a backup. `None`: any schedule (level 1).
pub enum Interval {
    NotRequired,
    Any,
    AtMost(Duration, &'static str, &'static str),
    Continuous,
}

pub fn required_interval(level: &str) -> Result<Interval, String> {
    Ok(match level {
        "0" => Interval::NotRequired,
        "1" => Interval::Any,
        "2" => Interval::AtMost(Duration::days(31), "月次", "monthly"),
        "3" => Interval::AtMost(Duration::days(7), "週次", "weekly"),
        "4" => Interval::AtMost(Duration::hours(24), "日次", "daily"),
        "5" => Interval::Continuous,
        other => return Err(format!("level `{other}` has no defined backup interval")),
    })
}

fn rule_meets(rule: &Rule, need: &Interval) -> bool {
    match need {
        Interval::NotRequired | Interval::Any => !rule.schedule.is_empty() || rule.continuous,
        Interval::AtMost(max, ..) => rule.gap.as_ref().is_ok_and(|g| g <= max),
        Interval::Continuous => rule.continuous,
    }
}

fn describe(rule: &Rule) -> Msg {
    let (gap_ja, gap_en) = match &rule.gap {
        Ok(g) => (format!("最大間隔 {}時間", g.num_minutes() as f64 / 60.0), format!("max interval {}h", g.num_minutes() as f64 / 60.0)),
        Err(e) => (format!("スケジュールを評価できない: {e}"), format!("schedule not evaluated: {e}")),
    };
    let copies = if rule.copies_to.is_empty() { "none".to_string() } else { rule.copies_to.join(",") };
    let schedule = if rule.schedule.is_empty() { "-" } else { &rule.schedule };
    let (name, continuous, vault) = (&rule.name, rule.continuous, &rule.vault);
    crate::msg!(
        "ルール `{name}` ScheduleExpression={schedule}（{gap_ja}） ContinuousBackup={continuous} vault={vault} copy-to={copies}",
        "rule `{name}` ScheduleExpression={schedule} ({gap_en}) ContinuousBackup={continuous} vault={vault} copy-to={copies}"
    )
}

/// Read the rules of the plans in scope (the scenario's `[backup] plans`,
/// or every plan in the primary region). Failures are recorded in `f`;
/// `None` means the plans could not be read at all.
pub async fn read_rules(input: &ProbeInput, region: &str, f: &mut Findings, today: chrono::NaiveDate) -> Option<Vec<Rule>> {
    const LIST: &str = "backup:ListBackupPlans";
    const GET: &str = "backup:GetBackupPlan";
    let backup = input.aws.backup(region);
    let wanted = &input.scenario.backup.plans;
    let plans: Vec<(String, String)> = match input.inventory.backup_plans(region).await {
        Ok(list) => list.iter().map(|p| (p.backup_plan_name().unwrap_or("").to_string(), p.backup_plan_id().unwrap_or("").to_string())).collect(),
        Err(e) => {
            f.listing_error(&e);
            return None;
        }
    };
    for name in wanted {
        if !plans.iter().any(|(n, _)| n == name) {
            f.fail(name, Some(region), Msg::new("シナリオで指定したバックアッププランが存在しない", "backup plan named in the scenario does not exist"), LIST);
        }
    }
    let mut rules = Vec::new();
    for (name, id) in plans.into_iter().filter(|(n, _)| wanted.is_empty() || wanted.contains(n)) {
        let plan_id = id.clone();
        let out = match backup.get_backup_plan().backup_plan_id(&id).send().await {
            Ok(o) => o,
            Err(e) => {
                f.aws_error(GET, Some(region), &e);
                continue;
            }
        };
        let Some(plan) = out.backup_plan() else {
            f.error(&name, Some(region), super::no_field(GET, "BackupPlan"), GET);
            continue;
        };
        for r in plan.rules() {
            let schedule = r.schedule_expression().unwrap_or("").to_string();
            let gap = if schedule.is_empty() { Err(cron::CronError::Syntax(String::new())) } else { cron::max_gap(&schedule, today) };
            rules.push(Rule {
                plan: name.clone(),
                name: r.rule_name().to_string(),
                schedule,
                gap,
                continuous: r.enable_continuous_backup() == Some(true),
                vault: r.target_backup_vault_name().to_string(),
                copies_to: r.copy_actions().iter().map(|c| c.destination_backup_vault_arn().to_string()).collect(),
                plan_id: plan_id.clone(),
                window: Duration::minutes(r.start_window_minutes().unwrap_or(8 * 60) + r.completion_window_minutes().unwrap_or(7 * 24 * 60)),
                delete_after_days: r.lifecycle().and_then(|l| l.delete_after_days()),
            });
        }
    }
    Some(rules)
}

/// C.1.2.5: at least one rule of the system's plans runs as often as the level requires.
pub async fn schedule(input: Arc<ProbeInput>) -> Findings {
    let need = match required_interval(&input.level) {
        Ok(Interval::NotRequired) => return Findings::level_asks_nothing(&input.level),
        Ok(n) => n,
        Err(why) => return Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {why}"), format!("could not verify: {why}"))),
    };
    let region = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let today = input.now.date_naive();
    let Some(rules) = read_rules(&input, &region, &mut f, today).await else {
        return f;
    };
    judge_schedule(&rules, &need, &region, &mut f);
    f
}

fn need_text(need: &Interval) -> (String, String) {
    match need {
        Interval::NotRequired | Interval::Any => ("任意".into(), "any schedule".into()),
        Interval::AtMost(d, ja, en) => (format!("{ja}（{}時間以内）", d.num_hours()), format!("{en} (every {}h or more often)", d.num_hours())),
        Interval::Continuous => ("同期（継続バックアップ）".into(), "continuous backup".into()),
    }
}

pub fn judge_schedule(rules: &[Rule], need: &Interval, region: &str, f: &mut Findings) {
    const SRC: &str = "backup:GetBackupPlan";
    // A plan that could not be read may hold the compliant rule: "none
    // found" is then unknown (ERROR, already recorded), not a violation.
    let complete = !f.has(EvidenceStatus::Error);
    let (need_ja, need_en) = need_text(need);
    let meeting: Vec<&Rule> = rules.iter().filter(|r| rule_meets(r, need)).collect();
    for r in rules {
        let subject = format!("{}/{}", r.plan, r.name);
        if meeting.iter().any(|m| std::ptr::eq(*m, r)) {
            f.pass(&subject, Some(region), describe(r), SRC);
        } else {
            f.info(&subject, Some(region), describe(r), SRC);
        }
    }
    if meeting.is_empty() && !complete {
        f.info(
            "backup-plans",
            Some(region),
            crate::msg!("読めたルールに{need_ja}で実行するものなし。一部のプランを読めない", "no readable rule runs {need_en}; some plans could not be read"),
            SRC,
        );
    } else if rules.is_empty() {
        f.fail("backup-plans", Some(region), Msg::new("対象のプランにバックアップルールなし", "no backup rule found in the plans in scope"), SRC);
    } else if meeting.is_empty() {
        let most = most_frequent(rules);
        f.fail(
            "backup-plans",
            Some(region),
            Msg::new(
                format!("{need_ja}で実行するルールなし。最も頻繁なもの: {}", most.ja),
                format!("no rule runs {need_en}; most frequent observed: {}", most.en),
            ),
            SRC,
        );
    } else {
        let best = meeting.iter().filter_map(|r| r.gap.as_ref().ok()).min().map(|g| g.num_minutes() as f64 / 60.0);
        let best_txt = best.map(|h| format!("{h}")).unwrap_or_else(|| "-".into());
        f.ok_summary(Msg::new(
            format!("要求 {need_ja}: {}件のルールが充足（最短間隔 {best_txt}時間）例 {}/{}", meeting.len(), meeting[0].plan, meeting[0].name),
            format!("required {need_en}: {} rule(s) comply (shortest interval {best_txt}h), e.g. {}/{}", meeting.len(), meeting[0].plan, meeting[0].name),
        ));
    }
}

/// "plan/rule every Nh" for the rule with the shortest interval, for NG messages.
fn most_frequent(rules: &[Rule]) -> Msg {
    rules
        .iter()
        .filter_map(|r| r.gap.as_ref().ok().map(|g| (g, r)))
        .min_by_key(|(g, _)| **g)
        .map(|(g, r)| crate::msg!("{0}/{1} {2}時間ごと", "{0}/{1} every {2}h", r.plan, r.name, g.num_minutes() as f64 / 60.0))
        .unwrap_or_else(|| Msg::new("評価できるスケジュールなし", "no evaluable schedule"))
}

/// A.3.2.2: level 1 a backup to a vault; level 2 a rule at least as frequent
/// as C.1.2.5 requires copies to an existing vault in the DR region.
pub async fn remote_copy(input: Arc<ProbeInput>) -> Findings {
    let level = input.level.as_str();
    match level {
        "0" => return Findings::level_asks_nothing(level),
        "1" | "2" => {}
        other => {
            return Findings::decided(
                Outcome::Error,
                Msg::new(
                    format!("検証不能: レベル{other}の判定は未対応（0-2のみ）"),
                    format!("could not verify: level {other} is not supported by this probe (0-2)"),
                ),
            )
        }
    }
    let primary = input.scenario.aws.primary_region.clone();
    let dr = input.scenario.aws.dr_region.clone();
    let interval_level = input.levels.get("C.1.2.5").cloned().unwrap_or_else(|| "4".into());
    let need = match required_interval(&interval_level) {
        Ok(Interval::NotRequired) | Ok(Interval::Any) => Interval::Any,
        Ok(n) => n,
        Err(why) => return Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {why}"), format!("could not verify: {why}"))),
    };
    let mut f = Findings::new();
    f.claim("copy-rule");
    let Some(rules) = read_rules(&input, &primary, &mut f, input.now.date_naive()).await else {
        return f;
    };
    if level == "1" {
        judge_schedule(&rules, &Interval::Any, &primary, &mut f);
        return f;
    }
    let frequent: Vec<&Rule> = rules.iter().filter(|r| rule_meets(r, &need)).collect();
    let copying: Vec<(&Rule, &String)> =
        frequent.iter().flat_map(|r| r.copies_to.iter().map(move |arn| (*r, arn))).filter(|(_, arn)| arn_region(arn) == Some(dr.as_str())).collect();
    if copying.is_empty() && f.has(EvidenceStatus::Error) {
        // Unread plans may hold the copying rule: unknown, not NG.
        f.info(
            "backup-plans",
            Some(&primary),
            crate::msg!(
                "読めたルールに DR リージョン {dr} へ複製するものなし。一部のプランを読めない",
                "no readable rule copies to the DR region {dr}; some plans could not be read"
            ),
            "backup:GetBackupPlan",
        );
        return f;
    }
    if copying.is_empty() {
        let (need_ja, need_en) = need_text(&need);
        for r in &rules {
            f.info(&format!("{}/{}", r.plan, r.name), Some(&primary), describe(r), "backup:GetBackupPlan");
        }
        let copying_anywhere =
            rules.iter().filter(|r| !r.copies_to.is_empty()).map(|r| format!("{}/{} → {}", r.plan, r.name, r.copies_to.join(","))).collect::<Vec<_>>();
        let seen = if copying_anywhere.is_empty() {
            Msg::new("複製アクションのあるルールなし", "no rule has a copy action")
        } else {
            crate::msg!("複製アクション: {0}", "copy actions seen: {0}", copying_anywhere.join("; "))
        };
        f.fail(
            "backup-plans",
            Some(&primary),
            Msg::new(
                format!("{need_ja}で実行し DR リージョン {dr} のボールトへ複製するルールなし（{}）", seen.ja),
                format!("no rule running {need_en} copies to a vault in the DR region {dr} ({})", seen.en),
            ),
            "backup:GetBackupPlan",
        );
        return f;
    }
    let dr_backup = input.aws.backup(&dr);
    let mut ok_vaults = Vec::new();
    for (rule, arn) in &copying {
        let subject = format!("{}/{}", rule.plan, rule.name);
        f.info(&subject, Some(&primary), describe(rule), "backup:GetBackupPlan");
        let Some(vault) = arn.rsplit(':').next().filter(|_| arn.contains(":backup-vault:")) else {
            f.fail(
                arn,
                Some(&dr),
                Msg::new("複製先がバックアップボールトの ARN ではない", "copy destination is not a backup vault ARN"),
                "backup:GetBackupPlan",
            );
            continue;
        };
        match dr_backup.describe_backup_vault().backup_vault_name(vault).send().await {
            Ok(_) => {
                f.pass(
                    arn,
                    Some(&dr),
                    crate::msg!("ルール {subject} がここへ複製。ボールトあり", "rule {subject} copies here; vault exists"),
                    "backup:DescribeBackupVault",
                );
                // The copy rule is a setting; the point asks for copies that exist, and recent ones:
                // a vault holding only last year's copies passes a count but not this.
                f.claim("dr-recovery-points");
                let due = rule.gap.as_ref().ok().copied().unwrap_or_else(|| Duration::hours(24)) + rule.window;
                if let Some(points) = points::in_vault(&dr_backup, &dr, vault, None, &mut f).await {
                    let hours = |d: Duration| d.num_minutes() as f64 / 60.0;
                    match points::newest(&points) {
                        Some(p) if input.now - p.created <= due => f.pass(
                            arn,
                            Some(&dr),
                            Msg::new(
                                format!(
                                    "DR ボールトに復旧ポイントあり（{}）。最新の利用可能な複製は {:.1}時間前で、ルールの間隔と時間枠（{:.0}時間）以内",
                                    points::census_ja(&points),
                                    hours(input.now - p.created),
                                    hours(due)
                                ),
                                format!(
                                    "the DR vault holds recovery points ({}); the newest usable copy is {:.1}h old, within the rule's interval and windows ({:.0}h)",
                                    points::census(&points),
                                    hours(input.now - p.created),
                                    hours(due)
                                ),
                            ),
                            "backup:ListRecoveryPointsByBackupVault",
                        ),
                        Some(p) => f.fail(
                            arn,
                            Some(&dr),
                            Msg::new(
                                format!(
                                    "複製が止まっている: DR ボールトの最新の利用可能な複製は {:.1}時間前で、ルールの間隔と時間枠（{:.0}時間）を超える（{}）",
                                    hours(input.now - p.created),
                                    hours(due),
                                    points::census_ja(&points)
                                ),
                                format!(
                                    "copies have stopped: the newest usable copy in the DR vault is {:.1}h old, more than the rule's interval and windows ({:.0}h) ({})",
                                    hours(input.now - p.created),
                                    hours(due),
                                    points::census(&points)
                                ),
                            ),
                            "backup:ListRecoveryPointsByBackupVault",
                        ),
                        None => f.fail(
                            arn,
                            Some(&dr),
                            points::census_msg(&points).wrap(
                                ("DR ボールトに利用可能な復旧ポイントが複製されていない（", "）"),
                                ("no usable recovery point has been copied into the DR vault (", ")"),
                            ),
                            "backup:ListRecoveryPointsByBackupVault",
                        ),
                    }
                }
                f.claim("copy-rule");
                ok_vaults.push(vault.to_string());
            }
            Err(e) if crate::aws::error_code(&e) == Some("ResourceNotFoundException") => {
                f.fail(
                    arn,
                    Some(&dr),
                    crate::msg!("ルール {subject} の複製先ボールトが存在しない", "rule {subject} copies to a vault that does not exist"),
                    "backup:DescribeBackupVault",
                );
            }
            Err(e) => f.aws_error("backup:DescribeBackupVault", Some(&dr), &e),
        }
    }
    ok_vaults.dedup();
    f.ok_summary(Msg::new(
        format!("バックアップを DR リージョン {dr} のボールト {} へ複製（{}件のルール）", ok_vaults.join(","), copying.len()),
        format!("backups copied to vault {} in DR region {dr} ({} rule(s))", ok_vaults.join(","), copying.len()),
    ));
    f
}

/// `arn:aws:backup:ap-northeast-3:123456789012:backup-vault:name` → `ap-northeast-3`.
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(schedule: &str, copies: &[&str]) -> Rule {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        Rule {
            plan: "p".into(),
            name: "r".into(),
            schedule: schedule.into(),
            gap: cron::max_gap(schedule, today),
            continuous: false,
            vault: "v".into(),
            copies_to: copies.iter().map(|s| s.to_string()).collect(),
            plan_id: "p-id".into(),
            window: Duration::hours(2),
            delete_after_days: None,
        }
    }

    #[test]
    fn arn_region_parses() {
        assert_eq!(arn_region("arn:aws:backup:ap-northeast-3:123456789012:backup-vault:dr"), Some("ap-northeast-3"));
        assert_eq!(arn_region("nonsense"), None);
    }

    #[test]
    fn weekly_rule_fails_daily_level_and_passes_weekly() {
        let rules = vec![rule("cron(0 3 ? * SUN *)", &[])];
        let mut f = Findings::new();
        judge_schedule(&rules, &required_interval("4").expect("level"), "r", &mut f);
        assert_eq!(f.conclude("4").outcome, Outcome::Ng);
        let mut f = Findings::new();
        judge_schedule(&rules, &required_interval("3").expect("level"), "r", &mut f);
        assert_eq!(f.conclude("3").outcome, Outcome::Ok);
    }

    #[test]
    fn unparseable_schedule_never_counts_as_daily() {
        let rules = vec![rule("cron(0 5 ? * 6#3 *)", &[])];
        let mut f = Findings::new();
        judge_schedule(&rules, &required_interval("4").expect("level"), "r", &mut f);
        let c = f.conclude("4");
        assert_eq!(c.outcome, Outcome::Ng);
        assert!(c.evidence.iter().any(|e| e.detail.contains("not supported")), "{:?}", c.evidence);
    }

    #[test]
    fn no_rules_is_ng() {
        let mut f = Findings::new();
        judge_schedule(&[], &required_interval("4").expect("level"), "r", &mut f);
        assert_eq!(f.conclude("4").outcome, Outcome::Ng);
    }
}
