//! Response shapes pinned with insta snapshots, each citing its source. The sample data is
//! seeded (seed 7: deterministic ids and values), the clock frozen, and the org URL's port
//! replaced by `[org]`.

use crate::common::{config, spawn_with};
use chrono::TimeZone;
use emulator::Storage;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"http://127\.0\.0\.1:\d+", "[org]");
    s.set_sort_maps(false);
    s
}

async fn seeded() -> crate::common::Emu {
    let e = spawn_with(emulator::EmulatorConfig { seed: Some(7), ..config(Storage::InMemory) }).await;
    e.emu.set_clock(Some(chrono::Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()));
    e
}

/// Spec §3 envelope, §3.1 `$select` (primary key always), §3.7 `@odata.count`.
#[tokio::test]
async fn query_page() {
    let e = seeded().await;
    let v =
        e.get_json("accounts?$select=name,revenue&$filter=revenue gt 1000000&$orderby=name&$top=2&$count=true").await;
    settings().bind(|| insta::assert_json_snapshot!("query_page", v));
}

/// Spec §3.6: single-valued expansion nested under the row, `@odata.context` lists it.
#[tokio::test]
async fn retrieve_with_expand() {
    let e = seeded().await;
    let page =
        e.get_json("contacts?$select=fullname&$filter=_parentcustomerid_value ne null&$orderby=fullname&$top=1").await;
    let id = page["value"][0]["contactid"].as_str().unwrap().to_owned();
    let v =
        e.get_json(&format!("contacts({id})?$select=fullname&$expand=parentcustomerid_account($select=name)")).await;
    settings().bind(|| insta::assert_json_snapshot!("retrieve_with_expand", v));
}

/// Spec §3.9–§3.10: formatted values and lookup annotations precede their property.
#[tokio::test]
async fn annotations() {
    let e = seeded().await;
    let resp = e
        .send(
            "GET",
            "accounts?$select=name,industrycode,revenue,_primarycontactid_value&$orderby=name&$top=1",
            None,
            &[("Prefer", "odata.include-annotations=\"*\"")],
        )
        .await;
    let v = crate::common::json(resp).await;
    settings().bind(|| insta::assert_json_snapshot!("annotations", v));
}

/// Spec §10.1: the error shape; §2.5: the not-found message.
#[tokio::test]
async fn error_shapes() {
    let e = seeded().await;
    let missing = crate::common::json(e.get("accounts(00000000-0000-0000-0000-000000000001)").await).await;
    let bad = crate::common::json(e.get("accounts?$select=nosuchcolumn").await).await;
    settings()
        .bind(|| insta::assert_json_snapshot!("errors", serde_json::json!({"missing": missing, "bad_select": bad})));
}

/// Spec §6.2: WhoAmI.
#[tokio::test]
async fn who_am_i() {
    let e = seeded().await;
    let v = e.get_json("WhoAmI").await;
    settings().bind(|| insta::assert_json_snapshot!("who_am_i", v));
}

/// Spec §3.11 (Microsoft's "Aggregate data using OData"): groups with their formatted values,
/// `@odata.context` of the set, no etags, and a related key named `{table}_{column}`.
#[tokio::test]
async fn apply_groups() {
    let e = seeded().await;
    let resp = e
        .send(
            "GET",
            "accounts?$apply=groupby((statecode),aggregate($count%20as%20count,revenue%20with%20sum%20as%20total))",
            None,
            &[("Prefer", "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\"")],
        )
        .await;
    let v = crate::common::json(resp).await;
    settings().bind(|| insta::assert_json_snapshot!("apply_groups", v));
}

/// Spec §4.1 and §4.4: FetchXML rows without nulls, a link-entity's columns as `alias.column`.
#[tokio::test]
async fn fetchxml_link() {
    let e = seeded().await;
    let xml = "<fetch top='2'><entity name='contact'><attribute name='fullname'/><attribute name='telephone1'/><order attribute='fullname'/><link-entity name='account' from='accountid' to='parentcustomerid' alias='acct'><attribute name='name'/></link-entity></entity></fetch>";
    let encoded: String = xml
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let v = e.get_json(&format!("contacts?fetchXml={encoded}")).await;
    settings().bind(|| insta::assert_json_snapshot!("fetchxml_link", v));
}

/// Spec §8.2: a keyed `EntityDefinitions` read is the object itself, `/$entity` in its context,
/// `MetadataId` always.
#[tokio::test]
async fn entity_definition() {
    let e = seeded().await;
    let v = e.get_json("EntityDefinitions(LogicalName='account')?$select=LogicalName,EntitySetName,PrimaryNameAttribute,OwnershipType").await;
    settings().bind(|| insta::assert_json_snapshot!("entity_definition", v));
}

/// Settings that also replace GUIDs made at run time (created rows, job ids) by `[id]`.
fn with_ids() -> insta::Settings {
    let mut s = settings();
    s.add_filter(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[id]");
    s
}

/// Spec §6.3: RetrieveTotalRecordCount's `EntityRecordCountCollection` (Keys, Values, Count).
#[tokio::test]
async fn total_record_count() {
    let e = seeded().await;
    let v = e.get_json("RetrieveTotalRecordCount(EntityNames=['account','contact'])").await;
    settings().bind(|| insta::assert_json_snapshot!("total_record_count", v));
}

/// Spec §6.5 QualifyLead: the created rows as `Collection(Microsoft.Dynamics.CRM.crmbaseentity)`.
#[tokio::test]
async fn qualify_lead_response() {
    let e = seeded().await;
    let lead = e
        .create("leads", serde_json::json!({"lastname": "Snap", "companyname": "Snap Co", "subject": "Snap deal"}))
        .await;
    let body =
        serde_json::json!({"CreateAccount": true, "CreateContact": true, "CreateOpportunity": true, "Status": 3});
    let resp = e.send("POST", &format!("leads({lead})/Microsoft.Dynamics.CRM.QualifyLead"), Some(&body), &[]).await;
    let v = crate::common::json(resp).await;
    with_ids().bind(|| insta::assert_json_snapshot!("qualify_lead_response", v));
}

/// Spec §6.7 CreateMultiple: `{"Ids": [...]}` in request order, 200.
#[tokio::test]
async fn create_multiple_response() {
    let e = seeded().await;
    let ty = "Microsoft.Dynamics.CRM.account";
    let body = serde_json::json!({"Targets": [{"@odata.type": ty, "name": "A"}, {"@odata.type": ty, "name": "B"}]});
    let resp = e.send("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", Some(&body), &[]).await;
    let v = crate::common::json(resp).await;
    with_ids().bind(|| insta::assert_json_snapshot!("create_multiple_response", v));
}

/// Spec §9: a delta — changed rows by version, then `$deletedEntity` entries, a new delta link,
/// the context ending in `/$delta`.
#[tokio::test]
async fn change_tracking_delta() {
    let e = seeded().await;
    let first = e.send("GET", "accounts?$select=name", None, &[("Prefer", "odata.track-changes")]).await;
    let link = crate::common::json(first).await["@odata.deltaLink"].as_str().unwrap().to_owned();
    let kept = e.create("accounts", serde_json::json!({"name": "Delta new"})).await;
    let gone = e.create("accounts", serde_json::json!({"name": "Delta gone"})).await;
    assert_eq!(e.send("DELETE", &format!("accounts({gone})"), None, &[]).await.status(), 204);
    let rel = link.split_once("/api/data/v9.2/").unwrap().1.to_owned();
    let v = e.get_json(&rel).await;
    assert!(v.to_string().contains(&kept));
    with_ids().bind(|| insta::assert_json_snapshot!("change_tracking_delta", v));
}
