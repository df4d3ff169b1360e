-- Catalog actions granted per agent (design §4: an action needs the grant of its name and the
-- table levels it lists).
CREATE TABLE policy_actions (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    action TEXT NOT NULL,
    PRIMARY KEY (agent_id, action)
);
