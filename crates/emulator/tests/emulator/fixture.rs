//! A small CRM graph with lookups, for navigation filters and `$expand`.
//!
//! The Web API cannot set lookups yet (the parser refuses `@odata.bind`), so the fixture runs
//! the emulator on a data directory and writes lookups straight into its SQLite file, in the
//! storage form `rows.rs` documents: the lookup column holds the id, the hidden `{lookup}@type`
//! column the target table.

use crate::common::{Emu, config, spawn_with};
use emulator::Storage;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use std::collections::HashMap;
use std::time::Duration;

/// The emulator's database, opened next to it.
pub struct Db {
    pool: SqlitePool,
    _dir: tempfile::TempDir,
}

impl Db {
    /// Points `table(id).lookup` at `target(target_id)`.
    pub async fn link(&self, table: &str, id: &str, lookup: &str, target: &str, target_id: &str) {
        let sql = format!(r#"UPDATE "{table}" SET "{lookup}" = ?, "{lookup}@type" = ? WHERE "{table}id" = ?"#);
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(target_id)
            .bind(target)
            .bind(id)
            .execute(&self.pool)
            .await
            .expect("link");
        assert_eq!(done.rows_affected(), 1, "{table}({id}) exists");
    }
}

/// An emulator on a fresh data directory, and its database.
pub async fn spawn_with_db() -> (Emu, Db) {
    let dir = tempfile::tempdir().unwrap();
    let e = spawn_with(config(Storage::Dir(dir.path().to_owned()))).await;
    let options =
        SqliteConnectOptions::new().filename(dir.path().join("emulator.sqlite")).busy_timeout(Duration::from_secs(10));
    let pool = SqlitePool::connect_with(options).await.expect("open the emulator's database");
    (e, Db { pool, _dir: dir })
}

/// The CRM graph:
/// - accounts Contoso (500 employees), Fabrikam (50), Northwind (5, parent account Contoso),
///   Litware (no employees given, nothing related);
/// - contacts Nancy Davolio (CEO, of Contoso), Andrew Fuller (Buyer, of Contoso), Janet
///   Leverling (no job title, of Fabrikam), Steven Buchanan (CEO, whose parent customer is the
///   contact Nancy), Margaret Peacock (no parent customer);
/// - primary contacts: Contoso → Nancy, Fabrikam → Janet;
/// - cases "Printer offline" (customer Contoso), "Invoice wrong" (customer Andrew), "Delivery
///   damaged" (customer Nancy), and "Mislabeled", whose customer id is Fabrikam's while its
///   `@type` says contact (no contact has that id).
pub struct Crm {
    pub e: Emu,
    pub db: Db,
    ids: HashMap<&'static str, String>,
}

impl Crm {
    /// The id of a row by the name the fixture gave it.
    pub fn id(&self, name: &str) -> &str {
        self.ids.get(name).unwrap_or_else(|| panic!("no fixture row {name}"))
    }
}

pub async fn crm() -> Crm {
    let (e, db) = spawn_with_db().await;
    let mut ids = HashMap::new();
    for (name, employees) in
        [("Contoso", json!(500)), ("Fabrikam", json!(50)), ("Northwind", json!(5)), ("Litware", Value::Null)]
    {
        ids.insert(name, e.create("accounts", json!({"name": name, "numberofemployees": employees})).await);
    }
    for (name, first, last, job) in [
        ("Nancy", "Nancy", "Davolio", json!("CEO")),
        ("Andrew", "Andrew", "Fuller", json!("Buyer")),
        ("Janet", "Janet", "Leverling", Value::Null),
        ("Steven", "Steven", "Buchanan", json!("CEO")),
        ("Margaret", "Margaret", "Peacock", Value::Null),
    ] {
        ids.insert(name, e.create("contacts", json!({"firstname": first, "lastname": last, "jobtitle": job})).await);
    }
    for title in ["Printer offline", "Invoice wrong", "Delivery damaged", "Mislabeled"] {
        ids.insert(title, e.create("incidents", json!({"title": title})).await);
    }
    let crm = Crm { e, db, ids };
    let links = [
        ("contact", "Nancy", "parentcustomerid", "account", "Contoso"),
        ("contact", "Andrew", "parentcustomerid", "account", "Contoso"),
        ("contact", "Janet", "parentcustomerid", "account", "Fabrikam"),
        ("contact", "Steven", "parentcustomerid", "contact", "Nancy"),
        ("account", "Contoso", "primarycontactid", "contact", "Nancy"),
        ("account", "Fabrikam", "primarycontactid", "contact", "Janet"),
        ("account", "Northwind", "parentaccountid", "account", "Contoso"),
        ("incident", "Printer offline", "customerid", "account", "Contoso"),
        ("incident", "Invoice wrong", "customerid", "contact", "Andrew"),
        ("incident", "Delivery damaged", "customerid", "contact", "Nancy"),
        ("incident", "Mislabeled", "customerid", "contact", "Fabrikam"),
    ];
    for (table, row, lookup, target, to) in links {
        crm.db.link(table, crm.id(row), lookup, target, crm.id(to)).await;
    }
    crm
}

/// The values of `field` in a collection answer, in order.
pub fn column(v: &Value, field: &str) -> Vec<String> {
    v["value"].as_array().unwrap().iter().map(|r| r[field].as_str().unwrap_or("<null>").to_owned()).collect()
}
