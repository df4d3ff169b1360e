//! The request parser: method, path, query options, headers and body → [`Request`].
//!
//! Every one of the 22 request kinds of spec §0 and every system query option is recognised by
//! name. What lies outside the supported slice becomes [`Operation::Unsupported`] without its
//! value being parsed; malformed syntax inside the slice is a [`ParseError::Syntax`] (400).

mod apply;
mod bind;
mod body;
mod expand;
mod filter;
mod headers;
mod keys;
mod metadata;
mod options;
pub(crate) use options::unknown_property;
mod message;
mod operations;
mod sql;
mod url;

use crate::error::{DataverseError, codes};
use crate::metadata::Navigation;
use crate::metadata::{Schema, Table};
use crate::request::{ApiVersion, Message, Method, Operation, PathTarget, Request, RequestKind, RowKey};
use options::Options;
use std::borrow::Cow;
use uuid::Uuid;

/// Limits on what the parser accepts (spec §12).
#[derive(Debug, Clone)]
pub struct ParseLimits {
    /// Longest accepted URL (path + query), in bytes.
    pub max_url: usize,
    /// Longest accepted path segment, in characters.
    pub max_segment: usize,
    /// Largest accepted body, in bytes.
    pub max_body: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_url: 32 * 1024, max_segment: 260, max_body: 4 * 1024 * 1024 }
    }
}

/// An HTTP request as received, before parsing.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// Method name.
    pub method: &'a str,
    /// Path, still percent-encoded, without the query string.
    pub path: &'a str,
    /// Query string without `?`, still encoded.
    pub query: Option<&'a str>,
    /// Headers as `(name, value)`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Body bytes.
    pub body: &'a [u8],
}

/// Why a request could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Malformed syntax (400).
    #[error("{0}")]
    Syntax(String),
    /// A body that is not a valid payload (400) with its Dataverse code.
    #[error("{message}")]
    Payload {
        /// Hex code.
        code: &'static str,
        /// Message.
        message: String,
    },
    /// No such resource (404).
    #[error("{0}")]
    NotFound(String),
    /// The method is not allowed on the resource (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The URL or body is larger than Dataverse accepts (413/414).
    #[error("{message}")]
    TooLarge {
        /// 413 or 414.
        status: u16,
        /// Message.
        message: String,
    },
    /// Recognised but not supported yet; becomes [`Operation::Unsupported`] at the top level.
    #[error("{0}")]
    Unsupported(String),
}

impl ParseError {
    /// The Dataverse error an emulator answers with.
    pub fn to_dataverse(&self) -> DataverseError {
        match self {
            ParseError::Syntax(m) => DataverseError::bad_request(m.clone()),
            ParseError::Payload { code, message } => DataverseError::new(400, code, message.clone()),
            ParseError::NotFound(m) => DataverseError::new(404, codes::ODATA_PARSE, m.clone()),
            ParseError::MethodNotAllowed(m) => DataverseError::new(405, codes::ODATA_PARSE, m.clone()),
            ParseError::TooLarge { status, message } => {
                DataverseError::new(*status, codes::ODATA_PARSE, message.clone())
            }
            ParseError::Unsupported(m) => DataverseError::new(501, codes::ODATA_PARSE, m.clone()),
        }
    }
}

/// Names of headers refused for every agent (impersonation, bypass, unknown `MSCRM.*`, method
/// overrides), as sent; checked by the gateway before anything else is parsed.
pub fn refused_headers<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    pairs.into_iter().filter(|(n, _)| headers::is_refused(&n.to_ascii_lowercase())).map(|(n, _)| n.to_owned()).collect()
}

/// Parses a raw request against a schema. The path must start with `/api/data/v9.x/`.
pub fn parse_request(schema: &Schema, raw: &RawRequest<'_>, limits: &ParseLimits) -> Result<Request, ParseError> {
    let url_len = raw.path.len() + raw.query.map_or(0, |q| q.len() + 1);
    if url_len > limits.max_url {
        return Err(ParseError::TooLarge {
            status: 414,
            message: format!("The URL is longer than {} bytes", limits.max_url),
        });
    }
    if raw.body.len() > limits.max_body {
        return Err(ParseError::TooLarge {
            status: 413,
            message: format!("The request body is larger than {} bytes", limits.max_body),
        });
    }
    let method = Method::parse(raw.method)
        .ok_or_else(|| ParseError::MethodNotAllowed(format!("The HTTP method '{}' is not supported", raw.method)))?;
    let segments = url::path_segments(raw.path)?;
    if segments.iter().any(|s| s.chars().count() > limits.max_segment) {
        return Err(ParseError::TooLarge {
            status: 414,
            message: format!("A path segment is longer than {} characters", limits.max_segment),
        });
    }
    let version = match segments.as_slice() {
        [api, data, v, ..] if api == "api" && data == "data" => ApiVersion::parse(v)
            .ok_or_else(|| ParseError::NotFound(format!("The API version '{v}' is not supported")))?,
        _ => return Err(ParseError::NotFound("The path does not start with /api/data/v9.x/".into())),
    };
    let headers = headers::parse_headers(raw.headers.iter().copied())?;
    let options = Options::parse(raw.query.unwrap_or(""))?;
    // Read only by a raw-value write (`…/{column}/$value`); two of them make it unknown.
    let mut content_types = raw.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    let content_type = match (content_types.next(), content_types.next()) {
        (Some((_, v)), None) => Some(*v),
        _ => None,
    };
    let route = Route {
        schema,
        method,
        segments: &segments[3..],
        options: &options,
        body: raw.body,
        content_type,
        headers: &headers,
    };
    let operation = match route.operation() {
        Ok(op) => op,
        Err(Routed::Unsupported(kind, reason)) => Operation::Unsupported { kind, reason },
        Err(Routed::Error(e)) => return Err(e),
    };
    let takes_body = matches!(
        operation,
        Operation::Create { .. }
            | Operation::Update { .. }
            | Operation::SetProperty { value: Some(_), .. }
            | Operation::Relate { associate: true, .. }
            | Operation::Message(
                Message::CloseOpportunity { .. }
                    | Message::CloseIncident { .. }
                    | Message::CreateMultiple { .. }
                    | Message::UpdateMultiple { .. }
                    | Message::UpsertMultiple { .. }
                    | Message::BulkDelete { .. }
                    | Message::QualifyLead { .. }
                    | Message::Merge { .. }
                    | Message::Share { .. }
                    | Message::Custom { function: false, .. }
            )
            | Operation::Unsupported { .. }
    );
    if !takes_body && !raw.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Syntax(format!("A {} request to this resource takes no body", method.as_str())));
    }
    let request = Request { method, version, operation, headers };
    // Parameter aliases, `sql=`, `$apply` and FetchXML can print longer than they were sent (an
    // alias used twice, an `IN` list as `or`s, FetchXML's canonical attributes); what is
    // forwarded must fit the same limit.
    let expands =
        !options.aliases().is_empty() || options.has("sql") || options.has("$apply") || options.has("fetchXml");
    if expands
        && let Some(target) = crate::print::print_target(schema, &request, crate::print::Redact::Nothing)
        && format!("/api/data/{}/", version.as_str()).len() + target.len() > limits.max_url
    {
        return Err(ParseError::TooLarge {
            status: 414,
            message: format!("The query expands to a URL longer than {} bytes", limits.max_url),
        });
    }
    Ok(request)
}

/// Why routing stopped.
enum Routed {
    Unsupported(RequestKind, String),
    Error(ParseError),
}

impl From<ParseError> for Routed {
    fn from(e: ParseError) -> Self {
        Routed::Error(e)
    }
}

struct Route<'a> {
    schema: &'a Schema,
    method: Method,
    segments: &'a [Cow<'a, str>],
    options: &'a Options<'a>,
    body: &'a [u8],
    content_type: Option<&'a str>,
    headers: &'a crate::request::Headers,
}

const METADATA_SETS: &[&str] =
    &["EntityDefinitions", "RelationshipDefinitions", "GlobalOptionSetDefinitions", "ManagedPropertyDefinitions"];

const NS: &str = "Microsoft.Dynamics.CRM.";

impl Route<'_> {
    fn unsupported<T>(&self, kind: RequestKind, reason: impl Into<String>) -> Result<T, Routed> {
        Err(Routed::Unsupported(kind, reason.into()))
    }

    fn not_allowed<T>(&self, what: &str) -> Result<T, Routed> {
        Err(Routed::Error(ParseError::MethodNotAllowed(format!(
            "The HTTP method {} is not allowed on {what}",
            self.method.as_str()
        ))))
    }

    fn operation(&self) -> Result<Operation, Routed> {
        let Some(first) = self.segments.first() else {
            return match self.method {
                Method::Get => {
                    self.options.only(&[], "the service document")?;
                    Ok(Operation::ServiceDocument)
                }
                _ => self.not_allowed("the service document"),
            };
        };
        let (name, key) = split_key(first)?;
        match name {
            "$metadata" => match self.method {
                Method::Get => {
                    if self.segments.len() > 1 || key.is_some() {
                        let segment = self.segments.get(1).map_or(first.as_ref(), |s| s.as_ref());
                        return Err(
                            ParseError::NotFound(format!("Resource not found for the segment '{segment}'.")).into()
                        );
                    }
                    self.refuse_unsupported_options(RequestKind::MetadataCsdl)?;
                    self.check_prefer(&[])?;
                    self.options.only(&[], "$metadata")?;
                    Ok(Operation::MetadataDocument)
                }
                _ => self.not_allowed("$metadata"),
            },
            "$batch" => match self.method {
                Method::Post => self.unsupported(RequestKind::Batch, "$batch is not supported yet"),
                _ => self.not_allowed("$batch"),
            },
            "EntityDefinitions" | "RelationshipDefinitions" | "GlobalOptionSetDefinitions"
                if self.method == Method::Get =>
            {
                self.check_prefer(&[])?;
                match metadata::read(self.segments, key, self.options)? {
                    Some(read) => Ok(Operation::Metadata(read)),
                    None => {
                        self.unsupported(RequestKind::MetadataDefinitions, format!("this {name} read is not supported"))
                    }
                }
            }
            n if METADATA_SETS.contains(&n) => {
                let reason = if self.method == Method::Get {
                    format!("{n} is not supported yet")
                } else {
                    "metadata writes are refused for every agent".to_owned()
                };
                self.unsupported(RequestKind::MetadataDefinitions, reason)
            }
            _ => match self.schema.table_by_set(name) {
                Some(table) => self.table_route(table, key),
                None => self.operation_route(name, key),
            },
        }
    }

    fn table_route(&self, table: &Table, key: Option<&str>) -> Result<Operation, Routed> {
        let rest = &self.segments[1..];
        let Some(key) = key else {
            return match rest {
                [] => self.collection(table),
                [c] if c == "$count" => match self.method {
                    Method::Get => self.count(table),
                    _ => self.not_allowed("$count"),
                },
                [op] if op.starts_with(NS) => self.bound_message(table, None, op),
                _ => Err(ParseError::NotFound(format!("Resource not found for the segment '{}'.", rest[0])).into()),
            };
        };
        let key = self.row_key(table, key)?;
        match rest {
            [] => self.row(table, key),
            [op] if op.starts_with(NS) => self.bound_message(table, Some(key), op),
            [op, ..] if op.starts_with(NS) => self.bound_operation(op),
            [.., last] if last == "$ref" => match self.method {
                Method::Post | Method::Put | Method::Delete => self.relate(table, key, rest),
                Method::Get => self.related(table, key, rest),
                Method::Patch => self.not_allowed("$ref"),
            },
            [prop, ..] => {
                let (prop_name, _) = split_key(prop)?;
                let known = table.column_by_odata_name(prop_name).is_some()
                    || self.schema.navigation(&table.logical_name, prop_name).is_some();
                if !known {
                    return Err(
                        ParseError::NotFound(format!("Resource not found for the segment '{prop_name}'.")).into()
                    );
                }
                match self.method {
                    Method::Get => self.related(table, key, rest),
                    Method::Put | Method::Delete => self.set_property(table, key, rest),
                    _ => self.not_allowed("a property"),
                }
            }
        }
    }

    /// `GET /{set}({key})/{column}[/$value]` or `/{navigation}[/$ref|/$count]` (spec §2.5).
    fn related(&self, table: &Table, key: RowKey, rest: &[Cow<'_, str>]) -> Result<Operation, Routed> {
        let kind = RequestKind::RetrieveProperty;
        let Some((first, tail)) = rest.split_first() else { return self.not_allowed("a row") };
        if first.contains('(') {
            return self.member(table, key, first, tail);
        }
        let suffix = match tail {
            [] => None,
            [s] if s == "$ref" || s == "$count" || s == "$value" => Some(s.as_ref()),
            _ => return self.unsupported(kind, "paths longer than one navigation property are not supported yet"),
        };
        self.refuse_unsupported_options(kind)?;
        let make = |target| Operation::RetrieveProperty { table: table.logical_name.clone(), key: key.clone(), target };
        if let Some(column) = table.column_by_odata_name(first) {
            if !matches!(suffix, None | Some("$value")) {
                return Err(ParseError::Syntax(format!("'{first}' is a column: only /$value may follow it")).into());
            }
            self.check_prefer(&[])?;
            self.options.only(&[], "a property")?;
            return Ok(make(PathTarget::Column { column: column.logical_name.clone(), raw: suffix.is_some() }));
        }
        let not_found = || ParseError::NotFound(format!("Resource not found for the segment '{first}'."));
        let navigation = self.schema.navigation(&table.logical_name, first).ok_or_else(not_found)?;
        let related = self.schema.table(navigation.target()).ok_or_else(not_found)?;
        Ok(make(match (navigation, suffix) {
            (Navigation::Single { .. }, None | Some("$ref")) => {
                let refs_only = suffix.is_some();
                self.check_prefer(&[])?;
                self.options.only(if refs_only { &[] } else { &["$select", "$expand"] }, "a related row")?;
                PathTarget::Single {
                    navigation: first.to_string(),
                    table: related.logical_name.clone(),
                    refs_only,
                    select: self.options.select(related)?,
                    expand: self.options.expand(self.schema, related)?,
                }
            }
            (Navigation::Collection { .. } | Navigation::Many { .. }, None | Some("$ref") | Some("$count")) => {
                let (refs_only, count_only) = (suffix == Some("$ref"), suffix == Some("$count"));
                let allowed: &[&str] = match suffix {
                    None => &["$select", "$filter", "$orderby", "$top", "$count", "$skiptoken", "$expand", "@aliases"],
                    Some("$count") => &["$filter", "@aliases"],
                    _ => &[],
                };
                self.check_prefer(if suffix.is_none() { &["maxpagesize"] } else { &[] })?;
                self.options.only(allowed, "related rows")?;
                PathTarget::Collection {
                    navigation: first.to_string(),
                    query: self.options.query(self.schema, related)?,
                    refs_only,
                    count_only,
                }
            }
            _ => {
                return Err(
                    ParseError::Syntax(format!("'{first}' is a navigation property: /$value does not apply")).into()
                );
            }
        }))
    }

    /// `$ref` writes (spec §5, see [`Operation::Relate`]).
    fn relate(&self, table: &Table, key: RowKey, rest: &[Cow<'_, str>]) -> Result<Operation, Routed> {
        let associate = self.method != Method::Delete;
        let kind = if associate { RequestKind::Associate } else { RequestKind::Disassociate };
        let [segment, _] = rest else {
            return self.unsupported(kind, "a $ref path must be {set}(key)/{navigation}/$ref");
        };
        let (name, related_key) = split_key(segment)?;
        let not_found = || ParseError::NotFound(format!("Resource not found for the segment '{name}'."));
        let navigation = self.schema.navigation(&table.logical_name, name).ok_or_else(not_found)?;
        let related = self.schema.table(navigation.target()).ok_or_else(not_found)?;
        let (single, link) = match &navigation {
            Navigation::Single { column, .. } => (true, crate::record::Link::Lookup((*column).to_owned())),
            collection => (false, crate::record::Link::of(collection).ok_or_else(not_found)?),
        };
        self.refuse_unsupported_options(kind)?;
        self.check_prefer(&[])?;
        let target = match (self.method, single, related_key) {
            (Method::Post, false, None) | (Method::Put, true, None) => {
                self.options.only(&[], "a $ref write")?;
                Some(body::parse_reference_body(related, self.body)?)
            }
            (Method::Delete, true, None) => {
                self.options.only(&[], "a $ref delete")?;
                None
            }
            (Method::Delete, false, Some(k)) => {
                self.options.only(&[], "a $ref delete")?;
                Some(crate::record::Reference::Row { key: self.row_key(related, k)?, origin: None })
            }
            (Method::Delete, false, None) => {
                self.options.only(&["$id"], "a $ref delete")?;
                let id = self.options.raw("$id").ok_or_else(|| {
                    ParseError::Syntax(format!(
                        "Disassociating from '{name}' needs the related row: …/{name}(id)/$ref or $id="
                    ))
                })?;
                Some(bind::reference(related, id)?)
            }
            (Method::Post, true, _) => {
                return Err(
                    ParseError::Syntax(format!("'{name}' is single-valued: associate with PUT …/{name}/$ref")).into()
                );
            }
            (Method::Put, false, _) => {
                return Err(ParseError::Syntax(format!(
                    "'{name}' is collection-valued: associate with POST …/{name}/$ref"
                ))
                .into());
            }
            _ => return Err(ParseError::Syntax(format!("The segment '{segment}' takes no key here")).into()),
        };
        Ok(Operation::Relate {
            table: table.logical_name.clone(),
            key,
            navigation: name.to_owned(),
            related: related.logical_name.clone(),
            link,
            single,
            target,
            associate,
        })
    }

    /// `PUT /{set}({key})/{column}` with `{"value": …}`, or `DELETE` of it (spec §2.6): one
    /// settable column that is not a lookup (lookups change through `$ref` or `@odata.bind`).
    fn set_property(&self, table: &Table, key: RowKey, rest: &[Cow<'_, str>]) -> Result<Operation, Routed> {
        let kind = if self.method == Method::Put { RequestKind::UpdateProperty } else { RequestKind::ClearProperty };
        let (name, raw) = match rest {
            [name] => (name, false),
            [name, v] if v == "$value" => (name, true),
            _ => return self.unsupported(kind, "only a column directly under the row can be set or cleared"),
        };
        self.refuse_unsupported_options(kind)?;
        self.check_prefer(&[])?;
        self.options.only(&[], "a single property")?;
        let Some(column) = table.column_by_odata_name(name).filter(|c| !c.is_lookup()) else {
            return Err(ParseError::Syntax(format!(
                "'{name}' is not a column of {} that can be set alone (lookups are set with @odata.bind or $ref)",
                table.logical_name
            ))
            .into());
        };
        let value = match self.method {
            Method::Put if raw => Some(body::parse_raw_property(table, column, self.content_type, self.body)?),
            Method::Put => Some(body::parse_property(table, column, self.body)?),
            _ => {
                if !self.body.iter().all(u8::is_ascii_whitespace) {
                    return Err(ParseError::Syntax("Clearing a property takes no body".into()).into());
                }
                if !column.valid_for_update {
                    return Err(ParseError::Payload {
                        code: codes::PAYLOAD_ERROR,
                        message: format!("the column '{name}' is read-only"),
                    }
                    .into());
                }
                None
            }
        };
        Ok(Operation::SetProperty {
            table: table.logical_name.clone(),
            key,
            column: column.logical_name.clone(),
            value,
        })
    }

    /// `GET /{set}({key})/{collection-valued navigation}({related key})`: one related row.
    fn member(&self, table: &Table, key: RowKey, segment: &str, tail: &[Cow<'_, str>]) -> Result<Operation, Routed> {
        let kind = RequestKind::RetrieveProperty;
        let (name, related_key) = split_key(segment)?;
        let not_found = || ParseError::NotFound(format!("Resource not found for the segment '{name}'."));
        let navigation = self.schema.navigation(&table.logical_name, name).ok_or_else(not_found)?;
        let (Navigation::Collection { target, .. } | Navigation::Many { target, .. }) = navigation else {
            return Err(ParseError::Syntax(format!(
                "'{name}' is single-valued: it takes no key (use {name} or {name}/$ref)"
            ))
            .into());
        };
        if !tail.is_empty() {
            return self.unsupported(kind, "paths beyond a related row addressed by key are not supported yet");
        }
        let related = self.schema.table(target).ok_or_else(not_found)?;
        let related_key = self.row_key(related, related_key.unwrap_or_default())?;
        self.refuse_unsupported_options(kind)?;
        self.check_prefer(&[])?;
        self.options.only(&["$select", "$expand"], "a related row")?;
        Ok(Operation::RetrieveProperty {
            table: table.logical_name.clone(),
            key,
            target: PathTarget::Member {
                navigation: name.to_owned(),
                table: related.logical_name.clone(),
                key: related_key,
                select: self.options.select(related)?,
                expand: self.options.expand(self.schema, related)?,
            },
        })
    }

    fn bound_operation(&self, op: &str) -> Result<Operation, Routed> {
        let name = op.trim_start_matches(NS);
        let name = name.split('(').next().unwrap_or(name);
        match self.method {
            Method::Get => {
                self.unsupported(RequestKind::BoundFunction, format!("the function {name} is not supported yet"))
            }
            Method::Post => {
                self.unsupported(RequestKind::BoundAction, format!("the action {name} is not supported yet"))
            }
            _ => self.not_allowed(&format!("the operation {name}")),
        }
    }

    /// A row key: a GUID, or an alternate key defined on the table.
    fn row_key(&self, table: &Table, key: &str) -> Result<RowKey, Routed> {
        keys::row_key(table, key).map_err(Routed::Error)
    }

    fn collection(&self, table: &Table) -> Result<Operation, Routed> {
        match self.method {
            Method::Get => {
                if let Some(text) = self.options.raw("fetchXml") {
                    self.check_prefer(&["maxpagesize"])?;
                    self.options.only(&["fetchXml"], "a FetchXML query")?;
                    return match crate::fetch::parse(text, self.schema, table) {
                        Ok(f) => Ok(Operation::Fetch(f)),
                        Err(crate::fetch::FetchError::Invalid(m)) => Err(ParseError::Syntax(m).into()),
                        Err(crate::fetch::FetchError::Unsupported(m)) => {
                            self.unsupported(RequestKind::FetchXmlQuery, m)
                        }
                    };
                }
                if self.options.has("$deltatoken") || self.headers.prefer.track_changes {
                    return self.changes(table);
                }
                self.refuse_unsupported_options(RequestKind::Query)?;
                self.check_prefer(&["maxpagesize"])?;
                self.options.only(
                    &[
                        "$select",
                        "$filter",
                        "$orderby",
                        "$top",
                        "$count",
                        "$skiptoken",
                        "$expand",
                        "$apply",
                        "sql",
                        "@aliases",
                    ],
                    "a collection query",
                )?;
                self.options.collection(self.schema, table)
            }
            Method::Post => {
                self.refuse_unsupported_options(RequestKind::Create)?;
                self.check_prefer(&["return"])?;
                self.options.only(&["$select", "$expand"], "a create")?;
                let record = body::parse_record(self.schema, table, self.body, body::Write::Create)?;
                let select = self.options.select(table)?;
                let expand = self.representation_expand(table)?;
                Ok(Operation::Create { table: table.logical_name.clone(), record, select, expand })
            }
            _ => self.not_allowed(&format!("the collection {}", table.set_name)),
        }
    }

    fn count(&self, table: &Table) -> Result<Operation, Routed> {
        self.refuse_unsupported_options(RequestKind::Count)?;
        self.check_prefer(&[])?;
        self.options.only(&["$filter", "@aliases"], "$count")?;
        Ok(Operation::Count(self.options.query(self.schema, table)?))
    }

    fn row(&self, table: &Table, key: RowKey) -> Result<Operation, Routed> {
        let t = table.logical_name.clone();
        match self.method {
            Method::Get => {
                self.refuse_unsupported_options(RequestKind::Retrieve)?;
                self.check_prefer(&[])?;
                self.options.only(&["$select", "$expand"], "a single row")?;
                let expand = self.options.expand(self.schema, table)?;
                Ok(Operation::Retrieve { table: t, key, select: self.options.select(table)?, expand })
            }
            Method::Patch => {
                let upsert = self.headers.if_match.is_none();
                let kind = if upsert { RequestKind::Upsert } else { RequestKind::Update };
                self.refuse_unsupported_options(kind)?;
                self.check_prefer(&["return"])?;
                self.options.only(&["$select", "$expand"], "an update")?;
                let record = body::parse_record(self.schema, table, self.body, body::Write::Update)?;
                if let Some(v) = record.values.get(&table.primary_id)
                    && (key.id().is_none() || v.as_str().and_then(|s| Uuid::try_parse(s).ok()) != key.id())
                {
                    return Err(ParseError::Payload {
                        code: codes::INVALID_ARGUMENT,
                        message: format!("The body sets {} to a different id than the URL", table.primary_id),
                    }
                    .into());
                }
                let expand = self.representation_expand(table)?;
                Ok(Operation::Update { table: t, key, record, select: self.options.select(table)?, expand, upsert })
            }
            Method::Delete => {
                self.refuse_unsupported_options(RequestKind::Delete)?;
                self.check_prefer(&[])?;
                self.options.only(&[], "a delete")?;
                Ok(Operation::Delete { table: t, key })
            }
            _ => self.not_allowed(&format!("a row of {}", table.set_name)),
        }
    }

    /// `$expand` on a write: the related rows returned with `Prefer: return=representation`
    /// (spec §2.2); without that preference there is no row to expand.
    fn representation_expand(&self, table: &Table) -> Result<Vec<crate::query::Expand>, Routed> {
        let expand = self.options.expand(self.schema, table)?;
        if !expand.is_empty() && self.headers.prefer.return_representation != Some(true) {
            return Err(
                ParseError::Syntax("$expand on a create or update needs Prefer: return=representation".into()).into()
            );
        }
        Ok(expand)
    }

    fn refuse_unsupported_options(&self, kind: RequestKind) -> Result<(), Routed> {
        match self.options.first_unsupported() {
            Some(reason) => self.unsupported(kind, reason),
            None => Ok(()),
        }
    }

    /// Preferences where they mean nothing are syntax errors: `odata.maxpagesize` outside
    /// collection queries, `odata.continue-on-error` outside `$batch`, `return` outside writes.
    fn check_prefer(&self, allowed: &[&str]) -> Result<(), Routed> {
        let p = &self.headers.prefer;
        if p.max_page_size.is_some() && !allowed.contains(&"maxpagesize") {
            return Err(ParseError::Syntax(
                "The preference odata.maxpagesize applies only to collection queries".into(),
            )
            .into());
        }
        if p.continue_on_error {
            return Err(
                ParseError::Syntax("The preference odata.continue-on-error applies only to $batch".into()).into()
            );
        }
        if p.return_representation.is_some() && !allowed.contains(&"return") {
            return Err(ParseError::Syntax("The preference 'return' applies only to creates and updates".into()).into());
        }
        Ok(())
    }
}

/// A SQL `LIKE` pattern as the OData text function with the same meaning (`%x%` contains, `x%`
/// starts with, `%x` ends with: Dataverse's text functions keep the other wildcards inside the
/// value); `None` when the pattern neither begins nor ends with `%`. Shared by the SQL and
/// FetchXML lowerings.
pub(crate) fn like_odata(name: &str, pattern: &str) -> Option<String> {
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let (starts, ends) = (pattern.starts_with('%'), pattern.ends_with('%') && pattern.len() > 1);
    Some(match (starts, ends) {
        (true, true) => format!("contains({name},{})", quoted(&pattern[1..pattern.len() - 1])),
        (false, true) => format!("startswith({name},{})", quoted(&pattern[..pattern.len() - 1])),
        (true, false) => format!("endswith({name},{})", quoted(&pattern[1..])),
        (false, false) => return None,
    })
}

/// The wording of a table the schema does not know (FetchXML's `link-entity`, SQL's `JOIN`).
pub(crate) fn unknown_table(name: &str) -> String {
    format!("The entity '{name}' does not exist")
}

/// Whether a message says the request names a table, column or navigation property the schema
/// does not know: the wordings this parser uses for that, in one place, so a caller with a
/// learned schema (the gateway) can tell "perhaps new in the org" from any other refusal.
fn names_unknown(message: &str) -> bool {
    message.starts_with("Could not find a property named")
        || message.starts_with("Could not find a navigation property named")
        || message.starts_with("Resource not found for the segment")
        || (message.starts_with("The entity '") && message.ends_with("' does not exist"))
}

impl ParseError {
    /// Whether the request names a table, column or navigation property the schema does not
    /// know (see [`Request::names_unknown`] for the same on a parsed request).
    pub fn names_unknown(&self) -> bool {
        match self {
            ParseError::Syntax(m) | ParseError::NotFound(m) => m.split(": ").any(names_unknown),
            // A body's column the table does not have (a known lookup gets a hint instead).
            ParseError::Payload { message, .. } => {
                message.contains(", the property '")
                    && message.contains("' does not exist or cannot be set")
                    && !message.contains("(lookups are set with")
            }
            _ => false,
        }
    }
}

impl Request {
    /// Whether the request parsed to nothing it can do because it names an entity set the
    /// schema does not know.
    pub fn names_unknown(&self) -> bool {
        matches!(&self.operation, Operation::Unsupported { reason, .. } if names_unknown(reason))
    }
}

/// `$filter` text parsed for `table` (no parameter aliases): the FetchXML and SQL lowerings
/// write OData and parse it with the one parser; the emulator builds its own internal queries
/// (change tracking's `versionnumber gt n`) the same way.
pub fn filter_text(text: &str, schema: &Schema, table: &Table) -> Result<crate::query::Filter, String> {
    filter::parse_filter(text, schema, table, &[]).map_err(|filter::FilterError::Syntax(m)| m)
}

/// Splits `name(key)` into the name and the key text.
fn split_key(segment: &str) -> Result<(&str, Option<&str>), ParseError> {
    match segment.find('(') {
        None => Ok((segment, None)),
        Some(open) => {
            let inner = segment[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| ParseError::Syntax(format!("The segment '{segment}' has an unbalanced parenthesis")))?;
            Ok((&segment[..open], Some(inner)))
        }
    }
}
