//! Dataverse error values: `{"error":{"code":"0x…","message":"…"}}` with an HTTP status (spec §10).

use std::fmt;

/// Hex codes used by the emulator and the gateway (spec §10.3).
pub mod codes {
    /// OData URI parse error.
    pub const ODATA_PARSE: &str = "0x0";
    /// ObjectDoesNotExist.
    pub const OBJECT_DOES_NOT_EXIST: &str = "0x80040217";
    /// PrivilegeDenied: also the code of every Stanchion policy refusal (design §6.4).
    pub const PRIVILEGE_DENIED: &str = "0x80040220";
    /// DuplicateRecord.
    pub const DUPLICATE_RECORD: &str = "0x80040237";
    /// ConcurrencyVersionMismatch.
    pub const CONCURRENCY_VERSION_MISMATCH: &str = "0x80060882";
    /// ODataClientPayloadError (bad JSON payload).
    pub const PAYLOAD_ERROR: &str = "0x80048d19";
    /// InvalidArgument.
    pub const INVALID_ARGUMENT: &str = "0x80040203";
    /// A validation error (string too long).
    pub const VALIDATION: &str = "0x80044331";
    /// PicklistValueOutOfRange.
    pub const PICKLIST_OUT_OF_RANGE: &str = "0x8004431a";
    /// UnExpected.
    pub const UNEXPECTED: &str = "0x80040216";
    /// UnauthorizedAccess.
    pub const UNAUTHORIZED: &str = "0x80040277";
    /// Throttling.
    pub const THROTTLING: &str = "0x8005f103";
    /// Service protection: number of requests.
    pub const THROTTLING_REQUESTS: &str = "0x80072322";
    /// Service protection: number of concurrent requests.
    pub const THROTTLING_CONCURRENCY: &str = "0x80072326";
    /// AggregateQueryRecordLimitExceeded: an aggregation over more than 50,000 rows.
    pub const AGGREGATE_QUERY_RECORD_LIMIT: &str = "0x8004E023";
}

/// An error answer in Dataverse's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataverseError {
    /// HTTP status.
    pub status: u16,
    /// Hex code string such as `0x80040217`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

impl DataverseError {
    /// Builds an error.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        DataverseError { status, code: code.to_owned(), message: message.into() }
    }

    /// 400 with the OData parse code.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, codes::ODATA_PARSE, message)
    }

    /// 404 for a row that does not exist (spec §2.5).
    pub fn not_found(logical_name: &str, id: &uuid::Uuid) -> Self {
        Self::new(404, codes::OBJECT_DOES_NOT_EXIST, format!("{logical_name} With Id = {id} Does Not Exist"))
    }

    /// The JSON body `{"error":{"code":…,"message":…}}`.
    pub fn body(&self) -> String {
        let mut out = String::from("{\"error\":{\"code\":");
        crate::json::write_string(&mut out, &self.code);
        out.push_str(",\"message\":");
        crate::json::write_string(&mut out, &self.message);
        out.push_str("}}");
        out
    }
}

impl fmt::Display for DataverseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for DataverseError {}
