-- Signed truncation records (`stanchion audit prune`): the records of chain_id before first_seq
-- were removed, and the first kept record links to prev_hash. Signed with the audit key (see
-- audit::Truncation); append-only like the records they stand in for.
CREATE TABLE audit_truncations (
    chain_id TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    before TEXT NOT NULL,
    pruned INTEGER NOT NULL,
    time TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (chain_id, first_seq)
);
CREATE TRIGGER audit_truncations_append_only_update BEFORE UPDATE ON audit_truncations
BEGIN SELECT RAISE(ABORT, 'audit truncations are append-only'); END;
CREATE TRIGGER audit_truncations_append_only_delete BEFORE DELETE ON audit_truncations
BEGIN SELECT RAISE(ABORT, 'audit truncations are append-only'); END;
