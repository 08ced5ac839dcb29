//! The durable sample store: SQLite in WAL mode, one row per target per time
//! slot. The primary key `(target, slot)` makes every write idempotent
//! (`ON CONFLICT DO NOTHING`): a restart, a replay or a clock that jumps back
//! never duplicates a sample, and the first observation of a slot stands.
//! Heartbeat rows record the slots in which the probe itself ran, so time
//! without them is reported as "probe not running" (unknown), never up or down.
//!
//! Each probe cycle is one transaction with `synchronous = FULL`: once
//! [`Store::record`] returns, the samples survive `kill -9` and power loss.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::check::CheckOutcome;
use crate::slots::{self, Runs};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("availability store {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("availability store {path}: cannot create its folder: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("availability store {path}: journal_mode stayed `{mode}`; WAL is not available on this filesystem")]
    NoWal { path: PathBuf, mode: String },
    #[error(
        "availability store {path} holds {stored}-second slots but the scenario says interval_secs = {wanted}; use another store file or the same interval"
    )]
    Interval { path: PathBuf, stored: i64, wanted: i64 },
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    slot_secs: i64,
}

/// How durable a commit is. `Full` (default) survives power loss; `Normal`
/// survives a killed process but not a power cut (benchmarks compare both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS targets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, spec TEXT NOT NULL);
-- UNIQUE(target, slot) as the primary key of a WITHOUT ROWID table: one b-tree, no duplicate index.
CREATE TABLE IF NOT EXISTS samples(
  target INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  latency_ms INTEGER,
  status INTEGER,
  detail TEXT,
  PRIMARY KEY(target, slot)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_failed ON samples(target, slot) WHERE ok = 0;
CREATE TABLE IF NOT EXISTS heartbeats(
  probe TEXT NOT NULL,
  slot INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  PRIMARY KEY(probe, slot)
) WITHOUT ROWID;
";

/// One stored sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub slot: i64,
    pub at_ms: i64,
    pub ok: bool,
    pub latency_ms: Option<i64>,
    pub status: Option<i64>,
    pub detail: Option<String>,
}

impl Store {
    pub fn open(path: &Path, slot_secs: i64) -> Result<Self, StoreError> {
        Self::open_with(path, slot_secs, Durability::Full)
    }

    pub fn open_with(path: &Path, slot_secs: i64, durability: Durability) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: path.to_path_buf(), source })?;
        }
        let sq = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(sq)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sq)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(sq)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { path: path.to_path_buf(), mode });
        }
        conn.pragma_update(None, "synchronous", if durability == Durability::Full { "FULL" } else { "NORMAL" }).map_err(sq)?;
        conn.execute_batch(SCHEMA).map_err(sq)?;
        let stored: Option<String> = conn.query_row("SELECT value FROM meta WHERE key = 'slot_secs'", [], |r| r.get(0)).optional().map_err(sq)?;
        match stored.and_then(|s| s.parse::<i64>().ok()) {
            Some(s) if s != slot_secs => return Err(StoreError::Interval { path: path.to_path_buf(), stored: s, wanted: slot_secs }),
            Some(_) => {}
            None => {
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('slot_secs', ?1)", [slot_secs.to_string()]).map_err(sq)?;
            }
        }
        Ok(Self { conn, path: path.to_path_buf(), slot_secs })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn slot_secs(&self) -> i64 {
        self.slot_secs
    }

    /// The id of a target, registering it on first use. `spec` (URL or
    /// host:port) is kept so a report can say what was checked.
    pub fn target_id(&self, name: &str, spec: &str) -> Result<i64, StoreError> {
        self.conn
            .execute("INSERT INTO targets(name, spec) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec", params![name, spec])
            .map_err(|e| self.err(e))?;
        self.conn.query_row("SELECT id FROM targets WHERE name = ?1", [name], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// Known target ids by name (for reading; does not register).
    pub fn find_target(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.conn.query_row("SELECT id FROM targets WHERE name = ?1", [name], |r| r.get(0)).optional().map_err(|e| self.err(e))
    }

    /// Record one probe cycle atomically: the heartbeat and every target's
    /// sample for `slot`. Returns how many samples were new (a replayed slot
    /// inserts none).
    pub fn record(&mut self, probe: &str, slot: i64, at_ms: i64, samples: &[(i64, &CheckOutcome)]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite { path: self.path.clone(), source: e })?;
        let inserted = Self::write(&tx, probe, slot, at_ms, samples).map_err(|e| StoreError::Sqlite { path: self.path.clone(), source: e })?;
        tx.commit().map_err(|e| StoreError::Sqlite { path: self.path.clone(), source: e })?;
        Ok(inserted)
    }

    fn write(tx: &rusqlite::Transaction<'_>, probe: &str, slot: i64, at_ms: i64, samples: &[(i64, &CheckOutcome)]) -> rusqlite::Result<usize> {
        tx.prepare_cached("INSERT INTO heartbeats(probe, slot, at_ms, pid) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING")?.execute(params![
            probe,
            slot,
            at_ms,
            std::process::id()
        ])?;
        let mut stmt = tx.prepare_cached(
            "INSERT INTO samples(target, slot, at_ms, ok, latency_ms, status, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(target, slot) DO NOTHING",
        )?;
        let mut inserted = 0;
        for (target, o) in samples {
            inserted += stmt.execute(params![target, slot, at_ms, o.ok, o.latency_ms, o.status, o.detail])?;
        }
        Ok(inserted)
    }

    /// Bulk load (benchmarks, imports): many slots of one target in one transaction.
    pub fn record_bulk(&mut self, target: i64, rows: impl IntoIterator<Item = (i64, bool)>) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let sq = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sq)?;
        let mut n = 0;
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO samples(target, slot, at_ms, ok, latency_ms) VALUES (?1, ?2, ?3, ?4, 5) ON CONFLICT(target, slot) DO NOTHING")
                .map_err(sq)?;
            for (slot, ok) in rows {
                n += stmt.execute(params![target, slot, slot * self.slot_secs * 1000, ok]).map_err(sq)?;
            }
        }
        tx.commit().map_err(sq)?;
        Ok(n)
    }

    /// Heartbeats for many slots in one transaction (benchmarks, imports).
    pub fn heartbeat_bulk(&mut self, probe: &str, slots: impl IntoIterator<Item = i64>) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sq = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sq)?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO heartbeats(probe, slot, at_ms, pid) VALUES (?1, ?2, ?3, 0) ON CONFLICT DO NOTHING").map_err(sq)?;
            for s in slots {
                stmt.execute(params![probe, s, s * self.slot_secs * 1000]).map_err(sq)?;
            }
        }
        tx.commit().map_err(sq)
    }

    /// The sub-runs of `scope` for which `target` has a sample. Counts each run
    /// first (an index range count) and lists slots only where some are missing.
    pub fn present_runs(&self, target: i64, scope: &[(i64, i64)]) -> Result<Runs, StoreError> {
        let mut count = self.conn.prepare_cached("SELECT COUNT(*) FROM samples WHERE target = ?1 AND slot >= ?2 AND slot < ?3").map_err(|e| self.err(e))?;
        let mut list =
            self.conn.prepare_cached("SELECT slot FROM samples WHERE target = ?1 AND slot >= ?2 AND slot < ?3 ORDER BY slot").map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for &(a, b) in scope {
            let n: i64 = count.query_row(params![target, a, b], |r| r.get(0)).map_err(|e| self.err(e))?;
            if n == b - a {
                out.push((a, b));
            } else if n > 0 {
                let found: Vec<i64> =
                    list.query_map(params![target, a, b], |r| r.get(0)).map_err(|e| self.err(e))?.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
                out.extend(slots::from_sorted_slots(&found));
            }
        }
        Ok(slots::normalize(out))
    }

    /// The sub-runs of `scope` in which `probe` left a heartbeat.
    pub fn heartbeat_runs(&self, probe: &str, scope: &[(i64, i64)]) -> Result<Runs, StoreError> {
        let mut count = self.conn.prepare_cached("SELECT COUNT(*) FROM heartbeats WHERE probe = ?1 AND slot >= ?2 AND slot < ?3").map_err(|e| self.err(e))?;
        let mut list =
            self.conn.prepare_cached("SELECT slot FROM heartbeats WHERE probe = ?1 AND slot >= ?2 AND slot < ?3 ORDER BY slot").map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for &(a, b) in scope {
            let n: i64 = count.query_row(params![probe, a, b], |r| r.get(0)).map_err(|e| self.err(e))?;
            if n == b - a {
                out.push((a, b));
                continue;
            }
            let found: Vec<i64> =
                list.query_map(params![probe, a, b], |r| r.get(0)).map_err(|e| self.err(e))?.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
            out.extend(slots::from_sorted_slots(&found));
        }
        Ok(slots::normalize(out))
    }

    /// Failed slots of `target` in `[lo, hi)`, ascending. The partial index is
    /// forced: the planner would otherwise walk the primary key over the
    /// whole period (the difference between ~1.7 s and milliseconds for a year).
    pub fn failed_slots(&self, target: i64, lo: i64, hi: i64) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT slot, detail FROM samples INDEXED BY samples_failed WHERE target = ?1 AND ok = 0 AND slot >= ?2 AND slot < ?3 ORDER BY slot",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params![target, lo, hi], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// First and last slot with a sample, over every target.
    pub fn slot_range(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let r: (Option<i64>, Option<i64>) =
            self.conn.query_row("SELECT MIN(slot), MAX(slot) FROM samples", [], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        Ok(r.0.zip(r.1))
    }

    /// Every sample of a target (tests, exports), ascending.
    pub fn samples(&self, target: i64) -> Result<Vec<Sample>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT slot, at_ms, ok, latency_ms, status, detail FROM samples WHERE target = ?1 ORDER BY slot")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([target], |r| {
                Ok(Sample { slot: r.get(0)?, at_ms: r.get(1)?, ok: r.get(2)?, latency_ms: r.get(3)?, status: r.get(4)?, detail: r.get(5)? })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn count(&self) -> Result<i64, StoreError> {
        self.conn.query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// `PRAGMA integrity_check` → "ok" when the file is sound.
    pub fn integrity(&self) -> Result<String, StoreError> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// Fold the WAL into the main file (before measuring its size).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> CheckOutcome {
        CheckOutcome { ok: true, latency_ms: Some(3), status: Some(200), detail: None }
    }
    fn down() -> CheckOutcome {
        CheckOutcome { ok: false, latency_ms: None, status: None, detail: Some("connection refused".into()) }
    }

    #[test]
    fn writes_are_idempotent_and_the_first_observation_stands() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("a.sqlite"), 60).unwrap();
        let t = s.target_id("web", "http://x").unwrap();
        assert_eq!(s.target_id("web", "http://x").unwrap(), t);
        assert_eq!(s.record("p", 10, 600_000, &[(t, &ok())]).unwrap(), 1);
        assert_eq!(s.record("p", 10, 600_500, &[(t, &down())]).unwrap(), 0);
        assert_eq!(s.record("p", 11, 660_000, &[(t, &down())]).unwrap(), 1);
        let rows = s.samples(t).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].ok && !rows[1].ok);
        assert_eq!(s.failed_slots(t, 0, 100).unwrap(), vec![(11, Some("connection refused".into()))]);
        assert_eq!(s.present_runs(t, &[(5, 15)]).unwrap(), vec![(10, 12)]);
        assert_eq!(s.heartbeat_runs("p", &[(0, 100)]).unwrap(), vec![(10, 12)]);
        assert_eq!(s.integrity().unwrap(), "ok");
    }

    #[test]
    fn a_store_refuses_a_different_interval() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sqlite");
        drop(Store::open(&p, 60).unwrap());
        assert!(matches!(Store::open(&p, 30), Err(StoreError::Interval { stored: 60, wanted: 30, .. })));
        assert!(Store::open(&p, 60).is_ok());
    }
}
