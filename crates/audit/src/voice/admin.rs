//! Sentences for admin changes.

use super::{ending, subject};
use crate::{AuditRecord, Kind};

pub(super) fn sentence(record: &AuditRecord) -> String {
    let who = subject(record);
    let change = record.change.as_ref();
    let agent = change.map(|change| change.subject.as_str()).or(record.agent_name.as_deref()).unwrap_or("an agent");
    let key = change.and_then(|change| change.key_id.as_deref()).or(record.key_id.as_deref());
    let from = change.and_then(|change| change.from.as_deref());
    let to = change.and_then(|change| change.to.as_deref());

    let action = match &record.kind {
        Kind::PolicyTableLevel => {
            let table =
                change.and_then(|change| change.set.as_deref().or(change.table.as_deref())).unwrap_or("a table");
            match (from, to) {
                (Some(from), Some(to)) => {
                    format!("set {agent}'s access to {table} from {} to {}", level(from), level(to))
                }
                (None, Some(to)) => format!("set {agent}'s access to {table} to {}", level(to)),
                (_, None) => format!("changed {agent}'s access to {table}"),
            }
        }
        Kind::AgentCreated => match key {
            Some(key) => format!("created agent {agent} (key {key})"),
            None => format!("created agent {agent}"),
        },
        Kind::AgentKeyAdded => match (key, to) {
            (Some(key), Some(until)) => format!("added key {key} to {agent}, valid until {until}"),
            (Some(key), None) => format!("added key {key} to {agent}"),
            (None, _) => format!("added a key to {agent}"),
        },
        Kind::AgentKeyRotated => match (key, to) {
            (Some(key), Some(until)) => {
                format!("rotated {agent}'s keys: added key {key}; the other keys stop working at {until}")
            }
            _ => format!("rotated {agent}'s keys"),
        },
        Kind::AgentRenamed => match from {
            Some(from) => format!("renamed agent {from} to {agent}"),
            None => format!("renamed an agent to {agent}"),
        },
        Kind::AgentDisabled => format!("disabled agent {agent}"),
        Kind::AgentEnabled => format!("enabled agent {agent} again"),
        Kind::AgentDeleted => format!("deleted agent {agent} with its keys and policy"),
        Kind::AgentKeyRevoked => match key {
            Some(key) => format!("revoked key {key} of {agent}"),
            None => format!("revoked a key of {agent}"),
        },
        Kind::PolicyDeleteRecords => match to.map(switch) {
            Some(Some(state)) => format!("turned deleting records {state} for {agent}"),
            _ => format!("changed whether {agent} may delete records"),
        },
        Kind::PolicyColumnHidden | Kind::PolicyColumnShown => {
            let table =
                change.and_then(|change| change.set.as_deref().or(change.table.as_deref())).unwrap_or("a table");
            let column = change.and_then(|change| change.column.as_deref()).unwrap_or("a column");
            if record.kind == Kind::PolicyColumnHidden {
                format!("hid column {column} of {table} from {agent}")
            } else {
                format!("showed column {column} of {table} to {agent} again")
            }
        }
        Kind::PolicyLimits => match (from, to) {
            (Some(from), Some(to)) => format!("changed {agent}'s limits from {from} to {to}"),
            (None, Some(to)) => format!("set {agent}'s limits to {to}"),
            (_, None) => format!("changed {agent}'s limits"),
        },
        Kind::PolicyActionAllowed => format!("allowed {agent} to run {}", to.unwrap_or("an action")),
        Kind::PolicyActionDenied => format!("stopped {agent} from running {}", to.unwrap_or("an action")),
        Kind::CatalogDeclared => match to {
            Some(what) => format!("declared the custom API {agent}: {what}"),
            None => format!("declared the custom API {agent}"),
        },
        Kind::CatalogUndeclared => format!("withdrew the declaration of the custom API {agent}"),
        Kind::AuditPruned => {
            let n = record.rows.unwrap_or(0);
            let records = if n == 1 { "record" } else { "records" };
            match to {
                Some(before) => format!("pruned {n} audit {records} from before {before}"),
                None => format!("pruned {n} audit {records}"),
            }
        }
        other => format!("made a change ({other}) for {agent}"),
    };
    // Admin records carry no decision, so this is empty unless one is set.
    format!("{who} {action}{}.", ending(record))
}

/// An access level for a sentence: `off` → `Off`, `read_write` → `Read write`.
fn level(value: &str) -> String {
    let spaced = value.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// `on` or `off` for a switch value (`on`/`off`, `true`/`false`).
fn switch(value: &str) -> Option<&'static str> {
    match value {
        "on" | "true" => Some("on"),
        "off" | "false" => Some("off"),
        _ => None,
    }
}
