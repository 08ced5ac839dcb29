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
use crate::catalog::{Catalog, Item, RowVerifier, Verifier};
use crate::inventory::Inventory;
use crate::model::{ItemResult, Layer, Msg, Outcome, PointResult, RunReport, ScenarioRef, Target};
use crate::probes::{self, Conclusion, Findings, ProbeInput};
use crate::verdict;

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
    /// The account cannot be used (see [`ProbeInput::unreachable`]).
    pub unreachable: Option<Msg>,
}

impl RunOptions {
    pub fn from_scenario(s: &Scenario) -> Self {
        Self {
            only: s.only.as_ref().map(|v| v.iter().map(|i| i.get_ref().clone()).collect()),
            now: Utc::now(),
            timeout: Duration::from_secs(s.engine.probe_timeout_secs),
            concurrency: s.engine.concurrency.max(1),
            drill: None,
            unreachable: None,
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
            unreachable: opts.unreachable.clone(),
        });
        let refs: Vec<Vec<String>> =
            input.item.points.iter().map(|p| catalog.referenced(&p.text).iter().map(|r| format!("{} {}", r.id, r.check_item)).collect()).collect();
        let semaphore = semaphore.clone();
        let timeout = opts.timeout;
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (index, run_item(input, timeout, refs).await)
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
    let mut report = RunReport {
        run_id: run_id(started_at),
        environment: scenario.environment.name.clone(),
        municipality: scenario.environment.municipality.clone(),
        system: scenario.environment.system.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        tool_commit: option_env!("GCVERIFY_GIT_COMMIT").filter(|c| !c.is_empty()).map(str::to_string),
        started_at,
        finished_at: Utc::now(),
        scenario: scenario_ref(&scenario),
        target: Target {
            endpoint: scenario.aws.endpoint_url.clone(),
            emulator: scenario.demo.is_some(),
            primary_region: Some(scenario.aws.primary_region.clone()),
            dr_region: Some(scenario.aws.dr_region.clone()),
            ..Target::default()
        },
        catalog: catalog.reference(),
        items,
        warnings,
        lowered_minimums: probes::observation::lowered(catalog, &scenario),
        run_by: None,
        comparison: None,
    };
    report.number_evidence();
    report
}

/// `20261102T010000Z-1a2b3c4d`: sortable by time, unique by the random part
/// (the std hasher's per-process random keys: no extra dependency).
pub fn run_id(started_at: DateTime<Utc>) -> String {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one((started_at.timestamp_nanos_opt(), std::process::id()));
    format!("{}-{:08x}", started_at.format("%Y%m%dT%H%M%SZ"), random as u32)
}

/// The scenario file, hashed as it is when the run ends (it was read when the run began).
fn scenario_ref(scenario: &Scenario) -> Option<ScenarioRef> {
    let path = scenario.path()?;
    let bytes = std::fs::read(path).ok()?;
    // The text each layer was parsed from, not the file as it is now.
    let layers = scenario.layers().into_iter().map(|(p, text)| Layer { path: crate::relative_path(p), sha256: crate::sha256_hex(text.as_bytes()) }).collect();
    Some(ScenarioRef { path: crate::relative_path(path), sha256: crate::sha256_hex(&bytes), layers })
}

async fn run_item(input: Arc<ProbeInput>, timeout: Duration, refs: Vec<Vec<String>>) -> ItemResult {
    let started_at = Utc::now();
    let (conclusion, points) = conclude_row(input.clone(), timeout, refs).await;
    let item = &input.item;
    ItemResult {
        id: item.id.clone(),
        category: item.category.clone(),
        metric: item.metric.clone(),
        selected_level: input.level.clone(),
        kind: item.kind,
        probe: item.probe.to_string(),
        outcome: conclusion.outcome,
        summary: conclusion.summary.ja,
        summary_en: conclusion.summary.en,
        achieved_level: conclusion.achieved_level,
        evidence: conclusion.evidence,
        points,
        attestation: conclusion.attestation,
        period: conclusion.period,
        started_at,
        finished_at: Utc::now(),
    }
}

/// The row: decided as a whole (対象外), or each 確認観点 from the evidence of
/// its own claims, then combined (all in `verdict`). Each probe runs once.
async fn conclude_row(input: Arc<ProbeInput>, timeout: Duration, refs: Vec<Vec<String>>) -> (Conclusion, Vec<PointResult>) {
    let today = input.now.with_timezone(&jst()).date_naive();
    let item = &input.item;
    let level = input.level.as_str();
    if let Some(whole) = verdict::whole_row(item, level, &input.scenario, today) {
        return (whole, Vec::new());
    }
    if item.points.is_empty() {
        // Catalogs without points (tests): the probe decides the row alone.
        let c = match &item.probe {
            RowVerifier::Probe(name) => run_probe(input.clone(), name, timeout).await.conclude(level),
            _ => verdict::attestation::evaluate(&item.id, &input.scenario, today).conclude(level),
        };
        return (c, Vec::new());
    }
    let mut runs: BTreeMap<&'static str, Findings> = BTreeMap::new();
    for name in verdict::verifiers_needed(item, level) {
        let findings = run_probe(input.clone(), name, timeout).await;
        runs.insert(name, findings);
    }
    // The item's own probe found the item itself 対象外 (its level, or nothing
    // of the kind in this system, e.g. no holiday operation): so are its points.
    let item_na = item.probe.name().and_then(|n| runs.get(n)).map(|f| f.clone().conclude(level)).filter(|c| c.outcome == Outcome::NotApplicable);
    let mut points = Vec::with_capacity(item.points.len());
    for (i, p) in item.points.iter().enumerate() {
        let c = match verdict::point_not_applicable(item, p, level, item_na.as_ref()) {
            Some(na) => na,
            None if matches!(Verifier::of(&p.verifier), Verifier::Probe(_)) => verdict::point(p, &runs, level),
            None => verdict::desk_point(item, p, &input.scenario, today, level),
        };
        points.push(c.into_point(p.id.clone(), p.text.clone(), p.en.clone(), refs.get(i).cloned().unwrap_or_default(), p.verifier.clone()));
    }
    (verdict::row(item, &points, level, &runs), points)
}

/// Run one probe under the timeout, in its own task; its observations
/// attributed to its claims (`verdict::attribute`).
async fn run_probe(input: Arc<ProbeInput>, name: &str, timeout: Duration) -> Findings {
    let Some(probe) = probes::lookup(name) else {
        return Findings::cannot(
            format!("検証手段 {name} が登録されていない（カタログの不備）"),
            format!("verifier {name} is not registered (catalog defect)"),
        );
    };
    if let Some(why) = &input.unreachable {
        return Findings::decided(Outcome::Error, why.clone());
    }
    // Own task: a panic becomes a JoinError instead of tearing down the run.
    let handle = tokio::spawn((probe.run)(input.clone()));
    let abort = handle.abort_handle();
    let mut findings = match tokio::time::timeout(timeout, handle).await {
        Ok(Ok(findings)) => findings,
        Ok(Err(join_error)) => {
            let why = panic_message(join_error);
            Findings::cannot(format!("プローブ異常終了: {why}"), format!("probe crashed: {why}"))
        }
        Err(_) => {
            abort.abort();
            let secs = timeout.as_secs_f64();
            Findings::cannot(format!("{secs}秒でタイムアウト"), format!("probe timed out after {secs}s"))
        }
    };
    verdict::attribute(&mut findings, probe);
    findings
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
        RunOptions { only: None, now: Utc::now(), timeout: Duration::from_millis(timeout_ms), concurrency: 4, drill: None, unreachable: None }
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
        // Provenance: a run ID, the scenario's digest, evidence numbered in table order.
        assert!(report.run_id.starts_with(&report.started_at.format("%Y%m%dT%H%M%SZ").to_string()), "{}", report.run_id);
        let ids: Vec<&str> = report.items.iter().flat_map(|i| i.evidence.iter().filter_map(|e| e.id.as_deref())).collect();
        assert_eq!(ids.first().copied(), Some("E-001"));
        assert_eq!(ids.len(), report.items.iter().map(|i| i.evidence.len()).sum::<usize>(), "every entry numbered");
    }

    #[tokio::test]
    async fn the_report_records_the_scenario_file_and_its_digest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stg.toml");
        let text = "[environment]\nname = \"stg\"\n";
        std::fs::write(&path, text).expect("write");
        let s = Arc::new(gcverify_scenarios::parse(text, &path).expect("scenario"));
        let report = run(&catalog(&[("A.1", "test.pass")]), s, aws(), opts(1000), &|_| {}).await;
        let recorded = report.scenario.expect("scenario recorded");
        assert_eq!(recorded.sha256, crate::sha256_hex(text.as_bytes()));
        assert!(recorded.path.ends_with("stg.toml"), "{}", recorded.path);
        assert_eq!(report.target.primary_region.as_deref(), Some("ap-northeast-1"));
        assert_eq!(report.catalog.items, 1);
    }

    #[test]
    fn run_ids_differ_between_runs_started_at_the_same_second() {
        let t = Utc::now();
        assert_ne!(run_id(t), run_id(t));
    }

    #[tokio::test]
    async fn unimplemented_probe_is_error_never_ok() {
        // A name no module implements (access.mfa, the former example, now exists).
        let c = catalog(&[("E.5.1.1", "performance.not_a_probe")]);
        let report = run(&c, scenario(""), aws(), opts(1000), &|_| {}).await;
        assert_eq!(report.items[0].outcome, Outcome::Error);
        assert!(report.items[0].summary_en.contains("verifier performance.not_a_probe is not registered"), "{}", report.items[0].summary_en);
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
