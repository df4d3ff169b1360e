//! What each tool does: its arguments become one or more Dataverse requests (method, path,
//! query, headers, body), each run through the gateway pipeline as the calling agent; the
//! answers become a compact JSON result. Nothing here decides access: a request the agent may
//! not make is refused by the pipeline, and the refusal's plain English is the tool's error.

use crate::answers::{
    API, CallError, compact_row, continuation_of, error_text, json_body, parse_continuation, query_string, rows_result,
};
use gateway::{Gateway, McpCaller, ToolAnswer, ToolRequest};
use policy::{AgentPolicy, Level};
use serde_json::{Map, Value, json};

/// Rows per page when a read does not say, unless `[mcp] page_size` says otherwise.
pub const PAGE: u32 = 50;
/// Rows per table a search returns when it does not say.
const SEARCH_TOP: u64 = 10;
/// Tables one search looks at, at most.
const SEARCH_TABLES: usize = 20;
/// Text columns a search looks in besides the primary name, where a table has them.
const SEARCH_COLUMNS: &[&str] = &[
    "emailaddress1",
    "telephone1",
    "accountnumber",
    "ticketnumber",
    "firstname",
    "lastname",
    "companyname",
    "subject",
    "title",
    "name",
    "fullname",
];

/// One tool call in progress: who calls, through which gateway, with which limits.
pub struct Call<'a> {
    /// The gateway.
    pub gw: &'a Gateway,
    /// The authenticated agent.
    pub caller: &'a McpCaller,
    /// The tool's name (recorded with every request it makes).
    pub tool: &'a str,
    /// The org's schema now.
    pub schema: &'a dataverse::Schema,
    /// The agent's policy now (for access levels shown and search's default tables).
    pub policy: &'a AgentPolicy,
    /// Most bytes of rows in one result.
    pub max_bytes: usize,
    /// Rows per page of a read without a top.
    pub page: u32,
}

type Args = Map<String, Value>;

fn text<'v>(args: &'v Args, name: &str) -> Result<Option<&'v str>, CallError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(CallError::syntax(format!("the argument {name} must be a string"))),
    }
}

fn required<'v>(args: &'v Args, name: &str) -> Result<&'v str, CallError> {
    text(args, name)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CallError::syntax(format!("the argument {name} is required")))
}

fn number(args: &Args, name: &str, max: u64) -> Result<Option<u64>, CallError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(CallError::syntax(format!("the argument {name} must be a whole number from 1 to {max}"))),
        },
    }
}

fn guid(args: &Args, name: &str) -> Result<String, CallError> {
    let raw = required(args, name)?;
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| CallError::syntax(format!("the argument {name} must be a GUID")))
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A name that goes into a URL path: letters, digits and underscores only.
fn identifier<'v>(args: &'v Args, name: &str) -> Result<&'v str, CallError> {
    let raw = required(args, name)?;
    if raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(raw)
    } else {
        Err(CallError::syntax(format!("the argument {name} must be a logical name (letters, digits and _)")))
    }
}

/// Prefer headers of a read: formatted values, and a page size when the read is paged
/// (Dataverse ignores `$top` when `odata.maxpagesize` is sent, spec §3.4, so a read with a
/// top is sent without one).
fn read_headers(page: Option<u32>) -> Vec<(&'static str, String)> {
    let annotations = "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\"";
    let prefer = match page {
        Some(n) => format!("odata.maxpagesize={n},{annotations}"),
        None => annotations.to_owned(),
    };
    vec![("prefer", prefer)]
}

impl Call<'_> {
    async fn send(&self, request: ToolRequest) -> ToolAnswer {
        self.gw.run_tool(self.caller, self.tool, request).await
    }

    /// The entity set of a table given by logical (or entity set) name; an unknown name is
    /// used as it is, so the pipeline refuses it (after learning the org's schema again).
    fn set_of<'n>(&'n self, table: &'n str) -> &'n str {
        self.schema.table(table).or_else(|| self.schema.table_by_set(table)).map_or(table, |t| t.set_name.as_str())
    }

    fn logical<'n>(&'n self, table: &'n str) -> &'n str {
        self.schema.table(table).or_else(|| self.schema.table_by_set(table)).map_or(table, |t| t.logical_name.as_str())
    }

    /// Runs the tool.
    pub async fn run(&self, args: &Args) -> Result<Value, CallError> {
        match self.tool {
            "whoami" => self.whoami().await,
            "list_tables" => self.list_tables().await,
            "describe_table" => self.describe_table(args).await,
            "read_query" => self.read_query(args).await,
            "query_records" => self.query_records(args).await,
            "fetch_records" => self.fetch_records(args).await,
            "get_record" => self.get_record(args).await,
            "count_records" => self.count_records(args).await,
            "search" => self.search(args).await,
            "create_record" => self.create_record(args).await,
            "update_record" => self.update_record(args).await,
            "delete_record" => self.delete_record(args).await,
            "associate_records" => self.relate(args, true).await,
            "disassociate_records" => self.relate(args, false).await,
            "run_action" => self.run_action(args).await,
            other => {
                Err(CallError::Refused { code: "unclassified", message: format!("there is no MCP tool named {other}") })
            }
        }
    }

    async fn whoami(&self) -> Result<Value, CallError> {
        let body = json_body(&self.send(ToolRequest::get(format!("{API}/WhoAmI"), None)).await)?;
        Ok(json!({
            "agent": self.caller.agent.name,
            "user_id": body.get("UserId"),
            "business_unit_id": body.get("BusinessUnitId"),
            "organization_id": body.get("OrganizationId"),
        }))
    }

    async fn list_tables(&self) -> Result<Value, CallError> {
        let query = query_string(&[(
            "$select",
            Some(
                "LogicalName,EntitySetName,DisplayName,DisplayCollectionName,PrimaryIdAttribute,PrimaryNameAttribute"
                    .into(),
            ),
        )]);
        let body = json_body(&self.send(ToolRequest::get(format!("{API}/EntityDefinitions"), query)).await)?;
        let mut tables: Vec<Value> = body
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let name = t.get("LogicalName")?.as_str()?;
                let level = self.policy.level(name);
                if level < Level::Read {
                    return None;
                }
                Some(json!({
                    "table": name,
                    "entity_set": t.get("EntitySetName"),
                    "display_name": label(t.get("DisplayName")),
                    "display_collection_name": label(t.get("DisplayCollectionName")),
                    "primary_id": t.get("PrimaryIdAttribute"),
                    "primary_name": t.get("PrimaryNameAttribute"),
                    "access": level.label(),
                    "can_delete": self.policy.may_delete(name),
                }))
            })
            .collect();
        tables.sort_by(|a, b| a["table"].as_str().cmp(&b["table"].as_str()));
        Ok(json!({ "tables": tables }))
    }

    async fn describe_table(&self, args: &Args) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let logical = self.logical(table).to_owned();
        let entity = format!("{API}/EntityDefinitions(LogicalName='{logical}')");
        let expand = "Attributes($select=LogicalName,AttributeType,DisplayName,RequiredLevel,IsValidForCreate,IsValidForUpdate,Targets),\
Keys($select=SchemaName,KeyAttributes),\
ManyToOneRelationships($select=SchemaName,ReferencingAttribute,ReferencedEntity,ReferencingEntityNavigationPropertyName),\
OneToManyRelationships($select=SchemaName,ReferencingEntity,ReferencingAttribute,ReferencedEntityNavigationPropertyName),\
ManyToManyRelationships($select=SchemaName,Entity1LogicalName,Entity2LogicalName,Entity1NavigationPropertyName,Entity2NavigationPropertyName)";
        let query = query_string(&[
            ("$select", Some("LogicalName,EntitySetName,DisplayName,PrimaryIdAttribute,PrimaryNameAttribute".into())),
            ("$expand", Some(expand.into())),
        ]);
        let body = json_body(&self.send(ToolRequest::get(entity.clone(), query)).await)?;
        // The choices of option-set columns: one read per kind of choice column.
        let mut options: Map<String, Value> = Map::new();
        for cast in ["PicklistAttributeMetadata", "StateAttributeMetadata", "StatusAttributeMetadata"] {
            let path = format!("{entity}/Attributes/Microsoft.Dynamics.CRM.{cast}");
            let query = query_string(&[
                ("$select", Some("LogicalName".into())),
                ("$expand", Some("OptionSet($select=Options)".into())),
            ]);
            let answer = self.send(ToolRequest::get(path, query)).await;
            let body = json_body(&answer)?;
            for a in body.get("value").and_then(Value::as_array).into_iter().flatten() {
                let (Some(name), Some(opts)) = (
                    a.get("LogicalName").and_then(Value::as_str),
                    a.pointer("/OptionSet/Options").and_then(Value::as_array),
                ) else {
                    continue;
                };
                let choices: Vec<Value> =
                    opts.iter().map(|o| json!({"value": o.get("Value"), "label": label(o.get("Label"))})).collect();
                options.insert(name.to_owned(), Value::Array(choices));
            }
        }
        let visible = |t: &str| self.policy.level(t) >= Level::Read;
        let columns: Vec<Value> = body
            .get("Attributes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| {
                let name = a.get("LogicalName")?.as_str()?;
                let mut c = Map::new();
                c.insert("name".into(), json!(name));
                c.insert("type".into(), a.get("AttributeType").cloned().unwrap_or(Value::Null));
                c.insert("display_name".into(), label(a.get("DisplayName")));
                if let Some(level) = a.pointer("/RequiredLevel/Value").and_then(Value::as_str) {
                    c.insert("required".into(), json!(level != "None"));
                }
                for (from, to) in [("IsValidForCreate", "can_create"), ("IsValidForUpdate", "can_update")] {
                    if let Some(v) = a.get(from).and_then(Value::as_bool) {
                        c.insert(to.into(), json!(v));
                    }
                }
                if let Some(targets) = a.get("Targets").and_then(Value::as_array) {
                    let readable: Vec<&Value> = targets.iter().filter(|t| t.as_str().is_some_and(visible)).collect();
                    c.insert("lookup_to".into(), json!(readable));
                }
                if let Some(choices) = options.get(name) {
                    c.insert("options".into(), choices.clone());
                }
                Some(Value::Object(c))
            })
            .collect();
        let relationships = |key: &str, other: &str, nav: &str, column: &str| -> Vec<Value> {
            body.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|r| r.get(other).and_then(Value::as_str).is_some_and(visible))
                .map(|r| {
                    json!({
                        "name": r.get("SchemaName"),
                        "table": r.get(other),
                        "navigation": r.get(nav),
                        "column": r.get(column),
                    })
                })
                .collect()
        };
        let many_to_one = relationships(
            "ManyToOneRelationships",
            "ReferencedEntity",
            "ReferencingEntityNavigationPropertyName",
            "ReferencingAttribute",
        );
        let one_to_many = relationships(
            "OneToManyRelationships",
            "ReferencingEntity",
            "ReferencedEntityNavigationPropertyName",
            "ReferencingAttribute",
        );
        let many_to_many: Vec<Value> = body
            .get("ManyToManyRelationships")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let (e1, e2) = (r.get("Entity1LogicalName")?.as_str()?, r.get("Entity2LogicalName")?.as_str()?);
                let (other, nav) = if e1 == logical {
                    (e2, r.get("Entity1NavigationPropertyName"))
                } else {
                    (e1, r.get("Entity2NavigationPropertyName"))
                };
                visible(other).then(|| json!({"name": r.get("SchemaName"), "table": other, "navigation": nav}))
            })
            .collect();
        let keys: Vec<Value> = body
            .get("Keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|k| json!({"name": k.get("SchemaName"), "columns": k.get("KeyAttributes")}))
            .collect();
        Ok(json!({
            "table": body.get("LogicalName"),
            "entity_set": body.get("EntitySetName"),
            "display_name": label(body.get("DisplayName")),
            "primary_id": body.get("PrimaryIdAttribute"),
            "primary_name": body.get("PrimaryNameAttribute"),
            "access": self.policy.level(&logical).label(),
            "can_delete": self.policy.may_delete(&logical),
            "columns": columns,
            "lookups": many_to_one,
            "related": one_to_many,
            "many_to_many": many_to_many,
            "alternate_keys": keys,
        }))
    }

    /// A page of rows: `path?query`, or the continuation when given.
    async fn rows(
        &self,
        table: &str,
        path: String,
        query: Option<String>,
        args: &Args,
        page: Option<u32>,
    ) -> Result<Value, CallError> {
        let (path, query) = match text(args, "continuation")?.filter(|c| !c.is_empty()) {
            Some(c) => parse_continuation(c)?,
            None => (path, query),
        };
        let mut request = ToolRequest::get(path, query);
        request.headers = read_headers(page);
        let body = json_body(&self.send(request).await)?;
        let next = body.get("@odata.nextLink").and_then(Value::as_str).and_then(continuation_of);
        Ok(rows_result(table, &body, next, self.max_bytes))
    }

    async fn query_records(&self, args: &Args) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let top = number(args, "top", 5000)?;
        let query = query_string(&[
            ("$select", text(args, "select")?.map(str::to_owned)),
            ("$filter", text(args, "filter")?.map(str::to_owned)),
            ("$orderby", text(args, "orderby")?.map(str::to_owned)),
            ("$top", top.map(|t| t.to_string())),
            ("$expand", text(args, "expand")?.map(str::to_owned)),
        ]);
        let page = if top.is_some() { None } else { Some(self.page) };
        self.rows(self.logical(table), format!("{API}/{}", self.set_of(table)), query, args, page).await
    }

    async fn read_query(&self, args: &Args) -> Result<Value, CallError> {
        let sql = required(args, "sql")?;
        let table = from_table(sql).ok_or_else(|| CallError::syntax("the SQL statement names no table after FROM"))?;
        let query = query_string(&[("sql", Some(sql.to_owned()))]);
        let page = if has_top(sql) { None } else { Some(self.page) };
        self.rows(self.logical(&table), format!("{API}/{}", self.set_of(&table)), query, args, page).await
    }

    async fn fetch_records(&self, args: &Args) -> Result<Value, CallError> {
        let (path, query, fetch) = match text(args, "continuation")?.filter(|c| !c.is_empty()) {
            Some(c) => {
                let (path, query) = parse_continuation(c)?;
                let fetch = query
                    .as_deref()
                    .and_then(|q| q.strip_prefix("fetchXml="))
                    .map(|f| percent_encoding::percent_decode_str(f).decode_utf8_lossy().into_owned())
                    .ok_or_else(|| CallError::syntax("the continuation value is not one fetch_records returned"))?;
                (path, query, fetch)
            }
            None => {
                let xml = required(args, "fetchxml")?;
                let fetch = paged_fetch(xml, self.page)?;
                let table = fetch_table(&fetch)?;
                let path = format!("{API}/{}", self.set_of(&table));
                let query = query_string(&[("fetchXml", Some(fetch.clone()))]);
                (path, query, fetch)
            }
        };
        let table = fetch_table(&fetch)?;
        let mut request = ToolRequest::get(path.clone(), query);
        // FetchXML pages are told by annotations (spec §4.5), which must be asked for.
        request.headers = vec![(
            "prefer",
            "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords\"".to_owned(),
        )];
        let body = json_body(&self.send(request).await)?;
        let more = body.get("@Microsoft.Dynamics.CRM.morerecords").and_then(Value::as_bool) == Some(true);
        let next = match (more, body.get("@Microsoft.Dynamics.CRM.fetchxmlpagingcookie").and_then(Value::as_str)) {
            (true, cookie) => next_fetch(&fetch, cookie)
                .map(|f| format!("{path}?{}", query_string(&[("fetchXml", Some(f))]).unwrap_or_default())),
            (false, _) => None,
        };
        Ok(rows_result(self.logical(&table), &body, next, self.max_bytes))
    }

    async fn get_record(&self, args: &Args) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let id = guid(args, "id")?;
        let query = query_string(&[
            ("$select", text(args, "select")?.map(str::to_owned)),
            ("$expand", text(args, "expand")?.map(str::to_owned)),
        ]);
        let mut request = ToolRequest::get(format!("{API}/{}({id})", self.set_of(table)), query);
        request.headers = read_headers(None);
        let body = json_body(&self.send(request).await)?;
        Ok(json!({"table": self.logical(table), "id": id, "record": compact_row(&body)}))
    }

    async fn count_records(&self, args: &Args) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let query = query_string(&[("$filter", text(args, "filter")?.map(str::to_owned))]);
        let answer = self.send(ToolRequest::get(format!("{API}/{}/$count", self.set_of(table)), query)).await;
        if !(200..300).contains(&answer.status) {
            return Err(CallError::Answered(error_text(&answer)));
        }
        let text = String::from_utf8_lossy(&answer.body);
        let count: u64 = text.trim().trim_start_matches('\u{feff}').parse().map_err(|_| {
            CallError::Answered(format!("Dynamics 365 answered a count Stanchion cannot read: {}", short(&text)))
        })?;
        Ok(json!({"table": self.logical(table), "count": count}))
    }

    async fn search(&self, args: &Args) -> Result<Value, CallError> {
        let needle = required(args, "text")?;
        if needle.chars().count() > 200 {
            return Err(CallError::syntax("the argument text must be at most 200 characters"));
        }
        let top = number(args, "top", 50)?.unwrap_or(SEARCH_TOP);
        let tables: Vec<String> = match args.get("tables") {
            None | Some(Value::Null) => crate::tools::tables_at(self.schema, self.policy, Level::Read, false),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| CallError::syntax("the argument tables must list table names"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(CallError::syntax("the argument tables must be an array of table names")),
        };
        if tables.len() > SEARCH_TABLES {
            return Err(CallError::syntax(format!(
                "search looks at most at {SEARCH_TABLES} tables at once; name fewer"
            )));
        }
        let literal = needle.replace('\'', "''");
        let mut results = Vec::new();
        let mut refused = Vec::new();
        for table in &tables {
            let Some(t) = self.schema.table(table) else {
                refused.push(json!({"table": table, "error": format!("there is no table named {table}")}));
                continue;
            };
            let mut columns: Vec<&str> = vec![t.primary_name.as_str()];
            for c in SEARCH_COLUMNS {
                let text_column =
                    t.column(c).is_some_and(|col| matches!(col.kind, dataverse::metadata::ColumnType::String { .. }));
                if text_column && !columns.contains(c) && !self.policy.is_hidden(table, c) {
                    columns.push(c);
                }
            }
            columns.retain(|c| !c.is_empty() && !self.policy.is_hidden(table, c));
            if columns.is_empty() {
                continue;
            }
            let filter = columns.iter().map(|c| format!("contains({c},'{literal}')")).collect::<Vec<_>>().join(" or ");
            let mut select = vec![t.primary_id.as_str()];
            select.extend(columns.iter().copied());
            let query = query_string(&[
                ("$select", Some(select.join(","))),
                ("$filter", Some(filter)),
                ("$top", Some(top.to_string())),
            ]);
            let mut request = ToolRequest::get(format!("{API}/{}", t.set_name), query);
            request.headers = read_headers(None);
            let answer = self.send(request).await;
            match json_body(&answer) {
                Ok(body) => {
                    for row in body.get("value").and_then(Value::as_array).into_iter().flatten() {
                        let mut hit = compact_row(row).as_object().cloned().unwrap_or_default();
                        let id = hit.remove(&t.primary_id);
                        results.push(json!({"table": table, "id": id, "columns": hit}));
                    }
                }
                Err(e) => refused.push(json!({"table": table, "error": e.to_string()})),
            }
        }
        let (rows, left) = crate::answers::capped(results, self.max_bytes);
        let mut out = json!({"text": needle, "count": rows.len(), "results": rows});
        if left > 0 {
            out["truncated"] =
                json!(format!("{left} more matches were left out; search fewer tables or ask for fewer rows"));
        }
        if !refused.is_empty() {
            out["not_searched"] = Value::Array(refused);
        }
        Ok(out)
    }

    async fn create_record(&self, args: &Args) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let body = record_body(args)?;
        let request = ToolRequest {
            method: "POST",
            path: format!("{API}/{}", self.set_of(table)),
            query: None,
            headers: vec![("content-type", "application/json".into())],
            body,
        };
        let answer = self.send(request).await;
        json_body(&answer)?;
        let id = answer.header("odata-entityid").and_then(id_in_url);
        Ok(json!({"created": {"table": self.logical(table), "id": id}}))
    }

    async fn update_record(&self, args: &Args) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let id = guid(args, "id")?;
        let body = record_body(args)?;
        let request = ToolRequest {
            method: "PATCH",
            path: format!("{API}/{}({id})", self.set_of(table)),
            query: None,
            // An update, never an upsert: the row must exist.
            headers: vec![("content-type", "application/json".into()), ("if-match", "*".into())],
            body,
        };
        json_body(&self.send(request).await)?;
        Ok(json!({"updated": {"table": self.logical(table), "id": id}}))
    }

    async fn delete_record(&self, args: &Args) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let id = guid(args, "id")?;
        let request = ToolRequest {
            method: "DELETE",
            path: format!("{API}/{}({id})", self.set_of(table)),
            query: None,
            headers: Vec::new(),
            body: Vec::new(),
        };
        json_body(&self.send(request).await)?;
        Ok(json!({"deleted": {"table": self.logical(table), "id": id}}))
    }

    async fn run_action(&self, args: &Args) -> Result<Value, CallError> {
        let name = identifier(args, "name")?;
        let path = match args.get("target") {
            None | Some(Value::Null) => format!("{API}/{name}"),
            Some(Value::Object(target)) => {
                let table = identifier(target, "table")?;
                let id = guid(target, "id")?;
                format!("{API}/{}({id})/Microsoft.Dynamics.CRM.{name}", self.set_of(table))
            }
            Some(_) => return Err(CallError::syntax("the argument target must be an object {table, id}")),
        };
        let body = match args.get("parameters") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(o)) => serde_json::to_vec(o).unwrap_or_default(),
            Some(_) => return Err(CallError::syntax("the argument parameters must be an object")),
        };
        let mut headers = Vec::new();
        if !body.is_empty() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        let answer = self.send(ToolRequest { method: "POST", path, query: None, headers, body }).await;
        let result = json_body(&answer)?;
        Ok(match result {
            Value::Null => json!({"ran": name}),
            other => json!({"ran": name, "result": compact_row(&other)}),
        })
    }

    async fn relate(&self, args: &Args, associate: bool) -> Result<Value, CallError> {
        let table = identifier(args, "table")?;
        let id = guid(args, "id")?;
        let relationship = identifier(args, "relationship")?;
        let logical = self.logical(table).to_owned();
        let nav = self.schema.navigation(&logical, relationship).ok_or_else(|| CallError::Refused {
            code: "syntax",
            message: format!("the table {logical} has no relationship (navigation property) named {relationship}"),
        })?;
        let (collection, target) = (nav.is_collection(), nav.target().to_owned());
        let related_id = if associate || collection { Some(guid(args, "related_id")?) } else { None };
        let related_set = self.set_of(&target).to_owned();
        let base = format!("{API}/{}({id})/{relationship}", self.set_of(table));
        let request = match (associate, collection, &related_id) {
            (true, _, Some(rid)) => ToolRequest {
                method: if collection { "POST" } else { "PUT" },
                path: format!("{base}/$ref"),
                query: None,
                headers: vec![("content-type", "application/json".into())],
                body: serde_json::to_vec(&json!({"@odata.id": format!("{API}/{related_set}({rid})")}))
                    .unwrap_or_default(),
            },
            (false, true, Some(rid)) => ToolRequest {
                method: "DELETE",
                path: format!("{base}({rid})/$ref"),
                query: None,
                headers: Vec::new(),
                body: Vec::new(),
            },
            _ => ToolRequest {
                method: "DELETE",
                path: format!("{base}/$ref"),
                query: None,
                headers: Vec::new(),
                body: Vec::new(),
            },
        };
        json_body(&self.send(request).await)?;
        let verb = if associate { "associated" } else { "disassociated" };
        Ok(
            json!({ verb: {"table": logical, "id": id, "relationship": relationship, "related_table": target, "related_id": related_id} }),
        )
    }
}

/// The display label of a metadata `Label` (its user-localized label).
fn label(v: Option<&Value>) -> Value {
    v.and_then(|l| l.pointer("/UserLocalizedLabel/Label")).cloned().unwrap_or(Value::Null)
}

/// The row id at the end of an `OData-EntityId` URL (`…/accounts(id)`).
fn id_in_url(url: &str) -> Option<String> {
    let inner = url.rsplit_once('(')?.1.strip_suffix(')')?;
    uuid::Uuid::parse_str(inner).ok().map(|u| u.hyphenated().to_string())
}

fn record_body(args: &Args) -> Result<Vec<u8>, CallError> {
    match args.get("record") {
        Some(Value::Object(o)) if !o.is_empty() => {
            serde_json::to_vec(o).map_err(|e| CallError::syntax(format!("the argument record cannot be written: {e}")))
        }
        Some(Value::Object(_)) => Err(CallError::syntax("the argument record names no column")),
        _ => Err(CallError::syntax("the argument record must be an object of column values")),
    }
}

/// The table after the first `FROM` of a SQL statement (`[brackets]` and a schema prefix
/// removed); the gateway's parser reads the whole statement.
pub fn from_table(sql: &str) -> Option<String> {
    let words: Vec<&str> = sql.split(|c: char| c.is_whitespace() || c == ';').filter(|w| !w.is_empty()).collect();
    let at = words.iter().position(|w| w.eq_ignore_ascii_case("from"))?;
    let name = words.get(at + 1)?;
    let name = name.rsplit('.').next().unwrap_or(name).trim_matches(|c| c == '[' || c == ']');
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| name.to_ascii_lowercase())
}

/// Whether a SQL statement limits its rows with `TOP` (`SELECT [DISTINCT] TOP n`).
fn has_top(sql: &str) -> bool {
    let mut words = sql.split_whitespace().map(str::to_ascii_lowercase);
    words.next().as_deref() == Some("select") && {
        let next = words.next();
        let next = if next.as_deref() == Some("distinct") { words.next() } else { next };
        next.as_deref() == Some("top")
    }
}

/// The root entity of a FetchXML document.
fn fetch_table(fetch: &str) -> Result<String, CallError> {
    let root = dataverse::xml::parse(fetch, 1 << 20)
        .map_err(|e| CallError::syntax(format!("the FetchXML cannot be read: {e}")))?;
    root.named("entity")
        .next()
        .and_then(|e| e.get("name"))
        .filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .map(str::to_owned)
        .ok_or_else(|| CallError::syntax("the FetchXML has no <entity name=\"…\">"))
}

/// A FetchXML document with a page size (`count`) when it has none and is not an aggregate,
/// so its rows come a page at a time.
fn paged_fetch(xml: &str, page: u32) -> Result<String, CallError> {
    let mut root = dataverse::xml::parse(xml, 1 << 20)
        .map_err(|e| CallError::syntax(format!("the FetchXML cannot be read: {e}")))?;
    let aggregate = root.get("aggregate").is_some_and(|a| a == "true" || a == "1");
    if root.local_name() == "fetch" && root.get("count").is_none() && root.get("top").is_none() && !aggregate {
        root.attributes.push(("count".into(), page.to_string()));
    }
    Ok(root.to_compact())
}

/// The FetchXML of the next page: `page` one further, the paging cookie Dynamics 365 returned.
fn next_fetch(fetch: &str, cookie: Option<&str>) -> Option<String> {
    let mut root = dataverse::xml::parse(fetch, 1 << 20).ok()?;
    let page: u32 = root.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    root.attributes.retain(|(k, _)| k != "page" && k != "paging-cookie");
    root.attributes.push(("page".into(), (page + 1).to_string()));
    if let Some(cookie) = cookie.and_then(paging_cookie) {
        root.attributes.push(("paging-cookie".into(), cookie));
    }
    Some(root.to_compact())
}

/// The paging cookie inside Dataverse's `fetchxmlpagingcookie` annotation
/// (`<cookie pagenumber="2" pagingcookie="%253ccookie…" />`, percent-encoded twice).
fn paging_cookie(annotation: &str) -> Option<String> {
    let cookie = dataverse::xml::parse(annotation, 1 << 20).ok()?;
    let once = percent_encoding::percent_decode_str(cookie.get("pagingcookie")?).decode_utf8().ok()?.into_owned();
    Some(percent_encoding::percent_decode_str(&once).decode_utf8().ok()?.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_table_is_the_one_after_from() {
        assert_eq!(from_table("SELECT name FROM account WHERE x = 1").as_deref(), Some("account"));
        assert_eq!(
            from_table("select TOP 3 a.name from [Account] a join contact c on a.x = c.y").as_deref(),
            Some("account")
        );
        assert_eq!(from_table("SELECT 1"), None);
        assert!(has_top("select distinct TOP 5 name from account"));
        assert!(!has_top("SELECT name FROM account WHERE name = 'top'"));
    }

    #[test]
    fn a_fetch_gets_a_page_size_and_its_next_page() {
        let f = paged_fetch("<fetch><entity name='account'><attribute name='name'/></entity></fetch>", PAGE).unwrap();
        assert!(f.contains("count=\"50\""), "{f}");
        let annotation = "<cookie pagenumber=\"2\" pagingcookie=\"%253ccookie%2520page%253d%25221%2522%253e%253c%252fcookie%253e\" istracking=\"False\" />";
        let next = next_fetch(&f, Some(annotation)).unwrap();
        assert!(next.contains("page=\"2\""), "{next}");
        assert!(next.contains("paging-cookie=\"&lt;cookie page=&quot;1&quot;&gt;&lt;/cookie&gt;\""), "{next}");
        assert_eq!(fetch_table(&next).unwrap(), "account");
    }

    #[test]
    fn entity_ids_are_read_from_the_url() {
        assert_eq!(
            id_in_url("http://h/api/data/v9.2/accounts(3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1)").as_deref(),
            Some("3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1")
        );
        assert_eq!(id_in_url("http://h/api/data/v9.2/accounts(x)"), None);
    }
}
