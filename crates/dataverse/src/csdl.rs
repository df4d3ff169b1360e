//! The CSDL `$metadata` document (spec §8.1): written from a [`Schema`], read back into one,
//! and filtered structurally per agent (design §4).
//!
//! - [`write`]: namespace `Microsoft.Dynamics.CRM` (alias `mscrm`), an abstract
//!   `crmbaseentity`, one `EntityType` per table (`Key`, a `Property` per column with lookups as
//!   `_x_value` `Edm.Guid`, a `NavigationProperty` per relationship side with its
//!   `ReferentialConstraint`), the `WhoAmI` function, and the `System` container with an
//!   `EntitySet` per table and its `NavigationPropertyBinding`s.
//! - [`read`]: the tables, columns and one-to-many relationships a CSDL document declares. CSDL
//!   does not carry everything the schema holds: choice options, money versus decimal, memo
//!   versus text, display names, primary name columns, alternate keys and N:N intersect tables
//!   come from `EntityDefinitions` (a learned schema merges both). Integers read as whole
//!   numbers, `Edm.Decimal` as decimals, the primary name as the first of `name`, `fullname`,
//!   `subject`, `title` the table has (else its primary id).
//! - [`filter`]: removes what an agent may not see from a parsed document: entity types and
//!   sets of tables it cannot read (a base type of a kept type stays, stripped to its key),
//!   hidden columns in every form (`x`, `_x_value`, `x_base`), navigation properties to
//!   unreadable tables or through hidden lookups, their bindings, functions and actions it may
//!   not call, and annotations targeting anything removed. Everything else is kept as written.

use crate::metadata::{Column, ColumnType, Ownership, RequiredLevel, Schema, Table};
use crate::metadata::{Relationship, SchemaError};
use crate::xml::{self, Element, XmlError};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The CSDL namespace of Dataverse types.
pub const NAMESPACE: &str = "Microsoft.Dynamics.CRM";
/// Its alias.
pub const ALIAS: &str = "mscrm";
/// Largest `$metadata` document read (a real org's is a few MB).
pub const MAX_DOCUMENT: usize = 64 * 1024 * 1024;

/// Why a document could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsdlError {
    /// Not acceptable XML.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// XML, but not the CSDL shape expected.
    #[error("the $metadata document is not CSDL as expected: {0}")]
    Shape(String),
    /// The tables and relationships it declares do not form a schema.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

fn shape(m: impl Into<String>) -> CsdlError {
    CsdlError::Shape(m.into())
}

/// `mscrm.x` / `Microsoft.Dynamics.CRM.x` → `x`.
fn local_type(name: &str) -> Option<&str> {
    name.strip_prefix("mscrm.").or_else(|| name.strip_prefix("Microsoft.Dynamics.CRM."))
}

/// `Collection(mscrm.x)` → (`x`, true); `mscrm.x` → (`x`, false).
fn nav_type(name: &str) -> Option<(&str, bool)> {
    match name.strip_prefix("Collection(").and_then(|n| n.strip_suffix(')')) {
        Some(inner) => local_type(inner).map(|t| (t, true)),
        None => local_type(name).map(|t| (t, false)),
    }
}

fn property(c: &Column) -> Element {
    let mut p = Element::new("Property").attr("Name", c.odata_name()).attr("Type", c.kind.edm_name());
    match &c.kind {
        ColumnType::String { max_length } | ColumnType::Memo { max_length } => {
            p = p.attr("Unicode", "false").attr("MaxLength", max_length.to_string());
        }
        ColumnType::Money | ColumnType::Decimal => p = p.attr("Scale", "Variable"),
        ColumnType::DateTime => p = p.attr("Precision", "0"),
        _ => {}
    }
    p
}

/// The `$metadata` document of a schema.
pub fn write(schema: &Schema) -> String {
    let mut s = Element::new("Schema")
        .attr("Namespace", NAMESPACE)
        .attr("Alias", ALIAS)
        .attr("xmlns", "http://docs.oasis-open.org/odata/ns/edm");
    s = s.child(Element::new("EntityType").attr("Name", "crmbaseentity").attr("Abstract", "true"));
    let mut container = Element::new("EntityContainer").attr("Name", "System");
    for t in schema.tables() {
        let mut e = Element::new("EntityType").attr("Name", &t.logical_name).attr("BaseType", "mscrm.crmbaseentity");
        e = e.child(Element::new("Key").child(Element::new("PropertyRef").attr("Name", &t.primary_id)));
        for c in &t.columns {
            e = e.child(property(c));
        }
        let mut set = Element::new("EntitySet")
            .attr("Name", &t.set_name)
            .attr("EntityType", format!("{NAMESPACE}.{}", t.logical_name));
        let mut bind = |nav: &str, target: &str| {
            if let Some(target) = schema.table(target) {
                set.children.push(xml::Node::Element(
                    Element::new("NavigationPropertyBinding").attr("Path", nav).attr("Target", &target.set_name),
                ));
            }
        };
        for r in schema.relationships() {
            if r.referencing_table == t.logical_name {
                let referenced_id = schema.table(&r.referenced_table).map_or("", |x| x.primary_id.as_str());
                e = e.child(
                    Element::new("NavigationProperty")
                        .attr("Name", &r.referencing_nav)
                        .attr("Type", format!("{ALIAS}.{}", r.referenced_table))
                        .attr("Nullable", "false")
                        .attr("Partner", &r.schema_name)
                        .child(
                            Element::new("ReferentialConstraint")
                                .attr("Property", format!("_{}_value", r.referencing_column))
                                .attr("ReferencedProperty", referenced_id),
                        ),
                );
                bind(&r.referencing_nav, &r.referenced_table);
            }
            if r.referenced_table == t.logical_name {
                e = e.child(
                    Element::new("NavigationProperty")
                        .attr("Name", &r.schema_name)
                        .attr("Type", format!("Collection({ALIAS}.{})", r.referencing_table))
                        .attr("Partner", &r.referencing_nav),
                );
                bind(&r.schema_name, &r.referencing_table);
            }
        }
        let mut seen = BTreeSet::new();
        for m in schema.many_to_many() {
            for (table, nav, other, partner) in [
                (&m.entity1, &m.entity1_nav, &m.entity2, &m.entity2_nav),
                (&m.entity2, &m.entity2_nav, &m.entity1, &m.entity1_nav),
            ] {
                if *table == t.logical_name && seen.insert(nav.clone()) {
                    e = e.child(
                        Element::new("NavigationProperty")
                            .attr("Name", nav)
                            .attr("Type", format!("Collection({ALIAS}.{other})"))
                            .attr("Partner", partner),
                    );
                    bind(nav, other);
                }
            }
        }
        s = s.child(e);
        container = container.child(set);
    }
    s = s.child(
        Element::new("ComplexType")
            .attr("Name", "WhoAmIResponse")
            .child(
                Element::new("Property")
                    .attr("Name", "BusinessUnitId")
                    .attr("Type", "Edm.Guid")
                    .attr("Nullable", "false"),
            )
            .child(Element::new("Property").attr("Name", "UserId").attr("Type", "Edm.Guid").attr("Nullable", "false"))
            .child(
                Element::new("Property")
                    .attr("Name", "OrganizationId")
                    .attr("Type", "Edm.Guid")
                    .attr("Nullable", "false"),
            ),
    );
    s = s.child(
        Element::new("Function")
            .attr("Name", "WhoAmI")
            .child(Element::new("ReturnType").attr("Type", "mscrm.WhoAmIResponse").attr("Nullable", "false")),
    );
    container = container
        .child(Element::new("FunctionImport").attr("Name", "WhoAmI").attr("Function", format!("{NAMESPACE}.WhoAmI")));
    // The org's custom functions and actions, each answering a complex type of its own.
    for op in schema.operations() {
        s = s.child(Element::new("ComplexType").attr("Name", format!("{}Response", op.name)));
        let kind = if op.function { "Function" } else { "Action" };
        let mut e = Element::new(kind)
            .attr("Name", &op.name)
            .attr("IsBound", if op.bound.is_some() { "true" } else { "false" });
        if let Some(t) = &op.bound {
            e = e.child(
                Element::new("Parameter")
                    .attr("Name", "entity")
                    .attr("Type", format!("{ALIAS}.{t}"))
                    .attr("Nullable", "false"),
            );
        }
        e = e.child(
            Element::new("ReturnType").attr("Type", format!("{ALIAS}.{}Response", op.name)).attr("Nullable", "false"),
        );
        s = s.child(e);
        if op.bound.is_none() {
            let import = if op.function { "FunctionImport" } else { "ActionImport" };
            container = container
                .child(Element::new(import).attr("Name", &op.name).attr(kind, format!("{NAMESPACE}.{}", op.name)));
        }
    }
    s = s.child(container);
    let root = Element::new("edmx:Edmx")
        .attr("Version", "4.0")
        .attr("xmlns:edmx", "http://docs.oasis-open.org/odata/ns/edmx")
        .child(Element::new("edmx:DataServices").child(s));
    root.to_document()
}

/// The `Schema` elements of the document's `edmx:DataServices`.
fn schemas(root: &Element) -> Result<Vec<&Element>, CsdlError> {
    if root.local_name() != "Edmx" {
        return Err(shape(format!("the root element is {}, not edmx:Edmx", root.name)));
    }
    let services = root.named("DataServices").next().ok_or_else(|| shape("no edmx:DataServices"))?;
    let found: Vec<&Element> = services.named("Schema").filter(|s| s.get("Namespace") == Some(NAMESPACE)).collect();
    if found.is_empty() {
        return Err(shape(format!("no Schema of namespace {NAMESPACE}")));
    }
    Ok(found)
}

fn kind_of(p: &Element) -> Result<ColumnType, CsdlError> {
    let ty = p.get("Type").ok_or_else(|| shape("a Property without a Type"))?;
    Ok(match ty {
        "Edm.String" => {
            let max_length = p.get("MaxLength").and_then(|m| m.parse().ok()).unwrap_or(4000);
            ColumnType::String { max_length }
        }
        "Edm.Int32" | "Edm.Int16" | "Edm.Byte" => ColumnType::Integer,
        "Edm.Int64" => ColumnType::BigInt,
        "Edm.Decimal" => ColumnType::Decimal,
        "Edm.Double" | "Edm.Single" => ColumnType::Double,
        "Edm.Boolean" => ColumnType::Boolean { true_label: "Yes".into(), false_label: "No".into() },
        "Edm.DateTimeOffset" => ColumnType::DateTime,
        "Edm.Date" => ColumnType::DateOnly,
        "Edm.Guid" => ColumnType::Uniqueidentifier,
        // Binary, streams, geography, complex and enum types: not columns Stanchion models.
        _ => return Err(shape(format!("unmodelled type {ty}"))),
    })
}

/// The tables and one-to-many relationships a `$metadata` document declares (see the module
/// doc for what CSDL cannot say).
pub fn read(text: &str) -> Result<Schema, CsdlError> {
    let (tables, relationships) = read_parts(text)?;
    let (relationships, _) = distinct_navigations(relationships, Vec::new());
    Ok(Schema::new(tables, relationships)?)
}

/// Drops relationships whose navigation property names are already taken on their table (a
/// document may declare one twice; the first wins rather than the whole schema failing).
fn distinct_navigations(
    relationships: Vec<Relationship>,
    many: Vec<crate::metadata::ManyToMany>,
) -> (Vec<Relationship>, Vec<crate::metadata::ManyToMany>) {
    let mut taken: HashSet<(String, String)> = HashSet::new();
    let mut free = |table: &str, nav: &str| taken.insert((table.to_owned(), nav.to_owned()));
    let relationships = relationships
        .into_iter()
        .filter(|r| {
            let single = free(&r.referencing_table, &r.referencing_nav);
            let collection = free(&r.referenced_table, &r.schema_name);
            single && collection
        })
        .collect();
    let many = many
        .into_iter()
        .filter(|m| {
            let one = free(&m.entity1, &m.entity1_nav);
            let self_pair = m.entity1 == m.entity2 && m.entity1_nav == m.entity2_nav;
            let two = self_pair || free(&m.entity2, &m.entity2_nav);
            one && two
        })
        .collect();
    (relationships, many)
}

/// What a real org's metadata says, merged: the `$metadata` document for tables, columns and
/// lookups; `EntityDefinitions` (`value` of
/// `EntityDefinitions?$select=LogicalName,SchemaName,PrimaryNameAttribute,DisplayName,DisplayCollectionName,ObjectTypeCode,OwnershipType,IsIntersect&$expand=Keys($select=SchemaName,KeyAttributes)`)
/// for primary names, labels, ownership, alternate keys and which tables are intersect tables
/// (those are left out: N:N pairs are reached through their relationships); and the
/// many-to-many relationships (`value` of
/// `RelationshipDefinitions/Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata`).
pub fn learn(
    csdl: &str,
    entities: &crate::json::Value,
    many_to_many: &crate::json::Value,
) -> Result<Schema, CsdlError> {
    use crate::json::Value;
    let (mut tables, mut relationships) = read_parts(csdl)?;
    let items = |v: &Value| -> Vec<crate::json::Object> {
        v.as_object()
            .and_then(|o| o.get("value"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|i| i.as_object().cloned()).collect())
            .unwrap_or_default()
    };
    let text = |o: &crate::json::Object, k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let label = |o: &crate::json::Object, k: &str| {
        o.get(k)
            .and_then(Value::as_object)
            .and_then(|l| l.get("UserLocalizedLabel"))
            .and_then(Value::as_object)
            .and_then(|l| l.get("Label"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let definitions: HashMap<String, crate::json::Object> =
        items(entities).into_iter().filter_map(|o| Some((text(&o, "LogicalName")?, o))).collect();
    let intersect: HashSet<String> = definitions
        .iter()
        .filter(|(_, o)| o.get("IsIntersect").and_then(Value::as_bool) == Some(true))
        .map(|(n, _)| n.clone())
        .collect();
    tables.retain(|t| !intersect.contains(&t.logical_name));
    relationships.retain(|r| !intersect.contains(&r.referencing_table) && !intersect.contains(&r.referenced_table));
    for t in &mut tables {
        let Some(d) = definitions.get(&t.logical_name) else { continue };
        if let Some(n) = text(d, "PrimaryNameAttribute").filter(|n| t.columns.iter().any(|c| c.logical_name == *n)) {
            t.primary_name = n;
        }
        if let Some(n) = text(d, "SchemaName") {
            t.schema_name = n;
        }
        if let Some(n) = label(d, "DisplayName") {
            t.display_name = n;
        }
        if let Some(n) = label(d, "DisplayCollectionName") {
            t.display_collection_name = n;
        }
        if let Some(code) = d.get("ObjectTypeCode").and_then(Value::as_number).and_then(|n| n.as_i64()) {
            t.object_type_code = i32::try_from(code).unwrap_or(0);
        }
        t.ownership = match text(d, "OwnershipType").as_deref() {
            Some("UserOwned" | "TeamOwned") => Ownership::UserOwned,
            Some("BusinessOwned") => Ownership::BusinessOwned,
            Some(_) => Ownership::OrganizationOwned,
            None => t.ownership,
        };
        if let Some(Value::Array(keys)) = d.get("Keys") {
            for k in keys.iter().filter_map(Value::as_object) {
                let columns: Vec<String> = match k.get("KeyAttributes") {
                    Some(Value::Array(c)) => c.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                    _ => continue,
                };
                if !columns.is_empty() && columns.iter().all(|c| t.columns.iter().any(|x| x.logical_name == *c)) {
                    t.keys.push(crate::metadata::AlternateKey {
                        schema_name: text(k, "SchemaName").unwrap_or_default(),
                        columns,
                    });
                }
            }
        }
    }
    let known: HashSet<&str> = tables.iter().map(|t| t.logical_name.as_str()).collect();
    let many: Vec<crate::metadata::ManyToMany> = items(many_to_many)
        .into_iter()
        .filter_map(|o| {
            let m = crate::metadata::ManyToMany {
                schema_name: text(&o, "SchemaName")?,
                intersect: text(&o, "IntersectEntityName")?,
                entity1: text(&o, "Entity1LogicalName")?,
                entity1_column: text(&o, "Entity1IntersectAttribute")?,
                entity1_nav: text(&o, "Entity1NavigationPropertyName")?,
                entity2: text(&o, "Entity2LogicalName")?,
                entity2_column: text(&o, "Entity2IntersectAttribute")?,
                entity2_nav: text(&o, "Entity2NavigationPropertyName")?,
            };
            (known.contains(m.entity1.as_str())
                && known.contains(m.entity2.as_str())
                && !known.contains(m.intersect.as_str()))
            .then_some(m)
        })
        .collect();
    let (relationships, many) = distinct_navigations(relationships, many);
    let known: HashSet<String> = tables.iter().map(|t| t.logical_name.clone()).collect();
    let operations =
        read_operations(csdl)?.into_iter().filter(|o| o.bound.as_ref().is_none_or(|t| known.contains(t))).collect();
    Ok(Schema::with_many_to_many(tables, relationships, many)?.with_operations(operations))
}

/// The functions and actions a document declares beyond the catalog (`crate::catalog`): an
/// org's custom APIs and custom process actions, unbound or bound to one row of a table
/// (collection-bound ones are left out).
pub fn read_operations(text: &str) -> Result<Vec<crate::metadata::CustomOperation>, CsdlError> {
    let root = xml::parse(text, MAX_DOCUMENT)?;
    let mut out = Vec::new();
    for schema in schemas(&root)? {
        for e in schema.elements().filter(|e| matches!(e.local_name(), "Action" | "Function")) {
            let Some(name) = e.get("Name") else { continue };
            if crate::catalog::find(name).is_some()
                || out.iter().any(|o: &crate::metadata::CustomOperation| o.name == name)
            {
                continue;
            }
            let bound = match e.get("IsBound") {
                Some("true") => {
                    let first = e.named("Parameter").next().and_then(|p| p.get("Type")).unwrap_or("");
                    if first.starts_with("Collection(") {
                        continue;
                    }
                    match local_type(first) {
                        Some(t) => Some(t.to_owned()),
                        None => continue,
                    }
                }
                _ => None,
            };
            out.push(crate::metadata::CustomOperation {
                name: name.to_owned(),
                function: e.local_name() == "Function",
                bound,
            });
        }
    }
    Ok(out)
}

fn read_parts(text: &str) -> Result<(Vec<Table>, Vec<Relationship>), CsdlError> {
    let root = xml::parse(text, MAX_DOCUMENT)?;
    let schemas = schemas(&root)?;
    let types: HashMap<&str, &Element> =
        schemas.iter().flat_map(|s| s.named("EntityType")).filter_map(|e| e.get("Name").map(|n| (n, e))).collect();
    let sets: HashMap<&str, &str> = schemas
        .iter()
        .flat_map(|s| s.named("EntityContainer"))
        .flat_map(|c| c.named("EntitySet"))
        .filter_map(|s| Some((s.get("EntityType").and_then(local_type)?, s.get("Name")?)))
        .collect();
    // An entity type with its base types, nearest first.
    fn chain<'e>(types: &HashMap<&str, &'e Element>, e: &'e Element) -> Vec<&'e Element> {
        let mut out = Vec::new();
        let mut at = Some(e);
        while let Some(t) = at {
            if out.len() > 16 {
                break;
            }
            out.push(t);
            at = t.get("BaseType").and_then(local_type).and_then(|b| types.get(b).copied());
        }
        out
    }
    let mut tables = Vec::new();
    let mut relationships = Vec::new();
    let mut names: Vec<&str> = types.keys().copied().collect();
    names.sort_unstable();
    for name in names {
        let e = types[name];
        let Some(set) = sets.get(name) else { continue };
        if e.get("Abstract") == Some("true") {
            continue;
        }
        let chain = chain(&types, e);
        let primary_id = chain
            .iter()
            .find_map(|t| t.named("Key").next())
            .and_then(|k| k.named("PropertyRef").next())
            .and_then(|r| r.get("Name"))
            .ok_or_else(|| shape(format!("the entity type {name} has no key")))?;
        // Lookup targets: single-valued navigation properties constrained on `_x_value`.
        let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in &chain {
            for nav in t.named("NavigationProperty") {
                let (Some(nav_name), Some((target, false))) = (nav.get("Name"), nav.get("Type").and_then(nav_type))
                else {
                    continue;
                };
                let Some(column) = nav
                    .named("ReferentialConstraint")
                    .next()
                    .and_then(|c| c.get("Property"))
                    .and_then(|p| p.strip_prefix('_'))
                    .and_then(|p| p.strip_suffix("_value"))
                else {
                    continue;
                };
                let list = targets.entry(column.to_owned()).or_default();
                if !list.iter().any(|x| x == target) {
                    list.push(target.to_owned());
                }
                if types.contains_key(target) && sets.contains_key(target) {
                    relationships.push(Relationship {
                        schema_name: nav.get("Partner").unwrap_or(nav_name).to_owned(),
                        referencing_table: name.to_owned(),
                        referencing_column: column.to_owned(),
                        referenced_table: target.to_owned(),
                        referencing_nav: nav_name.to_owned(),
                    });
                }
            }
        }
        let mut columns: Vec<Column> = Vec::new();
        for t in chain.iter().rev() {
            for p in t.named("Property") {
                let pname = p.get("Name").ok_or_else(|| shape(format!("a Property of {name} without a Name")))?;
                let (logical, kind) = match pname.strip_prefix('_').and_then(|x| x.strip_suffix("_value")) {
                    Some(lookup) => {
                        (lookup.to_owned(), ColumnType::Lookup { targets: targets.remove(lookup).unwrap_or_default() })
                    }
                    None => match kind_of(p) {
                        Ok(k) => (pname.to_owned(), k),
                        Err(_) => continue,
                    },
                };
                if columns.iter().any(|c| c.logical_name == logical) {
                    continue;
                }
                columns.push(Column {
                    logical_name: logical,
                    kind,
                    required: RequiredLevel::None,
                    valid_for_create: true,
                    valid_for_update: true,
                });
            }
        }
        if let Some(i) = columns.iter().position(|c| c.logical_name == primary_id) {
            let id = columns.remove(i);
            columns.insert(0, id);
        } else {
            return Err(shape(format!("the key {primary_id} of {name} is not a property")));
        }
        let primary_name = ["name", "fullname", "subject", "title"]
            .into_iter()
            .find(|n| columns.iter().any(|c| c.logical_name == *n))
            .unwrap_or(primary_id)
            .to_owned();
        let ownership = if columns.iter().any(|c| c.logical_name == "ownerid") {
            Ownership::UserOwned
        } else {
            Ownership::OrganizationOwned
        };
        tables.push(Table {
            logical_name: name.to_owned(),
            set_name: (*set).to_owned(),
            schema_name: name.to_owned(),
            display_name: name.to_owned(),
            display_collection_name: (*set).to_owned(),
            primary_id: primary_id.to_owned(),
            primary_name,
            object_type_code: 0,
            ownership,
            columns,
            keys: Vec::new(),
            index: Default::default(),
        });
    }
    Ok((tables, relationships))
}

/// What an agent may see, for [`filter`].
pub trait Visibility {
    /// Whether the agent may read the table (logical name).
    fn table(&self, table: &str) -> bool;
    /// Whether the column (logical name) of the table is hidden from it.
    fn hidden(&self, table: &str, column: &str) -> bool;
    /// Whether the agent may call the function or action (unqualified name).
    fn operation(&self, name: &str) -> bool;
}

/// The column a property stands for: `x` for `x`, `_x_value` and `x_base`.
fn columns_of(property: &str) -> Vec<&str> {
    let mut out = vec![property];
    if let Some(l) = property.strip_prefix('_').and_then(|p| p.strip_suffix("_value")) {
        out.push(l);
    }
    if let Some(b) = property.strip_suffix("_base") {
        out.push(b);
    }
    out
}

/// Removes from a parsed `$metadata` document what `v` may not see (see the module doc).
pub fn filter(root: &mut Element, v: &dyn Visibility) -> Result<(), CsdlError> {
    schemas(root)?;
    let Some(services) = root.elements_mut().find(|e| e.local_name() == "DataServices") else {
        return Err(shape("no edmx:DataServices"));
    };
    // What every entity type is based on, and the lookup behind each navigation property.
    let mut base_of: HashMap<String, String> = HashMap::new();
    let mut constraint: HashMap<(String, String), String> = HashMap::new();
    let mut partner: HashMap<(String, String), String> = HashMap::new();
    for s in services.named("Schema").filter(|s| s.get("Namespace") == Some(NAMESPACE)) {
        for e in s.named("EntityType") {
            let Some(name) = e.get("Name") else { continue };
            if let Some(b) = e.get("BaseType").and_then(local_type) {
                base_of.insert(name.to_owned(), b.to_owned());
            }
            for nav in e.named("NavigationProperty") {
                let Some(nav_name) = nav.get("Name") else { continue };
                if let Some(col) = nav
                    .named("ReferentialConstraint")
                    .next()
                    .and_then(|c| c.get("Property"))
                    .and_then(|p| p.strip_prefix('_'))
                    .and_then(|p| p.strip_suffix("_value"))
                {
                    constraint.insert((name.to_owned(), nav_name.to_owned()), col.to_owned());
                }
                if let Some(p) = nav.get("Partner") {
                    partner.insert((name.to_owned(), nav_name.to_owned()), p.to_owned());
                }
            }
        }
    }
    let declared: HashSet<String> = services
        .named("Schema")
        .flat_map(|s| s.named("EntityType"))
        .filter_map(|e| e.get("Name").map(str::to_owned))
        .collect();
    // Kept: readable types, and every base type of a kept one (stripped when not readable).
    let mut kept: HashSet<String> = HashSet::new();
    for s in services.named("Schema") {
        for e in s.named("EntityType") {
            let Some(name) = e.get("Name") else { continue };
            if v.table(name) {
                let mut at = Some(name.to_owned());
                while let Some(t) = at {
                    if !kept.insert(t.clone()) {
                        break;
                    }
                    at = base_of.get(&t).cloned();
                }
            }
        }
    }
    let navigation_visible = |table: &str, nav: &Element| -> bool {
        let Some(name) = nav.get("Name") else { return false };
        let Some((target, collection)) = nav.get("Type").and_then(nav_type) else { return false };
        if !v.table(target) {
            return false;
        }
        let key = (table.to_owned(), name.to_owned());
        if let Some(col) = constraint.get(&key)
            && v.hidden(table, col)
        {
            return false;
        }
        // A collection-valued property exists through a lookup on the target table.
        if collection
            && let Some(p) = partner.get(&key)
            && let Some(col) = constraint.get(&(target.to_owned(), p.clone()))
            && v.hidden(target, col)
        {
            return false;
        }
        true
    };
    let mut kept_sets: HashSet<String> = HashSet::new();
    let mut removed_navs: HashSet<(String, String)> = HashSet::new();
    for s in services.elements_mut().filter(|e| e.local_name() == "Schema") {
        if s.get("Namespace") != Some(NAMESPACE) {
            continue;
        }
        // The response types of operations left out go with them (their names would tell).
        let hidden_responses: HashSet<String> = s
            .elements()
            .filter(|e| matches!(e.local_name(), "Function" | "Action"))
            .filter_map(|e| e.get("Name"))
            .filter(|n| !v.operation(n))
            .map(|n| format!("{n}Response"))
            .collect();
        s.retain_elements(|e| match e.local_name() {
            "EntityType" => e.get("Name").is_some_and(|n| kept.contains(n)),
            "ComplexType" => e.get("Name").is_none_or(|n| !hidden_responses.contains(n)),
            "Function" | "Action" => e.get("Name").is_some_and(|n| v.operation(n)),
            "Annotations" => e.get("Target").is_none_or(|t| annotation_kept(t, &declared, &kept, v)),
            _ => true,
        });
        for e in s.elements_mut().filter(|e| e.local_name() == "EntityType") {
            let name = e.get("Name").unwrap_or_default().to_owned();
            let readable = v.table(&name);
            let key: Vec<String> = e
                .named("Key")
                .flat_map(|k| k.named("PropertyRef"))
                .filter_map(|r| r.get("Name").map(str::to_owned))
                .collect();
            let navs: Vec<(String, bool)> = e
                .named("NavigationProperty")
                .map(|n| (n.get("Name").unwrap_or_default().to_owned(), readable && navigation_visible(&name, n)))
                .collect();
            for (n, keep) in &navs {
                if !keep {
                    removed_navs.insert((name.clone(), n.clone()));
                }
            }
            e.retain_elements(|c| match c.local_name() {
                "Property" => {
                    let p = c.get("Name").unwrap_or_default();
                    if readable {
                        !columns_of(p).iter().any(|col| v.hidden(&name, col))
                    } else {
                        key.iter().any(|k| k == p)
                    }
                }
                "NavigationProperty" => {
                    let n = c.get("Name").unwrap_or_default();
                    navs.iter().any(|(x, keep)| x == n && *keep)
                }
                _ => true,
            });
        }
        for c in s.elements_mut().filter(|e| e.local_name() == "EntityContainer") {
            c.retain_elements(|e| match e.local_name() {
                "EntitySet" => e.get("EntityType").and_then(local_type).is_some_and(|t| v.table(t)),
                "FunctionImport" => e.get("Function").and_then(local_type).is_some_and(|f| v.operation(f)),
                "ActionImport" => e.get("Action").and_then(local_type).is_some_and(|f| v.operation(f)),
                "Singleton" => false,
                _ => true,
            });
            for set in c.elements().filter(|e| e.local_name() == "EntitySet") {
                if let Some(n) = set.get("Name") {
                    kept_sets.insert(n.to_owned());
                }
            }
            for set in c.elements_mut().filter(|e| e.local_name() == "EntitySet") {
                let ty = set.get("EntityType").and_then(local_type).unwrap_or_default().to_owned();
                set.retain_elements(|b| {
                    b.local_name() != "NavigationPropertyBinding"
                        || (b.get("Target").is_some_and(|t| kept_sets.contains(t))
                            && b.get("Path").is_some_and(|p| !removed_navs.contains(&(ty.clone(), p.to_owned()))))
                });
            }
        }
    }
    Ok(())
}

/// Whether an `Annotations` element stays: its target (`mscrm.account`, `mscrm.account/name`)
/// names no removed entity type and no hidden column.
fn annotation_kept(target: &str, declared: &HashSet<String>, kept: &HashSet<String>, v: &dyn Visibility) -> bool {
    let (head, member) = match target.split_once('/') {
        Some((h, m)) => (h, Some(m)),
        None => (target, None),
    };
    let Some(ty) = local_type(head.split('(').next().unwrap_or(head)) else { return true };
    if !declared.contains(ty) {
        return true;
    }
    if !kept.contains(ty) {
        return false;
    }
    match member {
        Some(m) => v.table(ty) && !columns_of(m).iter().any(|c| v.hidden(ty, c)),
        None => true,
    }
}
