//! `stanchion audit verify|tail|search|export`.

use crate::config::Config;
use anyhow::{Context, Result, bail};
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
    /// Find records: every filter given must match; the newest, oldest first.
    Search {
        /// Agent id or name (an id also finds a deleted agent's records).
        #[arg(long)]
        agent: Option<String>,
        /// Table (logical or entity set name) the request touched.
        #[arg(long)]
        table: Option<String>,
        /// allowed, denied or error.
        #[arg(long)]
        decision: Option<String>,
        /// A record id (GUID) the request named.
        #[arg(long)]
        record_id: Option<String>,
        /// At or after: a date (YYYY-MM-DD) or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Before: a date or an RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// Words that must all occur in the record (names, tables, columns, reasons, paths).
        #[arg(long)]
        text: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Write records in the order they were written, for a SIEM: JSON lines or CSV. The last
    /// record's CHAIN:SEQ goes to standard error as the next run's --after.
    Export {
        #[arg(long, value_parser = ["jsonl", "csv"], default_value = "jsonl")]
        format: String,
        /// Only records written after this one (CHAIN:SEQ from the previous export).
        #[arg(long)]
        after: Option<String>,
        /// Most records in this run.
        #[arg(long, default_value_t = 100_000)]
        limit: u32,
    },
    /// Remove records older than a date from every chain, leaving a signed truncation record so
    /// that `audit verify` still passes (export first: pruned records are gone); needs --yes.
    Prune {
        /// A date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time, not in the future.
        #[arg(long)]
        before: String,
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn audit(config: &Config, command: AuditCommand) -> Result<u8> {
    let store = config.open_store().await?;
    match command {
        AuditCommand::Prune { before, yes, json } => {
            let before = crate::admin_cli::parse_time(&before)?;
            if !yes {
                eprintln!(
                    "Pruning removes every audit record from before {before} for good (export them first). Repeat with --yes."
                );
                return Ok(2);
            }
            let report = store.prune_audit(&crate::admin_cli::cli_actor(), before).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for c in &report.chains {
                    println!("chain {}: {} records pruned, starts at seq {}", c.chain_id, c.pruned, c.first_seq);
                }
                println!("Pruned {} audit records from before {}.", report.pruned, report.before);
            }
            Ok(0)
        }
        AuditCommand::Verify { json } => {
            let records = store.all_records().await?;
            let checkpoints = store.checkpoint_file().read()?;
            let truncations = store.truncations().await?;
            let report = audit::verify_with(&store.secrets().audit_key, records, checkpoints.as_deref(), &truncations);
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for c in &report.chains {
                    let cp = c.checkpoint_seq.map_or_else(|| "none".to_owned(), |s| s.to_string());
                    let kept = (c.head_seq + 1).saturating_sub(c.first_seq);
                    let pruned =
                        if c.first_seq > 1 { format!(" (pruned before seq {})", c.first_seq) } else { String::new() };
                    println!("chain {}: {kept} records{pruned}, checkpointed up to {cp}", c.chain_id);
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
        AuditCommand::Search { agent, table, decision, record_id, since, until, text, limit, json } => {
            let agent_id = match agent {
                Some(a) => Some(store.find_agent(&a).await.map(|i| i.id).unwrap_or(a)),
                None => None,
            };
            let table = match table {
                Some(t) => Some(
                    crate::run::known_schema(config)
                        .table_by_any_name(&t)
                        .map(|tb| tb.logical_name.clone())
                        .with_context(|| format!("there is no table '{t}'"))?,
                ),
                None => None,
            };
            if let Some(d) = &decision
                && !["allowed", "denied", "error"].contains(&d.as_str())
            {
                bail!("--decision takes allowed, denied or error");
            }
            if let Some(id) = &record_id {
                uuid::Uuid::try_parse(id).with_context(|| format!("'{id}' is not a record id (GUID)"))?;
            }
            let query = store::AuditQuery {
                agent_id,
                table,
                decision,
                record_id,
                since: since.as_deref().map(crate::admin_cli::parse_time).transpose()?,
                until: until.as_deref().map(crate::admin_cli::parse_time).transpose()?,
                text,
                limit: limit.min(store::MAX_RESULTS),
            };
            for r in store.search(&query).await? {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!("{}  {}", r.time, r.sentence());
                }
            }
            Ok(0)
        }
        AuditCommand::Export { format, after, limit } => {
            let after = match after.as_deref() {
                Some(cursor) => {
                    let (chain, seq) = cursor
                        .rsplit_once(':')
                        .and_then(|(c, s)| s.parse::<u64>().ok().map(|s| (c, s)))
                        .with_context(|| format!("--after takes CHAIN:SEQ, not '{cursor}'"))?;
                    Some((chain.to_owned(), seq))
                }
                None => None,
            };
            let records = store.export_after(after.as_ref().map(|(c, s)| (c.as_str(), *s)), limit).await?;
            let stdout = std::io::stdout().lock();
            if format == "csv" {
                let mut w = csv::Writer::from_writer(stdout);
                w.write_record(CSV_HEADER)?;
                for r in &records {
                    w.write_record(csv_row(r))?;
                }
                w.flush()?;
            } else {
                let mut out = std::io::BufWriter::new(stdout);
                for r in &records {
                    serde_json::to_writer(&mut out, r)?;
                    std::io::Write::write_all(&mut out, b"\n")?;
                }
                std::io::Write::flush(&mut out)?;
            }
            match records.last() {
                Some(r) => eprintln!("exported {} record(s); next: --after {}:{}", records.len(), r.chain_id, r.seq),
                None => eprintln!("exported 0 records"),
            }
            Ok(0)
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

const CSV_HEADER: [&str; 14] = [
    "time",
    "chain_id",
    "seq",
    "record_type",
    "agent_id",
    "agent_name",
    "kind",
    "decision",
    "tables",
    "record_ids",
    "columns",
    "reason_code",
    "upstream_status",
    "sentence",
];

/// One CSV row: lists joined with spaces, absent values empty.
fn csv_row(r: &audit::AuditRecord) -> [String; 14] {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let name = |v: serde_json::Value| v.as_str().map(str::to_owned).unwrap_or_default();
    [
        r.time.to_string(),
        r.chain_id.clone(),
        r.seq.to_string(),
        name(serde_json::to_value(r.record_type).unwrap_or_default()),
        text(&r.agent_id),
        text(&r.agent_name),
        r.kind.as_str().to_owned(),
        r.decision.map(|d| name(serde_json::to_value(d).unwrap_or_default())).unwrap_or_default(),
        r.tables.iter().map(|t| t.table.as_str()).collect::<Vec<_>>().join(" "),
        r.record_ids.join(" "),
        r.columns.join(" "),
        text(&r.reason_code),
        r.upstream_status.map(|s| s.to_string()).unwrap_or_default(),
        r.sentence(),
    ]
}
