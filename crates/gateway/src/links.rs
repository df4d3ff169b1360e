//! Link rewriting (design §6.3): every URL starting with the upstream's `{org}/api/data/v9.x/`
//! is rewritten to the client-facing base, in the `OData-EntityId` and `Location` headers and in
//! the JSON link annotations at any depth; never in field values.

use dataverse::json::{Object, Value};

/// Rewrites upstream URLs to the client-facing base.
#[derive(Debug, Clone)]
pub struct LinkRewriter {
    /// `{org}/api/data/` of the upstream.
    upstream_prefix: String,
    /// `{client base}/api/data/{version}/`.
    client_base: String,
}

const LINK_ANNOTATIONS: &[&str] =
    &["@odata.context", "@odata.id", "@odata.nextLink", "@odata.deltaLink", "@odata.editLink", "@odata.readLink"];

impl LinkRewriter {
    /// A rewriter from `org_url` to `public_base` (e.g. `http://127.0.0.1:8080`) with the client's
    /// API version.
    pub fn new(org_url: &str, public_base: &str, version: &str) -> Self {
        LinkRewriter {
            upstream_prefix: format!("{}/api/data/", org_url.trim_end_matches('/')),
            client_base: format!("{}/api/data/{version}/", public_base.trim_end_matches('/')),
        }
    }

    /// The rewritten URL, or `None` when it does not start with the upstream's API base.
    pub fn rewrite(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.upstream_prefix)?;
        let (version, tail) = rest.split_once('/').unwrap_or((rest, ""));
        matches!(version, "v9.0" | "v9.1" | "v9.2").then(|| format!("{}{tail}", self.client_base))
    }

    /// Rewrites a header value in place when it is an upstream URL.
    pub fn rewrite_header(&self, value: &str) -> String {
        self.rewrite(value).unwrap_or_else(|| value.to_owned())
    }

    /// Rewrites link annotations in a JSON value, at any depth.
    pub fn rewrite_json(&self, value: &mut Value) {
        match value {
            Value::Object(o) => self.rewrite_object(o),
            Value::Array(items) => items.iter_mut().for_each(|v| self.rewrite_json(v)),
            _ => {}
        }
    }

    fn rewrite_object(&self, o: &mut Object) {
        for (name, value) in o.iter_mut() {
            let is_link = LINK_ANNOTATIONS.iter().any(|a| name == *a || (name.ends_with(a) && name.len() > a.len()));
            if is_link {
                if let Value::String(s) = value
                    && let Some(new) = self.rewrite(s)
                {
                    *s = new;
                }
            } else {
                self.rewrite_json(value);
            }
        }
    }
}
