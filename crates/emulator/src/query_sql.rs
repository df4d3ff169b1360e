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

use crate::decimal;
use crate::rows::{Cell, normalize_date, normalize_datetime};
use dataverse::error::DataverseError;
use dataverse::metadata::{Column, ColumnType, Table};
use dataverse::query::{CompareOp, Filter, Literal, Operand, TextFunction};
use sea_query::{Alias, BinOper, Expr, ExprTrait as _, Func};

fn unknown(table: &Table, name: &str) -> DataverseError {
    DataverseError::bad_request(format!(
        "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
        table.logical_name
    ))
}

fn column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, DataverseError> {
    table.column(name).ok_or_else(|| unknown(table, name))
}

/// The SQL expression of a filter.
pub(crate) fn filter_expr(table: &Table, filter: &Filter) -> Result<Expr, DataverseError> {
    Ok(match filter {
        Filter::And(a, b) => filter_expr(table, a)?.and(filter_expr(table, b)?),
        Filter::Or(a, b) => filter_expr(table, a)?.or(filter_expr(table, b)?),
        Filter::Not(a) => filter_expr(table, a)?.not(),
        Filter::Text { function, column: name, value } => {
            column(table, name)?;
            Expr::expr(Func::lower(Expr::col(name.clone())))
                .binary(BinOper::Custom("GLOB"), Expr::val(glob_pattern(*function, value)))
        }
        Filter::Compare { left, op, right } => compare(table, left, *op, right)?,
        Filter::Function { function, .. } => {
            return Err(DataverseError::new(
                501,
                dataverse::error::codes::ODATA_PARSE,
                format!("the query function {} is not supported by the emulator yet", function.name()),
            ));
        }
        Filter::Any { .. } | Filter::All { .. } => {
            return Err(DataverseError::new(
                501,
                dataverse::error::codes::ODATA_PARSE,
                "lambda operators are not supported by the emulator yet",
            ));
        }
    })
}

fn compare(table: &Table, left: &Operand, op: CompareOp, right: &Operand) -> Result<Expr, DataverseError> {
    match (left, right) {
        (Operand::Column(a), Operand::Column(b)) => {
            let (a, b) = (column(table, a)?, column(table, b)?);
            Ok(apply(numeric_expr(a), op, numeric_expr(b)))
        }
        (Operand::Column(c), Operand::Value(v)) => column_literal(table, column(table, c)?, op, v),
        (Operand::Value(v), Operand::Column(c)) => column_literal(table, column(table, c)?, flip(op), v),
        (Operand::Related { .. }, _) | (_, Operand::Related { .. }) => Err(DataverseError::new(
            501,
            dataverse::error::codes::ODATA_PARSE,
            "navigation paths in $filter are not supported by the emulator yet",
        )),
        (Operand::Value(_), Operand::Value(_)) => {
            Err(DataverseError::bad_request("A comparison must name at least one column"))
        }
    }
}

fn column_literal(table: &Table, col: &Column, op: CompareOp, lit: &Literal) -> Result<Expr, DataverseError> {
    let lhs = if col.kind == ColumnType::Decimal { real(col) } else { Expr::col(col.logical_name.clone()) };
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
            "A binary operator with incompatible types was detected on column '{}' of {}.",
            col.logical_name, table.logical_name
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

fn real(col: &Column) -> Expr {
    Expr::expr(Func::cast_as(Expr::col(col.logical_name.clone()), Alias::new("REAL")))
}

/// A column as a comparable number where storage differs (money units, decimal text).
fn numeric_expr(col: &Column) -> Expr {
    match col.kind {
        ColumnType::Money => Expr::col(col.logical_name.clone()).div(Expr::val(10_000.0)),
        ColumnType::Decimal => real(col),
        _ => Expr::col(col.logical_name.clone()),
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

/// A column as it is sorted and compared in keyset predicates (decimals as REAL).
pub(crate) fn sort_expr(col: &Column) -> Expr {
    if col.kind == ColumnType::Decimal { real(col) } else { Expr::col(col.logical_name.clone()) }
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
mod tests {
    use super::*;
    use dataverse::Schema;
    use sea_query::{Query, SqliteQueryBuilder};

    #[test]
    fn glob_patterns() {
        assert_eq!(glob_pattern(TextFunction::Contains, "Sample"), "*sample*");
        assert_eq!(glob_pattern(TextFunction::StartsWith, "a%b_c"), "a*b?c*");
        assert_eq!(glob_pattern(TextFunction::EndsWith, "Inc."), "*inc.");
        assert_eq!(glob_pattern(TextFunction::Contains, "[A-C]x"), "*[a-c]x*");
        assert_eq!(glob_pattern(TextFunction::Contains, "[^a]"), "*[^a]*");
        assert_eq!(glob_pattern(TextFunction::Contains, "a[b"), "*a[[]b*");
        assert_eq!(glob_pattern(TextFunction::Contains, "*?"), "*[*][?]*");
        assert_eq!(glob_pattern(TextFunction::Contains, "[]]"), "*[]]*");
    }

    #[test]
    fn values_are_bound_never_inlined() {
        let schema = Schema::standard();
        let table = schema.table("account").unwrap();
        let filter = Filter::Compare {
            left: Operand::Column("name".into()),
            op: CompareOp::Eq,
            right: Operand::Value(Literal::String("x' OR 1=1 --".into())),
        };
        let expr = filter_expr(table, &filter).unwrap();
        let (sql, values) = Query::select().column("name").from("account").and_where(expr).build(SqliteQueryBuilder);
        assert_eq!(sql, r#"SELECT "name" FROM "account" WHERE "name" = ?"#);
        assert_eq!(values.0.len(), 1);
    }

    #[test]
    fn money_literals_scale_exactly() {
        let schema = Schema::standard();
        let revenue = schema.table("account").unwrap().column("revenue").unwrap();
        assert_eq!(literal_cell(revenue, &Literal::Integer(5)), Some(Cell::Int(50_000)));
        assert_eq!(literal_cell(revenue, &Literal::Decimal("1.25".into())), Some(Cell::Int(12_500)));
        assert_eq!(literal_cell(revenue, &Literal::Decimal("0.00005".into())), Some(Cell::Real(0.5)));
    }
}
