//! The two `EntityDefinitions` reads SDKs make before they touch a table (spec §8.2–§8.3;
//! real-clients.md: Microsoft's Python SDK). Anything else under `EntityDefinitions` is left to
//! the metadata slice and reported as not supported yet (`Ok(None)`).

use super::options::Options;
use super::{ParseError, Routed};
use crate::request::MetadataRead;
use std::borrow::Cow;

/// `EntityMetadata` properties a `$select` may name (spec §8.2).
const ENTITY_PROPERTIES: &[&str] = &[
    "LogicalName",
    "EntitySetName",
    "PrimaryIdAttribute",
    "PrimaryNameAttribute",
    "SchemaName",
    "DisplayName",
    "DisplayCollectionName",
    "LogicalCollectionName",
    "CollectionSchemaName",
    "ObjectTypeCode",
    "OwnershipType",
    "IsCustomEntity",
    "IsActivity",
    "IsPrivate",
    "IsIntersect",
    "IsManaged",
    "MetadataId",
];

fn syntax(m: impl Into<String>) -> Routed {
    Routed::Error(ParseError::Syntax(m.into()))
}

/// A logical name: lower-case letters, digits and underscores.
fn logical_name(s: &str) -> Option<String> {
    (!s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        .then(|| s.to_owned())
}

pub(crate) fn read(
    segments: &[Cow<'_, str>],
    key: Option<&str>,
    options: &Options<'_>,
) -> Result<Option<MetadataRead>, Routed> {
    match (segments, key) {
        ([_], None) => {
            let Some(filter) = options.raw("$filter") else { return Ok(None) };
            let Some(name) = filter.trim().strip_prefix("LogicalName eq '").and_then(|r| r.strip_suffix('\'')) else {
                return Ok(None);
            };
            let name = logical_name(name).ok_or_else(|| syntax(format!("'{name}' is not a logical name")))?;
            options.only(&["$select", "$filter"], "EntityDefinitions")?;
            let mut select = Vec::new();
            if let Some(s) = options.raw("$select") {
                for p in s.split(',').map(str::trim) {
                    if !ENTITY_PROPERTIES.contains(&p) {
                        return Err(syntax(format!(
                            "Could not find a property named '{p}' on type 'Microsoft.Dynamics.CRM.EntityMetadata'."
                        )));
                    }
                    select.push(p.to_owned());
                }
            }
            Ok(Some(MetadataRead::Entities { logical_name: name, select }))
        }
        ([_, attributes, cast], Some(key))
            if attributes == "Attributes" && cast == "Microsoft.Dynamics.CRM.PicklistAttributeMetadata" =>
        {
            let Some(name) =
                key.strip_prefix("LogicalName='").and_then(|r| r.strip_suffix('\'')).and_then(logical_name)
            else {
                return Ok(None);
            };
            options.only(&["$select", "$expand"], "PicklistAttributeMetadata")?;
            let select_ok = options.raw("$select").is_none_or(|s| s.trim() == "LogicalName");
            let expand_ok = options
                .raw("$expand")
                .is_none_or(|e| e.trim() == "OptionSet($select=Options)" || e.trim() == "OptionSet");
            if !(select_ok && expand_ok) {
                return Ok(None);
            }
            Ok(Some(MetadataRead::PicklistAttributes { logical_name: name }))
        }
        _ => Ok(None),
    }
}
