//! The data plane as named phases: authenticate → parse → classify → authorize → limits →
//! forward → filter (link rewriting) → audit. Every request ends in exactly one decision record
//! (refused) or an attempt and an outcome record (forwarded), each committed before the agent
//! hears back.

use crate::authenticate::{Agent, authenticate};
use crate::authorize::{Refused, authorize};
use crate::links::LinkRewriter;
use crate::refusal::Refusal;
use crate::upstream::{UpstreamError, UpstreamResponse};
use crate::{Gateway, audit_record};
use audit::{AuditRecord, Decision, RecordType};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dataverse::{Classification, ParseError, RawRequest, Request, classify, parse_request};
use std::time::Instant;

/// What the pipeline knows about one incoming request.
pub(crate) struct Incoming {
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
    pub client_ip: String,
    pub started: Instant,
    /// REST, or MCP with the tool that built the request.
    pub via: Via,
}

/// How a request reached the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Via {
    /// The Dataverse-compatible REST surface.
    Rest,
    /// The MCP server: a tool call (the tool's name), or the MCP request itself.
    Mcp(Option<String>),
}

impl Incoming {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Runs one request through every phase.
pub(crate) async fn run(gw: &Gateway, inc: Incoming) -> Response {
    let mut rec = audit_record::Draft::new(&inc, gw.config.record_values);
    // Phase: authenticate.
    let agent = match authenticate_or_refuse(gw, &inc, &mut rec).await {
        Ok(agent) => agent,
        Err(refused) => return refused,
    };
    rec.agent = Some((agent.id.clone(), agent.name.clone()));
    rec.key_id = Some(agent.key_id.clone());
    // Phase: refused headers, then parse.
    let header_pairs: Vec<(&str, &str)> =
        inc.headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let refused = dataverse::parse::refused_headers(header_pairs.iter().copied());
    if let Some(first) = refused.first() {
        let msg = format!("the header {first} is refused for every agent");
        return refuse(gw, &inc, rec.unclassified(), Refusal::new("refused_header", msg)).await;
    }
    let raw = RawRequest {
        method: &inc.method,
        path: &inc.path,
        query: inc.query.as_deref(),
        headers: &header_pairs,
        body: &inc.body,
    };
    // The org's schema (learned when none is yet: an agent's request, never an anonymous one).
    let mut schema = match gw.schema.for_request(&gw.upstream).await {
        crate::schema_source::Current::Known(s) => s,
        crate::schema_source::Current::Unknown(reason) => {
            return refuse(gw, &inc, rec.unclassified(), Refusal::new("upstream_unavailable", reason)).await;
        }
    };
    let mut parsed = parse_request(&schema, &raw, &gw.config.limits);
    // A table or column the schema does not know: the org may have a new one. One refresh, then
    // the request is parsed again (and refused if the name is still unknown).
    if names_unknown(&parsed)
        && let Some(newer) = gw.schema.refresh_for_unknown(&gw.upstream).await
    {
        schema = newer;
        parsed = parse_request(&schema, &raw, &gw.config.limits);
    }
    let request = match parsed {
        Ok(r) => r,
        Err(e) => return refuse(gw, &inc, rec.unclassified(), parse_refusal(&e)).await,
    };
    let schema: &dataverse::Schema = &schema;
    rec.set_request(schema, &request);
    if request.kind() == dataverse::RequestKind::Batch && request.method == dataverse::Method::Post {
        return crate::batch::run(gw, schema, &inc, rec, agent, &raw).await;
    }
    if let Some(origin) = foreign_origin(&request, &gw.public_base(&inc.headers)) {
        let msg = format!("a reference in the body points at {origin}, which is not this service");
        return refuse(gw, &inc, rec.unclassified(), Refusal::new("syntax", msg)).await;
    }
    let mut request = request;
    // The annotations the agent asked for; upstream also gets what the filter phase needs.
    let asked: Vec<String> = request.headers.prefer.include_annotations.clone().unwrap_or_default();
    if !asked.is_empty() {
        request.headers.prefer.include_annotations = Some(crate::annotations::upstream_list(&asked));
    }
    // A metadata read goes upstream without `$select` (at every depth): the filter phase decides
    // by properties the agent may not have selected, then projects what the agent asked for.
    let asked_metadata = match &mut request.operation {
        dataverse::Operation::Metadata(read) => {
            let original = read.clone();
            crate::metadata_filter::select_everything(read);
            Some(original)
        }
        _ => None,
    };
    // Phases: classify (a custom API with the admin's declaration), authorize.
    if let Err(e) = crate::declarations::fill(&gw.store, &mut request).await {
        tracing::error!(error = %e, "declaration look-up failed");
        let refusal = Refusal::new("audit_unavailable", "the Stanchion store is unavailable".into());
        return refuse(gw, &inc, rec.unclassified(), refusal).await;
    }
    let classification = classify(schema, &request);
    if let Classification::Classified(t) = &classification {
        rec.set_touches(schema, t);
    }
    let policy = match gw.store.policy(&agent.id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "policy look-up failed");
            return refuse(
                gw,
                &inc,
                rec.decision(),
                Refusal::new("audit_unavailable", "the Stanchion store is unavailable".into()),
            )
            .await;
        }
    };
    let authorized = match authorize(schema, agent.clone(), &policy, request, classification) {
        Ok(a) => a,
        Err(Refused { reasons }) => {
            let first = reasons.first().map_or(("unclassified", String::new()), |r| (r.code, r.message.clone()));
            rec.reasons = reasons.iter().map(|r| r.message.clone()).collect();
            let refusal = Refusal::new(first.0, api_message(&agent, &first.1));
            return refuse(gw, &inc, rec.decision(), refusal).await;
        }
    };
    // Phase: per-agent limits, after the policy checks (design §6.4); held until answered.
    let _admission = match gw.limiter.admit(&agent.id, 1, policy.limits) {
        Ok(a) => a,
        Err(over) => return refuse(gw, &inc, rec.decision(), over.refusal(&agent)).await,
    };
    // The gateway's own budget towards the org (design §7), after the agent's.
    let _upstream = match gw.budget.admit(crate::limits::UPSTREAM, 1, policy::Limits::default()) {
        Ok(a) => a,
        Err(over) => return refuse(gw, &inc, rec.decision(), over.budget_refusal(&agent)).await,
    };
    // Phase: audit the attempt, then forward.
    let attempt = match gw.append(rec.attempt()).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "audit attempt not committed; nothing forwarded");
            return audit_unavailable(&inc);
        }
    };
    let result = gw.upstream.send(schema, &authorized, &inc.request_id).await;
    // Retries (design §6.5) are logged by the upstream client; the record has no field for them.
    let retries = result.as_ref().map_or(0, |r| r.retries);
    let public_base = gw.public_base(&inc.headers);
    let rewriter = LinkRewriter::new(gw.upstream.org_url(), &public_base, authorized.request().version.as_str());
    let (response, outcome) = match result {
        Ok(up) => respond(
            &rewriter,
            &Filter { schema, policy: &policy, asked: &asked, metadata: asked_metadata.as_ref() },
            authorized.request(),
            up,
            &inc,
            &attempt,
        ),
        Err(e) => upstream_failed(&e, &inc, &attempt),
    };
    match gw.append(outcome).await {
        Ok(o) => {
            tracing::info!(request_id = %inc.request_id, agent = %agent.name, path = %o.path.as_deref().unwrap_or(""), status = ?o.upstream_status, retries, "forwarded");
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "audit outcome not committed; response withheld");
            audit_unavailable(&inc)
        }
    }
}

/// The origin of the first absolute `@odata.bind` reference that does not name the service the
/// agent called (design §6.1: an absolute reference must start with the client-facing base).
pub(crate) fn foreign_origin(request: &Request, public_base: &str) -> Option<String> {
    request.operation.references().into_iter().find_map(|r| match r {
        dataverse::record::Reference::Row { origin: Some(origin), .. } if !same_origin(origin, public_base) => {
            Some(origin.clone())
        }
        _ => None,
    })
}

/// Whether an absolute URL's `scheme://host[:port]` is the client-facing base's (case-insensitive).
pub(crate) fn same_origin(origin: &str, public_base: &str) -> bool {
    let host = |u: &str| {
        u.split_once("://")
            .map(|(s, r)| (s.to_ascii_lowercase(), r.split('/').next().unwrap_or(r).to_ascii_lowercase()))
    };
    host(origin).is_some() && host(origin) == host(public_base)
}

/// The agent-facing message of a policy refusal.
pub(crate) fn api_message(agent: &Agent, reason: &str) -> String {
    format!("Stanchion denied this request for {}: {reason}.", agent.name)
}

fn parse_refusal(e: &ParseError) -> Refusal {
    let d = e.to_dataverse();
    match e {
        ParseError::Syntax(_) | ParseError::Payload { .. } | ParseError::TooLarge { .. } => {
            let hex = match e {
                ParseError::Payload { code, .. } => code,
                _ => dataverse::error::codes::ODATA_PARSE,
            };
            Refusal::new("syntax", d.message).with_status(d.status, hex)
        }
        ParseError::NotFound(m) | ParseError::MethodNotAllowed(m) | ParseError::Unsupported(m) => {
            Refusal::new("unclassified", format!("Stanchion does not understand this request: {m}"))
        }
    }
}

/// Commits the one record of a refused request, then answers with the refusal.
pub(crate) async fn refuse(gw: &Gateway, inc: &Incoming, mut record: AuditRecord, refusal: Refusal) -> Response {
    record.decision = Some(if refusal.code == "audit_unavailable" { Decision::Error } else { Decision::Denied });
    record.reason_code = Some(refusal.code.to_owned());
    let reason = audit_record::reason_phrase(&refusal.message);
    record.reason = Some(reason.clone());
    if record.reasons.is_empty() {
        record.reasons.push(reason);
    }
    record.latency_ms = Some(inc.started.elapsed().as_millis() as u64);
    match gw.append(record).await {
        Ok(r) => {
            tracing::info!(request_id = %inc.request_id, reason = refusal.code, path = %r.path.as_deref().unwrap_or(""), "refused");
            refusal.into_response(&inc.request_id)
        }
        Err(e) => {
            tracing::error!(error = %e, "audit record of a refusal not committed");
            audit_unavailable(inc)
        }
    }
}

/// Whether parsing failed (or found nothing to do) because the request names a table, column
/// or navigation property the schema does not know (the parser's own judgement).
fn names_unknown(parsed: &Result<Request, dataverse::ParseError>) -> bool {
    match parsed {
        Err(e) => e.names_unknown(),
        Ok(r) => r.names_unknown(),
    }
}

pub(crate) fn audit_unavailable(inc: &Incoming) -> Response {
    Refusal::new("audit_unavailable", "audit log unavailable".into()).into_response(&inc.request_id)
}

/// Headers passed back to the agent.
pub(crate) const PASSED_HEADERS: &[&str] =
    &["content-type", "odata-version", "etag", "preference-applied", "x-ms-service-request-id", "retry-after"];

/// The filter phase's inputs: what the agent may see.
pub(crate) struct Filter<'a> {
    pub(crate) schema: &'a dataverse::Schema,
    pub(crate) policy: &'a policy::AgentPolicy,
    /// Annotations the agent asked for (`Prefer: odata.include-annotations`).
    pub(crate) asked: &'a [String],
    /// A metadata read as the agent sent it (forwarded without `$select`); `None` in a batch,
    /// where it is forwarded as sent.
    pub(crate) metadata: Option<&'a dataverse::request::MetadataRead>,
}

/// What an agent may see of the `$metadata` document (design §4).
struct Visible<'a>(&'a policy::AgentPolicy);

impl dataverse::csdl::Visibility for Visible<'_> {
    fn table(&self, table: &str) -> bool {
        self.0.level(table) >= policy::Level::Read
    }
    fn hidden(&self, table: &str, column: &str) -> bool {
        self.0.is_hidden(table, column)
    }
    /// WhoAmI (allowed for every agent) and the actions granted to the agent (an org's custom
    /// APIs among them); every other function or action is left out of the document.
    fn operation(&self, name: &str) -> bool {
        name == "WhoAmI" || self.0.actions.contains(name)
    }
}

impl Filter<'_> {
    /// The upstream's `$metadata` with only what the agent may see, written again; `None` when
    /// it is not a CSDL document Stanchion can read.
    pub(crate) fn csdl(&self, body: &[u8]) -> Option<String> {
        let text = std::str::from_utf8(body).ok()?;
        let mut doc = dataverse::xml::parse(text, dataverse::csdl::MAX_DOCUMENT).ok()?;
        dataverse::csdl::filter(&mut doc, &Visible(self.policy)).ok()?;
        Some(doc.to_document())
    }

    /// Drops what the agent may not see (design §4): the service document lists only tables it
    /// can read; rows lose hidden columns in every form (the column, `_x_value`, `x_base`, and
    /// their annotations), with or without `$select`.
    /// `Err` when the answer is one the agent may not see at all (a metadata item read by id).
    pub(crate) fn apply(&self, request: &Request, value: &mut dataverse::json::Value) -> Result<(), Refusal> {
        use dataverse::Operation;
        use dataverse::json::Value;
        match &request.operation {
            Operation::ServiceDocument => {
                let Some(Value::Array(entries)) = value.as_object_mut().and_then(|o| o.get_mut("value")) else {
                    return Ok(());
                };
                entries.retain(|e| {
                    let set = e.as_object().and_then(|o| o.get("name")).and_then(|n| n.as_str());
                    set.and_then(|s| self.schema.table_by_set(s))
                        .is_some_and(|t| self.policy.level(&t.logical_name) >= policy::Level::Read)
                });
            }
            Operation::Query(q) => {
                if let Some(Value::Array(rows)) = value.as_object_mut().and_then(|o| o.get_mut("value")) {
                    for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                        self.row(&q.table, &q.expand, row);
                    }
                }
            }
            // FetchXML rows: the root table's columns as any row's, and linked tables' as
            // `alias.column`, dropped when hidden or when the alias is not one of the query's.
            Operation::Fetch(f) => {
                let aliases = dataverse::fetch::link_aliases(f);
                // Aggregate rows hold the attributes' aliases and nothing else.
                let names: Vec<&str> = f.root.attributes.iter().filter_map(|a| a.alias.as_deref()).collect();
                if let Some(Value::Array(rows)) = value.as_object_mut().and_then(|o| o.get_mut("value")) {
                    for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                        if f.aggregate {
                            row.retain(|k, _| names.contains(&k.split_once('@').map_or(k, |(p, _)| p)));
                            continue;
                        }
                        row.retain(|k, _| {
                            let property = k.split_once('@').map_or(k, |(p, _)| p);
                            match property.split_once('.') {
                                None => true,
                                Some((alias, column)) => aliases
                                    .iter()
                                    .find(|(a, _)| a == alias)
                                    .is_some_and(|(_, table)| !self.hidden_property(table, column)),
                            }
                        });
                        self.row(&f.root.table, &[], row);
                    }
                }
            }
            // Group rows carry only the keys and aggregate values asked for (and their
            // annotations): anything else is dropped, so nothing unasked can ride along.
            Operation::Aggregate(a) => {
                let names: Vec<String> = a
                    .group_by
                    .iter()
                    .map(|k| k.output_name(self.schema, &a.table))
                    .chain(a.aggregates.iter().map(|g| g.alias.clone()))
                    .collect();
                if let Some(Value::Array(rows)) = value.as_object_mut().and_then(|o| o.get_mut("value")) {
                    for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                        row.retain(|k, _| {
                            let property = k.split_once('@').map_or(k, |(p, _)| p);
                            names.iter().any(|n| n == property)
                        });
                    }
                }
            }
            Operation::Metadata(read) => {
                crate::metadata_filter::filter(self.policy, read, value)?;
                if let Some(asked) = self.metadata {
                    crate::metadata_filter::project_as_asked(asked, value);
                }
                return Ok(());
            }
            Operation::RetrieveProperty { target, .. } => match target {
                dataverse::request::PathTarget::Single { table, expand, .. }
                | dataverse::request::PathTarget::Member { table, expand, .. } => {
                    if let Some(row) = value.as_object_mut() {
                        self.row(table, expand, row);
                    }
                }
                dataverse::request::PathTarget::Collection { query, .. } => {
                    if let Some(Value::Array(rows)) = value.as_object_mut().and_then(|o| o.get_mut("value")) {
                        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                            self.row(&query.table, &query.expand, row);
                        }
                    }
                }
                dataverse::request::PathTarget::Column { .. } => {}
            },
            Operation::Retrieve { table, expand, .. } => {
                if let Some(row) = value.as_object_mut() {
                    self.row(table, expand, row);
                }
            }
            Operation::Create { table, expand, .. } | Operation::Update { table, expand, .. } => {
                if let Some(row) = value.as_object_mut() {
                    self.row(table, expand, row);
                }
            }
            // Synced rows are rows of the table; `$deletedEntity` entries carry only an id.
            Operation::Changes { table, .. } => {
                if let Some(Value::Array(rows)) = value.as_object_mut().and_then(|o| o.get_mut("value")) {
                    for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                        self.row(table, &[], row);
                    }
                }
            }
            // Answers without column values: counts, ids, WhoAmI's ids, and no body at all.
            // Listed one by one so that a new operation cannot pass unfiltered by default.
            Operation::WhoAmI
            | Operation::Count(_)
            | Operation::MetadataDocument
            | Operation::SetProperty { .. }
            | Operation::Relate { .. }
            | Operation::Delete { .. }
            | Operation::Message(_)
            | Operation::Unsupported { .. } => {}
        }
        crate::annotations::filter(self.schema, self.policy, self.asked, value);
        Ok(())
    }

    /// Whether a property of `table`'s rows (`x`, `_x_value`, `x_base`) shows a hidden column.
    fn hidden_property(&self, table: &str, property: &str) -> bool {
        let lookup = property.strip_prefix('_').and_then(|p| p.strip_suffix("_value"));
        let base = property.strip_suffix("_base");
        [Some(property), lookup, base].into_iter().flatten().any(|c| self.policy.is_hidden(table, c))
    }

    /// Removes hidden columns of `table` from one row, and from its expanded rows at every depth.
    fn row(&self, table: &str, expand: &[dataverse::query::Expand], row: &mut dataverse::json::Object) {
        use dataverse::json::Value;
        for e in expand {
            match row.get_mut(&e.navigation) {
                Some(Value::Object(related)) => self.row(&e.table, &e.expand, related),
                Some(Value::Array(items)) => {
                    for related in items.iter_mut().filter_map(Value::as_object_mut) {
                        self.row(&e.table, &e.expand, related);
                    }
                }
                _ => {}
            }
        }
        let Some(hidden) = self.policy.hidden.get(table).filter(|h| !h.is_empty()) else { return };
        let Some(t) = self.schema.table(table) else { return };
        let mut names: Vec<String> = Vec::new();
        for column in hidden {
            if let Some(c) = t.column(column) {
                names.push(c.odata_name());
                if c.kind == dataverse::metadata::ColumnType::Money {
                    names.push(format!("{column}_base"));
                }
            }
        }
        row.retain(|k, _| {
            let property = k.split_once('@').map_or(k, |(p, _)| p);
            !names.iter().any(|n| n == property)
        });
    }
}

fn respond(
    rw: &LinkRewriter,
    filter: &Filter<'_>,
    request: &Request,
    up: UpstreamResponse,
    inc: &Incoming,
    attempt: &AuditRecord,
) -> (Response, AuditRecord) {
    let mut outcome = audit_record::outcome(attempt, inc, Decision::Allowed);
    outcome.upstream_status = Some(up.status);
    outcome.upstream_request_id = up.header("x-ms-service-request-id").map(|s| s.chars().take(100).collect());
    let is_json = up.header("content-type").is_some_and(|c| c.starts_with("application/json"));
    let mut body = up.body.clone();
    // `$metadata` is XML: parsed, filtered structurally and written again, or not passed on.
    if matches!(request.operation, dataverse::Operation::MetadataDocument) && !is_json && up.status == 200 {
        match filter.csdl(&up.body) {
            Some(filtered) => body = bytes::Bytes::from(filtered),
            None => {
                return unreadable(inc, outcome, "Dynamics 365 answered $metadata with XML Stanchion could not read");
            }
        }
    } else
    // Only a bare count or a raw property value may come back as something other than JSON;
    // any other body would skip the filter phase, so it is not passed on (fail closed).
    if !is_json && !up.body.is_empty() && !text_answer(request) {
        return unreadable(inc, outcome, "Dynamics 365 answered with a body that is not JSON");
    }
    if is_json && !up.body.is_empty() {
        match dataverse::json::parse(&up.body) {
            Ok(mut value) => {
                if let Err(refusal) = filter.apply(request, &mut value) {
                    outcome.decision = Some(Decision::Denied);
                    outcome.reason_code = Some(refusal.code.to_owned());
                    let reason = audit_record::reason_phrase(&refusal.message);
                    outcome.reason = Some(reason.clone());
                    outcome.reasons = vec![reason];
                    return (refusal.into_response(&inc.request_id), outcome);
                }
                rw.rewrite_json(&mut value);
                outcome.rows = audit_record::rows(request, &value, up.status);
                body = bytes::Bytes::from(value.to_json());
            }
            Err(_) => return unreadable(inc, outcome, "Dynamics 365 answered with JSON Stanchion could not read"),
        }
    }
    let status = StatusCode::from_u16(up.status).unwrap_or(StatusCode::BAD_GATEWAY);
    // `Body`, not `Bytes`: no default Content-Type; the upstream's (if any) is passed below.
    let mut resp = (status, axum::body::Body::from(body)).into_response();
    let h = resp.headers_mut();
    for name in PASSED_HEADERS {
        if let Some(v) = up.header(name).and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert(*name, v);
        }
    }
    for name in ["odata-entityid", "location"] {
        if let Some(v) = up.header(name) {
            if let Some(id) = entity_id(v)
                && !outcome.record_ids.contains(&id)
            {
                outcome.record_ids.push(id);
            }
            if let Ok(v) = HeaderValue::from_str(&rw.rewrite_header(v)) {
                h.insert(if name == "location" { "location" } else { "odata-entityid" }, v);
            }
        }
    }
    if let Ok(v) = HeaderValue::from_str(&inc.request_id) {
        h.insert("x-stanchion-request-id", v);
    }
    (resp, outcome)
}

/// Answers whose body is text, not JSON: `/$count`, a collection navigation's `/$count` and a
/// property's `/$value`.
pub(crate) fn text_answer(request: &Request) -> bool {
    use dataverse::request::PathTarget;
    match &request.operation {
        dataverse::Operation::Count(_) => true,
        dataverse::Operation::RetrieveProperty { target, .. } => {
            matches!(target, PathTarget::Column { raw: true, .. } | PathTarget::Collection { count_only: true, .. })
        }
        _ => false,
    }
}

/// An upstream answer the filter phase cannot read: 502, recorded as an error.
fn unreadable(inc: &Incoming, mut outcome: AuditRecord, message: &str) -> (Response, AuditRecord) {
    outcome.decision = Some(Decision::Error);
    outcome.reason_code = Some("upstream_unreadable".into());
    outcome.reason = Some(message.to_owned());
    outcome.reasons = vec![message.to_owned()];
    (Refusal::new("upstream_unavailable", message.to_owned()).into_response(&inc.request_id), outcome)
}

/// The GUID at the end of an entity URL (`…/accounts(guid)`).
pub(crate) fn entity_id(url: &str) -> Option<String> {
    let inner = url.strip_suffix(')')?.rsplit_once('(')?.1;
    uuid::Uuid::try_parse(inner).ok().map(|u| u.to_string())
}

fn upstream_failed(e: &UpstreamError, inc: &Incoming, attempt: &AuditRecord) -> (Response, AuditRecord) {
    let mut outcome = audit_record::outcome(attempt, inc, Decision::Error);
    let message = match e {
        UpstreamError::Token(t) => format!("Stanchion could not sign in to Dynamics 365: {t}"),
        other => other.to_string(),
    };
    outcome.reason_code = Some("upstream_unavailable".into());
    outcome.reason = Some(audit_record::reason_phrase(&message));
    outcome.reasons = vec![audit_record::reason_phrase(&message)];
    let resp = Refusal::new("upstream_unavailable", message).into_response(&inc.request_id);
    (resp, outcome)
}

/// Marks attempt records as such (used by `audit_record`).
pub(crate) const ATTEMPT: RecordType = RecordType::Attempt;

/// The authenticate phase: the agent behind the bearer key, or the refusal (committed to the
/// audit log, or folded into a flood count) to answer with.
pub(crate) async fn authenticate_or_refuse(
    gw: &Gateway,
    inc: &Incoming,
    rec: &mut audit_record::Draft,
) -> Result<Agent, Response> {
    match authenticate(&gw.store, inc.header("authorization")).await {
        Ok(Ok(agent)) => Ok(agent),
        Ok(Err(fail)) => {
            rec.key_id = fail.key_id.clone();
            rec.agent = fail.agent.clone();
            let refusal = Refusal::new(fail.code, fail.message.to_owned());
            // Design §5: repeats from one address within a window fold into one counted record.
            let (verdict, finished) = gw.floods.note(&inc.client_ip, fail.message);
            if let Some(f) = finished
                && gw.append(f.record()).await.is_err()
            {
                return Err(audit_unavailable(inc));
            }
            Err(match verdict {
                crate::floods::Verdict::Record => refuse(gw, inc, rec.unauthenticated(), refusal).await,
                crate::floods::Verdict::Fold { retry_after: None } => {
                    gw.metrics.folded();
                    refusal.into_response(&inc.request_id)
                }
                crate::floods::Verdict::Fold { retry_after: Some(seconds) } => {
                    gw.metrics.folded();
                    let message = format!(
                        "too many requests without a valid agent key from this address; retry after {seconds} s"
                    );
                    Refusal::new("rate_limited", message).with_retry_after(seconds).into_response(&inc.request_id)
                }
            })
        }
        Err(e) => {
            tracing::error!(error = %e, "key look-up failed");
            Err(refuse(
                gw,
                inc,
                rec.unauthenticated(),
                Refusal::new("audit_unavailable", "the Stanchion store is unavailable".into()),
            )
            .await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::text_answer;
    use dataverse::{ParseLimits, RawRequest, Schema, parse_request};

    fn request(path: &str, query: Option<&str>) -> dataverse::Request {
        let raw = RawRequest { method: "GET", path, query, headers: &[], body: b"" };
        parse_request(&Schema::standard(), &raw, &ParseLimits::default()).unwrap()
    }

    /// Only counts and raw values may bypass the JSON filter phase.
    #[test]
    fn only_counts_and_raw_values_are_text() {
        let id = "00000000-0000-0000-0000-000000000001";
        assert!(text_answer(&request("/api/data/v9.2/accounts/$count", None)));
        assert!(text_answer(&request(&format!("/api/data/v9.2/accounts({id})/name/$value"), None)));
        assert!(text_answer(&request(
            &format!("/api/data/v9.2/accounts({id})/contact_customer_accounts/$count"),
            None
        )));
        assert!(!text_answer(&request("/api/data/v9.2/accounts", Some("$select=name"))));
        assert!(!text_answer(&request(&format!("/api/data/v9.2/accounts({id})/name"), None)));
        assert!(!text_answer(&request("/api/data/v9.2/", None)));
    }
}
