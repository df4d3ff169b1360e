//! The upstream access token (OAuth 2.0 client credentials against Entra ID, spec §14.1, with a
//! client secret or a certificate), cached and renewed ahead of expiry by one request while the
//! others go on with the current token; forgotten when the upstream answers 401 with it. Time
//! comes from an injectable [`Clock`]. Fetches are counted by result for `/metrics`.

use crate::client_certificate::ClientCertificate;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// A source of the current time (injectable for tests).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, as seconds since the Unix epoch.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }
}

/// How the app proves who it is: a client secret or a certificate (client assertion).
#[derive(Clone)]
pub enum ClientAuth {
    /// A client secret (`client_secret`).
    Secret(String),
    /// A certificate and its key (`client_assertion`, see [`crate::client_certificate`]).
    Certificate(Arc<ClientCertificate>),
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientAuth::Secret(_) => f.write_str("Secret(<redacted>)"),
            ClientAuth::Certificate(c) => write!(f, "Certificate(x5t#S256={})", c.thumbprint()),
        }
    }
}

/// Client credentials for the upstream org. `Debug` hides the secret.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// Token endpoint, e.g. `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`.
    pub token_url: String,
    /// Application (client) id.
    pub client_id: String,
    /// The secret or certificate.
    pub auth: ClientAuth,
    /// Scope, `{org_url}/.default`.
    pub scope: String,
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint could not be reached.
    #[error("the token endpoint could not be reached: {0}")]
    Unreachable(String),
    /// The token endpoint refused (its `error` code, never the secret).
    #[error("the token endpoint refused the credentials ({0})")]
    Refused(String),
    /// The answer was not a token.
    #[error("the token endpoint answered something that is not a token")]
    Malformed,
    /// The client assertion could not be signed.
    #[error("the client assertion could not be signed")]
    Signing,
}

#[derive(Debug, Clone)]
struct Cached {
    token: String,
    expires_at: u64,
}

/// Renew this long before expiry (while the token is still used by other requests).
const RENEW_AHEAD: u64 = 300;

/// A token this close to expiry is not sent any more: callers wait for a new one.
const USABLE_MARGIN: u64 = 30;

/// The token cache.
#[derive(Debug, Clone)]
pub struct TokenCache {
    http: reqwest::Client,
    credentials: ClientCredentials,
    clock: Arc<dyn Clock>,
    cached: Arc<std::sync::Mutex<Option<Cached>>>,
    /// Held by the one request that is fetching a token.
    fetching: Arc<Mutex<()>>,
    refreshes: Family<RefreshLabels, Counter>,
}

/// Labels of the token refresh counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefreshLabels {
    /// `ok` or `failed`.
    pub result: &'static str,
}

impl TokenCache {
    /// A cache for these credentials.
    pub fn new(http: reqwest::Client, credentials: ClientCredentials, clock: Arc<dyn Clock>) -> Self {
        TokenCache {
            http,
            credentials,
            clock,
            cached: Arc::default(),
            fetching: Arc::default(),
            refreshes: Family::default(),
        }
    }

    /// Token fetches by result (for `/metrics`).
    pub fn refreshes(&self) -> Family<RefreshLabels, Counter> {
        self.refreshes.clone()
    }

    fn current(&self) -> Option<Cached> {
        self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn store(&self, fresh: &Cached) {
        *self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fresh.clone());
    }

    /// A valid token. Five minutes before expiry one request renews it while the others go on
    /// with the current one (if that renewal fails, the current token is used until the next
    /// request tries again); without a usable token, callers wait for the one fetch in flight.
    pub async fn token(&self) -> Result<String, TokenError> {
        let now = self.clock.now();
        if let Some(c) = self.current().filter(|c| c.expires_at > now + USABLE_MARGIN) {
            if c.expires_at > now + RENEW_AHEAD {
                return Ok(c.token);
            }
            let Ok(_renewing) = self.fetching.try_lock() else {
                return Ok(c.token);
            };
            return match self.fetch(now).await {
                Ok(fresh) => Ok(fresh.token),
                Err(e) => {
                    tracing::warn!(error = %e, "renewing the upstream token failed; the current one is still valid");
                    Ok(c.token)
                }
            };
        }
        let _fetching = self.fetching.lock().await;
        let now = self.clock.now();
        if let Some(c) = self.current().filter(|c| c.expires_at > now + RENEW_AHEAD) {
            return Ok(c.token);
        }
        Ok(self.fetch(now).await?.token)
    }

    /// Forgets `token` after the upstream refused it (401), so the next [`TokenCache::token`]
    /// fetches a new one; a newer token cached meanwhile is kept.
    pub fn invalidate(&self, token: &str) {
        let mut cached = self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    async fn fetch(&self, now: u64) -> Result<Cached, TokenError> {
        let result = self.request(now).await;
        let label = RefreshLabels { result: if result.is_ok() { "ok" } else { "failed" } };
        self.refreshes.get_or_create(&label).inc();
        if let Ok(fresh) = &result {
            self.store(fresh);
        }
        result
    }

    async fn request(&self, now: u64) -> Result<Cached, TokenError> {
        let c = &self.credentials;
        let assertion;
        let mut form = vec![("grant_type", "client_credentials"), ("client_id", c.client_id.as_str())];
        match &c.auth {
            ClientAuth::Secret(secret) => form.push(("client_secret", secret.as_str())),
            ClientAuth::Certificate(cert) => {
                assertion = cert.assertion(&c.token_url, &c.client_id, now).map_err(|_| TokenError::Signing)?;
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
                form.push(("client_assertion", assertion.as_str()));
            }
        }
        form.push(("scope", c.scope.as_str()));
        let body: String = form
            .iter()
            .map(|(k, v)| {
                format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC))
            })
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .http
            .post(&c.token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| TokenError::Unreachable(e.without_url().to_string()))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| TokenError::Unreachable(e.without_url().to_string()))?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
        if !status.is_success() {
            let code = json.get("error").and_then(|v| v.as_str()).unwrap_or("unknown error");
            return Err(TokenError::Refused(code.chars().filter(|c| c.is_ascii_graphic()).take(64).collect()));
        }
        let token = json.get("access_token").and_then(|v| v.as_str()).ok_or(TokenError::Malformed)?;
        let expires_in = json.get("expires_in").and_then(|v| v.as_u64()).ok_or(TokenError::Malformed)?;
        Ok(Cached { token: token.to_owned(), expires_at: now + expires_in })
    }
}
