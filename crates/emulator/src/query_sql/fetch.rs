//! A FetchXML query ([`dataverse::fetch::Fetch`], spec §4) as one `SELECT`:
//!
//! - `inner` and `outer` links are `JOIN` / `LEFT JOIN` on `linked.from = parent.to` (and the
//!   hidden `@type` column when either side is a polymorphic lookup), each linked table under its
//!   own alias `_fN`; the link's filters go into its `ON` clause, so an outer link keeps rows
//!   without a match. Its columns come back as `_fN_{column}`.
//! - `exists`/`in`/`any` links are `EXISTS (…)` subqueries, `not any` `NOT EXISTS (…)`; links
//!   nested in them are nested `EXISTS` (an outer one inside changes nothing and is left out).
//! - Conditions are lowered to the query IR ([`dataverse::fetch::lower_filter`]) and built by
//!   [`Sql::filter`] in the scope of their entity, so every operator behaves as its OData twin.
//! - Order: the `order` elements, entity by entity, then the primary key; `distinct` selects only
//!   the listed attributes.

use super::{Env, Scope, Sql, column};
use crate::rows::lookup_type_column;
use dataverse::error::DataverseError;
use dataverse::fetch::{Fetch, FetchEntity, LinkKind, lower_filter};
use dataverse::metadata::{Column, Table};
use sea_query::{Alias, Expr, ExprTrait as _, JoinType, Order, SelectStatement};

/// The columns a linked table returns.
#[derive(Debug)]
pub(crate) struct LinkColumns<'a> {
    /// The prefix of its properties (`contact` in `contact.fullname`).
    pub(crate) alias: String,
    /// Its table.
    pub(crate) table: &'a Table,
    /// Its columns, each read from `{sql}_{logical name}`.
    pub(crate) columns: Vec<&'a Column>,
    /// The SQL alias of the table (`_f1`).
    pub(crate) sql: String,
}

/// The statement and what it returns.
pub(crate) struct FetchStatement<'a> {
    pub(crate) statement: SelectStatement,
    /// The root table's columns, read by logical name.
    pub(crate) columns: Vec<&'a Column>,
    /// Linked tables' columns.
    pub(crate) links: Vec<LinkColumns<'a>>,
}

fn bad(m: dataverse::fetch::FetchError) -> DataverseError {
    match m {
        dataverse::fetch::FetchError::Invalid(m) | dataverse::fetch::FetchError::Unsupported(m) => {
            DataverseError::bad_request(m)
        }
    }
}

/// The columns an entity element returns.
fn returned<'t>(table: &'t Table, e: &FetchEntity) -> Result<Vec<&'t Column>, DataverseError> {
    if e.all_attributes {
        return Ok(table.columns.iter().collect());
    }
    e.attributes.iter().map(|a| column(table, &a.name)).collect()
}

struct Builder<'a, 'e> {
    sql: Sql<'a>,
    env: &'a Env<'a>,
    next: usize,
    aliases: std::vec::IntoIter<(String, String)>,
    orders: Vec<(Expr, bool)>,
    links: Vec<LinkColumns<'a>>,
    _e: std::marker::PhantomData<&'e ()>,
}

impl<'a> Builder<'a, '_> {
    fn table(&self, name: &str) -> Result<&'a Table, DataverseError> {
        self.env
            .schema
            .table(name)
            .ok_or_else(|| DataverseError::bad_request(format!("The entity '{name}' does not exist")))
    }

    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("_f{}", self.next)
    }

    /// `linked.from = parent.to`, with the target table checked on a polymorphic side.
    fn on(&self, parent: &Scope<'a>, linked: &Scope<'a>, from: &str, to: &str) -> Result<Expr, DataverseError> {
        let mut on = linked.col(from).eq(parent.col(to));
        for (scope, col, other) in [(parent, to, linked), (linked, from, parent)] {
            if super::polymorphic(column(scope.table, col)?) {
                on = on.and(scope.col(&lookup_type_column(col)).eq(other.table.logical_name.clone()));
            }
        }
        Ok(on)
    }

    /// The entity's filters as one expression in its scope.
    fn filters(&mut self, scope: &Scope<'a>, e: &FetchEntity) -> Result<Option<Expr>, DataverseError> {
        let mut out: Option<Expr> = None;
        for f in &e.filters {
            if let Some(filter) = lower_filter(f, self.env.schema, scope.table).map_err(bad)? {
                let expr = self.sql.filter(scope, &filter)?;
                out = Some(match out {
                    None => expr,
                    Some(prev) => prev.and(expr),
                });
            }
        }
        Ok(out)
    }

    /// Joins, columns, conditions and orders of `e`'s links into `q` (or into `where_` for the
    /// `EXISTS` kinds).
    fn links(&mut self, q: &mut SelectStatement, parent: &Scope<'a>, e: &FetchEntity) -> Result<(), DataverseError> {
        for l in &e.links {
            let (alias, _) = self.aliases.next().unwrap_or_default();
            let table = self.table(&l.entity.table)?;
            let linked = Scope { table, alias: self.fresh() };
            let on = self.on(parent, &linked, &l.from, &l.to)?;
            match l.kind {
                LinkKind::Inner | LinkKind::Outer => {
                    let mut on = on;
                    if let Some(f) = self.filters(&linked, &l.entity)? {
                        on = on.and(f);
                    }
                    let join = if l.kind == LinkKind::Inner { JoinType::InnerJoin } else { JoinType::LeftJoin };
                    q.join_as(join, Alias::new(table.logical_name.clone()), Alias::new(linked.alias.clone()), on);
                    let columns = returned(table, &l.entity)?;
                    for c in &columns {
                        q.expr_as(
                            linked.col(&c.logical_name),
                            Alias::new(format!("{}_{}", linked.alias, c.logical_name)),
                        );
                        if c.is_lookup() {
                            let t = lookup_type_column(&c.logical_name);
                            q.expr_as(linked.col(&t), Alias::new(format!("{}_{t}", linked.alias)));
                        }
                    }
                    for o in &l.entity.orders {
                        if let Some(c) = &o.attribute {
                            self.orders.push((linked.col(c), o.descending));
                        }
                    }
                    self.links.push(LinkColumns { alias, table, columns, sql: linked.alias.clone() });
                    self.links(q, &linked, &l.entity)?;
                }
                LinkKind::Exists | LinkKind::NotAny => {
                    let exists = self.exists(&linked, on, &l.entity)?;
                    q.and_where(if l.kind == LinkKind::Exists { exists } else { exists.not() });
                }
            }
        }
        Ok(())
    }

    /// `EXISTS (SELECT 1 FROM linked WHERE on AND its filters AND its nested links)`.
    fn exists(&mut self, linked: &Scope<'a>, on: Expr, e: &FetchEntity) -> Result<Expr, DataverseError> {
        let mut sub = sea_query::Query::select();
        sub.expr(Expr::cust("1"))
            .from_as(Alias::new(linked.table.logical_name.clone()), Alias::new(linked.alias.clone()))
            .and_where(on);
        if let Some(f) = self.filters(linked, e)? {
            sub.and_where(f);
        }
        for l in &e.links {
            // Nested links keep their aliases' places in document order.
            let _ = self.aliases.next();
            let table = self.table(&l.entity.table)?;
            let inner = Scope { table, alias: self.fresh() };
            let on = self.on(linked, &inner, &l.from, &l.to)?;
            match l.kind {
                LinkKind::Outer => {}
                LinkKind::NotAny => {
                    sub.and_where(self.exists(&inner, on, &l.entity)?.not());
                }
                LinkKind::Inner | LinkKind::Exists => {
                    sub.and_where(self.exists(&inner, on, &l.entity)?);
                }
            }
        }
        Ok(Expr::exists(sub))
    }
}

/// The statement of a FetchXML query over `table`, without paging (the caller adds `LIMIT`).
pub(crate) fn statement<'a>(
    env: &'a Env<'a>,
    table: &'a Table,
    f: &Fetch,
) -> Result<FetchStatement<'a>, DataverseError> {
    let root = Scope::root(table);
    let mut q = sea_query::Query::select();
    q.from(table.logical_name.clone());
    let mut columns = returned(table, &f.root)?;
    if !f.distinct && !columns.iter().any(|c| c.logical_name == table.primary_id) {
        columns.push(column(table, &table.primary_id)?);
    }
    let mut names: Vec<String> = Vec::new();
    for c in &columns {
        names.push(c.logical_name.clone());
        if c.is_lookup() {
            names.push(lookup_type_column(&c.logical_name));
        }
    }
    if !f.distinct {
        names.push("versionnumber".into());
    }
    names.dedup();
    for n in &names {
        q.expr_as(root.col(n), Alias::new(n.clone()));
    }
    let mut b = Builder {
        sql: Sql::new(env),
        env,
        next: 0,
        aliases: dataverse::fetch::link_aliases(f).into_iter(),
        orders: f.root.orders.iter().filter_map(|o| Some((root.col(o.attribute.as_ref()?), o.descending))).collect(),
        links: Vec::new(),
        _e: std::marker::PhantomData,
    };
    if let Some(filter) = b.filters(&root, &f.root)? {
        q.and_where(filter);
    }
    b.links(&mut q, &root, &f.root)?;
    if f.distinct {
        q.distinct();
    }
    for (e, desc) in std::mem::take(&mut b.orders) {
        q.order_by_expr(e, if desc { Order::Desc } else { Order::Asc });
    }
    if !f.distinct {
        q.order_by_expr(root.col(&table.primary_id), Order::Asc);
    }
    Ok(FetchStatement { statement: q, columns, links: b.links })
}
