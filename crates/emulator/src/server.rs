//! The HTTP server: start-up (listener, data directory, database, seeds), routing of every
//! request (token endpoint, `/api/data/…`, anything else 404), the headers every response gets
//! (`x-ms-service-request-id`; `OData-Version: 4.0` on the Web API), and shutdown.

mod api;

use crate::assertion::RegisteredCert;
use crate::auth::{authenticate, unauthorized};
use crate::clock::Clock;
use crate::files;
use crate::protection::Protector;
use crate::response::{build, error, with_header};
use crate::seed::{self, Ids, SystemIds};
use crate::store::Store;
use crate::token::{self, Keys, Registered, SigningKeys};
use crate::{CertificateRegistration, ClientCredential, EmulatorConfig, EmulatorError, RunningEmulator, Storage};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, request::Parts};
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::{ParseLimits, RawRequest, Schema, parse_request};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Largest accepted request body (spec §12; the parser's default limit).
const MAX_BODY: usize = 4 * 1024 * 1024;
/// Largest accepted token request body.
const MAX_TOKEN_BODY: usize = 64 * 1024;

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) schema: Schema,
    /// The schema's `$metadata` document, written once (spec §8.1).
    pub(crate) csdl: axum::body::Bytes,
    pub(crate) store: Store,
    pub(crate) org_url: String,
    /// The token signing key; replaced by [`RunningEmulator::revoke_tokens`].
    pub(crate) keys: SigningKeys,
    pub(crate) clients: Vec<Registered>,
    pub(crate) sys: SystemIds,
    /// Requests served on `/api/…` (tests count what a gateway forwarded).
    pub(crate) api_requests: Arc<std::sync::atomic::AtomicU64>,
    /// SQL statements run while serving `/api/…` requests (tests bound a request's cost).
    pub(crate) sql_statements: Arc<std::sync::atomic::AtomicU64>,
    /// The clock requests read "now" from.
    pub(crate) clock: Arc<Clock>,
    /// Service protection limits (spec §11), when on.
    pub(crate) protection: Option<Protector>,
}

/// Stops the server when told to, or when dropped.
#[derive(Debug)]
pub(crate) struct ServerHandle {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerHandle {
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(10), task).await.is_err() {
                tracing::warn!("emulator did not stop within 10 s; aborting it");
                abort.abort();
            }
        }
    }
}

fn normalize_org_url(url: &str) -> Result<String, EmulatorError> {
    let url = url.trim().trim_end_matches('/');
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && url.bytes().all(|b| b.is_ascii_graphic())
        && !url.contains(['?', '#']);
    if ok { Ok(url.to_owned()) } else { Err(EmulatorError::Config(format!("org URL '{url}' is not an http(s) URL"))) }
}

fn clients(
    config: &EmulatorConfig,
    dir: Option<&std::path::Path>,
) -> Result<(Vec<ClientCredential>, bool), EmulatorError> {
    if config.clients.is_empty() {
        let (client, created) = files::default_client(dir)?;
        return Ok((vec![client], created));
    }
    for (i, c) in config.clients.iter().enumerate() {
        if c.client_id.is_empty() || c.client_secret.is_empty() {
            return Err(EmulatorError::Config("a client id or secret is empty".into()));
        }
        if config.clients[..i].iter().any(|o| o.client_id == c.client_id) {
            return Err(EmulatorError::Config(format!("client id '{}' is given twice", c.client_id)));
        }
    }
    Ok((config.clients.clone(), false))
}

/// Adds each certificate to its client (the first client when it names none).
fn register_certificates(
    mut clients: Vec<Registered>,
    certificates: &[CertificateRegistration],
) -> Result<Vec<Registered>, EmulatorError> {
    for c in certificates {
        let cert = RegisteredCert::from_pem(c.pem.as_bytes())
            .map_err(|e| EmulatorError::Config(format!("client certificate: {e}")))?;
        let client = match &c.client_id {
            None => clients.first_mut(),
            Some(id) => clients.iter_mut().find(|r| r.credential.client_id == *id),
        }
        .ok_or_else(|| {
            EmulatorError::Config(format!("client certificate: no client '{}'", c.client_id.as_deref().unwrap_or("")))
        })?;
        tracing::info!(client_id = %client.credential.client_id, thumbprint = %cert.thumbprint(), "client certificate registered");
        client.certificates.push(cert);
    }
    Ok(clients)
}

pub(crate) async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| EmulatorError::Bind { addr: config.listen, source })?;
    let local_addr = listener.local_addr().map_err(|source| EmulatorError::Bind { addr: config.listen, source })?;
    let org_url = match &config.org_url {
        Some(url) => normalize_org_url(url)?,
        None => format!("http://{local_addr}"),
    };
    let dir = match &config.storage {
        Storage::Dir(d) => {
            files::ensure_dir(d)?;
            Some(d.as_path())
        }
        Storage::InMemory => None,
    };
    let (credentials, default_client_created) = clients(&config, dir)?;
    let keys = SigningKeys::new(Keys::new(&files::signing_key(dir)?));
    let schema = config.schema.clone().unwrap_or_else(Schema::standard);
    let store = Store::open(dir, &schema).await?;
    let setup = |e: DataverseError| EmulatorError::Setup(e.message);
    let mut ids = Ids::new(config.seed);
    let (sys, registered) = {
        let mut w = store.write().await?;
        let (sys, fresh) = seed::system(&mut w.tx, &schema, &mut ids).await.map_err(setup)?;
        let mut registered = Vec::with_capacity(credentials.len());
        for c in &credentials {
            let user_id = seed::app_user(&mut w.tx, &schema, &sys, &mut ids, &c.client_id).await.map_err(setup)?;
            registered.push(Registered { credential: c.clone(), user_id, certificates: Vec::new() });
        }
        match (config.seed, fresh, registered.first()) {
            (Some(n), true, Some(owner)) => {
                seed::sample_data(&mut w.tx, &schema, &sys, owner.user_id, n).await.map_err(setup)?
            }
            (Some(_), false, _) => {
                tracing::info!("the database is not empty; sample data not loaded")
            }
            _ => {}
        }
        w.commit().await?;
        (sys, registered)
    };
    let registered = register_certificates(registered, &config.client_certificates)?;
    let api_requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sql_statements = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let clock = Arc::new(Clock::system());
    let app = Arc::new(App {
        csdl: axum::body::Bytes::from(dataverse::csdl::write(&schema)),
        schema,
        store,
        org_url: org_url.clone(),
        keys: keys.clone(),
        clients: registered,
        sys,
        api_requests: api_requests.clone(),
        sql_statements: sql_statements.clone(),
        clock: clock.clone(),
        protection: config.protection.map(Protector::new),
    });
    let router = Router::new().fallback(handle).with_state(app.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "emulator server failed");
        }
        app.store.close().await;
    });
    match config.protection {
        Some(p) => tracing::info!(%local_addr, protection = %p, "emulator listening"),
        None => tracing::info!(%local_addr, "emulator listening"),
    }
    Ok(RunningEmulator {
        local_addr,
        org_url,
        clients: credentials,
        default_client_created,
        api_requests,
        sql_statements,
        clock,
        keys,
        handle: ServerHandle { stop: Some(stop), task: Some(task) },
    })
}

/// The tenant of `/{tenant}/oauth2/v2.0/token`.
fn token_tenant(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let (tenant, tail) = rest.split_once('/')?;
    (tail == "oauth2/v2.0/token" && !tenant.is_empty()).then_some(tenant)
}

async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let (mut response, kind) = if let Some(tenant) = token_tenant(&path) {
        (token_endpoint(&app, &parts, tenant, body).await, "token")
    } else if path == "/api" || path.starts_with("/api/") {
        app.api_requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (r, kind) = api(&app, &parts, body).await;
        (with_header(r, "odata-version", "4.0"), kind)
    } else {
        let e = DataverseError::new(
            404,
            codes::ODATA_PARSE,
            "Resource not found: Web API calls start with /api/data/v9.2/.",
        );
        (with_header(error(&e), "odata-version", "4.0"), "not_found")
    };
    response = with_header(response, "x-ms-service-request-id", &uuid::Uuid::new_v4().to_string());
    // Method, kind and status only: paths and bodies may hold field values.
    tracing::info!(
        method = %parts.method,
        kind,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn token_endpoint(app: &App, parts: &Parts, tenant: &str, body: Body) -> Response {
    if parts.method != Method::POST {
        let e = serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a {} request.", parts.method),
            "error_codes": [900561],
        });
        return build(StatusCode::BAD_REQUEST, Some("application/json; charset=utf-8"), e.to_string());
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TOKEN_BODY).await else {
        return build(StatusCode::PAYLOAD_TOO_LARGE, None, Body::empty());
    };
    token::respond(&app.keys.current(), &app.org_url, &app.clients, tenant, &bytes, chrono::Utc::now().timestamp())
}

/// A Web API call: authenticate, read the body, pass the service protection limits (when on),
/// parse with the one parser, execute.
async fn api(app: &App, parts: &Parts, body: Body) -> (Response, &'static str) {
    let authorization = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = match authenticate(
        &app.keys.current(),
        &app.org_url,
        &app.clients,
        authorization,
        chrono::Utc::now().timestamp(),
    ) {
        Ok(c) => c,
        Err(failure) => return (unauthorized(&failure, &app.org_url), "unauthenticated"),
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let e =
            DataverseError::new(413, codes::ODATA_PARSE, format!("The request body is larger than {MAX_BODY} bytes"));
        return (error(&e), "too_large");
    };
    // Service protection (spec §11): a throttled request is answered here, never executed. The
    // admission (its concurrency permit) is held until the answer is built.
    let admission = match app.protection.as_ref().map(|p| p.admit(caller.user_id, app.clock.now().timestamp())) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(throttled)) => {
            let response = error(&throttled.error());
            return (with_header(response, "retry-after", &throttled.retry_after().to_string()), "throttled");
        }
    };
    let (response, kind) = execute(app, parts, &bytes, caller).await;
    match admission {
        Some(a) => {
            (with_header(response, "x-ms-ratelimit-burst-remaining-xrm-requests", &a.remaining.to_string()), kind)
        }
        None => (response, kind),
    }
}

/// Parses and executes an authenticated, admitted Web API call.
async fn execute(app: &App, parts: &Parts, bytes: &[u8], caller: crate::auth::Caller) -> (Response, &'static str) {
    // Header values that are not UTF-8 are passed lossily: a damaged value of a header that
    // matters (If-Match, Prefer…) then fails the parser's validation instead of being dropped.
    let owned: Vec<(&str, String)> =
        parts.headers.iter().map(|(n, v)| (n.as_str(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
    let headers: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let raw = RawRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body: bytes,
    };
    let request = match parse_request(&app.schema, &raw, &ParseLimits::default()) {
        Ok(r) => r,
        Err(e) => return (error(&api::emulator_error(e.to_dataverse())), "invalid"),
    };
    let kind = request.kind().name();
    if request.kind() == dataverse::RequestKind::Batch && request.method == dataverse::Method::Post {
        let answer = api::batch::execute(app, &raw, caller);
        return (crate::store::counted(app.sql_statements.clone(), answer).await, kind);
    }
    match crate::store::counted(app.sql_statements.clone(), api::execute(app, &request, caller)).await {
        Ok(response) => (response, kind),
        Err(e) => (error(&api::emulator_error(e)), kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_paths() {
        assert_eq!(token_tenant("/contoso/oauth2/v2.0/token"), Some("contoso"));
        assert_eq!(token_tenant("/api/data/v9.2/accounts"), None);
        assert_eq!(token_tenant("//oauth2/v2.0/token"), None);
    }

    #[test]
    fn org_urls() {
        assert_eq!(normalize_org_url("https://org.crm.dynamics.com/").unwrap(), "https://org.crm.dynamics.com");
        assert!(normalize_org_url("org.crm.dynamics.com").is_err());
        assert!(normalize_org_url("http://x/?a").is_err());
    }
}
