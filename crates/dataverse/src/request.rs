//! The typed request: what the parser produces, the classifier reads, the printer prints and the
//! emulator executes. It holds no raw text from the client except opaque tokens (none yet).

use crate::query::{Literal, Query};
use crate::record::Record;
use uuid::Uuid;

/// How the URL addresses one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    /// By primary key: `accounts(00000000-…)`.
    Id(Uuid),
    /// By an alternate key: `accounts(accountnumber='A-1')`, composite
    /// `contacts(firstname='Joe',emailaddress1='joe@example.com')`. Column logical names and
    /// values, in the key's defined column order.
    Alternate(Vec<(String, Literal)>),
}

impl RowKey {
    /// The primary key, when the URL gives it.
    pub fn id(&self) -> Option<Uuid> {
        match self {
            RowKey::Id(id) => Some(*id),
            RowKey::Alternate(_) => None,
        }
    }
}

/// HTTP methods the Web API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PATCH
    Patch,
    /// PUT
    Put,
    /// DELETE
    Delete,
}

impl Method {
    /// Parses an HTTP method name (exact, upper-case).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }

    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// The Web API version segment (`v9.0`, `v9.1`, `v9.2`); echoed back in links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// v9.0
    V90,
    /// v9.1
    V91,
    /// v9.2
    V92,
}

impl ApiVersion {
    /// Parses `v9.0`, `v9.1` or `v9.2`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "v9.0" => ApiVersion::V90,
            "v9.1" => ApiVersion::V91,
            "v9.2" => ApiVersion::V92,
            _ => return None,
        })
    }

    /// The segment text.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V90 => "v9.0",
            ApiVersion::V91 => "v9.1",
            ApiVersion::V92 => "v9.2",
        }
    }
}

/// The request kinds of spec §0 (`$apply` aggregation has its own, for the audit sentence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// `GET /`
    ServiceDocument,
    /// `GET /$metadata`
    MetadataCsdl,
    /// `GET /{set}?…`
    Query,
    /// `GET /{set}/$count`
    Count,
    /// `GET /{set}?$apply=…` (grouping and aggregation, spec §3.11)
    Aggregate,
    /// `GET /{set}?fetchXml=…`
    FetchXmlQuery,
    /// `GET /{set}({key})`
    Retrieve,
    /// `GET /{set}({id})/{prop|nav|…}`
    RetrieveProperty,
    /// `POST /{set}`
    Create,
    /// `PATCH /{set}({id})` with `If-Match`
    Update,
    /// `PATCH /{set}({key})` without `If-Match`
    Upsert,
    /// `DELETE /{set}({id})`
    Delete,
    /// `PUT /{set}({id})/{prop}`
    UpdateProperty,
    /// `DELETE /{set}({id})/{prop}`
    ClearProperty,
    /// `POST|PUT …/$ref`
    Associate,
    /// `DELETE …/$ref`
    Disassociate,
    /// `GET /{Function}(…)`
    UnboundFunction,
    /// `GET /{set}({id})/Microsoft.Dynamics.CRM.{Function}(…)`
    BoundFunction,
    /// `POST /{Action}`
    UnboundAction,
    /// `POST /{set}({id})/Microsoft.Dynamics.CRM.{Action}`
    BoundAction,
    /// `POST /$batch`
    Batch,
    /// `EntityDefinitions`, `RelationshipDefinitions`, `GlobalOptionSetDefinitions`, …
    MetadataDefinitions,
    /// `Prefer: odata.track-changes` or `$deltatoken`
    ChangeTracking,
}

impl RequestKind {
    /// The snake_case name used in audit records.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::ServiceDocument => "service_document",
            RequestKind::MetadataCsdl => "metadata_csdl",
            RequestKind::Query => "query",
            RequestKind::Count => "count",
            RequestKind::Aggregate => "aggregate",
            RequestKind::FetchXmlQuery => "fetchxml_query",
            RequestKind::Retrieve => "retrieve",
            RequestKind::RetrieveProperty => "retrieve_property",
            RequestKind::Create => "create",
            RequestKind::Update => "update",
            RequestKind::Upsert => "upsert",
            RequestKind::Delete => "delete",
            RequestKind::UpdateProperty => "update_property",
            RequestKind::ClearProperty => "clear_property",
            RequestKind::Associate => "associate",
            RequestKind::Disassociate => "disassociate",
            RequestKind::UnboundFunction => "unbound_function",
            RequestKind::BoundFunction => "bound_function",
            RequestKind::UnboundAction => "unbound_action",
            RequestKind::BoundAction => "bound_action",
            RequestKind::Batch => "batch",
            RequestKind::MetadataDefinitions => "metadata_definitions",
            RequestKind::ChangeTracking => "change_tracking",
        }
    }
}

/// Condition of `If-Match` / `If-None-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagCondition {
    /// `*`
    Any,
    /// One or more entity tags, as sent (`W/"123"`).
    Tags(Vec<String>),
}

/// `Prefer` preferences Stanchion knows (design §6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefer {
    /// `return=representation` (`Some(true)`) or `return=minimal` (`Some(false)`).
    pub return_representation: Option<bool>,
    /// `odata.maxpagesize=N`.
    pub max_page_size: Option<u32>,
    /// `odata.include-annotations="…"`: the names or patterns listed.
    pub include_annotations: Option<Vec<String>>,
    /// `odata.track-changes`.
    pub track_changes: bool,
    /// `odata.continue-on-error`.
    pub continue_on_error: bool,
}

impl Prefer {
    /// Whether no preference is set.
    pub fn is_empty(&self) -> bool {
        *self == Prefer::default()
    }
}

/// The request headers that carry meaning (design §6.1). Everything else is dropped at parse,
/// except headers refused for every agent, which are listed in `refused`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Parsed `Prefer`.
    pub prefer: Prefer,
    /// `If-Match`.
    pub if_match: Option<EtagCondition>,
    /// `If-None-Match` (`null` is no condition).
    pub if_none_match: Option<EtagCondition>,
    /// `MSCRM.SuppressDuplicateDetection`.
    pub suppress_duplicate_detection: Option<bool>,
    /// `Consistency: Strong`.
    pub consistency_strong: bool,
    /// Names of headers refused for every agent (impersonation, bypass, unknown `MSCRM.*`,
    /// method overrides), as sent.
    pub refused: Vec<String>,
}

pub use crate::metadata_query::MetadataRead;

/// What `GET /{set}({key})/…` reads (spec §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathTarget {
    /// One column: `accounts(id)/name`, or its raw value with `/$value`.
    Column {
        /// Column logical name.
        column: String,
        /// `/$value`: the bare value as text.
        raw: bool,
    },
    /// A single-valued navigation property: the related row (`$select`/`$expand` apply), or
    /// its reference with `/$ref`.
    Single {
        /// Navigation property.
        navigation: String,
        /// The related table.
        table: String,
        /// `/$ref`.
        refs_only: bool,
        /// Columns of the related row.
        select: Vec<String>,
        /// Expansions of the related row.
        expand: Vec<crate::query::Expand>,
    },
    /// One row of a collection-valued navigation property, by its key
    /// (`accounts(id)/contact_customer_accounts(cid)`): the row when it is related, else 404.
    Member {
        /// Navigation property.
        navigation: String,
        /// The related table.
        table: String,
        /// The related row's key.
        key: RowKey,
        /// Columns of the related row.
        select: Vec<String>,
        /// Expansions of the related row.
        expand: Vec<crate::query::Expand>,
    },
    /// A collection-valued navigation property: the related rows as a query over the related
    /// table, their references with `/$ref`, or their number with `/$count`.
    Collection {
        /// Navigation property.
        navigation: String,
        /// The query over the related table (its `table` is the related table).
        query: Query,
        /// `/$ref`.
        refs_only: bool,
        /// `/$count`.
        count_only: bool,
    },
}

/// What the request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GET /`: the list of entity sets.
    ServiceDocument,
    /// `GET /WhoAmI` (or `WhoAmI()`).
    WhoAmI,
    /// `GET /{set}?$select&$filter&$orderby&$top`.
    Query(Query),
    /// `GET /{set}/$count?$filter`: the number of matching rows as plain text.
    Count(Query),
    /// `GET /$metadata`: the CSDL document.
    MetadataDocument,
    /// `GET /{set}?fetchXml=…`.
    Fetch(crate::fetch::Fetch),
    /// `GET /{set}?$apply=…`: groups and aggregate values.
    Aggregate(crate::query::Aggregation),
    /// `GET /{set}({id})?$select`.
    Retrieve {
        /// Table logical name.
        table: String,
        /// Row key.
        key: RowKey,
        /// Columns (logical names); empty = all.
        select: Vec<String>,
        /// Related rows returned with the row.
        expand: Vec<crate::query::Expand>,
    },
    /// `POST /{set}`.
    Create {
        /// Table logical name.
        table: String,
        /// Column values and binds, validated against the schema.
        record: Record,
        /// Columns returned with `return=representation`.
        select: Vec<String>,
        /// Related rows returned with `return=representation`.
        expand: Vec<crate::query::Expand>,
    },
    /// `PATCH /{set}({id})`: update when `If-Match` is set, else upsert.
    Update {
        /// Table logical name.
        table: String,
        /// Row key.
        key: RowKey,
        /// Column values and binds to change.
        record: Record,
        /// Columns returned with `return=representation`.
        select: Vec<String>,
        /// Related rows returned with `return=representation`.
        expand: Vec<crate::query::Expand>,
        /// True when no `If-Match` was sent: creates the row if missing.
        upsert: bool,
    },
    /// `PUT /{set}({key})/{column}` with `{"value": …}` (spec §2.6, "Update a single property
    /// value"), or `DELETE /{set}({key})/{column}` to clear it (`value` is `None`).
    SetProperty {
        /// Table logical name.
        table: String,
        /// Row key.
        key: RowKey,
        /// Column logical name.
        column: String,
        /// The new value; `None` clears the column.
        value: Option<crate::json::Value>,
    },
    /// `$ref` writes (spec §5): `POST …/{collection}/$ref` and `PUT …/{single}/$ref` with
    /// `{"@odata.id": …}` associate; `DELETE …/{collection}({id})/$ref`,
    /// `DELETE …/{collection}/$ref?$id=…` and `DELETE …/{single}/$ref` disassociate.
    Relate {
        /// The table of the row in the URL.
        table: String,
        /// The row in the URL.
        key: RowKey,
        /// The navigation property.
        navigation: String,
        /// The table at the other end.
        related: String,
        /// How the rows are tied: the lookup column on `table` for a single-valued navigation
        /// property, on `related` for a 1:N collection-valued one, or the N:N intersect table.
        link: crate::record::Link,
        /// Single-valued navigation property (the URL's row holds the lookup).
        single: bool,
        /// The other row; `None` only when disassociating a single-valued one.
        target: Option<crate::record::Reference>,
        /// Associate (else disassociate).
        associate: bool,
    },
    /// `DELETE /{set}({id})`.
    Delete {
        /// Table logical name.
        table: String,
        /// Row key.
        key: RowKey,
    },
    /// `GET /{set}({key})/{property|navigation}[/$value|/$ref|/$count]`.
    RetrieveProperty {
        /// Table logical name.
        table: String,
        /// Row key.
        key: RowKey,
        /// What is read.
        target: PathTarget,
    },
    /// A metadata read (`EntityDefinitions…`).
    Metadata(MetadataRead),
    /// A function or action of the catalog that Stanchion executes.
    Message(Message),
    /// `GET /{set}?$select` with `Prefer: odata.track-changes` (the first sync), or with the
    /// delta link's `$deltatoken` (the changes since): spec §9.
    Changes {
        /// Table logical name.
        table: String,
        /// Columns (logical names); empty = all.
        select: Vec<String>,
        /// `$deltatoken` as received (opaque), for a delta.
        token: Option<String>,
    },
    /// A request Stanchion recognises but does not support yet; never executed or forwarded.
    Unsupported {
        /// The request kind it was recognised as.
        kind: RequestKind,
        /// Why, in a sentence fragment ("$expand is not supported yet").
        reason: String,
    },
}

/// A function or action of the catalog (`crate::catalog`) that Stanchion executes (spec §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `GET /RetrieveTotalRecordCount(EntityNames=[…])`: row counts of these tables.
    RetrieveTotalRecordCount {
        /// Logical names, in request order, without repeats.
        tables: Vec<String>,
    },
    /// `POST /WinOpportunity` or `POST /LoseOpportunity`.
    CloseOpportunity {
        /// Won (else lost).
        won: bool,
        /// The opportunity closed (from the close activity's `opportunityid@odata.bind`).
        opportunity: Uuid,
        /// `Status`: the opportunity's new status reason (-1: the state's default).
        status: i32,
        /// The `opportunityclose` activity recorded (a create of that table).
        close: Record,
    },
    /// `POST /{set}/Microsoft.Dynamics.CRM.CreateMultiple` with `{"Targets": […]}`: rows of
    /// one table created all or nothing (spec §6.7).
    CreateMultiple {
        /// Table logical name.
        table: String,
        /// The rows, in request order.
        records: Vec<Record>,
    },
    /// `POST /{set}/Microsoft.Dynamics.CRM.UpdateMultiple`: existing rows changed all or nothing;
    /// each target names its row by primary key.
    UpdateMultiple {
        /// Table logical name.
        table: String,
        /// Row id and changes, in request order.
        targets: Vec<(Uuid, Record)>,
    },
    /// `POST /{set}/Microsoft.Dynamics.CRM.UpsertMultiple`: rows created or changed all or
    /// nothing; each target names its row by primary key or by `@odata.id` (alternate key).
    UpsertMultiple {
        /// Table logical name.
        table: String,
        /// Row key and values, in request order.
        targets: Vec<(RowKey, Record)>,
    },
    /// `POST /BulkDelete`: every row of one table a query matches, deleted as a (background)
    /// job. Stanchion reads a `QuerySet` of one `QueryExpression` whose `Criteria` is a list of
    /// conditions joined by `And` or `Or`.
    BulkDelete {
        /// Table logical name (`EntityName`).
        table: String,
        /// The job as sent, typed (printed back for forwarding).
        job: BulkDeleteJob,
        /// The criteria lowered to the query IR (what the emulator deletes, what is classified).
        filter: crate::query::Filter,
    },
    /// `POST /leads({id})/Microsoft.Dynamics.CRM.QualifyLead`: the lead qualified, with the
    /// account, contact and opportunity asked for created from it (spec §6.5).
    QualifyLead {
        /// The lead.
        lead: Uuid,
        /// `CreateAccount`.
        account: bool,
        /// `CreateContact`.
        contact: bool,
        /// `CreateOpportunity`.
        opportunity: bool,
        /// `OpportunityCurrencyId@odata.bind`: the new opportunity's currency.
        currency: Option<Uuid>,
        /// `OpportunityCustomerId@odata.bind`: the new opportunity's customer (table, id).
        customer: Option<(String, Uuid)>,
        /// `Status`: the lead's new status reason (-1: Qualified).
        status: i32,
    },
    /// `POST /Merge`: the subordinate row's children move to the target, `UpdateContent` is
    /// written to the target, and the subordinate is retired (spec §6.5). Accounts, contacts,
    /// leads and cases only.
    Merge {
        /// Table logical name (both rows').
        table: String,
        /// The row kept.
        target: Uuid,
        /// The row retired.
        subordinate: Uuid,
        /// Column values written to the target.
        content: Record,
        /// `PerformParentingChecks` (accepted; the emulator's rows have no parent checks).
        parenting_checks: bool,
    },
    /// `POST /GrantAccess`, `/ModifyAccess` or `/RevokeAccess`: sharing one row with a user or
    /// team (spec §6.5).
    Share {
        /// Which of the three.
        kind: ShareKind,
        /// The shared row's table.
        table: String,
        /// The shared row.
        target: Uuid,
        /// The user or team: (`systemuser` or `team`, id).
        principal: (String, Uuid),
        /// `AccessMask` rights (`ReadAccess`…), for GrantAccess and ModifyAccess.
        rights: Vec<String>,
    },
    /// `GET /systemusers({id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges`: the user's
    /// privileges from its security roles.
    RetrieveUserPrivileges {
        /// The user.
        user: Uuid,
    },
    /// `GET /systemusers({id})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)`: the
    /// user's access rights on one row.
    RetrievePrincipalAccess {
        /// The user.
        user: Uuid,
        /// The row's table.
        table: String,
        /// The row.
        target: Uuid,
    },
    /// A custom API or custom process action the org declares (`Schema::operation`): Stanchion
    /// knows its name and binding; what it touches is the admin's declaration, filled in by the
    /// gateway from its store before classification (`None`: not declared, so Unclassified).
    Custom {
        /// Its unique name.
        name: String,
        /// A function (GET) rather than an action (POST).
        function: bool,
        /// The row it is bound to: (table logical name, key).
        bound: Option<(String, RowKey)>,
        /// The action's JSON body (parameters), re-serialized from the parsed tree.
        parameters: crate::json::Object,
        /// What an admin declared it touches.
        declared: Option<Declaration>,
    },
    /// `POST /CloseIncident`.
    CloseIncident {
        /// The case resolved (from `incidentid@odata.bind`).
        incident: Uuid,
        /// `Status`: the case's new status reason (-1: the state's default).
        status: i32,
        /// The `incidentresolution` activity recorded.
        resolution: Record,
    },
}

/// What an admin declared a custom API touches (`stanchion catalog declare`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// Tables (logical names), each read (`false`) or used fully (`true`).
    pub tables: Vec<(String, bool)>,
    /// It deletes rows of its fully used tables (needs Delete records).
    pub destructive: bool,
}

/// Which sharing action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareKind {
    /// `GrantAccess`: adds rights.
    Grant,
    /// `ModifyAccess`: replaces the rights.
    Modify,
    /// `RevokeAccess`: stops sharing.
    Revoke,
}

/// The rights an `AccessMask` may name (the `AccessRights` flags, spec §6.5).
pub const ACCESS_RIGHTS: &[&str] = &[
    "ReadAccess",
    "WriteAccess",
    "AppendAccess",
    "AppendToAccess",
    "CreateAccess",
    "DeleteAccess",
    "ShareAccess",
    "AssignAccess",
];

/// The parameters of a BulkDelete job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkDeleteJob {
    /// `JobName`.
    pub name: String,
    /// `StartDateTime`, as sent.
    pub start: Option<String>,
    /// `SendEmailNotification`.
    pub notify: bool,
    /// `RecurrencePattern` (empty: runs once).
    pub recurrence: String,
    /// `Criteria.FilterOperator`: true for `Or`.
    pub or: bool,
    /// `Criteria.Conditions`.
    pub conditions: Vec<BulkCondition>,
}

/// One `ConditionExpression` of a BulkDelete query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkCondition {
    /// `AttributeName` (logical name).
    pub attribute: String,
    /// `Operator` (`Equal`, `NotEqual`, `In`, `NotIn`, `Null`, `NotNull`, `GreaterThan`,
    /// `GreaterEqual`, `LessThan`, `LessEqual`).
    pub operator: String,
    /// `Values`, typed by their `Type`.
    pub values: Vec<Literal>,
}

impl Message {
    /// Its name in the catalog.
    pub fn name(&self) -> &'static str {
        match self {
            Message::RetrieveTotalRecordCount { .. } => "RetrieveTotalRecordCount",
            Message::CloseOpportunity { won: true, .. } => "WinOpportunity",
            Message::CloseOpportunity { won: false, .. } => "LoseOpportunity",
            Message::CloseIncident { .. } => "CloseIncident",
            Message::CreateMultiple { .. } => "CreateMultiple",
            Message::UpdateMultiple { .. } => "UpdateMultiple",
            Message::UpsertMultiple { .. } => "UpsertMultiple",
            Message::BulkDelete { .. } => "BulkDelete",
            Message::QualifyLead { .. } => "QualifyLead",
            Message::Merge { .. } => "Merge",
            Message::Share { kind: ShareKind::Grant, .. } => "GrantAccess",
            Message::Share { kind: ShareKind::Modify, .. } => "ModifyAccess",
            Message::Share { kind: ShareKind::Revoke, .. } => "RevokeAccess",
            Message::RetrieveUserPrivileges { .. } => "RetrieveUserPrivileges",
            Message::RetrievePrincipalAccess { .. } => "RetrievePrincipalAccess",
            Message::Custom { .. } => "custom",
        }
    }
}

/// A parsed Web API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// API version the client used.
    pub version: ApiVersion,
    /// What it does.
    pub operation: Operation,
    /// Meaningful headers.
    pub headers: Headers,
}

impl Operation {
    /// The row key the operation addresses, if any.
    pub fn key(&self) -> Option<&RowKey> {
        match self {
            Operation::Retrieve { key, .. }
            | Operation::RetrieveProperty { key, .. }
            | Operation::Update { key, .. }
            | Operation::Delete { key, .. }
            | Operation::SetProperty { key, .. }
            | Operation::Relate { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The row key the operation addresses, to put a created row's id in place of `$n`.
    pub fn key_mut(&mut self) -> Option<&mut RowKey> {
        match self {
            Operation::Retrieve { key, .. }
            | Operation::RetrieveProperty { key, .. }
            | Operation::Update { key, .. }
            | Operation::Delete { key, .. }
            | Operation::SetProperty { key, .. }
            | Operation::Relate { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The row references in the body: binds (of the rows created with it too) and an
    /// associate's `@odata.id`.
    pub fn references(&self) -> Vec<&crate::record::Reference> {
        match self {
            Operation::Create { record, .. } | Operation::Update { record, .. } => record.all_references(),
            Operation::Relate { target: Some(r), .. } => vec![r],
            Operation::Message(Message::CloseOpportunity { close: record, .. })
            | Operation::Message(Message::CloseIncident { resolution: record, .. }) => record.all_references(),
            Operation::Message(Message::Merge { content: record, .. }) => record.all_references(),
            Operation::Message(Message::CreateMultiple { records, .. }) => {
                records.iter().flat_map(Record::all_references).collect()
            }
            Operation::Message(Message::UpdateMultiple { targets, .. }) => {
                targets.iter().flat_map(|(_, r)| r.all_references()).collect()
            }
            Operation::Message(Message::UpsertMultiple { targets, .. }) => {
                targets.iter().flat_map(|(_, r)| r.all_references()).collect()
            }
            _ => Vec::new(),
        }
    }
}

impl Request {
    /// The request kind (spec §0).
    pub fn kind(&self) -> RequestKind {
        match &self.operation {
            Operation::ServiceDocument => RequestKind::ServiceDocument,
            Operation::MetadataDocument => RequestKind::MetadataCsdl,
            Operation::Fetch(_) => RequestKind::FetchXmlQuery,
            Operation::WhoAmI => RequestKind::UnboundFunction,
            Operation::Query(_) => RequestKind::Query,
            Operation::Count(_) => RequestKind::Count,
            Operation::Aggregate(_) => RequestKind::Aggregate,
            Operation::Retrieve { .. } => RequestKind::Retrieve,
            Operation::Create { .. } => RequestKind::Create,
            Operation::Update { upsert: false, .. } => RequestKind::Update,
            Operation::Update { upsert: true, .. } => RequestKind::Upsert,
            Operation::Delete { .. } => RequestKind::Delete,
            Operation::SetProperty { value: Some(_), .. } => RequestKind::UpdateProperty,
            Operation::SetProperty { value: None, .. } => RequestKind::ClearProperty,
            Operation::Relate { associate: true, .. } => RequestKind::Associate,
            Operation::Relate { associate: false, .. } => RequestKind::Disassociate,
            Operation::Metadata(_) => RequestKind::MetadataDefinitions,
            Operation::RetrieveProperty { .. } => RequestKind::RetrieveProperty,
            Operation::Changes { .. } => RequestKind::ChangeTracking,
            Operation::Message(Message::RetrieveTotalRecordCount { .. }) => RequestKind::UnboundFunction,
            Operation::Message(Message::Custom { function: true, bound: None, .. }) => RequestKind::UnboundFunction,
            Operation::Message(Message::Custom { function: true, .. }) => RequestKind::BoundFunction,
            Operation::Message(Message::Custom { bound: None, .. }) => RequestKind::UnboundAction,
            Operation::Message(Message::Custom { .. }) => RequestKind::BoundAction,
            Operation::Message(Message::RetrieveUserPrivileges { .. } | Message::RetrievePrincipalAccess { .. }) => {
                RequestKind::BoundFunction
            }
            Operation::Message(
                Message::CreateMultiple { .. }
                | Message::UpdateMultiple { .. }
                | Message::UpsertMultiple { .. }
                | Message::QualifyLead { .. },
            ) => RequestKind::BoundAction,
            Operation::Message(_) => RequestKind::UnboundAction,
            Operation::Unsupported { kind, .. } => *kind,
        }
    }

    /// The logical name of the table the request is about, if any.
    pub fn table(&self) -> Option<&str> {
        match &self.operation {
            Operation::Query(q) | Operation::Count(q) => Some(&q.table),
            Operation::Aggregate(a) => Some(&a.table),
            Operation::Fetch(f) => Some(&f.root.table),
            Operation::Retrieve { table, .. }
            | Operation::RetrieveProperty { table, .. }
            | Operation::Create { table, .. }
            | Operation::Update { table, .. }
            | Operation::Delete { table, .. }
            | Operation::SetProperty { table, .. }
            | Operation::Relate { table, .. } => Some(table),
            Operation::Changes { table, .. } => Some(table),
            Operation::Message(Message::CloseOpportunity { .. }) => Some("opportunity"),
            Operation::Message(Message::CloseIncident { .. }) => Some("incident"),
            Operation::Message(Message::BulkDelete { table, .. }) => Some(table),
            Operation::Message(Message::Custom { bound: Some((table, _)), .. }) => Some(table),
            Operation::Message(Message::QualifyLead { .. }) => Some("lead"),
            Operation::Message(Message::Merge { table, .. } | Message::Share { table, .. }) => Some(table),
            Operation::Message(Message::RetrieveUserPrivileges { .. } | Message::RetrievePrincipalAccess { .. }) => {
                Some("systemuser")
            }
            Operation::Message(
                Message::CreateMultiple { table, .. }
                | Message::UpdateMultiple { table, .. }
                | Message::UpsertMultiple { table, .. },
            ) => Some(table),
            _ => None,
        }
    }
}
