//! `cargo xtask bench load`: builds and runs the `loadbench` binary of
//! gcverify-loadgen in release mode (the generator must be measured optimised,
//! like oha and wrk), passing the arguments through. See
//! loadgen/src/bin/loadbench.rs for what it measures.

use anyhow::{Context, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Seconds per measurement (each tool, each target).
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Seconds of the memory run at 5,000 req/s (600 = the 10-minute goal).
    #[arg(long, default_value_t = 20.0)]
    pub memory_secs: f64,
    /// Connections for the closed-model tools (wrk, oha) in the max-rate test.
    #[arg(long, default_value_t = 64)]
    pub connections: u32,
}

pub async fn bench(args: BenchArgs) -> Result<i32> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = tokio::process::Command::new(cargo)
        .args(["run", "--quiet", "--release", "--package", "gcverify-loadgen", "--bin", "loadbench", "--"])
        .args(["--secs", &args.secs.to_string(), "--memory-secs", &args.memory_secs.to_string(), "--connections", &args.connections.to_string()])
        .status()
        .await
        .context("running cargo for the release loadbench")?;
    Ok(if status.success() { 0 } else { 4 })
}
