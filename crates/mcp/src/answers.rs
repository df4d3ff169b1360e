//! Shaping the gateway's answers into compact tool results: OData annotations trimmed
//! (formatted values kept as `column@display`), pages carried on by a continuation value, and
//! every result capped so one call cannot flood a model's context.

use gateway::ToolAnswer;
use serde_json::{Map, Value, json};

/// The formatted-value annotation, the one kept (as `@display`).
pub const FORMATTED: &str = "@OData.Community.Display.V1.FormattedValue";

/// The Web API root every tool request starts from.
pub const API: &str = "/api/data/v9.2";

/// Why a call ended without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The call did not make a Dataverse request (bad arguments, a tool not offered): refused
    /// and recorded by the MCP server with this reason code.
    #[error("{message}")]
    Refused {
        /// The audit reason code (`syntax`, `unclassified`, `table_off`…).
        code: &'static str,
        /// The plain-English reason.
        message: String,
    },
    /// The gateway refused the request or Dynamics 365 answered with an error (already
    /// recorded by the pipeline).
    #[error("{0}")]
    Answered(String),
}

impl CallError {
    /// A refusal for arguments that do not make a request.
    pub fn syntax(message: impl Into<String>) -> Self {
        CallError::Refused { code: "syntax", message: message.into() }
    }
}

/// The JSON body of a successful answer, or the error it carries in plain English.
pub fn json_body(answer: &ToolAnswer) -> Result<Value, CallError> {
    if !(200..300).contains(&answer.status) {
        return Err(CallError::Answered(error_text(answer)));
    }
    if answer.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&answer.body)
        .map_err(|e| CallError::Answered(format!("Dynamics 365 answered with JSON Stanchion cannot read: {e}")))
}

/// The plain-English error of a failed answer: Stanchion's refusal as the audit log words it,
/// or what Dynamics 365 answered.
pub fn error_text(answer: &ToolAnswer) -> String {
    let message = serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).chars().take(500).collect());
    if answer.header("x-stanchion-reason").is_some() {
        message
    } else {
        format!("Dynamics 365 answered {}: {message}", answer.status)
    }
}

/// A row without OData annotations, formatted values kept as `column@display`.
pub fn compact_row(row: &Value) -> Value {
    let Some(obj) = row.as_object() else { return row.clone() };
    let mut out = Map::new();
    for (k, v) in obj {
        if let Some(column) = k.strip_suffix(FORMATTED) {
            out.insert(format!("{column}@display"), v.clone());
        } else if k.contains('@') {
            continue;
        } else if v.is_array() {
            out.insert(k.clone(), Value::Array(v.as_array().into_iter().flatten().map(compact_row).collect()));
        } else if v.is_object() {
            out.insert(k.clone(), compact_row(v));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// The relative URL (`/api/data/v9.2/…`) of an absolute next-page link, as a continuation.
pub fn continuation_of(link: &str) -> Option<String> {
    link.find("/api/data/").map(|i| link[i..].to_owned())
}

/// A continuation value split into path and query, if it is one this server made.
pub fn parse_continuation(value: &str) -> Result<(String, Option<String>), CallError> {
    let bad = || CallError::syntax("the continuation value is not one Stanchion returned");
    if !value.starts_with(&format!("{API}/")) || value.contains("..") || value.contains('#') {
        return Err(bad());
    }
    let (path, query) = value.split_once('?').map_or((value, None), |(p, q)| (p, Some(q.to_owned())));
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    Ok((path.to_owned(), query))
}

/// Rows capped to `max_bytes` of JSON: the rows kept, and how many were left out.
pub fn capped(rows: Vec<Value>, max_bytes: usize) -> (Vec<Value>, usize) {
    let total = rows.len();
    let mut used = 0;
    let mut kept = Vec::new();
    for row in rows {
        let size = serde_json::to_string(&row).map_or(0, |s| s.len()) + 1;
        // A row that does not fit ends the page here (even the first: the result says so).
        if used + size > max_bytes {
            break;
        }
        used += size;
        kept.push(row);
    }
    let left = total - kept.len();
    (kept, left)
}

/// The result of a read that returns rows: `{table, rows, count, continuation?, truncated?}`.
pub fn rows_result(table: &str, body: &Value, continuation: Option<String>, max_bytes: usize) -> Value {
    let rows: Vec<Value> =
        body.get("value").and_then(Value::as_array).map(|v| v.iter().map(compact_row).collect()).unwrap_or_default();
    let (rows, left) = capped(rows, max_bytes);
    let mut out = Map::new();
    out.insert("table".into(), json!(table));
    out.insert("count".into(), json!(rows.len()));
    out.insert("rows".into(), Value::Array(rows));
    if left > 0 {
        out.insert(
            "truncated".into(),
            json!(format!(
                "{left} more rows of this page were left out to keep the result small; select fewer columns or ask for fewer rows"
            )),
        );
    } else if let Some(c) = continuation {
        out.insert("continuation".into(), json!(c));
    }
    Value::Object(out)
}

/// Percent-encodes a query value (RFC 3986: everything but unreserved characters).
pub fn enc(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

/// A query string from name/value pairs, values encoded, empty values left out.
pub fn query_string(pairs: &[(&str, Option<String>)]) -> Option<String> {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", enc(v))))
        .collect();
    if parts.is_empty() { None } else { Some(parts.join("&")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_lose_annotations_but_keep_formatted_values() {
        let row = json!({"@odata.etag": "W/\"1\"", "name": "A", "statuscode": 1,
            "statuscode@OData.Community.Display.V1.FormattedValue": "Active",
            "_x_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account"});
        assert_eq!(compact_row(&row), json!({"name": "A", "statuscode": 1, "statuscode@display": "Active"}));
    }

    #[test]
    fn a_result_over_its_budget_is_cut_and_says_so() {
        let body = json!({"value": (0..100).map(|i| json!({"name": format!("row {i:03}")})).collect::<Vec<_>>()});
        let r = rows_result("account", &body, Some("/api/data/v9.2/accounts?$skiptoken=x".into()), 200);
        assert!(r["rows"].as_array().unwrap().len() < 100);
        assert!(r["truncated"].as_str().unwrap().contains("more rows"));
        assert!(r.get("continuation").is_none());
    }

    #[test]
    fn continuations_stay_under_the_web_api() {
        assert!(parse_continuation("/api/data/v9.2/accounts?$skiptoken=1").is_ok());
        assert!(parse_continuation("https://evil/api/data/v9.2/accounts").is_err());
        assert!(parse_continuation("/api/data/v9.2/../../admin").is_err());
        assert_eq!(
            continuation_of("http://h:1/api/data/v9.2/accounts?$skiptoken=2").as_deref(),
            Some("/api/data/v9.2/accounts?$skiptoken=2")
        );
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            query_string(&[("$filter", Some("name eq 'a&b'".into())), ("$top", None)]).as_deref(),
            Some("$filter=name%20eq%20%27a%26b%27")
        );
    }
}
