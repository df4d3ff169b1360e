//! Executes a parsed [`Request`] and shapes the answer as Dataverse does. Each response cites
//! the spec section it follows.

use super::App;
use crate::auth::Caller;
use crate::read::{self, context_columns, etag};
use crate::response::{Base, build, db_error, json, no_content, with_header};
use crate::rows::now_text;
use crate::write::{self, WriteCtx};
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Object, Value};
use dataverse::metadata::Table;
use dataverse::request::{EtagCondition, Operation, Request};
use uuid::Uuid;

/// Suffix of 501 messages, so a client can tell the emulator's gaps from Dataverse's.
const UNSUPPORTED_SUFFIX: &str = " (Stanchion's emulator)";

/// Marks 501 answers as the emulator's (the parser's `Unsupported` maps to 501).
pub(super) fn emulator_error(mut e: DataverseError) -> DataverseError {
    if e.status == 501 && !e.message.ends_with(UNSUPPORTED_SUFFIX) {
        e.message.push_str(UNSUPPORTED_SUFFIX);
    }
    e
}

fn table<'a>(app: &'a App, logical: &str) -> Result<&'a Table, DataverseError> {
    app.schema.table(logical).ok_or_else(|| {
        DataverseError::new(404, codes::ODATA_PARSE, format!("Resource not found for the segment '{logical}'."))
    })
}

/// Whether an `If-Match`/`If-None-Match` list names the row's version (weak comparison).
fn names_version(tags: &[String], version: i64) -> bool {
    let strong = format!("\"{version}\"");
    tags.iter().any(|t| *t == etag(version) || *t == strong)
}

/// `{"@odata.context": …}` followed by the members of `row`.
fn with_context(context: String, row: Object) -> Object {
    let mut out = Object::new();
    out.insert("@odata.context", Value::String(context));
    out.extend(row);
    out
}

/// `{set}({cols})/$entity` or `{set}/$entity` (spec §2.2, §2.5).
fn entity_context(base: &Base, table: &Table, select: &[String]) -> String {
    match context_columns(table, select) {
        Some(cols) => base.context(&format!("{}({cols})/$entity", table.set_name)),
        None => base.context(&format!("{}/$entity", table.set_name)),
    }
}

pub(super) async fn execute(app: &App, req: &Request, caller: Caller) -> Result<Response, DataverseError> {
    let base = Base(format!("{}/api/data/{}", app.org_url, req.version.as_str()));
    // Executing as the application user while the client asked for another identity or method
    // would silently do something else: refuse. Other refused headers (bypass, unknown
    // `MSCRM.*`) change nothing here (no plug-ins) and are ignored.
    let overriding = |h: &&String| {
        let h = h.to_ascii_lowercase();
        matches!(
            h.as_str(),
            "callerobjectid" | "mscrmcallerid" | "x-http-method" | "x-http-method-override" | "x-method-override"
        )
    };
    if let Some(name) = req.headers.refused.iter().find(overriding) {
        return Err(emulator_error(DataverseError::new(
            501,
            codes::ODATA_PARSE,
            format!("the header {name} (impersonation or method override) is not supported"),
        )));
    }
    match &req.operation {
        Operation::ServiceDocument => Ok(service_document(app, &base)),
        Operation::WhoAmI => {
            // Spec §6.2: WhoAmIResponse with BusinessUnitId, UserId, OrganizationId.
            let mut o = Object::new();
            o.insert("@odata.context", Value::String(base.context("Microsoft.Dynamics.CRM.WhoAmIResponse")));
            o.insert("BusinessUnitId", Value::String(app.sys.root_business_unit.to_string()));
            o.insert("UserId", Value::String(caller.user_id.to_string()));
            o.insert("OrganizationId", Value::String(app.sys.organization.to_string()));
            Ok(json(StatusCode::OK, o))
        }
        Operation::Query(q) => {
            // Spec §3 response envelope; `@odata.count` before `value` (§3.7); no paging: at
            // most 5000 rows and no `@odata.nextLink`.
            let t = table(app, &q.table)?;
            if q.skiptoken.is_some() || req.headers.prefer.max_page_size.is_some() {
                // Paging lands with the paging slice; until then refuse rather than ignore it.
                return Err(emulator_error(DataverseError::new(
                    501,
                    codes::ODATA_PARSE,
                    "paging is not supported yet",
                )));
            }
            let mut conn = app.store.read().await.map_err(db_error)?;
            let (rows, count) = read::query(&mut conn, t, q).await?;
            let context = match context_columns(t, &q.select) {
                Some(cols) => base.context(&format!("{}({cols})", t.set_name)),
                None => base.context(&t.set_name),
            };
            let mut o = Object::new();
            o.insert("@odata.context", Value::String(context));
            if let Some(n) = count {
                o.insert("@odata.count", Value::from(n));
            }
            o.insert("value", Value::Array(rows.into_iter().map(Value::Object).collect()));
            Ok(json(StatusCode::OK, o))
        }
        Operation::Count(q) => {
            // Spec §3.7: `/{set}/$count` is a bare number, text/plain, capped at 5000 (the BOM
            // of §2.5 belongs to collection-navigation counts only).
            let t = table(app, &q.table)?;
            let mut conn = app.store.read().await.map_err(db_error)?;
            let n = read::count(&mut conn, t, q.filter.as_ref()).await?;
            Ok(build(StatusCode::OK, Some("text/plain"), n.to_string()))
        }
        Operation::Retrieve { table: name, key, select } => {
            retrieve(app, req, &base, table(app, name)?, by_id(key)?, select).await
        }
        Operation::Create { table: name, record, select } => {
            create(app, req, &base, caller, table(app, name)?, record, select).await
        }
        Operation::Update { table: name, key, record, select, upsert } => {
            let t = table(app, name)?;
            update(app, req, &base, caller, t, by_id(key)?, record, select, *upsert).await
        }
        Operation::Delete { table: name, key } => delete(app, req, table(app, name)?, by_id(key)?).await,
        Operation::Unsupported { reason, .. } => {
            Err(emulator_error(DataverseError::new(501, codes::ODATA_PARSE, reason.clone())))
        }
    }
}

/// The primary key of a row key (alternate keys are resolved by the alternate-key slice).
fn by_id(key: &dataverse::request::RowKey) -> Result<Uuid, DataverseError> {
    key.id().ok_or_else(|| {
        DataverseError::new(501, codes::ODATA_PARSE, "addressing rows by alternate key is not supported yet")
    })
}

/// Spec §8.1: `{"@odata.context":"{base}/$metadata","value":[{"name","kind":"EntitySet","url"}…]}`.
fn service_document(app: &App, base: &Base) -> Response {
    let mut sets: Vec<&str> = app.schema.tables().iter().map(|t| t.set_name.as_str()).collect();
    sets.sort_unstable();
    let value = sets
        .into_iter()
        .map(|s| {
            let mut o = Object::new();
            o.insert("name", Value::from(s));
            o.insert("kind", Value::from("EntitySet"));
            o.insert("url", Value::from(s));
            Value::Object(o)
        })
        .collect();
    let mut o = Object::new();
    o.insert("@odata.context", Value::String(format!("{}/$metadata", base.0)));
    o.insert("value", Value::Array(value));
    json(StatusCode::OK, o)
}

/// Spec §2.5: 200 with the row and `ETag`; 304 when `If-None-Match` names the current
/// version; 404 `0x80040217` when missing.
async fn retrieve(
    app: &App,
    req: &Request,
    base: &Base,
    t: &Table,
    id: Uuid,
    select: &[String],
) -> Result<Response, DataverseError> {
    let mut conn = app.store.read().await.map_err(db_error)?;
    let (row, version) =
        read::row(&mut conn, t, id, select).await?.ok_or_else(|| DataverseError::not_found(&t.logical_name, &id))?;
    let unchanged = match &req.headers.if_none_match {
        Some(EtagCondition::Any) => true,
        Some(EtagCondition::Tags(tags)) => names_version(tags, version),
        None => false,
    };
    let response = if unchanged {
        build(StatusCode::NOT_MODIFIED, None, Body::empty())
    } else {
        json(StatusCode::OK, with_context(entity_context(base, t, select), row))
    };
    Ok(with_header(response, "etag", &etag(version)))
}

fn representation(req: &Request) -> bool {
    req.headers.prefer.return_representation == Some(true)
}

/// Spec §2.2: 204 + `OData-EntityId`, or with `Prefer: return=representation` 201 + the row +
/// `Preference-Applied` and no `OData-EntityId`.
async fn create(
    app: &App,
    req: &Request,
    base: &Base,
    caller: Caller,
    t: &Table,
    record: &Object,
    select: &[String],
) -> Result<Response, DataverseError> {
    let cells = write::record_cells(t, record)?;
    let id = match record.get(&t.primary_id).and_then(Value::as_str) {
        Some(s) => {
            Uuid::try_parse(s).map_err(|_| DataverseError::bad_request(format!("{} is not a GUID", t.primary_id)))?
        }
        None => Uuid::new_v4(),
    };
    let mut w = app.store.write().await.map_err(db_error)?;
    let ctx = WriteCtx { caller: caller.user_id, ids: &app.sys, now: now_text() };
    write::insert(&mut w.tx, &ctx, t, id, cells).await?;
    let row = if representation(req) { read::row(&mut w.tx, t, id, select).await? } else { None };
    w.commit().await.map_err(db_error)?;
    Ok(written(base, t, id, select, row, StatusCode::CREATED))
}

/// The answer to a successful write: the row (201/200 + `Preference-Applied`) when asked for,
/// else 204 + `OData-EntityId`.
fn written(
    base: &Base,
    t: &Table,
    id: Uuid,
    select: &[String],
    row: Option<(Object, i64)>,
    status: StatusCode,
) -> Response {
    match row {
        Some((row, version)) => {
            let r = json(status, with_context(entity_context(base, t, select), row));
            let r = with_header(r, "etag", &etag(version));
            with_header(r, "preference-applied", "return=representation")
        }
        None => with_header(no_content(), "odata-entityid", &base.entity_id(&t.set_name, &id)),
    }
}

/// Spec §2.6 (update, `If-Match`) and §2.7 (upsert): 404 on a missing row unless upserting;
/// 412 `0x80060882` on a stale ETag; 412 `0x80040237` for `If-None-Match: *` on an existing
/// row; 204 + `OData-EntityId` (PATCH answers carry it whether the row was created or
/// updated), or the row with `return=representation` (201 created, 200 updated).
#[allow(clippy::too_many_arguments)]
async fn update(
    app: &App,
    req: &Request,
    base: &Base,
    caller: Caller,
    t: &Table,
    id: Uuid,
    record: &Object,
    select: &[String],
    upsert: bool,
) -> Result<Response, DataverseError> {
    let cells = write::record_cells(t, record)?;
    let mut w = app.store.write().await.map_err(db_error)?;
    let ctx = WriteCtx { caller: caller.user_id, ids: &app.sys, now: now_text() };
    let created = match read::cells(&mut w.tx, t, id).await? {
        None if !upsert => return Err(DataverseError::not_found(&t.logical_name, &id)),
        None => {
            write::insert(&mut w.tx, &ctx, t, id, cells).await?;
            true
        }
        Some(current) => {
            if req.headers.if_none_match == Some(EtagCondition::Any) {
                return Err(DataverseError::new(
                    412,
                    codes::DUPLICATE_RECORD,
                    "A record with matching key values already exists.",
                ));
            }
            if let Some(EtagCondition::Tags(tags)) = &req.headers.if_match {
                let version =
                    current.iter().find(|(n, _)| n == "versionnumber").and_then(|(_, c)| c.as_int()).unwrap_or(0);
                if !names_version(tags, version) {
                    return Err(concurrency_error());
                }
            }
            write::update(&mut w.tx, &ctx, t, id, &current, cells).await?;
            false
        }
    };
    let row = if representation(req) { read::row(&mut w.tx, t, id, select).await? } else { None };
    w.commit().await.map_err(db_error)?;
    Ok(written(base, t, id, select, row, if created { StatusCode::CREATED } else { StatusCode::OK }))
}

fn concurrency_error() -> DataverseError {
    DataverseError::new(
        412,
        codes::CONCURRENCY_VERSION_MISMATCH,
        "The version of the existing record doesn't match the RowVersion property provided.",
    )
}

/// Spec §2.9: 204; 404 when missing; 412 `0x80060882` when `If-Match` names another version.
async fn delete(app: &App, req: &Request, t: &Table, id: Uuid) -> Result<Response, DataverseError> {
    let mut w = app.store.write().await.map_err(db_error)?;
    let (_, version) = read::row(&mut w.tx, t, id, std::slice::from_ref(&t.primary_id))
        .await?
        .ok_or_else(|| DataverseError::not_found(&t.logical_name, &id))?;
    if let Some(EtagCondition::Tags(tags)) = &req.headers.if_match
        && !names_version(tags, version)
    {
        return Err(concurrency_error());
    }
    write::delete(&mut w.tx, t, id).await?;
    w.commit().await.map_err(db_error)?;
    Ok(no_content())
}
