//! Reads of the metadata entity sets (spec §8.2–§8.4): `EntityDefinitions` (by `LogicalName` or
//! `MetadataId`, its `Attributes`, one attribute, its relationships), `RelationshipDefinitions`
//! and `GlobalOptionSetDefinitions`, with type casts, `$select`, `$filter` and `$expand`.
//!
//! A metadata answer is a tree of JSON objects, so the query options here work on JSON: a
//! [`MetaFilter`] is evaluated against an item's properties (paths such as `RequiredLevel/Value`;
//! enum literals such as `Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'` compare with the
//! enum member's name), and [`project`] keeps the selected properties. The emulator and the
//! gateway share them.

use crate::json::{Object, Value};
use std::fmt::Write as _;
use uuid::Uuid;

/// A key of a metadata item: its name (`LogicalName='account'`, `SchemaName='x'`, `Name='x'`)
/// or its `MetadataId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaKey {
    /// By name (the key property depends on the set).
    Name(String),
    /// By `MetadataId`.
    Id(Uuid),
}

/// Which metadata is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaPath {
    /// `EntityDefinitions`.
    Entities,
    /// `EntityDefinitions(key)`.
    Entity(MetaKey),
    /// `EntityDefinitions(key)/Attributes[/Microsoft.Dynamics.CRM.{cast}]`.
    Attributes {
        /// The table.
        entity: MetaKey,
        /// The attribute type cast (`PicklistAttributeMetadata`), if any.
        cast: Option<String>,
    },
    /// `EntityDefinitions(key)/Attributes(key)[/Microsoft.Dynamics.CRM.{cast}]`.
    Attribute {
        /// The table.
        entity: MetaKey,
        /// The attribute.
        key: MetaKey,
        /// The type cast, if any.
        cast: Option<String>,
    },
    /// `EntityDefinitions(key)/{OneToManyRelationships|ManyToOneRelationships|ManyToManyRelationships}`.
    EntityRelationships {
        /// The table.
        entity: MetaKey,
        /// Which navigation collection.
        which: String,
    },
    /// `RelationshipDefinitions[/cast]`.
    Relationships {
        /// `OneToManyRelationshipMetadata` or `ManyToManyRelationshipMetadata`, if cast.
        cast: Option<String>,
    },
    /// `RelationshipDefinitions(key)[/cast]`.
    Relationship {
        /// By `SchemaName` or `MetadataId`.
        key: MetaKey,
        /// The type cast, if any.
        cast: Option<String>,
    },
    /// `GlobalOptionSetDefinitions`.
    OptionSets,
    /// `GlobalOptionSetDefinitions(key)`.
    OptionSet(MetaKey),
}

/// An `$expand` of a metadata navigation property, with its own options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaExpand {
    /// The navigation property (`Attributes`, `OptionSet`, `OneToManyRelationships`…).
    pub name: String,
    /// Properties kept; empty: all.
    pub select: Vec<String>,
    /// Items kept.
    pub filter: Option<MetaFilter>,
    /// Nested expansions.
    pub expand: Vec<MetaExpand>,
}

/// A metadata read: what, and the query options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRead {
    /// What is read.
    pub path: MetaPath,
    /// `$select`; empty: all properties.
    pub select: Vec<String>,
    /// `$filter` (collections only).
    pub filter: Option<MetaFilter>,
    /// `$expand`.
    pub expand: Vec<MetaExpand>,
}

impl MetadataRead {
    /// The table a read names by logical name, if it does.
    pub fn table_name(&self) -> Option<&str> {
        match &self.path {
            MetaPath::Entity(MetaKey::Name(n))
            | MetaPath::Attributes { entity: MetaKey::Name(n), .. }
            | MetaPath::Attribute { entity: MetaKey::Name(n), .. }
            | MetaPath::EntityRelationships { entity: MetaKey::Name(n), .. } => Some(n),
            MetaPath::Entities => self.filter.as_ref().and_then(|f| f.equality("LogicalName")),
            _ => None,
        }
    }

    /// Whether the answer is one item rather than a collection.
    pub fn single(&self) -> bool {
        matches!(
            self.path,
            MetaPath::Entity(_) | MetaPath::Attribute { .. } | MetaPath::Relationship { .. } | MetaPath::OptionSet(_)
        )
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// A literal in a metadata `$filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaLiteral {
    /// `'text'`
    String(String),
    /// `true`/`false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// `null`
    Null,
    /// `Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'`: the type and the member.
    Enum(String, String),
    /// A GUID.
    Guid(Uuid),
}

/// A metadata `$filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaFilter {
    /// Both.
    And(Box<MetaFilter>, Box<MetaFilter>),
    /// Either.
    Or(Box<MetaFilter>, Box<MetaFilter>),
    /// Negation.
    Not(Box<MetaFilter>),
    /// `Path/To/Property op literal`.
    Compare {
        /// The property path.
        path: Vec<String>,
        /// The operator.
        op: MetaOp,
        /// The literal.
        value: MetaLiteral,
    },
}

impl MetaFilter {
    /// The literal of `property eq '…'` when the filter is exactly that, or a conjunction
    /// holding it.
    pub fn equality(&self, property: &str) -> Option<&str> {
        match self {
            MetaFilter::Compare { path, op: MetaOp::Eq, value: MetaLiteral::String(s) }
                if path.len() == 1 && path[0] == property =>
            {
                Some(s)
            }
            MetaFilter::And(a, b) => a.equality(property).or_else(|| b.equality(property)),
            _ => None,
        }
    }

    /// Whether the item matches.
    pub fn matches(&self, item: &Object) -> bool {
        match self {
            MetaFilter::And(a, b) => a.matches(item) && b.matches(item),
            MetaFilter::Or(a, b) => a.matches(item) || b.matches(item),
            MetaFilter::Not(a) => !a.matches(item),
            MetaFilter::Compare { path, op, value } => {
                let mut at: Option<&Value> = None;
                let mut object = Some(item);
                for p in path {
                    at = object.and_then(|o| o.get(p));
                    object = at.and_then(Value::as_object);
                }
                compare(at.unwrap_or(&Value::Null), *op, value)
            }
        }
    }

    /// The filter as OData text.
    pub fn print(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }

    fn write(&self, out: &mut String) {
        match self {
            MetaFilter::And(a, b) | MetaFilter::Or(a, b) => {
                out.push('(');
                a.write(out);
                out.push_str(if matches!(self, MetaFilter::And(..)) { " and " } else { " or " });
                b.write(out);
                out.push(')');
            }
            MetaFilter::Not(a) => {
                out.push_str("not (");
                a.write(out);
                out.push(')');
            }
            MetaFilter::Compare { path, op, value } => {
                let op = match op {
                    MetaOp::Eq => "eq",
                    MetaOp::Ne => "ne",
                    MetaOp::Gt => "gt",
                    MetaOp::Ge => "ge",
                    MetaOp::Lt => "lt",
                    MetaOp::Le => "le",
                };
                let _ = write!(out, "{} {op} ", path.join("/"));
                match value {
                    MetaLiteral::String(s) => {
                        let _ = write!(out, "'{}'", s.replace('\'', "''"));
                    }
                    MetaLiteral::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                    MetaLiteral::Number(n) => out.push_str(n),
                    MetaLiteral::Null => out.push_str("null"),
                    MetaLiteral::Enum(ty, member) => {
                        let _ = write!(out, "{ty}'{member}'");
                    }
                    MetaLiteral::Guid(g) => out.push_str(&g.to_string()),
                }
            }
        }
    }
}

fn compare(v: &Value, op: MetaOp, lit: &MetaLiteral) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (v, lit) {
        (Value::Null, MetaLiteral::Null) => Some(Ordering::Equal),
        (_, MetaLiteral::Null) | (Value::Null, _) => None,
        (Value::String(a), MetaLiteral::String(b) | MetaLiteral::Enum(_, b)) => Some(a.as_str().cmp(b.as_str())),
        (Value::String(a), MetaLiteral::Guid(g)) => {
            Some(if Uuid::try_parse(a).ok() == Some(*g) { Ordering::Equal } else { Ordering::Less })
        }
        (Value::Bool(a), MetaLiteral::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), MetaLiteral::Number(b)) => {
            a.as_f64().zip(b.parse::<f64>().ok()).and_then(|(x, y)| x.partial_cmp(&y))
        }
        _ => None,
    };
    match (op, ord) {
        (MetaOp::Eq, Some(o)) => o == Ordering::Equal,
        (MetaOp::Eq, None) => false,
        (MetaOp::Ne, Some(o)) => o != Ordering::Equal,
        // Comparing with null, or values of different kinds: only `ne` holds.
        (MetaOp::Ne, None) => !matches!((v, lit), (Value::Null, MetaLiteral::Null)),
        (MetaOp::Gt, Some(o)) => o == Ordering::Greater,
        (MetaOp::Ge, Some(o)) => o != Ordering::Less,
        (MetaOp::Lt, Some(o)) => o == Ordering::Less,
        (MetaOp::Le, Some(o)) => o != Ordering::Greater,
        (_, None) => false,
    }
}

/// Why a metadata `$filter` did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFilterError(pub String);

/// Parses a metadata `$filter`.
pub fn parse_filter(text: &str) -> Result<MetaFilter, MetaFilterError> {
    let toks = lex(text)?;
    let mut p = P { toks, at: 0, depth: 0 };
    let f = p.or()?;
    if p.at != p.toks.len() {
        return Err(MetaFilterError(format!("Syntax error at position {} in '{text}'", p.at)));
    }
    Ok(f)
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Word(String),
    Str(String),
    Enum(String, String),
    Open,
    Close,
}

fn lex(s: &str) -> Result<Vec<T>, MetaFilterError> {
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let string = |b: &[char], i: &mut usize| -> Result<String, MetaFilterError> {
        let mut v = String::new();
        *i += 1;
        loop {
            match b.get(*i) {
                None => return Err(MetaFilterError("An unterminated string in $filter".into())),
                Some('\'') if b.get(*i + 1) == Some(&'\'') => {
                    v.push('\'');
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(v);
                }
                Some(c) => {
                    v.push(*c);
                    *i += 1;
                }
            }
        }
    };
    while i < b.len() {
        match b[i] {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(T::Open);
                i += 1;
            }
            ')' => {
                out.push(T::Close);
                i += 1;
            }
            '\'' => out.push(T::Str(string(&b, &mut i)?)),
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '+') => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], '_' | '.' | '/' | '-' | '+' | ':'))
                {
                    i += 1;
                }
                let word: String = b[start..i].iter().collect();
                if b.get(i) == Some(&'\'') && word.contains('.') {
                    let member = string(&b, &mut i)?;
                    out.push(T::Enum(word, member));
                } else {
                    out.push(T::Word(word));
                }
            }
            c => return Err(MetaFilterError(format!("The character '{c}' is not allowed in $filter"))),
        }
    }
    Ok(out)
}

struct P {
    toks: Vec<T>,
    at: usize,
    depth: usize,
}

impl P {
    fn word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.at), Some(T::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<MetaFilter, MetaFilterError> {
        self.depth += 1;
        if self.depth > 32 {
            return Err(MetaFilterError("$filter is nested too deeply".into()));
        }
        let mut f = self.and()?;
        while self.word("or") {
            self.at += 1;
            f = MetaFilter::Or(Box::new(f), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(f)
    }

    fn and(&mut self) -> Result<MetaFilter, MetaFilterError> {
        let mut f = self.unary()?;
        while self.word("and") {
            self.at += 1;
            f = MetaFilter::And(Box::new(f), Box::new(self.unary()?));
        }
        Ok(f)
    }

    fn unary(&mut self) -> Result<MetaFilter, MetaFilterError> {
        if self.word("not") {
            self.at += 1;
            self.depth += 1;
            if self.depth > 32 {
                return Err(MetaFilterError("$filter is nested too deeply".into()));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(MetaFilter::Not(Box::new(inner)));
        }
        if self.toks.get(self.at) == Some(&T::Open) {
            self.at += 1;
            let f = self.or()?;
            if self.toks.get(self.at) != Some(&T::Close) {
                return Err(MetaFilterError("$filter has an unbalanced parenthesis".into()));
            }
            self.at += 1;
            return Ok(f);
        }
        let Some(T::Word(path)) = self.toks.get(self.at).cloned() else {
            return Err(MetaFilterError("$filter expects a property name".into()));
        };
        if !path.split('/').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
            return Err(MetaFilterError(format!("'{path}' is not a property path")));
        }
        self.at += 1;
        let op = match self.toks.get(self.at) {
            Some(T::Word(w)) => match w.as_str() {
                "eq" => MetaOp::Eq,
                "ne" => MetaOp::Ne,
                "gt" => MetaOp::Gt,
                "ge" => MetaOp::Ge,
                "lt" => MetaOp::Lt,
                "le" => MetaOp::Le,
                other => return Err(MetaFilterError(format!("'{other}' is not a comparison operator"))),
            },
            _ => return Err(MetaFilterError(format!("A comparison operator must follow '{path}'"))),
        };
        self.at += 1;
        let value = match self.toks.get(self.at).cloned() {
            Some(T::Str(s)) => MetaLiteral::String(s),
            Some(T::Enum(ty, m)) => MetaLiteral::Enum(ty, m),
            Some(T::Word(w)) if w == "true" || w == "false" => MetaLiteral::Bool(w == "true"),
            Some(T::Word(w)) if w == "null" => MetaLiteral::Null,
            Some(T::Word(w)) if Uuid::try_parse(&w).is_ok() && w.len() == 36 => {
                MetaLiteral::Guid(Uuid::try_parse(&w).unwrap_or_default())
            }
            Some(T::Word(w))
                if w.parse::<f64>().is_ok() && w.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') =>
            {
                MetaLiteral::Number(w)
            }
            _ => return Err(MetaFilterError(format!("A literal must follow '{path}'"))),
        };
        self.at += 1;
        Ok(MetaFilter::Compare { path: path.split('/').map(str::to_owned).collect(), op, value })
    }
}

/// Keeps the selected properties of an item (and `MetadataId`, which always comes back, and
/// `@odata.type`), then applies `$expand`: expanded collections are filtered, projected and
/// expanded in turn; navigation properties not expanded are removed.
pub fn project(item: &mut Object, select: &[String], expand: &[MetaExpand], navigations: &[&str]) {
    if !select.is_empty() {
        item.retain(|k, _| {
            k == "MetadataId"
                || k.starts_with('@')
                || select.iter().any(|s| s == k)
                || expand.iter().any(|e| e.name == k)
        });
    }
    item.retain(|k, _| !navigations.contains(&k) || expand.iter().any(|e| e.name == k));
    for e in expand {
        match item.get_mut(&e.name) {
            Some(Value::Array(items)) => {
                items.retain(|v| v.as_object().is_some_and(|o| e.filter.as_ref().is_none_or(|f| f.matches(o))));
                for v in items.iter_mut() {
                    if let Some(o) = v.as_object_mut() {
                        project(o, &e.select, &e.expand, navigations);
                    }
                }
            }
            Some(Value::Object(o)) => project(o, &e.select, &e.expand, navigations),
            _ => {}
        }
    }
}

/// The navigation properties of metadata items: removed unless expanded.
pub const NAVIGATIONS: &[&str] = &[
    "Attributes",
    "OneToManyRelationships",
    "ManyToOneRelationships",
    "ManyToManyRelationships",
    "Keys",
    "Privileges",
    "OptionSet",
    "GlobalOptionSet",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Object {
        crate::json::parse(json.as_bytes()).unwrap().as_object().unwrap().clone()
    }

    #[test]
    fn filters_parse_print_and_match() {
        let f = parse_filter(
            "IsPrivate eq false and (OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned' or LogicalName eq 'x''y')",
        )
        .unwrap();
        assert_eq!(
            f.print(),
            "(IsPrivate eq false and (OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned' or LogicalName eq 'x''y'))"
        );
        assert_eq!(parse_filter(&f.print()).unwrap(), f);
        assert!(f.matches(&object(r#"{"IsPrivate":false,"OwnershipType":"UserOwned"}"#)));
        assert!(!f.matches(&object(r#"{"IsPrivate":true,"OwnershipType":"UserOwned"}"#)));
        let g = parse_filter("RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'SystemRequired'")
            .unwrap();
        assert!(g.matches(&object(r#"{"RequiredLevel":{"Value":"SystemRequired"}}"#)));
        assert!(!g.matches(&object(r#"{"RequiredLevel":null}"#)));
        for bad in
            ["", "LogicalName", "LogicalName eq", "LogicalName eq 'x", "a eq 1)", "x sideways 1", "(a eq 1", "a$ eq 1"]
        {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }
}
