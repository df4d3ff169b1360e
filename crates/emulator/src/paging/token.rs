//! The `$skiptoken` of `@odata.nextLink` in Dataverse's paging-cookie form (spec §3.8).
//!
//! The token, decoded: `<cookie pagenumber="2" pagingcookie="…" istracking="False" />`, where
//! `pagingcookie` is the inner cookie URL-encoded twice (lower-case hex, RFC 3986 unreserved
//! characters left as they are):
//!
//! ```text
//! <cookie page="1"><name last="Fourth Coffee" first="Alpine Ski House" /><accountid last="{8151925C-…}" first="{7D51925C-…}" /></cookie>
//! ```
//!
//! One element per `$orderby` term (in order; a term through navigation is named by its path
//! with dots, `primarycontactid.fullname`), then the primary key (upper-case GUIDs in
//! braces, as Dataverse writes them); `last`/`first` are the values of the page's last and first
//! rows, XML-escaped; a NULL value is written `lastnull="1"` / `firstnull="1"` (FetchXML paging
//! cookies' form). In the link the token is escaped once more, only `<`, `>`, `"` and space, so
//! it reads exactly like the docs' example (`%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie…`).
//!
//! Decoding accepts that form and the fully re-encoded one: the outer cookie is percent-decoded
//! once and `pagingcookie` is decoded until it is XML.

/// One sort column of the cookie: its name and the page's last and first values (`None` =
/// NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// Column logical name (the element name).
    pub(crate) column: String,
    /// Value of the page's last row.
    pub(crate) last: Option<String>,
    /// Value of the page's first row.
    pub(crate) first: Option<String>,
}

/// A paging cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cookie {
    /// The number of the page the token fetches (`pagenumber`, 2 for the first nextLink).
    pub(crate) page: u32,
    /// The sort columns: the `$orderby` ones, then the primary key.
    pub(crate) keys: Vec<Key>,
}

/// `%XX` with lower-case hex for every byte outside RFC 3986's unreserved set.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (either case) once; `None` for a malformed escape or non-UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn xml_unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';')? + amp;
        let entity = &rest[amp + 1..semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => entity.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn push_value(out: &mut String, name: &str, value: Option<&str>) {
    match value {
        Some(v) => out.push_str(&format!(" {name}=\"{}\"", xml_escape(v))),
        None => out.push_str(&format!(" {name}null=\"1\"")),
    }
}

/// The token as it appears in the link.
pub(crate) fn encode_token(cookie: &Cookie) -> String {
    let mut inner = format!("<cookie page=\"{}\">", cookie.page.saturating_sub(1));
    for key in &cookie.keys {
        inner.push('<');
        inner.push_str(&key.column);
        push_value(&mut inner, "last", key.last.as_deref());
        push_value(&mut inner, "first", key.first.as_deref());
        inner.push_str(" />");
    }
    inner.push_str("</cookie>");
    let outer = format!(
        "<cookie pagenumber=\"{}\" pagingcookie=\"{}\" istracking=\"False\" />",
        cookie.page,
        encode(&encode(&inner))
    );
    let mut out = String::with_capacity(outer.len() + 32);
    for c in outer.chars() {
        match c {
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '"' => out.push_str("%22"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

/// One XML element: its name, attributes (unescaped) and whether it closes itself.
struct Element<'a> {
    name: &'a str,
    attrs: Vec<(&'a str, String)>,
    self_closing: bool,
}

/// Parses `<name a="v" …>` or `<name … />` at the start of `s` (after whitespace); returns the
/// element and the rest.
fn element(s: &str) -> Option<(Element<'_>, &str)> {
    let s = s.trim_start().strip_prefix('<')?;
    let name_end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))?;
    let (name, mut rest) = s.split_at(name_end);
    if name.is_empty() {
        return None;
    }
    let mut attrs = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("/>") {
            return Some((Element { name, attrs, self_closing: true }, r));
        }
        if let Some(r) = rest.strip_prefix('>') {
            return Some((Element { name, attrs, self_closing: false }, r));
        }
        let eq = rest.find('=')?;
        let attr = rest[..eq].trim();
        if attr.is_empty() || !attr.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let value_start = rest[eq + 1..].trim_start().strip_prefix('"')?;
        let close = value_start.find('"')?;
        attrs.push((attr, xml_unescape(&value_start[..close])?));
        rest = &value_start[close + 1..];
    }
}

fn attr<'e>(e: &'e Element<'_>, name: &str) -> Option<&'e str> {
    e.attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
}

/// A value attribute pair: `last="v"` → `Some(Some(v))`, `lastnull="1"` → `Some(None)`.
fn value(e: &Element<'_>, name: &str) -> Option<Option<String>> {
    match (attr(e, name), attr(e, &format!("{name}null"))) {
        (Some(v), None) => Some(Some(v.to_owned())),
        (None, Some("1")) => Some(None),
        _ => None,
    }
}

/// Decodes a token received in `$skiptoken`; `None` when it is not a paging cookie.
pub(crate) fn decode_token(raw: &str) -> Option<Cookie> {
    let outer = decode(raw)?;
    let (cookie, rest) = element(&outer)?;
    if cookie.name != "cookie" || !cookie.self_closing || !rest.trim().is_empty() {
        return None;
    }
    let page: u32 = attr(&cookie, "pagenumber")?.parse().ok().filter(|p| *p >= 2)?;
    let mut inner = attr(&cookie, "pagingcookie")?.to_owned();
    for _ in 0..3 {
        if inner.starts_with('<') {
            break;
        }
        inner = decode(&inner)?;
    }
    let (head, mut rest) = element(&inner)?;
    if head.name != "cookie" || head.self_closing {
        return None;
    }
    let mut keys = Vec::new();
    loop {
        if let Some(tail) = rest.trim_start().strip_prefix("</cookie>") {
            if !tail.trim().is_empty() || keys.is_empty() {
                return None;
            }
            return Some(Cookie { page, keys });
        }
        let (e, r) = element(rest)?;
        if !e.self_closing || keys.len() >= 64 {
            return None;
        }
        keys.push(Key { column: e.name.to_owned(), last: value(&e, "last")?, first: value(&e, "first")? });
        rest = r;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cookie {
        Cookie {
            page: 2,
            keys: vec![Key {
                column: "accountid".into(),
                last: Some("{8151925C-CDE2-E411-80DB-00155D2A68CB}".into()),
                first: Some("{7D51925C-CDE2-E411-80DB-00155D2A68CB}".into()),
            }],
        }
    }

    #[test]
    fn encodes_like_the_docs_example() {
        // Spec §3.8: the docs' nextLink token, byte for byte.
        let expected = "%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%253caccountid%2520last%253d%2522%257b8151925C-CDE2-E411-80DB-00155D2A68CB%257d%2522%2520first%253d%2522%257b7D51925C-CDE2-E411-80DB-00155D2A68CB%257d%2522%2520%252f%253e%253c%252fcookie%253e%22%20istracking=%22False%22%20/%3E";
        assert_eq!(encode_token(&sample()), expected);
        assert_eq!(decode_token(expected), Some(sample()));
    }

    #[test]
    fn round_trips_awkward_values_and_nulls() {
        let cookie = Cookie {
            page: 7,
            keys: vec![
                Key { column: "name".into(), last: Some("A&B <\"x\"> 'y' %20 + ü\n".into()), first: None },
                Key { column: "revenue".into(), last: None, first: Some("-12.5".into()) },
                Key { column: "accountid".into(), last: Some("{X}".into()), first: Some("{Y}".into()) },
            ],
        };
        let token = encode_token(&cookie);
        assert!(token.bytes().all(|b| b.is_ascii_graphic() && b != b'&' && b != b'#'), "{token}");
        assert_eq!(decode_token(&token), Some(cookie.clone()));
        // A client (or proxy) that re-encodes every reserved character still round-trips.
        let reencoded = encode(&decode(&token).unwrap());
        assert_eq!(decode_token(&reencoded), Some(cookie));
    }

    #[test]
    fn refuses_what_is_not_a_cookie() {
        for bad in [
            "",
            "abc",
            "%3Ccookie%20pagenumber=%221%22%20pagingcookie=%22%22%20/%3E",
            "%3Ccookie%20pagenumber=%222%22%20/%3E",
            "%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%253e%253c%252fcookie%253e%22%20/%3E",
            "%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22x%22%20/%3E",
            "%ZZ",
            "%3Cx%20/%3E",
        ] {
            assert_eq!(decode_token(bad), None, "{bad}");
        }
    }
}
