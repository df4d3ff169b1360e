//! The upstream access token (OAuth 2.0 client credentials against Entra ID, spec §14.1),
//! cached and renewed ahead of expiry. Renewal runs under one lock, so concurrent requests share
//! one token request. Time comes from an injectable [`Clock`].

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

/// Client credentials for the upstream org. `Debug` hides the secret.
#[derive(Clone)]
pub struct ClientCredentials {
    /// Token endpoint, e.g. `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`.
    pub token_url: String,
    /// Application (client) id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Scope, `{org_url}/.default`.
    pub scope: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
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
}

#[derive(Debug, Clone)]
struct Cached {
    token: String,
    expires_at: u64,
}

/// Renew this long before expiry.
const RENEW_AHEAD: u64 = 300;

/// The token cache.
#[derive(Debug, Clone)]
pub struct TokenCache {
    http: reqwest::Client,
    credentials: ClientCredentials,
    clock: Arc<dyn Clock>,
    cached: Arc<Mutex<Option<Cached>>>,
}

impl TokenCache {
    /// A cache for these credentials.
    pub fn new(http: reqwest::Client, credentials: ClientCredentials, clock: Arc<dyn Clock>) -> Self {
        TokenCache { http, credentials, clock, cached: Arc::new(Mutex::new(None)) }
    }

    /// A valid token, fetching a new one when none is cached or it expires within five minutes.
    pub async fn token(&self) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().await;
        let now = self.clock.now();
        if let Some(c) = cached.as_ref().filter(|c| c.expires_at > now + RENEW_AHEAD) {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch(now).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self, now: u64) -> Result<Cached, TokenError> {
        let c = &self.credentials;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("scope", c.scope.as_str()),
        ];
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
