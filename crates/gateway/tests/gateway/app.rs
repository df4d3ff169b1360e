//! `spawn_app()`: emulator (seeded, in memory) + store (temp dir) + gateway, all on port 0.

use dataverse::Schema;
use emulator::{EmulatorConfig, Protection, RunningEmulator, Storage};
use gateway::{ClientAuth, ClientCredentials, Clock, Gateway, GatewayConfig, SystemClock, TokenCache, UpstreamClient};
use policy::Level;
use std::sync::Arc;
use store::{Actor, Store, StoreConfig};

/// A clock the test moves by hand (whole seconds), shared by the tests of time-bound behaviour.
#[derive(Debug)]
pub struct ManualClock(pub std::sync::atomic::AtomicU64);

impl ManualClock {
    pub fn at(seconds: u64) -> Arc<ManualClock> {
        Arc::new(ManualClock(std::sync::atomic::AtomicU64::new(seconds)))
    }

    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A gateway whose per-agent limits and flood windows run on `clock`.
pub async fn spawn_app_on(clock: Arc<ManualClock>) -> App {
    let agent_limits = gateway::AgentLimits { clock, ..gateway::AgentLimits::default() };
    spawn_app_with(GatewayConfig { agent_limits, ..GatewayConfig::default() }).await
}

pub struct App {
    pub url: String,
    pub emulator: RunningEmulator,
    pub store: Store,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub gateway: Arc<Gateway>,
}

pub async fn spawn_app() -> App {
    spawn_app_with(GatewayConfig::default()).await
}

pub async fn spawn_app_with(config: GatewayConfig) -> App {
    spawn_app_with_tokens(config, |_| {}, Arc::new(SystemClock)).await
}

/// Like [`spawn_app_with`], with the gateway's upstream credentials edited by `edit` and its
/// token cache on `clock`.
pub async fn spawn_app_with_tokens(
    config: GatewayConfig,
    edit: impl FnOnce(&mut ClientCredentials),
    clock: Arc<dyn Clock>,
) -> App {
    spawn(config, edit, clock, None, |_, upstream| upstream, Learn::No).await
}

/// How the gateway gets its schema.
pub enum Learn {
    /// The standard tables, fixed.
    No,
    /// Learned from the emulator, which serves `emulator` (default: the standard tables);
    /// cached at `cache`, which starts as `preload` (made this emulator's) when given.
    From {
        emulator: Option<Box<Schema>>,
        cache: std::path::PathBuf,
        preload: Option<Box<gateway::schema_source::CachedSchema>>,
    },
}

/// A gateway that learns its schema from the emulator (see [`Learn::From`]).
pub async fn spawn_learning(emulator: Option<Schema>, cache: std::path::PathBuf) -> App {
    let learn = Learn::From { emulator: emulator.map(Box::new), cache, preload: None };
    spawn(GatewayConfig::default(), |_| {}, Arc::new(SystemClock), None, |_, u| u, learn).await
}

/// Like [`spawn_learning`], with the cache file holding `preload` (an older answer of this org)
/// when the gateway starts.
pub async fn spawn_learning_from_cache(
    emulator: Option<Schema>,
    cache: std::path::PathBuf,
    preload: gateway::schema_source::CachedSchema,
) -> App {
    let learn = Learn::From { emulator: emulator.map(Box::new), cache, preload: Some(Box::new(preload)) };
    spawn(GatewayConfig::default(), |_| {}, Arc::new(SystemClock), None, |_, u| u, learn).await
}

/// Like [`spawn_app`], with the emulator enforcing `protection` (service protection limits) and
/// the gateway's upstream client (built for the emulator) replaced by `upstream`'s answer: retry
/// settings, or another org URL.
pub async fn spawn_app_with_upstream(
    protection: Option<Protection>,
    upstream: impl FnOnce(&RunningEmulator, UpstreamClient) -> UpstreamClient,
) -> App {
    spawn(GatewayConfig::default(), |_| {}, Arc::new(SystemClock), protection, upstream, Learn::No).await
}

async fn spawn(
    config: GatewayConfig,
    edit: impl FnOnce(&mut ClientCredentials),
    clock: Arc<dyn Clock>,
    protection: Option<Protection>,
    edit_upstream: impl FnOnce(&RunningEmulator, UpstreamClient) -> UpstreamClient,
    learn: Learn,
) -> App {
    gateway::install_crypto_provider();
    let emulator_schema = match &learn {
        Learn::From { emulator, .. } => emulator.as_deref().cloned(),
        Learn::No => None,
    };
    let dir = tempfile::tempdir().unwrap();
    let emulator = emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        org_url: None,
        storage: Storage::InMemory,
        clients: Vec::new(),
        seed: Some(7),
        protection,
        client_certificates: Vec::new(),
        schema: emulator_schema,
    })
    .await
    .unwrap();
    let secrets = store::load_or_create_secrets(dir.path(), None, None).unwrap();
    let store = Store::open(&StoreConfig {
        database: dir.path().join("stanchion.sqlite"),
        secrets,
        checkpoint_file: dir.path().join("audit-checkpoints.log"),
    })
    .await
    .unwrap();
    let http = gateway::http_client().unwrap();
    let client = emulator.clients[0].clone();
    let mut credentials = ClientCredentials {
        token_url: emulator::token_url(&emulator.org_url, "test"),
        client_id: client.client_id,
        auth: ClientAuth::Secret(client.client_secret),
        scope: format!("{}/.default", emulator.org_url),
    };
    edit(&mut credentials);
    let tokens = TokenCache::new(http.clone(), credentials, clock);
    let upstream = edit_upstream(&emulator, UpstreamClient::new(http.clone(), emulator.org_url.clone(), tokens));
    let gw = match learn {
        Learn::No => Gateway::new(Arc::new(Schema::standard()), store.clone(), upstream, config),
        Learn::From { cache, preload, .. } => {
            if let Some(mut preload) = preload {
                preload.org_url = upstream.org_url().to_owned();
                preload.save(&cache).unwrap();
            }
            let source = gateway::schema_source::SchemaSource::learned(
                Some(cache),
                std::time::Duration::from_secs(3600),
                upstream.org_url(),
            );
            Gateway::with_schema(source, store.clone(), upstream, config)
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = gateway::router(gw.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    App { url, emulator, store, http, dir, gateway: gw }
}

impl App {
    /// Creates an agent with these table levels; returns its key.
    pub async fn agent(&self, name: &str, tables: &[(&str, Level)], delete: bool) -> String {
        let actor = Actor::Cli("cli:test@localhost".into());
        let (_, key) = self.store.create_agent(&actor, name).await.unwrap();
        let schema = Schema::standard();
        for (t, level) in tables {
            // A custom table (learned schemas): its set name as the tests name them.
            let set = schema.table(t).map_or_else(|| format!("{t}s"), |tb| tb.set_name.clone());
            self.store.set_table_level(&actor, name, t, &set, *level).await.unwrap();
        }
        if delete {
            self.store.set_delete_records(&actor, name, true).await.unwrap();
        }
        key.expose().to_owned()
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/data/v9.2/{path}", self.url)
    }

    pub async fn send(&self, key: &str, method: &str, path: &str, body: Option<&str>) -> reqwest::Response {
        self.send_with(key, method, path, body, &[]).await
    }

    pub async fn send_with(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let url = if path.starts_with("http") { path.to_owned() } else { self.api(path) };
        let mut req = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .header("Authorization", format!("Bearer {key}"))
            .header("OData-Version", "4.0")
            .header("Accept", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_owned());
        }
        req.send().await.unwrap()
    }

    /// Requests the emulator has served on its API (the upstream count).
    pub fn upstream_requests(&self) -> u64 {
        self.emulator.api_requests()
    }

    /// An id of an existing row of a set, read straight from the emulator as a full-use client.
    pub async fn first_id(&self, key: &str, set: &str, id_col: &str) -> String {
        let v: serde_json::Value =
            self.send(key, "GET", &format!("{set}?$select={id_col}&$top=1"), None).await.json().await.unwrap();
        v["value"][0][id_col].as_str().unwrap().to_owned()
    }

    /// The audit records of one request id.
    pub async fn records(&self, resp_request_id: &str) -> Vec<audit::AuditRecord> {
        self.store.records_for_request(resp_request_id).await.unwrap()
    }
}

impl App {
    /// A GET sent byte for byte (no client-side path normalisation); status and headers.
    pub async fn raw_get(&self, key: &str, path: &str) -> (u16, std::collections::HashMap<String, String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.url.trim_start_matches("http://");
        let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf);
        let mut lines = text.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())))
            .collect();
        (status, headers)
    }
}

pub fn request_id(resp: &reqwest::Response) -> String {
    resp.headers().get("x-stanchion-request-id").unwrap().to_str().unwrap().to_owned()
}

pub fn reason(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get("x-stanchion-reason").map(|v| v.to_str().unwrap().to_owned())
}
