//! System query options: recognised by name, duplicates refused, unknown names refused, and the
//! ones in the supported slice (`$select`, `$filter`, `$orderby`, `$top`, `$count`) parsed.

use super::filter::{FilterError, parse_filter};
use super::{ParseError, Routed, url};
use crate::metadata::Table;
use crate::query::{OrderBy, Query};

/// Options Stanchion parses today.
const SUPPORTED: &[&str] = &["$select", "$filter", "$orderby", "$top", "$count", "$skiptoken"];

/// Options Dataverse knows that Stanchion recognises but does not support yet, with the reason.
const RECOGNISED: &[(&str, &str)] = &[
    ("$expand", "$expand is not supported yet"),
    ("$apply", "aggregation with $apply is not supported yet"),
    ("$skip", "$skip is not supported yet (Dataverse does not support it either)"),
    ("$search", "$search is not supported yet (Dataverse does not support it either)"),
    ("$format", "$format is not supported yet (Dataverse does not support it either)"),
    ("$compute", "$compute is not supported yet (Dataverse does not support it either)"),
    ("$levels", "$levels is not supported yet (Dataverse does not support it either)"),
    ("$deltatoken", "change tracking is not supported yet"),
    ("$id", "$id is not supported yet"),
    ("$schemaversion", "$schemaversion is not supported yet"),
    ("fetchXml", "FetchXML queries are not supported yet"),
    ("sql", "SQL queries (sql=) are not supported yet"),
    ("savedQuery", "saved queries (savedQuery=) are refused: Stanchion cannot see what they read"),
    ("userQuery", "user queries (userQuery=) are refused: Stanchion cannot see what they read"),
];

/// The decoded query options of one request.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pairs: Vec<url::Pair>,
}

impl Options {
    pub(crate) fn parse(raw: &str) -> Result<Self, ParseError> {
        let pairs = url::query_pairs(raw)?;
        for (i, url::Pair { name, .. }) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|p| p.name == *name) {
                return Err(ParseError::Syntax(format!("Query option '{name}' was specified more than once")));
            }
            let known =
                SUPPORTED.contains(&name.as_str()) || RECOGNISED.iter().any(|(n, _)| n == name) || is_alias(name);
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

    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|p| p.name == name).map(|p| p.value.as_str())
    }

    /// `$skiptoken` exactly as received: an opaque token of the server that issued it.
    fn skiptoken(&self) -> Result<Option<String>, ParseError> {
        match self.pairs.iter().find(|p| p.name == "$skiptoken") {
            None => Ok(None),
            Some(p)
                if p.raw_value.is_empty()
                    || p.raw_value.len() > 8192
                    || p.raw_value.bytes().any(|b| !b.is_ascii_graphic()) =>
            {
                Err(ParseError::Syntax("$skiptoken must be the value of an @odata.nextLink".into()))
            }
            Some(p) => Ok(Some(p.raw_value.clone())),
        }
    }

    /// The reason of the first recognised-but-unsupported option, if any.
    pub(crate) fn first_unsupported(&self) -> Option<String> {
        self.pairs.iter().find_map(|url::Pair { name, .. }| {
            if is_alias(name) {
                return Some("parameter aliases are not supported yet".to_owned());
            }
            RECOGNISED.iter().find(|(n, _)| n == name).map(|(_, r)| (*r).to_owned())
        })
    }

    /// Refuses any supported option not in `allowed` for this resource.
    pub(crate) fn only(&self, allowed: &[&str], what: &str) -> Result<(), Routed> {
        if let Some(reason) = self.first_unsupported() {
            return Err(Routed::Error(ParseError::Syntax(format!("{reason}; {what} takes no such option"))));
        }
        match self.pairs.iter().find(|p| !allowed.contains(&p.name.as_str())) {
            Some(url::Pair { name: n, .. }) => {
                Err(Routed::Error(ParseError::Syntax(format!("The query option {n} is not allowed on {what}"))))
            }
            None => Ok(()),
        }
    }

    /// `$select` as column logical names (empty when absent).
    pub(crate) fn select(&self, table: &Table) -> Result<Vec<String>, ParseError> {
        let Some(v) = self.get("$select") else { return Ok(Vec::new()) };
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

    /// The query IR from `$select`, `$filter`, `$orderby`, `$top` and `$count`.
    pub(crate) fn query(&self, table: &Table) -> Result<Query, Routed> {
        let filter = match self.get("$filter") {
            None => None,
            Some(text) if text.trim().is_empty() => {
                return Err(Routed::Error(ParseError::Syntax("$filter is empty".into())));
            }
            Some(text) => Some(parse_filter(text, table).map_err(|e| match e {
                FilterError::Unsupported(reason) => Routed::Unsupported(crate::request::RequestKind::Query, reason),
                FilterError::Syntax(m) => Routed::Error(ParseError::Syntax(m)),
            })?),
        };
        let mut orderby = Vec::new();
        if let Some(v) = self.get("$orderby") {
            for item in v.split(',') {
                let mut words = item.split_whitespace();
                let name = words.next().ok_or_else(|| ParseError::Syntax("$orderby has an empty item".into()))?;
                if name.contains('/') {
                    return Err(Routed::Unsupported(
                        crate::request::RequestKind::Query,
                        "ordering by a related table's column is not supported yet".into(),
                    ));
                }
                let column = table.column_by_odata_name(name).ok_or_else(|| unknown_property(table, name))?;
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
                    return Err(Routed::Error(ParseError::Syntax(format!(
                        "$orderby item '{}' is malformed",
                        item.trim()
                    ))));
                }
                orderby.push(OrderBy { column: column.logical_name.clone(), descending });
            }
        }
        let top = match self.get("$top") {
            None => None,
            Some(v) => {
                Some(v.parse::<u32>().ok().filter(|_| v.bytes().all(|b| b.is_ascii_digit())).ok_or_else(|| {
                    ParseError::Syntax(format!("$top must be a non-negative whole number, not '{v}'"))
                })?)
            }
        };
        let count = match self.get("$count") {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(Routed::Error(ParseError::Syntax(format!("$count must be true or false, not '{v}'"))));
            }
        };
        let skiptoken = self.skiptoken()?;
        Ok(Query {
            table: table.logical_name.clone(),
            select: self.select(table)?,
            filter,
            orderby,
            top,
            count,
            skiptoken,
        })
    }
}

fn is_alias(name: &str) -> bool {
    name.len() > 1 && name.starts_with('@') && name[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn unknown_property(table: &Table, name: &str) -> ParseError {
    ParseError::Syntax(format!(
        "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
        table.logical_name
    ))
}
