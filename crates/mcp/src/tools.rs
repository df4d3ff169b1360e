//! The tool catalog and what each agent is offered of it (issue: policy shapes discovery).
//!
//! Every tool has a fixed name, argument schema and truthful annotations; what changes per
//! agent is whether it is listed at all and which tables its `table` argument may name (a JSON
//! Schema `enum`), both read from the agent's policy on every `tools/list`. Listing is a
//! courtesy to the model, never the enforcement: every call still goes through the gateway's
//! authorize phase.

use policy::{AgentPolicy, Level};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// What an agent needs before a tool is listed for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Every agent (`whoami`, `list_tables`).
    Nothing,
    /// Read on at least one table.
    Read,
    /// Full use on at least one table.
    Full,
    /// Full use on a table and the Delete records switch.
    Delete,
    /// The grant of an action Stanchion executes.
    Action,
}

/// One tool of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    /// The tool's name (as Microsoft's Dataverse MCP server names it where it has one).
    pub name: &'static str,
    /// A short human title.
    pub title: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// When it is listed.
    pub needs: Needs,
    /// `readOnlyHint`.
    pub read_only: bool,
    /// `destructiveHint`.
    pub destructive: bool,
    /// `idempotentHint`.
    pub idempotent: bool,
}

/// Every tool Stanchion serves.
pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "whoami",
        title: "Who am I",
        description: "Returns the Stanchion agent you act as and the Dynamics 365 user, business unit and organization ids behind it.",
        needs: Needs::Nothing,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "list_tables",
        title: "List tables",
        description: "Lists the Dynamics 365 tables you can use, with their display names, entity set names and your access level on each (Read or Full use, and whether you may delete rows).",
        needs: Needs::Nothing,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "describe_table",
        title: "Describe a table",
        description: "Describes one table: its columns (type, display name, whether required, the choices of option-set columns, the tables a lookup points at), its relationships and alternate keys. Columns hidden from you are not shown.",
        needs: Needs::Read,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "read_query",
        title: "Run a SQL query",
        description: "Runs one read-only SQL SELECT over Dataverse (the Dataverse SQL subset: SELECT [DISTINCT] [TOP n] columns or COUNT(*)/SUM/AVG/MIN/MAX FROM table [JOIN table ON lookup = id] [WHERE …] [GROUP BY …] [ORDER BY …]). Columns are logical names; SELECT * is not allowed.",
        needs: Needs::Read,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "query_records",
        title: "Query records",
        description: "Reads rows of one table with OData query options: select (comma-separated logical names), filter (an OData $filter such as \"statecode eq 0 and contains(name,'Contoso')\"), orderby (\"revenue desc\"), top and expand (related rows, e.g. \"primarycontactid($select=fullname)\").",
        needs: Needs::Read,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "fetch_records",
        title: "Query records with FetchXML",
        description: "Reads rows with a FetchXML query (<fetch><entity name=\"account\">…</entity></fetch>), including link-entity joins and aggregates.",
        needs: Needs::Read,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "get_record",
        title: "Get a record",
        description: "Reads one row of a table by its id (a GUID), optionally only some columns.",
        needs: Needs::Read,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "count_records",
        title: "Count records",
        description: "Counts the rows of a table, optionally only those matching an OData filter (Dynamics 365 counts up to 5,000).",
        needs: Needs::Read,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "search",
        title: "Search records",
        description: "Finds rows whose primary name or common text columns (email, phone, account number, subject…) contain the given text, across the tables you can read or the ones you name.",
        needs: Needs::Read,
        read_only: true,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "create_record",
        title: "Create a record",
        description: "Creates one row. record holds column values by logical name; set a lookup with \"<navigation>@odata.bind\": \"/<entity set>(<id>)\" (for example \"parentcustomerid_account@odata.bind\": \"/accounts(…)\"). Returns the new row's id.",
        needs: Needs::Full,
        read_only: false,
        destructive: false,
        idempotent: false,
    },
    ToolSpec {
        name: "update_record",
        title: "Update a record",
        description: "Changes columns of one existing row (it is never created). record holds the new values by logical name; lookups as in create_record.",
        needs: Needs::Full,
        read_only: false,
        destructive: true,
        idempotent: true,
    },
    ToolSpec {
        name: "delete_record",
        title: "Delete a record",
        description: "Deletes one row by its id. This cannot be undone.",
        needs: Needs::Delete,
        read_only: false,
        destructive: true,
        idempotent: true,
    },
    ToolSpec {
        name: "run_action",
        title: "Run an action",
        description: "Runs a Dynamics 365 action granted to you, with its parameters as the action's JSON body (for WinOpportunity: {\"Status\": 3, \"OpportunityClose\": {\"subject\": \"Won\", \"opportunityid@odata.bind\": \"/opportunities(<id>)\"}}). target names the row of an action bound to a table.",
        needs: Needs::Action,
        read_only: false,
        destructive: true,
        idempotent: false,
    },
    ToolSpec {
        name: "associate_records",
        title: "Associate records",
        description: "Links two rows through a relationship, named by the navigation property of table (for example account's contact_customer_accounts, or a contact's parentcustomerid_account).",
        needs: Needs::Full,
        read_only: false,
        destructive: false,
        idempotent: true,
    },
    ToolSpec {
        name: "disassociate_records",
        title: "Disassociate records",
        description: "Removes the link between two rows through a relationship (the rows themselves stay).",
        needs: Needs::Full,
        read_only: false,
        destructive: true,
        idempotent: true,
    },
];

/// The catalog entry of a tool name.
pub fn spec(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

/// The tables (logical names, sorted) an agent may use at `level` or above, among those the
/// schema knows; with `delete`, only those where it may delete rows.
pub fn tables_at(schema: &dataverse::Schema, policy: &AgentPolicy, level: Level, delete: bool) -> Vec<String> {
    let mut out: Vec<String> = schema
        .tables()
        .iter()
        .map(|t| t.logical_name.clone())
        .filter(|t| policy.level(t) >= level && (!delete || policy.may_delete(t)))
        .collect();
    out.sort();
    out
}

/// Whether the agent is offered the tool.
pub fn offered(spec: &ToolSpec, schema: &dataverse::Schema, policy: &AgentPolicy) -> bool {
    match spec.needs {
        Needs::Nothing => true,
        Needs::Read => !tables_at(schema, policy, Level::Read, false).is_empty(),
        Needs::Full => !tables_at(schema, policy, Level::Full, false).is_empty(),
        Needs::Delete => !tables_at(schema, policy, Level::Full, true).is_empty(),
        Needs::Action => !granted_actions(policy).is_empty(),
    }
}

/// The actions of the catalog granted to the agent that Stanchion executes, in catalog order.
pub fn granted_actions(policy: &AgentPolicy) -> Vec<&'static dataverse::catalog::Entry> {
    dataverse::catalog::actions().filter(|e| e.supported && policy.actions.contains(e.name)).collect()
}

/// The tools this agent is offered, with descriptions naming its tables and argument schemas
/// whose `table` enumerates them.
pub fn list(schema: &dataverse::Schema, policy: &AgentPolicy) -> Vec<Tool> {
    let readable = tables_at(schema, policy, Level::Read, false);
    let full = tables_at(schema, policy, Level::Full, false);
    let deletable = tables_at(schema, policy, Level::Full, true);
    let actions: Vec<String> = granted_actions(policy).iter().map(|e| e.name.to_owned()).collect();
    TOOLS
        .iter()
        .filter(|s| offered(s, schema, policy))
        .map(|s| {
            let tables = match s.needs {
                Needs::Nothing | Needs::Read => &readable,
                Needs::Full => &full,
                Needs::Delete => &deletable,
                Needs::Action => &actions,
            };
            let scope = match s.needs {
                Needs::Nothing => String::new(),
                Needs::Read => format!(" Tables you may read: {}.", tables.join(", ")),
                Needs::Full => format!(" Tables you may change: {}.", tables.join(", ")),
                Needs::Delete => format!(" Tables you may delete rows of: {}.", tables.join(", ")),
                Needs::Action => {
                    let lines: Vec<String> = granted_actions(policy)
                        .iter()
                        .map(|e| format!("{} ({} Needs {}.)", e.name, e.description.trim_end_matches('.'), e.needs))
                        .collect();
                    format!(" Actions you may run: {}.", lines.join("; "))
                }
            };
            let annotations = ToolAnnotations::with_title(s.title)
                .read_only(s.read_only)
                .destructive(s.destructive)
                .idempotent(s.idempotent)
                .open_world(false);
            Tool::new(s.name, format!("{}{scope}", s.description), Arc::new(input_schema(s.name, tables)))
                .with_title(s.title)
                .with_annotations(annotations)
        })
        .collect()
}

fn object(properties: Value, required: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("properties".into(), properties);
    m.insert("required".into(), json!(required));
    m.insert("additionalProperties".into(), json!(false));
    m
}

const CONTINUATION: &str = "The continuation value of the previous page's result, to read the next page (the other arguments are then ignored).";

/// The JSON Schema of a tool's arguments; `tables` is the enum of the `table` argument.
pub fn input_schema(name: &str, tables: &[String]) -> Map<String, Value> {
    let table = json!({"type": "string", "enum": tables, "description": "The table's logical name (singular, lower case: account, contact)."});
    let id = json!({"type": "string", "format": "uuid", "description": "The row's id (a GUID)."});
    let select = json!({"type": "string", "description": "Columns to return, comma-separated logical names (all visible columns when omitted)."});
    let filter = json!({"type": "string", "description": "An OData $filter expression over logical names, e.g. \"statecode eq 0 and contains(name,'Contoso')\"."});
    let record = json!({"type": "object", "description": "Column values by logical name; lookups as \"<navigation property>@odata.bind\": \"/<entity set>(<id>)\".", "additionalProperties": true});
    let continuation = json!({"type": "string", "description": CONTINUATION});
    match name {
        "whoami" | "list_tables" => object(json!({}), &[]),
        "describe_table" => object(json!({"table": table}), &["table"]),
        "read_query" => object(
            json!({"sql": {"type": "string", "description": "One SQL SELECT statement."}, "continuation": continuation}),
            &["sql"],
        ),
        "query_records" => object(
            json!({
                "table": table,
                "select": select,
                "filter": filter,
                "orderby": {"type": "string", "description": "Sort order, e.g. \"createdon desc, name\"."},
                "top": {"type": "integer", "minimum": 1, "maximum": 5000, "description": "At most this many rows in all."},
                "expand": {"type": "string", "description": "Related rows to include, e.g. \"primarycontactid($select=fullname)\"."},
                "continuation": continuation,
            }),
            &["table"],
        ),
        "fetch_records" => object(
            json!({"fetchxml": {"type": "string", "description": "A FetchXML <fetch> document."}, "continuation": continuation}),
            &["fetchxml"],
        ),
        "get_record" => object(
            json!({"table": table, "id": id, "select": select, "expand": {"type": "string", "description": "Related rows to include."}}),
            &["table", "id"],
        ),
        "count_records" => object(json!({"table": table, "filter": filter}), &["table"]),
        "search" => object(
            json!({
                "text": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The text to look for."},
                "tables": {"type": "array", "items": {"type": "string", "enum": tables}, "description": "Only these tables (all you can read when omitted)."},
                "top": {"type": "integer", "minimum": 1, "maximum": 50, "description": "At most this many rows per table (10 when omitted)."},
            }),
            &["text"],
        ),
        "create_record" => object(json!({"table": table, "record": record}), &["table", "record"]),
        "update_record" => object(json!({"table": table, "id": id, "record": record}), &["table", "id", "record"]),
        "delete_record" => object(json!({"table": table, "id": id}), &["table", "id"]),
        "run_action" => object(
            json!({
                "name": {"type": "string", "enum": tables, "description": "The action's name."},
                "target": {
                    "type": "object",
                    "description": "For an action bound to a table: the row it runs on.",
                    "properties": {"table": {"type": "string"}, "id": {"type": "string", "format": "uuid"}},
                    "required": ["table", "id"],
                    "additionalProperties": false,
                },
                "parameters": {"type": "object", "description": "The action's parameters, as its JSON body.", "additionalProperties": true},
            }),
            &["name"],
        ),
        "associate_records" | "disassociate_records" => object(
            json!({
                "table": table,
                "id": id,
                "relationship": {"type": "string", "description": "The navigation property of table that names the relationship."},
                "related_id": {"type": "string", "format": "uuid", "description": "The related row's id (for a single-valued relationship, optional when disassociating)."},
            }),
            if name == "associate_records" {
                &["table", "id", "relationship", "related_id"]
            } else {
                &["table", "id", "relationship"]
            },
        ),
        _ => object(json!({}), &[]),
    }
}
