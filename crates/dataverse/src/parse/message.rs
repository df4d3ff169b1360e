//! The functions and actions of the catalog Stanchion executes (spec §6.3, §6.5), typed:
//! `RetrieveTotalRecordCount(EntityNames=[…])` (inline or through a parameter alias),
//! `WinOpportunity` / `LoseOpportunity` (`{"Status": n, "OpportunityClose": {…}}`) and
//! `CloseIncident` (`{"Status": n, "IncidentResolution": {…}}`), and the collection-bound
//! `CreateMultiple`, `UpdateMultiple` and `UpsertMultiple` (`{"Targets": [{"@odata.type": …}, …]}`,
//! every target a row of the URL's table, read by the one body parser). The activity inside is read as
//! a create of its table with the one body parser, and must name its opportunity or case by id
//! with `…@odata.bind`. Any other member is refused by name.

use super::ParseError;
use super::body::{Write, members};
use crate::error::codes;
use crate::json::{self, Value};
use crate::metadata::{Schema, Table};
use crate::record::{Bind, Reference};
use crate::request::{Message, RowKey};
use uuid::Uuid;

fn payload(message: impl Into<String>) -> ParseError {
    ParseError::Payload { code: codes::PAYLOAD_ERROR, message: message.into() }
}

/// A function parameter's value: the text itself, or the value of the alias it names (`@p1`).
fn resolve_alias<'a>(value: &'a str, aliases: &[(&'a str, &'a str)]) -> Result<&'a str, ParseError> {
    match value.strip_prefix('@') {
        Some(alias) => aliases
            .iter()
            .find(|(name, _)| name.strip_prefix('@') == Some(alias))
            .map(|(_, v)| *v)
            .ok_or_else(|| ParseError::Syntax(format!("The parameter alias @{alias} has no value"))),
        None => Ok(value),
    }
}

/// The value of a function's one parameter `name` from the text in its parentheses
/// (`EntityNames=['account']` or `EntityNames=@p1` with the alias's value).
fn only_parameter<'a>(
    function: &str,
    name: &str,
    inner: &'a str,
    aliases: &[(&'a str, &'a str)],
) -> Result<&'a str, ParseError> {
    let value = inner
        .trim()
        .strip_prefix(name)
        .and_then(|v| v.strip_prefix('='))
        .ok_or_else(|| ParseError::Syntax(format!("{function} takes one parameter, {name}")))?;
    resolve_alias(value, aliases)
}

/// `RetrieveTotalRecordCount(EntityNames=…)`: `inner` is the text in the parentheses.
pub(crate) fn total_record_count(
    schema: &Schema,
    inner: &str,
    aliases: &[(&str, &str)],
) -> Result<Message, ParseError> {
    let list = only_parameter("RetrieveTotalRecordCount", "EntityNames", inner, aliases)?;
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

/// Most targets one Multiple message may carry (Dataverse suggests up to 1,000 for standard
/// tables; the limit is the message size, spec §6.7).
pub(crate) const MAX_TARGETS: usize = 1000;

/// The body of `CreateMultiple`, `UpdateMultiple` or `UpsertMultiple` on `table`.
pub(crate) fn multiple(schema: &Schema, table: &Table, body: &[u8], which: &str) -> Result<Message, ParseError> {
    let value = json::parse(body).map_err(|e| payload(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(mut members_in) = value else {
        return Err(payload(format!("The body of {which} must be a JSON object")));
    };
    let targets = match members_in.remove("Targets") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(payload(format!("The parameter Targets of {which} must be an array"))),
        None => return Err(payload(format!("{which} needs the parameter Targets"))),
    };
    if let Some((other, _)) = members_in.iter().next() {
        return Err(payload(format!("{which} has no parameter named '{other}'")));
    }
    if targets.is_empty() {
        return Err(payload(format!("{which} needs at least one target")));
    }
    if targets.len() > MAX_TARGETS {
        return Err(payload(format!("{which} takes at most {MAX_TARGETS} targets")));
    }
    let odata_type = format!("Microsoft.Dynamics.CRM.{}", table.logical_name);
    let mut records = Vec::with_capacity(targets.len());
    for (i, item) in targets.into_iter().enumerate() {
        let Value::Object(mut o) = item else {
            return Err(payload(format!("Target {} of {which} must be an object", i + 1)));
        };
        match o.get("@odata.type").and_then(Value::as_str).map(|t| t.trim_start_matches('#')) {
            Some(t) if t == odata_type => {}
            _ => {
                return Err(payload(format!(
                    "Target {} of {which} must carry \"@odata.type\": \"{odata_type}\"",
                    i + 1
                )));
            }
        }
        let id_text = o.get(&table.primary_id).and_then(Value::as_str).map(str::to_owned);
        let odata_id = match o.remove("@odata.id") {
            Some(Value::String(s)) if which == "UpsertMultiple" => Some(s),
            Some(_) => return Err(payload(format!("Target {} of {which} cannot carry @odata.id", i + 1))),
            None => None,
        };
        let key = match (which, odata_id, id_text) {
            ("CreateMultiple", _, _) => None,
            (_, Some(reference), _) => match super::bind::reference(table, reference.trim_start_matches('/'))? {
                Reference::Row { key, origin: None } => Some(key),
                _ => {
                    return Err(payload(format!(
                        "Target {} of {which}: @odata.id must name a row of {}",
                        i + 1,
                        table.set_name
                    )));
                }
            },
            (_, None, Some(id)) => {
                o.remove(&table.primary_id);
                Some(RowKey::Id(Uuid::parse_str(&id).map_err(|_| {
                    payload(format!("Target {} of {which}: {} must be a GUID", i + 1, table.primary_id))
                })?))
            }
            (_, None, None) => {
                return Err(payload(format!("Target {} of {which} must name its row by {}", i + 1, table.primary_id)));
            }
        };
        let write = if which == "CreateMultiple" { Write::Create } else { Write::Update };
        let record = members(schema, table, o, write)?;
        if !record.related.is_empty() {
            return Err(payload(format!("Target {} of {which} cannot create related rows", i + 1)));
        }
        records.push((key, record));
    }
    let table_name = table.logical_name.clone();
    Ok(match which {
        "CreateMultiple" => {
            Message::CreateMultiple { table: table_name, records: records.into_iter().map(|(_, r)| r).collect() }
        }
        "UpdateMultiple" => Message::UpdateMultiple {
            table: table_name,
            targets: records
                .into_iter()
                .map(|(k, r)| match k {
                    Some(RowKey::Id(id)) => Ok((id, r)),
                    _ => Err(payload("UpdateMultiple names its rows by primary key")),
                })
                .collect::<Result<_, _>>()?,
        },
        _ => Message::UpsertMultiple {
            table: table_name,
            targets: records.into_iter().filter_map(|(k, r)| k.map(|k| (k, r))).collect(),
        },
    })
}

/// The `BulkDelete` body (spec §6.5; Microsoft's Python SDK sends it for a list of ids):
/// `JobName`, `SendEmailNotification`, `ToRecipients`/`CCRecipients` (must be empty: Stanchion
/// sends no mail), `RecurrencePattern`, `StartDateTime`, and a `QuerySet` of one
/// `QueryExpression` — its `EntityName`, an ignored `ColumnSet`, and `Criteria` with
/// `FilterOperator` `And` or `Or` over `Conditions` (`AttributeName`, `Operator`, `Values` of
/// `{Value, Type}`). The conditions are lowered to the query IR through their OData twin.
pub(crate) fn bulk_delete(schema: &Schema, body: &[u8]) -> Result<Message, ParseError> {
    const NAME: &str = "BulkDelete";
    let value = json::parse(body).map_err(|e| payload(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(members_in) = value else {
        return Err(payload("The body of BulkDelete must be a JSON object"));
    };
    let (mut name, mut start, mut notify, mut recurrence, mut query) = (None, None, false, String::new(), None);
    for (key, v) in members_in {
        match key.as_str() {
            "JobName" => name = Some(v.as_str().ok_or_else(|| payload("JobName must be a string"))?.to_owned()),
            "StartDateTime" => start = v.as_str().map(str::to_owned),
            "SendEmailNotification" => {
                notify = v.as_bool().ok_or_else(|| payload("SendEmailNotification must be true or false"))?
            }
            "RecurrencePattern" => recurrence = v.as_str().unwrap_or("").to_owned(),
            "ToRecipients" | "CCRecipients" => {
                if !v.as_array().is_some_and(<[Value]>::is_empty) {
                    return Err(ParseError::Unsupported(format!(
                        "{key} (mail when the job ends) is not supported yet"
                    )));
                }
            }
            "QuerySet" => {
                let items = v.as_array().ok_or_else(|| payload("QuerySet must be an array of QueryExpression"))?;
                match items {
                    [one] => query = Some(one.clone()),
                    [] => return Err(payload("QuerySet needs one QueryExpression")),
                    _ => {
                        return Err(ParseError::Unsupported(
                            "a BulkDelete of several queries is not supported yet".into(),
                        ));
                    }
                }
            }
            other => return Err(payload(format!("{NAME} has no parameter named '{other}'"))),
        }
    }
    if !recurrence.is_empty() {
        return Err(ParseError::Unsupported("a recurring BulkDelete is not supported yet".into()));
    }
    let name = name.ok_or_else(|| payload("BulkDelete needs the parameter JobName"))?;
    let Some(Value::Object(query)) = query else { return Err(payload("BulkDelete needs the parameter QuerySet")) };
    let entity = query
        .get("EntityName")
        .and_then(Value::as_str)
        .ok_or_else(|| payload("The QueryExpression needs its EntityName"))?;
    let table =
        schema.table(entity).ok_or_else(|| ParseError::NotFound(format!("The entity '{entity}' does not exist")))?;
    for key in query.keys() {
        if !matches!(key, "@odata.type" | "EntityName" | "ColumnSet" | "Criteria") {
            return Err(ParseError::Unsupported(format!("the QueryExpression member {key} is not supported yet")));
        }
    }
    let criteria = query
        .get("Criteria")
        .and_then(Value::as_object)
        .ok_or_else(|| payload("The QueryExpression needs its Criteria"))?;
    let or = match criteria.get("FilterOperator").and_then(Value::as_str) {
        None | Some("And") => false,
        Some("Or") => true,
        Some(other) => return Err(payload(format!("FilterOperator must be And or Or, not {other}"))),
    };
    if criteria.get("Filters").and_then(Value::as_array).is_some_and(|f| !f.is_empty()) {
        return Err(ParseError::Unsupported("nested Filters in a BulkDelete query are not supported yet".into()));
    }
    let conditions_in = criteria.get("Conditions").and_then(Value::as_array).map(<[Value]>::to_vec).unwrap_or_default();
    if conditions_in.is_empty() {
        // Deleting every row of a table needs an explicit condition.
        return Err(payload("A BulkDelete query needs at least one condition"));
    }
    let mut conditions = Vec::new();
    for c in &conditions_in {
        conditions.push(bulk_condition(table, c)?);
    }
    let text: Vec<String> = conditions.iter().map(condition_odata).collect::<Result<_, _>>()?;
    let joined = text.iter().map(|t| format!("({t})")).collect::<Vec<_>>().join(if or { " or " } else { " and " });
    let filter = super::filter_text(&joined, schema, table).map_err(ParseError::Syntax)?;
    let job = crate::request::BulkDeleteJob { name, start, notify, recurrence, or, conditions };
    Ok(Message::BulkDelete { table: table.logical_name.clone(), job, filter })
}

fn bulk_condition(table: &Table, c: &Value) -> Result<crate::request::BulkCondition, ParseError> {
    use crate::query::Literal;
    let c = c.as_object().ok_or_else(|| payload("A condition must be a ConditionExpression object"))?;
    let attribute =
        c.get("AttributeName").and_then(Value::as_str).ok_or_else(|| payload("A condition needs its AttributeName"))?;
    let column = table.column(attribute).ok_or_else(|| {
        ParseError::Syntax(format!(
            "Could not find a property named '{attribute}' on type 'Microsoft.Dynamics.CRM.{}'",
            table.logical_name
        ))
    })?;
    let operator =
        c.get("Operator").and_then(Value::as_str).ok_or_else(|| payload("A condition needs its Operator"))?;
    let mut values = Vec::new();
    for v in c.get("Values").and_then(Value::as_array).map(<[Value]>::to_vec).unwrap_or_default() {
        let (raw, ty) = match &v {
            Value::Object(o) => (
                o.get("Value").cloned().unwrap_or(Value::Null),
                o.get("Type").and_then(Value::as_str).unwrap_or("").to_owned(),
            ),
            other => (other.clone(), String::new()),
        };
        let text = match &raw {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.as_str().to_owned(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(payload(format!(
                    "A value of the condition on {attribute} must be a string, number or boolean"
                )));
            }
        };
        let bad = || payload(format!("'{text}' is not a {ty} value for {attribute}"));
        let literal = match ty.as_str() {
            "System.Guid" => Literal::Guid(Uuid::parse_str(&text).map_err(|_| bad())?),
            "System.String" | ""
                if matches!(raw, Value::String(_))
                    && !column.is_lookup()
                    && column.logical_name != table.primary_id =>
            {
                Literal::String(text)
            }
            "" if column.is_lookup() || column.logical_name == table.primary_id => {
                Literal::Guid(Uuid::parse_str(&text).map_err(|_| bad())?)
            }
            "System.Int32" | "System.Int64" | "" if matches!(raw, Value::Number(_)) || ty.starts_with("System.Int") => {
                Literal::Integer(text.parse().map_err(|_| bad())?)
            }
            "System.Decimal" | "System.Double" => Literal::Decimal(text),
            "System.Boolean" => Literal::Boolean(text.parse().map_err(|_| bad())?),
            "System.DateTime" => Literal::DateTime(text),
            _ => return Err(ParseError::Unsupported(format!("a condition value of type {ty} is not supported yet"))),
        };
        values.push(literal);
    }
    Ok(crate::request::BulkCondition { attribute: column.logical_name.clone(), operator: operator.to_owned(), values })
}

/// The OData `$filter` twin of one condition.
fn condition_odata(c: &crate::request::BulkCondition) -> Result<String, ParseError> {
    let lit = |l: &crate::query::Literal| crate::print::literal_odata(l);
    let one = |op: &str| match c.values.as_slice() {
        [v] => Ok(format!("{} {op} {}", c.attribute, lit(v))),
        _ => Err(payload(format!("The {} condition on {} takes one value", c.operator, c.attribute))),
    };
    match c.operator.as_str() {
        "Equal" => one("eq"),
        "NotEqual" => one("ne"),
        "GreaterThan" => one("gt"),
        "GreaterEqual" => one("ge"),
        "LessThan" => one("lt"),
        "LessEqual" => one("le"),
        "Null" if c.values.is_empty() => Ok(format!("{} eq null", c.attribute)),
        "NotNull" if c.values.is_empty() => Ok(format!("{} ne null", c.attribute)),
        "In" | "NotIn" if !c.values.is_empty() => {
            let any =
                c.values.iter().map(|v| format!("{} eq {}", c.attribute, lit(v))).collect::<Vec<_>>().join(" or ");
            Ok(if c.operator == "In" { any } else { format!("not ({any})") })
        }
        other => {
            Err(ParseError::Unsupported(format!("the condition operator {other} in a BulkDelete is not supported yet")))
        }
    }
}

/// The body of `QualifyLead` bound to lead `lead` (spec §6.5): `CreateAccount`,
/// `CreateContact`, `CreateOpportunity` and `Status` are required;
/// `OpportunityCurrencyId@odata.bind` (a currency) and `OpportunityCustomerId@odata.bind` (an
/// account or contact) are optional; `SuppressDuplicateDetection` is accepted (Stanchion has no
/// duplicate detection). A campaign (`SourceCampaignId`) is not supported yet.
pub(crate) fn qualify_lead(schema: &Schema, lead: Uuid, body: &[u8]) -> Result<Message, ParseError> {
    const NAME: &str = "QualifyLead";
    let value = json::parse(body).map_err(|e| payload(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(members_in) = value else {
        return Err(payload("The body of QualifyLead must be a JSON object"));
    };
    let (mut account, mut contact, mut opportunity, mut status) = (None, None, None, None);
    let (mut currency, mut customer) = (None, None);
    let flag = |v: &Value, name: &str| v.as_bool().ok_or_else(|| payload(format!("{name} must be true or false")));
    let row_of = |text: &str, tables: &[&str], name: &str| -> Result<(String, Uuid), ParseError> {
        for t in tables {
            let table = schema.table(t).ok_or_else(|| ParseError::Unsupported(format!("this org has no {t} table")))?;
            let set_prefix = format!("{}(", table.set_name);
            if text.trim_start_matches('/').rsplit('/').next().is_some_and(|last| last.starts_with(&set_prefix)) {
                return match super::bind::reference(table, text)? {
                    Reference::Row { key: RowKey::Id(id), origin: None } => Ok((table.logical_name.clone(), id)),
                    Reference::Row { origin: Some(_), .. } => {
                        Err(payload(format!("{name} must be a relative URL such as /{}(<id>)", table.set_name)))
                    }
                    _ => Err(payload(format!("{name} must name its row by id"))),
                };
            }
        }
        Err(payload(format!("{name} must name a row of {}", tables.join(" or "))))
    };
    for (key, v) in members_in {
        match key.as_str() {
            "CreateAccount" => account = Some(flag(&v, "CreateAccount")?),
            "CreateContact" => contact = Some(flag(&v, "CreateContact")?),
            "CreateOpportunity" => opportunity = Some(flag(&v, "CreateOpportunity")?),
            "SuppressDuplicateDetection" => {
                flag(&v, "SuppressDuplicateDetection")?;
            }
            "Status" => {
                status = Some(
                    v.as_number()
                        .and_then(|n| n.as_i64())
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| payload("The parameter Status of QualifyLead must be a whole number"))?,
                );
            }
            "OpportunityCurrencyId@odata.bind" => {
                let text = v.as_str().ok_or_else(|| payload("OpportunityCurrencyId@odata.bind must be a URL"))?;
                currency = Some(row_of(text, &["transactioncurrency"], "OpportunityCurrencyId")?.1);
            }
            "OpportunityCustomerId@odata.bind" => {
                let text = v.as_str().ok_or_else(|| payload("OpportunityCustomerId@odata.bind must be a URL"))?;
                customer = Some(row_of(text, &["account", "contact"], "OpportunityCustomerId")?);
            }
            "SourceCampaignId@odata.bind" => {
                return Err(ParseError::Unsupported("QualifyLead with a source campaign is not supported yet".into()));
            }
            other => return Err(payload(format!("{NAME} has no parameter named '{other}'"))),
        }
    }
    let need = |v: Option<bool>, name: &str| v.ok_or_else(|| payload(format!("{NAME} needs the parameter {name}")));
    Ok(Message::QualifyLead {
        lead,
        account: need(account, "CreateAccount")?,
        contact: need(contact, "CreateContact")?,
        opportunity: need(opportunity, "CreateOpportunity")?,
        currency,
        customer,
        status: status.ok_or_else(|| payload(format!("{NAME} needs the parameter Status")))?,
    })
}

/// The tables Merge works on (spec §6.5).
const MERGEABLE: &[&str] = &["account", "contact", "lead", "incident"];

/// The `Merge` body: `Target` and `Subordinate` (each `{"@odata.type":
/// "Microsoft.Dynamics.CRM.<table>", "<primary id>": "<guid>"}`, the same table), `UpdateContent`
/// (that table's columns to write to the target; optional) and `PerformParentingChecks`.
pub(crate) fn merge(schema: &Schema, body: &[u8]) -> Result<Message, ParseError> {
    let value = json::parse(body).map_err(|e| payload(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(members_in) = value else { return Err(payload("The body of Merge must be a JSON object")) };
    let (mut target, mut subordinate, mut content, mut checks) = (None, None, None, false);
    for (key, v) in members_in {
        match key.as_str() {
            "Target" => target = Some(v),
            "Subordinate" => subordinate = Some(v),
            "UpdateContent" => content = Some(v),
            "PerformParentingChecks" => {
                checks = v.as_bool().ok_or_else(|| payload("PerformParentingChecks must be true or false"))?
            }
            other => return Err(payload(format!("Merge has no parameter named '{other}'"))),
        }
    }
    let row = |v: Option<Value>, name: &str| -> Result<(&Table, Uuid), ParseError> {
        let v = v.ok_or_else(|| payload(format!("Merge needs the parameter {name}")))?;
        let (table, id) = entity_reference(schema, &v, name)?;
        if !MERGEABLE.contains(&table.logical_name.as_str()) {
            return Err(payload(format!(
                "Merge works on accounts, contacts, leads and cases, not {}",
                table.logical_name
            )));
        }
        Ok((table, id))
    };
    let (table, target) = row(target, "Target")?;
    let (other, subordinate) = row(subordinate, "Subordinate")?;
    if other.logical_name != table.logical_name {
        return Err(payload("Target and Subordinate must be rows of the same table"));
    }
    if target == subordinate {
        return Err(payload("Target and Subordinate must be different rows"));
    }
    let content = match content {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(o)) => {
            let record = members(schema, table, o, Write::Update)?;
            if !record.related.is_empty() {
                return Err(payload("UpdateContent cannot create related rows"));
            }
            record
        }
        Some(_) => return Err(payload("UpdateContent must be an object")),
    };
    Ok(Message::Merge { table: table.logical_name.clone(), target, subordinate, content, parenting_checks: checks })
}

/// An entity-reference parameter: `{"@odata.type": "Microsoft.Dynamics.CRM.<table>",
/// "<primary id>": "<guid>"}` — its table and id.
fn entity_reference<'s>(schema: &'s Schema, v: &Value, name: &str) -> Result<(&'s Table, Uuid), ParseError> {
    let o = v.as_object().ok_or_else(|| payload(format!("{name} must be an object naming a row")))?;
    let ty = o
        .get("@odata.type")
        .and_then(Value::as_str)
        .and_then(|t| t.trim_start_matches('#').strip_prefix("Microsoft.Dynamics.CRM."))
        .ok_or_else(|| payload(format!("{name} must carry its \"@odata.type\"")))?;
    let table = schema.table(ty).ok_or_else(|| ParseError::NotFound(format!("The entity '{ty}' does not exist")))?;
    // A user or team may be named by `ownerid` too (the principal's base type).
    let id = o
        .get(&table.primary_id)
        .or_else(|| o.get("ownerid"))
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| payload(format!("{name} must name its row by {}", table.primary_id)))?;
    if o.len() > 2 {
        return Err(payload(format!("{name} names a row: only @odata.type and {}", table.primary_id)));
    }
    Ok((table, id))
}

/// `GrantAccess`, `ModifyAccess` (`Target`, `PrincipalAccess: {Principal, AccessMask}`) or
/// `RevokeAccess` (`Target`, `Revokee`).
pub(crate) fn share(schema: &Schema, body: &[u8], kind: crate::request::ShareKind) -> Result<Message, ParseError> {
    use crate::request::{ACCESS_RIGHTS, ShareKind};
    let name = match kind {
        ShareKind::Grant => "GrantAccess",
        ShareKind::Modify => "ModifyAccess",
        ShareKind::Revoke => "RevokeAccess",
    };
    let value = json::parse(body).map_err(|e| payload(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(members_in) = value else {
        return Err(payload(format!("The body of {name} must be a JSON object")));
    };
    let (mut target, mut principal_access, mut revokee) = (None, None, None);
    for (key, v) in members_in {
        match (key.as_str(), kind) {
            ("Target", _) => target = Some(v),
            ("PrincipalAccess", ShareKind::Grant | ShareKind::Modify) => principal_access = Some(v),
            ("Revokee", ShareKind::Revoke) => revokee = Some(v),
            (other, _) => return Err(payload(format!("{name} has no parameter named '{other}'"))),
        }
    }
    let (table, target) = entity_reference(
        schema,
        &target.ok_or_else(|| payload(format!("{name} needs the parameter Target")))?,
        "Target",
    )?;
    let principal_value = match kind {
        ShareKind::Revoke => revokee.ok_or_else(|| payload("RevokeAccess needs the parameter Revokee"))?,
        _ => {
            let pa = principal_access
                .as_ref()
                .ok_or_else(|| payload(format!("{name} needs the parameter PrincipalAccess")))?;
            pa.as_object()
                .and_then(|o| o.get("Principal"))
                .cloned()
                .ok_or_else(|| payload("PrincipalAccess needs its Principal"))?
        }
    };
    let (principal_table, principal) = entity_reference(schema, &principal_value, "the principal")?;
    if !matches!(principal_table.logical_name.as_str(), "systemuser" | "team") {
        return Err(payload("A row is shared with a user (systemuser) or a team"));
    }
    let mut rights = Vec::new();
    if kind != ShareKind::Revoke {
        let mask = principal_access
            .as_ref()
            .and_then(Value::as_object)
            .and_then(|o| o.get("AccessMask"))
            .and_then(Value::as_str)
            .ok_or_else(|| payload("PrincipalAccess needs its AccessMask (\"ReadAccess, WriteAccess\")"))?;
        for right in mask.split(',').map(str::trim).filter(|r| !r.is_empty() && *r != "None") {
            let known = ACCESS_RIGHTS
                .iter()
                .find(|r| **r == right)
                .ok_or_else(|| payload(format!("'{right}' is not an access right ({})", ACCESS_RIGHTS.join(", "))))?;
            if !rights.contains(&(*known).to_owned()) {
                rights.push((*known).to_owned());
            }
        }
        rights.sort_by_key(|r| ACCESS_RIGHTS.iter().position(|k| k == r));
    }
    Ok(Message::Share {
        kind,
        table: table.logical_name.clone(),
        target,
        principal: (principal_table.logical_name.clone(), principal),
        rights,
    })
}

/// `RetrievePrincipalAccess(Target=…)` bound to user `user`: `inner` is the text in the
/// parentheses, the target `{'@odata.id':'accounts(<guid>)'}` inline or through an alias.
pub(crate) fn principal_access(
    schema: &Schema,
    user: Uuid,
    inner: &str,
    aliases: &[(&str, &str)],
) -> Result<Message, ParseError> {
    let text = only_parameter("RetrievePrincipalAccess", "Target", inner, aliases)?;
    let normalized = text.replace('\'', "\"");
    let parsed = json::parse(normalized.as_bytes())
        .map_err(|_| ParseError::Syntax("Target must be {'@odata.id':'<entity set>(<id>)'}".into()))?;
    let reference = parsed
        .as_object()
        .and_then(|o| o.get("@odata.id"))
        .and_then(Value::as_str)
        .ok_or_else(|| ParseError::Syntax("Target must be {'@odata.id':'<entity set>(<id>)'}".into()))?;
    let set = reference.trim_start_matches('/').split('(').next().unwrap_or("");
    let set = set.rsplit('/').next().unwrap_or(set);
    let table = schema
        .table_by_set(set)
        .ok_or_else(|| ParseError::NotFound(format!("Resource not found for the segment '{set}'.")))?;
    match super::bind::reference(table, reference)? {
        Reference::Row { key: RowKey::Id(target), origin: None } => {
            Ok(Message::RetrievePrincipalAccess { user, table: table.logical_name.clone(), target })
        }
        _ => Err(ParseError::Syntax("Target must name its row by id, relative to the service".into())),
    }
}
