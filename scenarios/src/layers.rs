//! Layered scenarios: `extends = "base.toml"` chains and fleet overlays,
//! merged as TOML trees whose spans still point into the file each value
//! came from, so every error keeps its file:line.
//!
//! toml_edit spans are byte offsets into the string that was parsed. Each
//! file is parsed behind as many spaces as the files before it have bytes
//! (whitespace TOML ignores), so its spans fall in a range no other file
//! uses, and [`Sources::locate`] finds the file and line of any span.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Item, Table};

use crate::error::{line_col, ScenarioError};

/// Every file that went into one or more scenarios (shared by a fleet's environments).
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
    end: usize,
}

#[derive(Debug)]
struct SourceFile {
    path: PathBuf,
    text: String,
    offset: usize,
}

impl Sources {
    /// Read and parse one more file as a layer.
    pub fn read(&mut self, path: &Path) -> Result<Table, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { path: path.to_path_buf(), source })?;
        self.parse(path, &text)
    }

    /// Parse `text` (from `path`) as one more layer; its spans are unique among the layers.
    pub fn parse(&mut self, path: &Path, text: &str) -> Result<Table, ScenarioError> {
        let offset = self.end;
        let mut padded = String::with_capacity(offset + text.len());
        padded.extend(std::iter::repeat_n(' ', offset));
        padded.push_str(text);
        // +1: a span just past the end (an unterminated table) still belongs to this file.
        self.end = offset + text.len() + 1;
        self.files.push(SourceFile { path: path.to_path_buf(), text: text.to_string(), offset });
        let doc = toml_edit::ImDocument::parse(padded).map_err(|e| {
            let at = e.span().map(|s| s.start).unwrap_or(offset);
            self.invalid(Some(at..at), path, e.message().trim().to_string())
        })?;
        Ok(doc.into_table())
    }

    /// File, line and column (1-based) of a span's start; `None` when no layer holds it.
    pub fn locate(&self, offset: usize) -> Option<(&Path, usize, usize)> {
        let file = self.files.iter().rev().find(|f| f.offset <= offset && offset <= f.offset + f.text.len())?;
        let (line, column) = line_col(&file.text, offset - file.offset);
        Some((&file.path, line, column))
    }

    /// An error at `span`, or in `fallback` (line 0) when the span is unknown.
    pub fn invalid(&self, span: Option<Range<usize>>, fallback: &Path, message: String) -> ScenarioError {
        match span.and_then(|s| self.locate(s.start)) {
            Some((path, line, column)) => ScenarioError::Invalid { path: path.to_path_buf(), line, column, message },
            None => ScenarioError::Invalid { path: fallback.to_path_buf(), line: 0, column: 0, message },
        }
    }

    /// The files, in the order they were read, with their text (digests, provenance).
    pub fn files(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.files.iter().map(|f| (f.path.as_path(), f.text.as_str()))
    }
}

/// `over` onto `base`: tables (inline or not) merge key by key; values,
/// arrays and arrays of tables are replaced. Keys keep their spans.
pub fn merge(base: &mut Table, mut over: Table) {
    let keys: Vec<String> = over.iter().map(|(k, _)| k.to_string()).collect();
    for name in keys {
        let Some((key, item)) = over.remove_entry(&name) else { continue };
        let both_tables = item.is_table_like() && base.get(&name).is_some_and(Item::is_table_like);
        if both_tables {
            if let (Some(dst), Ok(src)) = (base.get_mut(&name).and_then(as_table), item.into_table()) {
                merge(dst, src);
            }
        } else {
            base.insert_formatted(&key, item);
        }
    }
}

/// A table-like item as a `Table` (an inline table is converted in place).
fn as_table(item: &mut Item) -> Option<&mut Table> {
    if let Item::Value(toml_edit::Value::InlineTable(_)) = item {
        let taken = std::mem::take(item);
        *item = Item::Table(taken.into_table().ok()?);
    }
    item.as_table_mut()
}

/// `first` (already parsed from `path`) and the files it `extends`, merged
/// base first, each file's `extends` key removed. A cycle is an error at the
/// `extends` that closes it.
pub fn resolve_extends(sources: &mut Sources, path: &Path, first: Table) -> Result<Table, ScenarioError> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut chain: Vec<(PathBuf, Table)> = Vec::new();
    let mut current = (path.to_path_buf(), first);
    loop {
        let (file, mut table) = current;
        let extends = table.remove("extends");
        chain.push((canonical(&file), table));
        let Some(extends) = extends else { break };
        let span = extends.span();
        let Some(rel) = extends.as_str() else {
            return Err(sources.invalid(span, &file, "`extends` must be a string: the base scenario's path, relative to this file".into()));
        };
        let target = file.parent().unwrap_or(Path::new(".")).join(rel);
        if let Some(pos) = chain.iter().position(|(p, _)| *p == canonical(&target)) {
            let cycle: Vec<String> = chain[pos..].iter().map(|(p, _)| p.display().to_string()).chain([target.display().to_string()]).collect();
            return Err(sources.invalid(span, &file, format!("`extends` cycle: {}", cycle.join(" → "))));
        }
        if !target.is_file() {
            return Err(sources.invalid(span, &file, format!("`extends`: no such file {}", target.display())));
        }
        let table = sources.read(&target)?;
        current = (target, table);
    }
    let mut merged = Table::new();
    for (_, table) in chain.into_iter().rev() {
        merge(&mut merged, table);
    }
    Ok(merged)
}
