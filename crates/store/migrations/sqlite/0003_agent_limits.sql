-- An agent's own request limits (design §7 `policy limits`); NULL follows the gateway's
-- `[limits]` default, 0 means no limit.
ALTER TABLE agents ADD COLUMN limit_per_minute INTEGER;
ALTER TABLE agents ADD COLUMN limit_concurrency INTEGER;
