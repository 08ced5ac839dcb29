//! `gcverify-availability`: the availability probe as a standalone binary
//! (systemd, Kubernetes), the same code as `cargo xtask probe availability`.
//!
//!   gcverify-availability --scenario /etc/gcverify/prod.toml           # daemon
//!   gcverify-availability --scenario /etc/gcverify/prod.toml --once    # from a timer

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gcverify_availability::daemon::{run_with, RunOpts};
use gcverify_availability::Config;

#[derive(Debug, Parser)]
#[command(name = "gcverify-availability", version, about = "Check the system like a user every interval and record 稼働率 samples")]
struct Args {
    /// Scenario file with an [availability] section.
    #[arg(long)]
    scenario: PathBuf,
    /// One cycle, then exit.
    #[arg(long)]
    once: bool,
    /// Stop after N cycles.
    #[arg(long)]
    cycles: Option<u64>,
    /// Test hook: run cycles back to back with an injected clock starting at this Unix time.
    #[arg(long, hide = true)]
    simulate_from: Option<i64>,
    /// Test hook: print `committed SLOT NEW` after each committed cycle.
    #[arg(long, hide = true)]
    print_commits: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("GCVERIFY_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .init();
    let scenario = match gcverify_scenarios::load(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gcverify-availability: {e}");
            return ExitCode::from(3);
        }
    };
    let Some(section) = scenario.availability.as_ref() else {
        eprintln!("gcverify-availability: {} has no [availability] section", args.scenario.display());
        return ExitCode::from(3);
    };
    let base = args.scenario.parent().map(PathBuf::from).unwrap_or_default();
    let cfg = match Config::from_scenario(section, &base) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gcverify-availability: {e}");
            return ExitCode::from(3);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gcverify-availability: cannot start the async runtime: {e}");
            return ExitCode::from(4);
        }
    };
    let opts = RunOpts { once: args.once, cycles: args.cycles, simulate_from: args.simulate_from, print_commits: args.print_commits };
    let publisher = runtime.block_on(gcverify_availability::cloudwatch::publisher_from_env(&scenario, &cfg));
    match runtime.block_on(run_with(&cfg, publisher, &opts)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gcverify-availability: {e}");
            ExitCode::from(4)
        }
    }
}
