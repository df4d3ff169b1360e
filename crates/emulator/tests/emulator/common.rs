//! Test harness: start an emulator, get a token, call the Web API.

use emulator::{ClientCredential, EmulatorConfig, RunningEmulator, Storage, start, token_url};
use reqwest::{Client, Response};
use serde_json::Value;
use std::net::SocketAddr;

pub fn http() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().no_proxy().build().expect("http client")
}

pub fn config(storage: Storage) -> EmulatorConfig {
    EmulatorConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        org_url: None,
        storage,
        clients: Vec::new(),
        seed: None,
        protection: None,
        client_certificates: Vec::new(),
        schema: None,
    }
}

pub struct Emu {
    pub emu: RunningEmulator,
    pub http: Client,
    pub token: String,
}

pub async fn spawn() -> Emu {
    spawn_with(config(Storage::InMemory)).await
}

pub async fn spawn_with(config: EmulatorConfig) -> Emu {
    let emu = start(config).await.expect("emulator starts");
    let http = http();
    let token = fetch_token(&http, &root(&emu), &emu.org_url, &emu.clients[0]).await;
    Emu { emu, http, token }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `http://{bound address}`: where requests go (the org URL may name a host that does not
/// resolve).
pub fn root(emu: &RunningEmulator) -> String {
    format!("http://{}", emu.local_addr)
}

pub async fn token_request(http: &Client, root: &str, pairs: &[(&str, &str)]) -> Response {
    http.post(token_url(root, "contoso.onmicrosoft.com"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("token request")
}

pub async fn fetch_token(http: &Client, root: &str, org_url: &str, client: &ClientCredential) -> String {
    let scope = format!("{org_url}/.default");
    let resp = token_request(
        http,
        root,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.client_id),
            ("client_secret", &client.client_secret),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    body["access_token"].as_str().expect("access_token").to_owned()
}

pub async fn json(resp: Response) -> Value {
    let text = resp.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers().get(name).map(|v| v.to_str().expect("ascii header").to_owned())
}

impl Emu {
    /// The base links are built from.
    pub fn base(&self) -> String {
        format!("{}/api/data/v9.2", self.emu.org_url)
    }

    /// The URL requests go to.
    pub fn url(&self, rel: &str) -> String {
        format!("{}/api/data/v9.2/{rel}", root(&self.emu))
    }

    pub async fn send(&self, method: &str, rel: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, self.url(rel))
            .bearer_auth(&self.token)
            .header("accept", "application/json")
            .header("odata-version", "4.0")
            .header("odata-maxversion", "4.0");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, rel: &str) -> Response {
        self.send("GET", rel, None, &[]).await
    }

    pub async fn get_json(&self, rel: &str) -> Value {
        let resp = self.get(rel).await;
        assert_eq!(resp.status(), 200, "GET {rel}");
        json(resp).await
    }

    /// Creates a row (204 path) and returns its id from `OData-EntityId`.
    pub async fn create(&self, set: &str, body: Value) -> String {
        let resp = self.send("POST", set, Some(&body), &[]).await;
        assert_eq!(resp.status(), 204, "create in {set}: {:?}", resp.text().await);
        let entity = header(&resp, "odata-entityid").expect("OData-EntityId");
        let prefix = format!("{}/{set}(", self.base());
        let id = entity.strip_prefix(&prefix).and_then(|s| s.strip_suffix(')')).expect("entity id shape");
        assert_eq!(id.len(), 36);
        id.to_owned()
    }
}

/// Asserts a Dataverse error answer: status, `error.code`, JSON content type, OData-Version.
pub async fn assert_error(resp: Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status(), status);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("application/json; odata.metadata=minimal"));
    assert_eq!(header(&resp, "odata-version").as_deref(), Some("4.0"));
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().expect("message").to_owned();
    assert_eq!(body["error"].as_object().unwrap().len(), 2, "only code and message: {body}");
    message
}
