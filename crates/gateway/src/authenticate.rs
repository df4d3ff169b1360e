//! The authenticate phase: bearer agent key → agent (design §7).
//!
//! A bearer that does not match the key grammar is refused without any look-up. Otherwise the
//! key id is looked up and the key's HMAC digest compared in constant time; revoked and expired
//! keys and disabled agents are refused. Keys are looked up on every request, so a revocation
//! applies to the next request.

use store::keys::AgentKey;
use store::{Store, StoreError};

/// An authenticated agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Agent id.
    pub id: String,
    /// Agent name.
    pub name: String,
    /// Key id used.
    pub key_id: String,
}

/// Why authentication failed (reason code and message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// `malformed_key`, `unknown_key`, `key_revoked`, `key_expired`, `agent_disabled`.
    pub code: &'static str,
    /// Plain-English reason.
    pub message: &'static str,
    /// Key id, when the bearer was well-formed.
    pub key_id: Option<String>,
    /// The agent, when the key was found.
    pub agent: Option<(String, String)>,
}

/// Authenticates the `Authorization` header value.
pub async fn authenticate(
    store: &Store,
    authorization: Option<&str>,
) -> Result<Result<Agent, AuthFailure>, StoreError> {
    let fail = |code, message| AuthFailure { code, message, key_id: None, agent: None };
    let Some(value) = authorization else {
        return Ok(Err(fail("malformed_key", "the request has no bearer token")));
    };
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim);
    let Some(key) = token.and_then(AgentKey::parse) else {
        return Ok(Err(fail("malformed_key", "the bearer token is not a Stanchion agent key")));
    };
    let key_id = key.key_id().to_owned();
    let Some(found) = store.lookup_key(&key_id).await? else {
        return Ok(Err(AuthFailure { key_id: Some(key_id), ..fail("unknown_key", "the agent key is not known") }));
    };
    let agent = Some((found.agent_id.clone(), found.agent_name.clone()));
    let with = |code, message| AuthFailure { code, message, key_id: Some(key_id.clone()), agent: agent.clone() };
    if !store.secrets().key_secret.matches(&key, &found.digest) {
        return Ok(Err(AuthFailure { agent: None, ..with("unknown_key", "the agent key is not known") }));
    }
    if found.revoked {
        return Ok(Err(with("key_revoked", "the agent key has been revoked")));
    }
    if let Some(exp) = &found.expires_at {
        let expired = chrono::DateTime::parse_from_rfc3339(exp).map_or(true, |t| t <= chrono::Utc::now());
        if expired {
            return Ok(Err(with("key_expired", "the agent key has expired")));
        }
    }
    if found.agent_disabled {
        return Ok(Err(with("agent_disabled", "the agent is disabled")));
    }
    if let Err(e) = store.touch_key(&key_id).await {
        tracing::warn!(error = %e, "could not record key use");
    }
    Ok(Ok(Agent { id: found.agent_id, name: found.agent_name, key_id }))
}
