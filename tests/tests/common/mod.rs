//! Shared helpers for the end-to-end tests: a moto server per test, seeded
//! through the same code the demo uses.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use gcverify_checks::aws::AwsContext;
use gcverify_checks::{Catalog, ItemResult, RunOptions, RunReport};
use gcverify_demo::MotoServer;
use gcverify_scenarios::Scenario;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).expect("repo root")
}

/// `moto_server`, installed into the repo's .venv on first use if it is
/// nowhere to be found (once per test binary).
pub fn moto_exe() -> PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let root = repo_root();
        gcverify_demo::find_moto_server(&root)
            .unwrap_or_else(|| gcverify_demo::ensure_venv(&root).expect("moto is required for the end-to-end tests and could not be installed"))
    })
    .clone()
}

/// The venv's Python with the login site's packages (Django, django-otp),
/// installed on first use like moto (once per test binary).
pub fn login_python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        gcverify_demo::login_site::ensure_requirements(&repo_root()).expect("Django and django-otp are required for the login tests and could not be installed")
    })
    .clone()
}

pub async fn moto() -> MotoServer {
    MotoServer::start(&moto_exe()).await.expect("moto starts")
}

pub fn scenario(text: &str) -> Scenario {
    let s = gcverify_scenarios::parse(text, std::path::Path::new("e2e.toml")).expect("test scenario parses");
    s.validate(&|id| Catalog::builtin().get(id).is_some(), &|id, l| Catalog::builtin().check_level(id, l)).expect("test scenario validates");
    s.validate_points(&|id, p| Catalog::builtin().check_point(id, p)).expect("test scenario's attestation points exist");
    s
}

pub const BASE: &str = r#"
[environment]
name = "e2e"
municipality = "テスト町"
system = "住民記録システム"

[scope]
tags = { System = "juki" }
"#;

pub fn emulator(endpoint: &str) -> Arc<AwsContext> {
    Arc::new(AwsContext::from_config(gcverify_demo::seed::emulator_config(endpoint, "ap-northeast-1"), true))
}

/// One probe's input for `id` at `level`, with its own inventory (probes called directly).
pub fn probe_input(id: &str, level: &str, scenario: Scenario, aws: Arc<AwsContext>, now: chrono::DateTime<Utc>) -> Arc<gcverify_checks::probes::ProbeInput> {
    let item = Catalog::builtin().get(id).cloned().unwrap_or_else(|| panic!("{id} in the catalog"));
    Arc::new(gcverify_checks::probes::ProbeInput::alone(item, level.into(), Arc::new(std::collections::BTreeMap::new()), Arc::new(scenario), aws, now, None))
}

/// Run `only` items against an endpoint with default options.
pub async fn run(endpoint: &str, scenario: Scenario, only: &[&str]) -> RunReport {
    let opts = RunOptions {
        only: Some(only.iter().map(|s| s.to_string()).collect()),
        now: Utc::now(),
        timeout: std::time::Duration::from_secs(60),
        concurrency: 4,
        drill: None,
        unreachable: None,
    };
    gcverify_checks::run(&Catalog::builtin(), Arc::new(scenario), emulator(endpoint), opts, &|_| {}).await
}

pub fn item<'a>(r: &'a RunReport, id: &str) -> &'a ItemResult {
    r.items.iter().find(|i| i.id == id).unwrap_or_else(|| panic!("{id} missing from report"))
}

/// All evidence details (in English) and subjects of an item, for "names the resource" assertions.
pub fn evidence_text(i: &ItemResult) -> String {
    i.evidence.iter().map(|e| format!("{} {} {}", e.status_str(), e.subject, e.detail.en)).collect::<Vec<_>>().join("\n")
}

pub trait StatusStr {
    fn status_str(&self) -> &'static str;
}

impl StatusStr for gcverify_checks::Evidence {
    fn status_str(&self) -> &'static str {
        self.status.label(gcverify_checks::model::Lang::En)
    }
}

/// A context for checks that make no AWS call (the database and login checks
/// without a `secret_arn`).
pub fn no_aws() -> Arc<AwsContext> {
    Arc::new(AwsContext::from_config(aws_config::SdkConfig::builder().build(), false))
}

/// Everything a report could show of a probe's conclusion.
pub fn shown(c: &gcverify_checks::probes::Conclusion) -> String {
    let mut t = format!("{}\n{}\n", c.summary.ja, c.summary.en);
    for e in &c.evidence {
        t.push_str(&format!("{:?} {} {:?} {} {}\n", e.status, e.subject, e.region, e.detail, e.source));
    }
    t
}

/// Neither the seeded residents' clear text nor any of `credentials` appears in `text`.
pub fn assert_no_value(text: &str, credentials: &[&str]) {
    for leaked in gcverify_demo::postgres::JUKI_PLAINTEXT.iter().chain(credentials) {
        assert!(!text.contains(leaked), "a stored value or a credential reached the result: {leaked}\n{text}");
    }
}

/// Whether the throwaway-PostgreSQL tests can run (NOT RUN, or a failure under GCVERIFY_REQUIRE_POSTGRES).
pub fn postgres_available() -> bool {
    gcverify_demo::postgres::available_for_tests()
}

/// Whether the throwaway-MariaDB tests can run (as [`postgres_available`]).
pub fn mariadb_available() -> bool {
    gcverify_demo::mariadb::available_for_tests()
}
