//! `cargo xtask` — gcverify's command line. Thin: parsing, wiring, output.

mod availability;
mod bench_fleet;
mod bench_latency;
mod bench_load;
mod bench_scale;
mod bench_sql;
mod cli;
mod database;
mod drill;
mod fleet;
mod load;
mod login_site;
mod output;
mod preflight;
mod scope;
mod tls_target;
mod verify;

use std::process::ExitCode;

use clap::Parser;
use gcverify_checks::model::exit_code;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and --version are not errors; everything else is a usage error (3).
            let code = if e.use_stderr() { exit_code::CONFIG } else { 0 };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GCVERIFY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if cli.verbose { "info" } else { "error" })),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gcverify: cannot start the async runtime: {e}");
            return ExitCode::from(exit_code::CONFIG as u8);
        }
    };
    let code = runtime.block_on(cli::dispatch(cli));
    ExitCode::from(code as u8)
}
