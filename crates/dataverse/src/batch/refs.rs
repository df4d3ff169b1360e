//! `$n` Content-ID references (spec §7.1, design §6.2).

use super::error::{BatchError, PartProblem};
use super::syntax::check_content_id;
use super::{Batch, Item, Part};
use crate::json::{self, Value};

/// Splits a Content-ID reference into the Content-ID and the rest: `$1` → `("1", "")`,
/// `$1/primarycontactid/$ref` → `("1", "/primarycontactid/$ref")`, `$1?$select=name` →
/// `("1", "?$select=name")`. `None` unless the text starts with `$` followed by a valid Content-ID
/// (letters, digits, `-._~`) ending at `/`, `?` or the end.
///
/// Any such text is a reference, including `$batch` or `$metadata`: inside a batch they resolve only
/// if a part declared that Content-ID, and are refused otherwise (fail closed).
pub fn content_id_ref(target: &str) -> Option<(&str, &str)> {
    let rest = target.strip_prefix('$')?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (id, tail) = rest.split_at(end);
    check_content_id(id).ok()?;
    Some((id, tail))
}

impl Batch {
    /// Checks that every `$n` reference names a Content-ID declared by an earlier part of the same
    /// change set (spec §7.1: Dataverse answers 400 "Content-ID Reference: '$n' does not exist in the
    /// batch context."; design §6.2 also refuses references to later parts). Looked at: each target
    /// ([`content_id_ref`]) and, in JSON bodies, the string values of `…@odata.bind` members (also
    /// arrays of them) and of `@odata.id` members, at any depth, where Dataverse resolves them
    /// (`"primarycontactid@odata.bind":"$2"`, `{"@odata.id":"$2"}`). Other field values are data
    /// (a description of `"$100"` is not a reference). Bodies that are not JSON are skipped; parts
    /// outside change sets can reference nothing.
    pub fn check_references(&self) -> Result<(), BatchError> {
        let mut number = 0;
        for item in &self.items {
            let parts = match item {
                Item::Request(part) => std::slice::from_ref(part),
                Item::ChangeSet(parts) => parts.as_slice(),
            };
            let mut declared: Vec<&str> = Vec::new();
            for part in parts {
                number += 1;
                if let Some(id) = references(part).into_iter().find(|id| !declared.contains(&id.as_str())) {
                    return Err(BatchError::part(number, PartProblem::UnknownReference(id)));
                }
                if let (Item::ChangeSet(_), Some(id)) = (item, &part.content_id) {
                    declared.push(id);
                }
            }
        }
        Ok(())
    }
}

/// The Content-IDs a part references, in order of appearance (target first).
fn references(part: &Part) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((id, _)) = content_id_ref(&part.target) {
        out.push(id.to_owned());
    }
    if part.body.contains(&b'$') {
        let limits = json::Limits { max_bytes: part.body.len(), ..json::Limits::default() };
        if let Ok(value) = json::parse_with(&part.body, &limits) {
            walk(&value, &mut out);
        }
    }
    out
}

fn walk(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (name, member) in object {
                if name.ends_with("@odata.bind") || name == "@odata.id" {
                    collect(member, out);
                }
                walk(member, out);
            }
        }
        Value::Array(values) => values.iter().for_each(|v| walk(v, out)),
        _ => {}
    }
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Some((id, _)) = content_id_ref(text) {
                out.push(id.to_owned());
            }
        }
        Value::Array(values) => values.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}
