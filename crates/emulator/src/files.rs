//! Files in the data directory (design §7): the default client's credentials and the token
//! signing key, both written with mode 0600 and reused on the next start. Also the random
//! source every secret comes from.

use crate::{ClientCredential, EmulatorError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::io::Write as _;
use std::path::Path;

/// Client id registered when no client is configured (design §7).
pub(crate) const DEFAULT_CLIENT_ID: &str = "stanchion-local";
const CLIENT_FILE: &str = "emulator-client.json";
const SIGNING_KEY_FILE: &str = "emulator-signing.key";

/// `n` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], EmulatorError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| EmulatorError::Random(e.to_string()))?;
    Ok(buf)
}

/// A new client secret: 32 random bytes, base64url without padding (43 characters).
pub(crate) fn new_secret() -> Result<String, EmulatorError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// The default client: read from `{dir}/emulator-client.json` when present, else generated
/// (and written there when `dir` is given). The flag is true when the secret is new.
pub(crate) fn default_client(dir: Option<&Path>) -> Result<(ClientCredential, bool), EmulatorError> {
    let Some(dir) = dir else {
        return Ok((ClientCredential { client_id: DEFAULT_CLIENT_ID.into(), client_secret: new_secret()? }, true));
    };
    let path = dir.join(CLIENT_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|_| EmulatorError::Corrupt(format!("{} is not valid JSON", path.display())))?;
            let field = |name: &str| {
                value
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| EmulatorError::Corrupt(format!("{} has no \"{name}\"", path.display())))
            };
            Ok((ClientCredential { client_id: field("client_id")?, client_secret: field("client_secret")? }, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let client = ClientCredential { client_id: DEFAULT_CLIENT_ID.into(), client_secret: new_secret()? };
            let body = serde_json::json!({"client_id": client.client_id, "client_secret": client.client_secret});
            write_private(&path, body.to_string().as_bytes())?;
            Ok((client, true))
        }
        Err(source) => Err(EmulatorError::DataDir { what: path.display().to_string(), source }),
    }
}

/// The HS256 signing key: `{dir}/emulator-signing.key` (base64url of 32 bytes) when a data
/// directory is used, so tokens survive restarts; random otherwise.
pub(crate) fn signing_key(dir: Option<&Path>) -> Result<Vec<u8>, EmulatorError> {
    let Some(dir) = dir else {
        return Ok(random_bytes::<32>()?.to_vec());
    };
    let path = dir.join(SIGNING_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = URL_SAFE_NO_PAD
                .decode(text.trim())
                .map_err(|_| EmulatorError::Corrupt(format!("{} is not base64url", path.display())))?;
            if key.len() < 32 {
                return Err(EmulatorError::Corrupt(format!("{} holds fewer than 32 bytes", path.display())));
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random_bytes::<32>()?;
            write_private(&path, URL_SAFE_NO_PAD.encode(key).as_bytes())?;
            Ok(key.to_vec())
        }
        Err(source) => Err(EmulatorError::DataDir { what: path.display().to_string(), source }),
    }
}

/// Creates the data directory if needed.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), EmulatorError> {
    std::fs::create_dir_all(dir).map_err(|source| EmulatorError::DataDir { what: dir.display().to_string(), source })
}

/// Writes a new file readable only by its owner (0600 on Unix); fails if it already exists, so
/// two emulators starting on one directory cannot overwrite each other's secret.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), EmulatorError> {
    let err = |source| EmulatorError::DataDir { what: path.display().to_string(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_client_is_written_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = default_client(Some(dir.path())).unwrap();
        assert!(created);
        assert_eq!(first.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(first.client_secret.len(), 43);
        let (second, created) = default_client(Some(dir.path())).unwrap();
        assert!(!created);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(CLIENT_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn signing_key_survives() {
        let dir = tempfile::tempdir().unwrap();
        let a = signing_key(Some(dir.path())).unwrap();
        let b = signing_key(Some(dir.path())).unwrap();
        assert_eq!(a, b);
        assert_ne!(signing_key(None).unwrap(), signing_key(None).unwrap());
    }
}
