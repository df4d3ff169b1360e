//! Bearer-token checks on every `/api/data` call (spec §14.2–14.4): the token must be one this
//! emulator signed, for this org (`aud`, with or without a trailing slash), within its lifetime
//! (5 minutes of clock skew allowed), for a registered client whose application user it names.
//! Anything else is 401 with a `WWW-Authenticate` header and a Dataverse error body.
//!
//! This authenticates only: every registered client may do everything (authorization is the
//! gateway's job).

use crate::response::{error, with_header};
use crate::token::{Claims, Keys, Registered};
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use jsonwebtoken::{Algorithm, Validation};
use uuid::Uuid;

/// Clock skew allowed on `exp` and `nbf`, seconds.
pub(crate) const LEEWAY: i64 = 300;

/// The authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The application user's `systemuserid`.
    pub(crate) user_id: Uuid,
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    Missing,
    Invalid,
    Expired { tenant: String },
    NotYetValid { tenant: String },
    WrongAudience { tenant: String },
    NotAUser { tenant: String },
}

impl Failure {
    fn message(&self, org_url: &str) -> String {
        match self {
            Failure::Missing => "The access token is missing: send 'Authorization: Bearer <token>'.".into(),
            Failure::Invalid => "The access token is invalid: it is malformed or its signature does not verify.".into(),
            Failure::Expired { .. } => "The access token has expired.".into(),
            Failure::NotYetValid { .. } => "The access token is not valid yet.".into(),
            Failure::WrongAudience { .. } => {
                format!("The access token is not for this organization: its audience must be '{org_url}'.")
            }
            Failure::NotAUser { .. } => "The user is not a member of the organization.".into(),
        }
    }

    fn tenant(&self) -> &str {
        match self {
            Failure::Missing | Failure::Invalid => "common",
            Failure::Expired { tenant }
            | Failure::NotYetValid { tenant }
            | Failure::WrongAudience { tenant }
            | Failure::NotAUser { tenant } => tenant,
        }
    }
}

/// Checks an `Authorization` header value at time `now` (seconds since the epoch).
pub(crate) fn authenticate(
    keys: &Keys,
    org_url: &str,
    clients: &[Registered],
    authorization: Option<&str>,
    now: i64,
) -> Result<Caller, Failure> {
    let value = authorization.map(str::trim).filter(|v| !v.is_empty()).ok_or(Failure::Missing)?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(Failure::Invalid),
    };
    let mut validation = Validation::new(Algorithm::HS256);
    // Lifetime and audience are checked below with our own clock and rules.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims: Claims = jsonwebtoken::decode(token, &keys.decoding, &validation).map_err(|_| Failure::Invalid)?.claims;
    let tenant = claims.tid.clone();
    if claims.aud.trim_end_matches('/') != org_url {
        return Err(Failure::WrongAudience { tenant });
    }
    if now > claims.exp.saturating_add(LEEWAY) {
        return Err(Failure::Expired { tenant });
    }
    if now.saturating_add(LEEWAY) < claims.nbf {
        return Err(Failure::NotYetValid { tenant });
    }
    let user = clients
        .iter()
        .find(|c| c.credential.client_id == claims.appid && c.user_id.to_string() == claims.oid)
        .ok_or(Failure::NotAUser { tenant })?;
    Ok(Caller { user_id: user.user_id })
}

/// The 401 answer (spec §14.4): `WWW-Authenticate: Bearer authorization_uri=…, resource_id=…`
/// pointing at this emulator's token authority, and `0x80040277` UnauthorizedAccess.
pub(crate) fn unauthorized(failure: &Failure, org_url: &str) -> Response {
    let e = DataverseError::new(401, codes::UNAUTHORIZED, failure.message(org_url));
    let challenge =
        format!("Bearer authorization_uri={org_url}/{}/oauth2/authorize, resource_id={org_url}/", failure.tenant());
    with_header(error(&e), "www-authenticate", &challenge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientCredential;
    use crate::token::{LIFETIME, mint};

    const ORG: &str = "http://127.0.0.1:9";

    fn client() -> Registered {
        Registered {
            credential: ClientCredential { client_id: "app".into(), client_secret: "s".into() },
            user_id: Uuid::new_v4(),
            certificates: Vec::new(),
        }
    }

    #[test]
    fn lifetime_is_checked_with_leeway_against_an_injected_clock() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef");
        let c = client();
        let clients = [c.clone()];
        let token = mint(&keys, ORG, "contoso", &c, 1_000_000).unwrap();
        let header = format!("Bearer {token}");
        let at = |now| authenticate(&keys, ORG, &clients, Some(&header), now);
        assert_eq!(at(1_000_000), Ok(Caller { user_id: c.user_id }));
        assert_eq!(at(1_000_000 + LIFETIME + LEEWAY), Ok(Caller { user_id: c.user_id }));
        assert_eq!(at(1_000_000 + LIFETIME + LEEWAY + 1), Err(Failure::Expired { tenant: "contoso".into() }));
        assert_eq!(at(1_000_000 - LEEWAY - 1), Err(Failure::NotYetValid { tenant: "contoso".into() }));
    }

    #[test]
    fn other_keys_audiences_and_users_are_refused() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef");
        let c = client();
        let token = mint(&keys, ORG, "t", &c, 10).unwrap();
        let header = format!("Bearer {token}");
        let other = Keys::new(b"another key another key another k");
        assert_eq!(authenticate(&other, ORG, std::slice::from_ref(&c), Some(&header), 10), Err(Failure::Invalid));
        assert_eq!(
            authenticate(&keys, "http://elsewhere", std::slice::from_ref(&c), Some(&header), 10),
            Err(Failure::WrongAudience { tenant: "t".into() })
        );
        assert_eq!(
            authenticate(&keys, ORG, &[client()], Some(&header), 10),
            Err(Failure::NotAUser { tenant: "t".into() })
        );
        assert_eq!(authenticate(&keys, ORG, std::slice::from_ref(&c), None, 10), Err(Failure::Missing));
        assert_eq!(authenticate(&keys, ORG, std::slice::from_ref(&c), Some("Basic abc"), 10), Err(Failure::Invalid));
        assert_eq!(authenticate(&keys, ORG, &[c], Some("Bearer garbage"), 10), Err(Failure::Invalid));
    }
}
