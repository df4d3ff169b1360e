//! The activity and note tables of spec §15.9 (`task`) and §15.10 (`annotation`), with their
//! polymorphic "regarding" lookups limited to the standard tables shipped here (Dataverse
//! allows many more targets).
//!
//! Names, types and option values were checked against Microsoft's table reference
//! (powerapps-docs `reference/entities/task.md` and `annotation.md` for the Dataverse tables,
//! dynamics-365-customer-engagement `ce/developer/reference/entities/task.md` and
//! `annotation.md` for the lead, opportunity and incident targets): every relationship and
//! navigation name in [`relationships`] is Microsoft's. The system relationships added for every
//! table by `standard::relationships` follow the shared patterns, kept for consistency with the
//! other tables, so they differ from Dataverse's own names here: Dataverse has `user_task`, `team_task`,
//! `business_unit_task_activities` (with the single-valued `owningbusinessunit_task`) and
//! `lk_annotationbase_createdby`, `annotation_owning_user`, `team_annotations`,
//! `business_unit_annotations`.
//!
//! Left out: the `EntityName` columns (`activitytypecode`, `regardingobjecttypecode`,
//! `annotation.objecttypecode`), which have no [`ColumnType`] yet; the lookup's target table is
//! still reported through `lookuplogicalname`.

use super::{Def, col, lookup, memo, picklist, read_only, rel, required, state, status, string, table, yes_no};
use crate::metadata::{ColumnType, Ownership, Relationship, Table};

/// The standard tables a task may be regarding (spec §15.9).
const TASK_REGARDING: &[&str] = &["account", "contact", "lead", "opportunity", "incident"];

/// The standard tables a note may be attached to (spec §15.10).
const NOTE_OBJECTS: &[&str] = &["account", "contact", "lead", "opportunity", "incident", "task"];

/// Renames the primary id column: activities share `activitypointer`'s `activityid`.
fn with_primary_id(mut t: Table, id: &str) -> Table {
    if let Some(c) = t.columns.iter_mut().find(|c| c.logical_name == t.primary_id) {
        c.logical_name = id.to_owned();
    }
    t.primary_id = id.to_owned();
    t
}

/// `task` (spec §15.9): ObjectTypeCode 4212, primary key `activityid`. Task state and status
/// values and the Open state's default status (2 Not Started, listed first so new rows get it)
/// are Microsoft's. Tasks carry `transactioncurrencyid`/`exchangerate` like every activity.
pub(super) fn task() -> Table {
    let c = vec![
        required(string("subject", 200)),
        memo("description"),
        string("category", 250),
        string("subcategory", 250),
        col("scheduledstart", ColumnType::DateTime),
        col("scheduledend", ColumnType::DateTime),
        col("actualstart", ColumnType::DateTime),
        col("actualend", ColumnType::DateTime),
        col("actualdurationminutes", ColumnType::Integer),
        col("percentcomplete", ColumnType::Integer),
        picklist("prioritycode", &[(0, "Low"), (1, "Normal"), (2, "High")]),
        lookup("regardingobjectid", TASK_REGARDING),
        state(&[(0, "Open"), (1, "Completed"), (2, "Canceled")]),
        status(&[
            (2, "Not Started", 0),
            (3, "In Progress", 0),
            (4, "Waiting on someone else", 0),
            (7, "Deferred", 0),
            (5, "Completed", 1),
            (6, "Canceled", 2),
        ]),
    ];
    let t = table(Def {
        logical: "task",
        set: "tasks",
        schema: "Task",
        display: "Task",
        display_plural: "Tasks",
        primary_name: "subject",
        otc: 4212,
        ownership: Ownership::UserOwned,
        has_money: true,
        columns: c,
    });
    with_primary_id(t, "activityid")
}

/// `annotation` (spec §15.10): ObjectTypeCode 5. `isdocument` is SystemRequired in Dataverse
/// with a default of No; the emulator has no column defaults, so it is optional here.
/// `documentbody` is the base64 attachment (up to 1,073,741,823 characters); `filesize` is
/// read-only.
pub(super) fn annotation() -> Table {
    let c = vec![
        required(string("subject", 500)),
        col("notetext", ColumnType::Memo { max_length: 100_000 }),
        yes_no("isdocument"),
        string("filename", 255),
        string("mimetype", 256),
        read_only(col("filesize", ColumnType::Integer)),
        col("documentbody", ColumnType::Memo { max_length: 1_073_741_823 }),
        lookup("objectid", NOTE_OBJECTS),
    ];
    table(Def {
        logical: "annotation",
        set: "annotations",
        schema: "Annotation",
        display: "Note",
        display_plural: "Notes",
        primary_name: "subject",
        otc: 5,
        ownership: Ownership::UserOwned,
        has_money: false,
        columns: c,
    })
}

/// `opportunityclose` (ObjectTypeCode 4208, primary key `activityid`): the activity
/// WinOpportunity and LoseOpportunity create as the record of an opportunity's closing, with
/// the actual revenue and close date. State: 0 Open, 1 Completed, 2 Canceled (statuses 1, 2, 3).
pub(super) fn opportunityclose() -> Table {
    let mut c = vec![
        string("subject", 200),
        memo("description"),
        string("category", 250),
        string("subcategory", 250),
        lookup("opportunityid", &["opportunity"]),
        col("actualend", ColumnType::DateTime),
    ];
    c.extend(super::money("actualrevenue"));
    c.push(state(&[(0, "Open"), (1, "Completed"), (2, "Canceled")]));
    c.push(status(&[(1, "Open", 0), (2, "Completed", 1), (3, "Canceled", 2)]));
    let t = table(Def {
        logical: "opportunityclose",
        set: "opportunitycloses",
        schema: "OpportunityClose",
        display: "Opportunity Close",
        display_plural: "Opportunity Close",
        primary_name: "subject",
        otc: 4208,
        ownership: Ownership::UserOwned,
        has_money: true,
        columns: c,
    });
    with_primary_id(t, "activityid")
}

/// `incidentresolution` (ObjectTypeCode 4206, primary key `activityid`): the activity
/// CloseIncident creates as the record of a case's resolution, with the time spent. State: 0
/// Open, 1 Completed, 2 Canceled (statuses 1, 2, 3).
pub(super) fn incidentresolution() -> Table {
    let c = vec![
        string("subject", 200),
        memo("description"),
        string("category", 250),
        string("subcategory", 250),
        lookup("incidentid", &["incident"]),
        col("timespent", ColumnType::Integer),
        col("actualend", ColumnType::DateTime),
        state(&[(0, "Open"), (1, "Completed"), (2, "Canceled")]),
        status(&[(1, "Open", 0), (2, "Closed", 1), (3, "Canceled", 2)]),
    ];
    let t = table(Def {
        logical: "incidentresolution",
        set: "incidentresolutions",
        schema: "IncidentResolution",
        display: "Case Resolution",
        display_plural: "Case Resolutions",
        primary_name: "subject",
        otc: 4206,
        ownership: Ownership::UserOwned,
        has_money: false,
        columns: c,
    });
    with_primary_id(t, "activityid")
}

/// One relationship per target of the two polymorphic lookups: schema name = the collection
/// navigation on the target, `referencing_nav` = the single-valued one on the activity.
pub(super) fn relationships() -> Vec<Relationship> {
    vec![
        rel("Account_Tasks", "task", "regardingobjectid", "account", "regardingobjectid_account_task"),
        rel("Contact_Tasks", "task", "regardingobjectid", "contact", "regardingobjectid_contact_task"),
        rel("Lead_Tasks", "task", "regardingobjectid", "lead", "regardingobjectid_lead_task"),
        rel("Opportunity_Tasks", "task", "regardingobjectid", "opportunity", "regardingobjectid_opportunity_task"),
        rel("Incident_Tasks", "task", "regardingobjectid", "incident", "regardingobjectid_incident_task"),
        rel("Account_Annotation", "annotation", "objectid", "account", "objectid_account"),
        rel("Contact_Annotation", "annotation", "objectid", "contact", "objectid_contact"),
        rel("Task_Annotation", "annotation", "objectid", "task", "objectid_task"),
        rel("Lead_Annotation", "annotation", "objectid", "lead", "objectid_lead"),
        rel("Opportunity_Annotation", "annotation", "objectid", "opportunity", "objectid_opportunity"),
        rel("Incident_Annotation", "annotation", "objectid", "incident", "objectid_incident"),
        rel("Opportunity_OpportunityClose", "opportunityclose", "opportunityid", "opportunity", "opportunityid"),
        rel("Incident_IncidentResolutions", "incidentresolution", "incidentid", "incident", "incidentid"),
    ]
}
