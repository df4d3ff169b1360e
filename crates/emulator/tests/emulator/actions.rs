//! The catalog's actions and data functions with their side effects (spec §6.3, §6.5):
//! WinOpportunity, LoseOpportunity and CloseIncident record their closing activity and move
//! the row to its closed state in one transaction; RetrieveTotalRecordCount counts now.

use crate::common::{assert_error, spawn};
use serde_json::{Value, json};

async fn opportunity(e: &crate::common::Emu, estimated: i64) -> String {
    e.create("opportunities", json!({"name": "Deal", "estimatedvalue": estimated})).await
}

fn close_body(status: i64, id: &str, extra: Value) -> Value {
    let mut close = json!({"subject": "Closed", "opportunityid@odata.bind": format!("/opportunities({id})")});
    for (k, v) in extra.as_object().unwrap() {
        close[k] = v.clone();
    }
    json!({"Status": status, "OpportunityClose": close})
}

#[tokio::test]
async fn winning_records_the_close_and_the_actual_value() {
    let e = spawn().await;
    let id = opportunity(&e, 1200).await;
    let body = close_body(3, &id, json!({"actualrevenue": 5000, "actualend": "2026-02-03T10:00:00Z"}));
    let resp = e.send("POST", "WinOpportunity", Some(&body), &[]).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let o = e.get_json(&format!("opportunities({id})?$select=statecode,statuscode,actualvalue,actualclosedate")).await;
    assert_eq!((o["statecode"].clone(), o["statuscode"].clone()), (json!(1), json!(3)));
    assert_eq!(o["actualvalue"].as_f64(), Some(5000.0));
    assert_eq!(o["actualclosedate"], "2026-02-03");
    let closes = e
        .get_json(&format!(
            "opportunitycloses?$select=subject,actualrevenue,statecode,statuscode&$filter=_opportunityid_value eq {id}"
        ))
        .await;
    let close = &closes["value"][0];
    assert_eq!(close["subject"], "Closed");
    assert_eq!((close["statecode"].clone(), close["statuscode"].clone()), (json!(1), json!(2)), "Completed");
    // Once closed, it cannot be closed again, and nothing more is recorded.
    let again = e.send("POST", "LoseOpportunity", Some(&close_body(4, &id, json!({}))), &[]).await;
    let message = assert_error(again, 400, "0x80040203").await;
    assert_eq!(message, "The opportunity is already closed.");
    let closes = e.get_json(&format!("opportunitycloses?$filter=_opportunityid_value eq {id}")).await;
    assert_eq!(closes["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn losing_takes_the_default_status_and_keeps_the_estimate_out_of_actuals() {
    let e = spawn().await;
    let id = opportunity(&e, 900).await;
    let resp = e.send("POST", "LoseOpportunity", Some(&close_body(-1, &id, json!({}))), &[]).await;
    assert_eq!(resp.status(), 204);
    let o = e.get_json(&format!("opportunities({id})?$select=statecode,statuscode,actualvalue,actualclosedate")).await;
    assert_eq!((o["statecode"].clone(), o["statuscode"].clone()), (json!(2), json!(4)), "Lost, Canceled");
    assert_eq!(o["actualvalue"], Value::Null);
    assert!(o["actualclosedate"].as_str().is_some());
    // A win without actualrevenue takes the estimate.
    let won = opportunity(&e, 700).await;
    assert_eq!(e.send("POST", "WinOpportunity", Some(&close_body(-1, &won, json!({}))), &[]).await.status(), 204);
    let o = e.get_json(&format!("opportunities({won})?$select=actualvalue,statuscode")).await;
    assert_eq!(o["actualvalue"].as_f64(), Some(700.0));
    assert_eq!(o["statuscode"], 3);
}

#[tokio::test]
async fn a_status_of_another_state_or_a_missing_row_changes_nothing() {
    let e = spawn().await;
    let id = opportunity(&e, 100).await;
    let wrong = e.send("POST", "WinOpportunity", Some(&close_body(4, &id, json!({}))), &[]).await;
    let message = assert_error(wrong, 400, "0x80048408").await;
    assert!(message.starts_with("4 is not a valid status code for state code OpportunityState.Won"), "{message}");
    let o = e.get_json(&format!("opportunities({id})?$select=statecode")).await;
    assert_eq!(o["statecode"], 0, "still open");
    let closes = e.get_json(&format!("opportunitycloses?$filter=_opportunityid_value eq {id}")).await;
    assert_eq!(closes["value"], json!([]), "the close activity was rolled back with it");
    let missing = uuid::Uuid::new_v4().to_string();
    let resp = e.send("POST", "WinOpportunity", Some(&close_body(3, &missing, json!({}))), &[]).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn closing_a_case_records_its_resolution() {
    let e = spawn().await;
    let account = e.create("accounts", json!({"name": "Customer"})).await;
    let case = e
        .create(
            "incidents",
            json!({"title": "Broken", "customerid_account@odata.bind": format!("/accounts({account})")}),
        )
        .await;
    let body = json!({"IncidentResolution": {"subject": "Fixed", "timespent": 60, "incidentid@odata.bind": format!("/incidents({case})")}, "Status": 1000});
    let resp = e.send("POST", "CloseIncident", Some(&body), &[]).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let c = e.get_json(&format!("incidents({case})?$select=statecode,statuscode")).await;
    assert_eq!(
        (c["statecode"].clone(), c["statuscode"].clone()),
        (json!(1), json!(1000)),
        "Resolved, Information Provided"
    );
    let r =
        e.get_json(&format!("incidentresolutions?$select=subject,timespent&$filter=_incidentid_value eq {case}")).await;
    assert_eq!(r["value"][0]["timespent"], 60);
    let again = e.send("POST", "CloseIncident", Some(&body), &[]).await;
    assert_eq!(assert_error(again, 400, "0x80040203").await, "The incident is already closed.");
}

#[tokio::test]
async fn total_record_counts_follow_the_tables() {
    let e = spawn().await;
    let before = e.get_json("RetrieveTotalRecordCount(EntityNames=['account','incident'])").await;
    let counts = &before["EntityRecordCountCollection"];
    assert_eq!(counts["Keys"], json!(["account", "incident"]));
    assert_eq!(counts["Count"], 2);
    let accounts = counts["Values"][0].as_i64().unwrap();
    e.create("accounts", json!({"name": "One more"})).await;
    let after = e.get_json("RetrieveTotalRecordCount(EntityNames=@p1)?@p1=[\"account\"]").await;
    assert_eq!(after["EntityRecordCountCollection"]["Values"][0].as_i64(), Some(accounts + 1));
    assert!(
        before["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse")
    );
}

#[tokio::test]
async fn the_multiple_messages_write_all_or_nothing() {
    let e = spawn().await;
    let ty = "Microsoft.Dynamics.CRM.account";
    let body = json!({"Targets": [{"@odata.type": ty, "name": "Multi A"}, {"@odata.type": ty, "name": "Multi B", "accountnumber": "M-2"}]});
    let resp = e.send("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", Some(&body), &[]).await;
    assert_eq!(resp.status(), 200);
    let created = crate::common::json(resp).await;
    let ids: Vec<String> = created["Ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 2);
    assert!(created["@odata.context"].as_str().unwrap().ends_with("#Microsoft.Dynamics.CRM.CreateMultipleResponse"));
    let b = e.get_json(&format!("accounts({})?$select=name", ids[1])).await;
    assert_eq!(b["name"], "Multi B", "ids come in request order");

    // One bad target rolls everything back.
    let bad = json!({"Targets": [{"@odata.type": ty, "name": "Multi C"}, {"@odata.type": ty, "name": "Dup", "accountnumber": "M-2"}]});
    let resp = e.send("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", Some(&bad), &[]).await;
    assert!(resp.status().is_client_error());
    assert_eq!(e.get_json("accounts?$filter=name eq 'Multi C'").await["value"], json!([]));

    let update = json!({"Targets": [{"@odata.type": ty, "accountid": ids[0], "telephone1": "1"}, {"@odata.type": ty, "accountid": ids[1], "telephone1": "2"}]});
    assert_eq!(
        e.send("POST", "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", Some(&update), &[]).await.status(),
        204
    );
    assert_eq!(e.get_json(&format!("accounts({})?$select=telephone1", ids[1])).await["telephone1"], "2");
    let missing = json!({"Targets": [{"@odata.type": ty, "accountid": ids[0], "telephone1": "3"}, {"@odata.type": ty, "accountid": uuid::Uuid::new_v4(), "telephone1": "4"}]});
    assert_eq!(
        e.send("POST", "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", Some(&missing), &[]).await.status(),
        404
    );
    assert_eq!(e.get_json(&format!("accounts({})?$select=telephone1", ids[0])).await["telephone1"], "1", "rolled back");

    let upsert = json!({"Targets": [
        {"@odata.type": ty, "@odata.id": "accounts(accountnumber='M-2')", "name": "Multi B2"},
        {"@odata.type": ty, "@odata.id": "accounts(accountnumber='M-3')", "name": "Multi D"}]});
    let resp = e.send("POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple", Some(&upsert), &[]).await;
    assert_eq!(resp.status(), 200);
    let results = crate::common::json(resp).await;
    assert_eq!(results["Results"][0]["RecordCreated"], false);
    assert_eq!(results["Results"][0]["Target"]["accountid"], json!(ids[1]));
    assert_eq!(results["Results"][1]["RecordCreated"], true);
    assert_eq!(e.get_json("accounts?$select=name&$filter=accountnumber eq 'M-3'").await["value"][0]["name"], "Multi D");
}

#[tokio::test]
async fn bulk_delete_removes_what_its_query_matches() {
    let e = spawn().await;
    let a = e.create("accounts", json!({"name": "Bulk A"})).await;
    let b = e.create("accounts", json!({"name": "Bulk B"})).await;
    let c = e.create("accounts", json!({"name": "Bulk C"})).await;
    let values: Vec<Value> = [&a, &b].iter().map(|id| json!({"Value": id, "Type": "System.Guid"})).collect();
    let body = json!({
        "JobName": "Bulk delete account records", "SendEmailNotification": false, "ToRecipients": [], "CCRecipients": [],
        "RecurrencePattern": "", "StartDateTime": "2026-11-27T08:00:00Z",
        "QuerySet": [{"@odata.type": "Microsoft.Dynamics.CRM.QueryExpression", "EntityName": "account",
            "ColumnSet": {"AllColumns": false, "Columns": []},
            "Criteria": {"FilterOperator": "And", "Conditions": [{"AttributeName": "accountid", "Operator": "In", "Values": values}]}}]
    });
    let resp = e.send("POST", "BulkDelete", Some(&body), &[]).await;
    assert_eq!(resp.status(), 200);
    let job = crate::common::json(resp).await;
    assert!(uuid::Uuid::parse_str(job["JobId"].as_str().unwrap()).is_ok(), "{job}");
    for (id, gone) in [(&a, true), (&b, true), (&c, false)] {
        assert_eq!(e.get(&format!("accounts({id})")).await.status() == 404, gone, "{id}");
    }
}

#[tokio::test]
async fn qualifying_a_lead_creates_what_was_asked_and_points_the_lead_at_it() {
    let e = spawn().await;
    let lead = e
        .create(
            "leads",
            json!({"subject": "Fleet deal", "firstname": "Ana", "lastname": "Silva", "companyname": "Silva Freight",
                   "emailaddress1": "ana@silva.example", "estimatedvalue": 9000}),
        )
        .await;
    let body = json!({"CreateAccount": true, "CreateContact": true, "CreateOpportunity": true, "Status": 3, "SuppressDuplicateDetection": true});
    let resp = e.send("POST", &format!("leads({lead})/Microsoft.Dynamics.CRM.QualifyLead"), Some(&body), &[]).await;
    assert_eq!(resp.status(), 200);
    let out = crate::common::json(resp).await;
    assert!(
        out["@odata.context"].as_str().unwrap().ends_with("$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)")
    );
    let rows = out["value"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["@odata.type"], "#Microsoft.Dynamics.CRM.account");
    let (account, contact, opportunity) = (
        rows[0]["accountid"].as_str().unwrap(),
        rows[1]["contactid"].as_str().unwrap(),
        rows[2]["opportunityid"].as_str().unwrap(),
    );
    assert_eq!(e.get_json(&format!("accounts({account})?$select=name")).await["name"], "Silva Freight");
    let c = e.get_json(&format!("contacts({contact})?$select=fullname,emailaddress1,_parentcustomerid_value")).await;
    assert_eq!((c["fullname"].clone(), c["_parentcustomerid_value"].clone()), (json!("Ana Silva"), json!(account)));
    let o = e
        .get_json(&format!(
            "opportunities({opportunity})?$select=name,estimatedvalue,_customerid_value,_originatingleadid_value"
        ))
        .await;
    assert_eq!(o["name"], "Fleet deal");
    assert_eq!(o["estimatedvalue"].as_f64(), Some(9000.0));
    assert_eq!((o["_customerid_value"].clone(), o["_originatingleadid_value"].clone()), (json!(account), json!(lead)));
    let l = e
        .get_json(&format!(
            "leads({lead})?$select=statecode,statuscode,_parentaccountid_value,_qualifyingopportunityid_value"
        ))
        .await;
    assert_eq!((l["statecode"].clone(), l["statuscode"].clone()), (json!(1), json!(3)));
    assert_eq!(l["_qualifyingopportunityid_value"], json!(opportunity));
    let again = e.send("POST", &format!("leads({lead})/Microsoft.Dynamics.CRM.QualifyLead"), Some(&body), &[]).await;
    assert_eq!(assert_error(again, 400, "0x80040203").await, "The lead is already closed.");

    // An account from a lead without a company name fails, and nothing is written.
    let bare = e.create("leads", json!({"lastname": "Nobody"})).await;
    let before =
        e.get_json("RetrieveTotalRecordCount(EntityNames=['contact'])").await["EntityRecordCountCollection"]["Values"]
            [0]
        .clone();
    let resp = e
        .send(
            "POST",
            &format!("leads({bare})/Microsoft.Dynamics.CRM.QualifyLead"),
            Some(&json!({"CreateAccount": true, "CreateContact": true, "CreateOpportunity": false, "Status": -1})),
            &[],
        )
        .await;
    assert_error(resp, 400, "0x80040203").await;
    let after =
        e.get_json("RetrieveTotalRecordCount(EntityNames=['contact'])").await["EntityRecordCountCollection"]["Values"]
            [0]
        .clone();
    assert_eq!(before, after);
    assert_eq!(e.get_json(&format!("leads({bare})?$select=statecode")).await["statecode"], 0);
}

#[tokio::test]
async fn merging_moves_the_children_and_retires_the_subordinate() {
    let e = spawn().await;
    let keep = e.create("accounts", json!({"name": "Keep Co"})).await;
    let old = e.create("accounts", json!({"name": "Old Co", "telephone1": "555-0001"})).await;
    let child = e
        .create(
            "contacts",
            json!({"lastname": "Child", "parentcustomerid_account@odata.bind": format!("/accounts({old})")}),
        )
        .await;
    let deal = e
        .create("opportunities", json!({"name": "Old deal", "parentaccountid@odata.bind": format!("/accounts({old})")}))
        .await;
    let body = json!({
        "Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": keep},
        "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": old},
        "UpdateContent": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountnumber": "MERGED-1"},
        "PerformParentingChecks": false
    });
    let resp = e.send("POST", "Merge", Some(&body), &[]).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    assert_eq!(
        e.get_json(&format!("contacts({child})?$select=_parentcustomerid_value")).await["_parentcustomerid_value"],
        json!(keep)
    );
    assert_eq!(
        e.get_json(&format!("opportunities({deal})?$select=_parentaccountid_value")).await["_parentaccountid_value"],
        json!(keep)
    );
    assert_eq!(e.get_json(&format!("accounts({keep})?$select=accountnumber")).await["accountnumber"], "MERGED-1");
    let retired = e.get_json(&format!("accounts({old})?$select=statecode,statuscode")).await;
    assert_eq!((retired["statecode"].clone(), retired["statuscode"].clone()), (json!(1), json!(2)));
    // Another table, or the same row twice, is refused before anything changes.
    let bad = json!({"Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": keep},
                     "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": child}});
    assert_error(e.send("POST", "Merge", Some(&bad), &[]).await, 400, "0x80048d19").await;
    let missing = json!({"Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": keep},
                         "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": uuid::Uuid::new_v4()}});
    assert_eq!(e.send("POST", "Merge", Some(&missing), &[]).await.status(), 404);
}

#[tokio::test]
async fn sharing_shows_in_principal_access_and_the_caller_holds_every_privilege() {
    let e = spawn().await;
    let me = e.get_json("WhoAmI").await["UserId"].as_str().unwrap().to_owned();
    let other = e
        .create("systemusers", json!({"firstname": "Sam", "lastname": "Share", "domainname": "sam@example.com"}))
        .await;
    let account = e.create("accounts", json!({"name": "Shared Co"})).await;
    let access = |user: String| {
        let e = &e;
        let account = account.clone();
        async move {
            let v = e
                .get_json(&format!(
                    "systemusers({user})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@tid)?@tid={{'@odata.id':'accounts({account})'}}"
                ))
                .await;
            v["AccessRights"].as_str().unwrap().to_owned()
        }
    };
    assert!(access(me.clone()).await.starts_with("ReadAccess, WriteAccess"), "the caller has every right");
    assert_eq!(access(other.clone()).await, "None");
    let grant = |mask: &str| {
        json!({
        "Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account},
        "PrincipalAccess": {"Principal": {"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": other}, "AccessMask": mask}})
    };
    assert_eq!(e.send("POST", "GrantAccess", Some(&grant("ReadAccess")), &[]).await.status(), 204);
    assert_eq!(e.send("POST", "GrantAccess", Some(&grant("WriteAccess")), &[]).await.status(), 204);
    assert_eq!(access(other.clone()).await, "ReadAccess, WriteAccess", "granting adds rights");
    assert_eq!(e.send("POST", "ModifyAccess", Some(&grant("ShareAccess")), &[]).await.status(), 204);
    assert_eq!(access(other.clone()).await, "ShareAccess", "modifying replaces them");
    let revoke = json!({"Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account},
                        "Revokee": {"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": other}});
    assert_eq!(e.send("POST", "RevokeAccess", Some(&revoke), &[]).await.status(), 204);
    assert_eq!(access(other.clone()).await, "None");
    let nobody = json!({"Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account},
        "PrincipalAccess": {"Principal": {"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": uuid::Uuid::new_v4()}, "AccessMask": "ReadAccess"}});
    assert_eq!(e.send("POST", "GrantAccess", Some(&nobody), &[]).await.status(), 404);

    let mine = e.get_json(&format!("systemusers({me})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges")).await;
    let privileges = mine["RolePrivileges"].as_array().unwrap();
    assert!(privileges.iter().any(|p| p["PrivilegeName"] == "prvReadAccount" && p["Depth"] == "Global"));
    let theirs = e.get_json(&format!("systemusers({other})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges")).await;
    assert_eq!(theirs["RolePrivileges"], json!([]), "other users hold no role in the emulator");
}
