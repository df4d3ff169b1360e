//! Rows as JSON, with the instance annotations `Prefer: odata.include-annotations` asks for
//! (spec §1.4, §3.9, §3.10).
//!
//! - A name is included when a listed pattern matches it: the exact name, `*`, or a prefix
//!   ending in `*` (`Microsoft.Dynamics.CRM.*`), compared ignoring ASCII case; a pattern
//!   prefixed with `-` excludes what it matches (OData's form), and exclusions win.
//! - Every annotation precedes the property it annotates (spec §3.10); a lookup's come in the
//!   docs' order: `associatednavigationproperty`, `lookuplogicalname`, `FormattedValue`.
//! - NULL values get no annotations.
//! - `lookuplogicalname` is the table the row points at (the hidden `{lookup}@type` column);
//!   `associatednavigationproperty` is the referencing navigation property of the relationship
//!   behind the lookup (for polymorphic lookups the one whose referenced table is that target,
//!   `parentcustomerid_account`); a lookup without relationship metadata (`ownerid`) gets its
//!   own logical name, Dataverse's navigation name for those.
//! - A lookup's formatted value is the referenced row's primary name, read with one query per
//!   referenced table for the whole page; money is formatted with the currency of the row's
//!   `transactioncurrencyid` (the org's base currency when it has none), read the same way.
//!   Other formats: [`format`](mod@format).

mod format;

use crate::read::{RawRow, etag};
use crate::response::db_error;
use crate::rows::{Cell, to_json};
use crate::store::statement;
use dataverse::error::DataverseError;
use dataverse::json::{Object, Value};
use dataverse::metadata::{Column, ColumnType, Schema, Table};
use format::Currency;
use sea_query::{Expr, ExprTrait as _, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::{Row as _, SqliteConnection};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// `OData.Community.Display.V1.FormattedValue` (spec §3.9).
pub(crate) const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
/// `Microsoft.Dynamics.CRM.lookuplogicalname` (spec §3.10).
pub(crate) const LOOKUP_LOGICAL_NAME: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";
/// `Microsoft.Dynamics.CRM.associatednavigationproperty` (spec §3.10).
pub(crate) const ASSOCIATED_NAVIGATION: &str = "Microsoft.Dynamics.CRM.associatednavigationproperty";
/// `Microsoft.Dynamics.CRM.totalrecordcount` (spec §3.7).
pub(crate) const TOTAL_RECORD_COUNT: &str = "Microsoft.Dynamics.CRM.totalrecordcount";
/// `Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded` (spec §3.7).
pub(crate) const TOTAL_RECORD_COUNT_LIMIT_EXCEEDED: &str = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded";

/// Most ids bound in one `IN (…)` list (SQLite allows 32766 variables).
const IN_CHUNK: usize = 10_000;

/// The annotations a request asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Include(Option<Vec<String>>);

impl Include {
    /// From `Prefer: odata.include-annotations` (absent = none).
    pub(crate) fn new(list: Option<&Vec<String>>) -> Include {
        Include(list.cloned())
    }

    /// Whether the annotation `name` is asked for.
    pub(crate) fn wants(&self, name: &str) -> bool {
        let Some(patterns) = &self.0 else { return false };
        let matches = |pattern: &str| {
            pattern == "*"
                || pattern.eq_ignore_ascii_case(name)
                || pattern.strip_suffix('*').is_some_and(|prefix| {
                    name.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
                })
        };
        let mut included = false;
        for p in patterns {
            match p.strip_prefix('-') {
                Some(excluded) if matches(excluded) => return false,
                Some(_) => {}
                None => included |= matches(p),
            }
        }
        included
    }

    /// `odata.include-annotations="…"` echoing the request's list, for `Preference-Applied`.
    pub(crate) fn preference(&self) -> Option<String> {
        self.0.as_ref().map(|names| format!("odata.include-annotations=\"{}\"", names.join(",")))
    }
}

/// What shaping rows needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape<'a> {
    /// All tables and relationships.
    pub(crate) schema: &'a Schema,
    /// The rows' table.
    pub(crate) table: &'a Table,
    /// The projected columns, in the order of [`RawRow::cells`].
    pub(crate) columns: &'a [&'a Column],
    /// The annotations asked for.
    pub(crate) include: &'a Include,
    /// The org's base currency, for money on rows without a currency.
    pub(crate) base_currency: Uuid,
}

/// Names and currencies read for one page.
#[derive(Debug, Default)]
struct Resolved {
    /// (table, id) → primary name.
    names: HashMap<(String, String), String>,
    /// Currency id → currency.
    currencies: HashMap<String, Currency>,
}

/// The rows as JSON objects, annotated as asked.
pub(crate) async fn shape(
    conn: &mut SqliteConnection,
    s: &Shape<'_>,
    rows: &[RawRow],
) -> Result<Vec<Object>, DataverseError> {
    let mut resolved = Resolved::default();
    if s.include.wants(FORMATTED) {
        resolved.names = primary_names(conn, s, rows).await?;
        if s.columns.iter().any(|c| c.kind == ColumnType::Money) {
            resolved.currencies = currencies(conn, s, rows).await?;
        }
    }
    Ok(rows.iter().map(|r| shape_row(s, r, &resolved)).collect())
}

/// The target table of lookup `i` of a row: its stored type, else the only target.
fn target<'r>(column: &'r Column, row: &'r RawRow, i: usize) -> Option<&'r str> {
    match (row.targets.get(i).and_then(Option::as_deref), &column.kind) {
        (Some(t), _) => Some(t),
        (None, ColumnType::Lookup { targets }) if targets.len() == 1 => targets.first().map(String::as_str),
        _ => None,
    }
}

/// The single-valued navigation property behind a lookup (see the module doc).
fn navigation(schema: &Schema, table: &Table, column: &Column, target: &str) -> String {
    let mut rels = schema
        .relationships()
        .iter()
        .filter(|r| r.referencing_table == table.logical_name && r.referencing_column == column.logical_name);
    let single = matches!(&column.kind, ColumnType::Lookup { targets } if targets.len() == 1);
    let found = if single { rels.next() } else { rels.find(|r| r.referenced_table == target) };
    found.map_or_else(|| column.logical_name.clone(), |r| r.referencing_nav.clone())
}

fn shape_row(s: &Shape<'_>, row: &RawRow, resolved: &Resolved) -> Object {
    let formatted = s.include.wants(FORMATTED);
    let currency = if formatted {
        let id = s
            .columns
            .iter()
            .position(|c| c.logical_name == "transactioncurrencyid")
            .and_then(|i| row.cells.get(i))
            .and_then(Cell::as_text)
            .map_or_else(|| s.base_currency.to_string(), str::to_owned);
        resolved.currencies.get(&id)
    } else {
        None
    };
    let mut object = Object::new();
    object.insert("@odata.etag", Value::String(etag(row.version)));
    for (i, (column, cell)) in s.columns.iter().zip(&row.cells).enumerate() {
        let name = column.odata_name();
        if *cell != Cell::Null {
            if column.is_lookup() {
                if let Some(t) = target(column, row, i) {
                    if s.include.wants(ASSOCIATED_NAVIGATION) {
                        let nav = navigation(s.schema, s.table, column, t);
                        object.insert(format!("{name}@{ASSOCIATED_NAVIGATION}"), Value::String(nav));
                    }
                    if s.include.wants(LOOKUP_LOGICAL_NAME) {
                        object.insert(format!("{name}@{LOOKUP_LOGICAL_NAME}"), Value::from(t));
                    }
                    let key = (t.to_owned(), cell.as_text().unwrap_or_default().to_owned());
                    if let Some(n) = resolved.names.get(&key).filter(|_| formatted) {
                        object.insert(format!("{name}@{FORMATTED}"), Value::String(n.clone()));
                    }
                }
            } else if let Some(text) = formatted.then(|| format::formatted(column, cell, currency)).flatten() {
                object.insert(format!("{name}@{FORMATTED}"), Value::String(text));
            }
        }
        object.insert(name, to_json(column, cell));
    }
    object
}

/// `SELECT {key}, {columns…} FROM {table} WHERE {key} IN (ids)`, in chunks.
async fn read_by_ids(
    conn: &mut SqliteConnection,
    table: &Table,
    columns: &[&str],
    ids: &BTreeSet<String>,
) -> Result<Vec<sqlx::sqlite::SqliteRow>, DataverseError> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let q = sea_query::Query::select()
            .column(table.primary_id.clone())
            .columns(columns.iter().map(|c| (*c).to_owned()))
            .from(table.logical_name.clone())
            .and_where(Expr::col(table.primary_id.clone()).is_in(chunk.iter().map(|id| (*id).clone())))
            .build_sqlx(SqliteQueryBuilder);
        out.extend(statement(q).fetch_all(&mut *conn).await.map_err(db_error)?);
    }
    Ok(out)
}

/// The primary names of every row the page's lookups point at: one query per table.
async fn primary_names(
    conn: &mut SqliteConnection,
    s: &Shape<'_>,
    rows: &[RawRow],
) -> Result<HashMap<(String, String), String>, DataverseError> {
    let mut wanted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        for (i, (column, cell)) in s.columns.iter().zip(&row.cells).enumerate() {
            if let (true, Some(id), Some(t)) = (column.is_lookup(), cell.as_text(), target(column, row, i)) {
                wanted.entry(t).or_default().insert(id.to_owned());
            }
        }
    }
    let mut names = HashMap::new();
    for (logical, ids) in wanted {
        let Some(table) = s.schema.table(logical) else { continue };
        for row in read_by_ids(conn, table, &[table.primary_name.as_str()], &ids).await? {
            let id: String = row.try_get(0).map_err(db_error)?;
            if let Some(name) = row.try_get::<Option<String>, _>(1).map_err(db_error)? {
                names.insert((logical.to_owned(), id), name);
            }
        }
    }
    Ok(names)
}

/// The currencies of the page's rows (and the base currency): one query.
async fn currencies(
    conn: &mut SqliteConnection,
    s: &Shape<'_>,
    rows: &[RawRow],
) -> Result<HashMap<String, Currency>, DataverseError> {
    let Some(table) = s.schema.table("transactioncurrency") else { return Ok(HashMap::new()) };
    let mut ids: BTreeSet<String> = BTreeSet::from([s.base_currency.to_string()]);
    if let Some(i) = s.columns.iter().position(|c| c.logical_name == "transactioncurrencyid") {
        ids.extend(rows.iter().filter_map(|r| r.cells.get(i).and_then(Cell::as_text)).map(str::to_owned));
    }
    let mut out = HashMap::new();
    for row in read_by_ids(conn, table, &["currencysymbol", "currencyprecision"], &ids).await? {
        let id: String = row.try_get(0).map_err(db_error)?;
        let symbol = row.try_get::<Option<String>, _>(1).map_err(db_error)?.unwrap_or_default();
        let precision = row.try_get::<Option<i64>, _>(2).map_err(db_error)?.unwrap_or(2);
        out.insert(id, Currency { symbol, precision: u32::try_from(precision.clamp(0, 4)).unwrap_or(2) });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn include(list: &[&str]) -> Include {
        Include::new(Some(&list.iter().map(|s| (*s).to_owned()).collect()))
    }

    #[test]
    fn patterns_match_names() {
        assert!(!Include::default().wants(FORMATTED));
        assert!(include(&["*"]).wants(FORMATTED));
        assert!(include(&["*"]).wants(TOTAL_RECORD_COUNT));
        assert!(include(&[FORMATTED]).wants(FORMATTED));
        assert!(include(&["odata.community.display.v1.formattedvalue"]).wants(FORMATTED));
        assert!(!include(&[FORMATTED]).wants(LOOKUP_LOGICAL_NAME));
        let crm = include(&["Microsoft.Dynamics.CRM.*"]);
        assert!(crm.wants(LOOKUP_LOGICAL_NAME) && crm.wants(ASSOCIATED_NAVIGATION) && crm.wants(TOTAL_RECORD_COUNT));
        assert!(!crm.wants(FORMATTED));
        assert!(include(&["Microsoft.Dynamics.CRM.lookuplogicalname"]).wants(LOOKUP_LOGICAL_NAME));
        assert!(!include(&["Microsoft.Dynamics.CRM.lookuplogicalname"]).wants(ASSOCIATED_NAVIGATION));
        let all_but = include(&["*", "-OData.Community.Display.V1.FormattedValue"]);
        assert!(!all_but.wants(FORMATTED) && all_but.wants(LOOKUP_LOGICAL_NAME));
        assert_eq!(
            include(&["*", "Microsoft.Dynamics.CRM.*"]).preference().as_deref(),
            Some("odata.include-annotations=\"*,Microsoft.Dynamics.CRM.*\"")
        );
        assert_eq!(Include::default().preference(), None);
    }

    #[test]
    fn navigation_properties_follow_relationships() {
        let schema = Schema::standard();
        let contact = schema.table("contact").unwrap();
        let parent = contact.column("parentcustomerid").unwrap();
        assert_eq!(navigation(&schema, contact, parent, "account"), "parentcustomerid_account");
        assert_eq!(navigation(&schema, contact, parent, "contact"), "parentcustomerid_contact");
        let account = schema.table("account").unwrap();
        let primary = account.column("primarycontactid").unwrap();
        assert_eq!(navigation(&schema, account, primary, "contact"), "primarycontactid");
        let owner = account.column("ownerid").unwrap();
        assert_eq!(navigation(&schema, account, owner, "systemuser"), "ownerid");
    }
}
