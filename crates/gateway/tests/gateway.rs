//! The gateway in front of the real emulator, over real HTTP on 127.0.0.1 with fresh SQLite
//! files per test. No mocks: the upstream is the emulator, counted at its own listener.

#[path = "gateway/actions.rs"]
mod actions;
#[path = "gateway/adversarial.rs"]
mod adversarial;
#[path = "gateway/aggregate.rs"]
mod aggregate;
#[path = "gateway/app.rs"]
mod app;
#[path = "gateway/batch.rs"]
mod batch;
#[path = "gateway/fetch.rs"]
mod fetch;
#[path = "gateway/health.rs"]
mod health;
#[path = "gateway/hidden.rs"]
mod hidden;
#[path = "gateway/limits.rs"]
mod limits;
#[path = "gateway/many_to_many.rs"]
mod many_to_many;
#[path = "gateway/matrix.rs"]
mod matrix;
#[path = "gateway/metadata.rs"]
mod metadata;
#[path = "gateway/metrics.rs"]
mod metrics;
#[path = "gateway/navigation.rs"]
mod navigation;
#[path = "gateway/paging.rs"]
mod paging;
#[path = "gateway/retries.rs"]
mod retries;
#[path = "gateway/schema.rs"]
mod schema;
#[path = "gateway/token.rs"]
mod token;
