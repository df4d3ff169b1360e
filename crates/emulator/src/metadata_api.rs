//! The metadata entity sets (spec §8.2–§8.4) served from the emulator's schema:
//! `EntityDefinitions` (with `Attributes`, the three relationship collections and `Keys`),
//! attributes with their type-specific properties and option sets, `RelationshipDefinitions`
//! (one-to-many and many-to-many) and `GlobalOptionSetDefinitions` (the schema has no global
//! option sets: an empty collection, and 404 by key).
//!
//! Each item is built whole, then the read's `$filter`, `$select` and `$expand` apply
//! ([`dataverse::metadata_query`]); navigation properties come only when expanded. Metadata ids
//! are stable: derived from names. Display names are the schema's for tables and the logical
//! name for columns (the emulator has no column labels).

use crate::response::{Base, json};
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Number, Object, Value};
use dataverse::metadata::{Column, ColumnType, ManyToMany, Ownership, Relationship, RequiredLevel, Schema, Table};
use dataverse::metadata_query::{MetaKey, MetaPath, MetadataRead, NAVIGATIONS, project};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A stable `MetadataId` for a named metadata item.
fn metadata_id(kind: &str, name: &str) -> Uuid {
    let digest = Sha256::digest(format!("stanchion-emulator:{kind}:{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn int(v: i64) -> Value {
    Value::Number(Number::from_i64(v))
}

/// A `Label` (spec §8.2 "Label shape"), English (1033) only.
fn label(text: &str, id_seed: &str) -> Value {
    let mut l = Object::new();
    l.insert("Label", s(text));
    l.insert("LanguageCode", int(1033));
    l.insert("IsManaged", Value::Bool(true));
    l.insert("MetadataId", s(&metadata_id("label", id_seed).to_string()));
    l.insert("HasChanged", Value::Null);
    let mut o = Object::new();
    o.insert("LocalizedLabels", Value::Array(vec![Value::Object(l.clone())]));
    o.insert("UserLocalizedLabel", Value::Object(l));
    Value::Object(o)
}

/// `{"Value": …, "CanBeChanged": …, "ManagedPropertyLogicalName": …}`.
fn managed(value: Value, property: &str) -> Value {
    let mut o = Object::new();
    o.insert("Value", value);
    o.insert("CanBeChanged", Value::Bool(true));
    o.insert("ManagedPropertyLogicalName", s(property));
    Value::Object(o)
}

/// Tables that are activities (their primary id is `activityid`).
fn is_activity(t: &Table) -> bool {
    t.primary_id == "activityid" && t.logical_name != "annotation"
}

fn entity_id(t: &Table) -> Uuid {
    metadata_id("entity", &t.logical_name)
}

/// Every `EntityMetadata` property the emulator answers, with its navigation collections.
fn entity(schema: &Schema, t: &Table) -> Object {
    let mut o = Object::new();
    o.insert("@odata.type", s("#Microsoft.Dynamics.CRM.EntityMetadata"));
    o.insert("LogicalName", s(&t.logical_name));
    o.insert("SchemaName", s(&t.schema_name));
    o.insert("EntitySetName", s(&t.set_name));
    o.insert("LogicalCollectionName", s(&t.set_name));
    o.insert("CollectionSchemaName", s(&t.display_collection_name.replace(' ', "")));
    o.insert("PrimaryIdAttribute", s(&t.primary_id));
    o.insert("PrimaryNameAttribute", s(&t.primary_name));
    o.insert("ObjectTypeCode", int(i64::from(t.object_type_code)));
    let ownership = match t.ownership {
        Ownership::UserOwned => "UserOwned",
        Ownership::OrganizationOwned => "OrganizationOwned",
        Ownership::BusinessOwned => "BusinessOwned",
    };
    o.insert("OwnershipType", s(ownership));
    o.insert("DisplayName", label(&t.display_name, &format!("{}:display", t.logical_name)));
    o.insert("DisplayCollectionName", label(&t.display_collection_name, &format!("{}:collection", t.logical_name)));
    o.insert("Description", label("", &format!("{}:description", t.logical_name)));
    o.insert("IsCustomEntity", Value::Bool(t.object_type_code >= 10_000));
    o.insert("IsActivity", Value::Bool(is_activity(t)));
    o.insert("IsPrivate", Value::Bool(false));
    o.insert("IsIntersect", Value::Bool(false));
    o.insert("IsManaged", Value::Bool(t.object_type_code < 10_000));
    o.insert("IsCustomizable", managed(Value::Bool(true), "iscustomizable"));
    o.insert("ChangeTrackingEnabled", Value::Bool(false));
    o.insert("IsOptimisticConcurrencyEnabled", Value::Bool(true));
    o.insert("IsValidForAdvancedFind", Value::Bool(true));
    o.insert("HasActivities", Value::Bool(!is_activity(t)));
    o.insert("HasNotes", Value::Bool(t.logical_name != "annotation"));
    o.insert("MetadataId", s(&entity_id(t).to_string()));
    o.insert("Attributes", Value::Array(t.columns.iter().map(|c| Value::Object(attribute(t, c))).collect()));
    let one_to_many = schema.relationships().iter().filter(|r| r.referenced_table == t.logical_name);
    o.insert(
        "OneToManyRelationships",
        Value::Array(one_to_many.map(|r| Value::Object(one_to_many_json(schema, r))).collect()),
    );
    let many_to_one = schema.relationships().iter().filter(|r| r.referencing_table == t.logical_name);
    o.insert(
        "ManyToOneRelationships",
        Value::Array(many_to_one.map(|r| Value::Object(one_to_many_json(schema, r))).collect()),
    );
    let many = schema.many_to_many().iter().filter(|m| m.entity1 == t.logical_name || m.entity2 == t.logical_name);
    o.insert("ManyToManyRelationships", Value::Array(many.map(|m| Value::Object(many_to_many_json(m))).collect()));
    let keys = t.keys.iter().map(|k| {
        let mut o = Object::new();
        o.insert("SchemaName", s(&k.schema_name));
        o.insert("LogicalName", s(&k.schema_name.to_ascii_lowercase()));
        o.insert("EntityLogicalName", s(&t.logical_name));
        o.insert("KeyAttributes", Value::Array(k.columns.iter().map(|c| s(c)).collect()));
        o.insert("MetadataId", s(&metadata_id("key", &format!("{}.{}", t.logical_name, k.schema_name)).to_string()));
        Value::Object(o)
    });
    o.insert("Keys", Value::Array(keys.collect()));
    o
}

/// The attribute metadata type of a column (`PicklistAttributeMetadata`), and its
/// `AttributeType` code.
fn attribute_type(c: &Column) -> (&'static str, &'static str) {
    match &c.kind {
        ColumnType::String { .. } => ("StringAttributeMetadata", "String"),
        ColumnType::Memo { .. } => ("MemoAttributeMetadata", "Memo"),
        ColumnType::Integer => ("IntegerAttributeMetadata", "Integer"),
        ColumnType::BigInt => ("BigIntAttributeMetadata", "BigInt"),
        ColumnType::Decimal => ("DecimalAttributeMetadata", "Decimal"),
        ColumnType::Double => ("DoubleAttributeMetadata", "Double"),
        ColumnType::Money => ("MoneyAttributeMetadata", "Money"),
        ColumnType::Boolean { .. } => ("BooleanAttributeMetadata", "Boolean"),
        ColumnType::Picklist { .. } => ("PicklistAttributeMetadata", "Picklist"),
        ColumnType::State { .. } => ("StateAttributeMetadata", "State"),
        ColumnType::Status { .. } => ("StatusAttributeMetadata", "Status"),
        ColumnType::DateTime | ColumnType::DateOnly => ("DateTimeAttributeMetadata", "DateTime"),
        ColumnType::Uniqueidentifier => ("UniqueIdentifierAttributeMetadata", "Uniqueidentifier"),
        ColumnType::Lookup { .. } if c.logical_name == "ownerid" => ("LookupAttributeMetadata", "Owner"),
        ColumnType::Lookup { targets }
            if targets.len() > 1 && targets.iter().all(|x| x == "account" || x == "contact") =>
        {
            ("LookupAttributeMetadata", "Customer")
        }
        ColumnType::Lookup { .. } => ("LookupAttributeMetadata", "Lookup"),
    }
}

/// One option of an option set.
fn option(value: i32, text: &str, seed: &str, state: Option<i32>) -> Value {
    let mut o = Object::new();
    o.insert("Value", int(i64::from(value)));
    o.insert("Label", label(text, &format!("{seed}:{value}")));
    o.insert("Description", label("", &format!("{seed}:{value}:description")));
    o.insert("Color", Value::Null);
    o.insert("IsManaged", Value::Bool(true));
    if let Some(state) = state {
        o.insert("State", int(i64::from(state)));
    }
    Value::Object(o)
}

/// The local option set of a choice, state, status or yes/no column.
fn option_set(t: &Table, c: &Column) -> Option<Value> {
    let seed = format!("{}.{}", t.logical_name, c.logical_name);
    let mut o = Object::new();
    o.insert("MetadataId", s(&metadata_id("optionset", &seed).to_string()));
    o.insert("Name", s(&format!("{}_{}", t.logical_name, c.logical_name)));
    o.insert("IsGlobal", Value::Bool(false));
    match &c.kind {
        ColumnType::Picklist { options } | ColumnType::State { options } => {
            let ty = if matches!(c.kind, ColumnType::State { .. }) { "State" } else { "Picklist" };
            o.insert("OptionSetType", s(ty));
            o.insert("Options", Value::Array(options.iter().map(|(v, l)| option(*v, l, &seed, None)).collect()));
        }
        ColumnType::Status { options } => {
            o.insert("OptionSetType", s("Status"));
            o.insert(
                "Options",
                Value::Array(options.iter().map(|(v, l, st)| option(*v, l, &seed, Some(*st))).collect()),
            );
        }
        ColumnType::Boolean { true_label, false_label } => {
            o.insert("OptionSetType", s("Boolean"));
            o.insert("TrueOption", option(1, true_label, &seed, None));
            o.insert("FalseOption", option(0, false_label, &seed, None));
        }
        _ => return None,
    }
    Some(Value::Object(o))
}

fn attribute_id(t: &Table, c: &Column) -> Uuid {
    metadata_id("attribute", &format!("{}.{}", t.logical_name, c.logical_name))
}

/// One `AttributeMetadata`, with its type-specific properties and (as a navigation property)
/// its option set.
fn attribute(t: &Table, c: &Column) -> Object {
    let (ty, code) = attribute_type(c);
    let mut o = Object::new();
    o.insert("@odata.type", s(&format!("#Microsoft.Dynamics.CRM.{ty}")));
    o.insert("LogicalName", s(&c.logical_name));
    o.insert("SchemaName", s(&c.logical_name));
    o.insert("EntityLogicalName", s(&t.logical_name));
    o.insert("AttributeType", s(code));
    let mut type_name = Object::new();
    type_name.insert("Value", s(&format!("{code}Type")));
    o.insert("AttributeTypeName", Value::Object(type_name));
    o.insert("DisplayName", label(&c.logical_name, &format!("{}.{}:display", t.logical_name, c.logical_name)));
    o.insert("Description", label("", &format!("{}.{}:description", t.logical_name, c.logical_name)));
    let required = match c.required {
        RequiredLevel::None => "None",
        RequiredLevel::ApplicationRequired => "ApplicationRequired",
        RequiredLevel::SystemRequired => "SystemRequired",
    };
    o.insert("RequiredLevel", managed(s(required), "canmodifyrequirementlevelsettings"));
    o.insert("IsPrimaryId", Value::Bool(c.logical_name == t.primary_id));
    o.insert("IsPrimaryName", Value::Bool(c.logical_name == t.primary_name));
    o.insert("IsValidForCreate", Value::Bool(c.valid_for_create));
    o.insert("IsValidForUpdate", Value::Bool(c.valid_for_update));
    o.insert("IsValidForRead", Value::Bool(true));
    o.insert("IsValidForAdvancedFind", managed(Value::Bool(true), "canmodifysearchsettings"));
    o.insert("IsCustomAttribute", Value::Bool(c.logical_name.contains('_') && !c.logical_name.ends_with("_base")));
    o.insert("IsLogical", Value::Bool(false));
    o.insert("IsSecured", Value::Bool(false));
    o.insert("AttributeOf", Value::Null);
    o.insert("SourceType", int(0));
    o.insert("IsFilterable", Value::Bool(true));
    o.insert("IsSearchable", Value::Bool(true));
    o.insert("MetadataId", s(&attribute_id(t, c).to_string()));
    match &c.kind {
        ColumnType::String { max_length } => {
            o.insert("MaxLength", int(i64::from(*max_length)));
            o.insert("Format", s("Text"));
        }
        ColumnType::Memo { max_length } => {
            o.insert("MaxLength", int(i64::from(*max_length)));
            o.insert("Format", s("TextArea"));
        }
        ColumnType::Integer => {
            o.insert("MinValue", int(i64::from(i32::MIN)));
            o.insert("MaxValue", int(i64::from(i32::MAX)));
            o.insert("Format", s("None"));
        }
        ColumnType::BigInt => {
            o.insert("MinValue", int(i64::MIN));
            o.insert("MaxValue", int(i64::MAX));
        }
        ColumnType::Decimal => {
            o.insert("Precision", int(10));
        }
        ColumnType::Double => {
            o.insert("Precision", int(5));
        }
        ColumnType::Money => {
            o.insert("Precision", int(2));
            o.insert("PrecisionSource", int(2));
            o.insert("IsBaseCurrency", Value::Bool(c.logical_name.ends_with("_base")));
        }
        ColumnType::DateTime | ColumnType::DateOnly => {
            let date_only = matches!(c.kind, ColumnType::DateOnly);
            o.insert("Format", s(if date_only { "DateOnly" } else { "DateAndTime" }));
            let mut behavior = Object::new();
            behavior.insert("Value", s(if date_only { "DateOnly" } else { "UserLocal" }));
            o.insert("DateTimeBehavior", Value::Object(behavior));
        }
        ColumnType::Lookup { targets } => {
            o.insert("Targets", Value::Array(targets.iter().map(|x| s(x)).collect()));
        }
        _ => {}
    }
    if let Some(set) = option_set(t, c) {
        o.insert("OptionSet", set);
        o.insert("GlobalOptionSet", Value::Null);
    }
    o
}

fn cascade() -> Value {
    let mut o = Object::new();
    for (k, v) in [
        ("Assign", "NoCascade"),
        ("Delete", "RemoveLink"),
        ("Merge", "NoCascade"),
        ("Reparent", "NoCascade"),
        ("Share", "NoCascade"),
        ("Unshare", "NoCascade"),
        ("RollupView", "NoCascade"),
    ] {
        o.insert(k, s(v));
    }
    Value::Object(o)
}

fn one_to_many_json(schema: &Schema, r: &Relationship) -> Object {
    let mut o = Object::new();
    o.insert("@odata.type", s("#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"));
    o.insert("SchemaName", s(&r.schema_name));
    o.insert("RelationshipType", s("OneToManyRelationship"));
    o.insert("ReferencedEntity", s(&r.referenced_table));
    let referenced_id = schema.table(&r.referenced_table).map_or_else(String::new, |t| t.primary_id.clone());
    o.insert("ReferencedAttribute", s(&referenced_id));
    o.insert("ReferencingEntity", s(&r.referencing_table));
    o.insert("ReferencingAttribute", s(&r.referencing_column));
    o.insert("ReferencedEntityNavigationPropertyName", s(&r.schema_name));
    o.insert("ReferencingEntityNavigationPropertyName", s(&r.referencing_nav));
    o.insert("IsHierarchical", Value::Bool(r.referenced_table == r.referencing_table));
    o.insert("IsCustomRelationship", Value::Bool(false));
    o.insert("IsManaged", Value::Bool(true));
    o.insert("SecurityTypes", s("Append"));
    o.insert("CascadeConfiguration", cascade());
    o.insert("MetadataId", s(&metadata_id("relationship", &r.schema_name).to_string()));
    o
}

fn many_to_many_json(m: &ManyToMany) -> Object {
    let mut o = Object::new();
    o.insert("@odata.type", s("#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata"));
    o.insert("SchemaName", s(&m.schema_name));
    o.insert("RelationshipType", s("ManyToManyRelationship"));
    o.insert("Entity1LogicalName", s(&m.entity1));
    o.insert("Entity2LogicalName", s(&m.entity2));
    o.insert("IntersectEntityName", s(&m.intersect));
    o.insert("Entity1IntersectAttribute", s(&m.entity1_column));
    o.insert("Entity2IntersectAttribute", s(&m.entity2_column));
    o.insert("Entity1NavigationPropertyName", s(&m.entity1_nav));
    o.insert("Entity2NavigationPropertyName", s(&m.entity2_nav));
    o.insert("IsCustomRelationship", Value::Bool(false));
    o.insert("IsManaged", Value::Bool(true));
    o.insert("SecurityTypes", s("None"));
    o.insert("MetadataId", s(&metadata_id("relationship", &m.schema_name).to_string()));
    o
}

fn not_found(what: &str) -> DataverseError {
    DataverseError::new(404, codes::OBJECT_DOES_NOT_EXIST, format!("Could not find {what}."))
}

fn find_table<'s>(schema: &'s Schema, key: &MetaKey) -> Result<&'s Table, DataverseError> {
    match key {
        MetaKey::Name(n) => schema.table(n),
        MetaKey::Id(id) => schema.tables().iter().find(|t| entity_id(t) == *id),
    }
    .ok_or_else(|| match key {
        MetaKey::Name(n) => not_found(&format!("an entity with the logical name '{n}'")),
        MetaKey::Id(id) => not_found(&format!("an entity with the MetadataId '{id}'")),
    })
}

/// Whether a column's metadata type is the cast's.
fn cast_matches(c: &Column, cast: Option<&str>) -> bool {
    cast.is_none_or(|cast| attribute_type(c).0 == cast)
}

/// Answers a metadata read.
pub(crate) fn answer(schema: &Schema, base: &Base, read: &MetadataRead) -> Result<Response, DataverseError> {
    let (items, fragment): (Vec<Object>, String) = match &read.path {
        MetaPath::Entities => (schema.tables().iter().map(|t| entity(schema, t)).collect(), "EntityDefinitions".into()),
        MetaPath::Entity(key) => {
            let t = find_table(schema, key)?;
            (vec![entity(schema, t)], "EntityDefinitions".into())
        }
        MetaPath::Attributes { entity: key, cast } => {
            let t = find_table(schema, key)?;
            let items =
                t.columns.iter().filter(|c| cast_matches(c, cast.as_deref())).map(|c| attribute(t, c)).collect();
            let mut fragment = format!("EntityDefinitions('{}')/Attributes", t.logical_name);
            if let Some(c) = cast {
                fragment.push_str(&format!("/Microsoft.Dynamics.CRM.{c}"));
            }
            (items, fragment)
        }
        MetaPath::Attribute { entity: key, key: attr, cast } => {
            let t = find_table(schema, key)?;
            let c = match attr {
                MetaKey::Name(n) => t.column(n),
                MetaKey::Id(id) => t.columns.iter().find(|c| attribute_id(t, c) == *id),
            }
            .filter(|c| cast_matches(c, cast.as_deref()))
            .ok_or_else(|| not_found(&format!("the attribute on entity '{}'", t.logical_name)))?;
            (vec![attribute(t, c)], format!("EntityDefinitions('{}')/Attributes", t.logical_name))
        }
        MetaPath::EntityRelationships { entity: key, which } => {
            let t = find_table(schema, key)?;
            let mut all = entity(schema, t);
            let items = match all.remove(which) {
                Some(Value::Array(items)) => items.into_iter().filter_map(|v| v.as_object().cloned()).collect(),
                _ => Vec::new(),
            };
            (items, format!("EntityDefinitions('{}')/{which}", t.logical_name))
        }
        MetaPath::Relationships { cast } | MetaPath::Relationship { cast, .. } => {
            let mut items: Vec<Object> = Vec::new();
            if cast.as_deref() != Some("ManyToManyRelationshipMetadata") {
                items.extend(schema.relationships().iter().map(|r| one_to_many_json(schema, r)));
            }
            if cast.as_deref() != Some("OneToManyRelationshipMetadata") {
                items.extend(schema.many_to_many().iter().map(many_to_many_json));
            }
            if let MetaPath::Relationship { key, .. } = &read.path {
                let wanted = |o: &Object| match key {
                    MetaKey::Name(n) => o.get("SchemaName").and_then(Value::as_str) == Some(n.as_str()),
                    MetaKey::Id(id) => o.get("MetadataId").and_then(Value::as_str) == Some(id.to_string().as_str()),
                };
                items.retain(|o| wanted(o));
                if items.is_empty() {
                    return Err(not_found("the relationship"));
                }
            }
            let mut fragment = "RelationshipDefinitions".to_owned();
            if let Some(c) = cast {
                fragment.push_str(&format!("/Microsoft.Dynamics.CRM.{c}"));
            }
            (items, fragment)
        }
        MetaPath::OptionSets => (Vec::new(), "GlobalOptionSetDefinitions".into()),
        MetaPath::OptionSet(_) => return Err(not_found("the global option set")),
    };
    let mut items: Vec<Object> =
        items.into_iter().filter(|o| read.filter.as_ref().is_none_or(|f| f.matches(o))).collect();
    for item in &mut items {
        project(item, &read.select, &read.expand, NAVIGATIONS);
    }
    let columns = if read.select.is_empty() { String::new() } else { format!("({})", read.select.join(",")) };
    let mut o = Object::new();
    if read.single() {
        let mut item = items.pop().ok_or_else(|| not_found("the metadata item"))?;
        let mut out = Object::new();
        out.insert("@odata.context", s(&base.context(&format!("{fragment}{columns}/$entity"))));
        item.retain(|k, _| k != "@odata.context");
        for (k, v) in item.iter() {
            out.insert(k.to_owned(), v.clone());
        }
        return Ok(json(StatusCode::OK, out));
    }
    o.insert("@odata.context", s(&base.context(&format!("{fragment}{columns}"))));
    o.insert("value", Value::Array(items.into_iter().map(Value::Object).collect()));
    Ok(json(StatusCode::OK, o))
}
