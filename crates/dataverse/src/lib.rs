//! The Dataverse Web API wire model, shared by the gateway and the emulator.
//!
//! What it does: table metadata ([`metadata`]), the request parser ([`parse`]) producing a typed
//! [`request::Request`] whose queries use one query IR ([`query`]), the canonical printer
//! ([`print`]), classification of what a request touches ([`classify`]), Dataverse error values
//! ([`error`]) and a JSON tree that keeps member order and exact number text ([`json`]).
//!
//! What it does not do: any I/O. It does not depend on tokio, axum, sqlx or reqwest; callers
//! hand it bytes and get typed values back.
#![forbid(unsafe_code)]

pub mod batch;
pub mod catalog;
pub mod classify;
pub mod csdl;
pub mod error;
pub mod fetch;
pub mod json;
pub mod metadata;
pub mod metadata_query;
pub mod parse;
pub mod print;
pub mod query;
pub mod record;
pub mod request;
pub mod xml;

pub use classify::{Classification, Privilege, TableAccess, Touches, classify};
pub use error::DataverseError;
pub use metadata::Schema;
pub use parse::{ParseError, ParseLimits, RawRequest, parse_request};
pub use request::{Method, Operation, Request, RequestKind};
