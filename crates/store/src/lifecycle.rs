//! An agent's life after creation: renaming, disabling and enabling, deleting, and rotating its
//! keys with an overlap. Each change is an admin change (one transaction with its audit record on
//! the `admin` chain, like every change in [`crate::admin`]). What it does not do: authenticate
//! (the gateway reads `disabled` and key expiry on every request, so a change applies to the next
//! request) or touch the audit log's records of the agent, which stay as they were written.

use crate::admin::valid_name;
use crate::keys::AgentKey;
use crate::{Actor, AgentInfo, Store, StoreError};
use audit::{Change, Kind, Timestamp};

/// What [`Store::rotate_key`] did.
#[derive(Debug)]
pub struct Rotation {
    /// The agent.
    pub agent: AgentInfo,
    /// The new key (to show once).
    pub key: AgentKey,
    /// The agent's other active keys, now expiring at `old_keys_expire`.
    pub old_key_ids: Vec<String>,
    /// When the old keys stop working.
    pub old_keys_expire: Timestamp,
}

impl Store {
    /// Renames an agent (names stay unique case-insensitively); returns it renamed.
    pub async fn rename_agent(&self, actor: &Actor, agent: &str, new_name: &str) -> Result<AgentInfo, StoreError> {
        let info = self.find_agent(agent).await?;
        let name = valid_name(new_name)?;
        if let Ok(other) = self.find_agent(&name).await
            && other.id != info.id
        {
            return Err(StoreError::DuplicateAgent(name));
        }
        let mut change = Change::new(name.clone());
        change.from = Some(info.name.clone());
        change.to = Some(name.clone());
        let (id, taken) = (info.id.clone(), name.clone());
        self.admin_change(actor, Kind::AgentRenamed, change, move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE agents SET name = ?, name_key = ? WHERE id = ?")
                    .bind(&name)
                    .bind(name.to_lowercase())
                    .bind(&id)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::DuplicateAgent(taken),
                        e => e.into(),
                    })?;
                Ok(())
            })
        })
        .await?;
        self.find_agent(&info.id).await
    }

    /// Disables an agent (every key refused with `agent_disabled`) or enables it again.
    pub async fn set_agent_disabled(
        &self,
        actor: &Actor,
        agent: &str,
        disabled: bool,
    ) -> Result<AgentInfo, StoreError> {
        let info = self.find_agent(agent).await?;
        let kind = if disabled { Kind::AgentDisabled } else { Kind::AgentEnabled };
        let id = info.id.clone();
        self.admin_change(actor, kind, Change::new(info.name.clone()), move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE agents SET disabled = ? WHERE id = ?")
                    .bind(disabled)
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await?;
        self.find_agent(&info.id).await
    }

    /// Deletes an agent with its keys and policy. Its audit records stay (they carry its id and
    /// name); its name can be given to a new agent.
    pub async fn delete_agent(&self, actor: &Actor, agent: &str) -> Result<AgentInfo, StoreError> {
        let info = self.find_agent(agent).await?;
        let id = info.id.clone();
        self.admin_change(actor, Kind::AgentDeleted, Change::new(info.name.clone()), move |conn| {
            Box::pin(async move {
                for sql in [
                    "DELETE FROM policy_hidden_columns WHERE agent_id = ?",
                    "DELETE FROM policy_actions WHERE agent_id = ?",
                    "DELETE FROM policy_tables WHERE agent_id = ?",
                    "DELETE FROM agent_keys WHERE agent_id = ?",
                    "DELETE FROM agents WHERE id = ?",
                ] {
                    sqlx::query(sql).bind(&id).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .await?;
        Ok(info)
    }

    /// Adds a key and sets every other active key of the agent to expire `overlap` from now
    /// (keys already expiring sooner keep their expiry), so clients can switch over without an
    /// outage. Returns the new key, shown once.
    pub async fn rotate_key(
        &self,
        actor: &Actor,
        agent: &str,
        overlap: std::time::Duration,
    ) -> Result<Rotation, StoreError> {
        let info = self.find_agent(agent).await?;
        let (key, digest) = self.new_key()?;
        let now = chrono::Utc::now();
        let overlap = chrono::Duration::from_std(overlap)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(|| StoreError::Invalid("the overlap is too long".into()))?;
        let expires = Timestamp::from_datetime(overlap);
        let old: Vec<String> = self
            .list_keys(&info.id)
            .await?
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .filter(|k| k.expires_at.as_deref().is_none_or(|e| Timestamp::parse(e).is_ok_and(|e| e > expires)))
            .map(|k| k.key_id)
            .collect();
        let mut change = Change::new(info.name.clone());
        change.key_id = Some(key.key_id().to_owned());
        change.to = Some(expires.to_string());
        let (agent_id, key_id, old_ids) = (info.id.clone(), key.key_id().to_owned(), old.clone());
        self.admin_change(actor, Kind::AgentKeyRotated, change, move |conn| {
            Box::pin(async move {
                let at = Timestamp::from_datetime(now).to_string();
                sqlx::query(
                    "INSERT INTO agent_keys (key_id, agent_id, digest, label, created_at) VALUES (?, ?, ?, 'rotated', ?)",
                )
                .bind(&key_id)
                .bind(&agent_id)
                .bind(digest)
                .bind(&at)
                .execute(&mut *conn)
                .await?;
                for old in &old_ids {
                    sqlx::query("UPDATE agent_keys SET expires_at = ? WHERE key_id = ? AND agent_id = ?")
                        .bind(expires.to_string())
                        .bind(old)
                        .bind(&agent_id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .await?;
        Ok(Rotation { agent: self.find_agent(&info.id).await?, key, old_key_ids: old, old_keys_expire: expires })
    }
}
