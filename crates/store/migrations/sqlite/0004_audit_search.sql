-- Search keys of audit records (`stanchion audit search`): the tables and record ids each record
-- names, and its words, read from the stored JSON (backfilled here, then caught up after
-- commits: see audit_search_state). Indexes so a search by agent, decision or time range reads only matches.
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

-- rowid = the record's rowid in audit_records; the text is the record's words (agent, actor,
-- kind, tables, columns, reason, method, path, client address), not its hashes or ids.
-- Contentless, without positions: it only answers which records hold every word.
CREATE VIRTUAL TABLE audit_text USING fts5(body, content = '', detail = none, tokenize = 'unicode61');

-- How far the search index reaches (a rowid of audit_records). Records are indexed after they
-- are committed, in the background and before every search, never on the audit write path.
CREATE TABLE audit_search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_rowid INTEGER NOT NULL
);
INSERT INTO audit_search_state (id, indexed_rowid) SELECT 1, coalesce(max(rowid), 0) FROM audit_records;

CREATE INDEX audit_records_agent_time ON audit_records(agent_id, time);
CREATE INDEX audit_records_decision_time ON audit_records(decision, time);

INSERT OR IGNORE INTO audit_record_tables (table_name, chain_id, seq)
    SELECT json_extract(t.value, '$.table'), r.chain_id, r.seq
    FROM audit_records r, json_each(r.record, '$.tables') t;
INSERT OR IGNORE INTO audit_record_ids (record_id, chain_id, seq)
    SELECT lower(i.value), r.chain_id, r.seq
    FROM audit_records r, json_each(r.record, '$.record_ids') i;
-- The words of each record, as the text index holds them: who, what kind, which tables and
-- columns, why, the request line and the client address (not hashes, ids or times).
CREATE VIEW audit_words AS
    SELECT rowid AS record_rowid, chain_id, seq,
           coalesce(json_extract(record, '$.agent_name'), '') || ' ' ||
           coalesce(json_extract(record, '$.actor_name'), '') || ' ' ||
           coalesce(json_extract(record, '$.kind'), '') || ' ' ||
           coalesce((SELECT group_concat(json_extract(t.value, '$.table') || ' ' || json_extract(t.value, '$.set'), ' ')
                     FROM json_each(record, '$.tables') t), '') || ' ' ||
           coalesce((SELECT group_concat(c.value, ' ') FROM json_each(record, '$.columns') c), '') || ' ' ||
           coalesce(json_extract(record, '$.reason_code'), '') || ' ' ||
           coalesce(json_extract(record, '$.reason'), '') || ' ' ||
           coalesce(json_extract(record, '$.method'), '') || ' ' ||
           coalesce(json_extract(record, '$.path'), '') || ' ' ||
           coalesce(json_extract(record, '$.client_ip'), '') || ' ' ||
           coalesce(json_extract(record, '$.change.subject'), '') AS body
    FROM audit_records;

INSERT INTO audit_text (rowid, body) SELECT record_rowid, body FROM audit_words;
