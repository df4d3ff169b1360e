//! Stanchion's MCP server: agents use Dynamics 365 through Model Context Protocol tools,
//! under the same policy and audit as REST calls.
//!
//! What it does: serves `/mcp` (Streamable HTTP, stateless) on the agents' listener
//! ([`router`]) and bridges stdio to it ([`stdio::bridge`]); lists the tools the calling
//! agent may use ([`tools`]); turns each tool call into Dataverse requests that run through the
//! gateway pipeline as that agent ([`calls`], via [`gateway::Gateway::run_tool`]), so each is
//! parsed, classified, authorized, audited (transport `mcp`, with the tool's name) and
//! filtered like a REST call; shapes the answers into compact, capped results ([`answers`]).
//! What it does not do: reach the org or the emulator itself, decide access, or keep state
//! between requests (any replica can serve any request).
#![forbid(unsafe_code)]

pub mod answers;
pub mod calls;
mod http;
mod server;
pub mod stdio;
pub mod tools;

pub use http::{McpSettings, PATH, router};
pub use server::StanchionMcp;
