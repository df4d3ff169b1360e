//! Column values between the wire (spec §2.1 JSON formats) and SQLite storage.
//!
//! Storage per column type (one SQL column per Dataverse column):
//! - text, memo, GUIDs, lookups: TEXT (GUIDs lower-case, hyphenated); text and memo columns are
//!   declared `COLLATE NOCASE` so equality and ordering are case-insensitive as in Dataverse;
//! - date and time: TEXT `YYYY-MM-DDTHH:MM:SSZ` (UTC, second precision), date-only columns
//!   `YYYY-MM-DD`; fixed-width text, so text order is time order;
//! - whole numbers, booleans (0/1), choices, state and status: INTEGER;
//! - money: INTEGER ten-thousandths (exact; see [`crate::decimal`]); responses print it with
//!   four decimals as in spec §2.1 (`5000000.0000`);
//! - decimal: TEXT with ten decimals (exact), compared with `CAST(… AS REAL)`;
//! - double: REAL.
//!
//! Every lookup also has a hidden TEXT column `{lookup}@type` holding the logical name of the
//! table the id points at (needed for polymorphic lookups; `@` cannot occur in a logical name).

use crate::decimal;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Number, Value};
use dataverse::metadata::{Column, ColumnType, Table};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// SQL NULL.
    Null,
    /// INTEGER.
    Int(i64),
    /// REAL.
    Real(f64),
    /// TEXT.
    Text(String),
}

impl Cell {
    /// The value bound into a sea-query statement.
    pub(crate) fn to_sql(&self) -> sea_query::Value {
        match self {
            Cell::Null => sea_query::Value::String(None),
            Cell::Int(i) => sea_query::Value::BigInt(Some(*i)),
            Cell::Real(f) => sea_query::Value::Double(Some(*f)),
            Cell::Text(s) => sea_query::Value::String(Some(s.clone())),
        }
    }

    /// The text, if this is TEXT.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is INTEGER.
    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            _ => None,
        }
    }
}

/// The SQL storage class of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlClass {
    /// TEXT compared case-insensitively.
    TextNoCase,
    /// TEXT compared as is.
    Text,
    /// INTEGER.
    Integer,
    /// REAL.
    Real,
}

/// How a column is stored.
pub(crate) fn storage(kind: &ColumnType) -> SqlClass {
    match kind {
        ColumnType::String { .. } | ColumnType::Memo { .. } => SqlClass::TextNoCase,
        ColumnType::Decimal
        | ColumnType::DateTime
        | ColumnType::DateOnly
        | ColumnType::Uniqueidentifier
        | ColumnType::Lookup { .. } => SqlClass::Text,
        ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Money
        | ColumnType::Boolean { .. }
        | ColumnType::Picklist { .. }
        | ColumnType::State { .. }
        | ColumnType::Status { .. } => SqlClass::Integer,
        ColumnType::Double => SqlClass::Real,
    }
}

/// The hidden column holding a lookup's target table.
pub(crate) fn lookup_type_column(lookup: &str) -> String {
    format!("{lookup}@type")
}

fn invalid(table: &Table, column: &Column, detail: &str) -> DataverseError {
    DataverseError::new(
        400,
        codes::PAYLOAD_ERROR,
        format!(
            "Error identified in Payload provided by the user for Entity :'{}', the value of '{}' {detail}",
            table.logical_name, column.logical_name
        ),
    )
}

fn out_of_range(table: &Table, column: &Column, text: &str, max: i128) -> DataverseError {
    DataverseError::new(
        400,
        codes::VALIDATION,
        format!(
            "A validation error occurred. The value {text} of '{}' on record of type '{}' is outside the valid range. Accepted range: -{max} to {max}",
            column.logical_name, table.logical_name
        ),
    )
}

/// A JSON value (already type-checked by the parser) as the cell stored for `column`.
pub(crate) fn to_cell(table: &Table, column: &Column, value: &Value) -> Result<Cell, DataverseError> {
    if value.is_null() {
        return Ok(Cell::Null);
    }
    let bad_type = || invalid(table, column, &format!("must be of type {}", column.kind.edm_name()));
    let text = || value.as_str().ok_or_else(bad_type);
    let number = || value.as_number().ok_or_else(bad_type);
    Ok(match &column.kind {
        ColumnType::String { .. } | ColumnType::Memo { .. } => Cell::Text(text()?.to_owned()),
        ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Picklist { .. }
        | ColumnType::State { .. }
        | ColumnType::Status { .. } => Cell::Int(number()?.as_i64().ok_or_else(bad_type)?),
        ColumnType::Boolean { .. } => Cell::Int(i64::from(value.as_bool().ok_or_else(bad_type)?)),
        ColumnType::Double => Cell::Real(number()?.as_f64().ok_or_else(bad_type)?),
        ColumnType::Money => {
            let n = number()?;
            let units = decimal::scaled(n.as_str(), decimal::MONEY_SCALE)
                .filter(|u| u.abs() <= decimal::MONEY_MAX * 10i128.pow(decimal::MONEY_SCALE))
                .ok_or_else(|| out_of_range(table, column, n.as_str(), decimal::MONEY_MAX))?;
            Cell::Int(i64::try_from(units).map_err(|_| out_of_range(table, column, n.as_str(), decimal::MONEY_MAX))?)
        }
        ColumnType::Decimal => {
            let n = number()?;
            let units = decimal::scaled(n.as_str(), decimal::DECIMAL_SCALE)
                .filter(|u| u.abs() <= decimal::DECIMAL_MAX * 10i128.pow(decimal::DECIMAL_SCALE))
                .ok_or_else(|| out_of_range(table, column, n.as_str(), decimal::DECIMAL_MAX))?;
            Cell::Text(decimal::format(units, decimal::DECIMAL_SCALE))
        }
        ColumnType::DateTime => Cell::Text(normalize_datetime(text()?).ok_or_else(bad_type)?),
        ColumnType::DateOnly => Cell::Text(normalize_date(text()?).ok_or_else(bad_type)?),
        ColumnType::Uniqueidentifier | ColumnType::Lookup { .. } => {
            Cell::Text(uuid::Uuid::try_parse(text()?).map_err(|_| bad_type())?.to_string())
        }
    })
}

/// A stored cell as its JSON value (spec §2.1).
pub(crate) fn to_json(column: &Column, cell: &Cell) -> Value {
    match (&column.kind, cell) {
        (_, Cell::Null) => Value::Null,
        (ColumnType::Money, Cell::Int(units)) => number(&decimal::format(i128::from(*units), decimal::MONEY_SCALE)),
        (ColumnType::Decimal, Cell::Text(t)) => number(t),
        (ColumnType::Boolean { .. }, Cell::Int(i)) => Value::Bool(*i != 0),
        (_, Cell::Int(i)) => Value::from(*i),
        (_, Cell::Real(f)) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        (_, Cell::Text(s)) => Value::String(s.clone()),
    }
}

fn number(text: &str) -> Value {
    Number::parse(text).map_or(Value::Null, Value::Number)
}

/// Reads column `name` of a result row as a cell of the column's storage class.
pub(crate) fn read_cell(row: &SqliteRow, name: &str, kind: &ColumnType) -> Result<Cell, sqlx::Error> {
    Ok(match storage(kind) {
        SqlClass::Integer => row.try_get::<Option<i64>, _>(name)?.map_or(Cell::Null, Cell::Int),
        SqlClass::Real => row.try_get::<Option<f64>, _>(name)?.map_or(Cell::Null, Cell::Real),
        SqlClass::Text | SqlClass::TextNoCase => row.try_get::<Option<String>, _>(name)?.map_or(Cell::Null, Cell::Text),
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, fraction dropped) for any date-time the parser accepts: a full
/// ISO 8601 date-time with `Z` or an offset, with or without seconds, or a bare date (midnight
/// UTC).
pub(crate) fn normalize_datetime(s: &str) -> Option<String> {
    if s.len() == 10 {
        return chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| format!("{}T00:00:00Z", d.format("%Y-%m-%d")));
    }
    let with_seconds;
    let text = if s.as_bytes().get(13) == Some(&b':') && s.as_bytes().get(16) != Some(&b':') {
        with_seconds = format!("{}:00{}", s.get(..16)?, s.get(16..)?);
        with_seconds.as_str()
    } else {
        s
    };
    let parsed = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(parsed.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// `YYYY-MM-DD` for a date; a date-time literal is reduced to its UTC date.
pub(crate) fn normalize_date(s: &str) -> Option<String> {
    if s.len() == 10 {
        return chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| d.format("%Y-%m-%d").to_string());
    }
    normalize_datetime(s).and_then(|t| t.get(..10).map(str::to_owned))
}

/// Now, UTC, second precision, as stored (`2024-01-31T10:00:00Z`).
pub(crate) fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_normalize_to_utc_seconds() {
        assert_eq!(normalize_datetime("2024-01-31T10:00:00Z").as_deref(), Some("2024-01-31T10:00:00Z"));
        assert_eq!(normalize_datetime("2024-01-31T10:00:00.123+02:00").as_deref(), Some("2024-01-31T08:00:00Z"));
        assert_eq!(normalize_datetime("2024-01-31T10:00Z").as_deref(), Some("2024-01-31T10:00:00Z"));
        assert_eq!(normalize_datetime("2024-01-31T10:00-01:00").as_deref(), Some("2024-01-31T11:00:00Z"));
        assert_eq!(normalize_datetime("2024-01-31").as_deref(), Some("2024-01-31T00:00:00Z"));
        assert_eq!(normalize_datetime("2024-02-31"), None);
        assert_eq!(normalize_date("2024-01-31T23:30:00-02:00").as_deref(), Some("2024-02-01"));
    }
}
