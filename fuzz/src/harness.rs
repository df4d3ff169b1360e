//! Fuzz harnesses, shared by the `cargo fuzz` targets and by the corpus replay test that CI
//! runs on the stable toolchain (`crates/dataverse/tests/fuzz_corpus.rs`).

use dataverse::{ParseLimits, RawRequest, Schema, parse_request};

/// Splits the input into method, path, query, headers and body at `\n` boundaries and runs the
/// whole request path of the protocol core: parse, classify, print (forwarded and redacted),
/// and checks that a parsed request prints to something that parses back to the same request.
pub fn parse_request_harness(schema: &Schema, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(5, '\n');
    let method = parts.next().unwrap_or("GET");
    let target = parts.next().unwrap_or("/");
    let header_text = parts.next().unwrap_or("");
    let _ = parts.next();
    let body = parts.next().unwrap_or("");
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (format!("/api/data/v9.2/{p}"), Some(q.to_owned())),
        None => (format!("/api/data/v9.2/{target}"), None),
    };
    let headers: Vec<(&str, &str)> = header_text.split('\t').filter_map(|h| h.split_once(':')).collect();
    let raw = RawRequest { method, path: &path, query: query.as_deref(), headers: &headers, body: body.as_bytes() };
    let Ok(request) = parse_request(schema, &raw, &ParseLimits::default()) else { return };
    let _ = dataverse::classify(schema, &request);
    let _ = dataverse::print::print_target(schema, &request, dataverse::print::Redact::Literals);
    let _ = dataverse::print::redact_raw(&path, query.as_deref());
    let Some(printed) = dataverse::print::print_request(schema, &request) else { return };
    let (p2, q2) = match printed.target.split_once('?') {
        Some((p, q)) => (format!("/api/data/{}/{p}", request.version.as_str()), Some(q.to_owned())),
        None => (format!("/api/data/{}/{}", request.version.as_str(), printed.target), None),
    };
    let h2: Vec<(&str, &str)> = printed.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let b2 = printed.body.unwrap_or_default();
    let again = RawRequest {
        method: request.method.as_str(),
        path: &p2,
        query: q2.as_deref(),
        headers: &h2,
        body: b2.as_bytes(),
    };
    let reparsed = parse_request(schema, &again, &ParseLimits::default());
    // Refused headers are listed for the gateway, which refuses the request; they are never
    // printed, so the printed form parses back to the request without them.
    let mut expected = request.clone();
    expected.headers.refused.clear();
    assert_eq!(reparsed.as_ref().ok(), Some(&expected), "printed form does not parse back: {p2} {q2:?}");
}

/// Parses JSON and checks the exact round trip of what parsed.
pub fn json_harness(data: &[u8]) {
    if let Ok(v) = dataverse::json::parse(data) {
        let text = v.to_json();
        assert_eq!(dataverse::json::parse(text.as_bytes()).ok(), Some(v));
    }
}

/// The `$filter` grammar alone: the input is the (decoded) value of `$filter` on accounts, so
/// the fuzzer spends its time inside the filter parser; parsed filters must round-trip.
pub fn filter_harness(schema: &Schema, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
    let query = format!("$filter={encoded}");
    let path = "/api/data/v9.2/accounts";
    let raw = RawRequest { method: "GET", path, query: Some(&query), headers: &[], body: b"" };
    let Ok(request) = parse_request(schema, &raw, &ParseLimits::default()) else { return };
    let _ = dataverse::classify(schema, &request);
    let Some(printed) = dataverse::print::print_request(schema, &request) else { return };
    let (p2, q2) = printed.target.split_once('?').map_or((printed.target.as_str(), None), |(p, q)| (p, Some(q)));
    let p2 = format!("/api/data/v9.2/{p2}");
    let again = RawRequest { method: "GET", path: &p2, query: q2, headers: &[], body: b"" };
    assert_eq!(
        parse_request(schema, &again, &ParseLimits::default()).ok(),
        Some(request),
        "filter does not round-trip"
    );
}

/// FetchXML alone: the input is the (decoded) value of `fetchXml` on accounts, so the fuzzer
/// spends its time in the XML reader and the FetchXML parser; parsed queries must round-trip.
pub fn fetchxml_harness(schema: &Schema, data: &[u8]) {
    query_option_harness(schema, "fetchXml", data);
}

/// The `sql=` subset alone: the input is the (decoded) value of `sql` on accounts; what lowers
/// to an OData query must print and parse back to the same request.
pub fn sql_harness(schema: &Schema, data: &[u8]) {
    query_option_harness(schema, "sql", data);
}

/// `GET accounts?{option}={input}` (the input percent-encoded byte for byte): parse, classify,
/// print forwarded and redacted, and check that the forwarded form parses back to the request.
fn query_option_harness(schema: &Schema, option: &str, data: &[u8]) {
    use dataverse::print::{Redact, print_target};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
    let query = format!("{option}={encoded}");
    let path = "/api/data/v9.2/accounts";
    let raw = RawRequest { method: "GET", path, query: Some(&query), headers: &[], body: b"" };
    let Ok(request) = parse_request(schema, &raw, &ParseLimits::default()) else { return };
    let _ = dataverse::classify(schema, &request);
    let _ = print_target(schema, &request, Redact::Literals);
    let Some(printed) = print_target(schema, &request, Redact::Nothing) else { return };
    let (p2, q2) = printed.split_once('?').map_or((printed.as_str(), None), |(p, q)| (p, Some(q)));
    let p2 = format!("/api/data/v9.2/{p2}");
    let again = RawRequest { method: "GET", path: &p2, query: q2, headers: &[], body: b"" };
    let reparsed = parse_request(schema, &again, &ParseLimits::default());
    assert_eq!(reparsed.as_ref().ok(), Some(&request), "{option} does not round-trip: {reparsed:?}");
}

/// `$batch` framing. The first line of the input is the outer `Content-Type`, the rest the body.
/// Whatever reads as a request batch must print (`write_batch`) and read back to the same batch,
/// and its references check must not panic; the same for batch responses.
pub fn batch_harness(data: &[u8]) {
    use dataverse::batch::{BatchLimits, read_batch, read_batch_response, write_batch, write_batch_response};
    let line_end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let content_type = String::from_utf8_lossy(&data[..line_end]);
    let body = data.get(line_end + 1..).unwrap_or_default();
    let limits = BatchLimits::default();
    // The printed form adds framing (MIME headers, Content-Length): only the part count must hold.
    let relaxed = BatchLimits {
        max_parts: limits.max_parts,
        max_body: usize::MAX,
        max_headers: usize::MAX,
        max_header_bytes: usize::MAX,
        max_target: usize::MAX,
    };
    if let Ok(batch) = read_batch(&content_type, body, &limits) {
        let _ = batch.check_references();
        let framed = write_batch(&batch, "fuzz").expect("a batch that was read must print");
        let again = read_batch(&framed.content_type, &framed.body, &relaxed);
        assert_eq!(again.as_ref(), Ok(&batch), "printed batch does not read back");
    }
    if let Ok(items) = read_batch_response(&content_type, body, &limits) {
        let framed = write_batch_response(&items, "fuzz").expect("a batch response that was read must print");
        let again = read_batch_response(&framed.content_type, &framed.body, &relaxed);
        assert_eq!(again.as_ref(), Ok(&items), "printed batch response does not read back");
    }
}

/// Write bodies and what they touch: the first byte picks the write (create or update of an
/// account, a contact or a task, an associate or a single-property update), the rest is the
/// body. A body that parses is classified (every bind reaches a table) and printed, and the
/// printed request parses back to the same request.
pub fn write_body_harness(schema: &Schema, data: &[u8]) {
    let Some((&which, body)) = data.split_first() else { return };
    let id = "00000000-0000-0000-0000-000000000001";
    let (method, path) = match which % 6 {
        0 => ("POST", "/api/data/v9.2/accounts".to_owned()),
        1 => ("PATCH", format!("/api/data/v9.2/contacts({id})")),
        2 => ("POST", "/api/data/v9.2/tasks".to_owned()),
        3 => ("POST", format!("/api/data/v9.2/accounts({id})/contact_customer_accounts/$ref")),
        4 => ("PUT", format!("/api/data/v9.2/accounts({id})/name")),
        _ => ("PATCH", "/api/data/v9.2/accounts(accountnumber='A-1')".to_owned()),
    };
    let headers = [("If-Match", "*")];
    let raw = RawRequest { method, path: &path, query: None, headers: &headers[..usize::from(which % 2 == 1)], body };
    let Ok(request) = parse_request(schema, &raw, &ParseLimits::default()) else { return };
    if let dataverse::Classification::Classified(t) = dataverse::classify(schema, &request) {
        assert!(!t.tables.is_empty(), "a write that touches no table: {request:?}");
    }
    let Some(printed) = dataverse::print::print_request(schema, &request) else { return };
    let p2 = format!("/api/data/v9.2/{}", printed.target);
    let h2: Vec<(&str, &str)> = printed.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let b2 = printed.body.unwrap_or_default();
    let again = RawRequest { method, path: &p2, query: None, headers: &h2, body: b2.as_bytes() };
    let reparsed = parse_request(schema, &again, &ParseLimits::default());
    assert_eq!(reparsed.as_ref().ok(), Some(&request), "printed body does not parse back: {b2}");
}
