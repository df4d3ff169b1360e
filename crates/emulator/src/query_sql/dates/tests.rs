//! Date ranges at month, year and leap-day boundaries.

use super::*;
use chrono::TimeZone as _;
use dataverse::query::QueryFunction as F;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn t(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

fn bounds(f: F, values: &[Literal], now: DateTime<Utc>) -> Vec<Bound> {
    match condition(f, values, now).unwrap() {
        Condition::Bounds(b) => b,
        other => panic!("{other:?}"),
    }
}

fn range(from: &str, to: &str) -> Vec<Bound> {
    vec![Bound::AtLeast(t(from)), Bound::Before(t(to))]
}

#[test]
fn calendar_periods_around_the_new_year() {
    // Wednesday 2025-12-31 23:30 UTC.
    let now = at(2025, 12, 31, 23, 30);
    assert_eq!(bounds(F::Today, &[], now), range("2025-12-31 00:00", "2026-01-01 00:00"));
    assert_eq!(bounds(F::Tomorrow, &[], now), range("2026-01-01 00:00", "2026-01-02 00:00"));
    assert_eq!(bounds(F::Yesterday, &[], now), range("2025-12-30 00:00", "2025-12-31 00:00"));
    // Weeks start on Sunday: 2025-12-28.
    assert_eq!(bounds(F::ThisWeek, &[], now), range("2025-12-28 00:00", "2026-01-04 00:00"));
    assert_eq!(bounds(F::LastWeek, &[], now), range("2025-12-21 00:00", "2025-12-28 00:00"));
    assert_eq!(bounds(F::NextWeek, &[], now), range("2026-01-04 00:00", "2026-01-11 00:00"));
    assert_eq!(bounds(F::ThisMonth, &[], now), range("2025-12-01 00:00", "2026-01-01 00:00"));
    assert_eq!(bounds(F::NextMonth, &[], now), range("2026-01-01 00:00", "2026-02-01 00:00"));
    assert_eq!(bounds(F::LastMonth, &[], now), range("2025-11-01 00:00", "2025-12-01 00:00"));
    assert_eq!(bounds(F::ThisYear, &[], now), range("2025-01-01 00:00", "2026-01-01 00:00"));
    assert_eq!(bounds(F::LastYear, &[], now), range("2024-01-01 00:00", "2025-01-01 00:00"));
    assert_eq!(bounds(F::NextYear, &[], now), range("2026-01-01 00:00", "2027-01-01 00:00"));
    // A Sunday is the first day of its own week.
    assert_eq!(bounds(F::ThisWeek, &[], at(2026, 1, 4, 0, 0)), range("2026-01-04 00:00", "2026-01-11 00:00"));
}

#[test]
fn rolling_ranges_end_now_or_start_now() {
    let now = at(2024, 3, 31, 10, 15);
    let n = t("2024-03-31 10:15");
    assert_eq!(
        bounds(F::LastXHours, &[Literal::Integer(12)], now),
        [Bound::AtLeast(t("2024-03-30 22:15")), Bound::AtMost(n)]
    );
    assert_eq!(
        bounds(F::NextXHours, &[Literal::String("2".into())], now),
        [Bound::AtLeast(n), Bound::AtMost(t("2024-03-31 12:15"))]
    );
    assert_eq!(bounds(F::Last7Days, &[], now), [Bound::AtLeast(t("2024-03-24 00:00")), Bound::AtMost(n)]);
    assert_eq!(bounds(F::Next7Days, &[], now), [Bound::AtLeast(n), Bound::Before(t("2024-04-08 00:00"))]);
    assert_eq!(
        bounds(F::LastXDays, &[Literal::Integer(31)], now),
        [Bound::AtLeast(t("2024-02-29 00:00")), Bound::AtMost(n)]
    );
    assert_eq!(
        bounds(F::NextXDays, &[Literal::Integer(1)], now),
        [Bound::AtLeast(n), Bound::Before(t("2024-04-02 00:00"))]
    );
    assert_eq!(
        bounds(F::LastXWeeks, &[Literal::Integer(2)], now),
        [Bound::AtLeast(t("2024-03-17 00:00")), Bound::AtMost(n)]
    );
    // Mar 31 − 1 month is Feb 29 in a leap year.
    assert_eq!(
        bounds(F::LastXMonths, &[Literal::Integer(1)], now),
        [Bound::AtLeast(t("2024-02-29 00:00")), Bound::AtMost(n)]
    );
    assert_eq!(
        bounds(F::NextXMonths, &[Literal::Integer(11)], now),
        [Bound::AtLeast(n), Bound::Before(t("2025-03-01 00:00"))]
    );
    assert_eq!(
        bounds(F::LastXYears, &[Literal::Integer(1)], at(2024, 2, 29, 0, 0)),
        [Bound::AtLeast(t("2023-02-28 00:00")), Bound::AtMost(t("2024-02-29 00:00"))]
    );
    assert_eq!(
        bounds(F::NextXYears, &[Literal::Integer(1)], now),
        [Bound::AtLeast(n), Bound::Before(t("2025-04-01 00:00"))]
    );
}

#[test]
fn older_than_ranges_end_where_last_ranges_start() {
    let now = at(2024, 1, 1, 0, 5);
    assert_eq!(bounds(F::OlderThanXMinutes, &[Literal::Integer(10)], now), [Bound::Before(t("2023-12-31 23:55"))]);
    assert_eq!(bounds(F::OlderThanXHours, &[Literal::Integer(1)], now), [Bound::Before(t("2023-12-31 23:05"))]);
    assert_eq!(bounds(F::OlderThanXDays, &[Literal::Integer(1)], now), [Bound::Before(t("2023-12-31 00:00"))]);
    assert_eq!(bounds(F::OlderThanXWeeks, &[Literal::Integer(1)], now), [Bound::Before(t("2023-12-25 00:00"))]);
    assert_eq!(bounds(F::OlderThanXMonths, &[Literal::Integer(2)], now), [Bound::Before(t("2023-11-01 00:00"))]);
    assert_eq!(bounds(F::OlderThanXYears, &[Literal::Integer(1)], now), [Bound::Before(t("2023-01-01 00:00"))]);
    for (last, older) in [(F::LastXDays, F::OlderThanXDays), (F::LastXMonths, F::OlderThanXMonths)] {
        let from = bounds(last, &[Literal::Integer(3)], now)[0];
        let to = bounds(older, &[Literal::Integer(3)], now)[0];
        let (Bound::AtLeast(a), Bound::Before(b)) = (from, to) else { panic!("{from:?} {to:?}") };
        assert_eq!(a, b, "{last:?} and {older:?} meet");
    }
}

#[test]
fn day_functions_take_dates() {
    let now = at(2024, 6, 1, 0, 0);
    let d = |s: &str| vec![Literal::String(s.into())];
    assert_eq!(bounds(F::On, &d("2024-02-29"), now), range("2024-02-29 00:00", "2024-03-01 00:00"));
    assert_eq!(bounds(F::OnOrAfter, &d("2024-12-31"), now), [Bound::AtLeast(t("2024-12-31 00:00"))]);
    assert_eq!(bounds(F::OnOrBefore, &d("2024-12-31"), now), [Bound::Before(t("2025-01-01 00:00"))]);
    // A date-time counts as its UTC date.
    assert_eq!(bounds(F::On, &d("2024-03-01T01:00:00+02:00"), now), range("2024-02-29 00:00", "2024-03-01 00:00"));
    for bad in [vec![Literal::Integer(20240229)], d("2024-02-30"), d("soon")] {
        assert!(condition(F::On, &bad, now).is_err(), "{bad:?}");
    }
}

#[test]
fn fiscal_calendar_is_the_calendar_year_in_months() {
    let now = at(2024, 1, 15, 8, 0);
    let pair = |p: i64, y: i64| vec![Literal::Integer(p), Literal::Integer(y)];
    assert_eq!(bounds(F::InFiscalYear, &[Literal::Integer(2023)], now), range("2023-01-01 00:00", "2024-01-01 00:00"));
    assert_eq!(condition(F::InFiscalPeriod, &[Literal::String("2".into())], now), Ok(Condition::Month(2)));
    assert_eq!(bounds(F::InFiscalPeriodAndYear, &pair(12, 2023), now), range("2023-12-01 00:00", "2024-01-01 00:00"));
    assert_eq!(bounds(F::InOrAfterFiscalPeriodAndYear, &pair(2, 2024), now), [Bound::AtLeast(t("2024-02-01 00:00"))]);
    assert_eq!(bounds(F::InOrBeforeFiscalPeriodAndYear, &pair(2, 2024), now), [Bound::Before(t("2024-03-01 00:00"))]);
    assert_eq!(bounds(F::ThisFiscalYear, &[], now), range("2024-01-01 00:00", "2025-01-01 00:00"));
    assert_eq!(bounds(F::LastFiscalYear, &[], now), range("2023-01-01 00:00", "2024-01-01 00:00"));
    assert_eq!(bounds(F::NextFiscalYear, &[], now), range("2025-01-01 00:00", "2026-01-01 00:00"));
    assert_eq!(bounds(F::ThisFiscalPeriod, &[], now), range("2024-01-01 00:00", "2024-02-01 00:00"));
    assert_eq!(bounds(F::LastFiscalPeriod, &[], now), range("2023-12-01 00:00", "2024-01-01 00:00"));
    assert_eq!(bounds(F::NextFiscalPeriod, &[], now), range("2024-02-01 00:00", "2024-03-01 00:00"));
    assert_eq!(bounds(F::LastXFiscalYears, &[Literal::Integer(2)], now), range("2022-01-01 00:00", "2024-01-01 00:00"));
    assert_eq!(bounds(F::NextXFiscalYears, &[Literal::Integer(2)], now), range("2025-01-01 00:00", "2027-01-01 00:00"));
    assert_eq!(
        bounds(F::LastXFiscalPeriods, &[Literal::Integer(2)], now),
        range("2023-11-01 00:00", "2024-01-01 00:00")
    );
    assert_eq!(
        bounds(F::NextXFiscalPeriods, &[Literal::Integer(12)], now),
        range("2024-02-01 00:00", "2025-02-01 00:00")
    );
    for bad in [pair(0, 2024), pair(13, 2024), pair(1, 0), pair(1, 10_000)] {
        assert!(condition(F::InFiscalPeriodAndYear, &bad, now).is_err(), "{bad:?}");
    }
    assert!(condition(F::LastXDays, &[Literal::Decimal("1.5".into())], now).is_err());
    assert!(condition(F::NextXYears, &[Literal::Integer(1_000_000)], now).is_err(), "beyond year 262143");
}
