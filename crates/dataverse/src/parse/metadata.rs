//! Reads of the metadata entity sets (spec §8.2–§8.4) as [`MetadataRead`]: the path (set, key,
//! navigation, type cast) and `$select`, `$filter`, `$expand`. Keys are `LogicalName='x'`
//! (tables, attributes), `SchemaName='x'` (relationships), `Name='x'` (global option sets) or
//! a `MetadataId`. `$top`, `$orderby`, `$count` and paging are not supported on metadata
//! (spec §8.2) and are refused.

use super::options::Options;
use super::{ParseError, Routed, split_key};
use crate::metadata_query::{MetaExpand, MetaKey, MetaPath, MetadataRead, parse_filter};
use std::borrow::Cow;

const NS: &str = "Microsoft.Dynamics.CRM.";

/// Attribute metadata types a cast may name (spec §8.3; `EnumAttributeMetadata` is abstract).
const ATTRIBUTE_CASTS: &[&str] = &[
    "StringAttributeMetadata",
    "MemoAttributeMetadata",
    "IntegerAttributeMetadata",
    "BigIntAttributeMetadata",
    "DecimalAttributeMetadata",
    "DoubleAttributeMetadata",
    "MoneyAttributeMetadata",
    "BooleanAttributeMetadata",
    "DateTimeAttributeMetadata",
    "PicklistAttributeMetadata",
    "StateAttributeMetadata",
    "StatusAttributeMetadata",
    "MultiSelectPicklistAttributeMetadata",
    "LookupAttributeMetadata",
    "UniqueIdentifierAttributeMetadata",
    "EntityNameAttributeMetadata",
    "ImageAttributeMetadata",
    "FileAttributeMetadata",
];

const RELATIONSHIP_CASTS: &[&str] = &["OneToManyRelationshipMetadata", "ManyToManyRelationshipMetadata"];

const ENTITY_RELATIONSHIPS: &[&str] = &["OneToManyRelationships", "ManyToOneRelationships", "ManyToManyRelationships"];

fn syntax(m: impl Into<String>) -> Routed {
    Routed::Error(ParseError::Syntax(m.into()))
}

fn not_found(segment: &str) -> Routed {
    Routed::Error(ParseError::NotFound(format!("Resource not found for the segment '{segment}'.")))
}

/// A name in a key: letters, digits and underscores (logical names are lower-case).
fn name_ok(s: &str, lower: bool) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| {
            b.is_ascii_digit() || b == b'_' || if lower { b.is_ascii_lowercase() } else { b.is_ascii_alphabetic() }
        })
}

/// `Property='value'` or a bare GUID.
fn key(text: &str, property: &str, lower: bool) -> Result<MetaKey, Routed> {
    if let Ok(id) = uuid::Uuid::try_parse(text.trim())
        && text.trim().len() == 36
    {
        return Ok(MetaKey::Id(id));
    }
    let value = text
        .strip_prefix(property)
        .and_then(|r| r.strip_prefix("='"))
        .and_then(|r| r.strip_suffix('\''))
        .ok_or_else(|| syntax(format!("The key '{text}' must be {property}='…' or a MetadataId")))?;
    if !name_ok(value, lower) {
        return Err(syntax(format!("'{value}' is not a valid {property}")));
    }
    Ok(MetaKey::Name(value.to_owned()))
}

/// `Microsoft.Dynamics.CRM.X` among `allowed`.
fn cast(segment: &str, allowed: &[&str]) -> Result<String, Routed> {
    let name = segment.strip_prefix(NS).ok_or_else(|| not_found(segment))?;
    if allowed.contains(&name) {
        Ok(name.to_owned())
    } else {
        Err(syntax(format!("'{segment}' is not a type this metadata can be cast to")))
    }
}

/// Splits at commas outside parentheses.
fn split_items(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quoted) = (0i32, 0usize, false);
    for (i, c) in s.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            c if c == sep && depth == 0 && !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn select(text: &str) -> Result<Vec<String>, Routed> {
    text.split(',')
        .map(|p| {
            let p = p.trim();
            if name_ok(p, false) {
                Ok(p.to_owned())
            } else {
                Err(syntax(format!("'{p}' in $select is not a property name")))
            }
        })
        .collect()
}

fn filter(text: &str) -> Result<crate::metadata_query::MetaFilter, Routed> {
    parse_filter(text).map_err(|e| syntax(e.0))
}

/// `$expand` items: `Name` or `Name($select=…;$filter=…;$expand=…)`, names from `allowed`.
fn expand(text: &str, allowed: &[&str], depth: usize) -> Result<Vec<MetaExpand>, Routed> {
    if depth > 3 {
        return Err(syntax("$expand is nested too deeply"));
    }
    let mut out = Vec::new();
    for item in split_items(text, ',') {
        let item = item.trim();
        let (name, options) = match item.find('(') {
            Some(open) => (
                &item[..open],
                Some(
                    item[open + 1..]
                        .strip_suffix(')')
                        .ok_or_else(|| syntax(format!("'{item}' in $expand is unbalanced")))?,
                ),
            ),
            None => (item, None),
        };
        if !allowed.contains(&name) {
            return Err(syntax(format!("'{name}' cannot be expanded here")));
        }
        let mut e = MetaExpand { name: name.to_owned(), select: Vec::new(), filter: None, expand: Vec::new() };
        for option in options.map(|o| split_items(o, ';')).unwrap_or_default() {
            let (k, v) = option.split_once('=').ok_or_else(|| syntax(format!("'{option}' in $expand is malformed")))?;
            match k.trim() {
                "$select" => e.select = select(v)?,
                "$filter" => e.filter = Some(filter(v)?),
                "$expand" => e.expand = expand(v, &["OptionSet", "GlobalOptionSet"], depth + 1)?,
                other => return Err(syntax(format!("The option {other} is not supported inside $expand on metadata"))),
            }
        }
        out.push(e);
    }
    Ok(out)
}

/// The read at `segments` (the first is the set, its key in `first_key`), or `Ok(None)` for a
/// path this module does not know (reported as not supported by the caller).
pub(crate) fn read(
    segments: &[Cow<'_, str>],
    first_key: Option<&str>,
    options: &Options<'_>,
) -> Result<Option<MetadataRead>, Routed> {
    let set = split_key(&segments[0]).map_err(Routed::Error)?.0;
    let rest: Vec<&str> = segments[1..].iter().map(|s| s.as_ref()).collect();
    let (path, expandable): (MetaPath, &[&str]) = match (set, first_key, rest.as_slice()) {
        ("EntityDefinitions", None, []) => (
            MetaPath::Entities,
            &["Attributes", "OneToManyRelationships", "ManyToOneRelationships", "ManyToManyRelationships", "Keys"],
        ),
        ("EntityDefinitions", Some(k), tail) => {
            let entity = key(k, "LogicalName", true)?;
            match tail {
                [] => (
                    MetaPath::Entity(entity),
                    &[
                        "Attributes",
                        "OneToManyRelationships",
                        "ManyToOneRelationships",
                        "ManyToManyRelationships",
                        "Keys",
                    ],
                ),
                [attrs, more @ ..] if split_key(attrs).map_err(Routed::Error)?.0 == "Attributes" => {
                    let (_, attr_key) = split_key(attrs).map_err(Routed::Error)?;
                    let cast = match more {
                        [] => None,
                        [c] => Some(cast(c, ATTRIBUTE_CASTS)?),
                        _ => return Err(not_found(more[1])),
                    };
                    match attr_key {
                        None => (MetaPath::Attributes { entity, cast }, &["OptionSet", "GlobalOptionSet"]),
                        Some(ak) => (
                            MetaPath::Attribute { entity, key: key(ak, "LogicalName", true)?, cast },
                            &["OptionSet", "GlobalOptionSet"],
                        ),
                    }
                }
                [which] if ENTITY_RELATIONSHIPS.contains(which) => {
                    (MetaPath::EntityRelationships { entity, which: (*which).to_owned() }, &[])
                }
                [other, ..] => return Err(not_found(other)),
            }
        }
        ("RelationshipDefinitions", None, []) => (MetaPath::Relationships { cast: None }, &[]),
        ("RelationshipDefinitions", None, [c]) => {
            (MetaPath::Relationships { cast: Some(cast(c, RELATIONSHIP_CASTS)?) }, &[])
        }
        ("RelationshipDefinitions", Some(k), tail) => {
            let cast = match tail {
                [] => None,
                [c] => Some(cast(c, RELATIONSHIP_CASTS)?),
                [_, other, ..] => return Err(not_found(other)),
            };
            (MetaPath::Relationship { key: key(k, "SchemaName", false)?, cast }, &[])
        }
        ("GlobalOptionSetDefinitions", None, []) => (MetaPath::OptionSets, &[]),
        ("GlobalOptionSetDefinitions", Some(k), []) => (MetaPath::OptionSet(key(k, "Name", false)?), &[]),
        _ => return Ok(None),
    };
    let single = matches!(
        path,
        MetaPath::Entity(_) | MetaPath::Attribute { .. } | MetaPath::Relationship { .. } | MetaPath::OptionSet(_)
    );
    let allowed: &[&str] = match (single, matches!(path, MetaPath::OptionSets)) {
        // Spec §8.4: `$filter` is not supported on global option sets.
        (false, false) => &["$select", "$filter", "$expand"],
        _ => &["$select", "$expand"],
    };
    options.only(allowed, "metadata")?;
    let select = options.raw("$select").map(select).transpose()?.unwrap_or_default();
    let filter = options.raw("$filter").map(filter).transpose()?;
    let expand = match options.raw("$expand") {
        Some(e) if expandable.is_empty() => return Err(syntax(format!("'{e}' cannot be expanded here"))),
        Some(e) => expand(e, expandable, 0)?,
        None => Vec::new(),
    };
    Ok(Some(MetadataRead { path, select, filter, expand }))
}
