//! Sentences for agent requests (attempts, outcomes and decisions).

use super::{article, ending, short_id, subject};
use crate::{AuditRecord, Decision, Kind, Privilege, RecordType, TableAccess};

/// A verb in the two forms sentences need.
struct Verb {
    /// After "asked to" / "tried to": `read`, `delete`, `send`.
    base: &'static str,
    /// The simple past: `read`, `deleted`, `sent`.
    past: &'static str,
    /// The act was sending, which happened even when refused, so refusals
    /// keep the past tense (`sent a batch … — denied`).
    sent: bool,
}

const fn verb(base: &'static str, past: &'static str) -> Verb {
    Verb { base, past, sent: false }
}

const SEND: Verb = Verb { base: "send", past: "sent", sent: true };

pub(super) fn sentence(record: &AuditRecord) -> String {
    let (verb, object) = action(record);
    let phrase = match (record.record_type, record.decision) {
        (RecordType::Attempt, _) => format!("asked to {} {object}", verb.base),
        (_, Some(Decision::Allowed) | None) => format!("{} {object}", verb.past),
        _ if verb.sent => format!("{} {object}", verb.past),
        _ => format!("tried to {} {object}", verb.base),
    };
    format!("{} {phrase}{}{}.", subject(record), through(record), ending(record))
}

/// How the request arrived, when not over REST: ` through MCP (query_records)`.
fn through(record: &AuditRecord) -> String {
    if record.kind == Kind::McpTool {
        // The sentence names the tool already.
        return String::new();
    }
    match (record.transport, record.mcp_tool.as_deref()) {
        (Some(crate::Transport::Mcp), Some(tool)) if !tool.is_empty() => format!(" through MCP ({tool})"),
        (Some(crate::Transport::Mcp), _) => " through MCP".to_owned(),
        _ => String::new(),
    }
}

/// The verb and its object for the record's kind.
fn action(r: &AuditRecord) -> (Verb, String) {
    use Privilege::{Create, Delete, Read, Write};
    let cols = columns(r);
    match &r.kind {
        Kind::Query => (verb("read", "read"), format!("{}{cols}", counted(r, Read))),
        Kind::FetchxmlQuery => (verb("read", "read"), format!("{} with FetchXML{cols}", counted(r, Read))),
        Kind::Retrieve | Kind::RetrieveProperty => (verb("read", "read"), format!("{}{cols}", one(r, Read))),
        Kind::ChangeTracking => {
            let delta = r.path.as_deref().is_some_and(|p| p.contains("$deltatoken="));
            let set = plural(table(r, Read));
            let object = match (delta, r.rows) {
                (true, Some(1)) => format!("1 change of {set}{cols} since the last sync"),
                (true, Some(n)) => format!("{n} changes of {set}{cols} since the last sync"),
                (true, None) => format!("changes of {set}{cols} since the last sync"),
                (false, Some(n)) => format!("{set}{cols} from the start ({n} rows)"),
                (false, None) => format!("{set}{cols} from the start"),
            };
            (verb("sync", "synced"), object)
        }
        Kind::Count => (verb("count", "counted"), plural(table(r, Read))),
        Kind::Aggregate => {
            let groups = match r.rows {
                Some(1) => " into 1 group".to_owned(),
                Some(n) => format!(" into {n} groups"),
                None => String::new(),
            };
            (verb("aggregate", "aggregated"), format!("{}{cols}{groups}", plural(table(r, Read))))
        }
        Kind::Create => {
            let object = match r.record_ids.first() {
                Some(id) => format!("{} {}", singular(table(r, Create)), short_id(id)),
                None => format!("a new {}", singular(table(r, Create))),
            };
            (verb("create", "created"), format!("{object}{cols}"))
        }
        Kind::Update | Kind::UpdateProperty => (verb("update", "updated"), format!("{}{cols}", one(r, Write))),
        Kind::Upsert => (verb("upsert", "upserted"), format!("{}{cols}", one(r, Write))),
        Kind::ClearProperty => {
            let object = if r.columns.is_empty() {
                one(r, Write)
            } else {
                format!("{} of {}", r.columns.join(", "), one(r, Write))
            };
            (verb("clear", "cleared"), object)
        }
        Kind::Delete => (verb("delete", "deleted"), one(r, Delete)),
        Kind::Associate => (verb("link", "linked"), pair(r, "to")),
        Kind::Disassociate => (verb("unlink", "unlinked"), pair(r, "from")),
        Kind::UnboundFunction => match operation(r) {
            Some(name) if r.tables.is_empty() => (verb("call", "called"), name),
            Some(name) => {
                let sets: Vec<&str> = r.tables.iter().map(|t| t.set.as_str()).collect();
                (verb("call", "called"), format!("{name} on {}", sets.join(", ")))
            }
            None => (verb("call", "called"), format!("a function{}", request_line(r))),
        },
        Kind::BoundFunction => (verb("call", "called"), format!("a function on {}", one(r, Read))),
        Kind::UnboundAction => match operation(r) {
            Some(name) if r.record_ids.is_empty() => (verb("run", "ran"), name),
            Some(name) => (verb("run", "ran"), format!("{name} on {}", one(r, Write))),
            None => (verb("run", "ran"), format!("an action{}", request_line(r))),
        },
        Kind::BoundAction => match operation(r) {
            Some(name) if r.record_ids.len() > 1 => {
                let n = r.record_ids.len();
                (verb("run", "ran"), format!("{name} on {n} {}{}", plural(table(r, Write)), columns(r)))
            }
            Some(name) if r.record_ids.len() == 1 => {
                (verb("run", "ran"), format!("{name} on {}{}", one(r, Write), columns(r)))
            }
            Some(name) => (verb("run", "ran"), format!("{name} on {}{}", plural(table(r, Write)), columns(r))),
            None => (verb("run", "ran"), format!("an action on {}", one(r, Write))),
        },
        Kind::Batch => (
            SEND,
            match r.rows {
                Some(1) => "a batch of 1 request".to_owned(),
                Some(n) => format!("a batch of {n} requests"),
                None => "a batch of requests".to_owned(),
            },
        ),
        Kind::ServiceDocument => (verb("read", "read"), "the service document".to_owned()),
        Kind::MetadataCsdl => (verb("read", "read"), "the metadata document".to_owned()),
        Kind::MetadataDefinitions => (verb("read", "read"), "table definitions".to_owned()),
        Kind::Unclassified => (SEND, format!("a request Stanchion does not understand{}", request_line(r))),
        Kind::McpTool => {
            (verb("call", "called"), format!("the MCP tool {}", r.mcp_tool.as_deref().unwrap_or("(unnamed)")))
        }
        // A folded record (design §5) counts the repeats it stands for in `rows`.
        Kind::Unauthenticated => match (r.reason_code.as_deref(), r.rows) {
            (Some("unauthenticated_folded"), Some(1)) => (SEND, "one more request".to_owned()),
            (Some("unauthenticated_folded"), Some(n)) => (SEND, format!("{n} more requests")),
            _ => (SEND, "a request".to_owned()),
        },
        other => {
            let name = other.as_str();
            (SEND, format!("{} {name} request{}", article(name), request_line(r)))
        }
    }
}

/// The table to name: the first whose privilege matches the verb, else the first.
fn table(r: &AuditRecord, privilege: Privilege) -> Option<&TableAccess> {
    r.tables.iter().find(|table| table.privilege == privilege).or_else(|| r.tables.first())
}

/// The singular noun: the table's logical name.
fn singular(table: Option<&TableAccess>) -> String {
    table.map_or_else(|| "record".to_owned(), |table| table.table.clone())
}

/// The plural noun: the entity set name.
fn plural(table: Option<&TableAccess>) -> String {
    table.map_or_else(|| "records".to_owned(), |table| table.set.clone())
}

/// `account 3f2c…9a1`, or `an account` when no id is known.
fn one(r: &AuditRecord, privilege: Privilege) -> String {
    named(table(r, privilege), r.record_ids.first())
}

fn named(table: Option<&TableAccess>, id: Option<&String>) -> String {
    let noun = singular(table);
    match id {
        Some(id) => format!("{noun} {}", short_id(id)),
        None => format!("{} {noun}", article(&noun)),
    }
}

/// `25 accounts`, `1 account`, or `accounts` when the row count is unknown.
fn counted(r: &AuditRecord, privilege: Privilege) -> String {
    let table = table(r, privilege);
    match r.rows {
        Some(1) => format!("1 {}", singular(table)),
        Some(n) => format!("{n} {}", plural(table)),
        None => plural(table),
    }
}

/// `account 3f2c…9a1 to contact 1a2b…cde`: the first table and id, then the second.
fn pair(r: &AuditRecord, preposition: &str) -> String {
    let first = named(r.tables.first(), r.record_ids.first());
    let second = match (r.tables.get(1), r.record_ids.get(1)) {
        (None, None) => "another record".to_owned(),
        (table, id) => named(table, id),
    };
    format!("{first} {preposition} {second}")
}

/// The function's or action's name, from the recorded path's last segment
/// (`…/WinOpportunity`, `…/RetrieveTotalRecordCount(EntityNames=[…])`), when it is one.
fn operation(r: &AuditRecord) -> Option<String> {
    let path = r.path.as_deref()?;
    let path = path.split('?').next().unwrap_or(path);
    let last = path.rsplit('/').next()?;
    let last = last.strip_prefix("Microsoft.Dynamics.CRM.").unwrap_or(last);
    let name = last.split('(').next().unwrap_or(last);
    (!name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then(|| name.to_owned())
}

/// ` (name, revenue)`, or nothing without columns.
fn columns(r: &AuditRecord) -> String {
    if r.columns.is_empty() { String::new() } else { format!(" ({})", r.columns.join(", ")) }
}

/// ` (GET /api/data/v9.2/foo)`, or as much of it as is known.
fn request_line(r: &AuditRecord) -> String {
    match (r.method.as_deref(), r.path.as_deref()) {
        (Some(method), Some(path)) => format!(" ({method} {path})"),
        (None, Some(path)) => format!(" ({path})"),
        _ => String::new(),
    }
}
