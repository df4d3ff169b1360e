//! The two secrets that live outside the database (design §7): the key secret agent keys are
//! hashed with, and the audit key that chains and checkpoints are keyed with. With SQLite and no
//! file given, each is generated into the data dir (mode 0600) and the caller warns to back it up.

use crate::StoreError;
use crate::keys::KeySecret;
use audit::AuditKey;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Both secrets.
#[derive(Clone, Debug)]
pub struct Secrets {
    /// Agent keys are stored as HMAC digests with this.
    pub key_secret: KeySecret,
    /// The audit chain and checkpoints are keyed with this.
    pub audit_key: AuditKey,
    /// Files that were generated just now (the caller warns about backups).
    pub generated: Vec<PathBuf>,
}

/// Loads both secrets, generating missing default files in `data_dir`.
pub fn load_or_create_secrets(
    data_dir: &Path,
    key_secret_file: Option<&Path>,
    audit_key_file: Option<&Path>,
) -> Result<Secrets, StoreError> {
    let mut generated = Vec::new();
    let ks_path = key_secret_file.map_or_else(|| data_dir.join("key-secret"), Path::to_path_buf);
    let ak_path = audit_key_file.map_or_else(|| data_dir.join("audit-key"), Path::to_path_buf);
    let ks_text = read_or_generate(&ks_path, key_secret_file.is_none(), &mut generated)?;
    let ak_text = read_or_generate(&ak_path, audit_key_file.is_none(), &mut generated)?;
    let key_secret = KeySecret::from_hex(&ks_text)
        .ok_or_else(|| StoreError::Corrupt(format!("{} must hold 64 hex characters", ks_path.display())))?;
    let audit_key = AuditKey::from_hex(ak_text.trim())
        .map_err(|_| StoreError::Corrupt(format!("{} must hold 64 hex characters", ak_path.display())))?;
    Ok(Secrets { key_secret, audit_key, generated })
}

fn read_or_generate(path: &Path, may_generate: bool, generated: &mut Vec<PathBuf>) -> Result<String, StoreError> {
    let err = |source| StoreError::File { path: path.to_owned(), source };
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_generate => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| err(std::io::Error::other(e.to_string())))?;
            let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(path).map_err(err)?;
            f.write_all(format!("{text}\n").as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
            generated.push(path.to_owned());
            Ok(text)
        }
        Err(e) => Err(err(e)),
    }
}
