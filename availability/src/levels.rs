//! Level tables (data/levels.toml): A.1.5.1 稼働率 targets and the nominal
//! hours of C.1.1.1 / C.1.1.2, with the standard's wording.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct UptimeLevel {
    pub level: String,
    pub label: String,
    pub percent: f64,
    pub yearly_stop: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HoursLevel {
    pub level: String,
    pub label: String,
    pub nominal_hours: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Levels {
    pub a151: Vec<UptimeLevel>,
    pub c111: Vec<HoursLevel>,
}

impl Levels {
    pub fn builtin() -> Result<Self, String> {
        toml::from_str(include_str!("../data/levels.toml")).map_err(|e| format!("availability/data/levels.toml: {e}"))
    }

    pub fn uptime(&self, level: &str) -> Option<&UptimeLevel> {
        self.a151.iter().find(|l| l.level == level)
    }

    pub fn hours(&self, level: &str) -> Option<&HoursLevel> {
        self.c111.iter().find(|l| l.level == level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_three_is_ninety_nine_point_five() {
        let l = Levels::builtin().unwrap();
        let three = l.uptime("3").unwrap();
        assert_eq!((three.percent, three.label.as_str()), (99.5, "99.5%"));
        assert!(three.yearly_stop.contains("14.5"));
        assert!(l.uptime("9").is_none());
        assert_eq!(l.hours("2").map(|h| h.nominal_hours), Some(12.0));
    }
}
