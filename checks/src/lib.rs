//! gcverify's heart: the requirement catalog (the 50 items of the 検証結果
//! table), the result model, the engine that runs probes, and the probes.

pub mod aws;
pub mod aws_calls;
pub mod catalog;
pub mod comparison;
pub mod docs;
pub mod drill;
pub mod engine;
pub mod inventory;
pub mod model;
pub mod probes;
pub mod remedies;
pub mod separation;
pub mod verdict;

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
    validate_scenario(&scenario, catalog)?;
    Ok(scenario)
}

/// A scenario's item IDs, levels and attestation points checked against the catalog.
pub fn validate_scenario(scenario: &gcverify_scenarios::Scenario, catalog: &Catalog) -> Result<(), gcverify_scenarios::ScenarioError> {
    scenario.validate(&|id| catalog.get(id).is_some(), &|id, level| catalog.check_level(id, level))?;
    scenario.validate_points(&|id, point| catalog.check_point(id, point))
}

/// A fleet file with every environment's scenario validated; all problems
/// of all environments at once, each with its file:line.
pub fn load_fleet(path: &std::path::Path, catalog: &Catalog) -> Result<gcverify_scenarios::Fleet, gcverify_scenarios::ScenarioError> {
    let fleet = gcverify_scenarios::load_fleet(path)?;
    let mut problems: Vec<gcverify_scenarios::ScenarioError> = Vec::new();
    for m in &fleet.members {
        if let Err(e) = validate_scenario(&m.scenario, catalog) {
            match e {
                gcverify_scenarios::ScenarioError::Many(v) => problems.extend(v),
                other => problems.push(other),
            }
        }
    }
    // The base's problem shows once, not once per environment.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.to_string()));
    if problems.is_empty() {
        Ok(fleet)
    } else {
        Err(gcverify_scenarios::ScenarioError::Many(problems))
    }
}
