//! Single-row operations: retrieve, create, update/upsert and delete, addressed by primary key
//! or by alternate key ([`crate::keys`]).

use super::{App, context, preference_applied, shape_rows};
use crate::annotations::Include;
use crate::auth::Caller;
use crate::binds;
use crate::clock::stored;
use crate::expand::{self, Expander};
use crate::keys;
use crate::query_sql::Env;
use crate::read::{self, etag};
use crate::response::{Base, build, db_error, json, no_content, with_header};
use crate::write::{self, WriteCtx};
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Object, Value};
use dataverse::metadata::Table;
use dataverse::query::Expand;
use dataverse::record::Record;
use dataverse::request::{EtagCondition, Request, RowKey};
use sqlx::SqliteConnection;
use uuid::Uuid;

/// What every handler needs.
pub(in crate::server) struct Ctx<'a> {
    pub(in crate::server) app: &'a App,
    pub(in crate::server) req: &'a Request,
    pub(in crate::server) base: &'a Base,
    pub(in crate::server) caller: Caller,
    pub(in crate::server) include: Include,
    /// Schema, clock and caller, for filters; `env.now` also stamps the rows written.
    pub(in crate::server) env: &'a Env<'a>,
}

impl Ctx<'_> {
    /// Attaches `$expand`ed rows as this request asked.
    pub(in crate::server) fn expander(&self) -> Expander<'_> {
        Expander { env: self.env, include: &self.include, base: self.base, base_currency: self.app.sys.currency }
    }

    /// Who writes, and when.
    pub(in crate::server) fn write_ctx(&self) -> WriteCtx<'_> {
        WriteCtx { caller: self.caller.user_id, ids: &self.app.sys, now: stored(self.env.now) }
    }
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

/// `{set}({cols})/$entity` or `{set}/$entity` (spec §2.2, §2.5, §3.6).
fn entity_context(ctx: &Ctx<'_>, table: &Table, select: &[String], expand: &[Expand]) -> String {
    context(ctx, table, select, expand, "/$entity")
}

/// The 404 of a key that finds no row: by id (spec §2.5) or by key values (spec §10.3).
fn missing(t: &Table, key: &RowKey) -> DataverseError {
    match key {
        RowKey::Id(id) => DataverseError::not_found(&t.logical_name, id),
        RowKey::Alternate(_) => keys::not_found(t),
    }
}

/// The primary key a row key names: the id itself, or the row the key values find.
async fn primary_key(conn: &mut SqliteConnection, t: &Table, key: &RowKey) -> Result<Option<Uuid>, DataverseError> {
    match key {
        RowKey::Id(id) => Ok(Some(*id)),
        RowKey::Alternate(parts) => keys::resolve(conn, t, parts).await,
    }
}

/// One row, projected, expanded and shaped with the request's annotations, and its version.
async fn shaped_row(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    t: &Table,
    id: Uuid,
    select: &[String],
    expand: &[Expand],
) -> Result<Option<(Object, i64)>, DataverseError> {
    let columns = expand::columns(ctx.env, t, select, expand, None);
    let Some(raw) = read::row(conn, t, id, &columns.all).await? else { return Ok(None) };
    let version = raw.version;
    let rows = std::slice::from_ref(&raw);
    let mut shaped = shape_rows(ctx.app, conn, t, columns.shown(), &ctx.include, rows).await?;
    ctx.expander().attach(conn, t, &columns, expand, rows, &mut shaped).await?;
    Ok(shaped.pop().map(|o| (o, version)))
}

/// Spec §2.5: 200 with the row and `ETag`; 304 when `If-None-Match` names the current version
/// (never when annotations are asked for); 404 `0x80040217` when missing by id, `0x80060891`
/// by alternate key. Spec §3.6: `$expand`ed rows are nested in the row (the ETag stays the
/// row's own).
pub(super) async fn retrieve(
    ctx: &Ctx<'_>,
    t: &Table,
    key: &RowKey,
    select: &[String],
    expand: &[Expand],
) -> Result<Response, DataverseError> {
    let mut conn = ctx.app.store.read().await.map_err(db_error)?;
    let id = primary_key(&mut conn, t, key).await?.ok_or_else(|| missing(t, key))?;
    let (row, version) = shaped_row(ctx, &mut conn, t, id, select, expand).await?.ok_or_else(|| missing(t, key))?;
    let annotated = ctx.req.headers.prefer.include_annotations.is_some();
    let unchanged = match &ctx.req.headers.if_none_match {
        _ if annotated => false,
        Some(EtagCondition::Any) => true,
        Some(EtagCondition::Tags(tags)) => names_version(tags, version),
        None => false,
    };
    if unchanged {
        return Ok(with_header(build(StatusCode::NOT_MODIFIED, None, Body::empty()), "etag", &etag(version)));
    }
    let response = json(StatusCode::OK, with_context(entity_context(ctx, t, select, expand), row));
    let response = preference_applied(response, &ctx.include.preference().into_iter().collect::<Vec<_>>());
    Ok(with_header(response, "etag", &etag(version)))
}

fn representation(req: &Request) -> bool {
    req.headers.prefer.return_representation == Some(true)
}

/// Spec §2.2: 204 + `OData-EntityId`, or with `Prefer: return=representation` 201 + the row +
/// `Preference-Applied` and no `OData-EntityId`; also the new row's id (for `$n` in `$batch`).
/// Like every write here, it runs inside the caller's transaction (`conn`).
pub(super) async fn create(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    t: &Table,
    record: &Record,
    (select, expand): (&[String], &[Expand]),
) -> Result<(Response, Uuid), DataverseError> {
    let id = crate::deep_insert::new_id(t, record)?;
    let wctx = ctx.write_ctx();
    crate::deep_insert::insert(&mut *conn, &wctx, &ctx.app.schema, t, record, id, None).await?;
    let row = if representation(ctx.req) { shaped_row(ctx, &mut *conn, t, id, select, expand).await? } else { None };
    Ok((written(ctx, t, id, (select, expand), row, StatusCode::CREATED), id))
}

/// The answer to a successful write: the row (201/200 + `Preference-Applied`) when asked for,
/// else 204 + `OData-EntityId` (always the primary-key form `{set}({guid})`, spec §2.2).
fn written(
    ctx: &Ctx<'_>,
    t: &Table,
    id: Uuid,
    (select, expand): (&[String], &[Expand]),
    row: Option<(Object, i64)>,
    status: StatusCode,
) -> Response {
    match row {
        Some((row, version)) => {
            let r = json(status, with_context(entity_context(ctx, t, select, expand), row));
            let r = with_header(r, "etag", &etag(version));
            let mut applied = vec!["return=representation".to_owned()];
            applied.extend(ctx.include.preference());
            preference_applied(r, &applied)
        }
        None => with_header(no_content(), "odata-entityid", &ctx.base.entity_id(&t.set_name, &id)),
    }
}

/// Spec §2.6 (update, `If-Match`) and §2.7 (upsert), by primary or alternate key: 404 on a
/// missing row unless upserting; 412 `0x80060882` on a stale ETag; 412 `0x80040237` for
/// `If-None-Match: *` on an existing row; 204 + `OData-EntityId` (PATCH answers carry it whether
/// the row was created or updated), or the row with `return=representation` (201 created, 200
/// updated). Upserting by alternate key creates the row with a new id and the key values.
pub(super) async fn update(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    t: &Table,
    key: &RowKey,
    record: &Record,
    (select, expand): (&[String], &[Expand]),
    upsert: bool,
) -> Result<Response, DataverseError> {
    let (id, created) = update_row(ctx, &mut *conn, t, key, record, upsert).await?;
    let row = if representation(ctx.req) { shaped_row(ctx, &mut *conn, t, id, select, expand).await? } else { None };
    Ok(written(ctx, t, id, (select, expand), row, if created { StatusCode::CREATED } else { StatusCode::OK }))
}

/// The write of [`update`]: the row's id, and whether it was created.
pub(super) async fn update_row(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    t: &Table,
    key: &RowKey,
    record: &Record,
    upsert: bool,
) -> Result<(Uuid, bool), DataverseError> {
    let mut cells = write::record_cells(t, &record.values)?;
    let wctx = ctx.write_ctx();
    binds::single(&mut *conn, &ctx.app.schema, t, record, &mut cells).await?;
    let found = match primary_key(&mut *conn, t, key).await? {
        Some(id) => read::cells(&mut *conn, t, id).await?.map(|current| (id, current)),
        None => None,
    };
    if let RowKey::Alternate(parts) = key {
        keys::apply_url_key(t, parts, &mut cells, found.is_none())?;
    }
    match found {
        None if !upsert => Err(missing(t, key)),
        None => {
            let id = key.id().unwrap_or_else(Uuid::new_v4);
            write::insert(&mut *conn, &wctx, t, id, cells).await?;
            Ok((id, true))
        }
        Some((id, current)) => {
            if ctx.req.headers.if_none_match == Some(EtagCondition::Any) {
                return Err(DataverseError::new(
                    412,
                    codes::DUPLICATE_RECORD,
                    "A record with matching key values already exists.",
                ));
            }
            check_if_match(ctx, &current)?;
            write::update(&mut *conn, &wctx, t, id, &current, cells).await?;
            Ok((id, false))
        }
    }
}

/// 412 `0x80060882` when `If-Match` names versions other than the stored row's (spec §2.10).
fn check_if_match(ctx: &Ctx<'_>, current: &[(String, crate::rows::Cell)]) -> Result<(), DataverseError> {
    let version = current.iter().find(|(n, _)| n == "versionnumber").and_then(|(_, c)| c.as_int());
    match &ctx.req.headers.if_match {
        Some(EtagCondition::Tags(tags)) if !names_version(tags, version.unwrap_or(0)) => Err(concurrency_error()),
        _ => Ok(()),
    }
}

fn concurrency_error() -> DataverseError {
    DataverseError::new(
        412,
        codes::CONCURRENCY_VERSION_MISMATCH,
        "The version of the existing record doesn't match the RowVersion property provided.",
    )
}

/// The relationship a `$ref` write goes through.
pub(super) struct Link<'a> {
    /// The table at the other end.
    pub(super) related: &'a Table,
    /// How the rows are tied.
    pub(super) via: Via<'a>,
}

/// How a `$ref` write ties the rows.
pub(super) enum Via<'a> {
    /// A lookup column: on the URL's table when `single`, else on the related table.
    Lookup {
        /// The lookup column.
        column: &'a str,
        /// Single-valued navigation property.
        single: bool,
    },
    /// An N:N relationship's intersect table.
    Intersect(crate::intersect::Side<'a>),
}

/// Spec §5 associate and disassociate: 204. The URL's row must exist (404); the row referenced
/// must exist (404). Through a lookup (1:N), associating points the holder's lookup at the
/// other row (the URL's row holds it for a single-valued navigation property, the referenced
/// row for a collection-valued one); disassociating clears it — for a collection-valued one
/// only if the listed row points at the URL's row (404 otherwise: there is no such link).
/// Through an intersect table (N:N), associating records the pair (400 `0x80040237` if it is
/// already recorded) and disassociating removes it (404 if it is not).
pub(super) async fn relate(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    t: &Table,
    key: &RowKey,
    link: &Link<'_>,
    target: Option<&dataverse::record::Reference>,
    associate: bool,
) -> Result<Response, DataverseError> {
    let wctx = ctx.write_ctx();
    let id = primary_key(&mut *conn, t, key).await?.ok_or_else(|| missing(t, key))?;
    if !write::exists(&mut *conn, t, id).await? {
        return Err(missing(t, key));
    }
    let other = match target {
        Some(r) => Some(binds::resolve(&mut *conn, link.related, r).await?),
        None => None,
    };
    let (column, single) = match link.via {
        Via::Lookup { column, single } => (column, single),
        Via::Intersect(side) => {
            let other = other.ok_or_else(|| DataverseError::bad_request("An N:N association needs the related row"))?;
            if !write::exists(&mut *conn, link.related, other).await? {
                return Err(DataverseError::not_found(&link.related.logical_name, &other));
            }
            if associate {
                crate::intersect::pair(&mut *conn, side, id, other).await?;
            } else if !crate::intersect::unpair(&mut *conn, side, id, other).await? {
                return Err(DataverseError::not_found(&link.related.logical_name, &other));
            }
            return Ok(no_content());
        }
    };
    let (holder, holder_id, points_at, points_table) = match (single, other) {
        (true, other) => (t, id, other, &link.related.logical_name),
        (false, Some(other)) => (link.related, other, Some(id), &t.logical_name),
        (false, None) => return Err(DataverseError::bad_request("Disassociating needs the related row")),
    };
    let current = read::cells(&mut *conn, holder, holder_id).await?.ok_or_else(|| missing(holder, key))?;
    let mut cells = Vec::new();
    if associate {
        let to = points_at.ok_or_else(|| DataverseError::bad_request("Associating needs the related row"))?;
        write::set_lookup(holder, &mut cells, column, to, points_table);
    } else {
        if !single && !read::points_at(&mut *conn, holder, holder_id, column, &t.logical_name, id).await? {
            return Err(DataverseError::not_found(&holder.logical_name, &holder_id));
        }
        write::clear_lookup(holder, &mut cells, column);
    }
    write::update(&mut *conn, &wctx, holder, holder_id, &current, cells).await?;
    Ok(no_content())
}

/// Spec §2.6 "Update a single property value" (`PUT …/{column}` with `{"value": …}`) and
/// "Delete a single property value" (`DELETE …/{column}`): 204; 404 when the row is missing;
/// 412 `0x80060882` when `If-Match` names another version; a required column cannot be cleared.
pub(super) async fn set_property(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    t: &Table,
    key: &RowKey,
    column: &str,
    value: Option<&Value>,
) -> Result<Response, DataverseError> {
    let col = t.column(column).ok_or_else(|| segment_not_found(column))?;
    let cell = match value {
        Some(v) => crate::rows::to_cell(t, col, v)?,
        None => crate::rows::Cell::Null,
    };
    let id = primary_key(&mut *conn, t, key).await?.ok_or_else(|| missing(t, key))?;
    let current = read::cells(&mut *conn, t, id).await?.ok_or_else(|| missing(t, key))?;
    check_if_match(ctx, &current)?;
    write::update(&mut *conn, &ctx.write_ctx(), t, id, &current, vec![(column.to_owned(), cell)]).await?;
    Ok(no_content())
}

/// Spec §2.9: 204; 404 when missing; 412 `0x80060882` when `If-Match` names another version.
pub(super) async fn delete(
    ctx: &Ctx<'_>,
    conn: &mut SqliteConnection,
    t: &Table,
    key: &RowKey,
) -> Result<Response, DataverseError> {
    let id = primary_key(&mut *conn, t, key).await?.ok_or_else(|| missing(t, key))?;
    let current = read::cells(&mut *conn, t, id).await?.ok_or_else(|| missing(t, key))?;
    check_if_match(ctx, &current)?;
    write::delete(&mut *conn, t, id).await?;
    crate::intersect::forget(&mut *conn, &ctx.app.schema, &t.logical_name, id).await?;
    Ok(no_content())
}

/// `GET /{set}({key})/…` (spec §2.5): a column (`{"value":…}`, or the bare text with `/$value`;
/// 204 when null), a single-valued navigation (the related row, 204 when the lookup is empty;
/// `{"@odata.id"}` with `/$ref`), one row of a collection-valued navigation by its key (404
/// when that row does not point at this one, as when it does not exist), or a collection-valued one (the related rows as a query over
/// the related table, their references with `/$ref`, their number with `/$count`, which the
/// docs say carries a UTF-8 BOM).
pub(super) async fn retrieve_property(
    ctx: &Ctx<'_>,
    t: &Table,
    key: &RowKey,
    target: &dataverse::request::PathTarget,
) -> Result<Response, DataverseError> {
    use dataverse::query::{CompareOp, Filter, Literal, Operand};
    use dataverse::request::PathTarget;
    let mut conn = ctx.app.store.read().await.map_err(db_error)?;
    let id = primary_key(&mut conn, t, key).await?.ok_or_else(|| missing(t, key))?;
    let table_of = |name: &str| {
        ctx.app.schema.table(name).ok_or_else(|| DataverseError::new(404, codes::ODATA_PARSE, "unknown table"))
    };
    match target {
        PathTarget::Column { column, raw } => {
            let (row, _) = shaped_row(ctx, &mut conn, t, id, std::slice::from_ref(column), &[])
                .await?
                .ok_or_else(|| missing(t, key))?;
            let name = t.column(column).map_or_else(|| column.clone(), |c| c.odata_name());
            let value = row.get(&name).cloned().unwrap_or(Value::Null);
            if value.is_null() {
                return Ok(build(StatusCode::NO_CONTENT, None, Body::empty()));
            }
            if *raw {
                let text = match &value {
                    Value::String(s) => s.clone(),
                    other => other.to_json(),
                };
                return Ok(build(StatusCode::OK, Some("text/plain"), text));
            }
            let mut o = Object::new();
            o.insert("@odata.context", Value::String(ctx.base.context(&format!("{}({id})/{name}", t.set_name))));
            o.insert("value", value);
            Ok(json(StatusCode::OK, o))
        }
        PathTarget::Single { navigation, table: related, refs_only, select, expand } => {
            let Some(dataverse::metadata::Navigation::Single { column, .. }) =
                ctx.app.schema.navigation(&t.logical_name, navigation)
            else {
                return Err(segment_not_found(navigation));
            };
            let related = table_of(related)?;
            let lookup = t.column(column).map_or_else(|| column.to_owned(), |c| c.odata_name());
            let (row, _) =
                shaped_row(ctx, &mut conn, t, id, &[column.to_owned()], &[]).await?.ok_or_else(|| missing(t, key))?;
            let Some(target_id) = row.get(&lookup).and_then(Value::as_str).and_then(|s| Uuid::try_parse(s).ok()) else {
                return Ok(build(StatusCode::NO_CONTENT, None, Body::empty()));
            };
            if *refs_only {
                let mut o = Object::new();
                o.insert("@odata.context", Value::String(ctx.base.context("$ref")));
                o.insert("@odata.id", Value::String(ctx.base.entity_id(&related.set_name, &target_id)));
                return Ok(json(StatusCode::OK, o));
            }
            let Some((row, version)) = shaped_row(ctx, &mut conn, related, target_id, select, expand).await? else {
                return Ok(build(StatusCode::NO_CONTENT, None, Body::empty()));
            };
            let response = json(StatusCode::OK, with_context(entity_context(ctx, related, select, expand), row));
            let response = preference_applied(response, &ctx.include.preference().into_iter().collect::<Vec<_>>());
            Ok(with_header(response, "etag", &etag(version)))
        }
        PathTarget::Member { navigation, table: related, key: related_key, select, expand } => {
            let nav = ctx.app.schema.navigation(&t.logical_name, navigation);
            let related = table_of(related)?;
            let not_related = || missing(related, related_key);
            let rid = primary_key(&mut conn, related, related_key).await?.ok_or_else(not_related)?;
            let linked = match &nav {
                Some(dataverse::metadata::Navigation::Collection { column, .. }) => {
                    read::points_at(&mut conn, related, rid, column, &t.logical_name, id).await?
                }
                Some(n @ dataverse::metadata::Navigation::Many { .. }) => {
                    let side = crate::intersect::Side::of(n).ok_or_else(|| segment_not_found(navigation))?;
                    crate::intersect::paired(&mut conn, side, id, rid).await?
                }
                _ => return Err(segment_not_found(navigation)),
            };
            if !linked {
                return Err(not_related());
            }
            let (row, version) =
                shaped_row(ctx, &mut conn, related, rid, select, expand).await?.ok_or_else(not_related)?;
            let response = json(StatusCode::OK, with_context(entity_context(ctx, related, select, expand), row));
            let response = preference_applied(response, &ctx.include.preference().into_iter().collect::<Vec<_>>());
            Ok(with_header(response, "etag", &etag(version)))
        }
        PathTarget::Collection { navigation, query, refs_only, count_only } => {
            let nav = ctx.app.schema.navigation(&t.logical_name, navigation);
            let related = table_of(&query.table)?;
            let this_row = |column: &str| Filter::Compare {
                left: Operand::Column(column.to_owned()),
                op: CompareOp::Eq,
                right: Operand::Value(Literal::Guid(id)),
            };
            let link = match &nav {
                // 1:N: the related table's rows whose lookup names this row.
                Some(dataverse::metadata::Navigation::Collection { column, .. }) => this_row(column),
                // N:N: the related table's rows paired with this one, as the lambda
                // `{back}/any(x: x/{pk} eq id)` over the navigation property leading back here.
                Some(dataverse::metadata::Navigation::Many { relationship, .. }) => {
                    let back = if relationship.entity1_nav == *navigation && relationship.entity1 == t.logical_name {
                        &relationship.entity2_nav
                    } else {
                        &relationship.entity1_nav
                    };
                    Filter::Any {
                        navigation: back.clone(),
                        table: t.logical_name.clone(),
                        predicate: Some(("x".into(), Box::new(this_row(&t.primary_id)))),
                    }
                }
                _ => return Err(segment_not_found(navigation)),
            };
            let mut q = query.clone();
            q.filter = Some(match q.filter.take() {
                Some(f) => Filter::And(Box::new(link), Box::new(f)),
                None => link,
            });
            if *count_only {
                let n = read::count(&mut conn, ctx.env, related, q.filter.as_ref()).await?;
                return Ok(build(StatusCode::OK, Some("text/plain"), format!("\u{feff}{}", n.shown)));
            }
            if *refs_only {
                let ids = match nav.as_ref().and_then(crate::intersect::Side::of) {
                    Some(side) => crate::intersect::ids(&mut conn, side, id).await?,
                    None => match &nav {
                        Some(dataverse::metadata::Navigation::Collection { column, .. }) => {
                            read::referencing_ids(&mut conn, related, column, id).await?
                        }
                        _ => return Err(segment_not_found(navigation)),
                    },
                };
                let refs: Vec<Value> = ids
                    .iter()
                    .map(|r| {
                        let mut o = Object::new();
                        o.insert("@odata.id", Value::String(ctx.base.entity_id(&related.set_name, r)));
                        Value::Object(o)
                    })
                    .collect();
                let mut o = Object::new();
                o.insert("@odata.context", Value::String(ctx.base.context("Collection($ref)")));
                o.insert("value", Value::Array(refs));
                return Ok(json(StatusCode::OK, o));
            }
            drop(conn);
            super::query(ctx, &q).await
        }
    }
}

/// Spec §10.3 (`0x0`, 404): a path segment the table does not have.
fn segment_not_found(name: &str) -> DataverseError {
    DataverseError::new(404, codes::ODATA_PARSE, format!("Resource not found for the segment '{name}'."))
}
