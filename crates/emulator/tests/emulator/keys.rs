//! Alternate keys (spec §2.5, §2.7, §10.3): `account.accountnumber` and `contact.emailaddress1`
//! in the sample schema.

use crate::common::{assert_error, header, json, spawn};
use serde_json::json;

#[tokio::test]
async fn rows_are_retrieved_updated_and_deleted_by_alternate_key() {
    let e = spawn().await;
    let id = e.create("accounts", json!({"name": "Keyed", "accountnumber": "A-1"})).await;
    let row = e.get_json("accounts(accountnumber='A-1')?$select=name").await;
    assert_eq!(row["accountid"], id);
    assert_eq!(row["name"], "Keyed");
    assert_eq!(row["@odata.context"], format!("{}/$metadata#accounts(name)/$entity", e.base()));
    // Key values compare as the column does: case-insensitively.
    assert_eq!(e.get_json("accounts(accountnumber='a-1')?$select=name").await["accountid"], id);

    let message = assert_error(e.get("accounts(accountnumber='A-2')").await, 404, "0x80060891").await;
    assert_eq!(message, "A record with the specified key values does not exist in account entity");

    let resp =
        e.send("PATCH", "accounts(accountnumber='A-1')", Some(&json!({"name": "Renamed"})), &[("if-match", "*")]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "odata-entityid"), Some(format!("{}/accounts({id})", e.base())));
    assert_eq!(e.get_json(&format!("accounts({id})?$select=name")).await["name"], "Renamed");

    let resp =
        e.send("PATCH", "accounts(accountnumber='A-9')", Some(&json!({"name": "x"})), &[("if-match", "*")]).await;
    assert_error(resp, 404, "0x80060891").await;
    let resp = e
        .send("PATCH", "accounts(accountnumber='A-1')", Some(&json!({"name": "Stale"})), &[("if-match", "W/\"1\"")])
        .await;
    assert_error(resp, 412, "0x80060882").await;

    assert_error(e.send("DELETE", "accounts(accountnumber='A-9')", None, &[]).await, 404, "0x80060891").await;
    assert_eq!(e.send("DELETE", "accounts(accountnumber='A-1')", None, &[]).await.status(), 204);
    assert_error(e.get(&format!("accounts({id})")).await, 404, "0x80040217").await;
}

#[tokio::test]
async fn upsert_by_alternate_key_creates_the_row_with_the_key_values() {
    let e = spawn().await;
    let resp =
        e.send("PATCH", "contacts(emailaddress1='ada@example.com')", Some(&json!({"lastname": "Lovelace"})), &[]).await;
    assert_eq!(resp.status(), 204);
    // The created row's OData-EntityId uses its primary key.
    let entity = header(&resp, "odata-entityid").expect("OData-EntityId");
    let id = entity.strip_prefix(&format!("{}/contacts(", e.base())).and_then(|s| s.strip_suffix(')')).unwrap();
    assert_eq!(id.len(), 36);
    let row = e.get_json(&format!("contacts({id})?$select=emailaddress1,lastname")).await;
    assert_eq!(row["emailaddress1"], "ada@example.com");

    let resp =
        e.send("PATCH", "contacts(emailaddress1='ada@example.com')", Some(&json!({"firstname": "Ada"})), &[]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "odata-entityid"), Some(entity.clone()));
    assert_eq!(e.get_json(&format!("contacts({id})?$select=fullname")).await["fullname"], "Ada Lovelace");

    let resp = e
        .send(
            "PATCH",
            "contacts(emailaddress1='ada@example.com')",
            Some(&json!({"lastname": "X"})),
            &[("if-none-match", "*")],
        )
        .await;
    let message = assert_error(resp, 412, "0x80040237").await;
    assert_eq!(message, "A record with matching key values already exists.");

    let resp = e
        .send(
            "PATCH",
            "contacts(emailaddress1='grace@example.com')?$select=emailaddress1,lastname",
            Some(&json!({"lastname": "Hopper", "emailaddress1": "GRACE@example.com"})),
            &[("if-none-match", "*"), ("prefer", "return=representation")],
        )
        .await;
    assert_eq!(resp.status(), 201);
    let row = json(resp).await;
    assert_eq!(row["emailaddress1"], "GRACE@example.com", "a body value that agrees is kept as sent");
    assert_eq!(row["lastname"], "Hopper");

    // A body value contradicting the URL's key is refused, and nothing is created.
    let resp = e
        .send(
            "PATCH",
            "contacts(emailaddress1='x@example.com')",
            Some(&json!({"lastname": "X", "emailaddress1": "y@example.com"})),
            &[],
        )
        .await;
    assert_error(resp, 400, "0x80040203").await;
    assert_error(e.get("contacts(emailaddress1='x@example.com')").await, 404, "0x80060891").await;
    assert_error(e.get("contacts(emailaddress1='y@example.com')").await, 404, "0x80060891").await;
}

#[tokio::test]
async fn duplicate_key_values_are_refused_and_nulls_never_collide() {
    let e = spawn().await;
    let first = e.create("accounts", json!({"name": "First", "accountnumber": "K-1"})).await;
    let resp = e.send("POST", "accounts", Some(&json!({"name": "Copy", "accountnumber": "k-1"})), &[]).await;
    let message = assert_error(resp, 400, "0x80060892").await;
    assert_eq!(
        message,
        "A record that has the attribute values accountnumber already exists. The entity key accountnumber_key requires that this set of attributes contains unique values. Select unique values and try again."
    );

    let second = e.create("accounts", json!({"name": "Second", "accountnumber": "K-2"})).await;
    let resp = e
        .send("PATCH", &format!("accounts({second})"), Some(&json!({"accountnumber": "K-1"})), &[("if-match", "*")])
        .await;
    assert_error(resp, 400, "0x80060892").await;
    // Rewriting a row's own key value, or changing other columns, is no collision.
    let resp = e
        .send(
            "PATCH",
            &format!("accounts({first})"),
            Some(&json!({"accountnumber": "K-1", "name": "First again"})),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(resp.status(), 204);

    for _ in 0..2 {
        e.create("accounts", json!({"name": "No number"})).await;
        e.create("accounts", json!({"name": "Null number", "accountnumber": null})).await;
    }
    let resp = e
        .send("PATCH", &format!("accounts({second})"), Some(&json!({"accountnumber": null})), &[("if-match", "*")])
        .await;
    assert_eq!(resp.status(), 204);
    let v = e.get_json("accounts?$select=name&$filter=accountnumber%20eq%20null&$count=true").await;
    assert_eq!(v["@odata.count"], 5);
}
