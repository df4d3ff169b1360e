//! The catalog ("atlas"): every request kind, function and action Stanchion knows, with its
//! method, URL shape, what it does, what it needs from an agent's policy, and whether
//! Stanchion executes it yet.
//!
//! Kinds (design §4): *request* kinds are the Web API's own shapes (query, create, `$ref`…);
//! *data* messages are authorized by the table levels they imply and need no name grant;
//! *actions* need the agent's grant of their name **and** the levels they list. A name that is
//! not here is Unclassified. The parser, the classifier, `stanchion endpoints`, the MCP
//! `run_action` tool and the console read this one table. What it does not do: parse or
//! classify (the entries describe; `parse` and `classify` implement).

/// What kind of entry it is (design §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A request shape of the Web API (spec §0).
    Request,
    /// A function or action authorized by the table levels it implies.
    Data,
    /// An action that also needs the agent's grant of its name.
    Action,
}

impl EntryKind {
    /// `request`, `data` or `action`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Request => "request",
            EntryKind::Data => "data",
            EntryKind::Action => "action",
        }
    }
}

/// One entry of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The request kind's audit name, or the function's or action's name.
    pub name: &'static str,
    /// Request, data message or action.
    pub kind: EntryKind,
    /// HTTP method.
    pub method: &'static str,
    /// URL shape under `/api/data/v9.2/`.
    pub url: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
    /// What an agent's policy must give it.
    pub needs: &'static str,
    /// Whether Stanchion executes it (else it is refused as not supported yet, and recorded).
    pub supported: bool,
}

const fn request(
    name: &'static str,
    method: &'static str,
    url: &'static str,
    description: &'static str,
    needs: &'static str,
) -> Entry {
    Entry { name, kind: EntryKind::Request, method, url, description, needs, supported: true }
}

const fn message(
    name: &'static str,
    kind: EntryKind,
    method: &'static str,
    url: &'static str,
    description: &'static str,
    needs: &'static str,
    supported: bool,
) -> Entry {
    Entry { name, kind, method, url, description, needs, supported }
}

use EntryKind::{Action, Data};

/// Every entry, request kinds first, then functions and actions by name.
pub const ENTRIES: &[Entry] = &[
    request(
        "service_document",
        "GET",
        "",
        "Lists the entity sets.",
        "nothing (answered with the tables the agent can read)",
    ),
    request(
        "metadata_csdl",
        "GET",
        "$metadata",
        "The CSDL document of the org's tables.",
        "nothing (filtered to the tables the agent can read)",
    ),
    request(
        "metadata_definitions",
        "GET",
        "EntityDefinitions…",
        "Table, column and relationship definitions.",
        "nothing (filtered to what the agent can read)",
    ),
    request(
        "query",
        "GET",
        "{set}?$select&$filter&$orderby&$top&$expand",
        "Reads rows of a table.",
        "Read on the table and on every table reached",
    ),
    request("count", "GET", "{set}/$count", "Counts rows of a table.", "Read on the table"),
    request(
        "aggregate",
        "GET",
        "{set}?$apply=…",
        "Groups and aggregates rows.",
        "Read on the table and every table reached",
    ),
    request(
        "fetchxml_query",
        "GET",
        "{set}?fetchXml=…",
        "Reads rows with FetchXML.",
        "Read on the table and every linked table",
    ),
    request("retrieve", "GET", "{set}({key})", "Reads one row.", "Read on the table"),
    request(
        "retrieve_property",
        "GET",
        "{set}({key})/{property|navigation}",
        "Reads a column or related rows.",
        "Read on the table and the related table",
    ),
    request(
        "create",
        "POST",
        "{set}",
        "Creates a row (and related rows in a deep insert).",
        "Full use on the table (and every table created or bound)",
    ),
    request("update", "PATCH", "{set}({key}) with If-Match", "Changes a row.", "Full use on the table"),
    request("upsert", "PATCH", "{set}({key})", "Changes a row, or creates it when missing.", "Full use on the table"),
    request("delete", "DELETE", "{set}({key})", "Deletes a row.", "Full use on the table and Delete records"),
    request("update_property", "PUT", "{set}({key})/{column}", "Sets one column.", "Full use on the table"),
    request("clear_property", "DELETE", "{set}({key})/{column}", "Clears one column.", "Full use on the table"),
    request(
        "associate",
        "POST|PUT",
        "{set}({key})/{navigation}/$ref",
        "Links two rows.",
        "Full use on the table holding the link, Read on the other (Full use on both for N:N)",
    ),
    request(
        "disassociate",
        "DELETE",
        "{set}({key})/{navigation}(…)/$ref",
        "Unlinks two rows.",
        "Full use on the table holding the link, Read on the other (Full use on both for N:N)",
    ),
    request("batch", "POST", "$batch", "Several requests in one, change sets as transactions.", "what each part needs"),
    request(
        "change_tracking",
        "GET",
        "{set} with Prefer: odata.track-changes",
        "Rows changed since a delta link.",
        "Read on the table",
    ),
    message(
        "WhoAmI",
        Data,
        "GET",
        "WhoAmI",
        "The calling user, business unit and organization ids.",
        "nothing (allowed for every agent)",
        true,
    ),
    message(
        "RetrieveTotalRecordCount",
        Data,
        "GET",
        "RetrieveTotalRecordCount(EntityNames=[…])",
        "Row counts of tables (a snapshot up to a day old).",
        "Read on every table named",
        true,
    ),
    message(
        "RetrieveUserPrivileges",
        Data,
        "GET",
        "systemusers({id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges",
        "A user's privileges from their security roles.",
        "Read on users",
        true,
    ),
    message(
        "RetrievePrincipalAccess",
        Data,
        "GET",
        "systemusers({id})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)",
        "A user's access rights on one row.",
        "Read on users and on the row's table",
        true,
    ),
    message(
        "CreateMultiple",
        Data,
        "POST",
        "{set}/Microsoft.Dynamics.CRM.CreateMultiple",
        "Creates many rows of one table, all or nothing.",
        "Full use on the table",
        true,
    ),
    message(
        "UpdateMultiple",
        Data,
        "POST",
        "{set}/Microsoft.Dynamics.CRM.UpdateMultiple",
        "Changes many rows of one table, all or nothing.",
        "Full use on the table",
        true,
    ),
    message(
        "UpsertMultiple",
        Data,
        "POST",
        "{set}/Microsoft.Dynamics.CRM.UpsertMultiple",
        "Creates or changes many rows of one table, all or nothing.",
        "Full use on the table",
        true,
    ),
    message(
        "WinOpportunity",
        Action,
        "POST",
        "WinOpportunity",
        "Closes an opportunity as won and records its opportunity close.",
        "the grant, and Full use on opportunities",
        true,
    ),
    message(
        "LoseOpportunity",
        Action,
        "POST",
        "LoseOpportunity",
        "Closes an opportunity as lost and records its opportunity close.",
        "the grant, and Full use on opportunities",
        true,
    ),
    message(
        "CloseIncident",
        Action,
        "POST",
        "CloseIncident",
        "Resolves a case and records its case resolution.",
        "the grant, and Full use on cases",
        true,
    ),
    message(
        "QualifyLead",
        Action,
        "POST",
        "leads({id})/Microsoft.Dynamics.CRM.QualifyLead",
        "Qualifies a lead, creating an account, contact and opportunity as asked.",
        "the grant, Full use on leads and on every table it creates",
        true,
    ),
    message(
        "Merge",
        Action,
        "POST",
        "Merge",
        "Merges two accounts, contacts, leads or cases: the subordinate's children move to the target, which it then deactivates.",
        "the grant, Full use on the table and Delete records",
        true,
    ),
    message(
        "GrantAccess",
        Action,
        "POST",
        "GrantAccess",
        "Shares a row with a user or team.",
        "the grant and Full use on the row's table",
        true,
    ),
    message(
        "ModifyAccess",
        Action,
        "POST",
        "ModifyAccess",
        "Changes the rights a row is shared with.",
        "the grant and Full use on the row's table",
        true,
    ),
    message(
        "RevokeAccess",
        Action,
        "POST",
        "RevokeAccess",
        "Stops sharing a row with a user or team.",
        "the grant and Full use on the row's table",
        true,
    ),
    message(
        "BulkDelete",
        Action,
        "POST",
        "BulkDelete",
        "Deletes every row a query matches, as a background job.",
        "the grant, Full use on the table and Delete records",
        true,
    ),
];

/// The entry of a request kind, function or action (`Microsoft.Dynamics.CRM.` prefix ignored).
pub fn find(name: &str) -> Option<&'static Entry> {
    let name = name.strip_prefix("Microsoft.Dynamics.CRM.").unwrap_or(name);
    ENTRIES.iter().find(|e| e.name == name)
}

/// The actions (entries that need a grant), in catalog order.
pub fn actions() -> impl Iterator<Item = &'static Entry> {
    ENTRIES.iter().filter(|e| e.kind == EntryKind::Action)
}

/// Whether `name` is an action of the catalog an agent can be granted.
pub fn is_action(name: &str) -> bool {
    find(name).is_some_and(|e| e.kind == EntryKind::Action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_kind_and_message_is_there_once() {
        let mut names: Vec<&str> = ENTRIES.iter().map(|e| e.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate names");
        for kind in [
            crate::RequestKind::Query,
            crate::RequestKind::Create,
            crate::RequestKind::Associate,
            crate::RequestKind::Batch,
            crate::RequestKind::ChangeTracking,
        ] {
            assert!(find(kind.name()).is_some(), "{}", kind.name());
        }
        for m in [
            "WhoAmI",
            "RetrieveTotalRecordCount",
            "RetrieveUserPrivileges",
            "RetrievePrincipalAccess",
            "Merge",
            "WinOpportunity",
            "LoseOpportunity",
            "QualifyLead",
            "CloseIncident",
            "GrantAccess",
            "ModifyAccess",
            "RevokeAccess",
            "CreateMultiple",
            "UpdateMultiple",
            "UpsertMultiple",
            "BulkDelete",
        ] {
            assert!(find(m).is_some(), "{m}");
            assert_eq!(find(&format!("Microsoft.Dynamics.CRM.{m}")), find(m));
        }
    }

    #[test]
    fn kinds_follow_the_design() {
        assert_eq!(find("WhoAmI").unwrap().kind, EntryKind::Data);
        assert_eq!(find("CreateMultiple").unwrap().kind, EntryKind::Data);
        assert!(is_action("WinOpportunity") && is_action("BulkDelete") && is_action("Merge"));
        assert!(!is_action("RetrieveTotalRecordCount") && !is_action("NoSuchThing"));
        assert_eq!(find("NoSuchThing"), None);
    }
}
