//! The authorize phase and the [`Authorized`] type (design §3.2).
//!
//! `Authorized` has private fields, no `Default`, `Deserialize`, `Clone` or `From`, and is built
//! only by [`authorize`]. The upstream client's agent entry point takes only an `Authorized`, so
//! nothing reaches Dataverse that the policy did not allow. This does not compile:
//!
//! ```compile_fail
//! fn forge(request: dataverse::Request, touches: dataverse::Touches, agent: gateway::Agent) -> gateway::Authorized {
//!     gateway::Authorized { request, touches, agent }
//! }
//! ```
//!
//! and neither does building one any other way:
//!
//! ```compile_fail
//! let forged: gateway::Authorized = Default::default();
//! ```
//!
//! The same holds for a whole `$batch` ([`AuthorizedBatch`], built only by [`authorize_batch`]):
//!
//! ```compile_fail
//! fn forge(batch: dataverse::batch::BatchRequests, agent: gateway::Agent) -> gateway::AuthorizedBatch {
//!     gateway::AuthorizedBatch { batch, touches: Vec::new(), agent }
//! }
//! ```

use crate::authenticate::Agent;
use dataverse::{Classification, Request, Schema, Touches};
use policy::{AgentPolicy, Reason};

/// A request the policy allows, with what it touches and who sent it.
#[derive(Debug)]
pub struct Authorized {
    request: Request,
    touches: Touches,
    agent: Agent,
}

impl Authorized {
    /// The request to forward.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// What it touches.
    pub fn touches(&self) -> &Touches {
        &self.touches
    }

    /// Who sent it.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
}

/// Why a request was not authorized: reason code and plain-English reason(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Every failed check; the first sets the message.
    pub reasons: Vec<Reason>,
}

/// Decides a classified request for an agent.
pub fn authorize(
    schema: &Schema,
    agent: Agent,
    policy: &AgentPolicy,
    request: Request,
    classification: Classification,
) -> Result<Authorized, Refused> {
    let touches = match classification {
        Classification::Classified(t) => t,
        Classification::Unclassified { reason, metadata_write, .. } => {
            let code = if metadata_write { "metadata_write" } else { "unclassified" };
            return Err(Refused { reasons: vec![Reason { code, message: reason }] });
        }
    };
    let decision = policy::decide(schema, policy, &touches);
    if decision.allowed {
        Ok(Authorized { request, touches, agent })
    } else {
        Err(Refused { reasons: decision.reasons })
    }
}

/// A `$batch` whose every part the policy allows, with what each part touches and who sent it.
/// Like [`Authorized`], built only by [`authorize_batch`].
#[derive(Debug)]
pub struct AuthorizedBatch {
    batch: dataverse::batch::BatchRequests,
    touches: Vec<Touches>,
    agent: Agent,
}

impl AuthorizedBatch {
    /// The batch to forward.
    pub fn batch(&self) -> &dataverse::batch::BatchRequests {
        &self.batch
    }

    /// What each part touches, in part order.
    pub fn touches(&self) -> &[Touches] {
        &self.touches
    }

    /// Who sent it.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
}

/// One part that was not authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRefused {
    /// Its number in the batch, from 1.
    pub number: usize,
    /// Its Content-ID.
    pub content_id: Option<String>,
    /// Every failed check; the first sets the message.
    pub reasons: Vec<Reason>,
}

/// Decides every part of a batch (design §6.2): all must be allowed, or nothing is forwarded.
/// A part carrying a header refused for every agent is refused like the request would be.
pub fn authorize_batch(
    schema: &Schema,
    agent: Agent,
    policy: &AgentPolicy,
    batch: dataverse::batch::BatchRequests,
) -> Result<AuthorizedBatch, Vec<PartRefused>> {
    let mut touches = Vec::new();
    let mut refused = Vec::new();
    for part in batch.parts() {
        let reasons = if let Some(header) = part.request.headers.refused.first() {
            vec![Reason { code: "refused_header", message: format!("the header {header} is refused for every agent") }]
        } else {
            match dataverse::classify(schema, &part.request) {
                Classification::Classified(t) => {
                    let decision = policy::decide(schema, policy, &t);
                    touches.push(t);
                    decision.reasons
                }
                Classification::Unclassified { reason, metadata_write, .. } => {
                    let code = if metadata_write { "metadata_write" } else { "unclassified" };
                    vec![Reason { code, message: reason }]
                }
            }
        };
        if !reasons.is_empty() {
            refused.push(PartRefused { number: part.number, content_id: part.content_id.clone(), reasons });
        }
    }
    if refused.is_empty() { Ok(AuthorizedBatch { batch, touches, agent }) } else { Err(refused) }
}
