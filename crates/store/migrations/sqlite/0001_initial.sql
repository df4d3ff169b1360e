-- Agents, their keys and policies, and the audit log (design §5, §7).
CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,          -- lower-cased name: names are unique case-insensitively
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    delete_records INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE agent_keys (
    key_id TEXT PRIMARY KEY,                -- public part of the key, Crockford base32
    agent_id TEXT NOT NULL REFERENCES agents(id),
    digest BLOB NOT NULL,                   -- HMAC-SHA256(key_secret, key)
    label TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX agent_keys_agent ON agent_keys(agent_id);

CREATE TABLE policy_tables (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    table_name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('off', 'read', 'full')),
    delete_records INTEGER NOT NULL DEFAULT 0,  -- per table, so a per-table switch needs no migration
    PRIMARY KEY (agent_id, table_name)
);

CREATE TABLE audit_records (
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    record_type TEXT NOT NULL,
    attempt_id TEXT,
    agent_id TEXT,
    kind TEXT NOT NULL,
    decision TEXT,
    request_id TEXT,
    record TEXT NOT NULL,                   -- the sealed record as JSON
    PRIMARY KEY (chain_id, seq)
);
CREATE INDEX audit_records_time ON audit_records(time);
CREATE INDEX audit_records_attempt ON audit_records(attempt_id);

CREATE TRIGGER audit_records_append_only_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_append_only_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

CREATE TABLE audit_checkpoints (
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    time TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq)
);
CREATE TRIGGER audit_checkpoints_append_only_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_append_only_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
