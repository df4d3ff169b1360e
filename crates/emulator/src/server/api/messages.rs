//! The catalog's functions and actions with their Dataverse side effects (spec §6.3, §6.5).
//!
//! - `RetrieveTotalRecordCount`: the row count of each table named, as
//!   `EntityRecordCountCollection` (`Keys`, `Values`, `Count`, `IsReadOnly`). Dataverse answers
//!   from a snapshot up to a day old; the emulator counts now.
//! - `WinOpportunity` / `LoseOpportunity`: in one transaction, the `opportunityclose` activity
//!   is created Completed (its `actualend` defaulting to now) and the opportunity moves to Won
//!   (state 1) or Lost (state 2) with `Status` (-1: the state's default status, 3 Won or
//!   4 Canceled), `actualclosedate` = the activity's end date, and on a win `actualvalue` = the
//!   activity's `actualrevenue`, else the opportunity's `estimatedvalue`.
//! - `CloseIncident`: likewise an `incidentresolution` Completed and the case Resolved (state 1,
//!   `Status` 5 Problem Solved or 1000 Information Provided; -1: 5).
//!
//! Errors: the opportunity or case does not exist (404 `0x80040217`); it is not open ("The
//! opportunity is already closed.", 400 `0x80040203`: the message is the one users report,
//! the code is not documented); a `Status` that is not one of the new state's (400
//! `0x80048408`, as an update of `statuscode` answers). Nothing is written when any fails.

use super::rows::Ctx;
use super::table;
use crate::clock::stored;
use crate::read;
use crate::response::{db_error, json, no_content};
use crate::rows::{Cell, to_cell};
use crate::write::{self, Cells};
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Object, Value};
use dataverse::record::Record;
use dataverse::request::Message;
use uuid::Uuid;

pub(super) async fn execute(ctx: &Ctx<'_>, message: &Message) -> Result<Response, DataverseError> {
    match message {
        Message::RetrieveTotalRecordCount { tables } => total_record_count(ctx, tables).await,
        Message::CloseOpportunity { won, opportunity, status, close: record } => {
            let closing = Closing {
                target: "opportunity",
                id: *opportunity,
                state: if *won { 1 } else { 2 },
                status: *status,
                activity: "opportunityclose",
                won: Some(*won),
            };
            close(ctx, &closing, record).await
        }
        Message::CloseIncident { incident, status, resolution } => {
            let closing = Closing {
                target: "incident",
                id: *incident,
                state: 1,
                status: *status,
                activity: "incidentresolution",
                won: None,
            };
            close(ctx, &closing, resolution).await
        }
    }
}

async fn total_record_count(ctx: &Ctx<'_>, tables: &[String]) -> Result<Response, DataverseError> {
    let mut conn = ctx.app.store.read().await.map_err(db_error)?;
    let mut values = Vec::with_capacity(tables.len());
    for name in tables {
        let t = table(ctx.app, name)?;
        values.push(Value::from(read::count_up_to(&mut conn, ctx.env, t, None, u64::MAX >> 1).await?));
    }
    let mut counts = Object::new();
    counts.insert("Count", Value::from(tables.len() as i64));
    counts.insert("IsReadOnly", Value::Bool(false));
    counts.insert("Keys", Value::Array(tables.iter().map(|t| Value::String(t.clone())).collect()));
    counts.insert("Values", Value::Array(values));
    let mut o = Object::new();
    o.insert(
        "@odata.context",
        Value::String(ctx.base.context("Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse")),
    );
    o.insert("EntityRecordCountCollection", Value::Object(counts));
    Ok(json(StatusCode::OK, o))
}

/// One closing action.
struct Closing {
    /// The table closed (`opportunity`, `incident`).
    target: &'static str,
    /// The row closed.
    id: Uuid,
    /// Its new state.
    state: i64,
    /// `Status` as sent (-1: the state's default).
    status: i32,
    /// The activity recorded (`opportunityclose`, `incidentresolution`).
    activity: &'static str,
    /// For an opportunity: won (else lost).
    won: Option<bool>,
}

fn cell<'c>(cells: &'c [(String, Cell)], name: &str) -> Option<&'c Cell> {
    cells.iter().find(|(n, _)| n == name).map(|(_, c)| c)
}

async fn close(ctx: &Ctx<'_>, c: &Closing, record: &Record) -> Result<Response, DataverseError> {
    let app = ctx.app;
    let target = table(app, c.target)?;
    let activity = table(app, c.activity)?;
    let now = stored(ctx.env.now);
    let mut w = app.store.write().await.map_err(db_error)?;
    let conn = &mut w.tx;
    let current =
        read::cells(&mut *conn, target, c.id).await?.ok_or_else(|| DataverseError::not_found(c.target, &c.id))?;
    if cell(&current, "statecode").and_then(Cell::as_int).unwrap_or(0) != 0 {
        return Err(DataverseError::new(400, codes::INVALID_ARGUMENT, format!("The {} is already closed.", c.target)));
    }
    // The activity, Completed, ending now unless it says when.
    let mut done = record.clone();
    done.values.insert("statecode", Value::from(1i64));
    done.values.remove("statuscode");
    if !done.values.contains_key("actualend") {
        done.values.insert("actualend", Value::String(now.clone()));
    }
    let activity_id = crate::deep_insert::new_id(activity, &done)?;
    let wctx = ctx.write_ctx();
    crate::deep_insert::insert(&mut *conn, &wctx, &app.schema, activity, &done, activity_id, None).await?;
    // The row itself.
    let mut cells: Cells = vec![("statecode".to_owned(), Cell::Int(c.state))];
    if c.status != -1 {
        cells.push(("statuscode".to_owned(), Cell::Int(i64::from(c.status))));
    }
    if let Some(won) = c.won {
        let end = done.values.get("actualend").and_then(Value::as_str).unwrap_or(&now);
        cells.push(("actualclosedate".to_owned(), Cell::Text(end.chars().take(10).collect())));
        if won {
            let value = match (done.values.get("actualrevenue"), target.column("actualvalue")) {
                (Some(v), Some(column)) => to_cell(target, column, v)?,
                _ => cell(&current, "estimatedvalue").cloned().unwrap_or(Cell::Null),
            };
            cells.push(("actualvalue".to_owned(), value));
        }
    }
    write::update(&mut *conn, &wctx, target, c.id, &current, cells).await?;
    w.commit().await.map_err(db_error)?;
    Ok(no_content())
}
