//! Alternate keys in the URL (spec §2.5): `accounts(accountnumber='A-1')`, composite keys, and
//! the named primary key `accounts(accountid=…)`. Values are literals; lookups use `_x_value`.

use super::ParseError;
use super::filter::{literal_fits, parse_literal};
use crate::metadata::Table;
use crate::query::Literal;
use crate::request::RowKey;

/// A row key: a GUID, or an alternate key defined on the table.
pub(crate) fn row_key(table: &Table, key: &str) -> Result<RowKey, ParseError> {
    if key.len() == 36
        && let Ok(id) = uuid::Uuid::try_parse(key)
    {
        return Ok(RowKey::Id(id));
    }
    if !key.contains('=') {
        return Err(ParseError::Syntax(format!("The key '{key}' of {} is not a GUID", table.set_name)));
    }
    alternate_key(table, key)
}

/// Parses `name=value[,name=value…]` against the table's alternate keys.
pub(crate) fn alternate_key(table: &Table, text: &str) -> Result<RowKey, ParseError> {
    let mut given: Vec<(String, Literal)> = Vec::new();
    for part in super::url::split_unquoted(text, ',', '\'') {
        let (name, value) = part.split_once('=').ok_or_else(|| {
            ParseError::Syntax(format!("The key part '{part}' of {} is not name=value", table.set_name))
        })?;
        let (name, value) = (name.trim(), value.trim());
        let column = table.column_by_odata_name(name).ok_or_else(|| {
            ParseError::Syntax(format!(
                "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
                table.logical_name
            ))
        })?;
        let literal =
            parse_literal(value).filter(|l| *l != Literal::Null && literal_fits(&column.kind, l)).ok_or_else(|| {
                ParseError::Syntax(format!(
                    "The key value for '{name}' is not a valid {} literal",
                    column.kind.edm_name()
                ))
            })?;
        if given.iter().any(|(c, _)| *c == column.logical_name) {
            return Err(ParseError::Syntax(format!("The key names '{name}' twice")));
        }
        given.push((column.logical_name.clone(), literal));
    }
    if let [(column, Literal::Guid(id))] = given.as_slice()
        && *column == table.primary_id
    {
        return Ok(RowKey::Id(*id));
    }
    let key = table
        .keys
        .iter()
        .find(|k| k.columns.len() == given.len() && k.columns.iter().all(|c| given.iter().any(|(g, _)| g == c)))
        .ok_or_else(|| {
            let names: Vec<&str> = given.iter().map(|(c, _)| c.as_str()).collect();
            ParseError::Syntax(format!(
                "The key ({}) is not an alternate key of {}; its keys are: {}",
                names.join(", "),
                table.logical_name,
                if table.keys.is_empty() {
                    "none".to_owned()
                } else {
                    table.keys.iter().map(|k| k.columns.join("+")).collect::<Vec<_>>().join("; ")
                }
            ))
        })?;
    let ordered = key.columns.iter().filter_map(|c| given.iter().find(|(g, _)| g == c).cloned()).collect();
    Ok(RowKey::Alternate(ordered))
}
