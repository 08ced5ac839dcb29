//! 稼働率 over time slices. Per target: a slice is down when it lies in a run
//! of at least N consecutive failed checks (consecutive = adjacent slots, so a
//! gap in the data breaks the run); a failed check in a shorter run is an
//! unconfirmed failure and the slice counts as up; a slice without a sample is
//! unknown. The system is down in a slice when any target is down, unknown
//! when no target is down but one has no data, up otherwise.
//! 稼働率 = up / (up + down); coverage = (up + down) / all slices in scope.

use crate::slots::{self, Runs};

/// The data of one target over the scope.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub name: String,
    /// Runs of scope slots that have a sample.
    pub present: Runs,
    /// Failed slots (ascending) in and around the scope (N-1 slots either side,
    /// so a run crossing the scope's edge is judged whole), with the reason.
    pub failed: Vec<(i64, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub start_slot: i64,
    pub end_slot: i64,
    /// Targets down in this interval, with the first failure reason seen.
    pub targets: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetFigures {
    pub name: String,
    pub up: i64,
    pub down: i64,
    pub unknown: i64,
    pub unconfirmed_failures: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Computation {
    pub slot_secs: i64,
    pub scope_slots: i64,
    pub up: i64,
    pub down: i64,
    pub unknown: i64,
    pub outages: Vec<Outage>,
    pub unknown_runs: Runs,
    pub unconfirmed_failures: i64,
    pub per_target: Vec<TargetFigures>,
}

impl Computation {
    /// 稼働率 in percent; `None` without any slice with data.
    pub fn rate(&self) -> Option<f64> {
        let known = self.up + self.down;
        (known > 0).then(|| self.up as f64 * 100.0 / known as f64)
    }

    /// Share of scope slices with data, in percent (0 when the scope is empty).
    pub fn coverage(&self) -> f64 {
        if self.scope_slots == 0 {
            0.0
        } else {
            (self.up + self.down) as f64 * 100.0 / self.scope_slots as f64
        }
    }

    pub fn minutes(&self, slots: i64) -> f64 {
        (slots * self.slot_secs) as f64 / 60.0
    }

    /// Stoppage the required percentage allows over the scope, and what is left.
    pub fn budget(&self, required_percent: f64) -> Budget {
        let scope_min = self.minutes(self.scope_slots);
        let allowed = scope_min * (100.0 - required_percent) / 100.0;
        let used = self.minutes(self.down);
        Budget { allowed_minutes: allowed, used_minutes: used, remaining_minutes: allowed - used }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub allowed_minutes: f64,
    pub used_minutes: f64,
    pub remaining_minutes: f64,
}

/// Down runs of one target: maximal runs of consecutive failed slots of length ≥ n.
fn down_runs(failed: &[(i64, Option<String>)], n: u32) -> (Runs, Runs) {
    let slots: Vec<i64> = failed.iter().map(|(s, _)| *s).collect();
    let runs = slots::from_sorted_slots(&slots);
    let (long, short): (Runs, Runs) = runs.into_iter().partition(|(a, b)| b - a >= i64::from(n.max(1)));
    (long, short)
}

pub fn compute(scope: &[(i64, i64)], series: &[Series], consecutive: u32, slot_secs: i64) -> Computation {
    let scope_slots = slots::total(scope);
    let mut down_all: Runs = Vec::new();
    let mut unknown_all: Runs = Vec::new();
    let mut per_target = Vec::new();
    let mut target_down: Vec<Runs> = Vec::new();
    let mut unconfirmed_failures = 0;
    for s in series {
        let (long, short) = down_runs(&s.failed, consecutive);
        let down = slots::intersect(&long, scope);
        let present = slots::intersect(&s.present, scope);
        let unknown = slots::subtract(scope, &present);
        let short_in_scope = slots::total(&slots::intersect(&short, scope));
        unconfirmed_failures += short_in_scope;
        let (d, u) = (slots::total(&down), slots::total(&unknown));
        per_target.push(TargetFigures { name: s.name.clone(), up: scope_slots - d - u, down: d, unknown: u, unconfirmed_failures: short_in_scope });
        down_all = slots::union(&down_all, &down);
        unknown_all = slots::union(&unknown_all, &unknown);
        target_down.push(down);
    }
    if series.is_empty() {
        unknown_all = scope.to_vec();
    }
    let unknown_runs = slots::subtract(&unknown_all, &down_all);
    let down = slots::total(&down_all);
    let unknown = slots::total(&unknown_runs);
    let outages = down_all
        .iter()
        .map(|&(a, b)| {
            let targets = series
                .iter()
                .zip(&target_down)
                .filter(|(_, d)| !slots::intersect(d, &[(a, b)]).is_empty())
                .map(|(s, _)| {
                    let why = s.failed.iter().find(|(slot, _)| *slot >= a && *slot < b).and_then(|(_, d)| d.clone()).unwrap_or_default();
                    (s.name.clone(), why)
                })
                .collect();
            Outage { start_slot: a, end_slot: b, targets }
        })
        .collect();
    Computation { slot_secs, scope_slots, up: scope_slots - down - unknown, down, unknown, outages, unknown_runs, unconfirmed_failures, per_target }
}

/// The verdict for a required percentage.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ok,
    Ng,
    /// Not enough data to say (検証不能), with the reason in both languages.
    Unknown {
        ja: String,
        en: String,
    },
}

pub fn judge(c: &Computation, required_percent: f64, min_coverage_percent: f64) -> Verdict {
    if c.scope_slots == 0 {
        return Verdict::Unknown { ja: "期間中に対象となる運用時間がない".into(), en: "no operating time in the period".into() };
    }
    let cov = c.coverage();
    // Compare in integers where it matters: up+down >= min% of scope.
    if (c.up + c.down) as f64 * 100.0 < min_coverage_percent * c.scope_slots as f64 - 1e-9 {
        return Verdict::Unknown {
            ja: format!("データのある時間が運用時間の{cov:.1}%で、必要な{min_coverage_percent}%に満たない"),
            en: format!("coverage {cov:.1}% of the operating time is below the required {min_coverage_percent}%"),
        };
    }
    let known = (c.up + c.down) as f64;
    if c.up as f64 * 100.0 >= required_percent * known - 1e-9 {
        Verdict::Ok
    } else {
        Verdict::Ng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, present: Runs, failed: &[i64]) -> Series {
        Series { name: name.into(), present, failed: failed.iter().map(|s| (*s, Some("refused".into()))).collect() }
    }

    #[test]
    fn consecutive_failures_make_down_slices_and_single_ones_do_not() {
        let scope = vec![(0, 100)];
        let s = series("web", vec![(0, 100)], &[10, 20, 21, 22, 50]);
        let c = compute(&scope, &[s], 2, 60);
        assert_eq!((c.up, c.down, c.unknown), (97, 3, 0));
        assert_eq!(c.unconfirmed_failures, 2);
        assert_eq!(c.outages.len(), 1);
        assert_eq!((c.outages[0].start_slot, c.outages[0].end_slot), (20, 23));
        assert_eq!(c.outages[0].targets, vec![("web".to_string(), "refused".to_string())]);
        assert_eq!(c.rate(), Some(97.0));
        assert_eq!(judge(&c, 99.5, 95.0), Verdict::Ng);
        let b = c.budget(95.0);
        assert!((b.allowed_minutes - 5.0).abs() < 1e-9 && (b.remaining_minutes - 2.0).abs() < 1e-9, "{b:?}");
    }

    #[test]
    fn a_gap_breaks_a_failure_run_and_counts_as_unknown() {
        let scope = vec![(0, 100)];
        // Failed at 10 and 12; 11 has no sample (probe down): not consecutive.
        let s = series("web", vec![(0, 11), (12, 100)], &[10, 12]);
        let c = compute(&scope, &[s], 2, 60);
        assert_eq!((c.up, c.down, c.unknown), (99, 0, 1));
        assert_eq!(c.unknown_runs, vec![(11, 12)]);
    }

    #[test]
    fn runs_crossing_the_scope_edge_count_inside_only() {
        // Operating 10..20; failures 8..12 (before opening into operating time).
        let c = compute(&[(10, 20)], &[series("web", vec![(10, 20)], &[8, 9, 10, 11])], 3, 60);
        assert_eq!((c.down, c.up), (2, 8));
    }

    #[test]
    fn system_is_down_when_any_target_is_and_unknown_only_without_a_down() {
        let scope = vec![(0, 10)];
        let a = series("web", vec![(0, 10)], &[2, 3]);
        let b = series("db", vec![(0, 3), (5, 10)], &[]);
        let c = compute(&scope, &[a, b], 2, 60);
        // down 2,3 (web); unknown 4 (db missing 3,4 but 3 is down anyway).
        assert_eq!((c.up, c.down, c.unknown), (7, 2, 1));
    }

    #[test]
    fn low_coverage_is_unknown_not_ok() {
        let c = compute(&[(0, 100)], &[series("web", vec![(0, 90)], &[])], 2, 60);
        assert_eq!(c.coverage(), 90.0);
        assert!(matches!(judge(&c, 99.5, 95.0), Verdict::Unknown { .. }));
        assert_eq!(judge(&c, 99.5, 90.0), Verdict::Ok);
        let empty = compute(&[], &[series("web", vec![], &[])], 2, 60);
        assert!(matches!(judge(&empty, 99.5, 95.0), Verdict::Unknown { .. }));
        let no_targets = compute(&[(0, 10)], &[], 2, 60);
        assert_eq!(no_targets.unknown, 10);
    }
}
