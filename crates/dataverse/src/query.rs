//! The query IR: one typed form of a collection query, executed by the emulator and classified
//! by the gateway. OData query options lower to it today ([`Query`]; `$apply` to
//! [`Aggregation`]); FetchXML and SQL will lower to it too.
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
    /// `$expand`: related rows returned with each row.
    pub expand: Vec<Expand>,
}

/// A grouped or aggregated query over one table (`$apply`, spec §3.11): one row per group (one
/// row in all without `group_by`), holding the group keys and the aggregate values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregation {
    /// Logical name of the table aggregated.
    pub table: String,
    /// Rows taken into the groups (`filter(…)` steps before the grouping).
    pub filter: Option<Filter>,
    /// Group keys, in order; empty: the whole table is one group.
    pub group_by: Vec<GroupKey>,
    /// Aggregate values of each group; empty with `group_by`: the distinct key values.
    pub aggregates: Vec<Aggregate>,
    /// Order of the groups, over group keys only.
    pub orderby: Vec<OrderBy>,
    /// Most groups returned.
    pub top: Option<u32>,
}

/// One group key: a column of the table, or of a row reached through single-valued navigation
/// properties (`primarycontactid/fullname`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKey {
    /// Hops to the column's table; empty for the table's own columns.
    pub path: Vec<Hop>,
    /// Column logical name (of the last hop's table when `path` is not empty).
    pub column: String,
    /// The name the key comes back under (FetchXML's `alias`); `None`: see
    /// [`GroupKey::output_name`].
    pub alias: Option<String>,
    /// Grouping a date by a part of it (FetchXML's `dategrouping`), in UTC.
    pub date_part: Option<DatePart>,
}

/// A part of a date to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    /// The day of the month, 1–31.
    Day,
    /// The week of the year.
    Week,
    /// The month, 1–12.
    Month,
    /// The quarter, 1–4.
    Quarter,
    /// The year.
    Year,
}

impl DatePart {
    /// FetchXML's `dategrouping` value.
    pub fn name(self) -> &'static str {
        match self {
            DatePart::Day => "day",
            DatePart::Week => "week",
            DatePart::Month => "month",
            DatePart::Quarter => "quarter",
            DatePart::Year => "year",
        }
    }
}

impl GroupKey {
    /// The property naming this key in each result row: the column's OData name
    /// (`statuscode`, `_parentaccountid_value`), or `{table}_{column}` for a related column
    /// (`contact_fullname`, spec §3.11).
    pub fn output_name(&self, schema: &crate::metadata::Schema, table: &str) -> String {
        if let Some(alias) = &self.alias {
            return alias.clone();
        }
        match self.path.last() {
            Some(hop) => format!("{}_{}", hop.table, self.column),
            None => schema
                .table(table)
                .and_then(|t| t.column(&self.column))
                .map_or_else(|| self.column.clone(), |c| c.odata_name()),
        }
    }

    /// Whether a sort key names this group key.
    pub fn is(&self, o: &OrderBy) -> bool {
        self.path == o.path && self.column == o.column
    }
}

/// One aggregate value of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// What is computed.
    pub function: AggregateFunction,
    /// The column aggregated (logical name of the query's table); `None` for [`AggregateFunction::Count`].
    pub column: Option<String>,
    /// The property naming the value in each result row.
    pub alias: String,
}

/// Aggregate functions (`$apply`'s `sum`, `average`, `min`, `max` and `$count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    /// The number of rows (`$count`).
    Count,
    /// The sum of the column's values.
    Sum,
    /// Their average.
    Average,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// The number of rows where the column has a value (FetchXML's `countcolumn`).
    CountColumn,
    /// The number of distinct values of the column (FetchXML's `countcolumn` with
    /// `distinct='true'`).
    CountDistinct,
}

impl AggregateFunction {
    /// The `$apply` keyword (`with sum`); `None` for `$count`, which is written `$count as x`,
    /// and for `CountColumn`, which only FetchXML has (an aggregation from FetchXML is printed
    /// as FetchXML, never as `$apply`).
    pub fn keyword(self) -> Option<&'static str> {
        match self {
            AggregateFunction::Count | AggregateFunction::CountColumn => None,
            AggregateFunction::CountDistinct => Some("countdistinct"),
            AggregateFunction::Sum => Some("sum"),
            AggregateFunction::Average => Some("average"),
            AggregateFunction::Min => Some("min"),
            AggregateFunction::Max => Some("max"),
        }
    }

    /// The function of an `$apply` keyword.
    pub fn from_keyword(k: &str) -> Option<Self> {
        Some(match k {
            "sum" => AggregateFunction::Sum,
            "average" => AggregateFunction::Average,
            "min" => AggregateFunction::Min,
            "max" => AggregateFunction::Max,
            _ => return None,
        })
    }
}

/// `$expand` of one navigation property, with its own options (spec §3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expand {
    /// The navigation property, as named in the URL.
    pub navigation: String,
    /// The related table (logical name).
    pub table: String,
    /// Collection-valued (rows pointing here) rather than single-valued (the row pointed at).
    pub collection: bool,
    /// `nav/$ref`: only references (`@odata.id`) of the related rows.
    pub refs_only: bool,
    /// Columns of the related table; empty = all.
    pub select: Vec<String>,
    /// Filter on related rows (collection-valued only).
    pub filter: Option<Filter>,
    /// Order of related rows (collection-valued only).
    pub orderby: Vec<OrderBy>,
    /// Most related rows per row (collection-valued only).
    pub top: Option<u32>,
    /// Nested expansions.
    pub expand: Vec<Expand>,
}

/// One sort key: a column of the query's table, or of a row reached through single-valued
/// navigation properties (`primarycontactid/fullname`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// The navigation hops to the column's table; empty for the query's own columns.
    pub path: Vec<Hop>,
    /// Column logical name (of the last hop's table when `path` is not empty).
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
    /// `nav/any(x: predicate)` or `nav/any()`: some related row matches (exists).
    Any {
        /// Collection-valued navigation property of the current table.
        navigation: String,
        /// The related table.
        table: String,
        /// The range variable and the predicate over the related table's rows; `None` for
        /// `nav/any()` (at least one related row).
        predicate: Option<(String, Box<Filter>)>,
    },
    /// `nav/all(x: predicate)`: every related row matches.
    All {
        /// Collection-valued navigation property of the current table.
        navigation: String,
        /// The related table.
        table: String,
        /// The range variable.
        variable: String,
        /// Predicate over the related table's rows.
        predicate: Box<Filter>,
    },
    /// A Dataverse query function (`Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',
    /// PropertyValue=7)`, spec §3.2.1) on a column of the current table.
    Function {
        /// Which function.
        function: QueryFunction,
        /// Its `PropertyName` column (logical name).
        column: String,
        /// `PropertyValue`, the `PropertyValues` list, or `PropertyValue1`/`PropertyValue2`.
        values: Vec<Literal>,
    },
    /// `contains`, `startswith`, `endswith` on a text column, possibly of a related row.
    Text {
        /// Which function.
        function: TextFunction,
        /// Hops through single-valued navigation properties to the column's table (empty: the
        /// current table).
        path: Vec<Hop>,
        /// Column logical name.
        column: String,
        /// The text searched for (SQL wildcards act as wildcards, as in Dataverse).
        value: String,
    },
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
    /// A column of the current table (logical name).
    Column(String),
    /// A column reached through single-valued navigation properties
    /// (`primarycontactid/createdby/fullname`).
    Related {
        /// Each hop: navigation name, its lookup column on the table it leaves, the table reached.
        path: Vec<Hop>,
        /// Column of the last table reached (logical name).
        column: String,
    },
    /// A literal value.
    Value(Literal),
}

/// One hop of a navigation path through a single-valued navigation property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Navigation property name.
    pub navigation: String,
    /// The lookup column on the table the hop leaves.
    pub column: String,
    /// The table reached (logical name).
    pub table: String,
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

/// The parameters a query function takes besides `PropertyName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionArgs {
    /// None (`Today`, `EqualUserId`…).
    None,
    /// `PropertyValue`.
    Value,
    /// `PropertyValues` (a list).
    Values,
    /// `PropertyValue1` and `PropertyValue2` (fiscal period and year).
    Pair,
}

macro_rules! query_functions {
    ($($name:ident: $args:ident, $kind:ident;)*) => {
        /// Dataverse query functions (spec §3.2.1), by their unqualified name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum QueryFunction {
            $(
                #[doc = concat!("`Microsoft.Dynamics.CRM.", stringify!($name), "`")]
                $name,
            )*
        }

        impl QueryFunction {
            /// Every function.
            pub const ALL: &'static [QueryFunction] = &[$(QueryFunction::$name),*];

            /// The unqualified name.
            pub fn name(self) -> &'static str {
                match self { $(QueryFunction::$name => stringify!($name),)* }
            }

            /// Its parameters besides `PropertyName`.
            pub fn args(self) -> FunctionArgs {
                match self { $(QueryFunction::$name => FunctionArgs::$args,)* }
            }

            /// Which column types it applies to.
            pub fn operand(self) -> FunctionOperand {
                match self { $(QueryFunction::$name => FunctionOperand::$kind,)* }
            }
        }
    };
}

/// What a query function's `PropertyName` column must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionOperand {
    /// A date or date-time column.
    Date,
    /// A lookup or id column (user, business unit, hierarchy).
    Id,
    /// Any comparable column (`Between`, `In`…).
    Any,
    /// A multi-select choice column.
    MultiSelect,
    /// A language code column.
    Language,
}

query_functions! {
    InFiscalPeriod: Value, Date; InFiscalPeriodAndYear: Pair, Date; InFiscalYear: Value, Date;
    InOrAfterFiscalPeriodAndYear: Pair, Date; InOrBeforeFiscalPeriodAndYear: Pair, Date;
    Last7Days: None, Date; LastFiscalPeriod: None, Date; LastFiscalYear: None, Date; LastMonth: None, Date;
    LastWeek: None, Date; LastXDays: Value, Date; LastXFiscalPeriods: Value, Date; LastXFiscalYears: Value, Date;
    LastXHours: Value, Date; LastXMonths: Value, Date; LastXWeeks: Value, Date; LastXYears: Value, Date;
    LastYear: None, Date; Next7Days: None, Date; NextFiscalPeriod: None, Date; NextFiscalYear: None, Date;
    NextMonth: None, Date; NextWeek: None, Date; NextXDays: Value, Date; NextXFiscalPeriods: Value, Date;
    NextXFiscalYears: Value, Date; NextXHours: Value, Date; NextXMonths: Value, Date; NextXWeeks: Value, Date;
    NextXYears: Value, Date; NextYear: None, Date; OlderThanXDays: Value, Date; OlderThanXHours: Value, Date;
    OlderThanXMinutes: Value, Date; OlderThanXMonths: Value, Date; OlderThanXWeeks: Value, Date;
    OlderThanXYears: Value, Date; On: Value, Date; OnOrAfter: Value, Date; OnOrBefore: Value, Date;
    ThisFiscalPeriod: None, Date; ThisFiscalYear: None, Date; ThisMonth: None, Date; ThisWeek: None, Date;
    ThisYear: None, Date; Today: None, Date; Tomorrow: None, Date; Yesterday: None, Date;
    EqualBusinessId: None, Id; EqualUserId: None, Id; NotEqualBusinessId: None, Id; NotEqualUserId: None, Id;
    Above: Value, Id; AboveOrEqual: Value, Id; EqualUserOrUserHierarchy: None, Id;
    EqualUserOrUserHierarchyAndTeams: None, Id; EqualUserOrUserTeams: None, Id; EqualUserTeams: None, Id;
    NotUnder: Value, Id; Under: Value, Id; UnderOrEqual: Value, Id;
    ContainValues: Values, MultiSelect; DoesNotContainValues: Values, MultiSelect;
    Between: Values, Any; NotBetween: Values, Any; In: Values, Any; NotIn: Values, Any;
    EqualUserLanguage: None, Language;
}

impl QueryFunction {
    /// The function with this unqualified name (case-sensitive, as Dataverse).
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }
}
