//! Record shape: JSON field names, nulls, round trips, constructors.

use audit::{Actor, AuditRecord, Change, Decision, Kind, RecordType, Timestamp};

use super::{accounts, agent_record, at, id};

const FIELDS: [&str; 35] = [
    "id",
    "chain_id",
    "seq",
    "time",
    "record_type",
    "attempt_id",
    "actor",
    "actor_name",
    "agent_id",
    "agent_name",
    "key_id",
    "transport",
    "mcp_tool",
    "batch_id",
    "part",
    "request_id",
    "kind",
    "method",
    "path",
    "tables",
    "record_ids",
    "columns",
    "decision",
    "reason_code",
    "reason",
    "reasons",
    "upstream_status",
    "upstream_request_id",
    "rows",
    "latency_ms",
    "client_ip",
    "user_agent",
    "change",
    "prev_hash",
    "hash",
];

#[test]
fn serializes_every_field_by_its_json_name_with_nulls() {
    let record = AuditRecord::new(id(1), at(0), RecordType::Decision, Actor::Agent, Kind::Unauthenticated);
    let value = record.to_value();
    let names: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, FIELDS);
    assert_eq!(value["attempt_id"], serde_json::Value::Null);
    assert_eq!(value["change"], serde_json::Value::Null);
    assert_eq!(value["tables"], serde_json::json!([]));
    assert_eq!(value["time"], "2026-11-26T10:31:02.123Z");
    assert_eq!(value["id"], "00000000-0000-0000-0000-000000000001");
    assert_eq!(value["record_type"], "decision");
    assert_eq!(value["kind"], "unauthenticated");
}

#[test]
fn serializes_enums_and_nested_objects_in_snake_case() {
    let record = AuditRecord {
        tables: vec![audit::TableAccess::new("account", "accounts", audit::Privilege::AppendTo)],
        decision: Some(Decision::Allowed),
        transport: Some(audit::Transport::Mcp),
        ..agent_record(2, RecordType::Attempt, Kind::RetrieveProperty)
    };
    let value = record.to_value();
    assert_eq!(value["tables"], serde_json::json!([{"table": "account", "set": "accounts", "privilege": "append_to"}]));
    assert_eq!(value["decision"], "allowed");
    assert_eq!(value["transport"], "mcp");
    assert_eq!(value["actor"], "agent");
    assert_eq!(value["kind"], "retrieve_property");

    let admin = AuditRecord::admin(
        id(3),
        at(0),
        Actor::Cli,
        Some("cli:root@host".into()),
        Kind::PolicyDeleteRecords,
        Change { to: Some("on".into()), ..Change::new("Sales Ops Agent") },
    );
    assert_eq!(
        admin.to_value()["change"],
        serde_json::json!({
            "subject": "Sales Ops Agent", "table": null, "set": null,
            "from": null, "to": "on", "key_id": null, "column": null
        })
    );
    assert_eq!(admin.to_value()["record_type"], "admin");
    assert_eq!(admin.to_value()["actor"], "cli");
}

#[test]
fn round_trips_through_json_including_unknown_kinds() {
    let record = AuditRecord {
        rows: Some(25),
        columns: vec!["name".into()],
        tables: accounts(),
        ..agent_record(4, RecordType::Outcome, Kind::Other("frobnicate".into()))
    };
    let text = serde_json::to_string(&record).unwrap();
    let back: AuditRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(back, record);
    assert_eq!(back.kind.as_str(), "frobnicate");
    assert_eq!(Kind::parse("fetchxml_query"), Kind::FetchxmlQuery);
    assert_eq!(Kind::from("policy_table_level").to_string(), "policy_table_level");
}

#[test]
fn outcome_of_links_and_copies_the_attempt() {
    let attempt = AuditRecord {
        decision: Some(Decision::Allowed),
        tables: accounts(),
        columns: vec!["name".into()],
        client_ip: Some("198.51.100.7".into()),
        ..agent_record(5, RecordType::Attempt, Kind::Query)
    };
    let outcome = AuditRecord::outcome_of(&attempt, id(6), at(40));
    assert_eq!(outcome.record_type, RecordType::Outcome);
    assert_eq!(outcome.attempt_id, Some(id(5)));
    assert_eq!(outcome.id, id(6));
    assert_eq!(outcome.agent_name, attempt.agent_name);
    assert_eq!(outcome.tables, attempt.tables);
    assert_eq!(outcome.columns, attempt.columns);
    assert_eq!(outcome.decision, Some(Decision::Allowed));
    assert_eq!(outcome.client_ip, attempt.client_ip);
    assert_eq!(outcome.rows, None);
}

#[test]
fn timestamps_print_utc_with_milliseconds() {
    let time = Timestamp::parse("2026-11-26T11:31:02.123456+01:00").unwrap();
    assert_eq!(time.to_string(), "2026-11-26T10:31:02.123Z");
    assert_eq!(Timestamp::parse("2026-11-26T10:31:02Z").unwrap().to_string(), "2026-11-26T10:31:02.000Z");
    assert!(Timestamp::parse("yesterday").is_err());
    assert!(serde_json::from_str::<Timestamp>("\"2026-13-01T00:00:00Z\"").is_err());
}
