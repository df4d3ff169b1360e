//! FetchXML (spec §4): parsed from the `fetchXml` query option into [`Fetch`], checked against
//! the schema, printed back canonically for forwarding, and lowered per condition to the query
//! IR's [`Filter`] (the emulator executes that; the parser lowers every condition once so bad
//! names and values are refused before anything is sent).
//!
//! Parsing goes through [`crate::xml`] (no DTDs, no undeclared entities, size and depth
//! limits) and refuses every element and attribute it does not know, naming it (design §6.1).
//! Supported: `fetch` (`top`, `count`, `page`, `paging-cookie`, `distinct`,
//! `returntotalrecordcount`, and the legacy `version`, `mapping='logical'`, `output-format`,
//! `no-lock`), `entity`, `attribute` (with `alias`), `all-attributes`, `order`, nested
//! `filter`/`condition` with every operator of spec §4.3 that the query functions cover,
//! `link-entity` (nested; `inner`, `outer`, `exists`, `in`, `any`, `not any`), and aggregation
//! (`aggregate='true'`: `groupby` with `dategrouping`, `count`, `countcolumn` with `distinct`,
//! `sum`, `avg`, `min`, `max` under aliases; see [`Fetch::aggregation`]). Not supported yet
//! (refused as such): links and paging in aggregate queries, fiscal date grouping,
//! `link-type='all'`/`'not all'`, conditions naming a link by `entityname`. The
//! multi-select operators are recognised and refused for lack of a multi-select column (the
//! standard tables have none).

mod lower;
mod print;

pub use lower::{lower_condition, lower_filter};
pub use print::print;

use crate::metadata::{Schema, Table};
use crate::query::Filter;
use crate::xml::{self, Element};

/// Longest FetchXML accepted (bytes, decoded).
pub const MAX_LEN: usize = 64 * 1024;

/// A FetchXML query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The `entity` element.
    pub root: FetchEntity,
    /// `top`: most rows.
    pub top: Option<u32>,
    /// `count`: page size.
    pub count: Option<u32>,
    /// `page`: 1-based page number.
    pub page: Option<u32>,
    /// `paging-cookie`, as received.
    pub paging_cookie: Option<String>,
    /// `distinct='true'`.
    pub distinct: bool,
    /// `returntotalrecordcount='true'`.
    pub total_count: bool,
    /// `aggregate='true'`: the attributes are group keys and aggregates (see [`Fetch::aggregation`]).
    pub aggregate: bool,
}

/// An `entity` or `link-entity`'s contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchEntity {
    /// Table logical name.
    pub table: String,
    /// `attribute` elements.
    pub attributes: Vec<FetchAttribute>,
    /// `all-attributes`.
    pub all_attributes: bool,
    /// `order` elements.
    pub orders: Vec<FetchOrder>,
    /// `filter` elements (all must hold).
    pub filters: Vec<FetchFilter>,
    /// `link-entity` elements.
    pub links: Vec<FetchLink>,
}

/// An `attribute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchAttribute {
    /// The column (logical name).
    pub name: String,
    /// `alias`.
    pub alias: Option<String>,
    /// `aggregate` (aggregate queries): `count`, `countcolumn`, `sum`, `avg`, `min`, `max`.
    pub aggregate: Option<String>,
    /// `distinct='true'` (with `countcolumn`).
    pub distinct: bool,
    /// `groupby='true'`.
    pub groupby: bool,
    /// `dategrouping`.
    pub date_part: Option<crate::query::DatePart>,
}

/// An `order`: by a column, or by an alias (aggregate queries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOrder {
    /// `attribute`.
    pub attribute: Option<String>,
    /// `alias`.
    pub alias: Option<String>,
    /// `descending='true'`.
    pub descending: bool,
}

/// A `link-entity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchLink {
    /// The linked table and what is read of it.
    pub entity: FetchEntity,
    /// `from`: the column of the linked table.
    pub from: String,
    /// `to`: the column of the parent element's table.
    pub to: String,
    /// `link-type`.
    pub kind: LinkKind,
    /// `alias`, as given.
    pub alias: Option<String>,
}

/// `link-type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `inner` (the default): rows with a linked row, one per linked row.
    Inner,
    /// `outer`: every row, with the linked row's columns when there is one.
    Outer,
    /// `exists`, `in`, `any`: rows with at least one matching linked row (no columns).
    Exists,
    /// `not any`: rows with no matching linked row.
    NotAny,
}

impl LinkKind {
    fn name(self, original_any: bool) -> &'static str {
        match self {
            LinkKind::Inner => "inner",
            LinkKind::Outer => "outer",
            LinkKind::Exists if original_any => "any",
            LinkKind::Exists => "exists",
            LinkKind::NotAny => "not any",
        }
    }
}

/// A `filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchFilter {
    /// `type='or'`.
    pub or: bool,
    /// Conditions and nested filters, in order.
    pub items: Vec<FetchItem>,
}

/// One item of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    /// A `condition`.
    Condition(FetchCondition),
    /// A nested `filter`.
    Filter(FetchFilter),
}

/// A `condition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchCondition {
    /// `attribute` (logical name).
    pub attribute: String,
    /// `operator`, as written (`neq` kept as `ne`).
    pub operator: String,
    /// `value` or `<value>` children.
    pub values: Vec<String>,
    /// `valueof`: compared with another column of the same table instead of a value.
    pub valueof: Option<String>,
}

/// Why a FetchXML query is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Not acceptable: a 400 naming the problem.
    Invalid(String),
    /// Valid FetchXML Stanchion does not support yet.
    Unsupported(String),
}

fn invalid(m: impl Into<String>) -> FetchError {
    FetchError::Invalid(m.into())
}

fn unsupported(m: impl Into<String>) -> FetchError {
    FetchError::Unsupported(m.into())
}

fn flag(e: &Element, name: &str) -> Result<bool, FetchError> {
    match e.get(name) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(v) => Err(invalid(format!("{name}='{v}' must be true or false"))),
    }
}

fn number(e: &Element, name: &str) -> Result<Option<u32>, FetchError> {
    e.get(name)
        .map(|v| v.parse::<u32>().map_err(|_| invalid(format!("{name}='{v}' must be a whole number"))))
        .transpose()
}

fn only(e: &Element, allowed: &[&str]) -> Result<(), FetchError> {
    match e.attributes.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
        Some((n, _)) => Err(invalid(format!("The attribute '{n}' is not valid on <{}>", e.name))),
        None => Ok(()),
    }
}

fn column<'t>(table: &'t Table, name: &str) -> Result<&'t crate::metadata::Column, FetchError> {
    table.column(name).ok_or_else(|| invalid(crate::parse::unknown_property(table, name).to_string()))
}

/// Parses the `fetchXml` option for the entity set's table.
pub fn parse(text: &str, schema: &Schema, set_table: &Table) -> Result<Fetch, FetchError> {
    if text.len() > MAX_LEN {
        return Err(invalid(format!("The FetchXML is longer than {MAX_LEN} bytes")));
    }
    let root = xml::parse(text, MAX_LEN).map_err(|e| invalid(format!("The FetchXML is not valid: {e}")))?;
    if root.name != "fetch" {
        return Err(invalid(format!("The FetchXML root element must be <fetch>, not <{}>", root.name)));
    }
    only(
        &root,
        &[
            "version",
            "mapping",
            "output-format",
            "count",
            "page",
            "paging-cookie",
            "top",
            "distinct",
            "aggregate",
            "returntotalrecordcount",
            "no-lock",
            "latematerialize",
        ],
    )?;
    if root.get("useraworderby").is_some() {
        return Err(unsupported("useraworderby is not supported yet"));
    }
    if root.get("mapping").is_some_and(|m| m != "logical") {
        return Err(invalid("mapping must be 'logical'"));
    }
    let aggregate = flag(&root, "aggregate")?;
    let top = number(&root, "top")?;
    let count = number(&root, "count")?;
    let page = number(&root, "page")?;
    if top.is_some() && (count.is_some() || page.is_some()) {
        return Err(invalid("The top attribute can't be specified with paging attribute page or count"));
    }
    for (name, v) in [("top", top), ("count", count)] {
        if v.is_some_and(|n| n == 0 || n > 5000) {
            return Err(invalid(format!("{name} must be between 1 and 5000")));
        }
    }
    if page == Some(0) {
        return Err(invalid("page starts at 1"));
    }
    let entities: Vec<&Element> = root.elements().collect();
    let [entity] = entities.as_slice() else {
        return Err(invalid("<fetch> must hold exactly one <entity>"));
    };
    if entity.name != "entity" {
        return Err(invalid(format!("<fetch> must hold <entity>, not <{}>", entity.name)));
    }
    only(entity, &["name"])?;
    let name = entity.get("name").ok_or_else(|| invalid("<entity> needs a name"))?;
    if name != set_table.logical_name {
        return Err(invalid(format!(
            "The entity name '{name}' does not match the entity set {} of the URL",
            set_table.set_name
        )));
    }
    let root_entity = entity_contents(entity, schema, set_table, 0, aggregate)?;
    let fetch = Fetch {
        root: root_entity,
        top,
        count,
        page,
        paging_cookie: root.get("paging-cookie").map(str::to_owned),
        distinct: flag(&root, "distinct")?,
        total_count: flag(&root, "returntotalrecordcount")?,
        aggregate,
    };
    if aggregate {
        fetch.aggregation(schema)?;
    }
    Ok(fetch)
}

fn entity_contents(
    e: &Element,
    schema: &Schema,
    table: &Table,
    depth: usize,
    aggregate: bool,
) -> Result<FetchEntity, FetchError> {
    if depth > 10 {
        return Err(invalid("link-entity is nested too deeply"));
    }
    let mut out = FetchEntity {
        table: table.logical_name.clone(),
        attributes: Vec::new(),
        all_attributes: false,
        orders: Vec::new(),
        filters: Vec::new(),
        links: Vec::new(),
    };
    for c in e.elements() {
        match c.name.as_str() {
            "attribute" => {
                if c.get("usertimezone").is_some() {
                    return Err(unsupported("usertimezone is not supported yet: date grouping is in UTC"));
                }
                only(c, &["name", "alias", "aggregate", "groupby", "dategrouping", "distinct"])?;
                let name = c.get("name").ok_or_else(|| invalid("<attribute> needs a name"))?;
                column(table, name)?;
                let alias = c.get("alias").map(alias_ok).transpose()?;
                let aggregate_fn = c.get("aggregate").map(str::to_owned);
                let groupby = flag(c, "groupby")?;
                if !aggregate && (aggregate_fn.is_some() || groupby) {
                    return Err(invalid("aggregate and groupby need aggregate='true' on <fetch>"));
                }
                let date_part = match c.get("dategrouping") {
                    None => None,
                    Some("day") => Some(crate::query::DatePart::Day),
                    Some("week") => Some(crate::query::DatePart::Week),
                    Some("month") => Some(crate::query::DatePart::Month),
                    Some("quarter") => Some(crate::query::DatePart::Quarter),
                    Some("year") => Some(crate::query::DatePart::Year),
                    Some(other @ ("fiscal-period" | "fiscal-year")) => {
                        return Err(unsupported(format!("dategrouping='{other}' is not supported yet")));
                    }
                    Some(other) => return Err(invalid(format!("dategrouping='{other}' is not valid"))),
                };
                out.attributes.push(FetchAttribute {
                    name: name.to_owned(),
                    alias,
                    aggregate: aggregate_fn,
                    distinct: flag(c, "distinct")?,
                    groupby,
                    date_part,
                });
            }
            "all-attributes" => {
                only(c, &[])?;
                if aggregate {
                    return Err(invalid("all-attributes cannot be used in an aggregate query"));
                }
                out.all_attributes = true;
            }
            "order" => {
                only(c, &["attribute", "alias", "descending"])?;
                let order = FetchOrder {
                    attribute: c.get("attribute").map(str::to_owned),
                    alias: c.get("alias").map(alias_ok).transpose()?,
                    descending: flag(c, "descending")?,
                };
                match (&order.attribute, &order.alias, aggregate) {
                    (Some(name), None, false) => {
                        column(table, name)?;
                    }
                    (None, Some(_), true) => {}
                    (_, _, true) => return Err(invalid("An order in an aggregate query names an alias")),
                    _ => return Err(invalid("An order names an attribute")),
                }
                out.orders.push(order);
            }
            "filter" => out.filters.push(filter(c, table, schema, 0)?),
            "link-entity" if aggregate => {
                return Err(unsupported("link-entity in an aggregate FetchXML query is not supported yet"));
            }
            "link-entity" => out.links.push(link(c, schema, table, depth)?),
            other => return Err(invalid(format!("The element <{other}> is not valid inside <{}>", e.name))),
        }
    }
    Ok(out)
}

fn alias_ok(a: &str) -> Result<String, FetchError> {
    let ok = !a.is_empty()
        && a.len() <= 100
        && a.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok { Ok(a.to_owned()) } else { Err(invalid(format!("'{a}' is not a valid alias"))) }
}

fn link(e: &Element, schema: &Schema, parent: &Table, depth: usize) -> Result<FetchLink, FetchError> {
    only(e, &["name", "from", "to", "alias", "link-type", "visible", "intersect"])?;
    let name = e.get("name").ok_or_else(|| invalid("<link-entity> needs a name"))?;
    let table = schema.table(name).ok_or_else(|| invalid(crate::parse::unknown_table(name)))?;
    let from = e.get("from").ok_or_else(|| invalid("<link-entity> needs from"))?;
    let to = e.get("to").ok_or_else(|| invalid("<link-entity> needs to"))?;
    column(table, from)?;
    column(parent, to)?;
    let kind = match e.get("link-type").unwrap_or("inner") {
        "inner" => LinkKind::Inner,
        "outer" => LinkKind::Outer,
        "exists" | "in" | "any" => LinkKind::Exists,
        "not any" => LinkKind::NotAny,
        "all" | "not all" | "matchfirstrowusingcrossapply" => {
            return Err(unsupported(format!("link-type='{}' is not supported yet", e.get("link-type").unwrap_or(""))));
        }
        other => return Err(invalid(format!("link-type='{other}' is not valid"))),
    };
    let entity = entity_contents(e, schema, table, depth + 1, false)?;
    if matches!(kind, LinkKind::Exists | LinkKind::NotAny) && (!entity.attributes.is_empty() || entity.all_attributes) {
        return Err(invalid(format!(
            "A link-entity with link-type '{}' cannot return attributes",
            e.get("link-type").unwrap_or("")
        )));
    }
    Ok(FetchLink {
        entity,
        from: from.to_owned(),
        to: to.to_owned(),
        kind,
        alias: e.get("alias").map(alias_ok).transpose()?,
    })
}

fn filter(e: &Element, table: &Table, schema: &Schema, depth: usize) -> Result<FetchFilter, FetchError> {
    if depth > 16 {
        return Err(invalid("filters are nested too deeply"));
    }
    only(e, &["type", "hint"])?;
    let or = match e.get("type").unwrap_or("and") {
        "and" => false,
        "or" => true,
        other => return Err(invalid(format!("filter type='{other}' must be and or or"))),
    };
    let mut items = Vec::new();
    for c in e.elements() {
        match c.name.as_str() {
            "condition" => items.push(FetchItem::Condition(condition(c, table, schema)?)),
            "filter" => items.push(FetchItem::Filter(filter(c, table, schema, depth + 1)?)),
            "link-entity" => return Err(unsupported("link-entity inside a filter is not supported yet")),
            other => return Err(invalid(format!("The element <{other}> is not valid inside <filter>"))),
        }
    }
    Ok(FetchFilter { or, items })
}

fn condition(e: &Element, table: &Table, schema: &Schema) -> Result<FetchCondition, FetchError> {
    only(e, &["attribute", "operator", "value", "entityname", "valueof", "uiname", "uitype", "uihidden"])?;
    if e.get("entityname").is_some() {
        return Err(unsupported(
            "conditions naming a link-entity (entityname) are not supported yet: put the condition inside the link-entity",
        ));
    }
    let attribute = e.get("attribute").ok_or_else(|| invalid("<condition> needs an attribute"))?;
    column(table, attribute)?;
    let valueof = match e.get("valueof") {
        None => None,
        Some(other) => {
            column(table, other)?;
            Some(other.to_owned())
        }
    };
    let mut operator = e.get("operator").ok_or_else(|| invalid("<condition> needs an operator"))?.to_owned();
    if operator == "neq" {
        operator = "ne".into();
    }
    let mut values: Vec<String> = e.get("value").map(|v| vec![v.to_owned()]).unwrap_or_default();
    for v in e.elements() {
        if v.name != "value" {
            return Err(invalid(format!("The element <{}> is not valid inside <condition>", v.name)));
        }
        let mut text = String::new();
        for n in &v.children {
            match n {
                xml::Node::Text(t) => text.push_str(t),
                xml::Node::Element(e) => {
                    return Err(invalid(format!("The element <{}> is not valid inside <value>", e.name)));
                }
            }
        }
        values.push(text);
    }
    if valueof.is_some()
        && (!values.is_empty() || !matches!(operator.as_str(), "eq" | "ne" | "gt" | "ge" | "lt" | "le"))
    {
        return Err(invalid("valueof goes with a comparison operator and no value"));
    }
    let c = FetchCondition { attribute: attribute.to_owned(), operator, values, valueof };
    // Lowered once so a bad operator, value or type is refused now.
    lower_condition(&c, schema, table)?;
    Ok(c)
}

impl Fetch {
    /// An aggregate query (`aggregate='true'`) as the query IR's aggregation: `groupby`
    /// attributes are the keys, the others the aggregates, each under its alias (required);
    /// orders name aliases of keys.
    pub fn aggregation(&self, schema: &Schema) -> Result<crate::query::Aggregation, FetchError> {
        use crate::query::{Aggregate, AggregateFunction as F, Aggregation, GroupKey, OrderBy};
        let table = schema.table(&self.root.table).ok_or_else(|| invalid("unknown entity"))?;
        let mut group_by = Vec::new();
        let mut aggregates = Vec::new();
        let mut aliases: Vec<&str> = Vec::new();
        for a in &self.root.attributes {
            let alias = a
                .alias
                .as_deref()
                .ok_or_else(|| invalid(format!("The attribute {} of an aggregate query needs an alias", a.name)))?;
            if aliases.contains(&alias) {
                return Err(invalid(format!("The alias '{alias}' is used twice")));
            }
            aliases.push(alias);
            let kind = &column(table, &a.name)?.kind;
            match (a.groupby, a.aggregate.as_deref()) {
                (true, None) => {
                    let date =
                        matches!(kind, crate::metadata::ColumnType::DateTime | crate::metadata::ColumnType::DateOnly);
                    if a.date_part.is_some() != date {
                        return Err(invalid(format!(
                            "{}: dategrouping goes with date columns, and date columns are grouped with dategrouping",
                            a.name
                        )));
                    }
                    group_by.push(GroupKey {
                        path: Vec::new(),
                        column: a.name.clone(),
                        alias: Some(alias.to_owned()),
                        date_part: a.date_part,
                    });
                }
                (false, Some(function)) => {
                    let function = match (function, a.distinct) {
                        ("count", _) => F::Count,
                        ("countcolumn", false) => F::CountColumn,
                        ("countcolumn", true) => F::CountDistinct,
                        ("sum", _) => F::Sum,
                        ("avg", _) => F::Average,
                        ("min", _) => F::Min,
                        ("max", _) => F::Max,
                        (other, _) => return Err(invalid(format!("aggregate='{other}' is not valid"))),
                    };
                    let number = matches!(
                        kind,
                        crate::metadata::ColumnType::Integer
                            | crate::metadata::ColumnType::BigInt
                            | crate::metadata::ColumnType::Decimal
                            | crate::metadata::ColumnType::Double
                            | crate::metadata::ColumnType::Money
                    );
                    let date =
                        matches!(kind, crate::metadata::ColumnType::DateTime | crate::metadata::ColumnType::DateOnly);
                    let fits = match function {
                        F::Sum | F::Average => number,
                        F::Min | F::Max => number || date,
                        _ => true,
                    };
                    if !fits {
                        return Err(invalid(format!(
                            "{} cannot be aggregated with {}",
                            a.name,
                            a.aggregate.as_deref().unwrap_or("")
                        )));
                    }
                    let column = (function != F::Count).then(|| a.name.clone());
                    aggregates.push(Aggregate { function, column, alias: alias.to_owned() });
                }
                (true, Some(_)) => return Err(invalid(format!("{} is both a group key and an aggregate", a.name))),
                (false, None) => {
                    return Err(invalid(format!(
                        "The attribute {} of an aggregate query needs aggregate or groupby",
                        a.name
                    )));
                }
            }
        }
        if group_by.is_empty() && aggregates.is_empty() {
            return Err(invalid("An aggregate query needs at least one attribute"));
        }
        let mut orderby = Vec::new();
        for o in &self.root.orders {
            let alias = o.alias.as_deref().unwrap_or_default();
            let key = group_by.iter().find(|k| k.alias.as_deref() == Some(alias)).ok_or_else(|| {
                unsupported(format!("ordering by '{alias}' is not supported yet: order by a group key's alias"))
            })?;
            orderby.push(OrderBy { path: Vec::new(), column: key.column.clone(), descending: o.descending });
        }
        let mut filter = None;
        for f in &self.root.filters {
            if let Some(next) = lower_filter(f, schema, table)? {
                filter = Some(match filter {
                    None => next,
                    Some(prev) => Filter::And(Box::new(prev), Box::new(next)),
                });
            }
        }
        if self.page.is_some_and(|p| p > 1) {
            return Err(unsupported("paging an aggregate FetchXML query is not supported yet"));
        }
        Ok(Aggregation {
            table: table.logical_name.clone(),
            filter,
            group_by,
            aggregates,
            orderby,
            top: self.top.or(self.count),
        })
    }
}

/// The alias each link's columns come back under (`alias`, else the table name and an ordinal
/// counted over the whole query in document order, `contact1`), in document order (depth first).
pub fn link_aliases(fetch: &Fetch) -> Vec<(String, String)> {
    fn walk(e: &FetchEntity, counts: &mut std::collections::HashMap<String, u32>, out: &mut Vec<(String, String)>) {
        for l in &e.links {
            let n = counts.entry(l.entity.table.clone()).or_insert(0);
            *n += 1;
            let alias = l.alias.clone().unwrap_or_else(|| format!("{}{}", l.entity.table, n));
            out.push((alias, l.entity.table.clone()));
            walk(&l.entity, counts, out);
        }
    }
    let mut out = Vec::new();
    walk(&fetch.root, &mut Default::default(), &mut out);
    out
}
