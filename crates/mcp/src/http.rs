//! `/mcp` on the agents' listener: Streamable HTTP (stateless, so any replica can answer any
//! request), behind the gateway's authenticate phase.
//!
//! Every HTTP request to `/mcp` must carry an agent key as bearer token; one without a valid
//! key is refused exactly as a REST call is (401, Dataverse error body, audited or folded into
//! a flood count) before MCP sees it. An authenticated request reaches rmcp's Streamable HTTP
//! service with the [`McpCaller`] in its extensions, which the handler reads.

use crate::server::StanchionMcp;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use gateway::{Gateway, McpCaller};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// The path MCP is served on.
pub const PATH: &str = "/mcp";

/// How `/mcp` answers.
#[derive(Debug, Clone)]
pub struct McpSettings {
    /// `Host` values accepted (DNS-rebinding protection): names or `name:port`.
    pub allowed_hosts: Vec<String>,
    /// Answer with `application/json` (else `text/event-stream`).
    pub json_response: bool,
    /// Most bytes of rows in one tool result.
    pub max_result_bytes: usize,
    /// Rows per page of a read that names no top (1–5000).
    pub page_size: u32,
}

impl Default for McpSettings {
    fn default() -> Self {
        McpSettings {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into()],
            json_response: true,
            max_result_bytes: 48 * 1024,
            page_size: crate::calls::PAGE,
        }
    }
}

type Service = StreamableHttpService<StanchionMcp, NeverSessionManager>;

#[derive(Clone)]
struct Mcp {
    gw: Arc<Gateway>,
    service: Service,
}

/// The `/mcp` route, to merge into the agents' router.
pub fn router(gw: Arc<Gateway>, settings: &McpSettings) -> Router {
    let handler = StanchionMcp {
        gw: gw.clone(),
        max_result_bytes: settings.max_result_bytes,
        page_size: settings.page_size.clamp(1, 5000),
    };
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(settings.json_response)
        .with_allowed_hosts(settings.allowed_hosts.clone())
        .with_sse_keep_alive(None);
    let service =
        StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(NeverSessionManager::default()), config);
    Router::new().route(PATH, axum::routing::any(handle)).with_state(Mcp { gw, service })
}

async fn handle(
    State(mcp): State<Mcp>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    let caller: McpCaller = match mcp.gw.mcp_caller(req.method().as_str(), PATH, req.headers(), peer.ip()).await {
        Ok(c) => c,
        Err(mut refused) => {
            if refused.status() == axum::http::StatusCode::UNAUTHORIZED {
                refused
                    .headers_mut()
                    .insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer realm=\"stanchion\""));
            }
            return refused;
        }
    };
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(caller);
    match mcp.service.oneshot(axum::extract::Request::from_parts(parts, body)).await {
        Ok(response) => response.map(axum::body::Body::new).into_response(),
        Err(never) => match never {},
    }
}
