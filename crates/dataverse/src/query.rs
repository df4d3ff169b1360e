//! The query IR: one typed form of a collection query, executed by the emulator and classified
//! by the gateway. OData query options lower to it today; FetchXML and SQL will lower to it too.
//!
//! Columns are logical names of the query's table; printing turns lookups into `_x_value`.

use uuid::Uuid;

/// A query over one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Logical name of the table queried.
    pub table: String,
    /// Columns to return (logical names); empty = all columns.
    pub select: Vec<String>,
    /// Row filter.
    pub filter: Option<Filter>,
    /// Sort order.
    pub orderby: Vec<OrderBy>,
    /// Maximum rows.
    pub top: Option<u32>,
    /// `$count=true`: include the number of matching rows.
    pub count: bool,
    /// `$skiptoken` from an `@odata.nextLink`, exactly as received (opaque: only the server
    /// that issued it interprets it; the page size comes from `Prefer: odata.maxpagesize`).
    pub skiptoken: Option<String>,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// Column logical name.
    pub column: String,
    /// Descending instead of ascending.
    pub descending: bool,
}

/// A boolean row filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Both must hold.
    And(Box<Filter>, Box<Filter>),
    /// Either must hold.
    Or(Box<Filter>, Box<Filter>),
    /// Negation.
    Not(Box<Filter>),
    /// A comparison of two operands.
    Compare {
        /// Left operand.
        left: Operand,
        /// Operator.
        op: CompareOp,
        /// Right operand.
        right: Operand,
    },
    /// `contains`, `startswith`, `endswith` on a text column.
    Text {
        /// Which function.
        function: TextFunction,
        /// Column logical name.
        column: String,
        /// The text searched for (SQL wildcards act as wildcards, as in Dataverse).
        value: String,
    },
}

impl Filter {
    /// Every column this filter reads, in order of appearance (duplicates kept).
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_columns(&mut out);
        out
    }

    fn collect_columns<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.collect_columns(out);
                b.collect_columns(out);
            }
            Filter::Not(a) => a.collect_columns(out),
            Filter::Compare { left, right, .. } => {
                for o in [left, right] {
                    if let Operand::Column(c) = o {
                        out.push(c);
                    }
                }
            }
            Filter::Text { column, .. } => out.push(column),
        }
    }
}

/// Comparison operators of `$filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
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

impl CompareOp {
    /// The OData keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator for a keyword.
    pub fn from_keyword(k: &str) -> Option<Self> {
        Some(match k {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

/// Text functions of `$filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFunction {
    /// `contains(col,'x')`
    Contains,
    /// `startswith(col,'x')`
    StartsWith,
    /// `endswith(col,'x')`
    EndsWith,
}

impl TextFunction {
    /// The OData function name.
    pub fn name(self) -> &'static str {
        match self {
            TextFunction::Contains => "contains",
            TextFunction::StartsWith => "startswith",
            TextFunction::EndsWith => "endswith",
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A column of the query's table (logical name).
    Column(String),
    /// A literal value.
    Value(Literal),
}

/// A typed literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` / `false`
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction or exponent, as its exact text.
    Decimal(String),
    /// A string (unescaped).
    String(String),
    /// A GUID.
    Guid(Uuid),
    /// A date and time, as its exact ISO 8601 text.
    DateTime(String),
    /// A date, `YYYY-MM-DD`.
    Date(String),
}
