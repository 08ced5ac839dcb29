//! The requirement catalog: the 50 items of the 検証結果 table as data
//! (`checks/catalog.toml`, transcribed from the Government Cloud pilot).

use serde::Deserialize;

const CATALOG_TOML: &str = include_str!("../catalog.toml");

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
    /// The probe that verifies the item: `family.name`, `attestation` or `not_applicable`.
    pub probe: String,
    #[serde(default)]
    pub pilot: Pilot,
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
    item: Vec<Item>,
}

/// All items, in the order of the 検証結果 table.
#[derive(Debug, Clone)]
pub struct Catalog {
    items: Vec<Item>,
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
        Ok(Self { items: file.item })
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
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
            assert!(!item.probe.is_empty(), "{} has no probe", item.id);
            if item.kind == Kind::Desk {
                assert_eq!(item.probe, "attestation", "{}", item.id);
            }
            // Items the pilot did not verify are 対象外 at the pilot's level; E.10.1.2
            // has a real probe for scenarios that raise its level (it is N/A at 0).
            if !item.verified {
                assert!(matches!(item.probe.as_str(), "not_applicable" | "web.waf"), "{}", item.id);
            }
        }
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
