//! `$batch` through the gateway (design §6.2).
//!
//! - Every part is parsed ([`dataverse::batch::parse_batch`]) and classified before anything is
//!   forwarded. A malformed batch — more than 1,000 parts, a nested batch or change set, a GET
//!   in a change set, a duplicate Content-ID, a `$n` to an unknown or later part, an inner URL
//!   on another host, prefix or API version — is refused up front with 400.
//! - If any part is denied or not understood, the whole batch gets one 403 whose message names
//!   the first failing part (`part 2 (Content-ID 2): …`); nothing is forwarded; one record lists
//!   every failing part.
//! - An allowed batch then passes the per-agent limits (`limits.rs`): one unit per part,
//!   change-set parts counted individually, against the rate; one request in flight.
//! - Otherwise the gateway forwards its own re-printed batch ([`AuthorizedBatch`]), reads the
//!   answer, filters every part as it would filter that request alone (hidden columns, lookup
//!   names, listings), rewrites its links, and re-frames it with `batchresponse_` /
//!   `changesetresponse_` boundaries. A part whose body the filter cannot read is replaced by a
//!   502 error part (fail closed).
//! - Audit: the batch's attempt and outcome (its sentence counts the parts), and one outcome per
//!   part answered (part number, Content-ID in the reason-free record's `batch_id`/`part`,
//!   status, record ids).

use crate::audit_record::{self, Draft};
use crate::authenticate::Agent;
use crate::authorize::{AuthorizedBatch, authorize_batch};
use crate::links::LinkRewriter;
use crate::pipeline::{
    Filter, Incoming, PASSED_HEADERS, api_message, audit_unavailable, entity_id, foreign_origin, refuse, same_origin,
    text_answer,
};
use crate::refusal::Refusal;
use crate::server::Gateway;
use audit::{AuditRecord, Decision, Kind};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dataverse::RawRequest;
use dataverse::batch::{
    BatchLimits, PartResponse, ResponseItem, TypedItem, TypedPart, parse_batch, read_batch_response,
    write_batch_response,
};
use dataverse::print::{Redact, print_target};

/// Runs a `POST …/$batch` through the phases (see the module doc).
pub(crate) async fn run(
    gw: &Gateway,
    schema: &dataverse::Schema,
    inc: &Incoming,
    mut rec: Draft,
    agent: Agent,
    raw: &RawRequest<'_>,
) -> Response {
    rec.set_batch();
    let mut batch = match parse_batch(schema, raw, &gw.config.limits) {
        Ok(b) => b,
        Err(e) => {
            let d = e.to_dataverse();
            let refusal = Refusal::new("syntax", d.message.clone());
            return refuse(gw, inc, rec.unclassified(), refusal).await;
        }
    };
    let public_base = gw.public_base(&inc.headers);
    for part in batch.parts() {
        let foreign = part
            .origin
            .as_deref()
            .filter(|o| !same_origin(o, &public_base))
            .map(str::to_owned)
            .or_else(|| foreign_origin(&part.request, &public_base));
        if let Some(origin) = foreign {
            let msg = format!("part {}: it points at {origin}, which is not this service", part.number);
            return refuse(gw, inc, rec.unclassified(), Refusal::new("syntax", msg)).await;
        }
    }
    let parts = batch.parts().count();
    // Each part's annotations as asked; upstream also gets what the filter phase needs.
    let mut asked: Vec<Vec<String>> = Vec::with_capacity(parts);
    for part in batch.parts_mut() {
        if let Err(e) = crate::declarations::fill(&gw.store, &mut part.request).await {
            tracing::error!(error = %e, "declaration look-up failed");
            let refusal = Refusal::new("audit_unavailable", "the Stanchion store is unavailable".into());
            return refuse(gw, inc, rec.decision(), refusal).await;
        }
        let list = part.request.headers.prefer.include_annotations.clone().unwrap_or_default();
        if !list.is_empty() {
            part.request.headers.prefer.include_annotations = Some(crate::annotations::upstream_list(&list));
        }
        asked.push(list);
    }
    let policy = match gw.store.policy(&agent.id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "policy look-up failed");
            let refusal = Refusal::new("audit_unavailable", "the Stanchion store is unavailable".into());
            return refuse(gw, inc, rec.decision(), refusal).await;
        }
    };
    let authorized = match authorize_batch(schema, agent.clone(), &policy, batch) {
        Ok(a) => a,
        Err(refused) => {
            rec.reasons = refused
                .iter()
                .flat_map(|p| {
                    p.reasons
                        .iter()
                        .map(move |r| format!("part {} {}", label(p.number, p.content_id.as_deref()), r.message))
                })
                .collect();
            let first = &refused[0];
            let reason = first.reasons.first().map_or(String::new(), |r| r.message.clone());
            let message = format!("{}: {reason}", label(first.number, first.content_id.as_deref()));
            let mut record = rec.decision();
            record.rows = Some(parts as u64);
            let refusal = Refusal::new("batch_part_denied", api_message(&agent, &message));
            return refuse(gw, inc, record, refusal).await;
        }
    };
    // Per-agent limits (design §6.2): one unit per part against the rate, one in flight.
    let _admission = match gw.limiter.admit(&agent.id, u32::try_from(parts).unwrap_or(u32::MAX), policy.limits) {
        Ok(a) => a,
        Err(over) => {
            let mut record = rec.decision();
            record.rows = Some(parts as u64);
            return refuse(gw, inc, record, over.refusal(&agent)).await;
        }
    };
    // The upstream budget counts a batch once, as Dataverse does (design §6.2).
    let _upstream = match gw.budget.admit(crate::limits::UPSTREAM, 1, policy::Limits::default()) {
        Ok(a) => a,
        Err(over) => {
            let mut record = rec.decision();
            record.rows = Some(parts as u64);
            return refuse(gw, inc, record, over.budget_refusal(&agent)).await;
        }
    };
    let mut attempt = rec.attempt();
    attempt.rows = Some(parts as u64);
    fill_tables(schema, &authorized, &mut attempt);
    let attempt = match gw.append(attempt).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "audit attempt not committed; nothing forwarded");
            return audit_unavailable(inc);
        }
    };
    let result = gw.upstream.send_batch(schema, &authorized, &inc.request_id).await;
    let rewriter = LinkRewriter::new(gw.upstream.org_url(), &public_base, authorized.batch().version.as_str());
    let view = View { schema, policy: &policy, asked: &asked };
    let mut outcome = audit_record::outcome(&attempt, inc, Decision::Allowed);
    outcome.rows = Some(parts as u64);
    let (response, part_records) = match result {
        Ok(up) => {
            outcome.upstream_status = Some(up.status);
            answer(&authorized, &view, &rewriter, &attempt, inc, up)
        }
        Err(e) => {
            outcome.decision = Some(Decision::Error);
            outcome.reason_code = Some("upstream_unavailable".into());
            outcome.reason = Some(e.to_string());
            let refusal = Refusal::new("upstream_unavailable", format!("Dynamics 365 could not be reached: {e}"));
            (refusal.into_response(&inc.request_id), Vec::new())
        }
    };
    for record in part_records.into_iter().chain([outcome]) {
        if let Err(e) = gw.append(record).await {
            tracing::error!(error = %e, "audit outcome not committed; response withheld");
            return audit_unavailable(inc);
        }
    }
    response
}

fn label(number: usize, content_id: Option<&str>) -> String {
    match content_id {
        Some(id) => format!("part {number} (Content-ID {id})"),
        None => format!("part {number}"),
    }
}

/// The batch record lists every table the parts touch.
fn fill_tables(schema: &dataverse::Schema, authorized: &AuthorizedBatch, record: &mut AuditRecord) {
    for t in authorized.touches() {
        for a in &t.tables {
            let set = schema.table(&a.table).map_or_else(|| a.table.clone(), |tb| tb.set_name.clone());
            let access = audit::TableAccess::new(a.table.clone(), set, a.privilege);
            if !record.tables.contains(&access) {
                record.tables.push(access);
            }
        }
        for id in t.record_ids.iter().filter(|id| !id.is_nil()) {
            let id = id.to_string();
            if !record.record_ids.contains(&id) {
                record.record_ids.push(id);
            }
        }
    }
}

/// What each part's answer is filtered with: the agent's policy and the annotations that part
/// asked for (by part number, from 1).
struct View<'a> {
    schema: &'a dataverse::Schema,
    policy: &'a policy::AgentPolicy,
    asked: &'a [Vec<String>],
}

impl View<'_> {
    fn filter(&self, number: usize) -> Filter<'_> {
        let asked = self.asked.get(number.saturating_sub(1)).map_or(&[][..], Vec::as_slice);
        Filter { schema: self.schema, policy: self.policy, asked, metadata: None }
    }
}

/// The agent's answer from the upstream's, and one outcome record per part answered.
fn answer(
    authorized: &AuthorizedBatch,
    filter: &View<'_>,
    rw: &LinkRewriter,
    attempt: &AuditRecord,
    inc: &Incoming,
    up: crate::upstream::UpstreamResponse,
) -> (Response, Vec<AuditRecord>) {
    let content_type = up.header("content-type").unwrap_or("").to_owned();
    let items = match read_batch_response(&content_type, &up.body, &BatchLimits::default()) {
        Ok(items) => items,
        // A batch-level error (a malformed batch upstream) is passed on when it is Dataverse's
        // error object and nothing else: any other JSON would skip the filter phase.
        Err(_) if up.status >= 400 && is_error_body(&up.body) => {
            let status = StatusCode::from_u16(up.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut resp = (status, axum::body::Body::from(up.body.to_vec())).into_response();
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json; odata.metadata=minimal"));
            return (resp, Vec::new());
        }
        Err(e) => {
            let refusal = Refusal::new(
                "upstream_unavailable",
                format!("Dynamics 365 answered with a batch Stanchion could not read: {e}"),
            );
            return (refusal.into_response(&inc.request_id), Vec::new());
        }
    };
    let batch = authorized.batch();
    let mut records = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let asked = batch.items.get(i);
        out.push(match (item, asked) {
            (ResponseItem::Response(r), Some(TypedItem::Request(part))) => {
                ResponseItem::Response(one(authorized.touches(), filter, rw, attempt, inc, part, r, &mut records))
            }
            (ResponseItem::ChangeSet(rs), Some(TypedItem::ChangeSet(parts))) => {
                let all = rs.len() == parts.len();
                let answered = rs
                    .into_iter()
                    .enumerate()
                    .map(|(j, r)| {
                        let part = r
                            .content_id
                            .as_deref()
                            .and_then(|c| parts.iter().find(|p| p.content_id.as_deref() == Some(c)))
                            .or_else(|| if all { parts.get(j) } else { None });
                        match part {
                            Some(p) => one(authorized.touches(), filter, rw, attempt, inc, p, r, &mut records),
                            None => unmatched(r),
                        }
                    })
                    .collect();
                ResponseItem::ChangeSet(answered)
            }
            // A flat answer to a change set (its failure) or anything unexpected: only an error
            // without a body Stanchion would have to filter passes.
            (ResponseItem::Response(r), _) => ResponseItem::Response(unmatched(r)),
            (ResponseItem::ChangeSet(rs), _) => ResponseItem::ChangeSet(rs.into_iter().map(unmatched).collect()),
        });
    }
    let framed = match write_batch_response(&out, &uuid::Uuid::new_v4().to_string()) {
        Ok(f) => f,
        Err(e) => {
            let refusal = Refusal::new("upstream_unavailable", format!("The batch answer could not be re-framed: {e}"));
            return (refusal.into_response(&inc.request_id), records);
        }
    };
    let status = StatusCode::from_u16(up.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (status, axum::body::Body::from(framed.body)).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&framed.content_type) {
        h.insert("content-type", v);
    }
    h.insert("odata-version", HeaderValue::from_static("4.0"));
    if let Ok(v) = HeaderValue::from_str(&inc.request_id) {
        h.insert("x-stanchion-request-id", v);
    }
    (resp, records)
}

/// A part answer that matches no request: kept only as an error whose body is Dataverse's
/// error JSON (which carries no row data), else replaced by a 502 error part.
fn unmatched(r: PartResponse) -> PartResponse {
    if r.status >= 400 && (r.body.is_empty() || is_error_body(&r.body)) {
        return PartResponse { headers: keep_headers(&r, None), ..r };
    }
    error_part(r.content_id, "Dynamics 365 answered a batch part Stanchion cannot match to a request")
}

/// Whether a body is exactly Dataverse's error object `{"error": {…}}` (it carries no row data).
fn is_error_body(body: &[u8]) -> bool {
    dataverse::json::parse(body).ok().is_some_and(|v| {
        v.as_object().is_some_and(|o| o.len() == 1 && o.get("error").is_some_and(|e| e.as_object().is_some()))
    })
}

fn error_part(content_id: Option<String>, message: &str) -> PartResponse {
    let e = dataverse::DataverseError::new(502, dataverse::error::codes::UNEXPECTED, message.to_owned());
    PartResponse {
        content_id,
        status: 502,
        headers: vec![
            ("Content-Type".into(), "application/json; odata.metadata=minimal".into()),
            ("OData-Version".into(), "4.0".into()),
        ],
        body: e.body().into_bytes(),
    }
}

/// The headers passed back for a part: the same as for a single request, links rewritten.
fn keep_headers(r: &PartResponse, rw: Option<&LinkRewriter>) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter_map(|(n, v)| {
            let lower = n.to_ascii_lowercase();
            if PASSED_HEADERS.contains(&lower.as_str()) {
                Some((n.clone(), v.clone()))
            } else if lower == "odata-entityid" || lower == "location" {
                Some((n.clone(), rw.map_or_else(|| v.clone(), |rw| rw.rewrite_header(v))))
            } else {
                None
            }
        })
        .collect()
}

/// Filters one part's answer as the request alone would be, and records its outcome.
#[allow(clippy::too_many_arguments)]
fn one(
    touches: &[dataverse::Touches],
    view: &View<'_>,
    rw: &LinkRewriter,
    attempt: &AuditRecord,
    inc: &Incoming,
    part: &TypedPart,
    r: PartResponse,
    records: &mut Vec<AuditRecord>,
) -> PartResponse {
    let mut record = audit_record::outcome(attempt, inc, Decision::Allowed);
    record.batch_id = Some(inc.request_id.clone());
    record.part = u32::try_from(part.number).ok();
    // The part's own tables, columns and rows, not the batch's (a `$n` key is a placeholder).
    let mut draft = Draft::new(inc, false);
    if let Some(t) = touches.get(part.number.saturating_sub(1)) {
        draft.set_touches(view.schema, t);
    }
    let own = draft.decision();
    record.tables = own.tables;
    record.columns = own.columns;
    record.record_ids = own.record_ids.into_iter().filter(|id| *id != uuid::Uuid::nil().to_string()).collect();
    record.kind = Kind::parse(part.request.kind().name());
    record.path = print_target(view.schema, &part.request, Redact::Literals)
        .map(|t| format!("/api/data/{}/{t}", part.request.version.as_str()));
    record.upstream_status = Some(r.status);
    let mut headers = keep_headers(&r, Some(rw));
    for (n, v) in &r.headers {
        if (n.eq_ignore_ascii_case("odata-entityid") || n.eq_ignore_ascii_case("location"))
            && let Some(id) = entity_id(v)
            && !record.record_ids.contains(&id)
        {
            record.record_ids.push(id);
        }
    }
    let is_json =
        r.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.starts_with("application/json"));
    let mut body = r.body.clone();
    if !r.body.is_empty() {
        if is_json {
            match dataverse::json::parse(&r.body) {
                Ok(mut value) => {
                    if let Err(refusal) = view.filter(part.number).apply(&part.request, &mut value) {
                        record.decision = Some(Decision::Denied);
                        record.reason_code = Some(refusal.code.to_owned());
                        records.push(record);
                        let e = dataverse::DataverseError::new(refusal.status, refusal.hex, refusal.message);
                        return PartResponse {
                            content_id: r.content_id,
                            status: refusal.status,
                            headers: vec![
                                ("Content-Type".into(), "application/json; odata.metadata=minimal".into()),
                                ("OData-Version".into(), "4.0".into()),
                            ],
                            body: e.body().into_bytes(),
                        };
                    }
                    rw.rewrite_json(&mut value);
                    record.rows = audit_record::rows(&part.request, &value, r.status);
                    body = value.to_json().into_bytes();
                }
                Err(_) => {
                    record.decision = Some(Decision::Error);
                    records.push(record);
                    return error_part(
                        r.content_id,
                        "Dynamics 365 answered a batch part with JSON Stanchion could not read",
                    );
                }
            }
        } else if !text_answer(&part.request) {
            record.decision = Some(Decision::Error);
            records.push(record);
            return error_part(r.content_id, "Dynamics 365 answered a batch part with a body that is not JSON");
        }
    }
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
    records.push(record);
    PartResponse { content_id: r.content_id, status: r.status, headers, body }
}
