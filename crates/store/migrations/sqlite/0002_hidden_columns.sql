-- Hidden columns per agent and table (design §4).
CREATE TABLE policy_hidden_columns (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    table_name TEXT NOT NULL,
    column_name TEXT NOT NULL,
    PRIMARY KEY (agent_id, table_name, column_name)
);
