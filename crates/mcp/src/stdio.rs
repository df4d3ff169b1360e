//! `stanchion mcp --gateway URL --key KEY`: MCP over stdio for desktop clients that launch
//! their servers as processes.
//!
//! The process is only a transport bridge: each JSON-RPC message read from stdin (one per
//! line) is POSTed to the gateway's `/mcp` with the agent key, and each message of the answer
//! (a JSON body or the `data:` events of a stream) is written to stdout, one per line. Tools,
//! policy and audit all stay in the gateway, so stdio and Streamable HTTP behave alike. It
//! holds no upstream credential; nothing is written to stdout but MCP messages.

use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, mpsc};

/// Why the bridge stopped.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The gateway URL is not usable.
    #[error("the gateway URL {0} is not an http(s) URL")]
    Url(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// stdin or stdout failed.
    #[error("stdio: {0}")]
    Io(#[from] std::io::Error),
}

/// Longest line accepted from stdin (a JSON-RPC message).
const MAX_LINE: usize = 4 << 20;

/// Bridges stdin/stdout to `{gateway}/mcp` until stdin closes and every answer is written.
pub async fn bridge(gateway: &str, key: &str) -> Result<(), BridgeError> {
    let base = gateway.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(BridgeError::Url(gateway.to_owned()));
    }
    let url = format!("{base}{}", crate::http::PATH);
    gateway::install_crypto_provider();
    let client = reqwest::Client::builder().no_proxy().build()?;
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = out_rx.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.write_all(b"\n").await.is_err() {
                break;
            }
            let _ = stdout.flush().await;
        }
    });
    let version: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > MAX_LINE {
            let _ = out_tx.send(error_reply(&Value::Null, -32600, "message too large").to_string());
            continue;
        }
        let message: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = out_tx.send(error_reply(&Value::Null, -32700, &format!("parse error: {e}")).to_string());
                continue;
            }
        };
        // `initialize` is answered before anything else is sent, so the negotiated version is
        // known for the following messages.
        let is_initialize = message.get("method").and_then(Value::as_str) == Some("initialize");
        let job = forward(client.clone(), url.clone(), key.to_owned(), message, version.clone(), out_tx.clone());
        if is_initialize {
            job.await;
        } else {
            tasks.spawn(job);
        }
    }
    while tasks.join_next().await.is_some() {}
    drop(out_tx);
    let _ = writer.await;
    Ok(())
}

fn error_reply(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

async fn forward(
    client: reqwest::Client,
    url: String,
    key: String,
    message: Value,
    version: Arc<Mutex<Option<String>>>,
    out: mpsc::UnboundedSender<String>,
) {
    let id = message.get("id").cloned();
    let mut request = client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(message.to_string());
    if let Some(v) = version.lock().await.clone() {
        request = request.header("mcp-protocol-version", v);
    }
    let reply = |code: i64, text: String| {
        if let Some(id) = &id {
            let _ = out.send(error_reply(id, code, &text).to_string());
        }
    };
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return reply(-32000, format!("the Stanchion gateway at {url} cannot be reached: {e}")),
    };
    let status = response.status();
    let streamed = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let body = match response.text().await {
        Ok(b) => b,
        Err(e) => return reply(-32000, format!("the Stanchion gateway's answer was cut off: {e}")),
    };
    if !status.is_success() {
        // A refusal before MCP (a bad key): the gateway's Dataverse-shaped message.
        let text = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or(body);
        return reply(-32001, format!("Stanchion answered {}: {text}", status.as_u16()));
    }
    let messages: Vec<String> = if streamed {
        sse_messages(&body)
    } else if body.trim().is_empty() {
        Vec::new()
    } else {
        vec![body]
    };
    for m in messages {
        let Ok(value) = serde_json::from_str::<Value>(&m) else { continue };
        if let Some(v) = value.pointer("/result/protocolVersion").and_then(Value::as_str) {
            *version.lock().await = Some(v.to_owned());
        }
        let _ = out.send(value.to_string());
    }
}

/// The `data:` payloads of a `text/event-stream` body, one message per event.
fn sse_messages(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for event in body.split("\n\n") {
        let data: Vec<&str> =
            event.lines().filter_map(|l| l.strip_prefix("data:")).map(|d| d.strip_prefix(' ').unwrap_or(d)).collect();
        if !data.is_empty() && !data.iter().all(|d| d.is_empty()) {
            out.push(data.join("\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_become_messages() {
        let body = "id: 1\nretry: 3000\ndata: \n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
        assert_eq!(super::sse_messages(body), vec!["{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}".to_owned()]);
    }
}
