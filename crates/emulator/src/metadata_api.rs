//! The two metadata reads SDKs make before touching a table (spec §8.2–§8.3), served from the
//! emulator's schema: one table's `EntityMetadata`, and its choice columns with their options
//! (`PicklistAttributeMetadata` with `OptionSet`). Metadata ids are stable: derived from names.

use crate::response::{Base, json};
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Number, Object, Value};
use dataverse::metadata::{ColumnType, Ownership, Schema, Table};
use dataverse::request::MetadataRead;
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

/// A `Label` (spec §8.2 "Label shape"), English (1033) only.
fn label(text: &str, id_seed: &str) -> Value {
    let mut l = Object::new();
    l.insert("Label", s(text));
    l.insert("LanguageCode", Value::Number(Number::from_i64(1033)));
    l.insert("IsManaged", Value::Bool(true));
    l.insert("MetadataId", s(&metadata_id("label", id_seed).to_string()));
    l.insert("HasChanged", Value::Null);
    let mut o = Object::new();
    o.insert("LocalizedLabels", Value::Array(vec![Value::Object(l.clone())]));
    o.insert("UserLocalizedLabel", Value::Object(l));
    Value::Object(o)
}

/// Every `EntityMetadata` property the emulator answers, in Dataverse's usual order.
fn entity(t: &Table) -> Object {
    let mut o = Object::new();
    o.insert("LogicalName", s(&t.logical_name));
    o.insert("SchemaName", s(&t.schema_name));
    o.insert("EntitySetName", s(&t.set_name));
    o.insert("LogicalCollectionName", s(&t.set_name));
    o.insert("CollectionSchemaName", s(&t.display_collection_name.replace(' ', "")));
    o.insert("PrimaryIdAttribute", s(&t.primary_id));
    o.insert("PrimaryNameAttribute", s(&t.primary_name));
    o.insert("ObjectTypeCode", Value::Number(Number::from_i64(i64::from(t.object_type_code))));
    let ownership = match t.ownership {
        Ownership::UserOwned => "UserOwned",
        Ownership::OrganizationOwned => "OrganizationOwned",
        Ownership::BusinessOwned => "BusinessOwned",
    };
    o.insert("OwnershipType", s(ownership));
    o.insert("DisplayName", label(&t.display_name, &format!("{}:display", t.logical_name)));
    o.insert("DisplayCollectionName", label(&t.display_collection_name, &format!("{}:collection", t.logical_name)));
    o.insert("IsCustomEntity", Value::Bool(false));
    o.insert("IsActivity", Value::Bool(false));
    o.insert("IsPrivate", Value::Bool(false));
    o.insert("IsIntersect", Value::Bool(false));
    o.insert("IsManaged", Value::Bool(true));
    o.insert("MetadataId", s(&metadata_id("entity", &t.logical_name).to_string()));
    o
}

/// Answers a metadata read.
pub(crate) fn answer(schema: &Schema, base: &Base, read: &MetadataRead) -> Result<Response, DataverseError> {
    match read {
        // Spec §8.2: a filtered collection read; `MetadataId` always comes back; an unknown
        // name matches nothing.
        MetadataRead::Entities { logical_name, select } => {
            let rows: Vec<Value> = schema
                .table(logical_name)
                .map(|t| {
                    let all = entity(t);
                    if select.is_empty() {
                        return Value::Object(all);
                    }
                    let mut o = Object::new();
                    for p in select.iter().map(String::as_str).chain(std::iter::once("MetadataId")) {
                        if let Some(v) = all.get(p) {
                            o.insert(p, v.clone());
                        }
                    }
                    Value::Object(o)
                })
                .into_iter()
                .collect();
            let fragment = if select.is_empty() {
                "EntityDefinitions".to_owned()
            } else {
                format!("EntityDefinitions({})", select.join(","))
            };
            let mut o = Object::new();
            o.insert("@odata.context", s(&base.context(&fragment)));
            o.insert("value", Value::Array(rows));
            Ok(json(StatusCode::OK, o))
        }
        // Spec §8.3: the cast to PicklistAttributeMetadata lists choice columns only (state and
        // status have their own metadata types); options carry Value and Label.
        MetadataRead::PicklistAttributes { logical_name } => {
            let t = schema.table(logical_name).ok_or_else(|| {
                DataverseError::new(
                    404,
                    codes::OBJECT_DOES_NOT_EXIST,
                    format!("Could not find an entity with the logical name '{logical_name}'."),
                )
            })?;
            let mut attributes = Vec::new();
            for c in &t.columns {
                let ColumnType::Picklist { options } = &c.kind else { continue };
                let seed = format!("{logical_name}.{}", c.logical_name);
                let opts: Vec<Value> = options
                    .iter()
                    .map(|(v, text)| {
                        let mut o = Object::new();
                        o.insert("Value", Value::Number(Number::from_i64(i64::from(*v))));
                        o.insert("Label", label(text, &format!("{seed}:{v}")));
                        Value::Object(o)
                    })
                    .collect();
                let mut set = Object::new();
                set.insert("MetadataId", s(&metadata_id("optionset", &seed).to_string()));
                set.insert("Options", Value::Array(opts));
                let mut a = Object::new();
                a.insert("@odata.type", s("#Microsoft.Dynamics.CRM.PicklistAttributeMetadata"));
                a.insert("LogicalName", s(&c.logical_name));
                a.insert("MetadataId", s(&metadata_id("attribute", &seed).to_string()));
                a.insert("OptionSet", Value::Object(set));
                attributes.push(Value::Object(a));
            }
            let mut o = Object::new();
            let fragment = format!(
                "EntityDefinitions('{logical_name}')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,OptionSet(Options))"
            );
            o.insert("@odata.context", s(&base.context(&fragment)));
            o.insert("value", Value::Array(attributes));
            Ok(json(StatusCode::OK, o))
        }
    }
}
