//! The instants the date query functions (spec §3.2.1) compare with, computed from the request's
//! clock. The emulator has no user settings: "today" is the UTC date of now, weeks start on
//! Sunday, and the fiscal calendar is the default one (see below).
//!
//! With `T` today at midnight, `N` now, `W` this week's Sunday, `M` the first of this month and
//! `Y` January 1st of this year (ranges are `[from, to)` unless marked `]`):
//! - `Today` `[T, T+1d)`, `Yesterday` `[T-1d, T)`, `Tomorrow` `[T+1d, T+2d)`;
//! - `On(d)` `[d, d+1d)`, `OnOrAfter(d)` from `d`, `OnOrBefore(d)` before `d+1d` (the value is a
//!   date, `YYYY-MM-DD`; a date-time value counts as its UTC date);
//! - `LastXHours(x)` `[N-xh, N]`, `NextXHours(x)` `[N, N+xh]`;
//! - `LastXDays(x)` `[T-xd, N]` (today so far and the x days before it; `Last7Days` = x 7),
//!   `NextXDays(x)` `[N, T+(x+1)d)` (the rest of today and the x days after it; `Next7Days`);
//!   `…Weeks` are 7x days; `…Months`/`…Years` move by calendar months (the day clamped to the
//!   month's length: Mar 31 − 1 month = Feb 29 in 2024);
//! - `OlderThanXMinutes`/`Hours(x)` before `N-x`; `OlderThanXDays`/`Weeks`/`Months`/`Years(x)`
//!   before the start of the `LastX…(x)` range, so the two never overlap and together cover
//!   everything up to now;
//! - `ThisWeek` `[W, W+7d)`, `LastWeek` and `NextWeek` the weeks around it; `ThisMonth`,
//!   `LastMonth`, `NextMonth`, `ThisYear`, `LastYear`, `NextYear` the calendar months and years.
//!
//! Fiscal functions use the default fiscal calendar: the fiscal year is the calendar year
//! (January 1st to December 31st, named by that year) in 12 monthly periods (period 1 =
//! January). `InFiscalYear(y)` is that year, `InFiscalPeriod(p)` month `p` of any year (as the
//! FetchXML docs describe `in-fiscal-period`), `InFiscalPeriodAndYear(p, y)` one month,
//! `InOrAfter…`/`InOrBeforeFiscalPeriodAndYear(p, y)` from that month's start / up to its end;
//! `This`/`Last`/`NextFiscalYear` and `…FiscalPeriod` are this, the previous and the next year or
//! month; `LastXFiscalYears(x)`/`LastXFiscalPeriods(x)` are the x whole years or months before
//! the current one, `NextX…(x)` the x after it.
//!
//! Counts (`x`) are whole numbers ≥ 0, periods 1–12, years 1–9999; they may be sent as numbers
//! or strings (`PropertyValue=7` or `'7'`).

use chrono::{DateTime, Datelike as _, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use dataverse::query::{Literal, QueryFunction};

/// One side of a date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    /// `column >= t`.
    AtLeast(NaiveDateTime),
    /// `column < t`.
    Before(NaiveDateTime),
    /// `column <= t`.
    AtMost(NaiveDateTime),
}

/// What a date function requires of the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Condition {
    /// All of these bounds.
    Bounds(Vec<Bound>),
    /// The month is this one (1–12), in any year.
    Month(u32),
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::MIN)
}

fn range(from: NaiveDate, to: NaiveDate) -> Condition {
    Condition::Bounds(vec![Bound::AtLeast(midnight(from)), Bound::Before(midnight(to))])
}

/// The value at `i` as a whole number (a number or a string holding one).
fn whole(f: QueryFunction, values: &[Literal], i: usize) -> Result<i64, String> {
    let found = match values.get(i) {
        Some(Literal::Integer(n)) => Some(*n),
        Some(Literal::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    found.ok_or_else(|| format!("The value of {} must be a whole number", f.name()))
}

fn in_range(f: QueryFunction, value: i64, lo: i64, hi: i64, what: &str) -> Result<u32, String> {
    if (lo..=hi).contains(&value) {
        u32::try_from(value).map_err(|_| format!("The {what} {value} of {} is out of range", f.name()))
    } else {
        Err(format!("The {what} of {} must be between {lo} and {hi}, not {value}", f.name()))
    }
}

fn count(f: QueryFunction, values: &[Literal]) -> Result<u32, String> {
    in_range(f, whole(f, values, 0)?, 0, 1_000_000, "count")
}

fn date_value(f: QueryFunction, values: &[Literal]) -> Result<NaiveDate, String> {
    let text = match values.first() {
        Some(Literal::String(s)) => crate::rows::normalize_date(s),
        _ => None,
    };
    text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
        .ok_or_else(|| format!("The value of {} must be a date (YYYY-MM-DD)", f.name()))
}

/// `January 1st` of fiscal year `y`, or the first day of period `p` of it.
fn first_day(y: i64, p: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, p, 1)
}

/// The condition a date function puts on its column, at `now` (see the module doc); the error
/// says which value does not fit.
pub(super) fn condition(f: QueryFunction, values: &[Literal], now: DateTime<Utc>) -> Result<Condition, String> {
    use QueryFunction as F;
    let out_of_range = || format!("{} reaches outside the supported dates", f.name());
    let now = now.naive_utc();
    let today = now.date();
    let days = |d: NaiveDate, n: i64| -> Result<NaiveDate, String> {
        let step = Days::new(n.unsigned_abs());
        if n >= 0 { d.checked_add_days(step) } else { d.checked_sub_days(step) }.ok_or_else(out_of_range)
    };
    let months = |d: NaiveDate, n: i64| -> Result<NaiveDate, String> {
        let step = Months::new(u32::try_from(n.unsigned_abs()).map_err(|_| out_of_range())?);
        if n >= 0 { d.checked_add_months(step) } else { d.checked_sub_months(step) }.ok_or_else(out_of_range)
    };
    let shifted = |delta: Option<TimeDelta>| delta.and_then(|d| now.checked_add_signed(d)).ok_or_else(out_of_range);
    let since = |from: NaiveDate| Condition::Bounds(vec![Bound::AtLeast(midnight(from)), Bound::AtMost(now)]);
    let until = |to: NaiveDate| Condition::Bounds(vec![Bound::AtLeast(now), Bound::Before(midnight(to))]);
    let before = |t: NaiveDateTime| Condition::Bounds(vec![Bound::Before(t)]);
    let week = days(today, -i64::from(today.weekday().num_days_from_sunday()))?;
    let month = first_day(i64::from(today.year()), today.month()).ok_or_else(out_of_range)?;
    let year = first_day(i64::from(today.year()), 1).ok_or_else(out_of_range)?;
    let x = || count(f, values).map(i64::from);
    let period_and_year = || -> Result<NaiveDate, String> {
        let p = in_range(f, whole(f, values, 0)?, 1, 12, "period")?;
        let y = in_range(f, whole(f, values, 1)?, 1, 9999, "year")?;
        first_day(i64::from(y), p).ok_or_else(out_of_range)
    };
    Ok(match f {
        F::Today => range(today, days(today, 1)?),
        F::Yesterday => range(days(today, -1)?, today),
        F::Tomorrow => range(days(today, 1)?, days(today, 2)?),
        F::On => {
            let d = date_value(f, values)?;
            range(d, days(d, 1)?)
        }
        F::OnOrAfter => Condition::Bounds(vec![Bound::AtLeast(midnight(date_value(f, values)?))]),
        F::OnOrBefore => before(midnight(days(date_value(f, values)?, 1)?)),
        F::LastXHours => {
            Condition::Bounds(vec![Bound::AtLeast(shifted(TimeDelta::try_hours(-x()?))?), Bound::AtMost(now)])
        }
        F::NextXHours => {
            Condition::Bounds(vec![Bound::AtLeast(now), Bound::AtMost(shifted(TimeDelta::try_hours(x()?))?)])
        }
        F::Last7Days => since(days(today, -7)?),
        F::Next7Days => until(days(today, 8)?),
        F::LastXDays => since(days(today, -x()?)?),
        F::NextXDays => until(days(today, x()? + 1)?),
        F::LastXWeeks => since(days(today, -7 * x()?)?),
        F::NextXWeeks => until(days(today, 7 * x()? + 1)?),
        F::LastXMonths => since(months(today, -x()?)?),
        F::NextXMonths => until(days(months(today, x()?)?, 1)?),
        F::LastXYears => since(months(today, -12 * x()?)?),
        F::NextXYears => until(days(months(today, 12 * x()?)?, 1)?),
        F::OlderThanXMinutes => before(shifted(TimeDelta::try_minutes(-x()?))?),
        F::OlderThanXHours => before(shifted(TimeDelta::try_hours(-x()?))?),
        F::OlderThanXDays => before(midnight(days(today, -x()?)?)),
        F::OlderThanXWeeks => before(midnight(days(today, -7 * x()?)?)),
        F::OlderThanXMonths => before(midnight(months(today, -x()?)?)),
        F::OlderThanXYears => before(midnight(months(today, -12 * x()?)?)),
        F::ThisWeek => range(week, days(week, 7)?),
        F::LastWeek => range(days(week, -7)?, week),
        F::NextWeek => range(days(week, 7)?, days(week, 14)?),
        F::ThisMonth | F::ThisFiscalPeriod => range(month, months(month, 1)?),
        F::LastMonth | F::LastFiscalPeriod => range(months(month, -1)?, month),
        F::NextMonth | F::NextFiscalPeriod => range(months(month, 1)?, months(month, 2)?),
        F::ThisYear | F::ThisFiscalYear => range(year, months(year, 12)?),
        F::LastYear | F::LastFiscalYear => range(months(year, -12)?, year),
        F::NextYear | F::NextFiscalYear => range(months(year, 12)?, months(year, 24)?),
        F::InFiscalYear => {
            let y = first_day(i64::from(in_range(f, whole(f, values, 0)?, 1, 9999, "year")?), 1)
                .ok_or_else(out_of_range)?;
            range(y, months(y, 12)?)
        }
        F::InFiscalPeriod => Condition::Month(in_range(f, whole(f, values, 0)?, 1, 12, "period")?),
        F::InFiscalPeriodAndYear => {
            let start = period_and_year()?;
            range(start, months(start, 1)?)
        }
        F::InOrAfterFiscalPeriodAndYear => Condition::Bounds(vec![Bound::AtLeast(midnight(period_and_year()?))]),
        F::InOrBeforeFiscalPeriodAndYear => before(midnight(months(period_and_year()?, 1)?)),
        F::LastXFiscalYears => range(months(year, -12 * x()?)?, year),
        F::NextXFiscalYears => range(months(year, 12)?, months(year, 12 * (x()? + 1))?),
        F::LastXFiscalPeriods => range(months(month, -x()?)?, month),
        F::NextXFiscalPeriods => range(months(month, 1)?, months(month, x()? + 1)?),
        other => return Err(format!("{} is not a date function", other.name())),
    })
}

#[cfg(test)]
mod tests;
