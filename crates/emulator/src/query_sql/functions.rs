//! Dataverse query functions (`Microsoft.Dynamics.CRM.*`, spec §3.2.1) as SQL.
//!
//! - Date functions compare the column with instants computed from the request's clock
//!   ([`super::dates`]); a date-only column compares with the dates those instants fall on
//!   (`>= t` becomes `>=` the first date whose midnight is not before `t`).
//! - `Between`/`NotBetween` (two values, inclusive) and `In`/`NotIn`: values arrive as strings
//!   or numbers and are converted to the column's type (numbers from strings, dates as
//!   `YYYY-MM-DD` or ISO date-times, GUIDs); a value that does not fit is 400 `0x0`. On a
//!   date-time column a date-only upper bound of `Between` includes that whole day. Text
//!   compares ignoring ASCII case, as `eq` does. `NotBetween`/`NotIn` never match NULL (as `ne`).
//! - `EqualUserId`/`NotEqualUserId`: the calling application user; `EqualBusinessId`/
//!   `NotEqualBusinessId`: its business unit (the root one). `EqualUserTeams`: the teams the
//!   user is a member of; the emulator keeps no team memberships, so that is the default team of
//!   the root business unit, of which Dataverse makes every user a member.
//!   `EqualUserOrUserTeams`: the user or those teams. `EqualUserOrUserHierarchy`: the user and
//!   every user under it in the manager hierarchy (`systemuser.parentsystemuserid`);
//!   `…AndTeams` adds the default team.
//! - `Under`, `UnderOrEqual`, `Above`, `AboveOrEqual`, `NotUnder` walk a table's hierarchy, the
//!   self-referencing relationship of its metadata (`account.parentaccountid`,
//!   `systemuser.parentsystemuserid`, `businessunit.parentbusinessunitid`,
//!   `incident.parentcaseid`), with a recursive CTE; the column is that table's primary key or a
//!   lookup to it. `Under` excludes the row named, `UnderOrEqual` includes it; `NotUnder` is
//!   every row not under it (the row itself included).
//! - `EqualUserLanguage` is 400: no table has a language column. `ContainValues` and
//!   `DoesNotContainValues` apply to multi-select choices, which no table has (the parser
//!   refuses them first).

use super::dates::{self, Bound, Condition};
use super::{Scope, Sql, column, literal_cell, value_expr};
use crate::rows::Cell;
use chrono::{Days, NaiveDateTime, NaiveTime};
use dataverse::error::DataverseError;
use dataverse::metadata::{Column, ColumnType, Table};
use dataverse::query::{FunctionOperand, Literal, QueryFunction};
use sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait as _, Func, JoinType, SelectStatement, UnionType, WithClause,
};
use uuid::Uuid;

fn misfit(f: QueryFunction, col: &Column, value: &Literal) -> DataverseError {
    let shown = match value {
        Literal::String(s) | Literal::Decimal(s) | Literal::DateTime(s) | Literal::Date(s) => s.clone(),
        Literal::Integer(i) => i.to_string(),
        Literal::Guid(g) => g.to_string(),
        Literal::Boolean(b) => b.to_string(),
        Literal::Null => "null".into(),
    };
    DataverseError::bad_request(format!(
        "The value '{shown}' of {} does not fit the column '{}' ({})",
        f.name(),
        col.logical_name,
        col.kind.edm_name()
    ))
}

/// A function value as the cell compared with `col` (see the module doc).
fn value_cell(col: &Column, value: &Literal) -> Option<Cell> {
    let typed = match (&col.kind, value) {
        (ColumnType::String { .. } | ColumnType::Memo { .. }, Literal::Integer(i)) => Literal::String(i.to_string()),
        (ColumnType::String { .. } | ColumnType::Memo { .. }, Literal::Decimal(d)) => Literal::String(d.clone()),
        (
            ColumnType::Integer
            | ColumnType::BigInt
            | ColumnType::Picklist { .. }
            | ColumnType::State { .. }
            | ColumnType::Status { .. },
            Literal::String(s),
        ) => Literal::Integer(s.trim().parse().ok()?),
        (ColumnType::Double | ColumnType::Decimal | ColumnType::Money, Literal::String(s)) => {
            let s = s.trim();
            crate::decimal::scaled(s, 0)?;
            match s.parse::<i64>() {
                Ok(i) => Literal::Integer(i),
                Err(_) => Literal::Decimal(s.to_owned()),
            }
        }
        (ColumnType::DateTime | ColumnType::DateOnly, Literal::String(s)) => Literal::DateTime(s.trim().to_owned()),
        (ColumnType::Uniqueidentifier | ColumnType::Lookup { .. }, Literal::String(s)) => {
            Literal::Guid(Uuid::try_parse(s.trim().trim_start_matches('{').trim_end_matches('}')).ok()?)
        }
        (_, other) => other.clone(),
    };
    literal_cell(col, &typed)
}

/// The stored text an instant is compared as, for `>=`/`<` (`ceil`) or `<=` (floor) on `col`.
fn instant_text(col: &Column, t: NaiveDateTime, ceil: bool) -> String {
    if col.kind == ColumnType::DateOnly {
        let d = t.date();
        // Past the last representable date there is nothing to round up to: keep the date.
        let d = if ceil && t.time() != NaiveTime::MIN { d.checked_add_days(Days::new(1)).unwrap_or(d) } else { d };
        d.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// Which way a hierarchy is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Down,
    Up,
}

impl<'a> Sql<'a> {
    /// A query function over the rows of `scope` (see the module doc).
    pub(super) fn function(
        &mut self,
        scope: &Scope<'a>,
        f: QueryFunction,
        name: &str,
        values: &[Literal],
    ) -> Result<Expr, DataverseError> {
        let col = column(scope.table, name)?;
        let lhs = scope.col(name);
        match f.operand() {
            FunctionOperand::Date => self.date(lhs, col, f, values),
            FunctionOperand::Id => self.id(scope, lhs, col, f, values),
            FunctionOperand::Any => list(lhs, col, f, values),
            FunctionOperand::MultiSelect => Err(DataverseError::bad_request(format!(
                "{} applies to multi-select choice columns, and '{}' is not one",
                f.name(),
                col.logical_name
            ))),
            FunctionOperand::Language => Err(DataverseError::bad_request(format!(
                "{} is not supported: no table of this organization has a language column",
                f.name()
            ))),
        }
    }

    fn date(&self, lhs: Expr, col: &Column, f: QueryFunction, values: &[Literal]) -> Result<Expr, DataverseError> {
        if !matches!(col.kind, ColumnType::DateTime | ColumnType::DateOnly) {
            return Err(DataverseError::bad_request(format!(
                "{} needs a date column, and '{}' is not one",
                f.name(),
                col.logical_name
            )));
        }
        let condition = dates::condition(f, values, self.env.now).map_err(DataverseError::bad_request)?;
        let bounds = match condition {
            Condition::Month(m) => {
                let month = Func::cust(Alias::new("substr")).args([lhs, Expr::val(6), Expr::val(2)]);
                return Ok(Expr::expr(month).eq(format!("{m:02}")));
            }
            Condition::Bounds(bounds) => bounds,
        };
        let mut out: Option<Expr> = None;
        for bound in bounds {
            let e = match bound {
                Bound::AtLeast(t) => lhs.clone().gte(instant_text(col, t, true)),
                Bound::Before(t) => lhs.clone().lt(instant_text(col, t, true)),
                Bound::AtMost(t) => lhs.clone().lte(instant_text(col, t, false)),
            };
            out = Some(match out {
                Some(acc) => acc.and(e),
                None => e,
            });
        }
        out.ok_or_else(|| DataverseError::bad_request(format!("{} has no condition", f.name())))
    }

    fn id(
        &mut self,
        scope: &Scope<'a>,
        lhs: Expr,
        col: &Column,
        f: QueryFunction,
        values: &[Literal],
    ) -> Result<Expr, DataverseError> {
        use QueryFunction as F;
        if !matches!(col.kind, ColumnType::Lookup { .. } | ColumnType::Uniqueidentifier) {
            return Err(DataverseError::bad_request(format!(
                "{} needs a lookup or unique identifier column, and '{}' is not one",
                f.name(),
                col.logical_name
            )));
        }
        let env = self.env;
        let (user, bu, team) = (env.user.to_string(), env.business_unit.to_string(), env.default_team.to_string());
        Ok(match f {
            F::EqualUserId => lhs.eq(user),
            F::NotEqualUserId => lhs.ne(user),
            F::EqualBusinessId => lhs.eq(bu),
            F::NotEqualBusinessId => lhs.ne(bu),
            F::EqualUserTeams => lhs.eq(team),
            F::EqualUserOrUserTeams => lhs.is_in([user, team]),
            F::EqualUserOrUserHierarchy | F::EqualUserOrUserHierarchyAndTeams => {
                let users = self.table("systemuser")?;
                let parent = hierarchy_parent(self, users)?;
                let tree = self.tree(users, parent, &user, Walk::Down, true);
                let under = lhs.clone().in_subquery(tree);
                if f == F::EqualUserOrUserHierarchy { under } else { under.or(lhs.eq(team)) }
            }
            F::Under | F::UnderOrEqual | F::Above | F::AboveOrEqual | F::NotUnder => {
                let value = values.first().ok_or_else(|| misfit(f, col, &Literal::Null))?;
                let id = match value_cell(col, value) {
                    Some(Cell::Text(id)) => id,
                    _ => return Err(misfit(f, col, value)),
                };
                let table = self.hierarchical_table(scope, col, f)?;
                let parent = hierarchy_parent(self, table)?;
                let (walk, include) = match f {
                    F::Under | F::NotUnder => (Walk::Down, false),
                    F::UnderOrEqual => (Walk::Down, true),
                    F::Above => (Walk::Up, false),
                    _ => (Walk::Up, true),
                };
                let tree = self.tree(table, parent, &id, walk, include);
                if f == F::NotUnder { lhs.not_in_subquery(tree) } else { lhs.in_subquery(tree) }
            }
            other => {
                return Err(DataverseError::bad_request(format!("{} is not supported by the emulator", other.name())));
            }
        })
    }

    /// The table whose hierarchy a hierarchy function on `col` walks: the scope's own table
    /// for its primary key, the target of a single-table lookup.
    fn hierarchical_table(
        &self,
        scope: &Scope<'a>,
        col: &Column,
        f: QueryFunction,
    ) -> Result<&'a Table, DataverseError> {
        if col.logical_name == scope.table.primary_id {
            return Ok(scope.table);
        }
        if let ColumnType::Lookup { targets } = &col.kind
            && let [only] = targets.as_slice()
        {
            return self.table(only);
        }
        Err(DataverseError::bad_request(format!(
            "{} needs the primary key of a hierarchical table or a lookup to one, and '{}' is neither",
            f.name(),
            col.logical_name
        )))
    }

    /// `SELECT id FROM _tN` where `_tN` is a recursive CTE of the ids below (`Down`) or above
    /// (`Up`) the row `start` in `table`'s hierarchy, `start` itself included when asked.
    fn tree(&mut self, table: &Table, parent: &str, start: &str, walk: Walk, include: bool) -> SelectStatement {
        let (cte, step) = (self.alias(), self.alias());
        let (pk, name) = (table.primary_id.as_str(), table.logical_name.clone());
        let mut seed = sea_query::Query::select();
        seed.from(name.clone());
        match (walk, include) {
            (_, true) => seed.column(pk.to_owned()).and_where(Expr::col(pk.to_owned()).eq(start.to_owned())),
            (Walk::Down, false) => {
                seed.column(pk.to_owned()).and_where(Expr::col(parent.to_owned()).eq(start.to_owned()))
            }
            (Walk::Up, false) => seed
                .column(parent.to_owned())
                .and_where(Expr::col(pk.to_owned()).eq(start.to_owned()))
                .and_where(Expr::col(parent.to_owned()).is_not_null()),
        };
        let step_col = |c: &str| Expr::col((Alias::new(step.clone()), Alias::new(c)));
        let cte_id = Expr::col((Alias::new(cte.clone()), Alias::new("id")));
        let mut next = sea_query::Query::select();
        match walk {
            Walk::Down => next.expr(step_col(pk)).from_as(name, Alias::new(step.clone())).join(
                JoinType::InnerJoin,
                Alias::new(cte.clone()),
                step_col(parent).eq(cte_id),
            ),
            Walk::Up => next
                .expr(step_col(parent))
                .from_as(name, Alias::new(step.clone()))
                .join(JoinType::InnerJoin, Alias::new(cte.clone()), step_col(pk).eq(cte_id))
                .and_where(step_col(parent).is_not_null()),
        };
        let body = seed.union(UnionType::Distinct, next).to_owned();
        let common = CommonTableExpression::new()
            .query(body)
            .column(Alias::new("id"))
            .table_name(Alias::new(cte.clone()))
            .to_owned();
        let with = WithClause::new().recursive(true).cte(common).to_owned();
        sea_query::Query::select().column(Alias::new("id")).from(Alias::new(cte)).with_cte(with).to_owned()
    }
}

/// The parent lookup of `table`'s hierarchy: its self-referencing relationship.
fn hierarchy_parent<'a>(sql: &Sql<'a>, table: &Table) -> Result<&'a str, DataverseError> {
    sql.env
        .schema
        .relationships()
        .iter()
        .find(|r| r.referencing_table == table.logical_name && r.referenced_table == table.logical_name)
        .map(|r| r.referencing_column.as_str())
        .ok_or_else(|| DataverseError::bad_request(format!("The table '{}' has no hierarchy", table.logical_name)))
}

/// `Between`, `NotBetween`, `In`, `NotIn` (see the module doc).
fn list(lhs: Expr, col: &Column, f: QueryFunction, values: &[Literal]) -> Result<Expr, DataverseError> {
    use QueryFunction as F;
    let lhs = value_expr(lhs, col);
    let mut cells = Vec::with_capacity(values.len());
    for v in values {
        cells.push(value_cell(col, v).ok_or_else(|| misfit(f, col, v))?);
    }
    match f {
        F::In => Ok(lhs.is_in(cells.iter().map(Cell::to_sql))),
        F::NotIn => Ok(lhs.is_not_in(cells.iter().map(Cell::to_sql))),
        F::Between | F::NotBetween => {
            let ([low, high], [_, high_value]) = (cells.as_slice(), values) else {
                return Err(DataverseError::bad_request(format!("{} takes exactly two values", f.name())));
            };
            let whole_day =
                col.kind == ColumnType::DateTime && matches!(high_value, Literal::String(s) if s.trim().len() == 10);
            let upper = match (whole_day, high) {
                (true, Cell::Text(t)) => {
                    let next = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%SZ")
                        .ok()
                        .and_then(|d| d.checked_add_days(Days::new(1)))
                        .ok_or_else(|| misfit(f, col, high_value))?;
                    lhs.clone().lt(instant_text(col, next, true))
                }
                _ => lhs.clone().lte(Expr::val(high.to_sql())),
            };
            let between = lhs.gte(Expr::val(low.to_sql())).and(upper);
            Ok(if f == F::Between { between } else { between.not() })
        }
        other => Err(DataverseError::bad_request(format!("{} is not a list function", other.name()))),
    }
}
