//! 営業日 in Japan time: not Saturday, Sunday, a 国民の祝日 (the holiday data
//! shipped with the availability crate) or 年末年始 (12/29-1/3).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use gcverify_availability::calendar::{jst_to_utc, to_jst, Holidays};

pub struct BusinessCalendar {
    holidays: Holidays,
}

impl BusinessCalendar {
    pub fn builtin() -> Result<Self, String> {
        Holidays::builtin().map(|holidays| Self { holidays }).map_err(|e| e.to_string())
    }

    /// Whether `d` is a business day; an error for a year the holiday data does not cover.
    pub fn is_business_day(&self, d: NaiveDate) -> Result<bool, String> {
        if !self.holidays.years.contains(&d.year()) {
            return Err(format!("the holiday data (years {}) does not cover {}", self.holidays.covered(), d.year()));
        }
        let year_end = (d.month() == 12 && d.day() >= 29) || (d.month() == 1 && d.day() <= 3);
        Ok(!(year_end || matches!(d.weekday(), Weekday::Sat | Weekday::Sun) || self.holidays.dates.contains_key(&d)))
    }

    /// The earliest instant a recovery point may date from and still be
    /// "`n` 営業日前の時点": 00:00 JST of the `n`-th business day before
    /// today's (JST) date. Checked on 2027-01-04 (Mon), 1 business day back
    /// is 2026-12-28, because 12/29-1/3 are 年末年始.
    pub fn deadline(&self, now: DateTime<Utc>, n: u32) -> Result<(DateTime<Utc>, NaiveDate), String> {
        let mut day = to_jst(now).date();
        let mut counted = 0;
        // Longest run of non-business days in Japan is well under 20 days.
        for _ in 0..(n as usize * 7 + 30) {
            day -= Duration::days(1);
            if self.is_business_day(day)? {
                counted += 1;
                if counted == n {
                    let start = day.and_hms_opt(0, 0, 0).ok_or("invalid date")?;
                    return Ok((jst_to_utc(start), day));
                }
            }
        }
        Err(format!("no {n} business days found before {}", to_jst(now).date()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cal() -> BusinessCalendar {
        BusinessCalendar::builtin().expect("holiday data")
    }
    fn at_jst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("time") - Duration::hours(9)
    }
    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn year_end_is_skipped() {
        let (t, d) = cal().deadline(at_jst(2027, 1, 4, 10), 1).expect("deadline");
        assert_eq!(d, date(2026, 12, 28));
        assert_eq!(t, at_jst(2026, 12, 28, 0));
    }

    #[test]
    fn weekend_and_holiday_are_skipped() {
        // 2026-05-06 (Wed) is a 振替休日; 5/3-5/5 holidays; 5/2 Sat, 5/1 Fri business.
        let (_, d) = cal().deadline(at_jst(2026, 5, 7, 9), 1).expect("deadline");
        assert_eq!(d, date(2026, 5, 1));
        // Monday: previous business day is Friday.
        let (_, d) = cal().deadline(at_jst(2026, 6, 8, 9), 1).expect("deadline");
        assert_eq!(d, date(2026, 6, 5));
        // Five business days before Monday 2026-06-08: Mon 6/1.
        let (_, d) = cal().deadline(at_jst(2026, 6, 8, 9), 5).expect("deadline");
        assert_eq!(d, date(2026, 6, 1));
    }

    #[test]
    fn uncovered_year_is_an_error() {
        assert!(cal().deadline(at_jst(2031, 1, 10, 9), 1).is_err());
    }
}
