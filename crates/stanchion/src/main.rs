//! The `stanchion` binary: CLI (clap) and wiring. Logic worth testing lives in the library
//! crates; this file parses arguments and calls them.
#![forbid(unsafe_code)]

mod admin_cli;
mod audit_cli;
mod catalog_cli;
mod config;
mod listen;
mod policy_file;
mod run;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stanchion",
    version,
    about = "Per-agent access control and audit for the Dynamics 365 (Dataverse) Web API"
)]
struct Cli {
    /// Configuration file (default: ./stanchion.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (overrides store.data_dir).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the emulator with sample data and the gateway, with two demo agents.
    Demo {
        /// Seed of the sample data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Print the start-up facts as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run the gateway.
    Serve,
    /// Run the local Dataverse emulator alone.
    Emulator(run::EmulatorArgs),
    /// Manage agents and their keys.
    Agent {
        #[command(subcommand)]
        command: admin_cli::AgentCommand,
    },
    /// Show and change agents' access.
    Policy {
        #[command(subcommand)]
        command: admin_cli::PolicyCommand,
    },
    /// Read and verify the audit log.
    Audit {
        #[command(subcommand)]
        command: audit_cli::AuditCommand,
    },
    /// The org's tables as Stanchion knows them.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// Declare what an org's custom APIs touch, so they can be classified and granted.
    Catalog {
        #[command(subcommand)]
        command: catalog_cli::CatalogCommand,
    },
    /// The catalog: every request kind, function and action, what it does and what it needs.
    Endpoints {
        #[arg(long)]
        json: bool,
    },
    /// Serve MCP over stdio for a desktop MCP client, as the agent whose key is given: a bridge
    /// to the gateway's /mcp (tools, policy and audit stay in the gateway).
    Mcp {
        /// The gateway's agents URL.
        #[arg(long, env = "STANCHION_GATEWAY", default_value = "http://127.0.0.1:8080")]
        gateway: String,
        /// The agent key (better passed in the environment than on the command line).
        #[arg(long, env = "STANCHION_AGENT_KEY", hide_env_values = true)]
        key: String,
    },
    /// Apply the store's pending schema migrations (serve and demo also do); --check only reports
    /// them (exit 1 when any is pending or the database is not one this binary can run).
    Migrate {
        #[arg(long)]
        check: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Learn the org's tables now ($metadata, EntityDefinitions, N:N relationships) and write the
    /// cache a running gateway reloads.
    Refresh {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("STANCHION_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    if let Command::Mcp { gateway, key } = cli.command {
        // Needs no configuration or store: it only talks to the gateway.
        mcp::stdio::bridge(&gateway, &key).await?;
        return Ok(0);
    }
    let mut config = config::Config::load(cli.config.as_deref())?;
    if let Some(d) = &cli.data_dir {
        config.store.data_dir = d.display().to_string();
    }
    match cli.command {
        Command::Demo { seed, json } => run::demo(config, cli.data_dir.is_some(), seed, json).await,
        Command::Serve => run::serve(config).await,
        Command::Emulator(args) => run::emulator(args, cli.data_dir).await,
        Command::Agent { command } => admin_cli::agent(&config, command).await,
        Command::Policy { command } => admin_cli::policy(&config, command).await,
        Command::Audit { command } => audit_cli::audit(&config, command).await,
        Command::Migrate { check, json } => admin_cli::migrate(&config, check, json).await,
        Command::Schema { command: SchemaCommand::Refresh { json } } => run::schema_refresh(&config, json).await,
        Command::Mcp { .. } => Ok(0),
        Command::Endpoints { json } => catalog_cli::endpoints(&config, json).await,
        Command::Catalog { command } => catalog_cli::catalog(&config, command).await,
    }
}
