//! Every probe as one self-describing value (after ripgrep's flag
//! definitions): its name as the catalog's `verifier` says it, what it
//! observes, the scenario section it reads, the IAM actions it may call,
//! what the tests' emulator can exercise of it, and its function. This one
//! list drives the engine (`lookup`), the IAM policy, `verify --list`, the
//! README's item table and `docs/items.md` (`cargo xtask docs`).
//!
//! Each probe module declares its values next to its code as
//! `pub const PROBES: &[ProbeDef]`; [`MODULES`] lists the modules. The
//! points a probe serves are the catalog's (`verifier = "<name>"`): a test
//! fails when a catalog point names an unregistered verifier and when a
//! registered probe serves no point.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Findings, ProbeInput};

pub type ProbeFn = fn(Arc<ProbeInput>) -> BoxFuture<'static, Findings>;

/// One probe.
pub struct ProbeDef {
    /// `family.name`, as catalog points name their verifier.
    pub name: &'static str,
    /// What it observes (Japanese, English): one line for help and docs.
    pub ja: &'static str,
    pub en: &'static str,
    /// What exactly it judges (English; the README and docs/items.md show it).
    pub detail: &'static str,
    /// The scenario section(s) it reads, as written in the TOML.
    pub section: &'static str,
    /// IAM actions its module calls (the policy is their union with the inventory's).
    pub actions: &'static [&'static str],
    /// What the tests' emulator (moto, local servers) exercises, and what only mocks can.
    pub emulator: &'static str,
    /// What it can establish. Every observation it records names one of these
    /// (or none: then it bears on all of them, e.g. a listing that failed), and
    /// each catalog point names the claims that prove it (see `verdict`).
    pub claims: &'static [ClaimDef],
    /// The nearest non-compliant setups it must not call OK, each built by
    /// the test of that name (a test checks the names exist).
    pub counterfeits: &'static [Counterfeit],
    /// What it cannot see: each a limit of the observation, stated so a
    /// reader knows what an OK does not cover (the counterfeit classes no
    /// test can build for it are named here, with why).
    pub unseen: &'static [Unseen],
    pub run: ProbeFn,
}

/// A setup that would fool a careless check, and what the check must say.
#[derive(Debug)]
pub struct Counterfeit {
    /// The test that builds it against the real part (or the mock that stands in, where no part can).
    pub test: &'static str,
    pub class: Class,
    /// What it is, one line.
    pub what: &'static str,
    /// NG, or 検証不能/要確認 where it cannot be told apart.
    pub expect: crate::model::Outcome,
}

/// The kinds of counterfeit every check is tried with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A sample, the first rows or page, one region, one generation.
    PartialObservation,
    /// What the scenario or the tags did not name.
    UnlistedData,
    /// The control never shown to refuse.
    HappyPathOnly,
    /// Another near miss of the same claim.
    Nearest,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::PartialObservation => "partial observation",
            Class::UnlistedData => "unlisted data",
            Class::HappyPathOnly => "happy path only",
            Class::Nearest => "near miss",
        }
    }
}

/// A counterfeit in one line, for the const lists.
pub const fn counterfeit(test: &'static str, class: Class, what: &'static str, expect: crate::model::Outcome) -> Counterfeit {
    Counterfeit { test, class, what, expect }
}

/// One statement a verifier can establish from what it observes.
#[derive(Debug)]
pub struct ClaimDef {
    /// Short id, unique within its verifier (`s3-public-blocked`).
    pub id: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    pub basis: Basis,
}

/// Whether a claim rests on something that happened or exists (a copy in the
/// DR vault, a restore, logs received) or on a setting that should cause it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    Effect,
    Setting,
}

impl Basis {
    pub fn label(self, lang: crate::model::Lang) -> &'static str {
        match (self, lang) {
            (Basis::Effect, crate::model::Lang::Ja) => "実績",
            (Basis::Setting, crate::model::Lang::Ja) => "設定",
            (Basis::Effect, crate::model::Lang::En) => "effect",
            (Basis::Setting, crate::model::Lang::En) => "setting",
        }
    }
}

/// A limit of what a check observes, of one counterfeit class.
#[derive(Debug)]
pub struct Unseen {
    pub class: Class,
    pub what: &'static str,
}

/// An `Unseen` in one line, for the const lists.
pub const fn unseen(class: Class, what: &'static str) -> Unseen {
    Unseen { class, what }
}

/// A claim in one line: `ClaimDef` for a const list.
pub const fn claim(id: &'static str, ja: &'static str, en: &'static str, basis: Basis) -> ClaimDef {
    ClaimDef { id, ja, en, basis }
}

impl std::fmt::Debug for ProbeDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeDef").field("name", &self.name).field("section", &self.section).finish_non_exhaustive()
    }
}

impl ProbeDef {
    /// The claim named `id`.
    pub fn claim(&self, id: &str) -> Option<&'static ClaimDef> {
        self.claims.iter().find(|c| c.id == id)
    }

    pub fn describe(&self, lang: crate::model::Lang) -> &'static str {
        match lang {
            crate::model::Lang::Ja => self.ja,
            crate::model::Lang::En => self.en,
        }
    }
}

/// The probe modules, each with its `PROBES`. A new module adds one line here.
pub const MODULES: &[&[ProbeDef]] = &[
    super::encryption::PROBES,
    super::backup::PROBES,
    super::continuity::PROBES,
    super::availability::PROBES,
    super::performance::PROBES,
    super::transit::PROBES,
    super::monitoring::PROBES,
    super::operations::PROBES,
    super::connectivity::PROBES,
    super::access::PROBES,
    super::logging::PROBES,
    super::residency::PROBES,
    super::web::PROBES,
    super::sql::PROBES,
    super::integration::PROBES,
    super::login::PROBES,
    super::drill::PROBES,
];

/// Every registered probe, in module order.
pub fn all() -> impl Iterator<Item = &'static ProbeDef> {
    MODULES.iter().flat_map(|m| m.iter())
}

/// The probe a catalog point names.
pub fn lookup(name: &str) -> Option<&'static ProbeDef> {
    all().find(|p| p.name == name).or_else(|| test_probes(name))
}

#[cfg(not(test))]
fn test_probes(_: &str) -> Option<&'static ProbeDef> {
    None
}

/// Misbehaving probes for the engine's own tests.
#[cfg(test)]
fn test_probes(name: &str) -> Option<&'static ProbeDef> {
    use crate::model::Outcome;
    const fn def(name: &'static str, run: ProbeFn) -> ProbeDef {
        ProbeDef { name, ja: "", en: "", detail: "", section: "", actions: &[], emulator: "", claims: TEST_CLAIM, counterfeits: &[], unseen: &[], run }
    }
    const TEST_CLAIM: &[ClaimDef] = &[claim("test", "テスト", "test", Basis::Setting)];
    const TEST: &[ProbeDef] = &[
        def("test.hang", |_| Box::pin(async { std::future::pending::<Findings>().await })),
        def("test.panic", |_| Box::pin(async { panic!("probe exploded") })),
        def("test.pass", |i| {
            Box::pin(async move {
                let mut f = Findings::new();
                f.pass("thing", None, format!("level={}", i.level), "test");
                f
            })
        }),
        def("test.not_applicable", |_| {
            Box::pin(async { Findings::decided(Outcome::NotApplicable, crate::model::Msg::new("対象外: テスト", "not applicable: test")) })
        }),
    ];
    TEST.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Verifier};

    #[test]
    fn names_are_unique_and_every_value_is_described() {
        let mut seen = std::collections::BTreeSet::new();
        for p in all() {
            assert!(seen.insert(p.name), "{} registered twice", p.name);
            assert!(p.name.contains('.'), "{}: name is family.name", p.name);
            for (field, v) in [("ja", p.ja), ("en", p.en), ("detail", p.detail), ("section", p.section), ("emulator", p.emulator)] {
                assert!(!v.trim().is_empty(), "{}: {field} is empty", p.name);
            }
        }
        assert!(seen.len() >= 20, "{} probes", seen.len());
    }

    #[test]
    fn every_catalog_verifier_is_registered_and_every_probe_serves_a_point() {
        let catalog = Catalog::builtin();
        for item in catalog.items() {
            for p in &item.points {
                assert!(!matches!(Verifier::of(&p.verifier), Verifier::Unknown(_)), "{} {}: verifier {} is registered nowhere", item.id, p.id, p.verifier);
            }
            if let Some(name) = item.probe.name() {
                assert!(lookup(name).is_some(), "{} names probe {name}, which is not registered", item.id);
            }
        }
        for probe in all() {
            let serves = catalog.items().iter().flat_map(|i| i.points.iter()).filter(|p| p.verifier == probe.name).count();
            assert!(serves > 0, "probe {} serves no 確認観点: name it as a point's verifier in catalog.toml, or remove it", probe.name);
        }
    }

    /// Every verifier is tried with at least two counterfeits, each built by a
    /// test that exists under its name somewhere in the workspace's tests.
    #[test]
    fn every_counterfeit_has_its_test() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf();
        let mut sources = String::new();
        for dir in ["checks/src", "checks/tests", "tests/tests", "xtask/tests", "xtask/src"] {
            collect_rs(&root.join(dir), &mut sources);
        }
        for p in all() {
            assert!(p.counterfeits.len() >= 2, "{} lists {} counterfeit(s); at least two", p.name, p.counterfeits.len());
            for c in p.counterfeits {
                assert!(sources.contains(&format!("fn {}(", c.test)), "{}: counterfeit '{}' has no test named {}", p.name, c.what, c.test);
                assert!(c.expect != crate::model::Outcome::Ok && c.expect != crate::model::Outcome::NotApplicable, "{}: {}", p.name, c.test);
            }
        }
    }

    /// The three classes of counterfeit are considered for every verifier:
    /// each is either built by a counterfeit's test or named as what the
    /// check cannot see. And every check says at least one thing it cannot see.
    #[test]
    fn every_class_is_tried_or_stated_as_unseen() {
        for p in all() {
            assert!(!p.unseen.is_empty(), "{}: say what it cannot see", p.name);
            for class in [Class::PartialObservation, Class::UnlistedData, Class::HappyPathOnly] {
                let tried = p.counterfeits.iter().any(|c| c.class == class);
                let stated = p.unseen.iter().any(|u| u.class == class);
                assert!(tried || stated, "{}: {} is neither a counterfeit nor stated as unseen", p.name, class.label());
            }
            for u in p.unseen {
                assert!(u.what.len() > 20 && u.what.ends_with('.'), "{}: {:?}", p.name, u.what);
            }
        }
    }

    fn collect_rs(dir: &std::path::Path, out: &mut String) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                collect_rs(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }

    #[test]
    fn a_probe_module_declares_only_actions_the_policy_has() {
        let policy = super::super::permissions::actions();
        for p in all() {
            for a in p.actions {
                let need = super::super::permissions::iam_action(a);
                assert!(policy.iter().any(|x| x == need), "{}: {need} not in the policy", p.name);
            }
        }
    }
}
