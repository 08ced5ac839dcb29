//! The engine: runs every selected item's probe concurrently, each under a
//! timeout and in its own task, so one failing, hanging or panicking probe
//! only turns its own row into ERROR.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use gcverify_scenarios::Scenario;
use tokio::sync::Semaphore;

use crate::aws::AwsContext;
use crate::catalog::{Catalog, Item};
use crate::inventory::Inventory;
use crate::model::{ItemResult, Msg, Outcome, RunReport};
use crate::probes::{self, Conclusion, Findings, ProbeInput};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Only these item IDs (all when `None`).
    pub only: Option<Vec<String>>,
    /// The clock ("now") used for ages and attestation expiry.
    pub now: DateTime<Utc>,
    pub timeout: Duration,
    pub concurrency: usize,
    /// The restore drill run before the probes, if any.
    pub drill: Option<Arc<crate::drill::DrillReport>>,
}

impl RunOptions {
    pub fn from_scenario(s: &Scenario) -> Self {
        Self {
            only: s.only.as_ref().map(|v| v.iter().map(|i| i.get_ref().clone()).collect()),
            now: Utc::now(),
            timeout: Duration::from_secs(s.engine.probe_timeout_secs),
            concurrency: s.engine.concurrency.max(1),
            drill: None,
        }
    }
}

/// Progress events for a progress line.
#[derive(Debug, Clone)]
pub enum Progress {
    Planned { total: usize },
    Finished { id: String, outcome: Outcome, done: usize, total: usize },
}

/// Japan Standard Time; dates of attestations and periods are Japanese dates.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

pub async fn run(catalog: &Catalog, scenario: Arc<Scenario>, aws: Arc<AwsContext>, opts: RunOptions, progress: &(dyn Fn(Progress) + Send + Sync)) -> RunReport {
    let started_at = Utc::now();
    let items: Vec<Item> = catalog.items().iter().filter(|i| opts.only.as_ref().is_none_or(|only| only.iter().any(|o| o == &i.id))).cloned().collect();
    let total = items.len();
    progress(Progress::Planned { total });

    let semaphore = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let levels: Arc<BTreeMap<String, String>> = Arc::new(catalog.levels_in_force(&scenario));
    let inventory = Inventory::shared(aws.clone(), scenario.clone());
    for (index, item) in items.into_iter().enumerate() {
        let level = levels.get(&item.id).cloned().unwrap_or_else(|| item.selected_level.clone());
        let input = Arc::new(ProbeInput {
            item,
            level,
            levels: levels.clone(),
            scenario: scenario.clone(),
            aws: aws.clone(),
            now: opts.now,
            drill: opts.drill.clone(),
            inventory: inventory.clone(),
        });
        let semaphore = semaphore.clone();
        let timeout = opts.timeout;
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (index, run_item(input, timeout).await)
        });
    }

    let mut results: Vec<Option<ItemResult>> = vec![None; total];
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        // run_item catches panics itself; a JoinError here means the runtime
        // is shutting down, and the missing rows are filled in below.
        let Ok((index, result)) = joined else { continue };
        done += 1;
        progress(Progress::Finished { id: result.id.clone(), outcome: result.outcome, done, total });
        results[index] = Some(result);
    }
    let items = results.into_iter().flatten().collect();
    // Only when a probe needed the scope: a run of non-AWS rows lists nothing.
    let warnings = inventory.computed_scope().and_then(|s| s.tags.warning()).into_iter().collect();
    RunReport {
        environment: scenario.environment.name.clone(),
        municipality: scenario.environment.municipality.clone(),
        system: scenario.environment.system.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        finished_at: Utc::now(),
        items,
        warnings,
    }
}

async fn run_item(input: Arc<ProbeInput>, timeout: Duration) -> ItemResult {
    let started_at = Utc::now();
    let conclusion = conclude(input.clone(), timeout).await;
    let item = &input.item;
    ItemResult {
        id: item.id.clone(),
        category: item.category.clone(),
        metric: item.metric.clone(),
        selected_level: input.level.clone(),
        kind: item.kind,
        probe: item.probe.clone(),
        outcome: conclusion.outcome,
        summary: conclusion.summary.ja,
        summary_en: conclusion.summary.en,
        achieved_level: conclusion.achieved_level,
        evidence: conclusion.evidence,
        started_at,
        finished_at: Utc::now(),
    }
}

async fn conclude(input: Arc<ProbeInput>, timeout: Duration) -> Conclusion {
    let item = &input.item;
    let level = input.level.clone();
    if let Some((_, reason)) = input.scenario.not_applicable.iter().find(|(id, _)| id.get_ref() == &item.id) {
        return Findings::decided(Outcome::NotApplicable, Msg::new(format!("対象外: {reason}"), format!("not applicable: {reason}"))).conclude(&level);
    }
    match item.probe.as_str() {
        // A scenario that raises the level of an item the pilot left out needs a
        // reviewer's evidence: N/A would no longer be the pilot's judgement.
        "not_applicable" if level != item.selected_level && level != "0" => {
            let today = input.now.with_timezone(&jst()).date_naive();
            return probes::attestation::evaluate(&item.id, &input.scenario, today).conclude(&level);
        }
        "not_applicable" => {
            let reason = &item.not_verified_reason;
            return Findings::decided(Outcome::NotApplicable, Msg::new(format!("対象外: {reason}"), format!("not applicable (pilot judgement): {reason}")))
                .conclude(&level);
        }
        "attestation" => {
            let today = input.now.with_timezone(&jst()).date_naive();
            return probes::attestation::evaluate(&item.id, &input.scenario, today).conclude(&level);
        }
        _ => {}
    }
    let Some(probe) = probes::lookup(&item.probe) else {
        let issue = probes::planned_issue(&item.probe).map(|n| format!(" (issue #{n})")).unwrap_or_default();
        return Findings::decided(
            Outcome::Error,
            Msg::new(format!("検証不能: プローブ未実装（{}）{issue}", item.probe), format!("could not verify: probe not implemented: {}{issue}", item.probe)),
        )
        .conclude(&level);
    };
    // Own task: a panic becomes a JoinError instead of tearing down the run.
    let handle = tokio::spawn(probe(input.clone()));
    let abort = handle.abort_handle();
    match tokio::time::timeout(timeout, handle).await {
        Ok(Ok(findings)) => findings.conclude(&level),
        Ok(Err(join_error)) => {
            let why = panic_message(join_error);
            Findings::decided(Outcome::Error, Msg::new(format!("検証不能: プローブ異常終了: {why}"), format!("could not verify: probe crashed: {why}")))
                .conclude(&level)
        }
        Err(_) => {
            abort.abort();
            let secs = timeout.as_secs_f64();
            Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {secs}秒でタイムアウト"), format!("could not verify: probe timed out after {secs}s")))
                .conclude(&level)
        }
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => {
            payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_else(|| "panic".into())
        }
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Mutex;

    fn catalog(items: &[(&str, &str)]) -> Catalog {
        let mut text = String::new();
        for (id, probe) in items {
            text.push_str(&format!(
                "[[item]]\nid = \"{id}\"\ncategory = \"c\"\nsubcategory = \"s\"\nmetric = \"m\"\nstandard_level = \"1\"\nselected_level = \"1\"\nverified = true\nkind = \"実機\"\nprobe = \"{probe}\"\n\n"
            ));
        }
        Catalog::from_toml(&text).expect("test catalog")
    }

    fn scenario(extra: &str) -> Arc<Scenario> {
        let text = format!("[environment]\nname = \"t\"\n{extra}");
        Arc::new(gcverify_scenarios::parse(&text, Path::new("t.toml")).expect("scenario"))
    }

    fn aws() -> Arc<AwsContext> {
        Arc::new(AwsContext::from_config(aws_config::SdkConfig::builder().build(), false))
    }

    fn opts(timeout_ms: u64) -> RunOptions {
        RunOptions { only: None, now: Utc::now(), timeout: Duration::from_millis(timeout_ms), concurrency: 4, drill: None }
    }

    #[tokio::test]
    async fn hanging_and_panicking_probes_only_spoil_their_own_rows() {
        let c = catalog(&[("A.1", "test.pass"), ("A.2", "test.hang"), ("A.3", "test.panic"), ("A.4", "test.pass")]);
        let report = run(&c, scenario(""), aws(), opts(300), &|_| {}).await;
        let outcomes: Vec<(String, Outcome)> = report.items.iter().map(|i| (i.id.clone(), i.outcome)).collect();
        assert_eq!(outcomes, vec![("A.1".into(), Outcome::Ok), ("A.2".into(), Outcome::Error), ("A.3".into(), Outcome::Error), ("A.4".into(), Outcome::Ok)]);
        assert!(report.items[1].summary_en.contains("timed out"), "{}", report.items[1].summary_en);
        assert!(report.items[2].summary_en.contains("probe exploded"), "{}", report.items[2].summary_en);
        assert_eq!(report.exit_code(), crate::model::exit_code::INCOMPLETE);
    }

    #[tokio::test]
    async fn unimplemented_probe_is_error_never_ok() {
        // A name no module implements (access.mfa, the former example, now exists).
        let c = catalog(&[("E.5.1.1", "performance.not_a_probe")]);
        let report = run(&c, scenario(""), aws(), opts(1000), &|_| {}).await;
        assert_eq!(report.items[0].outcome, Outcome::Error);
        assert!(report.items[0].summary_en.contains("not implemented: performance.not_a_probe (issue #5)"), "{}", report.items[0].summary_en);
    }

    #[tokio::test]
    async fn only_filter_keeps_catalog_order_and_progress_counts() {
        let c = catalog(&[("A.1", "test.pass"), ("A.2", "test.pass"), ("A.3", "test.pass")]);
        let seen = Mutex::new(Vec::new());
        let mut o = opts(1000);
        o.only = Some(vec!["A.3".into(), "A.1".into()]);
        let report = run(&c, scenario(""), aws(), o, &|p| {
            if let Progress::Finished { done, total, .. } = p {
                seen.lock().expect("lock").push((done, total));
            }
        })
        .await;
        let ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["A.1", "A.3"]);
        let mut seen = seen.into_inner().expect("lock");
        seen.sort();
        assert_eq!(seen, vec![(1, 2), (2, 2)]);
    }

    #[tokio::test]
    async fn scenario_level_override_and_not_applicable_apply() {
        let c = catalog(&[("A.1", "test.pass"), ("A.2", "test.pass")]);
        let s = scenario("[levels]\n\"A.1\" = \"3\"\n[not_applicable]\n\"A.2\" = \"閉域網のみ\"\n");
        let report = run(&c, s, aws(), opts(1000), &|_| {}).await;
        assert_eq!(report.items[0].selected_level, "3");
        assert!(report.items[0].evidence[0].detail.contains("level=3"));
        assert_eq!(report.items[0].achieved_level.as_deref(), Some("3"));
        assert_eq!(report.items[1].outcome, Outcome::NotApplicable);
        assert!(report.items[1].summary.contains("閉域網のみ"));
    }
}
