//! The canonical FetchXML of a [`Fetch`]: compact, attributes in a fixed order, condition
//! values `?` for audit records.

use super::{Fetch, FetchEntity, FetchFilter, FetchItem};
use crate::xml::{self, Element};

/// The canonical FetchXML of a query (compact, attributes in a fixed order); condition values
/// are `?` when `redact`.
pub fn print(fetch: &Fetch, redact: bool) -> String {
    let mut root = Element::new("fetch").attr("mapping", "logical");
    if let Some(t) = fetch.top {
        root = root.attr("top", t.to_string());
    }
    if let Some(c) = fetch.count {
        root = root.attr("count", c.to_string());
    }
    if let Some(p) = fetch.page {
        root = root.attr("page", p.to_string());
    }
    if let Some(c) = &fetch.paging_cookie {
        root = root.attr("paging-cookie", if redact { "?" } else { c.as_str() });
    }
    if fetch.distinct {
        root = root.attr("distinct", "true");
    }
    if fetch.total_count {
        root = root.attr("returntotalrecordcount", "true");
    }
    if fetch.aggregate {
        root = root.attr("aggregate", "true");
    }
    let entity = entity_element(Element::new("entity").attr("name", &fetch.root.table), &fetch.root, redact);
    root.child(entity).to_compact()
}

fn entity_element(mut e: Element, f: &FetchEntity, redact: bool) -> Element {
    if f.all_attributes {
        e = e.child(Element::new("all-attributes"));
    }
    for a in &f.attributes {
        let mut x = Element::new("attribute").attr("name", &a.name);
        if let Some(alias) = &a.alias {
            x = x.attr("alias", alias);
        }
        if let Some(g) = &a.aggregate {
            x = x.attr("aggregate", g);
        }
        if a.distinct {
            x = x.attr("distinct", "true");
        }
        if a.groupby {
            x = x.attr("groupby", "true");
        }
        if let Some(d) = a.date_part {
            x = x.attr("dategrouping", d.name());
        }
        e = e.child(x);
    }
    for o in &f.orders {
        let mut x = Element::new("order");
        if let Some(a) = &o.attribute {
            x = x.attr("attribute", a);
        }
        if let Some(a) = &o.alias {
            x = x.attr("alias", a);
        }
        if o.descending {
            x = x.attr("descending", "true");
        }
        e = e.child(x);
    }
    for filter in &f.filters {
        e = e.child(filter_element(filter, redact));
    }
    for l in &f.links {
        let mut le = Element::new("link-entity")
            .attr("name", &l.entity.table)
            .attr("from", &l.from)
            .attr("to", &l.to)
            .attr("link-type", l.kind.name(false));
        if let Some(a) = &l.alias {
            le = le.attr("alias", a);
        }
        e = e.child(entity_element(le, &l.entity, redact));
    }
    e
}

fn filter_element(f: &FetchFilter, redact: bool) -> Element {
    let mut e = Element::new("filter").attr("type", if f.or { "or" } else { "and" });
    for item in &f.items {
        e = e.child(match item {
            FetchItem::Filter(inner) => filter_element(inner, redact),
            FetchItem::Condition(c) => {
                let mut ce = Element::new("condition").attr("attribute", &c.attribute).attr("operator", &c.operator);
                if let Some(other) = &c.valueof {
                    ce = ce.attr("valueof", other);
                }
                for v in &c.values {
                    let mut ve = Element::new("value");
                    ve.children.push(xml::Node::Text(if redact { "?".to_owned() } else { v.clone() }));
                    ce = ce.child(ve);
                }
                ce
            }
        });
    }
    e
}
