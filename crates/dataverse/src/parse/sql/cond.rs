//! `WHERE` and `ON` conditions as a tree that writes both twins: `$filter` text (one table)
//! and FetchXML `filter`/`condition` elements (with joins).

use super::{like, unsupported};
use crate::metadata::Column;
use crate::parse::Routed;

/// A literal as OData writes it and as its raw value (FetchXML).
#[derive(Debug, Clone)]
pub(super) struct Lit {
    pub(super) odata: String,
    pub(super) raw: String,
}

#[derive(Debug, Clone)]
pub(super) enum PredKind {
    Null,
    Like(String),
    In(Vec<Lit>),
    Between(Lit, Lit),
    Cmp(&'static str, Lit),
}

/// `column …` on one table (`not` for `IS NOT NULL`, `NOT LIKE`, `NOT IN`, `NOT BETWEEN`).
#[derive(Debug, Clone)]
pub(super) struct Pred<'s> {
    pub(super) source: usize,
    pub(super) column: &'s Column,
    pub(super) not: bool,
    pub(super) kind: PredKind,
}

/// A `WHERE` or `ON` condition, kept as written (groups included) so its OData twin reads the
/// same.
#[derive(Debug, Clone)]
pub(super) enum Cond<'s> {
    Or(Vec<Cond<'s>>),
    And(Vec<Cond<'s>>),
    Not(Box<Cond<'s>>),
    Group(Box<Cond<'s>>),
    Pred(Pred<'s>),
}

impl<'s> Cond<'s> {
    /// The `$filter` text.
    pub(super) fn odata(&self) -> Result<String, Routed> {
        Ok(match self {
            Cond::Or(items) => items.iter().map(Cond::odata).collect::<Result<Vec<_>, _>>()?.join(" or "),
            Cond::And(items) => items.iter().map(Cond::odata).collect::<Result<Vec<_>, _>>()?.join(" and "),
            Cond::Not(c) => format!("not ({})", c.odata()?),
            Cond::Group(c) => format!("({})", c.odata()?),
            Cond::Pred(p) => {
                let name = p.column.odata_name();
                if let PredKind::Null = p.kind {
                    return Ok(format!("{name} {} null", if p.not { "ne" } else { "eq" }));
                }
                let text = match &p.kind {
                    PredKind::Null => unreachable!("handled above"),
                    PredKind::Like(pattern) => like(&name, pattern)?,
                    PredKind::In(values) => {
                        let parts: Vec<String> = values.iter().map(|v| format!("{name} eq {}", v.odata)).collect();
                        format!("({})", parts.join(" or "))
                    }
                    PredKind::Between(low, high) => format!("({name} ge {} and {name} le {})", low.odata, high.odata),
                    PredKind::Cmp(op, v) => format!("{name} {op} {}", v.odata),
                };
                if p.not { format!("not ({text})") } else { text }
            }
        })
    }

    /// The sources the condition names.
    pub(super) fn sources(&self, out: &mut Vec<usize>) {
        match self {
            Cond::Or(items) | Cond::And(items) => items.iter().for_each(|c| c.sources(out)),
            Cond::Not(c) | Cond::Group(c) => c.sources(out),
            Cond::Pred(p) => {
                if !out.contains(&p.source) {
                    out.push(p.source);
                }
            }
        }
    }

    /// The conditions that must all hold (through groups and `AND`s).
    pub(super) fn conjuncts(self, out: &mut Vec<Cond<'s>>) {
        match self {
            Cond::And(items) => items.into_iter().for_each(|c| c.conjuncts(out)),
            Cond::Group(c) => c.conjuncts(out),
            other => out.push(other),
        }
    }

    /// As a FetchXML `filter` child (`condition` or `filter`).
    pub(super) fn fetch(&self, negate: bool) -> Result<crate::xml::Element, Routed> {
        use crate::xml::{Element, Node};
        Ok(match self {
            Cond::Or(items) | Cond::And(items) => {
                if negate {
                    return Err(unsupported("NOT over AND/OR in sql with JOIN is not supported yet"));
                }
                let mut f = Element::new("filter").attr("type", if matches!(self, Cond::Or(_)) { "or" } else { "and" });
                for c in items {
                    f = f.child(c.fetch(false)?);
                }
                f
            }
            Cond::Group(c) => c.fetch(negate)?,
            Cond::Not(c) => c.fetch(!negate)?,
            Cond::Pred(p) => {
                let not = p.not != negate;
                let value = |v: &str| {
                    let mut e = Element::new("value");
                    e.children.push(Node::Text(v.to_owned()));
                    e
                };
                let c = Element::new("condition").attr("attribute", &p.column.logical_name);
                match &p.kind {
                    PredKind::Null => c.attr("operator", if not { "not-null" } else { "null" }),
                    PredKind::Like(pattern) => {
                        c.attr("operator", if not { "not-like" } else { "like" }).attr("value", pattern.as_str())
                    }
                    PredKind::In(values) => {
                        let mut c = c.attr("operator", if not { "not-in" } else { "in" });
                        for v in values {
                            c = c.child(value(&v.raw));
                        }
                        c
                    }
                    PredKind::Between(low, high) => c
                        .attr("operator", if not { "not-between" } else { "between" })
                        .child(value(&low.raw))
                        .child(value(&high.raw)),
                    PredKind::Cmp(op, v) => {
                        let op = match (*op, not) {
                            (op, false) => op,
                            ("eq", true) => "ne",
                            ("ne", true) => "eq",
                            ("lt", true) => "ge",
                            ("ge", true) => "lt",
                            ("gt", true) => "le",
                            (_, true) => "gt",
                        };
                        c.attr("operator", op).attr("value", v.raw.as_str())
                    }
                }
            }
        })
    }
}
