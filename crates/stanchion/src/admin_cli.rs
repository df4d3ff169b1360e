//! `stanchion agent …` and `stanchion policy …`: write the store directly (they work with the
//! server stopped) with the actor `cli:<user>@<host>`.

use crate::config::Config;
use crate::policy_file;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use dataverse::{Classification, RawRequest, Schema};
use std::path::PathBuf;
use store::Actor;

#[derive(Subcommand)]
pub enum AgentCommand {
    /// Create an agent and print its first key (shown once).
    Create {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List agents.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show an agent: status, keys (never the keys themselves), access and limits.
    Show {
        agent: String,
        #[arg(long)]
        json: bool,
    },
    /// Rename an agent (names are unique, case-insensitively).
    Rename { agent: String, new_name: String },
    /// Disable an agent: every key is refused (401 agent_disabled) from the next request on.
    Disable { agent: String },
    /// Enable a disabled agent again.
    Enable { agent: String },
    /// Delete an agent with its keys and policy (its audit records stay); needs --yes.
    Delete {
        agent: String,
        #[arg(long)]
        yes: bool,
    },
    /// Add a new key and let the agent's other keys expire after an overlap (default 24h).
    RotateKey {
        agent: String,
        /// How long the old keys keep working: 30m, 24h, 7d, 0s (at once).
        #[arg(long, default_value = "24h")]
        overlap: String,
        #[arg(long)]
        json: bool,
    },
    /// Manage an agent's keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Add a key to an agent (shown once).
    Add {
        agent: String,
        #[arg(long)]
        label: Option<String>,
        /// When the key stops working: a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List an agent's keys (ids, labels, expiry, last use; never the keys).
    List {
        agent: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key; applies to the next request.
    Revoke { agent: String, key_id: String },
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Show an agent's access.
    Show {
        agent: String,
        #[arg(long)]
        json: bool,
    },
    /// Set an agent's level on a table: off, read or full.
    Set { agent: String, table: String, level: String },
    /// Turn the Delete records switch on or off.
    DeleteRecords { agent: String, state: String },
    /// Hide a column of a table from an agent, in every form.
    HideColumn { agent: String, table: String, column: String },
    /// Show a hidden column to an agent again.
    ShowColumn { agent: String, table: String, column: String },
    /// Grant an agent an action of the catalog (see `stanchion endpoints`); it still needs the
    /// table levels the action lists.
    AllowAction { agent: String, action: String },
    /// Withdraw an agent's grant of an action.
    DenyAction { agent: String, action: String },
    /// Show or set an agent's own request limits: a number, 0 for no limit, or `default` for
    /// the gateway's `[limits]`; a limit not given keeps its value.
    Limits {
        agent: String,
        /// Requests (batch parts) in any 60 s.
        #[arg(long)]
        per_minute: Option<String>,
        /// Requests in flight at once.
        #[arg(long)]
        concurrency: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print agents' policies as a policy file (TOML): one agent, or all.
    Export { agent: Option<String> },
    /// Make the listed agents' policies exactly what a policy file says (FILE or - for stdin).
    Apply {
        file: String,
        /// Print what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Give agent TO the policy of agent FROM (tables, hidden columns, delete records, limits).
    Copy {
        from: String,
        to: String,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Explain what the gateway would decide for a request (exit 3 when denied).
    Explain {
        agent: String,
        method: String,
        url: String,
        /// Request body from a file, or - for standard input.
        #[arg(long)]
        body: Option<String>,
        /// A request header, 'Name: value' (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn cli_actor() -> Actor {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    Actor::Cli(format!("cli:{user}@{host}"))
}

fn key_json(id: &str, name: &str, key: &store::keys::AgentKey) -> String {
    serde_json::json!({"id": id, "name": name, "key_id": key.key_id(), "key": key.expose()}).to_string()
}

pub async fn agent(config: &Config, command: AgentCommand) -> Result<u8> {
    let store = config.open_store().await?;
    let disabling = matches!(command, AgentCommand::Disable { .. });
    match command {
        AgentCommand::Create { name, json } => {
            let (info, key) = store.create_agent(&cli_actor(), &name).await?;
            if json {
                println!("{}", key_json(&info.id, &info.name, &key));
            } else {
                println!(
                    "Created agent {} ({}).\nKey (shown once, store it now):\n  {}",
                    info.name,
                    info.id,
                    key.expose()
                );
                println!(
                    "It has no access yet: grant some with `stanchion policy set \"{}\" TABLE read|full`.",
                    info.name
                );
            }
        }
        AgentCommand::List { json } => {
            let agents = store.list_agents().await?;
            if json {
                println!("{}", serde_json::to_string(&agents)?);
            } else {
                println!("{:<36}  {:<30}  {:<8}  keys", "id", "name", "status");
                for a in agents {
                    let status = if a.disabled { "disabled" } else { "active" };
                    println!("{:<36}  {:<30}  {:<8}  {}", a.id, a.name, status, a.active_keys);
                }
            }
        }
        AgentCommand::Show { agent, json } => {
            let info = store.find_agent(&agent).await?;
            let keys = store.list_keys(&info.id).await?;
            let p = store.policy(&info.id).await?;
            let tables: serde_json::Map<String, serde_json::Value> = p
                .tables
                .iter()
                .filter(|(_, g)| g.level != policy::Level::Off)
                .map(|(t, g)| (t.clone(), g.level.as_str().into()))
                .collect();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": info.id, "name": info.name, "created_at": info.created_at,
                        "disabled": info.disabled, "keys": keys, "tables": tables,
                        "delete_records": p.delete_records, "limits": limits_json(config, p.limits)})
                );
            } else {
                let status = if info.disabled { "disabled" } else { "active" };
                println!("{} ({}) — {status}, created {}", info.name, info.id, info.created_at);
                println!("  access: {} table(s); delete records {}", tables.len(), on_off(p.delete_records));
                println!("  limits: {}", limits_text(config, p.limits));
                for k in keys {
                    let state = match (&k.revoked_at, &k.expires_at) {
                        (Some(at), _) => format!("revoked {at}"),
                        (None, Some(at)) => format!("expires {at}"),
                        (None, None) => "active".into(),
                    };
                    let label = k.label.map(|l| format!(" ({l})")).unwrap_or_default();
                    let used = k.last_used_at.unwrap_or_else(|| "never".into());
                    println!("  key {}{label}: {state}, last used {used}", k.key_id);
                }
            }
        }
        AgentCommand::Rename { agent, new_name } => {
            let before = store.find_agent(&agent).await?;
            let after = store.rename_agent(&cli_actor(), &agent, &new_name).await?;
            println!("Renamed {} to {}.", before.name, after.name);
        }
        AgentCommand::Disable { agent } | AgentCommand::Enable { agent } => {
            let info = store.set_agent_disabled(&cli_actor(), &agent, disabling).await?;
            if disabling {
                println!("Disabled {}: its keys are refused from the next request on.", info.name);
            } else {
                println!("Enabled {} again.", info.name);
            }
        }
        AgentCommand::Delete { agent, yes } => {
            let info = store.find_agent(&agent).await?;
            if !yes {
                eprintln!(
                    "Deleting {} removes its keys and policy for good (its audit records stay). Repeat with --yes.",
                    info.name
                );
                return Ok(2);
            }
            store.delete_agent(&cli_actor(), &info.id).await?;
            println!("Deleted {} with its keys and policy.", info.name);
        }
        AgentCommand::RotateKey { agent, overlap, json } => {
            let overlap = parse_duration(&overlap)?;
            let r = store.rotate_key(&cli_actor(), &agent, overlap).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": r.agent.id, "name": r.agent.name, "key_id": r.key.key_id(),
                        "key": r.key.expose(), "old_key_ids": r.old_key_ids,
                        "old_keys_expire": r.old_keys_expire.to_string()})
                );
            } else {
                println!("New key for {} (shown once, store it now):\n  {}", r.agent.name, r.key.expose());
                if r.old_key_ids.is_empty() {
                    println!("It had no other active key.");
                } else {
                    println!("Keys {} stop working at {}.", r.old_key_ids.join(", "), r.old_keys_expire);
                }
            }
        }
        AgentCommand::Key { command } => match command {
            KeyCommand::Add { agent, label, expires, json } => {
                let expires = expires.as_deref().map(parse_time).transpose()?;
                let (info, key) = store.add_key(&cli_actor(), &agent, label.as_deref(), expires).await?;
                if json {
                    println!("{}", key_json(&info.id, &info.name, &key));
                } else {
                    println!("New key for {} (shown once, store it now):\n  {}", info.name, key.expose());
                }
            }
            KeyCommand::List { agent, json } => {
                let keys = store.list_keys(&agent).await?;
                if json {
                    println!("{}", serde_json::to_string(&keys)?);
                } else {
                    println!(
                        "{:<12}  {:<16}  {:<24}  {:<24}  {:<24}  last used",
                        "key id", "label", "created", "expires", "revoked"
                    );
                    for k in keys {
                        println!(
                            "{:<12}  {:<16}  {:<24}  {:<24}  {:<24}  {}",
                            k.key_id,
                            k.label.unwrap_or_default(),
                            k.created_at,
                            k.expires_at.unwrap_or_else(|| "-".into()),
                            k.revoked_at.unwrap_or_else(|| "-".into()),
                            k.last_used_at.unwrap_or_else(|| "never".into())
                        );
                    }
                }
            }
            KeyCommand::Revoke { agent, key_id } => {
                let key_id =
                    key_id.strip_prefix("stn_").map_or(key_id.as_str(), |k| k.get(..12).unwrap_or(k)).to_owned();
                store.revoke_key(&cli_actor(), &agent, &key_id).await?;
                println!("Revoked key {key_id}; it is refused from the next request on.");
            }
        },
    }
    Ok(0)
}

pub(crate) fn table<'a>(schema: &'a Schema, name: &str) -> Result<&'a dataverse::metadata::Table> {
    schema.table_by_any_name(name).with_context(|| {
        format!("no table named '{name}' (use a logical name like account or a set name like accounts)")
    })
}

pub async fn policy(config: &Config, command: PolicyCommand) -> Result<u8> {
    let store = config.open_store().await?;
    let schema = crate::run::known_schema(config);
    let command_kind = match command {
        PolicyCommand::HideColumn { .. } => "hide",
        PolicyCommand::AllowAction { .. } => "allow-action",
        _ => "other",
    };
    match command {
        PolicyCommand::Show { agent, json } => {
            let info = store.find_agent(&agent).await?;
            let p = store.policy(&info.id).await?;
            if json {
                let tables: serde_json::Map<String, serde_json::Value> =
                    p.tables.iter().map(|(t, g)| (t.clone(), g.level.as_str().into())).collect();
                println!(
                    "{}",
                    serde_json::json!({"agent": info.name, "id": info.id, "delete_records": p.delete_records,
                        "tables": tables, "actions": p.actions, "limits": limits_json(config, p.limits)})
                );
            } else {
                println!("{} — delete records: {}", info.name, if p.delete_records { "on" } else { "off" });
                println!("  limits: {}", limits_text(config, p.limits));
                let listed: Vec<_> = p.tables.iter().filter(|(_, g)| g.level != policy::Level::Off).collect();
                if listed.is_empty() {
                    println!("  no access to any table (everything is denied)");
                }
                for (t, g) in listed {
                    let set = schema.table(t).map_or(t.as_str(), |tb| tb.set_name.as_str());
                    let hidden =
                        p.hidden.get(t).map(|c| c.iter().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default();
                    let hidden = if hidden.is_empty() { String::new() } else { format!("  (hidden: {hidden})") };
                    println!("  {set:<24} {}{hidden}", g.level.label());
                }
                if !p.actions.is_empty() {
                    println!("  actions: {}", p.actions.iter().cloned().collect::<Vec<_>>().join(", "));
                }
            }
        }
        PolicyCommand::AllowAction { agent, action } | PolicyCommand::DenyAction { agent, action } => {
            let allow = matches!(command_kind, "allow-action");
            let custom = store.declaration(&action).await?.is_some() || schema.operation(&action).is_some();
            let entry = dataverse::catalog::find(&action).filter(|e| e.kind == dataverse::catalog::EntryKind::Action);
            if entry.is_none() && !custom {
                let names: Vec<&str> = dataverse::catalog::actions().map(|e| e.name).collect();
                bail!(
                    "'{action}' is not an action of the catalog nor a custom API of the org; actions: {}",
                    names.join(", ")
                );
            }
            let name = entry.map_or(action.as_str(), |e| e.name).to_owned();
            let changed = store.set_action_allowed(&cli_actor(), &agent, &name, allow).await?;
            let state = match (allow, changed) {
                (true, true) => "may now run",
                (true, false) => "could already run",
                (false, true) => "may no longer run",
                (false, false) => "was not allowed to run",
            };
            println!("{agent} {state} {name}");
            if allow && entry.is_some_and(|e| !e.supported) {
                println!("note: Stanchion does not execute {name} yet; calls to it are refused and recorded");
            }
            if allow && custom && store.declaration(&name).await?.is_none() {
                println!(
                    "note: {name} is not declared yet: calls are refused until `stanchion catalog declare {name}`"
                );
            }
        }
        PolicyCommand::Set { agent, table: name, level } => {
            let level: policy::Level = level.parse()?;
            let t = table(&schema, &name)?;
            let before = store.set_table_level(&cli_actor(), &agent, &t.logical_name, &t.set_name, level).await?;
            println!("{agent}: {} {} → {}", t.set_name, before.label(), level.label());
        }
        PolicyCommand::DeleteRecords { agent, state } => {
            let on = match state.as_str() {
                "on" => true,
                "off" => false,
                _ => bail!("use on or off"),
            };
            store.set_delete_records(&cli_actor(), &agent, on).await?;
            println!("{agent}: deleting records is {state}");
        }
        PolicyCommand::HideColumn { agent, table: name, column }
        | PolicyCommand::ShowColumn { agent, table: name, column } => {
            let hide = matches!(command_kind, "hide");
            let t = table(&schema, &name)?;
            let c = t
                .column(&column)
                .or_else(|| t.column_by_odata_name(&column))
                .with_context(|| format!("{} has no column '{column}'", t.logical_name))?;
            if c.logical_name == t.primary_id {
                bail!("the primary id column {} cannot be hidden", t.primary_id);
            }
            store.set_column_hidden(&cli_actor(), &agent, &t.logical_name, &t.set_name, &c.logical_name, hide).await?;
            let verb = if hide { "hidden from" } else { "shown to" };
            println!("column {} of {} is {verb} {agent}", c.logical_name, t.set_name);
        }
        PolicyCommand::Limits { agent, per_minute, concurrency, json } => {
            let info = store.find_agent(&agent).await?;
            let mut limits = store.policy(&info.id).await?.limits;
            if per_minute.is_some() || concurrency.is_some() {
                if let Some(v) = per_minute {
                    limits.per_minute = limit_value(&v, "--per-minute")?;
                }
                if let Some(v) = concurrency {
                    limits.concurrency = limit_value(&v, "--concurrency")?;
                }
                store.set_limits(&cli_actor(), &agent, limits).await?;
            }
            if json {
                println!(
                    "{}",
                    serde_json::json!({"agent": info.name, "id": info.id, "limits": limits_json(config, limits)})
                );
            } else {
                println!("{}: {}", info.name, limits_text(config, limits));
            }
        }
        PolicyCommand::Export { agent } => {
            let agents = match agent {
                Some(a) => vec![store.find_agent(&a).await?],
                None => store.list_agents().await?,
            };
            let mut entries = std::collections::BTreeMap::new();
            for a in agents {
                entries.insert(a.name.clone(), policy_file::entry_of(&store.policy(&a.id).await?));
            }
            print!("{}", policy_file::export(entries)?);
        }
        PolicyCommand::Apply { file, dry_run, json } => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {file}"))?
            };
            let parsed = policy_file::parse(&text)?;
            let plans = policy_file::plan(&store, &schema, &parsed).await?;
            report_plans(&store, &plans, dry_run, json).await?;
        }
        PolicyCommand::Copy { from, to, dry_run, json } => {
            let plan = policy_file::plan_copy(&store, &schema, &from, &to).await?;
            report_plans(&store, &[plan], dry_run, json).await?;
        }
        PolicyCommand::Explain { agent, method, url, body, headers, json } => {
            return explain(&store, &schema, &agent, &method, &url, body, &headers, json).await;
        }
    }
    Ok(0)
}

/// `stanchion migrate [--check]`: the migrations of this binary against the store's.
pub async fn migrate(config: &Config, check: bool, json: bool) -> Result<u8> {
    if !config.store.database_url.is_empty() {
        bail!("store.database_url (PostgreSQL) is not supported yet: leave it empty to use SQLite in data_dir");
    }
    let database = store::database_path(&config.data_dir());
    let before = store::migration_status(&database).await?;
    if !before.unknown_applied.is_empty() || !before.changed.is_empty() {
        bail!(
            "{} was migrated by another version of stanchion (unknown migrations {:?}, changed {:?}); \
             use that version or restore a backup",
            database.display(),
            before.unknown_applied,
            before.changed
        );
    }
    let pending = before.pending();
    if !check && pending > 0 {
        config.open_store().await?.close().await;
    }
    let after = if check { before.clone() } else { store::migration_status(&database).await? };
    if json {
        println!(
            "{}",
            serde_json::json!({"database": database.display().to_string(), "checked_only": check,
                "pending_before": pending, "pending": after.pending(), "migrations": after.migrations})
        );
    } else {
        for m in &after.migrations {
            println!("{:04} {:<24} {}", m.version, m.description, if m.applied { "applied" } else { "pending" });
        }
        match (check, pending) {
            (_, 0) => println!("The store is up to date."),
            (true, n) => println!("{n} migration(s) pending: run `stanchion migrate`."),
            (false, n) => println!("Applied {n} migration(s)."),
        }
    }
    Ok(if check && pending > 0 { 1 } else { 0 })
}

/// Prints each plan's changes and, unless `dry_run`, applies them.
async fn report_plans(store: &store::Store, plans: &[policy_file::Plan], dry_run: bool, json: bool) -> Result<()> {
    if !dry_run {
        for plan in plans {
            policy_file::apply(store, &cli_actor(), plan).await?;
        }
    }
    if json {
        let out: Vec<serde_json::Value> = plans
            .iter()
            .map(|p| {
                let changes: Vec<String> = p.changes.iter().map(ToString::to_string).collect();
                serde_json::json!({"agent": p.agent, "id": p.agent_id, "changes": changes})
            })
            .collect();
        println!("{}", serde_json::json!({"dry_run": dry_run, "agents": out}));
        return Ok(());
    }
    for plan in plans {
        println!("{}{}:", plan.agent, if dry_run { " (dry run: nothing changed)" } else { "" });
        if plan.changes.is_empty() {
            println!("  no changes");
        }
        for c in &plan.changes {
            println!("  {c}");
        }
    }
    Ok(())
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// `30s`, `15m`, `24h`, `7d`, at most a year.
fn parse_duration(text: &str) -> Result<std::time::Duration> {
    let d = crate::config::duration(text.trim())
        .with_context(|| format!("'{text}' is not a duration such as 30m, 24h or 7d"))?;
    if d > std::time::Duration::from_secs(366 * 86_400) {
        bail!("'{text}' is longer than a year");
    }
    Ok(d)
}

/// `2026-12-31` (midnight UTC) or an RFC 3339 time.
pub(crate) fn parse_time(text: &str) -> Result<audit::Timestamp> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).context("no midnight")?.and_utc();
        return Ok(audit::Timestamp::from_datetime(midnight));
    }
    audit::Timestamp::parse(text)
        .map_err(|_| anyhow::anyhow!("'{text}' is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// `120`, `0` (no limit) or `default`.
fn limit_value(text: &str, flag: &str) -> Result<Option<u32>> {
    if text.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    text.parse::<u32>().map(Some).with_context(|| format!("{flag} takes a number, 0 for no limit, or default"))
}

/// The limits in force: the agent's own, else the configured defaults.
fn effective(config: &Config, own: policy::Limits) -> (u32, u32) {
    (
        own.per_minute.unwrap_or(config.limits.per_agent_requests_per_minute),
        own.concurrency.unwrap_or(config.limits.per_agent_concurrency),
    )
}

fn limits_json(config: &Config, own: policy::Limits) -> serde_json::Value {
    let (per_minute, concurrency) = effective(config, own);
    serde_json::json!({
        "per_minute": per_minute, "concurrency": concurrency,
        "own": {"per_minute": own.per_minute, "concurrency": own.concurrency},
    })
}

/// `120 requests per minute (own), 8 at once (default)`; 0 reads "no limit".
fn limits_text(config: &Config, own: policy::Limits) -> String {
    let (per_minute, concurrency) = effective(config, own);
    let source = |o: Option<u32>| if o.is_some() { "own" } else { "default" };
    let rate = if per_minute == 0 { "no rate limit".to_owned() } else { format!("{per_minute} requests per minute") };
    let at_once = if concurrency == 0 { "no concurrency limit".to_owned() } else { format!("{concurrency} at once") };
    format!("{rate} ({}), {at_once} ({})", source(own.per_minute), source(own.concurrency))
}

#[allow(clippy::too_many_arguments)]
async fn explain(
    store: &store::Store,
    schema: &Schema,
    agent: &str,
    method: &str,
    url: &str,
    body: Option<String>,
    headers: &[String],
    json: bool,
) -> Result<u8> {
    let info = store.find_agent(agent).await?;
    let policy = store.policy(&info.id).await?;
    let body = match body.as_deref() {
        None => Vec::new(),
        Some("-") => {
            let mut b = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)?;
            b
        }
        Some(f) => std::fs::read(PathBuf::from(f)).with_context(|| format!("reading {f}"))?,
    };
    let path_and_query = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url,
    };
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let header_pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|h| {
            h.split_once(':').map(|(k, v)| (k.trim(), v.trim())).context("a --header must look like 'Name: value'")
        })
        .collect::<Result<_>>()?;
    let method = method.to_ascii_uppercase();
    let agent_value = gateway::Agent { id: info.id.clone(), name: info.name.clone(), key_id: String::new() };
    let (decision, code, reason, kind, touches) = {
        let refused = dataverse::parse::refused_headers(header_pairs.iter().copied());
        let raw = RawRequest { method: &method, path, query, headers: &header_pairs, body: &body };
        if let Some(h) = refused.first() {
            ("denied", "refused_header", format!("the header {h} is refused for every agent"), None, Vec::new())
        } else {
            match dataverse::parse_request(schema, &raw, &dataverse::ParseLimits::default()) {
                Err(e) => ("denied", "syntax", e.to_string(), None, Vec::new()),
                Ok(request) => {
                    let kind = Some(request.kind().name());
                    let classification = dataverse::classify(schema, &request);
                    let touches = match &classification {
                        Classification::Classified(t) => {
                            t.tables.iter().map(|a| (a.table.clone(), a.privilege.name())).collect()
                        }
                        Classification::Unclassified { .. } => Vec::new(),
                    };
                    match gateway::authorize(schema, agent_value, &policy, request, classification) {
                        Ok(_) => ("allowed", "", String::new(), kind, touches),
                        Err(r) => {
                            let first = r
                                .reasons
                                .first()
                                .map_or(("unclassified", String::new()), |x| (x.code, x.message.clone()));
                            ("denied", first.0, first.1, kind, touches)
                        }
                    }
                }
            }
        }
    };
    if json {
        let v = serde_json::json!({
            "decision": decision,
            "reason_code": (!code.is_empty()).then_some(code),
            "reason": (!reason.is_empty()).then_some(&reason),
            "kind": kind,
            "touches": touches.iter().map(|(t, p)| serde_json::json!({"table": t, "privilege": p})).collect::<Vec<_>>(),
        });
        println!("{v}");
    } else {
        let what: Vec<String> = touches.iter().map(|(t, p)| format!("{p} {t}")).collect();
        println!(
            "{} {method} {path}: {decision}{}",
            info.name,
            if reason.is_empty() { String::new() } else { format!(" — {code}: {reason}") }
        );
        if let Some(k) = kind {
            println!("  kind: {k}; needs: {}", if what.is_empty() { "nothing".into() } else { what.join(", ") });
        }
    }
    Ok(if decision == "allowed" { 0 } else { 3 })
}
