//! Change tracking (spec §9), on every table of the emulator.
//!
//! The first sync (`Prefer: odata.track-changes`) answers the rows like a query with
//! `Preference-Applied: odata.track-changes` and an `@odata.deltaLink`; the delta link's
//! `$deltatoken` is `<row version>!<MM/dd/yyyy HH:mm:ss>` — the org-wide version counter every
//! write increments (spec §2.10) and the time it was issued. A delta answers the rows created or
//! changed since (by `versionnumber`, oldest first), then a `$deletedEntity` entry per row
//! deleted since (every delete records its version, `store::meta::DELETED`), with a new delta
//! link; its context ends in `/$delta`.
//!
//! One answer holds at most 5,000 rows (the emulator does not page changes with `nextLink`): when
//! more changed, the delta link's version is that of the last row answered, so the next delta
//! continues from there and deletions after it wait for it. Tokens older than seven days (the
//! org default of `expirechangetrackingindays`) are refused, asking for a full sync; the error's
//! code and wording are not documented (400 `0x80040203` here).

use super::rows::Ctx;
use super::{context, preference_applied, shape_rows, table};
use crate::expand;
use crate::paging::{self, Plan, Source};
use crate::response::{db_error, json};
use crate::store::meta;
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Object, Value};
use dataverse::query::{OrderBy, Query};

/// How long a delta token stays valid.
const TOKEN_DAYS: i64 = 7;
const TOKEN_TIME: &str = "%m/%d/%Y %H:%M:%S";

fn bad_token() -> DataverseError {
    DataverseError::bad_request("The $deltatoken is not one this service issued")
}

/// The version a delta token carries; refused when malformed or expired.
fn token_version(token: &str, now: chrono::DateTime<chrono::Utc>) -> Result<i64, DataverseError> {
    let decoded = percent_encoding::percent_decode_str(token).decode_utf8().map_err(|_| bad_token())?;
    let (version, issued) = decoded.split_once('!').ok_or_else(bad_token)?;
    let version: i64 = version.parse().map_err(|_| bad_token())?;
    let issued = chrono::NaiveDateTime::parse_from_str(issued, TOKEN_TIME).map_err(|_| bad_token())?.and_utc();
    if now - issued > chrono::Duration::days(TOKEN_DAYS) {
        return Err(DataverseError::new(
            400,
            codes::INVALID_ARGUMENT,
            format!(
                "The delta token has expired (changes are kept {TOKEN_DAYS} days): sync again without $deltatoken to get every row"
            ),
        ));
    }
    Ok(version)
}

pub(super) async fn changes(
    ctx: &Ctx<'_>,
    name: &str,
    select: &[String],
    token: Option<&str>,
) -> Result<Response, DataverseError> {
    let app = ctx.app;
    let t = table(app, name)?;
    let since = token.map(|tk| token_version(tk, ctx.env.now)).transpose()?;
    let filter = match since {
        Some(v) => Some(
            dataverse::parse::filter_text(&format!("versionnumber gt {v}"), &app.schema, t)
                .map_err(DataverseError::bad_request)?,
        ),
        None => None,
    };
    let q = Query {
        table: t.logical_name.clone(),
        select: select.to_vec(),
        filter,
        orderby: vec![OrderBy { path: Vec::new(), column: "versionnumber".into(), descending: false }],
        top: None,
        count: false,
        skiptoken: None,
        expand: Vec::new(),
    };
    let columns = expand::columns(ctx.env, t, &q.select, &[], None);
    let mut conn = app.store.read().await.map_err(db_error)?;
    let latest = meta::current(&mut conn, meta::VERSION_COUNTER).await.map_err(db_error)?;
    let src = Source { env: ctx.env, table: t, columns: &columns.all };
    let page = paging::fetch(&mut conn, src, &q, Plan::new(&q, None)).await?;
    // Up to where this answer reaches: everything, unless the rows were cut at a page.
    let upto = match (&page.next, page.rows.last()) {
        (Some(_), Some(last)) => last.version,
        _ => latest,
    };
    let deleted = match since {
        Some(v) => meta::deletions(&mut conn, &t.logical_name, v, upto).await.map_err(db_error)?,
        None => Vec::new(),
    };
    let rows = shape_rows(app, &mut conn, t, columns.shown(), &ctx.include, &page.rows).await?;
    drop(conn);
    let mut value: Vec<Value> = rows.into_iter().map(Value::Object).collect();
    for id in deleted {
        let mut d = Object::new();
        d.insert("@odata.context", Value::String(ctx.base.context(&format!("{}/$deletedEntity", t.set_name))));
        d.insert("id", Value::String(id));
        d.insert("reason", Value::String("deleted".into()));
        value.push(Value::Object(d));
    }
    let suffix = if since.is_some() { "/$delta" } else { "" };
    let mut o = Object::new();
    o.insert("@odata.context", Value::String(context(ctx, t, select, &[], suffix)));
    o.insert("value", Value::Array(value));
    let new_token = format!("{upto}!{}", ctx.env.now.format(TOKEN_TIME));
    const TOKEN_SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let mut link = format!("{}/{}?", ctx.base.0, t.set_name);
    if !select.is_empty() {
        link.push_str(&format!("$select={}&", select.join(",")));
    }
    link.push_str(&format!("$deltatoken={}", percent_encoding::utf8_percent_encode(&new_token, TOKEN_SET)));
    o.insert("@odata.deltaLink", Value::String(link));
    let applied: Vec<String> = if since.is_none() {
        std::iter::once("odata.track-changes".to_owned()).chain(ctx.include.preference()).collect()
    } else {
        ctx.include.preference().into_iter().collect()
    };
    Ok(preference_applied(json(StatusCode::OK, o), &applied))
}
