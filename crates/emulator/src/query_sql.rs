//! The query IR ([`dataverse::query`]) lowered to SQL with sea-query (spec §3.2–3.4).
//!
//! - Comparisons bind the literal converted to the column's storage ([`crate::rows`]); text
//!   columns are `COLLATE NOCASE`, so `eq`, `lt`… and ordering ignore ASCII case.
//! - `eq null` / `ne null` are `IS NULL` / `IS NOT NULL`; any other comparison with a NULL column
//!   is false, and so is its negation (SQL three-valued logic, as SQL Server behind Dataverse).
//! - `contains`/`startswith`/`endswith` become `lower(col) GLOB pattern`: in the value `%` is any
//!   run of characters, `_` one character, `[abc]`, `[a-z]` and `[^abc]` character classes, as
//!   Dataverse's LIKE wildcards (spec §3.2); `*` and `?` are literal; an unclosed `[` is literal.
//!   Case is folded for ASCII letters only (SQLite's `lower` and `NOCASE` are ASCII-only).
//! - Money is stored as ten-thousandths: literals are scaled exactly (bound as REAL only when a
//!   literal has more than four decimals); decimals compare as `CAST(col AS REAL)`.
//! - Navigation paths, `any`/`all` and the query functions: [`navigation`], [`functions`].
//!
//! Every column is qualified with the alias of the table it belongs to: the query's own table
//! is addressed by its name (it is never aliased in `FROM`), and each table a subquery brings in
//! (a navigation hop, a lambda's related rows, a hierarchy walk) gets a fresh alias `_tN` (a
//! name no logical name can take, as those start with a letter). A lambda's predicate is built in
//! the scope of its related table, so nested lambdas and paths inside it start from there.

pub(crate) mod aggregate;
mod dates;
pub(crate) mod fetch;
mod functions;
mod navigation;

pub(crate) use navigation::polymorphic;

use crate::decimal;
use crate::rows::{Cell, normalize_date, normalize_datetime};
use chrono::{DateTime, Utc};
use dataverse::error::DataverseError;
use dataverse::metadata::{Column, ColumnType, Schema, Table};
use dataverse::query::{CompareOp, Filter, Hop, Literal, Operand, OrderBy, TextFunction};
use sea_query::{Alias, BinOper, Expr, ExprTrait as _, Func};
use uuid::Uuid;

/// What a filter is evaluated against besides the rows: the schema (navigation properties,
/// hierarchies), the request's clock and its caller (spec §3.2.1 user and date functions).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    /// All tables and relationships.
    pub(crate) schema: &'a Schema,
    /// The request's "now".
    pub(crate) now: DateTime<Utc>,
    /// The calling application user's `systemuserid`.
    pub(crate) user: Uuid,
    /// The caller's business unit (the root one: the emulator has no other).
    pub(crate) business_unit: Uuid,
    /// The default team of the caller's business unit: the one team every user is a member of.
    pub(crate) default_team: Uuid,
}

fn unknown(table: &Table, name: &str) -> DataverseError {
    DataverseError::bad_request(format!(
        "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
        table.logical_name
    ))
}

fn column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, DataverseError> {
    table.column(name).ok_or_else(|| unknown(table, name))
}

/// A table as it appears in a statement: its metadata and the name its columns are qualified
/// with.
#[derive(Debug, Clone)]
pub(crate) struct Scope<'a> {
    /// The table.
    pub(crate) table: &'a Table,
    /// The table's name or alias in the statement.
    alias: String,
}

impl<'a> Scope<'a> {
    /// The query's own table, addressed by its name.
    pub(crate) fn root(table: &'a Table) -> Self {
        Scope { table, alias: table.logical_name.clone() }
    }

    /// A column of this table, qualified.
    fn col(&self, name: &str) -> Expr {
        Expr::col((Alias::new(self.alias.clone()), Alias::new(name)))
    }
}

/// Builds the SQL of filters, handing out table aliases.
#[derive(Debug)]
pub(crate) struct Sql<'a> {
    env: &'a Env<'a>,
    aliases: u32,
}

/// One side of a comparison: a column (of the scope's table, or reached through a navigation
/// path) or a literal.
enum Side<'a, 'o> {
    Column { expr: Expr, column: &'a Column, table: &'a str },
    Value(&'o Literal),
}

impl<'a> Sql<'a> {
    /// A builder for one statement.
    pub(crate) fn new(env: &'a Env<'a>) -> Self {
        Sql { env, aliases: 0 }
    }

    /// A fresh table alias.
    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("_t{}", self.aliases)
    }

    /// A table of the schema by logical name.
    fn table(&self, logical: &str) -> Result<&'a Table, DataverseError> {
        self.env
            .schema
            .table(logical)
            .ok_or_else(|| DataverseError::bad_request(format!("The table '{logical}' does not exist")))
    }

    /// The SQL expression of a filter over the rows of `scope`.
    pub(crate) fn filter(&mut self, scope: &Scope<'a>, filter: &Filter) -> Result<Expr, DataverseError> {
        Ok(match filter {
            Filter::And(a, b) => self.filter(scope, a)?.and(self.filter(scope, b)?),
            Filter::Or(a, b) => self.filter(scope, a)?.or(self.filter(scope, b)?),
            Filter::Not(a) => self.filter(scope, a)?.not(),
            Filter::Text { function, path, column: name, value } => {
                let expr = if path.is_empty() {
                    column(scope.table, name)?;
                    scope.col(name)
                } else {
                    self.related(scope, path, name)?.0
                };
                Expr::expr(Func::lower(expr)).binary(BinOper::Custom("GLOB"), Expr::val(glob_pattern(*function, value)))
            }
            Filter::Compare { left, op, right } => self.compare(scope, left, *op, right)?,
            Filter::Function { function, column, values } => self.function(scope, *function, column, values)?,
            Filter::Any { navigation, predicate, .. } => {
                self.lambda(scope, navigation, predicate.as_ref().map(|(_, p)| p.as_ref()), false)?
            }
            Filter::All { navigation, predicate, .. } => self.lambda(scope, navigation, Some(predicate), true)?,
        })
    }

    fn side<'o>(&mut self, scope: &Scope<'a>, operand: &'o Operand) -> Result<Side<'a, 'o>, DataverseError> {
        Ok(match operand {
            Operand::Column(name) => Side::Column {
                expr: scope.col(name),
                column: column(scope.table, name)?,
                table: &scope.table.logical_name,
            },
            Operand::Related { path, column } => {
                let (expr, column, table) = self.related(scope, path, column)?;
                Side::Column { expr, column, table: &table.logical_name }
            }
            Operand::Value(v) => Side::Value(v),
        })
    }

    fn compare(
        &mut self,
        scope: &Scope<'a>,
        left: &Operand,
        op: CompareOp,
        right: &Operand,
    ) -> Result<Expr, DataverseError> {
        match (self.side(scope, left)?, self.side(scope, right)?) {
            (Side::Column { expr: a, column: ca, .. }, Side::Column { expr: b, column: cb, .. }) => {
                Ok(apply(numeric_expr(a, ca), op, numeric_expr(b, cb)))
            }
            (Side::Column { expr, column, table }, Side::Value(v)) => column_literal(table, expr, column, op, v),
            (Side::Value(v), Side::Column { expr, column, table }) => column_literal(table, expr, column, flip(op), v),
            (Side::Value(_), Side::Value(_)) => {
                Err(DataverseError::bad_request("A comparison must name at least one column"))
            }
        }
    }
}

/// The SQL expression of a filter over the rows of `table` (addressed by its name).
pub(crate) fn filter_expr(env: &Env<'_>, table: &Table, filter: &Filter) -> Result<Expr, DataverseError> {
    Sql::new(env).filter(&Scope::root(table), filter)
}

fn column_literal(table: &str, expr: Expr, col: &Column, op: CompareOp, lit: &Literal) -> Result<Expr, DataverseError> {
    let lhs = value_expr(expr, col);
    if *lit == Literal::Null {
        return match op {
            CompareOp::Eq => Ok(lhs.is_null()),
            CompareOp::Ne => Ok(lhs.is_not_null()),
            _ => Err(DataverseError::bad_request(format!(
                "The operator '{}' cannot compare '{}' with null",
                op.keyword(),
                col.logical_name
            ))),
        };
    }
    let cell = literal_cell(col, lit).ok_or_else(|| {
        DataverseError::bad_request(format!(
            "A binary operator with incompatible types was detected on column '{}' of {table}.",
            col.logical_name
        ))
    })?;
    Ok(apply(lhs, op, Expr::val(cell.to_sql())))
}

/// A literal as the cell it is compared with, or `None` when the types do not fit.
pub(crate) fn literal_cell(col: &Column, lit: &Literal) -> Option<Cell> {
    let number_text = |lit: &Literal| match lit {
        Literal::Integer(i) => Some(i.to_string()),
        Literal::Decimal(t) => Some(t.clone()),
        _ => None,
    };
    Some(match (&col.kind, lit) {
        (ColumnType::String { .. } | ColumnType::Memo { .. }, Literal::String(s)) => Cell::Text(s.clone()),
        (
            ColumnType::Integer
            | ColumnType::BigInt
            | ColumnType::Picklist { .. }
            | ColumnType::State { .. }
            | ColumnType::Status { .. },
            Literal::Integer(i),
        ) => Cell::Int(*i),
        (ColumnType::Boolean { .. }, Literal::Boolean(b)) => Cell::Int(i64::from(*b)),
        (ColumnType::Double | ColumnType::Decimal, l) => Cell::Real(number_text(l)?.parse().ok()?),
        (ColumnType::Money, l) => {
            let text = number_text(l)?;
            let exact = decimal::scaled(&text, decimal::MONEY_SCALE)
                .filter(|_| decimal::is_exact(&text, decimal::MONEY_SCALE))
                .and_then(|u| i64::try_from(u).ok());
            match exact {
                Some(units) => Cell::Int(units),
                None => Cell::Real(text.parse::<f64>().ok()? * 10_000.0),
            }
        }
        (ColumnType::DateTime, Literal::DateTime(t) | Literal::Date(t)) => Cell::Text(normalize_datetime(t)?),
        (ColumnType::DateOnly, Literal::DateTime(t) | Literal::Date(t)) => Cell::Text(normalize_date(t)?),
        (ColumnType::Uniqueidentifier | ColumnType::Lookup { .. }, Literal::Guid(g)) => Cell::Text(g.to_string()),
        _ => return None,
    })
}

fn real(expr: Expr) -> Expr {
    Expr::expr(Func::cast_as(expr, Alias::new("REAL")))
}

/// A column's value as compared with literals (decimals as REAL).
fn value_expr(expr: Expr, col: &Column) -> Expr {
    if col.kind == ColumnType::Decimal { real(expr) } else { expr }
}

/// A column as a comparable number where storage differs (money units, decimal text).
fn numeric_expr(expr: Expr, col: &Column) -> Expr {
    match col.kind {
        ColumnType::Money => expr.div(Expr::val(10_000.0)),
        ColumnType::Decimal => real(expr),
        _ => expr,
    }
}

fn apply(lhs: Expr, op: CompareOp, rhs: Expr) -> Expr {
    match op {
        CompareOp::Eq => lhs.eq(rhs),
        CompareOp::Ne => lhs.ne(rhs),
        CompareOp::Gt => lhs.gt(rhs),
        CompareOp::Ge => lhs.gte(rhs),
        CompareOp::Lt => lhs.lt(rhs),
        CompareOp::Le => lhs.lte(rhs),
    }
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        other => other,
    }
}

/// One `$orderby` term as SQL (spec §3.3): what the page selects to build the next
/// `$skiptoken` (`read`), what it sorts and compares keyset values with (`order`), and the
/// column whose type those values have.
///
/// - A column of the query's table sorts by its value (decimals as REAL).
/// - A column reached through single-valued navigation (`primarycontactid/fullname`) sorts by
///   the correlated subquery of [`navigation`]: rows without a related row sort as NULL.
/// - A lookup column sorts by the primary name of the row it points at, as Dataverse does
///   ("Order rows using OData": "the results are sorted using the primary name field for the
///   related table"); a lookup to several tables takes the name from whichever it points at.
#[derive(Debug, Clone)]
pub(crate) struct SortKey<'a> {
    /// The value selected for the cookie.
    pub(crate) read: Expr,
    /// The value sorted and compared.
    pub(crate) order: Expr,
    /// The column the values belong to (a lookup's target primary name for lookups).
    pub(crate) column: &'a Column,
}

/// The SQL of one sort term over the rows of `table` (addressed by its name).
pub(crate) fn sort_key<'a>(env: &'a Env<'a>, table: &'a Table, o: &OrderBy) -> Result<SortKey<'a>, DataverseError> {
    let mut sql = Sql::new(env);
    let scope = Scope::root(table);
    let (read, col) = if o.path.is_empty() {
        (scope.col(&o.column), column(table, &o.column)?)
    } else {
        let (expr, col, _) = sql.related(&scope, &o.path, &o.column)?;
        (expr, col)
    };
    let ColumnType::Lookup { targets } = &col.kind else {
        return Ok(SortKey { order: value_expr(read.clone(), col), read, column: col });
    };
    let mut names = Vec::with_capacity(targets.len());
    let mut name_column = None;
    for target in targets {
        let mut path = o.path.clone();
        path.push(Hop { navigation: o.column.clone(), column: o.column.clone(), table: target.clone() });
        let target_table = sql.table(target)?;
        let (expr, c, _) = sql.related(&scope, &path, &target_table.primary_name)?;
        names.push(expr);
        name_column.get_or_insert(c);
    }
    let column =
        name_column.ok_or_else(|| DataverseError::bad_request(format!("{} points at no table", col.logical_name)))?;
    let read = if names.len() == 1 {
        names.remove(0)
    } else {
        Expr::cust_with_expr("? COLLATE NOCASE", Func::coalesce(names))
    };
    Ok(SortKey { order: read.clone(), read, column })
}

/// The primary key as the final, unique sort term.
pub(crate) fn primary_key_sort(table: &Table) -> Result<SortKey<'_>, DataverseError> {
    let col = column(table, &table.primary_id)?;
    let read = Scope::root(table).col(&table.primary_id);
    Ok(SortKey { order: read.clone(), read, column: col })
}

/// The GLOB pattern for a Dataverse text function value (see the module doc).
pub(crate) fn glob_pattern(function: TextFunction, value: &str) -> String {
    let mut out = String::new();
    if function != TextFunction::StartsWith {
        out.push('*');
    }
    let chars: Vec<char> = value.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => {
                // A class runs to the next `]` after at least one member (`[]]` holds `]`).
                let start = i + 1 + usize::from(chars.get(i + 1) == Some(&'^'));
                match chars.iter().skip(start + 1).position(|&c| c == ']').map(|p| p + start + 1) {
                    Some(close) => {
                        out.extend(&chars[i..=close]);
                        i = close;
                    }
                    None => out.push_str("[[]"),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    if function != TextFunction::EndsWith {
        out.push('*');
    }
    out
}

#[cfg(test)]
mod tests;
