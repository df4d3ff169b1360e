//! The token endpoint (spec §14.1).

use crate::common::{http, json, root, spawn, token_request};

#[tokio::test]
async fn good_secret_gets_a_bearer_token() {
    let e = spawn().await;
    assert!(e.emu.default_client_created);
    assert_eq!(e.emu.clients[0].client_id, "stanchion-local");
    let c = &e.emu.clients[0];
    for scope in [format!("{}/.default", e.emu.org_url), format!("{}//.default", e.emu.org_url)] {
        let resp = token_request(
            &e.http,
            &root(&e.emu),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("scope", &scope),
            ],
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "no-store, no-cache");
        let body = json(resp).await;
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3599);
        assert_eq!(body["ext_expires_in"], 3599);
        assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
    }
}

#[tokio::test]
async fn wrong_secret_is_invalid_client() {
    let e = spawn().await;
    let scope = format!("{}/.default", e.emu.org_url);
    let resp = token_request(
        &e.http,
        &root(&e.emu),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "stanchion-local"),
            ("client_secret", "nope"),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(resp.status(), 401);
    let body = json(resp).await;
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], serde_json::json!([7000215]));
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with("AADSTS7000215: Invalid client secret provided."), "{description}");
    assert!(!description.contains("nope"));
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[field].is_string(), "{field}");
    }
}

#[tokio::test]
async fn wrong_scope_unknown_grant_and_unknown_client_are_refused() {
    let e = spawn().await;
    let c = &e.emu.clients[0];
    let other_scope = "https://contoso.crm.dynamics.com/.default";
    let resp = token_request(
        &e.http,
        &root(&e.emu),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("scope", other_scope),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let body = json(resp).await;
    assert_eq!(body["error"], "invalid_scope");
    assert_eq!(body["error_codes"], serde_json::json!([70011]));

    let resp = token_request(&e.http, &root(&e.emu), &[("grant_type", "password"), ("client_id", &c.client_id)]).await;
    assert_eq!(resp.status(), 400);
    let body = json(resp).await;
    assert_eq!(body["error"], "unsupported_grant_type");
    assert!(body["error_description"].as_str().unwrap().starts_with("AADSTS70003:"));

    let resp =
        token_request(&e.http, &root(&e.emu), &[("grant_type", "client_credentials"), ("client_id", "someone-else")])
            .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "unauthorized_client");

    let resp = token_request(&e.http, &root(&e.emu), &[("client_id", &c.client_id)]).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_request");
}

#[tokio::test]
async fn configured_clients_replace_the_default_one() {
    let mut config = crate::common::config(emulator::Storage::InMemory);
    config.clients = vec![emulator::ClientCredential {
        client_id: "0b5a2f4e-6d1c-4c39-9f3e-1f2a3b4c5d6e".into(),
        client_secret: "s3cret".into(),
    }];
    let e = crate::common::spawn_with(config).await;
    assert!(!e.emu.default_client_created);
    assert_eq!(e.emu.clients.len(), 1);
    let who = e.get_json("WhoAmI").await;
    let user = e
        .get_json(&format!(
            "systemusers({})?$select=fullname,applicationid,accessmode",
            who["UserId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(user["fullname"], "# 0b5a2f4e-6d1c-4c39-9f3e-1f2a3b4c5d6e");
    assert_eq!(user["applicationid"], "0b5a2f4e-6d1c-4c39-9f3e-1f2a3b4c5d6e");
    assert_eq!(user["accessmode"], 4);
    let _ = http();
}
