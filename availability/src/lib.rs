//! The availability probe: checks targets like a user every N seconds, keeps
//! every sample in a durable SQLite store (or publishes it to CloudWatch),
//! and computes 稼働率 (A.1.5.1) over the operating calendar (C.1.1.1 平日 /
//! C.1.1.2 休日等) minus planned maintenance. See docs/availability.md.

pub mod calendar;
pub mod check;
pub mod cloudwatch;
pub mod compute;
pub mod daemon;
pub mod demo;
pub mod levels;
pub mod local_target;
pub mod slots;
pub mod store;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use gcverify_scenarios::AvailabilityConfig;

use calendar::{Calendar, CalendarError, DayKind, Scope};
use check::{Target, TargetError};
use compute::{Computation, Series};
use store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("[availability] {0}")]
    Config(String),
    #[error("{0}")]
    CloudWatch(String),
}

/// Where `verify` reads samples from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Store,
    CloudWatch,
}

/// The `[availability]` section, validated and resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub store: PathBuf,
    pub slot_secs: i64,
    pub consecutive: u32,
    pub min_coverage_percent: f64,
    pub source: Source,
    pub probe_name: String,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub period_days: u32,
    pub period_from_first_sample: bool,
    pub calendar: Calendar,
    pub targets: Vec<Target>,
    pub cloudwatch: Option<gcverify_scenarios::AvailabilityCloudWatch>,
}

impl Config {
    /// `base_dir`: where a relative store path starts (the scenario file's folder).
    pub fn from_scenario(a: &AvailabilityConfig, base_dir: &Path) -> Result<Self, Error> {
        if a.interval_secs == 0 || a.interval_secs > 3600 {
            return Err(Error::Config(format!("interval_secs = {} must be 1-3600", a.interval_secs)));
        }
        if a.consecutive_failures == 0 {
            return Err(Error::Config("consecutive_failures must be at least 1".into()));
        }
        if !(0.0..=100.0).contains(&a.min_coverage_percent) {
            return Err(Error::Config(format!("min_coverage_percent = {} must be 0-100", a.min_coverage_percent)));
        }
        let source = match a.source.as_str() {
            "store" => Source::Store,
            "cloudwatch" => Source::CloudWatch,
            other => return Err(Error::Config(format!("source = `{other}`: use `store` or `cloudwatch`"))),
        };
        if source == Source::CloudWatch && a.cloudwatch.is_none() {
            return Err(Error::Config("source = `cloudwatch` needs an [availability.cloudwatch] table".into()));
        }
        let targets: Vec<Target> = a.targets.iter().map(|t| Target::from_config(t, base_dir)).collect::<Result<_, _>>()?;
        let mut names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::Config("target names must be unique".into()));
        }
        let store = if a.store.is_absolute() { a.store.clone() } else { base_dir.join(&a.store) };
        Ok(Self {
            store,
            slot_secs: i64::try_from(a.interval_secs).unwrap_or(60),
            consecutive: a.consecutive_failures,
            min_coverage_percent: a.min_coverage_percent,
            source,
            probe_name: a.probe_name.clone(),
            from: a.from,
            to: a.to,
            period_days: a.period_days,
            period_from_first_sample: a.period_from_first_sample,
            calendar: Calendar::from_config(&a.calendar, &a.maintenance)?,
            targets,
            cloudwatch: a.cloudwatch.clone(),
        })
    }

    /// The reporting period `[from, to)` as of `now`.
    pub fn period(&self, now: DateTime<Utc>, first_sample: Option<DateTime<Utc>>) -> (DateTime<Utc>, DateTime<Utc>) {
        let midnight = |d: chrono::NaiveDate| calendar::jst_to_utc(d.and_time(chrono::NaiveTime::MIN));
        let to = self.to.and_then(|d| d.succ_opt()).map(midnight).map_or(now, |t| t.min(now));
        let mut from = self.from.map(midnight).unwrap_or_else(|| to - Duration::days(i64::from(self.period_days)));
        if self.period_from_first_sample {
            if let Some(first) = first_sample {
                from = from.max(first);
            }
        }
        (from, to)
    }
}

/// Everything a report needs about one period.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub slot_secs: i64,
    pub scope: Scope,
    pub all: Computation,
    pub weekday: Computation,
    pub holiday: Computation,
    /// Scope slots in which the probe left no heartbeat (it was not running).
    pub probe_not_running: slots::Runs,
    /// Where the samples came from (store path, CloudWatch namespace).
    pub source: String,
    pub started_at_first_sample: bool,
}

impl Evaluation {
    pub fn of(&self, kind: DayKind) -> &Computation {
        match kind {
            DayKind::Weekday => &self.weekday,
            DayKind::Holiday => &self.holiday,
        }
    }

    pub fn slot_time(&self, slot: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(slot * self.slot_secs, 0).unwrap_or_default()
    }

    /// The whole computation split by JST day: (day, up, down, unknown slices),
    /// days without operating time left out. A slice belongs to the day it starts in.
    pub fn daily(&self) -> Vec<(chrono::NaiveDate, i64, i64, i64)> {
        let scope = self.scope.all();
        let down: slots::Runs = slots::normalize(self.all.outages.iter().map(|o| (o.start_slot, o.end_slot)).collect());
        let (Some(&(first, _)), Some(&(_, last))) = (scope.first(), scope.last()) else { return Vec::new() };
        let mut out = Vec::new();
        let mut day = calendar::to_jst(self.slot_time(first)).date();
        let last_day = calendar::to_jst(self.slot_time(last - 1)).date();
        while day <= last_day {
            // JST midnight as a UTC timestamp, rounded up to the slice that starts on or after it.
            let start = |d: chrono::NaiveDate| {
                (d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp() - 9 * 3600 + self.slot_secs - 1).div_euclid(self.slot_secs)
            };
            let Some(next) = day.succ_opt() else { break };
            let window = [(start(day), start(next))];
            let in_scope = slots::total(&slots::intersect(&scope, &window));
            if in_scope > 0 {
                let d = slots::total(&slots::intersect(&down, &window));
                let u = slots::total(&slots::intersect(&self.all.unknown_runs, &window));
                out.push((day, in_scope - d - u, d, u));
            }
            day = next;
        }
        out
    }
}

/// Compute over the local store.
pub fn evaluate_store(cfg: &Config, now: DateTime<Utc>) -> Result<Evaluation, Error> {
    if !cfg.store.is_file() {
        return Err(Error::Config(format!(
            "the availability store {} does not exist: run `cargo xtask probe availability` (daemon, or --once from a timer) first",
            cfg.store.display()
        )));
    }
    let store = Store::open(&cfg.store, cfg.slot_secs)?;
    let first = store.slot_range()?.and_then(|(a, _)| DateTime::from_timestamp(a * cfg.slot_secs, 0));
    let (from, to) = cfg.period(now, first);
    let scope = cfg.calendar.scope(from, to, cfg.slot_secs)?;
    let all = scope.all();
    let (lo, hi) = (all.first().map_or(0, |r| r.0), all.last().map_or(0, |r| r.1));
    let pad = i64::from(cfg.consecutive);
    let mut series = Vec::new();
    for t in &cfg.targets {
        let Some(id) = store.find_target(&t.name)? else {
            // Never probed: all unknown.
            series.push(Series { name: t.name.clone(), ..Default::default() });
            continue;
        };
        series.push(Series { name: t.name.clone(), present: store.present_runs(id, &all)?, failed: store.failed_slots(id, lo - pad, hi + pad)? });
    }
    let beats = store.heartbeat_runs(&cfg.probe_name, &all)?;
    let probe_not_running = slots::subtract(&all, &beats);
    Ok(assemble(cfg, from, to, scope, &series, probe_not_running, cfg.store.display().to_string()))
}

/// Compute from series obtained elsewhere (CloudWatch).
pub fn assemble(
    cfg: &Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    scope: Scope,
    series: &[Series],
    probe_not_running: slots::Runs,
    source: String,
) -> Evaluation {
    let all = compute::compute(&scope.all(), series, cfg.consecutive, cfg.slot_secs);
    let weekday = compute::compute(&scope.weekday, series, cfg.consecutive, cfg.slot_secs);
    let holiday = compute::compute(&scope.holiday, series, cfg.consecutive, cfg.slot_secs);
    Evaluation {
        from,
        to,
        slot_secs: cfg.slot_secs,
        scope,
        all,
        weekday,
        holiday,
        probe_not_running,
        source,
        started_at_first_sample: cfg.period_from_first_sample,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_splits_slices_by_jst_day() {
        // 1-hour slices; JST midnight of 2026-11-17 is 2026-11-16T15:00Z = slot 15 of the 16th.
        let base = DateTime::parse_from_rfc3339("2026-11-16T00:00:00Z").expect("valid").with_timezone(&Utc).timestamp() / 3600;
        let scope = Scope { weekday: vec![(base + 10, base + 20)], ..Default::default() };
        let series = [Series { name: "web".into(), present: vec![(base + 10, base + 18)], failed: vec![(base + 16, None), (base + 17, None)] }];
        let all = compute::compute(&scope.all(), &series, 2, 3600);
        let e = Evaluation {
            from: Utc::now(),
            to: Utc::now(),
            slot_secs: 3600,
            weekday: all.clone(),
            holiday: Computation::default(),
            all,
            scope,
            probe_not_running: Vec::new(),
            source: String::new(),
            started_at_first_sample: false,
        };
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        // 16th JST: slots 10..15 up; 17th JST: 15 up, 16-17 down, 18-19 unknown.
        assert_eq!(e.daily(), vec![(d("2026-11-16"), 5, 0, 0), (d("2026-11-17"), 1, 2, 2)]);
    }
}
