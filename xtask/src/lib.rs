//! gcverify's command line as a library: the product binary `gcverify`
//! (crate gcverify/) and the developers' `cargo xtask` (this crate's binary)
//! run the same code; [`Flavor`] decides the name, where `--env` and the
//! default output folder resolve, and which developer commands exist.

mod availability;
pub mod aws_model;
mod bench_fleet;
mod bench_latency;
mod bench_load;
mod bench_scale;
mod bench_sql;
mod cli;
mod database;
mod drill;
mod fleet;
pub mod home;
mod load;
mod login_site;
mod output;
mod preflight;
mod scope;
mod tls_target;
mod verify;

use std::process::ExitCode;

use gcverify_checks::model::exit_code;
pub use home::Flavor;

/// Parse the command line, run the command, return its exit code.
pub fn main(flavor: Flavor) -> ExitCode {
    home::set_flavor(flavor);
    let cli = match cli::parse(flavor) {
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
