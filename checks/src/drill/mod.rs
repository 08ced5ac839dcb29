//! The restore drill (`verify --restore-drill`, A.1.3.2 RTO / A.1.3.3 RLO):
//! restore the newest recovery point of each selected resource into an
//! isolated target with AWS Backup, measure restore time (job creation →
//! completion) plus the time until the restored copy is healthy, and delete
//! every copy again — on success, failure, timeout and Ctrl-C. A journal
//! written before anything is created lets `drill cleanup` finish the job
//! if this process dies; copies are tagged [`kinds::TAG`] for the same reason.
//!
//! This is the only part of gcverify that writes to AWS; its permissions
//! ([`ACTIONS`]) are kept apart from the read-only policy.

pub mod cancel;
mod cleanup;
pub mod journal;
pub mod kinds;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::join_all;
use gcverify_availability::check::{Checker, Target};
use gcverify_scenarios::{AvailabilityTarget, Drill};
use serde::Serialize;

pub use cancel::{Cancel, CancelHandle};
pub use cleanup::{cleanup, CleanupReport};
use journal::{Entry, Journal};
use kinds::{Kind, Ready};

use crate::aws::failure_reason;
use crate::model::EvidenceStatus;
use crate::probes::continuity::{self, points, Resource};
use crate::probes::{Findings, ProbeInput};

/// IAM actions of the drill and of `drill cleanup`. These write: they are
/// printed by `cargo xtask iam-policy --restore-drill`, never merged into the read-only policy.
pub const ACTIONS: &[&str] = &[
    "backup:ListRecoveryPointsByResource",
    "backup:GetRecoveryPointRestoreMetadata",
    "backup:StartRestoreJob",
    "backup:DescribeRestoreJob",
    "iam:PassRole",
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeVolumes",
    "ec2:CreateTags",
    "ec2:ModifyInstanceAttribute",
    "ec2:TerminateInstances",
    "ec2:DeleteVolume",
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusters",
    "rds:AddTagsToResource",
    "rds:DeleteDBInstance",
    "rds:DeleteDBCluster",
];

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("the scenario has no [continuity.drill] table: the restore drill needs an IAM role and an isolated target (see docs/continuity.md)")]
    NotConfigured,
    #[error("--site dr needs [continuity.drill.dr]: the isolated target in the DR region (subnet, security groups, DB subnet group)")]
    NoDrTarget,
    #[error("restore-drill journal {path}: {source}")]
    Journal { path: String, source: std::io::Error },
}

/// Where the drill restores: from the primary region's recovery points, or
/// from their copies in the DR region (A.1.4.1 / A.3.x rebuild).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Site {
    #[default]
    Primary,
    Dr,
}

/// How far one resource got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Nothing was started (no recovery point, no isolated target, a failed call, interrupted first).
    NotStarted,
    /// The restore job ended FAILED or ABORTED.
    RestoreFailed,
    /// The restore job did not finish within `restore_timeout_minutes`.
    TimedOut,
    /// Ctrl-C before the measurement was complete.
    Interrupted,
    /// Restored, but not healthy within `health_timeout_minutes`.
    Unhealthy,
    /// Restored and healthy: the measurement is complete.
    Healthy,
}

/// What happened to the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum CleanupState {
    NothingCreated,
    Deleted(String),
    /// The delete call failed: the copy is still there.
    Failed(String),
    /// The job may still create a copy (abandoned, timed out): `drill cleanup` must run later.
    Pending(String),
}

impl CleanupState {
    pub fn left_behind(&self) -> bool {
        matches!(self, CleanupState::Failed(_) | CleanupState::Pending(_))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillResource {
    pub source_arn: String,
    pub name: String,
    pub resource_type: String,
    pub recovery_point: Option<String>,
    pub point_created: Option<DateTime<Utc>>,
    /// Usable recovery points found (the generations there were to choose from).
    pub usable_points: Option<usize>,
    pub job_id: Option<String>,
    pub stage: Stage,
    /// Why it stopped where it did (error, job status message, last health state).
    pub detail: String,
    /// Restore job creation → completion (AWS's timestamps).
    pub restore_secs: Option<i64>,
    /// Job completion seen → AWS reports the copy up and every health check passes.
    pub health_secs: Option<i64>,
    /// Health checks that applied to this copy's type (`[[continuity.drill.health_checks]]`
    /// are filtered per kind): 0 means "healthy" is only AWS's readiness.
    pub health_checks: usize,
    /// How long the drill waited for a job that did not finish.
    pub waited_secs: Option<i64>,
    pub created_arn: Option<String>,
    pub cleanup: CleanupState,
    /// `[[continuity.drill.validation]]` on a restored database copy, once healthy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation: Vec<crate::probes::sql::restore::Validated>,
}

impl DrillResource {
    fn new(r: &Resource) -> Self {
        Self {
            source_arn: r.arn.clone(),
            name: r.name.clone(),
            resource_type: r.backup_type(),
            recovery_point: None,
            point_created: None,
            usable_points: None,
            job_id: None,
            stage: Stage::NotStarted,
            detail: String::new(),
            restore_secs: None,
            health_secs: None,
            health_checks: 0,
            waited_secs: None,
            created_arn: None,
            cleanup: CleanupState::NothingCreated,
            validation: Vec::new(),
        }
    }

    pub fn total_secs(&self) -> Option<i64> {
        Some(self.restore_secs? + self.health_secs?)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NotDrilled {
    pub arn: String,
    pub reason: String,
    /// True when the resource should have been drilled (its type is not supported): A.1.3.2 is then ERROR.
    pub unmeasured: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub drill_id: String,
    pub region: String,
    pub site: Site,
    /// The generation asked for (1 = newest usable recovery point).
    pub generation: usize,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub interrupted: bool,
    pub resources: Vec<DrillResource>,
    /// Resources in scope that were not drilled, and why (type not supported, not selected).
    pub not_drilled: Vec<NotDrilled>,
    /// Calls that failed before any restore (discovery): the drill is then incomplete.
    pub problems: Vec<String>,
    /// The drill ran against an emulator (`[aws] endpoint_url`, e.g. the demo):
    /// its restore times are the emulator's, not AWS's, and the evidence says so.
    pub emulated: bool,
}

impl DrillReport {
    /// Said with every timing of an emulated drill: the times are not AWS's.
    pub fn emulator_note(&self) -> Option<crate::model::Msg> {
        self.emulated.then(|| {
            crate::model::Msg::new(
                "エミュレータでの復元時間（AWS の実測ではない: 復元ジョブの所要時間はエミュレータの設定値）",
                "restore time measured on an emulator (not AWS: the restore job's duration is the emulator's setting)",
            )
        })
    }

    pub fn left_behind(&self) -> Vec<&DrillResource> {
        self.resources.iter().filter(|r| r.cleanup.left_behind()).collect()
    }
}

/// Timing of one drill.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub drill_id: String,
    /// Where the journal goes (`<out>/restore-drill`).
    pub state_dir: PathBuf,
    pub poll: Duration,
    pub restore_timeout: Duration,
    pub health_timeout: Duration,
    pub site: Site,
    /// 1 = the newest usable recovery point, 2 = the one before …
    pub generation: usize,
}

impl DrillOptions {
    pub fn new(cfg: &Drill, state_dir: PathBuf, now: DateTime<Utc>) -> Self {
        Self {
            site: Site::Primary,
            generation: (*cfg.generation.get_ref()).max(1) as usize,
            drill_id: format!("{}{}", kinds::NAME_PREFIX, now.format("%Y%m%d%H%M%S")),
            state_dir,
            poll: Duration::from_secs(cfg.poll_seconds.max(1) as u64),
            restore_timeout: Duration::from_secs(cfg.restore_timeout_minutes as u64 * 60),
            health_timeout: Duration::from_secs(cfg.health_timeout_minutes as u64 * 60),
        }
    }
}

/// Shared by the per-resource tasks.
struct Ctx<'a> {
    input: &'a ProbeInput,
    cfg: &'a Drill,
    opts: &'a DrillOptions,
    region: String,
    /// `--site dr`: the DR vaults the backup plans copy to.
    dr_vaults: Vec<String>,
    journal: Mutex<Journal>,
    checker: Option<Checker>,
    progress: &'a (dyn Fn(String) + Send + Sync),
}

impl Ctx<'_> {
    fn journal(&self, f: impl FnOnce(&mut Journal) -> std::io::Result<()>) {
        // A poisoned lock only means another task panicked mid-write; the data is still the best record.
        let mut j = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = f(&mut j) {
            tracing::error!(path = %j.path().display(), error = %e, "could not write the restore-drill journal");
        }
    }
}

/// Run the drill over the resources in scope (or `[continuity.drill] resources`).
pub async fn run(input: &ProbeInput, opts: &DrillOptions, cancel: Cancel, progress: &(dyn Fn(String) + Send + Sync)) -> Result<DrillReport, DrillError> {
    let configured = input.scenario.continuity.drill.as_ref().ok_or(DrillError::NotConfigured)?;
    let at_dr = match opts.site {
        Site::Primary => None,
        Site::Dr => Some(configured.at_dr_site().ok_or(DrillError::NoDrTarget)?),
    };
    let cfg = at_dr.as_ref().unwrap_or(configured);
    let started = Utc::now();
    let primary = input.scenario.aws.primary_region.clone();
    let region = match opts.site {
        Site::Primary => primary.clone(),
        Site::Dr => input.scenario.aws.dr_region.clone(),
    };
    let mut f = Findings::new();
    let discovered = continuity::discover(input, &mut f).await;
    let dr_vaults = match opts.site {
        Site::Primary => Vec::new(),
        Site::Dr => match crate::probes::backup::read_rules(input, &primary, &mut f, input.now.date_naive()).await {
            Some(rules) => continuity::dr_vaults(&rules, &region),
            None => Vec::new(),
        },
    };
    let mut problems: Vec<String> = f.evidence().iter().filter(|e| e.status == EvidenceStatus::Error).map(|e| e.detail.en.clone()).collect();
    let wanted: BTreeSet<&str> = cfg.resources.iter().map(String::as_str).collect();
    let mut targets = Vec::new();
    let mut not_drilled = Vec::new();
    for r in &discovered {
        if !wanted.is_empty() && !wanted.contains(r.arn.as_str()) {
            not_drilled.push(NotDrilled { arn: r.arn.clone(), reason: "not in [continuity.drill] resources".to_string(), unmeasured: false });
        } else if Kind::from_arn(&r.arn).is_none() {
            let reason = format!("type {} cannot be drilled (the drill restores only {})", r.backup_type(), kinds::SUPPORTED);
            not_drilled.push(NotDrilled { arn: r.arn.clone(), reason, unmeasured: true });
        } else {
            targets.push(r.clone());
        }
    }
    if opts.site == Site::Dr && dr_vaults.is_empty() && !f.has(EvidenceStatus::Error) {
        problems.push(format!("no backup rule copies to a vault in the DR region {region}: there is nothing to rebuild from"));
    }
    for arn in wanted.iter().filter(|a| !discovered.iter().any(|r| r.arn == **a)) {
        problems.push(format!("{arn} is in [continuity.drill] resources but not found in scope"));
    }
    let journal = Journal::new(&opts.state_dir, &opts.drill_id);
    let checker = if cfg.health_checks.is_empty() {
        None
    } else {
        match Checker::new() {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(format!("health checks cannot run: {e}"));
                None
            }
        }
    };
    if opts.site == Site::Dr && dr_vaults.is_empty() {
        targets.clear();
    }
    let ctx = Ctx { input, cfg, opts, region: region.clone(), dr_vaults, journal: Mutex::new(journal), checker, progress };
    progress(format!("restore drill {} in {region}: {} resource(s), generation {}", opts.drill_id, targets.len(), opts.generation));
    let resources = join_all(targets.iter().enumerate().map(|(i, r)| one(&ctx, i, r, cancel.clone()))).await;
    Ok(DrillReport {
        drill_id: opts.drill_id.clone(),
        region,
        site: opts.site,
        generation: opts.generation,
        started,
        finished: Utc::now(),
        interrupted: cancel.interrupted(),
        resources,
        not_drilled,
        problems,
        emulated: input.scenario.aws.endpoint_url.is_some(),
    })
}

/// Restore, measure and delete one resource.
async fn one(ctx: &Ctx<'_>, index: usize, r: &Resource, mut cancel: Cancel) -> DrillResource {
    let mut out = DrillResource::new(r);
    let Some(kind) = Kind::from_arn(&r.arn) else { return out };
    let region = ctx.region.as_str();
    let backup = ctx.input.aws.backup(region);
    let say = |m: String| (ctx.progress)(format!("{}: {m}", r.name));

    // 1. The recovery point of the generation asked for (in the DR vaults for
    //    `--site dr`) and its restore metadata.
    let mut f = Findings::new();
    let listed = match ctx.opts.site {
        Site::Primary => points::by_resource(&backup, region, &r.arn, &mut f).await,
        Site::Dr => {
            let mut all = Some(Vec::new());
            for v in &ctx.dr_vaults {
                match (points::in_vault(&backup, region, v, Some(&r.arn), &mut f).await, all.as_mut()) {
                    (Some(list), Some(acc)) => acc.extend(list),
                    _ => all = None,
                }
            }
            all
        }
    };
    let Some(list) = listed else {
        out.detail = f.evidence().iter().map(|e| e.detail.en.clone()).collect::<Vec<_>>().join("; ");
        return out;
    };
    out.usable_points = Some(list.iter().filter(|p| p.usable()).count());
    let Some(point) = points::generation(&list, ctx.opts.generation) else {
        out.detail = if list.iter().any(|p| p.usable()) {
            format!("no generation {} in {region}: {}", ctx.opts.generation, points::census(&list))
        } else {
            format!("no usable recovery point in {region} ({})", points::census(&list))
        };
        return out;
    };
    out.recovery_point = Some(point.arn.clone());
    out.point_created = Some(point.created);
    let original = match backup.get_recovery_point_restore_metadata().backup_vault_name(&point.vault).recovery_point_arn(&point.arn).send().await {
        Ok(o) => o.restore_metadata().cloned().unwrap_or_default(),
        Err(e) => {
            out.detail = failure_reason("backup:GetRecoveryPointRestoreMetadata", &e);
            return out;
        }
    };
    let copy_name = format!("{}-{index}", ctx.opts.drill_id);
    let metadata = match kinds::restore_metadata(kind, &original, ctx.cfg, &copy_name) {
        Ok(m) => m,
        Err(why) => {
            out.detail = why;
            return out;
        }
    };
    if cancel.interrupted() {
        out.detail = "interrupted before the restore started".into();
        return out;
    }

    // 2. Start; the journal has the job before anything can exist.
    let start = backup
        .start_restore_job()
        .recovery_point_arn(&point.arn)
        .set_metadata(Some(metadata))
        .iam_role_arn(&ctx.cfg.iam_role_arn)
        .resource_type(kind.backup_type())
        .idempotency_token(&copy_name)
        .send()
        .await;
    let job_id = match start.map(|o| o.restore_job_id().map(str::to_string)) {
        Ok(Some(id)) => id,
        Ok(None) => {
            out.detail = "StartRestoreJob returned no job ID".into();
            return out;
        }
        Err(e) => {
            out.detail = failure_reason("backup:StartRestoreJob", &e);
            return out;
        }
    };
    out.job_id = Some(job_id.clone());
    ctx.journal(|j| j.add(Entry { source_arn: r.arn.clone(), job_id: job_id.clone(), region: region.to_string(), created_arn: None, cleaned: false }));
    say(format!("restore job {job_id} started from {}", point.arn));

    // 3. Wait for the job. After the first Ctrl-C keep waiting: the copy must be deleted.
    let waited = Instant::now();
    let mut read_errors = 0;
    loop {
        match backup.describe_restore_job().restore_job_id(&job_id).send().await {
            Ok(o) => {
                read_errors = 0;
                let status = o.status().map(|s| s.as_str().to_string()).unwrap_or_default();
                out.created_arn = o.created_resource_arn().filter(|a| !a.is_empty()).map(str::to_string);
                match status.as_str() {
                    "COMPLETED" => {
                        out.restore_secs = match (continuity::ts(o.creation_date()), continuity::ts(o.completion_date())) {
                            (Some(c), Some(d)) => Some((d - c).num_seconds()),
                            _ => None,
                        };
                        if out.created_arn.is_none() {
                            out.stage = Stage::RestoreFailed;
                            out.detail = "restore job COMPLETED without a created resource ARN".into();
                        }
                        break;
                    }
                    "FAILED" | "ABORTED" => {
                        out.stage = Stage::RestoreFailed;
                        out.detail = format!("restore job {job_id} {status}: {}", o.status_message().unwrap_or("-"));
                        break;
                    }
                    _ => say(format!("restore job {job_id} {status} {} ({}s)", o.percent_done().unwrap_or(""), waited.elapsed().as_secs())),
                }
            }
            Err(e) => {
                read_errors += 1;
                out.detail = failure_reason("backup:DescribeRestoreJob", &e);
                if read_errors >= 5 {
                    out.stage = Stage::Interrupted;
                    out.cleanup = CleanupState::Pending(format!("cannot read restore job {job_id} ({}): run `cargo xtask drill cleanup`", out.detail));
                    return out;
                }
            }
        }
        if cancel.abandoned() || waited.elapsed() >= ctx.opts.restore_timeout {
            let (stage, why) = if cancel.abandoned() {
                (Stage::Interrupted, "abandoned by a second Ctrl-C".to_string())
            } else {
                (Stage::TimedOut, format!("not finished after {} min", ctx.opts.restore_timeout.as_secs() / 60))
            };
            out.stage = stage;
            out.waited_secs = Some(waited.elapsed().as_secs() as i64);
            out.detail = format!("restore job {job_id} {why}");
            // AWS Backup cannot stop a restore job; whatever it creates is for `drill cleanup`.
            out.cleanup = CleanupState::Pending(format!("restore job {job_id} may still create a copy: run `cargo xtask drill cleanup` once it ends"));
            return out;
        }
        cancel.sleep_unless(ctx.opts.poll, 2).await;
    }
    let seen_done = Instant::now();
    let Some(created) = out.created_arn.clone() else {
        ctx.journal(|j| j.update(&job_id, |e| e.cleaned = true));
        return out;
    };
    ctx.journal(|j| j.update(&job_id, |e| e.created_arn = Some(created.clone())));
    if let Err(why) = kinds::tag(&ctx.input.aws, kind, &created, &ctx.opts.drill_id).await {
        tracing::warn!(%created, %why, "could not tag the drill copy (the journal still has it)");
    }
    if out.stage != Stage::RestoreFailed {
        say(format!("restored as {created} in {}s; waiting for it to be healthy", out.restore_secs.unwrap_or(-1)));
        let vars = health(ctx, kind, &created, seen_done, &mut cancel, &mut out).await;
        if let (Some(vars), Some(db)) = (vars, ctx.input.scenario.database.as_ref()) {
            validate_data(ctx, db, &vars, &mut out).await;
        }
    }

    // 4. Always delete.
    out.cleanup = match kinds::delete(&ctx.input.aws, kind, &created).await {
        Ok(done) => {
            ctx.journal(|j| j.update(&job_id, |e| e.cleaned = true));
            say(done.clone());
            CleanupState::Deleted(done)
        }
        Err(why) => CleanupState::Failed(format!("{created} NOT deleted: {why}; run `cargo xtask drill cleanup`")),
    };
    out
}

/// Placeholders each type provides for health checks.
fn placeholders(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Ec2 => &["private_ip"],
        Kind::Rds | Kind::Aurora => &["endpoint", "port"],
        Kind::Ebs => &[],
    }
}

/// A check applies to a copy when every placeholder it uses is one the copy's type provides.
fn applies(check: &AvailabilityTarget, kind: Kind) -> bool {
    const ALL: [&str; 3] = ["private_ip", "endpoint", "port"];
    let text = [&check.url, &check.tcp, &check.base_url].into_iter().flatten().cloned().collect::<Vec<_>>().join(" ");
    ALL.iter().filter(|p| text.contains(&format!("{{{p}}}"))).all(|p| placeholders(kind).contains(p))
}

/// A healthy database copy is read with the validation queries before it is deleted.
async fn validate_data(ctx: &Ctx<'_>, db: &gcverify_scenarios::Database, vars: &HashMap<&'static str, String>, out: &mut DrillResource) {
    let checks = &ctx.cfg.validations;
    let Some(host) = vars.get("endpoint").filter(|_| !checks.is_empty()) else { return };
    let port = vars.get("port").and_then(|p| p.parse().ok());
    (ctx.progress)(format!("{}: validating the restored data ({} quer(ies))", out.name, checks.len()));
    out.validation = crate::probes::sql::restore::validate(db, host, port, checks, out.point_created, &ctx.input.aws).await;
}

/// Poll until AWS reports the copy up and every applicable health check
/// passes; the copy's values (endpoint, port, private IP) once it is healthy.
async fn health(
    ctx: &Ctx<'_>,
    kind: Kind,
    created: &str,
    seen_done: Instant,
    cancel: &mut Cancel,
    out: &mut DrillResource,
) -> Option<HashMap<&'static str, String>> {
    let checks: Vec<&AvailabilityTarget> = ctx.cfg.health_checks.iter().filter(|c| applies(c, kind)).collect();
    out.health_checks = checks.len();
    let mut last = String::from("not checked");
    loop {
        if cancel.interrupted() {
            out.stage = Stage::Interrupted;
            out.detail = format!("interrupted while waiting for health (last: {last})");
            return None;
        }
        match kinds::ready(&ctx.input.aws, kind, created).await {
            Ok(Ready::Yes(vars)) => match run_checks(ctx, &checks, &vars).await {
                Ok(passed) => {
                    out.stage = Stage::Healthy;
                    out.health_secs = Some(seen_done.elapsed().as_secs() as i64);
                    out.detail = passed;
                    return Some(vars);
                }
                Err(why) => last = why,
            },
            Ok(Ready::NotYet(state)) => last = state,
            Err(why) => last = why,
        }
        if seen_done.elapsed() >= ctx.opts.health_timeout {
            out.stage = Stage::Unhealthy;
            out.health_secs = Some(seen_done.elapsed().as_secs() as i64);
            out.detail = format!("not healthy after {} min: {last}", ctx.opts.health_timeout.as_secs() / 60);
            return None;
        }
        (ctx.progress)(format!("{}: waiting for health: {last}", out.name));
        cancel.sleep_unless(ctx.opts.poll, 1).await;
    }
}

fn fill(template: &str, vars: &HashMap<&'static str, String>) -> String {
    vars.iter().fold(template.to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
}

/// Every applicable check once; `Ok` describes what passed.
async fn run_checks(ctx: &Ctx<'_>, checks: &[&AvailabilityTarget], vars: &HashMap<&'static str, String>) -> Result<String, String> {
    let mut passed = vec!["AWS reports it available".to_string()];
    let base_dir = ctx.input.scenario.path().and_then(|p| p.parent()).map(PathBuf::from).unwrap_or_default();
    for c in checks {
        let mut t = (*c).clone();
        for field in [&mut t.url, &mut t.tcp, &mut t.base_url].into_iter().flatten() {
            *field = fill(field, vars);
        }
        let target = Target::from_config(&t, &base_dir).map_err(|e| format!("health check: {e}"))?;
        let Some(checker) = &ctx.checker else { return Err("health checks cannot run (no HTTP client)".into()) };
        let o = checker.run(&target.check).await;
        if !o.ok {
            return Err(format!("health check `{}` failed: {}", c.name, o.detail.unwrap_or_default()));
        }
        passed.push(format!("`{}` passed", c.name));
    }
    Ok(passed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        let vars = HashMap::from([("private_ip", "10.9.0.4".to_string())]);
        assert_eq!(fill("http://{private_ip}:8080/health", &vars), "http://10.9.0.4:8080/health");
    }

    #[test]
    fn checks_apply_by_the_placeholders_they_use() {
        let t = |url: &str| -> AvailabilityTarget { toml::from_str(&format!("name = \"x\"\nurl = \"{url}\"")).expect("target") };
        assert!(applies(&t("http://{private_ip}/"), Kind::Ec2));
        assert!(!applies(&t("http://{private_ip}/"), Kind::Rds));
        assert!(applies(&t("http://{endpoint}:{port}/"), Kind::Aurora));
        assert!(!applies(&t("http://{endpoint}/"), Kind::Ebs));
        assert!(applies(&t("https://drill-lb.example.jp/health"), Kind::Ebs));
    }
}
