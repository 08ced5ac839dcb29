use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gcverify_checks::model::exit_code;

/// gcverify — verify a Government Cloud (ガバメントクラウド) system against the
/// 地方公共団体情報システム非機能要件の標準 and produce the 検証結果 table.
///
/// Exit codes (終了コード): 0 every row OK or 対象外; 1 at least one NG; 2 some
/// rows 検証不能 (ERROR) or 要確認 (PENDING) but no NG; 3 usage, scenario or
/// preflight configuration error — unknown option, bad scenario, --out not
/// writable, a profile that does not exist or competes with AWS_ACCESS_KEY_ID
/// (nothing probed, nothing written); 4 the run could not happen — the endpoint
/// or STS did not answer in the preflight, the demo emulator did not start,
/// the reports could not be written. With `--compare … --fail-on new-ng`:
/// 1 a row newly NG, 2 newly 検証不能, else 0.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log what the probes do (also: GCVERIFY_LOG=debug).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every probe for one environment, print the 検証結果 table and write reports.
    ///
    /// Examples:
    ///   cargo xtask verify --env demo
    ///   cargo xtask verify --env prod --only E.6.1.2,C.1.2.5 --lang en
    ///   cargo xtask verify --env prod --compare last --fail-on new-ng   # nightly
    ///   cargo xtask verify --scenario ./my-city.toml --format json --out ./out
    ///   cargo xtask verify --fleet juki-asp --jobs 8 --out ./out
    ///   cargo xtask verify --fleet juki-asp --shard 2/8   # then: report --merge
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// Shortcut for `verify --env demo` (or `--env demo-noncompliant` with --noncompliant).
    Demo {
        /// Seed violations so NG rows show.
        #[arg(long)]
        noncompliant: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show which resources are the system's: every in-scope resource with its
    /// type, ID, region and why it is in scope (tags, named in the scenario, or
    /// attached to / holding / behind an in-scope resource), and how many of
    /// each type were left out. Check this before a first verify.
    /// Exit code 0; 2 when nothing is in scope or a listing failed.
    ///
    /// Examples:
    ///   cargo xtask scope --env prod
    ///   cargo xtask scope --env prod --format json > scope.json
    #[command(verbatim_doc_comment)]
    Scope(crate::scope::ScopeArgs),
    /// Render a saved run again, without touching AWS: reads DIR/result.json and
    /// writes the formats asked for (e.g. the Markdown and JUnit files for CI, or
    /// the English table). Exit code as the run's (0 OK … 2 incomplete).
    /// `--diff A B` prints what changed between two saved runs.
    ///
    /// Examples:
    ///   cargo xtask report --from target/gcverify/prod --format md,junit
    ///   cargo xtask report --diff target/gcverify/prod/history/20261130T170000.000000Z_20261130T170000Z-1a2b3c4d.json target/gcverify/prod
    ///   cargo xtask report --from target/gcverify/prod --format table --lang en
    ///   cargo xtask report --merge shard1/juki-asp shard2/juki-asp --out all/juki-asp
    #[command(verbatim_doc_comment)]
    Report(ReportArgs),
    /// The preflight alone, in seconds, probing nothing: the output folder can be
    /// written, where the credentials come from and the account and caller they
    /// resolve to (STS), the endpoint answers, `[scope] resources` exist.
    /// Exit code 0 when a verify could start; 3 a configuration error (e.g. a
    /// profile that does not exist, or a profile and AWS_ACCESS_KEY_ID at once);
    /// 4 the endpoint or STS does not answer.
    ///
    /// Examples:
    ///   cargo xtask check --env prod
    ///   cargo xtask check --scenario ./my-city.toml --lang en
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// List the 50 items of the catalog with their probe and whether it is implemented.
    Catalog {
        #[arg(long, value_enum, default_value_t = Lang::Ja)]
        lang: Lang,
    },
    /// Print the least-privilege read-only IAM policy (JSON) covering every probe.
    ///
    /// Example:
    ///   cargo xtask iam-policy > gcverify-readonly.json
    IamPolicy {
        /// Print instead the separate policy of the restore drill and `drill cleanup`
        /// (it writes: starts restores, tags and deletes the copies).
        #[arg(long)]
        restore_drill: bool,
    },
    /// The restore drill's housekeeping (e.g. `drill cleanup --env prod`).
    #[command(subcommand)]
    Drill(DrillCommand),
    /// Run one probe family alone (e.g. `probe load --env demo --phase normal`).
    #[command(subcommand)]
    Probe(Probe),
    /// Benchmarks that print measured figures (e.g. `bench load`).
    #[command(subcommand)]
    Bench(Bench),
    /// Regenerate the README's item and probe tables and docs/items.md from the
    /// catalog and the probe registry. With --check, change nothing and exit 1
    /// when a file is stale (a test does the same).
    Docs {
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Environment name: reads scenarios/NAME.toml.
    #[arg(long, conflicts_with = "scenario", required_unless_present = "scenario")]
    pub env: Option<String>,
    /// Path of a scenario file (instead of --env).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// The output folder a verify would write (default as verify's).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// As verify's: use the environment's credentials although the scenario names a profile.
    #[arg(long)]
    pub use_env_credentials: bool,
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
}

/// `cargo xtask probe ...`
#[derive(Debug, Subcommand)]
pub enum Probe {
    /// B.2.1.4/B.2.1.5: send the scenario's load profile (open model) and judge the response times.
    ///
    /// Examples:
    ///   cargo xtask probe load --env demo
    ///   cargo xtask probe load --env prod --phase peak
    #[command(verbatim_doc_comment)]
    Load {
        #[arg(long, conflicts_with = "scenario", required_unless_present = "scenario")]
        env: Option<String>,
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Only this phase: normal (B.2.1.4) or peak (B.2.1.5); default both.
        #[arg(long, value_enum)]
        phase: Option<crate::load::LoadPhase>,
        #[arg(long, value_enum, default_value_t = Lang::Ja)]
        lang: Lang,
    },
    /// A.1.5.1 稼働率: check the [availability] targets every interval and record
    /// every sample in the store (daemon), or one cycle with --once (timers).
    ///
    /// Examples:
    ///   cargo xtask probe availability --env prod
    ///   cargo xtask probe availability --env prod --once
    #[command(verbatim_doc_comment)]
    Availability(AvailabilityArgs),
}

#[derive(Debug, Args)]
pub struct AvailabilityArgs {
    /// Environment name: reads scenarios/NAME.toml.
    #[arg(long, conflicts_with = "scenario", required_unless_present = "scenario")]
    pub env: Option<String>,
    /// Path of a scenario file (instead of --env).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// One cycle, then exit (cron, systemd timer, Kubernetes CronJob).
    #[arg(long)]
    pub once: bool,
    /// Stop after N cycles.
    #[arg(long)]
    pub cycles: Option<u64>,
}

/// `cargo xtask drill ...`
#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Delete what earlier restore drills left behind: the restore jobs in the
    /// journals (target/gcverify/ENV/restore-drill/) and every EC2 instance, EBS
    /// volume, RDS instance or Aurora cluster tagged `gcverify:restore-drill` or
    /// named `gcverify-drill-*`, in the primary and DR regions.
    /// Exit code 0 when nothing is left, 2 when something failed or is still restoring.
    ///
    /// Examples:
    ///   cargo xtask drill cleanup --env prod --dry-run
    ///   cargo xtask drill cleanup --env prod
    #[command(verbatim_doc_comment)]
    Cleanup(DrillCleanupArgs),
}

#[derive(Debug, Args)]
pub struct DrillCleanupArgs {
    #[arg(long, conflicts_with = "scenario", required_unless_present = "scenario")]
    pub env: Option<String>,
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// The output folder the drill ran with (default: target/gcverify/ENV/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// List what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `cargo xtask bench ...`
#[derive(Debug, Subcommand)]
pub enum Bench {
    /// The load generator vs oha and wrk against nginx and the delay server on 127.0.0.1.
    Load(crate::bench_load::BenchArgs),
    /// gcverify vs Prowler on one emulated account of N resources (moto):
    /// wall time, peak RSS and API calls of the four-row verify, the full
    /// verify and Prowler's five equivalent checks, every run printed.
    ///
    /// Examples:
    ///   cargo xtask bench scale
    ///   cargo xtask bench scale --resources 2500,5000,10000 --runs 3
    #[command(verbatim_doc_comment)]
    Scale(crate::bench_scale::ScaleArgs),
    /// A fleet of N small emulated accounts verified concurrently (--jobs) vs
    /// one after another (--jobs 1) in one run: wall time and peak RSS, every
    /// run printed.
    ///
    /// Examples:
    ///   cargo xtask bench fleet
    ///   cargo xtask bench fleet --envs 10,50,100 --runs 3
    #[command(verbatim_doc_comment)]
    Fleet(crate::bench_fleet::FleetBenchArgs),
    /// E.6.1.2 at a city's size: a throwaway PostgreSQL with a 5,000,000-row
    /// 住民記録 table; the sampled judgement of all personal columns and the
    /// `sample = "all"` rows/s per column, every run printed.
    ///
    /// Examples:
    ///   cargo xtask bench sql
    ///   cargo xtask bench sql --rows 1000000 --runs 1
    #[command(verbatim_doc_comment)]
    Sql(crate::bench_sql::SqlBenchArgs),
}

/// Where the restore drill restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Site {
    Primary,
    Dr,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Environment name: reads scenarios/NAME.toml.
    #[arg(long, conflicts_with_all = ["scenario", "fleet"], required_unless_present_any = ["scenario", "fleet"])]
    pub env: Option<String>,
    /// Path of a scenario file (instead of --env).
    #[arg(long, conflicts_with = "fleet")]
    pub scenario: Option<PathBuf>,
    /// Every environment of scenarios/fleets/NAME.toml (or a fleet file's path):
    /// each municipality's account (role or profile) verified concurrently;
    /// reports per environment under OUT/FLEET/ENV/ and the fleet summary
    /// (matrix, fleet.json, fleet.xlsx) in OUT/FLEET/. Exit code: the worst.
    #[arg(long, conflicts_with = "restore_drill")]
    pub fleet: Option<String>,
    /// With --fleet: environments verified at once.
    #[arg(long, default_value_t = 8, requires = "fleet", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// With --fleet: AWS calls in flight at most per account (environments of
    /// one account share it); throttling slows the SDK's adaptive retry further.
    #[arg(long, default_value_t = 16, requires = "fleet", value_parser = clap::value_parser!(u32).range(1..))]
    pub account_calls: u32,
    /// With --fleet: run only the i-th of n deterministic slices (e.g. 2/8, a
    /// Kubernetes Indexed Job's index + 1); `report --merge` joins the shards.
    #[arg(long, requires = "fleet")]
    pub shard: Option<String>,
    /// A.1.3.2/A.1.3.3: before the probes, restore the newest recovery point of each
    /// resource into the isolated target of [continuity.drill], measure restore time
    /// plus time until healthy, validate restored databases, and delete the copies
    /// (also on failure and Ctrl-C). Creates billable resources; needs the drill
    /// policy (`iam-policy --restore-drill`).
    #[arg(long)]
    pub restore_drill: bool,
    /// With --restore-drill: `primary` (default) restores in the primary region;
    /// `dr` rebuilds from the copies in the DR region into [continuity.drill.dr]
    /// (A.1.4.1 / A.3.x).
    #[arg(long, value_enum, default_value_t = Site::Primary, requires = "restore_drill")]
    pub site: Site,
    /// With --restore-drill: restore this generation (1 = the newest usable
    /// recovery point, 2 = the one before …; default [continuity.drill] generation).
    #[arg(long, requires = "restore_drill", value_parser = clap::value_parser!(u32).range(1..))]
    pub generation: Option<u32>,
    /// Verify with the credentials of the environment (AWS_ACCESS_KEY_ID …)
    /// even though the scenario names a `profile` (without it, having both is
    /// an error: the environment's would win and another account be verified).
    #[arg(long)]
    pub use_env_credentials: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Folder of a run (holding its result.json).
    #[arg(long, required_unless_present_any = ["merge", "diff", "verify"], conflicts_with_all = ["merge", "diff", "verify"])]
    pub from: Option<PathBuf>,
    /// Check a run folder instead of rendering: every file its SHA256SUMS lists
    /// has its digest and, with --allowed-signers, SHA256SUMS.sig is a valid
    /// signature by one of those keys. Exit 0 when it holds, 1 when not.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["merge", "diff"])]
    pub verify: Option<PathBuf>,
    /// With --verify: the keys allowed to sign (ssh-keygen's allowed_signers or
    /// authorized_keys lines; ssh-ed25519).
    #[arg(long, value_name = "FILE", requires = "verify")]
    pub allowed_signers: Option<PathBuf>,
    /// With --from: sign the folder's SHA256SUMS with this OpenSSH Ed25519 key
    /// (unencrypted; SHA256SUMS.sig, as `ssh-keygen -Y sign -n gcverify` would).
    #[arg(long, value_name = "KEY", requires = "from")]
    pub sign_key: Option<PathBuf>,
    /// Compare two saved runs (each a result.json, a history entry or a run's
    /// folder) and print the 前回比 from BEFORE to AFTER (--format table, md or
    /// json). Exit code: 1 when a row is newly NG, 2 newly 検証不能, else 0.
    #[arg(long, num_args = 2, value_names = ["BEFORE", "AFTER"], conflicts_with = "merge")]
    pub diff: Vec<PathBuf>,
    /// With --from: add (or replace) the 前回比 against `last` (the newest
    /// other run of the environment in FROM/history/) or a saved run.
    #[arg(long, value_name = "last|PATH", requires = "from")]
    pub compare: Option<String>,
    /// Fleet shards' folders (each holding a fleet.json, e.g. OUT/FLEET of
    /// `verify --fleet F --shard i/n`): write the whole fleet's summary
    /// (matrix, fleet.json, fleet.xlsx) to --out (default: the first folder).
    #[arg(long, num_args = 1..)]
    pub merge: Vec<PathBuf>,
    /// Comma-separated formats: table, json, xlsx, md, junit, html.
    #[arg(long, value_delimiter = ',', default_value = "table")]
    pub format: Vec<String>,
    /// Where the files go (default: the --from folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
    #[arg(long)]
    pub no_color: bool,
}

#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Comma-separated report formats: table, json, xlsx, md (検証結果.md: a
    /// GitHub/GitLab table + NG/ERROR details), junit (junit.xml: one test case
    /// per item; NG = failure, 検証不能 = error, 要確認/対象外 = skipped), html
    /// (report.html: one self-contained page with filters and charts, ja/en switch).
    #[arg(long, value_delimiter = ',', default_value = "table,json,xlsx")]
    pub format: Vec<String>,
    /// Output folder (default: target/gcverify/ENV/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these item IDs, comma-separated (e.g. A.1.3.1,E.6.1.2).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Language of the table: ja (default) or en.
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
    /// No colours in the table.
    #[arg(long)]
    pub no_color: bool,
    /// Under each row, one line per 確認観点 (point of the 検証事項): how it was
    /// verified (probe, deep check or 机上 attestation) and its outcome.
    #[arg(long)]
    pub detail: bool,
    /// 前回比: compare with `last` (the newest run of this environment kept in
    /// OUT/history/) or a saved run (a result.json, a history entry or a run's
    /// folder). Every format gets a 前回比 section: rows newly NG, fixed, newly
    /// 検証不能, with another outcome or 事象 (numbers and IDs in 事象 are ignored).
    /// With no earlier run, every NG and 検証不能 row counts as new.
    #[arg(long, value_name = "last|PATH")]
    pub compare: Option<String>,
    /// What the exit code reports: `any` (the worst row: 0 all OK, 1 NG, 2
    /// 検証不能/要確認) or `new-ng` (with --compare, regressions only: 1 when a
    /// row is newly NG, 2 when one is newly 検証不能, 0 otherwise).
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// Runs kept in OUT/history/ (each run's result.json, named by start time and run ID); the
    /// oldest beyond this are removed. 0 keeps none.
    #[arg(long, default_value_t = gcverify_reports::history::DEFAULT_KEEP, value_name = "RUNS")]
    pub keep_history: usize,
    /// 実行者 recorded in every report (e.g. a name or a staff ID). Without it:
    /// the STS caller's ARN, else the OS user (USER, LOGNAME, else the uid's
    /// name) at the host.
    #[arg(long, value_name = "NAME")]
    pub run_by: Option<String>,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// The worst row of the run.
    Any,
    /// Only what is new since the run compared with.
    NewNg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Lang {
    Ja,
    En,
}

impl From<Lang> for gcverify_checks::model::Lang {
    fn from(l: Lang) -> Self {
        match l {
            Lang::Ja => Self::Ja,
            Lang::En => Self::En,
        }
    }
}

/// `cargo xtask docs [--check]`.
fn docs(check: bool) -> anyhow::Result<i32> {
    use anyhow::Context;
    let root = repo_root();
    let catalog = gcverify_checks::Catalog::builtin();
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).with_context(|| format!("reading {}", readme_path.display()))?;
    let files = [
        (readme_path.clone(), gcverify_checks::docs::splice_readme(&readme, &catalog).map_err(|e| anyhow::anyhow!("{}: {e}", readme_path.display()))?),
        (root.join("docs/items.md"), gcverify_checks::docs::items_md(&catalog)),
    ];
    let mut stale = 0;
    for (path, want) in files {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have == want {
            continue;
        }
        stale += 1;
        if check {
            eprintln!("stale: {} (run `cargo xtask docs`)", path.display());
        } else {
            std::fs::write(&path, want).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    // 1: stale, like a failed check.
    Ok(if check && stale > 0 { 1 } else { exit_code::ALL_OK })
}

/// The command line of `flavor`: `gcverify` reads its help with its own name
/// and default paths, and has no developer commands (bench, docs).
pub fn parse(flavor: crate::home::Flavor) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    if flavor == crate::home::Flavor::Product {
        cmd = productise(cmd.name("gcverify").bin_name("gcverify")).mut_subcommand("bench", |s| s.hide(true)).mut_subcommand("docs", |s| s.hide(true));
    }
    let matches = cmd.try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

/// Help texts with the product's name and default output folder.
fn productise(cmd: clap::Command) -> clap::Command {
    let fix = |s: String| s.replace("cargo xtask", "gcverify").replace("target/gcverify/", "gcverify-out/");
    let mut cmd = cmd;
    if let Some(a) = cmd.get_about().map(|a| fix(a.to_string())) {
        cmd = cmd.about(a);
    }
    if let Some(a) = cmd.get_long_about().map(|a| fix(a.to_string())) {
        cmd = cmd.long_about(a);
    }
    cmd.mut_args(|arg| {
        let help = arg.get_help().map(|h| fix(h.to_string()));
        let long = arg.get_long_help().map(|h| fix(h.to_string()));
        let arg = match help {
            Some(h) => arg.help(h),
            None => arg,
        };
        match long {
            Some(h) => arg.long_help(h),
            None => arg,
        }
    })
    .mut_subcommands(productise)
}

/// The repository root (xtask lives one level below it).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

pub async fn dispatch(cli: Cli) -> i32 {
    let developer_only = matches!(cli.command, Command::Bench(_) | Command::Docs { .. });
    if developer_only && crate::home::flavor() == crate::home::Flavor::Product {
        eprintln!("gcverify: 開発者向けのコマンドです。ソースの checkout で `cargo xtask` から実行してください / a developer command: run it with `cargo xtask` in a checkout");
        return exit_code::CONFIG;
    }
    let result = match cli.command {
        Command::Verify(args) => crate::verify::verify(args).await,
        Command::Demo { noncompliant, output } => {
            let env = if noncompliant { "demo-noncompliant" } else { "demo" };
            crate::verify::verify(VerifyArgs {
                env: Some(env.into()),
                scenario: None,
                fleet: None,
                jobs: 8,
                account_calls: 16,
                shard: None,
                restore_drill: false,
                site: Site::Primary,
                generation: None,
                use_env_credentials: false,
                output,
            })
            .await
        }
        Command::Scope(args) => crate::scope::scope(args).await,
        Command::Check(args) => crate::verify::check(args).await,
        Command::Report(args) => crate::verify::report(args),
        Command::Catalog { lang } => {
            crate::verify::print_catalog(lang.into());
            Ok(0)
        }
        Command::Probe(Probe::Load { env, scenario, phase, lang }) => crate::load::probe_load(env, scenario, phase, lang.into()).await,
        Command::Probe(Probe::Availability(args)) => crate::availability::probe(args).await,
        Command::Bench(Bench::Load(args)) => crate::bench_load::bench(args).await,
        Command::Bench(Bench::Scale(args)) => crate::bench_scale::bench(args).await,
        Command::Bench(Bench::Fleet(args)) => crate::bench_fleet::bench(args).await,
        Command::Bench(Bench::Sql(args)) => crate::bench_sql::bench(args).await,
        Command::IamPolicy { restore_drill } => {
            use gcverify_checks::probes::permissions::{drill_policy_json, policy_json};
            println!("{}", if restore_drill { drill_policy_json() } else { policy_json() });
            Ok(0)
        }
        Command::Drill(DrillCommand::Cleanup(args)) => crate::drill::cleanup(args).await,
        Command::Docs { check } => docs(check),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gcverify: {}: {e:#}", crate::output::say(crate::home::message_lang(), "エラー", "error"));
            e.downcast_ref::<crate::verify::ConfigError>().map_or(exit_code::FAILURE, |_| exit_code::CONFIG)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The deploy files' command lines are ones this CLI accepts (a renamed
    /// flag must not leave a nightly job that only fails at 02:00).
    #[test]
    fn deploy_files_run_command_lines_the_cli_accepts() {
        let root = repo_root();
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        let service = read("deploy/systemd/gcverify-verify.service");
        let exec = service.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
        let mut systemd: Vec<&str> = exec.split_whitespace().collect();
        assert_eq!(systemd.first(), Some(&"/usr/local/bin/gcverify"));
        systemd[0] = "gcverify";
        let cronjob = read("deploy/k8s/verify-cronjob.yaml");
        let args = cronjob.lines().find_map(|l| l.trim().strip_prefix("args: ")).expect("args: [...] on one line");
        let k8s: Vec<String> = serde_json::from_str(args).expect("a flow sequence of quoted strings");
        let k8s: Vec<&str> = std::iter::once("gcverify").chain(k8s.iter().map(String::as_str)).collect();
        for (file, line) in [("gcverify-verify.service", &systemd), ("verify-cronjob.yaml", &k8s)] {
            let cli = Cli::try_parse_from(line.iter()).unwrap_or_else(|e| panic!("{file}: {e}"));
            let Command::Verify(v) = cli.command else { panic!("{file}: not a verify") };
            assert_eq!(v.output.compare.as_deref(), Some("last"), "{file}");
            assert_eq!(v.output.fail_on, FailOn::NewNg, "{file}");
            crate::verify::check_fail_on(&v.output).unwrap_or_else(|e| panic!("{file}: {e}"));
            crate::verify::parse_formats(&v.output.format).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        // The availability CronJob runs the same image: its args are a `probe availability --once`.
        let availability = read("deploy/k8s/availability-cronjob.yaml");
        let args = availability.lines().find_map(|l| l.trim().strip_prefix("args: ")).expect("args: [...] on one line");
        let args: Vec<String> = serde_json::from_str(args).expect("a flow sequence of quoted strings");
        let cli = Cli::try_parse_from(std::iter::once("gcverify".to_string()).chain(args)).unwrap_or_else(|e| panic!("availability-cronjob.yaml: {e}"));
        assert!(matches!(cli.command, Command::Probe(Probe::Availability(AvailabilityArgs { once: true, .. }))), "availability-cronjob.yaml");
        let timer = read("deploy/systemd/gcverify-verify.timer");
        assert!(timer.contains("OnCalendar=*-*-* 02:00:00 Asia/Tokyo") && timer.contains("Persistent=true"), "{timer}");
    }

    /// `report --verify DIR [--allowed-signers FILE]` and `report --from DIR --sign-key KEY` parse;
    /// --verify stands alone.
    #[test]
    fn report_verify_and_sign_key_parse() {
        let cli = Cli::try_parse_from(["gcverify", "report", "--verify", "out/prod", "--allowed-signers", "asp.keys"]).expect("verify");
        let Command::Report(r) = cli.command else { panic!("not a report") };
        assert_eq!((r.verify.as_deref(), r.allowed_signers.as_deref()), (Some(Path::new("out/prod")), Some(Path::new("asp.keys"))));
        let cli = Cli::try_parse_from(["gcverify", "report", "--from", "out/prod", "--sign-key", "id_ed25519"]).expect("sign");
        let Command::Report(r) = cli.command else { panic!("not a report") };
        assert_eq!(r.sign_key.as_deref(), Some(Path::new("id_ed25519")));
        assert!(Cli::try_parse_from(["gcverify", "report", "--verify", "a", "--from", "b"]).is_err());
        assert!(Cli::try_parse_from(["gcverify", "report", "--allowed-signers", "k"]).is_err());
    }

    /// `--run-by` is accepted by verify and demo alike (both take the output options).
    #[test]
    fn run_by_is_parsed_for_verify_and_demo() {
        let cli = Cli::try_parse_from(["gcverify", "verify", "--env", "prod", "--run-by", "情報政策課 山田"]).expect("verify --run-by");
        let Command::Verify(v) = cli.command else { panic!("not a verify") };
        assert_eq!(v.output.run_by.as_deref(), Some("情報政策課 山田"));
        let cli = Cli::try_parse_from(["gcverify", "demo", "--run-by", "auditor"]).expect("demo --run-by");
        let Command::Demo { output, .. } = cli.command else { panic!("not a demo") };
        assert_eq!(output.run_by.as_deref(), Some("auditor"));
        let cli = Cli::try_parse_from(["gcverify", "demo"]).expect("demo");
        let Command::Demo { output, .. } = cli.command else { panic!("not a demo") };
        assert_eq!(output.run_by, None);
    }
}
