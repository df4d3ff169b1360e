//! `stanchion.toml` (design §7): sections, defaults, environment overrides
//! (`STANCHION_` + `SECTION_KEY`) and unknown-key errors naming the key and line.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub upstream: Upstream,
    pub listen: Listen,
    pub store: StoreSection,
    pub audit: Audit,
    pub mcp: Mcp,
    pub limits: Limits,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Upstream {
    pub org_url: String,
    pub authority: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret_file: String,
    pub certificate_file: String,
    pub max_retry_wait: String,
    /// How often the org's tables are learned again (the cache file and unknown names also
    /// refresh them).
    pub schema_refresh: String,
    /// Only from the environment (`STANCHION_UPSTREAM_CLIENT_SECRET`).
    #[serde(skip)]
    pub client_secret: Option<String>,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            org_url: "embedded".into(),
            authority: "https://login.microsoftonline.com".into(),
            tenant_id: String::new(),
            client_id: String::new(),
            client_secret_file: String::new(),
            certificate_file: String::new(),
            max_retry_wait: "5s".into(),
            schema_refresh: "6h".into(),
            client_secret: None,
        }
    }
}

/// A whole number and one unit: `ms`, `s`, `m`, `h` or `d` (`"500ms"`, `"5s"`, `"24h"`).
pub fn duration(text: &str) -> Option<Duration> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let n: u64 = if digits.is_empty() { return None } else { digits.parse().ok()? };
    let seconds = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(seconds).map(Duration::from_secs)
}

impl Upstream {
    /// `schema_refresh` as a duration.
    pub fn schema_refresh(&self) -> Result<Duration> {
        let v = self.schema_refresh.as_str();
        duration(v)
            .filter(|d| !d.is_zero())
            .with_context(|| format!("upstream.schema_refresh must be a duration like \"6h\" or \"30m\", not '{v}'"))
    }

    /// `max_retry_wait` as a duration (`"5s"`, `"500ms"`, `"0s"` = no retries).
    pub fn max_retry_wait(&self) -> Result<Duration> {
        let v = self.max_retry_wait.as_str();
        duration(v).with_context(|| {
            format!("upstream.max_retry_wait must be a duration like \"5s\", \"500ms\" or \"1m\", not '{v}'")
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listen {
    pub agents: String,
    pub admin: String,
    pub emulator: String,
    pub public_url: String,
    pub trusted_proxies: Vec<String>,
    /// TLS on the agents and admin listeners: the certificate chain (PEM) …
    pub tls_cert_file: String,
    /// … and its private key (PEM). Both or neither.
    pub tls_key_file: String,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            agents: "127.0.0.1:8080".into(),
            admin: "127.0.0.1:8081".into(),
            emulator: "127.0.0.1:8090".into(),
            public_url: String::new(),
            trusted_proxies: Vec::new(),
            tls_cert_file: String::new(),
            tls_key_file: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    pub data_dir: String,
    pub database_url: String,
    pub key_secret_file: String,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            data_dir: "./stanchion-data".into(),
            database_url: String::new(),
            key_secret_file: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Audit {
    pub record_values: bool,
    pub key_file: String,
    pub checkpoint_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mcp {
    /// `Host` values `/mcp` accepts (DNS-rebinding protection): names, or `name:port`.
    pub allowed_hosts: Vec<String>,
    /// `json` (answers as `application/json`) or `sse` (as `text/event-stream`).
    pub response: String,
    /// Most kilobytes of rows in one tool result.
    pub max_result_kb: usize,
    /// Rows per page of a tool read that names no top.
    pub page_size: u32,
}

impl Default for Mcp {
    fn default() -> Self {
        Mcp {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into()],
            response: "json".into(),
            max_result_kb: 48,
            page_size: 50,
        }
    }
}

impl Mcp {
    /// The `/mcp` settings; an unknown `response` is refused.
    pub fn settings(&self) -> anyhow::Result<mcp::McpSettings> {
        let json_response = match self.response.as_str() {
            "json" => true,
            "sse" => false,
            other => anyhow::bail!("mcp.response must be \"json\" or \"sse\", not {other:?}"),
        };
        if !(1..=1024).contains(&self.max_result_kb) {
            anyhow::bail!("mcp.max_result_kb must be from 1 to 1024");
        }
        if !(1..=5000).contains(&self.page_size) {
            anyhow::bail!("mcp.page_size must be from 1 to 5000");
        }
        Ok(mcp::McpSettings {
            allowed_hosts: self.allowed_hosts.clone(),
            json_response,
            max_result_bytes: self.max_result_kb * 1024,
            page_size: self.page_size,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub per_agent_requests_per_minute: u32,
    pub per_agent_concurrency: u32,
    pub upstream_requests_per_5min: u32,
    pub upstream_concurrency: u32,
    /// Requests without a valid agent key per client address and minute before 429.
    pub unauthenticated_per_ip_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_agent_requests_per_minute: 600,
            per_agent_concurrency: 8,
            upstream_requests_per_5min: 5000,
            upstream_concurrency: 40,
            unauthenticated_per_ip_per_minute: 60,
        }
    }
}

impl Config {
    /// Loads the file (if any), then applies environment overrides.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let default_file = Path::new("stanchion.toml");
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None if default_file.exists() => Some(default_file.to_path_buf()),
            None => None,
        };
        let mut config = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
                Self::parse(&text).with_context(|| format!("in {}", p.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.upstream.max_retry_wait()?;
        config.upstream.schema_refresh()?;
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<Config> {
        if let Ok(table) = text.parse::<toml::Table>()
            && table.get("upstream").and_then(|u| u.get("client_secret")).is_some()
        {
            bail!(
                "upstream.client_secret must not be in the file: use client_secret_file or STANCHION_UPSTREAM_CLIENT_SECRET"
            );
        }
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// `STANCHION_SECTION_KEY` overrides (design §7).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        macro_rules! s {
            ($field:expr, $name:literal) => {
                if let Some(v) = get($name) {
                    $field = v;
                }
            };
        }
        macro_rules! n {
            ($field:expr, $name:literal) => {
                if let Some(v) = get($name) {
                    $field = v.parse().with_context(|| format!("{} must be a number", $name))?;
                }
            };
        }
        s!(self.upstream.org_url, "STANCHION_UPSTREAM_ORG_URL");
        s!(self.upstream.authority, "STANCHION_UPSTREAM_AUTHORITY");
        s!(self.upstream.tenant_id, "STANCHION_UPSTREAM_TENANT_ID");
        s!(self.upstream.client_id, "STANCHION_UPSTREAM_CLIENT_ID");
        s!(self.upstream.client_secret_file, "STANCHION_UPSTREAM_CLIENT_SECRET_FILE");
        s!(self.upstream.certificate_file, "STANCHION_UPSTREAM_CERTIFICATE_FILE");
        s!(self.upstream.max_retry_wait, "STANCHION_UPSTREAM_MAX_RETRY_WAIT");
        s!(self.upstream.schema_refresh, "STANCHION_UPSTREAM_SCHEMA_REFRESH");
        if let Some(v) = get("STANCHION_UPSTREAM_CLIENT_SECRET") {
            self.upstream.client_secret = Some(v);
        }
        s!(self.listen.agents, "STANCHION_LISTEN_AGENTS");
        s!(self.listen.admin, "STANCHION_LISTEN_ADMIN");
        s!(self.listen.emulator, "STANCHION_LISTEN_EMULATOR");
        s!(self.listen.public_url, "STANCHION_LISTEN_PUBLIC_URL");
        s!(self.listen.tls_cert_file, "STANCHION_LISTEN_TLS_CERT_FILE");
        s!(self.listen.tls_key_file, "STANCHION_LISTEN_TLS_KEY_FILE");
        if let Some(v) = get("STANCHION_LISTEN_TRUSTED_PROXIES") {
            self.listen.trusted_proxies = v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        }
        s!(self.store.data_dir, "STANCHION_STORE_DATA_DIR");
        s!(self.store.database_url, "STANCHION_STORE_DATABASE_URL");
        s!(self.store.key_secret_file, "STANCHION_STORE_KEY_SECRET_FILE");
        if let Some(v) = get("STANCHION_AUDIT_RECORD_VALUES") {
            self.audit.record_values = matches!(v.as_str(), "true" | "1");
        }
        s!(self.audit.key_file, "STANCHION_AUDIT_KEY_FILE");
        s!(self.audit.checkpoint_file, "STANCHION_AUDIT_CHECKPOINT_FILE");
        n!(self.limits.per_agent_requests_per_minute, "STANCHION_LIMITS_PER_AGENT_REQUESTS_PER_MINUTE");
        n!(self.limits.per_agent_concurrency, "STANCHION_LIMITS_PER_AGENT_CONCURRENCY");
        n!(self.limits.upstream_requests_per_5min, "STANCHION_LIMITS_UPSTREAM_REQUESTS_PER_5MIN");
        n!(self.limits.upstream_concurrency, "STANCHION_LIMITS_UPSTREAM_CONCURRENCY");
        n!(self.limits.unauthenticated_per_ip_per_minute, "STANCHION_LIMITS_UNAUTHENTICATED_PER_IP_PER_MINUTE");
        Ok(())
    }

    /// The cache of the org's learned tables.
    pub fn schema_cache(&self) -> PathBuf {
        self.data_dir().join("schema-cache.json")
    }

    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(&self.store.data_dir)
    }

    pub fn addr(value: &str, what: &str) -> Result<SocketAddr> {
        value.parse().with_context(|| format!("{what} must be an address like 127.0.0.1:8080, not '{value}'"))
    }

    fn opt_path(s: &str) -> Option<PathBuf> {
        (!s.is_empty()).then(|| PathBuf::from(s))
    }

    /// Opens the store for this configuration (generating default secrets with a warning).
    pub async fn open_store(&self) -> Result<store::Store> {
        if !self.store.database_url.is_empty() {
            bail!("store.database_url (PostgreSQL) is not supported yet: leave it empty to use SQLite in data_dir");
        }
        let data_dir = self.data_dir();
        std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let secrets = store::load_or_create_secrets(
            &data_dir,
            Self::opt_path(&self.store.key_secret_file).as_deref(),
            Self::opt_path(&self.audit.key_file).as_deref(),
        )?;
        for f in &secrets.generated {
            eprintln!(
                "warning: generated {}; back it up: losing it voids agent keys or audit verification",
                f.display()
            );
        }
        let checkpoint_file =
            Self::opt_path(&self.audit.checkpoint_file).unwrap_or_else(|| data_dir.join("audit-checkpoints.log"));
        let cfg = store::StoreConfig { database: store::database_path(&data_dir), secrets, checkpoint_file };
        Ok(store::Store::open(&cfg).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_key_and_line() {
        let err = Config::parse("[listen]\nagents = \"127.0.0.1:1\"\nagentz = 1\n").unwrap_err().to_string();
        assert!(err.contains("agentz"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn client_secret_in_file_is_an_error() {
        let err = Config::parse("[upstream]\nclient_secret = \"x\"\n").unwrap_err().to_string();
        assert!(err.contains("STANCHION_UPSTREAM_CLIENT_SECRET"), "{err}");
    }

    #[test]
    fn max_retry_wait_is_a_duration() {
        let wait = |v: &str| Upstream { max_retry_wait: v.into(), ..Upstream::default() }.max_retry_wait();
        assert_eq!(Upstream::default().max_retry_wait().unwrap(), Duration::from_secs(5));
        assert_eq!(wait("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(wait("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(wait("0s").unwrap(), Duration::ZERO);
        for bad in ["", "5", "s", "5 s", "-1s", "1.5s", "5y", "5sec", "99999999999999999999s"] {
            let err = wait(bad).unwrap_err().to_string();
            assert!(err.contains("upstream.max_retry_wait must be a duration like \"5s\""), "{bad}: {err}");
        }
    }

    #[test]
    fn env_overrides_file() {
        let mut c = Config::parse("[listen]\nagents = \"127.0.0.1:1\"\n").unwrap();
        c.apply_env(|k| (k == "STANCHION_LISTEN_AGENTS").then(|| "127.0.0.1:2".to_owned())).unwrap();
        assert_eq!(c.listen.agents, "127.0.0.1:2");
    }
}
