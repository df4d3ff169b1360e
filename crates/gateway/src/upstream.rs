//! The upstream client: sends an [`Authorized`] request, printed canonically from its typed form,
//! to the org with the gateway's own token and `x-ms-client-request-id` (design §6.1), and
//! sends it again when design §6.5 allows ([`crate::retry`]). Every retry is logged with the
//! request id, the reason and the wait (never the URL, headers or body).

use crate::authorize::Authorized;
use crate::retry::{Budget, Retries, replayable};
use crate::token_cache::{TokenCache, TokenError};
use dataverse::Schema;
use std::time::Duration;

/// An answer from the org.
#[derive(Debug)]
pub struct UpstreamResponse {
    /// Status.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: bytes::Bytes,
    /// How many times the request was sent again before this answer (design §6.5).
    pub retries: u32,
}

impl UpstreamResponse {
    /// A header value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why nothing came back from the org.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No token.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The org could not be reached or did not answer in time.
    #[error("Dynamics 365 could not be reached: {0}")]
    Unreachable(String),
    /// The request cannot be printed (never happens for an authorized request).
    #[error("the request cannot be forwarded")]
    NotForwardable,
}

/// The client for one org.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    org_url: String,
    tokens: TokenCache,
    retries: Retries,
}

impl UpstreamClient {
    /// A client for `org_url` (no trailing slash) using `tokens`, with the default retries
    /// ([`Retries::default`]: up to 5 s of waiting, on the tokio timer).
    pub fn new(http: reqwest::Client, org_url: String, tokens: TokenCache) -> Self {
        let org_url = org_url.trim_end_matches('/').to_owned();
        UpstreamClient { http, org_url, tokens, retries: Retries::default() }
    }

    /// The same client with these retry settings (`[upstream] max_retry_wait`, the sleeper).
    pub fn with_retries(mut self, retries: Retries) -> Self {
        self.retries = retries;
        self
    }

    /// Sends the request `build` makes, with the current token, until the answer is final (see
    /// [`crate::retry`]). A 401 means the org refused the token without executing anything: the
    /// token is forgotten and the request sent once more with a new one.
    async fn send_retrying(
        &self,
        request_id: &str,
        replayable: bool,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let mut budget = Budget::default();
        let mut renewed = false;
        loop {
            let token = self.tokens.token().await?;
            let result = match build().bearer_auth(&token).header("x-ms-client-request-id", request_id).send().await {
                Ok(resp) => read(resp).await,
                Err(e) => Err(UpstreamError::Unreachable(e.without_url().to_string())),
            };
            if !renewed && matches!(&result, Ok(r) if r.status == 401) {
                tracing::warn!(request_id, "the upstream refused the token (401); fetching a new one");
                self.tokens.invalidate(&token);
                renewed = true;
                continue;
            }
            let Some((wait, why)) = budget.next(&result, replayable, self.retries.max_wait) else {
                return result.map(|r| UpstreamResponse { retries: budget.retries(), ..r });
            };
            tracing::warn!(
                request_id,
                retry = budget.retries(),
                reason = why.as_str(),
                wait_ms = wait.as_millis() as u64,
                "upstream retry"
            );
            self.retries.sleeper.sleep(wait).await;
        }
    }

    /// `GET {org}/api/data/v9.2/{path}` with the token, for Stanchion's own reads (learning the
    /// schema), never for agents' requests.
    pub async fn get_raw(&self, path: &str, accept: &str, request_id: &str) -> Result<UpstreamResponse, UpstreamError> {
        let url = format!("{}/api/data/v9.2/{path}", self.org_url);
        self.send_retrying(request_id, true, || {
            self.http
                .get(url.as_str())
                .header("accept", accept)
                .header("odata-version", "4.0")
                .header("odata-maxversion", "4.0")
                .timeout(Duration::from_secs(300))
        })
        .await
    }

    /// The org URL.
    pub fn org_url(&self) -> &str {
        &self.org_url
    }

    /// The token cache (the readiness check asks it for a token).
    pub fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// Sends an authorized batch, re-printed part by part (design §6.2), as one request.
    pub async fn send_batch(
        &self,
        schema: &Schema,
        authorized: &crate::authorize::AuthorizedBatch,
        request_id: &str,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let batch = authorized.batch();
        let root = format!("{}/api/data/{}", self.org_url, batch.version.as_str());
        let printed = dataverse::batch::print_batch(schema, batch, &root).map_err(|_| UpstreamError::NotForwardable)?;
        let framed = dataverse::batch::write_batch(&printed, &uuid::Uuid::new_v4().to_string())
            .map_err(|_| UpstreamError::NotForwardable)?;
        let body = bytes::Bytes::from(framed.body);
        // A `$batch` is a POST: sent again only after a 429, which Dataverse did not execute.
        self.send_retrying(request_id, false, || {
            let mut builder = self
                .http
                .post(format!("{root}/$batch"))
                .header("content-type", framed.content_type.as_str())
                .header("accept", "application/json")
                .header("odata-version", "4.0")
                .header("odata-maxversion", "4.0")
                .timeout(Duration::from_secs(300));
            if batch.continue_on_error {
                builder = builder.header("prefer", "odata.continue-on-error");
            }
            builder.body(body.clone())
        })
        .await
    }

    /// Sends an authorized request. The only way agent traffic reaches the org.
    pub async fn send(
        &self,
        schema: &Schema,
        authorized: &Authorized,
        request_id: &str,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let request = authorized.request();
        let root = format!("{}/api/data/{}", self.org_url, request.version.as_str());
        let printed =
            dataverse::print::print_request_for(schema, request, Some(&root)).ok_or(UpstreamError::NotForwardable)?;
        let url = format!("{root}/{}", printed.target);
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .map_err(|_| UpstreamError::NotForwardable)?;
        let body = printed.body.map(bytes::Bytes::from);
        self.send_retrying(request_id, replayable(request), || {
            let mut builder = self.http.request(method.clone(), url.as_str()).timeout(Duration::from_secs(120));
            for (name, value) in &printed.headers {
                builder = builder.header(*name, value);
            }
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            builder
        })
        .await
    }
}

/// The upstream's answer: status, headers (those that are text) and body.
async fn read(resp: reqwest::Response) -> Result<UpstreamResponse, UpstreamError> {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
        .collect();
    let body = resp.bytes().await.map_err(|e| UpstreamError::Unreachable(e.without_url().to_string()))?;
    Ok(UpstreamResponse { status, headers, body, retries: 0 })
}
