//! The engine's error type. Each variant is a kind a caller acts on differently
//! (the HTTP layer maps them to `bad_data`, `execution`, `timeout`, `canceled`,
//! `internal`), so errors are never flattened into strings on the way up.

use crate::storage::StorageError;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The query text is invalid (parse or type error); a client error.
    #[error("{message}")]
    BadData {
        /// What is wrong, with a position (`1:5: ...`) where known.
        message: String,
    },
    /// The query is valid but cannot be evaluated on this data (e.g. many-to-many matching).
    #[error("{message}")]
    Execution {
        /// What went wrong, in Prometheus's wording where Prometheus has one.
        message: String,
    },
    /// The query ran longer than the configured timeout.
    #[error("query timed out in {stage}")]
    Timeout {
        /// The stage that noticed.
        stage: &'static str,
    },
    /// The query was canceled by the caller.
    #[error("query was canceled in {stage}")]
    Canceled {
        /// The stage that noticed.
        stage: &'static str,
    },
    /// The query would hold more samples in memory than allowed.
    #[error("query processing would load too many samples into memory in {stage}")]
    TooManySamples {
        /// The stage that noticed.
        stage: &'static str,
    },
    /// The storage failed while selecting or reading series.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl QueryError {
    /// A bad-data error with the given message.
    pub(crate) fn bad_data(message: impl Into<String>) -> Self {
        QueryError::BadData {
            message: message.into(),
        }
    }

    /// An execution error with the given message.
    pub(crate) fn execution(message: impl Into<String>) -> Self {
        QueryError::Execution {
            message: message.into(),
        }
    }
}
