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
