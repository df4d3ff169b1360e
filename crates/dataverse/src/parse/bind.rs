//! `nav@odata.bind` members of create and update bodies (spec §2.2, §5): which navigation
//! property, and which row each reference names.
//!
//! A reference is `$n` (a Content-ID of the same change set), or `{set}({key})` written as an
//! absolute URL of the service (`https://org/api/data/v9.2/contacts(id)`), path-absolute
//! (`/api/data/v9.2/contacts(id)`), root-relative (`/contacts(id)`) or relative (`contacts(id)`).
//! The key is a GUID (braces allowed: some clients send them) or an alternate key. The set must
//! be the navigation property's table: a polymorphic lookup is bound through the navigation
//! property of the table meant (`parentcustomerid_account`). Percent-escapes are refused (a
//! JSON string needs none, and decoding them would make two spellings of one reference).

use super::ParseError;
use super::keys::row_key;
use crate::error::codes;
use crate::json::Value;
use crate::metadata::{Column, ColumnType, Navigation, Schema, Table};
use crate::record::{Bind, Link, Reference};

fn bad(message: String) -> ParseError {
    ParseError::Payload { code: codes::PAYLOAD_ERROR, message }
}

/// Parses the value of `{navigation}@odata.bind` on a body for `table`. Collection-valued
/// binds (an array) are allowed on create only, as in Dataverse.
pub(crate) fn parse_bind(
    schema: &Schema,
    table: &Table,
    navigation: &str,
    value: &Value,
    create: bool,
) -> Result<Bind, ParseError> {
    if schema.navigation(&table.logical_name, navigation).is_none()
        && let Some(column) = table.column(navigation).filter(|c| c.is_lookup())
    {
        return owner_like(schema, table, column, value);
    }
    let nav = schema.navigation(&table.logical_name, navigation).ok_or_else(|| {
        bad(format!(
            "An undeclared property '{navigation}' which only has property annotations in the payload but no property \
             value was found in the payload. In OData, only declared navigation properties and declared named \
             streams can be represented as properties without values."
        ))
    })?;
    let related = schema
        .table(nav.target())
        .ok_or_else(|| bad(format!("The navigation property '{navigation}' leads to an unknown table")))?;
    match nav {
        Navigation::Single { column, .. } => {
            let target = match value {
                Value::Null => None,
                Value::String(s) => Some(reference(related, s)?),
                other => {
                    return Err(bad(format!(
                        "The value of '{navigation}@odata.bind' must be a URL string or null, not {}",
                        other.kind_name()
                    )));
                }
            };
            Ok(Bind::Single {
                navigation: navigation.to_owned(),
                column: column.to_owned(),
                table: related.logical_name.clone(),
                target,
            })
        }
        Navigation::Collection { .. } | Navigation::Many { .. } => {
            if !create {
                return Err(bad(format!(
                    "The collection-valued navigation property '{navigation}' can be bound only when the row is \
                     created; associate existing rows with POST …/{navigation}/$ref"
                )));
            }
            let Value::Array(items) = value else {
                return Err(bad(format!(
                    "The value of '{navigation}@odata.bind' must be an array of URL strings, not {}",
                    value.kind_name()
                )));
            };
            let mut targets = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str().ok_or_else(|| {
                    bad(format!(
                        "Every item of '{navigation}@odata.bind' must be a URL string, not {}",
                        item.kind_name()
                    ))
                })?;
                targets.push(reference(related, s)?);
            }
            Ok(Bind::Collection {
                navigation: navigation.to_owned(),
                link: Link::of(&nav).expect("a collection-valued navigation property has a link"),
                table: related.logical_name.clone(),
                targets,
            })
        }
    }
}

/// A lookup whose navigation property is the column itself and whose table is chosen by the
/// reference (`ownerid@odata.bind: "/teams(id)"`: Dataverse's `ownerid` points at a principal,
/// a user or a team).
fn owner_like(schema: &Schema, table: &Table, column: &Column, value: &Value) -> Result<Bind, ParseError> {
    let name = &column.logical_name;
    let ColumnType::Lookup { targets } = &column.kind else {
        return Err(bad(format!("'{name}' is not a lookup")));
    };
    let text = value.as_str().ok_or_else(|| {
        bad(format!("The value of '{name}@odata.bind' must be a URL string, not {}", value.kind_name()))
    })?;
    let set = set_of(text);
    let target =
        targets.iter().filter_map(|t| schema.table(t)).find(|t| Some(t.set_name.as_str()) == set).ok_or_else(|| {
            bad(format!(
                "The reference '{text}' of '{name}@odata.bind' must name a row of {} on {}",
                targets.join(" or "),
                table.logical_name
            ))
        })?;
    Ok(Bind::Single {
        navigation: name.clone(),
        column: name.clone(),
        table: target.logical_name.clone(),
        target: Some(reference(target, text)?),
    })
}

/// The entity set a reference names, if it is shaped like one.
fn set_of(text: &str) -> Option<&str> {
    let before_key = &text[..text.find('(')?];
    Some(before_key.rsplit('/').next().unwrap_or(before_key))
}

/// One reference to a row of `table` (see the module doc).
pub(crate) fn reference(table: &Table, text: &str) -> Result<Reference, ParseError> {
    if let Some(id) = text.strip_prefix('$') {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(bad(format!("'{text}' is not a Content-ID reference")));
        }
        return Ok(Reference::ContentId(id.to_owned()));
    }
    if text.contains('%') || text.contains('?') || text.contains('#') || text.chars().any(char::is_control) {
        return Err(bad(format!("The reference '{text}' must be a plain URL of a row, without escapes or options")));
    }
    let (origin, path) = match text.split_once("://") {
        Some((scheme, rest)) => {
            if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
                return Err(bad(format!("The reference '{text}' is not an http(s) URL")));
            }
            let slash = rest.find('/').ok_or_else(|| bad(format!("The reference '{text}' names no row")))?;
            (Some(format!("{}://{}", scheme.to_ascii_lowercase(), &rest[..slash])), &rest[slash..])
        }
        None => (None, text),
    };
    let relative = match path.strip_prefix("/api/data/") {
        Some(versioned) => {
            let (version, rest) =
                versioned.split_once('/').ok_or_else(|| bad(format!("The reference '{text}' names no row")))?;
            if !matches!(version, "v9.0" | "v9.1" | "v9.2") {
                return Err(bad(format!("The reference '{text}' names an unknown API version '{version}'")));
            }
            rest
        }
        None if origin.is_some() => {
            return Err(bad(format!("The reference '{text}' is not a URL of this service (/api/data/v9.x/…)")));
        }
        None => path.strip_prefix('/').unwrap_or(path),
    };
    let (set, key) = relative
        .strip_suffix(')')
        .and_then(|r| r.split_once('('))
        .ok_or_else(|| bad(format!("The reference '{text}' is not of the form {}(key)", table.set_name)))?;
    if set != table.set_name {
        return Err(bad(format!(
            "The reference '{text}' names {set}, but the navigation property leads to {}",
            table.set_name
        )));
    }
    let key = key.strip_prefix('{').and_then(|k| k.strip_suffix('}')).unwrap_or(key);
    let key = row_key(table, key).map_err(|e| match e {
        ParseError::Syntax(m) => bad(m),
        other => other,
    })?;
    Ok(Reference::Row { key, origin })
}
