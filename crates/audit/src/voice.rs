//! The voice: one plain-English sentence per record, derived only from its
//! fields (never stored, so it can improve without touching the chain).
//!
//! Shapes, by record:
//! - allowed outcome or decision: `Sales Ops Agent read 25 accounts (name) — allowed.`,
//!   plus `; Dynamics 365 answered 412 (…)` when Dynamics 365 did not succeed;
//! - attempt: `Sales Ops Agent asked to read accounts (name) — allowed; forwarded to Dynamics 365.`;
//! - denied or error: `Sales Ops Agent tried to delete contact 3f2c…9a1 — denied: <reason>.`
//!   (requests that were only *sent* keep `sent`: batches, requests Stanchion
//!   does not understand, unauthenticated requests);
//! - admin: `Admin alice set Support Agent's access to leads from Off to Read.`

mod admin;
mod request;

use crate::{Actor, AuditRecord, Decision, Kind, RecordType};

/// The record's one plain-English sentence. Deterministic: the same fields
/// always give the same sentence.
pub fn sentence(record: &AuditRecord) -> String {
    if record.record_type == RecordType::Admin || record.kind.is_admin() {
        admin::sentence(record)
    } else {
        request::sentence(record)
    }
}

/// Shortens a record id for a sentence: ids longer than 10 characters become
/// their first 4 characters, `…`, and their last 3 (a GUID
/// `3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1` becomes `3f2c…9a1`); shorter ids
/// are kept as they are.
pub fn short_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return id.to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}…{tail}")
}

/// Who acted, as the start of a sentence.
fn subject(record: &AuditRecord) -> String {
    let name = record.actor_name.as_deref();
    match record.actor {
        Actor::Agent => match (&record.kind, record.agent_name.as_deref().or(record.agent_id.as_deref())) {
            (Kind::Unauthenticated, _) | (_, None) => match record.client_ip.as_deref() {
                Some(ip) => format!("An unknown caller ({ip})"),
                None => "An unknown caller".to_owned(),
            },
            (_, Some(agent)) => agent.to_owned(),
        },
        Actor::Admin => name.map_or_else(|| "An admin".to_owned(), |name| format!("Admin {name}")),
        Actor::Cli => name.unwrap_or("The CLI").to_owned(),
        Actor::System => "Stanchion".to_owned(),
    }
}

/// The ending after the action: ` — allowed`, ` — denied: <reason>`, ...,
/// and what Dynamics 365 answered when it did not succeed. No final period.
fn ending(record: &AuditRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut head = match record.decision {
        Some(Decision::Allowed) => "allowed".to_owned(),
        Some(Decision::Denied) => with_reason("denied", record.reason.as_deref()),
        Some(Decision::Error) => with_reason("error", record.reason.as_deref()),
        None => String::new(),
    };
    if record.record_type == RecordType::Attempt && record.decision == Some(Decision::Allowed) {
        head.push_str("; forwarded to Dynamics 365");
    }
    if !head.is_empty() {
        parts.push(head);
    }
    if let Some(status) = record.upstream_status
        && !(200..400).contains(&status)
    {
        parts.push(format!("Dynamics 365 answered {status}{}", status_phrase(status)));
    }
    if parts.is_empty() { String::new() } else { format!(" — {}", parts.join("; ")) }
}

fn with_reason(word: &str, reason: Option<&str>) -> String {
    match reason.map(|reason| reason.trim().trim_end_matches('.')) {
        Some(reason) if !reason.is_empty() => format!("{word}: {reason}"),
        _ => word.to_owned(),
    }
}

/// What an unsuccessful Dynamics 365 status means, with a leading space.
fn status_phrase(status: u16) -> &'static str {
    match status {
        400 => " (the request was invalid)",
        401 | 403 => " (Dynamics 365 refused the credentials or privileges)",
        404 => " (the record does not exist)",
        412 => " (the record changed since it was read)",
        429 => " (too many requests; Dynamics 365 asked to slow down)",
        500..=599 => " (Dynamics 365 failed)",
        _ => "",
    }
}

/// `a` or `an` before `word`, by its first letter.
fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}
