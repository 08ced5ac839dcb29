//! `verify --fleet NAME`: every environment of `scenarios/fleets/NAME.toml`
//! at once — bounded by `--jobs`, each account's AWS calls bounded by
//! `--account-calls` — one environment's failure never stopping the others;
//! per environment the usual reports under `<out>/<fleet>/<env>/`, then the
//! fleet summary (matrix, fleet.json, fleet.xlsx). `report --merge` builds
//! the same summary from the shards of `--shard i/n` runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use gcverify_checks::aws::AwsContext;
use gcverify_checks::aws_calls::CallLimit;
use gcverify_checks::model::{exit_code, Lang, Outcome};
use gcverify_checks::{Catalog, Msg, RunOptions};
use gcverify_reports::fleet::{self, FleetSummary, MemberSummary, SeparationRow};
use gcverify_reports::Format;
use gcverify_scenarios::Member;

use crate::cli::{FailOn, OutputArgs};
use crate::verify::config_err;

/// How a fleet run is shaped (from the command line).
#[derive(Debug, Clone)]
pub struct FleetRun {
    pub fleet: String,
    pub jobs: usize,
    pub account_calls: usize,
    pub shard: Option<String>,
}

/// `--fleet NAME` (scenarios/fleets/NAME.toml) or a path to a fleet file.
pub fn fleet_path(name: &str) -> Result<PathBuf> {
    let as_path = PathBuf::from(name);
    if name.ends_with(".toml") || name.contains('/') {
        return if as_path.is_file() { Ok(as_path) } else { Err(config_err(format!("{name}: no such fleet file"))) };
    }
    let dir = crate::home::scenarios_dir();
    let p = gcverify_scenarios::fleet::fleet_path(&dir, name);
    if p.is_file() {
        return Ok(p);
    }
    let available: Vec<String> = std::fs::read_dir(dir.join("fleets"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    Err(config_err(format!("{}: no such fleet for --fleet {name} (available: {})", p.display(), available.join(", "))))
}

/// Load the fleet, validated, and the members of this shard.
pub fn load(run: &FleetRun, catalog: &Catalog) -> Result<(gcverify_scenarios::Fleet, Vec<Member>)> {
    let path = fleet_path(&run.fleet)?;
    let fleet = gcverify_checks::load_fleet(&path, catalog).map_err(|e| config_err(e.to_string()))?;
    if let Some(m) = fleet.members.iter().find(|m| m.scenario.demo.is_some()) {
        return Err(config_err(format!(
            "{}: environment `{}` is a demo scenario ([demo] starts its own emulator); a fleet's base sets [aws] endpoint_url or uses real accounts",
            path.display(),
            m.name
        )));
    }
    let members: Vec<Member> = match &run.shard {
        Some(text) => {
            let (i, n) = gcverify_scenarios::fleet::parse_shard(text).map_err(config_err)?;
            fleet.shard(i, n).into_iter().cloned().collect()
        }
        None => fleet.members.clone(),
    };
    Ok((fleet, members))
}

/// Which account an environment's calls count against: the role's account,
/// else its profile, else the default chain's (共同利用 members share one).
fn account_key(m: &Member) -> String {
    let aws = &m.scenario.aws;
    if let Some(account) = aws.role_arn.as_deref().and_then(gcverify_checks::aws::account_of_arn) {
        return format!("account:{account}@{}", aws.endpoint_url.as_deref().unwrap_or("aws"));
    }
    format!("profile:{}@{}", aws.profile.as_deref().unwrap_or("default"), aws.endpoint_url.as_deref().unwrap_or("aws"))
}

/// What each environment does with its result beside writing it: history and 前回比.
#[derive(Debug, Clone)]
struct Keep {
    compare_last: bool,
    fail_on: FailOn,
    keep_history: usize,
    /// `--run-by` for every environment (else each one's STS caller, else the OS user).
    run_by: Option<String>,
}

pub async fn verify_fleet(run: FleetRun, formats: Vec<Format>, output: &OutputArgs) -> Result<i32> {
    let (only, out, lang) = (output.only.clone(), output.out.clone(), Lang::from(output.lang));
    let keep = Keep { compare_last: output.compare.is_some(), fail_on: output.fail_on, keep_history: output.keep_history, run_by: output.run_by.clone() };
    if output.compare.as_deref().is_some_and(|c| c != "last") {
        return Err(config_err("--compare with --fleet takes `last` (each environment against its own history); compare two runs with `report --diff`"));
    }
    let catalog = Arc::new(Catalog::builtin());
    let (fleet, members) = load(&run, &catalog)?;
    let fleet_dir = out.unwrap_or_else(crate::home::out_base).join(&fleet.name);
    // As a single verify's preflight: an unwritable output is exit 3 before any account is probed.
    crate::preflight::check_out_writable(&fleet_dir, lang)?;
    std::fs::create_dir_all(&fleet_dir).with_context(|| format!("creating {}", fleet_dir.display()))?;
    let items: Vec<String> = catalog.items().iter().map(|i| i.id.clone()).filter(|id| only.as_ref().is_none_or(|o| o.contains(id))).collect();
    let total = members.len();
    eprintln!(
        "gcverify: fleet {} — {total} environment(s){}, {} at once, at most {} AWS call(s) in flight per account",
        fleet.name,
        run.shard.as_ref().map(|s| format!(" (shard {s})")).unwrap_or_default(),
        run.jobs,
        run.account_calls
    );

    let groups = separation_groups(&fleet, &members);
    let mut limits: HashMap<String, CallLimit> = HashMap::new();
    // At most `jobs` environments are spawned at a time: a queued task holds its scenario and
    // SDK clients, so spawning all of a 1,000-environment fleet at once grew peak RSS with N.
    let jobs = run.jobs.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    let mut names = HashMap::new();
    let started = Instant::now();
    let mut summaries: Vec<MemberSummary> = Vec::with_capacity(total);
    let mut members = members.into_iter();
    loop {
        while tasks.len() < jobs {
            let Some(m) = members.next() else { break };
            let limit = limits.entry(account_key(&m)).or_insert_with(|| CallLimit::new(run.account_calls)).clone();
            let (catalog, formats, only, dir, keep) = (catalog.clone(), formats.clone(), only.clone(), fleet_dir.join(&m.name), keep.clone());
            let name = m.name.clone();
            let handle = tasks.spawn(async move { verify_member(m, &catalog, limit, &formats, only, &dir, lang, &keep).await });
            names.insert(handle.id(), name);
        }
        let Some(joined) = tasks.join_next_with_id().await else { break };
        let summary = match joined {
            Ok((id, s)) => {
                names.remove(&id);
                s
            }
            Err(e) => {
                // A crashed environment is recorded, not lost: every row 検証不能.
                let name = names.remove(&e.id()).unwrap_or_default();
                crashed(&name, &items, &format!("the environment's run crashed: {e}"))
            }
        };
        eprintln!("{}", progress_line(summaries.len() + 1, total, &summary, lang));
        summaries.push(summary);
    }
    // 団体間のデータ分離: after the members, whatever their own runs gave.
    let mut separation = Vec::new();
    for (group, group_members) in &groups {
        separation.push(separation_row(group, group_members, &mut limits, run.account_calls).await);
    }
    let summary = FleetSummary::new(&fleet.name, run.shard.clone(), items, summaries, separation);
    write_summary(&summary, &formats, &fleet_dir, lang)?;
    eprintln!("gcverify: fleet {} done in {:.1}s", fleet.name, started.elapsed().as_secs_f64());
    Ok(summary.exit_code())
}

/// The 共同利用 groups (`shared`, ≥ 2 members) whose separation row this run
/// makes: every group of the fleet whose first member by name is in this
/// shard (so a group split over shards is checked once, and `report --merge`
/// gathers the rows from the shards).
fn separation_groups(fleet: &gcverify_scenarios::Fleet, shard: &[Member]) -> Vec<(String, Vec<Member>)> {
    let mut groups: std::collections::BTreeMap<String, Vec<Member>> = std::collections::BTreeMap::new();
    for m in &fleet.members {
        if let Some(g) = &m.shared {
            groups.entry(g.clone()).or_default().push(m.clone());
        }
    }
    groups
        .into_iter()
        .filter_map(|(g, mut ms)| {
            ms.sort_by(|a, b| a.name.cmp(&b.name));
            if ms.len() < 2 {
                tracing::warn!(group = %g, "共同利用 group with one environment: no separation to verify");
                return None;
            }
            let first = ms.first().map(|m| m.name.clone()).unwrap_or_default();
            shard.iter().any(|m| m.name == first).then_some((g, ms))
        })
        .collect()
}

/// One group's supplementary row: each member with its own AWS access (its
/// account's call limit) and its scenario's `[separation]`.
async fn separation_row(group: &str, members: &[Member], limits: &mut HashMap<String, CallLimit>, account_calls: usize) -> SeparationRow {
    let mut parties = Vec::with_capacity(members.len());
    for m in members {
        let limit = limits.entry(account_key(m)).or_insert_with(|| CallLimit::new(account_calls)).clone();
        let aws = Arc::new(AwsContext::load_limited(&m.scenario.aws, Some(&limit)).await);
        parties.push(gcverify_checks::separation::Party {
            name: m.name.clone(),
            municipality: m.municipality.clone(),
            scenario: Arc::new(m.scenario.clone()),
            aws,
        });
    }
    let r = gcverify_checks::separation::check_group(group, &parties).await;
    let observations = r.observations();
    eprintln!("gcverify: 団体間のデータ分離 [{group}] {} ({} pair(s) and path(s))", r.outcome.label(Lang::Ja), observations.len());
    SeparationRow { group: r.group, outcome: r.outcome, summary: r.summary.ja, summary_en: r.summary.en, observations }
}

/// One environment: connect, check the credentials work, run, write, summarise.
#[allow(clippy::too_many_arguments)] // one environment's whole context; a struct would only rename it
async fn verify_member(
    m: Member,
    catalog: &Catalog,
    limit: CallLimit,
    formats: &[Format],
    only: Option<Vec<String>>,
    dir: &Path,
    lang: Lang,
    keep: &Keep,
) -> MemberSummary {
    let Member { name, shared, mut scenario, .. } = m;
    let items: Vec<String> = catalog.items().iter().map(|i| i.id.clone()).filter(|id| only.as_ref().is_none_or(|o| o.contains(id))).collect();
    if let Err(e) = crate::load::prepare(&mut scenario, dir).await {
        return crashed(&name, &items, &format!("preparing the load target: {e:#}"));
    }
    let baseline = match crate::verify::baseline(keep.compare_last.then_some("last"), dir, &scenario.environment.name, "") {
        Ok(b) => b,
        Err(e) => return crashed(&name, &items, &format!("reading its history: {e:#}")),
    };
    let aws = Arc::new(AwsContext::load_limited(&scenario.aws, Some(&limit)).await);
    let identity = crate::verify::identify(&aws, &scenario.aws.primary_region).await;
    let (account, unreachable) = match &identity {
        Ok(id) => (id.account_id.clone(), None),
        Err(why) => (None, Some(why.clone())),
    };
    let mut opts = RunOptions::from_scenario(&scenario);
    if only.is_some() {
        opts.only = only;
    }
    opts.unreachable = unreachable.as_ref().map(|why| {
        Msg::new(
            format!("検証不能: この環境のAWSアカウントに接続できない（{why}）"),
            format!("could not verify: the environment's AWS account cannot be used ({why})"),
        )
    });
    let mut report = gcverify_checks::run(catalog, Arc::new(scenario), aws.clone(), opts, &|_| {}).await;
    crate::verify::record_identity(&mut report, &identity);
    report.run_by = crate::verify::run_by(keep.run_by.as_deref(), report.target.caller_arn.as_deref(), crate::verify::os_user);
    crate::verify::attach_comparison(&mut report, &baseline);
    let mut summary = MemberSummary::from_report(&report, shared, account, unreachable, aws.throttled());
    summary.exit_code = crate::verify::exit_code_for(&report, keep.fail_on);
    // Streamed: the report goes to disk here and only its summary is kept.
    let written = gcverify_reports::write_files(&report, catalog, formats, dir, lang)
        .and_then(|_| gcverify_reports::history::record(&report, catalog, dir, keep.keep_history).map(drop));
    if let Err(e) = written {
        summary.unreachable = Some(format!("writing its reports to {} failed: {e:#}", dir.display()));
        summary.exit_code = exit_code::FAILURE;
    }
    summary
}

/// The line of an environment that never produced a report.
fn crashed(name: &str, items: &[String], why: &str) -> MemberSummary {
    MemberSummary {
        name: name.to_string(),
        municipality: String::new(),
        system: String::new(),
        shared: None,
        account: None,
        unreachable: Some(why.to_string()),
        throttled: 0,
        outcomes: items.iter().map(|i| (i.clone(), Outcome::Error)).collect(),
        findings: items.iter().map(|i| (i.clone(), (format!("検証不能: {why}"), format!("could not verify: {why}")))).collect(),
        dir: name.to_string(),
        exit_code: exit_code::FAILURE,
    }
}

fn progress_line(done: usize, total: usize, s: &MemberSummary, lang: Lang) -> String {
    let c = |o| s.count(o);
    let mut line = format!(
        "[{done}/{total}] {}: OK {} / NG {} / {} {} / {} {} / {} {}",
        s.name,
        c(Outcome::Ok),
        c(Outcome::Ng),
        Outcome::Error.label(lang),
        c(Outcome::Error),
        Outcome::Pending.label(lang),
        c(Outcome::Pending),
        Outcome::NotApplicable.label(lang),
        c(Outcome::NotApplicable)
    );
    if s.throttled > 0 {
        line.push_str(&if lang == Lang::Ja { format!(" — 抑制 {}回", s.throttled) } else { format!(" — throttled {}", s.throttled) });
    }
    if let Some(why) = &s.unreachable {
        line.push_str(&format!(" — {}: {why}", if lang == Lang::Ja { "接続不可" } else { "unreachable" }));
    }
    line
}

/// The fleet's matrix (table), fleet.json (always: shards merge from it) and fleet.xlsx.
fn write_summary(summary: &FleetSummary, formats: &[Format], dir: &Path, lang: Lang) -> Result<()> {
    if formats.contains(&Format::Table) {
        println!("{}", fleet::render_matrix(summary, lang));
    }
    eprintln!("gcverify: wrote {}", fleet::write_fleet_json(summary, dir)?.display());
    if formats.contains(&Format::Xlsx) {
        eprintln!("gcverify: wrote {}", fleet::write_fleet_xlsx(summary, dir, lang)?.display());
    }
    Ok(())
}

/// `report --merge DIR...`: the shards' fleet.json files as one summary,
/// written to `--out` (default: the first DIR).
pub fn merge(dirs: &[PathBuf], formats: &[Format], out: Option<PathBuf>, lang: Lang) -> Result<i32> {
    let mut parts = Vec::new();
    for d in dirs {
        let file = if d.is_file() { d.clone() } else { d.join(fleet::FLEET_JSON) };
        parts.push(fleet::read_fleet_json(&file).map_err(|e| config_err(format!("--merge: {e:#}")))?);
    }
    let summary = FleetSummary::merge(parts).map_err(|e| config_err(format!("--merge: {e:#}")))?;
    let out =
        out.or_else(|| dirs.first().map(|d| if d.is_file() { d.parent().map(Path::to_path_buf).unwrap_or_default() } else { d.clone() })).unwrap_or_default();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    write_summary(&summary, formats, &out, lang)?;
    Ok(summary.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_fleet_loads_and_validates() {
        let run = FleetRun { fleet: "juki-asp.example".into(), jobs: 1, account_calls: 1, shard: None };
        let (fleet, members) = load(&run, &Catalog::builtin()).expect("scenarios/fleets/juki-asp.example.toml is valid");
        assert_eq!(fleet.name, "juki-asp");
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a-city", "b-town", "c-village", "d-village"]);
        assert_eq!(account_key(&members[2]), account_key(&members[3]), "共同利用 members share the account's call limit");
        assert_ne!(account_key(&members[0]), account_key(&members[1]));
        let shard = load(&FleetRun { shard: Some("2/2".into()), ..run.clone() }, &Catalog::builtin()).expect("shard").1;
        assert_eq!(shard.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["b-town", "d-village"]);
        // kyodo-east (c-village, d-village) is split over two shards: the one holding c-village checks it.
        let first = load(&FleetRun { shard: Some("1/2".into()), ..run.clone() }, &Catalog::builtin()).expect("shard 1").1;
        let groups = |ms: &[Member]| separation_groups(&fleet, ms).into_iter().map(|(g, ms)| (g, ms.len())).collect::<Vec<_>>();
        assert_eq!(groups(&first), [("kyodo-east".to_string(), 2)]);
        assert!(groups(&shard).is_empty());
        assert_eq!(groups(&members), [("kyodo-east".to_string(), 2)]);
    }
}
