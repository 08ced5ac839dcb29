//! gcverify-loadgen: an open-model (fixed arrival rate) HTTP load generator
//! for the response-time rows B.2.1.4 (通常時) and B.2.1.5 (アクセス集中時).
//!
//! Intended send times are fixed in advance from the target rate, and latency
//! is measured from the intended time (completion − intended), so a stalled
//! server cannot hide behind a slowed-down generator (coordinated omission).
//! Service time (completion − actual send) is recorded separately. Results
//! are HdrHistograms (µs, 3 significant digits) with a V2 interval log.

pub mod client;
pub mod profile;
pub mod results;
pub mod run;
pub mod schedule;
pub mod server;

pub use profile::{Percentile, Profile};
pub use results::{read_distributions, Distribution, OpReport, PhaseReport, Slo, Verdict, WARMUP_TAG_PREFIX};
pub use run::{rss_kb, run_phase, RunOptions};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("load profile: {0}")]
    Profile(String),
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("login step failed: {0}")]
    Login(String),
    #[error("writing load results: {0}")]
    Output(String),
    #[error("load generator: {0}")]
    Internal(String),
}
