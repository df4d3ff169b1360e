//! Paging and point-query performance of the emulator on 1,000,000 accounts, each figure next
//! to a floor measured in the same run (BENCHMARKS.md, "Emulator paging and point queries").
//!
//! Run: `CARGO_TARGET_DIR=/tmp/bench-target cargo bench -p emulator --bench paging`
//! (about 1.2 GB in /tmp, removed at the end; under two minutes on 2 cores). Without `--bench`
//! (a `cargo test --all-targets` build) it prints how to run it and exits: no data is created.
//!
//! What it does:
//! 1. creates a data directory in /tmp, starts the emulator once so it creates its schema and
//!    system rows, shuts it down, then bulk-inserts 1,000,000 account rows straight into
//!    `emulator.sqlite` with sqlx, in the exact storage the emulator's own writes use
//!    (`write.rs`, `rows.rs`). The load runs in a child process (this binary again), so the
//!    memory it used does not count in the RSS figures of the measuring process;
//! 2. restarts the emulator on that directory and gets a token with the default client;
//! 3. pages through the first 100,000 rows of `accounts?$select=name,accountnumber,revenue&
//!    $filter=statecode eq 0&$orderby=name` (`odata.maxpagesize=5000`) over HTTP, following
//!    `@odata.nextLink`, sampling VmRSS every page; the floor is the same rows read with one
//!    sqlx query on the same file, materialised and serialized with serde_json;
//! 4. one more, instrumented, paging pass: the SQL time of each page as sqlx itself measures it
//!    in the emulator (its `sqlx::query` events, caught by a small tracing subscriber), time to
//!    the response headers, body transfer and client-side parsing; plus a replica of the
//!    emulator's JSON shaping (`dataverse::json`) timed on the floor's rows;
//! 5. sequential point queries for ~5 s each: `$filter=accountnumber eq '…'` against a minimal
//!    axum server answering the emulator's captured bytes and headers, and retrieve by the
//!    alternate key.
//!
//! Environment: `EMULATOR_PAGING_BENCH_DIR=/tmp/some-dir` keeps (and on the next run reuses) the
//! loaded data directory instead of a temporary one; `EMULATOR_PAGING_BENCH_POINT_SECS`
//! changes the 5 s of each point-query measurement.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use emulator::{EmulatorConfig, RunningEmulator, Storage};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, SqliteConnection};
use std::error::Error;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Accounts loaded.
const ROWS: u64 = 1_000_000;
/// Rows paged through.
const PAGED_ROWS: usize = 100_000;
/// `odata.maxpagesize`.
const PAGE_SIZE: usize = 5000;
/// Rows per INSERT statement and per transaction in the load.
const INSERT_BATCH: u64 = 100;
const TX_ROWS: u64 = 50_000;
/// Measured paging passes after the first (cold) one.
const WARM_PASSES: usize = 5;
const LOAD_ENV: &str = "EMULATOR_PAGING_BENCH_LOAD";
const DIR_ENV: &str = "EMULATOR_PAGING_BENCH_DIR";
const POINT_SECS_ENV: &str = "EMULATOR_PAGING_BENCH_POINT_SECS";
const DB_FILE: &str = "emulator.sqlite";

const QUERY: &str = "accounts?$select=name,accountnumber,revenue&$filter=statecode%20eq%200&$orderby=name";
const POINT_KEY: &str = "ACC-0500000";

fn main() {
    if let Ok(dir) = std::env::var(LOAD_ENV) {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        if let Err(e) = rt.block_on(load(Path::new(&dir))) {
            eprintln!("load failed: {e}");
            std::process::exit(1);
        }
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "paging: a measurement on 1,000,000 rows; run it with \
             `cargo bench -p emulator --bench paging` (needs ~1.2 GB in /tmp and about two minutes)"
        );
        return;
    }
    tracing::subscriber::set_global_default(Capture).expect("no other subscriber");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("paging bench failed: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Statement timings from sqlx's own `sqlx::query` events (emitted at DEBUG when a statement
// finishes; `elapsed_secs` is measured by sqlx from the start of execution to the last row).

/// One statement the emulator ran, as sqlx logged it.
#[derive(Debug, Clone, Default)]
struct Stmt {
    sql: String,
    secs: f64,
    rows: u64,
}

static CAPTURING: AtomicBool = AtomicBool::new(false);
static STATEMENTS: Mutex<Vec<Stmt>> = Mutex::new(Vec::new());

/// A tracing subscriber interested in `sqlx::query` events only, and only while
/// [`CAPTURING`] is set; everything else (the emulator's request logs included) is never
/// enabled, as with no subscriber at all.
struct Capture;

impl tracing::Subscriber for Capture {
    fn register_callsite(&self, m: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        if m.target() == "sqlx::query" {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        m.target() == "sqlx::query" && CAPTURING.load(Ordering::Relaxed)
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields(Stmt, String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                match f.name() {
                    "db.statement" => self.0.sql = v.trim().to_owned(),
                    "summary" => self.1 = v.to_owned(),
                    _ => {}
                }
            }
            fn record_f64(&mut self, f: &tracing::field::Field, v: f64) {
                if f.name() == "elapsed_secs" {
                    self.0.secs = v;
                }
            }
            fn record_u64(&mut self, f: &tracing::field::Field, v: u64) {
                if f.name() == "rows_returned" {
                    self.0.rows = v;
                }
            }
        }
        let mut fields = Fields(Stmt::default(), String::new());
        event.record(&mut fields);
        if fields.0.sql.is_empty() {
            fields.0.sql = fields.1;
        }
        if let Ok(mut v) = STATEMENTS.lock() {
            v.push(fields.0);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn capture(on: bool) {
    CAPTURING.store(on, Ordering::SeqCst);
}

fn take_statements() -> Vec<Stmt> {
    STATEMENTS.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Memory.

/// `(VmRSS, VmHWM)` of this process in KiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false when not possible.
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// Data: realistic accounts, in the storage `write::insert` produces.

/// SplitMix64, as the emulator's seed module uses.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> uuid::Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
}

const FIRST: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Adventure Works",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Proseware",
    "Fourth Coffee",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Lucerne",
    "Margie's",
    "Trey",
    "Wide World",
    "Woodgrove",
    "Humongous",
    "Graphic Design",
    "City Power",
    "Consolidated",
    "Southridge",
    "Relecloud",
    "VanArsdel",
    "A. Datum",
    "Best For You",
    "Munson's",
    "Nod",
    "Lamna",
    "Bellows",
    "Tailwind",
    "Boulder",
    "Fincher",
    "Hanover",
    "Baldwin",
    "Liberty",
    "Cascade",
    "Summit",
    "Pioneer",
    "Redwood",
    "Harbor",
    "Evergreen",
    "Silverline",
    "Ironwood",
    "Bluewater",
    "Granite",
    "Meridian",
    "Northstar",
    "Oakridge",
    "Sterling",
];
const TRADE: &[&str] = &[
    "Pharmaceuticals",
    "Traders",
    "Cycles",
    "Toys",
    "Coffee",
    "Airlines",
    "Winery",
    "Publishing",
    "Travel",
    "Research",
    "Importers",
    "Bank",
    "Insurance",
    "Institute",
    "Messenger",
    "Video",
    "Organics",
    "Healthcare",
    "Logistics",
    "Analytics",
    "Engineering",
    "Foods",
    "Energy",
    "Software",
    "Consulting",
    "Construction",
    "Textiles",
    "Robotics",
    "Outfitters",
    "Media",
];
const FORM: &[&str] = &["", " Inc.", " Ltd.", " LLC", " Group", " Co.", " Holdings", " GmbH"];
/// (city, state, area code)
const CITIES: &[(&str, &str, &str)] = &[
    ("Seattle", "WA", "206"),
    ("Redmond", "WA", "425"),
    ("Portland", "OR", "503"),
    ("San Francisco", "CA", "415"),
    ("Chicago", "IL", "312"),
    ("New York", "NY", "212"),
    ("Boston", "MA", "617"),
    ("Austin", "TX", "512"),
    ("Denver", "CO", "303"),
    ("Atlanta", "GA", "404"),
];

/// The columns written, in order (hidden `{lookup}@type` columns included).
const COLUMNS: &[&str] = &[
    "accountid",
    "name",
    "accountnumber",
    "telephone1",
    "emailaddress1",
    "websiteurl",
    "address1_city",
    "address1_stateorprovince",
    "address1_postalcode",
    "address1_country",
    "revenue",
    "revenue_base",
    "numberofemployees",
    "industrycode",
    "accountcategorycode",
    "customertypecode",
    "creditonhold",
    "statecode",
    "statuscode",
    "createdon",
    "modifiedon",
    "createdby",
    "createdby@type",
    "modifiedby",
    "modifiedby@type",
    "versionnumber",
    "ownerid",
    "ownerid@type",
    "owninguser",
    "owninguser@type",
    "owningbusinessunit",
    "owningbusinessunit@type",
    "transactioncurrencyid",
    "transactioncurrencyid@type",
    "exchangerate",
];

/// The system rows the loaded accounts point at.
struct Sys {
    owner: String,
    business_unit: String,
    currency: String,
}

/// Binds one account row (column order of [`COLUMNS`]).
fn bind_row<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    rng: &mut Rng,
    i: u64,
    version: i64,
    sys: &Sys,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    let first = *rng.pick(FIRST);
    let trade = *rng.pick(TRADE);
    let form = *rng.pick(FORM);
    let city = *rng.pick(CITIES);
    let name = if rng.below(4) == 0 {
        format!("{first} {trade}{form} ({})", city.0)
    } else {
        format!("{first} {trade}{form}")
    };
    let word: String = first.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    let domain = format!("{word}-{}.example.com", trade.to_ascii_lowercase());
    // Money: ten-thousandths (rows.rs); 85 % of accounts have a revenue, and only those get the
    // currency and exchange rate (write.rs `apply_currency`).
    let revenue = (rng.below(100) < 85).then(|| rng.range(100, 250_000) * 1000 * 10_000);
    let inactive = rng.below(10) == 0;
    // Created over ~6 years from 2019, in insertion (and version) order; seconds precision.
    let created =
        chrono::DateTime::from_timestamp(1_546_300_800 + (i as i64) * 190 + rng.range(0, 189), 0).unwrap_or_default();
    let modified = created + chrono::Duration::seconds(rng.range(0, 30 * 86_400));
    let fmt = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let id = rng.uuid().to_string();
    q.bind(id)
        .bind(name)
        .bind(format!("ACC-{i:07}"))
        .bind(format!("{}-555-01{:02}", city.2, rng.below(100)))
        .bind(format!("info@{domain}"))
        .bind(format!("https://www.{domain}"))
        .bind(city.0)
        .bind(city.1)
        .bind(format!("{:05}", rng.range(10_000, 99_999)))
        .bind("United States")
        .bind(revenue)
        .bind(revenue)
        .bind(rng.range(5, 25_000))
        .bind(rng.range(1, 33))
        .bind(rng.range(1, 2))
        .bind(rng.range(1, 12))
        .bind(i64::from(rng.below(10) == 0))
        .bind(i64::from(inactive))
        .bind(if inactive { 2i64 } else { 1 })
        .bind(fmt(created))
        .bind(fmt(modified))
        .bind(sys.owner.clone())
        .bind("systemuser")
        .bind(sys.owner.clone())
        .bind("systemuser")
        .bind(version)
        .bind(sys.owner.clone())
        .bind("systemuser")
        .bind(sys.owner.clone())
        .bind("systemuser")
        .bind(sys.business_unit.clone())
        .bind("businessunit")
        .bind(revenue.map(|_| sys.currency.clone()))
        .bind(revenue.map(|_| "transactioncurrency"))
        .bind(revenue.map(|_| "1.0000000000"))
}

async fn meta_text(conn: &mut SqliteConnection, key: &str) -> Res<String> {
    let v: Option<String> = sqlx::query_scalar("SELECT text_value FROM _emulator_meta WHERE key = ?")
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
    v.ok_or_else(|| format!("_emulator_meta has no {key}").into())
}

/// The child process: bulk-inserts [`ROWS`] accounts into `{dir}/emulator.sqlite`.
async fn load(dir: &Path) -> Res<()> {
    let options = SqliteConnectOptions::new()
        .filename(dir.join(DB_FILE))
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-262144");
    let mut conn = options.connect().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account").fetch_one(&mut conn).await?;
    if existing != 0 {
        return Err(format!("{} already holds {existing} accounts", dir.display()).into());
    }
    let owner: String =
        sqlx::query_scalar("SELECT systemuserid FROM systemuser WHERE applicationid IS NOT NULL LIMIT 1")
            .fetch_one(&mut conn)
            .await?;
    let sys = Sys {
        owner,
        business_unit: meta_text(&mut conn, "root_businessunitid").await?,
        currency: meta_text(&mut conn, "currencyid").await?,
    };
    let mut version: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(int_value), 0) FROM _emulator_meta WHERE key = 'versionnumber'")
            .fetch_one(&mut conn)
            .await?;

    let columns: Vec<String> = COLUMNS.iter().map(|c| format!("\"{c}\"")).collect();
    let one = format!("({})", vec!["?"; COLUMNS.len()].join(","));
    let sql = format!(
        "INSERT INTO account ({}) VALUES {}",
        columns.join(","),
        vec![one.as_str(); INSERT_BATCH as usize].join(",")
    );
    let mut rng = Rng(0x5041_4749_4E47);
    let mut i = 0u64;
    while i < ROWS {
        let mut tx = conn.begin().await?;
        let end = (i + TX_ROWS).min(ROWS);
        while i < end {
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
            for _ in 0..INSERT_BATCH {
                version += 1;
                q = bind_row(q, &mut rng, i, version, &sys);
                i += 1;
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    // The org-wide version counter moves past the loaded rows, as the emulator's writes do.
    sqlx::query("UPDATE _emulator_meta SET int_value = ? WHERE key = 'versionnumber'")
        .bind(version)
        .execute(&mut conn)
        .await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The run.

fn config(dir: &Path) -> EmulatorConfig {
    EmulatorConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        org_url: None,
        storage: Storage::Dir(dir.to_path_buf()),
        clients: Vec::new(),
        seed: None,
        protection: None,
        client_certificates: Vec::new(),
        schema: None,
    }
}

/// A connection like the emulator's (WAL, default cache), for the floors.
async fn floor_connection(dir: &Path) -> Res<SqliteConnection> {
    Ok(SqliteConnectOptions::new()
        .filename(dir.join(DB_FILE))
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await?)
}

async fn account_count(dir: &Path) -> Res<i64> {
    if !dir.join(DB_FILE).exists() {
        return Ok(0);
    }
    let mut conn = floor_connection(dir).await?;
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM account").fetch_one(&mut conn).await.unwrap_or(0);
    conn.close().await?;
    Ok(n)
}

async fn token(http: &reqwest::Client, emu: &RunningEmulator, dir: &Path) -> Res<String> {
    let client: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("emulator-client.json"))?)?;
    let field = |n: &str| client[n].as_str().map(str::to_owned).ok_or_else(|| format!("no {n} in client file"));
    let scope = format!("{}/.default", emu.org_url);
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &field("client_id")?)
        .append_pair("client_secret", &field("client_secret")?)
        .append_pair("scope", &scope)
        .finish();
    let resp = http
        .post(format!("{}/t/oauth2/v2.0/token", emu.org_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().await?)?;
    v["access_token"].as_str().map(str::to_owned).ok_or_else(|| format!("token request answered {status}: {v}").into())
}

fn get(http: &reqwest::Client, url: &str, token: &str) -> reqwest::RequestBuilder {
    http.get(url)
        .bearer_auth(token)
        .header("accept", "application/json")
        .header("odata-version", "4.0")
        .header("odata-maxversion", "4.0")
}

/// FNV-1a over a sequence of ids: two runs returned the same rows in the same order when equal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct IdHash(u64);

impl IdHash {
    fn new() -> Self {
        IdHash(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, id: &str) {
        for b in id.bytes().chain(std::iter::once(b'\n')) {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[derive(Deserialize)]
struct PageBody<'a> {
    #[serde(borrow)]
    value: Vec<IdOnly<'a>>,
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    accountid: &'a str,
}

/// One page of a paging pass.
#[derive(Debug, Clone, Default)]
struct PageTiming {
    /// Request sent → response headers (the server's whole work: the body is built first).
    ttfb: Duration,
    /// Headers → last body byte.
    body: Duration,
    /// Client-side JSON parse.
    parse: Duration,
    bytes: usize,
    rows: usize,
    rss_kib: u64,
    /// Statements sqlx ran for this request (instrumented pass only).
    statements: Vec<Stmt>,
}

struct Pass {
    elapsed: Duration,
    rows: usize,
    bytes: usize,
    hash: IdHash,
    pages: Vec<PageTiming>,
}

impl Pass {
    fn rows_per_sec(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
    fn max_rss(&self) -> u64 {
        self.pages.iter().map(|p| p.rss_kib).max().unwrap_or(0)
    }
}

async fn paging_pass(http: &reqwest::Client, org: &str, token: &str, instrumented: bool) -> Res<Pass> {
    let mut url = format!("{org}/api/data/v9.2/{QUERY}");
    let mut hash = IdHash::new();
    let (mut rows, mut bytes) = (0usize, 0usize);
    let mut pages = Vec::new();
    let started = Instant::now();
    while rows < PAGED_ROWS {
        if instrumented {
            take_statements();
            capture(true);
        }
        let t0 = Instant::now();
        let resp = get(http, &url, token).header("prefer", format!("odata.maxpagesize={PAGE_SIZE}")).send().await?;
        let t1 = Instant::now();
        if resp.status() != StatusCode::OK {
            return Err(format!("{url} answered {}: {}", resp.status(), resp.text().await?).into());
        }
        let body = resp.bytes().await?;
        let t2 = Instant::now();
        if instrumented {
            capture(false);
        }
        let page: PageBody<'_> = serde_json::from_slice(&body)?;
        let n = page.value.len().min(PAGED_ROWS - rows);
        for r in &page.value[..n] {
            hash.add(r.accountid);
        }
        let t3 = Instant::now();
        rows += n;
        bytes += body.len();
        pages.push(PageTiming {
            ttfb: t1 - t0,
            body: t2 - t1,
            parse: t3 - t2,
            bytes: body.len(),
            rows: n,
            rss_kib: rss().0,
            statements: if instrumented { take_statements() } else { Vec::new() },
        });
        match page.next {
            Some(next) => url = next,
            None => break,
        }
    }
    Ok(Pass { elapsed: started.elapsed(), rows, bytes, hash, pages })
}

/// One row of the floor, materialised.
#[derive(Serialize)]
struct FloorRow {
    #[serde(rename = "@odata.etag")]
    etag: String,
    name: Option<String>,
    accountnumber: Option<String>,
    revenue: Option<f64>,
    accountid: String,
    #[serde(rename = "_transactioncurrencyid_value")]
    currency: Option<String>,
}

#[derive(Serialize)]
struct FloorBody<'a> {
    #[serde(rename = "@odata.context")]
    context: &'a str,
    value: &'a [FloorRow],
}

/// The floor's SQL: the brief's statement plus `transactioncurrencyid`, which the emulator
/// answers with every money column (`_transactioncurrencyid_value`, spec §2.5). `statecode`,
/// `revenue` and `versionnumber` are INTEGER (money in ten-thousandths), `name` TEXT NOCASE.
const FLOOR_SQL: &str = "SELECT accountid, name, accountnumber, revenue, versionnumber, transactioncurrencyid \
     FROM account WHERE statecode = 0 ORDER BY name, accountid LIMIT 100000";

type FloorTuple = (String, Option<String>, Option<String>, Option<i64>, Option<i64>, Option<String>);

struct Floor {
    elapsed: Duration,
    sql: Duration,
    json_bytes: usize,
    hash: IdHash,
    rows: Vec<FloorRow>,
}

async fn floor_pass(conn: &mut SqliteConnection, context: &str) -> Res<Floor> {
    let started = Instant::now();
    let found: Vec<FloorTuple> = sqlx::query_as(FLOOR_SQL).fetch_all(&mut *conn).await?;
    let sql = started.elapsed();
    let rows: Vec<FloorRow> = found
        .into_iter()
        .map(|(id, name, number, revenue, version, currency)| FloorRow {
            etag: format!("W/\"{}\"", version.unwrap_or(0)),
            name,
            accountnumber: number,
            revenue: revenue.map(|units| units as f64 / 10_000.0),
            accountid: id,
            currency,
        })
        .collect();
    let json = serde_json::to_vec(&FloorBody { context, value: &rows })?;
    let elapsed = started.elapsed();
    let mut hash = IdHash::new();
    for r in &rows {
        hash.add(&r.accountid);
    }
    Ok(Floor { elapsed, sql, json_bytes: json.len(), hash, rows })
}

/// A replica of the emulator's shaping of one page (`annotations::shape_row`, `rows::to_json`,
/// the envelope of `server/api.rs`, `Value::to_json`) over already-read rows: the JSON part of
/// a page's cost, estimated outside the server.
fn replica_page_json(rows: &[FloorRow], context: &str, next: &str) -> usize {
    use dataverse::json::{Number, Object, Value};
    let value = rows
        .iter()
        .map(|r| {
            let mut o = Object::new();
            o.insert("@odata.etag", Value::String(r.etag.clone()));
            let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
            o.insert("name".to_owned(), text(&r.name));
            o.insert("accountnumber".to_owned(), text(&r.accountnumber));
            let revenue = r.revenue.map(|f| {
                let units = (f * 10_000.0).round() as i128;
                format!("{}.{:04}", units / 10_000, units % 10_000)
            });
            o.insert("revenue".to_owned(), revenue.and_then(|t| Number::parse(&t)).map_or(Value::Null, Value::Number));
            o.insert("accountid".to_owned(), Value::String(r.accountid.clone()));
            o.insert(format!("_{}_value", "transactioncurrencyid"), text(&r.currency));
            Value::Object(o)
        })
        .collect();
    let mut envelope = Object::new();
    envelope.insert("@odata.context", Value::String(context.to_owned()));
    envelope.insert("value", Value::Array(value));
    envelope.insert("@odata.nextLink", Value::String(next.to_owned()));
    Value::Object(envelope).to_json().len()
}

/// Sequential requests for `secs`: (requests/s, p50, p99, requests).
async fn hammer(http: &reqwest::Client, url: &str, token: &str, secs: f64) -> Res<(f64, Duration, Duration, usize)> {
    let mut latencies = Vec::new();
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < secs {
        let t = Instant::now();
        let resp = get(http, url, token).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if status != StatusCode::OK {
            return Err(format!("{url} answered {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        latencies.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok((latencies.len() as f64 / elapsed.as_secs_f64(), at(0.5), at(0.99), latencies.len()))
}

/// The HTTP floor: one handler answering the captured body with the captured headers (a fresh
/// `x-ms-service-request-id` each time, as the emulator does).
async fn floor_server(body: Bytes, headers: HeaderMap) -> Res<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let captured = Arc::new((body, headers));
    let router = axum::Router::new().fallback(move || {
        let captured = captured.clone();
        async move {
            let mut response = axum::response::Response::new(axum::body::Body::from(captured.0.clone()));
            for (name, value) in &captured.1 {
                response.headers_mut().insert(name, value.clone());
            }
            if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
                response.headers_mut().insert("x-ms-service-request-id", id);
            }
            response
        }
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((addr, task))
}

/// Median of the statements' seconds.
fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn rate(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Instrumented sequential requests: the median SQL time per statement position.
async fn statement_profile(http: &reqwest::Client, url: &str, token: &str, n: usize) -> Res<Vec<(String, f64)>> {
    let mut per_position: Vec<(String, Vec<f64>)> = Vec::new();
    for _ in 0..n {
        take_statements();
        capture(true);
        let resp = get(http, url, token).send().await?;
        let _ = resp.bytes().await?;
        capture(false);
        for (i, s) in take_statements().into_iter().enumerate() {
            if per_position.len() <= i {
                per_position.push((s.sql.clone(), Vec::new()));
            }
            per_position[i].1.push(s.secs);
        }
    }
    Ok(per_position.into_iter().map(|(sql, v)| (sql, median(v))).collect())
}

/// The emulator's keyset page statement at several depths, without and with the `"name" >= ?`
/// bound SQLite seeks with (the emulator writes the bound): (row the cursor is at, time, time).
async fn keyset_depth(conn: &mut SqliteConnection, page_sql: &str) -> Res<(Vec<(u64, Duration, Duration)>, Duration)> {
    const SEEK: &str = r#""account"."name" >= ? AND "#;
    if !page_sql.contains(SEEK) {
        println!("keyset experiment skipped: unexpected page SQL");
        return Ok((Vec::new(), Duration::ZERO));
    }
    let seek_sql = page_sql.to_owned();
    let page_sql = page_sql.replace(SEEK, "");
    let page_sql = page_sql.as_str();
    let mut out = Vec::new();
    let mut decode = Vec::new();
    for at in [5_000u64, 95_000, 450_000, 850_000] {
        let (name, id): (String, String) = sqlx::query_as(
            "SELECT name, accountid FROM account WHERE statecode = 0 ORDER BY name, accountid LIMIT 1 OFFSET ?",
        )
        .bind((at - 1) as i64)
        .fetch_one(&mut *conn)
        .await?;
        let mut times = [Vec::new(), Vec::new()];
        for _ in 0..3 {
            for (k, sql) in [page_sql, seek_sql.as_str()].into_iter().enumerate() {
                let mut q = sqlx::query(AssertSqlSafe(sql.to_owned())).bind(0i64);
                if k == 1 {
                    q = q.bind(name.clone());
                }
                let q = q.bind(name.clone()).bind(name.clone()).bind(id.clone()).bind((PAGE_SIZE + 1) as i64);
                let t = Instant::now();
                let rows = q.fetch_all(&mut *conn).await?;
                times[k].push(t.elapsed().as_secs_f64());
                if rows.len() != PAGE_SIZE + 1 {
                    return Err(format!("keyset statement returned {} rows", rows.len()).into());
                }
                if k == 0 && at == 95_000 {
                    decode.push(decode_rows(&rows)?.as_secs_f64());
                }
            }
        }
        let [a, b] = times;
        out.push((at, Duration::from_secs_f64(median(a)), Duration::from_secs_f64(median(b))));
    }
    Ok((out, Duration::from_secs_f64(median(decode))))
}

/// A replica of the emulator's `read::raw_row` over one page of rows: every projected column
/// and then every sort column read by name into an owned cell.
fn decode_rows(rows: &[sqlx::sqlite::SqliteRow]) -> Res<Duration> {
    use sqlx::Row as _;
    enum Cell {
        Null,
        Int(i64),
        Text(String),
    }
    let text = |r: &sqlx::sqlite::SqliteRow, c: &str| -> Res<Cell> {
        Ok(r.try_get::<Option<String>, _>(c)?.map_or(Cell::Null, Cell::Text))
    };
    let int = |r: &sqlx::sqlite::SqliteRow, c: &str| -> Res<Cell> {
        Ok(r.try_get::<Option<i64>, _>(c)?.map_or(Cell::Null, Cell::Int))
    };
    let t = Instant::now();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let version = r.try_get::<Option<i64>, _>("versionnumber")?.unwrap_or(0);
        let cells = vec![
            text(r, "name")?,
            text(r, "accountnumber")?,
            int(r, "revenue")?,
            text(r, "accountid")?,
            text(r, "transactioncurrencyid")?,
        ];
        let targets = vec![None, None, None, None, r.try_get::<Option<String>, _>("transactioncurrencyid@type")?];
        let sort = vec![text(r, "name")?, text(r, "accountid")?];
        out.push((version, cells, targets, sort));
    }
    let elapsed = t.elapsed();
    let weight: usize = out
        .iter()
        .flat_map(|(_, cells, _, sort)| cells.iter().chain(sort))
        .map(|c| match c {
            Cell::Null => 0,
            Cell::Int(i) => usize::from(*i != 0),
            Cell::Text(s) => s.len(),
        })
        .sum();
    std::hint::black_box(weight);
    Ok(elapsed)
}

/// Pieces of the `$filter` point query measured outside the server: the parser on the same
/// request, and the emulator's statement through a pool configured as the emulator's (sqlx
/// pings a connection on every acquire) and on one connection.
async fn point_breakdown(
    dir: &Path,
    point_sql: &[(String, f64)],
    url: &str,
    token: &str,
) -> Res<Vec<(String, Duration)>> {
    let mut out = Vec::new();
    let schema = dataverse::Schema::standard();
    let (path, query) =
        url.split_once("/api/").map(|(_, rest)| rest).and_then(|r| r.split_once('?')).unwrap_or(("", ""));
    let path = format!("/api/{path}");
    let authorization = format!("Bearer {token}");
    let headers: Vec<(&str, &str)> = vec![
        ("authorization", authorization.as_str()),
        ("accept", "application/json"),
        ("odata-version", "4.0"),
        ("odata-maxversion", "4.0"),
        ("host", "127.0.0.1"),
    ];
    let raw = dataverse::RawRequest { method: "GET", path: &path, query: Some(query), headers: &headers, body: &[] };
    let limits = dataverse::ParseLimits::default();
    if dataverse::parse_request(&schema, &raw, &limits).is_err() {
        return Err("the point query does not parse".into());
    }
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(dataverse::parse_request(&schema, &raw, &limits).is_ok());
    }
    out.push(("`dataverse::parse_request` of the request".to_owned(), t.elapsed() / n));

    let Some((sql, _)) = point_sql.first() else { return Ok(out) };
    let options = SqliteConnectOptions::new()
        .filename(dir.join(DB_FILE))
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    for (label, test) in [("pool as the emulator's (ping on acquire)", true), ("pool without the ping", false)] {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(test)
            .connect_with(options.clone())
            .await?;
        let mut count = 0u32;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            let mut conn = pool.acquire().await?;
            if point_statement(&mut conn, sql).await? != 1 {
                return Err("the point statement did not find one row".into());
            }
            count += 1;
        }
        out.push((format!("acquire + the statement, {label}"), started.elapsed() / count));
        pool.close().await;
    }
    let mut conn = options.connect().await?;
    let mut count = 0u32;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        point_statement(&mut conn, sql).await?;
        count += 1;
    }
    out.push(("the statement on one connection".to_owned(), started.elapsed() / count));
    conn.close().await?;
    Ok(out)
}

/// The emulator's point statement, bound as it binds it; the number of rows.
async fn point_statement(conn: &mut SqliteConnection, sql: &str) -> Res<usize> {
    let q = sqlx::query(AssertSqlSafe(sql.to_owned())).bind(POINT_KEY).bind((PAGE_SIZE + 1) as i64);
    Ok(q.fetch_all(conn).await?.len())
}

async fn run() -> Res<()> {
    let run_started = Instant::now();
    let (dir, _temp): (PathBuf, Option<tempfile::TempDir>) = match std::env::var(DIR_ENV) {
        Ok(d) => (PathBuf::from(d), None),
        Err(_) => {
            let t = tempfile::Builder::new().prefix("emulator-paging-").tempdir_in("/tmp")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(&dir)?;
    let point_secs: f64 = std::env::var(POINT_SECS_ENV).ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    println!("data directory: {}", dir.display());

    // 1. Schema by the emulator, then the bulk load in a child process.
    let mut load_secs = None;
    let existing = account_count(&dir).await?;
    if existing == 0 {
        let emu = emulator::start(config(&dir)).await?;
        emu.shutdown().await;
        let started = Instant::now();
        let status = Command::new(std::env::current_exe()?).env(LOAD_ENV, &dir).status()?;
        if !status.success() {
            return Err(format!("the load process failed: {status}").into());
        }
        let secs = started.elapsed().as_secs_f64();
        println!("loaded {ROWS} accounts in {secs:.1} s ({} rows/s)", rate(ROWS as f64 / secs));
        load_secs = Some(secs);
    } else if existing as u64 != ROWS {
        return Err(format!("{} holds {existing} accounts, not {ROWS}: use an empty directory", dir.display()).into());
    } else {
        println!("reusing {existing} loaded accounts");
    }
    let db_bytes = std::fs::metadata(dir.join(DB_FILE))?.len();
    let mut probe = floor_connection(&dir).await?;
    let active: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM account WHERE statecode = 0").fetch_one(&mut probe).await?;
    let indexes: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'account' ORDER BY name",
    )
    .fetch_all(&mut probe)
    .await?;
    probe.close().await?;
    println!("database: {:.0} MiB, {active} active accounts", db_bytes as f64 / 1048576.0);
    for (name, sql) in &indexes {
        println!("  index {name}: {}", sql.as_deref().unwrap_or("(automatic: primary key)"));
    }

    // 2. The emulator on the loaded directory.
    let emu = emulator::start(config(&dir)).await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let org = emu.org_url.clone();
    let token = token(&http, &emu, &dir).await?;

    // 3. Paging, with RSS.
    let (rss_before, _) = rss();
    let hwm_reset = reset_hwm();
    let (_, hwm_before) = rss();
    let cold = paging_pass(&http, &org, &token, false).await?;
    let mut warm = Vec::new();
    for _ in 0..WARM_PASSES {
        warm.push(paging_pass(&http, &org, &token, false).await?);
    }
    let (rss_after, hwm_paging) = rss();
    for p in &warm {
        if p.hash != cold.hash || p.rows != cold.rows {
            return Err("two paging passes returned different rows".into());
        }
    }
    let mut by_time: Vec<&Pass> = warm.iter().collect();
    by_time.sort_by_key(|p| p.elapsed);
    let median_pass = by_time[by_time.len() / 2];
    let max_rss_sampled = std::iter::once(&cold).chain(&warm).map(Pass::max_rss).max().unwrap_or(0);
    println!(
        "paging: cold {} ({} rows/s), warm {} ({} rows/s; passes {}), {} pages, {:.1} MiB of JSON",
        ms(cold.elapsed),
        rate(cold.rows_per_sec()),
        ms(median_pass.elapsed),
        rate(median_pass.rows_per_sec()),
        warm.iter().map(|p| ms(p.elapsed)).collect::<Vec<_>>().join(", "),
        median_pass.pages.len(),
        median_pass.bytes as f64 / 1048576.0
    );
    println!(
        "RSS: before {} (VmHWM {}), max sampled per page {}, after {}, VmHWM {}{}",
        mib(rss_before),
        mib(hwm_before),
        mib(max_rss_sampled),
        mib(rss_after),
        mib(hwm_paging),
        if hwm_reset { " (reset before paging)" } else { " (could not reset: process lifetime peak)" }
    );
    println!(
        "RSS per page (warm median pass): {}",
        median_pass.pages.iter().map(|p| format!("{:.0}", p.rss_kib as f64 / 1024.0)).collect::<Vec<_>>().join(" ")
    );

    // 4. Instrumented pass: where a page's time goes.
    let traced = paging_pass(&http, &org, &token, true).await?;
    let page_sql = traced.pages.get(1).and_then(|p| p.statements.first()).map(|s| s.sql.clone()).unwrap_or_default();
    let first_sql = traced.pages.first().and_then(|p| p.statements.first()).map(|s| s.sql.clone()).unwrap_or_default();
    println!("\nfirst page SQL (from sqlx's log): {first_sql}");
    println!("next pages' SQL: {page_sql}");

    // 5. The floor, after paging (RSS recorded before it).
    let (rss_before_floor, _) = rss();
    let mut conn = floor_connection(&dir).await?;
    let context = format!("{org}/api/data/v9.2/$metadata#accounts(name,accountnumber,revenue)");
    let _ = floor_pass(&mut conn, &context).await?;
    let mut floors = Vec::new();
    for _ in 0..WARM_PASSES {
        floors.push(floor_pass(&mut conn, &context).await?);
    }
    floors.sort_by_key(|f| f.elapsed);
    let floor = floors.swap_remove(WARM_PASSES / 2);
    drop(floors);
    let floor_rows_per_sec = PAGED_ROWS as f64 / floor.elapsed.as_secs_f64();
    let same_rows = floor.hash == median_pass.hash && floor.rows.len() == median_pass.rows;
    println!(
        "floor: {} ({} rows/s; SQL + decode {}), {:.1} MiB of JSON; same rows in the same order as HTTP: {same_rows}",
        ms(floor.elapsed),
        rate(floor_rows_per_sec),
        ms(floor.sql),
        floor.json_bytes as f64 / 1048576.0
    );

    // Query plans of the emulator's statements (values unbound: NULL).
    for (what, sql) in [("first page", &first_sql), ("next pages", &page_sql)] {
        if sql.is_empty() {
            continue;
        }
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
        for _ in 0..sql.matches('?').count() {
            q = q.bind(Option::<String>::None);
        }
        let plan = q.fetch_all(&mut conn).await?;
        println!("plan ({what}): {}", plan.iter().map(|r| r.3.as_str()).collect::<Vec<_>>().join(" | "));
    }

    // Per-page breakdown.
    let next_link_example = format!("{org}/api/data/v9.2/{QUERY}&$skiptoken=x");
    let mut json_est = Duration::ZERO;
    let chunks = floor.rows.chunks(PAGE_SIZE).count().max(1);
    for chunk in floor.rows.chunks(PAGE_SIZE) {
        let t = Instant::now();
        std::hint::black_box(replica_page_json(chunk, &context, &next_link_example));
        json_est += t.elapsed();
    }
    let json_per_page = json_est / chunks as u32;
    println!("\nper page (instrumented pass; SQL = sqlx's elapsed for the page statement in the emulator):");
    println!("| page | SQL | server other | time to headers | body | client parse | rows | KiB |");
    println!("|---|---|---|---|---|---|---|---|");
    let (mut sum_sql, mut sum_ttfb, mut sum_body, mut sum_parse) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for (i, p) in traced.pages.iter().enumerate() {
        let sql = Duration::from_secs_f64(p.statements.iter().map(|s| s.secs).sum());
        sum_sql += sql;
        sum_ttfb += p.ttfb;
        sum_body += p.body;
        sum_parse += p.parse;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            ms(sql),
            ms(p.ttfb.saturating_sub(sql)),
            ms(p.ttfb),
            ms(p.body),
            ms(p.parse),
            p.rows,
            p.bytes / 1024
        );
    }
    let n = traced.pages.len().max(1) as u32;
    println!(
        "mean per page: SQL {} , server other {} (of which JSON shaping + serialization, replica: {}), \
         headers {}, body {}, client parse {}; pass total {}",
        ms(sum_sql / n),
        ms(sum_ttfb.saturating_sub(sum_sql) / n),
        ms(json_per_page),
        ms(sum_ttfb / n),
        ms(sum_body / n),
        ms(sum_parse / n),
        ms(traced.elapsed)
    );
    let (keyset, decode_per_page) = keyset_depth(&mut conn, &page_sql).await?;
    println!("row decoding per page (replica of read::raw_row, 5001 rows): {}", ms(decode_per_page));
    // SQLite's own share: the floor's statement under an aggregate, so sqlx moves one row.
    let engine_sql = format!(
        "SELECT count(*), sum(length(accountid)), sum(length(name)), sum(length(accountnumber)), sum(revenue), \
         sum(versionnumber), sum(length(transactioncurrencyid)) FROM ({FLOOR_SQL})"
    );
    let mut engine = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(engine_sql.clone())).fetch_one(&mut conn).await?;
        engine.push(t.elapsed().as_secs_f64());
        if n != PAGED_ROWS as i64 {
            return Err("the engine-only statement counted other rows".into());
        }
    }
    let engine = Duration::from_secs_f64(median(engine));
    println!("the floor's statement inside SQLite only (aggregate over it, one row to sqlx): {}", ms(engine));
    let floor_sql = floor.sql;
    drop(floor.rows);
    conn.close().await?;

    // 5b. Grouped aggregates ($apply). Dataverse refuses an aggregate over more than 50,000
    // rows (0x8004E023), and so does the emulator: over all 1,000,000 rows that refusal is what
    // is timed; the grouped aggregate itself runs over the 50,000 rows with the lowest account
    // numbers, against the same SQL run directly on the file.
    let aggregate_all = format!(
        "{org}/api/data/v9.2/accounts?$apply=groupby((statecode),aggregate($count%20as%20n,revenue%20with%20sum%20as%20total))"
    );
    let aggregate_50k = format!(
        "{org}/api/data/v9.2/accounts?$apply=filter(accountnumber%20lt%20'ACC-0050000')/groupby((statecode),aggregate($count%20as%20n,revenue%20with%20sum%20as%20total))"
    );
    let mut refused = Vec::new();
    let mut grouped = Vec::new();
    let mut grouped_floor = Vec::new();
    let mut agg_conn = floor_connection(&dir).await?;
    for _ in 0..WARM_PASSES {
        let started = Instant::now();
        let resp = get(&http, &aggregate_all, &token).send().await.map_err(|e| format!("aggregate request: {e}"))?;
        let status = resp.status();
        let _ = resp.bytes().await?;
        refused.push(started.elapsed().as_secs_f64());
        if status != StatusCode::BAD_REQUEST {
            return Err(format!("the 1,000,000-row aggregate answered {status}, not 400").into());
        }
        let started = Instant::now();
        let resp = get(&http, &aggregate_50k, &token).send().await?;
        let status = resp.status();
        let body: serde_json::Value = serde_json::from_slice(&resp.bytes().await?)?;
        grouped.push(started.elapsed().as_secs_f64());
        let counted: i64 = body["value"].as_array().map_or(0, |v| v.iter().filter_map(|g| g["n"].as_i64()).sum());
        if status != StatusCode::OK || counted != 50_000 {
            return Err(format!("the 50,000-row aggregate answered {status}: {body}").into());
        }
        let started = Instant::now();
        let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT statecode, COUNT(*), SUM(revenue) FROM account WHERE accountnumber < 'ACC-0050000' GROUP BY statecode ORDER BY statecode",
        )
        .fetch_all(&mut agg_conn)
        .await
        .map_err(|e| format!("the direct aggregate SQL: {e}"))?;
        grouped_floor.push(started.elapsed().as_secs_f64());
        if rows.iter().map(|r| r.1).sum::<i64>() != 50_000 {
            return Err("the direct SQL did not count 50,000 rows".into());
        }
    }
    agg_conn.close().await?;
    let (refused, grouped, grouped_floor) = (median(refused), median(grouped), median(grouped_floor));
    println!(
        "aggregates: 1,000,000 rows refused in {:.1} ms; 50,000 rows grouped in {:.1} ms against {:.1} ms of direct SQL ({:.2}×)",
        refused * 1000.0,
        grouped * 1000.0,
        grouped_floor * 1000.0,
        grouped / grouped_floor
    );

    // 6. Point queries.
    let point_url = format!("{org}/api/data/v9.2/accounts?$select=name&$filter=accountnumber%20eq%20'{POINT_KEY}'");
    let key_url = format!("{org}/api/data/v9.2/accounts(accountnumber='{POINT_KEY}')");
    let key_select_url = format!("{key_url}?$select=name");
    let resp = get(&http, &point_url, &token).send().await?;
    let status = resp.status();
    let mut headers = resp.headers().clone();
    let body = resp.bytes().await?;
    let found: serde_json::Value = serde_json::from_slice(&body)?;
    if status != StatusCode::OK || found["value"].as_array().map(Vec::len) != Some(1) {
        return Err(format!("point query answered {status}: {found}").into());
    }
    println!("\npoint query answer ({} bytes): {}", body.len(), String::from_utf8_lossy(&body));
    for h in ["date", "content-length", "x-ms-service-request-id"] {
        headers.remove(h);
    }
    println!(
        "replayed headers: {}",
        headers.iter().map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?"))).collect::<Vec<_>>().join("; ")
    );
    let (floor_addr, floor_task) = floor_server(body, headers).await?;
    let floor_url = format!("http://{floor_addr}/api/data/v9.2/accounts");
    // Warm both.
    let _ = hammer(&http, &point_url, &token, 0.5).await?;
    let _ = hammer(&http, &floor_url, &token, 0.5).await?;
    let point = hammer(&http, &point_url, &token, point_secs).await?;
    let http_floor = hammer(&http, &floor_url, &token, point_secs).await?;
    let by_key = hammer(&http, &key_url, &token, point_secs).await?;
    let by_key_select = hammer(&http, &key_select_url, &token, point_secs).await?;
    floor_task.abort();
    let point_sql = statement_profile(&http, &point_url, &token, 200).await?;
    let key_sql = statement_profile(&http, &key_url, &token, 200).await?;
    for (what, prof) in [("$filter", &point_sql), ("retrieve by key", &key_sql)] {
        for (sql, secs) in prof {
            println!("{what}: median {:.0} µs  {sql}", secs * 1e6);
        }
    }
    let mut plan_conn = floor_connection(&dir).await?;
    for (sql, _) in point_sql.iter().chain(&key_sql) {
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
        for _ in 0..sql.matches('?').count() {
            q = q.bind(Option::<String>::None);
        }
        let plan = q.fetch_all(&mut plan_conn).await?;
        println!("plan: {}", plan.iter().map(|r| r.3.as_str()).collect::<Vec<_>>().join(" | "));
    }
    plan_conn.close().await?;
    let point_parts = point_breakdown(&dir, &point_sql, &point_url, &token).await?;
    emu.shutdown().await;

    // 7. The table.
    let ratio = floor_rows_per_sec / median_pass.rows_per_sec();
    let point_ratio = http_floor.0 / point.0;
    let mut t = String::new();
    let _ = writeln!(t, "\n| measurement | emulator | floor (same run) | ratio | goal |");
    let _ = writeln!(t, "|---|---|---|---|---|");
    if let Some(secs) = load_secs {
        let _ = writeln!(
            t,
            "| bulk insert of {} accounts (sqlx, {INSERT_BATCH} rows per INSERT, {TX_ROWS} per transaction) | {secs:.1} s, {} rows/s, {:.0} MiB | — | — | (not a goal) |",
            rate(ROWS as f64),
            rate(ROWS as f64 / secs),
            db_bytes as f64 / 1048576.0
        );
    }
    let _ = writeln!(
        t,
        "| paging {} rows, `odata.maxpagesize={PAGE_SIZE}`, median of {WARM_PASSES} warm passes | {} rows/s ({}) | {} rows/s ({}; of which sqlx query + decode {}, SQLite alone {}) | {ratio:.2}× | ≤ 2×: **{}** |",
        rate(PAGED_ROWS as f64),
        rate(median_pass.rows_per_sec()),
        ms(median_pass.elapsed),
        rate(floor_rows_per_sec),
        ms(floor.elapsed),
        ms(floor_sql),
        ms(engine),
        if ratio <= 2.0 { "met" } else { "not met" }
    );
    let _ = writeln!(
        t,
        "| same, first pass after restart | {} rows/s ({}) | | {:.2}× | |",
        rate(cold.rows_per_sec()),
        ms(cold.elapsed),
        floor_rows_per_sec / cold.rows_per_sec()
    );
    // Flat: the last pass peaks no higher than the first one (+5 %), i.e. nothing accumulates.
    let first_peak = cold.max_rss();
    let last_peak = warm.last().map_or(0, Pass::max_rss);
    let flat = last_peak as f64 <= first_peak as f64 * 1.05;
    let under = hwm_paging < 200_000_000 / 1024;
    let _ = writeln!(
        t,
        "| RSS while paging ({} passes): before → max sampled per page → after; VmHWM | {} → {} → {}; VmHWM {}; peak of first pass {}, of last pass {} | RSS before the floor: {} | | flat: **{}**; < 200 MB: **{}** |",
        1 + WARM_PASSES,
        mib(rss_before),
        mib(max_rss_sampled),
        mib(rss_after),
        mib(hwm_paging),
        mib(first_peak),
        mib(last_peak),
        mib(rss_before_floor),
        if flat { "met" } else { "not met" },
        if under { "met" } else { "not met" }
    );
    let _ = writeln!(
        t,
        "| `accounts?$select=name&$filter=accountnumber eq '{POINT_KEY}'`, sequential, {point_secs:.0} s | {} req/s, p50 {}, p99 {} | {} req/s, p50 {}, p99 {} (axum, captured bytes) | {point_ratio:.2}× | |",
        rate(point.0),
        us(point.1),
        us(point.2),
        rate(http_floor.0),
        us(http_floor.1),
        us(http_floor.2)
    );
    let _ = writeln!(
        t,
        "| `accounts(accountnumber='{POINT_KEY}')` (all columns), sequential | {} req/s, p50 {}, p99 {} | | {:.2}× | |",
        rate(by_key.0),
        us(by_key.1),
        us(by_key.2),
        http_floor.0 / by_key.0
    );
    let _ = writeln!(
        t,
        "| `accounts(accountnumber='{POINT_KEY}')?$select=name`, sequential | {} req/s, p50 {}, p99 {} | | {:.2}× | |",
        rate(by_key_select.0),
        us(by_key_select.1),
        us(by_key_select.2),
        http_floor.0 / by_key_select.0
    );
    print!("{t}");
    println!("\nkeyset page statement (the emulator's SQL, run directly; median of 3; 5001 rows):");
    println!("| cursor at row | as the emulator writes it | with a redundant `\"name\" >= ?` |");
    println!("|---|---|---|");
    for (at, plain, seek) in &keyset {
        println!("| {} | {} | {} |", rate(*at as f64), ms(*plain), ms(*seek));
    }
    println!("\npoint query `$filter` pieces (same process, emulator idle):");
    for (what, d) in &point_parts {
        println!("- {what}: {}", us(*d));
    }
    println!("\nrun took {:.0} s", run_started.elapsed().as_secs_f64());
    Ok(())
}
