//! Client assertions at the token endpoint: certificate sign-in as Entra ID checks it (Microsoft
//! identity platform "certificate credentials"). A client may have certificates registered
//! (`--client-cert`); an assertion is accepted when
//!
//! - it is a compact JWT whose header names a registered certificate of that client by
//!   `x5t#S256` (SHA-256) or `x5t` (SHA-1) thumbprint, with `alg` PS256 or RS256, and whose
//!   signature that certificate's public key verifies (else AADSTS700027);
//! - `iss` and `sub` are the `client_id` of the request (else AADSTS700021);
//! - `aud` is this token endpoint's URL, tenant included (else AADSTS700023);
//! - `nbf` ≤ now ≤ `exp`, with five minutes of clock skew (else AADSTS700024).
//!
//! Signatures are verified with rustls-webpki over ring. What it does not do: certificate
//! chains or expiry of the registered certificate (Entra ID checks the registration's dates,
//! not the certificate's), or `jti` replay detection.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// Clock skew allowed on `nbf` and `exp`, seconds.
const SKEW: i64 = 300;

/// `client_assertion_type` of a JWT bearer assertion.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A certificate registered on a client.
#[derive(Clone)]
pub(crate) struct RegisteredCert {
    der: CertificateDer<'static>,
    x5t_s256: String,
    x5t: String,
}

impl std::fmt::Debug for RegisteredCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegisteredCert(x5t#S256={})", self.x5t_s256)
    }
}

impl RegisteredCert {
    /// The first certificate of a PEM file (a private key in the same file is ignored).
    pub(crate) fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let der = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or("no certificate (a 'BEGIN CERTIFICATE' block) in the file")?
            .map_err(|e| format!("the certificate cannot be read: {e}"))?;
        webpki::EndEntityCert::try_from(&der).map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
        let x5t_s256 = URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_ref()));
        let x5t = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der.as_ref()));
        Ok(RegisteredCert { der, x5t_s256, x5t })
    }

    /// The SHA-256 thumbprint, base64url.
    pub(crate) fn thumbprint(&self) -> &str {
        &self.x5t_s256
    }
}

/// Why an assertion is refused: the AADSTS code and its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: u32,
    pub(crate) description: String,
}

fn refuse(code: u32, description: impl Into<String>) -> Refusal {
    Refusal { code, description: description.into() }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(rename = "x5t#S256")]
    x5t_s256: Option<String>,
    x5t: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    aud: Option<String>,
    iss: Option<String>,
    sub: Option<String>,
    nbf: Option<i64>,
    exp: Option<i64>,
}

fn decode<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// Checks `assertion` for `client_id`, whose registered certificates are `certs`, posted to
/// `token_url` at `now` (seconds since the epoch).
pub(crate) fn verify(
    assertion: &str,
    client_id: &str,
    certs: &[RegisteredCert],
    token_url: &str,
    now: i64,
) -> Result<(), Refusal> {
    let malformed = || refuse(50027, "JWT token is invalid or malformed.");
    let mut parts = assertion.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let header: Header = decode(h).ok_or_else(malformed)?;
    let claims: Claims = decode(c).ok_or_else(malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| malformed())?;
    let cert = certs
        .iter()
        .find(|k| {
            header.x5t_s256.as_deref() == Some(k.x5t_s256.as_str()) || header.x5t.as_deref() == Some(k.x5t.as_str())
        })
        .ok_or_else(|| {
            let id = header.x5t_s256.as_deref().or(header.x5t.as_deref()).unwrap_or("(none)");
            refuse(
                700027,
                format!(
                    "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{id}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
                ),
            )
        })?;
    let algorithm = match header.alg.as_str() {
        "PS256" => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        "RS256" => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        other => {
            return Err(refuse(
                700027,
                format!("Client assertion failed signature validation: the algorithm '{other}' is not supported."),
            ));
        }
    };
    let parsed = webpki::EndEntityCert::try_from(&cert.der).map_err(|_| malformed())?;
    let signed = &assertion[..h.len() + 1 + c.len()];
    parsed
        .verify_signature(algorithm, signed.as_bytes(), &signature)
        .map_err(|_| refuse(700027, "Client assertion failed signature validation."))?;
    if claims.iss.as_deref() != Some(client_id) || claims.sub.as_deref() != Some(client_id) {
        return Err(refuse(700021, "Client assertion application identifier doesn't match 'client_id' parameter."));
    }
    if !claims.aud.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(token_url)) {
        return Err(refuse(
            700023,
            format!("Client assertion audience claim does not match Realm issuer: its 'aud' must be '{token_url}'."),
        ));
    }
    let (Some(nbf), Some(exp)) = (claims.nbf, claims.exp) else {
        return Err(refuse(
            700024,
            "Client assertion is not within its valid time range: 'nbf' and 'exp' are required.",
        ));
    };
    if now + SKEW < nbf || now > exp + SKEW {
        return Err(refuse(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}."
            ),
        ));
    }
    Ok(())
}
