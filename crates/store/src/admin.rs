//! Agents, keys and policies. Every change is written with its admin audit record, on the shared
//! `admin` chain, in one `BEGIN IMMEDIATE` transaction (the store lock), then checkpointed.

use crate::keys::AgentKey;
use crate::{Store, StoreError};
use audit::{AuditRecord, ChainWriter, Change, Kind, Timestamp};
use policy::{AgentPolicy, Level, TableGrant};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

/// Who makes an admin change.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The CLI, named `cli:<user>@<host>`.
    Cli(String),
    /// A console admin, by user name.
    Admin(String),
    /// Stanchion itself (e.g. `demo` setup).
    System,
}

impl Actor {
    fn parts(&self) -> (audit::Actor, Option<String>) {
        match self {
            Actor::Cli(n) => (audit::Actor::Cli, Some(n.clone())),
            Actor::Admin(n) => (audit::Actor::Admin, Some(n.clone())),
            Actor::System => (audit::Actor::System, Some("system".into())),
        }
    }
}

/// An agent as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AgentInfo {
    /// Agent id (uuid).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Whether the agent is disabled.
    pub disabled: bool,
    /// Active (not revoked) keys.
    pub active_keys: u32,
}

/// A key as listed (never the key itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    /// Public key id.
    pub key_id: String,
    /// Label.
    pub label: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Revocation time.
    pub revoked_at: Option<String>,
    /// Last use (to the minute).
    pub last_used_at: Option<String>,
    /// Expiry, if any.
    pub expires_at: Option<String>,
}

/// What a key id resolves to, for authentication.
#[derive(Debug, Clone)]
pub struct KeyLookup {
    /// Agent id.
    pub agent_id: String,
    /// Agent name.
    pub agent_name: String,
    /// Whether the agent is disabled.
    pub agent_disabled: bool,
    /// Stored digest.
    pub digest: Vec<u8>,
    /// Whether the key is revoked.
    pub revoked: bool,
    /// Expiry (RFC 3339), if any.
    pub expires_at: Option<String>,
}

const ADMIN_CHAIN: &str = "admin";

type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

pub(crate) fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

impl Store {
    /// Seals and inserts an admin record on the `admin` chain, inside the caller's immediate
    /// transaction; returns the chain writer, for the checkpoint after the commit. The chain
    /// continues from its last record or, when pruning removed them all, from its truncation.
    pub(crate) async fn append_admin(
        &self,
        conn: &mut SqliteConnection,
        actor: &Actor,
        kind: Kind,
        change: Change,
        rows: Option<u64>,
    ) -> Result<ChainWriter, StoreError> {
        let (a, name) = actor.parts();
        let mut record = AuditRecord::admin(Uuid::new_v4(), now(), a, name, kind, change);
        record.rows = rows;
        let corrupt = |e: String| StoreError::Corrupt(format!("admin chain head: {e}"));
        let last = sqlx::query("SELECT seq, record FROM audit_records WHERE chain_id = ? ORDER BY seq DESC LIMIT 1")
            .bind(ADMIN_CHAIN)
            .fetch_optional(&mut *conn)
            .await?;
        let key = &self.secrets.audit_key;
        let mut writer = match last {
            Some(row) => {
                let seq: i64 = row.get(0);
                let stored: AuditRecord =
                    serde_json::from_str(row.get::<&str, _>(1)).map_err(|e| corrupt(e.to_string()))?;
                ChainWriter::resume(ADMIN_CHAIN, seq as u64, &stored.hash).map_err(|e| corrupt(e.to_string()))?
            }
            None => match crate::prune::chain_start(conn, ADMIN_CHAIN).await? {
                Some((first_seq, prev_hash)) => {
                    ChainWriter::resume(ADMIN_CHAIN, first_seq - 1, &prev_hash).map_err(|e| corrupt(e.to_string()))?
                }
                None => ChainWriter::new(key, ADMIN_CHAIN),
            },
        };
        let sealed = writer.seal(key, record);
        crate::records::insert(conn, &sealed).await?;
        Ok(writer)
    }

    /// Runs `change` and appends its admin record in one immediate transaction.
    pub(crate) async fn admin_change<T, F>(
        &self,
        actor: &Actor,
        kind: Kind,
        change: Change,
        apply: F,
    ) -> Result<T, StoreError>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>,
    {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = async {
            let value = apply(&mut conn).await?;
            let writer = self.append_admin(&mut conn, actor, kind, change, None).await?;
            Ok::<_, StoreError>((value, writer))
        }
        .await;
        match result {
            Ok((value, writer)) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                if let Some(cp) = writer.checkpoint(&self.secrets.audit_key, now()) {
                    self.write_checkpoint(&cp).await?;
                }
                Ok(value)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        }
    }

    /// Resolves an agent by id or exact name (case-insensitive).
    pub async fn find_agent(&self, id_or_name: &str) -> Result<AgentInfo, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.name, a.created_at, a.disabled,
                    (SELECT COUNT(*) FROM agent_keys k WHERE k.agent_id = a.id AND k.revoked_at IS NULL)
             FROM agents a WHERE a.id = ? OR a.name_key = ?",
        )
        .bind(id_or_name)
        .bind(id_or_name.to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.map(agent_info).ok_or_else(|| StoreError::UnknownAgent(id_or_name.to_owned()))
    }

    /// All agents, by name.
    pub async fn list_agents(&self) -> Result<Vec<AgentInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.name, a.created_at, a.disabled,
                    (SELECT COUNT(*) FROM agent_keys k WHERE k.agent_id = a.id AND k.revoked_at IS NULL)
             FROM agents a ORDER BY a.name_key",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(agent_info).collect())
    }

    /// Creates an agent with a first key; returns the agent and the key (to show once).
    pub async fn create_agent(&self, actor: &Actor, name: &str) -> Result<(AgentInfo, AgentKey), StoreError> {
        let name = valid_name(name)?;
        if self.find_agent(&name).await.is_ok() {
            return Err(StoreError::DuplicateAgent(name));
        }
        let (key, digest) = self.new_key()?;
        let id = Uuid::new_v4().to_string();
        let mut change = Change::new(name.clone());
        change.key_id = Some(key.key_id().to_owned());
        let (id2, name2, key_id) = (id.clone(), name.clone(), key.key_id().to_owned());
        self.admin_change(actor, Kind::AgentCreated, change, move |conn| {
            Box::pin(async move {
                let at = now().to_string();
                sqlx::query("INSERT INTO agents (id, name, name_key, created_at) VALUES (?, ?, ?, ?)")
                    .bind(&id2)
                    .bind(&name2)
                    .bind(name2.to_lowercase())
                    .bind(&at)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Database(d) if d.is_unique_violation() => {
                            StoreError::DuplicateAgent(name2.clone())
                        }
                        e => e.into(),
                    })?;
                sqlx::query("INSERT INTO agent_keys (key_id, agent_id, digest, created_at) VALUES (?, ?, ?, ?)")
                    .bind(&key_id)
                    .bind(&id2)
                    .bind(digest)
                    .bind(&at)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await?;
        Ok((self.find_agent(&id).await?, key))
    }

    /// Adds a key to an agent, optionally expiring at `expires_at` (which must be in the future).
    pub async fn add_key(
        &self,
        actor: &Actor,
        agent: &str,
        label: Option<&str>,
        expires_at: Option<Timestamp>,
    ) -> Result<(AgentInfo, AgentKey), StoreError> {
        let info = self.find_agent(agent).await?;
        if expires_at.is_some_and(|e| e <= now()) {
            return Err(StoreError::Invalid("a key's expiry must be in the future".into()));
        }
        if label.is_some_and(|l| l.chars().count() > 100 || l.chars().any(char::is_control)) {
            return Err(StoreError::Invalid("a key label must have at most 100 printable characters".into()));
        }
        let (key, digest) = self.new_key()?;
        let mut change = Change::new(info.name.clone());
        change.key_id = Some(key.key_id().to_owned());
        change.to = expires_at.map(|e| e.to_string());
        let (agent_id, key_id, label) = (info.id.clone(), key.key_id().to_owned(), label.map(str::to_owned));
        self.admin_change(actor, Kind::AgentKeyAdded, change, move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO agent_keys (key_id, agent_id, digest, label, created_at, expires_at)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(&key_id)
                .bind(&agent_id)
                .bind(digest)
                .bind(label)
                .bind(now().to_string())
                .bind(expires_at.map(|e| e.to_string()))
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok((info, key))
    }

    /// An agent's keys.
    pub async fn list_keys(&self, agent: &str) -> Result<Vec<KeyInfo>, StoreError> {
        let info = self.find_agent(agent).await?;
        let rows = sqlx::query(
            "SELECT key_id, label, created_at, revoked_at, last_used_at, expires_at FROM agent_keys
             WHERE agent_id = ? ORDER BY created_at, key_id",
        )
        .bind(&info.id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| KeyInfo {
                key_id: r.get(0),
                label: r.get(1),
                created_at: r.get(2),
                revoked_at: r.get(3),
                last_used_at: r.get(4),
                expires_at: r.get(5),
            })
            .collect())
    }

    /// Revokes a key; applies to the next request (keys are looked up per request).
    pub async fn revoke_key(&self, actor: &Actor, agent: &str, key_id: &str) -> Result<(), StoreError> {
        let info = self.find_agent(agent).await?;
        let mut change = Change::new(info.name.clone());
        change.key_id = Some(key_id.to_owned());
        let (agent_id, key_id) = (info.id.clone(), key_id.to_owned());
        self.admin_change(actor, Kind::AgentKeyRevoked, change, move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE agent_keys SET revoked_at = ? WHERE key_id = ? AND agent_id = ? AND revoked_at IS NULL",
                )
                .bind(now().to_string())
                .bind(&key_id)
                .bind(&agent_id)
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::UnknownKey(key_id));
                }
                Ok(())
            })
        })
        .await
    }

    /// Looks a key id up for authentication.
    pub async fn lookup_key(&self, key_id: &str) -> Result<Option<KeyLookup>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.name, a.disabled, k.digest, k.revoked_at IS NOT NULL, k.expires_at
             FROM agent_keys k JOIN agents a ON a.id = k.agent_id WHERE k.key_id = ?",
        )
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| KeyLookup {
            agent_id: r.get(0),
            agent_name: r.get(1),
            agent_disabled: r.get::<i64, _>(2) != 0,
            digest: r.get(3),
            revoked: r.get::<i64, _>(4) != 0,
            expires_at: r.get(5),
        }))
    }

    /// Records that a key was used (best effort; not part of the audit chain): at most once a
    /// minute per key and process, so last use is accurate to a minute.
    pub async fn touch_key(&self, key_id: &str) -> Result<(), StoreError> {
        {
            let mut touches = self.key_touches.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = std::time::Instant::now();
            if touches.get(key_id).is_some_and(|t| now.duration_since(*t) < std::time::Duration::from_secs(60)) {
                return Ok(());
            }
            touches.insert(key_id.to_owned(), now);
        }
        sqlx::query("UPDATE agent_keys SET last_used_at = ? WHERE key_id = ?")
            .bind(now().to_string())
            .bind(key_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An agent's policy.
    pub async fn policy(&self, agent_id: &str) -> Result<AgentPolicy, StoreError> {
        let delete = sqlx::query("SELECT delete_records, limit_per_minute, limit_concurrency FROM agents WHERE id = ?")
            .bind(agent_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::UnknownAgent(agent_id.to_owned()))?;
        let rows = sqlx::query("SELECT table_name, level, delete_records FROM policy_tables WHERE agent_id = ?")
            .bind(agent_id)
            .fetch_all(&self.pool)
            .await?;
        let limit = |i: usize| -> Result<Option<u32>, StoreError> {
            delete
                .get::<Option<i64>, _>(i)
                .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("agent limit {n} is out of range"))))
                .transpose()
        };
        let limits = policy::Limits { per_minute: limit(1)?, concurrency: limit(2)? };
        let mut policy = AgentPolicy { delete_records: delete.get::<i64, _>(0) != 0, limits, ..AgentPolicy::default() };
        let hidden = sqlx::query("SELECT table_name, column_name FROM policy_hidden_columns WHERE agent_id = ?")
            .bind(agent_id)
            .fetch_all(&self.pool)
            .await?;
        for r in hidden {
            policy.hidden.entry(r.get(0)).or_default().insert(r.get(1));
        }
        let actions = sqlx::query("SELECT action FROM policy_actions WHERE agent_id = ?")
            .bind(agent_id)
            .fetch_all(&self.pool)
            .await?;
        policy.actions = actions.iter().map(|r| r.get::<String, _>(0)).collect();
        for r in rows {
            let level: Level =
                r.get::<&str, _>(1).parse().map_err(|e: policy::LevelError| StoreError::Corrupt(e.to_string()))?;
            policy.tables.insert(r.get(0), TableGrant { level, delete: r.get::<i64, _>(2) != 0 });
        }
        Ok(policy)
    }

    /// Sets an agent's level on a table (logical name); returns the previous level.
    pub async fn set_table_level(
        &self,
        actor: &Actor,
        agent: &str,
        table: &str,
        set_name: &str,
        level: Level,
    ) -> Result<Level, StoreError> {
        let info = self.find_agent(agent).await?;
        let previous = self.policy(&info.id).await?.level(table);
        let mut change = Change::new(info.name.clone());
        change.table = Some(table.to_owned());
        change.set = Some(set_name.to_owned());
        change.from = Some(previous.as_str().to_owned());
        change.to = Some(level.as_str().to_owned());
        let (agent_id, table) = (info.id.clone(), table.to_owned());
        self.admin_change(actor, Kind::PolicyTableLevel, change, move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO policy_tables (agent_id, table_name, level, delete_records)
                     VALUES (?1, ?2, ?3, (SELECT delete_records FROM agents WHERE id = ?1))
                     ON CONFLICT (agent_id, table_name) DO UPDATE SET level = excluded.level",
                )
                .bind(&agent_id)
                .bind(&table)
                .bind(level.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok(previous)
    }

    /// Hides a column of a table from an agent (`hide = true`) or shows it again.
    pub async fn set_column_hidden(
        &self,
        actor: &Actor,
        agent: &str,
        table: &str,
        set_name: &str,
        column: &str,
        hide: bool,
    ) -> Result<(), StoreError> {
        let info = self.find_agent(agent).await?;
        let mut change = Change::new(info.name.clone());
        change.table = Some(table.to_owned());
        change.set = Some(set_name.to_owned());
        change.column = Some(column.to_owned());
        let kind = if hide { Kind::PolicyColumnHidden } else { Kind::PolicyColumnShown };
        let (agent_id, table, column) = (info.id.clone(), table.to_owned(), column.to_owned());
        self.admin_change(actor, kind, change, move |conn| {
            Box::pin(async move {
                let sql = if hide {
                    "INSERT OR IGNORE INTO policy_hidden_columns (agent_id, table_name, column_name) VALUES (?, ?, ?)"
                } else {
                    "DELETE FROM policy_hidden_columns WHERE agent_id = ? AND table_name = ? AND column_name = ?"
                };
                sqlx::query(sql).bind(&agent_id).bind(&table).bind(&column).execute(&mut *conn).await?;
                Ok(())
            })
        })
        .await
    }

    /// Grants an agent a catalog action (`allow = true`) or withdraws the grant, recorded as
    /// `policy_action_allowed` / `policy_action_denied` with the action's name in `change.to`.
    /// A grant it already has (or a withdrawal of one it has not) changes and records nothing.
    pub async fn set_action_allowed(
        &self,
        actor: &Actor,
        agent: &str,
        action: &str,
        allow: bool,
    ) -> Result<bool, StoreError> {
        let info = self.find_agent(agent).await?;
        if self.policy(&info.id).await?.actions.contains(action) == allow {
            return Ok(false);
        }
        let mut change = Change::new(info.name.clone());
        change.to = Some(action.to_owned());
        let kind = if allow { Kind::PolicyActionAllowed } else { Kind::PolicyActionDenied };
        let (agent_id, action) = (info.id.clone(), action.to_owned());
        self.admin_change(actor, kind, change, move |conn| {
            Box::pin(async move {
                let sql = if allow {
                    "INSERT OR IGNORE INTO policy_actions (agent_id, action) VALUES (?, ?)"
                } else {
                    "DELETE FROM policy_actions WHERE agent_id = ? AND action = ?"
                };
                sqlx::query(sql).bind(&agent_id).bind(&action).execute(&mut *conn).await?;
                Ok(())
            })
        })
        .await?;
        Ok(true)
    }

    /// Sets an agent's own limits (`None` follows the gateway's default), recording the change
    /// with the values before and after in words.
    pub async fn set_limits(&self, actor: &Actor, agent: &str, limits: policy::Limits) -> Result<(), StoreError> {
        let info = self.find_agent(agent).await?;
        let previous = self.policy(&info.id).await?.limits;
        let mut change = Change::new(info.name.clone());
        change.from = Some(describe(previous));
        change.to = Some(describe(limits));
        let agent_id = info.id.clone();
        self.admin_change(actor, Kind::PolicyLimits, change, move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE agents SET limit_per_minute = ?, limit_concurrency = ? WHERE id = ?")
                    .bind(limits.per_minute.map(i64::from))
                    .bind(limits.concurrency.map(i64::from))
                    .bind(&agent_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Turns the Delete records switch on or off (mirrored into every table grant).
    pub async fn set_delete_records(&self, actor: &Actor, agent: &str, on: bool) -> Result<(), StoreError> {
        let info = self.find_agent(agent).await?;
        let mut change = Change::new(info.name.clone());
        change.to = Some(if on { "on" } else { "off" }.to_owned());
        let agent_id = info.id.clone();
        self.admin_change(actor, Kind::PolicyDeleteRecords, change, move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE agents SET delete_records = ? WHERE id = ?")
                    .bind(on)
                    .bind(&agent_id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("UPDATE policy_tables SET delete_records = ? WHERE agent_id = ?")
                    .bind(on)
                    .bind(&agent_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

/// `120 requests per minute and 4 at once`, `the default rate and no concurrency limit`, ….
fn describe(limits: policy::Limits) -> String {
    let rate = match limits.per_minute {
        None => "the default rate".to_owned(),
        Some(0) => "no rate limit".to_owned(),
        Some(n) => format!("{n} requests per minute"),
    };
    let concurrency = match limits.concurrency {
        None => "the default concurrency".to_owned(),
        Some(0) => "no concurrency limit".to_owned(),
        Some(n) => format!("{n} at once"),
    };
    format!("{rate} and {concurrency}")
}

/// An agent name as stored: trimmed, 1 to 100 printable characters.
pub(crate) fn valid_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid("an agent name must have 1 to 100 printable characters".into()));
    }
    Ok(name)
}

impl Store {
    /// A fresh agent key and the digest stored for it.
    pub(crate) fn new_key(&self) -> Result<(AgentKey, Vec<u8>), StoreError> {
        let key = AgentKey::generate().map_err(|e| StoreError::Invalid(format!("no randomness: {e}")))?;
        let digest = self.secrets.key_secret.digest(&key).to_vec();
        Ok((key, digest))
    }
}

fn agent_info(r: sqlx::sqlite::SqliteRow) -> AgentInfo {
    AgentInfo {
        id: r.get(0),
        name: r.get(1),
        created_at: r.get(2),
        disabled: r.get::<i64, _>(3) != 0,
        active_keys: r.get::<i64, _>(4) as u32,
    }
}
