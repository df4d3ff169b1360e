//! Paths and `$expand` of metadata reads (`EntityDefinitions(LogicalName='account')/Attributes…`),
//! printed from their typed form.

use crate::metadata_query::{MetaExpand, MetaKey, MetaPath};

fn metadata_key(k: &MetaKey, property: &str) -> String {
    match k {
        MetaKey::Name(n) => format!("({property}='{n}')"),
        MetaKey::Id(id) => format!("({id})"),
    }
}

/// The path of a metadata read (spec §8.2–§8.4).
pub(super) fn metadata_path(path: &MetaPath) -> String {
    let cast = |c: &Option<String>| c.as_ref().map_or_else(String::new, |c| format!("/Microsoft.Dynamics.CRM.{c}"));
    match path {
        MetaPath::Entities => "EntityDefinitions".into(),
        MetaPath::Entity(k) => format!("EntityDefinitions{}", metadata_key(k, "LogicalName")),
        MetaPath::Attributes { entity, cast: c } => {
            format!("EntityDefinitions{}/Attributes{}", metadata_key(entity, "LogicalName"), cast(c))
        }
        MetaPath::Attribute { entity, key, cast: c } => format!(
            "EntityDefinitions{}/Attributes{}{}",
            metadata_key(entity, "LogicalName"),
            metadata_key(key, "LogicalName"),
            cast(c)
        ),
        MetaPath::EntityRelationships { entity, which } => {
            format!("EntityDefinitions{}/{which}", metadata_key(entity, "LogicalName"))
        }
        MetaPath::Relationships { cast: c } => format!("RelationshipDefinitions{}", cast(c)),
        MetaPath::Relationship { key, cast: c } => {
            format!("RelationshipDefinitions{}{}", metadata_key(key, "SchemaName"), cast(c))
        }
        MetaPath::OptionSets => "GlobalOptionSetDefinitions".into(),
        MetaPath::OptionSet(k) => format!("GlobalOptionSetDefinitions{}", metadata_key(k, "Name")),
    }
}

pub(super) fn metadata_expand(items: &[MetaExpand]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|e| {
            let mut options = Vec::new();
            if !e.select.is_empty() {
                options.push(format!("$select={}", e.select.join(",")));
            }
            if let Some(f) = &e.filter {
                options.push(format!("$filter={}", f.print()));
            }
            if !e.expand.is_empty() {
                options.push(format!("$expand={}", metadata_expand(&e.expand)));
            }
            if options.is_empty() { e.name.clone() } else { format!("{}({})", e.name, options.join(";")) }
        })
        .collect();
    parts.join(",")
}
