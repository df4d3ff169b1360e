//! Upstream sign-in against the real emulator, with an injectable clock: the token cache
//! (cached while valid, renewed five minutes ahead by one request while the others go on,
//! forgotten after a 401), certificate sign-in (client assertions) and the ways it is refused.
//! Secrets never appear in errors.

use crate::app::{ManualClock, spawn_app};
use emulator::{CertificateRegistration, EmulatorConfig, RunningEmulator, Storage};
use gateway::{ClientAuth, ClientCertificate, ClientCredentials, TokenCache, TokenError};
use policy::Level;
use std::sync::Arc;

const APP_PEM: &str = include_str!("../fixtures/certs/app.pem");
const APP_CRT: &str = include_str!("../fixtures/certs/app.crt");
const OTHER_PEM: &str = include_str!("../fixtures/certs/other.pem");

async fn emulator() -> RunningEmulator {
    emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        storage: Storage::InMemory,
        client_certificates: vec![CertificateRegistration { client_id: None, pem: APP_CRT.into() }],
        schema: None,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn credentials(e: &RunningEmulator, auth: ClientAuth) -> ClientCredentials {
    ClientCredentials {
        token_url: emulator::token_url(&e.org_url, "contoso"),
        client_id: e.clients[0].client_id.clone(),
        auth,
        scope: format!("{}/.default", e.org_url),
    }
}

fn secret(e: &RunningEmulator) -> ClientAuth {
    ClientAuth::Secret(e.clients[0].client_secret.clone())
}

fn certificate(pem: &str) -> ClientAuth {
    ClientAuth::Certificate(Arc::new(ClientCertificate::from_pem(pem.as_bytes()).unwrap()))
}

fn fetched(cache: &TokenCache, result: &'static str) -> u64 {
    cache.refreshes().get_or_create(&gateway::RefreshLabels { result }).get()
}

#[tokio::test]
async fn renewed_ahead_of_expiry_and_the_current_token_kept_while_renewal_fails() {
    let e = emulator().await;
    let clock = ManualClock::at(1_000_000);
    let cache = TokenCache::new(gateway::http_client().unwrap(), credentials(&e, secret(&e)), clock.clone());
    let first = cache.token().await.unwrap();
    e.shutdown().await;
    // The token endpoint is gone: the cached token is served within its lifetime …
    clock.advance(3599 - 301);
    assert_eq!(cache.token().await.unwrap(), first);
    assert_eq!(fetched(&cache, "ok"), 1);
    // … five minutes before expiry a renewal is tried; it fails, and the still valid token is used …
    clock.advance(2);
    assert_eq!(cache.token().await.unwrap(), first);
    assert_eq!(fetched(&cache, "failed"), 1);
    // … until it is too close to expiry to send: then the failure is the caller's.
    clock.advance(300 - 30);
    assert!(matches!(cache.token().await, Err(TokenError::Unreachable(_))));
    assert_eq!(fetched(&cache, "failed"), 2);
}

#[tokio::test]
async fn one_request_renews_while_the_others_go_on_with_the_current_token() {
    let e = emulator().await;
    let clock = ManualClock::at(now());
    let cache = TokenCache::new(gateway::http_client().unwrap(), credentials(&e, secret(&e)), clock.clone());
    let first = cache.token().await.unwrap();
    clock.advance(3599 - 299);
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.token().await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for c in calls {
        tokens.push(c.await.unwrap());
    }
    assert_eq!(fetched(&cache, "ok"), 2, "the first token and exactly one renewal");
    let renewed = cache.token().await.unwrap();
    assert_ne!(renewed, first);
    assert!(tokens.iter().all(|t| *t == first || *t == renewed));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_leaking_it() {
    let e = emulator().await;
    let wrong = ClientAuth::Secret("wrong-secret-value".into());
    let cache = TokenCache::new(gateway::http_client().unwrap(), credentials(&e, wrong.clone()), ManualClock::at(0));
    let err = cache.token().await.unwrap_err();
    assert!(matches!(err, TokenError::Refused(ref code) if code == "invalid_client"), "{err}");
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!format!("{:?}", credentials(&e, wrong)).contains("wrong-secret-value"));
}

#[tokio::test]
async fn certificate_sign_in_gets_a_token_the_org_accepts() {
    let e = emulator().await;
    let cache =
        TokenCache::new(gateway::http_client().unwrap(), credentials(&e, certificate(APP_PEM)), ManualClock::at(now()));
    let token = cache.token().await.unwrap();
    let resp = gateway::http_client()
        .unwrap()
        .get(format!("{}/api/data/v9.2/accounts?$top=1", e.org_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!format!("{:?}", credentials(&e, certificate(APP_PEM))).contains("PRIVATE"));
}

#[tokio::test]
async fn certificate_sign_in_with_an_unregistered_certificate_or_a_stale_clock_is_refused() {
    let e = emulator().await;
    let http = gateway::http_client().unwrap();
    let other = TokenCache::new(http.clone(), credentials(&e, certificate(OTHER_PEM)), ManualClock::at(now()));
    assert!(matches!(other.token().await, Err(TokenError::Refused(ref c)) if c == "invalid_client"));
    // The gateway's clock two hours behind: its assertion expired long ago.
    let stale = TokenCache::new(http, credentials(&e, certificate(APP_PEM)), ManualClock::at(now() - 7200));
    assert!(matches!(stale.token().await, Err(TokenError::Refused(ref c)) if c == "invalid_client"));
}

/// Posts a client assertion to the emulator's token endpoint of `tenant`; returns the status
/// and the AADSTS code.
async fn post_assertion(e: &RunningEmulator, tenant: &str, client_id: &str, assertion: &str) -> (u16, u64) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
        ("scope", &format!("{}/.default", e.org_url)),
    ];
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&");
    let resp = gateway::http_client()
        .unwrap()
        .post(emulator::token_url(&e.org_url, tenant))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let json: serde_json::Value = resp.json().await.unwrap();
    (status, json["error_codes"][0].as_u64().unwrap_or(0))
}

#[tokio::test]
async fn forged_misaddressed_and_expired_assertions_are_refused_with_entra_codes() {
    let e = emulator().await;
    let client = e.clients[0].client_id.clone();
    let app = ClientCertificate::from_pem(APP_PEM.as_bytes()).unwrap();
    let other = ClientCertificate::from_pem(OTHER_PEM.as_bytes()).unwrap();
    let url = |tenant: &str| emulator::token_url(&e.org_url, tenant);
    let good = app.assertion(&url("contoso"), &client, now()).unwrap();
    assert_eq!(post_assertion(&e, "contoso", &client, &good).await.0, 200);
    // Signed by a certificate the app does not have.
    let unregistered = other.assertion(&url("contoso"), &client, now()).unwrap();
    assert_eq!(post_assertion(&e, "contoso", &client, &unregistered).await, (401, 700027));
    // Claims changed after signing (another audience), signature kept.
    let parts: Vec<&str> = good.split('.').collect();
    let forged_claims = app.assertion("http://elsewhere/contoso/oauth2/v2.0/token", &client, now()).unwrap();
    let tampered = format!("{}.{}.{}", parts[0], forged_claims.split('.').nth(1).unwrap(), parts[2]);
    assert_eq!(post_assertion(&e, "contoso", &client, &tampered).await, (401, 700027));
    // Validly signed, for another audience, or for another tenant's endpoint.
    let elsewhere = app.assertion("http://elsewhere/contoso/oauth2/v2.0/token", &client, now()).unwrap();
    assert_eq!(post_assertion(&e, "contoso", &client, &elsewhere).await, (401, 700023));
    let fabrikam = app.assertion(&url("fabrikam"), &client, now()).unwrap();
    assert_eq!(post_assertion(&e, "contoso", &client, &fabrikam).await, (401, 700023));
    // Issued for another client id.
    let someone_else = app.assertion(&url("contoso"), "another-app", now()).unwrap();
    assert_eq!(post_assertion(&e, "contoso", &client, &someone_else).await, (401, 700021));
    // Expired (an hour old: ten minutes of life and five of skew are long gone), or not yet valid.
    let expired = app.assertion(&url("contoso"), &client, now() - 3600).unwrap();
    assert_eq!(post_assertion(&e, "contoso", &client, &expired).await, (401, 700024));
    let early = app.assertion(&url("contoso"), &client, now() + 3600).unwrap();
    assert_eq!(post_assertion(&e, "contoso", &client, &early).await, (401, 700024));
    // Not a JWT.
    assert_eq!(post_assertion(&e, "contoso", &client, "not.a-jwt").await, (400, 50027));
}

#[tokio::test]
async fn a_token_the_org_refuses_is_renewed_once_and_the_request_succeeds() {
    let app = spawn_app().await;
    let key = app.agent("Reader", &[("account", Level::Read)], false).await;
    assert_eq!(app.send(&key, "GET", "accounts?$top=1", None).await.status(), 200);
    let refreshes = || {
        app.gateway
            .metrics()
            .encode()
            .lines()
            .filter(|l| l.starts_with("stanchion_upstream_token_refreshes_total"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(refreshes(), ["stanchion_upstream_token_refreshes_total{result=\"ok\"} 1"]);
    // Every token issued so far is refused from now on (a credential reset): the cached one
    // gets a 401, is forgotten, and the request goes through with a new token.
    app.emulator.revoke_tokens().unwrap();
    let before = app.emulator.api_requests();
    assert_eq!(app.send(&key, "GET", "accounts?$top=1", None).await.status(), 200);
    assert_eq!(app.emulator.api_requests() - before, 2, "the refused try and the one with a new token");
    assert_eq!(refreshes(), ["stanchion_upstream_token_refreshes_total{result=\"ok\"} 2"]);
}
