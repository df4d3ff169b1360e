//! The canonical printer: a typed [`Request`] back to method, path, query, headers and body.
//!
//! The gateway forwards only what this prints (design §6.1): query options in a fixed order,
//! percent-encoded per RFC 3986 (space `%20`, plus `%2B`), known headers only, bodies
//! re-serialized from the JSON tree. With [`Redact::Literals`] every string, number and date
//! literal prints as `?` (GUIDs stay: they are record ids), for audit records and logs.

mod message;
mod metadata;

use crate::json::Value;
use crate::metadata::{Schema, Table};
use crate::query::{Aggregation, Expand, Filter, FunctionArgs, Literal, Operand, OrderBy, Query};
use crate::record::{Bind, Record, Reference, Related};
use crate::request::{EtagCondition, Operation, PathTarget, Prefer, Request, RowKey};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use std::fmt::Write as _;

/// Whether literals are printed or replaced by `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redact {
    /// Print everything (the request forwarded upstream).
    Nothing,
    /// Replace string, number and date literals with `?` (audit and logs).
    Literals,
}

/// Characters percent-encoded in a query option value: everything outside RFC 3986's
/// unreserved set and the sub-delimiters that are safe inside a value.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Characters percent-encoded in a key value inside a path segment.
const PATH_VALUE: &AsciiSet = &QUERY_VALUE.add(b'/').add(b'?').add(b'(').add(b')');

/// A request as it is sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// Path and query relative to the API base (`accounts(…)?$select=name`).
    pub target: String,
    /// Headers, in canonical order.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body, if any.
    pub body: Option<String>,
}

/// Prints a request for forwarding, with row references in bodies root-relative
/// (`/contacts(id)`). `None` for [`Operation::Unsupported`], which is never sent.
pub fn print_request(schema: &Schema, request: &Request) -> Option<Printed> {
    print_request_for(schema, request, None)
}

/// Prints a request for forwarding to the service at `service_root`
/// (`https://org.crm.dynamics.com/api/data/v9.2`): row references in bodies (`@odata.bind`,
/// `@odata.id`) are absolute URLs of that service (design §6.1); without a root they are
/// root-relative.
pub fn print_request_for(schema: &Schema, request: &Request, service_root: Option<&str>) -> Option<Printed> {
    let target = print_target(schema, request, Redact::Nothing)?;
    let body = match &request.operation {
        Operation::Create { record, .. } | Operation::Update { record, .. } => {
            Some(record_body(schema, record, service_root))
        }
        Operation::Relate { related, target: Some(r), associate: true, .. } => {
            let mut o = crate::json::Object::default();
            o.insert("@odata.id".to_owned(), Value::String(reference_text(schema, related, r, service_root)));
            Some(Value::Object(o).to_json())
        }
        Operation::SetProperty { value: Some(v), .. } => {
            let mut o = crate::json::Object::default();
            o.insert("value".to_owned(), v.clone());
            Some(Value::Object(o).to_json())
        }
        Operation::Message(m) => message::message_body(schema, m, service_root),
        _ => None,
    };
    let headers = print_headers(request, body.is_some());
    Some(Printed { target, headers, body })
}

/// A create or update body: the column values in the order received, then the binds in the
/// order received, each reference root-relative (`/contacts(id)`) or `$n`.
pub fn record_body(schema: &Schema, record: &Record, service_root: Option<&str>) -> String {
    record_value(schema, record, service_root).to_json()
}

/// The JSON object of a record: values, binds, then related rows (deep insert) as nested
/// objects and arrays.
fn record_value(schema: &Schema, record: &Record, service_root: Option<&str>) -> Value {
    let mut object = record.values.clone();
    for bind in &record.binds {
        let (navigation, value) = match bind {
            Bind::Single { navigation, table, target, .. } => {
                let text = |r| Value::String(reference_text(schema, table, r, service_root));
                (navigation, target.as_ref().map_or(Value::Null, text))
            }
            Bind::Collection { navigation, table, targets, .. } => (
                navigation,
                Value::Array(
                    targets.iter().map(|r| Value::String(reference_text(schema, table, r, service_root))).collect(),
                ),
            ),
        };
        object.insert(format!("{navigation}@odata.bind"), value);
    }
    for related in &record.related {
        let (navigation, value) = match related {
            Related::Single { navigation, record, .. } => (navigation, record_value(schema, record, service_root)),
            Related::Collection { navigation, records, .. } => {
                (navigation, Value::Array(records.iter().map(|r| record_value(schema, r, service_root)).collect()))
            }
        };
        object.insert(navigation.clone(), value);
    }
    Value::Object(object)
}

/// `{root}/{set}({key})` (`/{set}({key})` without a root) or `$n`; key values printed as
/// literals (no percent-encoding in JSON).
fn reference_text(schema: &Schema, table: &str, reference: &Reference, service_root: Option<&str>) -> String {
    match reference {
        Reference::ContentId(id) => format!("${id}"),
        Reference::Row { key, .. } => {
            let Some(t) = schema.table(table) else { return String::new() };
            let mut out = format!("{}/{}", service_root.unwrap_or(""), t.set_name);
            write_key(&mut out, t, key, Redact::Nothing, false);
            out
        }
    }
}

/// Prints the path and query relative to the API base.
pub fn print_target(schema: &Schema, request: &Request, redact: Redact) -> Option<String> {
    let table = request.table().and_then(|t| schema.table(t));
    let mut out = String::new();
    let mut query: Vec<(&str, String)> = Vec::new();
    let mut raw_tail: Option<(&str, String)> = None;
    match (&request.operation, table) {
        (Operation::ServiceDocument, _) => {}
        (Operation::MetadataDocument, _) => out.push_str("$metadata"),
        (Operation::WhoAmI, _) => out.push_str("WhoAmI"),
        (Operation::Message(crate::request::Message::RetrieveTotalRecordCount { tables }), _) => {
            let names: Vec<String> = tables.iter().map(|t| format!("'{t}'")).collect();
            out.push_str(&format!("RetrieveTotalRecordCount(EntityNames=[{}])", names.join(",")));
        }
        (
            Operation::Message(
                m @ (crate::request::Message::CreateMultiple { .. }
                | crate::request::Message::UpdateMultiple { .. }
                | crate::request::Message::UpsertMultiple { .. }),
            ),
            Some(t),
        ) => {
            out.push_str(&format!("{}/Microsoft.Dynamics.CRM.{}", t.set_name, m.name()));
        }
        (Operation::Message(crate::request::Message::QualifyLead { lead, .. }), Some(t)) => {
            out.push_str(&format!("{}({lead})/Microsoft.Dynamics.CRM.QualifyLead", t.set_name));
        }
        (Operation::Message(crate::request::Message::Custom { name, bound, .. }), _) => match bound {
            Some((table, key)) => {
                let t = schema.table(table)?;
                out.push_str(&t.set_name);
                print_key(&mut out, t, key, redact);
                out.push_str(&format!("/Microsoft.Dynamics.CRM.{name}"));
            }
            None => out.push_str(name),
        },
        (Operation::Message(crate::request::Message::RetrieveUserPrivileges { user }), _) => {
            out.push_str(&format!("systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges"));
        }
        (Operation::Message(crate::request::Message::RetrievePrincipalAccess { user, table, target }), _) => {
            let set = schema.table(table).map_or(table.as_str(), |t| t.set_name.as_str());
            out.push_str(&format!("systemusers({user})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@tid)"));
            query.push(("@tid", format!("{{'@odata.id':'{set}({target})'}}")));
        }
        (Operation::Message(m), _) => out.push_str(m.name()),
        (Operation::Metadata(read), _) => {
            out.push_str(&metadata::metadata_path(&read.path));
            if !read.select.is_empty() {
                query.push(("$select", read.select.join(",")));
            }
            if let Some(f) = &read.filter {
                query.push(("$filter", f.print()));
            }
            if !read.expand.is_empty() {
                query.push(("$expand", metadata::metadata_expand(&read.expand)));
            }
        }
        (Operation::Changes { select, token, .. }, Some(t)) => {
            out.push_str(&t.set_name);
            if !select.is_empty() {
                query.push(("$select", select.iter().map(|c| odata_name(t, c)).collect::<Vec<_>>().join(",")));
            }
            raw_tail = token
                .as_ref()
                .map(|v| ("$deltatoken", if redact == Redact::Literals { "?".to_owned() } else { v.clone() }));
        }
        (Operation::Query(q), Some(t)) => {
            out.push_str(&t.set_name);
            query = query_options(schema, t, q, redact);
            raw_tail = skiptoken(q, redact).map(|v| ("$skiptoken", v));
        }
        (Operation::Fetch(f), Some(t)) => {
            out.push_str(&t.set_name);
            query.push(("fetchXml", crate::fetch::print(f, redact == Redact::Literals)));
        }
        (Operation::Aggregate(a), Some(t)) => {
            out.push_str(&t.set_name);
            query = aggregation_options(schema, t, a, redact);
        }
        (Operation::Count(q), Some(t)) => {
            let _ = write!(out, "{}/$count", t.set_name);
            query = query_options(schema, t, q, redact);
        }
        (Operation::Retrieve { key, select, expand, .. }, Some(t)) => {
            print_row(&mut out, t, key, redact);
            push_select(&mut query, t, select);
            if !expand.is_empty() {
                query.push(("$expand", expand_text(schema, expand, redact)));
            }
        }
        (Operation::RetrieveProperty { key, target, .. }, Some(t)) => {
            print_row(&mut out, t, key, redact);
            match target {
                PathTarget::Column { column, raw } => {
                    let _ = write!(out, "/{}", odata_name(t, column));
                    if *raw {
                        out.push_str("/$value");
                    }
                }
                PathTarget::Single { navigation, table, refs_only, select, expand } => {
                    let _ = write!(out, "/{navigation}");
                    if *refs_only {
                        out.push_str("/$ref");
                    } else if let Some(related) = schema.table(table) {
                        push_select(&mut query, related, select);
                        if !expand.is_empty() {
                            query.push(("$expand", expand_text(schema, expand, redact)));
                        }
                    }
                }
                PathTarget::Member { navigation, table, key, select, expand } => {
                    let _ = write!(out, "/{navigation}");
                    if let Some(related) = schema.table(table) {
                        print_key(&mut out, related, key, redact);
                        push_select(&mut query, related, select);
                        if !expand.is_empty() {
                            query.push(("$expand", expand_text(schema, expand, redact)));
                        }
                    }
                }
                PathTarget::Collection { navigation, query: q, refs_only, count_only } => {
                    let _ = write!(out, "/{navigation}");
                    if *refs_only {
                        out.push_str("/$ref");
                    } else if let Some(related) = schema.table(&q.table) {
                        if *count_only {
                            out.push_str("/$count");
                        }
                        query = query_options(schema, related, q, redact);
                        raw_tail = skiptoken(q, redact).map(|v| ("$skiptoken", v));
                    }
                }
            }
        }
        (Operation::Update { key, select, expand, .. }, Some(t)) => {
            print_row(&mut out, t, key, redact);
            push_select(&mut query, t, select);
            if !expand.is_empty() {
                query.push(("$expand", expand_text(schema, expand, redact)));
            }
        }
        (Operation::Relate { key, navigation, related, target, single, associate, .. }, Some(t)) => {
            print_row(&mut out, t, key, redact);
            let _ = write!(out, "/{navigation}");
            match (target, *single, *associate, schema.table(related)) {
                // Disassociating one row of a collection: its id in the path, an alternate key
                // as `$id` (spec §5 shows both forms).
                (Some(Reference::Row { key: RowKey::Id(id), .. }), false, false, Some(_)) => {
                    let _ = write!(out, "({id})/$ref");
                }
                (Some(r), false, false, Some(_)) => {
                    out.push_str("/$ref");
                    let text = reference_text(schema, related, r, None);
                    query.push(("$id", if redact == Redact::Literals { "?".to_owned() } else { text }));
                }
                _ => out.push_str("/$ref"),
            }
        }
        (Operation::SetProperty { key, column, .. }, Some(t)) => {
            print_row(&mut out, t, key, redact);
            let _ = write!(out, "/{}", odata_name(t, column));
        }
        (Operation::Create { select, expand, .. }, Some(t)) => {
            out.push_str(&t.set_name);
            push_select(&mut query, t, select);
            if !expand.is_empty() {
                query.push(("$expand", expand_text(schema, expand, redact)));
            }
        }
        (Operation::Delete { key, .. }, Some(t)) => print_row(&mut out, t, key, redact),
        _ => return None,
    }
    for (i, (name, value)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(name);
        out.push('=');
        out.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    if let Some((name, value)) = raw_tail {
        out.push(if query.is_empty() { '?' } else { '&' });
        out.push_str(name);
        out.push('=');
        out.push_str(&value);
    }
    Some(out)
}

/// `set(id)` or `set(col='v',…)`; key values are literals (redacted like any other).
fn print_row(out: &mut String, table: &Table, key: &RowKey, redact: Redact) {
    out.push_str(&table.set_name);
    print_key(out, table, key, redact);
}

/// A row key in parentheses: `(id)` or `(column=value,…)`, values percent-encoded for a path.
fn print_key(out: &mut String, table: &Table, key: &RowKey, redact: Redact) {
    write_key(out, table, key, redact, true);
}

/// A row key in parentheses; alternate-key values percent-encoded for a URL path, or as bare
/// literals (in JSON bodies).
fn write_key(out: &mut String, table: &Table, key: &RowKey, redact: Redact, encode: bool) {
    out.push('(');
    match key {
        RowKey::Id(id) => {
            let _ = write!(out, "{id}");
        }
        RowKey::Alternate(parts) => {
            for (i, (column, value)) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&odata_name(table, column));
                out.push('=');
                let mut v = String::new();
                print_literal(&mut v, value, redact);
                if encode {
                    out.extend(utf8_percent_encode(&v, PATH_VALUE));
                } else {
                    out.push_str(&v);
                }
            }
        }
    }
    out.push(')');
}

fn push_select(query: &mut Vec<(&str, String)>, table: &Table, select: &[String]) {
    if !select.is_empty() {
        let names: Vec<String> = select.iter().map(|c| odata_name(table, c)).collect();
        query.push(("$select", names.join(",")));
    }
}

fn query_options(schema: &Schema, table: &Table, q: &Query, redact: Redact) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    push_select(&mut out, table, &q.select);
    if let Some(f) = &q.filter {
        out.push(("$filter", filter_text(schema, table, f, redact)));
    }
    if !q.orderby.is_empty() {
        out.push(("$orderby", orderby_text(schema, table, &q.orderby)));
    }
    if let Some(top) = q.top {
        out.push(("$top", top_text(top, redact)));
    }
    if q.count {
        out.push(("$count", "true".into()));
    }
    if !q.expand.is_empty() {
        out.push(("$expand", expand_text(schema, &q.expand, redact)));
    }
    out
}

/// `$apply=filter(…)/groupby((…),aggregate(…))`, then `$orderby` and `$top`.
fn aggregation_options(schema: &Schema, table: &Table, a: &Aggregation, redact: Redact) -> Vec<(&'static str, String)> {
    let mut steps = Vec::new();
    if let Some(f) = &a.filter {
        steps.push(format!("filter({})", filter_text(schema, table, f, redact)));
    }
    let aggregates: Vec<String> = a
        .aggregates
        .iter()
        .map(|g| match (g.function.keyword(), &g.column) {
            (Some(k), Some(c)) => format!("{} with {k} as {}", odata_name(table, c), g.alias),
            _ => format!("$count as {}", g.alias),
        })
        .collect();
    let aggregate = format!("aggregate({})", aggregates.join(","));
    if a.group_by.is_empty() {
        steps.push(aggregate);
    } else {
        let keys: Vec<String> = a
            .group_by
            .iter()
            .map(|k| {
                let mut name: String = k.path.iter().map(|h| format!("{}/", h.navigation)).collect();
                let reached = k.path.last().and_then(|h| schema.table(&h.table)).unwrap_or(table);
                name.push_str(&odata_name(reached, &k.column));
                name
            })
            .collect();
        if a.aggregates.is_empty() {
            steps.push(format!("groupby(({}))", keys.join(",")));
        } else {
            steps.push(format!("groupby(({}),{aggregate})", keys.join(",")));
        }
    }
    let mut out = vec![("$apply", steps.join("/"))];
    if !a.orderby.is_empty() {
        out.push(("$orderby", orderby_text(schema, table, &a.orderby)));
    }
    if let Some(top) = a.top {
        out.push(("$top", top_text(top, redact)));
    }
    out
}

fn top_text(top: u32, redact: Redact) -> String {
    if redact == Redact::Literals { "?".into() } else { top.to_string() }
}

fn orderby_text(schema: &Schema, table: &Table, orderby: &[OrderBy]) -> String {
    let items: Vec<String> = orderby
        .iter()
        .map(|o| {
            let mut name = String::new();
            for hop in &o.path {
                name.push_str(&hop.navigation);
                name.push('/');
            }
            let reached = o.path.last().and_then(|h| schema.table(&h.table)).unwrap_or(table);
            name.push_str(&odata_name(reached, &o.column));
            if o.descending {
                name.push_str(" desc");
            }
            name
        })
        .collect();
    items.join(",")
}

/// A filter as `$filter` text (what is forwarded).
pub(crate) fn filter_odata(schema: &Schema, table: &Table, f: &Filter) -> String {
    filter_text(schema, table, f, Redact::Nothing)
}

fn filter_text(schema: &Schema, table: &Table, f: &Filter, redact: Redact) -> String {
    let mut s = String::new();
    Ctx { schema, table, var: None, redact }.filter(&mut s, f, 0);
    s
}

/// `$expand` items: `nav`, `nav/$ref`, `nav($select=…;$filter=…;$orderby=…;$top=…;$expand=…)`.
fn expand_text(schema: &Schema, items: &[Expand], redact: Redact) -> String {
    let mut parts = Vec::new();
    for e in items {
        let Some(related) = schema.table(&e.table) else { continue };
        if e.refs_only {
            parts.push(format!("{}/$ref", e.navigation));
            continue;
        }
        let mut options = Vec::new();
        if !e.select.is_empty() {
            let names: Vec<String> = e.select.iter().map(|c| odata_name(related, c)).collect();
            options.push(format!("$select={}", names.join(",")));
        }
        if let Some(f) = &e.filter {
            options.push(format!("$filter={}", filter_text(schema, related, f, redact)));
        }
        if !e.orderby.is_empty() {
            options.push(format!("$orderby={}", orderby_text(schema, related, &e.orderby)));
        }
        if let Some(top) = e.top {
            options.push(format!("$top={}", top_text(top, redact)));
        }
        if !e.expand.is_empty() {
            options.push(format!("$expand={}", expand_text(schema, &e.expand, redact)));
        }
        if options.is_empty() {
            parts.push(e.navigation.clone());
        } else {
            parts.push(format!("{}({})", e.navigation, options.join(";")));
        }
    }
    parts.join(",")
}

/// `$skiptoken` goes last and unencoded: it is forwarded as the exact bytes received.
fn skiptoken(q: &Query, redact: Redact) -> Option<String> {
    q.skiptoken.as_ref().map(|t| if redact == Redact::Literals { "?".to_owned() } else { t.clone() })
}

fn odata_name(table: &Table, logical: &str) -> String {
    table.column(logical).map_or_else(|| logical.to_owned(), |c| c.odata_name())
}

/// Printing context of a filter: the current table and, inside a lambda, its range variable.
struct Ctx<'a> {
    schema: &'a Schema,
    table: &'a Table,
    var: Option<&'a str>,
    redact: Redact,
}

impl Ctx<'_> {
    /// A column name of the current table, through the range variable inside a lambda.
    fn column(&self, out: &mut String, logical: &str) {
        if let Some(v) = self.var {
            out.push_str(v);
            out.push('/');
        }
        out.push_str(&odata_name(self.table, logical));
    }

    /// Precedence: or 1, and 2, not/atoms 3.
    fn filter(&self, out: &mut String, f: &Filter, parent: u8) {
        let (prec, needs_parens) = match f {
            Filter::Or(..) => (1, parent > 1),
            Filter::And(..) => (2, parent > 2),
            _ => (3, false),
        };
        if needs_parens {
            out.push('(');
        }
        match f {
            Filter::Or(a, b) | Filter::And(a, b) => {
                let word = if prec == 1 { " or " } else { " and " };
                self.filter(out, a, prec);
                out.push_str(word);
                // A right child of the same precedence keeps its parentheses (left associativity).
                self.filter(out, b, prec + 1);
            }
            Filter::Not(inner) => {
                out.push_str("not ");
                match **inner {
                    Filter::Text { .. } | Filter::Any { .. } | Filter::All { .. } | Filter::Function { .. } => {
                        self.filter(out, inner, 3)
                    }
                    _ => {
                        out.push('(');
                        self.filter(out, inner, 0);
                        out.push(')');
                    }
                }
            }
            Filter::Compare { left, op, right } => {
                self.operand(out, left);
                let _ = write!(out, " {} ", op.keyword());
                self.operand(out, right);
            }
            Filter::Text { function, path, column, value } => {
                let _ = write!(out, "{}(", function.name());
                if path.is_empty() {
                    self.column(out, column);
                } else {
                    self.operand(out, &Operand::Related { path: path.clone(), column: column.clone() });
                }
                out.push(',');
                print_literal(out, &Literal::String(value.clone()), self.redact);
                out.push(')');
            }
            Filter::Function { function, column, values } => {
                let _ = write!(out, "Microsoft.Dynamics.CRM.{}(PropertyName='{column}'", function.name());
                match function.args() {
                    FunctionArgs::None => {}
                    FunctionArgs::Value => {
                        out.push_str(",PropertyValue=");
                        values.iter().for_each(|v| print_literal(out, v, self.redact));
                    }
                    FunctionArgs::Values => {
                        out.push_str(",PropertyValues=[");
                        for (i, v) in values.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            print_literal(out, v, self.redact);
                        }
                        out.push(']');
                    }
                    FunctionArgs::Pair => {
                        for (i, v) in values.iter().enumerate() {
                            let _ = write!(out, ",PropertyValue{}=", i + 1);
                            print_literal(out, v, self.redact);
                        }
                    }
                }
                out.push(')');
            }
            Filter::Any { navigation, table, predicate } => {
                if let Some(v) = self.var {
                    let _ = write!(out, "{v}/");
                }
                let _ = write!(out, "{navigation}/any(");
                if let (Some((var, p)), Some(related)) = (predicate, self.schema.table(table)) {
                    let _ = write!(out, "{var}:");
                    Ctx { schema: self.schema, table: related, var: Some(var), redact: self.redact }.filter(out, p, 0);
                }
                out.push(')');
            }
            Filter::All { navigation, table, variable, predicate } => {
                if let Some(v) = self.var {
                    let _ = write!(out, "{v}/");
                }
                let _ = write!(out, "{navigation}/all({variable}:");
                if let Some(related) = self.schema.table(table) {
                    Ctx { schema: self.schema, table: related, var: Some(variable), redact: self.redact }
                        .filter(out, predicate, 0);
                }
                out.push(')');
            }
        }
        if needs_parens {
            out.push(')');
        }
    }

    fn operand(&self, out: &mut String, o: &Operand) {
        match o {
            Operand::Column(c) => self.column(out, c),
            Operand::Related { path, column } => {
                if let Some(v) = self.var {
                    out.push_str(v);
                    out.push('/');
                }
                for hop in path {
                    out.push_str(&hop.navigation);
                    out.push('/');
                }
                let last = path.last().and_then(|h| self.schema.table(&h.table));
                out.push_str(&last.map_or_else(|| column.clone(), |t| odata_name(t, column)));
            }
            Operand::Value(v) => print_literal(out, v, self.redact),
        }
    }
}

/// A literal as OData writes it (`'text'`, `12`, a bare GUID), never redacted.
pub(crate) fn literal_odata(lit: &Literal) -> String {
    let mut out = String::new();
    print_literal(&mut out, lit, Redact::Nothing);
    out
}

fn print_literal(out: &mut String, lit: &Literal, redact: Redact) {
    let hidden = redact == Redact::Literals;
    match lit {
        Literal::Null => out.push_str("null"),
        Literal::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Literal::Guid(g) => {
            let _ = write!(out, "{g}");
        }
        _ if hidden => out.push('?'),
        Literal::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Literal::Decimal(t) | Literal::DateTime(t) | Literal::Date(t) => out.push_str(t),
        Literal::String(s) => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
    }
}

/// Canonical headers for a request (design §6.1), in a fixed order.
pub fn print_headers(request: &Request, has_body: bool) -> Vec<(&'static str, String)> {
    let h = &request.headers;
    // `$metadata` is XML (spec §8.1); everything else is JSON.
    let accept =
        if matches!(request.operation, Operation::MetadataDocument) { "application/xml" } else { "application/json" };
    let mut out = vec![
        ("Accept", accept.to_owned()),
        ("OData-MaxVersion", "4.0".to_owned()),
        ("OData-Version", "4.0".to_owned()),
    ];
    if has_body {
        out.push(("Content-Type", "application/json; charset=utf-8".to_owned()));
    }
    if let Some(p) = print_prefer(&h.prefer) {
        out.push(("Prefer", p));
    }
    if let Some(c) = &h.if_match {
        out.push(("If-Match", etag(c)));
    }
    if let Some(c) = &h.if_none_match {
        out.push(("If-None-Match", etag(c)));
    }
    if let Some(s) = h.suppress_duplicate_detection {
        out.push(("MSCRM.SuppressDuplicateDetection", s.to_string()));
    }
    if h.consistency_strong {
        out.push(("Consistency", "Strong".to_owned()));
    }
    out
}

fn etag(c: &EtagCondition) -> String {
    match c {
        EtagCondition::Any => "*".to_owned(),
        EtagCondition::Tags(t) => t.join(", "),
    }
}

/// `Prefer` in canonical order and quoting; `None` when empty.
pub fn print_prefer(p: &Prefer) -> Option<String> {
    let mut parts = Vec::new();
    match p.return_representation {
        Some(true) => parts.push("return=representation".to_owned()),
        Some(false) => parts.push("return=minimal".to_owned()),
        None => {}
    }
    if let Some(a) = &p.include_annotations {
        parts.push(format!("odata.include-annotations=\"{}\"", a.join(",")));
    }
    if let Some(n) = p.max_page_size {
        parts.push(format!("odata.maxpagesize={n}"));
    }
    if p.track_changes {
        parts.push("odata.track-changes".to_owned());
    }
    if p.continue_on_error {
        parts.push("odata.continue-on-error".to_owned());
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// Redacts a request that could not be parsed or is not supported, for the audit record: key
/// text and query values become `?` unless they are a GUID; option names stay.
pub fn redact_raw(path: &str, query: Option<&str>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find(')').map_or(rest.len(), |c| open + c);
        let inner = &rest[open + 1..close];
        out.push('(');
        out.push_str(if inner.is_empty() || (inner.len() == 36 && uuid::Uuid::try_parse(inner).is_ok()) {
            inner
        } else {
            "?"
        });
        if close < rest.len() {
            out.push(')');
            rest = &rest[close + 1..];
        } else {
            rest = "";
        }
    }
    out.push_str(rest);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        let names: Vec<String> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let name = p.split_once('=').map_or(p, |(n, _)| n);
                let name: String = name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '$' | '@' | '_' | '%'))
                    .take(40)
                    .collect();
                format!("{name}=?")
            })
            .collect();
        out.push('?');
        out.push_str(&names.join("&"));
    }
    out
}
