//! A batch's parts as typed requests (design §6.2), and the canonical batch printed from them.
//!
//! [`parse_batch`] frames the body ([`super::read_batch`]), checks `$n` references, then parses
//! every part with the one request parser ([`crate::parse_request`]), as if it had been sent
//! alone under the outer request's API version:
//! - an inner target is an absolute URL (its origin is returned for the caller to check against
//!   the client-facing base), path-absolute (`/api/data/v9.2/accounts`), service-root-relative
//!   (`accounts`), or `$n[/…]` — the row a create with Content-ID `n` earlier in the same change
//!   set made. A `$n` target is parsed as that create's table with the nil GUID as key, and
//!   [`TypedPart::target_ref`] says so: executors put the created id in its place, printers
//!   write `$n` back. Another API version or prefix is refused;
//! - inner targets as some clients send them (the Python SDK writes them unencoded:
//!   `$filter=name eq 'O''Neil & Co'`) are normalised before parsing: a space becomes `%20`, and
//!   an `&` inside a quoted literal `%26`; everything else is read as in a direct request;
//! - a part that is itself a `$batch` is refused; a part the parser routes to "not supported
//!   yet" stays [`crate::Operation::Unsupported`] for the caller to refuse or answer.
//!
//! `$n` references are checked on the typed requests: a target or a body reference (a bind, an
//! associate's `@odata.id`) must name a create earlier in the same change set.
//!
//! Every error names the part (`part 3 (Content-ID 2): …`) and is a 400.

use super::{Batch, BatchLimits, Item, Part, content_id_ref, read_batch};
use crate::metadata::Schema;
use crate::parse::{ParseError, ParseLimits, RawRequest, parse_request};
use crate::print::print_request_for;
use crate::record::Reference;
use crate::request::{ApiVersion, Operation, Request, RequestKind, RowKey};
use uuid::Uuid;

/// A parsed `$batch` request.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequests {
    /// The items, in order.
    pub items: Vec<TypedItem>,
    /// `Prefer: odata.continue-on-error` on the outer request.
    pub continue_on_error: bool,
    /// The outer request's API version.
    pub version: ApiVersion,
}

/// A request or a change set of requests.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedItem {
    /// A request outside any change set.
    Request(Box<TypedPart>),
    /// Requests that succeed or fail together.
    ChangeSet(Vec<TypedPart>),
}

/// One part as a typed request.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedPart {
    /// Position in the batch, from 1, change sets flattened.
    pub number: usize,
    /// The part's Content-ID.
    pub content_id: Option<String>,
    /// When the target was `$n[/…]`: `n`. The request's row key is then the nil GUID.
    pub target_ref: Option<String>,
    /// When the target was an absolute URL: its `scheme://host[:port]`.
    pub origin: Option<String>,
    /// The request.
    pub request: Request,
}

impl BatchRequests {
    /// Every part in order, change sets flattened.
    pub fn parts(&self) -> impl Iterator<Item = &TypedPart> {
        self.items.iter().flat_map(|item| match item {
            TypedItem::Request(p) => std::slice::from_ref(p.as_ref()),
            TypedItem::ChangeSet(ps) => ps.as_slice(),
        })
    }

    /// Every part in order, change sets flattened, to adjust before forwarding.
    pub fn parts_mut(&mut self) -> impl Iterator<Item = &mut TypedPart> {
        self.items.iter_mut().flat_map(|item| match item {
            TypedItem::Request(p) => std::slice::from_mut(p.as_mut()),
            TypedItem::ChangeSet(ps) => ps.as_mut_slice(),
        })
    }
}

fn part_error(number: usize, content_id: Option<&str>, message: impl std::fmt::Display) -> ParseError {
    match content_id {
        Some(id) => ParseError::Syntax(format!("part {number} (Content-ID {id}): {message}")),
        None => ParseError::Syntax(format!("part {number}: {message}")),
    }
}

/// Parses a `POST …/$batch` request (see the module doc).
pub fn parse_batch(schema: &Schema, raw: &RawRequest<'_>, limits: &ParseLimits) -> Result<BatchRequests, ParseError> {
    let outer = parse_request(schema, raw, limits)?;
    if outer.kind() != RequestKind::Batch {
        return Err(ParseError::Syntax("This request is not a $batch request".into()));
    }
    if raw.query.is_some_and(|q| !q.is_empty()) {
        return Err(ParseError::Syntax("A $batch request takes no query options".into()));
    }
    let mut types = raw.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    let content_type = match (types.next(), types.next()) {
        (Some((_, v)), None) => *v,
        (None, _) => return Err(ParseError::Syntax("A $batch request needs a multipart/mixed Content-Type".into())),
        (Some(_), Some(_)) => {
            return Err(ParseError::Syntax("The header 'Content-Type' was sent more than once".into()));
        }
    };
    let framed =
        read_batch(content_type, raw.body, &BatchLimits::default()).map_err(|e| ParseError::Syntax(e.to_string()))?;
    let mut number = 0;
    let mut items = Vec::with_capacity(framed.items.len());
    for item in &framed.items {
        match item {
            Item::Request(part) => {
                number += 1;
                items.push(TypedItem::Request(Box::new(typed_part(schema, outer.version, number, part, &[], limits)?)));
            }
            Item::ChangeSet(parts) => {
                let mut created: Vec<(String, String)> = Vec::new();
                let mut typed = Vec::with_capacity(parts.len());
                for part in parts {
                    number += 1;
                    let t = typed_part(schema, outer.version, number, part, &created, limits)?;
                    if let (Some(id), Operation::Create { table, .. }) = (&t.content_id, &t.request.operation) {
                        created.push((id.clone(), table.clone()));
                    }
                    typed.push(t);
                }
                items.push(TypedItem::ChangeSet(typed));
            }
        }
    }
    Ok(BatchRequests { items, continue_on_error: outer.headers.prefer.continue_on_error, version: outer.version })
}

fn typed_part(
    schema: &Schema,
    version: ApiVersion,
    number: usize,
    part: &Part,
    created: &[(String, String)],
    limits: &ParseLimits,
) -> Result<TypedPart, ParseError> {
    let cid = part.content_id.as_deref();
    let fail = |m: &dyn std::fmt::Display| part_error(number, cid, m);
    let target = normalise(&part.target);
    let (origin, target_ref, relative) = if let Some((id, rest)) = content_id_ref(&target) {
        let table = created.iter().find(|(c, _)| c == id).map(|(_, t)| t).ok_or_else(|| {
            fail(&format!("Content-ID Reference: '${id}' does not name a create earlier in this change set"))
        })?;
        let set = schema.table(table).map(|t| t.set_name.clone()).unwrap_or_default();
        (None, Some(id.to_owned()), format!("{set}({}){rest}", Uuid::nil()))
    } else {
        let (origin, path) = match target.split_once("://") {
            Some((scheme, rest)) => {
                let slash = rest.find('/').unwrap_or(rest.len());
                (Some(format!("{}://{}", scheme.to_ascii_lowercase(), &rest[..slash])), rest[slash..].to_owned())
            }
            None => (None, target.clone()),
        };
        let relative = match path.strip_prefix("/api/data/") {
            Some(versioned) => {
                let (v, rest) = versioned.split_once('/').unwrap_or((versioned, ""));
                if v != version.as_str() {
                    return Err(fail(&format!(
                        "the inner URL uses API version '{v}', the batch was sent to {}",
                        version.as_str()
                    )));
                }
                rest.to_owned()
            }
            None if origin.is_some() || path.starts_with('/') => {
                return Err(fail(&format!(
                    "the inner URL '{}' is not under /api/data/{}/",
                    part.target,
                    version.as_str()
                )));
            }
            None => path,
        };
        (origin, None, relative)
    };
    let (path, query) = match relative.split_once('?') {
        Some((p, q)) => (format!("/api/data/{}/{p}", version.as_str()), Some(q.to_owned())),
        None => (format!("/api/data/{}/{relative}", version.as_str()), None),
    };
    let headers: Vec<(&str, &str)> = part.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let raw =
        RawRequest { method: &part.method, path: &path, query: query.as_deref(), headers: &headers, body: &part.body };
    let request = parse_request(schema, &raw, limits).map_err(|e| fail(&e))?;
    if request.kind() == RequestKind::Batch {
        return Err(fail(&"a batch cannot contain another batch"));
    }
    if target_ref.is_some() && !matches!(request.operation.key(), Some(RowKey::Id(id)) if id.is_nil()) {
        return Err(fail(&"a $n reference must address the created row itself"));
    }
    // `$n` in a body (a bind, an associate's `@odata.id`) must name a row created earlier in this
    // change set (spec §7.1; design §6.2 refuses references to later or unknown parts).
    for r in request.operation.references() {
        if let Reference::ContentId(id) = r
            && !created.iter().any(|(c, _)| c == id)
        {
            return Err(fail(&format!("Content-ID Reference: '${id}' does not exist in the batch context.")));
        }
    }
    Ok(TypedPart { number, content_id: part.content_id.clone(), target_ref, origin, request })
}

/// A space becomes `%20`; an `&` inside a quoted literal becomes `%26` (see the module doc).
fn normalise(target: &str) -> String {
    if !target.contains(' ') && !target.contains('&') {
        return target.to_owned();
    }
    let mut out = String::with_capacity(target.len());
    let (mut quoted, mut query) = (false, false);
    for c in target.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '?' => {
                query = true;
                out.push(c);
            }
            '\'' if query => {
                quoted = !quoted;
                out.push(c);
            }
            '&' if quoted => out.push_str("%26"),
            _ => out.push(c),
        }
    }
    out
}

/// The framed batch of `batch` printed for forwarding to the service at `service_root`: each
/// part printed canonically ([`print_request_for`]), `$n` targets written back, Content-IDs
/// kept. Parts that cannot be printed (not supported) are an error: a caller forwards only
/// batches whose every part it authorized.
pub fn print_batch(schema: &Schema, batch: &BatchRequests, service_root: &str) -> Result<Batch, ParseError> {
    let print = |p: &TypedPart| -> Result<Part, ParseError> {
        let printed = print_request_for(schema, &p.request, Some(service_root))
            .ok_or_else(|| part_error(p.number, p.content_id.as_deref(), "this request cannot be forwarded"))?;
        let target = match &p.target_ref {
            Some(id) => {
                let nil = format!("({})", Uuid::nil());
                let after = printed.target.split_once(&nil).map_or("", |(_, rest)| rest);
                format!("${id}{after}")
            }
            None => format!("{service_root}/{}", printed.target),
        };
        Ok(Part {
            content_id: p.content_id.clone(),
            method: p.request.method.as_str().to_owned(),
            target,
            headers: printed.headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect(),
            body: printed.body.map(String::into_bytes).unwrap_or_default(),
        })
    };
    let mut items = Vec::with_capacity(batch.items.len());
    for item in &batch.items {
        items.push(match item {
            TypedItem::Request(p) => Item::Request(print(p)?),
            TypedItem::ChangeSet(ps) => Item::ChangeSet(ps.iter().map(print).collect::<Result<_, _>>()?),
        });
    }
    Ok(Batch { items })
}
