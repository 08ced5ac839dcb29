//! Fleet files (`scenarios/fleets/<name>.toml`): every municipality an ASP
//! serves, as one base scenario plus one `[[environment]]` entry each — its
//! account (a role to assume, or a profile) and what differs (scope tags
//! under 共同利用, levels, an attestations file, any scenario key).
//!
//! ```toml
//! [fleet]
//! base = "../prod.toml"          # relative to this file
//!
//! [[environment]]
//! name = "a-city"
//! municipality = "A市"
//! role_arn = "arn:aws:iam::111111111111:role/gcverify-readonly"
//! attestations = "a-city.attest.toml"   # merged over the base
//! [environment.scenario]                # any scenario keys, merged last
//! scope.tags = { Municipality = "A市" }
//! ```
//!
//! Each environment's scenario is the base (with its `extends` chain), then
//! the attestations file, then `scenario`, then the entry's identity and
//! account; tables merge, everything else is replaced. Spans keep pointing
//! into the file each value came from (see [`crate::layers`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;
use toml_edit::{Item, Table};

use crate::layers::{merge, resolve_extends, Sources};
use crate::{from_table, Scenario, ScenarioError};

/// A parsed fleet: its environments in name order.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub name: String,
    pub path: PathBuf,
    pub members: Vec<Member>,
}

/// One environment of a fleet.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub municipality: String,
    /// Environments with the same `shared` value are one system under 共同利用方式
    /// (several municipalities, data separated logically).
    pub shared: Option<String>,
    pub scenario: Scenario,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetHeader {
    name: Option<String>,
    base: Spanned<String>,
}

/// An entry's keys, declared so that their types are checked and unknown
/// keys are errors; the values themselves are moved into the scenario tree.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EntryDef {
    name: Spanned<String>,
    municipality: Option<String>,
    system: Option<String>,
    role_arn: Option<String>,
    external_id: Option<String>,
    session_name: Option<String>,
    profile: Option<String>,
    shared: Option<String>,
    attestations: Option<Spanned<String>>,
    /// Scenario keys merged over the base (read as a tree, not here).
    scenario: Option<serde::de::IgnoredAny>,
}

/// Where `--fleet NAME` looks: `<scenarios>/fleets/NAME.toml`.
pub fn fleet_path(scenarios_dir: &Path, name: &str) -> PathBuf {
    scenarios_dir.join("fleets").join(format!("{name}.toml"))
}

/// Names usable as folders: letters, digits, `.`, `_`, `-`.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Read a fleet file and build every environment's scenario. All problems
/// of all entries are reported together, each with its file:line.
pub fn load_fleet(path: &Path) -> Result<Fleet, ScenarioError> {
    let mut sources = Sources::default();
    let mut root = sources.read(path)?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();

    let header_item = root.remove("fleet");
    let Some(header_table) = header_item.clone().and_then(|i| i.into_table().ok()) else {
        return Err(sources.invalid(header_item.and_then(|i| i.span()), path, "a fleet needs a [fleet] table with `base` (the base scenario's path)".into()));
    };
    let header: FleetHeader = deserialize(&sources, header_table, path)?;
    let name = header.name.clone().unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    if !is_plain_name(&name) {
        return Err(sources.invalid(
            Some(header.base.span()),
            path,
            format!("fleet name `{name}` must be letters, digits, '.', '_' or '-' (it names a folder)"),
        ));
    }
    let base_path = dir.join(header.base.get_ref());
    if !base_path.is_file() {
        return Err(sources.invalid(Some(header.base.span()), path, format!("[fleet] base: no such scenario {}", base_path.display())));
    }
    let first = sources.read(&base_path)?;
    let base = resolve_extends(&mut sources, &base_path, first)?;

    let entries = match root.remove("environment") {
        Some(Item::ArrayOfTables(a)) => a.into_iter().collect::<Vec<Table>>(),
        Some(other) => return Err(sources.invalid(other.span(), path, "`environment` must be an array of tables: [[environment]]".into())),
        None => Vec::new(),
    };
    if let Some((key, _)) = root.iter().next() {
        let span = root.key(key).and_then(|k| k.span());
        return Err(sources.invalid(span, path, format!("unknown key `{key}` in a fleet file (expected [fleet] and [[environment]])")));
    }
    if entries.is_empty() {
        return Err(sources.invalid(None, path, "the fleet has no [[environment]] entries".into()));
    }

    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    let mut built: Vec<(EntryDef, Table)> = Vec::new();
    for mut entry in entries {
        let scenario_overrides = entry.remove("scenario");
        let def: EntryDef = match deserialize(&sources, entry.clone(), path) {
            Ok(d) => d,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if !is_plain_name(def.name.get_ref()) {
            problems.push(sources.invalid(
                Some(def.name.span()),
                path,
                format!("environment name `{}` must be letters, digits, '.', '_' or '-' (it names a folder)", def.name.get_ref()),
            ));
            continue;
        }
        if !names.insert(def.name.get_ref().clone()) {
            problems.push(sources.invalid(Some(def.name.span()), path, format!("environment `{}` is listed twice", def.name.get_ref())));
            continue;
        }
        if def.role_arn.is_some() && def.profile.is_some() {
            problems.push(sources.invalid(Some(def.name.span()), path, format!("environment `{}`: give role_arn or profile, not both", def.name.get_ref())));
            continue;
        }
        let mut table = base.clone();
        if let Some(rel) = &def.attestations {
            let file = dir.join(rel.get_ref());
            if !file.is_file() {
                problems.push(sources.invalid(Some(rel.span()), path, format!("attestations: no such file {}", file.display())));
                continue;
            }
            match sources.read(&file) {
                Ok(t) => merge(&mut table, t),
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            }
        }
        match scenario_overrides.map(Item::into_table) {
            Some(Ok(t)) => merge(&mut table, t),
            Some(Err(other)) => {
                problems.push(sources.invalid(other.span(), path, "`scenario` must be a table of scenario keys".into()));
                continue;
            }
            None => {}
        }
        merge(&mut table, identity(entry));
        // The entry's account replaces the base's: a profile drops a base role, and the reverse.
        if let Some(aws) = table.get_mut("aws").and_then(Item::as_table_like_mut) {
            if def.profile.is_some() {
                aws.remove("role_arn");
                aws.remove("external_id");
            } else if def.role_arn.is_some() {
                aws.remove("profile");
            }
        }
        built.push((def, table));
    }
    if !problems.is_empty() {
        return Err(ScenarioError::Many(problems));
    }

    let sources = Arc::new(sources);
    let mut members = Vec::with_capacity(built.len());
    for (def, table) in built {
        // Relative paths of the scenario (load profiles, stores) resolve against the base's folder.
        match from_table(table, sources.clone(), &base_path) {
            Ok(scenario) => {
                members.push(Member { name: def.name.get_ref().clone(), municipality: scenario.environment.municipality.clone(), shared: def.shared, scenario })
            }
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        return Err(ScenarioError::Many(problems));
    }
    members.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Fleet { name, path: path.to_path_buf(), members })
}

/// The entry's own keys moved to where a scenario has them (spans kept):
/// `[environment]` name/municipality/system and `[aws]` account access.
fn identity(mut entry: Table) -> Table {
    let mut environment = Table::new();
    let mut aws = Table::new();
    for key in ["name", "municipality", "system"] {
        if let Some((k, v)) = entry.remove_entry(key) {
            environment.insert_formatted(&k, v);
        }
    }
    for key in ["role_arn", "external_id", "session_name", "profile"] {
        if let Some((k, v)) = entry.remove_entry(key) {
            aws.insert_formatted(&k, v);
        }
    }
    let mut out = Table::new();
    out.insert("environment", Item::Table(environment));
    if !aws.is_empty() {
        out.insert("aws", Item::Table(aws));
    }
    out
}

fn deserialize<T: serde::de::DeserializeOwned>(sources: &Sources, table: Table, path: &Path) -> Result<T, ScenarioError> {
    toml_edit::de::from_document(toml_edit::DocumentMut::from(table)).map_err(|e| sources.invalid(e.span(), path, e.message().trim().to_string()))
}

impl Fleet {
    /// The `index`-th (1-based) of `count` deterministic slices: members in
    /// name order, dealt round-robin, so shards are balanced and every
    /// member is in exactly one.
    pub fn shard(&self, index: usize, count: usize) -> Vec<&Member> {
        self.members.iter().enumerate().filter(|(i, _)| count > 0 && i % count == index.saturating_sub(1)).map(|(_, m)| m).collect()
    }
}

/// `--shard i/n` → (i, n) with 1 ≤ i ≤ n.
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (i, n) = text.split_once('/').ok_or_else(|| format!("--shard `{text}`: expected i/n, e.g. 1/4"))?;
    let i: usize = i.trim().parse().map_err(|_| format!("--shard `{text}`: `{i}` is not a number"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("--shard `{text}`: `{n}` is not a number"))?;
    if n == 0 || i == 0 || i > n {
        return Err(format!("--shard `{text}`: needs 1 ≤ i ≤ n"));
    }
    Ok((i, n))
}
