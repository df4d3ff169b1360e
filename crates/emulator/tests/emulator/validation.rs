//! Validation and refusals: bad payloads, state/status rules, unsupported requests, limits
//! (spec §10.3 codes).

use crate::common::{assert_error, spawn};
use serde_json::json;

#[tokio::test]
async fn bad_payloads_get_dataverse_codes() {
    let e = spawn().await;
    let cases = [
        (json!({"name": "x", "nosuchcolumn": 1}), "0x80048d19"),
        (json!({"name": 42}), "0x80048d19"),
        (json!({"name": "x".repeat(161)}), "0x80044331"),
        (json!({"name": "x", "industrycode": 999}), "0x8004431a"),
        (json!({"name": "x", "statecode": 0, "statuscode": 2}), "0x80048408"),
        (json!({"name": "x", "revenue": 1e20}), "0x80044331"),
    ];
    for (body, code) in cases {
        let resp = e.send("POST", "accounts", Some(&body), &[]).await;
        assert_error(resp, 400, code).await;
    }
    let resp = e.send("POST", "accounts", None, &[]).await;
    assert_eq!(resp.status(), 400);
    // Only SystemRequired columns are enforced by the Web API; business-required ones
    // (contact.lastname is ApplicationRequired) are a form rule.
    let message = assert_error(
        e.send(
            "POST",
            "transactioncurrencies",
            Some(&json!({"isocurrencycode": "EUR", "currencysymbol": "€", "exchangerate": 0.9})),
            &[],
        )
        .await,
        400,
        "0x80040203",
    )
    .await;
    assert!(message.contains("currencyname"), "{message}");
    let resp = e.send("POST", "contacts", Some(&json!({"firstname": "No last name"})), &[]).await;
    assert_eq!(resp.status(), 204);

    let id = e.create("accounts", json!({"name": "Dup"})).await;
    let message = assert_error(
        e.send("POST", "accounts", Some(&json!({"accountid": id, "name": "Dup"})), &[]).await,
        400,
        "0x80040237",
    )
    .await;
    assert_eq!(message, "Cannot insert duplicate key.");
}

#[tokio::test]
async fn unsupported_requests_are_501() {
    let e = spawn().await;
    let message = assert_error(e.get("accounts?$apply=topcount(2,revenue)").await, 501, "0x0").await;
    assert!(message.ends_with("(Stanchion's emulator)"), "{message}");
    assert!(message.contains("$apply"), "{message}");
    // Catalog entries not executed yet are recognised and refused.
    let resp = e.send("POST", "SendEmail", Some(&serde_json::json!({})), &[]).await;
    assert_error(resp, 501, "0x0").await;
    let resp = e.send("GET", "WhoAmI", None, &[("callerobjectid", "00000000-0000-0000-0000-000000000001")]).await;
    assert_error(resp, 501, "0x0").await;
    assert_error(e.get("nosuchset").await, 404, "0x0").await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let e = spawn().await;
    let body = format!("{{\"description\":\"{}\"}}", "x".repeat(4 * 1024 * 1024));
    let resp = e
        .http
        .post(e.url("accounts"))
        .bearer_auth(&e.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn state_and_status_follow_each_other() {
    let e = spawn().await;
    let id = e.create("accounts", json!({"name": "Status only", "statuscode": 1})).await;
    let row = e.get_json(&format!("accounts({id})?$select=statecode,statuscode")).await;
    assert_eq!((row["statecode"].clone(), row["statuscode"].clone()), (json!(0), json!(1)));
    let resp = e.send("PATCH", &format!("accounts({id})"), Some(&json!({"statecode": 1})), &[("if-match", "*")]).await;
    assert_eq!(resp.status(), 204);
    let row = e.get_json(&format!("accounts({id})?$select=statecode,statuscode")).await;
    assert_eq!((row["statecode"].clone(), row["statuscode"].clone()), (json!(1), json!(2)));
    let resp = e.send("PATCH", &format!("accounts({id})"), Some(&json!({"statuscode": 1})), &[("if-match", "*")]).await;
    let message = assert_error(resp, 400, "0x80048408").await;
    assert_eq!(
        message,
        format!("1 is not a valid status code for state code AccountState.Inactive on account with Id {id}.")
    );
    let resp =
        e.send("PATCH", &format!("accounts({id})"), Some(&json!({"statecode": null})), &[("if-match", "*")]).await;
    assert_error(resp, 400, "0x80040203").await;
}

#[tokio::test]
async fn odd_requests_get_answers_not_panics() {
    let e = spawn().await;
    let deep = format!("accounts?$filter={}name%20eq%20'x'{}", "(".repeat(200), ")".repeat(200));
    let gets = [
        "accounts(not-a-guid)",
        "accounts?$filter=name%20eq%20'unterminated",
        deep.as_str(),
        "accounts?$top=99999999999",
        "accounts?$top=-1",
        "accounts?$select=",
        "accounts?$filter=revenue%20gt%201e400",
        "accounts?$filter=address1_latitude%20lt%20-1e400",
        "accounts?$filter=contains(name,'[')",
        "accounts?$filter=createdon%20gt%202024-02-31T00:00:00Z",
        "accounts?$filter=numberofemployees%20eq%2099999999999999999999",
        "accounts?$filter=versionnumber%20eq%209223372036854775807",
        "accounts?$orderby=name%20sideways",
        "accounts?%24filter=%ZZ",
        "accounts/$count?$top=1",
        "$metadata",
        "$batch",
        "EntityDefinitions",
        "accounts(00000000-0000-0000-0000-000000000001)/name",
        "v9.3",
    ];
    for rel in gets {
        let resp = e.get(rel).await;
        let status = resp.status().as_u16();
        assert!((400..500).contains(&status) || status == 501 || status == 200, "{rel}: {status}");
        if status != 200 {
            let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
            assert!(body["error"]["code"].is_string(), "{rel}: {body}");
        }
    }
    let bodies: [&[u8]; 6] = [
        b"not json",
        b"\xef\xbb\xbf{}",
        b"[]",
        b"{\"name\":\"a\",\"name\":\"b\"}",
        b"{\"name\":\"\\ud800\"}",
        b"\xff\xfe",
    ];
    for body in bodies {
        let resp = e
            .http
            .post(e.url("accounts"))
            .bearer_auth(&e.token)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body:?}");
    }
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let resp = e.http.post(e.url("accounts")).bearer_auth(&e.token).body(nested).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let resp = e
        .http
        .request(reqwest::Method::from_bytes(b"FOO").unwrap(), e.url("accounts"))
        .bearer_auth(&e.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    // Still serving.
    assert_eq!(e.get("WhoAmI").await.status(), 200);
}
