//! `OData.Community.Display.V1.FormattedValue` texts (spec §3.9), formatted as for a user with
//! the en-US locale in the UTC time zone.
//!
//! - choices, state and status: the option's label; booleans: the column's true/false label;
//! - whole numbers (Int32 and Int64, `versionnumber` included, as real responses show):
//!   thousands separators (`9,500`);
//! - money: the currency symbol of the row's transaction currency, thousands separators and
//!   the currency's precision (2 for the seeded US Dollar), rounded half away from zero; a
//!   negative amount is `-$1,234.50` (the .NET en-US pattern since .NET 5);
//! - decimals and doubles: thousands separators, fraction digits exactly as the value appears on
//!   the wire (decimals carry the ten decimals they are stored with);
//! - date and time: `3/25/2023 10:42 AM` in UTC (the emulator has no user settings, so no user
//!   time zone; UTC keeps the text equal to the value); date-only: `3/25/2023`.
//!
//! Text, memo and GUID columns have no formatted value; lookups get the referenced row's primary
//! name from [`super`].

use crate::decimal;
use crate::rows::{Cell, to_json};
use dataverse::metadata::{Column, ColumnType};

/// A transaction currency, as money values are formatted with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Currency {
    /// `currencysymbol` (`$`).
    pub(crate) symbol: String,
    /// `currencyprecision`: decimals shown, 0 to 4.
    pub(crate) precision: u32,
}

/// The formatted value of a non-null, non-lookup cell, if its type has one.
pub(crate) fn formatted(column: &Column, cell: &Cell, currency: Option<&Currency>) -> Option<String> {
    match (&column.kind, cell) {
        (ColumnType::Picklist { options } | ColumnType::State { options }, Cell::Int(v)) => {
            options.iter().find(|(o, _)| i64::from(*o) == *v).map(|(_, l)| l.clone())
        }
        (ColumnType::Status { options }, Cell::Int(v)) => {
            options.iter().find(|(o, _, _)| i64::from(*o) == *v).map(|(_, l, _)| l.clone())
        }
        (ColumnType::Boolean { true_label, false_label }, Cell::Int(v)) => {
            Some(if *v != 0 { true_label.clone() } else { false_label.clone() })
        }
        (ColumnType::Integer | ColumnType::BigInt, Cell::Int(v)) => Some(whole(*v)),
        (ColumnType::Money, Cell::Int(units)) => currency.map(|c| money(*units, c)),
        (ColumnType::Decimal | ColumnType::Double, _) => {
            to_json(column, cell).as_number().map(|n| number_text(n.as_str()))
        }
        (ColumnType::DateTime, Cell::Text(t)) => datetime(t),
        (ColumnType::DateOnly, Cell::Text(t)) => date(t),
        _ => None,
    }
}

/// `1234567` → `1,234,567` (ASCII digits only).
fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A whole number with thousands separators.
pub(crate) fn whole(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}", group(&v.unsigned_abs().to_string()))
}

/// Money stored as ten-thousandths, with the currency's symbol and precision.
pub(crate) fn money(units: i64, currency: &Currency) -> String {
    let precision = currency.precision.min(decimal::MONEY_SCALE);
    let divisor = 10u128.pow(decimal::MONEY_SCALE - precision);
    let rounded = (u128::from(units.unsigned_abs()) + divisor / 2) / divisor;
    let scale = 10u128.pow(precision);
    let sign = if units < 0 && rounded > 0 { "-" } else { "" };
    let int = group(&(rounded / scale).to_string());
    if precision == 0 {
        return format!("{sign}{}{int}", currency.symbol);
    }
    format!("{sign}{}{int}.{:0width$}", currency.symbol, rounded % scale, width = precision as usize)
}

/// A JSON number's text with thousands separators in its integer part; exponent forms are
/// left as they are.
pub(crate) fn number_text(text: &str) -> String {
    if text.contains(['e', 'E']) {
        return text.to_owned();
    }
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    match rest.split_once('.') {
        Some((int, frac)) => format!("{sign}{}.{frac}", group(int)),
        None => format!("{sign}{}", group(rest)),
    }
}

/// Stored `YYYY-MM-DDTHH:MM:SSZ` → `3/25/2023 10:42 AM`.
pub(crate) fn datetime(stored: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(stored).ok()?;
    Some(t.format("%-m/%-d/%Y %-I:%M %p").to_string())
}

/// Stored `YYYY-MM-DD` → `3/25/2023`.
pub(crate) fn date(stored: &str) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(stored, "%Y-%m-%d").ok()?;
    Some(d.format("%-m/%-d/%Y").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency { symbol: "$".into(), precision: 2 }
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(whole(9500), "9,500");
        assert_eq!(whole(-1_234_567), "-1,234,567");
        assert_eq!(whole(0), "0");
        assert_eq!(whole(999), "999");
        assert_eq!(whole(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(number_text("12345.5000000000"), "12,345.5000000000");
        assert_eq!(number_text("-1000"), "-1,000");
        assert_eq!(number_text("47.63958"), "47.63958");
        assert_eq!(number_text("1e300"), "1e300");
    }

    #[test]
    fn money_uses_symbol_and_precision() {
        assert_eq!(money(12_345_000, &usd()), "$1,234.50");
        assert_eq!(money(1_000_000_000, &usd()), "$100,000.00");
        assert_eq!(money(-12_345_000, &usd()), "-$1,234.50");
        assert_eq!(money(12_345, &usd()), "$1.23");
        assert_eq!(money(12_355, &usd()), "$1.24");
        assert_eq!(money(-40, &usd()), "$0.00");
        assert_eq!(money(5_000, &Currency { symbol: "¥".into(), precision: 0 }), "¥1");
        assert_eq!(money(i64::MAX, &usd()), "$922,337,203,685,477.58");
    }

    #[test]
    fn dates_are_en_us_utc() {
        assert_eq!(datetime("2023-03-25T10:42:00Z").as_deref(), Some("3/25/2023 10:42 AM"));
        assert_eq!(datetime("2023-12-01T00:05:00Z").as_deref(), Some("12/1/2023 12:05 AM"));
        assert_eq!(datetime("2023-12-01T13:00:59Z").as_deref(), Some("12/1/2023 1:00 PM"));
        assert_eq!(date("2023-03-05").as_deref(), Some("3/5/2023"));
        assert_eq!(date("nope"), None);
    }
}
