//! The gateway's audit writer: one chain per process, group commit.
//!
//! Callers hand an unsealed record to [`ChainAppender::append`] and wait. A single task drains
//! whatever is queued, seals the records in order, inserts them in one transaction and commits
//! (WAL, `synchronous=FULL`); only then does each caller get its sealed record back. If the
//! commit fails, every caller of that batch gets an error, the chain head is not advanced, and
//! nothing in the batch was acknowledged. The chain's first record is acknowledged only once its
//! anchoring checkpoint is written; if that write fails after the commit, the head keeps its
//! place and the write is retried with the next batch (see `commit`).

use crate::{Store, StoreError};
use audit::{AuditRecord, ChainWriter, Timestamp};
use tokio::sync::{mpsc, oneshot};

enum Job {
    Append(Box<AuditRecord>, oneshot::Sender<Result<AuditRecord, StoreError>>),
    Checkpoint(Timestamp, oneshot::Sender<Result<(), StoreError>>),
}

/// Handle to a chain's writer task (cheap to clone).
#[derive(Clone, Debug)]
pub struct ChainAppender {
    tx: mpsc::Sender<Job>,
    chain_id: String,
}

/// Most records committed together.
const MAX_GROUP: usize = 256;

impl ChainAppender {
    /// Opens a new chain `chain_id` and starts its writer task.
    pub fn start(store: Store, chain_id: String) -> ChainAppender {
        let (tx, rx) = mpsc::channel(4096);
        let writer = ChainWriter::new(&store.secrets.audit_key, chain_id.clone());
        tokio::spawn(run(store, writer, rx));
        ChainAppender { tx, chain_id }
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Whether the writer task is still running (readiness). It stops only if it panicked; then
    /// every append fails.
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Seals and commits a record; returns it once it is durable.
    pub async fn append(&self, record: AuditRecord) -> Result<AuditRecord, StoreError> {
        let (reply, wait) = oneshot::channel();
        self.tx.send(Job::Append(Box::new(record), reply)).await.map_err(|_| StoreError::AuditUnavailable)?;
        wait.await.map_err(|_| StoreError::AuditUnavailable)?
    }

    /// Writes a signed checkpoint of the chain head (no-op on an empty chain).
    pub async fn checkpoint(&self, time: Timestamp) -> Result<(), StoreError> {
        let (reply, wait) = oneshot::channel();
        self.tx.send(Job::Checkpoint(time, reply)).await.map_err(|_| StoreError::AuditUnavailable)?;
        wait.await.map_err(|_| StoreError::AuditUnavailable)?
    }
}

async fn run(store: Store, mut writer: ChainWriter, mut rx: mpsc::Receiver<Job>) {
    let mut anchor = Anchor::default();
    let mut jobs = Vec::new();
    while rx.recv_many(&mut jobs, MAX_GROUP).await > 0 {
        let mut group: Vec<(AuditRecord, oneshot::Sender<Result<AuditRecord, StoreError>>)> = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Append(record, reply) => group.push((*record, reply)),
                Job::Checkpoint(time, reply) => {
                    commit(&store, &mut writer, &mut anchor, std::mem::take(&mut group)).await;
                    let result = match anchor.write(&store).await {
                        Err(e) => Err(e),
                        Ok(()) => match writer.checkpoint(&store.secrets.audit_key, time) {
                            Some(cp) => store.write_checkpoint(&cp).await,
                            None => Ok(()),
                        },
                    };
                    let _ = reply.send(result);
                }
            }
        }
        commit(&store, &mut writer, &mut anchor, group).await;
    }
}

/// The checkpoint of a chain's first record, which anchors the chain, while it is not yet
/// written. Records are acknowledged only once it is: a chain whose start is not anchored could
/// be replaced from the start without `verify` noticing.
#[derive(Default)]
struct Anchor(Option<audit::Checkpoint>);

impl Anchor {
    /// Writes the pending anchor, if any; it stays pending when the write fails.
    async fn write(&mut self, store: &Store) -> Result<(), StoreError> {
        if let Some(cp) = &self.0 {
            store.write_checkpoint(cp).await?;
            self.0 = None;
        }
        Ok(())
    }
}

/// Seals and commits `group`, then acknowledges it. If the database commit fails, nobody is
/// acknowledged and the chain head goes back. If the commit succeeded but the chain's anchor
/// could not be written, the head stays where the committed records put it (their sequence
/// numbers are taken) and the group gets an error (fail closed); the anchor is retried before
/// the next group is acknowledged.
async fn commit(
    store: &Store,
    writer: &mut ChainWriter,
    anchor: &mut Anchor,
    group: Vec<(AuditRecord, oneshot::Sender<Result<AuditRecord, StoreError>>)>,
) {
    if group.is_empty() {
        return;
    }
    let before = writer.clone();
    let first_of_chain = writer.next_seq() == 1;
    let key = store.secrets.audit_key.clone();
    let sealed: Vec<AuditRecord> = group.iter().map(|(r, _)| writer.seal(&key, r.clone())).collect();
    let committed = async {
        let mut tx = store.pool.begin().await?;
        for r in &sealed {
            crate::records::insert(&mut tx, r).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    if let Err(e) = committed {
        tracing::error!(error = %e, "audit commit failed; nothing in this group was acknowledged");
        *writer = before;
        fail(group, &e);
        return;
    }
    if first_of_chain {
        match ChainWriter::resume(writer.chain_id(), sealed[0].seq, &sealed[0].hash) {
            Ok(first) => anchor.0 = first.checkpoint(&key, sealed[0].time),
            Err(e) => {
                fail(group, &StoreError::Corrupt(e.to_string()));
                return;
            }
        }
    }
    if let Err(e) = anchor.write(store).await {
        tracing::error!(error = %e, "the audit chain's first checkpoint could not be written; records not acknowledged");
        fail(group, &e);
        return;
    }
    for ((_, reply), record) in group.into_iter().zip(sealed) {
        let _ = reply.send(Ok(record));
    }
}

fn fail(group: Vec<(AuditRecord, oneshot::Sender<Result<AuditRecord, StoreError>>)>, e: &StoreError) {
    let msg = e.to_string();
    for (_, reply) in group {
        let _ = reply.send(Err(StoreError::Corrupt(format!("audit commit failed: {msg}"))));
    }
}
