//! `$apply` (spec §3.11): `filter(…)` steps, then at most one `groupby((…))`,
//! `groupby((…),aggregate(…))` or `aggregate(…)`, chained with `/`, lowered to
//! [`Aggregation`]. A chain of `filter` steps alone is an ordinary query and lowers to
//! [`Query`]'s filter.
//!
//! Dataverse's subset: aggregates `sum`, `average`, `min`, `max` and `$count`; group keys are
//! columns of the table or of rows reached through single-valued navigation properties, never
//! date and time columns (Microsoft: "groupby with datetime values isn't supported"); `$orderby`
//! only over group keys (ordering by an aggregate value is Dataverse's 400 "The query node
//! SingleValueOpenPropertyAccess is not supported"). `countdistinct` is refused as unsupported:
//! Microsoft documents that OData cannot count distinct values in Dataverse. The other
//! transformations of the OData aggregation extension (`compute`, `topcount`, `concat`…) are
//! refused as unsupported, anything else as a syntax error.

use super::filter::{FilterError, parse_filter};
use super::options::column_path;
use super::{ParseError, Routed};
use crate::metadata::{ColumnType, Schema, Table};
use crate::query::{Aggregate, AggregateFunction, Aggregation, Filter, GroupKey, OrderBy};
use crate::request::RequestKind;

/// Transformations of the OData aggregation extension that Dataverse does not support.
const UNSUPPORTED: &[&str] = &[
    "compute",
    "topcount",
    "topsum",
    "toppercent",
    "bottomcount",
    "bottomsum",
    "bottompercent",
    "identity",
    "concat",
    "expand",
    "search",
    "nest",
    "ancestors",
    "descendants",
    "traverse",
];

/// What `$apply` lowers to.
pub(crate) enum Applied {
    /// Only `filter(…)` steps: an ordinary query with this filter.
    Filter(Filter),
    /// Grouping or aggregation.
    Aggregation(Aggregation),
}

fn syntax(message: impl Into<String>) -> Routed {
    Routed::Error(ParseError::Syntax(message.into()))
}

fn unsupported(reason: impl Into<String>) -> Routed {
    Routed::Unsupported(RequestKind::Aggregate, reason.into())
}

/// Parses `$apply` for `table`. An aggregation comes back without order and `$top`: the caller
/// adds them from the request's other options ([`with_order`]).
pub(crate) fn parse_apply(
    text: &str,
    schema: &Schema,
    table: &Table,
    aliases: &[(&str, &str)],
) -> Result<Applied, Routed> {
    let mut filter: Option<Filter> = None;
    let mut grouped: Option<(Vec<GroupKey>, Vec<Aggregate>)> = None;
    let mut steps = 0;
    for step in split_top_level(text, '/')? {
        let (name, args) = call(step)?;
        if grouped.is_some() {
            return Err(unsupported(format!(
                "the $apply step '{name}' after groupby or aggregate is not supported: filter first, then group"
            )));
        }
        match name {
            "filter" => {
                steps += 1;
                if args.trim().is_empty() {
                    return Err(syntax("filter() in $apply is empty"));
                }
                let f = parse_filter(args, schema, table, aliases).map_err(|FilterError::Syntax(m)| syntax(m))?;
                filter = Some(match filter {
                    None => f,
                    Some(before) => Filter::And(Box::new(before), Box::new(f)),
                });
            }
            "groupby" => grouped = Some(group_by(args, schema, table)?),
            "aggregate" => grouped = Some((Vec::new(), aggregates(args, table)?)),
            other if UNSUPPORTED.contains(&other) => {
                return Err(unsupported(format!("the $apply transformation '{other}' is not supported by Dataverse")));
            }
            other => return Err(syntax(format!("'{other}' is not an $apply transformation"))),
        }
    }
    // Each step joined with `and` prints one level deeper: what is forwarded must parse.
    if let Some(f) = &filter
        && steps > 1
        && parse_filter(&crate::print::filter_odata(schema, table, f), schema, table, &[]).is_err()
    {
        return Err(syntax("The filter() steps of $apply are nested too deeply"));
    }
    Ok(match grouped {
        None => Applied::Filter(filter.ok_or_else(|| syntax("$apply is empty"))?),
        Some((group_by, aggregates)) => Applied::Aggregation(Aggregation {
            table: table.logical_name.clone(),
            filter,
            group_by,
            aggregates,
            orderby: Vec::new(),
            top: None,
        }),
    })
}

/// The aggregation with the request's `$orderby` (group keys only) and `$top`.
pub(crate) fn with_order(mut a: Aggregation, orderby: Vec<OrderBy>, top: Option<u32>) -> Result<Aggregation, Routed> {
    if orderby.iter().any(|o| !a.group_by.iter().any(|k| k.is(o))) {
        // Dataverse's answer to ordering by an aggregate value (or anything not grouped by).
        return Err(syntax("The query node SingleValueOpenPropertyAccess is not supported"));
    }
    a.orderby = orderby;
    a.top = top;
    Ok(a)
}

/// `name(args)`: the step's name and the text between its outer parentheses.
fn call(step: &str) -> Result<(&str, &str), Routed> {
    let step = step.trim();
    let open = step.find('(').ok_or_else(|| syntax(format!("'{step}' in $apply is not a transformation call")))?;
    let name = &step[..open];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(syntax(format!("'{step}' in $apply is not a transformation call")));
    }
    let inner = step[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| syntax(format!("The $apply step '{name}' is missing its closing parenthesis")))?;
    Ok((name, inner))
}

/// Splits at `sep` outside parentheses and string literals; refuses unbalanced parentheses and
/// unterminated strings.
fn split_top_level(text: &str, sep: char) -> Result<Vec<&str>, Routed> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth = depth.checked_sub(1).ok_or_else(|| syntax("$apply has an unbalanced parenthesis"))?;
            }
            c if c == sep && !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if quoted {
        return Err(syntax("$apply has an unterminated string"));
    }
    if depth != 0 {
        return Err(syntax("$apply has an unbalanced parenthesis"));
    }
    parts.push(&text[start..]);
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(syntax(format!("$apply has an empty item between '{sep}'")));
    }
    Ok(parts)
}

/// `(p1,p2)` or `(p1,p2),aggregate(…)`.
fn group_by(args: &str, schema: &Schema, table: &Table) -> Result<(Vec<GroupKey>, Vec<Aggregate>), Routed> {
    let parts = split_top_level(args, ',')?;
    let keys_text = parts[0].trim();
    let keys_inner = keys_text
        .strip_prefix('(')
        .and_then(|k| k.strip_suffix(')'))
        .ok_or_else(|| syntax("groupby takes its properties in parentheses: groupby((name,statuscode))"))?;
    let mut keys: Vec<GroupKey> = Vec::new();
    for name in split_top_level(keys_inner, ',')? {
        let name = name.trim();
        let (path, column) = column_path(schema, table, name, "groupby")?;
        if matches!(column.kind, ColumnType::DateTime | ColumnType::DateOnly) {
            return Err(syntax(format!(
                "groupby with date and time values is not supported ('{name}'); use FetchXML dategrouping"
            )));
        }
        let key = GroupKey { path, column: column.logical_name.clone(), alias: None, date_part: None };
        if keys.contains(&key) {
            return Err(syntax(format!("groupby names '{name}' twice")));
        }
        keys.push(key);
    }
    let aggregates = match &parts[1..] {
        [] => Vec::new(),
        [rest] => match call(rest)? {
            ("aggregate", inner) => aggregates(inner, table)?,
            (other, _) => {
                return Err(unsupported(format!("the transformation '{other}' inside groupby is not supported")));
            }
        },
        _ => return Err(syntax("groupby takes its properties and at most one aggregate(…)")),
    };
    let names: Vec<String> = keys.iter().map(|k| k.output_name(schema, &table.logical_name)).collect();
    if let Some(a) = aggregates.iter().find(|a| names.contains(&a.alias)) {
        return Err(syntax(format!("The alias '{}' is also the name of a group key", a.alias)));
    }
    Ok((keys, aggregates))
}

/// `$count as n, revenue with sum as total, …`.
fn aggregates(args: &str, table: &Table) -> Result<Vec<Aggregate>, Routed> {
    let mut out: Vec<Aggregate> = Vec::new();
    for item in split_top_level(args, ',')? {
        let words: Vec<&str> = item.split_whitespace().collect();
        let (function, column, alias) = match words.as_slice() {
            ["$count", "as", alias] => (AggregateFunction::Count, None, *alias),
            [property, "with", method, "as", alias] => {
                if property.contains('/') {
                    return Err(unsupported(format!(
                        "aggregating a related column ('{property}') is not supported: aggregate over that table"
                    )));
                }
                let function = match AggregateFunction::from_keyword(method) {
                    Some(f) => f,
                    None if *method == "countdistinct" => {
                        return Err(unsupported("countdistinct is not supported in Dataverse's $apply (use FetchXML)"));
                    }
                    None => {
                        return Err(syntax(format!(
                            "'{method}' is not an aggregation method: use sum, average, min, max or $count"
                        )));
                    }
                };
                let column = table
                    .column_by_odata_name(property)
                    .ok_or_else(|| Routed::Error(super::options::unknown_property(table, property)))?;
                check_aggregable(function, &column.kind, property)?;
                (function, Some(column.logical_name.clone()), *alias)
            }
            _ => {
                return Err(syntax(format!(
                    "'{}' is not an aggregate: write 'column with sum as alias' or '$count as alias'",
                    item.trim()
                )));
            }
        };
        if !is_identifier(alias) {
            return Err(syntax(format!("'{alias}' is not a valid alias")));
        }
        if out.iter().any(|a| a.alias == alias) {
            return Err(syntax(format!("The alias '{alias}' is used twice")));
        }
        out.push(Aggregate { function, column, alias: alias.to_owned() });
    }
    Ok(out)
}

/// `sum` and `average` take numbers; `min` and `max` numbers and dates.
fn check_aggregable(function: AggregateFunction, kind: &ColumnType, name: &str) -> Result<(), Routed> {
    let number = matches!(
        kind,
        ColumnType::Integer | ColumnType::BigInt | ColumnType::Decimal | ColumnType::Double | ColumnType::Money
    );
    let date = matches!(kind, ColumnType::DateTime | ColumnType::DateOnly);
    let ok = match function {
        AggregateFunction::Count | AggregateFunction::CountColumn | AggregateFunction::CountDistinct => true,
        AggregateFunction::Sum | AggregateFunction::Average => number,
        AggregateFunction::Min | AggregateFunction::Max => number || date,
    };
    if ok {
        Ok(())
    } else {
        Err(syntax(format!(
            "{} cannot aggregate '{name}' ({}): it takes number, money{} columns",
            function.keyword().unwrap_or("$count"),
            kind.edm_name(),
            if matches!(function, AggregateFunction::Min | AggregateFunction::Max) { " and date" } else { "" }
        )))
    }
}

/// An alias: a letter or `_`, then letters, digits and `_`, at most 100 characters.
fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    s.len() <= 100
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
