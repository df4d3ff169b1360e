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
//! - `CreateMultiple` / `UpdateMultiple` / `UpsertMultiple` (spec §6.7): every target written as
//!   the single create, update (the row must exist) or upsert would be, in one transaction — any
//!   failure rolls back all and answers that target's error. Answers: `{"Ids": […]}` in request
//!   order; 204; `{"Results": [{"RecordCreated", "Target"}]}` (UpsertMultipleResponse's
//!   `Results` of UpsertResponse, serialized like other entity references; the exact Web API
//!   shape is not in the documentation read).
//!
//! - `BulkDelete`: Dataverse queues a job; the emulator deletes every matching row at once, in
//!   one transaction and through the single delete (N:N pairs forgotten too), and answers
//!   `{"JobId": …}` (200) as the job's id.
//!
//! - `QualifyLead`: in one transaction, the account (name ← the lead's `companyname`, which
//!   must be set), the contact (names, email, phone, job title; its parent the new account) and
//!   the opportunity (name ← the lead's `subject`, else its full name; estimated value, the
//!   currency bound, its customer the bound one, else the new account, else the new contact;
//!   parent account and contact; `originatingleadid` the lead) are created as asked, and the
//!   lead moves to Qualified (state 1; `Status` -1: 3) pointing at them. Answers the created
//!   rows as `Collection(Microsoft.Dynamics.CRM.crmbaseentity)`. A lead that is not open is
//!   refused ("The lead is already closed.", 400 `0x80040203`).
//!
//! - `Merge` (accounts, contacts, leads, cases): in one transaction, every row whose lookup
//!   names the subordinate (through any relationship to its table; at most 5,000 per
//!   relationship) is pointed at the target, `UpdateContent` is written to the target as an
//!   update, and the subordinate is retired: Inactive (accounts, contacts), Disqualified (leads),
//!   Canceled with status 2000 Merged (cases). N:N pairs stay with the subordinate. 204.
//!
//! - `GrantAccess` / `ModifyAccess` / `RevokeAccess`: the row's sharing with a user or team is
//!   kept per row and principal (`store::meta::SHARES`): granting adds rights, modifying
//!   replaces them, revoking removes the share. The row and the principal must exist (404). 204.
//! - Security roles, as far as the emulator has them: the calling application user holds the
//!   System Administrator role (every privilege, Global depth, on every table) and every right
//!   on every row; any other user holds no role, so its rights on a row are those of its owner
//!   (all of them) or those shared with it. `RetrieveUserPrivileges` answers
//!   `{"RolePrivileges": [{Depth, PrivilegeId, BusinessUnitId, PrivilegeName}]}`;
//!   `RetrievePrincipalAccess` answers `{"AccessRights": "ReadAccess, WriteAccess, …"}` (`None`
//!   when it has none).
//!
//! - Custom APIs registered with the emulator's schema (`Schema::with_operations`, for tests):
//!   the emulator cannot run an org's logic, so each answers a stub — 200 with
//!   `{"@odata.context": "…#Microsoft.Dynamics.CRM.<name>Response", "Received": [parameter
//!   names]}` — after checking that the row it is bound to exists (404).
//!
//! Errors of the closing actions: the opportunity or case does not exist (404 `0x80040217`); it is not open ("The
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
use dataverse::request::{Message, RowKey};
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
        Message::CreateMultiple { table: name, records } => create_multiple(ctx, name, records).await,
        Message::UpdateMultiple { table: name, targets } => {
            let keyed: Vec<(RowKey, &Record)> = targets.iter().map(|(id, r)| (RowKey::Id(*id), r)).collect();
            write_multiple(ctx, name, &keyed, false).await
        }
        Message::UpsertMultiple { table: name, targets } => {
            let keyed: Vec<(RowKey, &Record)> = targets.iter().map(|(k, r)| (k.clone(), r)).collect();
            write_multiple(ctx, name, &keyed, true).await
        }
        Message::BulkDelete { table: name, filter, .. } => bulk_delete(ctx, name, filter).await,
        Message::QualifyLead { .. } => qualify_lead(ctx, message).await,
        Message::Share { kind, table: name, target, principal, rights } => {
            share(ctx, *kind, name, *target, principal, rights).await
        }
        Message::RetrieveUserPrivileges { user } => user_privileges(ctx, *user).await,
        Message::Custom { name, bound, parameters, .. } => custom(ctx, name, bound.as_ref(), parameters).await,
        Message::RetrievePrincipalAccess { user, table: name, target } => {
            principal_access(ctx, *user, name, *target).await
        }
        Message::Merge { table: name, target, subordinate, content, .. } => {
            merge(ctx, name, *target, *subordinate, content).await
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

async fn create_multiple(ctx: &Ctx<'_>, name: &str, records: &[Record]) -> Result<Response, DataverseError> {
    let t = table(ctx.app, name)?;
    let mut w = ctx.app.store.write().await.map_err(db_error)?;
    let mut ids = Vec::with_capacity(records.len());
    for record in records {
        let (_, id) = super::rows::create(ctx, &mut w.tx, t, record, (&[], &[])).await?;
        ids.push(Value::String(id.to_string()));
    }
    w.commit().await.map_err(db_error)?;
    let mut o = response_of(ctx, "CreateMultiple");
    o.insert("Ids", Value::Array(ids));
    Ok(json(StatusCode::OK, o))
}

/// UpdateMultiple (`upsert` false: every row must exist) or UpsertMultiple.
async fn write_multiple(
    ctx: &Ctx<'_>,
    name: &str,
    targets: &[(RowKey, &Record)],
    upsert: bool,
) -> Result<Response, DataverseError> {
    let t = table(ctx.app, name)?;
    let mut w = ctx.app.store.write().await.map_err(db_error)?;
    let mut results = Vec::with_capacity(targets.len());
    for (key, record) in targets {
        let (id, created) = super::rows::update_row(ctx, &mut w.tx, t, key, record, upsert).await?;
        let mut target = Object::new();
        target.insert("@odata.type", Value::String(format!("#Microsoft.Dynamics.CRM.{}", t.logical_name)));
        target.insert(t.primary_id.as_str(), Value::String(id.to_string()));
        let mut result = Object::new();
        result.insert("RecordCreated", Value::Bool(created));
        result.insert("Target", Value::Object(target));
        results.push(Value::Object(result));
    }
    w.commit().await.map_err(db_error)?;
    if !upsert {
        return Ok(no_content());
    }
    let mut o = response_of(ctx, "UpsertMultiple");
    o.insert("Results", Value::Array(results));
    Ok(json(StatusCode::OK, o))
}

async fn bulk_delete(ctx: &Ctx<'_>, name: &str, filter: &dataverse::query::Filter) -> Result<Response, DataverseError> {
    let t = table(ctx.app, name)?;
    let mut w = ctx.app.store.write().await.map_err(db_error)?;
    let ids = read::matching_ids(&mut w.tx, ctx.env, t, filter).await?;
    for id in &ids {
        super::rows::delete(ctx, &mut w.tx, t, &RowKey::Id(*id)).await?;
    }
    w.commit().await.map_err(db_error)?;
    let mut o = response_of(ctx, "BulkDelete");
    o.insert("JobId", Value::String(Uuid::new_v4().to_string()));
    Ok(json(StatusCode::OK, o))
}

/// The columns a qualified lead passes to each row it creates: (lead column, new row column).
const TO_ACCOUNT: &[(&str, &str)] = &[
    ("companyname", "name"),
    ("telephone1", "telephone1"),
    ("emailaddress1", "emailaddress1"),
    ("websiteurl", "websiteurl"),
];
const TO_CONTACT: &[(&str, &str)] = &[
    ("firstname", "firstname"),
    ("lastname", "lastname"),
    ("emailaddress1", "emailaddress1"),
    ("telephone1", "telephone1"),
    ("mobilephone", "mobilephone"),
    ("jobtitle", "jobtitle"),
];

fn copied(lead: &[(String, Cell)], target: &dataverse::metadata::Table, map: &[(&str, &str)]) -> Cells {
    map.iter()
        .filter(|(_, to)| target.column(to).is_some())
        .filter_map(|(from, to)| cell(lead, from).filter(|c| **c != Cell::Null).map(|c| ((*to).to_owned(), c.clone())))
        .collect()
}

async fn qualify_lead(ctx: &Ctx<'_>, message: &Message) -> Result<Response, DataverseError> {
    let Message::QualifyLead { lead, account, contact, opportunity, currency, customer, status } = message else {
        return Err(DataverseError::bad_request("not QualifyLead"));
    };
    let app = ctx.app;
    let (leads, accounts, contacts, opportunities) =
        (table(app, "lead")?, table(app, "account")?, table(app, "contact")?, table(app, "opportunity")?);
    let wctx = ctx.write_ctx();
    let mut w = app.store.write().await.map_err(db_error)?;
    let conn = &mut w.tx;
    let current =
        read::cells(&mut *conn, leads, *lead).await?.ok_or_else(|| DataverseError::not_found("lead", lead))?;
    if cell(&current, "statecode").and_then(Cell::as_int).unwrap_or(0) != 0 {
        return Err(DataverseError::new(400, codes::INVALID_ARGUMENT, "The lead is already closed."));
    }
    let mut created: Vec<(&dataverse::metadata::Table, Uuid)> = Vec::new();
    let mut lead_cells: Cells = vec![("statecode".to_owned(), Cell::Int(1))];
    if *status != -1 {
        lead_cells.push(("statuscode".to_owned(), Cell::Int(i64::from(*status))));
    }
    let account_id = if *account {
        let cells = copied(&current, accounts, TO_ACCOUNT);
        if !cells.iter().any(|(n, _)| n == "name") {
            return Err(DataverseError::new(
                400,
                codes::INVALID_ARGUMENT,
                "The lead has no company name (companyname) to create an account from.",
            ));
        }
        let id = Uuid::new_v4();
        write::insert(&mut *conn, &wctx, accounts, id, cells).await?;
        write::set_lookup(leads, &mut lead_cells, "parentaccountid", id, "account");
        created.push((accounts, id));
        Some(id)
    } else {
        None
    };
    let contact_id = if *contact {
        let mut cells = copied(&current, contacts, TO_CONTACT);
        if let Some(a) = account_id {
            write::set_lookup(contacts, &mut cells, "parentcustomerid", a, "account");
        }
        let id = Uuid::new_v4();
        write::insert(&mut *conn, &wctx, contacts, id, cells).await?;
        write::set_lookup(leads, &mut lead_cells, "parentcontactid", id, "contact");
        created.push((contacts, id));
        Some(id)
    } else {
        None
    };
    if *opportunity {
        let name = cell(&current, "subject")
            .or_else(|| cell(&current, "fullname"))
            .filter(|c| **c != Cell::Null)
            .cloned()
            .unwrap_or_else(|| Cell::Text("Opportunity".to_owned()));
        let mut cells: Cells = vec![("name".to_owned(), name)];
        cells.extend(copied(
            &current,
            opportunities,
            &[("estimatedvalue", "estimatedvalue"), ("budgetamount", "budgetamount")],
        ));
        let customer_ref = customer
            .clone()
            .or_else(|| account_id.map(|a| ("account".to_owned(), a)))
            .or_else(|| contact_id.map(|c| ("contact".to_owned(), c)));
        if let Some((t, id)) = &customer_ref {
            if !write::exists(&mut *conn, table(app, t)?, *id).await? {
                return Err(DataverseError::not_found(t, id));
            }
            write::set_lookup(opportunities, &mut cells, "customerid", *id, t);
        }
        if let Some(a) = account_id {
            write::set_lookup(opportunities, &mut cells, "parentaccountid", a, "account");
        }
        if let Some(c) = contact_id {
            write::set_lookup(opportunities, &mut cells, "parentcontactid", c, "contact");
        }
        write::set_lookup(opportunities, &mut cells, "originatingleadid", *lead, "lead");
        if let Some(cur) = currency {
            if !write::exists(&mut *conn, table(app, "transactioncurrency")?, *cur).await? {
                return Err(DataverseError::not_found("transactioncurrency", cur));
            }
            write::set_lookup(opportunities, &mut cells, "transactioncurrencyid", *cur, "transactioncurrency");
        }
        let id = Uuid::new_v4();
        write::insert(&mut *conn, &wctx, opportunities, id, cells).await?;
        write::set_lookup(leads, &mut lead_cells, "qualifyingopportunityid", id, "opportunity");
        created.push((opportunities, id));
    }
    write::update(&mut *conn, &wctx, leads, *lead, &current, lead_cells).await?;
    w.commit().await.map_err(db_error)?;
    let rows: Vec<Value> = created
        .iter()
        .map(|(t, id)| {
            let mut o = Object::new();
            o.insert("@odata.type", Value::String(format!("#Microsoft.Dynamics.CRM.{}", t.logical_name)));
            o.insert(t.primary_id.as_str(), Value::String(id.to_string()));
            Value::Object(o)
        })
        .collect();
    let mut o = Object::new();
    o.insert("@odata.context", Value::String(ctx.base.context("Collection(Microsoft.Dynamics.CRM.crmbaseentity)")));
    o.insert("value", Value::Array(rows));
    Ok(json(StatusCode::OK, o))
}

async fn merge(
    ctx: &Ctx<'_>,
    name: &str,
    target: Uuid,
    subordinate: Uuid,
    content: &Record,
) -> Result<Response, DataverseError> {
    let app = ctx.app;
    let t = table(app, name)?;
    let wctx = ctx.write_ctx();
    let mut w = app.store.write().await.map_err(db_error)?;
    let conn = &mut w.tx;
    read::cells(&mut *conn, t, target).await?.ok_or_else(|| DataverseError::not_found(name, &target))?;
    let retired =
        read::cells(&mut *conn, t, subordinate).await?.ok_or_else(|| DataverseError::not_found(name, &subordinate))?;
    // The subordinate's children move to the target.
    for rel in app.schema.relationships().iter().filter(|r| r.referenced_table == t.logical_name) {
        let child = table(app, &rel.referencing_table)?;
        for id in read::referencing_ids(&mut *conn, child, &rel.referencing_column, subordinate).await? {
            let Some(current) = read::cells(&mut *conn, child, id).await? else { continue };
            let mut cells = Cells::new();
            write::set_lookup(child, &mut cells, &rel.referencing_column, target, &t.logical_name);
            write::update(&mut *conn, &wctx, child, id, &current, cells).await?;
        }
    }
    if !content.values.is_empty() || !content.binds.is_empty() {
        super::rows::update_row(ctx, &mut *conn, t, &RowKey::Id(target), content, false).await?;
    }
    let (state, status) = match name {
        "lead" => (2, None),
        "incident" => (2, Some(2000)),
        _ => (1, None),
    };
    let mut cells: Cells = vec![("statecode".to_owned(), Cell::Int(state))];
    if let Some(s) = status {
        cells.push(("statuscode".to_owned(), Cell::Int(s)));
    }
    write::update(&mut *conn, &wctx, t, subordinate, &retired, cells).await?;
    w.commit().await.map_err(db_error)?;
    Ok(no_content())
}

async fn share(
    ctx: &Ctx<'_>,
    kind: dataverse::request::ShareKind,
    name: &str,
    target: Uuid,
    principal: &(String, Uuid),
    rights: &[String],
) -> Result<Response, DataverseError> {
    use dataverse::request::{ACCESS_RIGHTS, ShareKind};
    let app = ctx.app;
    let t = table(app, name)?;
    let principals = table(app, &principal.0)?;
    let mut w = app.store.write().await.map_err(db_error)?;
    let conn = &mut w.tx;
    if !write::exists(&mut *conn, t, target).await? {
        return Err(DataverseError::not_found(name, &target));
    }
    if !write::exists(&mut *conn, principals, principal.1).await? {
        return Err(DataverseError::not_found(&principal.0, &principal.1));
    }
    let (row, who) = (target.to_string(), principal.1.to_string());
    let now = crate::store::meta::shared_rights(&mut *conn, &t.logical_name, &row, &who).await.map_err(db_error)?;
    let next: Vec<String> = match kind {
        ShareKind::Revoke => Vec::new(),
        ShareKind::Modify => rights.to_vec(),
        ShareKind::Grant => ACCESS_RIGHTS
            .iter()
            .filter(|r| now.iter().chain(rights).any(|h| h == *r))
            .map(|r| (*r).to_owned())
            .collect(),
    };
    crate::store::meta::set_shared_rights(&mut *conn, &t.logical_name, &row, &who, &next).await.map_err(db_error)?;
    w.commit().await.map_err(db_error)?;
    Ok(no_content())
}

/// A stable id for a privilege name (`prvReadAccount`), the same in every run.
fn privilege_id(name: &str) -> Uuid {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in name.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    Uuid::from_u128(h)
}

async fn user_privileges(ctx: &Ctx<'_>, user: Uuid) -> Result<Response, DataverseError> {
    let app = ctx.app;
    let users = table(app, "systemuser")?;
    let mut conn = app.store.read().await.map_err(db_error)?;
    if read::cells(&mut conn, users, user).await?.is_none() {
        return Err(DataverseError::not_found("systemuser", &user));
    }
    let mut privileges = Vec::new();
    if user == ctx.caller.user_id {
        for t in app.schema.tables() {
            for verb in ["Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share"] {
                let name = format!("prv{verb}{}", t.schema_name);
                let mut p = Object::new();
                p.insert("Depth", Value::String("Global".into()));
                p.insert("PrivilegeId", Value::String(privilege_id(&name).to_string()));
                p.insert("BusinessUnitId", Value::String(app.sys.root_business_unit.to_string()));
                p.insert("PrivilegeName", Value::String(name));
                privileges.push(Value::Object(p));
            }
        }
    }
    let mut o = Object::new();
    o.insert(
        "@odata.context",
        Value::String(ctx.base.context("Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse")),
    );
    o.insert("RolePrivileges", Value::Array(privileges));
    Ok(json(StatusCode::OK, o))
}

async fn principal_access(ctx: &Ctx<'_>, user: Uuid, name: &str, target: Uuid) -> Result<Response, DataverseError> {
    use dataverse::request::ACCESS_RIGHTS;
    let app = ctx.app;
    let (users, t) = (table(app, "systemuser")?, table(app, name)?);
    let mut conn = app.store.read().await.map_err(db_error)?;
    if read::cells(&mut conn, users, user).await?.is_none() {
        return Err(DataverseError::not_found("systemuser", &user));
    }
    let row = read::cells(&mut conn, t, target).await?.ok_or_else(|| DataverseError::not_found(name, &target))?;
    let owner = cell(&row, "ownerid").and_then(|c| match c {
        Cell::Text(s) => Uuid::parse_str(s).ok(),
        _ => None,
    });
    let rights: Vec<String> = if user == ctx.caller.user_id || owner == Some(user) {
        ACCESS_RIGHTS.iter().map(|r| (*r).to_owned()).collect()
    } else {
        crate::store::meta::shared_rights(&mut conn, &t.logical_name, &target.to_string(), &user.to_string())
            .await
            .map_err(db_error)?
    };
    let mut o = Object::new();
    o.insert(
        "@odata.context",
        Value::String(ctx.base.context("Microsoft.Dynamics.CRM.RetrievePrincipalAccessResponse")),
    );
    o.insert("AccessRights", Value::String(if rights.is_empty() { "None".to_owned() } else { rights.join(", ") }));
    Ok(json(StatusCode::OK, o))
}

async fn custom(
    ctx: &Ctx<'_>,
    name: &str,
    bound: Option<&(String, RowKey)>,
    parameters: &Object,
) -> Result<Response, DataverseError> {
    if let Some((t, RowKey::Id(id))) = bound {
        let mut conn = ctx.app.store.read().await.map_err(db_error)?;
        if read::cells(&mut conn, table(ctx.app, t)?, *id).await?.is_none() {
            return Err(DataverseError::not_found(t, id));
        }
    }
    let mut o = response_of(ctx, name);
    o.insert("Received", Value::Array(parameters.keys().map(|k| Value::String(k.to_owned())).collect()));
    Ok(json(StatusCode::OK, o))
}

/// The body of a message's answer: `{"@odata.context": "…#Microsoft.Dynamics.CRM.<name>Response"}`,
/// to which the handler adds the response's properties.
fn response_of(ctx: &Ctx<'_>, name: &str) -> Object {
    let mut o = Object::new();
    o.insert("@odata.context", Value::String(ctx.base.context(&format!("Microsoft.Dynamics.CRM.{name}Response"))));
    o
}
