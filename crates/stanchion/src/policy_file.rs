//! Policy as code (design §7 "Policy file"): `policy export` writes agents' policies as TOML,
//! `policy apply FILE [--dry-run]` makes the listed agents' policies exactly what the file says,
//! and `policy copy FROM TO` gives one agent another's policy.
//!
//! A file is validated whole before anything changes (agents must exist, tables and columns must
//! be in the schema, levels must be off/read/full), then the differences are applied one admin
//! change at a time, each with its audit record — the same changes the single commands make.
//! Agents not in the file are left alone; for a listed agent, a table not listed is Off, a column
//! not listed is shown, and limits not given follow the gateway's defaults. What it does not do:
//! create agents or carry keys (keys are never written to files). `actions` lists the catalog
//! actions granted (names checked against the catalog); an action not listed is not granted.

use anyhow::{Context, Result, bail};
use dataverse::Schema;
use policy::{AgentPolicy, Level};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use store::{Actor, Store};

/// The file: `[agents."NAME"]` sections.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// By agent name (or id).
    #[serde(default)]
    pub agents: BTreeMap<String, AgentEntry>,
}

/// One agent's policy as written in the file.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    /// The Delete records switch.
    #[serde(default)]
    pub delete_records: bool,
    /// Catalog actions granted (`stanchion endpoints` lists them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// The agent's own limits; absent ones follow the gateway's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsEntry>,
    /// Level per table (logical or entity set name): off, read or full.
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    /// Hidden columns per table.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hidden_columns: BTreeMap<String, Vec<String>>,
}

/// `limits = { per_minute = 600, concurrency = 8 }`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsEntry {
    /// Requests per minute (0: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u32>,
    /// Requests at once (0: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// An agent's policy as the store holds it, by logical names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Desired {
    tables: BTreeMap<String, Level>,
    delete_records: bool,
    hidden: BTreeMap<String, BTreeSet<String>>,
    limits: policy::Limits,
    actions: BTreeSet<String>,
}

/// One difference between the store and the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyChange {
    /// A table's level.
    Level { table: String, set: String, from: Level, to: Level },
    /// The Delete records switch.
    DeleteRecords(bool),
    /// A column hidden (`true`) or shown again.
    Column { table: String, set: String, column: String, hide: bool },
    /// The agent's own limits.
    Limits(policy::Limits),
    /// An action granted (`true`) or withdrawn.
    Action { name: String, allow: bool },
}

impl std::fmt::Display for PolicyChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyChange::Level { set, from, to, .. } => write!(f, "{set}: {} → {}", from.label(), to.label()),
            PolicyChange::DeleteRecords(on) => write!(f, "delete records: {}", if *on { "on" } else { "off" }),
            PolicyChange::Column { set, column, hide: true, .. } => write!(f, "hide column {column} of {set}"),
            PolicyChange::Column { set, column, hide: false, .. } => write!(f, "show column {column} of {set}"),
            PolicyChange::Limits(l) => {
                let one = |n: Option<u32>| n.map_or_else(|| "default".to_owned(), |n| n.to_string());
                write!(f, "limits: {} per minute, {} at once", one(l.per_minute), one(l.concurrency))
            }
            PolicyChange::Action { name, allow: true } => write!(f, "allow action {name}"),
            PolicyChange::Action { name, allow: false } => write!(f, "deny action {name}"),
        }
    }
}

/// What applying would change for one agent.
#[derive(Debug)]
pub struct Plan {
    /// The agent's id.
    pub agent_id: String,
    /// The agent's name.
    pub agent: String,
    /// The changes, in the order they are applied.
    pub changes: Vec<PolicyChange>,
}

/// Reads a policy file (unknown keys are errors).
pub fn parse(text: &str) -> Result<PolicyFile> {
    toml::from_str(text).context("the policy file is not valid")
}

/// The file entry of a stored policy (tables by logical name; Off tables left out).
pub fn entry_of(p: &AgentPolicy) -> AgentEntry {
    let limits = (p.limits != policy::Limits::default())
        .then_some(LimitsEntry { per_minute: p.limits.per_minute, concurrency: p.limits.concurrency });
    AgentEntry {
        delete_records: p.delete_records,
        actions: p.actions.iter().cloned().collect(),
        limits,
        tables: p
            .tables
            .iter()
            .filter(|(_, g)| g.level != Level::Off)
            .map(|(t, g)| (t.clone(), g.level.as_str().to_owned()))
            .collect(),
        hidden_columns: p
            .hidden
            .iter()
            .filter(|(_, c)| !c.is_empty())
            .map(|(t, c)| (t.clone(), c.iter().cloned().collect()))
            .collect(),
    }
}

/// The TOML of `agents` (name → policy), as `policy export` prints it.
pub fn export(agents: BTreeMap<String, AgentEntry>) -> Result<String> {
    toml::to_string(&PolicyFile { agents }).context("the policy could not be written as TOML")
}

fn desired(schema: &Schema, agent: &str, e: &AgentEntry) -> Result<Desired> {
    let mut actions = BTreeSet::new();
    for name in &e.actions {
        match dataverse::catalog::find(name).filter(|e| e.kind == dataverse::catalog::EntryKind::Action) {
            Some(entry) => actions.insert(entry.name.to_owned()),
            None if schema.operation(name).is_some() => actions.insert(name.clone()),
            None => bail!("{agent}: '{name}' is not an action of the catalog nor a custom API of the org"),
        };
    }
    let table =
        |name: &str| schema.table_by_any_name(name).with_context(|| format!("{agent}: there is no table '{name}'"));
    let mut tables = BTreeMap::new();
    for (name, level) in &e.tables {
        let t = table(name)?;
        let level: Level = level.parse().with_context(|| format!("{agent}: {name}"))?;
        if tables.insert(t.logical_name.clone(), level).is_some() {
            bail!("{agent}: the table {} is listed twice", t.logical_name);
        }
    }
    let mut hidden: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, columns) in &e.hidden_columns {
        let t = table(name)?;
        for c in columns {
            let column = t
                .column(c)
                .or_else(|| t.column_by_odata_name(c))
                .with_context(|| format!("{agent}: {} has no column '{c}'", t.logical_name))?;
            if column.logical_name == t.primary_id {
                bail!("{agent}: the primary id column {} cannot be hidden", t.primary_id);
            }
            hidden.entry(t.logical_name.clone()).or_default().insert(column.logical_name.clone());
        }
    }
    let limits = e.limits.map_or_else(policy::Limits::default, |l| policy::Limits {
        per_minute: l.per_minute,
        concurrency: l.concurrency,
    });
    Ok(Desired { tables, delete_records: e.delete_records, hidden, limits, actions })
}

fn current(p: &AgentPolicy) -> Desired {
    Desired {
        tables: p.tables.iter().filter(|(_, g)| g.level != Level::Off).map(|(t, g)| (t.clone(), g.level)).collect(),
        delete_records: p.delete_records,
        hidden: p.hidden.iter().filter(|(_, c)| !c.is_empty()).map(|(t, c)| (t.clone(), c.clone())).collect(),
        limits: p.limits,
        actions: p.actions.clone(),
    }
}

fn diff(schema: &Schema, now: &Desired, want: &Desired) -> Vec<PolicyChange> {
    let set = |t: &str| schema.table(t).map_or_else(|| t.to_owned(), |tb| tb.set_name.clone());
    let mut out = Vec::new();
    let names: BTreeSet<&String> = now.tables.keys().chain(want.tables.keys()).collect();
    for t in names {
        let (from, to) =
            (now.tables.get(t).copied().unwrap_or(Level::Off), want.tables.get(t).copied().unwrap_or(Level::Off));
        if from != to {
            out.push(PolicyChange::Level { table: t.clone(), set: set(t), from, to });
        }
    }
    if now.delete_records != want.delete_records {
        out.push(PolicyChange::DeleteRecords(want.delete_records));
    }
    let empty = BTreeSet::new();
    let tables: BTreeSet<&String> = now.hidden.keys().chain(want.hidden.keys()).collect();
    for t in tables {
        let (was, will) = (now.hidden.get(t).unwrap_or(&empty), want.hidden.get(t).unwrap_or(&empty));
        for c in will.difference(was) {
            out.push(PolicyChange::Column { table: t.clone(), set: set(t), column: c.clone(), hide: true });
        }
        for c in was.difference(will) {
            out.push(PolicyChange::Column { table: t.clone(), set: set(t), column: c.clone(), hide: false });
        }
    }
    if now.limits != want.limits {
        out.push(PolicyChange::Limits(want.limits));
    }
    for name in want.actions.difference(&now.actions) {
        out.push(PolicyChange::Action { name: name.clone(), allow: true });
    }
    for name in now.actions.difference(&want.actions) {
        out.push(PolicyChange::Action { name: name.clone(), allow: false });
    }
    out
}

/// Validates the whole file and works out every agent's changes; changes nothing.
pub async fn plan(store: &Store, schema: &Schema, file: &PolicyFile) -> Result<Vec<Plan>> {
    let mut plans = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, entry) in &file.agents {
        let info = store
            .find_agent(name)
            .await
            .with_context(|| format!("{name}: no such agent (create it with `stanchion agent create`)"))?;
        if !seen.insert(info.id.clone()) {
            bail!("{name}: the agent is listed twice");
        }
        let want = desired(schema, &info.name, entry)?;
        let now = current(&store.policy(&info.id).await?);
        plans.push(Plan { agent_id: info.id, agent: info.name, changes: diff(schema, &now, &want) });
    }
    Ok(plans)
}

/// The changes that give `to` the policy of `from`.
pub async fn plan_copy(store: &Store, schema: &Schema, from: &str, to: &str) -> Result<Plan> {
    let source = store.find_agent(from).await?;
    let target = store.find_agent(to).await?;
    if source.id == target.id {
        bail!("{} is the same agent", target.name);
    }
    let want = current(&store.policy(&source.id).await?);
    let now = current(&store.policy(&target.id).await?);
    Ok(Plan { agent_id: target.id, agent: target.name, changes: diff(schema, &now, &want) })
}

/// Applies a plan, one admin change (and audit record) per change.
pub async fn apply(store: &Store, actor: &Actor, plan: &Plan) -> Result<()> {
    let agent = plan.agent_id.as_str();
    for change in &plan.changes {
        match change {
            PolicyChange::Level { table, set, to, .. } => {
                store.set_table_level(actor, agent, table, set, *to).await?;
            }
            PolicyChange::DeleteRecords(on) => store.set_delete_records(actor, agent, *on).await?,
            PolicyChange::Column { table, set, column, hide } => {
                store.set_column_hidden(actor, agent, table, set, column, *hide).await?;
            }
            PolicyChange::Limits(limits) => store.set_limits(actor, agent, *limits).await?,
            PolicyChange::Action { name, allow } => {
                store.set_action_allowed(actor, agent, name, *allow).await?;
            }
        }
    }
    Ok(())
}
