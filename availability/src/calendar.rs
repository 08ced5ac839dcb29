//! The operating calendar in Japan time (Asia/Tokyo): operating hours per
//! weekday and for 休日等 (C.1.1.1 / C.1.1.2), 国民の祝日 from a shipped data
//! file with its source, the 年末年始 closure, the municipality's own closures,
//! and planned maintenance windows (one-off and recurring, each with a reason).
//!
//! [`Calendar::scope`] turns a period into the time slots that count for
//! 稼働率: operating time minus maintenance, each tagged 平日 or 休日等.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Tokyo;
use serde::Deserialize;

use crate::slots::{self, Runs};

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("{field}: `{value}` is not a list of HH:MM-HH:MM spans (e.g. \"08:30-20:30\" or \"08:30-12:00,13:00-17:15\")")]
    Hours { field: String, value: String },
    #[error("{field}: `{value}` is not a date (YYYY-MM-DD)")]
    Date { field: String, value: String },
    #[error("{field}: `{value}` is not a Japan-time date and time (YYYY-MM-DDTHH:MM)")]
    DateTime { field: String, value: String },
    #[error("{field}: `{value}` is not a weekday (mon, tue, wed, thu, fri, sat, sun)")]
    Weekday { field: String, value: String },
    #[error("maintenance window `{0}`: give either start/end (one-off) or days/hours (recurring)")]
    Maintenance(String),
    #[error("the holiday data (内閣府, years {covered}) does not cover {year}: add that year to availability/data/holidays_jp.toml")]
    NotCovered { year: i32, covered: String },
    #[error("shipped holiday data is unreadable: {0}")]
    Data(String),
}

/// 平日 or 休日等, the two day kinds of C.1.1.1 and C.1.1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DayKind {
    Weekday,
    Holiday,
}

impl DayKind {
    pub fn ja(self) -> &'static str {
        match self {
            DayKind::Weekday => "平日",
            DayKind::Holiday => "休日等",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            DayKind::Weekday => "weekdays",
            DayKind::Holiday => "holidays",
        }
    }
}

/// A span of the day in minutes, `[start, end)`, 0..=1440.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn minutes(self) -> u32 {
        self.end - self.start
    }
}

/// Parse `"08:30-20:30"`, `"08:30-12:00,13:00-17:15"`, `""` (none), `"00:00-24:00"`.
pub fn parse_hours(field: &str, value: &str) -> Result<Vec<Span>, CalendarError> {
    let bad = || CalendarError::Hours { field: field.to_string(), value: value.to_string() };
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (start, end) = (minute_of_day(a.trim()).ok_or_else(bad)?, minute_of_day(b.trim()).ok_or_else(bad)?);
        if start >= end {
            return Err(bad());
        }
        out.push(Span { start, end });
    }
    out.sort_by_key(|s| s.start);
    if out.windows(2).any(|w| w[0].end > w[1].start) {
        return Err(bad());
    }
    Ok(out)
}

fn minute_of_day(t: &str) -> Option<u32> {
    let (h, m) = t.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

pub fn parse_weekday(field: &str, value: &str) -> Result<Weekday, CalendarError> {
    Ok(match value.trim().to_ascii_lowercase().as_str() {
        "mon" | "月" => Weekday::Mon,
        "tue" | "火" => Weekday::Tue,
        "wed" | "水" => Weekday::Wed,
        "thu" | "木" => Weekday::Thu,
        "fri" | "金" => Weekday::Fri,
        "sat" | "土" => Weekday::Sat,
        "sun" | "日" => Weekday::Sun,
        _ => return Err(CalendarError::Weekday { field: field.to_string(), value: value.to_string() }),
    })
}

fn parse_date(field: &str, value: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| CalendarError::Date { field: field.to_string(), value: value.to_string() })
}

/// A Japan-time local date and time → UTC.
pub fn parse_jst(field: &str, value: &str) -> Result<DateTime<Utc>, CalendarError> {
    let v = value.trim();
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .ok_or_else(|| CalendarError::DateTime { field: field.to_string(), value: value.to_string() })?;
    Ok(jst_to_utc(naive))
}

/// Tokyo has had no daylight saving time since 1951, so every local time maps to one instant.
pub fn jst_to_utc(naive: NaiveDateTime) -> DateTime<Utc> {
    Tokyo.from_local_datetime(&naive).earliest().map(|d| d.with_timezone(&Utc)).unwrap_or_else(|| Utc.from_utc_datetime(&(naive - Duration::hours(9))))
}

pub fn to_jst(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&Tokyo).naive_local()
}

/// 国民の祝日 as shipped (see the data file's header for source and coverage).
#[derive(Debug, Clone)]
pub struct Holidays {
    pub source: String,
    pub retrieved: String,
    pub years: BTreeSet<i32>,
    pub dates: BTreeMap<NaiveDate, String>,
}

#[derive(Deserialize)]
struct HolidayFile {
    source: String,
    retrieved: String,
    years: Vec<i32>,
    holidays: Vec<HolidayRow>,
}

#[derive(Deserialize)]
struct HolidayRow {
    date: String,
    name: String,
}

impl Holidays {
    pub fn builtin() -> Result<Self, CalendarError> {
        Self::parse(include_str!("../data/holidays_jp.toml"))
    }

    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let f: HolidayFile = toml::from_str(text).map_err(|e| CalendarError::Data(e.to_string()))?;
        let mut dates = BTreeMap::new();
        for h in f.holidays {
            dates.insert(parse_date("holidays", &h.date)?, h.name);
        }
        Ok(Self { source: f.source, retrieved: f.retrieved, years: f.years.into_iter().collect(), dates })
    }

    pub fn covered(&self) -> String {
        match (self.years.first(), self.years.last()) {
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => "none".into(),
        }
    }
}

/// A maintenance window as configured.
#[derive(Debug, Clone)]
pub enum Maintenance {
    OneOff {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        reason: String,
    },
    /// On `days`, optionally only the `nth` such day of the month, during `spans`.
    Recurring {
        days: Vec<Weekday>,
        nth: Option<u32>,
        spans: Vec<Span>,
        reason: String,
    },
}

impl Maintenance {
    pub fn reason(&self) -> &str {
        match self {
            Maintenance::OneOff { reason, .. } | Maintenance::Recurring { reason, .. } => reason,
        }
    }
}

/// One maintenance occurrence that overlapped operating time.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceHit {
    pub reason: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Operating slots it removed from the denominator.
    pub excluded_slots: i64,
}

/// The operating calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    weekday: Vec<Span>,
    holiday: Vec<Span>,
    /// Keyed by days from Monday (chrono's Weekday is not Ord).
    by_day: BTreeMap<u32, Vec<Span>>,
    year_end_closure: bool,
    holidays: Holidays,
    extra_holidays: BTreeSet<NaiveDate>,
    closures: Vec<(NaiveDate, NaiveDate, String)>,
    maintenance: Vec<Maintenance>,
}

/// The slots that count, by day kind, and what was taken out.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Operating minus maintenance, 平日.
    pub weekday: Runs,
    /// Operating minus maintenance, 休日等.
    pub holiday: Runs,
    pub maintenance: Vec<MaintenanceHit>,
    /// Closure days inside the period, with the reason.
    pub closures: Vec<(NaiveDate, String)>,
}

impl Scope {
    pub fn all(&self) -> Runs {
        slots::union(&self.weekday, &self.holiday)
    }
    pub fn of(&self, kind: DayKind) -> &Runs {
        match kind {
            DayKind::Weekday => &self.weekday,
            DayKind::Holiday => &self.holiday,
        }
    }
}

impl Calendar {
    pub fn from_config(c: &gcverify_scenarios::AvailabilityCalendar, maintenance: &[gcverify_scenarios::MaintenanceWindow]) -> Result<Self, CalendarError> {
        let mut by_day = BTreeMap::new();
        for (day, hours) in &c.by_day {
            by_day.insert(parse_weekday("calendar.by_day", day)?.num_days_from_monday(), parse_hours(&format!("calendar.by_day.{day}"), hours)?);
        }
        let extra_holidays = c.extra_holidays.iter().map(|d| parse_date("calendar.extra_holidays", d)).collect::<Result<_, _>>()?;
        let closures = c
            .closures
            .iter()
            .map(|x| -> Result<(NaiveDate, NaiveDate, String), CalendarError> {
                Ok((parse_date("calendar.closures.from", &x.from)?, parse_date("calendar.closures.to", &x.to)?, x.reason.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let maintenance = maintenance.iter().map(parse_maintenance).collect::<Result<_, _>>()?;
        Ok(Self {
            weekday: parse_hours("calendar.weekday_hours", &c.weekday_hours)?,
            holiday: parse_hours("calendar.holiday_hours", &c.holiday_hours)?,
            by_day,
            year_end_closure: c.year_end_closure,
            holidays: Holidays::builtin()?,
            extra_holidays,
            closures,
            maintenance,
        })
    }

    pub fn holidays(&self) -> &Holidays {
        &self.holidays
    }

    /// Declared hours of a day kind (平日 default / 休日等), for reports.
    pub fn declared(&self, kind: DayKind) -> &[Span] {
        match kind {
            DayKind::Weekday => &self.weekday,
            DayKind::Holiday => &self.holiday,
        }
    }

    /// Whether a date is 平日 or 休日等, and why it is a 休日.
    pub fn day_kind(&self, d: NaiveDate) -> Result<(DayKind, Option<String>), CalendarError> {
        if !self.holidays.years.contains(&d.year()) {
            return Err(CalendarError::NotCovered { year: d.year(), covered: self.holidays.covered() });
        }
        if let Some(name) = self.holidays.dates.get(&d) {
            return Ok((DayKind::Holiday, Some(name.clone())));
        }
        if self.extra_holidays.contains(&d) {
            return Ok((DayKind::Holiday, Some("団体の休日".into())));
        }
        if self.year_end_closure && ((d.month() == 12 && d.day() >= 29) || (d.month() == 1 && d.day() <= 3)) {
            return Ok((DayKind::Holiday, Some("年末年始".into())));
        }
        Ok(match d.weekday() {
            Weekday::Sat => (DayKind::Holiday, Some("土曜日".into())),
            Weekday::Sun => (DayKind::Holiday, Some("日曜日".into())),
            _ => (DayKind::Weekday, None),
        })
    }

    /// Operating spans of one date (empty on a closure day).
    pub fn hours_of(&self, d: NaiveDate) -> Result<(DayKind, Vec<Span>, Option<String>), CalendarError> {
        let (kind, _) = self.day_kind(d)?;
        if let Some((_, _, reason)) = self.closures.iter().find(|(a, b, _)| *a <= d && d <= *b) {
            return Ok((kind, Vec::new(), Some(reason.clone())));
        }
        let spans = match kind {
            DayKind::Holiday => self.holiday.clone(),
            DayKind::Weekday => self.by_day.get(&d.weekday().num_days_from_monday()).cloned().unwrap_or_else(|| self.weekday.clone()),
        };
        Ok((kind, spans, None))
    }

    /// Slots inside `[from, to)` (slot `s` covers `[s*slot_secs, (s+1)*slot_secs)`
    /// and counts when it starts inside operating time) minus maintenance.
    pub fn scope(&self, from: DateTime<Utc>, to: DateTime<Utc>, slot_secs: i64) -> Result<Scope, CalendarError> {
        // A slot counts once it has ended: the one in progress at `to` does not.
        let (lo, hi) = (ceil_div(from.timestamp(), slot_secs), to.timestamp().div_euclid(slot_secs));
        let mut scope = Scope::default();
        if lo >= hi {
            return Ok(scope);
        }
        let mut weekday = Vec::new();
        let mut holiday = Vec::new();
        let mut maint: Vec<Occurrence> = Vec::new();
        let (first, last) = (to_jst(from).date(), to_jst(to).date());
        let mut d = first;
        while d <= last {
            let (kind, spans, closed) = self.hours_of(d)?;
            if let Some(reason) = closed {
                scope.closures.push((d, reason));
            }
            for s in spans {
                let run = (self.slot_at(d, s.start, slot_secs), self.slot_at(d, s.end, slot_secs));
                match kind {
                    DayKind::Weekday => weekday.push(run),
                    DayKind::Holiday => holiday.push(run),
                }
            }
            for (i, m) in self.maintenance.iter().enumerate() {
                if let Maintenance::Recurring { days, nth, spans, .. } = m {
                    let nth_ok = nth.is_none_or(|n| (d.day() - 1) / 7 + 1 == n);
                    if days.contains(&d.weekday()) && nth_ok {
                        for s in spans {
                            let (a, b) = (day_minute(d, s.start), day_minute(d, s.end));
                            maint.push((ceil_div(a.timestamp(), slot_secs), ceil_div(b.timestamp(), slot_secs), i, a, b));
                        }
                    }
                }
            }
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
        for (i, m) in self.maintenance.iter().enumerate() {
            if let Maintenance::OneOff { start, end, .. } = m {
                maint.push((ceil_div(start.timestamp(), slot_secs), ceil_div(end.timestamp(), slot_secs), i, *start, *end));
            }
        }
        let period = vec![(lo, hi)];
        let weekday = slots::intersect(&slots::normalize(weekday), &period);
        let holiday = slots::intersect(&slots::normalize(holiday), &period);
        let operating = slots::union(&weekday, &holiday);
        let mut excluded = Vec::new();
        maint.sort_by_key(|m| m.0);
        for (a, b, i, start, end) in maint {
            let hit = slots::total(&slots::intersect(&operating, &[(a, b)]));
            if hit > 0 {
                scope.maintenance.push(MaintenanceHit { reason: self.maintenance[i].reason().to_string(), start, end, excluded_slots: hit });
            }
            excluded.push((a, b));
        }
        let excluded = slots::normalize(excluded);
        scope.weekday = slots::subtract(&weekday, &excluded);
        scope.holiday = slots::subtract(&holiday, &excluded);
        Ok(scope)
    }

    fn slot_at(&self, d: NaiveDate, minute: u32, slot_secs: i64) -> i64 {
        ceil_div(day_minute(d, minute).timestamp(), slot_secs)
    }
}

/// A maintenance occurrence: slot range, index of the window, start and end.
type Occurrence = (i64, i64, usize, DateTime<Utc>, DateTime<Utc>);

fn day_minute(d: NaiveDate, minute: u32) -> DateTime<Utc> {
    jst_to_utc(d.and_time(NaiveTime::MIN) + Duration::minutes(minute.into()))
}

pub fn ceil_div(a: i64, b: i64) -> i64 {
    a.div_euclid(b) + i64::from(a.rem_euclid(b) != 0)
}

fn parse_maintenance(m: &gcverify_scenarios::MaintenanceWindow) -> Result<Maintenance, CalendarError> {
    match (&m.start, &m.end, m.days.is_empty(), &m.hours) {
        (Some(s), Some(e), true, None) => {
            let (start, end) = (parse_jst("maintenance.start", s)?, parse_jst("maintenance.end", e)?);
            if start >= end {
                return Err(CalendarError::Maintenance(m.reason.clone()));
            }
            Ok(Maintenance::OneOff { start, end, reason: m.reason.clone() })
        }
        (None, None, false, Some(h)) => {
            let days = m.days.iter().map(|d| parse_weekday("maintenance.days", d)).collect::<Result<_, _>>()?;
            if m.nth.is_some_and(|n| !(1..=5).contains(&n)) {
                return Err(CalendarError::Maintenance(m.reason.clone()));
            }
            Ok(Maintenance::Recurring { days, nth: m.nth, spans: parse_hours("maintenance.hours", h)?, reason: m.reason.clone() })
        }
        _ => Err(CalendarError::Maintenance(m.reason.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(weekday: &str, holiday: &str) -> Calendar {
        let c = gcverify_scenarios::AvailabilityCalendar { weekday_hours: weekday.into(), holiday_hours: holiday.into(), ..Default::default() };
        Calendar::from_config(&c, &[]).expect("calendar")
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn hours_parse_and_reject() {
        assert_eq!(parse_hours("f", "08:30-20:30").unwrap(), vec![Span { start: 510, end: 1230 }]);
        assert_eq!(parse_hours("f", "").unwrap(), vec![]);
        assert_eq!(parse_hours("f", "00:00-24:00").unwrap()[0].minutes(), 1440);
        for bad in ["8-20", "20:00-08:00", "08:00-12:00,11:00-13:00", "25:00-26:00"] {
            assert!(parse_hours("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_kinds_follow_holidays_weekends_and_year_end() {
        let c = cal("08:30-20:30", "");
        assert_eq!(c.day_kind(date("2026-11-23")).unwrap(), (DayKind::Holiday, Some("勤労感謝の日".into())));
        assert_eq!(c.day_kind(date("2026-11-24")).unwrap().0, DayKind::Weekday);
        assert_eq!(c.day_kind(date("2026-11-28")).unwrap().0, DayKind::Holiday); // Saturday
        assert_eq!(c.day_kind(date("2026-12-29")).unwrap(), (DayKind::Holiday, Some("年末年始".into())));
        assert_eq!(c.day_kind(date("2027-01-04")).unwrap().0, DayKind::Weekday);
        assert!(matches!(c.day_kind(date("2028-05-01")), Err(CalendarError::NotCovered { year: 2028, .. })));
    }

    #[test]
    fn scope_counts_operating_slots_and_removes_maintenance() {
        // Mon 2026-11-16 .. Mon 2026-11-23 (holiday) in JST, 1-minute slots.
        let mut c = cal("08:30-20:30", "09:00-12:00");
        let from = parse_jst("t", "2026-11-16T00:00").unwrap();
        let to = parse_jst("t", "2026-11-24T00:00").unwrap();
        let s = c.scope(from, to, 60).unwrap();
        assert_eq!(slots::total(&s.weekday), 5 * 720); // Mon-Fri 12 h
        assert_eq!(slots::total(&s.holiday), 3 * 180); // Sat, Sun, 勤労感謝の日 3 h
        c.maintenance = vec![
            Maintenance::OneOff {
                start: parse_jst("t", "2026-11-18T20:00").unwrap(),
                end: parse_jst("t", "2026-11-18T22:00").unwrap(),
                reason: "patch".into(),
            },
            Maintenance::Recurring { days: vec![Weekday::Sun], nth: Some(4), spans: parse_hours("h", "10:00-11:00").unwrap(), reason: "月次保守".into() },
        ];
        let s = c.scope(from, to, 60).unwrap();
        assert_eq!(slots::total(&s.weekday), 5 * 720 - 30); // 20:00-20:30 overlaps
        assert_eq!(slots::total(&s.holiday), 3 * 180 - 60); // 4th Sunday 2026-11-22, 10:00-11:00
        assert_eq!(s.maintenance.len(), 2, "{:?}", s.maintenance);
        assert_eq!((s.maintenance[0].reason.as_str(), s.maintenance[0].excluded_slots), ("patch", 30));
        assert_eq!((s.maintenance[1].reason.as_str(), s.maintenance[1].excluded_slots), ("月次保守", 60));
    }

    /// Re-derive every holiday of the covered years from 国民の祝日に関する法律 and
    /// compare with the data file, so a transcription slip cannot pass.
    #[test]
    fn holiday_data_agrees_with_the_holiday_law() {
        let h = Holidays::builtin().unwrap();
        // Equinox days as announced (暦要項); everything else follows from the law.
        let equinox: BTreeMap<i32, (u32, u32)> = [(2024, (20, 22)), (2025, (20, 23)), (2026, (20, 23)), (2027, (21, 23))].into_iter().collect();
        for &y in &h.years {
            let nth_monday = |m: u32, n: u32| {
                let first = NaiveDate::from_ymd_opt(y, m, 1).unwrap();
                let offset = (7 - first.weekday().num_days_from_monday() as i64) % 7;
                first + Duration::days(offset + 7 * (n as i64 - 1))
            };
            let ymd = |m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let (spring, autumn) = equinox[&y];
            let mut law: BTreeSet<NaiveDate> = [
                ymd(1, 1),
                nth_monday(1, 2),
                ymd(2, 11),
                ymd(2, 23),
                ymd(3, spring),
                ymd(4, 29),
                ymd(5, 3),
                ymd(5, 4),
                ymd(5, 5),
                nth_monday(7, 3),
                ymd(8, 11),
                nth_monday(9, 3),
                ymd(9, autumn),
                nth_monday(10, 2),
                ymd(11, 3),
                ymd(11, 23),
            ]
            .into_iter()
            .collect();
            // 国民の休日: a day between two holidays.
            let base = law.clone();
            for d in &base {
                let next = *d + Duration::days(2);
                if base.contains(&next) && !base.contains(&(*d + Duration::days(1))) && (*d + Duration::days(1)).weekday() != Weekday::Sun {
                    law.insert(*d + Duration::days(1));
                }
            }
            // 振替休日: a holiday on Sunday moves to the next non-holiday day.
            for d in base.iter().filter(|d| d.weekday() == Weekday::Sun) {
                let mut n = *d + Duration::days(1);
                while law.contains(&n) {
                    n += Duration::days(1);
                }
                law.insert(n);
            }
            let data: BTreeSet<NaiveDate> = h.dates.keys().filter(|d| d.year() == y).copied().collect();
            assert_eq!(data, law, "holiday data for {y} differs from the law");
        }
    }
}
