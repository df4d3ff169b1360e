//! The voice for admin changes: every example sentence from the design.

use audit::{Actor, AuditRecord, Change, Kind, sentence};

use super::{at, id};

fn admin(actor: Actor, name: &str, kind: Kind, change: Change) -> AuditRecord {
    AuditRecord::admin(id(3), at(0), actor, Some(name.into()), kind, change)
}

#[test]
fn admin_changes() {
    let level = Change {
        table: Some("lead".into()),
        set: Some("leads".into()),
        from: Some("off".into()),
        to: Some("read".into()),
        ..Change::new("Support Agent")
    };
    let key = Change { key_id: Some("ABCDEFGHJKMN".into()), ..Change::new("Support Agent") };
    let switch = |to: &str| Change { to: Some(to.into()), ..Change::new("Sales Ops Agent") };
    let cases = [
        (
            admin(Actor::Admin, "alice", Kind::PolicyTableLevel, level.clone()),
            "Admin alice set Support Agent's access to leads from Off to Read.",
        ),
        (
            admin(Actor::Cli, "cli:root@host", Kind::PolicyTableLevel, level),
            "cli:root@host set Support Agent's access to leads from Off to Read.",
        ),
        (
            admin(Actor::Admin, "alice", Kind::AgentCreated, key.clone()),
            "Admin alice created agent Support Agent (key ABCDEFGHJKMN).",
        ),
        (
            admin(Actor::Admin, "alice", Kind::AgentKeyAdded, key.clone()),
            "Admin alice added key ABCDEFGHJKMN to Support Agent.",
        ),
        (
            admin(Actor::Admin, "alice", Kind::AgentKeyRevoked, key),
            "Admin alice revoked key ABCDEFGHJKMN of Support Agent.",
        ),
        (
            admin(Actor::Admin, "alice", Kind::PolicyDeleteRecords, switch("on")),
            "Admin alice turned deleting records on for Sales Ops Agent.",
        ),
        (
            admin(Actor::Cli, "cli:root@host", Kind::PolicyDeleteRecords, switch("off")),
            "cli:root@host turned deleting records off for Sales Ops Agent.",
        ),
    ];
    for (record, expected) in cases {
        assert_eq!(sentence(&record), expected);
    }
}

#[test]
fn admin_fallbacks() {
    let bare =
        |actor: Actor, kind: Kind| AuditRecord::admin(id(4), at(0), actor, None, kind, Change::new("Support Agent"));
    let cases = [
        (bare(Actor::Admin, Kind::AgentKeyRevoked), "An admin revoked a key of Support Agent."),
        (bare(Actor::Cli, Kind::AgentCreated), "The CLI created agent Support Agent."),
        (bare(Actor::System, Kind::AgentKeyAdded), "Stanchion added a key to Support Agent."),
        (bare(Actor::Admin, Kind::PolicyTableLevel), "An admin changed Support Agent's access to a table."),
        (bare(Actor::Admin, Kind::PolicyDeleteRecords), "An admin changed whether Support Agent may delete records."),
        (
            AuditRecord::admin(
                id(5),
                at(0),
                Actor::Admin,
                Some("alice".into()),
                Kind::PolicyTableLevel,
                Change {
                    table: Some("account".into()),
                    set: Some("accounts".into()),
                    to: Some("read_write".into()),
                    ..Change::new("Sales Ops Agent")
                },
            ),
            "Admin alice set Sales Ops Agent's access to accounts to Read write.",
        ),
    ];
    for (record, expected) in cases {
        assert_eq!(sentence(&record), expected);
    }
}
