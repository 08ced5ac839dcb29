//! AWS Backup schedule expressions: `cron(m h dom mon dow year)` and
//! `rate(n unit)`. We only need the longest gap between two runs, which we
//! compute exactly by enumerating a year of run times day by day.

use chrono::{Datelike, Duration, NaiveDate};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("not a cron(...) or rate(...) expression: `{0}`")]
    Syntax(String),
    #[error("cron field `{field}`: {why}")]
    Field { field: String, why: String },
    #[error("cron feature not supported by gcverify: `{0}`")]
    Unsupported(String),
    #[error("schedule `{0}` never runs in the next year")]
    NeverRuns(String),
}

/// The longest interval between consecutive runs over one year starting at
/// `from` (for a rate, the rate itself).
pub fn max_gap(expr: &str, from: NaiveDate) -> Result<Duration, CronError> {
    let e = expr.trim();
    if let Some(body) = e.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')) {
        return rate(body, e);
    }
    let body = e.strip_prefix("cron(").and_then(|b| b.strip_suffix(')')).ok_or_else(|| CronError::Syntax(e.to_string()))?;
    let fields: Vec<&str> = body.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(CronError::Syntax(e.to_string()));
    }
    let minutes = set(fields[0], 0, 59, &[])?;
    let hours = set(fields[1], 0, 23, &[])?;
    let dom = DayOfMonth::parse(fields[2])?;
    let months = set(fields[3], 1, 12, &MONTHS)?;
    // AWS: 1 = SUN .. 7 = SAT.
    let dows = set(fields[4], 1, 7, &DAYS)?;
    let years = set(fields[5], 1970, 2199, &[])?;

    let mut runs = Vec::new();
    // Two years, so the gap across a year boundary is counted; gaps are
    // measured over the first year's runs and the first run after it.
    for offset in 0..(366 * 2) {
        let day = from + Duration::days(offset);
        let dow_aws = day.weekday().num_days_from_sunday() + 1;
        let day_ok = months.contains(&day.month())
            && years.contains(&(day.year() as u32))
            && dom.matches(day)
            && (fields[4] == "?" || fields[4] == "*" || dows.contains(&dow_aws))
            && (fields[2] != "?" || fields[4] != "?");
        if day_ok {
            for &h in &hours {
                for &m in &minutes {
                    runs.push(day.and_hms_opt(h, m, 0).expect("valid h:m"));
                }
            }
        }
    }
    let horizon = from + Duration::days(366);
    let end = runs.iter().position(|t| t.date() > horizon).map_or(runs.len(), |i| i + 1);
    let relevant = &runs[..end];
    if relevant.len() < 2 {
        return Err(CronError::NeverRuns(e.to_string()));
    }
    Ok(relevant.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_else(Duration::zero))
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn rate(body: &str, expr: &str) -> Result<Duration, CronError> {
    let mut parts = body.split_whitespace();
    let n: i64 = parts.next().and_then(|n| n.parse().ok()).filter(|n| *n > 0).ok_or_else(|| CronError::Syntax(expr.to_string()))?;
    match parts.next().map(|u| u.trim_end_matches('s')) {
        Some("minute") => Ok(Duration::minutes(n)),
        Some("hour") => Ok(Duration::hours(n)),
        Some("day") => Ok(Duration::days(n)),
        _ => Err(CronError::Syntax(expr.to_string())),
    }
}

fn value(tok: &str, min: u32, names: &[&str], field: &str) -> Result<u32, CronError> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(tok)) {
        return Ok(i as u32 + min);
    }
    tok.parse().map_err(|_| CronError::Field { field: field.into(), why: format!("`{tok}` is not a number") })
}

/// Parse a field of numbers, ranges, lists and steps into the set it allows.
fn set(field: &str, min: u32, max: u32, names: &[&str]) -> Result<Vec<u32>, CronError> {
    if field == "*" || field == "?" {
        return Ok((min..=max).collect());
    }
    if field.contains(['L', 'W', '#']) && !names.iter().any(|n| field.contains(n)) {
        return Err(CronError::Unsupported(field.to_string()));
    }
    let mut out = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                (r, s.parse::<u32>().ok().filter(|s| *s > 0).ok_or_else(|| CronError::Field { field: field.into(), why: format!("bad step `{s}`") })?)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, min, names, field)?, value(b, min, names, field)?)
        } else {
            let v = value(range, min, names, field)?;
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(CronError::Field { field: field.into(), why: format!("{lo}-{hi} outside {min}-{max}") });
        }
        out.extend((lo..=hi).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

enum DayOfMonth {
    Any,
    Last,
    Days(Vec<u32>),
}

impl DayOfMonth {
    fn parse(f: &str) -> Result<Self, CronError> {
        match f {
            "*" | "?" => Ok(Self::Any),
            "L" => Ok(Self::Last),
            _ => Ok(Self::Days(set(f, 1, 31, &[])?)),
        }
    }
    fn matches(&self, d: NaiveDate) -> bool {
        match self {
            Self::Any => true,
            Self::Last => (d + Duration::days(1)).month() != d.month(),
            Self::Days(v) => v.contains(&d.day()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap_hours(expr: &str) -> i64 {
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        max_gap(expr, from).unwrap_or_else(|e| panic!("{expr}: {e}")).num_hours()
    }

    #[test]
    fn daily_is_24_hours() {
        assert_eq!(gap_hours("cron(0 5 ? * * *)"), 24);
        assert_eq!(gap_hours("cron(0 17 * * ? *)"), 24);
    }

    #[test]
    fn twice_daily_uneven_takes_longest_gap() {
        assert_eq!(gap_hours("cron(0 1,7 ? * * *)"), 18);
    }

    #[test]
    fn weekdays_only_has_a_weekend_gap() {
        // Mon-Fri at 03:00: Friday 03:00 to Monday 03:00 = 72 h.
        assert_eq!(gap_hours("cron(0 3 ? * MON-FRI *)"), 72);
        assert_eq!(gap_hours("cron(0 3 ? * 2-6 *)"), 72);
    }

    #[test]
    fn weekly_and_monthly() {
        assert_eq!(gap_hours("cron(0 3 ? * SUN *)"), 7 * 24);
        assert_eq!(gap_hours("cron(0 3 1 * ? *)"), 31 * 24);
        assert_eq!(gap_hours("cron(0 3 L * ? *)"), 31 * 24);
    }

    #[test]
    fn steps_and_rates() {
        assert_eq!(gap_hours("cron(0 0/6 * * ? *)"), 6);
        assert_eq!(gap_hours("rate(12 hours)"), 12);
        assert_eq!(gap_hours("rate(1 day)"), 24);
    }

    #[test]
    fn bad_expressions_are_errors() {
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        assert!(matches!(max_gap("daily", from), Err(CronError::Syntax(_))));
        assert!(matches!(max_gap("cron(0 5 * *)", from), Err(CronError::Syntax(_))));
        assert!(matches!(max_gap("cron(0 25 * * ? *)", from), Err(CronError::Field { .. })));
        assert!(matches!(max_gap("cron(0 5 ? * 6#3 *)", from), Err(CronError::Unsupported(_))));
        assert!(matches!(max_gap("cron(0 5 ? * * 2020)", from), Err(CronError::NeverRuns(_))));
    }
}
