//! `$expand` (spec §3.6) on collection queries and retrieves: related rows read with one query
//! per expansion per page of parent rows (`WHERE key IN (…)`, in chunks of 10,000 ids), never
//! one per row, and attached in memory.
//!
//! - Single-valued (`primarycontactid($select=fullname;$expand=createdby(…))`): the related row
//!   as a nested object, `null` when the lookup is empty, points at another table (a polymorphic
//!   lookup expanded through `parentcustomerid_account` while it points at a contact) or at a
//!   row that no longer exists. Nested expansions go to any depth (the parser allows ten
//!   expansions in all).
//! - Collection-valued (`contact_customer_accounts($select=fullname;$filter=…;$orderby=…;
//!   $top=2)`): an array of the rows whose lookup points at the parent row (for a polymorphic
//!   lookup, whose `@type` names the parent's table) or, for an N:N navigation property
//!   (`accountleads_association`), that the intersect table pairs with it, filtered, ordered by `$orderby` then the
//!   primary key, and cut to `$top` per parent row in memory; without `$top` at most 5000 rows
//!   per parent row.
//! - `nav/$ref`: single-valued `{"@odata.id": "{base}/{set}({id})"}` built from the lookup's
//!   value (no query), or `null`; the lookup's `_x_value` is added to the row's columns (spec
//!   §3.6). Collection-valued: an array of `{"@odata.id": …}`, in primary key order.
//! - Related rows are shaped like any row ([`crate::annotations`]): `@odata.etag`, the primary
//!   key, `_transactioncurrencyid_value` with money columns, and the annotations asked for.
//! - Expanded navigation properties follow the row's columns, in `$expand` order.

use crate::annotations::{Include, Shape, shape};
use crate::query_sql::{Env, filter_expr, polymorphic, primary_key_sort, sort_key};
use crate::read::{MAX_ROWS, RawRow, projection, raw_row, sql_columns};
use crate::response::{Base, db_error};
use crate::rows::{Cell, lookup_type_column};
use crate::store::statement;
use dataverse::error::DataverseError;
use dataverse::json::{Object, Value};
use dataverse::metadata::{Column, Navigation, Table};
use dataverse::query::Expand;
use sea_query::{Expr, ExprTrait as _, JoinType, Order, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::{Row as _, SqliteConnection};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

/// Most ids bound in one `IN (…)` list (SQLite allows 32766 variables).
const IN_CHUNK: usize = 10_000;

/// The columns read for rows of a table: the shown ones first, then hidden ones expansions need
/// (lookups followed by single-valued expansions, the lookup grouping collection-valued ones).
#[derive(Debug, Clone)]
pub(crate) struct Columns<'t> {
    /// Every column read, shown ones first.
    pub(crate) all: Vec<&'t Column>,
    /// How many of `all` the response shows.
    pub(crate) shown: usize,
}

impl<'t> Columns<'t> {
    /// The shown columns.
    pub(crate) fn shown(&self) -> &[&'t Column] {
        &self.all[..self.shown.min(self.all.len())]
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.all.iter().position(|c| c.logical_name == name)
    }
}

/// The columns read for `table` shown with `select` and expanded with `expand`, plus `extra`
/// (hidden unless shown anyway).
pub(crate) fn columns<'t>(
    env: &Env<'_>,
    table: &'t Table,
    select: &[String],
    expand: &[Expand],
    extra: Option<&str>,
) -> Columns<'t> {
    let lookup = |e: &Expand| match env.schema.navigation(&table.logical_name, &e.navigation) {
        Some(Navigation::Single { column, .. }) => Some(column.to_owned()),
        _ => None,
    };
    let mut shown_select = select.to_vec();
    if !select.is_empty() {
        shown_select.extend(expand.iter().filter(|e| e.refs_only).filter_map(lookup));
    }
    let mut all = projection(table, &shown_select);
    let shown = all.len();
    let hidden = expand.iter().filter(|e| !e.refs_only).filter_map(lookup).chain(extra.map(str::to_owned));
    for name in hidden {
        if let Some(c) = table.column(&name)
            && !all.iter().any(|o| o.logical_name == c.logical_name)
        {
            all.push(c);
        }
    }
    Columns { all, shown }
}

/// How the rows of a collection-valued expansion are tied to their parent rows.
#[derive(Debug, Clone, Copy)]
enum Via<'a> {
    /// 1:N: the related rows' lookup column.
    Lookup(&'a str),
    /// N:N: the pairs of the intersect table (own side, other side).
    Intersect {
        /// The intersect table.
        table: &'a str,
        /// Its column holding the parent row's id.
        own: &'a str,
        /// Its column holding the related row's id.
        other: &'a str,
    },
}

/// Alias of the pairs subquery of an N:N expansion and its columns (no logical name starts
/// with `_`).
const PAIRS: &str = "_pairs";
const PARENT: &str = "_parent";
const RELATED: &str = "_related";

/// What attaching expansions needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expander<'a> {
    /// The filter environment (schema, clock, caller).
    pub(crate) env: &'a Env<'a>,
    /// The annotations asked for.
    pub(crate) include: &'a Include,
    /// Where `@odata.id` links point.
    pub(crate) base: &'a Base,
    /// The org's base currency (money formatting).
    pub(crate) base_currency: Uuid,
}

type Attached<'s> = Pin<Box<dyn Future<Output = Result<(), DataverseError>> + Send + 's>>;

fn internal(what: &str) -> DataverseError {
    tracing::error!(what, "expanding related rows failed");
    DataverseError::new(500, dataverse::error::codes::UNEXPECTED, "An unexpected error occurred.")
}

fn text_at(row: &RawRow, i: Option<usize>) -> Option<&str> {
    i.and_then(|i| row.cells.get(i)).and_then(Cell::as_text)
}

impl Expander<'_> {
    fn table(&self, logical: &str) -> Result<&Table, DataverseError> {
        self.env.schema.table(logical).ok_or_else(|| internal("unknown related table"))
    }

    fn reference(&self, table: &Table, id: &str) -> Value {
        let mut o = Object::new();
        o.insert("@odata.id", Value::String(format!("{}/{}({id})", self.base.0, table.set_name)));
        Value::Object(o)
    }

    /// Shapes `rows` of `table` read with `cols`, with their own expansions.
    async fn objects(
        &self,
        conn: &mut SqliteConnection,
        table: &Table,
        cols: &Columns<'_>,
        expand: &[Expand],
        rows: &[RawRow],
    ) -> Result<Vec<Object>, DataverseError> {
        let s = Shape {
            schema: self.env.schema,
            table,
            columns: cols.shown(),
            include: self.include,
            base_currency: self.base_currency,
        };
        let mut objects = shape(conn, &s, rows).await?;
        self.attach(conn, table, cols, expand, rows, &mut objects).await?;
        Ok(objects)
    }

    /// Adds each expansion of `expand` to `objects`, the shaped `rows` of `table` read with
    /// `cols`.
    pub(crate) fn attach<'s>(
        &'s self,
        conn: &'s mut SqliteConnection,
        table: &'s Table,
        cols: &'s Columns<'_>,
        expand: &'s [Expand],
        rows: &'s [RawRow],
        objects: &'s mut [Object],
    ) -> Attached<'s> {
        Box::pin(async move {
            for e in expand {
                let values = match self.env.schema.navigation(&table.logical_name, &e.navigation) {
                    Some(Navigation::Single { column, target, .. }) => {
                        self.single(conn, cols, e, column, target, rows).await?
                    }
                    Some(Navigation::Collection { column, target, .. }) => {
                        self.collection(conn, table, cols, e, Via::Lookup(column), target, rows).await?
                    }
                    Some(Navigation::Many { relationship, own_column, target_column, target }) => {
                        let via =
                            Via::Intersect { table: &relationship.intersect, own: own_column, other: target_column };
                        self.collection(conn, table, cols, e, via, target, rows).await?
                    }
                    None => return Err(internal("unknown navigation property")),
                };
                for (object, value) in objects.iter_mut().zip(values) {
                    object.insert(e.navigation.clone(), value);
                }
            }
            Ok(())
        })
    }

    /// A single-valued expansion: one value per parent row (see the module doc).
    async fn single(
        &self,
        conn: &mut SqliteConnection,
        cols: &Columns<'_>,
        e: &Expand,
        lookup: &str,
        target: &str,
        rows: &[RawRow],
    ) -> Result<Vec<Value>, DataverseError> {
        let related = self.table(target)?;
        let at = cols.position(lookup);
        let ids: Vec<Option<&str>> = rows
            .iter()
            .map(|r| {
                let points_here =
                    at.and_then(|i| r.targets.get(i)).is_none_or(|t| t.as_deref().is_none_or(|t| t == target));
                text_at(r, at).filter(|_| points_here)
            })
            .collect();
        if e.refs_only {
            return Ok(ids.iter().map(|id| id.map_or(Value::Null, |id| self.reference(related, id))).collect());
        }
        let rc = columns(self.env, related, &e.select, &e.expand, None);
        let wanted: BTreeSet<String> = ids.iter().flatten().map(|id| (*id).to_owned()).collect();
        let wanted: Vec<&String> = wanted.iter().collect();
        let mut found = Vec::new();
        for chunk in wanted.chunks(IN_CHUNK) {
            let q = sea_query::Query::select()
                .columns(sql_columns(&rc.all))
                .from(related.logical_name.clone())
                .and_where(Expr::col(related.primary_id.clone()).is_in(chunk.iter().map(|id| (*id).clone())))
                .build_sqlx(SqliteQueryBuilder);
            for row in statement(q).fetch_all(&mut *conn).await.map_err(db_error)? {
                found.push(raw_row(&rc.all, &[], &row).map_err(db_error)?);
            }
        }
        let objects = self.objects(conn, related, &rc, &e.expand, &found).await?;
        let pk = rc.position(&related.primary_id);
        let by_id: HashMap<&str, Object> =
            found.iter().zip(objects).filter_map(|(r, o)| text_at(r, pk).map(|id| (id, o))).collect();
        Ok(ids
            .iter()
            .map(|id| id.and_then(|id| by_id.get(id)).map_or(Value::Null, |o| Value::Object(o.clone())))
            .collect())
    }

    /// A collection-valued expansion: one array per parent row (see the module doc).
    #[allow(clippy::too_many_arguments)]
    async fn collection(
        &self,
        conn: &mut SqliteConnection,
        table: &Table,
        cols: &Columns<'_>,
        e: &Expand,
        via: Via<'_>,
        target: &str,
        rows: &[RawRow],
    ) -> Result<Vec<Value>, DataverseError> {
        let related = self.table(target)?;
        let select = if e.refs_only { vec![related.primary_id.clone()] } else { e.select.clone() };
        let lookup = match via {
            Via::Lookup(lookup) => Some(lookup),
            Via::Intersect { .. } => None,
        };
        let rc = columns(self.env, related, &select, &e.expand, lookup);
        let parent_pk = cols.position(&table.primary_id);
        let parents: Vec<Option<&str>> = rows.iter().map(|r| text_at(r, parent_pk)).collect();
        let wanted: BTreeSet<&str> = parents.iter().flatten().copied().collect();
        let wanted: Vec<&str> = wanted.into_iter().collect();
        let polymorphic = lookup.and_then(|l| related.column(l)).is_some_and(polymorphic);
        let mut order = Vec::with_capacity(e.orderby.len() + 1);
        for o in &e.orderby {
            order.push((sort_key(self.env, related, o)?.order, if o.descending { Order::Desc } else { Order::Asc }));
        }
        order.push((primary_key_sort(related)?.order, Order::Asc));
        let filter = match (&e.filter, e.refs_only) {
            (Some(f), false) => Some(filter_expr(self.env, related, f)?),
            _ => None,
        };
        let cap = std::cmp::min(e.top.unwrap_or(MAX_ROWS), MAX_ROWS) as usize;
        let at = lookup.map(|l| rc.position(l));
        let mut kept: Vec<RawRow> = Vec::new();
        let mut per_parent: HashMap<String, Vec<usize>> = HashMap::new();
        for chunk in wanted.chunks(IN_CHUNK) {
            let mut q = sea_query::Query::select();
            let parents = chunk.iter().map(|id| (*id).to_owned());
            q.columns(sql_columns(&rc.all)).from(related.logical_name.clone());
            match via {
                Via::Lookup(lookup) => {
                    q.and_where(Expr::col(lookup.to_owned()).is_in(parents));
                    if polymorphic {
                        q.and_where(Expr::col(lookup_type_column(lookup)).eq(table.logical_name.clone()));
                    }
                }
                // The pairs under names no logical name can take, so the unqualified related
                // columns stay unambiguous.
                Via::Intersect { table: intersect, own, other } => {
                    let pairs = sea_query::Query::select()
                        .expr_as(Expr::col(own.to_owned()), PARENT)
                        .expr_as(Expr::col(other.to_owned()), RELATED)
                        .from(intersect.to_owned())
                        .and_where(Expr::col(own.to_owned()).is_in(parents))
                        .to_owned();
                    q.expr(Expr::col((PAIRS, PARENT))).join_subquery(
                        JoinType::InnerJoin,
                        pairs,
                        PAIRS,
                        Expr::col((PAIRS, RELATED)).equals((related.logical_name.clone(), related.primary_id.clone())),
                    );
                }
            }
            if let Some(f) = &filter {
                q.and_where(f.clone());
            }
            for (expr, direction) in &order {
                q.order_by_expr(expr.clone(), direction.clone());
            }
            for row in statement(q.build_sqlx(SqliteQueryBuilder)).fetch_all(&mut *conn).await.map_err(db_error)? {
                let raw = raw_row(&rc.all, &[], &row).map_err(db_error)?;
                let parent = match at {
                    Some(at) => text_at(&raw, at).map(str::to_owned),
                    None => row.try_get::<Option<String>, _>(PARENT).map_err(db_error)?,
                };
                let Some(parent) = parent else { continue };
                let slots = per_parent.entry(parent).or_default();
                if slots.len() < cap {
                    slots.push(kept.len());
                    kept.push(raw);
                }
            }
        }
        let mut objects: Vec<Option<Value>> = if e.refs_only {
            let pk = rc.position(&related.primary_id);
            kept.iter().map(|r| text_at(r, pk).map(|id| self.reference(related, id))).collect()
        } else {
            self.objects(conn, related, &rc, &e.expand, &kept)
                .await?
                .into_iter()
                .map(|o| Some(Value::Object(o)))
                .collect()
        };
        Ok(parents
            .iter()
            .map(|p| {
                let slots = p.and_then(|p| per_parent.get(p)).map(Vec::as_slice).unwrap_or_default();
                Value::Array(slots.iter().filter_map(|&i| objects.get_mut(i).and_then(Option::take)).collect())
            })
            .collect())
    }
}
