//! Reading and inserting sealed audit records.

use crate::{Store, StoreError};
use audit::AuditRecord;
use sqlx::{Row, SqliteConnection};

/// Inserts one sealed record.
pub(crate) async fn insert(conn: &mut SqliteConnection, r: &AuditRecord) -> Result<(), StoreError> {
    let json = serde_json::to_string(r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO audit_records (chain_id, seq, id, time, record_type, attempt_id, agent_id, kind, decision, request_id, record)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.chain_id)
    .bind(r.seq as i64)
    .bind(r.id.to_string())
    .bind(r.time.to_string())
    .bind(value_name(&r.record_type))
    .bind(r.attempt_id.map(|a| a.to_string()))
    .bind(&r.agent_id)
    .bind(r.kind.as_str())
    .bind(r.decision.map(|d| value_name(&d)))
    .bind(&r.request_id)
    .bind(json)
    .execute(conn)
    .await?;
    Ok(())
}

/// The snake_case name serde gives a unit enum value.
fn value_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub(crate) fn parse(json: &str) -> Result<AuditRecord, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("audit record: {e}")))
}

impl Store {
    /// Every audit record, by chain and seq (for verification and export).
    pub async fn all_records(&self) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM audit_records ORDER BY chain_id, seq").fetch_all(&self.pool).await?;
        rows.iter().map(|r| parse(r.get::<&str, _>(0))).collect()
    }

    /// The latest `limit` records by time, oldest first.
    pub async fn tail(&self, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM (SELECT record, time, rowid FROM audit_records ORDER BY time DESC, rowid DESC LIMIT ?) ORDER BY time, rowid")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| parse(r.get::<&str, _>(0))).collect()
    }

    /// Whether an audit commit could start now (readiness): takes the database's write lock
    /// (`BEGIN IMMEDIATE`), reads the audit table's last row id and rolls back. Nothing is
    /// written and no record is made; a full disk still shows only when a commit fails.
    pub async fn audit_writable(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("SELECT max(rowid) FROM audit_records").fetch_one(&mut *tx).await?;
        tx.rollback().await?;
        Ok(())
    }

    /// Records of one request id, in chain order.
    pub async fn records_for_request(&self, request_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM audit_records WHERE request_id = ? ORDER BY chain_id, seq")
            .bind(request_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| parse(r.get::<&str, _>(0))).collect()
    }
}
