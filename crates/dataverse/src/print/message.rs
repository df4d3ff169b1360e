//! Bodies of the catalog's functions and actions, printed from their typed form: each action's
//! parameters in a fixed order, row references against the service root.

use super::{Redact, record_value, write_key};
use crate::json::Value;
use crate::metadata::Schema;
use crate::query::Literal;
use crate::record::Record;
use crate::request::RowKey;

/// The body of an action: `Status` first, then its activity (spec §6.5).
pub(super) fn message_body(
    schema: &Schema,
    message: &crate::request::Message,
    service_root: Option<&str>,
) -> Option<String> {
    use crate::request::Message;
    let (status, param, record) = match message {
        Message::RetrieveTotalRecordCount { .. } => return None,
        Message::CreateMultiple { table, records } => {
            return Some(targets_body(schema, table, records.iter().map(|r| (None, r)), service_root));
        }
        Message::UpdateMultiple { table, targets } => {
            let keys: Vec<RowKey> = targets.iter().map(|(id, _)| RowKey::Id(*id)).collect();
            let items = keys.iter().zip(targets.iter()).map(|(k, (_, r))| (Some(k), r));
            return Some(targets_body(schema, table, items, service_root));
        }
        Message::UpsertMultiple { table, targets } => {
            return Some(targets_body(schema, table, targets.iter().map(|(k, r)| (Some(k), r)), service_root));
        }
        Message::BulkDelete { table, job, .. } => return Some(bulk_delete_body(table, job)),
        Message::Share { kind, table, target, principal, rights } => {
            let row = |table: &str, id: &uuid::Uuid| entity_reference(schema, table, id);
            let mut o = crate::json::Object::default();
            o.insert("Target".to_owned(), row(table, target)?);
            if *kind == crate::request::ShareKind::Revoke {
                o.insert("Revokee".to_owned(), row(&principal.0, &principal.1)?);
            } else {
                let mut pa = crate::json::Object::default();
                pa.insert("Principal".to_owned(), row(&principal.0, &principal.1)?);
                let mask = if rights.is_empty() { "None".to_owned() } else { rights.join(", ") };
                pa.insert("AccessMask".to_owned(), Value::String(mask));
                o.insert("PrincipalAccess".to_owned(), Value::Object(pa));
            }
            return Some(Value::Object(o).to_json());
        }
        Message::RetrieveUserPrivileges { .. } | Message::RetrievePrincipalAccess { .. } => return None,
        Message::Custom { function: true, .. } => return None,
        Message::Custom { parameters, .. } => return Some(Value::Object(parameters.clone()).to_json()),
        Message::Merge { table, target, subordinate, content, parenting_checks } => {
            let mut o = crate::json::Object::default();
            o.insert("Target".to_owned(), entity_reference(schema, table, target)?);
            o.insert("Subordinate".to_owned(), entity_reference(schema, table, subordinate)?);
            let mut update = crate::json::Object::default();
            update.insert("@odata.type".to_owned(), Value::String(format!("Microsoft.Dynamics.CRM.{table}")));
            if let Value::Object(values) = record_value(schema, content, service_root) {
                for (k, v) in values {
                    update.insert(k, v);
                }
            }
            o.insert("UpdateContent".to_owned(), Value::Object(update));
            o.insert("PerformParentingChecks".to_owned(), Value::Bool(*parenting_checks));
            return Some(Value::Object(o).to_json());
        }
        Message::QualifyLead { account, contact, opportunity, currency, customer, status, .. } => {
            let mut o = crate::json::Object::default();
            o.insert("CreateAccount".to_owned(), Value::Bool(*account));
            o.insert("CreateContact".to_owned(), Value::Bool(*contact));
            o.insert("CreateOpportunity".to_owned(), Value::Bool(*opportunity));
            let root = service_root.unwrap_or("");
            if let Some(id) = currency {
                let set = schema.table("transactioncurrency").map_or("transactioncurrencies", |t| t.set_name.as_str());
                o.insert("OpportunityCurrencyId@odata.bind".to_owned(), Value::String(format!("{root}/{set}({id})")));
            }
            if let Some((table, id)) = customer {
                let set = schema.table(table).map_or(table.as_str(), |t| t.set_name.as_str());
                o.insert("OpportunityCustomerId@odata.bind".to_owned(), Value::String(format!("{root}/{set}({id})")));
            }
            o.insert("Status".to_owned(), Value::from(*status));
            return Some(Value::Object(o).to_json());
        }
        Message::CloseOpportunity { status, close, .. } => (status, "OpportunityClose", close),
        Message::CloseIncident { status, resolution, .. } => (status, "IncidentResolution", resolution),
    };
    let mut o = crate::json::Object::default();
    o.insert("Status".to_owned(), Value::from(*status));
    o.insert(param.to_owned(), record_value(schema, record, service_root));
    Some(Value::Object(o).to_json())
}

/// A BulkDelete body from its typed job: the documented members in a fixed order, one
/// `QueryExpression` with every condition's values typed (`{"Value", "Type"}`).
fn bulk_delete_body(table: &str, job: &crate::request::BulkDeleteJob) -> String {
    use crate::json::Object;
    let typed = |odata: &str| Value::String(format!("Microsoft.Dynamics.CRM.{odata}"));
    let value = |l: &Literal| -> Value {
        let (v, ty) = match l {
            Literal::Guid(g) => (Value::String(g.to_string()), "System.Guid"),
            Literal::String(t) => (Value::String(t.clone()), "System.String"),
            Literal::Integer(i) => (Value::from(*i), "System.Int32"),
            Literal::Decimal(d) => (Value::String(d.clone()), "System.Decimal"),
            Literal::Boolean(b) => (Value::Bool(*b), "System.Boolean"),
            Literal::DateTime(t) | Literal::Date(t) => (Value::String(t.clone()), "System.DateTime"),
            Literal::Null => (Value::Null, "System.String"),
        };
        let mut o = Object::default();
        o.insert("Value".to_owned(), v);
        o.insert("Type".to_owned(), Value::String(ty.to_owned()));
        Value::Object(o)
    };
    let conditions: Vec<Value> = job
        .conditions
        .iter()
        .map(|c| {
            let mut o = Object::default();
            o.insert("@odata.type".to_owned(), typed("ConditionExpression"));
            o.insert("AttributeName".to_owned(), Value::String(c.attribute.clone()));
            o.insert("Operator".to_owned(), Value::String(c.operator.clone()));
            o.insert("Values".to_owned(), Value::Array(c.values.iter().map(value).collect()));
            Value::Object(o)
        })
        .collect();
    let mut criteria = Object::default();
    criteria.insert("@odata.type".to_owned(), typed("FilterExpression"));
    criteria.insert("FilterOperator".to_owned(), Value::String(if job.or { "Or" } else { "And" }.to_owned()));
    criteria.insert("Conditions".to_owned(), Value::Array(conditions));
    let mut columns = Object::default();
    columns.insert("@odata.type".to_owned(), typed("ColumnSet"));
    columns.insert("AllColumns".to_owned(), Value::Bool(false));
    columns.insert("Columns".to_owned(), Value::Array(Vec::new()));
    let mut query = Object::default();
    query.insert("@odata.type".to_owned(), typed("QueryExpression"));
    query.insert("EntityName".to_owned(), Value::String(table.to_owned()));
    query.insert("ColumnSet".to_owned(), Value::Object(columns));
    query.insert("Criteria".to_owned(), Value::Object(criteria));
    let mut o = Object::default();
    o.insert("JobName".to_owned(), Value::String(job.name.clone()));
    o.insert("SendEmailNotification".to_owned(), Value::Bool(job.notify));
    o.insert("ToRecipients".to_owned(), Value::Array(Vec::new()));
    o.insert("CCRecipients".to_owned(), Value::Array(Vec::new()));
    o.insert("RecurrencePattern".to_owned(), Value::String(job.recurrence.clone()));
    if let Some(start) = &job.start {
        o.insert("StartDateTime".to_owned(), Value::String(start.clone()));
    }
    o.insert("QuerySet".to_owned(), Value::Array(vec![Value::Object(query)]));
    Value::Object(o).to_json()
}

/// `{"Targets": [...]}` of a Multiple message: each target its `@odata.type`, then its row (the
/// primary key, or an alternate key as `@odata.id`), then its values and binds.
fn targets_body<'a>(
    schema: &Schema,
    table: &str,
    items: impl Iterator<Item = (Option<&'a RowKey>, &'a Record)>,
    service_root: Option<&str>,
) -> String {
    let Some(t) = schema.table(table) else { return String::new() };
    let mut targets = Vec::new();
    for (key, record) in items {
        let mut o = crate::json::Object::default();
        o.insert("@odata.type".to_owned(), Value::String(format!("Microsoft.Dynamics.CRM.{}", t.logical_name)));
        match key {
            Some(RowKey::Id(id)) => {
                o.insert(t.primary_id.clone(), Value::String(id.to_string()));
            }
            Some(k @ RowKey::Alternate(_)) => {
                let mut text = t.set_name.clone();
                write_key(&mut text, t, k, Redact::Nothing, false);
                o.insert("@odata.id".to_owned(), Value::String(text));
            }
            None => {}
        }
        if let Value::Object(values) = record_value(schema, record, service_root) {
            for (k, v) in values {
                o.insert(k, v);
            }
        }
        targets.push(Value::Object(o));
    }
    let mut body = crate::json::Object::default();
    body.insert("Targets".to_owned(), Value::Array(targets));
    Value::Object(body).to_json()
}

/// An entity-typed parameter naming one row: `{"@odata.type": "Microsoft.Dynamics.CRM.<table>",
/// "<primary id>": "<guid>"}`.
fn entity_reference(schema: &Schema, table: &str, id: &uuid::Uuid) -> Option<Value> {
    let t = schema.table(table)?;
    let mut o = crate::json::Object::default();
    o.insert("@odata.type".to_owned(), Value::String(format!("Microsoft.Dynamics.CRM.{table}")));
    o.insert(t.primary_id.clone(), Value::String(id.to_string()));
    Some(Value::Object(o))
}
