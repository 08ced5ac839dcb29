//! Scenario files: one TOML file per environment (`scenarios/<env>.toml`).
//!
//! A scenario says which AWS account and regions to look at, which level each
//! item must meet, what each probe needs to know, and what human reviewers
//! attested for desk (机上) items. Errors always name the file and line, so a
//! typo in a 2,000-line scenario is found in seconds.

mod error;
pub mod fleet;
pub mod layers;
mod model;

pub use error::ScenarioError;
pub use fleet::{load_fleet, Fleet, Member};
pub use layers::Sources;
pub use model::*;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where `--env NAME` looks: `<root>/NAME.toml`.
pub fn env_path(scenarios_dir: &Path, env: &str) -> PathBuf {
    scenarios_dir.join(format!("{env}.toml"))
}

/// Names of the environments available in a scenarios folder (for error messages).
pub fn available_envs(scenarios_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scenarios_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            // The crate's own Cargo.toml shares the folder with the scenarios.
            if p.extension()? != "toml" || p.file_name()? == "Cargo.toml" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

/// Read and parse a scenario file and the files it `extends`. Semantic
/// checks that need the catalog (known item IDs, valid levels) are done by
/// [`Scenario::validate`].
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let mut sources = Sources::default();
    let first = sources.read(path)?;
    let table = layers::resolve_extends(&mut sources, path, first)?;
    from_table(table, Arc::new(sources), path)
}

/// Parse scenario text; `path` is used for messages, relative paths and `extends`.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let mut sources = Sources::default();
    let first = sources.parse(path, text)?;
    let table = layers::resolve_extends(&mut sources, path, first)?;
    from_table(table, Arc::new(sources), path)
}

/// A merged scenario tree as a [`Scenario`]; `named` is the file the user
/// named (messages without a span, relative paths).
pub fn from_table(table: toml_edit::Table, sources: Arc<Sources>, named: &Path) -> Result<Scenario, ScenarioError> {
    let mut scenario: Scenario =
        toml_edit::de::from_document(toml_edit::DocumentMut::from(table)).map_err(|e| sources.invalid(e.span(), named, e.message().trim().to_string()))?;
    scenario.source = Some(Source { sources, path: named.to_path_buf() });
    Ok(scenario)
}

impl Scenario {
    /// Check item IDs and levels against the catalog. `check_level` returns
    /// `Err(reason)` for an unknown item or a level the item does not have.
    /// All problems are reported, not just the first.
    pub fn validate(&self, known_item: &dyn Fn(&str) -> bool, check_level: &dyn Fn(&str, &str) -> Result<(), String>) -> Result<(), ScenarioError> {
        let mut problems = Vec::new();
        let at = |span: std::ops::Range<usize>, message: String| self.problem(span, message);
        let unknown = |id: &str| format!("unknown item ID `{id}` (see checks/catalog.toml for the 50 items)");

        for (id, level) in &self.levels {
            if !known_item(id.get_ref()) {
                problems.push(at(id.span(), unknown(id.get_ref())));
            } else if let Err(reason) = check_level(id.get_ref(), level.get_ref()) {
                problems.push(at(level.span(), reason));
            }
        }
        for id in self.not_applicable.keys() {
            if !known_item(id.get_ref()) {
                problems.push(at(id.span(), unknown(id.get_ref())));
            }
        }
        for a in &self.attestation {
            if !known_item(a.item.get_ref()) {
                problems.push(at(a.item.span(), unknown(a.item.get_ref())));
            }
            if let (Some(exp), date) = (&a.expires, a.date) {
                if exp.get_ref() < &date {
                    problems.push(at(exp.span(), format!("attestation for {} expires ({}) before it was made ({})", a.item.get_ref(), exp.get_ref(), date)));
                }
            }
        }
        if let Some(db) = &self.database {
            if !DATABASE_ENGINES.contains(&db.engine.get_ref().as_str()) {
                problems.push(at(db.engine.span(), format!("unknown database engine `{}` (one of {})", db.engine.get_ref(), DATABASE_ENGINES.join(", "))));
            }
            if let Some(mode) = &db.sample {
                if mode.get_ref() != "all" {
                    problems.push(at(
                        mode.span(),
                        format!("[database] sample = `{}`: the only value is \"all\" (omit it for a random sample of sample_rows)", mode.get_ref()),
                    ));
                }
            }
            if db.sample_rows == 0 {
                problems.push(at(db.engine.span(), "[database] sample_rows must be at least 1".into()));
            }
            for s in &db.schemas {
                if !is_identifier(s.get_ref()) {
                    problems.push(at(s.span(), format!("`{}` is not a plain schema name (letters, digits, _)", s.get_ref())));
                }
            }
            for x in &db.exclude {
                let table_ok = x.table.get_ref().split('.').count() <= 2 && x.table.get_ref().split('.').all(is_identifier);
                if !table_ok {
                    problems
                        .push(at(x.table.span(), format!("`{}` is not a plain table name (letters, digits, _; optionally schema.table)", x.table.get_ref())));
                }
                if !is_identifier(x.column.get_ref()) {
                    problems.push(at(x.column.span(), format!("`{}` is not a plain column name (letters, digits, _)", x.column.get_ref())));
                }
                if x.reason.get_ref().trim().is_empty() {
                    problems.push(at(
                        x.reason.span(),
                        format!("[[database.exclude]] {}.{} needs a reason (stated in the evidence)", x.table.get_ref(), x.column.get_ref()),
                    ));
                }
            }
            for c in &db.personal {
                let table_ok = c.table.get_ref().split('.').count() <= 2 && c.table.get_ref().split('.').all(is_identifier);
                if !table_ok {
                    problems
                        .push(at(c.table.span(), format!("`{}` is not a plain table name (letters, digits, _; optionally schema.table)", c.table.get_ref())));
                }
                if !is_identifier(c.column.get_ref()) {
                    problems.push(at(c.column.span(), format!("`{}` is not a plain column name (letters, digits, _)", c.column.get_ref())));
                }
                if !PERSONAL_KINDS.contains(&c.kind.get_ref().as_str()) {
                    problems.push(at(c.kind.span(), format!("unknown personal-data kind `{}` (one of {})", c.kind.get_ref(), PERSONAL_KINDS.join(", "))));
                }
                if let Some(form) = &c.ciphertext {
                    let f = form.get_ref();
                    if !(matches!(f.as_str(), "pgcrypto" | "base64" | "hex") || f.strip_prefix("prefix:").is_some_and(|p| !p.is_empty())) {
                        problems.push(at(form.span(), format!("unknown ciphertext form `{f}` (pgcrypto, base64, hex or prefix:<text>)")));
                    }
                }
            }
        }
        if let Some(sep) = &self.separation {
            problems.extend(self.separation_problems(sep));
        }
        if let Some(l) = &self.login {
            let url = l.url.get_ref();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                problems.push(at(l.url.span(), format!("[login] url `{url}` must start with https:// or http://")));
            }
            if l.password_env.is_some() == l.secret_arn.is_some() {
                problems.push(at(l.url.span(), "[login] needs exactly one of password_env or secret_arn for the test account's password".into()));
            }
            if l.logged_in_marker.trim().is_empty() || l.otp_field.trim().is_empty() {
                problems.push(at(l.url.span(), "[login] logged_in_marker and otp_field must not be empty".into()));
            }
            if !TOTP_ALGORITHMS.contains(&l.totp_algorithm.get_ref().as_str()) {
                problems.push(at(
                    l.totp_algorithm.span(),
                    format!("unknown totp_algorithm `{}` (one of {})", l.totp_algorithm.get_ref(), TOTP_ALGORITHMS.join(", ")),
                ));
            }
            if !(6..=8).contains(&l.totp_digits) || l.totp_step_secs == 0 {
                problems.push(at(l.url.span(), "[login] totp_digits must be 6 to 8 and totp_step_secs above 0".into()));
            }
        }
        if let Some(d) = &self.continuity.drill {
            if *d.generation.get_ref() == 0 {
                problems.push(at(d.generation.span(), "[continuity.drill] generation starts at 1 (the newest recovery point)".into()));
            }
        }
        for v in self.continuity.drill.iter().flat_map(|d| &d.validations) {
            let name = v.name.get_ref();
            if self.database.is_none() {
                problems.push(at(v.name.span(), format!("restore validation `{name}` needs [database] (the user and credentials the copy is read with)")));
            }
            if v.kind == ValidationKind::Newest && !v.max_lag_minutes.is_some_and(|m| m >= 0.0) {
                problems.push(at(v.name.span(), format!("restore validation `{name}`: kind = \"newest\" needs max_lag_minutes (≥ 0)")));
            }
            if !(v.tolerance_percent >= 0.0 && v.tolerance_percent.is_finite()) {
                problems.push(at(v.name.span(), format!("restore validation `{name}`: tolerance_percent must be 0 or more")));
            }
        }
        for p in &self.integrations.processes {
            let n = [p.http.is_some(), p.file.is_some(), p.sql.is_some()].iter().filter(|x| **x).count();
            if n != 1 {
                problems.push(at(p.name.span(), format!("連携処理 `{}` needs exactly one of http, file or sql ({n} given)", p.name.get_ref())));
            }
            if let Some(h) = &p.http {
                if h.json_pointer.is_some() != h.json_equals.is_some() {
                    problems.push(at(p.name.span(), format!("連携処理 `{}`: json_pointer and json_equals go together", p.name.get_ref())));
                }
            }
            if p.sql.is_some() && self.database.is_none() {
                problems.push(at(p.name.span(), format!("連携処理 `{}` checks by sql, but the scenario has no [database]", p.name.get_ref())));
            }
        }
        for (id, o) in &self.observation {
            if !known_item(id.get_ref()) {
                problems.push(at(id.span(), unknown(id.get_ref())));
            } else if o.days.is_none() && o.samples.is_none() {
                problems.push(at(id.span(), format!("[observation.\"{}\"] sets neither days nor samples", id.get_ref())));
            } else if o.days.is_some_and(|d| !(d > 0.0 && d.is_finite())) {
                problems.push(at(id.span(), format!("[observation.\"{}\"] days must be above 0", id.get_ref())));
            } else if o.reason.trim().is_empty() {
                problems.push(at(id.span(), format!("[observation.\"{}\"] needs a reason", id.get_ref())));
            }
        }
        if let Some(only) = &self.only {
            for id in only {
                if !known_item(id.get_ref()) {
                    problems.push(at(id.span(), unknown(id.get_ref())));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError::Many(problems))
        }
    }

    /// `[separation]`: schema and table together, plain identifiers, on a
    /// `[database]`; ARNs and `s3://` URIs well formed; keys and prefixes need the role.
    fn separation_problems(&self, sep: &Separation) -> Vec<ScenarioError> {
        let at = |span: std::ops::Range<usize>, message: String| self.problem(span, message);
        let mut problems = Vec::new();
        match (&sep.schema, &sep.table) {
            (Some(schema), Some(table)) => {
                for v in [schema, table] {
                    if !is_identifier(v.get_ref()) {
                        problems.push(at(v.span(), format!("[separation] `{}` is not a plain identifier (letters, digits, _)", v.get_ref())));
                    }
                }
                if self.database.is_none() {
                    problems.push(at(schema.span(), "[separation] schema needs [database] (the connection the municipality's credential is used on)".into()));
                }
            }
            (Some(v), None) | (None, Some(v)) => problems.push(at(v.span(), "[separation] schema and table go together".into())),
            (None, None) => {
                if sep.user.is_some() || sep.password_env.is_some() || sep.secret_arn.is_some() {
                    problems.push(self.problem(0..0, "[separation] user/password_env/secret_arn without schema and table".into()));
                }
            }
        }
        for k in &sep.kms_key_arns {
            let arn = k.get_ref();
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if !(parts.len() == 6 && parts[0] == "arn" && parts[2] == "kms" && !parts[3].is_empty() && parts[5].starts_with("key/")) {
                problems.push(at(k.span(), format!("[separation] `{arn}` is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")));
            }
        }
        for p in &sep.s3_prefixes {
            if Separation::split_s3(p.get_ref()).is_none() || p.get_ref().contains('*') {
                problems.push(at(p.span(), format!("[separation] `{}` is not an S3 prefix (s3://bucket/prefix/)", p.get_ref())));
            }
        }
        match &sep.role_arn {
            Some(r) => {
                let parts: Vec<&str> = r.get_ref().splitn(6, ':').collect();
                if !(parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4].len() == 12 && parts[5].starts_with("role/")) {
                    problems.push(at(r.span(), format!("[separation] `{}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", r.get_ref())));
                }
            }
            None => {
                if let Some(first) = sep.kms_key_arns.first().or(sep.s3_prefixes.first()) {
                    problems.push(at(
                        first.span(),
                        "[separation] keys and prefixes need role_arn (the municipality's application role, judged against the others')".into(),
                    ));
                }
            }
        }
        if sep.schema.is_none() && sep.kms_key_arns.is_empty() && sep.s3_prefixes.is_empty() && sep.role_arn.is_none() {
            problems.push(self.problem(0..0, "[separation] names nothing to separate (schema + table, kms_key_arns, s3_prefixes or role_arn)".into()));
        }
        problems
    }

    /// Each attestation's `point` must be a 確認観点 of its item
    /// (`known_point(item, point)` says why not).
    pub fn validate_points(&self, known_point: &dyn Fn(&str, &str) -> Result<(), String>) -> Result<(), ScenarioError> {
        let problems: Vec<ScenarioError> = self
            .attestation
            .iter()
            .filter_map(|a| {
                let point = a.point.as_ref()?;
                known_point(a.item.get_ref(), point.get_ref()).err().map(|why| self.problem(point.span(), why))
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError::Many(problems))
        }
    }

    fn problem(&self, span: std::ops::Range<usize>, message: String) -> ScenarioError {
        match &self.source {
            Some(s) => s.sources.invalid(Some(span), &s.path, message),
            None => ScenarioError::Invalid { path: PathBuf::from("<scenario>"), line: 0, column: 0, message },
        }
    }

    /// File the scenario was read from, if any (the one named, not its bases):
    /// relative paths in the scenario resolve against its folder.
    pub fn path(&self) -> Option<&Path> {
        self.source.as_ref().map(|s| s.path.as_path())
    }

    /// Every file this scenario was built from (bases first, then overlays), with its text.
    pub fn layers(&self) -> Vec<(&Path, &str)> {
        self.source.as_ref().map(|s| s.sources.files().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
