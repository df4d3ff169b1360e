//! Request headers (design §6.1 and §4): the ones that carry meaning are parsed and validated;
//! impersonation, bypass, unknown `MSCRM.*` and method-override headers are listed as refused;
//! everything else is dropped.

use super::ParseError;
use crate::request::{EtagCondition, Headers, Prefer};
use std::borrow::Cow;

/// Parses the meaningful headers from `(name, value)` pairs (names case-insensitive). Repeated
/// `Prefer` headers are combined; other repeats are a syntax error.
pub(crate) fn parse_headers<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Headers, ParseError> {
    let mut h = Headers::default();
    let mut prefer_parts: Vec<&str> = Vec::new();
    let mut seen: Vec<Cow<'_, str>> = Vec::new();
    for (name, value) in pairs {
        // HTTP/2 and hyper hand over lower-case names: allocate only for other spellings.
        let lower: Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name.to_ascii_lowercase())
        } else {
            Cow::Borrowed(name)
        };
        let value = value.trim();
        if is_refused(&lower) {
            h.refused.push(name.to_owned());
            continue;
        }
        let known = matches!(
            lower.as_ref(),
            "if-match"
                | "if-none-match"
                | "mscrm.suppressduplicatedetection"
                | "consistency"
                | "odata-version"
                | "odata-maxversion"
        );
        if known {
            if seen.contains(&lower) {
                return Err(ParseError::Syntax(format!("The header '{name}' was sent more than once")));
            }
            seen.push(lower.clone());
        }
        match lower.as_ref() {
            "prefer" => prefer_parts.push(value),
            "if-match" => h.if_match = Some(etag_condition(name, value)?),
            "if-none-match" => {
                h.if_none_match = if value == "null" { None } else { Some(etag_condition(name, value)?) }
            }
            "mscrm.suppressduplicatedetection" => {
                h.suppress_duplicate_detection = Some(match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(ParseError::Syntax(format!("The header '{name}' must be true or false"))),
                })
            }
            "consistency" => {
                if !value.eq_ignore_ascii_case("strong") {
                    return Err(ParseError::Syntax(format!("The header '{name}' must be 'Strong'")));
                }
                h.consistency_strong = true;
            }
            "odata-version" | "odata-maxversion"
                if value != "4.0" && !(lower == "odata-maxversion" && value == "4.01") =>
            {
                return Err(ParseError::Syntax(format!("The header '{name}' must be 4.0")));
            }
            _ => {}
        }
    }
    h.prefer = parse_prefer(&prefer_parts)?;
    Ok(h)
}

/// Headers refused for every agent (design §4).
pub(crate) fn is_refused(lower: &str) -> bool {
    matches!(
        lower,
        "callerobjectid" | "mscrmcallerid" | "x-http-method" | "x-http-method-override" | "x-method-override"
    ) || (lower.starts_with("mscrm.") && lower != "mscrm.suppressduplicatedetection")
}

fn etag_condition(name: &str, value: &str) -> Result<EtagCondition, ParseError> {
    if value == "*" {
        return Ok(EtagCondition::Any);
    }
    let mut tags = Vec::new();
    for raw in value.split(',') {
        let tag = raw.trim();
        let quoted = tag.strip_prefix("W/").unwrap_or(tag);
        let valid = quoted.len() >= 2
            && quoted.starts_with('"')
            && quoted.ends_with('"')
            && quoted[1..quoted.len() - 1].bytes().all(|b| b != b'"' && (0x21..0x7f).contains(&b));
        if !valid {
            return Err(ParseError::Syntax(format!("The header '{name}' is not '*' or a list of entity tags")));
        }
        tags.push(tag.to_owned());
    }
    Ok(EtagCondition::Tags(tags))
}

fn parse_prefer(parts: &[&str]) -> Result<Prefer, ParseError> {
    let mut p = Prefer::default();
    for token in parts.iter().flat_map(|v| super::url::split_unquoted(v, ',', '"')) {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        let (name, value) = match token.split_once('=') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (token.to_ascii_lowercase(), None),
        };
        let dup = || ParseError::Syntax(format!("The preference '{name}' was given more than once"));
        match (name.as_str(), value) {
            ("return", Some(v)) if v.eq_ignore_ascii_case("representation") || v.eq_ignore_ascii_case("minimal") => {
                if p.return_representation.is_some() {
                    return Err(dup());
                }
                p.return_representation = Some(v.eq_ignore_ascii_case("representation"));
            }
            ("odata.maxpagesize", Some(v)) => {
                let n: u32 = v.trim_matches('"').parse().ok().filter(|n| (1..=5000).contains(n)).ok_or_else(|| {
                    ParseError::Syntax("The preference odata.maxpagesize must be a number from 1 to 5000".into())
                })?;
                if p.max_page_size.replace(n).is_some() {
                    return Err(dup());
                }
            }
            ("odata.include-annotations", Some(v)) => {
                let inner = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
                let names: Vec<String> = inner.split(',').map(|s| s.trim().to_owned()).collect();
                let valid = |n: &String| {
                    !n.is_empty()
                        && n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'*' | b'_' | b'-'))
                };
                if !names.iter().all(valid) {
                    return Err(ParseError::Syntax("The preference odata.include-annotations is malformed".into()));
                }
                if p.include_annotations.replace(names).is_some() {
                    return Err(dup());
                }
            }
            ("odata.track-changes", None) => p.track_changes = true,
            ("odata.continue-on-error", None) => p.continue_on_error = true,
            _ => return Err(ParseError::Syntax(format!("The preference '{token}' is not supported"))),
        }
    }
    Ok(p)
}
