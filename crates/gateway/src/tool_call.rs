//! The entry for requests built by Stanchion's MCP server (design invariant 4: one path).
//!
//! An MCP tool call becomes an ordinary Dataverse request — method, path, query, headers,
//! body — that runs through the same phases as a REST call ([`crate::pipeline`]): the agent's
//! key is authenticated again, the request parsed, classified, authorized, limited, audited and
//! forwarded, and the answer filtered. The only differences are in the audit record: transport
//! `mcp` and the tool's name. What this module does not do: define tools or read their
//! arguments (the `mcp` crate does), or decide anything itself.

use crate::pipeline::{Incoming, Via, authenticate_or_refuse, refuse};
use crate::refusal::Refusal;
use crate::{Agent, Gateway, audit_record};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use dataverse::Schema;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// An authenticated MCP client: the agent, and the headers its tool calls carry (its own
/// `Authorization`, `Host` and `User-Agent`: every tool call authenticates again).
#[derive(Debug, Clone)]
pub struct McpCaller {
    /// The agent behind the key.
    pub agent: Agent,
    headers: HeaderMap,
    client_ip: String,
}

/// A Dataverse request built by a tool.
#[derive(Debug, Clone)]
pub struct ToolRequest {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path, starting with `/api/data/v9.2/`.
    pub path: String,
    /// The query string (percent-encoded), if any.
    pub query: Option<String>,
    /// Request headers (`Prefer`, `If-Match`, `Content-Type`…).
    pub headers: Vec<(&'static str, String)>,
    /// The body (JSON), possibly empty.
    pub body: Vec<u8>,
}

impl ToolRequest {
    /// A `GET` of `path` with `query`.
    pub fn get(path: String, query: Option<String>) -> Self {
        ToolRequest { method: "GET", path, query, headers: Vec::new(), body: Vec::new() }
    }
}

/// The gateway's answer to a tool's request, as the agent would have received it over REST.
#[derive(Debug, Clone)]
pub struct ToolAnswer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Response body.
    pub body: bytes::Bytes,
}

impl ToolAnswer {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Headers of the MCP HTTP request that its tool calls carry.
const CARRIED: &[&str] = &["authorization", "host", "user-agent"];

impl Gateway {
    /// Authenticates an MCP HTTP request (its bearer agent key) as the authenticate phase does
    /// for REST: a refusal is audited (or folded into a flood count) and returned as the
    /// response to send.
    pub async fn mcp_caller(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        peer: IpAddr,
    ) -> Result<McpCaller, Response> {
        let headers = self.effective_headers(headers, peer);
        let mut carried = HeaderMap::new();
        for name in CARRIED {
            if let Some(v) = headers.get(*name) {
                carried.insert(*name, v.clone());
            }
        }
        let inc = incoming(&carried, &peer.to_string(), method, path, None, Vec::new(), None);
        let mut rec = audit_record::Draft::new(&inc, self.config.record_values);
        let agent = authenticate_or_refuse(self, &inc, &mut rec).await?;
        Ok(McpCaller { agent, headers: carried, client_ip: peer.to_string() })
    }

    /// Runs a tool's Dataverse request through the whole pipeline, as this caller.
    pub async fn run_tool(&self, caller: &McpCaller, tool: &str, request: ToolRequest) -> ToolAnswer {
        let mut headers = caller.headers.clone();
        for (name, value) in &request.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        let inc = incoming(
            &headers,
            &caller.client_ip,
            request.method,
            &request.path,
            request.query,
            request.body,
            Some(tool),
        );
        let response = crate::pipeline::run(self, inc).await;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        ToolAnswer { status: parts.status.as_u16(), headers: parts.headers, body }
    }

    /// Refuses a tool call that never became a Dataverse request (a tool this agent is not
    /// offered, or arguments that do not make a request), with one audit record. Returns the
    /// refusal's message, or `Err` when the record could not be committed.
    pub async fn refuse_tool(
        &self,
        caller: &McpCaller,
        tool: &str,
        code: &'static str,
        message: String,
    ) -> Result<String, String> {
        let inc = incoming(&caller.headers, &caller.client_ip, "POST", "/mcp", None, Vec::new(), Some(tool));
        let mut rec = audit_record::Draft::new(&inc, self.config.record_values);
        rec.agent = Some((caller.agent.id.clone(), caller.agent.name.clone()));
        rec.key_id = Some(caller.agent.key_id.clone());
        let response = refuse(self, &inc, rec.mcp_tool(), Refusal::new(code, message.clone())).await;
        if response.headers().get("x-stanchion-reason").and_then(|v| v.to_str().ok()) == Some("audit_unavailable") {
            Err("the audit log is unavailable, so Stanchion refuses every call".to_owned())
        } else {
            Ok(message)
        }
    }

    /// The agent's current policy (read on every call: a change applies at once).
    pub async fn policy_of(&self, agent: &Agent) -> Result<policy::AgentPolicy, store::StoreError> {
        self.store.policy(&agent.id).await
    }

    /// The org's schema as the gateway knows it now (learned on first use from a real org).
    pub async fn current_schema(&self) -> Result<Arc<Schema>, String> {
        match self.schema.for_request(&self.upstream).await {
            crate::schema_source::Current::Known(s) => Ok(s),
            crate::schema_source::Current::Unknown(reason) => Err(reason),
        }
    }
}

fn incoming(
    headers: &HeaderMap,
    client_ip: &str,
    method: &str,
    path: &str,
    query: Option<String>,
    body: Vec<u8>,
    tool: Option<&str>,
) -> Incoming {
    Incoming {
        request_id: uuid::Uuid::new_v4().to_string(),
        method: method.to_owned(),
        path: path.to_owned(),
        query,
        headers: headers.clone(),
        body: bytes::Bytes::from(body),
        client_ip: client_ip.to_owned(),
        started: Instant::now(),
        via: Via::Mcp(tool.map(str::to_owned)),
    }
}
