//! `@odata.bind` on create and update (spec §2.2 "Associate on create", §5; Microsoft,
//! "Associate and disassociate table rows using the Web API"): lookups set by reference, by id
//! or alternate key, polymorphic ones through the navigation property of the table meant,
//! `ownerid` to a user or a team, collection-valued binds on create, and failures that leave
//! nothing behind.

use crate::common::{Emu, assert_error, json, spawn};
use serde_json::{Value, json};

const LOOKUP_TABLE: &str = "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname";

async fn row(e: &Emu, rel: &str) -> Value {
    let resp = e.send("GET", rel, None, &[("prefer", "odata.include-annotations=\"*\"")]).await;
    assert_eq!(resp.status(), 200, "GET {rel}");
    json(resp).await
}

async fn count(e: &Emu, set: &str) -> String {
    e.get(&format!("{set}/$count")).await.text().await.unwrap()
}

#[tokio::test]
async fn single_valued_binds_set_lookups_by_id_and_alternate_key() {
    let e = spawn().await;
    let account = e.create("accounts", json!({"name": "Contoso", "accountnumber": "ACC-1"})).await;
    let boss = e.create("contacts", json!({"lastname": "Davolio", "emailaddress1": "nancy@contoso.com"})).await;
    // By id, absolute URL of the service: the polymorphic customer lookup points at an account.
    let contact = e
        .create(
            "contacts",
            json!({"lastname": "Fuller", "parentcustomerid_account@odata.bind": format!("{}/accounts({account})", e.base())}),
        )
        .await;
    let v = row(&e, &format!("contacts({contact})?$select=_parentcustomerid_value")).await;
    assert_eq!(v["_parentcustomerid_value"], account.as_str());
    assert_eq!(v[LOOKUP_TABLE], "account");
    // The same lookup, now to a contact, by alternate key (braces and relative forms accepted).
    let resp = e
        .send(
            "PATCH",
            &format!("contacts({contact})"),
            Some(&json!({"parentcustomerid_contact@odata.bind": "contacts(emailaddress1='nancy@contoso.com')"})),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(resp.status(), 204);
    let v = row(&e, &format!("contacts({contact})?$select=_parentcustomerid_value")).await;
    assert_eq!(v["_parentcustomerid_value"], boss.as_str());
    assert_eq!(v[LOOKUP_TABLE], "contact");
    // The account's primary contact by id with braces; then cleared with null.
    let resp = e
        .send(
            "PATCH",
            "accounts(accountnumber='ACC-1')",
            Some(&json!({"primarycontactid@odata.bind": format!("/contacts({{{boss}}})")})),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(resp.status(), 204);
    let v = e.get_json(&format!("accounts({account})?$select=name&$expand=primarycontactid($select=fullname)")).await;
    assert_eq!(v["primarycontactid"]["fullname"], "Davolio");
    let resp = e
        .send("PATCH", &format!("accounts({account})"), Some(&json!({"primarycontactid@odata.bind": null})), &[])
        .await;
    assert_eq!(resp.status(), 204);
    let v = e.get_json(&format!("accounts({account})?$select=_primarycontactid_value")).await;
    assert!(v["_primarycontactid_value"].is_null(), "{v}");
}

#[tokio::test]
async fn owner_binds_assign_to_a_user_or_a_team() {
    let e = spawn().await;
    let team = e.get_json("teams?$select=name&$top=1").await["value"][0]["teamid"].as_str().unwrap().to_owned();
    let account = e.create("accounts", json!({"name": "Owned", "ownerid@odata.bind": format!("/teams({team})")})).await;
    let v = row(&e, &format!("accounts({account})?$select=_ownerid_value,_owningteam_value,_owninguser_value")).await;
    assert_eq!(v["_ownerid_value"], team.as_str());
    assert_eq!(v["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "team");
    assert_eq!(v["_owningteam_value"], team.as_str());
    assert!(v["_owninguser_value"].is_null(), "{v}");
}

#[tokio::test]
async fn collection_valued_binds_on_create_point_the_related_rows_here() {
    let e = spawn().await;
    let a = e.create("contacts", json!({"lastname": "A"})).await;
    let b = e.create("contacts", json!({"lastname": "B"})).await;
    let before = e.get_json(&format!("contacts({a})?$select=lastname")).await["@odata.etag"].clone();
    let account = e
        .create(
            "accounts",
            json!({"name": "Parent", "contact_customer_accounts@odata.bind": [format!("/contacts({a})"), format!("/contacts({b})")]}),
        )
        .await;
    let v =
        e.get_json(&format!("accounts({account})/contact_customer_accounts?$select=lastname&$orderby=lastname")).await;
    let names: Vec<&str> = v["value"].as_array().unwrap().iter().map(|r| r["lastname"].as_str().unwrap()).collect();
    assert_eq!(names, ["A", "B"]);
    // Each related row was updated: a new version.
    let after = e.get_json(&format!("contacts({a})?$select=lastname")).await["@odata.etag"].clone();
    assert_ne!(before, after);
}

#[tokio::test]
async fn a_missing_target_fails_the_whole_write() {
    let e = spawn().await;
    let a = e.create("contacts", json!({"lastname": "A"})).await;
    let missing = "00000000-0000-0000-0000-00000000dead";
    let accounts = count(&e, "accounts").await;
    for body in [
        json!({"name": "X", "primarycontactid@odata.bind": format!("/contacts({missing})")}),
        json!({"name": "X", "primarycontactid@odata.bind": "/contacts(emailaddress1='nobody@example.com')"}),
        // The first related row exists and would be updated; the second does not.
        json!({"name": "X", "contact_customer_accounts@odata.bind": [format!("/contacts({a})"), format!("/contacts({missing})")]}),
    ] {
        let resp = e.send("POST", "accounts", Some(&body), &[]).await;
        assert_eq!(resp.status(), 404, "{body}");
    }
    assert_eq!(count(&e, "accounts").await, accounts, "no account was created");
    let v = e.get_json(&format!("contacts({a})?$select=_parentcustomerid_value")).await;
    assert!(v["_parentcustomerid_value"].is_null(), "the first related row was not changed: {v}");
    // `$n` has meaning only inside a $batch change set.
    let resp = e.send("POST", "accounts", Some(&json!({"name": "X", "primarycontactid@odata.bind": "$1"})), &[]).await;
    let message = assert_error(resp, 400, "0x0").await;
    assert_eq!(message, "Content-ID Reference: '$1' does not exist in the batch context.");
    // A reference to the wrong table, or with escapes, is a payload error.
    for bind in [format!("/accounts({a})"), format!("/contacts(%7B{a}%7D)")] {
        let resp =
            e.send("POST", "accounts", Some(&json!({"name": "X", "primarycontactid@odata.bind": bind})), &[]).await;
        assert_eq!(resp.status(), 400, "{bind}");
    }
}

/// Spec §2.6 "Update a single property value" / "Delete a single property value".
#[tokio::test]
async fn single_properties_are_set_and_cleared() {
    let e = spawn().await;
    let id = e.create("accounts", json!({"name": "Contoso", "telephone1": "555-0100", "revenue": 10})).await;
    let resp = e.send("PUT", &format!("accounts({id})/name"), Some(&json!({"value": "Contoso Ltd"})), &[]).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let resp = e.send("DELETE", &format!("accounts({id})/telephone1"), None, &[]).await;
    assert_eq!(resp.status(), 204);
    let v = e.get_json(&format!("accounts({id})?$select=name,telephone1,revenue")).await;
    assert_eq!((v["name"].as_str(), v["telephone1"].is_null()), (Some("Contoso Ltd"), true), "{v}");
    let resp = e.send("PUT", &format!("accounts({id})/revenue"), Some(&json!({"value": 12.5})), &[]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(e.get_json(&format!("accounts({id})/revenue")).await["value"], 12.5);
    // A stale ETag, a missing row, a wrong type, a read-only column, a lookup, a bad body.
    let resp =
        e.send("PUT", &format!("accounts({id})/name"), Some(&json!({"value": "x"})), &[("if-match", "W/\"1\"")]).await;
    assert_error(resp, 412, "0x80060882").await;
    let missing = "00000000-0000-0000-0000-00000000dead";
    let resp = e.send("PUT", &format!("accounts({missing})/name"), Some(&json!({"value": "x"})), &[]).await;
    assert_error(resp, 404, "0x80040217").await;
    for (path, body) in [
        ("name", json!({"value": 5})),
        ("createdon", json!({"value": "2024-01-01T00:00:00Z"})),
        ("primarycontactid", json!({"value": missing})),
        ("_primarycontactid_value", json!({"value": missing})),
        ("name", json!({"name": "x"})),
        ("name", json!({"value": "x", "other": 1})),
    ] {
        let resp = e.send("PUT", &format!("accounts({id})/{path}"), Some(&body), &[]).await;
        assert_eq!(resp.status(), 400, "{path} {body}");
    }
    assert_eq!(e.get_json(&format!("accounts({id})/name")).await["value"], "Contoso Ltd");
}

/// OData's raw value: `PUT …/{column}/$value` with the value's text as `text/plain`, and
/// `DELETE …/{column}/$value` to clear it; numbers and booleans as their one literal spelling.
#[tokio::test]
async fn raw_values_are_set_and_cleared() {
    let e = spawn().await;
    let id = e.create("accounts", json!({"name": "Contoso", "telephone1": "555-0100"})).await;
    let raw = |path: String, body: &'static str, content_type: &'static str| {
        let url = e.url(&path);
        let http = reqwest::Client::new();
        let token = e.token.clone();
        async move { http.put(url).bearer_auth(token).header("content-type", content_type).body(body).send().await.unwrap() }
    };
    for (column, text, want) in [
        ("name", "Contoso \"Raw\" Ltd", json!("Contoso \"Raw\" Ltd")),
        ("revenue", "12.5", json!(12.5)),
        ("numberofemployees", "42", json!(42)),
        ("creditonhold", "true", json!(true)),
    ] {
        let resp = raw(format!("accounts({id})/{column}/$value"), text, "text/plain; charset=utf-8").await;
        assert_eq!(resp.status(), 204, "{column}: {:?}", resp.text().await);
        assert_eq!(e.get_json(&format!("accounts({id})/{column}")).await["value"], want, "{column}");
    }
    let resp = e.send("DELETE", &format!("accounts({id})/telephone1/$value"), None, &[]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(e.get(&format!("accounts({id})/telephone1")).await.status(), 204, "cleared");
    // Another media type, a JSON body, a second spelling of a number, a non-literal: 400.
    for (column, text, content_type) in [
        ("name", "x", "application/json"),
        ("name", "x", "text/plain; charset=latin1"),
        ("revenue", " 12.5", "text/plain"),
        ("revenue", "\"12.5\"", "text/plain"),
        ("creditonhold", "yes", "text/plain"),
        ("numberofemployees", "4.5", "text/plain"),
    ] {
        let resp = raw(format!("accounts({id})/{column}/$value"), text, content_type).await;
        assert_eq!(resp.status(), 400, "{column} {text:?} as {content_type}");
    }
    assert_eq!(e.get_json(&format!("accounts({id})/name")).await["value"], "Contoso \"Raw\" Ltd");
}

/// Spec §5 (Microsoft, "Associate and disassociate table rows using the Web API"): `$ref`
/// writes for collection- and single-valued navigation properties, each form the docs show.
#[tokio::test]
async fn ref_writes_associate_and_disassociate() {
    let e = spawn().await;
    let account = e.create("accounts", json!({"name": "Contoso"})).await;
    let other = e.create("accounts", json!({"name": "Fabrikam"})).await;
    let a = e.create("contacts", json!({"lastname": "A"})).await;
    let b = e.create("contacts", json!({"lastname": "B", "emailaddress1": "b@contoso.com"})).await;
    let odata_id = |set: &str, id: &str| json!({"@odata.id": format!("{}/{set}({id})", e.base())});
    let related = |id: String| {
        let e = &e;
        async move {
            let v = e
                .get_json(&format!("accounts({id})/contact_customer_accounts?$select=lastname&$orderby=lastname"))
                .await;
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["lastname"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    // Collection-valued: POST …/contact_customer_accounts/$ref.
    for c in [&a, &b] {
        let rel = format!("accounts({account})/contact_customer_accounts/$ref");
        let resp = e.send("POST", &rel, Some(&odata_id("contacts", c)), &[]).await;
        assert_eq!(resp.status(), 204);
    }
    assert_eq!(related(account.clone()).await, ["A", "B"]);
    // Single-valued: PUT …/primarycontactid/$ref, then DELETE it.
    let resp = e
        .send("PUT", &format!("accounts({account})/primarycontactid/$ref"), Some(&odata_id("contacts", &a)), &[])
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(e.get_json(&format!("accounts({account})/primarycontactid?$select=lastname")).await["lastname"], "A");
    let resp = e.send("DELETE", &format!("accounts({account})/primarycontactid/$ref"), None, &[]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(e.get(&format!("accounts({account})/primarycontactid")).await.status(), 204, "no primary contact");
    // Disassociate one row: by key in the path, and with $id (here by alternate key).
    let resp = e.send("DELETE", &format!("accounts({account})/contact_customer_accounts({a})/$ref"), None, &[]).await;
    assert_eq!(resp.status(), 204);
    let id_ref = format!(
        "accounts({account})/contact_customer_accounts/$ref?$id={}/contacts(emailaddress1='b@contoso.com')",
        e.base()
    );
    let resp = e.send("DELETE", &id_ref, None, &[]).await;
    assert_eq!(resp.status(), 204);
    assert!(related(account.clone()).await.is_empty());
    // A row that is not linked to this one cannot be disassociated from it.
    let resp = e
        .send(
            "POST",
            &format!("accounts({other})/contact_customer_accounts/$ref"),
            Some(&odata_id("contacts", &a)),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = e.send("DELETE", &format!("accounts({account})/contact_customer_accounts({a})/$ref"), None, &[]).await;
    assert_error(resp, 404, "0x80040217").await;
    assert_eq!(related(other.clone()).await, ["A"]);
    // Wrong verbs and shapes.
    let missing = "00000000-0000-0000-0000-00000000dead";
    for (method, rel, body) in [
        ("PUT", format!("accounts({account})/contact_customer_accounts/$ref"), Some(odata_id("contacts", &a))),
        ("POST", format!("accounts({account})/primarycontactid/$ref"), Some(odata_id("contacts", &a))),
        ("POST", format!("accounts({account})/contact_customer_accounts/$ref"), Some(odata_id("accounts", &other))),
        ("POST", format!("accounts({account})/contact_customer_accounts/$ref"), Some(json!({"@odata.id": 5}))),
        ("DELETE", format!("accounts({account})/contact_customer_accounts/$ref"), None),
    ] {
        let resp = e.send(method, &rel, body.as_ref(), &[]).await;
        assert_eq!(resp.status(), 400, "{method} {rel}");
    }
    let resp = e
        .send(
            "POST",
            &format!("accounts({missing})/contact_customer_accounts/$ref"),
            Some(&odata_id("contacts", &a)),
            &[],
        )
        .await;
    assert_error(resp, 404, "0x80040217").await;
    let resp = e
        .send(
            "POST",
            &format!("accounts({account})/contact_customer_accounts/$ref"),
            Some(&odata_id("contacts", missing)),
            &[],
        )
        .await;
    assert_error(resp, 404, "0x80040217").await;
}

/// Spec §2.2 "Create related table rows in one operation" (deep insert): a row with the rows it
/// points at and the rows that point at it, any depth, in one transaction.
#[tokio::test]
async fn deep_insert_creates_related_rows_in_one_operation() {
    let e = spawn().await;
    let body = json!({
        "name": "Deep Co",
        "primarycontactid": {"firstname": "Ada", "lastname": "Lovelace"},
        "contact_customer_accounts": [
            {"lastname": "Babbage"},
            {"lastname": "Menabrea", "Contact_Tasks": [{"subject": "Translate the notes"}]}
        ],
        "opportunity_customer_accounts": [{"name": "Engine", "Opportunity_Tasks": [{"subject": "Call"}]}]
    });
    let id = e.create("accounts", body).await;
    let v = e
        .get_json(&format!(
            "accounts({id})?$select=name&$expand=primarycontactid($select=fullname),contact_customer_accounts($select=lastname;$orderby=lastname),opportunity_customer_accounts($select=name)"
        ))
        .await;
    assert_eq!(v["primarycontactid"]["fullname"], "Ada Lovelace");
    let names: Vec<&str> =
        v["contact_customer_accounts"].as_array().unwrap().iter().map(|c| c["lastname"].as_str().unwrap()).collect();
    assert_eq!(names, ["Babbage", "Menabrea"]);
    assert_eq!(v["opportunity_customer_accounts"][0]["name"], "Engine");
    let tasks =
        e.get_json("tasks?$select=subject&$filter=regardingobjectid_contact_task/lastname%20eq%20'Menabrea'").await;
    assert_eq!(tasks["value"][0]["subject"], "Translate the notes");
    let tasks =
        e.get_json("tasks?$select=subject&$filter=regardingobjectid_opportunity_task/name%20eq%20'Engine'").await;
    assert_eq!(tasks["value"][0]["subject"], "Call");
    // A bad nested row fails the whole create: nothing is left behind.
    let (accounts, contacts) = (count(&e, "accounts").await, count(&e, "contacts").await);
    let bad = json!({"name": "Half", "contact_customer_accounts": [{"lastname": "Fine"}, {"lastname": 5}]});
    let resp = e.send("POST", "accounts", Some(&bad), &[]).await;
    assert_eq!(resp.status(), 400);
    let missing_bind = json!({"name": "Half", "contact_customer_accounts": [{"lastname": "Fine"}, {"lastname": "x", "parentcustomerid_contact@odata.bind": "/contacts(00000000-0000-0000-0000-00000000dead)"}]});
    let resp = e.send("POST", "accounts", Some(&missing_bind), &[]).await;
    assert_eq!(resp.status(), 404);
    assert_eq!((count(&e, "accounts").await, count(&e, "contacts").await), (accounts, contacts));
    // Only on create.
    let resp =
        e.send("PATCH", &format!("accounts({id})"), Some(&json!({"primarycontactid": {"lastname": "x"}})), &[]).await;
    assert_eq!(resp.status(), 400);
}

/// Spec §2.2: with `Prefer: return=representation` a create or update answers with the row,
/// and `$expand` brings its related rows (a read too); without the preference `$expand` is 400.
#[tokio::test]
async fn representation_with_expand() {
    let e = spawn().await;
    let rep = [("prefer", "return=representation")];
    let body = json!({"name": "Rep Co", "primarycontactid": {"lastname": "Rep"}, "contact_customer_accounts": [{"lastname": "Child"}]});
    let resp = e
        .send("POST", "accounts?$select=name&$expand=primarycontactid($select=lastname),contact_customer_accounts($select=lastname)", Some(&body), &rep)
        .await;
    assert_eq!(resp.status(), 201);
    let v = json(resp).await;
    assert_eq!(v["name"], "Rep Co");
    assert_eq!(v["primarycontactid"]["lastname"], "Rep");
    assert_eq!(v["contact_customer_accounts"][0]["lastname"], "Child");
    assert!(v["@odata.context"].as_str().unwrap().contains("primarycontactid(lastname)"), "{v}");
    let id = v["accountid"].as_str().unwrap().to_owned();
    let resp = e
        .send(
            "PATCH",
            &format!("accounts({id})?$select=name&$expand=primarycontactid($select=lastname)"),
            Some(&json!({"name": "Rep Co 2"})),
            &[("prefer", "return=representation"), ("if-match", "*")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v = json(resp).await;
    assert_eq!((v["name"].as_str(), v["primarycontactid"]["lastname"].as_str()), (Some("Rep Co 2"), Some("Rep")));
    let resp = e.send("POST", "accounts?$expand=primarycontactid", Some(&json!({"name": "x"})), &[]).await;
    assert_eq!(resp.status(), 400);
}
