//! 対処: what to change when a claim is violated, per verifier and claim
//! (`checks/data/remedies.toml`). Data, not probe code, so a remedy is edited
//! without touching a probe; reports show it on NG rows.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::model::Lang;

const REMEDIES_TOML: &str = include_str!("../data/remedies.toml");

/// One claim's 対処 in both languages.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Remedy {
    pub ja: String,
    pub en: String,
}

impl Remedy {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

/// verifier → claim → 対処.
type Table = BTreeMap<String, BTreeMap<String, Remedy>>;

/// Validated by the tests below, so a parse failure is a build defect.
static TABLE: LazyLock<Table> = LazyLock::new(|| toml::from_str(REMEDIES_TOML).expect("checks/data/remedies.toml is valid (tested)"));

/// The 対処 for a violated `claim` of `verifier`; None for a claim no
/// registered verifier declares (a test keeps the two lists equal).
pub fn remedy(verifier: &str, claim: &str) -> Option<&'static Remedy> {
    TABLE.get(verifier).and_then(|claims| claims.get(claim))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_japanese(s: &str) -> bool {
        s.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
    }

    #[test]
    fn every_declared_claim_has_a_remedy_and_no_key_is_unknown() {
        let table: Table = toml::from_str(REMEDIES_TOML).expect("remedies.toml parses");
        let mut missing = Vec::new();
        for def in crate::probes::registry::all() {
            for claim in def.claims {
                if remedy(def.name, claim.id).is_none() {
                    missing.push(format!("{}.{}", def.name, claim.id));
                }
            }
        }
        assert!(missing.is_empty(), "claims without a 対処 in checks/data/remedies.toml: {missing:?}");
        for (verifier, claims) in &table {
            let def = crate::probes::registry::all().find(|d| d.name == verifier).unwrap_or_else(|| panic!("remedies.toml: no verifier {verifier}"));
            for claim in claims.keys() {
                assert!(def.claim(claim).is_some(), "remedies.toml: {verifier} declares no claim {claim}");
            }
        }
    }

    #[test]
    fn remedies_are_short_bilingual_and_name_a_setting() {
        for (verifier, claims) in TABLE.iter() {
            for (claim, r) in claims {
                let at = format!("{verifier}.{claim}");
                assert!(has_japanese(&r.ja), "{at}: ja is Japanese");
                assert!(!has_japanese(&r.en), "{at}: en is English");
                for text in [&r.ja, &r.en] {
                    assert!(!text.trim().is_empty() && text.chars().count() <= 300, "{at}: short: {text}");
                    assert!(!text.contains('\n'), "{at}: one line");
                }
            }
        }
        let ebs = remedy("encryption.at_rest", "storage-encrypted").expect("remedy");
        assert!(ebs.text(Lang::Ja).contains("ec2:EnableEbsEncryptionByDefault"));
        assert!(ebs.text(Lang::En).starts_with("Turn on EBS encryption by default"));
        assert_eq!(remedy("encryption.at_rest", "no-such-claim"), None);
    }
}
