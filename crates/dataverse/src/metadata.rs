//! Table metadata: tables, typed columns, lookups, relationships and navigation properties.
//!
//! A [`Schema`] is what both the emulator (to build its SQL tables) and the gateway (to parse and
//! classify requests) know about an org. The built-in standard tables ([`Schema::standard`]) seed
//! the emulator; later a real org's schema is read from its `$metadata`.

mod standard;

use std::collections::HashMap;

/// How a table is owned (spec §8.2 `OwnershipType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// User- or team-owned: carries `ownerid`, `owninguser`, `owningteam`, `owningbusinessunit`.
    UserOwned,
    /// Owned by the organization (e.g. `transactioncurrency`).
    OrganizationOwned,
    /// Owned by a business unit (e.g. `systemuser`, `businessunit`, `team`).
    BusinessOwned,
}

/// The type of a column, as far as the wire format and SQL storage need it (spec §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// `Edm.String` with a maximum length.
    String { max_length: u32 },
    /// Multi-line text (`Edm.String`).
    Memo { max_length: u32 },
    /// `Edm.Int32`.
    Integer,
    /// `Edm.Int64`.
    BigInt,
    /// `Edm.Decimal`.
    Decimal,
    /// `Edm.Double`.
    Double,
    /// Money (`Edm.Decimal`, four decimals in responses).
    Money,
    /// `Edm.Boolean` with its two labels.
    Boolean { true_label: String, false_label: String },
    /// A choice column (`Edm.Int32`) with its options.
    Picklist { options: Vec<(i32, String)> },
    /// `statecode`.
    State { options: Vec<(i32, String)> },
    /// `statuscode`: (value, label, state it belongs to).
    Status { options: Vec<(i32, String, i32)> },
    /// `Edm.DateTimeOffset`.
    DateTime,
    /// A date-only column (`Edm.Date`).
    DateOnly,
    /// `Edm.Guid` that is not a lookup (primary keys, object ids).
    Uniqueidentifier,
    /// A lookup to one or more tables (customer, owner and regarding lookups have several targets).
    Lookup { targets: Vec<String> },
}

impl ColumnType {
    /// The EDM type name used in `$metadata` and in error messages.
    pub fn edm_name(&self) -> &'static str {
        match self {
            ColumnType::String { .. } | ColumnType::Memo { .. } => "Edm.String",
            ColumnType::Integer
            | ColumnType::Picklist { .. }
            | ColumnType::State { .. }
            | ColumnType::Status { .. } => "Edm.Int32",
            ColumnType::BigInt => "Edm.Int64",
            ColumnType::Decimal | ColumnType::Money => "Edm.Decimal",
            ColumnType::Double => "Edm.Double",
            ColumnType::Boolean { .. } => "Edm.Boolean",
            ColumnType::DateTime => "Edm.DateTimeOffset",
            ColumnType::DateOnly => "Edm.Date",
            ColumnType::Uniqueidentifier | ColumnType::Lookup { .. } => "Edm.Guid",
        }
    }

    /// The option values a choice, state or status column accepts, if it is one.
    pub fn option_values(&self) -> Option<Vec<i32>> {
        match self {
            ColumnType::Picklist { options } | ColumnType::State { options } => {
                Some(options.iter().map(|(v, _)| *v).collect())
            }
            ColumnType::Status { options } => Some(options.iter().map(|(v, _, _)| *v).collect()),
            _ => None,
        }
    }
}

/// `RequiredLevel` of a column. Dataverse enforces only `SystemRequired` on API writes;
/// `ApplicationRequired` ("business required") is enforced by forms, not by the Web API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiredLevel {
    /// Optional.
    None,
    /// Business required: shown as required in apps, not enforced by the Web API.
    ApplicationRequired,
    /// Enforced on every create and update.
    SystemRequired,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Lower-case logical name (`name`, `parentcustomerid`).
    pub logical_name: String,
    /// Its type.
    pub kind: ColumnType,
    /// Requirement level (`AttributeMetadata.RequiredLevel`).
    pub required: RequiredLevel,
    /// Whether clients may set it on create.
    pub valid_for_create: bool,
    /// Whether clients may set it on update.
    pub valid_for_update: bool,
}

impl Column {
    /// The name this column has in OData payloads and query options: `_x_value` for lookups.
    pub fn odata_name(&self) -> String {
        match self.kind {
            ColumnType::Lookup { .. } => format!("_{}_value", self.logical_name),
            _ => self.logical_name.clone(),
        }
    }

    /// Whether this column is a lookup.
    pub fn is_lookup(&self) -> bool {
        matches!(self.kind, ColumnType::Lookup { .. })
    }
}

/// A one-to-many relationship: rows of `referencing_table` point at `referenced_table` through
/// the lookup column `referencing_column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// Schema name, also the collection-valued navigation property on the referenced table.
    pub schema_name: String,
    /// The table holding the lookup column (the "many" side).
    pub referencing_table: String,
    /// The lookup column on the referencing table.
    pub referencing_column: String,
    /// The table pointed at (the "one" side).
    pub referenced_table: String,
    /// The single-valued navigation property on the referencing table.
    pub referencing_nav: String,
}

/// A many-to-many relationship (`ManyToManyRelationshipMetadata`): pairs of rows of `entity1`
/// and `entity2` recorded as rows of the intersect table, each side reaching the other through
/// a collection-valued navigation property (spec §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManyToMany {
    /// Schema name (`accountleads_association`).
    pub schema_name: String,
    /// The intersect table's logical name (`accountleads`).
    pub intersect: String,
    /// First table.
    pub entity1: String,
    /// The intersect column holding the `entity1` row's id (`accountid`).
    pub entity1_column: String,
    /// Navigation property on `entity1` leading to `entity2` rows.
    pub entity1_nav: String,
    /// Second table.
    pub entity2: String,
    /// The intersect column holding the `entity2` row's id (`leadid`).
    pub entity2_column: String,
    /// Navigation property on `entity2` leading to `entity1` rows.
    pub entity2_nav: String,
}

impl ManyToMany {
    /// Seen from `table` through navigation property `nav`: (the intersect column of this
    /// side, the other table, the intersect column of the other side).
    pub fn side(&self, table: &str, nav: &str) -> Option<(&str, &str, &str)> {
        if self.entity1 == table && self.entity1_nav == nav {
            Some((&self.entity1_column, &self.entity2, &self.entity2_column))
        } else if self.entity2 == table && self.entity2_nav == nav {
            Some((&self.entity2_column, &self.entity1, &self.entity1_column))
        } else {
            None
        }
    }
}

/// An alternate key (`EntityKeyMetadata`): columns whose values identify a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternateKey {
    /// Schema name of the key.
    pub schema_name: String,
    /// Key columns (logical names), in key order.
    pub columns: Vec<String>,
}

/// A table (entity) definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Logical name (`account`).
    pub logical_name: String,
    /// Entity set name used in URLs (`accounts`).
    pub set_name: String,
    /// Schema name (`Account`).
    pub schema_name: String,
    /// Display name (`Account`).
    pub display_name: String,
    /// Display collection name (`Accounts`).
    pub display_collection_name: String,
    /// Primary id column (`accountid`).
    pub primary_id: String,
    /// Primary name column (`name`).
    pub primary_name: String,
    /// Object type code (`1` for account).
    pub object_type_code: i32,
    /// Ownership type.
    pub ownership: Ownership,
    /// Columns, primary id first.
    pub columns: Vec<Column>,
    /// Alternate keys.
    pub keys: Vec<AlternateKey>,
    /// Column positions by logical name, built by [`Schema::new`]; start with the default.
    pub index: ColumnIndex,
}

/// Column positions by logical name: a lookup cache of [`Table::columns`], never the source
/// of truth. A hit is checked against the column it points at, and a miss falls back to a
/// scan, so a table whose columns changed after indexing still answers correctly.
#[derive(Debug, Clone, Default)]
pub struct ColumnIndex(HashMap<String, usize, foldhash::fast::FixedState>);

impl PartialEq for ColumnIndex {
    /// Derived data: two tables with the same columns are equal whatever their index.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ColumnIndex {}

impl ColumnIndex {
    fn of(columns: &[Column]) -> Self {
        ColumnIndex(columns.iter().enumerate().map(|(i, c)| (c.logical_name.clone(), i)).collect())
    }
}

impl Table {
    /// The column with this logical name.
    pub fn column(&self, logical_name: &str) -> Option<&Column> {
        if let Some(c) = self.index.0.get(logical_name).and_then(|&i| self.columns.get(i))
            && c.logical_name == logical_name
        {
            return Some(c);
        }
        self.columns.iter().find(|c| c.logical_name == logical_name)
    }

    /// The column addressed by an OData property name (`name` or `_parentcustomerid_value`).
    pub fn column_by_odata_name(&self, name: &str) -> Option<&Column> {
        if let Some(inner) = name.strip_prefix('_').and_then(|n| n.strip_suffix("_value")) {
            return self.column(inner).filter(|c| c.is_lookup());
        }
        self.column(name).filter(|c| !c.is_lookup())
    }
}

/// A navigation property of a table, resolved from the relationships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Navigation<'a> {
    /// Single-valued: this table's lookup `column` points at one row of `target`.
    Single {
        /// The relationship.
        relationship: &'a Relationship,
        /// Lookup column on this table.
        column: &'a str,
        /// The table pointed at.
        target: &'a str,
    },
    /// Collection-valued: rows of `target` whose lookup `column` points at this row.
    Collection {
        /// The relationship.
        relationship: &'a Relationship,
        /// Lookup column on the target table.
        column: &'a str,
        /// The related table.
        target: &'a str,
    },
    /// Collection-valued through an intersect table (N:N): rows of `target` paired with this
    /// row in `relationship.intersect`.
    Many {
        /// The relationship.
        relationship: &'a ManyToMany,
        /// Intersect column holding this row's id.
        own_column: &'a str,
        /// Intersect column holding the related row's id.
        target_column: &'a str,
        /// The related table.
        target: &'a str,
    },
}

impl Navigation<'_> {
    /// Collection-valued (1:N or N:N).
    pub fn is_collection(&self) -> bool {
        !matches!(self, Navigation::Single { .. })
    }

    /// The related table's logical name.
    pub fn target(&self) -> &str {
        match self {
            Navigation::Single { target, .. }
            | Navigation::Collection { target, .. }
            | Navigation::Many { target, .. } => target,
        }
    }
}

/// Errors building a schema.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    /// Two tables share a logical or entity set name.
    #[error("table name {0} is defined twice")]
    DuplicateTable(String),
    /// A relationship names a table or column the schema does not have.
    #[error("relationship {0} refers to an unknown table or column")]
    DanglingRelationship(String),
    /// A navigation property name is used twice on one table.
    #[error("navigation property {1} is defined twice on table {0}")]
    DuplicateNavigation(String, String),
}

type Map<V> = HashMap<String, V, foldhash::fast::FixedState>;

/// Where a navigation property is defined: a relationship's position and the side.
#[derive(Debug, Clone, Copy)]
enum NavAt {
    /// `relationships[i]`, seen from the referencing table.
    Single(usize),
    /// `relationships[i]`, seen from the referenced table.
    Collection(usize),
    /// `many_to_many[i]`.
    Many(usize),
}

/// A function or action the org declares in its `$metadata` beyond the catalog (a custom API
/// or custom process action): Stanchion knows its name and binding, not what it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomOperation {
    /// Its unique name (`new_Escalate`).
    pub name: String,
    /// A function (GET) rather than an action (POST).
    pub function: bool,
    /// The table it is bound to (logical name), if bound.
    pub bound: Option<String>,
}

/// All tables of an org, with look-ups by logical and entity set name, and navigation
/// properties by table and name.
#[derive(Debug, Clone)]
pub struct Schema {
    operations: Vec<CustomOperation>,
    tables: Vec<Table>,
    relationships: Vec<Relationship>,
    many_to_many: Vec<ManyToMany>,
    by_logical: Map<usize>,
    by_set: Map<usize>,
    navigations: Map<Map<NavAt>>,
}

impl Schema {
    /// Builds a schema without N:N relationships (see [`Schema::with_many_to_many`]).
    pub fn new(tables: Vec<Table>, relationships: Vec<Relationship>) -> Result<Self, SchemaError> {
        Schema::with_many_to_many(tables, relationships, Vec::new())
    }

    /// Builds a schema, checking names are unique, relationships resolve and no table has two
    /// navigation properties of one name.
    pub fn with_many_to_many(
        mut tables: Vec<Table>,
        relationships: Vec<Relationship>,
        many_to_many: Vec<ManyToMany>,
    ) -> Result<Self, SchemaError> {
        for t in &mut tables {
            t.index = ColumnIndex::of(&t.columns);
        }
        let mut by_logical = Map::default();
        let mut by_set = Map::default();
        for (i, t) in tables.iter().enumerate() {
            if by_logical.insert(t.logical_name.clone(), i).is_some() {
                return Err(SchemaError::DuplicateTable(t.logical_name.clone()));
            }
            if by_set.insert(t.set_name.clone(), i).is_some() {
                return Err(SchemaError::DuplicateTable(t.set_name.clone()));
            }
        }
        let mut schema = Schema {
            operations: Vec::new(),
            tables,
            relationships,
            many_to_many,
            by_logical,
            by_set,
            navigations: Map::default(),
        };
        for r in &schema.relationships {
            let ok = schema.table(&r.referenced_table).is_some()
                && schema
                    .table(&r.referencing_table)
                    .and_then(|t| t.column(&r.referencing_column))
                    .is_some_and(Column::is_lookup);
            if !ok {
                return Err(SchemaError::DanglingRelationship(r.schema_name.clone()));
            }
        }
        for m in &schema.many_to_many {
            let ok = schema.table(&m.entity1).is_some()
                && schema.table(&m.entity2).is_some()
                && m.entity1_column != m.entity2_column
                && schema.table(&m.intersect).is_none();
            if !ok {
                return Err(SchemaError::DanglingRelationship(m.schema_name.clone()));
            }
        }
        let mut navigations: Map<Map<NavAt>> = Map::default();
        let one = schema.relationships.iter().enumerate().flat_map(|(i, r)| {
            [
                (&r.referencing_table, &r.referencing_nav, NavAt::Single(i)),
                (&r.referenced_table, &r.schema_name, NavAt::Collection(i)),
            ]
        });
        let many = schema.many_to_many.iter().enumerate().flat_map(|(i, m)| {
            [(&m.entity1, &m.entity1_nav, NavAt::Many(i)), (&m.entity2, &m.entity2_nav, NavAt::Many(i))]
        });
        for (table, nav, at) in one.chain(many) {
            let on_table = navigations.entry(table.clone()).or_default();
            // A self-referencing N:N whose two sides share one name is one property, not two.
            let same_many =
                matches!((on_table.get(nav.as_str()), at), (Some(NavAt::Many(a)), NavAt::Many(b)) if *a == b);
            if on_table.insert(nav.clone(), at).is_some() && !same_many {
                return Err(SchemaError::DuplicateNavigation(table.clone(), nav.clone()));
            }
        }
        schema.navigations = navigations;
        Ok(schema)
    }

    /// The schema with these custom functions and actions (a learned org's, or an emulator's
    /// registered for tests).
    pub fn with_operations(mut self, operations: Vec<CustomOperation>) -> Self {
        self.operations = operations;
        self
    }

    /// The org's custom functions and actions.
    pub fn operations(&self) -> &[CustomOperation] {
        &self.operations
    }

    /// A custom function or action by name (the `Microsoft.Dynamics.CRM.` prefix ignored).
    pub fn operation(&self, name: &str) -> Option<&CustomOperation> {
        let name = name.strip_prefix("Microsoft.Dynamics.CRM.").unwrap_or(name);
        self.operations.iter().find(|o| o.name == name)
    }

    /// The built-in standard tables (spec §15) the emulator ships with.
    pub fn standard() -> Self {
        standard::schema()
    }

    /// All tables, in definition order.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// All one-to-many relationships.
    pub fn relationships(&self) -> &[Relationship] {
        &self.relationships
    }

    /// All many-to-many relationships.
    pub fn many_to_many(&self) -> &[ManyToMany] {
        &self.many_to_many
    }

    /// The table with this logical name.
    pub fn table(&self, logical_name: &str) -> Option<&Table> {
        self.by_logical.get(logical_name).map(|&i| &self.tables[i])
    }

    /// The table with this entity set name (case-sensitive, as Dataverse).
    pub fn table_by_set(&self, set_name: &str) -> Option<&Table> {
        self.by_set.get(set_name).map(|&i| &self.tables[i])
    }

    /// The navigation property `name` of `table` (single-valued: the relationship's
    /// `referencing_nav`; collection-valued: its schema name), if any.
    pub fn navigation(&self, table: &str, name: &str) -> Option<Navigation<'_>> {
        match *self.navigations.get(table)?.get(name)? {
            NavAt::Single(i) => {
                let r = &self.relationships[i];
                Some(Navigation::Single { relationship: r, column: &r.referencing_column, target: &r.referenced_table })
            }
            NavAt::Collection(i) => {
                let r = &self.relationships[i];
                Some(Navigation::Collection {
                    relationship: r,
                    column: &r.referencing_column,
                    target: &r.referencing_table,
                })
            }
            NavAt::Many(i) => {
                let m = &self.many_to_many[i];
                let (own_column, target, target_column) = m.side(table, name)?;
                Some(Navigation::Many { relationship: m, own_column, target_column, target })
            }
        }
    }

    /// The table for a logical or entity set name (CLI convenience).
    pub fn table_by_any_name(&self, name: &str) -> Option<&Table> {
        self.table(name).or_else(|| self.table_by_set(name))
    }
}
