//! `dataverse::batch`: the real clients' captures (`e2e/fixtures/batch/`), adversarial framing,
//! `$n` references, the canonical writers and their round trips (proptest).

use dataverse::batch::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Helpers

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures/batch")
}

/// Splits a captured HTTP message into its Content-Type and its body.
fn split_message(bytes: &[u8]) -> (String, Vec<u8>) {
    let crlf = bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|i| (i, i + 2));
    let (end, start) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (a, b) => a.or(b).expect("no end of head"),
    };
    let head = std::str::from_utf8(&bytes[..end]).unwrap();
    let content_type = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map_or(String::new(), |(_, v)| v.trim().to_owned());
    (content_type, bytes[start..].to_vec())
}

fn load(path: &Path) -> (String, Vec<u8>) {
    split_message(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn files(sub: &str, pick: impl Fn(&str) -> bool) -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(fixtures().join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_str().unwrap().to_owned(), p))
        .filter(|(n, _)| pick(n))
        .collect();
    out.sort();
    out
}

fn cid(c: &Option<String>) -> String {
    c.as_deref().map(|c| format!("#{c}")).unwrap_or_default()
}

/// `POST GET [POST#1 PATCH#2]`.
fn summary(b: &Batch) -> String {
    let part = |p: &Part| format!("{}{}", p.method, cid(&p.content_id));
    let items = b.items.iter().map(|i| match i {
        Item::Request(p) => part(p),
        Item::ChangeSet(ps) => format!("[{}]", ps.iter().map(part).collect::<Vec<_>>().join(" ")),
    });
    items.collect::<Vec<_>>().join(" ")
}

/// `204 [204#1 400#2]`.
fn response_summary(items: &[ResponseItem]) -> String {
    let part = |p: &PartResponse| format!("{}{}", p.status, cid(&p.content_id));
    let items = items.iter().map(|i| match i {
        ResponseItem::Response(p) => part(p),
        ResponseItem::ChangeSet(ps) => format!("[{}]", ps.iter().map(part).collect::<Vec<_>>().join(" ")),
    });
    items.collect::<Vec<_>>().join(" ")
}

const CT: &str = "multipart/mixed; boundary=b";

fn read(body: &str) -> Result<Batch, BatchError> {
    read_batch(CT, body.as_bytes(), &BatchLimits::default())
}

fn ok(body: &str) -> Batch {
    read(body).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

fn err(body: &str) -> String {
    match read(body) {
        Ok(b) => panic!("accepted: {b:?}\n{body}"),
        Err(e) => e.to_string(),
    }
}

/// An `application/http` part of boundary `b` holding `message`.
fn part(message: &str) -> String {
    format!("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n{message}\r\n")
}

fn cs_part(id: &str, message: &str) -> String {
    format!(
        "--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {id}\r\n\r\n{message}\r\n"
    )
}

fn change_set(parts: &[String]) -> String {
    format!("--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n{}--cs--\r\n", parts.concat())
}

fn batch(parts: &[String]) -> String {
    format!("{}--b--\r\n", parts.concat())
}

fn only_part(b: &Batch) -> &Part {
    match b.items.as_slice() {
        [Item::Request(p)] => p,
        other => panic!("{other:?}"),
    }
}

fn round_trip(b: &Batch) {
    let framed = write_batch(b, "rt").unwrap();
    let again = read_batch(&framed.content_type, &framed.body, &BatchLimits::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&framed.body)));
    assert_eq!(&again, b);
}

fn response_round_trip(items: &[ResponseItem]) {
    let framed = write_batch_response(items, "rt").unwrap();
    let again = read_batch_response(&framed.content_type, &framed.body, &BatchLimits::default()).unwrap();
    assert_eq!(again, items);
}

// ---------------------------------------------------------------------------------------------
// Real clients

#[test]
fn client_batches_are_read() {
    let expected = [
        ("dwa-autobatch-long-url.http", "GET"),
        ("dwa-batch-all-outside-changeset.http", "POST PATCH GET"),
        ("dwa-batch-changeset-contentid.http", "[POST#1 POST#100001 PATCH#100002]"),
        ("dwa-batch-continue-on-error.http", "POST [POST#100001 PATCH#100002] GET DELETE [PATCH#100001]"),
        ("dwa-batch-gets.http", "GET GET GET"),
        ("dwa-batch-mixed-inchangeset-false.http", "POST [POST#100001 PATCH#100002] GET DELETE [PATCH#100001]"),
        (
            "dwa-batch-refs-and-misc.http",
            "[POST#7 POST#100001 PUT#100002 PATCH#100003 PUT#100004 DELETE#100005 DELETE#100006 DELETE#100007]",
        ),
        ("py-batch-changeset-contentid.http", "[POST#1 POST#2 PATCH#3 DELETE#4]"),
        ("py-batch-continue-on-error.http", "GET GET POST"),
        ("py-batch-gets.http", "GET GET POST"),
        ("py-batch-mixed.http", "POST POST PATCH POST POST DELETE POST DELETE DELETE PATCH [POST#1 PATCH#2]"),
    ];
    let mut seen = Vec::new();
    for sub in ["dwa", "python"] {
        for (name, path) in files(sub, |n| n.contains("batch") && !n.ends_with(".response.http")) {
            let (content_type, body) = load(&path);
            let b = read_batch(&content_type, &body, &BatchLimits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
            let want = expected.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name} not pinned")).1;
            assert_eq!(summary(&b), want, "{name}");
            b.check_references().unwrap_or_else(|e| panic!("{name}: {e}"));
            round_trip(&b);
            seen.push(name);
        }
    }
    assert_eq!(seen.len(), expected.len());
}

#[test]
fn client_batch_responses_are_read() {
    let expected = [
        ("dwa-autobatch-long-url.response.http", "200"),
        ("dwa-batch-all-outside-changeset.response.http", "204 204 200"),
        ("dwa-batch-changeset-contentid.response.http", "[204#1 204#100001 204#100002]"),
        ("dwa-batch-continue-on-error.response.http", "204 400#100001 200 204 [200#100001]"),
        ("dwa-batch-gets.response.http", "200 200 200"),
        ("dwa-batch-mixed-inchangeset-false.response.http", "204 [204#100001 204#100002] 200 204 [200#100001]"),
        (
            "dwa-batch-refs-and-misc.response.http",
            "[204#7 204#100001 204#100002 204#100003 204#100004 204#100005 204#100006 204#100007]",
        ),
        ("py-batch-changeset-contentid.response.http", "[204#1 204#2 204#3 204#4]"),
        ("py-batch-continue-on-error.response.http", "200 200 400"),
        ("py-batch-gets.response.http", "200 200 204"),
        ("py-batch-mixed.response.http", "204 200 204 204 204 204 200 204 204 204 [204#1 204#2]"),
    ];
    let mut seen = 0;
    for sub in ["dwa", "python"] {
        for (name, path) in files(sub, |n| n.contains("batch") && n.ends_with(".response.http")) {
            let (content_type, body) = load(&path);
            let items = read_batch_response(&content_type, &body, &BatchLimits::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let want = expected.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name} not pinned")).1;
            assert_eq!(response_summary(&items), want, "{name}");
            response_round_trip(&items);
            seen += 1;
        }
    }
    assert_eq!(seen, expected.len());
}

#[test]
fn probe_requests_are_read() {
    let probes = files("probes", |n| !n.ends_with(".response.http"));
    let mut read = 0;
    for (name, path) in probes {
        let (content_type, body) = load(&path);
        if !content_type.starts_with("multipart/") {
            continue;
        }
        let b = read_batch(&content_type, &body, &BatchLimits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        b.check_references().unwrap_or_else(|e| panic!("{name}: {e}"));
        round_trip(&b);
        read += 1;
    }
    assert_eq!(read, 36);
}

/// The hand-varied responses: upstream Dataverse sends the canonical shape, so the reader accepts
/// line-ending, boundary-name, preamble and Content-ID-echo variations and refuses parts without
/// MIME headers, MIME-level Content-Length and non-multipart bodies.
#[test]
fn probe_responses() {
    let refused = [
        (
            "dwa-probe-cs-part-extra-header.response.http",
            "part 1: header 'Content-Length' is not allowed on a batch part",
        ),
        (
            "py-probe-cs-part-extra-header.response.http",
            "part 1: header 'Content-Length' is not allowed on a batch part",
        ),
        (
            "dwa-probe-no-part-headers-gets.response.http",
            "part 1: the part has no Content-Type header (expected application/http or multipart/mixed)",
        ),
        (
            "py-probe-no-part-headers-gets.response.http",
            "part 1: the part has no Content-Type header (expected application/http or multipart/mixed)",
        ),
        ("py-probe-outer-ct-no-boundary.response.http", "The batch boundary is missing from Content-Type"),
        (
            "dwa-probe-outer-ct-json.response.http",
            "The batch Content-Type must be multipart/mixed, not 'application/json'",
        ),
    ];
    let accepted = [
        ("dwa-probe-fail-412-continue.response.http", "204 [204#100001 204#100002] 200 204 412#100001"),
        ("dwa-probe-fail-cs-flat-outer200.response.http", "400#100001"),
        ("dwa-probe-fail-cs-nested-outer400.response.http", "[400#100001]"),
        ("dwa-probe-lf-only-cs.response.http", "[204#1 204#100001 204#100002]"),
        ("dwa-probe-no-cid-echo-cs.response.http", "[204 204 204]"),
        ("dwa-probe-no-reason-phrase-cs.response.http", "[204#1 204#100001 204#100002]"),
        ("dwa-probe-other-cs-prefix-cs.response.http", "[204#1 204#100001 204#100002]"),
        ("dwa-probe-preamble-cs.response.http", "[204#1 204#100001 204#100002]"),
        ("dwa-probe-quoted-boundary-gets.response.http", "200 200 200"),
        ("py-probe-other-batch-prefix-cs.response.http", "[204#1 204#2 204#3 204#4]"),
        ("py-probe-fail-continue-mixed.response.http", "400 200 204 204 400 204 200 204 204 204 [204#1 204#2]"),
    ];
    for (name, message) in refused {
        let (content_type, body) = load(&fixtures().join("probes").join(name));
        let e = read_batch_response(&content_type, &body, &BatchLimits::default()).unwrap_err();
        assert_eq!(e.to_string(), message, "{name}");
    }
    for (name, want) in accepted {
        let (content_type, body) = load(&fixtures().join("probes").join(name));
        let items = read_batch_response(&content_type, &body, &BatchLimits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(response_summary(&items), want, "{name}");
    }
}

#[test]
fn client_part_details() {
    // Python: raw spaces and `&` in the target, no inner headers on a GET, body without trailing CRLF.
    let (content_type, body) = load(&fixtures().join("python/py-batch-gets.http"));
    let b = read_batch(&content_type, &body, &BatchLimits::default()).unwrap();
    let parts: Vec<&Part> = b.parts().collect();
    assert_eq!(
        parts[0].target,
        "http://127.0.0.1:8765/api/data/v9.2/accounts?$select=name,revenue&$filter=name eq 'O''Neil & Co'&$orderby=name asc&$top=2&$count=true"
    );
    assert_eq!(parts[0].headers, [("Prefer".to_owned(), "odata.maxpagesize=5".to_owned())]);
    assert!(parts[1].headers.is_empty() && parts[1].body.is_empty());
    assert_eq!(parts[2].body, br#"{"name": "Outside"}"#);
    // DWA: a CRLF preamble, a body followed by an empty line (so the body ends in CRLF), body-less
    // parts whose header block is not ended by an empty line, `$1` targets and bodies.
    let (content_type, body) = load(&fixtures().join("dwa/dwa-batch-changeset-contentid.http"));
    let b = read_batch(&content_type, &body, &BatchLimits::default()).unwrap();
    let parts: Vec<&Part> = b.parts().collect();
    assert_eq!(parts[1].body, b"{\"name\":\"Babbage Ltd\",\"primarycontactid@odata.bind\":\"$1\"}\r\n");
    assert_eq!(parts[2].target, "$1");
    assert_eq!(parts[2].headers[1], ("If-Match".to_owned(), "*".to_owned()));
    let (content_type, body) = load(&fixtures().join("dwa/dwa-batch-gets.http"));
    let b = read_batch(&content_type, &body, &BatchLimits::default()).unwrap();
    for p in b.parts() {
        assert_eq!(p.headers, [("Accept".to_owned(), "application/json".to_owned())]);
        assert!(p.body.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Framing

#[test]
fn lf_only_framing_and_mixed_line_endings() {
    let body = "--b\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nPOST /api/data/v9.2/accounts HTTP/1.1\nContent-Type: application/json\n\n{\"a\":1}\n--b\r\nContent-Type: application/http\r\n\r\nGET /x HTTP/1.1\n--b--";
    let b = ok(body);
    let parts: Vec<&Part> = b.parts().collect();
    assert_eq!(parts[0].body, b"{\"a\":1}");
    assert_eq!(parts[0].headers, [("Content-Type".to_owned(), "application/json".to_owned())]);
    assert_eq!((parts[1].method.as_str(), parts[1].target.as_str()), ("GET", "/x"));
}

#[test]
fn preamble_epilogue_and_padding() {
    let body = format!(
        "This is a preamble.\r\n--b-not-a-delimiter\r\n{}--b-- \t\r\nepilogue\r\n--b\r\ngarbage",
        part("GET /x HTTP/1.1").replacen("--b\r\n", "--b \t\r\n", 1)
    );
    assert_eq!(summary(&ok(&body)), "GET");
}

#[test]
fn boundary_parameter_variants() {
    let body = batch(&[part("GET /x HTTP/1.1")]);
    for content_type in [
        "multipart/mixed;boundary=b",
        "multipart/mixed; BOUNDARY=b",
        "Multipart/Mixed ; boundary=\"b\"",
        "multipart/mixed;  charset=utf-8 ;boundary=b;",
        "multipart/mixed; boundary = b",
    ] {
        let b = read_batch(content_type, body.as_bytes(), &BatchLimits::default())
            .unwrap_or_else(|e| panic!("{content_type}: {e}"));
        assert_eq!(summary(&b), "GET");
    }
    // A quoted boundary with characters that must be quoted.
    let b2 = body.replace("--b", "--a b:c");
    assert!(read_batch("multipart/mixed; boundary=\"a b:c\"", b2.as_bytes(), &BatchLimits::default()).is_ok());
}

#[test]
fn bad_outer_content_types() {
    let body = batch(&[part("GET /x HTTP/1.1")]);
    let e = |ct: &str| read_batch(ct, body.as_bytes(), &BatchLimits::default()).unwrap_err().to_string();
    assert_eq!(e("application/json"), "The batch Content-Type must be multipart/mixed, not 'application/json'");
    assert_eq!(
        e("multipart/related; boundary=b"),
        "The batch Content-Type must be multipart/mixed, not 'multipart/related'"
    );
    assert_eq!(e("multipart/mixed"), "The batch boundary is missing from Content-Type");
    assert_eq!(e("multipart/mixed; charset=utf-8"), "The batch boundary is missing from Content-Type");
    assert_eq!(e(""), "The batch Content-Type is malformed: '' is not a media type");
    assert_eq!(
        e("multipart/mixed; boundary=b; boundary=c"),
        "The batch Content-Type is malformed: the boundary parameter appears twice"
    );
    assert_eq!(
        e("multipart/mixed; boundary=\"b"),
        "The batch Content-Type is malformed: parameter boundary has an unterminated or invalid quoted value"
    );
    assert_eq!(
        e("multipart/mixed; boundary=a:b"),
        "The batch Content-Type is malformed: unexpected text after parameter boundary"
    );
    assert_eq!(
        e("multipart/mixed; boundary"),
        "The batch Content-Type is malformed: parameter 'boundary' is not name=value"
    );
    assert!(e("multipart/mixed; boundary=\"\"").starts_with("The batch boundary '' is not a valid multipart boundary"));
    assert!(e("multipart/mixed; boundary=\"b \"").starts_with("The batch boundary 'b ' is not"));
    assert!(e("multipart/mixed; boundary=a*b").starts_with("The batch boundary 'a*b' is not"));
    let long = "x".repeat(71);
    assert!(e(&format!("multipart/mixed; boundary={long}")).starts_with("The batch boundary 'xxx"));
    let seventy = "x".repeat(70);
    let body70 = body.replace("--b", &format!("--{seventy}"));
    assert!(
        read_batch(&format!("multipart/mixed; boundary={seventy}"), body70.as_bytes(), &BatchLimits::default()).is_ok()
    );
}

#[test]
fn missing_close_delimiter() {
    let full = batch(&[part("GET /x HTTP/1.1")]);
    assert_eq!(err(&full.replace("--b--\r\n", "")), "The batch has no closing delimiter '--b--'");
    assert_eq!(err(&full.replace("--b--\r\n", "--b\r\n")), "The batch has no closing delimiter '--b--'");
    assert_eq!(err(&full.replace("--b--", "--b--x")), "The batch has no closing delimiter '--b--'");
    assert_eq!(err(""), "The batch has no closing delimiter '--b--'");
    // A close delimiter without a line break at the very end is enough (DWA's short Content-Length).
    assert_eq!(summary(&ok(full.trim_end())), "GET");
    assert_eq!(summary(&ok(&format!("{}\r", full.trim_end()))), "GET");
    assert!(ok("--b--").items.is_empty());
}

#[test]
fn boundary_text_inside_bodies_is_content() {
    let body_text = "x --b\r\n--bb\r\n--b-\r\n--b--x\r\n--b --\r\n ---b\r\n--cs\r\n--";
    let b = ok(&batch(&[part(&format!("POST /x HTTP/1.1\r\n\r\n{body_text}"))]));
    assert_eq!(only_part(&b).body, body_text.as_bytes());
    round_trip(&b);
}

#[test]
fn exact_body_edges() {
    // The line break before the delimiter belongs to it; any other CR/LF is body.
    for body_text in ["", "\r\n", "\n", "\r", "a\r", "a\n\n", "\r\n\r\n", "--", "a\r\n--"] {
        let b = ok(&batch(&[part(&format!("POST /x HTTP/1.1\r\n\r\n{body_text}"))]));
        assert_eq!(only_part(&b).body, body_text.as_bytes(), "{body_text:?}");
        round_trip(&b);
    }
    // Empty body without the empty line after the headers, and with it.
    assert!(only_part(&ok(&batch(&[part("DELETE /x HTTP/1.1\r\nIf-Match: *")]))).body.is_empty());
    assert!(only_part(&ok(&batch(&[part("DELETE /x HTTP/1.1\r\nIf-Match: *\r\n")]))).body.is_empty());
    assert!(only_part(&ok(&batch(&[part("GET /x HTTP/1.1")]))).headers.is_empty());
}

#[test]
fn empty_parts_and_messages() {
    assert_eq!(err("--b\r\n--b--\r\n"), "part 1: the part is empty");
    assert_eq!(err("--b\r\n\r\n--b--\r\n"), "part 1: the part is empty");
    assert_eq!(
        err("--b\r\nContent-Type: application/http\r\n--b--\r\n"),
        "part 1: the part headers are not followed by an empty line"
    );
    assert_eq!(err(&batch(&[part("")])), "part 1: the part has no HTTP request line");
    assert_eq!(err(&batch(&[part("\r\nGET /x HTTP/1.1")])), "part 1: the part has no HTTP request line");
    assert_eq!(
        err("--b\r\n\r\nGET /x HTTP/1.1\r\n--b--\r\n"),
        "part 1: the part has no Content-Type header (expected application/http or multipart/mixed)"
    );
}

// ---------------------------------------------------------------------------------------------
// MIME part headers

#[test]
fn mime_headers() {
    let with = |headers: &str| format!("--b\r\n{headers}\r\n\r\nGET /x HTTP/1.1\r\n--b--\r\n");
    assert_eq!(summary(&ok(&with("content-type: Application/HTTP; msgtype=request"))), "GET");
    assert_eq!(summary(&ok(&with("Content-Type:application/http\r\nContent-Transfer-Encoding:BINARY"))), "GET");
    let b = ok(&with("Content-Type: application/http\r\nContent-ID:  <abc-1.x~_> "));
    assert_eq!(only_part(&b).content_id.as_deref(), Some("abc-1.x~_"));
    assert_eq!(
        err(&with("Content-Type: application/http\r\nContent-Transfer-Encoding: base64")),
        "part 1: Content-Transfer-Encoding 'base64' is not supported (only binary)"
    );
    assert_eq!(
        err(&with("Content-Type: application/http\r\nContent-Length: 20")),
        "part 1: header 'Content-Length' is not allowed on a batch part"
    );
    assert_eq!(
        err(&with("Content-Type: application/http\r\ncontent-type: application/http")),
        "part 1: header 'content-type' appears twice in the part headers"
    );
    assert_eq!(
        err(&with("Content-Type: text/plain")),
        "part 1: Content-Type 'text/plain' is not application/http or multipart/mixed"
    );
    assert_eq!(
        err(&with("Content-Type: application/http\r\nContent-ID: a b")),
        "part 1: Content-ID 'a b' is not valid (1 to 128 letters, digits or -._~ characters)"
    );
    assert_eq!(
        err(&with("Content-Type: application/http\r\nContent-ID: <>")),
        "part 1: Content-ID '' is not valid (1 to 128 letters, digits or -._~ characters)"
    );
    assert!(
        err(&with("Content-Type: application/http\r\nContent-ID: $1"))
            .starts_with("part 1: Content-ID '$1' is not valid")
    );
    assert_eq!(
        err(&with("Content-Type: application/http\r\nX Y: z")),
        "part 1: header name 'X Y' is not a valid token"
    );
    assert_eq!(
        err(&with("Content-Type : application/http")),
        "part 1: header name 'Content-Type ' is not a valid token"
    );
    assert_eq!(
        err(&with("Content-Type: application/http\r\n Content-ID: 1")),
        "part 1: a header line starts with whitespace (obsolete line folding is not accepted)"
    );
    let latin1 = b"--b\r\nContent-Type: application/http\r\nContent-ID: \xe91\r\n\r\nGET /x HTTP/1.1\r\n--b--\r\n";
    assert_eq!(
        read_batch(CT, latin1, &BatchLimits::default()).unwrap_err().to_string(),
        "part 1: the header line is not valid UTF-8"
    );
}

// ---------------------------------------------------------------------------------------------
// Change sets and Content-IDs

#[test]
fn change_sets() {
    let b = ok(&batch(&[
        change_set(&[cs_part("1", "POST /a HTTP/1.1\r\n\r\n{}"), cs_part("2", "PATCH $1 HTTP/1.1\r\n\r\n{}")]),
        part("GET /x HTTP/1.1"),
    ]));
    assert_eq!(summary(&b), "[POST#1 PATCH#2] GET");
    round_trip(&b);
    // Quoted change-set boundary, LF inside, CRLF outside.
    let lf = "--b\r\nContent-Type: multipart/mixed; boundary=\"cs\"\r\n\r\n--cs\nContent-Type: application/http\n\nDELETE /a HTTP/1.1\n--cs--\r\n--b--\r\n";
    assert_eq!(summary(&ok(lf)), "[DELETE]");
}

#[test]
fn change_set_refusals() {
    let nested = format!(
        "--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n{}--cs\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n--inner--\r\n--cs--\r\n--b--\r\n",
        cs_part("1", "POST /a HTTP/1.1")
    );
    assert_eq!(err(&nested), "part 2: a change set cannot contain another change set");
    let get = batch(&[change_set(&[cs_part("1", "POST /a HTTP/1.1"), cs_part("2", "GET /a HTTP/1.1")])]);
    assert_eq!(err(&get), "part 2: a GET request cannot be part of a change set");
    let unclosed = batch(&[change_set(&[cs_part("1", "POST /a HTTP/1.1")]).replace("--cs--\r\n", "")]);
    assert_eq!(err(&unclosed), "part 1: the change set has no closing delimiter '--cs--'");
    let empty = batch(&[change_set(&[])]);
    assert_eq!(err(&empty), "part 1: the change set contains no requests");
    let same = "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\r\n--b--\r\n";
    assert_eq!(
        err(same),
        "part 1: the change set boundary 'b' must differ from the batch boundary and neither may start with the other"
    );
    let prefix = batch(&[change_set(&[cs_part("1", "POST /a HTTP/1.1")]).replace("cs", "bcs")]);
    assert!(err(&prefix).starts_with("part 1: the change set boundary 'bcs' must differ"));
    let missing = "--b\r\nContent-Type: multipart/mixed\r\n\r\n\r\n--b--\r\n";
    assert_eq!(err(missing), "part 1: the change set boundary is missing from Content-Type");
    let cid = "--b\r\nContent-Type: multipart/mixed; boundary=cs\r\nContent-ID: 1\r\n\r\n--cs--\r\n--b--\r\n";
    assert_eq!(err(cid), "part 1: header 'Content-ID' is not allowed on a change set part");
    // The part number counts requests across change sets.
    let third = batch(&[
        part("GET /x HTTP/1.1"),
        change_set(&[cs_part("1", "POST /a HTTP/1.1"), cs_part("2", "TRACE /a HTTP/1.1")]),
    ]);
    assert_eq!(err(&third), "part 3: method TRACE is not allowed in a batch (GET, POST, PATCH, PUT or DELETE)");
}

#[test]
fn duplicate_content_ids() {
    let twice = batch(&[change_set(&[cs_part("1", "POST /a HTTP/1.1"), cs_part("1", "POST /b HTTP/1.1")])]);
    assert_eq!(err(&twice), "part 2: Content-ID 1 is used twice in the same change set");
    let top =
        |id: &str| format!("--b\r\nContent-Type: application/http\r\nContent-ID: {id}\r\n\r\nGET /x HTTP/1.1\r\n");
    assert_eq!(
        err(&batch(&[part("GET /y HTTP/1.1"), top("2"), top("<2>")])),
        "part 3: Content-ID 2 is used twice outside change sets"
    );
    // DWA restarts at 100001 in every change set (fixtures README §1.2): separate scopes.
    let b = ok(&batch(&[
        change_set(&[cs_part("100001", "POST /a HTTP/1.1")]),
        change_set(&[cs_part("100001", "POST /a HTTP/1.1")]),
        top("100001"),
    ]));
    assert_eq!(summary(&b), "[POST#100001] [POST#100001] GET#100001");
}

#[test]
fn content_id_references() {
    assert_eq!(content_id_ref("$1"), Some(("1", "")));
    assert_eq!(content_id_ref("$1/primarycontactid/$ref"), Some(("1", "/primarycontactid/$ref")));
    assert_eq!(content_id_ref("$abc?$select=name"), Some(("abc", "?$select=name")));
    assert_eq!(content_id_ref("$"), None);
    assert_eq!(content_id_ref("$/x"), None);
    assert_eq!(content_id_ref("$1(2)"), None);
    assert_eq!(content_id_ref("/accounts"), None);
    assert_eq!(content_id_ref("http://h/$1"), None);

    let check = |parts: &[String]| read(&batch(parts)).unwrap().check_references().map_err(|e| e.to_string());
    let good = [change_set(&[
        cs_part("1", "POST /contacts HTTP/1.1\r\n\r\n{}"),
        cs_part(
            "2",
            "POST /accounts HTTP/1.1\r\n\r\n{\"primarycontactid@odata.bind\":\"$1\",\"description\":\"$100\"}",
        ),
        cs_part("3", "PUT $1/parentcustomerid_account/$ref HTTP/1.1\r\n\r\n{\"@odata.id\":\"$2\"}"),
        cs_part("4", "POST /x HTTP/1.1\r\n\r\n{\"a\":[{\"b@odata.bind\":[\"$1\",\"$2\"]}]}"),
        cs_part("5", "POST /x HTTP/1.1\r\n\r\nnot json $9"),
    ])];
    assert_eq!(check(&good), Ok(()));
    let forward =
        [change_set(&[cs_part("1", "PATCH $2 HTTP/1.1\r\n\r\n{}"), cs_part("2", "POST /contacts HTTP/1.1\r\n\r\n{}")])];
    assert_eq!(check(&forward), Err("part 1: Content-ID Reference: '$2' does not exist in the batch context.".into()));
    let own = [change_set(&[cs_part("1", "PATCH $1 HTTP/1.1\r\n\r\n{}")])];
    assert_eq!(check(&own), Err("part 1: Content-ID Reference: '$1' does not exist in the batch context.".into()));
    let unknown = [change_set(&[
        cs_part("1", "POST /contacts HTTP/1.1\r\n\r\n{}"),
        cs_part("2", "POST /accounts HTTP/1.1\r\n\r\n{\"primarycontactid@odata.bind\":\"$7\"}"),
    ])];
    assert_eq!(check(&unknown), Err("part 2: Content-ID Reference: '$7' does not exist in the batch context.".into()));
    let other_change_set = [
        change_set(&[cs_part("1", "POST /contacts HTTP/1.1\r\n\r\n{}")]),
        change_set(&[cs_part("2", "PATCH $1 HTTP/1.1\r\n\r\n{}")]),
    ];
    assert_eq!(
        check(&other_change_set),
        Err("part 2: Content-ID Reference: '$1' does not exist in the batch context.".into())
    );
    let top_level = [part("DELETE $1 HTTP/1.1")];
    assert_eq!(
        check(&top_level),
        Err("part 1: Content-ID Reference: '$1' does not exist in the batch context.".into())
    );
    assert!(check(&[part("POST $batch HTTP/1.1")]).is_err());
}

#[test]
fn too_many_parts() {
    let gets = |n: usize| batch(&vec![part("GET /x HTTP/1.1"); n]);
    assert_eq!(ok(&gets(1000)).parts().count(), 1000);
    assert_eq!(err(&gets(1001)), "The batch has more than 1000 requests");
    let mixed = batch(&[
        change_set(&[cs_part("1", "POST /a HTTP/1.1")]),
        change_set(&(1..=1000).map(|i| cs_part(&i.to_string(), "POST /a HTTP/1.1")).collect::<Vec<_>>()),
    ]);
    assert_eq!(err(&mixed), "The batch has more than 1000 requests");
    let small = BatchLimits { max_parts: 2, ..BatchLimits::default() };
    let three = batch(&[change_set(&[
        cs_part("1", "POST /a HTTP/1.1"),
        cs_part("2", "POST /a HTTP/1.1"),
        cs_part("3", "POST /a HTTP/1.1"),
    ])]);
    assert_eq!(read_batch(CT, three.as_bytes(), &small).unwrap_err().to_string(), "The batch has more than 2 requests");
}

#[test]
fn other_limits() {
    let body = batch(&[part("POST /x HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n0123456789")]);
    let limits = |f: fn(&mut BatchLimits)| {
        let mut l = BatchLimits::default();
        f(&mut l);
        read_batch(CT, body.as_bytes(), &l).unwrap_err().to_string()
    };
    assert_eq!(limits(|l| l.max_body = 10), "The batch body is larger than 10 bytes");
    assert_eq!(limits(|l| l.max_headers = 1), "part 1: the part has more than 1 header lines in one block");
    assert_eq!(limits(|l| l.max_header_bytes = 6), "part 1: the part headers are larger than 6 bytes");
    assert_eq!(limits(|l| l.max_target = 1), "part 1: the request target is longer than 1 bytes");
}

// ---------------------------------------------------------------------------------------------
// Inner requests

#[test]
fn request_lines() {
    let b = ok(&batch(&[part("GET http://h/api/data/v9.2/accounts?$filter=name eq 'a  b & c' HTTP/1.1")]));
    assert_eq!(only_part(&b).target, "http://h/api/data/v9.2/accounts?$filter=name eq 'a  b & c'");
    let b = ok(&batch(&[part("GET /é?x=ü HTTP/1.1")]));
    assert_eq!(only_part(&b).target, "/é?x=ü");
    let e = |line: &str| err(&batch(&[part(line)]));
    assert_eq!(
        e("TRACE /x HTTP/1.1"),
        "part 1: method TRACE is not allowed in a batch (GET, POST, PATCH, PUT or DELETE)"
    );
    assert_eq!(e("get /x HTTP/1.1"), "part 1: method get is not allowed in a batch (GET, POST, PATCH, PUT or DELETE)");
    assert_eq!(e("GET /accounts"), "part 1: the request line 'GET /accounts' has no HTTP version");
    assert_eq!(e("GET"), "part 1: the request line 'GET' is not 'METHOD target HTTP/1.1'");
    assert_eq!(e("GET /x HTTP/1.0"), "part 1: HTTP version 'HTTP/1.0' is not supported (expected HTTP/1.1)");
    assert_eq!(e("GET /x http/1.1"), "part 1: HTTP version 'http/1.1' is not supported (expected HTTP/1.1)");
    assert_eq!(e("GET /x HTTP/1.1 "), "part 1: HTTP version '' is not supported (expected HTTP/1.1)");
    assert_eq!(
        e("GET  HTTP/1.1"),
        "part 1: the request target '' is not valid (empty, surrounded by whitespace or with control characters)"
    );
    assert_eq!(
        e("GET  /x HTTP/1.1"),
        "part 1: the request target ' /x' is not valid (empty, surrounded by whitespace or with control characters)"
    );
    assert_eq!(
        e("GET /x\t HTTP/1.1"),
        "part 1: the request target '/x?' is not valid (empty, surrounded by whitespace or with control characters)"
    );
    assert_eq!(e("G(T /x HTTP/1.1"), "part 1: the request line 'G(T /x HTTP/1.1' is not 'METHOD target HTTP/1.1'");
    let raw = b"--b\r\nContent-Type: application/http\r\n\r\nGET /\xff HTTP/1.1\r\n--b--\r\n";
    assert_eq!(
        read_batch(CT, raw, &BatchLimits::default()).unwrap_err().to_string(),
        "part 1: the request line is not valid UTF-8"
    );
}

#[test]
fn inner_headers() {
    let e = |headers: &str| err(&batch(&[part(&format!("POST /x HTTP/1.1\r\n{headers}\r\n\r\n{{}}"))]));
    assert_eq!(e("Content-Type application/json"), "part 1: header line 'Content-Type application/json' has no colon");
    assert_eq!(
        e("Prefer: a,\r\n b"),
        "part 1: a header line starts with whitespace (obsolete line folding is not accepted)"
    );
    assert_eq!(
        e("Prefer: a\u{1}b"),
        "part 1: header 'Prefer' has a control character (or surrounding whitespace) in its value"
    );
    assert_eq!(e("Transfer-Encoding: chunked"), "part 1: the Transfer-Encoding header is not accepted inside a batch");
    let raw =
        b"--b\r\nContent-Type: application/http\r\n\r\nPOST /x HTTP/1.1\r\nX-Name: caf\xe9\r\n\r\n{}\r\n--b--\r\n";
    assert_eq!(
        read_batch(CT, raw, &BatchLimits::default()).unwrap_err().to_string(),
        "part 1: the header line is not valid UTF-8"
    );
    let b = ok(&batch(&[part("POST /x HTTP/1.1\r\nprefer:return=representation \t\r\nX-Empty:\r\n\r\n{}")]));
    assert_eq!(
        only_part(&b).headers,
        [("prefer".to_owned(), "return=representation".to_owned()), ("X-Empty".to_owned(), String::new())]
    );
}

#[test]
fn content_length() {
    let with = |cl: &str, body: &str| read(&batch(&[part(&format!("POST /x HTTP/1.1\r\nA: 1\r\n{cl}\r\n\r\n{body}"))]));
    let b = with("Content-Length: 2", "{}").unwrap();
    assert_eq!((only_part(&b).body.as_slice(), only_part(&b).headers.len()), (&b"{}"[..], 1));
    // Counted body, then the DWA-style empty line: the count wins.
    assert_eq!(only_part(&with("content-length: 2", "{}\r\n").unwrap()).body, b"{}");
    assert_eq!(only_part(&with("Content-Length: 0", "").unwrap()).body, b"");
    let e = |cl: &str, body: &str| with(cl, body).unwrap_err().to_string();
    assert_eq!(e("Content-Length: 3", "{}"), "part 1: Content-Length 3 does not match the body length 2");
    assert_eq!(e("Content-Length: 1", "{}"), "part 1: Content-Length 1 does not match the body length 2");
    assert_eq!(e("Content-Length: 0", "{}\r\n"), "part 1: Content-Length 0 does not match the body length 4");
    assert_eq!(
        e("Content-Length: 99999999999999999999", "{}"),
        "part 1: Content-Length '99999999999999999999' is not a number"
    );
    assert_eq!(e("Content-Length: +2", "{}"), "part 1: Content-Length '+2' is not a number");
    assert_eq!(
        e("Content-Length: 2\r\nContent-Length: 2", "{}"),
        "part 1: the part has more than one Content-Length header"
    );
}

// ---------------------------------------------------------------------------------------------
// Writers

fn sample() -> Batch {
    let part = |id: Option<&str>, method: &str, target: &str, headers: &[(&str, &str)], body: &str| Part {
        content_id: id.map(str::to_owned),
        method: method.into(),
        target: target.into(),
        headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        body: body.as_bytes().to_vec(),
    };
    Batch {
        items: vec![
            Item::Request(part(None, "GET", "accounts?$select=name", &[("Accept", "application/json")], "")),
            Item::ChangeSet(vec![
                part(Some("1"), "POST", "contacts", &[("Content-Type", "application/json")], "{\"a\":1}"),
                part(Some("2"), "PATCH", "$1", &[("If-Match", "*")], ""),
            ]),
        ],
    }
}

#[test]
fn write_batch_is_canonical() {
    let mut with_length = sample();
    let Item::ChangeSet(parts) = &mut with_length.items[1] else { unreachable!() };
    parts[1].headers.push(("Content-Length".into(), "999".into()));
    let framed = write_batch(&with_length, "X").unwrap();
    assert_eq!(framed.content_type, "multipart/mixed; boundary=batch_X");
    let want = "--batch_X\r\n\
        Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
        GET accounts?$select=name HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n\
        --batch_X\r\n\
        Content-Type: multipart/mixed; boundary=changeset_X_2\r\n\r\n\
        --changeset_X_2\r\n\
        Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
        POST contacts HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}\r\n\
        --changeset_X_2\r\n\
        Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n\
        PATCH $1 HTTP/1.1\r\nIf-Match: *\r\n\r\n\r\n\
        --changeset_X_2--\r\n\r\n\
        --batch_X--\r\n";
    // The caller's Content-Length is framing: dropped, recomputed.
    assert_eq!(read_batch(&framed.content_type, &framed.body, &BatchLimits::default()).unwrap(), sample());
    assert_eq!(String::from_utf8(framed.body).unwrap(), want);
}

#[test]
fn writer_avoids_boundaries_in_content() {
    let mut b = sample();
    let Item::ChangeSet(parts) = &mut b.items[1] else { unreachable!() };
    parts[0].body = b"\r\n--changeset_X_2\r\n--batch_X--\r\n--batch_X_1\r\n--changeset_X_2_1--".to_vec();
    let framed = write_batch(&b, "X").unwrap();
    assert_eq!(framed.content_type, "multipart/mixed; boundary=batch_X_2");
    assert!(String::from_utf8_lossy(&framed.body).contains("boundary=changeset_X_2_2\r\n"));
    round_trip(&b);
    // The id is cleaned to boundary-safe characters.
    assert_eq!(write_batch(&b, "a b\"c/é").unwrap().content_type, "multipart/mixed; boundary=batch_abc");
    assert_eq!(write_batch(&Batch::default(), "").unwrap().body, b"--batch_0--\r\n");
}

#[test]
fn writer_refuses_what_the_reader_refuses() {
    let with = |f: fn(&mut Part)| {
        let mut b = sample();
        let Item::ChangeSet(parts) = &mut b.items[1] else { unreachable!() };
        f(&mut parts[0]);
        write_batch(&b, "X").unwrap_err().to_string()
    };
    assert_eq!(with(|p| p.method = "GET".into()), "part 2: a GET request cannot be part of a change set");
    assert_eq!(
        with(|p| p.method = "TRACE".into()),
        "part 2: method TRACE is not allowed in a batch (GET, POST, PATCH, PUT or DELETE)"
    );
    assert!(with(|p| p.target = "a\r\nX: y".into()).starts_with("part 2: the request target 'a??X: y' is not valid"));
    assert!(with(|p| p.target = String::new()).starts_with("part 2: the request target '' is not valid"));
    assert_eq!(
        with(|p| p.headers.push(("X".into(), "a\r\nInjected: 1".into()))),
        "part 2: header 'X' has a control character (or surrounding whitespace) in its value"
    );
    assert_eq!(
        with(|p| p.headers.push(("X".into(), " a".into()))),
        "part 2: header 'X' has a control character (or surrounding whitespace) in its value"
    );
    assert_eq!(with(|p| p.headers.push(("X:Y".into(), "a".into()))), "part 2: header name 'X:Y' is not a valid token");
    assert_eq!(
        with(|p| p.headers.push(("Transfer-Encoding".into(), "chunked".into()))),
        "part 2: the Transfer-Encoding header is not accepted inside a batch"
    );
    assert_eq!(with(|p| p.content_id = Some("2".into())), "part 3: Content-ID 2 is used twice in the same change set");
    assert!(with(|p| p.content_id = Some("a/b".into())).starts_with("part 2: Content-ID 'a/b' is not valid"));
    let empty = Batch { items: vec![Item::ChangeSet(vec![])] };
    assert_eq!(write_batch(&empty, "X").unwrap_err().to_string(), "part 1: the change set contains no requests");
}

fn response(id: Option<&str>, status: u16, headers: &[(&str, &str)], body: &str) -> PartResponse {
    PartResponse {
        content_id: id.map(str::to_owned),
        status,
        headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn write_batch_response_is_the_accepted_shape() {
    let items = vec![
        ResponseItem::ChangeSet(vec![
            response(Some("1"), 204, &[("OData-Version", "4.0"), ("OData-EntityId", "http://h/accounts(1)")], ""),
            response(Some("2"), 412, &[("Content-Type", "application/json")], "{\"error\":{}}"),
        ]),
        response_item(200, "{\"value\":[]}"),
    ];
    let framed = write_batch_response(&items, "R").unwrap();
    assert_eq!(framed.content_type, "multipart/mixed; boundary=batchresponse_R");
    let want = "--batchresponse_R\r\n\
        Content-Type: multipart/mixed; boundary=changesetresponse_R_1\r\n\r\n\
        --changesetresponse_R_1\r\n\
        Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
        HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nOData-EntityId: http://h/accounts(1)\r\n\r\n\r\n\
        --changesetresponse_R_1\r\n\
        Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n\
        HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json\r\n\r\n{\"error\":{}}\r\n\
        --changesetresponse_R_1--\r\n\r\n\
        --batchresponse_R\r\n\
        Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
        HTTP/1.1 200 OK\r\n\r\n{\"value\":[]}\r\n\
        --batchresponse_R--\r\n";
    assert_eq!(String::from_utf8(framed.body).unwrap(), want);
    response_round_trip(&items);
    let bad = [ResponseItem::Response(response(None, 99, &[], ""))];
    assert_eq!(
        write_batch_response(&bad, "R").unwrap_err().to_string(),
        "part 1: status 99 is not between 100 and 599"
    );
}

fn response_item(status: u16, body: &str) -> ResponseItem {
    ResponseItem::Response(response(None, status, &[], body))
}

#[test]
fn reason_phrases_are_letters_and_spaces() {
    // DWA: /HTTP\/?\s*[\d.]*\s+(\d{3})\s+([\w\s]*)$/m (fixtures README §1.3).
    for code in 100..=599 {
        let phrase = reason_phrase(code);
        assert!(!phrase.is_empty() && phrase.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '), "{code}");
    }
    assert_eq!(reason_phrase(204), "No Content");
    assert_eq!(reason_phrase(412), "Precondition Failed");
    assert_eq!(reason_phrase(207), "Multi Status");
    assert_eq!(reason_phrase(299), "Success");
}

#[test]
fn response_status_lines() {
    let with = |line: &str| {
        let body = format!("--b\r\nContent-Type: application/http\r\n\r\n{line}\r\n--b--");
        read_batch_response(CT, body.as_bytes(), &BatchLimits::default())
            .map(|i| response_summary(&i))
            .map_err(|e| e.to_string())
    };
    assert_eq!(with("HTTP/1.1 204 No Content"), Ok("204".into()));
    assert_eq!(with("HTTP/1.1 412 Pre-condition Failed"), Ok("412".into()));
    assert_eq!(with("HTTP/1.1 200"), Ok("200".into()));
    assert_eq!(
        with("HTTP/1.1 20"),
        Err("part 1: the status line 'HTTP/1.1 20' is not 'HTTP/1.1 <3-digit code> [reason]'".into())
    );
    assert!(with("HTTP/1.1 2000").is_err());
    assert!(with("HTTP/1.1 099 X").is_err());
    assert!(with("HTTP/1.0 200 OK").is_err());
    assert!(with("GET /x HTTP/1.1").is_err());
    assert_eq!(with(""), Err("part 1: the status line '' is not 'HTTP/1.1 <3-digit code> [reason]'".into()));
}

// ---------------------------------------------------------------------------------------------
// Round trips

/// Body bytes rich in framing look-alikes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"--".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"--batch_rt".to_vec()),
        Just(b"--batch_rt--".to_vec()),
        Just(b"\r\n--batch_rt\r\n".to_vec()),
        Just(b"\n--changeset_rt_1\n".to_vec()),
        Just(b"--changeset_rt_2--".to_vec()),
        Just(b"--batchresponse_rt".to_vec()),
        Just(b"--changesetresponse_rt_1".to_vec()),
        Just(b"Content-Length: 3".to_vec()),
        Just(b"HTTP/1.1 200 OK".to_vec()),
        Just(b"{\"@odata.id\":\"$1\"}".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
        "[a-z{}\":, ]{0,12}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = "[A-Za-z0-9!#$%&'*+^_`|~.-]{1,12}".prop_filter("framing headers", |n| {
        !n.eq_ignore_ascii_case("content-length") && !n.eq_ignore_ascii_case("transfer-encoding")
    });
    let value = prop_oneof!["", "[!-~é]([ -~é\t]{0,8}[!-~é])?", "W/\"[0-9]{1,4}\""];
    proptest::collection::vec((name, value), 0..4)
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        "[!-~é][ -~é]{0,30}[!-~é]",
        "[!-~]",
        "\\$[0-9]{1,3}(/[a-z]{1,8}/\\$ref)?",
        "http://h/api/data/v9\\.2/accounts\\?\\$filter=name eq '[a-z &]{0,8}'",
    ]
}

fn content_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{1,6}"
}

fn request_part(methods: &'static [&'static str]) -> impl Strategy<Value = Part> {
    (proptest::option::of(content_id()), proptest::sample::select(methods), target(), headers(), body()).prop_map(
        |(content_id, method, target, headers, body)| Part {
            content_id,
            method: method.to_owned(),
            target,
            headers,
            body,
        },
    )
}

/// Content-IDs made unique per scope, as the reader requires.
fn dedupe<'a>(ids: impl Iterator<Item = &'a mut Option<String>>) {
    let mut seen = std::collections::HashSet::new();
    for (i, id) in ids.enumerate() {
        if let Some(text) = id
            && !seen.insert(text.clone())
        {
            *text = format!("{text}-{i}");
            seen.insert(text.clone());
        }
    }
}

fn batch_strategy() -> impl Strategy<Value = Batch> {
    let item = prop_oneof![
        request_part(&["GET", "POST", "PATCH", "PUT", "DELETE"]).prop_map(Item::Request),
        proptest::collection::vec(request_part(&["POST", "PATCH", "PUT", "DELETE"]), 1..4).prop_map(|mut parts| {
            dedupe(parts.iter_mut().map(|p| &mut p.content_id));
            Item::ChangeSet(parts)
        }),
    ];
    proptest::collection::vec(item, 0..5).prop_map(|mut items| {
        dedupe(items.iter_mut().filter_map(|i| match i {
            Item::Request(p) => Some(&mut p.content_id),
            Item::ChangeSet(_) => None,
        }));
        Batch { items }
    })
}

fn response_part() -> impl Strategy<Value = PartResponse> {
    (proptest::option::of(content_id()), 100u16..=599, headers(), body())
        .prop_map(|(content_id, status, headers, body)| PartResponse { content_id, status, headers, body })
}

fn response_strategy() -> impl Strategy<Value = Vec<ResponseItem>> {
    let item = prop_oneof![
        response_part().prop_map(ResponseItem::Response),
        proptest::collection::vec(response_part(), 1..4).prop_map(ResponseItem::ChangeSet),
    ];
    proptest::collection::vec(item, 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn read_write_round_trips(b in batch_strategy()) {
        let framed = write_batch(&b, "rt").unwrap();
        let again = read_batch(&framed.content_type, &framed.body, &BatchLimits::default());
        prop_assert_eq!(again, Ok(b));
    }

    #[test]
    fn response_read_write_round_trips(items in response_strategy()) {
        let framed = write_batch_response(&items, "rt").unwrap();
        let again = read_batch_response(&framed.content_type, &framed.body, &BatchLimits::default());
        prop_assert_eq!(again, Ok(items));
    }

    #[test]
    fn reading_lf_framing_gives_the_same_parts(b in batch_strategy()) {
        // Rewrite the line breaks of a canonical batch to bare LF: with no CR in any body, every CR
        // is framing, and the batch reads the same.
        prop_assume!(b.parts().all(|p| !p.body.contains(&b'\r')));
        let framed = write_batch(&b, "rt").unwrap();
        let lf: Vec<u8> = framed.body.iter().copied().filter(|&c| c != b'\r').collect();
        let again = read_batch(&framed.content_type, &lf, &BatchLimits::default());
        prop_assert_eq!(again, Ok(b));
    }

    #[test]
    fn arbitrary_input_never_panics(ct in "multipart/mixed; boundary=b|[ -~]{0,30}", body in body()) {
        let _ = read_batch(&ct, &body, &BatchLimits::default()).map(|b| b.check_references());
        let _ = read_batch_response(&ct, &body, &BatchLimits::default());
    }
}
