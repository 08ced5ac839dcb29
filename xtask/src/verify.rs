//! `verify`: scenario → (demo emulator) → engine → reports → exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use gcverify_checks::aws::AwsContext;
use gcverify_checks::catalog::RowVerifier;
use gcverify_checks::model::{Lang, Outcome};
use gcverify_checks::{Catalog, Progress, RunOptions};
use gcverify_reports::Format;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{repo_root, FailOn, VerifyArgs};

/// Bad input: exit code 3, nothing written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

pub(crate) fn config_err(msg: impl Into<String>) -> anyhow::Error {
    ConfigError(msg.into()).into()
}

/// `--scenario PATH` or `--env NAME` (scenarios/NAME.toml) → the scenario file.
pub fn scenario_path(env: Option<&str>, scenario: Option<&PathBuf>) -> Result<PathBuf> {
    let dir = crate::home::scenarios_dir();
    match (scenario, env) {
        (Some(p), _) => Ok(p.clone()),
        (None, Some(env)) => {
            let p = gcverify_scenarios::env_path(&dir, env);
            // The demo's scenarios come with the tool: `gcverify demo` works in any folder.
            let bundled = gcverify_scenarios::env_path(&crate::home::bundled_scenarios_dir(), env);
            if p.is_file() {
                Ok(p)
            } else if env.starts_with("demo") && bundled.is_file() {
                Ok(bundled)
            } else {
                let available = gcverify_scenarios::available_envs(&dir).join(", ");
                Err(config_err(crate::output::say(
                    crate::home::message_lang(),
                    format!("{}: --env {env} のシナリオがありません（あるもの / available: {available}）", p.display()),
                    format!("{}: no such scenario for --env {env} (available: {available})", p.display()),
                )))
            }
        }
        (None, None) => Err(config_err("give --env NAME or --scenario PATH")),
    }
}

/// The AWS the scenario points at. Demo scenarios bring their own: a local
/// emulator, started and seeded here (kept alive by the returned server).
pub(crate) async fn connect(scenario: &mut gcverify_scenarios::Scenario, root: &Path) -> Result<(AwsContext, Option<gcverify_demo::MotoServer>)> {
    match (&scenario.demo, &scenario.aws.endpoint_url) {
        (Some(demo), None) => {
            let exe = match gcverify_demo::find_moto_server(root) {
                Some(exe) => exe,
                None => gcverify_demo::ensure_venv(root).context("installing the demo emulator")?,
            };
            let lang = crate::home::message_lang();
            eprintln!(
                "gcverify: {}",
                crate::output::say(lang, "デモ用のローカル AWS エミュレータ（moto）を起動中 …", "starting the local AWS emulator (moto) for the demo ...")
            );
            let server = gcverify_demo::MotoServer::start(&exe).await.context("starting moto")?;
            let compliant = demo.seed == gcverify_scenarios::DemoSeed::Compliant;
            gcverify_demo::seed(&server.endpoint(), compliant).await.context("seeding the demo environment")?;
            eprintln!(
                "gcverify: {}",
                crate::output::say(
                    lang,
                    format!("{}住民記録システムの環境を {} に用意しました", if compliant { "基準に適合した" } else { "違反を仕込んだ" }, server.endpoint()),
                    format!("seeded a {} 住民記録 environment at {}", if compliant { "compliant" } else { "non-compliant" }, server.endpoint())
                )
            );
            scenario.aws.endpoint_url = Some(server.endpoint());
            let ctx = AwsContext::from_config(gcverify_demo::seed::emulator_config(&server.endpoint(), &scenario.aws.primary_region), true);
            Ok((ctx, Some(server)))
        }
        _ => Ok((AwsContext::load(&scenario.aws).await, None)),
    }
}

/// Who the run verifies as (STS GetCallerIdentity), within 30 s.
pub(crate) async fn identify(aws: &AwsContext, region: &str) -> Result<gcverify_checks::aws::Identity, String> {
    match tokio::time::timeout(std::time::Duration::from_secs(30), aws.caller_identity(region)).await {
        Ok(r) => r,
        Err(_) => Err("sts:GetCallerIdentity: no answer within 30 s".to_string()),
    }
}

/// The caller in the report's target, or a warning saying why there is none.
pub(crate) fn record_identity(report: &mut gcverify_checks::RunReport, identity: &Result<gcverify_checks::aws::Identity, String>) {
    match identity {
        Ok(id) => {
            report.target.account_id = id.account_id.clone();
            report.target.caller_arn = id.caller_arn.clone();
            report.target.partition = id.partition.clone();
        }
        Err(why) => report.warnings.push(gcverify_checks::Msg::new(
            format!("呼び出し元の確認（STS GetCallerIdentity）に失敗: {why}。アカウントIDは記録なし"),
            format!("could not identify the caller (STS GetCallerIdentity): {why}; no account ID recorded"),
        )),
    }
}

/// `--format a,b` → formats (a config error names the bad one).
pub(crate) fn parse_formats(names: &[String]) -> Result<Vec<Format>> {
    names.iter().map(|f| f.parse::<Format>().map_err(|e| config_err(format!("--format: {e}")))).collect()
}

/// `--only`'s item IDs, each known to the catalog.
pub(crate) fn check_only(catalog: &Catalog, only: &Option<Vec<String>>) -> Result<()> {
    let unknown: Vec<&str> = only.iter().flatten().filter(|id| catalog.get(id).is_none()).map(String::as_str).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(config_err(format!("--only: unknown item ID(s) {} (run `cargo xtask catalog` for the list)", unknown.join(", "))))
    }
}

pub async fn verify(args: VerifyArgs) -> Result<i32> {
    let catalog = Catalog::builtin();
    let root = repo_root();
    let formats = parse_formats(&args.output.format)?;
    check_only(&catalog, &args.output.only)?;
    check_fail_on(&args.output)?;
    if let Some(fleet) = &args.fleet {
        let run =
            crate::fleet::FleetRun { fleet: fleet.clone(), jobs: args.jobs as usize, account_calls: args.account_calls as usize, shard: args.shard.clone() };
        return crate::fleet::verify_fleet(run, formats, &args.output).await;
    }
    let lang: Lang = args.output.lang.into();
    let path = scenario_path(args.env.as_deref(), args.scenario.as_ref())?;
    crate::preflight::check_scenario_size(&path, lang)?;
    let mut scenario = gcverify_checks::load_scenario(&path, &catalog).map_err(|e| config_err(e.to_string()))?;

    let mut opts = RunOptions::from_scenario(&scenario);
    if let Some(only) = &args.output.only {
        opts.only = Some(only.clone());
    }
    if args.restore_drill {
        crate::drill::check_runnable(&scenario, opts.only.as_deref(), args.site)?;
    }
    let mut drill_left_behind = false;
    let out_dir = args.output.out.clone().unwrap_or_else(|| default_out(&scenario.environment.name));
    // Read before the run: a wrong --compare is a config error, not a wasted run.
    let baseline = baseline(args.output.compare.as_deref(), &out_dir, &scenario.environment.name, "")?;
    // The preflight: nothing is probed until the output folder, the credentials and the endpoint are known good.
    let pre = crate::preflight::before_probes(&mut scenario, &out_dir, args.use_env_credentials, lang, &root).await?;
    let (aws, _moto) = (pre.aws, pre.moto);

    // Demo services start only when the run includes an item that reads them.
    let reads = |sections: &[&str]| {
        opts.only.as_ref().is_none_or(|only| sections.iter().any(|s| catalog.items_reading(s).iter().any(|id| only.iter().any(|o| o == id))))
    };
    // Demo: E.6.1.2's database point reads a throwaway PostgreSQL.
    let _demo_db = if args.restore_drill || reads(&["database", "integrations.process", "performance.metric"]) {
        crate::database::prepare_demo(&mut scenario).await?
    } else {
        None
    };
    // Demo: E.6.1.1's office endpoint is a local TLS server with a private CA.
    let _demo_tls = if reads(&["[transit]"]) { crate::tls_target::prepare_demo(&mut scenario).await? } else { None };
    // Demo: E.5.1.1's customer-side point logs in to a local site with TOTP (also C.4.5.1's partner).
    let _demo_login = if reads(&["[login]", "integrations"]) { crate::login_site::prepare_demo(&mut scenario, &root).await? } else { None };
    // B.2.1.4/B.2.1.5: histograms go next to the reports; demos get a local web target.
    let _web_target = crate::load::prepare(&mut scenario, &out_dir).await?;
    // Demo: A.1.5.1 is computed from a short history recorded for real now.
    let _availability_target = if reads(&["[availability]"]) { crate::availability::record_demo(&mut scenario, &path, &out_dir).await? } else { None };
    if _availability_target.is_some() {
        opts.now = chrono::Utc::now();
    }

    // Who the run verifies as, recorded in every report (the preflight asked already, except for the demo's emulator).
    let identity = match pre.identity {
        Some(id) => Ok(id),
        None => identify(&aws, &scenario.aws.primary_region).await,
    };
    let scenario = Arc::new(scenario);
    let aws = Arc::new(aws);
    if args.restore_drill {
        let report = crate::drill::run(scenario.clone(), aws.clone(), &out_dir, args.site, args.generation, _demo_db.as_ref()).await?;
        drill_left_behind = !report.left_behind().is_empty();
        opts.drill = Some(Arc::new(report));
    }
    let bar = progress_bar();
    let started = Instant::now();
    let on_progress = {
        let bar = bar.clone();
        move |p: Progress| match p {
            Progress::Planned { total } => bar.set_length(total as u64),
            Progress::Finished { id, outcome, done, .. } => {
                bar.set_position(done as u64);
                bar.set_message(format!("{id} {}", outcome.label(lang)));
            }
        }
    };
    let mut report = gcverify_checks::run(&catalog, scenario.clone(), aws, opts, &on_progress).await;
    bar.finish_and_clear();
    record_identity(&mut report, &identity);
    report.run_by = run_by(args.output.run_by.as_deref(), report.target.caller_arn.as_deref(), os_user);
    report.warnings.extend(pre.warnings);
    attach_comparison(&mut report, &baseline);
    drop(_moto);
    // Said before the table, so a wrong scope is read before its consequences.
    for w in &report.warnings {
        eprintln!("gcverify: {}: {}", if lang == Lang::Ja { "警告" } else { "warning" }, w.get(lang));
    }

    let color = !args.output.no_color && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if formats.iter().any(|f| matches!(f, Format::Table)) {
        let width = terminal_width();
        println!("{}", gcverify_reports::render_table_with(&report, lang, width, color, args.output.detail));
    }
    let written = crate::output::write_run_files(&report, &catalog, &formats, &out_dir, lang)?;
    for p in &written {
        eprintln!("gcverify: {}", crate::output::say(lang, format!("書き出し: {}", p.display()), format!("wrote {}", p.display())));
    }
    if let Some(kept) = gcverify_reports::history::record(&report, &catalog, &out_dir, args.output.keep_history)
        .with_context(|| format!("keeping the run in {}", gcverify_reports::history::dir(&out_dir).display()))?
    {
        eprintln!("gcverify: {}", crate::output::say(lang, format!("履歴に保存: {}", kept.display()), format!("kept {}", kept.display())));
    }
    let (n, secs) = (report.items.len(), started.elapsed().as_secs_f64());
    let [ok, ng, error, na, pending] = [Outcome::Ok, Outcome::Ng, Outcome::Error, Outcome::NotApplicable, Outcome::Pending].map(|o| report.count(o));
    eprintln!(
        "gcverify: {}",
        crate::output::say(
            lang,
            format!("{n} 項目 {secs:.1} 秒 — OK {ok} / NG {ng} / 検証不能 {error} / 対象外 {na} / 要確認 {pending}"),
            format!("{n} items in {secs:.1}s — OK {ok} / NG {ng} / ERROR {error} / N/A {na} / PENDING {pending}")
        )
    );
    let code = exit_code_for(&report, args.output.fail_on);
    // A copy the drill could not delete must not look like a clean run.
    Ok(if drill_left_behind { code.max(gcverify_checks::model::exit_code::INCOMPLETE) } else { code })
}

/// `check`: the preflight alone; 0 when a verify could start.
pub async fn check(args: crate::cli::CheckArgs) -> Result<i32> {
    let catalog = Catalog::builtin();
    let lang: Lang = args.lang.into();
    let path = scenario_path(args.env.as_deref(), args.scenario.as_ref())?;
    crate::preflight::check_scenario_size(&path, lang)?;
    let mut scenario = gcverify_checks::load_scenario(&path, &catalog).map_err(|e| config_err(e.to_string()))?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&scenario.environment.name));
    let pre = crate::preflight::before_probes(&mut scenario, &out, args.use_env_credentials, lang, &repo_root()).await?;
    if pre.identity.is_none() {
        let id = identify(&pre.aws, &scenario.aws.primary_region).await.map_err(crate::preflight::Unreachable)?;
        eprintln!(
            "gcverify: {}",
            crate::output::say(
                lang,
                format!("検証対象アカウント: {}", id.account_id.as_deref().unwrap_or("?")),
                format!("account verified: {}", id.account_id.as_deref().unwrap_or("?"))
            )
        );
    }
    println!(
        "{}",
        crate::output::say(
            lang,
            format!("事前確認 OK: {}（出力先 {}）。verify を実行できます", path.display(), out.display()),
            format!("preflight OK: {} (output {}); verify can run", path.display(), out.display())
        )
    );
    Ok(gcverify_checks::model::exit_code::ALL_OK)
}

/// Where a run's reports go without `--out`.
pub(crate) fn default_out(environment: &str) -> PathBuf {
    crate::home::default_out(environment)
}

/// `--fail-on new-ng` compares with something.
pub(crate) fn check_fail_on(output: &crate::cli::OutputArgs) -> Result<()> {
    if output.fail_on == FailOn::NewNg && output.compare.is_none() {
        return Err(config_err("--fail-on new-ng needs --compare last|PATH (what is new is new since a run)"));
    }
    Ok(())
}

/// The run's exit code: its worst row, or with `--fail-on new-ng` its regressions.
pub(crate) fn exit_code_for(report: &gcverify_checks::RunReport, fail_on: FailOn) -> i32 {
    match (fail_on, &report.comparison) {
        (FailOn::NewNg, Some(c)) => c.exit_code(),
        _ => report.exit_code(),
    }
}

/// A run compared with: the run, where it was read (shown in the 前回比), and
/// the runs of the environment before it in the history (newest first), so a
/// row back to its state before an NG reads as 「解消」.
pub(crate) struct Found {
    pub run: gcverify_checks::RunReport,
    pub source: String,
    pub earlier: Vec<gcverify_checks::RunReport>,
}

/// What `--compare` asked for, if anything (see [`baseline`]).
pub(crate) type Baseline = Option<Option<Found>>;

/// The 前回比 against `baseline` in the report, when one was asked for.
pub(crate) fn attach_comparison(report: &mut gcverify_checks::RunReport, baseline: &Baseline) {
    if let Some(found) = baseline {
        let earlier: Vec<&gcverify_checks::RunReport> = found.iter().flat_map(|f| f.earlier.iter()).collect();
        report.comparison = Some(gcverify_checks::comparison::compare_in_history(found.as_ref().map(|f| (&f.run, f.source.clone())), &earlier, report));
    }
}

/// `--compare`'s baseline: `None` when not asked; `Some(None)` for `last`
/// with no earlier run of `environment` in `out`'s history; else the run and
/// where it was read (shown in the 前回比). `excluding` is a run ID never
/// taken as `last` (the run being re-rendered).
pub(crate) fn baseline(spec: Option<&str>, out: &Path, environment: &str, excluding: &str) -> Result<Baseline> {
    let Some(spec) = spec else { return Ok(None) };
    if spec == "last" {
        let found = gcverify_reports::history::last(out, environment, excluding).map_err(|e| config_err(format!("--compare last: {e:#}")))?;
        return Ok(Some(found.map(|(r, p)| {
            let earlier = earlier_runs(out, environment, &r);
            Found { run: r, source: gcverify_checks::relative_path(&p), earlier }
        })));
    }
    let path = PathBuf::from(spec);
    let report = gcverify_reports::history::read_run(&path).map_err(|e| config_err(format!("--compare {spec}: {e:#}")))?;
    let earlier = earlier_runs(out, environment, &report);
    Ok(Some(Some(Found { run: report, source: gcverify_checks::relative_path(&path), earlier })))
}

/// The history's runs of `environment` started before `base`, newest first.
/// An entry that cannot be read ends the walk: what lies beyond it is not
/// known, and then a row's earlier state is simply not used.
fn earlier_runs(out: &Path, environment: &str, base: &gcverify_checks::RunReport) -> Vec<gcverify_checks::RunReport> {
    let mut runs = Vec::new();
    for path in gcverify_reports::history::entries(out).unwrap_or_default().into_iter().rev() {
        let Ok(run) = gcverify_reports::read_json(&path) else { break };
        if run.environment == environment && run.run_id != base.run_id && run.started_at < base.started_at {
            runs.push(run);
        }
    }
    runs
}

/// `cargo xtask report --from DIR`: a saved run rendered again, no AWS.
pub fn report(args: crate::cli::ReportArgs) -> Result<i32> {
    let catalog = Catalog::builtin();
    let formats = parse_formats(&args.format)?;
    let lang: Lang = args.lang.into();
    if let [before, after] = args.diff.as_slice() {
        return diff(before, after, &formats, lang);
    }
    if let Some(dir) = &args.verify {
        return verify_folder(dir, args.allowed_signers.as_deref(), lang);
    }
    let Some(from) = args.from else {
        return crate::fleet::merge(&args.merge, &formats, args.out, args.lang.into());
    };
    let source = from.join(gcverify_reports::JSON_FILE_NAME);
    let mut report = gcverify_reports::read_json(&source).map_err(|e| config_err(format!("--from: {e:#}")))?;
    let found = baseline(args.compare.as_deref(), &from, &report.environment, &report.run_id)?;
    attach_comparison(&mut report, &found);
    if formats.contains(&Format::Table) {
        let color = !args.no_color && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        println!("{}", gcverify_reports::render_table_with(&report, lang, terminal_width(), color, false));
    }
    let out = args.out.clone().unwrap_or_else(|| from.clone());
    // Re-rendering never overwrites the run's own record.
    // (unless --compare changed it: then the record is rewritten with its 前回比).
    let files: Vec<Format> =
        formats.into_iter().filter(|f| !(*f == Format::Json && out.join(gcverify_reports::JSON_FILE_NAME) == source && args.compare.is_none())).collect();
    // report.html finds the run's interval logs beside its result.json.
    // Only the formats asked for are added or replaced: every other file of the folder stays.
    for p in crate::output::render_files(&report, &catalog, &files, &out, lang, &from)? {
        eprintln!("gcverify: {}", crate::output::say(lang, format!("書き出し: {}", p.display()), format!("wrote {}", p.display())));
    }
    if let Some(key) = &args.sign_key {
        sign_folder(&out, key, lang)?;
    }
    Ok(report.exit_code())
}

/// `report --from DIR --sign-key KEY`: SHA256SUMS.sig beside the folder's SHA256SUMS.
fn sign_folder(dir: &Path, key: &Path, lang: Lang) -> Result<()> {
    use gcverify_reports::signature::{sign, SIG_FILE};
    let text = std::fs::read_to_string(key).map_err(|e| config_err(format!("--sign-key {}: {e}", key.display())))?;
    let sums = std::fs::read(dir.join(gcverify_reports::SUMS_FILE_NAME)).with_context(|| format!("reading {}", dir.join("SHA256SUMS").display()))?;
    let sig = sign(&sums, &text).map_err(|e| config_err(format!("--sign-key {}: {e:#}", key.display())))?;
    let path = dir.join(SIG_FILE);
    std::fs::write(&path, sig).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("gcverify: {}", crate::output::say(lang, format!("署名: {}", path.display()), format!("signed: {}", path.display())));
    Ok(())
}

/// `report --verify DIR`: the folder's files against SHA256SUMS, then its signature.
fn verify_folder(dir: &Path, allowed: Option<&Path>, lang: Lang) -> Result<i32> {
    let keys = match allowed {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| config_err(format!("--allowed-signers {}: {e}", p.display())))?;
            let keys = gcverify_reports::signature::allowed_keys(&text);
            if keys.is_empty() {
                return Err(config_err(format!("--allowed-signers {}: no ssh-ed25519 key in it", p.display())));
            }
            Some(keys)
        }
        None => None,
    };
    match gcverify_reports::signature::verify_dir(dir, keys.as_deref()) {
        Ok(check) => {
            let (ja, en) = match &check.signed_by {
                Some(fp) => (
                    format!("検証成功: {} 件のファイルが SHA256SUMS と一致し、署名は {fp} の鍵による", check.files),
                    format!("verified: {} files match SHA256SUMS, signed by {fp}", check.files),
                ),
                None => (
                    format!("検証成功: {} 件のファイルが SHA256SUMS と一致（署名は確認していない: --allowed-signers なし）", check.files),
                    format!("verified: {} files match SHA256SUMS (signature not checked: no --allowed-signers)", check.files),
                ),
            };
            println!("gcverify: {}", crate::output::say(lang, ja, en));
            Ok(0)
        }
        Err(e) => {
            eprintln!("gcverify: {}", crate::output::say(lang, format!("検証失敗: {e:#}"), format!("verification failed: {e:#}")));
            Ok(gcverify_checks::model::exit_code::NG)
        }
    }
}

/// `report --diff BEFORE AFTER`: the 前回比 of two saved runs, printed.
fn diff(before: &Path, after: &Path, formats: &[Format], lang: Lang) -> Result<i32> {
    let read = |p: &Path| gcverify_reports::history::read_run(p).map_err(|e| config_err(format!("--diff: {e:#}")));
    let (base, now) = (read(before)?, read(after)?);
    let comparison = gcverify_checks::comparison::compare(Some((&base, gcverify_checks::relative_path(before))), &now);
    for f in formats {
        match f {
            Format::Table => print!("{}", gcverify_reports::render_comparison(&comparison, lang)),
            Format::Json => println!("{}", serde_json::to_string_pretty(&comparison).context("serialising the comparison")?),
            Format::Markdown => print!("{}", gcverify_reports::render_comparison_markdown(&comparison, lang)),
            other => return Err(config_err(format!("--diff prints table, md or json, not {other}"))),
        }
    }
    Ok(comparison.exit_code())
}

/// 実行者, for every report: `--run-by` as given, else the STS caller (a run
/// under a container, a CI job or a systemd unit always has one), else the OS
/// user at the host. Never a credential.
pub(crate) fn run_by(flag: Option<&str>, caller_arn: Option<&str>, os_user: impl FnOnce() -> Option<String>) -> Option<String> {
    let given = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    given(flag).or_else(|| given(caller_arn)).or_else(os_user)
}

/// The OS user and host: USER, LOGNAME, else the name /etc/passwd gives this
/// process's uid (both variables are unset under many containers and units).
pub(crate) fn os_user() -> Option<String> {
    let env = |k: &str| std::env::var(k).ok().filter(|u| !u.trim().is_empty());
    let user = env("USER").or_else(|| env("LOGNAME")).or_else(uid_name)?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    Some(match host {
        Some(h) => format!("{user}@{h}"),
        None => user,
    })
}

/// The passwd name of the uid that owns this process (no libc call: /proc/self's owner).
fn uid_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    passwd_name(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if std::io::stderr().is_terminal() {
        if let Ok(style) = ProgressStyle::with_template("{spinner} 検証中 [{bar:30}] {pos}/{len} {msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).or_else(|| {
        if std::io::stdout().is_terminal() {
            None // comfy-table detects the width itself
        } else {
            Some(160)
        }
    })
}

pub fn print_catalog(lang: Lang) {
    let catalog = Catalog::builtin();
    for item in catalog.items() {
        let status = match &item.probe {
            RowVerifier::Attestation => "attestation",
            RowVerifier::NotVerified => "n/a",
            RowVerifier::Probe(p) if gcverify_checks::probes::lookup(p).is_some() => "probe",
            RowVerifier::Probe(_) => "unregistered",
        };
        println!("{:<9} {:<4} {:<6} {:<32} {:<12} {}", item.id, item.selected_level, item.kind.label(lang), item.probe, status, item.metric);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_by_is_the_flag_then_the_sts_caller_then_the_os_user() {
        let arn = Some("arn:aws:sts::123456789012:assumed-role/Auditor/yamada");
        let os = || Some("yamada@host".to_string());
        assert_eq!(run_by(Some("情報政策課 山田"), arn, os).as_deref(), Some("情報政策課 山田"));
        assert_eq!(run_by(Some("  "), arn, os).as_deref(), arn, "a blank --run-by is no name");
        assert_eq!(run_by(None, arn, os).as_deref(), arn);
        assert_eq!(run_by(None, None, os).as_deref(), Some("yamada@host"));
        assert_eq!(run_by(None, Some(""), || None), None);
    }

    #[test]
    fn the_uids_name_comes_from_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\nsvc:x:1000:1000::/home/svc:/bin/sh\n";
        assert_eq!(passwd_name(passwd, 1000).as_deref(), Some("svc"));
        assert_eq!(passwd_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(passwd, 4242), None);
    }
}
