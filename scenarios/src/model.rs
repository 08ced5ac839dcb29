use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

pub const DEFAULT_PRIMARY_REGION: &str = "ap-northeast-1";
pub const DEFAULT_DR_REGION: &str = "ap-northeast-3";

/// One environment's scenario (`scenarios/<env>.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub environment: Environment,
    #[serde(default)]
    pub aws: Aws,
    #[serde(default)]
    pub engine: Engine,
    /// Overrides of the selected level (選択レベル) per item ID.
    #[serde(default)]
    pub levels: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Items judged 対象外 for this system, with the reason (判断理由).
    #[serde(default)]
    pub not_applicable: BTreeMap<Spanned<String>, String>,
    /// Restrict the run to these items (like `--only`).
    #[serde(default)]
    pub only: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub backup: Backup,
    #[serde(default)]
    pub attestation: Vec<Attestation>,
    /// Present in demo scenarios: start a local AWS emulator and seed it.
    #[serde(default)]
    pub demo: Option<Demo>,
    #[serde(skip)]
    pub(crate) source: Option<Source>,
}

#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Short name, e.g. `prod`; used for the output folder.
    pub name: String,
    /// 団体名, e.g. `〇〇市`.
    #[serde(default)]
    pub municipality: String,
    /// 業務システム名, e.g. `住民記録システム`.
    #[serde(default)]
    pub system: String,
    #[serde(default)]
    pub vendor: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aws {
    /// Named profile from ~/.aws/config (SSO and assume-role profiles work).
    #[serde(default)]
    pub profile: Option<String>,
    /// Custom endpoint, e.g. a local emulator. Unset for real AWS.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    #[serde(default = "default_primary")]
    pub primary_region: String,
    #[serde(default = "default_dr")]
    pub dr_region: String,
}

impl Default for Aws {
    fn default() -> Self {
        Self {
            profile: None,
            endpoint_url: None,
            primary_region: default_primary(),
            dr_region: default_dr(),
        }
    }
}

impl Aws {
    /// The regions the system uses: primary then DR (deduplicated).
    pub fn used_regions(&self) -> Vec<String> {
        let mut v = vec![self.primary_region.clone()];
        if self.dr_region != self.primary_region {
            v.push(self.dr_region.clone());
        }
        v
    }
}

fn default_primary() -> String {
    DEFAULT_PRIMARY_REGION.to_string()
}
fn default_dr() -> String {
    DEFAULT_DR_REGION.to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    /// A probe still running after this is stopped and its row is ERROR.
    #[serde(default = "default_timeout")]
    pub probe_timeout_secs: u64,
    /// Probes running at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

impl Default for Engine {
    fn default() -> Self {
        Self {
            probe_timeout_secs: default_timeout(),
            concurrency: default_concurrency(),
        }
    }
}

fn default_timeout() -> u64 {
    120
}
fn default_concurrency() -> usize {
    8
}

/// Which resources belong to the system. Government Cloud accounts are
/// usually dedicated to one system, so the default is "everything in the
/// used regions"; shared accounts narrow it by tags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Resources must carry all of these tags (EC2 volumes, RDS instances).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// AWS Backup plan names that protect the system; empty = every plan in the primary region.
    #[serde(default)]
    pub plans: Vec<String>,
}

/// A reviewer's statement for an item that is verified on paper (机上) or
/// by a person (a 実機 item no probe can observe).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    pub item: Spanned<String>,
    pub result: AttestedResult,
    /// 根拠: a document path, ticket or URL.
    pub evidence: String,
    pub reviewer: String,
    #[serde(deserialize_with = "date")]
    pub date: NaiveDate,
    /// After this date the attestation no longer counts (row becomes 要確認).
    #[serde(default, deserialize_with = "opt_spanned_date")]
    pub expires: Option<Spanned<NaiveDate>>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AttestedResult {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "NG")]
    Ng,
    #[serde(rename = "N/A")]
    NotApplicable,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demo {
    /// `compliant` or `noncompliant`: which environment to seed.
    pub seed: DemoSeed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DemoSeed {
    Compliant,
    Noncompliant,
}

/// TOML has date literals (`2026-10-01`); accept them and quoted strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum DateRepr {
    Toml(toml::value::Datetime),
    Text(String),
}

fn to_date(repr: DateRepr) -> Result<NaiveDate, String> {
    let text = match repr {
        DateRepr::Toml(d) => match d.date {
            Some(date) => return NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into()).ok_or_else(|| format!("invalid date {d}")),
            None => return Err(format!("expected a date like 2026-10-01, found {d}")),
        },
        DateRepr::Text(t) => t,
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| format!("expected a date like 2026-10-01, found `{text}`"))
}

fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    to_date(DateRepr::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn opt_spanned_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Spanned<NaiveDate>>, D::Error> {
    let s = Spanned::<DateRepr>::deserialize(d)?;
    let span = s.span();
    let date = to_date(s.into_inner()).map_err(serde::de::Error::custom)?;
    Ok(Some(Spanned::new(span, date)))
}
