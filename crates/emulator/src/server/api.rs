//! Executes a parsed [`Request`] and shapes the answer as Dataverse does. Each response cites
//! the spec section it follows. Single-row operations are in [`rows`].
//!
//! `Preference-Applied` lists every preference applied, comma-separated in the order of
//! spec §1.4's example: `return=representation`, `odata.include-annotations="…"` (echoing the
//! request's list, on every answer that carries rows), `odata.maxpagesize=N`.

mod aggregate;
pub(super) mod batch;
mod changes;
mod fetch;
mod messages;
mod rows;

use super::App;
use crate::annotations::{Include, Shape, TOTAL_RECORD_COUNT, TOTAL_RECORD_COUNT_LIMIT_EXCEEDED, shape};
use crate::auth::Caller;
use crate::expand;
use crate::paging::{self, Plan, Source};
use crate::query_sql::Env;
use crate::read::{self, RawRow, context_columns};
use crate::response::{Base, build, db_error, json, with_header};
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Object, Value};
use dataverse::metadata::{Column, Table};
use dataverse::print::{Redact, print_target};
use dataverse::query::Query;
use dataverse::request::{Headers, Operation, Request};
use sqlx::SqliteConnection;

pub(super) use crate::response::emulator_error;

fn table<'a>(app: &'a App, logical: &str) -> Result<&'a Table, DataverseError> {
    app.schema.table(logical).ok_or_else(|| {
        DataverseError::new(404, codes::ODATA_PARSE, format!("Resource not found for the segment '{logical}'."))
    })
}

/// The annotations the request asked for.
fn include(req: &Request) -> Include {
    Include::new(req.headers.prefer.include_annotations.as_ref())
}

/// Adds `Preference-Applied` when any preference was applied (spec §1.4).
fn preference_applied(response: Response, applied: &[String]) -> Response {
    if applied.is_empty() {
        return response;
    }
    with_header(response, "preference-applied", &applied.join(","))
}

/// `Preference-Applied` echoing `odata.include-annotations` when annotations were asked for.
fn include_preference(response: Response, include: &Include) -> Response {
    let applied: Vec<String> = include.preference().into_iter().collect();
    preference_applied(response, &applied)
}

/// Rows of `t` showing `columns`, as JSON with the annotations asked for.
async fn shape_rows(
    app: &App,
    conn: &mut SqliteConnection,
    t: &Table,
    columns: &[&Column],
    include: &Include,
    rows: &[RawRow],
) -> Result<Vec<Object>, DataverseError> {
    let s = Shape { schema: &app.schema, table: t, columns, include, base_currency: app.sys.currency };
    shape(conn, &s, rows).await
}

/// `{set}({columns and expansions})` or `{set}`, then `suffix` (spec §3, §3.6).
fn context(
    ctx: &rows::Ctx<'_>,
    t: &Table,
    select: &[String],
    expand: &[dataverse::query::Expand],
    suffix: &str,
) -> String {
    match context_columns(&ctx.app.schema, t, select, expand) {
        Some(cols) => ctx.base.context(&format!("{}({cols}){suffix}", t.set_name)),
        None => ctx.base.context(&format!("{}{suffix}", t.set_name)),
    }
}

/// The service root links are built from (the version the client used).
fn base_of(app: &App, req: &Request) -> Base {
    Base(format!("{}/api/data/{}", app.org_url, req.version.as_str()))
}

/// Schema, clock and caller for filters and writes.
fn env_of(app: &App, caller: Caller) -> Env<'_> {
    Env {
        schema: &app.schema,
        now: app.clock.now(),
        user: caller.user_id,
        business_unit: app.sys.root_business_unit,
        default_team: app.sys.default_team,
    }
}

/// Executing as the application user while the client asked for another identity or method
/// would silently do something else: refused. Other refused headers (bypass, unknown
/// `MSCRM.*`) change nothing here (no plug-ins) and are ignored.
fn refuse_overrides(req: &Request) -> Result<(), DataverseError> {
    let overriding = |h: &&String| {
        let h = h.to_ascii_lowercase();
        matches!(
            h.as_str(),
            "callerobjectid" | "mscrmcallerid" | "x-http-method" | "x-http-method-override" | "x-method-override"
        )
    };
    match req.headers.refused.iter().find(overriding) {
        Some(name) => Err(emulator_error(DataverseError::new(
            501,
            codes::ODATA_PARSE,
            format!("the header {name} (impersonation or method override) is not supported"),
        ))),
        None => Ok(()),
    }
}

pub(super) async fn execute(app: &App, req: &Request, caller: Caller) -> Result<Response, DataverseError> {
    let base = base_of(app, req);
    refuse_overrides(req)?;
    let env = env_of(app, caller);
    let ctx = rows::Ctx { app, req, base: &base, caller, include: include(req), env: &env };
    match &req.operation {
        Operation::ServiceDocument => Ok(service_document(app, &base)),
        // Spec §8.1: the CSDL document, as XML.
        Operation::MetadataDocument => Ok(build(StatusCode::OK, Some("application/xml"), app.csdl.clone())),
        Operation::WhoAmI => {
            // Spec §6.2: WhoAmIResponse with BusinessUnitId, UserId, OrganizationId.
            let mut o = Object::new();
            o.insert("@odata.context", Value::String(base.context("Microsoft.Dynamics.CRM.WhoAmIResponse")));
            o.insert("BusinessUnitId", Value::String(app.sys.root_business_unit.to_string()));
            o.insert("UserId", Value::String(caller.user_id.to_string()));
            o.insert("OrganizationId", Value::String(app.sys.organization.to_string()));
            Ok(json(StatusCode::OK, o))
        }
        Operation::Query(q) => query(&ctx, q).await,
        Operation::Aggregate(a) => aggregate::aggregate(&ctx, a).await,
        Operation::Fetch(f) => fetch::fetch(&ctx, f).await,
        Operation::Count(q) => {
            // Spec §3.7: `/{set}/$count` is a bare number, text/plain, capped at 5000 (the BOM
            // of §2.5 belongs to collection-navigation counts only).
            let t = table(app, &q.table)?;
            let mut conn = app.store.read().await.map_err(db_error)?;
            let n = read::count(&mut conn, &env, t, q.filter.as_ref()).await?;
            Ok(build(StatusCode::OK, Some("text/plain"), n.shown.to_string()))
        }
        Operation::Retrieve { table: name, key, select, expand } => {
            rows::retrieve(&ctx, table(app, name)?, key, select, expand).await
        }
        Operation::Create { .. }
        | Operation::Update { .. }
        | Operation::Delete { .. }
        | Operation::Relate { .. }
        | Operation::SetProperty { .. } => {
            let mut w = app.store.write().await.map_err(db_error)?;
            let (response, _) = write(&ctx, &mut w.tx, &req.operation).await?;
            w.commit().await.map_err(db_error)?;
            Ok(response)
        }
        Operation::RetrieveProperty { table: name, key, target } => {
            rows::retrieve_property(&ctx, table(app, name)?, key, target).await
        }
        Operation::Metadata(read) => crate::metadata_api::answer(&app.schema, &base, read).map_err(emulator_error),
        Operation::Message(m) => messages::execute(&ctx, m).await,
        Operation::Changes { table: name, select, token } => {
            changes::changes(&ctx, name, select, token.as_deref()).await
        }
        Operation::Unsupported { reason, .. } => {
            Err(emulator_error(DataverseError::new(501, codes::ODATA_PARSE, reason.clone())))
        }
    }
}

/// Executes a write inside the caller's transaction: the answer, and the new row's id for a
/// create. Anything else is a 400 (a `$batch` change set holds only writes).
pub(super) async fn write(
    ctx: &rows::Ctx<'_>,
    conn: &mut SqliteConnection,
    op: &Operation,
) -> Result<(Response, Option<uuid::Uuid>), DataverseError> {
    let app = ctx.app;
    Ok(match op {
        Operation::Create { table: name, record, select, expand } => {
            let (r, id) = rows::create(ctx, conn, table(app, name)?, record, (select, expand)).await?;
            (r, Some(id))
        }
        Operation::Update { table: name, key, record, select, expand, upsert } => {
            (rows::update(ctx, conn, table(app, name)?, key, record, (select, expand), *upsert).await?, None)
        }
        Operation::Delete { table: name, key } => (rows::delete(ctx, conn, table(app, name)?, key).await?, None),
        Operation::Relate { table: name, key, navigation, related, link, single, target, associate } => {
            let t = table(app, name)?;
            let via = match link {
                dataverse::record::Link::Lookup(column) => rows::Via::Lookup { column, single: *single },
                dataverse::record::Link::Intersect { .. } => rows::Via::Intersect(
                    crate::intersect::Side::find(&app.schema, name, navigation)
                        .ok_or_else(|| DataverseError::bad_request("not an N:N navigation property"))?,
                ),
            };
            let link = rows::Link { related: table(app, related)?, via };
            (rows::relate(ctx, conn, t, key, &link, target.as_ref(), *associate).await?, None)
        }
        Operation::SetProperty { table: name, key, column, value } => {
            (rows::set_property(ctx, conn, table(app, name)?, key, column, value.as_ref()).await?, None)
        }
        _ => return Err(DataverseError::bad_request("Only data-modifying requests can run in a change set")),
    })
}

/// Spec §3 response envelope: `@odata.context`, `@odata.count` (§3.7), the count annotations
/// when asked for (§3.7: `-1`/`false` without `$count=true`), `value`, and last
/// `@odata.nextLink` when more rows follow (§3.8).
async fn query(ctx: &rows::Ctx<'_>, q: &Query) -> Result<Response, DataverseError> {
    let app = ctx.app;
    let t = table(app, &q.table)?;
    let max_page_size = ctx.req.headers.prefer.max_page_size;
    let plan = Plan::new(q, max_page_size);
    let columns = expand::columns(ctx.env, t, &q.select, &q.expand, None);
    let mut conn = app.store.read().await.map_err(db_error)?;
    let src = Source { env: ctx.env, table: t, columns: &columns.all };
    let page = paging::fetch(&mut conn, src, q, plan).await?;
    let count = if q.count { Some(read::count(&mut conn, ctx.env, t, q.filter.as_ref()).await?) } else { None };
    let mut rows = shape_rows(app, &mut conn, t, columns.shown(), &ctx.include, &page.rows).await?;
    ctx.expander().attach(&mut conn, t, &columns, &q.expand, &page.rows, &mut rows).await?;
    drop(conn);
    let context = context(ctx, t, &q.select, &q.expand, "");
    let mut o = Object::new();
    o.insert("@odata.context", Value::String(context));
    if let Some(c) = count {
        o.insert("@odata.count", Value::from(c.shown));
    }
    if ctx.include.wants(TOTAL_RECORD_COUNT) {
        o.insert(format!("@{TOTAL_RECORD_COUNT}"), Value::from(count.map_or(-1, |c| c.shown)));
    }
    if ctx.include.wants(TOTAL_RECORD_COUNT_LIMIT_EXCEEDED) {
        o.insert(format!("@{TOTAL_RECORD_COUNT_LIMIT_EXCEEDED}"), Value::Bool(count.is_some_and(|c| c.exceeded)));
    }
    o.insert("value", Value::Array(rows.into_iter().map(Value::Object).collect()));
    if let Some(token) = page.next {
        o.insert("@odata.nextLink", Value::String(next_link(ctx, q, token)?));
    }
    let mut applied: Vec<String> = ctx.include.preference().into_iter().collect();
    if let Some(n) = max_page_size {
        applied.push(format!("odata.maxpagesize={n}"));
    }
    Ok(preference_applied(json(StatusCode::OK, o), &applied))
}

/// Spec §3.8: the request's query options, printed canonically, with the next `$skiptoken` last,
/// under the base the client used.
fn next_link(ctx: &rows::Ctx<'_>, q: &Query, token: String) -> Result<String, DataverseError> {
    let mut next = q.clone();
    next.skiptoken = Some(token);
    let request = Request {
        method: ctx.req.method,
        version: ctx.req.version,
        operation: Operation::Query(next),
        headers: Headers::default(),
    };
    let target = print_target(&ctx.app.schema, &request, Redact::Nothing).ok_or_else(|| {
        tracing::error!("a collection query could not be printed for its nextLink");
        DataverseError::new(500, codes::UNEXPECTED, "An unexpected error occurred.")
    })?;
    Ok(format!("{}/{target}", ctx.base.0))
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
