//! The real `stanchion` binary: demo, CLI management (agents' own limits enforced), crash durability of the audit log, and the
//! npm `dynamics-web-api` client against the emulator and the gateway, Microsoft's Python client, and the
//! official MCP Python SDK.

#[path = "cli/actions.rs"]
mod actions;
#[path = "cli/audit_search.rs"]
mod audit_search;
#[path = "cli/certificate.rs"]
mod certificate;
#[path = "cli/durability.rs"]
mod durability;
#[path = "cli/dwa.rs"]
mod dwa;
#[path = "cli/harness.rs"]
mod harness;
#[path = "cli/lifecycle.rs"]
mod lifecycle;
#[path = "cli/limits.rs"]
mod limits;
#[path = "cli/mcp.rs"]
mod mcp;
#[path = "cli/migrate.rs"]
mod migrate;
#[path = "cli/policy_file.rs"]
mod policy_file;
#[path = "cli/prune.rs"]
mod prune;
#[path = "cli/python.rs"]
mod python;
#[path = "cli/schema.rs"]
mod schema;
#[path = "cli/tls.rs"]
mod tls;
