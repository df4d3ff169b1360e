//! Integration tests of the emulator over real HTTP on 127.0.0.1 (port 0), each against a fresh
//! SQLite database (in memory, or a temporary data directory).

#[path = "emulator/actions.rs"]
mod actions;
#[path = "emulator/activities.rs"]
mod activities;
#[path = "emulator/aggregate.rs"]
mod aggregate;
#[path = "emulator/annotations.rs"]
mod annotations;
#[path = "emulator/auth.rs"]
mod auth;
#[path = "emulator/batch.rs"]
mod batch;
#[path = "emulator/binds.rs"]
mod binds;
#[path = "emulator/changes.rs"]
mod changes;
#[path = "emulator/common.rs"]
mod common;
#[path = "emulator/expand.rs"]
mod expand;
#[path = "emulator/fetch.rs"]
mod fetch;
#[path = "emulator/fixture.rs"]
mod fixture;
#[path = "emulator/functions.rs"]
mod functions;
#[path = "emulator/keys.rs"]
mod keys;
#[path = "emulator/many_to_many.rs"]
mod many_to_many;
#[path = "emulator/navigation.rs"]
mod navigation;
#[path = "emulator/paging.rs"]
mod paging;
#[path = "emulator/persistence.rs"]
mod persistence;
#[path = "emulator/protection.rs"]
mod protection;
#[path = "emulator/query.rs"]
mod query;
#[path = "emulator/rows.rs"]
mod rows;
#[path = "emulator/snapshots.rs"]
mod snapshots;
#[path = "emulator/token.rs"]
mod token;
#[path = "emulator/validation.rs"]
mod validation;
