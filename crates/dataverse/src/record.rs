//! The body of a create or update as the parser understood it: column values, lookups set by
//! reference with `@odata.bind` (spec §2.2, §5), and related rows created with it (deep insert,
//! spec §2.2 "Create related table rows in one operation").

use crate::json::Object;
use crate::metadata::Navigation;
use crate::request::RowKey;

/// A create or update body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Column values (logical names), validated against the schema, in body order.
    pub values: Object,
    /// Lookups set by reference, in body order.
    pub binds: Vec<Bind>,
    /// Related rows created with this one (deep insert), in body order.
    pub related: Vec<Related>,
}

/// Rows created together with the row being created (deep insert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Related {
    /// `"primarycontactid": {…}`: a new row of `table` that this row's lookup `column` points at.
    Single {
        /// Navigation property as named in the body.
        navigation: String,
        /// The lookup column of the row being created.
        column: String,
        /// The related table (for a polymorphic lookup, the one the navigation property names).
        table: String,
        /// The new related row.
        record: Box<Record>,
    },
    /// `"contact_customer_accounts": [{…}, …]`: new rows of `table` tied to the row being
    /// created by `link` (their lookup, or an intersect row for N:N).
    Collection {
        /// Navigation property as named in the body.
        navigation: String,
        /// How the new rows are tied to this one.
        link: Link,
        /// The related table.
        table: String,
        /// The new related rows.
        records: Vec<Record>,
    },
}

impl Record {
    /// The column logical names the body names on the written table: its values and the lookup
    /// columns of its single-valued binds.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.values.keys().chain(self.binds.iter().filter_map(|b| match b {
            Bind::Single { column, .. } => Some(column.as_str()),
            Bind::Collection { .. } => None,
        }))
    }
}

impl Record {
    /// Every row reference of the body's binds, nested rows' included.
    pub fn all_references(&self) -> Vec<&Reference> {
        let mut out: Vec<&Reference> = self.references().collect();
        for r in &self.related {
            match r {
                Related::Single { record, .. } => out.extend(record.all_references()),
                Related::Collection { records, .. } => records.iter().for_each(|rec| out.extend(rec.all_references())),
            }
        }
        out
    }

    /// Every row reference of the body's binds.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.binds.iter().flat_map(|b| match b {
            Bind::Single { target, .. } => std::slice::from_ref(target).iter().flatten().collect::<Vec<_>>(),
            Bind::Collection { targets, .. } => targets.iter().collect(),
        })
    }
}

/// One `nav@odata.bind` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// `primarycontactid@odata.bind: "/contacts(id)"`: this row's lookup `column` points at a row
    /// of `table` (`null` clears it).
    Single {
        /// Navigation property as named in the body.
        navigation: String,
        /// The lookup column of the written table.
        column: String,
        /// The table pointed at (for a polymorphic lookup, the one the navigation names).
        table: String,
        /// The row pointed at; `None` clears the lookup.
        target: Option<Reference>,
    },
    /// `contact_customer_accounts@odata.bind: ["/contacts(id)", …]`: each listed row of `table`
    /// is tied to this row by `link`: its lookup is pointed at this row (1:N, those rows are
    /// written), or an intersect row pairs them (N:N, both tables are written).
    Collection {
        /// Navigation property as named in the body.
        navigation: String,
        /// How the listed rows are tied to this one.
        link: Link,
        /// The related table.
        table: String,
        /// The related rows.
        targets: Vec<Reference>,
    },
}

/// How the rows of a collection-valued navigation property are tied to the row it starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// 1:N: the related row's lookup column (logical name) points at this row.
    Lookup(String),
    /// N:N: a row of the relationship's intersect table pairs the two rows.
    Intersect {
        /// The N:N relationship's schema name.
        relationship: String,
        /// The intersect table's logical name.
        intersect: String,
    },
}

impl Link {
    /// The link of a collection-valued navigation property; `None` for a single-valued one.
    pub fn of(navigation: &Navigation<'_>) -> Option<Link> {
        match navigation {
            Navigation::Single { .. } => None,
            Navigation::Collection { column, .. } => Some(Link::Lookup((*column).to_owned())),
            Navigation::Many { relationship, .. } => Some(Link::Intersect {
                relationship: relationship.schema_name.clone(),
                intersect: relationship.intersect.clone(),
            }),
        }
    }
}

/// A reference to one row in a bind (or, later, an `@odata.id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `/contacts(id)`, `contacts(emailaddress1='a@b.c')` or an absolute URL of the same service.
    Row {
        /// The key.
        key: RowKey,
        /// For an absolute URL, its `scheme://host[:port]`, which must be the service's own.
        origin: Option<String>,
    },
    /// `$1`: the row a part with that Content-ID created earlier in the same change set.
    ContentId(String),
}
