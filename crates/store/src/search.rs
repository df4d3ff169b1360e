//! Finding audit records (`stanchion audit search`) and reading them out in order (`audit
//! export`). Records are indexed after they are committed — before every search and
//! periodically in the gateway, never on the audit write path, which each agent request waits
//! on: the tables and record ids each names (`audit_record_tables`, `audit_record_ids`) and its
//! words (the contentless FTS5 table `audit_text`), so a search by agent, table, decision, record id, time or words reads the
//! matching records only. What it does not do: change or remove records.

use crate::{Store, StoreError};
use audit::AuditRecord;
use sqlx::Row;

/// Most records one search returns.
pub const MAX_RESULTS: u32 = 10_000;

/// What to look for; every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Agent id.
    pub agent_id: Option<String>,
    /// Table logical name.
    pub table: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub decision: Option<String>,
    /// A record id (GUID) the request touched.
    pub record_id: Option<String>,
    /// At or after (RFC 3339 as records store it).
    pub since: Option<audit::Timestamp>,
    /// Before.
    pub until: Option<audit::Timestamp>,
    /// Words that must all occur in the record (names, tables, columns, reasons, paths).
    pub text: Option<String>,
    /// Most records returned (the newest), at most [`MAX_RESULTS`].
    pub limit: u32,
}

/// Most records indexed in one transaction while catching up: bounds how long the store's write
/// lock is held, and so how long the audit writer (and every agent waiting on a commit) waits.
/// 20,000 held it for hundreds of milliseconds under load (scripts/perf/stalls.py); 1,000 keeps
/// each hold to milliseconds.
const CATCH_UP_CHUNK: i64 = 1_000;

/// Pause between chunks when catching up in the background, so the audit writer gets the write
/// lock between them instead of competing with the next chunk.
const BACKGROUND_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

impl Store {
    /// Indexes every record committed since the last catch-up: their tables, record ids and words,
    /// read back from the stored JSON with set-based statements (the same SQL as migration 0004's
    /// backfill; the words come from its `audit_words` view). Runs before each search and
    /// periodically in the gateway, never on the audit write path. Returns how many records it
    /// indexed.
    pub async fn catch_up_search(&self) -> Result<u64, StoreError> {
        self.catch_up(None).await
    }

    /// [`Store::catch_up_search`] for the gateway's periodic run: chunk by chunk with a short
    /// pause between them, so agents' audit commits never queue behind the index.
    pub async fn catch_up_search_in_background(&self) -> Result<u64, StoreError> {
        self.catch_up(Some(BACKGROUND_PAUSE)).await
    }

    async fn catch_up(&self, pause: Option<std::time::Duration>) -> Result<u64, StoreError> {
        let mut done = 0u64;
        loop {
            if let Some(pause) = pause.filter(|_| done > 0) {
                tokio::time::sleep(pause).await;
            }
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let from: i64 = sqlx::query_scalar("SELECT indexed_rowid FROM audit_search_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let max: i64 =
                sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM audit_records").fetch_one(&mut *tx).await?;
            if max <= from {
                tx.rollback().await?;
                return Ok(done);
            }
            let to = max.min(from + CATCH_UP_CHUNK);
            let statements = [
                "INSERT OR IGNORE INTO audit_record_tables (table_name, chain_id, seq)
                 SELECT json_extract(t.value, '$.table'), r.chain_id, r.seq
                 FROM audit_records r, json_each(r.record, '$.tables') t
                 WHERE r.rowid > ?1 AND r.rowid <= ?2",
                "INSERT OR IGNORE INTO audit_record_ids (record_id, chain_id, seq)
                 SELECT lower(i.value), r.chain_id, r.seq
                 FROM audit_records r, json_each(r.record, '$.record_ids') i
                 WHERE r.rowid > ?1 AND r.rowid <= ?2",
                "INSERT INTO audit_text (rowid, body)
                 SELECT record_rowid, body FROM audit_words WHERE record_rowid > ?1 AND record_rowid <= ?2",
                "UPDATE audit_search_state SET indexed_rowid = ?2 WHERE id = 1 AND indexed_rowid = ?1",
            ];
            for sql in statements {
                sqlx::query(sql).bind(from).bind(to).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            done += (to - from) as u64;
        }
    }
}

/// Words as an FTS5 query that matches records containing all of them: split where the index's
/// tokenizer splits (the index keeps no positions, so every quoted string is one token), each
/// quoted so no word is read as an operator; `None` when there is no word.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl Store {
    /// The newest records matching `q`, oldest first.
    pub async fn search(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        self.catch_up_search().await?;
        let mut sql = String::from("SELECT r.record, r.time, r.rowid FROM audit_records r WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(a) = &q.agent_id {
            sql.push_str(" AND r.agent_id = ?");
            binds.push(a.clone());
        }
        if let Some(d) = &q.decision {
            sql.push_str(" AND r.decision = ?");
            binds.push(d.clone());
        }
        if let Some(t) = q.since {
            sql.push_str(" AND r.time >= ?");
            binds.push(t.to_string());
        }
        if let Some(t) = q.until {
            sql.push_str(" AND r.time < ?");
            binds.push(t.to_string());
        }
        if let Some(t) = &q.table {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM audit_record_tables x
                   WHERE x.table_name = ? AND x.chain_id = r.chain_id AND x.seq = r.seq)",
            );
            binds.push(t.clone());
        }
        if let Some(id) = &q.record_id {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM audit_record_ids x
                   WHERE x.record_id = ? AND x.chain_id = r.chain_id AND x.seq = r.seq)",
            );
            binds.push(id.to_lowercase());
        }
        if let Some(text) = &q.text {
            let Some(m) = fts_query(text) else {
                return Err(StoreError::Invalid("the search text has no word in it".into()));
            };
            sql.push_str(" AND r.rowid IN (SELECT rowid FROM audit_text WHERE audit_text MATCH ?)");
            binds.push(m);
        }
        sql.push_str(" ORDER BY r.time DESC, r.rowid DESC LIMIT ?");
        let wrapped = format!("SELECT record FROM ({sql}) ORDER BY time, rowid");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(wrapped));
        for b in binds {
            query = query.bind(b);
        }
        let rows = query.bind(i64::from(q.limit.clamp(1, MAX_RESULTS))).fetch_all(&self.pool).await?;
        rows.iter().map(|r| crate::records::parse(r.get::<&str, _>(0))).collect()
    }

    /// Up to `limit` records written after the record `after` (`(chain, seq)`; from the start
    /// when `None`), in the order they were written: the cursor of an incremental export.
    /// Unknown `after` is an error, so a mistyped cursor never re-exports everything.
    pub async fn export_after(&self, after: Option<(&str, u64)>, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let from: i64 = match after {
            None => 0,
            Some((chain, seq)) => sqlx::query_scalar("SELECT rowid FROM audit_records WHERE chain_id = ? AND seq = ?")
                .bind(chain)
                .bind(seq as i64)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::Invalid(format!("there is no audit record {chain}:{seq}")))?,
        };
        let rows = sqlx::query("SELECT record FROM audit_records WHERE rowid > ? ORDER BY rowid LIMIT ?")
            .bind(from)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| crate::records::parse(r.get::<&str, _>(0))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn search_words_are_quoted_so_none_is_an_operator() {
        assert_eq!(fts_query("revenue OR name").as_deref(), Some("\"revenue\" \"OR\" \"name\""));
        assert_eq!(fts_query("Sales-Ops \"agent\"").as_deref(), Some("\"Sales\" \"Ops\" \"agent\""));
        assert_eq!(fts_query("agent_name").as_deref(), Some("\"agent\" \"name\""));
        assert_eq!(fts_query(" *:() "), None);
    }
}
