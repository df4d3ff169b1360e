-- What admins declared custom APIs touch (`stanchion catalog declare`): until declared, a
-- custom API is Unclassified and refused.
CREATE TABLE catalog_declarations (
    name TEXT PRIMARY KEY NOT NULL,
    -- JSON array of [table logical name, true for full use / false for read].
    tables TEXT NOT NULL,
    destructive INTEGER NOT NULL
);
