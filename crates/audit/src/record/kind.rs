//! Request kinds and admin change kinds, spelled in snake_case.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of request (or admin change) a record is about.
///
/// Serializes as its snake_case name. Names this version does not know
/// deserialize as [`Kind::Other`] so records from newer writers still verify;
/// parsing always prefers the named variant, so `Other` never holds a known name
/// after a round trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A collection query (`GET /accounts?...`).
    Query,
    /// Reading one record by key.
    Retrieve,
    /// Creating a record.
    Create,
    /// Updating a record.
    Update,
    /// Creating or updating a record by key.
    Upsert,
    /// Deleting a record.
    Delete,
    /// Counting a collection (`/$count`).
    Count,
    /// Grouping and aggregating a collection (`$apply`); `rows` holds the number of groups.
    Aggregate,
    /// Reading one column of a record.
    RetrieveProperty,
    /// Writing one column of a record.
    UpdateProperty,
    /// Clearing one column of a record.
    ClearProperty,
    /// Linking two records.
    Associate,
    /// Unlinking two records.
    Disassociate,
    /// Calling a function not bound to a table.
    UnboundFunction,
    /// Calling a function bound to a table or record.
    BoundFunction,
    /// Running an action not bound to a table.
    UnboundAction,
    /// Running an action bound to a table or record.
    BoundAction,
    /// A `$batch` request; `rows` holds its number of parts.
    Batch,
    /// Reading the service document.
    ServiceDocument,
    /// Reading the `$metadata` CSDL document.
    MetadataCsdl,
    /// Reading table definitions (`EntityDefinitions`).
    MetadataDefinitions,
    /// A FetchXML query.
    FetchxmlQuery,
    /// Reading changes (change tracking).
    ChangeTracking,
    /// A request Stanchion does not understand.
    Unclassified,
    /// A request without a valid agent key.
    Unauthenticated,
    /// An MCP tool call refused before it became a Dataverse request (a tool that does not
    /// exist or is not offered to the agent, or arguments that make no request).
    McpTool,
    /// Admin: an agent was created.
    AgentCreated,
    /// Admin: a key was added to an agent.
    AgentKeyAdded,
    /// Admin: an agent's key was revoked.
    AgentKeyRevoked,
    /// Admin: an agent got a new key and its other keys an expiry.
    AgentKeyRotated,
    /// Admin: an agent was renamed.
    AgentRenamed,
    /// Admin: an agent was disabled.
    AgentDisabled,
    /// Admin: an agent was enabled again.
    AgentEnabled,
    /// Admin: an agent was deleted with its keys and policy.
    AgentDeleted,
    /// Admin: an agent's access level to a table changed.
    PolicyTableLevel,
    /// Admin: deleting records was turned on or off for an agent.
    PolicyDeleteRecords,
    /// An admin hid a column from an agent.
    PolicyColumnHidden,
    /// An admin showed a hidden column to an agent again.
    PolicyColumnShown,
    /// An admin changed an agent's request limits.
    PolicyLimits,
    /// An admin granted an agent a catalog action (`change.to`: the action's name).
    PolicyActionAllowed,
    /// An admin withdrew an agent's grant of an action (`change.to`: the action's name).
    PolicyActionDenied,
    /// An admin declared what a custom API touches (`change.subject`: its name; `change.to`:
    /// the declaration in words).
    CatalogDeclared,
    /// An admin withdrew a custom API's declaration (`change.subject`: its name).
    CatalogUndeclared,
    /// Admin: audit records older than a date were pruned (`rows`: how many).
    AuditPruned,
    /// A kind this version does not know, kept verbatim.
    Other(String),
}

/// Every named kind with its spelling.
const NAMES: [(Kind, &str); 44] = [
    (Kind::Query, "query"),
    (Kind::Retrieve, "retrieve"),
    (Kind::Create, "create"),
    (Kind::Update, "update"),
    (Kind::Upsert, "upsert"),
    (Kind::Delete, "delete"),
    (Kind::Count, "count"),
    (Kind::Aggregate, "aggregate"),
    (Kind::RetrieveProperty, "retrieve_property"),
    (Kind::UpdateProperty, "update_property"),
    (Kind::ClearProperty, "clear_property"),
    (Kind::Associate, "associate"),
    (Kind::Disassociate, "disassociate"),
    (Kind::UnboundFunction, "unbound_function"),
    (Kind::BoundFunction, "bound_function"),
    (Kind::UnboundAction, "unbound_action"),
    (Kind::BoundAction, "bound_action"),
    (Kind::Batch, "batch"),
    (Kind::ServiceDocument, "service_document"),
    (Kind::MetadataCsdl, "metadata_csdl"),
    (Kind::MetadataDefinitions, "metadata_definitions"),
    (Kind::FetchxmlQuery, "fetchxml_query"),
    (Kind::ChangeTracking, "change_tracking"),
    (Kind::Unclassified, "unclassified"),
    (Kind::Unauthenticated, "unauthenticated"),
    (Kind::McpTool, "mcp_tool"),
    (Kind::AgentCreated, "agent_created"),
    (Kind::AgentKeyAdded, "agent_key_added"),
    (Kind::AgentKeyRevoked, "agent_key_revoked"),
    (Kind::AgentKeyRotated, "agent_key_rotated"),
    (Kind::AgentRenamed, "agent_renamed"),
    (Kind::AgentDisabled, "agent_disabled"),
    (Kind::AgentEnabled, "agent_enabled"),
    (Kind::AgentDeleted, "agent_deleted"),
    (Kind::PolicyTableLevel, "policy_table_level"),
    (Kind::PolicyDeleteRecords, "policy_delete_records"),
    (Kind::PolicyColumnHidden, "policy_column_hidden"),
    (Kind::PolicyColumnShown, "policy_column_shown"),
    (Kind::PolicyLimits, "policy_limits"),
    (Kind::PolicyActionAllowed, "policy_action_allowed"),
    (Kind::PolicyActionDenied, "policy_action_denied"),
    (Kind::CatalogDeclared, "catalog_declared"),
    (Kind::CatalogUndeclared, "catalog_undeclared"),
    (Kind::AuditPruned, "audit_pruned"),
];

impl Kind {
    /// The snake_case name.
    pub fn as_str(&self) -> &str {
        if let Kind::Other(name) = self {
            return name;
        }
        NAMES.iter().find(|(kind, _)| kind == self).map_or("", |(_, name)| name)
    }

    /// The kind named `name`, or [`Kind::Other`].
    pub fn parse(name: &str) -> Kind {
        NAMES
            .iter()
            .find(|(_, known)| *known == name)
            .map_or_else(|| Kind::Other(name.to_owned()), |(kind, _)| kind.clone())
    }

    /// Whether this is an admin change kind.
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Kind::AgentCreated
                | Kind::AgentKeyAdded
                | Kind::AgentKeyRevoked
                | Kind::AgentKeyRotated
                | Kind::AgentRenamed
                | Kind::AgentDisabled
                | Kind::AgentEnabled
                | Kind::AgentDeleted
                | Kind::PolicyTableLevel
                | Kind::PolicyDeleteRecords
                | Kind::PolicyColumnHidden
                | Kind::PolicyColumnShown
                | Kind::PolicyLimits
                | Kind::PolicyActionAllowed
                | Kind::PolicyActionDenied
                | Kind::CatalogDeclared
                | Kind::CatalogUndeclared
                | Kind::AuditPruned
        )
    }
}

impl From<&str> for Kind {
    fn from(name: &str) -> Self {
        Kind::parse(name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Kind::parse(&name))
    }
}
