//! JSON bodies of create and update: each member must be a column the client may set, with a
//! value of the column's type, a lookup set by reference (`nav@odata.bind`, [`super::bind`]),
//! or, on create, related rows created with it (deep insert: a navigation property with an
//! object or an array of objects, nested up to ten levels, at most 1,000 rows in all).

use super::ParseError;
use super::bind::parse_bind;
use super::filter::{is_date, is_datetime};
use crate::error::codes;
use crate::json::{self, Object, Value};
use crate::metadata::{Column, ColumnType, Navigation, Schema, Table};
use crate::record::{Bind, Link, Record, Reference, Related};

/// Whether the body is for a create (else an update or upsert).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Create,
    Update,
}

fn payload(table: &Table, detail: impl Into<String>) -> ParseError {
    ParseError::Payload {
        code: codes::PAYLOAD_ERROR,
        message: format!(
            "Error identified in Payload provided by the user for Entity :'{}', {}",
            table.logical_name,
            detail.into()
        ),
    }
}

/// Most rows one create may hold, itself and its deep-inserted rows included.
const MAX_ROWS: usize = 1000;
/// Deepest nesting of deep-inserted rows.
const MAX_DEPTH: usize = 10;

/// Parses and validates a record body for `table`.
pub(crate) fn parse_record(schema: &Schema, table: &Table, body: &[u8], write: Write) -> Result<Record, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Payload {
            code: codes::PAYLOAD_ERROR,
            message: "The request body is empty; a JSON object was expected".into(),
        });
    }
    let value = json::parse(body).map_err(|e| ParseError::Payload {
        code: codes::PAYLOAD_ERROR,
        message: format!("The request body is not valid JSON: {e}"),
    })?;
    let Value::Object(members) = value else {
        return Err(ParseError::Payload {
            code: codes::PAYLOAD_ERROR,
            message: format!("The request body must be a JSON object, not {}", value.kind_name()),
        });
    };
    let mut rows = 0;
    members_record(schema, table, members, write, 0, &mut rows)
}

/// The record of a JSON object already read (an entity parameter of an action) for `table`.
pub(crate) fn members(schema: &Schema, table: &Table, members: Object, write: Write) -> Result<Record, ParseError> {
    let mut rows = 0;
    members_record(schema, table, members, write, 0, &mut rows)
}

/// The record of one JSON object for `table`; nested objects and arrays under navigation
/// properties are rows created with it (deep insert, create only).
fn members_record(
    schema: &Schema,
    table: &Table,
    members: Object,
    write: Write,
    depth: usize,
    rows: &mut usize,
) -> Result<Record, ParseError> {
    *rows += 1;
    if *rows > MAX_ROWS {
        return Err(payload(table, format!("a create may hold at most {MAX_ROWS} rows")));
    }
    let mut record = Record::default();
    for (name, value) in members {
        if let Some((prop, annotation)) = name.split_once('@') {
            if prop.is_empty() && annotation == "odata.type" {
                let expected = format!("Microsoft.Dynamics.CRM.{}", table.logical_name);
                match value.as_str().map(|s| s.trim_start_matches('#')) {
                    Some(t) if t == expected => continue,
                    _ => return Err(payload(table, format!("@odata.type must be '#{expected}'"))),
                }
            }
            if annotation == "odata.bind" {
                let bind = parse_bind(schema, table, prop, &value, write == Write::Create)?;
                if let Bind::Single { column, .. } = &bind
                    && record.binds.iter().any(|b| matches!(b, Bind::Single { column: c, .. } if c == column))
                {
                    return Err(payload(table, format!("the lookup '{column}' is bound twice")));
                }
                record.binds.push(bind);
                continue;
            }
            return Err(payload(table, format!("the annotation '{name}' is not supported")));
        }
        if let Some(navigation) = schema.navigation(&table.logical_name, &name) {
            if write != Write::Create {
                return Err(payload(
                    table,
                    format!("related rows ('{name}') can be created only with the row itself (deep insert on create)"),
                ));
            }
            if depth == MAX_DEPTH {
                return Err(payload(table, format!("deep insert is nested more than {MAX_DEPTH} levels")));
            }
            let related = schema
                .table(navigation.target())
                .ok_or_else(|| payload(table, format!("'{name}' leads to an unknown table")))?;
            let object = |v: Value, rows: &mut usize| match v {
                Value::Object(o) => members_record(schema, related, o, write, depth + 1, rows),
                other => Err(payload(
                    table,
                    format!("each row of '{name}' must be a JSON object, not {}", other.kind_name()),
                )),
            };
            let link = Link::of(&navigation);
            record.related.push(match (navigation, value) {
                (Navigation::Single { column, .. }, v @ Value::Object(_)) => Related::Single {
                    navigation: name.clone(),
                    column: column.to_owned(),
                    table: related.logical_name.clone(),
                    record: Box::new(object(v, rows)?),
                },
                (Navigation::Collection { .. } | Navigation::Many { .. }, Value::Array(items)) => Related::Collection {
                    navigation: name.clone(),
                    link: link.expect("a collection-valued navigation property has a link"),
                    table: related.logical_name.clone(),
                    records: items.into_iter().map(|v| object(v, rows)).collect::<Result<_, _>>()?,
                },
                (Navigation::Single { .. }, other) => {
                    return Err(payload(
                        table,
                        format!("'{name}' takes one related row (an object), not {}", other.kind_name()),
                    ));
                }
                (Navigation::Collection { .. } | Navigation::Many { .. }, other) => {
                    return Err(payload(
                        table,
                        format!("'{name}' takes related rows (an array), not {}", other.kind_name()),
                    ));
                }
            });
            continue;
        }
        let Some(column) = table.column(&name).filter(|c| !c.is_lookup()) else {
            let hint = if table.column_by_odata_name(&name).is_some() || table.column(&name).is_some() {
                " (lookups are set with <navigation>@odata.bind)"
            } else {
                ""
            };
            return Err(payload(
                table,
                format!(
                    "the property '{name}' does not exist or cannot be set on type 'Microsoft.Dynamics.CRM.{}'{hint}",
                    table.logical_name
                ),
            ));
        };
        let settable = match write {
            Write::Create => column.valid_for_create,
            Write::Update => column.valid_for_update,
        };
        if !settable {
            return Err(payload(table, format!("the column '{name}' is read-only")));
        }
        check_value(table, &name, &column.kind, &value)?;
        record.values.insert(name, value);
    }
    Ok(record)
}

/// The body of an associate (`{"@odata.id": "…/contacts(id)"}`, spec §5): one reference to a
/// row of `related`.
pub(crate) fn parse_reference_body(related: &Table, body: &[u8]) -> Result<Reference, ParseError> {
    let value = json::parse(body).map_err(|e| ParseError::Payload {
        code: codes::PAYLOAD_ERROR,
        message: format!("The request body is not valid JSON: {e}"),
    })?;
    let shape = || payload(related, "an associate body must be {\"@odata.id\": \"<URL of the row>\"}".to_owned());
    let Value::Object(mut members) = value else { return Err(shape()) };
    match (members.len(), members.remove("@odata.id")) {
        (1, Some(Value::String(url))) => super::bind::reference(related, &url),
        _ => Err(shape()),
    }
}

/// The body of `PUT /{set}({key})/{column}`: `{"value": …}` with a value of the column's type,
/// for a column that can be updated.
pub(crate) fn parse_property(table: &Table, column: &Column, body: &[u8]) -> Result<Value, ParseError> {
    let value = json::parse(body).map_err(|e| ParseError::Payload {
        code: codes::PAYLOAD_ERROR,
        message: format!("The request body is not valid JSON: {e}"),
    })?;
    let name = &column.logical_name;
    let Value::Object(mut members) = value else {
        return Err(payload(
            table,
            format!("the body of a single-property update must be {{\"value\": …}} for '{name}'"),
        ));
    };
    let value = match (members.len(), members.remove("value")) {
        (1, Some(v)) => v,
        _ => {
            return Err(payload(
                table,
                format!("the body of a single-property update must be {{\"value\": …}} for '{name}'"),
            ));
        }
    };
    if !column.valid_for_update {
        return Err(payload(table, format!("the column '{name}' is read-only")));
    }
    check_value(table, name, &column.kind, &value)?;
    Ok(value)
}

/// The body of `PUT /{set}({key})/{column}/$value` (OData's raw value): the value's text itself,
/// sent as `text/plain` in UTF-8. Text, date and GUID columns take the text as it is; numbers
/// and booleans take exactly one JSON number or `true`/`false`, so no value has two spellings.
/// The value is then checked like any other.
pub(crate) fn parse_raw_property(
    table: &Table,
    column: &Column,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Value, ParseError> {
    let name = &column.logical_name;
    let plain = content_type.is_some_and(|ct| {
        let mut parts = ct.split(';').map(str::trim);
        parts.next().is_some_and(|m| m.eq_ignore_ascii_case("text/plain"))
            && parts.all(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("charset") && v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
                })
            })
    });
    if !plain {
        return Err(payload(table, format!("the raw value of '{name}' (/$value) must be sent as text/plain in UTF-8")));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| payload(table, format!("the raw value of '{name}' is not valid UTF-8")))?;
    let value = match &column.kind {
        ColumnType::String { .. }
        | ColumnType::Memo { .. }
        | ColumnType::DateTime
        | ColumnType::DateOnly
        | ColumnType::Uniqueidentifier => Value::String(text.to_owned()),
        _ => match json::parse(text.as_bytes()) {
            Ok(v @ (Value::Number(_) | Value::Bool(_))) if text.trim() == text => v,
            _ => {
                return Err(payload(
                    table,
                    format!("the raw value of '{name}' must be a literal of type {}", column.kind.edm_name()),
                ));
            }
        },
    };
    if !column.valid_for_update {
        return Err(payload(table, format!("the column '{name}' is read-only")));
    }
    check_value(table, name, &column.kind, &value)?;
    Ok(value)
}

fn check_value(table: &Table, name: &str, kind: &ColumnType, value: &Value) -> Result<(), ParseError> {
    if value.is_null() {
        return Ok(());
    }
    let wrong = || {
        payload(table, format!("the value of '{name}' must be of type {}, not {}", kind.edm_name(), value.kind_name()))
    };
    match kind {
        ColumnType::String { max_length } | ColumnType::Memo { max_length } => {
            let s = value.as_str().ok_or_else(wrong)?;
            if s.chars().count() > *max_length as usize {
                return Err(ParseError::Payload {
                    code: codes::VALIDATION,
                    message: format!(
                        "A validation error occurred. The length of the '{name}' attribute of the '{}' entity exceeded the maximum allowed length of '{max_length}'.",
                        table.logical_name
                    ),
                });
            }
        }
        ColumnType::Integer | ColumnType::BigInt => {
            let n = value
                .as_number()
                .and_then(|n| n.as_i64())
                .filter(|_| value.as_number().is_some_and(|n| n.is_integer()))
                .ok_or_else(wrong)?;
            if *kind == ColumnType::Integer && i32::try_from(n).is_err() {
                return Err(payload(table, format!("the value of '{name}' is out of range for Edm.Int32")));
            }
        }
        ColumnType::Decimal | ColumnType::Double | ColumnType::Money => {
            let n = value.as_number().ok_or_else(wrong)?;
            if !n.as_f64().is_some_and(f64::is_finite) {
                return Err(wrong());
            }
        }
        ColumnType::Boolean { .. } => {
            value.as_bool().ok_or_else(wrong)?;
        }
        ColumnType::Picklist { .. } | ColumnType::State { .. } | ColumnType::Status { .. } => {
            let n = value.as_number().filter(|n| n.is_integer()).and_then(|n| n.as_i64()).ok_or_else(wrong)?;
            let allowed = kind.option_values().unwrap_or_default();
            if !i32::try_from(n).is_ok_and(|v| allowed.contains(&v)) {
                return Err(ParseError::Payload {
                    code: codes::PICKLIST_OUT_OF_RANGE,
                    message: format!(
                        "A validation error occurred. The value {n} of '{name}' on record of type '{}' is outside the valid range.",
                        table.logical_name
                    ),
                });
            }
        }
        ColumnType::DateTime => {
            let s = value.as_str().ok_or_else(wrong)?;
            if !(is_datetime(s) || is_date(s)) {
                return Err(payload(table, format!("the value of '{name}' is not an ISO 8601 date and time")));
            }
        }
        ColumnType::DateOnly => {
            let s = value.as_str().ok_or_else(wrong)?;
            if !is_date(s) {
                return Err(payload(table, format!("the value of '{name}' is not a date (YYYY-MM-DD)")));
            }
        }
        ColumnType::Uniqueidentifier => {
            let s = value.as_str().ok_or_else(wrong)?;
            if uuid::Uuid::try_parse(s).is_err() || s.len() != 36 {
                return Err(payload(table, format!("the value of '{name}' is not a GUID")));
            }
        }
        ColumnType::Lookup { .. } => return Err(wrong()),
    }
    Ok(())
}
