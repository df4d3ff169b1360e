//! An [`Aggregation`] (spec §3.11) as one `SELECT … GROUP BY` statement, and the result
//! columns it reads.
//!
//! - Group keys of the table are its columns (a lookup also groups by its hidden `@type` column,
//!   so the formatted value can name the row); keys through navigation paths are the same
//!   scalar subqueries `$filter` paths use ([`super::navigation`]).
//! - `sum` of whole numbers and money adds stored integers (exact); `average` of money is
//!   rounded to the ten-thousandth money is stored with; decimals are aggregated as `REAL` and
//!   shown with their ten decimals; `average` of whole numbers is a double (**unconfirmed**:
//!   SQL Server's `AVG` of an int column truncates).
//! - Groups are ordered by `$orderby` (group keys only), else by every key ascending, so the
//!   answer is deterministic.

use super::{Env, Scope, Sql, column};
use crate::read::MAX_ROWS;
use crate::rows::{Cell, lookup_type_column};
use dataverse::error::DataverseError;
use dataverse::metadata::{Column, ColumnType, RequiredLevel, Table};
use dataverse::query::{AggregateFunction, Aggregation, DatePart};
use sea_query::{Alias, Expr, Func, Order, SelectStatement};

/// One value of each result row.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// The result column (`_r0`, `_r1`…).
    pub(crate) alias: String,
    /// How the value is read: REAL for aggregates computed as doubles, else the column's class.
    pub(crate) read_real: bool,
    /// The value as shown: its property name (`logical_name`; a lookup key shows as
    /// `_x_value`) and type.
    pub(crate) column: Column,
    /// For a lookup key of the table: the result column holding the target table.
    pub(crate) target_alias: Option<String>,
}

impl Slot {
    /// A value read as REAL, in the storage of the column shown (money units, decimal text).
    pub(crate) fn fit(&self, cell: Cell) -> Cell {
        match (&self.column.kind, cell) {
            (ColumnType::Decimal, Cell::Real(f)) => Cell::Text(format!("{f:.10}")),
            (ColumnType::Money, Cell::Real(f)) => Cell::Int(f.round() as i64),
            (_, cell) => cell,
        }
    }
}

/// A column shown under `name` with type `kind`.
fn shown(name: String, kind: ColumnType) -> Column {
    Column { logical_name: name, kind, required: RequiredLevel::None, valid_for_create: false, valid_for_update: false }
}

/// The statement and its slots: the group keys first, then the aggregates.
pub(crate) fn statement(
    env: &Env<'_>,
    table: &Table,
    a: &Aggregation,
) -> Result<(SelectStatement, Vec<Slot>), DataverseError> {
    let mut sql = Sql::new(env);
    let scope = Scope::root(table);
    let mut q = sea_query::Query::select();
    q.from(table.logical_name.clone());
    let mut slots = Vec::new();
    let mut key_exprs = Vec::new();
    for (i, key) in a.group_by.iter().enumerate() {
        let alias = format!("_r{}", slots.len());
        let slot = if let Some(part) = key.date_part.filter(|_| key.path.is_empty()) {
            // FetchXML's dategrouping: a part of the stored UTC text, as a whole number.
            column(table, &key.column)?;
            // The stored text is `YYYY-MM-DDTHH:MM:SSZ`; identifiers come from the schema.
            let col = format!("\"{}\".\"{}\"", scope.alias, key.column);
            let expr = Expr::cust(match part {
                DatePart::Year => format!("CAST(substr({col}, 1, 4) AS INTEGER)"),
                DatePart::Month => format!("CAST(substr({col}, 6, 2) AS INTEGER)"),
                DatePart::Day => format!("CAST(substr({col}, 9, 2) AS INTEGER)"),
                DatePart::Week => format!("CAST(strftime('%W', substr({col}, 1, 10)) AS INTEGER)"),
                DatePart::Quarter => format!("((CAST(substr({col}, 6, 2) AS INTEGER) + 2) / 3)"),
            });
            q.expr_as(expr.clone(), Alias::new(alias.clone()));
            q.add_group_by([expr.clone()]);
            key_exprs.push(expr);
            let name = key.output_name(env.schema, &table.logical_name);
            Slot { alias, read_real: false, column: shown(name, ColumnType::Integer), target_alias: None }
        } else if key.path.is_empty() {
            let c = column(table, &key.column)?;
            q.expr_as(scope.col(&key.column), Alias::new(alias.clone()));
            q.add_group_by([scope.col(&key.column)]);
            let target_alias = c.is_lookup().then(|| {
                let t = format!("_y{i}");
                let type_col = scope.col(&lookup_type_column(&key.column));
                q.expr_as(type_col.clone(), Alias::new(t.clone()));
                q.add_group_by([type_col]);
                t
            });
            key_exprs.push(scope.col(&key.column));
            let mut shown_column = c.clone();
            if let Some(a) = &key.alias {
                // A FetchXML alias names the key in the answer.
                shown_column.logical_name = a.clone();
                if shown_column.is_lookup() {
                    shown_column.kind = ColumnType::Uniqueidentifier;
                }
            }
            Slot {
                alias,
                read_real: false,
                column: shown_column,
                target_alias: target_alias.filter(|_| key.alias.is_none()),
            }
        } else {
            let (expr, c, _) = sql.related(&scope, &key.path, &key.column)?;
            q.expr_as(expr.clone(), Alias::new(alias.clone()));
            q.add_group_by([expr.clone()]);
            key_exprs.push(expr);
            let kind = if c.is_lookup() { ColumnType::Uniqueidentifier } else { c.kind.clone() };
            Slot {
                alias,
                read_real: false,
                column: shown(key.output_name(env.schema, &table.logical_name), kind),
                target_alias: None,
            }
        };
        slots.push(slot);
    }
    for g in &a.aggregates {
        let alias = format!("_r{}", slots.len());
        let c = g.column.as_deref().map(|name| column(table, name)).transpose()?;
        let col = g.column.as_deref().map(|name| scope.col(name));
        let real = |e: Expr| Expr::expr(Func::cast_as(e, Alias::new("REAL")));
        let (expr, read_real, kind) = match (g.function, c.map(|c| &c.kind), col) {
            (AggregateFunction::Count, _, _) => (Expr::expr(Func::count(Expr::cust("*"))), false, ColumnType::BigInt),
            (AggregateFunction::CountColumn, _, Some(e)) => (Expr::expr(Func::count(e)), false, ColumnType::BigInt),
            (AggregateFunction::CountDistinct, _, Some(e)) => {
                (Expr::expr(Func::count_distinct(e)), false, ColumnType::BigInt)
            }
            (_, None, _) | (_, _, None) => {
                return Err(DataverseError::bad_request(format!("The aggregate '{}' names no column", g.alias)));
            }
            (AggregateFunction::Sum, Some(ColumnType::Integer | ColumnType::BigInt), Some(e)) => {
                (Expr::expr(Func::sum(e)), false, ColumnType::BigInt)
            }
            (AggregateFunction::Average, Some(ColumnType::Integer | ColumnType::BigInt), Some(e)) => {
                (Expr::expr(Func::avg(e)), true, ColumnType::Double)
            }
            (AggregateFunction::Sum, Some(k @ (ColumnType::Money | ColumnType::Double)), Some(e)) => {
                (Expr::expr(Func::sum(e)), *k == ColumnType::Double, k.clone())
            }
            (AggregateFunction::Average, Some(k @ (ColumnType::Money | ColumnType::Double)), Some(e)) => {
                (Expr::expr(Func::avg(e)), true, k.clone())
            }
            (f, Some(ColumnType::Decimal), Some(e)) => {
                let e = real(e);
                let expr = match f {
                    AggregateFunction::Sum => Func::sum(e),
                    AggregateFunction::Average => Func::avg(e),
                    AggregateFunction::Min => Func::min(e),
                    _ => Func::max(e),
                };
                (Expr::expr(expr), true, ColumnType::Decimal)
            }
            (AggregateFunction::Min, Some(k), Some(e)) => (Expr::expr(Func::min(e)), false, k.clone()),
            (_, Some(k), Some(e)) => {
                if !matches!(g.function, AggregateFunction::Max) {
                    return Err(DataverseError::bad_request(format!(
                        "The aggregate '{}' does not apply to its column",
                        g.alias
                    )));
                }
                (Expr::expr(Func::max(e)), false, k.clone())
            }
        };
        q.expr_as(expr, Alias::new(alias.clone()));
        slots.push(Slot { alias, read_real, column: shown(g.alias.clone(), kind), target_alias: None });
    }
    if let Some(f) = &a.filter {
        q.and_where(sql.filter(&scope, f)?);
    }
    if a.orderby.is_empty() {
        for e in &key_exprs {
            q.order_by_expr(e.clone(), Order::Asc);
        }
    } else {
        for o in &a.orderby {
            let i = a.group_by.iter().position(|k| k.is(o)).ok_or_else(|| {
                DataverseError::bad_request("The query node SingleValueOpenPropertyAccess is not supported")
            })?;
            q.order_by_expr(key_exprs[i].clone(), if o.descending { Order::Desc } else { Order::Asc });
        }
    }
    q.limit(u64::from(a.top.map_or(MAX_ROWS, |t| std::cmp::min(t, MAX_ROWS))));
    Ok((q, slots))
}
