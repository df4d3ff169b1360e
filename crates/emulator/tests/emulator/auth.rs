//! Bearer checks on the Web API (spec §14.2–14.4).

use crate::common::{assert_error, config, header, http, spawn, spawn_with};
use base64::Engine as _;
use emulator::Storage;

async fn status_with(e: &crate::common::Emu, authorization: Option<&str>) -> reqwest::Response {
    let mut req = e.http.get(e.url("WhoAmI"));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn missing_and_garbage_tokens_are_401() {
    let e = spawn().await;
    let resp = status_with(&e, None).await;
    let challenge = header(&resp, "www-authenticate").expect("WWW-Authenticate");
    assert_eq!(
        challenge,
        format!("Bearer authorization_uri={0}/common/oauth2/authorize, resource_id={0}/", e.emu.org_url)
    );
    assert!(header(&resp, "x-ms-service-request-id").is_some());
    let message = assert_error(resp, 401, "0x80040277").await;
    assert!(message.contains("missing"), "{message}");

    for garbage in ["Bearer garbage", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer"] {
        let resp = status_with(&e, Some(garbage)).await;
        assert_error(resp, 401, "0x80040277").await;
    }
    // Any path under /api is protected, known or not.
    let resp = e.http.get(e.url("nosuchset")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn a_token_for_another_org_is_401() {
    let a = spawn().await;
    let b = spawn().await;
    let resp = status_with(&a, Some(&format!("Bearer {}", b.token))).await;
    // Different signing key (in-memory emulators each have their own) → invalid.
    assert_error(resp, 401, "0x80040277").await;

    // Same signing key (same data directory), other org URL → "not for this organization".
    let dir = tempfile::tempdir().unwrap();
    let mut c1 = config(Storage::Dir(dir.path().to_owned()));
    c1.org_url = Some("http://org-one.test".into());
    let one = spawn_with(c1).await;
    let one_token = one.token.clone();
    one.emu.shutdown().await;
    let mut c2 = config(Storage::Dir(dir.path().to_owned()));
    c2.org_url = Some("http://org-two.test".into());
    let two = spawn_with(c2).await;
    let resp = two.http.get(two.url("WhoAmI")).bearer_auth(&one_token).send().await.unwrap();
    let challenge = header(&resp, "www-authenticate").unwrap();
    assert!(
        challenge.contains("authorization_uri=http://org-two.test/contoso.onmicrosoft.com/oauth2/authorize"),
        "{challenge}"
    );
    let message = assert_error(resp, 401, "0x80040277").await;
    assert!(message.contains("not for this organization"), "{message}");
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let dir = tempfile::tempdir().unwrap();
    let e = spawn_with(config(Storage::Dir(dir.path().to_owned()))).await;
    let who = e.get_json("WhoAmI").await;
    let key_text = std::fs::read_to_string(dir.path().join("emulator-signing.key")).unwrap();
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(key_text.trim()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims = serde_json::json!({
        "aud": e.emu.org_url, "iss": "https://sts.windows.net/t/", "tid": "t",
        "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600,
        "appid": "stanchion-local", "oid": who["UserId"], "sub": who["UserId"], "idtyp": "app", "ver": "1.0",
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&key),
    )
    .unwrap();
    let resp = status_with(&e, Some(&format!("Bearer {token}"))).await;
    let message = assert_error(resp, 401, "0x80040277").await;
    assert!(message.contains("expired"), "{message}");
    let _ = http();
}
