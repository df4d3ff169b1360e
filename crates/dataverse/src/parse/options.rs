//! System query options: recognised by name, duplicates refused, unknown names refused, and the
//! ones in the supported slice (`$select`, `$filter`, `$orderby`, `$top`, `$count`) parsed.

use super::filter::{FilterError, HopError, MAX_HOPS, parse_filter, single_hop};
use super::{ParseError, Routed, url};
use crate::metadata::{Column, Schema, Table};
use crate::query::{Hop, OrderBy, Query};
use crate::request::Operation;

/// Options Stanchion parses today.
const SUPPORTED: &[&str] = &[
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$count",
    "$skiptoken",
    "$deltatoken",
    "$expand",
    "$id",
    "$apply",
    "sql",
    "fetchXml",
];

/// Options Dataverse knows that Stanchion recognises but does not support yet, with the reason.
const RECOGNISED: &[(&str, &str)] = &[
    ("$skip", "$skip is not supported yet (Dataverse does not support it either)"),
    ("$search", "$search is not supported yet (Dataverse does not support it either)"),
    ("$format", "$format is not supported yet (Dataverse does not support it either)"),
    ("$compute", "$compute is not supported yet (Dataverse does not support it either)"),
    ("$levels", "$levels is not supported yet (Dataverse does not support it either)"),
    ("$schemaversion", "$schemaversion is not supported yet"),
    ("savedQuery", "saved queries (savedQuery=) are refused: Stanchion cannot see what they read"),
    ("userQuery", "user queries (userQuery=) are refused: Stanchion cannot see what they read"),
];

/// The decoded query options of one request.
#[derive(Debug, Default)]
pub(crate) struct Options<'a> {
    pairs: Vec<url::Pair<'a>>,
}

impl<'a> Options<'a> {
    pub(crate) fn parse(raw: &'a str) -> Result<Self, ParseError> {
        let pairs = url::query_pairs(raw)?;
        for (i, url::Pair { name, .. }) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|p| p.name == *name) {
                return Err(ParseError::Syntax(format!("Query option '{name}' was specified more than once")));
            }
            let known =
                SUPPORTED.contains(&name.as_ref()) || RECOGNISED.iter().any(|(n, _)| n == name) || is_alias(name);
            if !known {
                return Err(ParseError::Syntax(if name.starts_with('$') {
                    format!("The query parameter {name} is not supported")
                } else {
                    format!("The query option '{name}' is not known (query option names are case-sensitive)")
                }));
            }
        }
        Ok(Options { pairs })
    }

    /// Options made by the parser itself (the OData twin of a `sql=` query).
    pub(crate) fn from_pairs(pairs: Vec<url::Pair<'a>>) -> Self {
        Options { pairs }
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A decoded option value by name.
    pub(crate) fn raw(&self, name: &str) -> Option<&str> {
        self.get(name)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|p| p.name == name).map(|p| p.value.as_ref())
    }

    /// `$skiptoken` exactly as received: an opaque token of the server that issued it.
    fn skiptoken(&self) -> Result<Option<String>, ParseError> {
        match self.pairs.iter().find(|p| p.name == "$skiptoken") {
            None => Ok(None),
            Some(p)
                if p.raw_value.is_empty()
                    || p.raw_value.len() > 32 * 1024
                    || p.raw_value.bytes().any(|b| !b.is_ascii_graphic()) =>
            {
                Err(ParseError::Syntax("$skiptoken must be the value of an @odata.nextLink".into()))
            }
            Some(p) => Ok(Some(p.raw_value.to_owned())),
        }
    }

    /// `$deltatoken` exactly as received (like `$skiptoken`, the issuing server's opaque token).
    pub(crate) fn deltatoken(&self) -> Result<Option<String>, ParseError> {
        match self.pairs.iter().find(|p| p.name == "$deltatoken") {
            None => Ok(None),
            Some(p)
                if p.raw_value.is_empty()
                    || p.raw_value.len() > 1024
                    || p.raw_value.bytes().any(|b| !b.is_ascii_graphic()) =>
            {
                Err(ParseError::Syntax("$deltatoken must be the value of an @odata.deltaLink".into()))
            }
            Some(p) => Ok(Some(p.raw_value.to_owned())),
        }
    }

    /// The reason of the first recognised-but-unsupported option, if any.
    pub(crate) fn first_unsupported(&self) -> Option<String> {
        self.pairs
            .iter()
            .find_map(|url::Pair { name, .. }| RECOGNISED.iter().find(|(n, _)| n == name).map(|(_, r)| (*r).to_owned()))
    }

    /// Refuses any supported option not in `allowed` for this resource.
    pub(crate) fn only(&self, allowed: &[&str], what: &str) -> Result<(), Routed> {
        if let Some(reason) = self.first_unsupported() {
            return Err(Routed::Error(ParseError::Syntax(format!("{reason}; {what} takes no such option"))));
        }
        let aliases_ok = allowed.contains(&"@aliases");
        match self.pairs.iter().find(|p| !allowed.contains(&p.name.as_ref()) && (!aliases_ok || !is_alias(&p.name))) {
            Some(url::Pair { name: n, .. }) => {
                Err(Routed::Error(ParseError::Syntax(format!("The query option {n} is not allowed on {what}"))))
            }
            None => Ok(()),
        }
    }

    /// `$select` as column logical names (empty when absent).
    pub(crate) fn select(&self, table: &Table) -> Result<Vec<String>, ParseError> {
        self.get("$select").map_or(Ok(Vec::new()), |v| parse_select(v, table))
    }

    /// Parameter aliases (`@p1=…`) with their decoded values (spec §3.5).
    pub(crate) fn aliases(&self) -> Vec<(&str, &str)> {
        self.pairs.iter().filter(|p| is_alias(&p.name)).map(|p| (p.name.as_ref(), p.value.as_ref())).collect()
    }

    /// `$expand` (empty when absent).
    pub(crate) fn expand(&self, schema: &Schema, table: &Table) -> Result<Vec<crate::query::Expand>, Routed> {
        self.get("$expand").map_or(Ok(Vec::new()), |v| super::expand::parse_expand(v, schema, table))
    }

    /// A collection query: [`Operation::Query`], or [`Operation::Aggregate`] when `$apply`
    /// groups or aggregates (then only `$orderby` over group keys and `$top` may go with it; a
    /// `$apply` of `filter(…)` steps alone is a query's filter, so `$filter` may not go with it).
    pub(crate) fn collection(&self, schema: &Schema, table: &Table) -> Result<Operation, Routed> {
        if let Some(sql) = self.get("sql") {
            if let Some(other) = self.pairs.iter().find(|p| p.name != "sql") {
                return Err(Routed::Error(ParseError::Syntax(format!(
                    "The query option {} cannot be combined with sql",
                    other.name
                ))));
            }
            return super::sql::lower(sql, schema, table);
        }
        let Some(text) = self.get("$apply") else {
            return Ok(Operation::Query(self.query(schema, table)?));
        };
        if self.has("$filter") {
            return Err(Routed::Error(ParseError::Syntax(
                "$filter cannot be combined with $apply: put the condition in filter(…) as the first $apply step"
                    .into(),
            )));
        }
        let aliases = self.aliases();
        match super::apply::parse_apply(text, schema, table, &aliases)? {
            super::apply::Applied::Filter(f) => {
                let mut q = self.query(schema, table)?;
                q.filter = Some(f);
                Ok(Operation::Query(q))
            }
            super::apply::Applied::Aggregation(a) => {
                if let Some(other) = ["$select", "$expand", "$count", "$skiptoken"].into_iter().find(|o| self.has(o)) {
                    return Err(Routed::Error(ParseError::Syntax(format!(
                        "The query option {other} cannot be combined with groupby or aggregate in $apply"
                    ))));
                }
                let orderby_text = self.get("$orderby").unwrap_or_default();
                let names_alias = orderby_text
                    .split(',')
                    .filter_map(|i| i.split_whitespace().next())
                    .any(|name| a.aggregates.iter().any(|g| g.alias == name));
                if names_alias {
                    // Dataverse's answer to ordering by an aggregate value.
                    return Err(Routed::Error(ParseError::Syntax(
                        "The query node SingleValueOpenPropertyAccess is not supported".into(),
                    )));
                }
                let orderby =
                    self.get("$orderby").map_or(Ok(Vec::new()), |v| parse_orderby(v, schema, table, &aliases))?;
                let top = self.get("$top").map(parse_top).transpose()?;
                Ok(Operation::Aggregate(super::apply::with_order(a, orderby, top)?))
            }
        }
    }

    /// The query IR from `$select`, `$filter`, `$orderby`, `$top`, `$count`, `$expand` and
    /// `$skiptoken`.
    pub(crate) fn query(&self, schema: &Schema, table: &Table) -> Result<Query, Routed> {
        let aliases = self.aliases();
        let filter = self.get("$filter").map(|text| filter_option(text, schema, table, &aliases)).transpose()?;
        let orderby = self.get("$orderby").map_or(Ok(Vec::new()), |v| parse_orderby(v, schema, table, &aliases))?;
        let top = self.get("$top").map(parse_top).transpose()?;
        let count = match self.get("$count") {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(Routed::Error(ParseError::Syntax(format!("$count must be true or false, not '{v}'"))));
            }
        };
        let expand = self.expand(schema, table)?;
        let skiptoken = self.skiptoken()?;
        Ok(Query {
            table: table.logical_name.clone(),
            select: self.select(table)?,
            filter,
            orderby,
            top,
            count,
            skiptoken,
            expand,
        })
    }
}

/// `$filter` text for a table: empty is a syntax error; what the slice does not support yet is
/// reported as such.
pub(crate) fn filter_option(
    text: &str,
    schema: &Schema,
    table: &Table,
    aliases: &[(&str, &str)],
) -> Result<crate::query::Filter, Routed> {
    if text.trim().is_empty() {
        return Err(Routed::Error(ParseError::Syntax("$filter is empty".into())));
    }
    parse_filter(text, schema, table, aliases).map_err(|e| match e {
        FilterError::Syntax(m) => Routed::Error(ParseError::Syntax(m)),
    })
}

/// `$select=a,b` as logical names of `table`'s columns.
pub(crate) fn parse_select(v: &str, table: &Table) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    for name in v.split(',') {
        let name = name.trim();
        if name.is_empty() {
            return Err(ParseError::Syntax("$select has an empty item".into()));
        }
        let column = table.column_by_odata_name(name).ok_or_else(|| unknown_property(table, name))?;
        out.push(column.logical_name.clone());
    }
    Ok(out)
}

/// `$orderby=a asc,b desc` over `table`'s columns, or columns reached through single-valued
/// navigation properties (`primarycontactid/fullname desc`, at most five hops).
pub(crate) fn parse_orderby(
    v: &str,
    schema: &Schema,
    table: &Table,
    aliases: &[(&str, &str)],
) -> Result<Vec<OrderBy>, Routed> {
    let mut orderby = Vec::new();
    for item in v.split(',') {
        let mut words = item.split_whitespace();
        let mut name = words.next().ok_or_else(|| ParseError::Syntax("$orderby has an empty item".into()))?;
        if name.starts_with('@') {
            name = aliases
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty() && !v.contains(char::is_whitespace))
                .ok_or_else(|| {
                    ParseError::Syntax(format!("The parameter alias {name} in $orderby has no column name"))
                })?;
        }
        let (path, column) = column_path(schema, table, name, "$orderby")?;
        let descending = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(Routed::Error(ParseError::Syntax(format!(
                    "$orderby direction must be asc or desc, not '{other}'"
                ))));
            }
        };
        if words.next().is_some() {
            return Err(Routed::Error(ParseError::Syntax(format!("$orderby item '{}' is malformed", item.trim()))));
        }
        orderby.push(OrderBy { path, column: column.logical_name.clone(), descending });
    }
    Ok(orderby)
}

/// A column named by a path through single-valued navigation properties
/// (`primarycontactid/fullname`, at most five hops) in the query option `option`.
pub(crate) fn column_path<'s>(
    schema: &'s Schema,
    table: &'s Table,
    name: &str,
    option: &str,
) -> Result<(Vec<Hop>, &'s Column), ParseError> {
    let (navigations, last) = match name.rsplit_once('/') {
        Some((navigations, last)) => (Some(navigations), last),
        None => (None, name),
    };
    let mut path = Vec::new();
    let mut reached = table;
    for segment in navigations.into_iter().flat_map(|n| n.split('/')) {
        if path.len() == MAX_HOPS {
            return Err(ParseError::Syntax(format!("The {option} path '{name}' is too long")));
        }
        let (hop, next) = single_hop(schema, reached, segment).map_err(|e| match e {
            HopError::Collection(_) => ParseError::Syntax(format!(
                "{option} cannot follow the collection-valued navigation property '{segment}'"
            )),
            HopError::Unknown(m) => ParseError::Syntax(m),
        })?;
        path.push(hop);
        reached = next;
    }
    let column = reached.column_by_odata_name(last).ok_or_else(|| unknown_property(reached, last))?;
    Ok((path, column))
}

/// `$top=n`.
pub(crate) fn parse_top(v: &str) -> Result<u32, ParseError> {
    v.parse::<u32>()
        .ok()
        .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ParseError::Syntax(format!("$top must be a non-negative whole number, not '{v}'")))
}

fn is_alias(name: &str) -> bool {
    name.len() > 1 && name.starts_with('@') && name[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub(crate) fn unknown_property(table: &Table, name: &str) -> ParseError {
    ParseError::Syntax(format!(
        "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
        table.logical_name
    ))
}
