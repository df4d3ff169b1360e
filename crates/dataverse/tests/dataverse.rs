//! Protocol core tests: the standard schema, the parser's slice, the printer's round trip.

#[path = "dataverse/apply.rs"]
mod apply;
#[path = "dataverse/batch.rs"]
mod batch;
#[path = "dataverse/batch_requests.rs"]
mod batch_requests;
#[path = "dataverse/classify.rs"]
mod classify;
#[path = "dataverse/csdl.rs"]
mod csdl;
#[path = "dataverse/fetch.rs"]
mod fetch;
#[path = "dataverse/fuzz_corpus.rs"]
mod fuzz_corpus;
#[path = "dataverse/json.rs"]
mod json;
#[path = "dataverse/messages.rs"]
mod messages;
#[path = "dataverse/parse.rs"]
mod parse;
#[path = "dataverse/roundtrip.rs"]
mod roundtrip;
#[path = "dataverse/sql.rs"]
mod sql;

#[test]
fn standard_schema_is_consistent() {
    let s = dataverse::Schema::standard();
    for t in [
        "account",
        "contact",
        "lead",
        "opportunity",
        "incident",
        "systemuser",
        "team",
        "businessunit",
        "transactioncurrency",
        "task",
        "annotation",
    ] {
        let table = s.table(t).unwrap_or_else(|| panic!("{t} missing"));
        assert_eq!(s.table_by_set(&table.set_name).unwrap().logical_name, t);
        assert!(table.column(&table.primary_id).is_some());
        assert!(table.column(&table.primary_name).is_some(), "{t} primary name");
    }
    assert!(s.relationships().iter().any(|r| r.schema_name == "contact_customer_accounts"));
}

/// Spec §15.9–§15.10: the activity tables' keys and their polymorphic regarding lookups, one
/// relationship per target with Microsoft's navigation names on both sides.
#[test]
fn activity_tables_have_polymorphic_regarding_lookups() {
    use dataverse::metadata::{ColumnType, Navigation};
    let s = dataverse::Schema::standard();
    let task = s.table_by_set("tasks").unwrap();
    assert_eq!((task.primary_id.as_str(), task.primary_name.as_str()), ("activityid", "subject"));
    assert!(task.column("taskid").is_none());
    let Some(ColumnType::Status { options }) = task.column("statuscode").map(|c| &c.kind) else { panic!() };
    assert_eq!(
        options.iter().find(|(_, _, state)| *state == 0).map(|(v, _, _)| *v),
        Some(2),
        "Open defaults to Not Started"
    );
    let note = s.table_by_set("annotations").unwrap();
    assert_eq!((note.primary_id.as_str(), note.primary_name.as_str()), ("annotationid", "subject"));
    for (target, single, collection) in [
        ("account", "regardingobjectid_account_task", "Account_Tasks"),
        ("contact", "regardingobjectid_contact_task", "Contact_Tasks"),
        ("lead", "regardingobjectid_lead_task", "Lead_Tasks"),
        ("opportunity", "regardingobjectid_opportunity_task", "Opportunity_Tasks"),
        ("incident", "regardingobjectid_incident_task", "Incident_Tasks"),
    ] {
        let Some(Navigation::Single { column, target: t, .. }) = s.navigation("task", single) else {
            panic!("{single}")
        };
        assert_eq!((column, t), ("regardingobjectid", target));
        let Some(Navigation::Collection { column, target: t, .. }) = s.navigation(target, collection) else {
            panic!("{collection}")
        };
        assert_eq!((column, t), ("regardingobjectid", "task"));
    }
    for (target, single, collection) in [
        ("account", "objectid_account", "Account_Annotation"),
        ("contact", "objectid_contact", "Contact_Annotation"),
        ("lead", "objectid_lead", "Lead_Annotation"),
        ("opportunity", "objectid_opportunity", "Opportunity_Annotation"),
        ("incident", "objectid_incident", "Incident_Annotation"),
        ("task", "objectid_task", "Task_Annotation"),
    ] {
        assert_eq!(s.navigation("annotation", single).map(|n| n.target().to_owned()).as_deref(), Some(target));
        assert_eq!(s.navigation(target, collection).map(|n| n.target().to_owned()).as_deref(), Some("annotation"));
    }
}
