//! Classification: what a request touches (tables with privileges, columns, record ids), or why
//! it cannot be classified. Never returns an empty set of touches for a request that reaches
//! data (design §3.1).

use crate::metadata::Schema;
use crate::metadata::{ColumnType, Navigation};
use crate::query::{Expand, Filter, Operand, Query};
use crate::record::{Bind, Link, Record, Reference, Related};
use crate::request::{Message, Operation, PathTarget, Request, RequestKind, RowKey};
use uuid::Uuid;

/// Dataverse table privileges (spec §13.2); snake_case in audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privilege {
    /// prvRead
    Read,
    /// prvCreate
    Create,
    /// prvWrite
    Write,
    /// prvDelete
    Delete,
    /// prvAppend
    Append,
    /// prvAppendTo
    AppendTo,
    /// prvAssign
    Assign,
    /// prvShare
    Share,
}

impl Privilege {
    /// snake_case name used in audit records and `policy explain`.
    pub fn name(self) -> &'static str {
        match self {
            Privilege::Read => "read",
            Privilege::Create => "create",
            Privilege::Write => "write",
            Privilege::Delete => "delete",
            Privilege::Append => "append",
            Privilege::AppendTo => "append_to",
            Privilege::Assign => "assign",
            Privilege::Share => "share",
        }
    }
}

/// One table a request touches, with the privilege it needs there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableAccess {
    /// Logical name.
    pub table: String,
    /// Privilege needed.
    pub privilege: Privilege,
}

/// Everything a classified request touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touches {
    /// The request kind.
    pub kind: RequestKind,
    /// Tables and privileges, in order of first mention.
    pub tables: Vec<TableAccess>,
    /// Columns named by the request, as `(table, column)` logical names.
    pub columns: Vec<(String, String)>,
    /// Ids of the rows addressed.
    pub record_ids: Vec<Uuid>,
    /// Allowed for every agent whatever its policy (WhoAmI).
    pub open_to_all: bool,
    /// A list read answered filtered to what the agent can see (service document).
    pub filtered_listing: bool,
    /// The catalog action the request runs, which the agent must be granted by name.
    pub action: Option<String>,
}

/// The result of classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// Fully understood.
    Classified(Touches),
    /// Not understood or not supported: refused, with the reason.
    Unclassified {
        /// Kind, when the request was recognised.
        kind: Option<RequestKind>,
        /// Why.
        reason: String,
        /// Whether it is a metadata write (its own reason code).
        metadata_write: bool,
    },
}

/// Classifies a parsed request.
pub fn classify(schema: &Schema, request: &Request) -> Classification {
    let kind = request.kind();
    let mut t = Touches {
        kind,
        tables: Vec::new(),
        columns: Vec::new(),
        record_ids: Vec::new(),
        open_to_all: false,
        filtered_listing: false,
        action: None,
    };
    match &request.operation {
        Operation::Unsupported { kind, reason } => {
            return Classification::Unclassified {
                kind: Some(*kind),
                metadata_write: *kind == RequestKind::MetadataDefinitions && reason.starts_with("metadata writes"),
                reason: reason.clone(),
            };
        }
        Operation::ServiceDocument | Operation::MetadataDocument => t.filtered_listing = true,
        // A read naming a table (by key, or `$filter=LogicalName eq 'x'`) is a read of that table,
        // and naming an attribute a read of that column (design §4); anything else, and names
        // this schema does not know, is answered filtered (by the gateway, from the response).
        Operation::Metadata(read) => match read.table_name().and_then(|n| schema.table(n)) {
            Some(table) => {
                t.add(&table.logical_name, Privilege::Read);
                if let crate::metadata_query::MetaPath::Attribute {
                    key: crate::metadata_query::MetaKey::Name(c), ..
                } = &read.path
                    && table.column(c).is_some()
                {
                    t.add_columns(&table.logical_name, [c]);
                }
            }
            None => t.filtered_listing = true,
        },
        Operation::WhoAmI => t.open_to_all = true,
        // Change tracking reads the table (design §4).
        Operation::Changes { table, select, .. } => {
            t.add(table, Privilege::Read);
            t.add_columns(table, select);
        }
        // Data messages: the levels they imply. Actions: the grant of their name too; the
        // activity an action records its closing with is covered by the grant (design §4).
        Operation::Message(Message::RetrieveTotalRecordCount { tables }) => {
            for table in tables {
                t.add(table, Privilege::Read);
            }
        }
        // The Multiple messages need what each single write needs (spec §6.7).
        Operation::Message(Message::CreateMultiple { table, records }) => {
            t.add(table, Privilege::Create);
            for record in records {
                t.record_ids.extend(given_id(schema, table, record));
                write_record(&mut t, table, record);
            }
        }
        Operation::Message(Message::UpdateMultiple { table, targets }) => {
            t.add(table, Privilege::Write);
            for (id, record) in targets {
                t.record_ids.push(*id);
                write_record(&mut t, table, record);
            }
        }
        Operation::Message(Message::UpsertMultiple { table, targets }) => {
            t.add(table, Privilege::Create);
            t.add(table, Privilege::Write);
            for (key, record) in targets {
                t.add_key(table, key);
                write_record(&mut t, table, record);
            }
        }
        // BulkDelete: the grant, deleting rows of its table (Full use and Delete records), and a
        // read of everything its query compares.
        Operation::Message(Message::BulkDelete { table, filter, .. }) => {
            t.action = Some("BulkDelete".to_owned());
            t.add(table, Privilege::Delete);
            read_filter(&mut t, schema, table, filter);
        }
        // QualifyLead: the grant, writing the lead, and creating each business row asked for
        // (design §4: those need Full use of their tables); the currency and customer bound
        // are reads of theirs.
        Operation::Message(Message::QualifyLead {
            lead, account, contact, opportunity, currency, customer, ..
        }) => {
            t.action = Some("QualifyLead".to_owned());
            t.add("lead", Privilege::Write);
            t.record_ids.push(*lead);
            for (asked, table) in [(*account, "account"), (*contact, "contact"), (*opportunity, "opportunity")] {
                if asked {
                    t.add(table, Privilege::Create);
                }
            }
            if let Some(id) = currency {
                t.add("transactioncurrency", Privilege::Read);
                t.record_ids.push(*id);
            }
            if let Some((table, id)) = customer {
                t.add(table, Privilege::Read);
                t.record_ids.push(*id);
            }
        }
        // Merge: the grant, writing the target and retiring the subordinate (Delete records,
        // design §4); the subordinate's children move with the grant.
        Operation::Message(Message::Merge { table, target, subordinate, content, .. }) => {
            t.action = Some("Merge".to_owned());
            t.add(table, Privilege::Write);
            t.add(table, Privilege::Delete);
            t.record_ids.push(*target);
            t.record_ids.push(*subordinate);
            write_record(&mut t, table, content);
        }
        // Sharing: the grant and Share on the row's table (Full use); the user or team shared
        // with needs no level (design §4, as for assigning).
        Operation::Message(m @ Message::Share { table, target, .. }) => {
            t.action = Some(m.name().to_owned());
            t.add(table, Privilege::Share);
            t.record_ids.push(*target);
        }
        // The privilege functions are reads of users (and of the row asked about).
        Operation::Message(Message::RetrieveUserPrivileges { user }) => {
            t.add("systemuser", Privilege::Read);
            t.record_ids.push(*user);
        }
        Operation::Message(Message::RetrievePrincipalAccess { user, table, target }) => {
            t.add("systemuser", Privilege::Read);
            t.add(table, Privilege::Read);
            t.record_ids.push(*user);
            t.record_ids.push(*target);
        }
        // A custom API: what the admin declared it touches, and the grant of its name; not
        // declared, it is not understood.
        Operation::Message(Message::Custom { name, declared: None, .. }) => {
            return Classification::Unclassified {
                kind: Some(kind),
                reason: format!(
                    "the custom API {name} is not declared: an admin declares what it touches with `stanchion catalog declare {name}`"
                ),
                metadata_write: false,
            };
        }
        Operation::Message(Message::Custom { name, bound, declared: Some(d), .. }) => {
            t.action = Some(name.clone());
            for (table, full) in &d.tables {
                t.add(table, if *full { Privilege::Write } else { Privilege::Read });
                if *full && d.destructive {
                    t.add(table, Privilege::Delete);
                }
            }
            if let Some((table, key)) = bound {
                if !d.tables.iter().any(|(t2, _)| t2 == table) {
                    t.add(table, Privilege::Read);
                }
                t.add_key(table, key);
            }
        }
        Operation::Message(m @ Message::CloseOpportunity { opportunity: id, .. })
        | Operation::Message(m @ Message::CloseIncident { incident: id, .. }) => {
            t.action = Some(m.name().to_owned());
            let table = if matches!(m, Message::CloseIncident { .. }) { "incident" } else { "opportunity" };
            t.add(table, Privilege::Write);
            t.record_ids.push(*id);
        }
        Operation::Query(q) | Operation::Count(q) => read_query(&mut t, schema, q),
        Operation::Aggregate(a) => read_aggregation(&mut t, schema, a),
        Operation::Fetch(f) => read_fetch_entity(&mut t, &f.root),
        Operation::Retrieve { table, key, select, expand } => {
            t.add(table, Privilege::Read);
            t.add_key(table, key);
            t.add_columns(table, select);
            for e in expand {
                read_expand(&mut t, schema, table, e);
            }
        }
        Operation::RetrieveProperty { table, key, target } => {
            t.add(table, Privilege::Read);
            t.add_key(table, key);
            match target {
                PathTarget::Column { column, .. } => t.add_columns(table, [column]),
                PathTarget::Single { navigation, table: related, select, expand, .. } => {
                    if let Some(Navigation::Single { column, .. }) = schema.navigation(table, navigation) {
                        t.add_columns(table, [column]);
                    }
                    t.add(related, Privilege::Read);
                    t.add_columns(related, select);
                    for e in expand {
                        read_expand(&mut t, schema, related, e);
                    }
                }
                PathTarget::Member { navigation, table: related, key, select, expand } => {
                    collection_link(&mut t, schema, table, navigation, related);
                    t.add_key(related, key);
                    t.add_columns(related, select);
                    for e in expand {
                        read_expand(&mut t, schema, related, e);
                    }
                }
                PathTarget::Collection { navigation, query, .. } => {
                    collection_link(&mut t, schema, table, navigation, &query.table);
                    read_query(&mut t, schema, query);
                }
            }
        }
        Operation::Create { table, record, select, expand } => {
            t.add(table, Privilege::Create);
            t.record_ids.extend(given_id(schema, table, record));
            write_record(&mut t, table, record);
            representation(&mut t, schema, request, table, select, expand);
        }
        Operation::Update { table, key, record, select, expand, upsert } => {
            if *upsert {
                t.add(table, Privilege::Create);
            }
            t.add(table, Privilege::Write);
            t.add_key(table, key);
            write_record(&mut t, table, record);
            representation(&mut t, schema, request, table, select, expand);
        }
        // Design §4 "Relationships": for 1:N the table holding the lookup is written and the
        // other end is read when a row of it is named (associating, or disassociating one listed
        // row); for N:N both tables are written (Append and AppendTo on both, spec §5).
        Operation::Relate { table, key, related, link: Link::Lookup(column), single, target, .. } => {
            let (holder, other) = if *single { (table, related) } else { (related, table) };
            t.add(holder, Privilege::Write);
            t.add_columns(holder, [column]);
            if target.is_some() || !*single {
                t.add(other, Privilege::Read);
            }
            // Record ids in the order of the tables: the row holding the lookup first.
            if *single {
                t.add_key(table, key);
            }
            if let Some(r) = target {
                t.add_reference(related, r);
            }
            if !*single {
                t.add_key(table, key);
            }
        }
        Operation::Relate { table, key, related, link: Link::Intersect { .. }, target, .. } => {
            intersect_write(&mut t, table, related);
            t.add_key(table, key);
            if let Some(r) = target {
                t.add_reference(related, r);
            }
        }
        // Clearing a property is a write, not a delete (design §4, "Delete records").
        Operation::SetProperty { table, key, column, .. } => {
            t.add(table, Privilege::Write);
            t.add_key(table, key);
            t.add_columns(table, [column]);
        }
        Operation::Delete { table, key } => {
            t.add(table, Privilege::Delete);
            t.add_key(table, key);
        }
    }
    if t.tables.is_empty() && !t.open_to_all && !t.filtered_listing {
        return Classification::Unclassified {
            kind: Some(kind),
            reason: "the request touches no table Stanchion can name".into(),
            metadata_write: false,
        };
    }
    Classification::Classified(t)
}

/// The id a create body gives its new row (its primary key column), if any.
fn given_id(schema: &Schema, table: &str, record: &Record) -> Option<Uuid> {
    schema
        .table(table)
        .and_then(|tb| record.values.get(&tb.primary_id))
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::try_parse(s).ok())
}

/// A query reads its table and, through navigation in `$filter` and `$expand`, every table it
/// reaches (design §4): each is a read of that table, and each lookup followed is a column read.
fn read_query(t: &mut Touches, schema: &Schema, q: &Query) {
    t.add(&q.table, Privilege::Read);
    t.add_columns(&q.table, &q.select);
    if let Some(f) = &q.filter {
        read_filter(t, schema, &q.table, f);
    }
    for o in &q.orderby {
        read_order(t, schema, &q.table, o);
    }
    for e in &q.expand {
        read_expand(t, schema, &q.table, e);
    }
}

/// An aggregation reads its table, the columns it groups by and aggregates (design §4: hidden
/// columns are hidden in aggregates and group-bys too), and every table a group key or its
/// filter reaches. Grouping by a lookup's id reads only the table itself, as selecting it does
/// (its display name is an annotation, kept or dropped by the response filter).
fn read_aggregation(t: &mut Touches, schema: &Schema, a: &crate::query::Aggregation) {
    t.add(&a.table, Privilege::Read);
    if let Some(f) = &a.filter {
        read_filter(t, schema, &a.table, f);
    }
    for k in &a.group_by {
        read_path(t, &a.table, &k.path, &k.column);
    }
    t.add_columns(&a.table, a.aggregates.iter().filter_map(|g| g.column.as_ref()));
    for o in &a.orderby {
        read_order(t, schema, &a.table, o);
    }
}

/// FetchXML (design §4): the entity and every `link-entity` are reads of their tables; the
/// columns named (attributes, orders, conditions, `from` and `to`) are reads of those columns,
/// so hidden ones are refused wherever they appear.
fn read_fetch_entity(t: &mut Touches, e: &crate::fetch::FetchEntity) {
    fn conditions<'a>(f: &'a crate::fetch::FetchFilter, out: &mut Vec<&'a str>) {
        for item in &f.items {
            match item {
                crate::fetch::FetchItem::Condition(c) => {
                    out.push(&c.attribute);
                    out.extend(c.valueof.as_deref());
                }
                crate::fetch::FetchItem::Filter(inner) => conditions(inner, out),
            }
        }
    }
    t.add(&e.table, Privilege::Read);
    t.add_columns(&e.table, e.attributes.iter().map(|a| &a.name));
    t.add_columns(&e.table, e.orders.iter().filter_map(|o| o.attribute.as_ref()));
    let mut named = Vec::new();
    for f in &e.filters {
        conditions(f, &mut named);
    }
    t.add_columns(&e.table, named);
    for l in &e.links {
        t.add_columns(&e.table, [&l.to]);
        t.add_columns(&l.entity.table, [&l.from]);
        read_fetch_entity(t, &l.entity);
    }
}

fn read_filter(t: &mut Touches, schema: &Schema, table: &str, f: &Filter) {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => {
            read_filter(t, schema, table, a);
            read_filter(t, schema, table, b);
        }
        Filter::Not(a) => read_filter(t, schema, table, a),
        Filter::Text { path, column, .. } => read_path(t, table, path, column),
        Filter::Function { column, .. } => t.add_columns(table, [column]),
        Filter::Compare { left, right, .. } => {
            for o in [left, right] {
                match o {
                    Operand::Column(c) => t.add_columns(table, [c]),
                    Operand::Related { path, column } => read_path(t, table, path, column),
                    Operand::Value(_) => {}
                }
            }
        }
        Filter::Any { navigation, table: related, predicate } => {
            collection_link(t, schema, table, navigation, related);
            if let Some((_, p)) = predicate {
                read_filter(t, schema, related, p);
            }
        }
        Filter::All { navigation, table: related, predicate, .. } => {
            collection_link(t, schema, table, navigation, related);
            read_filter(t, schema, related, predicate);
        }
    }
}

/// A column reached through hops: each lookup followed is a column read, each table reached a
/// table read.
fn read_path(t: &mut Touches, table: &str, path: &[crate::query::Hop], column: &str) {
    let mut from = table;
    for hop in path {
        t.add_columns(from, [&hop.column]);
        t.add(&hop.table, Privilege::Read);
        from = &hop.table;
    }
    t.add_columns(from, [column]);
}

/// A sort key reads its column, through its path like a filter does. Ordering by a lookup
/// column sorts by the related row's primary name (Microsoft's "Order rows using OData":
/// "the results are sorted using the primary name field for the related table"), so it also
/// reads that column of every table the lookup can point at.
fn read_order(t: &mut Touches, schema: &Schema, table: &str, o: &crate::query::OrderBy) {
    read_path(t, table, &o.path, &o.column);
    let reached = o.path.last().map_or(table, |h| h.table.as_str());
    let targets = match schema.table(reached).and_then(|tb| tb.column(&o.column)).map(|c| &c.kind) {
        Some(ColumnType::Lookup { targets }) => targets.as_slice(),
        _ => &[],
    };
    for target in targets {
        if let Some(related) = schema.table(target) {
            t.add(target, Privilege::Read);
            t.add_columns(target, [&related.primary_name]);
        }
    }
}

/// Pairing or unpairing rows of an N:N relationship writes both tables (design §4: Full use on
/// both; Dataverse asks Append and AppendTo on both, spec §5).
/// The tables come in URL order first (the audit sentence names the pair from them).
fn intersect_write(t: &mut Touches, a: &str, b: &str) {
    for privilege in [Privilege::Append, Privilege::AppendTo] {
        t.add(a, privilege);
        t.add(b, privilege);
    }
}

/// Following a collection-valued navigation reads the related table and its lookup column
/// (an N:N one reads the related table: the intersect row holds no column of either).
fn collection_link(t: &mut Touches, schema: &Schema, table: &str, navigation: &str, related: &str) {
    t.add(related, Privilege::Read);
    if let Some(Navigation::Collection { column, .. }) = schema.navigation(table, navigation) {
        t.add_columns(related, [column]);
    }
}

fn read_expand(t: &mut Touches, schema: &Schema, table: &str, e: &Expand) {
    match schema.navigation(table, &e.navigation) {
        Some(Navigation::Single { column, .. }) => t.add_columns(table, [column]),
        Some(Navigation::Collection { column, .. }) => t.add_columns(&e.table, [column]),
        Some(Navigation::Many { .. }) | None => {}
    }
    t.add(&e.table, Privilege::Read);
    t.add_columns(&e.table, &e.select);
    if let Some(f) = &e.filter {
        read_filter(t, schema, &e.table, f);
    }
    for o in &e.orderby {
        read_order(t, schema, &e.table, o);
    }
    for nested in &e.expand {
        read_expand(t, schema, &e.table, nested);
    }
}

/// The columns a body sets, and what its binds touch (design §4, "Relationships"): the table
/// holding the lookup column is written, the table pointed at is read. A single-valued bind
/// writes this row's lookup and reads the bound row's table (for a polymorphic lookup, the one
/// the navigation property names); binding `ownerid` (assigning) touches no other table. A
/// collection-valued bind writes each listed row of the related table (1:N) or pairs the rows
/// in an intersect table, writing both tables (N:N). Alternate keys in references name columns
/// of their table.
///
/// Rows created with it (deep insert) are creates of their tables, with the lookup that links
/// them: a single-valued one is a column of this row, a collection-valued one a column of the
/// new related rows, or (N:N) an intersect row writing both tables.
fn write_record(t: &mut Touches, table: &str, record: &Record) {
    t.add_columns(table, record.columns());
    for related in &record.related {
        match related {
            Related::Single { column, table: other, record: nested, .. } => {
                t.add_columns(table, [column]);
                t.add(other, Privilege::Create);
                write_record(t, other, nested);
            }
            Related::Collection { link, table: other, records, .. } => {
                t.add(other, Privilege::Create);
                match link {
                    Link::Lookup(column) => t.add_columns(other, [column]),
                    Link::Intersect { .. } => intersect_write(t, table, other),
                }
                for nested in records {
                    write_record(t, other, nested);
                }
            }
        }
    }
    for bind in &record.binds {
        match bind {
            Bind::Single { column, table: target, target: reference, .. } => {
                if column != "ownerid" {
                    t.add(target, Privilege::Read);
                }
                if let Some(r) = reference {
                    t.add_reference(target, r);
                }
            }
            Bind::Collection { link: Link::Lookup(column), table: related, targets, .. } => {
                t.add(related, Privilege::Write);
                t.add_columns(related, [column]);
                for r in targets {
                    t.add_reference(related, r);
                }
            }
            Bind::Collection { link: Link::Intersect { .. }, table: related, targets, .. } => {
                intersect_write(t, table, related);
                for r in targets {
                    t.add_reference(related, r);
                }
            }
        }
    }
}

/// `Prefer: return=representation` on a write is a read too (design §4).
fn representation(
    t: &mut Touches,
    schema: &Schema,
    request: &Request,
    table: &str,
    select: &[String],
    expand: &[Expand],
) {
    if request.headers.prefer.return_representation == Some(true) {
        t.add(table, Privilege::Read);
        t.add_columns(table, select);
        for e in expand {
            read_expand(t, schema, table, e);
        }
    }
}

impl Touches {
    /// A row reference of a bind: as a row key (a Content-ID names a row of this request).
    fn add_reference(&mut self, table: &str, reference: &Reference) {
        if let Reference::Row { key, .. } = reference {
            self.add_key(table, key);
        }
    }

    /// A row key: its id is a record id; alternate-key columns are columns the request names.
    fn add_key(&mut self, table: &str, key: &RowKey) {
        match key {
            RowKey::Id(id) => self.record_ids.push(*id),
            RowKey::Alternate(parts) => self.add_columns(table, parts.iter().map(|(c, _)| c)),
        }
    }

    fn add(&mut self, table: &str, privilege: Privilege) {
        if !self.tables.iter().any(|a| a.table == table && a.privilege == privilege) {
            self.tables.push(TableAccess { table: table.to_owned(), privilege });
        }
    }

    fn add_columns<I, S>(&mut self, table: &str, columns: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for c in columns {
            let c = c.as_ref();
            if !self.columns.iter().any(|(t, n)| t == table && n == c) {
                self.columns.push((table.to_owned(), c.to_owned()));
            }
        }
    }
}
