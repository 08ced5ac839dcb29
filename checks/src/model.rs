//! The result model: one [`ItemResult`] per row of the 検証結果 table, each
//! carrying the evidence that was actually observed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Output language of tables and summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

/// A text in both languages; reports pick one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Msg {
    pub ja: String,
    pub en: String,
}

/// `msg!("日本語 {x}", "English {x}")`: a [`Msg`] from two format strings
/// (inline captures, or arguments after the two strings shared by both; each
/// language's format evaluates them, so pass values, not calls with effects).
/// `msg!("…{a}…", "…{b}…"; a = expr, b = expr)` names values once, each
/// language using those it needs.
#[macro_export]
macro_rules! msg {
    ($ja:literal, $en:literal $(,)?) => {
        $crate::model::Msg::new(format!($ja), format!($en))
    };
    ($ja:literal, $en:literal; $($name:ident = $val:expr),+ $(,)?) => {{
        $(let $name = $val;)+
        $crate::model::Msg::new(format!($ja), format!($en))
    }};
    ($ja:literal, $en:literal, $($arg:tt)+) => {
        $crate::model::Msg::new(format!($ja, $($arg)+), format!($en, $($arg)+))
    };
}

impl Msg {
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self { ja: ja.into(), en: en.into() }
    }
    /// The same text in both languages: identifiers, values, a server's own
    /// words (an error message quoted as the server gave it).
    pub fn same(text: impl Into<String>) -> Self {
        let text = text.into();
        Self { ja: text.clone(), en: text }
    }
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
    /// Either language contains `pat` (tests and de-duplication).
    pub fn contains(&self, pat: &str) -> bool {
        self.ja.contains(pat) || self.en.contains(pat)
    }
    /// `prefix` and `suffix` around both texts.
    pub fn wrap(&self, ja: (&str, &str), en: (&str, &str)) -> Msg {
        Msg::new(format!("{}{}{}", ja.0, self.ja, ja.1), format!("{}{}{}", en.0, self.en, en.1))
    }
}

/// A text equals a `Msg` when it is either language's (tests compare details so).
impl PartialEq<str> for Msg {
    fn eq(&self, other: &str) -> bool {
        self.ja == other || self.en == other
    }
}
impl PartialEq<&str> for Msg {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

/// Both languages, for logs and test messages: 「日本語 / English」 (one text when they agree).
impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ja == self.en {
            f.write_str(&self.ja)
        } else {
            write!(f, "{} / {}", self.ja, self.en)
        }
    }
}

/// Transitional: a text not yet written in both languages goes into both
/// (the bilingual test of the demos' result.json finds those still English only).
impl From<String> for Msg {
    fn from(text: String) -> Self {
        Msg::same(text)
    }
}
impl From<&str> for Msg {
    fn from(text: &str) -> Self {
        Msg::same(text)
    }
}
impl From<&String> for Msg {
    fn from(text: &String) -> Self {
        Msg::same(text.as_str())
    }
}

/// Reads `{"ja": …, "en": …}`, and a plain string (an evidence detail of a
/// result.json written before details had both languages) as both.
impl<'de> Deserialize<'de> for Msg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Both { ja: String, en: String },
            Text(String),
        }
        Ok(match Either::deserialize(d)? {
            Either::Both { ja, en } => Msg { ja, en },
            Either::Text(t) => Msg::same(t),
        })
    }
}

/// 結果 of one item. Vocabulary after InSpec (passed/failed/error/skipped),
/// with the 要確認 state for desk items nobody has attested yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// Requirement met, with observed evidence.
    #[serde(rename = "OK")]
    Ok,
    /// A violation was observed.
    #[serde(rename = "NG")]
    Ng,
    /// 検証不能: the probe could not observe (denied, throttled, unsupported, timed out, not implemented).
    #[serde(rename = "ERROR")]
    Error,
    /// 対象外, with the reason (判断理由).
    #[serde(rename = "N/A")]
    NotApplicable,
    /// 要確認: needs a person's attestation that is missing or expired.
    #[serde(rename = "PENDING")]
    Pending,
}

impl Outcome {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Outcome::Ok, _) => "OK",
            (Outcome::Ng, _) => "NG",
            (Outcome::Error, Lang::Ja) => "検証不能",
            (Outcome::Error, Lang::En) => "ERROR",
            (Outcome::NotApplicable, Lang::Ja) => "対象外",
            (Outcome::NotApplicable, Lang::En) => "N/A",
            (Outcome::Pending, Lang::Ja) => "要確認",
            (Outcome::Pending, Lang::En) => "PENDING",
        }
    }
}

/// How one observation bears on the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceStatus {
    /// Observed and compliant.
    Pass,
    /// Observed and violating.
    Fail,
    /// Observed, context only.
    Info,
    /// Could not be observed.
    Error,
}

impl EvidenceStatus {
    /// The word a report shows: 適合 / 違反 / 参考 / 検証不能, or pass / fail / info / error.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (EvidenceStatus::Pass, Lang::Ja) => "適合",
            (EvidenceStatus::Fail, Lang::Ja) => "違反",
            (EvidenceStatus::Info, Lang::Ja) => "参考",
            (EvidenceStatus::Error, Lang::Ja) => "検証不能",
            (EvidenceStatus::Pass, Lang::En) => "pass",
            (EvidenceStatus::Fail, Lang::En) => "fail",
            (EvidenceStatus::Info, Lang::En) => "info",
            (EvidenceStatus::Error, Lang::En) => "error",
        }
    }
}

/// One observation: what was looked at, what was seen, through which call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `E-001`…, numbered across the run when it ends ([`RunReport::number_evidence`]),
    /// so a row's 事象 can cite the observations behind it.
    #[serde(default)]
    pub id: Option<String>,
    pub status: EvidenceStatus,
    /// Resource ID or ARN, or the setting looked at (e.g. `ebs-default-encryption`).
    pub subject: String,
    #[serde(default)]
    pub region: Option<String>,
    /// What was observed, with values (「暗号化なし（Encrypted=false）」 / `Encrypted=false`), in both languages.
    pub detail: Msg,
    /// The API call or source, e.g. `ec2:DescribeVolumes`.
    pub source: String,
    /// The claim of its verifier this observation bears on (`s3-public-blocked`);
    /// null: every claim of the verifier (a listing that failed, context).
    #[serde(default)]
    pub claim: Option<String>,
    pub observed_at: DateTime<Utc>,
    /// The observation's numbers for a chart (report.html), when it has some
    /// (null otherwise: result.json's optional fields are present as null).
    #[serde(default)]
    pub figure: Option<Figure>,
}

/// Numbers behind an observation, kept as data so that reports can draw them
/// from `result.json` alone (no second look at AWS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Figure {
    /// A.1.3.1: how old the newest restorable point of one resource is, and the limit.
    RpoAge { resource: String, age_secs: i64, limit_secs: Option<i64> },
    /// A.1.3.1: an in-scope resource whose age was not measured, so the chart lists it too:
    /// `violation` when it has nothing to recover from (no recovery point, no PITR), else
    /// not checked (its evidence says why: a failed listing, a server AWS cannot show).
    RpoUnmeasured { resource: String, limit_secs: Option<i64>, violation: bool },
    /// A.1.3.2: one resource of this run's restore drill against the RTO.
    DrillTiming { resource: String, restore_secs: Option<i64>, health_secs: Option<i64>, rto_secs: Option<i64>, healthy: bool },
    /// B.2.1.4/5: the load phase's HdrHistogram V2 interval log (one tag per operation).
    LatencyLog { phase: String, log: String, threshold_ms: u64, percentile: String },
    /// A.1.5.1: 稼働率 per JST day over the period, the outages and the error budget.
    Availability {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        required_percent: f64,
        slot_secs: i64,
        days: Vec<DayAvailability>,
        outages: Vec<TimeSpan>,
        budget_allowed_minutes: f64,
        budget_used_minutes: f64,
    },
}

/// Slices of one JST day in the 稼働率 computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayAvailability {
    pub date: chrono::NaiveDate,
    pub up: i64,
    pub down: i64,
    pub unknown: i64,
}

/// A stretch of time (an outage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSpan {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One row of the 検証結果 table as gcverify produced it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemResult {
    pub id: String,
    /// 大項目
    pub category: String,
    /// 小項目
    pub metric: String,
    /// 選択レベル in force for this run.
    pub selected_level: String,
    /// 種別
    pub kind: crate::catalog::Kind,
    pub probe: String,
    pub outcome: Outcome,
    /// 事象 (Japanese); `summary_en` in English.
    pub summary: String,
    pub summary_en: String,
    /// 実現したレベル, when the probe established it.
    #[serde(default)]
    pub achieved_level: Option<String>,
    pub evidence: Vec<Evidence>,
    /// 確認観点 and how each came out; the row's outcome is combined from them
    /// ([`combine`]). Empty for rows decided as a whole (対象外).
    #[serde(default)]
    pub points: Vec<PointResult>,
    /// The attestation that decided a row judged as a whole (no points), if any.
    #[serde(default)]
    pub attestation: Option<AttestationRecord>,
    /// The time the row's evidence covers (稼働率 record, load run); `None`:
    /// the observations are of the moment they were made.
    #[serde(default)]
    pub period: Option<Period>,
    /// Verification period (開始/終了) of this item.
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl ItemResult {
    /// The combined outcome of the points `verifier` serves (the row's own
    /// outcome when it has no points): what that verifier alone concluded.
    pub fn verified_by(&self, verifier: &str) -> Outcome {
        if self.points.is_empty() {
            return self.outcome;
        }
        combine(self.points.iter().filter(|p| p.verifier == verifier).map(|p| p.outcome))
    }

    pub fn summary(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.summary,
            Lang::En => &self.summary_en,
        }
    }
}

/// One 確認観点 of a row as this run verified it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub id: String,
    /// Japanese text (with 「同 No.N」 resolved: `refers_to`).
    pub text: String,
    pub text_en: String,
    /// Items its text refers to with 「同 No.N」, each as "ID 検証事項".
    #[serde(default)]
    pub refers_to: Vec<String>,
    /// Probe, deep check or `attestation`.
    pub verifier: String,
    pub outcome: Outcome,
    pub summary: String,
    pub summary_en: String,
    pub evidence: Vec<Evidence>,
    /// The reviewer's record that decided the point (attestation points).
    #[serde(default)]
    pub attestation: Option<AttestationRecord>,
    /// The time the point's evidence covers, if longer than the call.
    #[serde(default)]
    pub period: Option<Period>,
}

/// A minimum observation a scenario lowered (`[observation."ID"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoweredMinimum {
    pub item: String,
    /// The scenario's minimum, e.g. "6 s".
    pub scenario: String,
    /// The standard's (the catalog's), e.g. "30.0 d".
    pub standard: String,
    pub reason: String,
}

impl LoweredMinimum {
    /// 「A.1.5.1: 6 s / 30.0 d（理由）」 for tallies and covers.
    pub fn line(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => format!("{}: 観測下限 {} / 標準 {}（{}）", self.item, self.scenario, self.standard, self.reason),
            Lang::En => format!("{}: minimum {} / standard {} ({})", self.item, self.scenario, self.standard, self.reason),
        }
    }
}

/// A span of time observations cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// The span covering both.
    pub fn union(self, other: Period) -> Period {
        Period { from: self.from.min(other.from), to: self.to.max(other.to) }
    }
}

/// A reviewer's `[[attestation]]` as a run used it, field by field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestationRecord {
    /// `OK`, `NG` or `N/A` as attested.
    pub result: Outcome,
    pub reviewer: String,
    pub date: chrono::NaiveDate,
    pub expires: Option<chrono::NaiveDate>,
    /// Expired on the run's day: it no longer counts (the point is 要確認).
    pub expired: bool,
    /// 根拠 as the scenario gives it (a relative path, a ticket or a URL).
    pub document: String,
    /// What the 根拠 is: a file read and hashed, an https URL, or a paper document.
    #[serde(default = "DocumentKind::paper")]
    pub document_kind: DocumentKind,
    /// Why the 根拠 does not count (missing, outside the evidence root, not
    /// https, a placeholder): the point is then 要確認, never OK.
    #[serde(default)]
    pub document_problem: Option<String>,
    /// SHA-256 of the document when it is a file that exists (read at run time).
    pub sha256: Option<String>,
    pub note: Option<String>,
}

/// What an attestation's 根拠 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// A file inside the evidence root, read and hashed.
    File,
    /// An https URL (not fetched).
    Url,
    /// A paper document or a reference (「契約書 第12条」): 文書参照・ファイルなし.
    Paper,
}

impl DocumentKind {
    fn paper() -> Self {
        DocumentKind::Paper
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (DocumentKind::File, Lang::Ja) => "ファイル",
            (DocumentKind::Url, Lang::Ja) => "URL",
            (DocumentKind::Paper, Lang::Ja) => "文書参照・ファイルなし",
            (DocumentKind::File, Lang::En) => "file",
            (DocumentKind::Url, Lang::En) => "URL",
            (DocumentKind::Paper, Lang::En) => "document reference, no file",
        }
    }
}

impl PointResult {
    /// How the point is verified, for a person: the probe or check name, or
    /// 机上 (desk) for a reviewer's attestation.
    pub fn verifier_label(&self, lang: Lang) -> &str {
        match (self.verifier.as_str(), lang) {
            ("attestation", Lang::Ja) => "机上（確認記録）",
            ("attestation", Lang::En) => "desk (attestation)",
            (v, _) => v,
        }
    }

    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.text,
            Lang::En => &self.text_en,
        }
    }
    pub fn summary(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.summary,
            Lang::En => &self.summary_en,
        }
    }
}

/// A row's outcome from its points: NG if any point is NG; else ERROR if any
/// is ERROR; else 要確認 if any is; else OK. 対象外 points drop out; a row
/// whose points are all 対象外 (or that has none) is 対象外.
pub fn combine(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    let mut seen = [false; 4];
    for o in outcomes {
        match o {
            Outcome::Ng => seen[0] = true,
            Outcome::Error => seen[1] = true,
            Outcome::Pending => seen[2] = true,
            Outcome::Ok => seen[3] = true,
            Outcome::NotApplicable => {}
        }
    }
    [Outcome::Ng, Outcome::Error, Outcome::Pending, Outcome::Ok].into_iter().zip(seen).find(|(_, s)| *s).map_or(Outcome::NotApplicable, |(o, _)| o)
}

/// A whole run for one environment (the JSON report is this, serialised).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Unique per run (`20261102T010000Z-1a2b3c4d`): every file of the run carries it.
    #[serde(default)]
    pub run_id: String,
    pub environment: String,
    pub municipality: String,
    pub system: String,
    pub tool_version: String,
    /// The commit gcverify was built from (`None` when built outside git).
    #[serde(default)]
    pub tool_commit: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The scenario file and its SHA-256, as read for this run.
    #[serde(default)]
    pub scenario: Option<ScenarioRef>,
    /// Who and what was verified: the AWS identity and endpoint.
    #[serde(default)]
    pub target: Target,
    /// The requirement catalog the rows come from.
    #[serde(default)]
    pub catalog: CatalogRef,
    pub items: Vec<ItemResult>,
    /// Said before the table: e.g. the `[scope]` tags matched nothing.
    #[serde(default)]
    pub warnings: Vec<Msg>,
    /// Minimum observations the scenario set below the standard's: their
    /// points are 要確認 「観測期間短縮」, and every report lists them.
    #[serde(default)]
    pub lowered_minimums: Vec<LoweredMinimum>,
    /// Who ran it (OS user@host), for the report's summary (null when unknown).
    #[serde(default)]
    pub run_by: Option<String>,
    /// 前回比 (`--compare`): the changes since the run compared with; null when not asked.
    #[serde(default)]
    pub comparison: Option<crate::comparison::Comparison>,
}

/// The scenario a run read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRef {
    pub path: String,
    pub sha256: String,
    /// Every file the scenario was built from (its `extends` bases, a fleet's
    /// file and attestations, then the file itself), each as read for the run.
    #[serde(default)]
    pub layers: Vec<Layer>,
}

/// One file of a layered scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub path: String,
    pub sha256: String,
}

/// The AWS a run talked to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The endpoint URL when not AWS's own (an emulator or a proxy); `None`: AWS.
    pub endpoint: Option<String>,
    /// True when the endpoint is the demo's local emulator.
    pub emulator: bool,
    pub primary_region: Option<String>,
    pub dr_region: Option<String>,
    /// From STS GetCallerIdentity; `None` when it failed (a warning says why).
    pub account_id: Option<String>,
    pub caller_arn: Option<String>,
    /// `aws`, `aws-cn`, `aws-us-gov`: from the caller ARN.
    pub partition: Option<String>,
}

/// The requirement catalog of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogRef {
    /// The standard the rows verify.
    pub standard: String,
    /// Its edition, when the catalog records one.
    pub standard_version: Option<String>,
    /// SHA-256 of the catalog (`checks/catalog.toml`) built into gcverify.
    pub sha256: String,
    pub items: usize,
}

/// Exit codes scripts can rely on.
pub mod exit_code {
    /// Every row OK or N/A.
    pub const ALL_OK: i32 = 0;
    /// At least one NG.
    pub const NG: i32 = 1;
    /// ERROR or PENDING rows, no NG.
    pub const INCOMPLETE: i32 = 2;
    /// Usage or configuration error; nothing was written.
    pub const CONFIG: i32 = 3;
    /// The run itself could not happen (emulator would not start, reports
    /// could not be written): no 検証結果 was produced.
    pub const FAILURE: i32 = 4;

    /// The exit code of a run whose worst outcome ([`super::combine`]) is `worst`.
    pub fn for_worst(worst: super::Outcome) -> i32 {
        use super::Outcome::*;
        match worst {
            Ng => NG,
            Error | Pending => INCOMPLETE,
            Ok | NotApplicable => ALL_OK,
        }
    }
}

impl RunReport {
    /// Numbers every row's evidence `E-001`… in table order; a point's copy of
    /// an observation gets the number of the row's entry it equals.
    pub fn number_evidence(&mut self) {
        let mut n = 0;
        for item in &mut self.items {
            for e in &mut item.evidence {
                n += 1;
                e.id = Some(format!("E-{n:03}"));
            }
            let numbered = item.evidence.clone();
            for e in item.points.iter_mut().flat_map(|p| p.evidence.iter_mut()) {
                e.id = numbered.iter().find(|x| Evidence { id: None, ..(*x).clone() } == *e).and_then(|x| x.id.clone());
            }
        }
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }

    /// 0 all OK/N/A, 1 any NG, 2 any ERROR/PENDING without NG.
    pub fn exit_code(&self) -> i32 {
        exit_code::for_worst(combine(self.items.iter().map(|i| i.outcome)))
    }
}

/// Small reports for the tests of this crate.
#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// A row with one 確認観点 of the same outcome.
    pub fn item(id: &str, outcome: Outcome, summary: &str) -> ItemResult {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        ItemResult {
            id: id.into(),
            category: String::new(),
            metric: format!("{id} の指標"),
            selected_level: "1".into(),
            kind: crate::catalog::Kind::OnSystem,
            probe: "p".into(),
            outcome,
            summary: summary.into(),
            summary_en: summary.into(),
            achieved_level: None,
            evidence: vec![],
            points: vec![PointResult {
                id: "p1".into(),
                text: String::new(),
                text_en: String::new(),
                refers_to: vec![],
                verifier: "v".into(),
                outcome,
                summary: summary.into(),
                summary_en: summary.into(),
                evidence: vec![],
                attestation: None,
                period: None,
            }],
            attestation: None,
            period: None,
            started_at: t,
            finished_at: t,
        }
    }

    pub fn report(items: Vec<ItemResult>) -> RunReport {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        RunReport {
            run_id: "r".into(),
            environment: "t".into(),
            municipality: String::new(),
            system: String::new(),
            tool_version: String::new(),
            tool_commit: None,
            started_at: t,
            finished_at: t,
            scenario: None,
            target: Target::default(),
            catalog: CatalogRef::default(),
            items,
            warnings: Vec::new(),
            lowered_minimums: Vec::new(),
            run_by: None,
            comparison: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(outcomes: &[Outcome]) -> RunReport {
        let mut r = testutil::report(outcomes.iter().map(|&o| testutil::item("X", o, "")).collect());
        for i in &mut r.items {
            i.points.clear();
        }
        r
    }

    #[test]
    fn evidence_is_numbered_across_the_run_and_points_share_their_rows_numbers() {
        let mut r = report(&[Outcome::Ok, Outcome::Ng]);
        let t = r.started_at;
        let ev = |subject: &str| Evidence {
            id: None,
            status: EvidenceStatus::Pass,
            subject: subject.into(),
            region: None,
            detail: "d".into(),
            source: "s".into(),
            claim: None,
            observed_at: t,
            figure: None,
        };
        let c = ev("c");
        r.items[0].evidence = vec![ev("a"), ev("b")];
        r.items[1].evidence = vec![c.clone()];
        r.items[1].points = vec![PointResult {
            id: "p".into(),
            text: String::new(),
            text_en: String::new(),
            refers_to: vec![],
            verifier: "v".into(),
            outcome: Outcome::Ng,
            summary: String::new(),
            summary_en: String::new(),
            evidence: vec![c],
            attestation: None,
            period: None,
        }];
        r.number_evidence();
        let ids: Vec<Option<&str>> = r.items.iter().flat_map(|i| i.evidence.iter().map(|e| e.id.as_deref())).collect();
        assert_eq!(ids, [Some("E-001"), Some("E-002"), Some("E-003")]);
        assert_eq!(r.items[1].points[0].evidence[0].id.as_deref(), Some("E-003"), "the point's copy cites the row's entry");
    }

    #[test]
    fn a_detail_reads_from_both_languages_and_from_an_old_plain_string() {
        let both: Msg = serde_json::from_str(r#"{"ja": "暗号化なし（Encrypted=false）", "en": "Encrypted=false"}"#).unwrap_or_default();
        assert_eq!(both, Msg::new("暗号化なし（Encrypted=false）", "Encrypted=false"));
        let old: Msg = serde_json::from_str(r#""Encrypted=false""#).unwrap_or_default();
        assert_eq!(old, Msg::same("Encrypted=false"));
        assert_eq!(serde_json::to_string(&both).unwrap_or_default(), r#"{"ja":"暗号化なし（Encrypted=false）","en":"Encrypted=false"}"#);
        let x = 3;
        assert_eq!(crate::msg!("{x}件", "{x} found"), Msg::new("3件", "3 found"));
        assert_eq!(crate::msg!("{0}件", "{0} found", x + 1), Msg::new("4件", "4 found"));
        assert_eq!(crate::msg!("{a}件", "{b} found"; a = "三", b = x), Msg::new("三件", "3 found"));
    }

    #[test]
    fn exit_codes_follow_worst_outcome() {
        use Outcome::*;
        assert_eq!(report(&[Ok, NotApplicable]).exit_code(), 0);
        assert_eq!(report(&[Ok, Error, Ng]).exit_code(), 1);
        assert_eq!(report(&[Ok, Pending]).exit_code(), 2);
        assert_eq!(report(&[Error]).exit_code(), 2);
    }

    /// Every order of every combination of NG/ERROR/PENDING/OK/N/A (up to
    /// four points) combines to the worst by NG > ERROR > PENDING > OK, N/A dropping out.
    #[test]
    fn point_outcomes_combine_in_every_order() {
        use Outcome::*;
        let all = [Ng, Error, Pending, Ok, NotApplicable];
        let rank = |o: Outcome| [Ng, Error, Pending, Ok, NotApplicable].iter().position(|x| *x == o).unwrap_or(4);
        fn sequences(all: &[Outcome], len: usize) -> Vec<Vec<Outcome>> {
            if len == 0 {
                return vec![vec![]];
            }
            sequences(all, len - 1).into_iter().flat_map(|s| all.iter().map(move |o| [s.clone(), vec![*o]].concat())).collect()
        }
        let mut checked = 0;
        for len in 0..=4 {
            for seq in sequences(&all, len) {
                let expected = seq.iter().copied().min_by_key(|o| rank(*o)).unwrap_or(NotApplicable);
                assert_eq!(combine(seq.clone()), expected, "{seq:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 1 + 5 + 25 + 125 + 625);
        assert_eq!(combine([Ok, Pending]), Pending, "a point nobody verified keeps the row from OK");
        assert_eq!(combine([NotApplicable, Ok]), Ok);
        assert_eq!(combine([]), NotApplicable);
    }

    #[test]
    fn outcome_serialises_to_the_documented_vocabulary() {
        let v: Vec<String> = [Outcome::Ok, Outcome::Ng, Outcome::Error, Outcome::NotApplicable, Outcome::Pending]
            .iter()
            .map(|o| serde_json::to_string(o).unwrap_or_default())
            .collect();
        assert_eq!(v, ["\"OK\"", "\"NG\"", "\"ERROR\"", "\"N/A\"", "\"PENDING\""]);
    }
}

/// A duration in the unit that reads best, keeping its precision (0.3 s, not
/// 0 s): every report and every probe's evidence says durations so.
pub fn duration_text(secs: f64) -> String {
    let m = secs / 60.0;
    if m >= 120.0 {
        format!("{:.1} h", m / 60.0)
    } else if m >= 10.0 {
        format!("{m:.0} min")
    } else if m >= 1.0 {
        format!("{m:.1} min")
    } else if secs >= 10.0 {
        format!("{secs:.0} s")
    } else if secs >= 0.1 {
        format!("{secs:.1} s")
    } else if secs > 0.0 {
        // Under 0.1 s (the error budget of a short record): two decimals, not 「0.0 s」.
        format!("{secs:.2} s")
    } else {
        "0 s".to_string()
    }
}
