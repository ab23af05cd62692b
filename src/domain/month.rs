//! Calendar months (UTC) of the ledger: each is one partition of `movements`, and retention
//! detaches whole months.

use super::Invalid;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::fmt;

/// Months ahead of the current one that always have their partition.
pub const MONTHS_AHEAD: u32 = 3;

/// A calendar month, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl Month {
    /// The month `instant` falls in.
    pub fn of(instant: DateTime<Utc>) -> Self {
        Self {
            year: instant.year(),
            month: instant.month(),
        }
    }

    /// `YYYY-MM`, as an operator writes it.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new(field, format!("'{raw}' is not a month (YYYY-MM)"));
        let (year, month) = raw.split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let month: u32 = month.parse().map_err(|_| invalid())?;
        if !(1..=12).contains(&month) || year < 2000 {
            return Err(invalid());
        }
        Ok(Self { year, month })
    }

    /// The month `months` later (earlier when negative).
    pub fn plus(self, months: i32) -> Self {
        let index = self.year * 12 + self.month as i32 - 1 + months;
        Self {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("months are 1 to 12")
    }

    /// Its first instant: where its partition starts.
    pub fn start(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.first_day().and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// This month and the [`MONTHS_AHEAD`] after it: the partitions that must exist.
    pub fn ahead(self) -> Vec<Self> {
        (0..=MONTHS_AHEAD as i32).map(|n| self.plus(n)).collect()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Retention may detach months before `before` only if the current and the previous month
/// stay: yesterday's late uploads and last month's reports still need their movements.
pub fn detachable(field: &str, before: Month, now: DateTime<Utc>) -> Result<Month, Invalid> {
    let previous = Month::of(now).plus(-1);
    if before > previous {
        return Err(Invalid::new(
            field,
            format!("{before} would detach {previous} or later: the current and the previous month stay"),
        ));
    }
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(raw: &str) -> Month {
        Month::parse("month", raw).expect("a month")
    }

    #[test]
    fn months_parse_and_print_as_year_dash_month() {
        assert_eq!(month("2025-01").to_string(), "2025-01");
        assert_eq!(
            month("2025-12").first_day(),
            NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
        );
        for bad in [
            "2025-13",
            "2025-00",
            "2025-1",
            "25-01",
            "2025/01",
            "1999-12",
            "2025-01-01",
            "x",
        ] {
            assert!(Month::parse("before", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Month::parse("before", "2025-13").unwrap_err().field,
            "before"
        );
    }

    #[test]
    fn adding_months_crosses_years_both_ways() {
        assert_eq!(month("2025-12").plus(1), month("2026-01"));
        assert_eq!(month("2026-01").plus(-1), month("2025-12"));
        assert_eq!(month("2026-03").plus(-15), month("2024-12"));
        assert_eq!(month("2026-03").plus(0), month("2026-03"));
        assert_eq!(month("2024-11").plus(26), month("2027-01"));
    }

    #[test]
    fn a_month_starts_at_utc_midnight_of_its_first_day() {
        let start = month("2024-02").start();
        assert_eq!(start.to_rfc3339(), "2024-02-01T00:00:00+00:00");
        assert_eq!(Month::of(start), month("2024-02"));
        assert_eq!(
            Month::of(start - chrono::Duration::nanoseconds(1)),
            month("2024-01")
        );
    }

    #[test]
    fn partitions_exist_for_this_month_and_three_ahead() {
        assert_eq!(
            month("2026-11").ahead(),
            vec![
                month("2026-11"),
                month("2026-12"),
                month("2027-01"),
                month("2027-02")
            ]
        );
    }

    #[test]
    fn retention_keeps_the_current_and_the_previous_month() {
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        assert_eq!(
            detachable("before", month("2025-12"), now),
            Ok(month("2025-12"))
        );
        assert_eq!(
            detachable("before", month("2025-03"), now),
            Ok(month("2025-03"))
        );
        for kept in ["2026-01", "2026-02"] {
            let refused = detachable("before", month(kept), now).unwrap_err();
            assert_eq!(refused.field, "before");
            assert!(refused.message.contains("2025-12"), "{}", refused.message);
        }
    }
}
