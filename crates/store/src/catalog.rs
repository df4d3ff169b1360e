//! Declarations of custom APIs (`stanchion catalog declare`): what each touches, so it can be
//! classified and granted like any action. Each change is an admin record.

use crate::{Store, StoreError};
use audit::{Change, Kind};
use dataverse::request::Declaration;
use sqlx::Row;

/// A declaration in words: "reads incidents; uses contacts fully; deletes rows".
pub fn describe(d: &Declaration) -> String {
    let mut parts: Vec<String> = Vec::new();
    let reads: Vec<&str> = d.tables.iter().filter(|(_, full)| !full).map(|(t, _)| t.as_str()).collect();
    let full: Vec<&str> = d.tables.iter().filter(|(_, full)| *full).map(|(t, _)| t.as_str()).collect();
    if !reads.is_empty() {
        parts.push(format!("reads {}", reads.join(", ")));
    }
    if !full.is_empty() {
        parts.push(format!("uses {} fully", full.join(", ")));
    }
    if d.destructive {
        parts.push("deletes rows".to_owned());
    }
    if parts.is_empty() { "touches no table".to_owned() } else { parts.join("; ") }
}

impl Store {
    /// Declares (or declares again) what custom API `name` touches.
    pub async fn declare_custom_api(
        &self,
        actor: &crate::Actor,
        name: &str,
        declaration: &Declaration,
    ) -> Result<(), StoreError> {
        let mut change = Change::new(name.to_owned());
        change.to = Some(describe(declaration));
        let tables = serde_json::to_string(&declaration.tables).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (name, destructive) = (name.to_owned(), declaration.destructive);
        self.admin_change(actor, Kind::CatalogDeclared, change, move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO catalog_declarations (name, tables, destructive) VALUES (?, ?, ?) \
                     ON CONFLICT(name) DO UPDATE SET tables = excluded.tables, destructive = excluded.destructive",
                )
                .bind(&name)
                .bind(&tables)
                .bind(destructive)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Withdraws a declaration; false when there was none.
    pub async fn undeclare_custom_api(&self, actor: &crate::Actor, name: &str) -> Result<bool, StoreError> {
        if self.declaration(name).await?.is_none() {
            return Ok(false);
        }
        let owned = name.to_owned();
        self.admin_change(actor, Kind::CatalogUndeclared, Change::new(name.to_owned()), move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM catalog_declarations WHERE name = ?").bind(&owned).execute(&mut *conn).await?;
                Ok(())
            })
        })
        .await?;
        Ok(true)
    }

    /// The declaration of custom API `name`, if any.
    pub async fn declaration(&self, name: &str) -> Result<Option<Declaration>, StoreError> {
        let row = sqlx::query("SELECT tables, destructive FROM catalog_declarations WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let tables: Vec<(String, bool)> =
                serde_json::from_str(r.get::<&str, _>(0)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(Declaration { tables, destructive: r.get::<i64, _>(1) != 0 })
        })
        .transpose()
    }

    /// Every declaration, by name.
    pub async fn declarations(&self) -> Result<Vec<(String, Declaration)>, StoreError> {
        let rows = sqlx::query("SELECT name, tables, destructive FROM catalog_declarations ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let tables: Vec<(String, bool)> =
                    serde_json::from_str(r.get::<&str, _>(1)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((r.get::<String, _>(0), Declaration { tables, destructive: r.get::<i64, _>(2) != 0 }))
            })
            .collect()
    }
}
