//! FetchXML conditions as the query IR's [`Filter`]: each condition written as its OData twin
//! and parsed with the one `$filter` parser, so every operator types its values and behaves as
//! in OData; the lowered filter must name only the condition's own column.

use super::{FetchCondition, FetchError, FetchFilter, FetchItem, column, invalid};
use crate::metadata::{Schema, Table};
use crate::query::Filter;

/// The OData query function of a FetchXML date, user or hierarchy operator.
fn function_of(operator: &str) -> Option<&'static str> {
    Some(match operator {
        "yesterday" => "Yesterday",
        "today" => "Today",
        "tomorrow" => "Tomorrow",
        "last-seven-days" => "Last7Days",
        "next-seven-days" => "Next7Days",
        "last-week" => "LastWeek",
        "this-week" => "ThisWeek",
        "next-week" => "NextWeek",
        "last-month" => "LastMonth",
        "this-month" => "ThisMonth",
        "next-month" => "NextMonth",
        "last-year" => "LastYear",
        "this-year" => "ThisYear",
        "next-year" => "NextYear",
        "last-x-hours" => "LastXHours",
        "next-x-hours" => "NextXHours",
        "last-x-days" => "LastXDays",
        "next-x-days" => "NextXDays",
        "last-x-weeks" => "LastXWeeks",
        "next-x-weeks" => "NextXWeeks",
        "last-x-months" => "LastXMonths",
        "next-x-months" => "NextXMonths",
        "last-x-years" => "LastXYears",
        "next-x-years" => "NextXYears",
        "olderthan-x-minutes" => "OlderThanXMinutes",
        "olderthan-x-hours" => "OlderThanXHours",
        "olderthan-x-days" => "OlderThanXDays",
        "olderthan-x-weeks" => "OlderThanXWeeks",
        "olderthan-x-months" => "OlderThanXMonths",
        "olderthan-x-years" => "OlderThanXYears",
        "on" => "On",
        "on-or-before" => "OnOrBefore",
        "on-or-after" => "OnOrAfter",
        "this-fiscal-year" => "ThisFiscalYear",
        "this-fiscal-period" => "ThisFiscalPeriod",
        "next-fiscal-year" => "NextFiscalYear",
        "next-fiscal-period" => "NextFiscalPeriod",
        "last-fiscal-year" => "LastFiscalYear",
        "last-fiscal-period" => "LastFiscalPeriod",
        "last-x-fiscal-years" => "LastXFiscalYears",
        "last-x-fiscal-periods" => "LastXFiscalPeriods",
        "next-x-fiscal-years" => "NextXFiscalYears",
        "next-x-fiscal-periods" => "NextXFiscalPeriods",
        "in-fiscal-year" => "InFiscalYear",
        "in-fiscal-period" => "InFiscalPeriod",
        "in-fiscal-period-and-year" => "InFiscalPeriodAndYear",
        "in-or-before-fiscal-period-and-year" => "InOrBeforeFiscalPeriodAndYear",
        "in-or-after-fiscal-period-and-year" => "InOrAfterFiscalPeriodAndYear",
        "eq-userid" => "EqualUserId",
        "ne-userid" => "NotEqualUserId",
        "eq-userteams" => "EqualUserTeams",
        "eq-useroruserteams" => "EqualUserOrUserTeams",
        "eq-useroruserhierarchy" => "EqualUserOrUserHierarchy",
        "eq-useroruserhierarchyandteams" => "EqualUserOrUserHierarchyAndTeams",
        "eq-businessid" => "EqualBusinessId",
        "ne-businessid" => "NotEqualBusinessId",
        "above" => "Above",
        "eq-or-above" => "AboveOrEqual",
        "under" => "Under",
        "eq-or-under" => "UnderOrEqual",
        "not-under" => "NotUnder",
        "eq-userlanguage" => "EqualUserLanguage",
        "contain-values" => "ContainValues",
        "not-contain-values" => "DoesNotContainValues",
        _ => return None,
    })
}

/// An OData literal of `value` for `column`: quoted text, or as written for numbers, dates,
/// GUIDs and booleans (the OData parser checks it against the column's type).
fn literal(column: &crate::metadata::Column, value: &str) -> String {
    use crate::metadata::ColumnType as T;
    match &column.kind {
        T::String { .. } | T::Memo { .. } => format!("'{}'", value.replace('\'', "''")),
        T::Boolean { .. } => match value {
            "1" | "true" => "true".into(),
            "0" | "false" => "false".into(),
            other => format!("'{}'", other.replace('\'', "''")),
        },
        T::Uniqueidentifier | T::Lookup { .. } => {
            match uuid::Uuid::try_parse(value.trim_matches(|c| c == '{' || c == '}')) {
                Ok(id) => id.to_string(),
                Err(_) => format!("'{}'", value.replace('\'', "''")),
            }
        }
        // A number or a date as written; anything else quoted, so it can only be a (mistyped)
        // string, never a column name or `null`.
        _ => {
            let starts = value.bytes().next().is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'));
            if starts && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.' | b':')) {
                value.to_owned()
            } else {
                format!("'{}'", value.replace('\'', "''"))
            }
        }
    }
}

/// A condition as the query IR's filter over `table`.
pub fn lower_condition(c: &FetchCondition, schema: &Schema, table: &Table) -> Result<Filter, FetchError> {
    let col = column(table, &c.attribute)?;
    let name = col.odata_name();
    let one = || -> Result<String, FetchError> {
        match c.values.as_slice() {
            [v] => Ok(literal(col, v)),
            _ => Err(invalid(format!("The operator '{}' takes one value", c.operator))),
        }
    };
    let none = || -> Result<(), FetchError> {
        if c.values.is_empty() { Ok(()) } else { Err(invalid(format!("The operator '{}' takes no value", c.operator))) }
    };
    let text_value = || -> Result<String, FetchError> {
        match c.values.as_slice() {
            [v] => Ok(v.clone()),
            _ => Err(invalid(format!("The operator '{}' takes one value", c.operator))),
        }
    };
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let odata = match (c.operator.as_str(), &c.valueof) {
        // `valueof`: the other column of the same table (checked by the parser).
        (op, Some(other)) => format!("{name} {op} {}", column(table, other)?.odata_name()),
        (op, None) => match op {
            op @ ("eq" | "ne" | "gt" | "ge" | "lt" | "le") => format!("{name} {op} {}", one()?),
            "null" => {
                none()?;
                format!("{name} eq null")
            }
            "not-null" => {
                none()?;
                format!("{name} ne null")
            }
            "like" | "not-like" => {
                let v = text_value()?;
                let f = match crate::parse::like_odata(&name, &v) {
                    Some(f) => f,
                    // No wildcard at all: equality, as LIKE without wildcards is.
                    None if !v.contains(['%', '_', '[']) => format!("{name} eq {}", quoted(&v)),
                    None => {
                        return Err(super::unsupported(
                            "like patterns whose wildcards are only inside the value are not supported yet",
                        ));
                    }
                };
                if c.operator == "like" { f } else { format!("not ({f})") }
            }
            "begins-with" => format!("startswith({name},{})", quoted(&text_value()?)),
            "not-begin-with" => format!("not startswith({name},{})", quoted(&text_value()?)),
            "ends-with" => format!("endswith({name},{})", quoted(&text_value()?)),
            "not-end-with" => format!("not endswith({name},{})", quoted(&text_value()?)),
            "in" | "not-in" => {
                if c.values.is_empty() {
                    return Err(invalid(format!("The operator '{}' needs at least one value", c.operator)));
                }
                let parts: Vec<String> = c.values.iter().map(|v| format!("{name} eq {}", literal(col, v))).collect();
                let f = format!("({})", parts.join(" or "));
                if c.operator == "in" { f } else { format!("not {f}") }
            }
            "between" | "not-between" => {
                let [low, high] = c.values.as_slice() else {
                    return Err(invalid(format!("The operator '{}' takes two values", c.operator)));
                };
                let f = format!("({name} ge {} and {name} le {})", literal(col, low), literal(col, high));
                if c.operator == "between" { f } else { format!("not {f}") }
            }
            op => {
                let Some(function) = function_of(op) else {
                    return Err(invalid(format!("'{op}' is not a condition operator")));
                };
                let args = match c.values.as_slice() {
                    [] => String::new(),
                    [v] if matches!(op, "contain-values" | "not-contain-values") => {
                        format!(",PropertyValues=[{}]", literal(col, v))
                    }
                    values if matches!(op, "contain-values" | "not-contain-values") => {
                        let items: Vec<String> = values.iter().map(|v| literal(col, v)).collect();
                        format!(",PropertyValues=[{}]", items.join(","))
                    }
                    [v] => format!(",PropertyValue={}", literal(col, v)),
                    [a, b] => format!(",PropertyValue1={},PropertyValue2={}", literal(col, a), literal(col, b)),
                    _ => return Err(invalid(format!("The operator '{op}' takes at most two values"))),
                };
                format!("Microsoft.Dynamics.CRM.{function}(PropertyName='{}'{args})", col.logical_name)
            }
        },
    };
    let filter = crate::parse::filter_text(&odata, schema, table)
        .map_err(|m| invalid(format!("condition on {}: {m}", c.attribute)))?;
    // The condition must be about its own column only (and its `valueof` column), whatever its
    // value held.
    let fits = match &c.valueof {
        Some(other) => matches!(
            &filter,
            Filter::Compare { left: crate::query::Operand::Column(a), right: crate::query::Operand::Column(b), .. }
                if *a == c.attribute && b == other
        ),
        None => only_column(&filter, &c.attribute),
    };
    if !fits {
        return Err(invalid(format!("The value of the condition on {} is not a value", c.attribute)));
    }
    Ok(filter)
}

/// Whether every column the filter names is `column` of its own table.
fn only_column(f: &Filter, column: &str) -> bool {
    use crate::query::Operand;
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => only_column(a, column) && only_column(b, column),
        Filter::Not(a) => only_column(a, column),
        // The column against a value: a value that parsed as another column (or this one) is not
        // a value.
        Filter::Compare { left, right, .. } => match (left, right) {
            (Operand::Column(c), Operand::Value(_)) | (Operand::Value(_), Operand::Column(c)) => c == column,
            _ => false,
        },
        Filter::Text { path, column: c, .. } => path.is_empty() && c == column,
        Filter::Function { column: c, .. } => c == column,
        Filter::Any { .. } | Filter::All { .. } => false,
    }
}

/// A filter as the query IR's filter over `table`; `None` when it holds nothing.
pub fn lower_filter(f: &FetchFilter, schema: &Schema, table: &Table) -> Result<Option<Filter>, FetchError> {
    let mut out: Option<Filter> = None;
    for item in &f.items {
        let next = match item {
            FetchItem::Condition(c) => Some(lower_condition(c, schema, table)?),
            FetchItem::Filter(inner) => lower_filter(inner, schema, table)?,
        };
        if let Some(next) = next {
            out = Some(match out {
                None => next,
                Some(prev) if f.or => Filter::Or(Box::new(prev), Box::new(next)),
                Some(prev) => Filter::And(Box::new(prev), Box::new(next)),
            });
        }
    }
    Ok(out)
}
