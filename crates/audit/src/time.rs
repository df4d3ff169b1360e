//! Record and checkpoint times: UTC, millisecond precision, one spelling.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A UTC instant with millisecond precision.
///
/// It always prints (and serializes) as RFC 3339 with three fraction digits
/// and a `Z`, e.g. `2026-11-26T10:31:02.123Z`, so the canonical bytes of a
/// record are stable. Construction truncates anything finer than a
/// millisecond. This crate never reads the clock: callers pass times in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Wraps a `DateTime<Utc>`, truncating it to whole milliseconds.
    pub fn from_datetime(time: DateTime<Utc>) -> Self {
        let millis = time.nanosecond() / 1_000_000 * 1_000_000;
        // Lowering the nanosecond within the same second is always valid, so
        // the fallback is never taken; keeping `time` would still print right.
        Self(time.with_nanosecond(millis).unwrap_or(time))
    }

    /// Parses RFC 3339 with any offset, converting to UTC and truncating to
    /// whole milliseconds.
    pub fn parse(text: &str) -> Result<Self, Error> {
        DateTime::parse_from_rfc3339(text)
            .map(|time| Self::from_datetime(time.with_timezone(&Utc)))
            .map_err(|_| Error::Timestamp(text.to_owned()))
    }

    /// The instant as a `DateTime<Utc>`.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Self {
        Self::from_datetime(time)
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}
