//! Metadata answers filtered structurally per agent (design §4): the parsed JSON of
//! `EntityDefinitions`, `RelationshipDefinitions` and `GlobalOptionSetDefinitions` reads, never
//! edited as text.
//!
//! - A table definition is kept only when the agent can read the table; inside it, attributes
//!   of hidden columns (and attributes that are `AttributeOf` one), relationships it may not
//!   see and alternate keys over hidden columns are removed; a lookup's `Targets` keep only
//!   readable tables.
//! - A one-to-many relationship is visible when both tables are readable and its lookup is not
//!   hidden; a many-to-many one when both tables are readable. Items of an unknown shape are
//!   removed.
//! - Global option sets are removed: the schema does not say which columns use them, so none can
//!   be shown as used by a visible column.
//! - A single item the agent may not see (read by `MetadataId`, so not refused before
//!   forwarding) turns the answer into a refusal.
//! - The filter decides by properties the agent may not have selected (`LogicalName`,
//!   `EntityLogicalName`, the relationship's ends), and a `$select` on an uncast
//!   `RelationshipDefinitions` cannot name the derived types' ends; so the read is forwarded
//!   without `$select` at any depth ([`select_everything`]) and the agent's projection applied
//!   here after filtering ([`project_as_asked`]).

use crate::refusal::Refusal;
use dataverse::json::{Object, Value};
use dataverse::metadata_query::{MetaKey, MetaPath, MetadataRead};
use policy::{AgentPolicy, Level};

struct View<'a> {
    policy: &'a AgentPolicy,
}

impl View<'_> {
    fn readable(&self, table: &str) -> bool {
        self.policy.level(table) >= Level::Read
    }

    fn str<'o>(o: &'o Object, key: &str) -> Option<&'o str> {
        o.get(key).and_then(Value::as_str)
    }

    fn attribute_visible(&self, table: &str, a: &Object) -> bool {
        let Some(name) = Self::str(a, "LogicalName") else { return false };
        let table = Self::str(a, "EntityLogicalName").unwrap_or(table);
        self.readable(table)
            && !self.policy.is_hidden(table, name)
            && Self::str(a, "AttributeOf").is_none_or(|of| !self.policy.is_hidden(table, of))
    }

    fn clean_attribute(&self, a: &mut Object) {
        if let Some(Value::Array(targets)) = a.get_mut("Targets") {
            targets.retain(|t| t.as_str().is_some_and(|t| self.readable(t)));
        }
    }

    fn relationship_visible(&self, r: &Object) -> bool {
        match Self::str(r, "RelationshipType") {
            Some("OneToManyRelationship") => {
                let (Some(referenced), Some(referencing), Some(column)) = (
                    Self::str(r, "ReferencedEntity"),
                    Self::str(r, "ReferencingEntity"),
                    Self::str(r, "ReferencingAttribute"),
                ) else {
                    return false;
                };
                self.readable(referenced) && self.readable(referencing) && !self.policy.is_hidden(referencing, column)
            }
            Some("ManyToManyRelationship") => {
                Self::str(r, "Entity1LogicalName").is_some_and(|t| self.readable(t))
                    && Self::str(r, "Entity2LogicalName").is_some_and(|t| self.readable(t))
            }
            _ => false,
        }
    }

    fn entity_visible(&self, e: &Object) -> bool {
        Self::str(e, "LogicalName").is_some_and(|t| self.readable(t))
    }

    fn clean_entity(&self, e: &mut Object) {
        let table = Self::str(e, "LogicalName").unwrap_or_default().to_owned();
        if let Some(Value::Array(attributes)) = e.get_mut("Attributes") {
            self.retain(attributes, |o| self.attribute_visible(&table, o));
            for a in attributes.iter_mut().filter_map(Value::as_object_mut) {
                self.clean_attribute(a);
            }
        }
        for which in ["OneToManyRelationships", "ManyToOneRelationships", "ManyToManyRelationships"] {
            if let Some(Value::Array(items)) = e.get_mut(which) {
                self.retain(items, |o| self.relationship_visible(o));
            }
        }
        if let Some(Value::Array(keys)) = e.get_mut("Keys") {
            self.retain(keys, |k| match k.get("KeyAttributes") {
                Some(Value::Array(cols)) => {
                    cols.iter().all(|c| c.as_str().is_some_and(|c| !self.policy.is_hidden(&table, c)))
                }
                _ => false,
            });
        }
    }

    fn retain(&self, items: &mut Vec<Value>, keep: impl Fn(&Object) -> bool) {
        items.retain(|v| v.as_object().is_some_and(&keep));
    }
}

fn refusal(code: &'static str, what: &str) -> Refusal {
    Refusal::new(code, format!("Stanchion denied this metadata read: {what}."))
}

/// Filters a metadata answer; `Err` when the answer is one item the agent may not see.
pub(crate) fn filter(policy: &AgentPolicy, read: &MetadataRead, value: &mut Value) -> Result<(), Refusal> {
    let v = View { policy };
    let Some(o) = value.as_object_mut() else { return Err(refusal("unclassified", "the answer is not an object")) };
    if o.get("error").is_some() {
        return Ok(());
    }
    if read.single() {
        let visible = match &read.path {
            MetaPath::Entity(_) => v.entity_visible(o),
            MetaPath::Attribute { entity, .. } => {
                let table = match entity {
                    MetaKey::Name(n) => n.as_str(),
                    MetaKey::Id(_) => "",
                };
                v.attribute_visible(table, o)
            }
            MetaPath::Relationship { .. } => v.relationship_visible(o),
            _ => false,
        };
        if !visible {
            return Err(match &read.path {
                MetaPath::Attribute { .. } => refusal("hidden_column", "the column is hidden for this agent"),
                _ => refusal("table_off", "it names a table this agent cannot read"),
            });
        }
        match &read.path {
            MetaPath::Entity(_) => v.clean_entity(o),
            MetaPath::Attribute { .. } => v.clean_attribute(o),
            _ => {}
        }
        return Ok(());
    }
    let Some(Value::Array(items)) = o.get_mut("value") else {
        return Err(refusal("unclassified", "the answer has no value"));
    };
    match &read.path {
        MetaPath::Entities => {
            v.retain(items, |e| v.entity_visible(e));
            for e in items.iter_mut().filter_map(Value::as_object_mut) {
                v.clean_entity(e);
            }
        }
        MetaPath::Attributes { entity, .. } => {
            let table = match entity {
                MetaKey::Name(n) => n.clone(),
                MetaKey::Id(_) => String::new(),
            };
            v.retain(items, |a| v.attribute_visible(&table, a));
            for a in items.iter_mut().filter_map(Value::as_object_mut) {
                v.clean_attribute(a);
            }
        }
        MetaPath::EntityRelationships { .. } | MetaPath::Relationships { .. } => {
            v.retain(items, |r| v.relationship_visible(r));
        }
        _ => items.clear(),
    }
    Ok(())
}

/// Drops `$select` at every depth of a metadata read before it is forwarded.
pub(crate) fn select_everything(read: &mut MetadataRead) {
    fn expands(items: &mut [dataverse::metadata_query::MetaExpand]) {
        for e in items {
            e.select.clear();
            expands(&mut e.expand);
        }
    }
    read.select.clear();
    expands(&mut read.expand);
}

/// Applies the agent's `$select` and `$expand` projections to a filtered answer.
pub(crate) fn project_as_asked(asked: &MetadataRead, value: &mut Value) {
    use dataverse::metadata_query::{NAVIGATIONS, project};
    let Some(o) = value.as_object_mut() else { return };
    if o.get("error").is_some() {
        return;
    }
    if asked.single() {
        project(o, &asked.select, &asked.expand, NAVIGATIONS);
        return;
    }
    if let Some(Value::Array(items)) = o.get_mut("value") {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            project(item, &asked.select, &asked.expand, NAVIGATIONS);
        }
    }
}
