//! A parsed `SELECT` lowered to its twin: OData options on one table, FetchXML with joins.

use super::cond::Cond;
use super::{ColumnRef, Item, Parser, syntax, unsupported};
use crate::parse::Routed;
use crate::parse::options::Options;
use crate::parse::url::Pair;
use crate::request::Operation;
use std::borrow::Cow;

/// A parsed `SELECT`, before it is lowered.
pub(super) struct Statement<'s> {
    pub(super) distinct: bool,
    pub(super) top: Option<String>,
    pub(super) items: Vec<Item>,
    pub(super) filter: Option<Cond<'s>>,
    pub(super) group_by: Vec<ColumnRef>,
    pub(super) orderby: Vec<(ColumnRef, bool)>,
}

impl<'s> Statement<'s> {
    /// One table: the OData twin (`$select`/`$filter`/`$orderby`/`$top`, or `$apply`).
    pub(super) fn odata(self, p: &Parser<'s>) -> Result<Operation, Routed> {
        let group_by: Vec<String> =
            self.group_by.iter().map(|r| p.column(r).map(|(_, c)| c.odata_name())).collect::<Result<_, _>>()?;
        let mut orderby = Vec::new();
        for (r, desc) in &self.orderby {
            let name = match p.column(r) {
                Ok((_, c)) => c.odata_name(),
                // Ordering by an aggregate's alias: let the OData parser give Dataverse's error.
                Err(e) => {
                    let alias = self.items.iter().any(
                        |i| matches!(i, Item::Aggregate { alias: Some(a), .. } if a.eq_ignore_ascii_case(&r.name)),
                    );
                    if alias { r.name.clone() } else { return Err(e) }
                }
            };
            orderby.push(if *desc { format!("{name} desc") } else { name });
        }
        let mut columns = Vec::new();
        let mut aggregates = Vec::new();
        for item in &self.items {
            match item {
                Item::Column(r) => columns.push(p.column(r)?.1.odata_name()),
                Item::Aggregate { function, column, alias } => {
                    let column = column.as_ref().map(|c| p.column(c).map(|(_, c)| c)).transpose()?;
                    let alias = alias.clone().unwrap_or_else(|| match column {
                        Some(c) => format!("{function}_{}", c.logical_name),
                        None => "count".to_owned(),
                    });
                    // Written into `$apply`: only a plain name, never text that reads as more syntax.
                    let plain = alias.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                        && alias.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if !plain {
                        return Err(syntax(format!("'{alias}' is not a valid alias: letters, digits and _ only")));
                    }
                    aggregates.push(match (column, *function) {
                        (None, _) => format!("$count as {alias}"),
                        (Some(c), f) => {
                            let method = if f == "avg" { "average" } else { f };
                            format!("{} with {method} as {alias}", c.odata_name())
                        }
                    });
                }
            }
        }
        let filter = self.filter.as_ref().map(Cond::odata).transpose()?;
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        if aggregates.is_empty() && group_by.is_empty() && !self.distinct {
            pairs.push(("$select", columns.join(",")));
            if let Some(f) = filter {
                pairs.push(("$filter", f));
            }
        } else {
            if (!aggregates.is_empty() || !group_by.is_empty())
                && let Some(c) = columns.iter().find(|c| !group_by.contains(c))
            {
                return Err(syntax(format!("Column '{c}' is selected with aggregates, so it must be in GROUP BY")));
            }
            let keys = if group_by.is_empty() { columns.clone() } else { group_by.clone() };
            let mut steps = Vec::new();
            if let Some(f) = filter {
                steps.push(format!("filter({f})"));
            }
            let aggregate = format!("aggregate({})", aggregates.join(","));
            steps.push(match (keys.is_empty(), aggregates.is_empty()) {
                (true, _) => aggregate,
                (false, true) => format!("groupby(({}))", keys.join(",")),
                (false, false) => format!("groupby(({}),{aggregate})", keys.join(",")),
            });
            pairs.push(("$apply", steps.join("/")));
        }
        if !orderby.is_empty() {
            pairs.push(("$orderby", orderby.join(",")));
        }
        if let Some(n) = self.top {
            pairs.push(("$top", n));
        }
        let options = Options::from_pairs(
            pairs
                .into_iter()
                .map(|(name, value)| Pair { name: Cow::Borrowed(name), value: Cow::Owned(value), raw_value: "" })
                .collect(),
        );
        options.collection(p.schema, p.table)
    }

    /// With `JOIN`s: the FetchXML twin — each joined table a `link-entity` (`inner`, or `outer`
    /// for `LEFT JOIN`) under the table it joins, its columns answered as `alias.column`
    /// (the SQL alias, else the table name); `WHERE` conditions that must all hold go to the
    /// table they test (a `LEFT JOIN` table's only in its `ON`).
    pub(super) fn fetch(self, p: &Parser<'s>) -> Result<Operation, Routed> {
        use crate::xml::Element;
        if self.distinct || !self.group_by.is_empty() || self.items.iter().any(|i| matches!(i, Item::Aggregate { .. }))
        {
            return Err(unsupported("DISTINCT, GROUP BY and aggregates with JOIN in sql are not supported yet"));
        }
        let n = p.sources.len();
        let mut attributes: Vec<Vec<Element>> = vec![Vec::new(); n];
        let mut orders: Vec<Vec<Element>> = vec![Vec::new(); n];
        let mut filters: Vec<Vec<Element>> = vec![Vec::new(); n];
        for item in &self.items {
            if let Item::Column(r) = item {
                let (i, c) = p.column(r)?;
                attributes[i].push(Element::new("attribute").attr("name", &c.logical_name));
            }
        }
        for (r, desc) in &self.orderby {
            let (i, c) = p.column(r)?;
            let mut o = Element::new("order").attr("attribute", &c.logical_name);
            if *desc {
                o = o.attr("descending", "true");
            }
            orders[i].push(o);
        }
        if let Some(filter) = self.filter {
            let mut conjuncts = Vec::new();
            filter.conjuncts(&mut conjuncts);
            for c in conjuncts {
                let mut used = Vec::new();
                c.sources(&mut used);
                let [i] = used.as_slice() else {
                    return Err(unsupported("a WHERE condition over several tables with JOIN is not supported yet"));
                };
                if p.sources[*i].join.as_ref().is_some_and(|j| j.left) {
                    return Err(unsupported(
                        "WHERE conditions on a LEFT JOIN table are not supported yet: put them in its ON clause",
                    ));
                }
                filters[*i].push(c.fetch(false)?);
            }
        }
        for (i, src) in p.sources.iter().enumerate() {
            for c in &src.on {
                filters[i].push(c.fetch(false)?);
            }
        }
        // Build from the last joined table up, so each link is complete when its parent takes it.
        let mut elements: Vec<Option<Element>> = Vec::with_capacity(n);
        for (i, src) in p.sources.iter().enumerate() {
            let mut e = match &src.join {
                None => Element::new("entity").attr("name", &src.table.logical_name),
                Some(j) => {
                    let alias = src.alias.clone().unwrap_or_else(|| src.table.logical_name.clone());
                    Element::new("link-entity")
                        .attr("name", &src.table.logical_name)
                        .attr("from", &j.from)
                        .attr("to", &j.to)
                        .attr("link-type", if j.left { "outer" } else { "inner" })
                        .attr("alias", alias)
                }
            };
            for a in attributes[i].drain(..) {
                e = e.child(a);
            }
            for o in orders[i].drain(..) {
                e = e.child(o);
            }
            if !filters[i].is_empty() {
                let mut f = Element::new("filter").attr("type", "and");
                for c in filters[i].drain(..) {
                    f = f.child(c);
                }
                e = e.child(f);
            }
            elements.push(Some(e));
        }
        for i in (1..n).rev() {
            let parent = p.sources[i].join.as_ref().map_or(0, |j| j.parent);
            let child = elements[i].take().ok_or_else(|| syntax("a JOIN is joined twice"))?;
            let host = elements[parent].take().ok_or_else(|| syntax("a JOIN is joined twice"))?;
            elements[parent] = Some(host.child(child));
        }
        let entity = elements[0].take().ok_or_else(|| syntax("no table"))?;
        let mut fetch = Element::new("fetch").attr("mapping", "logical");
        if let Some(t) = &self.top {
            fetch = fetch.attr("top", t.as_str());
        }
        let text = fetch.child(entity).to_compact();
        match crate::fetch::parse(&text, p.schema, p.table) {
            Ok(f) => Ok(Operation::Fetch(f)),
            Err(crate::fetch::FetchError::Invalid(m)) => Err(syntax(m)),
            Err(crate::fetch::FetchError::Unsupported(m)) => Err(unsupported(m)),
        }
    }
}
