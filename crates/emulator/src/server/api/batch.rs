//! `POST …/$batch` (spec §7): the parts parsed by the one batch parser
//! ([`dataverse::batch::parse_batch`]) and executed in order.
//!
//! - A request outside a change set runs as if sent alone.
//! - A change set runs in one transaction: `$n` in a target or a reference names the row the
//!   part with Content-ID `n` created earlier in it; if a part fails, the transaction is rolled
//!   back and the change set answers with that part's failure only (spec §7.3).
//! - Without `Prefer: odata.continue-on-error`, the first failure stops the batch: the answer
//!   holds the responses so far and the failure, and its status is the failure's (spec §7.3:
//!   "the batch status mirrors the first failure"). With it, every item runs and the status is
//!   200.
//! - The answer is framed by [`dataverse::batch::write_batch_response`] (`batchresponse_` /
//!   `changesetresponse_` boundaries, Content-IDs echoed), the shape both real clients parse.

use super::{base_of, env_of, include, refuse_overrides, rows, write};
use crate::auth::Caller;
use crate::response::error;
use crate::server::App;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::batch::{PartResponse, ResponseItem, TypedItem, TypedPart, parse_batch, write_batch_response};
use dataverse::error::DataverseError;
use dataverse::record::{Bind, Record, Reference, Related};
use dataverse::request::{Operation, RowKey};
use dataverse::{ParseLimits, RawRequest};
use uuid::Uuid;

/// Largest part answer read back into the batch response.
const MAX_PART_BODY: usize = 64 * 1024 * 1024;

/// Executes a `$batch` request (see the module doc).
pub(in crate::server) async fn execute(app: &App, raw: &RawRequest<'_>, caller: Caller) -> Response {
    let batch = match parse_batch(&app.schema, raw, &ParseLimits::default()) {
        Ok(b) => b,
        Err(e) => return error(&e.to_dataverse()),
    };
    let mut items = Vec::with_capacity(batch.items.len());
    let mut stopped: Option<u16> = None;
    for item in &batch.items {
        let (answer, failed) = match item {
            TypedItem::Request(part) => {
                let response = match super::execute(app, &part.request, caller).await {
                    Ok(r) => r,
                    Err(e) => error(&e),
                };
                let answer = part_response(part, response).await;
                let failed = (answer.status >= 400).then_some(answer.status);
                (ResponseItem::Response(answer), failed)
            }
            TypedItem::ChangeSet(parts) => change_set(app, caller, parts).await,
        };
        items.push(answer);
        if let Some(status) = failed
            && !batch.continue_on_error
        {
            stopped = Some(status);
            break;
        }
    }
    let framed = match write_batch_response(&items, &Uuid::new_v4().to_string()) {
        Ok(f) => f,
        Err(e) => return error(&DataverseError::new(500, dataverse::error::codes::UNEXPECTED, e.to_string())),
    };
    let status = StatusCode::from_u16(stopped.unwrap_or(200)).unwrap_or(StatusCode::BAD_REQUEST);
    Response::builder()
        .status(status)
        .header("content-type", framed.content_type)
        .header("odata-version", "4.0")
        .body(Body::from(framed.body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Runs a change set in one transaction; the answer, and the failing status if any.
async fn change_set(app: &App, caller: Caller, parts: &[TypedPart]) -> (ResponseItem, Option<u16>) {
    let mut w = match app.store.write().await {
        Ok(w) => w,
        Err(e) => return failure(parts.first(), crate::response::db_error(e)).await,
    };
    let mut created: Vec<(String, Uuid)> = Vec::new();
    let mut answers = Vec::with_capacity(parts.len());
    for part in parts {
        let mut request = part.request.clone();
        if let Err(e) = refuse_overrides(&request).and_then(|()| resolve(&mut request.operation, part, &created)) {
            return failure(Some(part), e).await;
        }
        let base = base_of(app, &request);
        let env = env_of(app, caller);
        let ctx = rows::Ctx { app, req: &request, base: &base, caller, include: include(&request), env: &env };
        match write(&ctx, &mut w.tx, &request.operation).await {
            Ok((response, id)) => {
                if let (Some(cid), Some(id)) = (&part.content_id, id) {
                    created.push((cid.clone(), id));
                }
                answers.push(part_response(part, response).await);
            }
            // Dropping `w` rolls the change set back.
            Err(e) => return failure(Some(part), e).await,
        }
    }
    if let Err(e) = w.commit().await {
        return failure(parts.last(), crate::response::db_error(e)).await;
    }
    (ResponseItem::ChangeSet(answers), None)
}

/// A change set that failed at `part`: its failure alone (spec §7.3).
async fn failure(part: Option<&TypedPart>, e: DataverseError) -> (ResponseItem, Option<u16>) {
    let status = e.status;
    let mut answer = response_parts(error(&e)).await;
    answer.content_id = part.and_then(|p| p.content_id.clone());
    (ResponseItem::ChangeSet(vec![answer]), Some(status))
}

/// Puts the rows the change set created in place of `$n`: the part's own row key, and
/// references in binds and `$ref` bodies.
fn resolve(op: &mut Operation, part: &TypedPart, created: &[(String, Uuid)]) -> Result<(), DataverseError> {
    let lookup = |id: &str| {
        created.iter().find(|(c, _)| c == id).map(|(_, u)| *u).ok_or_else(|| {
            DataverseError::bad_request(format!("Content-ID Reference: '${id}' does not exist in the batch context."))
        })
    };
    if let Some(id) = &part.target_ref {
        let row = lookup(id)?;
        if let Some(key) = op.key_mut() {
            *key = RowKey::Id(row);
        }
    }
    let fix = |r: &mut Reference| -> Result<(), DataverseError> {
        if let Reference::ContentId(id) = r {
            *r = Reference::Row { key: RowKey::Id(lookup(id)?), origin: None };
        }
        Ok(())
    };
    match op {
        Operation::Create { record, .. } | Operation::Update { record, .. } => fix_record(record, &fix)?,
        Operation::Relate { target: Some(r), .. } => fix(r)?,
        _ => {}
    }
    Ok(())
}

/// Applies `fix` to every bind reference of a record and of the rows created with it.
fn fix_record(
    record: &mut Record,
    fix: &impl Fn(&mut Reference) -> Result<(), DataverseError>,
) -> Result<(), DataverseError> {
    for bind in &mut record.binds {
        match bind {
            Bind::Single { target: Some(r), .. } => fix(r)?,
            Bind::Single { target: None, .. } => {}
            Bind::Collection { targets, .. } => targets.iter_mut().try_for_each(fix)?,
        }
    }
    for related in &mut record.related {
        match related {
            Related::Single { record, .. } => fix_record(record, fix)?,
            Related::Collection { records, .. } => records.iter_mut().try_for_each(|r| fix_record(r, fix))?,
        }
    }
    Ok(())
}

/// A part's answer, with its Content-ID.
async fn part_response(part: &TypedPart, response: Response) -> PartResponse {
    let mut answer = response_parts(response).await;
    answer.content_id = part.content_id.clone();
    answer
}

/// Status, headers (without `Content-Length`, which the framing computes) and body.
async fn response_parts(response: Response) -> PartResponse {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_PART_BODY).await.map(|b| b.to_vec()).unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .filter(|(n, _)| *n != "content-length")
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
        .collect();
    PartResponse { content_id: None, status: parts.status.as_u16(), headers, body }
}
