//! Service document, WhoAmI and row writes and reads (spec §2, §6.2, §8.1, §10).

use crate::common::{assert_error, header, json, spawn};
use serde_json::json;

fn is_guid(v: &serde_json::Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 36 && s == s.to_lowercase() && s.matches('-').count() == 4)
}

#[tokio::test]
async fn service_document_and_whoami() {
    let e = spawn().await;
    let resp = e.get("").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "odata-version").as_deref(), Some("4.0"));
    assert_eq!(header(&resp, "content-type").as_deref(), Some("application/json; odata.metadata=minimal"));
    let doc = json(resp).await;
    assert_eq!(doc["@odata.context"], format!("{}/$metadata", e.base()));
    let sets = doc["value"].as_array().unwrap();
    assert!(sets.iter().any(|s| *s == json!({"name":"accounts","kind":"EntitySet","url":"accounts"})));

    let who = e.get_json("WhoAmI").await;
    assert_eq!(who["@odata.context"], format!("{}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", e.base()));
    for k in ["BusinessUnitId", "UserId", "OrganizationId"] {
        assert!(is_guid(&who[k]), "{k}: {who}");
    }
    // The app user is the one seeded for the default client.
    let user = e
        .get_json(&format!(
            "systemusers({})?$select=fullname,accessmode,_businessunitid_value",
            who["UserId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(user["fullname"], "# stanchion-local");
    assert_eq!(user["accessmode"], 4);
    assert_eq!(user["_businessunitid_value"], who["BusinessUnitId"]);
}

#[tokio::test]
async fn create_returns_204_with_entity_id_or_201_with_the_row() {
    let e = spawn().await;
    let id = e.create("accounts", json!({"name": "Sample Account", "revenue": 5000000, "creditonhold": false})).await;

    let resp = e
        .send(
            "POST",
            "accounts?$select=name,revenue",
            Some(&json!({"name": "Represented", "revenue": 12345.5, "accountcategorycode": 1})),
            &[("prefer", "return=representation")],
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(header(&resp, "preference-applied").as_deref(), Some("return=representation"));
    assert!(header(&resp, "odata-entityid").is_none());
    let raw = resp.text().await.unwrap();
    assert!(raw.contains(r#""revenue":12345.5000,"#), "money has four decimals on the wire: {raw}");
    let row: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(row["@odata.context"], format!("{}/$metadata#accounts(name,revenue)/$entity", e.base()));
    assert!(row["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert_eq!(row["name"], "Represented");
    assert!(is_guid(&row["accountid"]));
    assert!(is_guid(&row["_transactioncurrencyid_value"]), "money auto-adds the currency: {row}");
    assert!(row.get("accountcategorycode").is_none());

    // Every column without $select; system columns filled in.
    let all = e.get_json(&format!("accounts({id})")).await;
    assert_eq!(all["@odata.context"], format!("{}/$metadata#accounts/$entity", e.base()));
    let who = e.get_json("WhoAmI").await;
    assert_eq!(all["_ownerid_value"], who["UserId"]);
    assert_eq!(all["_createdby_value"], who["UserId"]);
    assert_eq!(all["_owningbusinessunit_value"], who["BusinessUnitId"]);
    assert_eq!(all["statecode"], 0);
    assert_eq!(all["statuscode"], 1);
    assert_eq!(all["revenue_base"], all["revenue"]);
    assert_eq!(all["exchangerate"], 1.0);
    assert_eq!(all["description"], serde_json::Value::Null);
    let created = all["createdon"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    assert_eq!(all["@odata.etag"], format!("W/\"{}\"", all["versionnumber"]));
}

#[tokio::test]
async fn retrieve_with_select_etag_and_304() {
    let e = spawn().await;
    let id = e.create("accounts", json!({"name": "Etag Co", "revenue": 10000})).await;
    let resp = e.get(&format!("accounts({id})?$select=name,revenue")).await;
    assert_eq!(resp.status(), 200);
    let etag = header(&resp, "etag").expect("ETag");
    let row = json(resp).await;
    assert_eq!(row["@odata.etag"], etag);
    assert_eq!(row["@odata.context"], format!("{}/$metadata#accounts(name,revenue)/$entity", e.base()));
    let keys: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["@odata.context", "@odata.etag", "name", "revenue", "accountid", "_transactioncurrencyid_value"]);
    assert_eq!(row["accountid"], id);

    let resp = e.send("GET", &format!("accounts({id})?$select=name"), None, &[("if-none-match", &etag)]).await;
    assert_eq!(resp.status(), 304);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = e.send("GET", &format!("accounts({id})"), None, &[("if-none-match", "null")]).await;
    assert_eq!(resp.status(), 200);

    let missing = "00000000-0000-0000-0000-000000000001";
    let message = assert_error(e.get(&format!("accounts({missing})")).await, 404, "0x80040217").await;
    assert_eq!(message, format!("account With Id = {missing} Does Not Exist"));
}

#[tokio::test]
async fn links_echo_the_api_version() {
    let e = spawn().await;
    let resp = e
        .http
        .post(e.url("accounts").replace("v9.2", "v9.0"))
        .bearer_auth(&e.token)
        .header("content-type", "application/json")
        .body(r#"{"name":"Old client"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let entity = header(&resp, "odata-entityid").unwrap();
    assert!(entity.starts_with(&format!("{}/api/data/v9.0/accounts(", e.emu.org_url)), "{entity}");
}

#[tokio::test]
async fn update_if_match_and_concurrency() {
    let e = spawn().await;
    let missing = "00000000-0000-0000-0000-0000000000aa";
    let resp =
        e.send("PATCH", &format!("accounts({missing})"), Some(&json!({"name": "x"})), &[("if-match", "*")]).await;
    let message = assert_error(resp, 404, "0x80040217").await;
    assert_eq!(message, format!("account With Id = {missing} Does Not Exist"));

    let id = e.create("accounts", json!({"name": "Before"})).await;
    let first = e.get_json(&format!("accounts({id})?$select=name")).await;
    let etag = first["@odata.etag"].as_str().unwrap().to_owned();
    let resp =
        e.send("PATCH", &format!("accounts({id})"), Some(&json!({"name": "After"})), &[("if-match", &etag)]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "odata-entityid"), Some(format!("{}/accounts({id})", e.base())));
    let resp =
        e.send("PATCH", &format!("accounts({id})"), Some(&json!({"name": "Stale"})), &[("if-match", &etag)]).await;
    let message = assert_error(resp, 412, "0x80060882").await;
    assert_eq!(message, "The version of the existing record doesn't match the RowVersion property provided.");

    let resp = e
        .send(
            "PATCH",
            &format!("accounts({id})?$select=name"),
            Some(&json!({"name": "Third"})),
            &[("if-match", "*"), ("prefer", "return=representation")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let row = json(resp).await;
    assert_eq!(row["name"], "Third");
    assert_ne!(row["@odata.etag"].as_str().unwrap(), etag);
}

#[tokio::test]
async fn upsert_creates_updates_and_honours_if_none_match() {
    let e = spawn().await;
    let id = "3f2c0f5e-1111-4a6b-9c1d-0123456789ab";
    let resp = e
        .send("PATCH", &format!("contacts({id})"), Some(&json!({"firstname": "Ada", "lastname": "Lovelace"})), &[])
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "odata-entityid"), Some(format!("{}/contacts({id})", e.base())));
    let row = e.get_json(&format!("contacts({id})?$select=fullname")).await;
    assert_eq!(row["fullname"], "Ada Lovelace");

    let resp = e.send("PATCH", &format!("contacts({id})"), Some(&json!({"lastname": "King"})), &[]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(e.get_json(&format!("contacts({id})?$select=fullname")).await["fullname"], "Ada King");

    let resp =
        e.send("PATCH", &format!("contacts({id})"), Some(&json!({"lastname": "X"})), &[("if-none-match", "*")]).await;
    let message = assert_error(resp, 412, "0x80040237").await;
    assert_eq!(message, "A record with matching key values already exists.");

    let other = "3f2c0f5e-2222-4a6b-9c1d-0123456789ab";
    let resp = e
        .send(
            "PATCH",
            &format!("contacts({other})"),
            Some(&json!({"lastname": "New"})),
            &[("if-none-match", "*"), ("prefer", "return=representation")],
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(json(resp).await["contactid"], other);
}

#[tokio::test]
async fn delete_then_404_and_stale_etag() {
    let e = spawn().await;
    let id = e.create("leads", json!({"lastname": "Gone", "subject": "Trial"})).await;
    let resp = e.send("DELETE", &format!("leads({id})"), None, &[("if-match", "W/\"1\"")]).await;
    assert_error(resp, 412, "0x80060882").await;
    let resp = e.send("DELETE", &format!("leads({id})"), None, &[]).await;
    assert_eq!(resp.status(), 204);
    assert_error(e.send("DELETE", &format!("leads({id})"), None, &[]).await, 404, "0x80040217").await;
    assert_error(e.get(&format!("leads({id})")).await, 404, "0x80040217").await;
}

#[tokio::test]
async fn incidents_get_ticket_numbers() {
    let e = spawn().await;
    let id = e.create("incidents", json!({"title": "Broken"})).await;
    let row = e.get_json(&format!("incidents({id})?$select=ticketnumber,statuscode")).await;
    let ticket = row["ticketnumber"].as_str().unwrap();
    assert!(ticket.starts_with("CAS-") && ticket.len() == 16, "{ticket}");
    assert_eq!(row["statuscode"], 1);
}
