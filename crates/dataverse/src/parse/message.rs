//! The functions and actions of the catalog Stanchion executes (spec §6.3, §6.5), typed:
//! `RetrieveTotalRecordCount(EntityNames=[…])` (inline or through a parameter alias),
//! `WinOpportunity` / `LoseOpportunity` (`{"Status": n, "OpportunityClose": {…}}`) and
//! `CloseIncident` (`{"Status": n, "IncidentResolution": {…}}`). The activity inside is read as
//! a create of its table with the one body parser, and must name its opportunity or case by id
//! with `…@odata.bind`. Any other member is refused by name.

use super::ParseError;
use super::body::{Write, members};
use crate::error::codes;
use crate::json::{self, Value};
use crate::metadata::Schema;
use crate::record::{Bind, Reference};
use crate::request::{Message, RowKey};

fn payload(message: impl Into<String>) -> ParseError {
    ParseError::Payload { code: codes::PAYLOAD_ERROR, message: message.into() }
}

/// `RetrieveTotalRecordCount(EntityNames=…)`: `inner` is the text in the parentheses.
pub(crate) fn total_record_count(
    schema: &Schema,
    inner: &str,
    aliases: &[(&str, &str)],
) -> Result<Message, ParseError> {
    let value = inner
        .trim()
        .strip_prefix("EntityNames=")
        .ok_or_else(|| ParseError::Syntax("RetrieveTotalRecordCount takes one parameter, EntityNames".into()))?;
    let list = match value.strip_prefix('@') {
        Some(alias) => aliases
            .iter()
            .find(|(name, _)| name.strip_prefix('@') == Some(alias))
            .map(|(_, v)| *v)
            .ok_or_else(|| ParseError::Syntax(format!("The parameter alias @{alias} has no value")))?,
        None => value,
    };
    let names = string_list(list)?;
    if names.is_empty() {
        return Err(ParseError::Syntax("EntityNames must name at least one table".into()));
    }
    let mut tables = Vec::new();
    for n in names {
        let table = schema.table(&n).ok_or_else(|| ParseError::NotFound(format!("The entity '{n}' does not exist")))?;
        if !tables.contains(&table.logical_name) {
            tables.push(table.logical_name.clone());
        }
    }
    Ok(Message::RetrieveTotalRecordCount { tables })
}

/// `['account','contact']` or `["account","contact"]`.
fn string_list(text: &str) -> Result<Vec<String>, ParseError> {
    let bad =
        || ParseError::Syntax(format!("EntityNames must be a list of table names such as ['account'], not {text}"));
    let inner = text.trim().strip_prefix('[').and_then(|t| t.strip_suffix(']')).ok_or_else(bad)?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|item| {
            let item = item.trim();
            let unquoted = item
                .strip_prefix('\'')
                .and_then(|i| i.strip_suffix('\''))
                .or_else(|| item.strip_prefix('"').and_then(|i| i.strip_suffix('"')))
                .ok_or_else(bad)?;
            if unquoted.is_empty() || !unquoted.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(bad());
            }
            Ok(unquoted.to_owned())
        })
        .collect()
}

/// Which closing action.
#[derive(Clone, Copy)]
pub(crate) enum Closing {
    Win,
    Lose,
    Incident,
}

impl Closing {
    fn parameter(self) -> &'static str {
        match self {
            Closing::Win | Closing::Lose => "OpportunityClose",
            Closing::Incident => "IncidentResolution",
        }
    }
    fn activity(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Closing::Win | Closing::Lose => ("opportunityclose", "opportunityid", "opportunity"),
            Closing::Incident => ("incidentresolution", "incidentid", "incident"),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Closing::Win => "WinOpportunity",
            Closing::Lose => "LoseOpportunity",
            Closing::Incident => "CloseIncident",
        }
    }
}

/// The body of WinOpportunity, LoseOpportunity or CloseIncident.
pub(crate) fn closing(schema: &Schema, body: &[u8], which: Closing) -> Result<Message, ParseError> {
    let value = json::parse(body).map_err(|e| payload(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(members_in) = value else {
        return Err(payload(format!("The body of {} must be a JSON object", which.name())));
    };
    let param = which.parameter();
    let mut status: Option<i32> = None;
    let mut activity = None;
    for (name, v) in members_in {
        match name.as_str() {
            "Status" => {
                let n =
                    v.as_number().and_then(|n| n.as_i64()).and_then(|n| i32::try_from(n).ok()).ok_or_else(|| {
                        payload(format!("The parameter Status of {} must be a whole number", which.name()))
                    })?;
                status = Some(n);
            }
            n if n == param => match v {
                Value::Object(o) => activity = Some(o),
                _ => return Err(payload(format!("The parameter {param} of {} must be an object", which.name()))),
            },
            other => {
                return Err(payload(format!("{} has no parameter named '{other}'", which.name())));
            }
        }
    }
    let status = status.ok_or_else(|| payload(format!("{} needs the parameter Status", which.name())))?;
    let members_of = activity.ok_or_else(|| payload(format!("{} needs the parameter {param}", which.name())))?;
    let (table_name, lookup, target) = which.activity();
    let table = schema
        .table(table_name)
        .ok_or_else(|| ParseError::Unsupported(format!("this org has no {table_name} table")))?;
    let record = members(schema, table, members_of, Write::Create)?;
    if !record.related.is_empty() {
        return Err(payload(format!("{param} cannot create related rows")));
    }
    let id = record
        .binds
        .iter()
        .find_map(|b| match b {
            Bind::Single { column, target: Some(Reference::Row { key: RowKey::Id(id), .. }), .. }
                if column == lookup =>
            {
                Some(*id)
            }
            _ => None,
        })
        .ok_or_else(|| {
            payload(format!(
                "{param} must name its {target} by id with \"{lookup}@odata.bind\": \"/{}(<id>)\"",
                schema.table(target).map_or(target, |t| t.set_name.as_str())
            ))
        })?;
    if record.binds.len() > 1 {
        return Err(payload(format!("{param} may set no lookup other than {lookup}")));
    }
    Ok(match which {
        Closing::Win | Closing::Lose => {
            Message::CloseOpportunity { won: matches!(which, Closing::Win), opportunity: id, status, close: record }
        }
        Closing::Incident => Message::CloseIncident { incident: id, status, resolution: record },
    })
}
