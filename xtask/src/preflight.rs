//! The preflight: what must hold before any probe runs, checked in seconds so
//! that a wrong account, a dead endpoint or an unwritable output folder is one
//! clear message at once, not an hour of 検証不能 rows (`verify` runs it first;
//! `check --env E` runs it alone).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use gcverify_checks::aws::{AwsContext, Identity};
use gcverify_checks::model::Lang;
use gcverify_scenarios::Scenario;

use crate::output::say;
use crate::verify::config_err;

/// A scenario larger than this is refused before it is read (a real one is a few KiB).
pub const MAX_SCENARIO_BYTES: u64 = 4 * 1024 * 1024;
/// How long the endpoint may take to accept a connection and STS to answer.
const ENDPOINT_WAIT: Duration = Duration::from_secs(3);
const STS_WAIT: Duration = Duration::from_secs(6);

/// The run could not happen (exit 4): said once, before any probe.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// The scenario file is at most [`MAX_SCENARIO_BYTES`] (checked before reading it).
pub fn check_scenario_size(path: &Path, lang: Lang) -> Result<()> {
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) }; // a missing file is reported by the loader, with its path
    if meta.len() > MAX_SCENARIO_BYTES {
        return Err(config_err(say(
            lang,
            format!("{}: シナリオが大きすぎます（{} バイト、上限 {} MiB）。シナリオか確認してください", path.display(), meta.len(), MAX_SCENARIO_BYTES >> 20),
            format!("{}: the scenario is too large ({} bytes, at most {} MiB); is it a scenario?", path.display(), meta.len(), MAX_SCENARIO_BYTES >> 20),
        )));
    }
    Ok(())
}

/// `--out` can be written: an existing folder we may create files in, or a
/// path whose nearest existing ancestor is such a folder. Nothing is created.
pub fn check_out_writable(out: &Path, lang: Lang) -> Result<()> {
    let mut probe = out;
    loop {
        if probe.exists() {
            break;
        }
        match probe.parent() {
            Some(p) if !p.as_os_str().is_empty() => probe = p,
            _ => {
                probe = Path::new(".");
                break;
            }
        }
    }
    let fail = |why: String, why_en: String| {
        config_err(say(
            lang,
            format!("--out {}: 書き込めません（{why}）。検証は実行していません", out.display()),
            format!("--out {}: cannot be written ({why_en}); nothing was verified", out.display()),
        ))
    };
    if !probe.is_dir() {
        return Err(fail(format!("{} はフォルダではありません", probe.display()), format!("{} is not a folder", probe.display())));
    }
    // The only sure test of writability (read-only mounts, ACLs, root squash): a file made and removed.
    match tempfile::Builder::new().prefix(".gcverify-write-test-").tempfile_in(probe) {
        Ok(f) => {
            drop(f);
            Ok(())
        }
        Err(e) => Err(fail(format!("{}: {e}", probe.display()), format!("{}: {e}", probe.display()))),
    }
}

/// Where the credentials come from, in words, or a config error when the
/// scenario's profile and the environment's keys would compete.
pub fn credential_source(scenario: &Scenario, use_env_credentials: bool, lang: Lang) -> Result<String> {
    let aws = &scenario.aws;
    let env_keys = std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|v| !v.is_empty());
    let role = aws.role_arn.as_deref().map(|r| say(lang, format!("、ロール {r} を引き受け"), format!(", assuming role {r}"))).unwrap_or_default();
    if scenario.demo.is_some() && aws.endpoint_url.is_none() {
        return Ok(say(lang, "デモ用のローカル AWS エミュレータ（moto）", "the demo's local AWS emulator (moto)"));
    }
    match (&aws.profile, env_keys) {
        (Some(profile), true) if !use_env_credentials => Err(config_err(say(
            lang,
            format!(
                "シナリオの profile「{profile}」と環境変数 AWS_ACCESS_KEY_ID の両方があります。このままでは環境変数の認証情報が優先され、\
                 プロファイルとは別のアカウントを検証するおそれがあります。環境変数を外す（unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN）か、\
                 環境変数の認証情報で検証するなら --use-env-credentials を指定してください"
            ),
            format!(
                "the scenario names profile `{profile}` and AWS_ACCESS_KEY_ID is set in the environment: the environment's credentials would win and \
                 another account than the profile's could be verified. Unset them (AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN) or pass \
                 --use-env-credentials to verify with the environment's credentials"
            ),
        ))),
        (_, true) => Ok(say(lang, format!("環境変数 AWS_ACCESS_KEY_ID{role}"), format!("environment variables AWS_ACCESS_KEY_ID{role}"))),
        (Some(profile), false) => {
            if !profile_exists(profile) {
                return Err(config_err(say(
                    lang,
                    format!(
                        "シナリオの profile「{profile}」が見つかりません（{} と {} を確認）。`aws configure sso --profile {profile}` などで作成するか、シナリオの [aws] profile を直してください",
                        config_file().display(),
                        credentials_file().display()
                    ),
                    format!(
                        "the scenario's profile `{profile}` does not exist (looked in {} and {}); create it (e.g. `aws configure sso --profile {profile}`) or fix [aws] profile in the scenario",
                        config_file().display(),
                        credentials_file().display()
                    ),
                )));
            }
            Ok(say(lang, format!("プロファイル「{profile}」{role}"), format!("profile `{profile}`{role}")))
        }
        (None, false) => {
            let from = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
            Ok(match from {
                Some(p) => say(lang, format!("環境変数 AWS_PROFILE のプロファイル「{p}」{role}"), format!("profile `{p}` from AWS_PROFILE{role}")),
                None => say(
                    lang,
                    format!("既定の認証情報チェーン（default プロファイル、SSO、インスタンスロールなど）{role}"),
                    format!("the default credential chain (default profile, SSO, instance role …){role}"),
                ),
            })
        }
    }
}

fn home() -> std::path::PathBuf {
    std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default()
}

fn config_file() -> std::path::PathBuf {
    std::env::var_os("AWS_CONFIG_FILE").map(std::path::PathBuf::from).unwrap_or_else(|| home().join(".aws/config"))
}

fn credentials_file() -> std::path::PathBuf {
    std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").map(std::path::PathBuf::from).unwrap_or_else(|| home().join(".aws/credentials"))
}

/// `[profile NAME]` (or `[NAME]` / `[default]`) in the config file, or `[NAME]` in the credentials file.
fn profile_exists(name: &str) -> bool {
    let sections = |path: std::path::PathBuf| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')))
            .map(|s| s.trim().trim_start_matches("profile").trim().to_string())
            .collect()
    };
    sections(config_file()).iter().chain(sections(credentials_file()).iter()).any(|s| s == name)
}

/// The custom endpoint accepts a TCP connection within a few seconds.
pub async fn check_endpoint(url: &str, lang: Lang) -> Result<()> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let hostport = rest.split('/').next().unwrap_or(rest);
    let addr = if hostport.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit())) && !hostport.ends_with(']') {
        hostport.to_string()
    } else {
        format!("{hostport}:{}", if url.starts_with("http://") { 80 } else { 443 })
    };
    let unreachable = |why: String, why_en: String| {
        Unreachable(say(
            lang,
            format!("エンドポイント {url} に接続できません（{why}）。検証は実行していません"),
            format!("endpoint {url} cannot be reached ({why_en}); nothing was verified"),
        ))
    };
    match tokio::time::timeout(ENDPOINT_WAIT, tokio::net::TcpStream::connect(&addr)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string(), e.to_string()).into()),
        Err(_) => Err(unreachable(format!("{} 秒以内に応答なし", ENDPOINT_WAIT.as_secs()), format!("no answer within {} s", ENDPOINT_WAIT.as_secs())).into()),
    }
}

/// Who the run verifies as (STS GetCallerIdentity), within a few seconds, or
/// the run cannot happen: an endpoint that accepts connections but never
/// answers, credentials that do not resolve, a role that cannot be assumed.
pub async fn caller(aws: &AwsContext, region: &str, endpoint: Option<&str>, source: &str, lang: Lang) -> Result<Identity> {
    let answer = tokio::time::timeout(STS_WAIT, aws.caller_identity(region)).await;
    let why = match answer {
        Ok(Ok(id)) => return Ok(id),
        Ok(Err(why)) => why,
        Err(_) => say(lang, format!("{} 秒以内に応答なし", STS_WAIT.as_secs()), format!("no answer within {} s", STS_WAIT.as_secs())),
    };
    let at = endpoint.map(|e| format!(" {e}")).unwrap_or_default();
    Err(Unreachable(say(
        lang,
        format!("呼び出し元を確認できません（STS GetCallerIdentity{at}、認証情報: {source}）: {why}。検証は実行していません"),
        format!("cannot identify the caller (STS GetCallerIdentity{at}, credentials: {source}): {why}; nothing was verified"),
    ))
    .into())
}

/// `[scope] resources` that no listing found: named, so a typo does not
/// silently shrink the scope.
pub async fn missing_scope_resources(aws: std::sync::Arc<AwsContext>, scenario: std::sync::Arc<Scenario>) -> Vec<String> {
    if scenario.scope.resources.is_empty() {
        return Vec::new();
    }
    let inventory = gcverify_checks::inventory::Inventory::new(aws, scenario.clone());
    let report = inventory.scope().await.report();
    if !report.failures.is_empty() {
        return Vec::new(); // an incomplete listing proves no absence
    }
    scenario
        .scope
        .resources
        .iter()
        .filter(|name| !report.in_scope.iter().any(|m| &m.id == *name || name.ends_with(&format!("/{}", m.id)) || name.ends_with(&format!(":{}", m.id))))
        .cloned()
        .collect()
}

/// What the preflight found and made: the AWS connection (and the demo's
/// emulator, kept alive by it), who the run verifies as, warnings for the report.
pub struct Preflight {
    pub aws: AwsContext,
    pub moto: Option<gcverify_demo::MotoServer>,
    /// `None` for the demo's emulator (identified as before, after its seeding).
    pub identity: Option<Identity>,
    pub warnings: Vec<gcverify_checks::Msg>,
}

/// Every check, in order, before any probe: the output folder (exit 3), the
/// credential source (exit 3), the endpoint and STS (exit 4), the scope's
/// named resources (a warning). Each result is said on stderr.
pub async fn before_probes(scenario: &mut Scenario, out: &Path, use_env_credentials: bool, lang: Lang, root: &Path) -> Result<Preflight> {
    check_out_writable(out, lang)?;
    let source = credential_source(scenario, use_env_credentials, lang)?;
    eprintln!("gcverify: {}", say(lang, format!("認証情報: {source}"), format!("credentials: {source}")));
    let demo = scenario.demo.is_some() && scenario.aws.endpoint_url.is_none();
    if let Some(url) = scenario.aws.endpoint_url.clone() {
        check_endpoint(&url, lang).await?;
    }
    let (aws, moto) = crate::verify::connect(scenario, root).await?;
    let identity = if demo {
        None
    } else {
        let id = caller(&aws, &scenario.aws.primary_region, scenario.aws.endpoint_url.as_deref(), &source, lang).await?;
        eprintln!(
            "gcverify: {}",
            say(
                lang,
                format!("検証対象アカウント: {} / 呼び出し元: {}", id.account_id.as_deref().unwrap_or("?"), id.caller_arn.as_deref().unwrap_or("?")),
                format!("account verified: {} / caller: {}", id.account_id.as_deref().unwrap_or("?"), id.caller_arn.as_deref().unwrap_or("?"))
            )
        );
        Some(id)
    };
    let mut warnings = Vec::new();
    if !demo && !scenario.scope.resources.is_empty() {
        let aws_shared = std::sync::Arc::new(AwsContext::load(&scenario.aws).await);
        let missing =
            tokio::time::timeout(Duration::from_secs(60), missing_scope_resources(aws_shared, std::sync::Arc::new(scenario.clone()))).await.unwrap_or_default();
        if !missing.is_empty() {
            let msg = gcverify_checks::Msg::new(
                format!("[scope] resources に指定したが見つからないリソース: {}（ID の誤りか削除済み。範囲に含まれていません）", missing.join(", ")),
                format!("[scope] resources named but not found: {} (a wrong ID or deleted; not in scope)", missing.join(", ")),
            );
            eprintln!("gcverify: {}: {}", say(lang, "警告", "warning"), msg.get(lang));
            warnings.push(msg);
        }
    }
    Ok(Preflight { aws, moto, identity, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_that_is_a_file_is_refused_and_a_new_folder_under_a_writable_one_is_not() {
        let tmp = tempfile::tempdir().expect("tmp");
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").expect("write");
        assert!(check_out_writable(&file, Lang::En).is_err());
        assert!(check_out_writable(&file.join("sub"), Lang::En).is_err());
        assert!(check_out_writable(&tmp.path().join("new/deeper"), Lang::En).is_ok());
        assert!(!tmp.path().join("new").exists(), "nothing created");
    }
}
