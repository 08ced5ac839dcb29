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
    /// A.1.3.x / A.1.4.1 / A.3.x continuity probes (see docs/continuity.md).
    #[serde(default)]
    pub continuity: Continuity,
    #[serde(default)]
    pub attestation: Vec<Attestation>,
    /// E.5.1.1 / E.5.2.1 access probes.
    #[serde(default)]
    pub access: AccessConfig,
    /// E.7.1.1 / E.7.1.3 logging probes.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// F.1.1.1 / F.1.2.1 data residency.
    #[serde(default)]
    pub residency: ResidencyConfig,
    /// E.6.1.1: TLS endpoints to probe and the ELB policies accepted.
    #[serde(default)]
    pub transit: Transit,
    /// C.1.3.1: which CloudWatch metrics count as CPU/memory/disk/latency alarms.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// C.2.3.5 / E.4.3.4: SSM patch state and the AV-definition association.
    #[serde(default)]
    pub patching: Patching,
    /// C.4.5.1: integration endpoints (連携先) that must be reachable.
    #[serde(default)]
    pub integrations: Integrations,
    /// A.1.5.1 / C.1.1.1 / C.1.1.2: the availability probe's targets, calendar and store.
    #[serde(default)]
    pub availability: Option<AvailabilityConfig>,
    /// B.2.1.4/B.2.1.5 load profile, B.2.2.x batch windows, B.1.1.x metric assertions.
    #[serde(default)]
    pub performance: Performance,
    /// The system's database, for the deep checks that read the data itself (E.6.1.2 ...).
    #[serde(default)]
    pub database: Option<Database>,
    /// E.5.1.1 ①: the staff login of a test account, proved to need a second factor.
    #[serde(default)]
    pub login: Option<Login>,
    /// 団体間のデータ分離 (共同利用): this municipality's own data, credential and
    /// role, read by the fleet's supplementary separation row (not one of the 50).
    #[serde(default)]
    pub separation: Option<Separation>,
    /// Minimum observation of measured items, overriding the catalog's
    /// (`[observation."A.1.5.1"] days = 30`). Shortening needs a `reason`, shown in the 事象.
    #[serde(default)]
    pub observation: BTreeMap<Spanned<String>, ObservationOverride>,
    /// Present in demo scenarios: start a local AWS emulator and seed it.
    #[serde(default)]
    pub demo: Option<Demo>,
    #[serde(skip)]
    pub(crate) source: Option<Source>,
}

/// `[database]`: how the deep checks reach the system's database. Credentials
/// never appear here: the password comes from the environment variable named
/// by `password_env`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `postgres`, `mysql`, `mariadb` (read); `sqlserver` / `oracle` (not yet: ERROR saying so).
    pub engine: Spanned<String>,
    pub host: String,
    pub port: Option<u16>,
    pub database: String,
    pub user: String,
    /// Name of the environment variable holding the password (never the password itself).
    pub password_env: Option<String>,
    /// Secrets Manager secret holding the password: its JSON `password` key
    /// (the form RDS-managed secrets take) or, if not JSON, the whole string.
    pub secret_arn: Option<String>,
    /// TLS is required unless the scenario says `tls = false` (e.g. a database on the same host).
    #[serde(default = "default_true")]
    pub tls: bool,
    /// CA bundle for the server certificate (default: the system's roots).
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_statement_timeout")]
    pub statement_timeout_secs: u64,
    /// Rows sampled per column, at random across the whole table.
    #[serde(default = "default_sample_rows")]
    pub sample_rows: u32,
    /// `"all"`: read every row of each column in batches (an audit; slower)
    /// instead of a random sample of `sample_rows`.
    pub sample: Option<Spanned<String>>,
    /// Schemas (MySQL/MariaDB: databases) whose text-like columns are scanned
    /// for personal data the scenario did not declare; default: those holding
    /// the declared tables.
    #[serde(default)]
    pub schemas: Vec<Spanned<String>>,
    /// Columns left out of that scan, each with the reason the evidence states.
    #[serde(default)]
    pub exclude: Vec<ExcludedColumn>,
    /// Columns that hold personal data (住民の氏名, 住所, 個人番号 ...): E.6.1.2 judges each stored value.
    #[serde(default)]
    pub personal: Vec<PersonalColumn>,
    /// Synchronised sites the system continues on (庁舎内の縮退運転サーバ, a DR replica):
    /// their replication lag is the measured RPO (A.1.3.1, A.3.x). Same database,
    /// user and credentials as the primary.
    #[serde(default, rename = "replica")]
    pub replicas: Vec<Replica>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    pub name: String,
    pub host: String,
    pub port: Option<u16>,
    /// The largest replication lag that still meets the RPO ("state just before the failure").
    #[serde(default = "default_max_lag")]
    pub max_lag_secs: f64,
}

fn default_max_lag() -> f64 {
    60.0
}

fn default_statement_timeout() -> u64 {
    10
}
fn default_sample_rows() -> u32 {
    // 400 random rows find a 5 % share of clear rows with probability 1 − 0.95^400 > 1 − 10⁻⁸.
    400
}

impl Database {
    /// Every row is read (`sample = "all"`).
    pub fn reads_all(&self) -> bool {
        self.sample.as_ref().is_some_and(|s| s.get_ref() == "all")
    }
}

/// `[[database.exclude]]`: a column the undeclared-data scan leaves out, and why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludedColumn {
    /// `table` or `schema.table`.
    pub table: Spanned<String>,
    pub column: Spanned<String>,
    /// Why this column holds no personal data (stated in the evidence).
    pub reason: Spanned<String>,
}

/// `[separation]` (a fleet member under 共同利用, in `[environment.scenario]`):
/// what is this municipality's, so that the fleet can prove the others cannot
/// read it. The SQL path reads `schema.table` with this municipality's
/// database credential (the `[database]` connection, with `user` /
/// `password_env` / `secret_arn` here replacing its own when given) and, with
/// every other member's credential, expects a permission error. The KMS and S3
/// paths judge whether the other members' `role_arn` may `kms:Decrypt` these
/// keys / `s3:GetObject` under these prefixes (key, bucket and identity policies).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Separation {
    /// The municipality's own schema (MySQL/MariaDB: its database).
    pub schema: Option<Spanned<String>>,
    /// A table of the municipality's own data in `schema`.
    pub table: Option<Spanned<String>>,
    /// The municipality's application database user (default: `[database] user`).
    pub user: Option<String>,
    /// Its password's environment variable (default: `[database]`'s).
    pub password_env: Option<String>,
    /// Its Secrets Manager secret (default: `[database]`'s).
    pub secret_arn: Option<String>,
    /// The municipality's own KMS keys (key ARNs).
    #[serde(default)]
    pub kms_key_arns: Vec<Spanned<String>>,
    /// The municipality's own S3 prefixes, `s3://bucket/prefix/`.
    #[serde(default)]
    pub s3_prefixes: Vec<Spanned<String>>,
    /// The municipality's application role, whose access to the others' keys and prefixes is judged.
    pub role_arn: Option<Spanned<String>>,
}

impl Separation {
    /// The `[database]` connection with this municipality's own credential.
    pub fn database(&self, db: &Database) -> Database {
        let mut d = db.clone();
        if let Some(u) = &self.user {
            d.user = u.clone();
        }
        if self.password_env.is_some() || self.secret_arn.is_some() {
            d.password_env = self.password_env.clone();
            d.secret_arn = self.secret_arn.clone();
        }
        d
    }

    /// `s3://bucket/prefix` → (bucket, prefix).
    pub fn split_s3(uri: &str) -> Option<(&str, &str)> {
        let rest = uri.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then_some((bucket, prefix))
    }
}

/// One column of personal data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalColumn {
    /// `table` or `schema.table`.
    pub table: Spanned<String>,
    pub column: Spanned<String>,
    /// What it would hold in the clear: `name`, `kana`, `address`, `my_number`, `birth_date`, `phone`, `text`.
    pub kind: Spanned<String>,
    /// The form its ciphertext takes: `pgcrypto`, `base64`, `hex`, or `prefix:<text>`; absent:
    /// any value that is neither readable nor text-like counts as encrypted.
    pub ciphertext: Option<Spanned<String>>,
}

/// `[login]`: how a test staff account logs in to the application (E.5.1.1 ①).
/// The check submits the login form with the password alone and must not reach
/// the logged-in page; with the account's TOTP secret it completes the second
/// factor. Credentials come from the environment or Secrets Manager, never this file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The page with the login form (http or https).
    pub url: Spanned<String>,
    pub username: String,
    /// Environment variable holding the test account's password.
    pub password_env: Option<String>,
    /// Secrets Manager secret with JSON keys `password` and, optionally, `totp_secret`.
    pub secret_arn: Option<String>,
    #[serde(default = "default_username_field")]
    pub username_field: String,
    #[serde(default = "default_password_field")]
    pub password_field: String,
    /// Name of the second factor's input (the one-time code).
    pub otp_field: String,
    /// Text the second-factor page shows (optional extra check).
    pub challenge_marker: Option<String>,
    /// Text only the logged-in page shows (e.g. 「ログアウト」).
    pub logged_in_marker: String,
    /// A page only a logged-in user may open, requested after each step.
    pub logged_in_url: Option<String>,
    /// Environment variable holding the test account's TOTP secret (base32).
    pub totp_secret_env: Option<String>,
    #[serde(default = "default_totp_digits")]
    pub totp_digits: u32,
    #[serde(default = "default_totp_step")]
    pub totp_step_secs: u64,
    /// `SHA1` (RFC 6238's and most authenticators' default), `SHA256` or `SHA512`.
    #[serde(default = "default_totp_algorithm")]
    pub totp_algorithm: Spanned<String>,
    /// CA bundle for the login site's certificate (default: the system's roots).
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_login_timeout")]
    pub timeout_secs: u64,
}

fn default_username_field() -> String {
    "username".into()
}
fn default_password_field() -> String {
    "password".into()
}
fn default_totp_digits() -> u32 {
    6
}
fn default_totp_step() -> u64 {
    30
}
fn default_totp_algorithm() -> Spanned<String> {
    Spanned::new(0..0, "SHA1".into())
}
fn default_login_timeout() -> u64 {
    15
}
/// TOTP hash algorithms the scenario may name.
pub const TOTP_ALGORITHMS: &[&str] = &["SHA1", "SHA256", "SHA512"];

/// Engines the scenario may name (`sqlserver` and `oracle` are not read yet).
pub const DATABASE_ENGINES: &[&str] = &["postgres", "mysql", "mariadb", "sqlserver", "oracle"];
/// Kinds of personal data a column may be declared to hold.
pub const PERSONAL_KINDS: &[&str] = &["name", "kana", "address", "my_number", "birth_date", "phone", "text"];

/// A plain SQL identifier (letters, digits, `_`, not starting with a digit): the
/// deep checks quote it, and nothing else may reach a statement.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && s.len() <= 63
}

/// `[observation."<item>"]`: the least observation a measured item needs before it can be OK.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationOverride {
    /// Observed period in days (fractions allowed: 0.0001 ≈ 9 s).
    pub days: Option<f64>,
    /// Samples (requests per operation and phase, probe cycles, ...).
    pub samples: Option<u64>,
    /// Why this system's minimum differs from the standard's; printed with the result.
    pub reason: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Every file read for this scenario (shared by a fleet's environments).
    pub sources: std::sync::Arc<crate::Sources>,
    /// The file named by the user (or the fleet's base scenario).
    pub path: PathBuf,
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
    /// Role assumed with STS from the default credential chain (or `profile`):
    /// one account per 団体 in a fleet.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The `sts:ExternalId` the role's trust policy requires, if any.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Session name shown in the account's CloudTrail (default `gcverify`).
    #[serde(default)]
    pub session_name: Option<String>,
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
            role_arn: None,
            external_id: None,
            session_name: None,
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
        Self { probe_timeout_secs: default_timeout(), concurrency: default_concurrency() }
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
    /// Resources carrying all of these tags are in scope; what belongs to them
    /// (attached volumes, their network, cluster members, ...) follows.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Resources in scope by name, whatever their tags: IDs (`i-…`, `vol-…`,
    /// `sg-…`, `vpc-…`, DB identifiers, bucket names) or ARNs.
    #[serde(default)]
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// AWS Backup plan names that protect the system; empty = every plan in the primary region.
    #[serde(default)]
    pub plans: Vec<String>,
    /// Resource ARNs that must be protected (C.1.2.2 / C.1.2.3, A.1.3.x, A.3.x),
    /// besides the EC2 instances and RDS databases selected by `[scope] tags`.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Backup generations (世代) the plans' retention must keep; unset = not checked.
    #[serde(default)]
    pub generations: Option<u32>,
}

/// `[access]`: what E.5.1.1 (MFA) and E.5.2.1 (操作制限) accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// IAM users allowed to hold administrator policies directly (緊急用アカウント).
    #[serde(default)]
    pub break_glass_users: Vec<String>,
    /// Ports checked besides 22, 3389, 1433, 1521, 3306, 5432.
    #[serde(default)]
    pub extra_admin_ports: Vec<u16>,
    /// Roles whose trust policy must require `aws:MultiFactorAuthPresent`.
    #[serde(default)]
    pub mfa_required_roles: Vec<String>,
    /// Every role holding an administrator policy must require MFA to be assumed.
    #[serde(default)]
    pub admin_roles_require_mfa: bool,
}

/// `[logging]`: what E.7.1.1 / E.7.1.3 require of CloudWatch Logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    /// Log groups (in the primary region) that must exist and receive events.
    #[serde(default)]
    pub log_groups: Vec<String>,
    /// Minimum retention of those groups (never-expire also complies).
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// A group whose newest event is older than this is not receiving logs.
    #[serde(default = "default_recent_hours")]
    pub recent_hours: u32,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self { log_groups: Vec::new(), retention_days: default_retention_days(), recent_hours: default_recent_hours() }
    }
}

fn default_retention_days() -> u32 {
    365
}
fn default_recent_hours() -> u32 {
    24
}

/// `[residency]`: where the system's data may live (データの国内保管).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidencyConfig {
    #[serde(default = "default_allowed_regions")]
    pub allowed_regions: Vec<String>,
    /// Regions scanned at once.
    #[serde(default = "default_region_concurrency")]
    pub concurrency: usize,
}

impl Default for ResidencyConfig {
    fn default() -> Self {
        Self { allowed_regions: default_allowed_regions(), concurrency: default_region_concurrency() }
    }
}

fn default_allowed_regions() -> Vec<String> {
    vec![DEFAULT_PRIMARY_REGION.to_string(), DEFAULT_DR_REGION.to_string()]
}
fn default_region_concurrency() -> usize {
    8
}

/// A reviewer's statement for an item that is verified on paper (机上) or
/// by a person (a 実機 item no probe can observe).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    pub item: Spanned<String>,
    /// One 確認観点 of the item (its `id` in checks/catalog.toml); unset: the
    /// whole item's `attestation` points.
    #[serde(default)]
    pub point: Option<Spanned<String>>,
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

/// E.6.1.1 伝送データの暗号化: ELB listener rules and endpoints for the active TLS probe.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transit {
    /// ELB SSL policies accepted besides the built-in TLS 1.2+ list
    /// (checks/data/elb-tls-policies.toml), e.g. a custom policy name.
    #[serde(default)]
    pub extra_elb_policies: Vec<String>,
    /// Endpoints probed with a TLS handshake (e.g. the 庁舎⇔ガバクラ link).
    #[serde(default)]
    pub endpoints: Vec<TlsEndpoint>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsEndpoint {
    pub name: String,
    pub host: String,
    #[serde(default = "default_tls_port")]
    pub port: u16,
    /// SNI / name the certificate must carry; defaults to `host`.
    #[serde(default)]
    pub server_name: Option<String>,
    /// SHA-256 of the leaf certificate (DER), hex: a self-signed or
    /// private-CA certificate is accepted only when it matches.
    #[serde(default)]
    pub pin_sha256: Option<String>,
    /// PEM file with extra trusted CA certificates (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_tls_port() -> u16 {
    443
}

/// C.1.3.1 監視: metric names that count for each alarm category.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    #[serde(default = "default_cpu_metrics")]
    pub cpu_metrics: Vec<String>,
    #[serde(default = "default_memory_metrics")]
    pub memory_metrics: Vec<String>,
    #[serde(default = "default_disk_metrics")]
    pub disk_metrics: Vec<String>,
    #[serde(default = "default_latency_metrics")]
    pub latency_metrics: Vec<String>,
    /// Only alarms whose name starts with this count (empty: every alarm).
    #[serde(default)]
    pub alarm_name_prefix: String,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self {
            cpu_metrics: default_cpu_metrics(),
            memory_metrics: default_memory_metrics(),
            disk_metrics: default_disk_metrics(),
            latency_metrics: default_latency_metrics(),
            alarm_name_prefix: String::new(),
        }
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
fn default_cpu_metrics() -> Vec<String> {
    strings(&["CPUUtilization"])
}
fn default_memory_metrics() -> Vec<String> {
    // CloudWatch agent on Linux / Windows.
    strings(&["mem_used_percent", "Memory % Committed Bytes In Use", "FreeableMemory"])
}
fn default_disk_metrics() -> Vec<String> {
    strings(&["disk_used_percent", "LogicalDisk % Free Space", "FreeStorageSpace"])
}
fn default_latency_metrics() -> Vec<String> {
    strings(&["TargetResponseTime", "Latency", "ReadLatency", "WriteLatency"])
}

/// C.2.3.5 / E.4.3.4: SSM-managed patching and anti-virus definitions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patching {
    /// Name of the SSM association that updates AV definitions (e.g. an
    /// AWS-RunShellScript or vendor document association).
    #[serde(default)]
    pub av_association: Option<String>,
    /// How old the association's last success may be, per E.4.3.4 level
    /// (level 2 定義ファイルリリース時: default 24 h; level 1 定期保守時: default 31 days).
    #[serde(default = "default_av_hours_l2")]
    pub av_max_age_hours: u32,
    #[serde(default = "default_av_hours_l1")]
    pub av_max_age_hours_periodic: u32,
}

impl Default for Patching {
    fn default() -> Self {
        Self { av_association: None, av_max_age_hours: default_av_hours_l2(), av_max_age_hours_periodic: default_av_hours_l1() }
    }
}

fn default_av_hours_l2() -> u32 {
    24
}
fn default_av_hours_l1() -> u32 {
    31 * 24
}

/// C.4.5.1 外部システムとの接続: endpoints of the systems this one exchanges data with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integrations {
    #[serde(default)]
    pub endpoints: Vec<IntegrationEndpoint>,
    /// Per-endpoint connect/response timeout.
    #[serde(default = "default_integration_timeout")]
    pub timeout_secs: u64,
    /// 連携処理: each process with one functional check of its result.
    #[serde(default, rename = "process")]
    pub processes: Vec<IntegrationProcess>,
}

/// One 連携処理 and how its result is checked: exactly one of `http`, `file`, `sql`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationProcess {
    pub name: Spanned<String>,
    pub http: Option<HttpProcessCheck>,
    pub file: Option<FileProcessCheck>,
    pub sql: Option<SqlProcessCheck>,
}

/// An HTTP request whose answer must match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpProcessCheck {
    pub url: String,
    #[serde(default = "default_get")]
    pub method: String,
    pub body: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Accepted statuses (default 200).
    #[serde(default = "default_ok_status")]
    pub expect_status: Vec<u16>,
    pub body_contains: Option<String>,
    /// A JSON pointer (`/status`) into the answer, whose value must equal `json_equals`.
    pub json_pointer: Option<String>,
    pub json_equals: Option<String>,
    /// A header that must be present, with this value when given: `{ name = "Content-Type", contains = "json" }`.
    pub expect_header: Option<ExpectHeader>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectHeader {
    pub name: String,
    pub contains: Option<String>,
}

fn default_get() -> String {
    "GET".into()
}
fn default_ok_status() -> Vec<u16> {
    vec![200]
}

/// A file-based exchange: the newest S3 object under `prefix` (ending in `suffix`)
/// is newer than the process's window and not empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProcessCheck {
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub suffix: String,
    /// The process runs at least this often: its newest file must be younger.
    pub max_age_hours: f64,
    #[serde(default = "default_min_bytes")]
    pub min_bytes: i64,
    /// The bucket's region (default: the primary region).
    pub region: Option<String>,
}

fn default_min_bytes() -> i64 {
    1
}

/// A query on `[database]` (in its READ ONLY session) whose single number must be at least `min`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlProcessCheck {
    pub query: String,
    #[serde(default = "default_sql_min")]
    pub min: i64,
}

fn default_sql_min() -> i64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationEndpoint {
    pub name: String,
    /// `host:port` for a TCP check, or an `http://` / `https://` URL for an HTTP check.
    pub target: String,
    /// HTTP only: the status the endpoint must answer (default: any below 500).
    #[serde(default)]
    pub expect_status: Option<u16>,
}

fn default_integration_timeout() -> u64 {
    5
}

impl Default for Integrations {
    fn default() -> Self {
        Self { endpoints: Vec::new(), timeout_secs: default_integration_timeout(), processes: Vec::new() }
    }
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

/// `[availability]`: the continuous 稼働率 probe (A.1.5.1) and the operating
/// calendar (C.1.1.1 平日 / C.1.1.2 休日等). Times are Japan time (Asia/Tokyo).
/// Formats are parsed by the availability crate, which reports bad values
/// with the field name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityConfig {
    /// SQLite store, relative to the repository root unless absolute.
    #[serde(default = "default_availability_store")]
    pub store: PathBuf,
    /// Seconds between two checks of a target; also the length of a time slice.
    #[serde(default = "default_availability_interval")]
    pub interval_secs: u64,
    /// A slice is down when this many consecutive checks failed.
    #[serde(default = "default_consecutive_failures")]
    pub consecutive_failures: u32,
    /// Below this share of slices with data the result is 検証不能, not OK.
    #[serde(default = "default_min_coverage")]
    pub min_coverage_percent: f64,
    /// Where `verify` reads samples from: `store` (local SQLite) or `cloudwatch`.
    #[serde(default = "default_availability_source")]
    pub source: String,
    /// Name of this probe (庁舎, another region ...): heartbeats and the CloudWatch dimension.
    #[serde(default = "default_probe_name")]
    pub probe_name: String,
    /// Reporting period: `from`/`to` (inclusive Japanese dates), or else the
    /// last `period_days` days up to now.
    #[serde(default, deserialize_with = "opt_plain_date")]
    pub from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "opt_plain_date")]
    pub to: Option<NaiveDate>,
    #[serde(default = "default_period_days")]
    pub period_days: u32,
    /// Start the period at the store's first sample (a probe installed
    /// mid-period; the demo). Reported in the result.
    #[serde(default)]
    pub period_from_first_sample: bool,
    #[serde(default)]
    pub calendar: AvailabilityCalendar,
    #[serde(default)]
    pub maintenance: Vec<MaintenanceWindow>,
    #[serde(default)]
    pub targets: Vec<AvailabilityTarget>,
    #[serde(default)]
    pub cloudwatch: Option<AvailabilityCloudWatch>,
}

/// Operating hours: `"08:30-20:30"`, several spans comma-separated, `""` for none,
/// `"00:00-24:00"` for the whole day.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityCalendar {
    /// 平日 (Mon-Fri that are not holidays): C.1.1.1.
    #[serde(default = "default_weekday_hours")]
    pub weekday_hours: String,
    /// 休日等 (土日・祝日・年末年始): C.1.1.2.
    #[serde(default)]
    pub holiday_hours: String,
    /// Per-weekday overrides for non-holiday days, keyed `mon`..`sun`.
    #[serde(default)]
    pub by_day: BTreeMap<String, String>,
    /// 12/29-1/3 count as 休日等.
    #[serde(default = "default_true")]
    pub year_end_closure: bool,
    /// The municipality's own 休日 (e.g. 市民の日), as `YYYY-MM-DD`.
    #[serde(default)]
    pub extra_holidays: Vec<String>,
    /// Days the system is not operated at all (e.g. 庁舎停電), with the reason.
    #[serde(default)]
    pub closures: Vec<Closure>,
}

impl Default for AvailabilityCalendar {
    fn default() -> Self {
        Self {
            weekday_hours: default_weekday_hours(),
            holiday_hours: String::new(),
            by_day: BTreeMap::new(),
            year_end_closure: true,
            extra_holidays: Vec::new(),
            closures: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    /// First and last closed day, `YYYY-MM-DD` (inclusive).
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// A planned maintenance window (計画停止), excluded from the denominator and
/// listed in the report. One-off: `start`/`end` (`YYYY-MM-DDTHH:MM`, Japan time).
/// Recurring: `days` (`mon`..`sun`), optional `nth` (week of the month, 1-5)
/// and `hours` (`"02:00-04:00"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    pub reason: String,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub days: Vec<String>,
    #[serde(default)]
    pub nth: Option<u32>,
    #[serde(default)]
    pub hours: Option<String>,
}

/// One thing the probe checks like a user would.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityTarget {
    pub name: String,
    /// `http://` / `https://` URL: an HTTP check.
    #[serde(default)]
    pub url: Option<String>,
    /// `host:port`: a TCP connect check (non-HTTP services).
    #[serde(default)]
    pub tcp: Option<String>,
    /// Accepted HTTP statuses (default: 200-399).
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// The body must contain this text (e.g. the login page title).
    #[serde(default)]
    pub body_contains: Option<String>,
    /// An answer slower than this counts as a failed check.
    #[serde(default)]
    pub max_response_ms: Option<u64>,
    /// Give up after this long (default 10 s).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// A business-level check: a load profile (`scenarios/load/*.toml`, relative to
    /// the scenario's folder) whose login step runs, then `operations` in order,
    /// each judged by the profile's own status/body checks.
    #[serde(default)]
    pub profile: Option<PathBuf>,
    /// Operation names of `profile` to run (default: all, in file order).
    #[serde(default)]
    pub operations: Vec<String>,
    /// Overrides the profile's `base_url` (needed when the profile leaves it out).
    #[serde(default)]
    pub base_url: Option<String>,
}

/// `[availability.cloudwatch]`: publish samples (PutMetricData) and/or read them
/// back (GetMetricData, with `source = "cloudwatch"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityCloudWatch {
    #[serde(default = "default_cw_namespace")]
    pub namespace: String,
    /// Region of the metrics (default: the primary region).
    #[serde(default)]
    pub region: Option<String>,
    /// The daemon publishes every sample.
    #[serde(default)]
    pub publish: bool,
}

fn default_availability_store() -> PathBuf {
    PathBuf::from("target/gcverify/availability.sqlite")
}
fn default_availability_interval() -> u64 {
    60
}
fn default_consecutive_failures() -> u32 {
    2
}
fn default_min_coverage() -> f64 {
    95.0
}
fn default_availability_source() -> String {
    "store".to_string()
}
fn default_probe_name() -> String {
    "default".to_string()
}
fn default_period_days() -> u32 {
    30
}
fn default_weekday_hours() -> String {
    "08:30-20:30".to_string()
}
fn default_true() -> bool {
    true
}
fn default_cw_namespace() -> String {
    "GCVerify/Availability".to_string()
}

fn opt_plain_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    to_date(DateRepr::deserialize(d)?).map(Some).map_err(serde::de::Error::custom)
}

// ---------------------------------------------------------------- performance (issue 5)

/// `[performance]`: the response-time probe's load profile, the batch
/// windows (B.2.2.1/B.2.2.2) and metric assertions (B.1.1.x and others).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performance {
    /// Send load at all? Off unless set: the probe then leaves B.2.1.4/B.2.1.5 検証不能.
    #[serde(default)]
    pub enabled: bool,
    /// Load profile file (`scenarios/load/*.toml`), relative to the scenario file.
    #[serde(default)]
    pub profile: Option<PathBuf>,
    /// Overrides the profile's `base_url`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Where histograms and phase results go (default `target/gcverify/<env>/load`).
    #[serde(default)]
    pub output_dir: Option<PathBuf>,
    #[serde(default)]
    pub batch: Vec<PerformanceBatch>,
    #[serde(default)]
    pub metric: Vec<PerformanceMetric>,
}

/// A batch job and its window: its duration must leave room for a rerun.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceBatch {
    pub name: String,
    /// `B.2.2.1` (通常時) or `B.2.2.2` (アクセス集中時).
    pub item: String,
    /// The time the batch may take (処理時間枠), in minutes.
    pub window_minutes: f64,
    /// Source of the number: exactly one of `cloudwatch` or `command`.
    #[serde(default)]
    pub cloudwatch: Option<PerformanceCloudWatch>,
    /// A command (run with `sh -c`) that prints one number (seconds for batches).
    #[serde(default)]
    pub command: Option<String>,
}

/// A metric compared with a declared limit or a baseline ± tolerance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceMetric {
    /// Item the assertion counts for, e.g. `B.1.1.2`.
    pub item: String,
    pub name: String,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub baseline: Option<f64>,
    /// Allowed deviation from `baseline`, in percent.
    #[serde(default)]
    pub tolerance_pct: Option<f64>,
    /// Where `baseline` comes from (the current system's figure: a report,
    /// a query on the old system, a document): B.1.1.3/B.1.1.4 compare with it.
    #[serde(default)]
    pub baseline_source: Option<String>,
    /// Source of the number: exactly one of `cloudwatch` or `command`.
    #[serde(default)]
    pub cloudwatch: Option<PerformanceCloudWatch>,
    /// A command (run with `sh -c`) that prints one number (seconds for batches).
    #[serde(default)]
    pub command: Option<String>,
}

/// One CloudWatch statistic over a look-back window (GetMetricData).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceCloudWatch {
    pub namespace: String,
    pub metric: String,
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// `Maximum`, `Average`, `Sum`, `SampleCount`, `Minimum` or `pNN`.
    #[serde(default = "default_cw_stat")]
    pub stat: String,
    #[serde(default = "default_cw_period")]
    pub period_secs: i32,
    #[serde(default = "default_cw_lookback")]
    pub lookback_hours: i64,
    /// For batch durations: seconds per unit of the metric (60 when it is published in minutes).
    #[serde(default = "default_cw_scale")]
    pub seconds_per_unit: f64,
    #[serde(default)]
    pub region: Option<String>,
}

fn default_cw_stat() -> String {
    "Maximum".into()
}
fn default_cw_period() -> i32 {
    3600
}
fn default_cw_lookback() -> i64 {
    24
}
fn default_cw_scale() -> f64 {
    1.0
}

/// `[continuity]`: thresholds and DR artefacts of the continuity probes
/// (A.1.3.1 RPO, A.1.3.2 RTO, A.1.3.3 RLO, A.1.4.1, A.3.1.1, A.3.2.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Continuity {
    /// A.1.3.1 level 3 (障害発生時点): the newest restorable time (RDS PITR) may lag now by at most this.
    #[serde(default = "default_pitr_lag_minutes")]
    pub max_pitr_lag_minutes: u32,
    /// A.1.3.1 level 3: EC2 instances (IDs or `Name` tags) that hold no business
    /// data (it is in the databases): a recovery point within 1 営業日 suffices
    /// for them, and the evidence says it rests on this declaration.
    #[serde(default)]
    pub stateless_servers: Vec<String>,
    /// A.1.3.2 level `*`: which target of the level note applies, `cloud` (3 h, the default
    /// because a restore job does not say why it ran) or `application` (12 h).
    #[serde(default)]
    pub rto_cause: RtoCause,
    /// A.1.3.2 / A.1.3.3: restore evidence older than this is a violation (the drill must be repeated).
    #[serde(default = "default_restore_evidence_days")]
    pub max_restore_evidence_age_days: u32,
    /// A.1.4.1 / A.3.x: the newest copy in the DR region must be younger than this.
    #[serde(default = "default_dr_copy_hours")]
    pub dr_copy_max_age_hours: u32,
    /// AMIs (names or IDs, owned by this account) that must exist in the DR region to rebuild.
    #[serde(default)]
    pub dr_images: Vec<String>,
    /// Launch templates (names) that must exist in the DR region.
    #[serde(default)]
    pub dr_launch_templates: Vec<String>,
    /// A.1.4.1: the export that provides 安否確認 data within 72 hours; unset = desk attestation needed.
    #[serde(default)]
    pub export: Option<DataExport>,
    /// A.1.3.2 / A.1.3.3: the opt-in restore drill (`verify --restore-drill`); unset = the drill refuses to run.
    #[serde(default)]
    pub drill: Option<Drill>,
}

/// `[continuity.drill]`: where and how the restore drill restores. The drill
/// creates resources, so it needs an isolated target (a subnet and security
/// groups with no route to production) for every type it restores.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drill {
    /// The role AWS Backup assumes to restore (`iam:PassRole` on it is needed).
    pub iam_role_arn: String,
    /// ARNs to restore; empty = every resource in scope of a type the drill can delete again (EC2, EBS, RDS, Aurora).
    #[serde(default)]
    pub resources: Vec<String>,
    /// EC2: the isolated subnet and its security groups.
    #[serde(default)]
    pub subnet_id: Option<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// EC2: instance type of the restored instance (default: the original's).
    #[serde(default)]
    pub instance_type: Option<String>,
    /// RDS / Aurora: a DB subnet group in the isolated network (with `security_group_ids`).
    #[serde(default)]
    pub db_subnet_group: Option<String>,
    /// EBS: availability zone of the restored volume.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// Give up waiting for a restore job after this long (then clean up).
    #[serde(default = "default_drill_restore_minutes")]
    pub restore_timeout_minutes: u32,
    /// Give up waiting for the health checks after this long (then clean up).
    #[serde(default = "default_drill_health_minutes")]
    pub health_timeout_minutes: u32,
    /// How often job and health states are polled.
    #[serde(default = "default_drill_poll_seconds")]
    pub poll_seconds: u32,
    /// Application checks on the restored system, after AWS reports it ready: the
    /// `[availability]` target format (`url`, `tcp` or a load-profile business check).
    /// `{private_ip}` (EC2), `{endpoint}` and `{port}` (RDS/Aurora) in `url`, `tcp`
    /// and `base_url` are replaced by the copy's values; a check using them applies
    /// only to copies of those types, one without placeholders to every copy.
    #[serde(default)]
    pub health_checks: Vec<AvailabilityTarget>,
    /// Queries run on each restored database copy (C.1.2.2 「手順通りに復元できる」
    /// and the RPO from the data itself), with `[database]`'s user and credentials.
    #[serde(default, rename = "validation")]
    pub validations: Vec<RestoreValidation>,
    /// Which generation the drill restores: 1 = the newest usable recovery
    /// point, 2 = the one before … (C.1.2.5 「世代を指定して戻す」; `--generation`).
    #[serde(default = "default_generation")]
    pub generation: Spanned<u32>,
    /// The isolated target in the DR region, for `--site dr` (A.1.4.1 / A.3.x
    /// rebuilt from the DR-region copies). Same fields as the primary's.
    #[serde(default)]
    pub dr: Option<DrillTarget>,
}

fn default_generation() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

/// `[continuity.drill.dr]`: where copies restored in the DR region go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillTarget {
    #[serde(default)]
    pub subnet_id: Option<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub db_subnet_group: Option<String>,
    #[serde(default)]
    pub availability_zone: Option<String>,
}

impl Drill {
    /// The same drill aimed at the DR region's isolated target (`None` without `[continuity.drill.dr]`).
    pub fn at_dr_site(&self) -> Option<Drill> {
        let t = self.dr.as_ref()?;
        Some(Drill {
            subnet_id: t.subnet_id.clone(),
            security_group_ids: t.security_group_ids.clone(),
            instance_type: t.instance_type.clone().or_else(|| self.instance_type.clone()),
            db_subnet_group: t.db_subnet_group.clone(),
            availability_zone: t.availability_zone.clone(),
            dr: None,
            ..self.clone()
        })
    }
}

/// `[[continuity.drill.validation]]`: one query on the restored copy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreValidation {
    pub name: Spanned<String>,
    /// `count`: one integer, compared with the same query on the source
    /// database; `newest`: one timestamp, the newest business record restored.
    pub query: String,
    #[serde(default)]
    pub kind: ValidationKind,
    /// `count`: how far (in % of the source's value) the copy may differ.
    #[serde(default)]
    pub tolerance_percent: f64,
    /// `newest`: how much older than the recovery point the newest restored record may be.
    pub max_lag_minutes: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationKind {
    #[default]
    Count,
    Newest,
}

fn default_drill_restore_minutes() -> u32 {
    360
}
fn default_drill_health_minutes() -> u32 {
    60
}
fn default_drill_poll_seconds() -> u32 {
    30
}

impl Default for Continuity {
    fn default() -> Self {
        Self {
            max_pitr_lag_minutes: default_pitr_lag_minutes(),
            stateless_servers: Vec::new(),
            rto_cause: RtoCause::default(),
            max_restore_evidence_age_days: default_restore_evidence_days(),
            dr_copy_max_age_hours: default_dr_copy_hours(),
            dr_images: Vec::new(),
            dr_launch_templates: Vec::new(),
            export: None,
            drill: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RtoCause {
    #[default]
    Cloud,
    Application,
}

/// An S3 location a scheduled job writes the 72-hour data export to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataExport {
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    /// Region of the bucket; default the DR region (a Tokyo-only export is lost with Tokyo).
    #[serde(default)]
    pub region: Option<String>,
    /// The newest object must be younger than this.
    #[serde(default = "default_export_hours")]
    pub max_age_hours: u32,
}

fn default_pitr_lag_minutes() -> u32 {
    15
}
fn default_restore_evidence_days() -> u32 {
    365
}
fn default_dr_copy_hours() -> u32 {
    24
}
fn default_export_hours() -> u32 {
    24
}
