//! `stanchion audit verify|tail`.

use crate::config::Config;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chains against the checkpoint file (exit 4 when damaged).
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Print the latest records as plain-English sentences.
    Tail {
        /// How many records.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: u32,
        #[arg(long)]
        json: bool,
    },
}

pub async fn audit(config: &Config, command: AuditCommand) -> Result<u8> {
    let store = config.open_store().await?;
    match command {
        AuditCommand::Verify { json } => {
            let records = store.all_records().await?;
            let checkpoints = store.checkpoint_file().read()?;
            let report = audit::verify(&store.secrets().audit_key, records, checkpoints.as_deref());
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for c in &report.chains {
                    let cp = c.checkpoint_seq.map_or_else(|| "none".to_owned(), |s| s.to_string());
                    println!("chain {}: {} records, checkpointed up to {cp}", c.chain_id, c.head_seq);
                }
                if !report.truncation_checkable {
                    println!(
                        "truncation not checkable: no checkpoint file at {}",
                        store.checkpoint_file().path().display()
                    );
                }
                for id in &report.outcome_unknown {
                    println!("outcome unknown for attempt {id} (the gateway stopped before Dynamics 365 answered)");
                }
                match &report.first_bad {
                    Some(b) => println!("DAMAGED: first bad record is ({}, {}): {}", b.chain_id, b.seq, b.problem),
                    None => println!("intact"),
                }
            }
            Ok(if report.intact { 0 } else { 4 })
        }
        AuditCommand::Tail { lines, json } => {
            for r in store.tail(lines).await? {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!("{}  {}", r.time, r.sentence());
                }
            }
            Ok(0)
        }
    }
}
