//! Audit append throughput: records per second committed by the gateway's real writer
//! ([`store::ChainAppender`]: one chain, group commit, SQLite WAL with `synchronous=FULL`) into an
//! on-disk database in a temporary directory (`TMPDIR`, else /tmp: keep it on the disk you care
//! about, not a tmpfs).
//!
//! Plain `harness = false` main, not criterion: what is measured is the throughput of a
//! concurrent system (many callers waiting on one writer that commits whatever is queued), not the
//! time of one call, so the bench runs a fixed number of records per concurrency level and prints
//! records/s (and each caller's wait per append, p50/p99) rather than fitting criterion's
//! per-iteration model.
//!
//! Each simulated request appends what the gateway appends for an allowed query: an attempt record,
//! waits for it to be durable, then the outcome record linked to it (the same fields the gateway
//! fills: agent, key id, redacted path, table, columns, client address, user agent, upstream status,
//! rows, latency). `C` such requests run at once (tokio tasks on a multi-threaded runtime).
//!
//! ```sh
//! cargo bench -p store --bench append                 # C = 1, 32, 256; 40,000 records per level
//! cargo bench -p store --bench append -- 256 100000   # one level: C = 256, 100,000 records
//! ```
use audit::{Actor, AuditRecord, Decision, Kind, Privilege, RecordType, TableAccess, Timestamp, Transport};
use std::time::{Duration, Instant};
use store::{ChainAppender, Store, StoreConfig};
use uuid::Uuid;

fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

/// The attempt record of `GET accounts?$select=…&$filter=…&$top=50` by one agent, as the
/// gateway builds it (`crates/gateway/src/audit_record.rs`): literals redacted in the path.
fn attempt(agent_id: &str) -> AuditRecord {
    let mut r = AuditRecord::new(Uuid::new_v4(), now(), RecordType::Attempt, Actor::Agent, Kind::Query);
    r.transport = Some(Transport::Rest);
    r.request_id = Some(Uuid::new_v4().simple().to_string());
    r.agent_id = Some(agent_id.to_owned());
    r.agent_name = Some("Sales Ops Agent".into());
    r.key_id = Some("K7Q2M9X4B1ZR".into());
    r.method = Some("GET".into());
    r.path = Some(
        "/api/data/v9.2/accounts?$select=name,accountnumber,telephone1,revenue,_primarycontactid_value\
         &$filter=statecode eq ? and contains(name,?)&$orderby=name asc&$top=?"
            .into(),
    );
    r.tables = vec![TableAccess::new("account", "accounts", Privilege::Read)];
    r.columns = ["name", "accountnumber", "telephone1", "revenue", "primarycontactid", "statecode"]
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    r.decision = Some(Decision::Allowed);
    r.client_ip = Some("127.0.0.1".into());
    r.user_agent = Some("dynamics-web-api/2.5.0 (node.js)".into());
    r
}

/// The outcome linked to `attempt`: 200 with 50 rows.
fn outcome(attempt: &AuditRecord) -> AuditRecord {
    let mut r = AuditRecord::outcome_of(attempt, Uuid::new_v4(), now());
    r.upstream_status = Some(200);
    r.upstream_request_id = Some(Uuid::new_v4().to_string());
    r.rows = Some(50);
    r.latency_ms = Some(4);
    r
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Appends `records` records (attempt + outcome pairs) with `concurrency` requests at once into
/// a fresh store; prints and returns records/s.
async fn run(concurrency: usize, records: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = store::load_or_create_secrets(dir.path(), None, None).expect("secrets");
    let config = StoreConfig {
        database: store::database_path(dir.path()),
        secrets,
        checkpoint_file: dir.path().join("audit-checkpoints.log"),
    };
    let store = Store::open(&config).await.expect("store");
    let appender = ChainAppender::start(store.clone(), format!("bench-{}", Uuid::new_v4().simple()));
    // The chain's first record writes its anchoring checkpoint: not part of the steady state.
    appender.append(attempt("warm-up")).await.expect("warm-up append");

    let requests = records / 2;
    let per_task = requests.div_ceil(concurrency);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for t in 0..concurrency {
        let appender = appender.clone();
        let n = per_task.min(requests.saturating_sub(t * per_task));
        tasks.push(tokio::spawn(async move {
            let agent_id = format!("agt_{t:04}");
            let mut waits = Vec::with_capacity(2 * n);
            for _ in 0..n {
                let t0 = Instant::now();
                let sealed = appender.append(attempt(&agent_id)).await.expect("append attempt");
                let t1 = Instant::now();
                appender.append(outcome(&sealed)).await.expect("append outcome");
                waits.push(t1 - t0);
                waits.push(t1.elapsed());
            }
            waits
        }));
    }
    let mut waits = Vec::with_capacity(records);
    for task in tasks {
        waits.extend(task.await.expect("appender task"));
    }
    let elapsed = started.elapsed();
    waits.sort_unstable();
    let done = waits.len();
    let per_s = done as f64 / elapsed.as_secs_f64();
    let db_bytes: u64 = ["stanchion.sqlite", "stanchion.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "concurrency {concurrency:>4}: {done} records in {:.3} s = {per_s:>9.0} records/s; wait per append p50 {:.2} ms, p99 {:.2} ms; database + WAL {:.1} MiB",
        elapsed.as_secs_f64(),
        percentile(&waits, 0.50).as_secs_f64() * 1e3,
        percentile(&waits, 0.99).as_secs_f64() * 1e3,
        db_bytes as f64 / (1024.0 * 1024.0),
    );
    store.close().await;
    per_s
}

fn main() {
    // `cargo bench` passes `--bench`; anything numeric is ours.
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (levels, records) = match args.as_slice() {
        [] => (vec![1, 32, 256], 40_000),
        [c] => (vec![*c], 40_000),
        [c, n, ..] => (vec![*c], *n),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    println!(
        "audit append (ChainAppender, SQLite WAL synchronous=FULL, on disk under {}):",
        std::env::temp_dir().display()
    );
    for c in levels {
        // Fewer records at concurrency 1: each pair is two sequential commits (two fsyncs).
        let n = if c == 1 { records.min(2_000) } else { records };
        runtime.block_on(run(c, n));
    }
}
