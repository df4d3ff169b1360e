//! Collection queries and counts (spec §3.1–3.4, §3.7).

use crate::common::{Emu, header, spawn};
use serde_json::{Value, json};

async fn fixture() -> Emu {
    let e = spawn().await;
    for (name, revenue, employees, phone) in [
        ("Alpha Corp", json!(1000.25), 10, json!("555-0100")),
        ("beta industries", json!(2500), 250, Value::Null),
        ("Gamma_Labs", json!(1500.5), 30, json!("555-0102")),
        ("Delta 100% Inc.", json!(900), 5, Value::Null),
    ] {
        e.create(
            "accounts",
            json!({"name": name, "revenue": revenue, "numberofemployees": employees, "telephone1": phone}),
        )
        .await;
    }
    e
}

fn names(v: &Value) -> Vec<String> {
    v["value"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn filter_is_case_insensitive_and_text_functions_use_wildcards() {
    let e = fixture().await;
    let v = e.get_json("accounts?$select=name&$filter=name%20eq%20'ALPHA%20corp'").await;
    assert_eq!(names(&v), ["Alpha Corp"]);
    // `+` decodes to a space, as Python's requests sends it.
    let v = e.get_json("accounts?$select=name&$filter=name+eq+'BETA+INDUSTRIES'").await;
    assert_eq!(names(&v), ["beta industries"]);
    let v = e.get_json("accounts?$select=name&$filter=contains(name,'PHA')&$orderby=name").await;
    assert_eq!(names(&v), ["Alpha Corp"]);
    let v = e.get_json("accounts?$select=name&$filter=startswith(name,'_e')&$orderby=name").await;
    assert_eq!(names(&v), ["beta industries", "Delta 100% Inc."]);
    let v = e.get_json("accounts?$select=name&$filter=contains(name,'100[%25]')").await;
    assert_eq!(names(&v), ["Delta 100% Inc."]);
    let v = e
        .get_json("accounts?$select=name&$filter=endswith(name,'inc.')%20or%20contains(name,'[g]amma')&$orderby=name")
        .await;
    assert_eq!(names(&v), ["Delta 100% Inc.", "Gamma_Labs"]);
    let v = e.get_json("accounts?$select=name&$filter=not%20contains(name,'a')").await;
    assert_eq!(names(&v), Vec::<String>::new());
}

#[tokio::test]
async fn null_comparisons_and_numbers() {
    let e = fixture().await;
    let v = e.get_json("accounts?$select=name&$filter=telephone1%20eq%20null&$orderby=name").await;
    assert_eq!(names(&v), ["beta industries", "Delta 100% Inc."]);
    let v = e.get_json("accounts?$select=name&$filter=telephone1%20ne%20null&$orderby=name").await;
    assert_eq!(names(&v), ["Alpha Corp", "Gamma_Labs"]);
    let v = e.get_json("accounts?$select=name&$filter=telephone1%20ne%20'555-0100'").await;
    assert_eq!(names(&v), ["Gamma_Labs"], "ne does not match nulls (SQL semantics)");
    let v = e
        .get_json("accounts?$select=name&$filter=revenue%20gt%201000.25%20and%20revenue%20lt%202500&$orderby=revenue")
        .await;
    assert_eq!(names(&v), ["Gamma_Labs"]);
    let v = e.get_json("accounts?$select=name&$filter=revenue%20ge%201000.25&$orderby=revenue%20desc").await;
    assert_eq!(names(&v), ["beta industries", "Gamma_Labs", "Alpha Corp"]);
    let v = e
        .get_json(
            "accounts?$select=name&$filter=numberofemployees%20gt%2020%20and%20not%20(numberofemployees%20eq%20250)",
        )
        .await;
    assert_eq!(names(&v), ["Gamma_Labs"]);
}

#[tokio::test]
async fn orderby_top_select_and_count() {
    let e = fixture().await;
    let query = "accounts?$select=name,revenue&$orderby=numberofemployees%20desc&$top=2&$count=true";
    let raw = e.get(query).await.text().await.unwrap();
    assert!(raw.contains(r#""revenue":2500.0000,"#), "money has four decimals on the wire: {raw}");
    let v = e.get_json(query).await;
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["@odata.context", "@odata.count", "value"]);
    assert_eq!(v["@odata.context"], format!("{}/$metadata#accounts(name,revenue)", e.base()));
    assert_eq!(v["@odata.count"], 4);
    assert_eq!(names(&v), ["beta industries", "Gamma_Labs"]);
    let row = &v["value"][0];
    let row_keys: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(row_keys, ["@odata.etag", "name", "revenue", "accountid", "_transactioncurrencyid_value"]);

    let v = e.get_json("accounts").await;
    assert_eq!(v["@odata.context"], format!("{}/$metadata#accounts", e.base()));
    assert!(v.get("@odata.count").is_none());
    assert_eq!(v["value"].as_array().unwrap().len(), 4);
    assert!(v["value"][0].get("address1_city").is_some(), "all columns without $select");

    let resp = e.get("accounts/$count?$filter=revenue%20gt%201000").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("text/plain"));
    assert_eq!(resp.text().await.unwrap(), "3");

    let v = e.get_json("accounts?$select=name&$top=0").await;
    assert_eq!(names(&v), Vec::<String>::new());
}

#[tokio::test]
async fn dates_compare_as_dates() {
    let e = spawn().await;
    for (last, birth) in [("Older", "1980-05-01"), ("Younger", "1995-07-15"), ("Unknown", "")] {
        let mut body = json!({"lastname": last});
        if !birth.is_empty() {
            body["birthdate"] = json!(birth);
        }
        e.create("contacts", body).await;
    }
    let v = e.get_json("contacts?$select=lastname&$filter=birthdate%20ge%201990-01-01").await;
    let last: Vec<&str> = v["value"].as_array().unwrap().iter().map(|r| r["lastname"].as_str().unwrap()).collect();
    assert_eq!(last, ["Younger"]);
    let v = e.get_json("contacts?$select=birthdate&$filter=birthdate%20lt%201990-01-01T00:00:00Z").await;
    assert_eq!(v["value"][0]["birthdate"], "1980-05-01");
    let v = e.get_json("contacts?$select=lastname&$filter=createdon%20gt%202000-01-01T00:00:00Z&$count=true").await;
    assert_eq!(v["@odata.count"], 3);
    let v =
        e.get_json("contacts?$select=lastname&$filter=createdon%20lt%202000-01-01T00:00:00%2B02:00&$count=true").await;
    assert_eq!(v["@odata.count"], 0);
}

#[tokio::test]
async fn query_errors_are_400() {
    let e = spawn().await;
    let resp = e.get("accounts?$filter=nosuch%20eq%201").await;
    let message = crate::common::assert_error(resp, 400, "0x0").await;
    assert_eq!(message, "Could not find a property named 'nosuch' on type 'Microsoft.Dynamics.CRM.account'.");
    let resp = e.get("accounts?$select=name,").await;
    crate::common::assert_error(resp, 400, "0x0").await;
}
