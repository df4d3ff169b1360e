//! Seed data. Always, into an empty database: the root business unit, the USD currency, the
//! `SYSTEM` user and the default team (spec §15.7, §15.8, §15.11). On every start: one
//! application user per registered client (spec §14.1: "the app must also be registered as an
//! application user"). With a seed: deterministic sample CRM rows ([`sample`]).
//!
//! With a seed, every id (system rows included) comes from a small PRNG seeded with it, so the
//! same seed gives the same ids and values; only `createdon`/`modifiedon` are the real time.

mod sample;

use crate::response::db_error;
use crate::rows::Cell;
use crate::store::{meta, statement};
use crate::write::{self, Cells, WriteCtx};
use dataverse::Schema;
use dataverse::error::DataverseError;
use sea_query::{Expr, ExprTrait as _, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sha2::{Digest as _, Sha256};
use sqlx::{Row as _, SqliteConnection};
use uuid::Uuid;

/// Ids of the rows every org has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SystemIds {
    /// `OrganizationId` of WhoAmI.
    pub(crate) organization: Uuid,
    /// The root business unit.
    pub(crate) root_business_unit: Uuid,
    /// The USD transaction currency (the org's base currency).
    pub(crate) currency: Uuid,
    /// The root business unit's default team.
    pub(crate) default_team: Uuid,
    /// The `SYSTEM` user that created the system rows.
    pub(crate) system_user: Uuid,
}

const KEYS: [&str; 5] = ["organizationid", "root_businessunitid", "currencyid", "default_teamid", "system_userid"];

/// SplitMix64's output function: a good 64-bit mix of `x`.
pub(crate) fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small deterministic PRNG (SplitMix64).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix(self.0)
    }

    /// A number in `0..n` (`n` > 0; a modulo bias of at most n/2^64 is irrelevant here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % std::cmp::max(n, 1)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = hi.saturating_sub(lo).unsigned_abs().saturating_add(1);
        lo.saturating_add_unsigned(self.below(span))
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // `below(len)` < len for len > 0; the callers pass constant non-empty lists.
        &items[self.below(items.len() as u64) as usize]
    }

    /// A version-4-shaped UUID from the stream.
    pub(crate) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// Where new ids come from: a seeded stream or fresh v4 UUIDs.
#[derive(Debug)]
pub(crate) enum Ids {
    Seeded(Rng),
    Random,
}

impl Ids {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        match seed {
            Some(s) => Ids::Seeded(Rng::new(s ^ 0x5354_414E_4348_494F)),
            None => Ids::Random,
        }
    }

    pub(crate) fn next(&mut self) -> Uuid {
        match self {
            Ids::Seeded(rng) => rng.uuid(),
            Ids::Random => Uuid::new_v4(),
        }
    }
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

/// Loads the system ids, seeding the system rows first when the database is empty. The flag
/// is true when this call seeded (the database was empty).
pub(crate) async fn system(
    conn: &mut SqliteConnection,
    schema: &Schema,
    ids: &mut Ids,
) -> Result<(SystemIds, bool), DataverseError> {
    if let Some(existing) = load(conn).await? {
        return Ok((existing, false));
    }
    let sys = SystemIds {
        organization: ids.next(),
        root_business_unit: ids.next(),
        currency: ids.next(),
        default_team: ids.next(),
        system_user: ids.next(),
    };
    let ctx = WriteCtx { caller: sys.system_user, ids: &sys, now: crate::rows::now_text() };
    let table = |name: &str| schema.table(name).ok_or_else(|| DataverseError::bad_request(format!("no table {name}")));
    let bu: Cells = vec![("name".into(), text("Stanchion Emulator")), ("isdisabled".into(), Cell::Int(0))];
    write::insert(conn, &ctx, table("businessunit")?, sys.root_business_unit, bu).await?;
    let currency: Cells = vec![
        ("currencyname".into(), text("US Dollar")),
        ("isocurrencycode".into(), text("USD")),
        ("currencysymbol".into(), text("$")),
        ("exchangerate".into(), Cell::Text(crate::decimal::format(10i128.pow(10), 10))),
        ("currencyprecision".into(), Cell::Int(2)),
    ];
    write::insert(conn, &ctx, table("transactioncurrency")?, sys.currency, currency).await?;
    let system_user: Cells = vec![
        ("lastname".into(), text("SYSTEM")),
        ("accessmode".into(), Cell::Int(1)),
        ("isdisabled".into(), Cell::Int(1)),
    ];
    write::insert(conn, &ctx, table("systemuser")?, sys.system_user, system_user).await?;
    let team: Cells = vec![
        ("name".into(), text("Stanchion Emulator")),
        ("teamtype".into(), Cell::Int(0)),
        ("isdefault".into(), Cell::Int(1)),
        ("description".into(), text("Default team of the root business unit.")),
    ];
    write::insert(conn, &ctx, table("team")?, sys.default_team, team).await?;
    let values = [sys.organization, sys.root_business_unit, sys.currency, sys.default_team, sys.system_user];
    for (key, id) in KEYS.iter().zip(values) {
        meta::set_text(conn, key, &id.to_string()).await.map_err(db_error)?;
    }
    Ok((sys, true))
}

async fn load(conn: &mut SqliteConnection) -> Result<Option<SystemIds>, DataverseError> {
    let mut found = Vec::with_capacity(KEYS.len());
    for key in KEYS {
        match meta::get_text(conn, key).await.map_err(db_error)? {
            Some(t) => found.push(
                Uuid::try_parse(&t).map_err(|_| DataverseError::bad_request(format!("stored {key} is not a GUID")))?,
            ),
            None if found.is_empty() => return Ok(None),
            None => {
                return Err(DataverseError::bad_request(format!("the database lacks {key}")));
            }
        }
    }
    let [organization, root_business_unit, currency, default_team, system_user] =
        <[Uuid; 5]>::try_from(found).map_err(|_| DataverseError::bad_request("the database lacks a system id"))?;
    Ok(Some(SystemIds { organization, root_business_unit, currency, default_team, system_user }))
}

/// The `applicationid` of a client: its id when it is a GUID (as Entra client ids are), else a
/// name-based UUID (SHA-256 of the id), stable across restarts.
pub(crate) fn application_id(client_id: &str) -> Uuid {
    if let Ok(id) = Uuid::try_parse(client_id) {
        return id;
    }
    let digest = Sha256::digest(format!("stanchion-emulator-application:{client_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The application user of a client (spec §15.6: `applicationid` set, `accessmode` 4
/// Non-interactive, full name `# {client_id}`), created if missing; returns its id.
pub(crate) async fn app_user(
    conn: &mut SqliteConnection,
    schema: &Schema,
    sys: &SystemIds,
    ids: &mut Ids,
    client_id: &str,
) -> Result<Uuid, DataverseError> {
    let app = application_id(client_id);
    let q = sea_query::Query::select()
        .column("systemuserid")
        .from("systemuser")
        .and_where(Expr::col("applicationid").eq(app.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    if let Some(row) = statement(q).fetch_optional(&mut *conn).await.map_err(db_error)? {
        let id: String = row.try_get(0).map_err(db_error)?;
        return Uuid::try_parse(&id).map_err(|_| DataverseError::bad_request("stored systemuserid is not a GUID"));
    }
    let table = schema.table("systemuser").ok_or_else(|| DataverseError::bad_request("no table systemuser"))?;
    let id = ids.next();
    let lastname: String = client_id.chars().take(64).collect();
    let cells: Cells = vec![
        ("firstname".into(), text("#")),
        ("lastname".into(), Cell::Text(lastname)),
        ("applicationid".into(), Cell::Text(app.to_string())),
        ("accessmode".into(), Cell::Int(4)),
        ("isdisabled".into(), Cell::Int(0)),
    ];
    let ctx = WriteCtx { caller: sys.system_user, ids: sys, now: crate::rows::now_text() };
    write::insert(conn, &ctx, table, id, cells).await?;
    Ok(id)
}

/// Loads the deterministic sample rows for `seed`, owned by `owner`.
pub(crate) async fn sample_data(
    conn: &mut SqliteConnection,
    schema: &Schema,
    sys: &SystemIds,
    owner: Uuid,
    seed: u64,
) -> Result<(), DataverseError> {
    sample::load(conn, schema, sys, owner, seed).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.uuid(), b.uuid());
        assert_ne!(Rng::new(8).uuid(), Rng::new(7).uuid());
        for _ in 0..100 {
            let v = a.range(3, 9);
            assert!((3..=9).contains(&v));
        }
    }

    #[test]
    fn application_ids_are_stable() {
        assert_eq!(application_id("stanchion-local"), application_id("stanchion-local"));
        let guid = "0b5a2f4e-6d1c-4c39-9f3e-1f2a3b4c5d6e";
        assert_eq!(application_id(guid).to_string(), guid);
    }
}
