//! The voice: every example sentence from the design, exactly.

use audit::{
    Actor, AuditRecord, Change, Decision, Kind, Privilege, RecordType, TableAccess, Timestamp, sentence, short_id,
};

use super::{agent_record, at, id};

const GUID: &str = "3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1";

fn table(table: &str, set: &str, privilege: Privilege) -> TableAccess {
    TableAccess::new(table, set, privilege)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// An allowed outcome by Sales Ops Agent.
fn allowed(kind: Kind, tables: Vec<TableAccess>, ids: &[&str], columns: &[&str]) -> AuditRecord {
    AuditRecord {
        tables,
        record_ids: strings(ids),
        columns: strings(columns),
        decision: Some(Decision::Allowed),
        upstream_status: Some(200),
        ..agent_record(1, RecordType::Outcome, kind)
    }
}

/// A denied decision by `agent`.
fn denied(agent: &str, kind: Kind, reason: &str) -> AuditRecord {
    AuditRecord {
        agent_name: Some(agent.into()),
        decision: Some(Decision::Denied),
        reason: Some(reason.into()),
        reasons: vec![reason.into()],
        ..agent_record(2, RecordType::Decision, kind)
    }
}

fn accounts_read() -> Vec<TableAccess> {
    vec![table("account", "accounts", Privilege::Read)]
}

#[test]
fn outcome_of_a_query() {
    let record = AuditRecord {
        rows: Some(25),
        ..allowed(Kind::Query, accounts_read(), &[], &["name", "revenue", "telephone1"])
    };
    assert_eq!(sentence(&record), "Sales Ops Agent read 25 accounts (name, revenue, telephone1) — allowed.");
    assert_eq!(record.sentence(), sentence(&record));
}

#[test]
fn denied_delete() {
    let record = AuditRecord {
        tables: vec![table("contact", "contacts", Privilege::Delete)],
        record_ids: strings(&[GUID]),
        reason_code: Some("delete_off".into()),
        ..denied("Sales Ops Agent", Kind::Delete, "deleting records is off for this agent")
    };
    assert_eq!(
        sentence(&record),
        "Sales Ops Agent tried to delete contact 3f2c…9a1 — denied: deleting records is off for this agent."
    );
}

#[test]
fn denied_update() {
    let record = AuditRecord {
        tables: vec![table("contact", "contacts", Privilege::Write)],
        record_ids: strings(&[GUID]),
        columns: strings(&["telephone1"]),
        reason_code: Some("table_read_only".into()),
        ..denied("Support Agent", Kind::Update, "it can only read contacts")
    };
    assert_eq!(
        sentence(&record),
        "Support Agent tried to update contact 3f2c…9a1 (telephone1) — denied: it can only read contacts."
    );
}

#[test]
fn denied_batch_counts_parts_in_rows() {
    let record = AuditRecord {
        rows: Some(3),
        ..denied("Support Agent", Kind::Batch, "part 2 reads leads, which this agent cannot see")
    };
    assert_eq!(
        sentence(&record),
        "Support Agent sent a batch of 3 requests — denied: part 2 reads leads, which this agent cannot see."
    );
}

#[test]
fn allowed_update_that_dynamics_refused() {
    let accounts_write = || vec![table("account", "accounts", Privilege::Write)];
    let record = AuditRecord {
        upstream_status: Some(412),
        ..allowed(Kind::Update, accounts_write(), &["7c1…e2"], &["telephone1"])
    };
    assert_eq!(
        sentence(&record),
        "Sales Ops Agent updated account 7c1…e2 (telephone1) — allowed; Dynamics 365 answered 412 (the record changed since it was read)."
    );
    let record = AuditRecord {
        upstream_status: Some(412),
        ..allowed(Kind::Update, accounts_write(), &["7c1e9b2d-0a4f-4c3e-8d21-5f6a7b8c90e2"], &["telephone1"])
    };
    assert_eq!(
        sentence(&record),
        "Sales Ops Agent updated account 7c1e…0e2 (telephone1) — allowed; Dynamics 365 answered 412 (the record changed since it was read)."
    );
}

#[test]
fn status_phrases() {
    let cases = [
        (404, "Dynamics 365 answered 404 (the record does not exist)"),
        (429, "Dynamics 365 answered 429 (too many requests; Dynamics 365 asked to slow down)"),
        (400, "Dynamics 365 answered 400 (the request was invalid)"),
        (401, "Dynamics 365 answered 401 (Dynamics 365 refused the credentials or privileges)"),
        (403, "Dynamics 365 answered 403 (Dynamics 365 refused the credentials or privileges)"),
        (500, "Dynamics 365 answered 500 (Dynamics 365 failed)"),
        (503, "Dynamics 365 answered 503 (Dynamics 365 failed)"),
        (409, "Dynamics 365 answered 409"),
    ];
    for (status, phrase) in cases {
        let record =
            AuditRecord { upstream_status: Some(status), ..allowed(Kind::Retrieve, accounts_read(), &[GUID], &[]) };
        assert_eq!(sentence(&record), format!("Sales Ops Agent read account 3f2c…9a1 — allowed; {phrase}."));
    }
    for status in [200, 201, 204, 304] {
        let record =
            AuditRecord { upstream_status: Some(status), ..allowed(Kind::Delete, accounts_read(), &[GUID], &[]) };
        assert_eq!(sentence(&record), "Sales Ops Agent deleted account 3f2c…9a1 — allowed.");
    }
}

#[test]
fn other_allowed_kinds() {
    let accounts_create = || vec![table("account", "accounts", Privilege::Create)];
    let accounts_write = || vec![table("account", "accounts", Privilege::Write)];
    let contacts_delete = || vec![table("contact", "contacts", Privilege::Delete)];
    let query = |rows: u64, columns: &[&str]| AuditRecord {
        rows: Some(rows),
        ..allowed(Kind::Query, accounts_read(), &[], columns)
    };
    let cases = [
        (
            allowed(Kind::Retrieve, accounts_read(), &[GUID], &["name"]),
            "Sales Ops Agent read account 3f2c…9a1 (name) — allowed.",
        ),
        (
            allowed(Kind::Create, accounts_create(), &[GUID], &["name", "revenue"]),
            "Sales Ops Agent created account 3f2c…9a1 (name, revenue) — allowed.",
        ),
        (
            allowed(Kind::Create, accounts_create(), &[], &["name", "revenue"]),
            "Sales Ops Agent created a new account (name, revenue) — allowed.",
        ),
        (
            allowed(Kind::Update, accounts_write(), &[GUID], &["name"]),
            "Sales Ops Agent updated account 3f2c…9a1 (name) — allowed.",
        ),
        (
            allowed(Kind::Upsert, accounts_write(), &[GUID], &["name"]),
            "Sales Ops Agent upserted account 3f2c…9a1 (name) — allowed.",
        ),
        (allowed(Kind::Delete, contacts_delete(), &[GUID], &[]), "Sales Ops Agent deleted contact 3f2c…9a1 — allowed."),
        (allowed(Kind::Count, accounts_read(), &[], &[]), "Sales Ops Agent counted accounts — allowed."),
        (query(1, &["name"]), "Sales Ops Agent read 1 account (name) — allowed."),
        (query(0, &["name"]), "Sales Ops Agent read 0 accounts (name) — allowed."),
        (query(25, &[]), "Sales Ops Agent read 25 accounts — allowed."),
    ];
    for (record, expected) in cases {
        assert_eq!(sentence(&record), expected);
    }
}

#[test]
fn names_the_first_table_whose_privilege_matches_the_verb() {
    let tables = vec![
        table("account", "accounts", Privilege::Read),
        table("opportunity", "opportunities", Privilege::Write),
        table("contact", "contacts", Privilege::Write),
    ];
    let update = allowed(Kind::Update, tables.clone(), &[GUID], &[]);
    assert_eq!(sentence(&update), "Sales Ops Agent updated opportunity 3f2c…9a1 — allowed.");
    let query = AuditRecord { rows: Some(2), ..allowed(Kind::Query, tables, &[], &[]) };
    assert_eq!(sentence(&query), "Sales Ops Agent read 2 accounts — allowed.");
}

#[test]
fn unclassified_request_shows_method_and_path() {
    let record = AuditRecord {
        method: Some("GET".into()),
        path: Some("/api/data/v9.2/foo?$skip=?".into()),
        reason_code: Some("unclassified".into()),
        ..denied("Sales Ops Agent", Kind::Unclassified, "$skip is not supported yet")
    };
    assert_eq!(
        sentence(&record),
        "Sales Ops Agent sent a request Stanchion does not understand (GET /api/data/v9.2/foo?$skip=?) — denied: $skip is not supported yet."
    );
}

#[test]
fn unauthenticated_caller_is_named_by_ip() {
    let record = AuditRecord {
        client_ip: Some("203.0.113.9".into()),
        decision: Some(Decision::Denied),
        reason_code: Some("unknown_key".into()),
        reason: Some("the bearer token is not a Stanchion agent key".into()),
        ..AuditRecord::new(id(4), at(0), RecordType::Decision, Actor::Agent, Kind::Unauthenticated)
    };
    assert_eq!(
        sentence(&record),
        "An unknown caller (203.0.113.9) sent a request — denied: the bearer token is not a Stanchion agent key."
    );
}

#[test]
fn attempt_is_asked_and_forwarded() {
    let record = AuditRecord {
        tables: accounts_read(),
        columns: strings(&["name"]),
        decision: Some(Decision::Allowed),
        ..agent_record(5, RecordType::Attempt, Kind::Query)
    };
    assert_eq!(
        sentence(&record),
        "Sales Ops Agent asked to read accounts (name) — allowed; forwarded to Dynamics 365."
    );
}

#[test]
fn error_decision() {
    let record = AuditRecord {
        tables: accounts_read(),
        columns: strings(&["name"]),
        decision: Some(Decision::Error),
        reason_code: Some("audit_unavailable".into()),
        reason: Some("the audit log is unavailable".into()),
        ..agent_record(6, RecordType::Decision, Kind::Query)
    };
    assert_eq!(
        sentence(&record),
        "Sales Ops Agent tried to read accounts (name) — error: the audit log is unavailable."
    );
}

#[test]
fn short_ids() {
    assert_eq!(short_id(GUID), "3f2c…9a1");
    assert_eq!(short_id("7c1…e2"), "7c1…e2");
    assert_eq!(short_id("0123456789"), "0123456789");
    assert_eq!(short_id("0123456789a"), "0123…89a");
    assert_eq!(short_id(""), "");
}

#[test]
fn sentences_are_derived_not_stored() {
    let record = allowed(Kind::Retrieve, accounts_read(), &[GUID], &["name"]);
    let value = record.to_value();
    assert!(value.get("sentence").is_none());
    let text = serde_json::to_string(&value).unwrap();
    assert!(!text.contains("Sales Ops Agent read"));
}

#[test]
fn less_common_kinds() {
    let contact = "1a2b3c4d-0000-4000-8000-000000000cde";
    let linked =
        || vec![table("account", "accounts", Privilege::Append), table("contact", "contacts", Privilege::AppendTo)];
    let with_line = |kind: Kind, method: &str, path: &str| AuditRecord {
        method: Some(method.into()),
        path: Some(path.into()),
        ..allowed(kind, Vec::new(), &[], &[])
    };
    let cases = [
        (
            allowed(Kind::Associate, linked(), &[GUID, contact], &[]),
            "Sales Ops Agent linked account 3f2c…9a1 to contact 1a2b…cde — allowed.",
        ),
        (
            allowed(Kind::Disassociate, linked(), &[GUID], &[]),
            "Sales Ops Agent unlinked account 3f2c…9a1 from a contact — allowed.",
        ),
        (
            allowed(
                Kind::ClearProperty,
                vec![table("account", "accounts", Privilege::Write)],
                &[GUID],
                &["telephone1"],
            ),
            "Sales Ops Agent cleared telephone1 of account 3f2c…9a1 — allowed.",
        ),
        (
            allowed(Kind::RetrieveProperty, accounts_read(), &[GUID], &["name"]),
            "Sales Ops Agent read account 3f2c…9a1 (name) — allowed.",
        ),
        (
            AuditRecord { rows: Some(3), ..allowed(Kind::FetchxmlQuery, accounts_read(), &[], &["name"]) },
            "Sales Ops Agent read 3 accounts with FetchXML (name) — allowed.",
        ),
        (
            allowed(Kind::ChangeTracking, accounts_read(), &[], &[]),
            "Sales Ops Agent synced accounts from the start — allowed.",
        ),
        (
            AuditRecord {
                rows: Some(3),
                path: Some("/api/data/v9.2/accounts?$select=name&$deltatoken=?".into()),
                ..allowed(Kind::ChangeTracking, accounts_read(), &[], &["name"])
            },
            "Sales Ops Agent synced 3 changes of accounts (name) since the last sync — allowed.",
        ),
        (
            with_line(Kind::UnboundFunction, "GET", "/api/data/v9.2/WhoAmI()"),
            "Sales Ops Agent called WhoAmI — allowed.",
        ),
        (
            with_line(Kind::UnboundFunction, "GET", "/api/data/v9.2/$frob"),
            "Sales Ops Agent called a function (GET /api/data/v9.2/$frob) — allowed.",
        ),
        (
            AuditRecord {
                path: Some("/api/data/v9.2/RetrieveTotalRecordCount(EntityNames=['account','contact'])".into()),
                ..allowed(
                    Kind::UnboundFunction,
                    vec![table("account", "accounts", Privilege::Read), table("contact", "contacts", Privilege::Read)],
                    &[],
                    &[],
                )
            },
            "Sales Ops Agent called RetrieveTotalRecordCount on accounts, contacts — allowed.",
        ),
        (
            AuditRecord {
                path: Some("/api/data/v9.2/WinOpportunity".into()),
                ..allowed(
                    Kind::UnboundAction,
                    vec![table("opportunity", "opportunities", Privilege::Write)],
                    &[GUID],
                    &[],
                )
            },
            "Sales Ops Agent ran WinOpportunity on opportunity 3f2c…9a1 — allowed.",
        ),
        (
            AuditRecord {
                path: Some("/api/data/v9.2/accounts/Microsoft.Dynamics.CRM.CreateMultiple".into()),
                ..allowed(Kind::BoundAction, vec![table("account", "accounts", Privilege::Create)], &[], &["name"])
            },
            "Sales Ops Agent ran CreateMultiple on accounts (name) — allowed.",
        ),
        (
            AuditRecord {
                path: Some("/api/data/v9.2/accounts/Microsoft.Dynamics.CRM.UpdateMultiple".into()),
                ..allowed(
                    Kind::BoundAction,
                    vec![table("account", "accounts", Privilege::Write)],
                    &[GUID, "5b7e8a10-3f2c-4d21-9c3f-0e8d4b6a29a1"],
                    &["telephone1"],
                )
            },
            "Sales Ops Agent ran UpdateMultiple on 2 accounts (telephone1) — allowed.",
        ),
        (
            allowed(Kind::BoundAction, accounts_read(), &[GUID], &[]),
            "Sales Ops Agent ran an action on account 3f2c…9a1 — allowed.",
        ),
        (allowed(Kind::ServiceDocument, Vec::new(), &[], &[]), "Sales Ops Agent read the service document — allowed."),
        (allowed(Kind::MetadataCsdl, Vec::new(), &[], &[]), "Sales Ops Agent read the metadata document — allowed."),
        (
            AuditRecord { rows: Some(1), ..allowed(Kind::Batch, Vec::new(), &[], &[]) },
            "Sales Ops Agent sent a batch of 1 request — allowed.",
        ),
        (
            with_line(Kind::Other("frobnicate".into()), "POST", "/x"),
            "Sales Ops Agent sent a frobnicate request (POST /x) — allowed.",
        ),
    ];
    for (record, expected) in cases {
        assert_eq!(sentence(&record), expected);
    }
}

#[test]
fn refusals_with_an_upstream_answer_and_without_a_reason() {
    let record = AuditRecord {
        tables: vec![table("contact", "contacts", Privilege::Read)],
        record_ids: strings(&[GUID]),
        columns: strings(&["birthdate"]),
        decision: Some(Decision::Denied),
        reason_code: Some("hidden_column".into()),
        upstream_status: Some(200),
        ..agent_record(7, RecordType::Outcome, Kind::Retrieve)
    };
    assert_eq!(sentence(&record), "Sales Ops Agent tried to read contact 3f2c…9a1 (birthdate) — denied.");
    let record = AuditRecord {
        decision: Some(Decision::Error),
        reason: Some("Dynamics 365 did not answer.".into()),
        upstream_status: Some(503),
        ..record
    };
    assert_eq!(
        sentence(&record),
        "Sales Ops Agent tried to read contact 3f2c…9a1 (birthdate) — error: Dynamics 365 did not answer; Dynamics 365 answered 503 (Dynamics 365 failed)."
    );
}

#[test]
fn hidden_column_changes() {
    let mut change = Change::new("Support Agent");
    change.table = Some("contact".into());
    change.set = Some("contacts".into());
    change.column = Some("emailaddress1".into());
    let id = uuid::Uuid::nil();
    let t: Timestamp = "2026-11-26T10:00:00.000Z".parse().unwrap();
    let hid = AuditRecord::admin(id, t, Actor::Admin, Some("alice".into()), Kind::PolicyColumnHidden, change.clone());
    assert_eq!(hid.sentence(), "Admin alice hid column emailaddress1 of contacts from Support Agent.");
    let shown = AuditRecord::admin(id, t, Actor::Admin, Some("alice".into()), Kind::PolicyColumnShown, change);
    assert_eq!(shown.sentence(), "Admin alice showed column emailaddress1 of contacts to Support Agent again.");
}

#[test]
fn a_call_through_mcp_names_the_tool() {
    let record = AuditRecord {
        rows: Some(3),
        transport: Some(audit::Transport::Mcp),
        mcp_tool: Some("query_records".into()),
        ..allowed(Kind::Query, accounts_read(), &[], &["name"])
    };
    assert_eq!(sentence(&record), "Sales Ops Agent read 3 accounts (name) through MCP (query_records) — allowed.");
    let refused = AuditRecord {
        transport: Some(audit::Transport::Mcp),
        mcp_tool: Some("drop_table".into()),
        ..denied("Support Agent", Kind::McpTool, "there is no MCP tool named drop_table")
    };
    assert_eq!(
        sentence(&refused),
        "Support Agent tried to call the MCP tool drop_table — denied: there is no MCP tool named drop_table."
    );
    let rest =
        AuditRecord { transport: Some(audit::Transport::Rest), ..allowed(Kind::Query, accounts_read(), &[], &[]) };
    assert!(!sentence(&rest).contains("MCP"));
}
