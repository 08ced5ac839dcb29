//! Probes: one module per family. A probe observes the environment read-only
//! and records each observation in [`Findings`]; the outcome follows from the
//! evidence by the verdict (`crate::verdict`), so no probe can say OK without it.

pub mod access;
pub mod availability;
pub mod backup;
pub mod connectivity;
pub mod continuity;
pub mod cron;
pub mod drill;
pub mod encryption;
pub mod integration;
pub mod logging;
pub mod login;
pub mod monitoring;
pub mod observation;
pub mod operations;
pub mod performance;
pub mod permissions;
pub mod policy_doc;
pub mod registry;
pub mod residency;
pub mod secret;
pub mod sql;
pub mod tls;
pub mod transit;
pub mod web;

use std::sync::Arc;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::aws::AwsContext;
use crate::catalog::Item;
use crate::model::{Evidence, EvidenceStatus, Msg, Outcome};
use gcverify_scenarios::Scenario;
pub use registry::{lookup, ProbeDef, ProbeFn};

/// Everything a probe may look at.
pub struct ProbeInput {
    pub item: Item,
    /// 選択レベル in force (scenario override or the catalog's).
    pub level: String,
    /// Levels in force for every item (some probes depend on another item's level).
    pub levels: Arc<std::collections::BTreeMap<String, String>>,
    pub scenario: Arc<Scenario>,
    pub aws: Arc<AwsContext>,
    /// Injected clock, so age computations are exact in tests.
    pub now: DateTime<Utc>,
    /// The restore drill of this run (`verify --restore-drill`): A.1.3.2/A.1.3.3 judge it instead of history.
    pub drill: Option<Arc<crate::drill::DrillReport>>,
    /// The run's one inventory and scope, shared by every probe.
    pub inventory: Arc<crate::inventory::Inventory>,
    /// Why the environment's AWS account cannot be used at all (a fleet
    /// member whose role cannot be assumed): its probes are ERROR with this
    /// reason instead of calling AWS. 机上 rows and 対象外 decisions stand.
    pub unreachable: Option<Msg>,
}

impl ProbeInput {
    /// A probe run on its own (tests, the drill CLI), with an inventory of its own.
    pub fn alone(
        item: Item,
        level: String,
        levels: Arc<std::collections::BTreeMap<String, String>>,
        scenario: Arc<Scenario>,
        aws: Arc<AwsContext>,
        now: DateTime<Utc>,
        drill: Option<Arc<crate::drill::DrillReport>>,
    ) -> Self {
        let inventory = crate::inventory::Inventory::shared(aws.clone(), scenario.clone());
        Self { item, level, levels, scenario, aws, now, drill, inventory, unreachable: None }
    }
}

/// What a probe observed. Outcome rules:
/// any violation → NG; else any observation that failed → ERROR;
/// else at least one compliant observation → OK; nothing observed → ERROR.
/// The verdict module (`crate::verdict`) judges them, per 確認観点 from the
/// evidence of that point's claims; a probe never chooses its outcome.
#[derive(Debug, Default, Clone)]
pub struct Findings {
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) ok_summary: Option<Msg>,
    pub(crate) decided: Option<(Outcome, Msg)>,
    pub(crate) achieved_level: Option<String>,
    /// What falls short of the minimum observation (see `observation`), per claim.
    pub(crate) short_observation: Vec<(Option<&'static str>, Msg)>,
    /// Parts of the point this probe could not verify: an OK becomes 要確認 for them.
    pub(crate) unverified: Vec<(Option<&'static str>, Msg)>,
    /// The reviewer's record behind a desk point.
    pub(crate) attestation: Option<crate::model::AttestationRecord>,
    /// The time the observations cover, when longer than the call (稼働率, a load run).
    pub(crate) period: Option<crate::model::Period>,
    /// The claim what is recorded next bears on (see [`Findings::claim`]).
    current_claim: Option<&'static str>,
}

pub use crate::verdict::Conclusion;

/// 「{call}: 応答に {field} がない」: an answer that lacks the field judged.
pub fn no_field(call: &str, field: &str) -> Msg {
    crate::msg!("{call}: 応答に {field} がない", "{call}: answer had no {field}")
}

/// A detail with why the resource is the system's: 「…（対象: タグ一致）」 / "… (in scope: scope tags)".
pub fn scoped(detail: Msg, why: &crate::inventory::Why) -> Msg {
    Msg::new(format!("{}（対象: {}）", detail.ja, why.ja()), format!("{} (in scope: {why})", detail.en))
}

impl Findings {
    /// Evidence is stamped when it is recorded (right after the call that
    /// observed it), not with the run's clock: the 証跡 sheet shows when each
    /// observation was made.
    pub fn new() -> Self {
        Self::default()
    }

    /// 検証不能 before anything could be observed (no scenario section, a
    /// catalog defect, a session that could not be had), with the reason.
    pub fn cannot(ja: impl std::fmt::Display, en: impl std::fmt::Display) -> Self {
        Self::decided(Outcome::Error, Msg::new(format!("検証不能: {ja}"), format!("could not verify: {en}")))
    }

    /// A level at which the standard asks nothing: the verdict makes the row
    /// 対象外 from the catalog (`not_applicable_at`) before any probe runs, so
    /// a probe reaching one was called outside the engine.
    pub fn level_asks_nothing(level: &str) -> Self {
        Self::cannot(
            format!("選択レベル{level}は要求なし（対象外はカタログで判断し、プローブは実行しない）"),
            format!("level {level} asks nothing (the catalog makes the row not applicable; the probe is not run)"),
        )
    }

    /// A finding whose outcome is decided by a rule rather than by evidence
    /// counting (N/A by level, PENDING attestation).
    pub fn decided(outcome: Outcome, summary: Msg) -> Self {
        Self { decided: Some((outcome, summary)), ..Default::default() }
    }

    /// What is recorded from now on bears on this claim of the probe's
    /// `ProbeDef::claims` (a probe with one claim need not say it). What was
    /// recorded before any claim bears on all of them.
    pub fn claim(&mut self, id: &'static str) {
        self.current_claim = Some(id);
    }

    fn push(&mut self, status: EvidenceStatus, subject: &str, region: Option<&str>, detail: Msg, source: &str) {
        self.evidence.push(Evidence {
            id: None,
            status,
            subject: subject.to_string(),
            region: region.map(str::to_string),
            detail,
            source: source.to_string(),
            claim: self.current_claim.map(str::to_string),
            observed_at: Utc::now(),
            figure: None,
        });
    }

    /// The numbers behind the observation recorded last, for charts.
    pub fn figure(&mut self, figure: crate::model::Figure) {
        if let Some(e) = self.evidence.last_mut() {
            e.figure = Some(figure);
        }
    }

    pub fn pass(&mut self, subject: &str, region: Option<&str>, detail: impl Into<Msg>, source: &str) {
        self.push(EvidenceStatus::Pass, subject, region, detail.into(), source);
    }
    pub fn fail(&mut self, subject: &str, region: Option<&str>, detail: impl Into<Msg>, source: &str) {
        self.push(EvidenceStatus::Fail, subject, region, detail.into(), source);
    }
    pub fn info(&mut self, subject: &str, region: Option<&str>, detail: impl Into<Msg>, source: &str) {
        self.push(EvidenceStatus::Info, subject, region, detail.into(), source);
    }
    pub fn error(&mut self, subject: &str, region: Option<&str>, reason: impl Into<Msg>, source: &str) {
        self.push(EvidenceStatus::Error, subject, region, reason.into(), source);
    }

    /// Record a failed AWS call as an ERROR observation.
    pub fn aws_error<E>(&mut self, call: &str, region: Option<&str>, err: &SdkError<E, HttpResponse>)
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let reason = crate::aws::failure(call, err);
        tracing::warn!(call, region, reason = %reason.en, "AWS call failed");
        self.error(call, region, reason, call);
    }

    /// Record a failed listing (from the inventory) as an ERROR observation.
    /// Several scoped lists may depend on the same failed listing: it is recorded once.
    pub fn listing_error(&mut self, e: &crate::inventory::ListingError) {
        let seen = self.evidence.iter().any(|x| x.status == EvidenceStatus::Error && x.source == e.call && x.region == e.region && x.detail == e.reason);
        if !seen {
            self.error(e.call, e.region.as_deref(), e.reason.clone(), e.call);
        }
    }

    /// Record every failure that makes a scoped list incomplete; true when there was none.
    pub fn scoped_complete<T>(&mut self, scoped: &crate::inventory::Scoped<T>) -> bool {
        for e in &scoped.errors {
            self.listing_error(e);
        }
        scoped.errors.is_empty()
    }

    /// No OK about nothing: when none of the kinds a row judges is in scope,
    /// the row is ERROR, whatever account-level facts were observed.
    pub fn require_resources(&mut self, judged: usize, kinds: &[crate::inventory::Kind]) {
        if judged > 0 {
            return;
        }
        let ja = kinds.iter().map(|k| k.label_ja()).collect::<Vec<_>>().join("・");
        let en = kinds.iter().map(|k| k.label()).collect::<Vec<_>>().join(", ");
        // Nothing in scope bears on every claim, whichever was being recorded.
        self.current_claim = None;
        self.error("scope", None, crate::msg!("対象リソースなし（[scope] を確認）: {ja} が0件", "no resource in scope ({en}): check [scope]"), "scope");
    }

    /// The 事象 text when everything observed is compliant.
    pub fn ok_summary(&mut self, summary: Msg) {
        self.ok_summary = Some(summary);
    }

    /// Less was observed than the point needs: an OK becomes 要確認 「観測不足」.
    pub fn short_observation(&mut self, what: Msg) {
        let entry = (self.current_claim, what);
        if !self.short_observation.contains(&entry) {
            self.short_observation.push(entry);
        }
    }

    /// Part of what the point claims was not verified (e.g. a second factor
    /// without the test account's secret): an OK becomes 要確認 naming it.
    pub fn unverified(&mut self, what: Msg) {
        let entry = (self.current_claim, what);
        if !self.unverified.contains(&entry) {
            self.unverified.push(entry);
        }
    }

    /// The observations cover `from`..`to` (a record read, a load run), not just the moment of the call.
    pub fn period(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) {
        self.period = Some(crate::model::Period { from, to });
    }

    /// The reviewer's record this finding rests on (see `attestation`).
    pub fn attestation(&mut self, record: crate::model::AttestationRecord) {
        self.attestation = Some(record);
    }

    pub fn achieved_level(&mut self, level: impl Into<String>) {
        self.achieved_level = Some(level.into());
    }

    pub fn has(&self, status: EvidenceStatus) -> bool {
        self.evidence.iter().any(|e| e.status == status)
    }

    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }

    /// The verdict over everything recorded, every claim together (a probe
    /// judged on its own, in tests and the drill CLI); the engine judges each
    /// point by its own claims instead (`verdict::point`).
    pub fn conclude(self, selected_level: &str) -> Conclusion {
        crate::verdict::conclude(&self, crate::verdict::Scope::Whole, selected_level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> Findings {
        Findings::new()
    }

    #[test]
    fn nothing_observed_is_error_not_ok() {
        assert_eq!(f().conclude("2").outcome, Outcome::Error);
    }

    #[test]
    fn info_alone_is_not_ok() {
        let mut x = f();
        x.info("a", None, "seen", "t");
        assert_eq!(x.conclude("2").outcome, Outcome::Error);
    }

    #[test]
    fn error_beats_pass_and_violation_beats_error() {
        let mut x = f();
        x.pass("a", None, "ok", "t");
        x.error("b", None, "denied", "t");
        let c = x.conclude("2");
        assert_eq!(c.outcome, Outcome::Error);
        assert!(c.summary.ja.contains("denied"));

        let mut y = f();
        y.pass("a", None, "ok", "t");
        y.error("b", None, "denied", "t");
        y.fail("vol-1", Some("ap-northeast-1"), "Encrypted=false", "t");
        let c = y.conclude("2");
        assert_eq!(c.outcome, Outcome::Ng);
        assert!(c.summary.en.contains("vol-1 (ap-northeast-1): Encrypted=false"), "{}", c.summary.en);
    }

    #[test]
    fn ok_sets_achieved_level_to_selected() {
        let mut x = f();
        x.pass("a", None, "ok", "t");
        let c = x.conclude("4");
        assert_eq!(c.outcome, Outcome::Ok);
        assert_eq!(c.achieved_level.as_deref(), Some("4"));
    }

    #[test]
    fn long_violation_lists_are_cut() {
        let mut x = f();
        for i in 0..5 {
            x.fail(&format!("v{i}"), None, "bad", "t");
        }
        let c = x.conclude("1");
        assert!(c.summary.ja.starts_with("違反 5件"));
        assert!(c.summary.ja.ends_with("+2"), "{}", c.summary.ja);
    }

    #[test]
    fn a_part_not_verified_makes_ok_pending_but_leaves_ng_and_error_alone() {
        let mut x = f();
        x.pass("password-only", None, "refused", "t");
        x.unverified(Msg::new("二要素目は未確認", "second factor not verified"));
        let c = x.conclude("3");
        assert_eq!(c.outcome, Outcome::Pending);
        assert!(c.summary.ja.starts_with("要確認: 二要素目は未確認"), "{}", c.summary.ja);
        assert_eq!(c.achieved_level, None);

        let mut y = f();
        y.fail("password-only", None, "reached the portal", "t");
        y.unverified(Msg::new("二要素目は未確認", "second factor not verified"));
        assert_eq!(y.conclude("3").outcome, Outcome::Ng);
    }
}
