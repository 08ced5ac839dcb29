//! The requirement catalog: the 50 items of the 検証結果 table as data
//! (`checks/catalog.toml`, transcribed from the Government Cloud pilot).

use serde::Deserialize;

const CATALOG_TOML: &str = include_str!("../catalog.toml");

/// The standard the catalog's rows come from.
pub const STANDARD: &str = "地方公共団体情報システム非機能要件の標準";

/// 種別: verified on the real system (実機) or by document review (机上).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Kind {
    #[serde(rename = "実機")]
    OnSystem,
    #[serde(rename = "机上")]
    Desk,
    /// Not verified in the pilot (検証実施有無 = 無).
    #[serde(rename = "")]
    None,
}

impl Kind {
    pub fn label(self, lang: crate::model::Lang) -> &'static str {
        use crate::model::Lang::*;
        match (self, lang) {
            (Kind::OnSystem, Ja) => "実機",
            (Kind::OnSystem, En) => "system",
            (Kind::Desk, Ja) => "机上",
            (Kind::Desk, En) => "desk",
            (Kind::None, _) => "-",
        }
    }
}

/// One row of the 検証結果 table.
#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    /// 項番, e.g. `E.6.1.2`.
    pub id: String,
    /// 大項目
    pub category: String,
    /// 中項目
    pub subcategory: String,
    /// 小項目 (メトリクス)
    pub metric: String,
    /// メトリクス説明
    #[serde(default)]
    pub description: String,
    pub standard_level: String,
    #[serde(default)]
    pub standard_label: String,
    #[serde(default)]
    pub selection_condition: String,
    #[serde(default)]
    pub notes: String,
    /// 選択レベル as selected in the pilot; scenarios may override it.
    pub selected_level: String,
    #[serde(default)]
    pub selected_label: String,
    /// Qualifier of a `*` level, e.g. A.1.3.2's 3時間/12時間.
    #[serde(default)]
    pub level_note: String,
    /// 検証実施有無
    pub verified: bool,
    /// 判断理由 when not verified.
    #[serde(default)]
    pub not_verified_reason: String,
    /// 検証事項
    #[serde(default)]
    pub check_item: String,
    /// 検証範囲
    #[serde(default)]
    pub scope: String,
    pub kind: Kind,
    /// 方法
    #[serde(default)]
    pub method: String,
    /// What verifies the row as a whole (`probe = "family.name"`, `"attestation"`
    /// or `"not_applicable"` in the TOML).
    pub probe: RowVerifier,
    /// 確認観点: what the 検証事項 and 方法 say was verified, each with its verifier.
    #[serde(default, rename = "point")]
    pub points: Vec<Point>,
    #[serde(default)]
    pub pilot: Pilot,
    /// What differs between the items one probe serves (`[item.params]`,
    /// `[item.params.level."N"]`): data here instead of `match item.id` in the probe.
    #[serde(default)]
    pub params: toml::Table,
    /// Levels at which the standard asks nothing of this item
    /// (`[item.not_applicable_at."0"]`): the verdict makes the row 対象外 with
    /// this reason before any probe runs.
    #[serde(default)]
    pub not_applicable_at: std::collections::BTreeMap<String, LevelReason>,
}

/// Why a level asks nothing (Japanese, English).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct LevelReason {
    pub ja: String,
    pub en: String,
}

impl Item {
    /// `[item.params] key`, typed. An error names the item and the key: a catalog defect.
    pub fn param<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T, String> {
        let v = self.params.get(key).ok_or_else(|| format!("catalog: {} has no params.{key}", self.id))?;
        v.clone().try_into().map_err(|e| format!("catalog: {} params.{key}: {e}", self.id))
    }

    /// `[item.params.level."N"]` for the level, typed; `Ok(None)` when the level is not listed.
    pub fn level_param<T: serde::de::DeserializeOwned>(&self, level: &str) -> Result<Option<T>, String> {
        let Some(v) = self.params.get("level").and_then(|l| l.as_table()).and_then(|l| l.get(level)) else { return Ok(None) };
        v.clone().try_into().map(Some).map_err(|e| format!("catalog: {} params.level.{level}: {e}", self.id))
    }

    /// The levels `[item.params.level]` lists, for "supported levels" messages.
    pub fn param_levels(&self) -> Vec<String> {
        self.params.get("level").and_then(|l| l.as_table()).map(|t| t.keys().cloned().collect()).unwrap_or_default()
    }
}

/// What verifies a row as a whole: its main probe (which also decides when
/// the whole row is 対象外), a reviewer's attestation (机上 items), or
/// nothing because the pilot left the item out (検証実施有無 = 無).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum RowVerifier {
    Probe(String),
    Attestation,
    NotVerified,
}

impl From<String> for RowVerifier {
    fn from(s: String) -> Self {
        match s.as_str() {
            "attestation" => RowVerifier::Attestation,
            "not_applicable" => RowVerifier::NotVerified,
            _ => RowVerifier::Probe(s),
        }
    }
}

impl RowVerifier {
    /// The probe's name, when a probe verifies the row.
    pub fn name(&self) -> Option<&str> {
        match self {
            RowVerifier::Probe(n) => Some(n),
            _ => None,
        }
    }
    /// As written in the catalog.
    pub fn as_str(&self) -> &str {
        match self {
            RowVerifier::Probe(n) => n,
            RowVerifier::Attestation => "attestation",
            RowVerifier::NotVerified => "not_applicable",
        }
    }
}

impl std::fmt::Display for RowVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The least observation a measured point needs before it can be OK
/// (`observation = { days = 30 }` on the point; a scenario may override it).
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MinObservation {
    /// Observed period, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<f64>,
    /// Samples (requests per operation and phase, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
}

/// One 確認観点 of an item, transcribed from its 検証事項 / 方法.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct Point {
    /// Short id, unique within the item (`staff-2fa`).
    pub id: String,
    /// The Japanese text (may say 「同 No.N」: see [`Catalog::referenced`]).
    pub text: String,
    /// English gloss.
    pub en: String,
    /// Who verifies it: a probe or `attestation` (see [`Verifier`]).
    pub verifier: String,
    /// The claims that prove it: its verifier's by id, another's as
    /// `verifier/claim`; empty: the verifier's only claim (see `verdict::claims_of`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
    /// Only at these 選択レベル (empty: at every level).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<String>,
    /// For a point measured over time: the least observation before it can be OK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<MinObservation>,
}

impl Point {
    pub fn text(&self, lang: crate::model::Lang) -> &str {
        match lang {
            crate::model::Lang::Ja => &self.text,
            crate::model::Lang::En => &self.en,
        }
    }
    pub fn applies_at(&self, level: &str) -> bool {
        self.levels.is_empty() || self.levels.iter().any(|l| l == level)
    }
}

/// A point's verifier, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verifier<'a> {
    /// A registered probe (`probes::registry`).
    Probe(&'a str),
    /// A reviewer's `[[attestation]]`.
    Attestation,
    /// A name nothing knows: a catalog defect (a test forbids it).
    Unknown(&'a str),
}

impl<'a> Verifier<'a> {
    pub fn of(name: &'a str) -> Self {
        if name == "attestation" {
            Verifier::Attestation
        } else if crate::probes::lookup(name).is_some() {
            Verifier::Probe(name)
        } else {
            Verifier::Unknown(name)
        }
    }
}

/// What the pilot recorded for the item (kept for reference, never used as a result).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Pilot {
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub end: String,
    #[serde(default)]
    pub result: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub achieved_level: String,
    #[serde(default)]
    pub achieved: String,
}

#[derive(Debug, Deserialize)]
struct File {
    /// Optional so a test's catalog of a few items needs none; the built-in one has it (tested).
    #[serde(default)]
    standard: Option<Standard>,
    item: Vec<Item>,
}

/// The edition of the standard the catalog transcribes (`[standard]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Standard {
    /// The title as the edition names it.
    pub title: String,
    /// When it was issued (e.g. 令和２年９月).
    pub edition: String,
    /// Who issued it.
    pub issuer: String,
}

impl Standard {
    /// 「title」（edition issuer）, as the pilot's overview cites it.
    pub fn citation(&self) -> String {
        format!("「{}」（{} {}）", self.title, self.edition, self.issuer)
    }
}

/// All items, in the order of the 検証結果 table.
#[derive(Debug, Clone)]
pub struct Catalog {
    standard: Option<Standard>,
    items: Vec<Item>,
    /// SHA-256 of the TOML text the catalog was read from.
    sha256: String,
}

/// Levels of the 非機能要件の標準 run from 0 to 5; `*` marks a level agreed
/// individually (its meaning is in `level_note`).
pub const LEVELS: [&str; 7] = ["0", "1", "2", "3", "4", "5", "*"];

impl Catalog {
    /// The catalog shipped with gcverify. It is validated by tests, so a
    /// parse failure here is a build defect, not a user input error.
    pub fn builtin() -> Self {
        Self::from_toml(CATALOG_TOML).expect("checks/catalog.toml is valid (tested)")
    }

    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        let file: File = toml::from_str(text)?;
        Ok(Self { standard: file.standard, items: file.item, sha256: crate::sha256_hex(text.as_bytes()) })
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The edition of the standard the items were transcribed from.
    pub fn standard(&self) -> Option<&Standard> {
        self.standard.as_ref()
    }

    /// What a report records of the catalog: the standard, its edition and the catalog text's SHA-256.
    pub fn reference(&self) -> crate::model::CatalogRef {
        crate::model::CatalogRef {
            standard: STANDARD.to_string(),
            standard_version: self.standard.as_ref().map(Standard::citation),
            sha256: self.sha256.clone(),
            items: self.items.len(),
        }
    }

    /// Items with a point whose probe reads the scenario section `section`
    /// (e.g. `[login]`, `[database`): the demo starts a local service only
    /// when the run includes one of them.
    pub fn items_reading(&self, section: &str) -> Vec<&str> {
        self.items()
            .iter()
            .filter(|i| i.points.iter().any(|p| crate::probes::lookup(&p.verifier).is_some_and(|d| d.section.contains(section))))
            .map(|i| i.id.as_str())
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The items a text refers to with 「同 No.N」 (N = the row in table
    /// order, 1-based), in the order they appear.
    pub fn referenced(&self, text: &str) -> Vec<&Item> {
        let mut out: Vec<&Item> = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("No.") {
            let before = &rest[..at];
            let after = &rest[at + 3..];
            let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
            rest = &after[digits.len()..];
            // Only 「同 No.N」 / 「同No.N」 (the seed's wording), not any "No." in prose.
            if !before.trim_end().ends_with('同') {
                continue;
            }
            if let Some(item) = digits.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| self.items.get(i)) {
                if !out.iter().any(|o| o.id == item.id) {
                    out.push(item);
                }
            }
        }
        out
    }

    /// Whether `point` is a 確認観点 of item `id` (scenario validation).
    pub fn check_point(&self, id: &str, point: &str) -> Result<(), String> {
        let item = self.get(id).ok_or_else(|| format!("unknown item ID `{id}`"))?;
        if item.points.iter().any(|p| p.id == point) {
            return Ok(());
        }
        let known: Vec<&str> = item.points.iter().map(|p| p.id.as_str()).collect();
        Err(format!("{id} has no 確認観点 `{point}` (its points: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") }))
    }

    /// 選択レベル in force for every item: the scenario's `[levels]` override, else the catalog's.
    pub fn levels_in_force(&self, scenario: &gcverify_scenarios::Scenario) -> std::collections::BTreeMap<String, String> {
        self.items
            .iter()
            .map(|i| {
                let over = scenario.levels.iter().find(|(id, _)| id.get_ref() == &i.id).map(|(_, l)| l.get_ref().clone());
                (i.id.clone(), over.unwrap_or_else(|| i.selected_level.clone()))
            })
            .collect()
    }

    /// Whether `level` is a level this item can be set to.
    pub fn check_level(&self, id: &str, level: &str) -> Result<(), String> {
        let item = self.get(id).ok_or_else(|| format!("unknown item ID `{id}`"))?;
        if !LEVELS.contains(&level) {
            return Err(format!("level `{level}` for {id} is not one of 0, 1, 2, 3, 4, 5 or *"));
        }
        if level == "*" && item.standard_level != "*" && item.selected_level != "*" {
            return Err(format!("{id} has no individually agreed level `*`; use 0-5"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_all_fifty_items() {
        let c = Catalog::builtin();
        assert_eq!(c.items().len(), 50);
        assert!(c.get("E.6.1.2").is_some());
        assert!(c.get("Z.0.0.0").is_none());
    }

    #[test]
    fn every_item_names_a_probe_and_desk_items_use_attestation() {
        for item in Catalog::builtin().items() {
            assert!(!item.probe.as_str().is_empty(), "{} has no probe", item.id);
            if item.kind == Kind::Desk {
                assert_eq!(item.probe, RowVerifier::Attestation, "{}", item.id);
            }
            // Items the pilot did not verify are 対象外 at the pilot's level; E.10.1.2
            // has a real probe for scenarios that raise its level (it is N/A at 0).
            if !item.verified {
                assert!(matches!(item.probe.as_str(), "not_applicable" | "web.waf"), "{}", item.id);
            }
        }
    }

    #[test]
    fn same_no_references_resolve_to_the_nth_row() {
        let c = Catalog::builtin();
        let ids = |t: &str| c.referenced(t).iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("同 No.10 と同じ"), [c.items()[9].id.clone()]);
        assert_eq!(ids("同No.14、同 No.3、同 No.14"), [c.items()[13].id.clone(), c.items()[2].id.clone()]);
        assert!(ids("No.10 の手順").is_empty(), "a bare No. is not a reference");
        assert!(ids("同 No.99").is_empty(), "beyond the table");
        assert!(ids("同 No.").is_empty());
    }

    #[test]
    fn every_point_has_a_known_verifier_and_a_unique_id() {
        for item in Catalog::builtin().items() {
            let mut ids = std::collections::BTreeSet::new();
            for p in &item.points {
                assert!(ids.insert(p.id.as_str()), "{}: point {} twice", item.id, p.id);
                assert!(!p.text.trim().is_empty() && !p.en.trim().is_empty(), "{} {}: empty text", item.id, p.id);
                assert!(!matches!(Verifier::of(&p.verifier), Verifier::Unknown(_)), "{} {}: unknown verifier {}", item.id, p.id, p.verifier);
                assert!(p.levels.iter().all(|l| LEVELS.contains(&l.as_str())), "{} {}: bad level", item.id, p.id);
            }
        }
    }

    #[test]
    fn verified_items_have_points_and_their_probe_serves_one() {
        for item in Catalog::builtin().items() {
            match &item.probe {
                RowVerifier::NotVerified => assert!(item.points.is_empty(), "{}: not verified in the pilot, no points", item.id),
                RowVerifier::Attestation => {
                    assert!(!item.points.is_empty(), "{}", item.id);
                    assert!(item.points.iter().all(|p| p.verifier == "attestation"), "{}", item.id);
                }
                RowVerifier::Probe(probe) => {
                    assert!(!item.points.is_empty(), "{} has no 確認観点", item.id);
                    assert!(item.points.iter().any(|p| &p.verifier == probe), "{}: its probe {probe} serves no point", item.id);
                }
            }
        }
    }

    #[test]
    fn params_are_read_typed_and_missing_ones_are_named() {
        let c = Catalog::builtin();
        let item = c.get("C.1.1.2").expect("item");
        assert_eq!(item.param::<String>("day_kind").as_deref(), Ok("holiday"));
        assert!(item.param::<String>("nope").unwrap_err().contains("C.1.1.2 has no params.nope"));
        assert!(item.param::<u32>("day_kind").unwrap_err().contains("params.day_kind"));
        #[derive(serde::Deserialize, Debug)]
        struct Need {
            artefacts_required: bool,
        }
        let a311 = c.get("A.3.1.1").expect("item");
        assert!(a311.level_param::<Need>("3").expect("typed").expect("listed").artefacts_required);
        assert!(a311.level_param::<Need>("5").expect("typed").is_none());
        assert_eq!(a311.param_levels(), ["1", "2", "3", "4"]);
    }

    #[test]
    fn point_check_names_the_known_points() {
        let c = Catalog::builtin();
        assert!(c.check_point("E.5.1.1", "no-such-point").unwrap_err().contains("its points:"));
        assert!(c.check_point("Z.9.9.9", "x").is_err());
    }

    #[test]
    fn the_standards_edition_is_data_and_reaches_the_reference() {
        let c = Catalog::builtin();
        let s = c.standard().expect("checks/catalog.toml has [standard]");
        assert_eq!(s.title, "地方自治体の業務プロセス・情報システムの非機能要件の標準（標準非機能要件）");
        assert_eq!((s.edition.as_str(), s.issuer.as_str()), ("令和２年９月", "内閣官房IT室・総務省"));
        assert_eq!(
            c.reference().standard_version.as_deref(),
            Some("「地方自治体の業務プロセス・情報システムの非機能要件の標準（標準非機能要件）」（令和２年９月 内閣官房IT室・総務省）")
        );
        // Without `[standard]` the edition is unknown, and reports say 記録なし rather than guess.
        let bare = Catalog::from_toml("item = []").expect("no items");
        assert!(bare.reference().standard_version.is_none());
    }

    #[test]
    fn level_checks() {
        let c = Catalog::builtin();
        assert!(c.check_level("E.6.1.2", "2").is_ok());
        assert!(c.check_level("E.6.1.2", "7").is_err());
        assert!(c.check_level("E.6.1.2", "*").is_err());
        assert!(c.check_level("A.1.3.2", "*").is_ok());
    }
}
