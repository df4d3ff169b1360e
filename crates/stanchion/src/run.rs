//! `serve`, `demo` and `emulator`: start the servers and print the first `listening …` line.

use crate::config::Config;
use crate::listen;
use anyhow::{Context, Result, bail};
use dataverse::Schema;
use emulator::{CertificateRegistration, ClientCredential, EmulatorConfig, Protection, RunningEmulator, Storage};
use gateway::{
    ClientAuth, ClientCertificate, ClientCredentials, Gateway, GatewayConfig, Retries, SystemClock, TokenCache,
    TokioSleeper, UpstreamClient,
};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use store::{Actor, Store};

#[derive(clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
    /// Keep data in memory only.
    #[arg(long, conflicts_with = "data_dir")]
    in_memory: bool,
    /// Seed deterministic sample data (accounts, contacts, leads, opportunities, cases).
    #[arg(long)]
    seed: Option<u64>,
    /// Organization URL (default http://{bound address}).
    #[arg(long)]
    org_url: Option<String>,
    /// Client id (repeat with --client-secret for several clients).
    #[arg(long)]
    client_id: Vec<String>,
    /// Client secret, paired with --client-id in order.
    #[arg(long)]
    client_secret: Vec<String>,
    /// Enforce Dataverse's service protection limits per caller (429 with Retry-After), e.g.
    /// requests=6000,window=300s,concurrency=52; each key optional. Off by default.
    #[arg(long, value_name = "requests=N,window=300s,concurrency=M")]
    protect: Option<Protection>,
    /// Register a certificate (PEM; a key in the file is ignored) for certificate sign-in of a
    /// client, the first client when CLIENT_ID= is left out. Repeatable.
    #[arg(long, value_name = "[CLIENT_ID=]FILE")]
    client_cert: Vec<String>,
    /// Register a custom API (an action; `NAME@TABLE` binds it to a row of TABLE), answered with
    /// a stub and listed in `$metadata` like an org's. Repeatable.
    #[arg(long, value_name = "NAME[@TABLE]")]
    custom_api: Vec<String>,
}

/// Reads `--custom-api NAME[@TABLE]` values into the standard schema's custom operations.
fn custom_apis(values: &[String]) -> Result<Option<dataverse::Schema>> {
    if values.is_empty() {
        return Ok(None);
    }
    let standard = dataverse::Schema::standard();
    let mut ops = Vec::new();
    for v in values {
        let (name, bound) = match v.split_once('@') {
            Some((n, t)) => (n, Some(t)),
            None => (v.as_str(), None),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            anyhow::bail!("--custom-api {v}: the name is letters, digits and _");
        }
        let bound = match bound {
            Some(t) => {
                Some(standard.table(t).with_context(|| format!("--custom-api {v}: no table {t}"))?.logical_name.clone())
            }
            None => None,
        };
        ops.push(dataverse::metadata::CustomOperation { name: name.to_owned(), function: false, bound });
    }
    Ok(Some(standard.with_operations(ops)))
}

/// Reads `--client-cert [CLIENT_ID=]FILE` values.
fn client_certificates(values: &[String]) -> Result<Vec<CertificateRegistration>> {
    values
        .iter()
        .map(|v| {
            let (client_id, file) = match v.split_once('=') {
                Some((id, file)) if !id.is_empty() => (Some(id.to_owned()), file),
                _ => (None, v.as_str()),
            };
            let pem = std::fs::read_to_string(file).with_context(|| format!("--client-cert: reading {file}"))?;
            Ok(CertificateRegistration { client_id, pem })
        })
        .collect()
}

fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `stanchion emulator`.
pub async fn emulator(args: EmulatorArgs, data_dir: Option<PathBuf>) -> Result<u8> {
    if args.client_id.len() != args.client_secret.len() {
        bail!("give one --client-secret for each --client-id");
    }
    let clients = args
        .client_id
        .into_iter()
        .zip(args.client_secret)
        .map(|(client_id, client_secret)| ClientCredential { client_id, client_secret })
        .collect();
    let storage = match (args.in_memory, data_dir) {
        (true, _) => Storage::InMemory,
        (false, Some(d)) => Storage::Dir(d),
        (false, None) => Storage::Dir(PathBuf::from("./stanchion-data/emulator")),
    };
    let running = emulator::start(EmulatorConfig {
        listen: Config::addr(&args.listen, "--listen")?,
        org_url: args.org_url,
        storage,
        clients,
        seed: args.seed,
        protection: args.protect,
        client_certificates: client_certificates(&args.client_cert)?,
        schema: custom_apis(&args.custom_api)?,
    })
    .await?;
    print_line(&format!("listening emulator={}", running.org_url));
    if running.default_client_created
        && let Some(c) = running.clients.first()
    {
        eprintln!("client_id={} client_secret={} (shown once; also in the data dir)", c.client_id, c.client_secret);
    }
    shutdown_signal().await;
    running.shutdown().await;
    Ok(0)
}

/// The upstream the gateway talks to, and the emulator when it is embedded.
struct Upstream {
    client: UpstreamClient,
    emulator: Option<RunningEmulator>,
}

async fn upstream(config: &Config, seed: Option<u64>) -> Result<Upstream> {
    let http = gateway::http_client()?;
    let u = &config.upstream;
    let retries = Retries { max_wait: u.max_retry_wait()?, sleeper: Arc::new(TokioSleeper) };
    if u.org_url == "embedded" {
        let running = emulator::start(EmulatorConfig {
            listen: Config::addr(&config.listen.emulator, "listen.emulator")?,
            org_url: None,
            storage: Storage::Dir(config.data_dir().join("emulator")),
            clients: Vec::new(),
            seed,
            protection: None,
            client_certificates: Vec::new(),
            schema: None,
        })
        .await?;
        let client = running.clients.first().context("the emulator has no client")?.clone();
        let credentials = ClientCredentials {
            token_url: emulator::token_url(&running.org_url, "stanchion"),
            client_id: client.client_id,
            auth: ClientAuth::Secret(client.client_secret),
            scope: format!("{}/.default", running.org_url),
        };
        let tokens = TokenCache::new(http.clone(), credentials, Arc::new(SystemClock));
        let client = UpstreamClient::new(http, running.org_url.clone(), tokens).with_retries(retries);
        return Ok(Upstream { client, emulator: Some(running) });
    }
    if u.tenant_id.is_empty() || u.client_id.is_empty() {
        bail!("upstream.tenant_id and upstream.client_id are required when upstream.org_url is not \"embedded\"");
    }
    let has_secret = u.client_secret.is_some() || !u.client_secret_file.is_empty();
    let auth = if !u.certificate_file.is_empty() {
        if has_secret {
            bail!("set either upstream.certificate_file or a client secret, not both");
        }
        let file = u.certificate_file.as_str();
        let pem = std::fs::read(file).with_context(|| format!("reading upstream.certificate_file {file}"))?;
        let cert = ClientCertificate::from_pem(&pem).with_context(|| format!("upstream.certificate_file {file}"))?;
        tracing::info!(thumbprint = %cert.thumbprint(), "signing in to the upstream with a certificate");
        ClientAuth::Certificate(Arc::new(cert))
    } else {
        ClientAuth::Secret(match (&u.client_secret, u.client_secret_file.as_str()) {
            (Some(s), _) => s.clone(),
            (None, "") => {
                bail!("set upstream.client_secret_file, STANCHION_UPSTREAM_CLIENT_SECRET or upstream.certificate_file")
            }
            (None, f) => std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?.trim().to_owned(),
        })
    };
    let org = u.org_url.trim_end_matches('/').to_owned();
    let credentials = ClientCredentials {
        token_url: format!("{}/{}/oauth2/v2.0/token", u.authority.trim_end_matches('/'), u.tenant_id),
        client_id: u.client_id.clone(),
        auth,
        scope: format!("{org}/.default"),
    };
    let tokens = TokenCache::new(http.clone(), credentials, Arc::new(SystemClock));
    Ok(Upstream { client: UpstreamClient::new(http, org, tokens).with_retries(retries), emulator: None })
}

struct Started {
    agents_url: String,
    /// The admin listener (`/metrics`, health), when `listen.admin` is set.
    admin_url: Option<String>,
    gateway: Arc<Gateway>,
    server: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    upstream: Upstream,
}

async fn start_gateway(config: &Config, store: Store, seed: Option<u64>) -> Result<Started> {
    let upstream = upstream(config, seed).await?;
    let trusted_proxies = config
        .listen
        .trusted_proxies
        .iter()
        .map(|p| p.parse().with_context(|| format!("listen.trusted_proxies: '{p}' is not an IP address")))
        .collect::<Result<Vec<_>>>()?;
    let tls = match (config.listen.tls_cert_file.as_str(), config.listen.tls_key_file.as_str()) {
        ("", "") => None,
        ("", _) | (_, "") => bail!("listen.tls_cert_file and listen.tls_key_file go together: set both or neither"),
        (cert, key) => Some(listen::tls_acceptor(cert.as_ref(), key.as_ref())?),
    };
    let gw_config = GatewayConfig {
        tls: tls.is_some(),
        public_url: (!config.listen.public_url.is_empty()).then(|| config.listen.public_url.clone()),
        trusted_proxies,
        limits: dataverse::ParseLimits::default(),
        record_values: config.audit.record_values,
        agent_limits: gateway::AgentLimits {
            requests_per_minute: config.limits.per_agent_requests_per_minute,
            concurrency: config.limits.per_agent_concurrency,
            clock: Arc::new(SystemClock),
        },
        unauthenticated_per_minute: config.limits.unauthenticated_per_ip_per_minute,
        upstream_budget: gateway::UpstreamBudget {
            requests_per_5min: config.limits.upstream_requests_per_5min,
            concurrency: config.limits.upstream_concurrency,
            clock: Arc::new(SystemClock),
        },
    };
    // The org's tables: from the cache file when there is one, else learned now (a failure is
    // reported by /readyz and to agents, and learning is tried again on their requests).
    let schema = gateway::schema_source::SchemaSource::learned(
        Some(config.schema_cache()),
        config.upstream.schema_refresh()?,
        upstream.client.org_url(),
    );
    if schema.now().is_none()
        && let gateway::schema_source::Current::Unknown(reason) = schema.for_request(&upstream.client).await
    {
        tracing::warn!(reason, "serving without the org's tables until they can be learned");
    }
    let gateway = Gateway::with_schema(schema, store, upstream.client.clone(), gw_config);
    let addr = Config::addr(&config.listen.agents, "listen.agents")?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let agents_url = listen::url(&listener, tls.is_some())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let agents = gateway::router(gateway.clone()).merge(mcp::router(gateway.clone(), &config.mcp.settings()?));
    let server = tokio::spawn(listen::serve(listener, agents, tls.clone(), async {
        let _ = stopped.await;
    }));
    let admin_url = if config.listen.admin.is_empty() {
        None
    } else {
        let addr = Config::addr(&config.listen.admin, "listen.admin")?;
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (admin)"))?;
        let url = listen::url(&listener, tls.is_some())?;
        // Stops with the process; it holds no request that needs draining.
        tokio::spawn(listen::serve(listener, gateway::admin_router(gateway.clone()), tls, std::future::pending()));
        Some(url)
    };
    gateway::spawn_checkpointer(gateway.clone(), Duration::from_secs(60));
    Ok(Started { agents_url, admin_url, gateway, server, stop, upstream })
}

impl Started {
    fn listening_line(&self) -> String {
        let mut line = format!("listening agents={}", self.agents_url);
        if let Some(e) = &self.upstream.emulator {
            line.push_str(&format!(" emulator={}", e.org_url));
        }
        if let Some(admin) = &self.admin_url {
            line.push_str(&format!(" admin={admin}"));
        }
        line
    }

    async fn run_until_signal(self) -> Result<u8> {
        shutdown_signal().await;
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.gateway.flush_all_folded().await;
        self.gateway.audit().checkpoint(audit::Timestamp::from_datetime(chrono::Utc::now())).await?;
        if let Some(e) = self.upstream.emulator {
            e.shutdown().await;
        }
        Ok(0)
    }
}

/// `stanchion schema refresh`: learns the org's tables now and writes the cache file a running
/// gateway reloads (at its next unknown name or periodic check).
pub async fn schema_refresh(config: &Config, json: bool) -> Result<u8> {
    if config.upstream.org_url == "embedded" {
        bail!("the embedded emulator's tables are the standard ones: there is nothing to refresh");
    }
    let upstream = upstream(config, None).await?;
    let cached = gateway::schema_source::CachedSchema::fetch(&upstream.client).await?;
    let schema = cached.schema()?;
    std::fs::create_dir_all(config.data_dir())?;
    cached.save(&config.schema_cache())?;
    let standard = Schema::standard();
    let mut custom: Vec<&str> = schema
        .tables()
        .iter()
        .filter(|t| standard.table(&t.logical_name).is_none())
        .map(|t| t.logical_name.as_str())
        .collect();
    custom.sort_unstable();
    if json {
        let value = serde_json::json!({
            "org_url": cached.org_url,
            "fetched_at": cached.fetched_at,
            "tables": schema.tables().len(),
            "relationships": schema.relationships().len() + schema.many_to_many().len(),
            "not_standard": custom,
            "cache": config.schema_cache().display().to_string(),
        });
        println!("{value}");
    } else {
        println!(
            "learned {} tables and {} relationships from {} ({} not among the standard tables: {})",
            schema.tables().len(),
            schema.relationships().len() + schema.many_to_many().len(),
            cached.org_url,
            custom.len(),
            if custom.is_empty() { "none".to_owned() } else { custom.join(", ") }
        );
        println!("cache written to {}", config.schema_cache().display());
    }
    Ok(0)
}

/// The schema admin commands check names against: the org's learned tables when the cache
/// holds them, else the standard tables (the embedded emulator's).
pub fn known_schema(config: &Config) -> Schema {
    match gateway::schema_source::CachedSchema::load(&config.schema_cache()) {
        Ok(Some(c)) if c.org_url.trim_end_matches('/') == config.upstream.org_url.trim_end_matches('/') => {
            c.schema().unwrap_or_else(|_| Schema::standard())
        }
        _ => Schema::standard(),
    }
}

/// `stanchion serve`.
pub async fn serve(config: Config) -> Result<u8> {
    let store = config.open_store().await?;
    let started = start_gateway(&config, store, None).await?;
    print_line(&started.listening_line());
    started.run_until_signal().await
}

/// `stanchion demo`.
pub async fn demo(mut config: Config, data_dir_given: bool, seed: u64, json: bool) -> Result<u8> {
    if !data_dir_given && std::env::var("STANCHION_STORE_DATA_DIR").is_err() {
        let dir = std::env::temp_dir().join(format!("stanchion-demo-{}", uuid::Uuid::new_v4().simple()));
        config.store.data_dir = dir.display().to_string();
    }
    config.upstream.org_url = "embedded".into();
    let store = config.open_store().await?;
    let agents = demo_agents(&store).await?;
    let started = start_gateway(&config, store, Some(seed)).await?;
    let emulator_url = started.upstream.emulator.as_ref().map(|e| e.org_url.clone()).unwrap_or_default();
    let (first_name, first_key) = &agents[0];
    let curl = format!(
        "curl -s -H 'Authorization: Bearer {first_key}' '{}/api/data/v9.2/accounts?$select=name,revenue&$top=3'",
        started.agents_url
    );
    print_line(&started.listening_line());
    if json {
        let value = serde_json::json!({
            "agents_url": started.agents_url,
            "mcp_url": format!("{}/mcp", started.agents_url),
            "admin_url": started.admin_url,
            "emulator_url": emulator_url,
            "data_dir": config.store.data_dir,
            "agents": agents.iter().map(|(name, key)| serde_json::json!({
                "name": name, "key_id": &key[4..16], "key": key,
            })).collect::<Vec<_>>(),
            "curl": curl,
        });
        print_line(&value.to_string());
    } else {
        let mut text = format!(
            "\nStanchion demo is running.\n  agents' Dataverse URL: {}/api/data/v9.2/\n  agents' MCP URL:       {}/mcp\n  emulator (upstream):   {emulator_url}\n  data dir:              {}\n\n",
            started.agents_url, started.agents_url, config.store.data_dir
        );
        for (name, key) in &agents {
            text.push_str(&format!("  {name}: {key}\n"));
        }
        text.push_str(&format!(
            "\n{first_name} has Full use of accounts, contacts, leads and opportunities (delete off).\nSupport Agent has Full use of incidents and Read on accounts and contacts.\n\nTry it:\n  {curl}\n\nOr over MCP (stdio, for a desktop MCP client):\n  STANCHION_AGENT_KEY={first_key} stanchion mcp --gateway {}\n\nThen see what was recorded:\n  stanchion audit tail --data-dir {}\n\nCtrl-C stops the demo.\n",
            started.agents_url, config.store.data_dir
        ));
        print_line(&text);
    }
    started.run_until_signal().await
}

/// Creates the two demo agents (or adds a fresh key when they exist), returning names and keys.
async fn demo_agents(store: &Store) -> Result<Vec<(String, String)>> {
    type Grants<'a> = &'a [(&'a str, &'a str, policy::Level)];
    let specs: [(&str, Grants); 2] = [
        (
            "Sales Ops Agent",
            &[
                ("account", "accounts", policy::Level::Full),
                ("contact", "contacts", policy::Level::Full),
                ("lead", "leads", policy::Level::Full),
                ("opportunity", "opportunities", policy::Level::Full),
            ],
        ),
        (
            "Support Agent",
            &[
                ("incident", "incidents", policy::Level::Full),
                ("account", "accounts", policy::Level::Read),
                ("contact", "contacts", policy::Level::Read),
            ],
        ),
    ];
    let actor = Actor::System;
    let mut out = Vec::new();
    for (name, tables) in specs {
        let (_, key) = match store.find_agent(name).await {
            Ok(_) => store.add_key(&actor, name, Some("demo"), None).await?,
            Err(_) => store.create_agent(&actor, name).await?,
        };
        for (table, set, level) in tables {
            store.set_table_level(&actor, name, table, set, *level).await?;
        }
        out.push((name.to_owned(), key.expose().to_owned()));
    }
    Ok(out)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
