//! The token endpoint, `POST /{tenant}/oauth2/v2.0/token`: Entra ID's client-credentials grant
//! (spec §14.1), answering with its success and error shapes. Tokens are HS256 JWTs signed with
//! the emulator's key, carrying the claims Dataverse relies on (spec §14.3).
//!
//! Any tenant name is accepted (design §7). Secrets and tokens are never logged.

use crate::ClientCredential;
use crate::assertion::{self, JWT_BEARER, RegisteredCert};
use crate::response::build;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

/// Lifetime of a token, seconds ("exp" − "iat").
pub(crate) const LIFETIME: i64 = 3600;

/// The token URL of an emulator: `{base}/{tenant}/oauth2/v2.0/token`.
pub fn token_url(org_url_or_base: &str, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", org_url_or_base.trim_end_matches('/'))
}

/// A registered client and its application user.
#[derive(Debug, Clone)]
pub(crate) struct Registered {
    pub(crate) credential: ClientCredential,
    pub(crate) user_id: Uuid,
    /// Certificates registered for client assertions (`--client-cert`).
    pub(crate) certificates: Vec<RegisteredCert>,
}

/// The signing key, both ways.
pub(crate) struct Keys {
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
}

impl Keys {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Keys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

/// The current signing key, shared by the server and [`crate::RunningEmulator`], which can
/// replace it (every token issued before is then refused).
#[derive(Debug, Clone)]
pub(crate) struct SigningKeys(std::sync::Arc<std::sync::RwLock<std::sync::Arc<Keys>>>);

impl SigningKeys {
    pub(crate) fn new(keys: Keys) -> Self {
        SigningKeys(std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(keys))))
    }

    pub(crate) fn current(&self) -> std::sync::Arc<Keys> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub(crate) fn replace(&self, keys: Keys) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = std::sync::Arc::new(keys);
    }
}

/// Claims of an app-only access token (spec §14.3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Claims {
    pub(crate) aud: String,
    pub(crate) iss: String,
    pub(crate) iat: i64,
    pub(crate) nbf: i64,
    pub(crate) exp: i64,
    pub(crate) tid: String,
    pub(crate) appid: String,
    pub(crate) oid: String,
    pub(crate) sub: String,
    pub(crate) idtyp: String,
    pub(crate) ver: String,
    /// A unique token identifier (Entra ID's `uti`): no two tokens are the same.
    #[serde(default)]
    pub(crate) uti: String,
}

/// Signs a token for `client`'s application user.
pub(crate) fn mint(
    keys: &Keys,
    org_url: &str,
    tenant: &str,
    client: &Registered,
    now: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        aud: org_url.to_owned(),
        iss: format!("https://sts.windows.net/{tenant}/"),
        iat: now,
        nbf: now,
        exp: now + LIFETIME,
        tid: tenant.to_owned(),
        appid: client.credential.client_id.clone(),
        oid: client.user_id.to_string(),
        sub: client.user_id.to_string(),
        idtyp: "app".into(),
        ver: "1.0".into(),
        uti: Uuid::new_v4().simple().to_string(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
}

/// An Entra ID error answer (spec §14.1: `error`, `error_description` starting with the
/// `AADSTS` code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`).
fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let (trace, correlation) = (Uuid::new_v4(), Uuid::new_v4());
    let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let body = serde_json::json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace.to_string(),
        "correlation_id": correlation.to_string(),
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    no_store(build(status, Some("application/json; charset=utf-8"), body.to_string()))
}

fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Whether `scope` asks for this org: `{org_url}/.default`, also with a doubled slash (what a
/// client that keeps the base URL's trailing slash sends).
fn scope_matches(scope: &str, org_url: &str) -> bool {
    let scope = scope.trim();
    [format!("{org_url}/.default"), format!("{org_url}//.default")].iter().any(|s| s.eq_ignore_ascii_case(scope))
}

/// Answers a token request (body: `application/x-www-form-urlencoded`).
pub(crate) fn respond(
    keys: &Keys,
    org_url: &str,
    clients: &[Registered],
    tenant: &str,
    body: &[u8],
    now: i64,
) -> Response {
    let mut form: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        if !form.iter().any(|(n, _)| *n == k) {
            form.push((k.into_owned(), v.into_owned()));
        }
    }
    let field = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let missing = |name: &str| {
        aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            &format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let Some(grant) = field("grant_type") else {
        return missing("grant_type");
    };
    if grant != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let Some(client_id) = field("client_id") else {
        return missing("client_id");
    };
    let Some(client) = clients.iter().find(|c| c.credential.client_id == client_id) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        );
    };
    let Some(secret) = field("client_secret") else {
        let Some(assertion) = field("client_assertion") else {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            );
        };
        if field("client_assertion_type") != Some(JWT_BEARER) {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                &format!(
                    "The request body must contain the following parameter: 'client_assertion_type' ('{JWT_BEARER}')."
                ),
            );
        }
        let url = token_url(org_url, tenant);
        if let Err(r) = assertion::verify(assertion, client_id, &client.certificates, &url, now) {
            let (status, error) = match r.code {
                50027 => (StatusCode::BAD_REQUEST, "invalid_request"),
                _ => (StatusCode::UNAUTHORIZED, "invalid_client"),
            };
            return aad_error(status, error, r.code, &r.description);
        }
        return issue(keys, org_url, tenant, client, scope_of(&form), now);
    };
    if !bool::from(secret.as_bytes().ct_eq(client.credential.client_secret.as_bytes())) {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        );
    }
    issue(keys, org_url, tenant, client, scope_of(&form), now)
}

fn scope_of(form: &[(String, String)]) -> &str {
    form.iter().find(|(n, _)| n == "scope").map_or("", |(_, v)| v.as_str())
}

/// The token answer for an authenticated client, once the scope names this org.
fn issue(keys: &Keys, org_url: &str, tenant: &str, client: &Registered, scope: &str, now: i64) -> Response {
    if !scope_matches(scope, org_url) {
        let description = if scope.is_empty() {
            "The provided request must include a 'scope' input parameter.".to_owned()
        } else {
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not valid; this organization's scope is '{org_url}/.default'."
            )
        };
        return aad_error(StatusCode::BAD_REQUEST, "invalid_scope", 70011, &description);
    }
    match mint(keys, org_url, tenant, client, now) {
        Ok(token) => {
            let body = serde_json::json!({
                "token_type": "Bearer",
                "expires_in": LIFETIME - 1,
                "ext_expires_in": LIFETIME - 1,
                "access_token": token,
            });
            no_store(build(StatusCode::OK, Some("application/json; charset=utf-8"), body.to_string()))
        }
        Err(e) => {
            tracing::error!(error = %e, "signing a token failed");
            aad_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", 50000, "There was an error issuing a token.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_urls() {
        assert_eq!(token_url("http://127.0.0.1:8090/", "contoso"), "http://127.0.0.1:8090/contoso/oauth2/v2.0/token");
    }

    #[test]
    fn scopes() {
        assert!(scope_matches("http://127.0.0.1:8090/.default", "http://127.0.0.1:8090"));
        assert!(scope_matches("http://127.0.0.1:8090//.default", "http://127.0.0.1:8090"));
        assert!(!scope_matches("http://other/.default", "http://127.0.0.1:8090"));
        assert!(!scope_matches("", "http://127.0.0.1:8090"));
    }
}
