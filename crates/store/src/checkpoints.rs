//! Checkpoints: in the store and in the append-only checkpoint file outside the database.

use crate::{Store, StoreError};
use audit::Checkpoint;
use std::io::Write;
use std::path::PathBuf;

/// The checkpoint file (`[audit] checkpoint_file`): one JSON line per checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    /// A checkpoint file at `path` (created on first append).
    pub fn new(path: PathBuf) -> Self {
        CheckpointFile { path }
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends a line and syncs it to disk.
    pub fn append(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let err = |source| StoreError::File { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path).map_err(err)?;
        f.write_all(format!("{}\n", checkpoint.to_line()).as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)
    }

    /// Reads every checkpoint; `None` when the file does not exist.
    pub fn read(&self) -> Result<Option<Vec<Checkpoint>>, StoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::File { path: self.path.clone(), source }),
        };
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            out.push(
                Checkpoint::parse_line(line)
                    .map_err(|e| StoreError::Corrupt(format!("{} line {}: {e}", self.path.display(), i + 1)))?,
            );
        }
        Ok(Some(out))
    }
}

impl Store {
    /// Records a checkpoint in the store and in the checkpoint file.
    pub async fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR IGNORE INTO audit_checkpoints (chain_id, seq, hash, time, signature) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&checkpoint.chain_id)
        .bind(checkpoint.seq as i64)
        .bind(&checkpoint.hash)
        .bind(checkpoint.time.to_string())
        .bind(&checkpoint.signature)
        .execute(&self.pool)
        .await?;
        self.checkpoints.append(checkpoint)
    }
}
