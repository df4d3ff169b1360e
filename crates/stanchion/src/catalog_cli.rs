//! `stanchion endpoints` and `stanchion catalog`: the catalog of requests, functions and
//! actions, and the declarations of the org's custom APIs.

use crate::admin_cli::{cli_actor, table};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::Subcommand;

/// `stanchion catalog …`.
#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Declare what a custom API touches: each --table is TABLE:read or TABLE:full; with
    /// --destructive it deletes rows of its full tables. Agents still need `policy allow-action`.
    Declare {
        name: String,
        #[arg(long = "table", required = true)]
        tables: Vec<String>,
        #[arg(long)]
        destructive: bool,
    },
    /// Withdraw a custom API's declaration (it is Unclassified again).
    Undeclare { name: String },
    /// The org's custom APIs and what each was declared to touch.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn catalog(config: &Config, command: CatalogCommand) -> Result<u8> {
    let store = config.open_store().await?;
    let schema = crate::run::known_schema(config);
    match command {
        CatalogCommand::Declare { name, tables, destructive } => {
            if dataverse::catalog::find(&name).is_some() {
                bail!("{name} is in Stanchion's catalog already: it needs no declaration");
            }
            if schema.operation(&name).is_none() {
                eprintln!(
                    "note: the org's known schema does not list {name}; run `stanchion schema refresh` if it is new"
                );
            }
            let mut declared = Vec::new();
            for spec in &tables {
                let (t, level) =
                    spec.split_once(':').with_context(|| format!("--table {spec}: use TABLE:read or TABLE:full"))?;
                let full = match level {
                    "read" => false,
                    "full" => true,
                    other => bail!("--table {spec}: the level is read or full, not {other}"),
                };
                let t = table(&schema, t)?;
                declared.push((t.logical_name.clone(), full));
            }
            let declaration = dataverse::request::Declaration { tables: declared, destructive };
            store.declare_custom_api(&cli_actor(), &name, &declaration).await?;
            println!("{name}: {}", store::catalog::describe(&declaration));
        }
        CatalogCommand::Undeclare { name } => {
            if store.undeclare_custom_api(&cli_actor(), &name).await? {
                println!("{name} is no longer declared: calls to it are refused as not understood");
            } else {
                println!("{name} was not declared");
            }
        }
        CatalogCommand::List { json } => {
            let declared = store.declarations().await?;
            let mut names: Vec<String> = schema.operations().iter().map(|o| o.name.clone()).collect();
            for (n, _) in &declared {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
            names.sort();
            let rows: Vec<serde_json::Value> = names
                .iter()
                .map(|n| {
                    let op = schema.operation(n);
                    let d = declared.iter().find(|(dn, _)| dn == n).map(|(_, d)| d);
                    serde_json::json!({
                        "name": n,
                        "kind": op.map(|o| if o.function { "function" } else { "action" }),
                        "bound": op.and_then(|o| o.bound.clone()),
                        "in_schema": op.is_some(),
                        "declared": d.map(store::catalog::describe),
                    })
                })
                .collect();
            if json {
                println!("{}", serde_json::Value::Array(rows));
            } else if rows.is_empty() {
                println!("the org declares no custom API");
            } else {
                for r in rows {
                    let state = r["declared"].as_str().map_or("Unclassified (not declared)".to_owned(), str::to_owned);
                    println!("  {:<32} {state}", r["name"].as_str().unwrap_or(""));
                }
            }
        }
    }
    Ok(0)
}

/// `stanchion endpoints [--json]`: the catalog, and the org's custom APIs.
pub async fn endpoints(config: &Config, json: bool) -> Result<u8> {
    let schema = crate::run::known_schema(config);
    let declared = match config.open_store().await {
        Ok(store) => store.declarations().await?,
        Err(_) => Vec::new(),
    };
    let custom: Vec<(String, Option<String>, bool, Option<String>)> = schema
        .operations()
        .iter()
        .map(|o| {
            let d = declared.iter().find(|(n, _)| *n == o.name).map(|(_, d)| store::catalog::describe(d));
            (o.name.clone(), o.bound.clone(), o.function, d)
        })
        .collect();
    use dataverse::catalog::{ENTRIES, EntryKind};
    use std::fmt::Write as _;
    let mut out = String::new();
    if json {
        let entries: Vec<serde_json::Value> = ENTRIES
            .iter()
            .map(|e| {
                serde_json::json!({"name": e.name, "kind": e.kind.as_str(), "method": e.method, "url": e.url,
                    "description": e.description, "needs": e.needs, "supported": e.supported})
            })
            .collect();
        let mut entries = entries;
        for (name, bound, function, d) in &custom {
            entries.push(serde_json::json!({"name": name, "kind": "custom", "method": if *function { "GET" } else { "POST" },
                "url": bound.as_ref().map_or_else(|| name.clone(), |t| format!("{t}({{id}})/Microsoft.Dynamics.CRM.{name}")),
                "description": "A custom API of the org.", "needs": d.clone().map_or_else(|| "a declaration (Unclassified until declared)".to_owned(), |d| format!("the grant; {d}")),
                "supported": d.is_some()}));
        }
        let _ = writeln!(out, "{}", serde_json::Value::Array(entries));
    } else {
        for (kind, title) in [
            (EntryKind::Request, "Requests (need the table levels they imply)"),
            (EntryKind::Data, "Data functions and actions (need the table levels they imply)"),
            (EntryKind::Action, "Actions (need `policy allow-action` and the levels listed)"),
        ] {
            let _ = writeln!(out, "{title}");
            for e in ENTRIES.iter().filter(|e| e.kind == kind) {
                let support = if e.supported { "" } else { "  [not supported yet: refused and recorded]" };
                let _ = writeln!(out, "  {:<26} {:<6} /api/data/v9.2/{}", e.name, e.method, e.url);
                let _ = writeln!(out, "  {:<26} {} Needs: {}.{support}", "", e.description, e.needs);
            }
            out.push('\n');
        }
        let _ = writeln!(out, "Custom APIs of the org (need `catalog declare`, then `policy allow-action`)");
        if custom.is_empty() {
            let _ = writeln!(out, "  none known (`stanchion schema refresh` learns them from the org)");
        }
        for (name, _, function, d) in &custom {
            let kind = if *function { "GET" } else { "POST" };
            let state = d.clone().unwrap_or_else(|| "Unclassified: not declared".to_owned());
            let _ = writeln!(out, "  {name:<26} {kind:<6} {state}");
        }
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    Ok(0)
}
