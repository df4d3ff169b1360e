//! Stanchion's access model (design §4): per agent and table a level — Off, Read or Full use —
//! and the Delete records switch; everything not granted is denied.
//!
//! What it does: [`decide`] turns an agent's [`AgentPolicy`] and a request's
//! [`dataverse::Touches`] into a [`Decision`] with every failed check, in the design's check
//! order. What it does not do: any I/O, or know who the agent is (the gateway authenticates).
#![forbid(unsafe_code)]

use dataverse::{Privilege, Schema, Touches};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// Access level of one agent on one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// No access (the default).
    #[default]
    Off,
    /// Dataverse `Read`.
    Read,
    /// `Read`, `Create`, `Write`, `Append`, `AppendTo`, `Assign`, `Share`.
    Full,
}

impl Level {
    /// `off`, `read` or `full`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Read => "read",
            Level::Full => "full",
        }
    }

    /// The console's words: `Off`, `Read`, `Full use`.
    pub fn label(self) -> &'static str {
        match self {
            Level::Off => "Off",
            Level::Read => "Read",
            Level::Full => "Full use",
        }
    }

    /// Whether this level grants a privilege (Delete also needs the switch).
    pub fn grants(self, p: Privilege) -> bool {
        match p {
            Privilege::Read => self >= Level::Read,
            _ => self == Level::Full,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level name that is not `off`, `read` or `full`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a level: use off, read or full")]
pub struct LevelError(pub String);

impl FromStr for Level {
    type Err = LevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "off" => Ok(Level::Off),
            "read" => Ok(Level::Read),
            "full" | "full use" | "full_use" => Ok(Level::Full),
            _ => Err(LevelError(s.to_owned())),
        }
    }
}

/// What one table allows one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableGrant {
    /// The level.
    pub level: Level,
    /// Whether rows may be deleted (only effective with [`Level::Full`]).
    pub delete: bool,
}

/// One agent's policy. Tables not listed are Off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentPolicy {
    /// Per table logical name.
    pub tables: BTreeMap<String, TableGrant>,
    /// The agent's Delete records switch (mirrored into every table grant).
    pub delete_records: bool,
    /// Hidden columns per table logical name (design §4: hidden in every form).
    pub hidden: BTreeMap<String, BTreeSet<String>>,
    /// The agent's own limits; unset ones follow the gateway's `[limits]` defaults.
    pub limits: Limits,
    /// Actions of the catalog the agent may run (design §4: the grant, besides the levels).
    pub actions: BTreeSet<String>,
}

/// An agent's own request limits (design §7 `policy limits`): `None` follows the gateway's
/// configured default, `Some(0)` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Requests (batch parts) in any 60 s.
    pub per_minute: Option<u32>,
    /// Requests in flight at once.
    pub concurrency: Option<u32>,
}

impl AgentPolicy {
    /// The level on a table (Off when not listed).
    pub fn level(&self, table: &str) -> Level {
        self.tables.get(table).map_or(Level::Off, |g| g.level)
    }

    /// Whether a column of a table is hidden from the agent.
    /// A money column's `x_base` twin is hidden with it.
    pub fn is_hidden(&self, table: &str, column: &str) -> bool {
        self.hidden.get(table).is_some_and(|cols| {
            cols.contains(column) || column.strip_suffix("_base").is_some_and(|stem| cols.contains(stem))
        })
    }

    /// Whether rows of this table may be deleted.
    pub fn may_delete(&self, table: &str) -> bool {
        self.tables.get(table).is_some_and(|g| g.level == Level::Full && g.delete)
    }
}

/// A failed check, with its reason code (design §6.4) and plain-English reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// `table_off`, `table_read_only`, `delete_off`.
    pub code: &'static str,
    /// "it can only read contacts".
    pub message: String,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// Every failed check, most important first (the first sets the refusal message).
    pub reasons: Vec<Reason>,
}

/// Order of reason codes (design §6.4).
const ORDER: &[&str] = &["table_off", "table_read_only", "hidden_column", "delete_off", "action_not_granted"];

/// Decides whether `policy` allows what a request `touches`.
pub fn decide(schema: &Schema, policy: &AgentPolicy, touches: &Touches) -> Decision {
    if touches.open_to_all || touches.filtered_listing {
        return Decision { allowed: true, reasons: Vec::new() };
    }
    let plural = |t: &str| schema.table(t).map_or_else(|| t.to_owned(), |tb| tb.set_name.clone());
    let mut reasons: Vec<Reason> = Vec::new();
    for access in &touches.tables {
        let level = policy.level(&access.table);
        let reason = match (level, access.privilege) {
            (Level::Off, _) => {
                Some(Reason { code: "table_off", message: format!("it has no access to {}", plural(&access.table)) })
            }
            (Level::Read, p) if p != Privilege::Read => {
                Some(Reason { code: "table_read_only", message: format!("it can only read {}", plural(&access.table)) })
            }
            (Level::Full, Privilege::Delete) if !policy.may_delete(&access.table) => {
                Some(Reason { code: "delete_off", message: "deleting records is off for this agent".to_owned() })
            }
            _ => None,
        };
        if let Some(r) = reason
            && !reasons.contains(&r)
        {
            reasons.push(r);
        }
    }
    if let Some(action) = &touches.action
        && !policy.actions.contains(action)
    {
        reasons.push(Reason {
            code: "action_not_granted",
            message: format!("the action {action} is not granted to this agent"),
        });
    }
    for (table, column) in &touches.columns {
        if policy.is_hidden(table, column) {
            let r = Reason {
                code: "hidden_column",
                message: format!("column {column} of {table} is hidden for this agent"),
            };
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }
    reasons.sort_by_key(|r| ORDER.iter().position(|c| *c == r.code).unwrap_or(ORDER.len()));
    Decision { allowed: reasons.is_empty(), reasons }
}
