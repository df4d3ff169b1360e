//! Retention: pruning audit records older than a date (`stanchion audit prune --before DATE`).
//!
//! In one immediate transaction, for every chain: the records before the first one at or after
//! the date are removed (always a prefix, so what is kept still links), a [`Truncation`] signed
//! with the audit key says where the chain now starts and which hash its first kept record links
//! to, the search index forgets the removed records, and an admin record on the `admin` chain
//! says who pruned how many records from before when. `audit verify` reads the truncations, so
//! a pruned log still verifies while records removed any other way are still found missing.
//!
//! What it does not do: prune by anything but time, or rewrite checkpoints (those of pruned
//! records are simply no longer looked for).

use crate::admin::{Actor, now};
use crate::{Store, StoreError};
use audit::{AuditRecord, Change, Kind, Timestamp, Truncation};
use sqlx::{Row, SqliteConnection};

/// What a prune removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    /// Records older than this were removed.
    pub before: String,
    /// How many records in all.
    pub pruned: u64,
    /// Per chain that lost records.
    pub chains: Vec<PrunedChain>,
}

/// One chain's part of a prune.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrunedChain {
    /// The chain.
    pub chain_id: String,
    /// Records removed from it.
    pub pruned: u64,
    /// The seq it now starts at.
    pub first_seq: u64,
}

/// Where a chain starts after its latest truncation: `(first_seq, prev_hash)`.
pub(crate) async fn chain_start(
    conn: &mut SqliteConnection,
    chain_id: &str,
) -> Result<Option<(u64, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT first_seq, prev_hash FROM audit_truncations WHERE chain_id = ? ORDER BY first_seq DESC LIMIT 1",
    )
    .bind(chain_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| (r.get::<i64, _>(0) as u64, r.get::<String, _>(1))))
}

/// Removes one chain's records up to `last` (and their search entries); the delete trigger must
/// be off.
async fn remove_prefix(conn: &mut SqliteConnection, chain_id: &str, last: i64) -> Result<(), StoreError> {
    // The text index is contentless: an entry is removed by giving back the words it was made
    // from (the same view makes them), for the records indexed so far.
    sqlx::query(
        "INSERT INTO audit_text (audit_text, rowid, body)
         SELECT 'delete', record_rowid, body FROM audit_words
         WHERE chain_id = ?1 AND seq <= ?2 AND record_rowid <= (SELECT indexed_rowid FROM audit_search_state WHERE id = 1)",
    )
    .bind(chain_id)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    for statement in [
        "DELETE FROM audit_record_tables WHERE chain_id = ?1 AND seq <= ?2",
        "DELETE FROM audit_record_ids WHERE chain_id = ?1 AND seq <= ?2",
        "DELETE FROM audit_records WHERE chain_id = ?1 AND seq <= ?2",
    ] {
        sqlx::query(statement).bind(chain_id).bind(last).execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// Prunes every chain's records older than `before` (which must not be in the future).
    pub async fn prune_audit(&self, actor: &Actor, before: Timestamp) -> Result<PruneReport, StoreError> {
        if before > now() {
            return Err(StoreError::Invalid(format!(
                "--before {before} is in the future: only past records can be pruned"
            )));
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = self.prune_in(&mut conn, actor, before).await;
        match result {
            Ok((report, writer)) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                if let Some(cp) = writer.checkpoint(&self.secrets.audit_key, now()) {
                    self.write_checkpoint(&cp).await?;
                }
                Ok(report)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        }
    }

    async fn prune_in(
        &self,
        conn: &mut SqliteConnection,
        actor: &Actor,
        before: Timestamp,
    ) -> Result<(PruneReport, audit::ChainWriter), StoreError> {
        let key = &self.secrets.audit_key;
        let time = now();
        let cutoff = before.to_string();
        let chains = sqlx::query("SELECT chain_id, min(seq) FROM audit_records GROUP BY chain_id ORDER BY chain_id")
            .fetch_all(&mut *conn)
            .await?;
        // Removing records is what the append-only trigger forbids: it is lifted inside this
        // transaction only, and put back before the commit.
        sqlx::query("DROP TRIGGER audit_records_append_only_delete").execute(&mut *conn).await?;
        let mut report = PruneReport { before: cutoff.clone(), pruned: 0, chains: Vec::new() };
        for row in chains {
            let (chain_id, first): (String, i64) = (row.get(0), row.get(1));
            // The last record before the first one at or after the cutoff (a prefix of the chain).
            let last: Option<(i64, String)> = sqlx::query(
                "SELECT seq, record FROM audit_records WHERE chain_id = ?1 AND seq < coalesce(
                     (SELECT min(seq) FROM audit_records WHERE chain_id = ?1 AND time >= ?2), 9223372036854775807)
                 ORDER BY seq DESC LIMIT 1",
            )
            .bind(&chain_id)
            .bind(&cutoff)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| (r.get(0), r.get(1)));
            let Some((last, json)) = last else { continue };
            let last_record: AuditRecord = crate::records::parse(&json)?;
            let pruned = (last - first + 1) as u64;
            let truncation = Truncation::sign(key, &chain_id, last as u64 + 1, last_record.hash, before, pruned, time);
            sqlx::query(
                "INSERT INTO audit_truncations (chain_id, first_seq, prev_hash, before, pruned, time, signature)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&truncation.chain_id)
            .bind(truncation.first_seq as i64)
            .bind(&truncation.prev_hash)
            .bind(truncation.before.to_string())
            .bind(pruned as i64)
            .bind(truncation.time.to_string())
            .bind(&truncation.signature)
            .execute(&mut *conn)
            .await?;
            remove_prefix(conn, &chain_id, last).await?;
            report.pruned += pruned;
            report.chains.push(PrunedChain { chain_id, pruned, first_seq: truncation.first_seq });
        }
        sqlx::query(
            "CREATE TRIGGER audit_records_append_only_delete BEFORE DELETE ON audit_records
             BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
        )
        .execute(&mut *conn)
        .await?;
        let change = Change { to: Some(cutoff), ..Change::new("the audit log") };
        let writer = self.append_admin(conn, actor, Kind::AuditPruned, change, Some(report.pruned)).await?;
        Ok((report, writer))
    }

    /// Every truncation record (for `audit verify`).
    pub async fn truncations(&self) -> Result<Vec<Truncation>, StoreError> {
        let rows = sqlx::query(
            "SELECT chain_id, first_seq, prev_hash, before, pruned, time, signature FROM audit_truncations ORDER BY chain_id, first_seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let time = |i: usize| {
                    Timestamp::parse(r.get::<&str, _>(i))
                        .map_err(|e| StoreError::Corrupt(format!("audit truncation: {e}")))
                };
                Ok(Truncation {
                    chain_id: r.get(0),
                    first_seq: r.get::<i64, _>(1) as u64,
                    prev_hash: r.get(2),
                    before: time(3)?,
                    pruned: r.get::<i64, _>(4) as u64,
                    time: time(5)?,
                    signature: r.get(6),
                })
            })
            .collect()
    }
}
