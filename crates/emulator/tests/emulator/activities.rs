//! The activity and note tables (spec §15.9 `task`, §15.10 `annotation`): their polymorphic
//! regarding lookups bound, read back with their target table, navigated both ways, expanded
//! and filtered on; the task's state defaults.

use crate::common::{Emu, config, json, spawn, spawn_with};
use emulator::Storage;
use serde_json::{Value, json};

const REGARDING_TABLE: &str = "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname";

async fn annotated(e: &Emu, rel: &str) -> Value {
    let resp = e.send("GET", rel, None, &[("prefer", "odata.include-annotations=\"*\"")]).await;
    assert_eq!(resp.status(), 200, "GET {rel}");
    json(resp).await
}

/// A task regarding a new account, bound through `regardingobjectid_account_task`.
async fn account_with_task(e: &Emu, name: &str, subject: &str) -> (String, String) {
    let account = e.create("accounts", json!({"name": name})).await;
    let task = e
        .create(
            "tasks",
            json!({"subject": subject, "regardingobjectid_account_task@odata.bind": format!("/accounts({account})")}),
        )
        .await;
    (account, task)
}

/// Spec §15.9 (regarding navs `regardingobjectid_account_task`, …) with §5 binds and §3.10
/// lookup annotations: the bound regarding lookup reads back with its target table.
#[tokio::test]
async fn a_task_bound_to_an_account_reads_back_regarding_it() {
    let e = spawn().await;
    let (account, task) = account_with_task(&e, "Contoso", "Send the quote").await;
    let v = annotated(&e, &format!("tasks({task})?$select=subject,_regardingobjectid_value")).await;
    assert_eq!(v["activityid"], task.as_str());
    assert_eq!(v["subject"], "Send the quote");
    assert_eq!(v["_regardingobjectid_value"], account.as_str());
    assert_eq!(v[REGARDING_TABLE], "account");
    assert_eq!(
        v["_regardingobjectid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"],
        "regardingobjectid_account_task"
    );
    assert_eq!(v["_regardingobjectid_value@OData.Community.Display.V1.FormattedValue"], "Contoso");
    // Re-pointed at a contact through the contact's navigation property.
    let contact = e.create("contacts", json!({"lastname": "Fuller"})).await;
    let resp = e
        .send(
            "PATCH",
            &format!("tasks({task})"),
            Some(&json!({"regardingobjectid_contact_task@odata.bind": format!("/contacts({contact})")})),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 204);
    let v = annotated(&e, &format!("tasks({task})?$select=_regardingobjectid_value")).await;
    assert_eq!(v["_regardingobjectid_value"], contact.as_str());
    assert_eq!(v[REGARDING_TABLE], "contact");
}

/// Spec §15.1 (`Account_Tasks` collection nav) and §15.9: the account lists its tasks, and only
/// the tasks regarding it.
#[tokio::test]
async fn an_account_lists_its_tasks() {
    let e = spawn().await;
    let (account, task) = account_with_task(&e, "Contoso", "Send the quote").await;
    account_with_task(&e, "Fabrikam", "Not this one").await;
    let v = e.get_json(&format!("accounts({account})/Account_Tasks?$select=subject")).await;
    let rows = v["value"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["subject"], "Send the quote");
    assert_eq!(rows[0]["activityid"], task.as_str());
    let v = e.get_json(&format!("accounts({account})?$select=name&$expand=Account_Tasks($select=subject)")).await;
    assert_eq!(v["Account_Tasks"][0]["subject"], "Send the quote", "{v}");
}

/// Spec §15.9 regarding navs with §3.6 single-valued `$expand`.
#[tokio::test]
async fn a_task_expands_the_account_it_regards() {
    let e = spawn().await;
    let (account, task) = account_with_task(&e, "Contoso", "Send the quote").await;
    let v = e
        .get_json(&format!("tasks({task})?$select=subject&$expand=regardingobjectid_account_task($select=name)"))
        .await;
    assert_eq!(v["regardingobjectid_account_task"]["name"], "Contoso", "{v}");
    assert_eq!(v["regardingobjectid_account_task"]["accountid"], account.as_str());
    // A task regarding a contact has no account to expand.
    let contact = e.create("contacts", json!({"lastname": "Fuller"})).await;
    let other = e
        .create(
            "tasks",
            json!({"subject": "Call", "regardingobjectid_contact_task@odata.bind": format!("/contacts({contact})")}),
        )
        .await;
    let v = e
        .get_json(&format!("tasks({other})?$select=subject&$expand=regardingobjectid_account_task($select=name)"))
        .await;
    assert!(v["regardingobjectid_account_task"].is_null(), "{v}");
}

/// Spec §15.9 regarding navs with §3.3 lookup-path filters: only tasks regarding an account
/// with that name match.
#[tokio::test]
async fn tasks_filter_on_the_regarded_accounts_name() {
    let e = spawn().await;
    let (_, contoso_task) = account_with_task(&e, "Contoso", "Send the quote").await;
    account_with_task(&e, "Fabrikam", "Schedule a demo").await;
    let contact = e.create("contacts", json!({"lastname": "Contoso"})).await;
    e.create(
        "tasks",
        json!({"subject": "Call", "regardingobjectid_contact_task@odata.bind": format!("/contacts({contact})")}),
    )
    .await;
    let v = e.get_json("tasks?$select=subject&$filter=regardingobjectid_account_task/name%20eq%20'Contoso'").await;
    let rows = v["value"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["activityid"], contoso_task.as_str());
}

/// Spec §15.10 (`objectid_contact`, `Contact_Annotation`): a note attached to a contact, read
/// back with its target table and listed from the contact; `filesize` follows `documentbody`.
#[tokio::test]
async fn a_note_attaches_to_a_contact() {
    let e = spawn().await;
    let contact = e.create("contacts", json!({"lastname": "Fuller"})).await;
    let note = e
        .create(
            "annotations",
            json!({
                "subject": "Call notes",
                "notetext": "Wants a quote by Friday.",
                "isdocument": true,
                "filename": "hello.txt",
                "mimetype": "text/plain",
                "documentbody": "aGVsbG8=",
                "objectid_contact@odata.bind": format!("/contacts({contact})"),
            }),
        )
        .await;
    let v = annotated(&e, &format!("annotations({note})?$select=subject,filesize,_objectid_value")).await;
    assert_eq!(v["annotationid"], note.as_str());
    assert_eq!(v["_objectid_value"], contact.as_str());
    assert_eq!(v["_objectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "contact");
    assert_eq!(v["filesize"], 5, "base64 of \"hello\"");
    let v = e.get_json(&format!("contacts({contact})/Contact_Annotation?$select=subject,notetext")).await;
    assert_eq!(v["value"][0]["notetext"], "Wants a quote by Friday.", "{v}");
    let v =
        e.get_json(&format!("annotations({note})?$select=subject&$expand=objectid_contact($select=fullname)")).await;
    assert_eq!(v["objectid_contact"]["fullname"], "Fuller", "{v}");
}

/// Spec §15.9: a new task is Open (statecode 0) with the Open state's default status, 2 Not
/// Started; completing it takes the Completed state's status, 5.
#[tokio::test]
async fn a_new_task_is_open_and_not_started() {
    let e = spawn().await;
    let task = e.create("tasks", json!({"subject": "Follow up"})).await;
    let v = annotated(&e, &format!("tasks({task})?$select=statecode,statuscode,prioritycode")).await;
    assert_eq!(v["statecode"], 0);
    assert_eq!(v["statecode@OData.Community.Display.V1.FormattedValue"], "Open");
    assert_eq!(v["statuscode"], 2);
    assert_eq!(v["statuscode@OData.Community.Display.V1.FormattedValue"], "Not Started");
    let resp = e.send("PATCH", &format!("tasks({task})"), Some(&json!({"statecode": 1})), &[]).await;
    assert_eq!(resp.status(), 204);
    let v = e.get_json(&format!("tasks({task})?$select=statecode,statuscode")).await;
    assert_eq!((v["statecode"].as_i64(), v["statuscode"].as_i64()), (Some(1), Some(5)), "{v}");
}

/// Spec §15.9–§15.10 sample data: the seed adds tasks regarding its accounts and contacts (some
/// completed) and notes on accounts, the same ones for the same seed.
#[tokio::test]
async fn the_seed_adds_tasks_and_notes() {
    let seeded = || spawn_with(emulator::EmulatorConfig { seed: Some(7), ..config(Storage::InMemory) });
    let e = seeded().await;
    let all = "tasks?$select=subject,statecode,_regardingobjectid_value&$orderby=activityid";
    let tasks = annotated(&e, all).await;
    let rows = tasks["value"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    for t in rows {
        assert!(["account", "contact"].contains(&t[REGARDING_TABLE].as_str().unwrap()), "{t}");
    }
    assert!(rows.iter().any(|t| t["statecode"] == 1), "some tasks are completed");
    let notes = annotated(&e, "annotations?$select=subject,_objectid_value").await;
    let notes = notes["value"].as_array().unwrap();
    assert_eq!(notes.len(), 3);
    assert!(notes.iter().all(|n| n["_objectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"));
    let account = notes[0]["_objectid_value"].as_str().unwrap();
    let v = e.get_json(&format!("accounts({account})/Account_Annotation?$select=subject")).await;
    assert!(!v["value"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(annotated(&seeded().await, all).await["value"], tasks["value"]);
}
