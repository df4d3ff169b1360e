//! Certificate sign-in to Entra ID: the client assertion of the client-credentials grant
//! (Microsoft identity platform "certificate credentials"; OpenID Connect `private_key_jwt`).
//!
//! The assertion is a JWT signed with the app's certificate key: header `alg` PS256, `typ` JWT,
//! `x5t#S256` the base64url SHA-256 thumbprint of the certificate's DER; claims `aud` (the token
//! endpoint's URL), `iss` and `sub` (the client id), `jti` (a fresh GUID), `nbf`, `iat` and `exp`
//! (ten minutes later). It is signed with ring, which signs RSA in constant time (the `rsa`
//! crate behind jsonwebtoken's pure-Rust backend does not: RUSTSEC-2023-0071).
//!
//! What it does not do: certificate chains, password-protected keys, or key types other than RSA
//! (Entra ID takes RSA certificates for client assertions).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};

/// How long an assertion is valid (Entra ID recommends a short lifetime: 5–10 minutes).
pub const ASSERTION_LIFETIME: u64 = 600;

/// Why a certificate file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    /// No `CERTIFICATE` block.
    #[error("the PEM file holds no certificate (a 'BEGIN CERTIFICATE' block)")]
    NoCertificate,
    /// No private key block.
    #[error("the PEM file holds no private key ('BEGIN PRIVATE KEY' or 'BEGIN RSA PRIVATE KEY')")]
    NoKey,
    /// The key is not an RSA key ring accepts (2048 to 8192 bits).
    #[error("the private key is not a usable RSA key (2048 to 8192 bits): {0}")]
    NotRsa(String),
    /// The certificate cannot be parsed.
    #[error("the certificate cannot be parsed: {0}")]
    BadCertificate(String),
    /// The key does not belong to the certificate.
    #[error("the private key does not belong to the certificate")]
    Mismatch,
}

/// An app certificate with its private key, ready to sign assertions. `Debug` shows only the
/// thumbprint.
pub struct ClientCertificate {
    key: RsaKeyPair,
    thumbprint_s256: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate").field("x5t#S256", &self.thumbprint_s256).finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Reads the first certificate and the private key (PKCS#8 or PKCS#1) of a PEM file, and
    /// checks that the key signs what the certificate's public key verifies.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CertificateError> {
        let cert = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or(CertificateError::NoCertificate)?
            .map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
        let key = match PrivateKeyDer::from_pem_slice(pem).map_err(|_| CertificateError::NoKey)? {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(CertificateError::NotRsa("not an RSA key".into())),
        }
        .map_err(|e| CertificateError::NotRsa(e.to_string()))?;
        let parsed =
            webpki::EndEntityCert::try_from(&cert).map_err(|e| CertificateError::BadCertificate(e.to_string()))?;
        let this = ClientCertificate { key, thumbprint_s256: thumbprint_s256(&cert), rng: SystemRandom::new() };
        let probe = b"stanchion: does this key belong to this certificate?";
        let signature = this.sign(probe).map_err(|_| CertificateError::Mismatch)?;
        parsed
            .verify_signature(webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY, probe, &signature)
            .map_err(|_| CertificateError::Mismatch)?;
        Ok(this)
    }

    /// The certificate's `x5t#S256` thumbprint (what the Entra ID portal lists, base64url).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint_s256
    }

    /// A signed assertion for `client_id` at the token endpoint `token_url`, issued at `now`
    /// (seconds since the epoch).
    pub fn assertion(&self, token_url: &str, client_id: &str, now: u64) -> Result<String, ring::error::Unspecified> {
        let header = serde_json::json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": self.thumbprint_s256 });
        let claims = serde_json::json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let mut jwt = URL_SAFE_NO_PAD.encode(header.to_string());
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.sign(jwt.as_bytes())?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(jwt)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key.sign(&RSA_PSS_SHA256, &self.rng, message, &mut signature)?;
        Ok(signature)
    }
}

/// Base64url SHA-256 of a certificate's DER.
fn thumbprint_s256(cert: &CertificateDer<'_>) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(cert.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = include_str!("../tests/fixtures/certs/app.pem");
    const OTHER: &str = include_str!("../tests/fixtures/certs/other.pem");

    #[test]
    fn pkcs8_and_pkcs1_keys_are_read_and_matched_to_their_certificate() {
        let app = ClientCertificate::from_pem(APP.as_bytes()).unwrap();
        let other = ClientCertificate::from_pem(OTHER.as_bytes()).unwrap();
        assert_ne!(app.thumbprint(), other.thumbprint());
        assert_eq!(app.thumbprint().len(), 43, "32 bytes in base64url without padding");
        assert!(!format!("{app:?}").contains("PRIVATE"));
    }

    #[test]
    fn unusable_files_name_the_problem() {
        let (cert, key) = APP.split_at(APP.find("-----BEGIN PRIVATE KEY").unwrap());
        assert_eq!(ClientCertificate::from_pem(cert.as_bytes()).unwrap_err(), CertificateError::NoKey);
        assert_eq!(ClientCertificate::from_pem(key.as_bytes()).unwrap_err(), CertificateError::NoCertificate);
        let other_key = &OTHER[OTHER.find("-----BEGIN RSA PRIVATE KEY").unwrap()..];
        let mismatched = format!("{cert}{other_key}");
        assert_eq!(ClientCertificate::from_pem(mismatched.as_bytes()).unwrap_err(), CertificateError::Mismatch);
    }

    #[test]
    fn an_assertion_carries_the_documented_header_and_claims() {
        let app = ClientCertificate::from_pem(APP.as_bytes()).unwrap();
        let jwt = app.assertion("https://login.example/t/oauth2/v2.0/token", "client-1", 1_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode =
            |s: &str| -> serde_json::Value { serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap() };
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t#S256"], app.thumbprint());
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], "https://login.example/t/oauth2/v2.0/token");
        assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("client-1"), Some("client-1")));
        assert_eq!((claims["nbf"].as_u64(), claims["exp"].as_u64()), (Some(1_000), Some(1_600)));
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 256, "RSA-2048 signature");
    }
}
