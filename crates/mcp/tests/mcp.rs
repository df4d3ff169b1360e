//! `/mcp` in front of the real gateway and the real emulator, over real HTTP on 127.0.0.1 with
//! fresh SQLite files per test: JSON-RPC as any MCP client sends it (the official Python SDK
//! drives the same server in the `stanchion` crate's tests).

use audit::{AuditRecord, Decision, Kind, Transport};
use dataverse::Schema;
use emulator::{EmulatorConfig, Storage};
use gateway::{ClientAuth, ClientCredentials, Gateway, GatewayConfig, SystemClock, TokenCache, UpstreamClient};
use policy::Level;
use serde_json::{Value, json};
use std::sync::Arc;
use store::{Actor, Store, StoreConfig};

struct App {
    url: String,
    store: Store,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _emulator: emulator::RunningEmulator,
}

async fn spawn(settings: mcp::McpSettings) -> App {
    gateway::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let emulator = emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        org_url: None,
        storage: Storage::InMemory,
        clients: Vec::new(),
        seed: Some(7),
        protection: None,
        client_certificates: Vec::new(),
        schema: None,
    })
    .await
    .unwrap();
    let secrets = store::load_or_create_secrets(dir.path(), None, None).unwrap();
    let store = Store::open(&StoreConfig {
        database: dir.path().join("stanchion.sqlite"),
        secrets,
        checkpoint_file: dir.path().join("audit-checkpoints.log"),
    })
    .await
    .unwrap();
    let http = gateway::http_client().unwrap();
    let client = emulator.clients[0].clone();
    let credentials = ClientCredentials {
        token_url: emulator::token_url(&emulator.org_url, "test"),
        client_id: client.client_id,
        auth: ClientAuth::Secret(client.client_secret),
        scope: format!("{}/.default", emulator.org_url),
    };
    let tokens = TokenCache::new(http.clone(), credentials, Arc::new(SystemClock));
    let upstream = UpstreamClient::new(http.clone(), emulator.org_url.clone(), tokens);
    let gw = Gateway::new(Arc::new(Schema::standard()), store.clone(), upstream, GatewayConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = gateway::router(gw.clone())
        .merge(mcp::router(gw, &settings))
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    App { url, store, http, _dir: dir, _emulator: emulator }
}

fn actor() -> Actor {
    Actor::Cli("cli:test@localhost".into())
}

impl App {
    async fn agent(&self, name: &str, tables: &[(&str, Level)], delete: bool) -> String {
        let (_, key) = self.store.create_agent(&actor(), name).await.unwrap();
        for (t, level) in tables {
            self.set(name, t, *level).await;
        }
        if delete {
            self.store.set_delete_records(&actor(), name, true).await.unwrap();
        }
        key.expose().to_owned()
    }

    async fn set(&self, agent: &str, table: &str, level: Level) {
        let set = Schema::standard().table(table).unwrap().set_name.clone();
        self.store.set_table_level(&actor(), agent, table, &set, level).await.unwrap();
    }

    async fn hide(&self, agent: &str, table: &str, column: &str) {
        let set = Schema::standard().table(table).unwrap().set_name.clone();
        self.store.set_column_hidden(&actor(), agent, table, &set, column, true).await.unwrap();
    }

    /// One JSON-RPC request to `/mcp`; the raw HTTP response.
    async fn post(&self, key: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}/mcp", self.url))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .body(body.to_string());
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send().await.unwrap()
    }

    async fn rpc(&self, key: &str, method: &str, params: Value) -> Value {
        let resp = self.post(Some(key), json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).await;
        assert_eq!(resp.status(), 200);
        let streamed = resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream");
        let text = resp.text().await.unwrap();
        let body = if streamed {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .rfind(|d| !d.is_empty())
                .unwrap()
                .to_owned()
        } else {
            text
        };
        serde_json::from_str(&body).unwrap()
    }

    async fn tools(&self, key: &str) -> Vec<Value> {
        self.rpc(key, "tools/list", json!({})).await["result"]["tools"].as_array().unwrap().clone()
    }

    async fn tool_names(&self, key: &str) -> Vec<String> {
        self.tools(key).await.iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
    }

    /// Calls a tool: `Ok(result JSON)` or `Err(error text)`.
    async fn call(&self, key: &str, tool: &str, args: Value) -> Result<Value, String> {
        let r = self.rpc(key, "tools/call", json!({"name": tool, "arguments": args})).await;
        let result = &r["result"];
        let text = result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{r}")).to_owned();
        if result["isError"] == json!(true) { Err(text) } else { Ok(serde_json::from_str(&text).unwrap()) }
    }

    async fn records(&self) -> Vec<AuditRecord> {
        self.store.all_records().await.unwrap()
    }
}

const SALES: &[(&str, Level)] =
    &[("account", Level::Full), ("contact", Level::Full), ("lead", Level::Full), ("opportunity", Level::Full)];

#[tokio::test]
async fn tools_list_follows_the_policy_and_changes_with_it() {
    let app = spawn(mcp::McpSettings::default()).await;
    let none = app.agent("Nobody", &[], false).await;
    let reader = app.agent("Reader", &[("account", Level::Read), ("contact", Level::Read)], false).await;
    let writer = app.agent("Writer", SALES, false).await;
    let deleter = app.agent("Deleter", SALES, true).await;

    assert_eq!(app.tool_names(&none).await, ["whoami", "list_tables"]);
    let read_tools = app.tool_names(&reader).await;
    for t in ["describe_table", "read_query", "query_records", "fetch_records", "get_record", "count_records", "search"]
    {
        assert!(read_tools.contains(&t.to_owned()), "{t} missing: {read_tools:?}");
    }
    assert!(!read_tools.iter().any(|t| t.contains("create") || t.contains("update") || t.contains("delete")));
    let write_tools = app.tool_names(&writer).await;
    assert!(write_tools.contains(&"create_record".to_owned()) && write_tools.contains(&"associate_records".to_owned()));
    assert!(!write_tools.contains(&"delete_record".to_owned()), "no delete without the switch");
    assert!(app.tool_names(&deleter).await.contains(&"delete_record".to_owned()));

    // Descriptions and argument enums name the tables at the tool's level; annotations are truthful.
    let tools = app.tools(&reader).await;
    let query = tools.iter().find(|t| t["name"] == "query_records").unwrap();
    assert_eq!(query["inputSchema"]["properties"]["table"]["enum"], json!(["account", "contact"]));
    assert!(query["description"].as_str().unwrap().ends_with("Tables you may read: account, contact."));
    assert_eq!(query["annotations"]["readOnlyHint"], json!(true));
    let tools = app.tools(&deleter).await;
    let delete = tools.iter().find(|t| t["name"] == "delete_record").unwrap();
    assert_eq!(delete["annotations"]["destructiveHint"], json!(true));
    assert_eq!(delete["annotations"]["readOnlyHint"], json!(false));
    let create = tools.iter().find(|t| t["name"] == "create_record").unwrap();
    assert_eq!(create["annotations"]["destructiveHint"], json!(false));
    assert_eq!(create["annotations"]["idempotentHint"], json!(false));

    // A policy change shows in the very next tools/list.
    app.set("Reader", "lead", Level::Full).await;
    let after = app.tools(&reader).await;
    let create = after.iter().find(|t| t["name"] == "create_record").expect("create_record after Full use on leads");
    assert_eq!(create["inputSchema"]["properties"]["table"]["enum"], json!(["lead"]));
}

#[tokio::test]
async fn every_tool_works_end_to_end_and_is_recorded_as_mcp() {
    let app = spawn(mcp::McpSettings::default()).await;
    let key = app.agent("Sales Ops Agent", SALES, true).await;

    let me = app.call(&key, "whoami", json!({})).await.unwrap();
    assert_eq!(me["agent"], "Sales Ops Agent");
    assert!(me["user_id"].as_str().is_some());

    let tables = app.call(&key, "list_tables", json!({})).await.unwrap();
    let names: Vec<&str> = tables["tables"].as_array().unwrap().iter().map(|t| t["table"].as_str().unwrap()).collect();
    assert_eq!(names, ["account", "contact", "lead", "opportunity"]);
    assert_eq!(tables["tables"][0]["access"], "Full use");
    assert_eq!(tables["tables"][0]["can_delete"], true);

    let contact = app.call(&key, "describe_table", json!({"table": "contact"})).await.unwrap();
    assert_eq!(contact["entity_set"], "contacts");
    let columns = contact["columns"].as_array().unwrap();
    let gender = columns.iter().find(|c| c["name"] == "gendercode").unwrap();
    assert!(gender["options"].as_array().unwrap().iter().any(|o| o["label"] == "Female"));
    let parent = columns.iter().find(|c| c["name"] == "parentcustomerid").unwrap();
    assert_eq!(parent["lookup_to"], json!(["account", "contact"]));
    assert!(contact["lookups"].as_array().unwrap().iter().any(|r| r["navigation"] == "parentcustomerid_account"));

    let created = app
        .call(
            &key,
            "create_record",
            json!({"table": "account", "record": {"name": "MCP Industries", "telephone1": "555-0100"}}),
        )
        .await
        .unwrap();
    let id = created["created"]["id"].as_str().unwrap().to_owned();
    let got =
        app.call(&key, "get_record", json!({"table": "account", "id": id, "select": "name,telephone1"})).await.unwrap();
    assert_eq!(got["record"]["name"], "MCP Industries");
    app.call(&key, "update_record", json!({"table": "account", "id": id, "record": {"telephone1": "555-0199"}}))
        .await
        .unwrap();
    let q = app
        .call(
            &key,
            "query_records",
            json!({"table": "account", "select": "name,telephone1,statuscode", "filter": "name eq 'MCP Industries'"}),
        )
        .await
        .unwrap();
    assert_eq!(q["count"], 1);
    assert_eq!(q["rows"][0]["telephone1"], "555-0199");
    assert_eq!(q["rows"][0]["statuscode@display"], "Active", "formatted values kept: {q}");
    assert!(!q["rows"][0].as_object().unwrap().keys().any(|k| k.starts_with("@odata")), "annotations trimmed: {q}");

    let sql =
        app.call(&key, "read_query", json!({"sql": "SELECT TOP 2 name FROM account ORDER BY name"})).await.unwrap();
    assert_eq!(sql["count"], 2);
    let fetch = app
        .call(&key, "fetch_records", json!({"fetchxml": "<fetch top=\"3\"><entity name=\"contact\"><attribute name=\"fullname\"/></entity></fetch>"}))
        .await
        .unwrap();
    assert_eq!(fetch["table"], "contact");
    assert_eq!(fetch["count"], 3);
    let count = app
        .call(&key, "count_records", json!({"table": "account", "filter": "name eq 'MCP Industries'"}))
        .await
        .unwrap();
    assert_eq!(count["count"], 1);
    let found = app.call(&key, "search", json!({"text": "MCP Indus", "tables": ["account", "contact"]})).await.unwrap();
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["results"][0]["id"], json!(id));

    // Associate a contact with the account through the contact's lookup, then undo it.
    let contacts =
        app.call(&key, "query_records", json!({"table": "contact", "select": "fullname", "top": 1})).await.unwrap();
    let contact_id = contacts["rows"][0]["contactid"].as_str().unwrap().to_owned();
    let rel =
        json!({"table": "account", "id": id, "relationship": "contact_customer_accounts", "related_id": contact_id});
    app.call(&key, "associate_records", rel.clone()).await.unwrap();
    let linked = app
        .call(&key, "get_record", json!({"table": "contact", "id": contact_id, "select": "_parentcustomerid_value"}))
        .await
        .unwrap();
    assert_eq!(linked["record"]["_parentcustomerid_value"], json!(id));
    app.call(&key, "disassociate_records", rel).await.unwrap();
    let unlinked = app
        .call(&key, "get_record", json!({"table": "contact", "id": contact_id, "select": "_parentcustomerid_value"}))
        .await
        .unwrap();
    assert_eq!(unlinked["record"]["_parentcustomerid_value"], Value::Null);

    // An N:N relationship: account ↔ lead.
    let leads =
        app.call(&key, "query_records", json!({"table": "lead", "select": "fullname", "top": 1})).await.unwrap();
    let lead_id = leads["rows"][0]["leadid"].as_str().unwrap().to_owned();
    let nn = json!({"table": "account", "id": id, "relationship": "accountleads_association", "related_id": lead_id});
    app.call(&key, "associate_records", nn.clone()).await.unwrap();
    let paired = app
        .call(&key, "get_record", json!({"table": "account", "id": id, "select": "name", "expand": "accountleads_association($select=fullname)"}))
        .await
        .unwrap();
    assert_eq!(paired["record"]["accountleads_association"][0]["leadid"], json!(lead_id), "{paired}");
    app.call(&key, "disassociate_records", nn).await.unwrap();
    let unpaired = app
        .call(&key, "get_record", json!({"table": "account", "id": id, "select": "name", "expand": "accountleads_association($select=fullname)"}))
        .await
        .unwrap();
    assert_eq!(unpaired["record"]["accountleads_association"], json!([]));

    app.call(&key, "delete_record", json!({"table": "account", "id": id})).await.unwrap();
    let gone = app.call(&key, "get_record", json!({"table": "account", "id": id})).await.unwrap_err();
    assert!(gone.starts_with("Dynamics 365 answered 404"), "{gone}");

    // Every request was recorded through MCP with its tool, in the audit log's voice.
    let records = app.records().await;
    let mcp: Vec<&AuditRecord> = records.iter().filter(|r| r.transport == Some(Transport::Mcp)).collect();
    for tool in [
        "whoami",
        "list_tables",
        "describe_table",
        "create_record",
        "get_record",
        "update_record",
        "query_records",
        "read_query",
        "fetch_records",
        "count_records",
        "search",
        "associate_records",
        "disassociate_records",
        "delete_record",
    ] {
        assert!(mcp.iter().any(|r| r.mcp_tool.as_deref() == Some(tool)), "no record for {tool}");
    }
    let deleted = mcp
        .iter()
        .find(|r| r.kind == Kind::Delete && r.decision == Some(Decision::Allowed) && r.upstream_status.is_some())
        .unwrap();
    assert!(deleted.sentence().starts_with("Sales Ops Agent deleted account "), "{}", deleted.sentence());
    assert!(deleted.sentence().contains("through MCP (delete_record) — allowed."), "{}", deleted.sentence());
    assert!(records.iter().all(|r| r.transport != Some(Transport::Rest)), "no REST request was made");
    let linked = mcp.iter().find(|r| r.kind == Kind::Associate && r.upstream_status.is_some()).unwrap();
    assert_eq!(
        linked.sentence(),
        format!(
            "Sales Ops Agent linked contact {} to account {} through MCP (associate_records) — allowed.",
            audit::short_id(&contact_id),
            audit::short_id(&id)
        )
    );
}

#[tokio::test]
async fn refusals_are_tool_errors_in_the_audit_logs_words() {
    let app = spawn(mcp::McpSettings::default()).await;
    let key = app.agent("Support Agent", &[("account", Level::Read), ("incident", Level::Full)], false).await;

    let denied =
        app.call(&key, "create_record", json!({"table": "account", "record": {"name": "x"}})).await.unwrap_err();
    assert_eq!(denied, "Stanchion denied this request for Support Agent: it can only read accounts.");
    let off = app.call(&key, "query_records", json!({"table": "lead"})).await.unwrap_err();
    assert_eq!(off, "Stanchion denied this request for Support Agent: it has no access to leads.");
    let join = app
        .call(&key, "read_query", json!({"sql": "SELECT a.name, c.fullname FROM account a JOIN contact c ON a.primarycontactid = c.contactid"}))
        .await
        .unwrap_err();
    assert!(join.contains("contacts"), "{join}");
    // Unlisted tools are refused by name, and recorded.
    let delete =
        app.call(&key, "delete_record", json!({"table": "incident", "id": uuid::Uuid::new_v4().to_string()})).await;
    assert_eq!(
        delete.unwrap_err(),
        "Stanchion denied this call for Support Agent: deleting records is off for this agent."
    );
    let unknown = app.call(&key, "drop_everything", json!({})).await.unwrap_err();
    assert!(unknown.ends_with("there is no MCP tool named drop_everything."), "{unknown}");
    let bad = app.call(&key, "get_record", json!({"table": "account", "id": "1 or 1=1"})).await.unwrap_err();
    assert!(bad.ends_with("the argument id must be a GUID."), "{bad}");
    let injected =
        app.call(&key, "get_record", json!({"table": "accounts(x)/contacts", "id": uuid::Uuid::new_v4()})).await;
    assert!(injected.unwrap_err().contains("must be a logical name"));

    let records = app.records().await;
    let sentences: Vec<String> = records.iter().map(AuditRecord::sentence).collect();
    let expect = [
        "Support Agent tried to create a new account (name) through MCP (create_record) — denied: it can only read accounts.",
        "Support Agent tried to read leads through MCP (query_records) — denied: it has no access to leads.",
        "Support Agent tried to call the MCP tool delete_record — denied: deleting records is off for this agent.",
        "Support Agent tried to call the MCP tool drop_everything — denied: there is no MCP tool named drop_everything.",
        "Support Agent tried to call the MCP tool get_record — denied: the argument id must be a GUID.",
    ];
    for e in expect {
        assert!(sentences.iter().any(|s| s == e), "missing {e:?} in {sentences:#?}");
    }
    // No argument value reaches the audit log.
    assert!(!sentences.iter().any(|s| s.contains("1 or 1=1")));
    assert!(records.iter().filter(|r| r.kind == Kind::McpTool).all(|r| r.decision == Some(Decision::Denied)));
}

#[tokio::test]
async fn results_never_carry_hidden_columns_or_unreadable_lookup_names() {
    let app = spawn(mcp::McpSettings::default()).await;
    // Opportunities only: their account and contact lookups point at tables it cannot read.
    let key = app.agent("Pipeline Reader", &[("opportunity", Level::Read)], false).await;
    app.hide("Pipeline Reader", "opportunity", "estimatedvalue").await;

    let q = app.call(&key, "query_records", json!({"table": "opportunity", "top": 5})).await.unwrap();
    assert!(q["count"].as_u64().unwrap() > 0);
    let text = q.to_string();
    assert!(!text.contains("estimatedvalue"), "{text}");
    for row in q["rows"].as_array().unwrap() {
        for (k, _) in row.as_object().unwrap() {
            assert!(
                !(k.starts_with("_parentaccountid_value@") || k.starts_with("_customerid_value@")),
                "an unreadable table's name came back: {k}"
            );
        }
    }
    let id = q["rows"][0]["opportunityid"].as_str().unwrap();
    let one = app.call(&key, "get_record", json!({"table": "opportunity", "id": id})).await.unwrap();
    assert!(!one.to_string().contains("estimatedvalue"));
    assert!(!one.to_string().contains("_parentaccountid_value@display"));
    let described = app.call(&key, "describe_table", json!({"table": "opportunity"})).await.unwrap();
    assert!(!described.to_string().contains("estimatedvalue"), "hidden columns are not described");
    assert!(described["lookups"].as_array().unwrap().is_empty(), "relationships to unreadable tables are left out");
    let sql = app.call(&key, "read_query", json!({"sql": "SELECT TOP 3 name, estimatedvalue FROM opportunity"})).await;
    assert!(sql.unwrap_err().contains("estimatedvalue"), "a hidden column asked for by name is refused");
    let fetch = app
        .call(
            &key,
            "fetch_records",
            json!({"fetchxml": "<fetch top=\"2\"><entity name=\"opportunity\"><all-attributes/></entity></fetch>"}),
        )
        .await;
    let fetch = fetch.unwrap().to_string();
    assert!(fetch.contains("\"name\":") && !fetch.contains("estimatedvalue"), "{fetch}");
    assert!(!fetch.contains("_parentaccountid_value@display") && !fetch.contains("_customerid_value@display"));
    let tables = app.call(&key, "list_tables", json!({})).await.unwrap();
    assert_eq!(tables["tables"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pages_continue_and_results_are_capped() {
    let app = spawn(mcp::McpSettings { page_size: 10, max_result_bytes: 4096, ..mcp::McpSettings::default() }).await;
    let key = app.agent("Reader", &[("contact", Level::Read)], false).await;
    let mut seen = std::collections::BTreeSet::new();
    let mut args = json!({"table": "contact", "select": "fullname"});
    let mut pages = 0;
    loop {
        let page = app.call(&key, "query_records", args.clone()).await.unwrap();
        pages += 1;
        for r in page["rows"].as_array().unwrap() {
            seen.insert(r["contactid"].as_str().unwrap().to_owned());
        }
        match page.get("continuation").and_then(Value::as_str) {
            Some(c) => args = json!({"table": "contact", "continuation": c}),
            None => break,
        }
    }
    let total = app.call(&key, "count_records", json!({"table": "contact"})).await.unwrap()["count"].as_u64().unwrap();
    assert_eq!(seen.len() as u64, total);
    assert_eq!(pages, total.div_ceil(10));

    // FetchXML pages through its paging cookie.
    let mut fetch_rows = 0;
    let mut args = json!({"fetchxml": "<fetch><entity name=\"contact\"><attribute name=\"fullname\"/><order attribute=\"fullname\"/></entity></fetch>"});
    loop {
        let page = app.call(&key, "fetch_records", args).await.unwrap();
        fetch_rows += page["rows"].as_array().unwrap().len() as u64;
        match page.get("continuation").and_then(Value::as_str) {
            Some(c) => args = json!({"fetchxml": "", "continuation": c}),
            None => break,
        }
    }
    assert_eq!(fetch_rows, total);

    // A page larger than the cap is cut, and says so instead of offering a continuation.
    let big = app.call(&key, "query_records", json!({"table": "contact", "top": 40})).await.unwrap();
    assert!(big["count"].as_u64().unwrap() < 40);
    assert!(big["truncated"].as_str().unwrap().contains("left out"));
    assert!(big.to_string().len() < 4096 + 512);

    // A continuation must be one Stanchion made: anything else is refused before a request.
    let forged =
        app.call(&key, "query_records", json!({"table": "contact", "continuation": "https://elsewhere/x"})).await;
    assert!(forged.unwrap_err().contains("continuation"));
}

#[tokio::test]
async fn unauthenticated_requests_are_refused_before_mcp_and_recorded() {
    let app = spawn(mcp::McpSettings::default()).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let none = app.post(None, init.clone()).await;
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer realm=\"stanchion\"");
    assert_eq!(none.headers()["x-stanchion-reason"], "malformed_key");
    let wrong = app.post(Some("stn_AAAAAAAAAAAA_bm90IGEgcmVhbCBrZXkgYXQgYWxsIGF0IGFsbCBhdCBhbGw"), init.clone()).await;
    assert_eq!(wrong.status(), 401);
    let records = app.records().await;
    assert!(records.iter().any(|r| r.kind == Kind::Unauthenticated && r.transport == Some(Transport::Mcp)));

    // A disabled agent's key stops working at once.
    let key = app.agent("Short Lived", &[("account", Level::Read)], false).await;
    assert_eq!(app.post(Some(&key), init.clone()).await.status(), 200);
    app.store.set_agent_disabled(&actor(), "Short Lived", true).await.unwrap();
    let refused = app.post(Some(&key), init).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["x-stanchion-reason"], "agent_disabled");
}

#[tokio::test]
async fn answers_as_an_event_stream_when_configured() {
    let app = spawn(mcp::McpSettings { json_response: false, ..mcp::McpSettings::default() }).await;
    let key = app.agent("Reader", &[("account", Level::Read)], false).await;
    let resp = app.post(Some(&key), json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"})).await;
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let names = app.tool_names(&key).await;
    assert!(names.contains(&"query_records".to_owned()));
    let rows = app.call(&key, "query_records", json!({"table": "account", "top": 2, "select": "name"})).await.unwrap();
    assert_eq!(rows["count"], 2);
}

#[tokio::test]
async fn hosts_outside_the_allowed_list_are_refused() {
    let app =
        spawn(mcp::McpSettings { allowed_hosts: vec!["gateway.example".into()], ..mcp::McpSettings::default() }).await;
    let key = app.agent("Reader", &[("account", Level::Read)], false).await;
    let resp = app.post(Some(&key), json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).await;
    assert_eq!(resp.status(), 403, "Host 127.0.0.1 is not in the list");
    let ok = app
        .http
        .post(format!("{}/mcp", app.url))
        .header("host", "gateway.example")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(&key)
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn run_action_needs_the_grant_and_runs_through_the_pipeline() {
    let app = spawn(mcp::McpSettings::default()).await;
    let key = app.agent("Closer", &[("opportunity", Level::Full)], false).await;
    assert!(!app.tool_names(&key).await.contains(&"run_action".to_owned()), "no grant, no run_action");
    let refused = app.call(&key, "run_action", json!({"name": "WinOpportunity"})).await.unwrap_err();
    assert_eq!(refused, "Stanchion denied this call for Closer: no action is granted to this agent.");

    app.store.set_action_allowed(&actor(), "Closer", "WinOpportunity", true).await.unwrap();
    let tools = app.tools(&key).await;
    let run = tools.iter().find(|t| t["name"] == "run_action").expect("listed once granted");
    assert_eq!(run["inputSchema"]["properties"]["name"]["enum"], json!(["WinOpportunity"]));
    assert!(run["description"].as_str().unwrap().contains("WinOpportunity (Closes an opportunity as won"));
    assert_eq!(run["annotations"]["destructiveHint"], json!(true));

    let open = app
        .call(
            &key,
            "query_records",
            json!({"table": "opportunity", "select": "name", "filter": "statecode eq 0", "top": 1}),
        )
        .await
        .unwrap();
    let id = open["rows"][0]["opportunityid"].as_str().unwrap().to_owned();
    let params = json!({"Status": 3, "OpportunityClose": {"subject": "Won through MCP", "opportunityid@odata.bind": format!("/opportunities({id})")}});
    let ran = app.call(&key, "run_action", json!({"name": "WinOpportunity", "parameters": params})).await.unwrap();
    assert_eq!(ran, json!({"ran": "WinOpportunity"}));
    let now =
        app.call(&key, "get_record", json!({"table": "opportunity", "id": id, "select": "statecode"})).await.unwrap();
    assert_eq!(now["record"]["statecode"], 1);
    // Granted by name only: LoseOpportunity is refused by the pipeline, in the log's words.
    let lose =
        app.call(&key, "run_action", json!({"name": "LoseOpportunity", "parameters": params})).await.unwrap_err();
    assert_eq!(
        lose,
        "Stanchion denied this request for Closer: the action LoseOpportunity is not granted to this agent."
    );
    let sentences: Vec<String> = app.records().await.iter().map(AuditRecord::sentence).collect();
    assert!(
        sentences.iter().any(|s| s.starts_with("Closer ran WinOpportunity on opportunity ")
            && s.ends_with(" through MCP (run_action) — allowed.")),
        "{sentences:#?}"
    );
    assert!(sentences.iter().any(|s| s.contains("tried to run LoseOpportunity on opportunity")));
}
