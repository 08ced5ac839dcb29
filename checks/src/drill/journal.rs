//! The drill's journal: every restore job is written down the moment it
//! starts, with what it created and whether that was deleted, so a killed
//! process leaves a record that `drill cleanup` can finish from. A journal
//! whose entries are all cleaned is removed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub source_arn: String,
    pub job_id: String,
    /// Region the job runs in (where its copy appears).
    pub region: String,
    pub created_arn: Option<String>,
    /// True once the copy was deleted, or the job ended without creating one.
    pub cleaned: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub drill_id: String,
    pub entries: Vec<Entry>,
    #[serde(skip)]
    path: PathBuf,
}

impl Journal {
    pub fn new(dir: &Path, drill_id: &str) -> Self {
        Self { drill_id: drill_id.to_string(), entries: Vec::new(), path: dir.join(format!("{drill_id}.json")) }
    }

    /// Every journal in `dir` (none when the folder does not exist).
    pub fn load_all(dir: &Path) -> std::io::Result<Vec<Journal>> {
        let mut out = Vec::new();
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in rd {
            let path = entry?.path();
            // The drill's own record (`<id>-report.json`, written beside the journals by the CLI) is not a journal.
            let report = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("-report.json"));
            if path.extension().and_then(|e| e.to_str()) != Some("json") || report {
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            let mut j: Journal =
                serde_json::from_str(&text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?;
            j.path = path;
            out.push(j);
        }
        out.sort_by(|a, b| a.drill_id.cmp(&b.drill_id));
        Ok(out)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn add(&mut self, e: Entry) -> std::io::Result<()> {
        self.entries.push(e);
        self.save()
    }

    pub fn update(&mut self, job_id: &str, f: impl FnOnce(&mut Entry)) -> std::io::Result<()> {
        if let Some(e) = self.entries.iter_mut().find(|e| e.job_id == job_id) {
            f(e);
        }
        self.save()
    }

    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.cleaned)
    }

    /// Write (atomically: temp file + rename), or remove once nothing is pending.
    pub fn save(&self) -> std::io::Result<()> {
        if self.pending().next().is_none() && !self.entries.is_empty() {
            return match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_at_start_removed_when_clean() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut j = Journal::new(dir.path(), "d1");
        j.add(Entry { source_arn: "s".into(), job_id: "j1".into(), region: "r".into(), created_arn: None, cleaned: false }).expect("add");
        let all = Journal::load_all(dir.path()).expect("load");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].entries[0].job_id, "j1");
        j.update("j1", |e| {
            e.created_arn = Some("arn".into());
            e.cleaned = true;
        })
        .expect("update");
        assert!(!j.path().exists());
        assert!(Journal::load_all(&dir.path().join("missing")).expect("none").is_empty());
        // The drill's report beside the journals is not read as one.
        std::fs::write(dir.path().join("d1-report.json"), r#"{"drill_id":"d1","resources":[]}"#).expect("report");
        assert!(Journal::load_all(dir.path()).expect("the report is skipped").is_empty());
    }
}
