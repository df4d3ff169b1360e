-- Search keys of audit records (`stanchion audit search`): the tables and record ids each record
-- names, and its words, filled by the writer in the record's own transaction and backfilled here
-- from the stored JSON. Indexes so a search by agent, decision or time range reads only matches.
CREATE TABLE audit_record_tables (
    table_name TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (table_name, chain_id, seq)
) WITHOUT ROWID;

CREATE TABLE audit_record_ids (
    record_id TEXT NOT NULL,                -- lower-case GUID
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (record_id, chain_id, seq)
) WITHOUT ROWID;

-- rowid = the record's rowid in audit_records; the text is the record's JSON (names, tables,
-- columns, reasons, paths).
CREATE VIRTUAL TABLE audit_text USING fts5(body, tokenize = 'unicode61');

CREATE INDEX audit_records_agent_time ON audit_records(agent_id, time);
CREATE INDEX audit_records_decision_time ON audit_records(decision, time);

INSERT OR IGNORE INTO audit_record_tables (table_name, chain_id, seq)
    SELECT json_extract(t.value, '$.table'), r.chain_id, r.seq
    FROM audit_records r, json_each(r.record, '$.tables') t;
INSERT OR IGNORE INTO audit_record_ids (record_id, chain_id, seq)
    SELECT lower(i.value), r.chain_id, r.seq
    FROM audit_records r, json_each(r.record, '$.record_ids') i;
INSERT INTO audit_text (rowid, body) SELECT rowid, record FROM audit_records;
