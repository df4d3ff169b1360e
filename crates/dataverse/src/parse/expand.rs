//! `$expand` (spec §3.6): single- and collection-valued navigation properties, `nav/$ref`, and
//! nested `$select`, `$filter`, `$orderby`, `$top` and `$expand` separated by `;`. At most ten
//! expansions per request, nested ones included; no parameter aliases inside; collection-valued
//! expansions take no nested `$expand`, single-valued ones no `$filter`/`$orderby`/`$top`.

use super::options::{filter_option, parse_orderby, parse_select, parse_top};
use super::{ParseError, Routed};
use crate::metadata::{Navigation, Schema, Table};
use crate::query::Expand;

/// Most expansions in one request (spec §3.6).
const MAX_EXPANDS: usize = 10;

fn syntax(m: impl Into<String>) -> Routed {
    Routed::Error(ParseError::Syntax(m.into()))
}

/// Splits on `sep` outside parentheses and single quotes.
fn split_top(text: &str, sep: u8) -> Result<Vec<&str>, Routed> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0);
    // Every delimiter is ASCII, and ASCII bytes never occur inside a UTF-8 sequence.
    for (i, &c) in text.as_bytes().iter().enumerate() {
        match c {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.checked_sub(1).ok_or_else(|| syntax("$expand has an unbalanced ')'"))?,
            c if c == sep && !quoted && depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quoted {
        return Err(syntax("$expand has an unbalanced '(' or quote"));
    }
    out.push(&text[start..]);
    Ok(out)
}

/// Parses the value of `$expand` for `table`.
pub(crate) fn parse_expand(text: &str, schema: &Schema, table: &Table) -> Result<Vec<Expand>, Routed> {
    let mut budget = MAX_EXPANDS;
    items(text, schema, table, &mut budget)
}

fn items(text: &str, schema: &Schema, table: &Table, budget: &mut usize) -> Result<Vec<Expand>, Routed> {
    let mut out: Vec<Expand> = Vec::new();
    for item in split_top(text, b',')? {
        let item = item.trim();
        if item.is_empty() {
            return Err(syntax("$expand has an empty item"));
        }
        *budget = budget
            .checked_sub(1)
            .ok_or_else(|| syntax(format!("At most {MAX_EXPANDS} $expand options are allowed per request")))?;
        let (head, options) = match item.find('(') {
            Some(i) => {
                let inner = item[i + 1..]
                    .strip_suffix(')')
                    .ok_or_else(|| syntax(format!("The $expand item '{item}' is malformed")))?;
                (&item[..i], Some(inner))
            }
            None => (item, None),
        };
        let (navigation, refs_only) = match head.strip_suffix("/$ref") {
            Some(n) => (n, true),
            None => (head, false),
        };
        if navigation.contains('/') {
            return Err(syntax(format!("The $expand item '{item}' is not a navigation property")));
        }
        let (collection, target) = match schema.navigation(&table.logical_name, navigation) {
            Some(Navigation::Single { target, .. }) => (false, target),
            Some(Navigation::Collection { target, .. } | Navigation::Many { target, .. }) => (true, target),
            None => {
                return Err(syntax(format!(
                    "Could not find a navigation property named '{navigation}' on type 'Microsoft.Dynamics.CRM.{}'.",
                    table.logical_name
                )));
            }
        };
        if out.iter().any(|e| e.navigation == navigation) {
            return Err(syntax(format!("The navigation property '{navigation}' is expanded twice")));
        }
        let related = schema.table(target).ok_or_else(|| syntax("unknown related table"))?;
        let mut e = Expand {
            navigation: navigation.to_owned(),
            table: target.to_owned(),
            collection,
            refs_only,
            select: Vec::new(),
            filter: None,
            orderby: Vec::new(),
            top: None,
            expand: Vec::new(),
        };
        if let Some(options) = options {
            if refs_only {
                return Err(syntax(format!("The $expand item '{item}' takes no options with $ref")));
            }
            nested_options(&mut e, options, schema, related, budget)?;
        }
        out.push(e);
    }
    Ok(out)
}

fn nested_options(
    e: &mut Expand,
    options: &str,
    schema: &Schema,
    related: &Table,
    budget: &mut usize,
) -> Result<(), Routed> {
    let mut seen: Vec<&str> = Vec::new();
    for option in split_top(options, b';')? {
        let (name, value) =
            option.split_once('=').ok_or_else(|| syntax(format!("The $expand option '{option}' is not name=value")))?;
        let name = name.trim();
        if seen.contains(&name) {
            return Err(syntax(format!("The option {name} is given twice inside $expand")));
        }
        seen.push(name);
        if value.contains('@') && !value.contains('\'') {
            return Err(syntax("Parameter aliases cannot be used inside $expand"));
        }
        let collection_only = |what: &str| {
            if e.collection {
                Ok(())
            } else {
                Err(syntax(format!("{what} applies only to collection-valued navigation properties")))
            }
        };
        match name {
            "$select" => e.select = parse_select(value, related).map_err(Routed::Error)?,
            "$filter" => {
                collection_only("$filter")?;
                e.filter = Some(filter_option(value, schema, related, &[])?);
            }
            "$orderby" => {
                collection_only("$orderby")?;
                e.orderby = parse_orderby(value, schema, related, &[])?;
            }
            "$top" => {
                collection_only("$top")?;
                e.top = Some(parse_top(value).map_err(Routed::Error)?);
            }
            "$expand" => {
                if e.collection {
                    return Err(syntax("A nested $expand is not allowed inside a collection-valued $expand"));
                }
                e.expand = items(value, schema, related, budget)?;
            }
            other => return Err(syntax(format!("The option {other} is not allowed inside $expand"))),
        }
    }
    Ok(())
}
