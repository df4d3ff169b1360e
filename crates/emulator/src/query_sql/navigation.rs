//! Navigation in `$filter` (spec §3.2): columns reached through single-valued navigation
//! properties, and the `any`/`all` lambda operators over collection-valued ones.
//!
//! - `primarycontactid/createdby/fullname eq 'x'` compares a correlated scalar subquery,
//!   `(SELECT _t2.fullname FROM contact _t1 JOIN systemuser _t2 ON _t2.systemuserid =
//!   _t1.createdby WHERE _t1.contactid = account.primarycontactid)`. A hop through a polymorphic
//!   lookup (`parentcustomerid_account`) also requires the hidden `{lookup}@type` column to name
//!   the hop's table, so it follows only rows pointing at that table. An empty lookup, a lookup
//!   to another table or a missing row makes the value NULL: every comparison with it is false
//!   except `eq null` (as with a LEFT JOIN in SQL). A related text column compares with
//!   `COLLATE NOCASE`, as the column itself does.
//! - `nav/any(x: p)` is `EXISTS (SELECT 1 FROM related _tN WHERE _tN.lookup = outer.pk [AND
//!   _tN."lookup@type" = 'outer table'] AND p)`; `nav/any()` drops `p`.
//! - Over an N:N navigation property the related rows come through the intersect table:
//!   `EXISTS (SELECT 1 FROM related _tN JOIN intersect _tM ON _tM.related_id = _tN.pk WHERE
//!   _tM.own_id = outer.pk AND p)`.
//! - `nav/all(x: p)` is `NOT EXISTS (… AND NOT COALESCE(p, 0))`: a related row for which `p` is
//!   NULL (it compares a NULL column) counts as not matching, so it makes `all` false; a row
//!   with no related rows matches `all` (vacuous truth).

use super::{Scope, Sql, column};
use crate::rows::lookup_type_column;
use dataverse::error::DataverseError;
use dataverse::metadata::{Column, ColumnType, Navigation, Table};
use dataverse::query::{Filter, Hop};
use sea_query::{Alias, Expr, ExprTrait as _, Func, JoinType, SubQueryStatement};

/// Whether a lookup points at several tables (its target is in the hidden `@type` column).
pub(crate) fn polymorphic(column: &Column) -> bool {
    matches!(&column.kind, ColumnType::Lookup { targets } if targets.len() > 1)
}

impl<'a> Sql<'a> {
    /// The value of `column` reached from `scope` through `path`: a scalar subquery (see the
    /// module doc), the column and its table.
    pub(super) fn related(
        &mut self,
        scope: &Scope<'a>,
        path: &[Hop],
        column_name: &str,
    ) -> Result<(Expr, &'a Column, &'a Table), DataverseError> {
        let mut select = sea_query::Query::select();
        let mut from = scope.clone();
        for (i, hop) in path.iter().enumerate() {
            let lookup = column(from.table, &hop.column)?;
            let reaches = matches!(&lookup.kind, ColumnType::Lookup { targets } if targets.contains(&hop.table));
            if !reaches {
                return Err(DataverseError::bad_request(format!(
                    "'{}' is not a navigation property of {} to {}",
                    hop.navigation, from.table.logical_name, hop.table
                )));
            }
            let to = Scope { table: self.table(&hop.table)?, alias: self.alias() };
            let mut on = to.col(&to.table.primary_id).eq(from.col(&hop.column));
            if polymorphic(lookup) {
                on = on.and(from.col(&lookup_type_column(&hop.column)).eq(hop.table.clone()));
            }
            if i == 0 {
                select.from_as(to.table.logical_name.clone(), to.alias.clone()).and_where(on);
            } else {
                select.join_as(JoinType::InnerJoin, to.table.logical_name.clone(), to.alias.clone(), on);
            }
            from = to;
        }
        if path.is_empty() {
            return Err(DataverseError::bad_request("A navigation path needs at least one navigation property"));
        }
        let target = column(from.table, column_name)?;
        select.expr(from.col(column_name));
        let value = Expr::from(SubQueryStatement::SelectStatement(select));
        let value =
            if crate::read::is_nocase(target) { Expr::cust_with_expr("? COLLATE NOCASE", value) } else { value };
        Ok((value, target, from.table))
    }

    /// `nav/any(…)` or `nav/all(…)` over the rows of `scope` (see the module doc).
    pub(super) fn lambda(
        &mut self,
        scope: &Scope<'a>,
        navigation: &str,
        predicate: Option<&Filter>,
        all: bool,
    ) -> Result<Expr, DataverseError> {
        let mut select = sea_query::Query::select();
        select.expr(Expr::cust("1"));
        let inner = match self.env.schema.navigation(&scope.table.logical_name, navigation) {
            Some(Navigation::Collection { column: lookup, target, .. }) => {
                let inner = Scope { table: self.table(target)?, alias: self.alias() };
                select
                    .from_as(inner.table.logical_name.clone(), inner.alias.clone())
                    .and_where(inner.col(lookup).eq(scope.col(&scope.table.primary_id)));
                if polymorphic(column(inner.table, lookup)?) {
                    select.and_where(inner.col(&lookup_type_column(lookup)).eq(scope.table.logical_name.clone()));
                }
                inner
            }
            Some(Navigation::Many { relationship, own_column, target_column, target }) => {
                let inner = Scope { table: self.table(target)?, alias: self.alias() };
                let pair = self.alias();
                let pair_col = |c: &str| Expr::col((Alias::new(pair.clone()), Alias::new(c)));
                select
                    .from_as(inner.table.logical_name.clone(), inner.alias.clone())
                    .join_as(
                        JoinType::InnerJoin,
                        relationship.intersect.clone(),
                        pair.clone(),
                        pair_col(target_column).eq(inner.col(&inner.table.primary_id)),
                    )
                    .and_where(pair_col(own_column).eq(scope.col(&scope.table.primary_id)));
                inner
            }
            _ => {
                return Err(DataverseError::bad_request(format!(
                    "'{navigation}' is not a collection-valued navigation property of {}",
                    scope.table.logical_name
                )));
            }
        };
        match (predicate, all) {
            (Some(p), false) => {
                select.and_where(self.filter(&inner, p)?);
            }
            (Some(p), true) => {
                select.and_where(Expr::expr(Func::coalesce([self.filter(&inner, p)?, Expr::val(0)])).not());
            }
            (None, _) => {}
        }
        Ok(if all { Expr::not_exists(select) } else { Expr::exists(select) })
    }
}
