//! gcverify's heart: the requirement catalog (the 50 items of the 検証結果
//! table), the result model, the engine that runs probes, and the probes.

pub mod aws;
pub mod catalog;
pub mod docs;
pub mod drill;
pub mod engine;
pub mod inventory;
pub mod model;
pub mod probes;

pub use catalog::{Catalog, Item, Kind};
pub use engine::{run, Progress, RunOptions};
pub use model::{Evidence, EvidenceStatus, ItemResult, Msg, Outcome, RunReport};
pub use probes::tls::sha256_hex;

/// `path` relative to the working directory when under it (reports carry no
/// home or build directories), else as given.
pub fn relative_path(path: &std::path::Path) -> String {
    let rel = std::env::current_dir().ok().and_then(|cwd| path.strip_prefix(cwd).ok().map(std::path::Path::to_path_buf));
    rel.unwrap_or_else(|| path.to_path_buf()).display().to_string()
}

/// Load a scenario file and validate it against the catalog.
pub fn load_scenario(path: &std::path::Path, catalog: &Catalog) -> Result<gcverify_scenarios::Scenario, gcverify_scenarios::ScenarioError> {
    let scenario = gcverify_scenarios::load(path)?;
    scenario.validate(&|id| catalog.get(id).is_some(), &|id, level| catalog.check_level(id, level))?;
    scenario.validate_points(&|id, point| catalog.check_point(id, point))?;
    Ok(scenario)
}
