//! Error types of the remote-write crate, one enum per way a caller reacts.
//!
//! [`DecodeError`] refuses a whole request (HTTP 400: nothing in it is stored);
//! [`SeriesError`] refuses one series of an otherwise good request (the rest is
//! stored); [`ContentTypeError`] refuses the request before its body is read (HTTP
//! 415). Every message is one line, fit to be sent back to the client verbatim.

/// Why the snappy block of a request could not be decompressed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnappyError {
    /// The request body was empty: not even the snappy length header was present.
    #[error("empty body: expected a snappy-compressed protobuf message")]
    Empty,
    /// The length header claims more bytes than the configured cap; nothing was allocated.
    #[error(
        "snappy header claims {claimed_bytes} decompressed bytes, over the limit of {max_bytes}"
    )]
    TooLarge {
        /// The decompressed length the header claims, in bytes.
        claimed_bytes: u64,
        /// The configured cap, in bytes.
        max_bytes: usize,
    },
    /// The block is not valid snappy (bad header, truncated, or a bad copy offset).
    #[error("invalid snappy block: {0}")]
    Corrupt(#[source] snap::Error),
}

/// Why the protobuf bytes of a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The message ended in the middle of a field.
    #[error("truncated protobuf at byte {offset}")]
    Truncated {
        /// Offset of the field that runs past the end, relative to its enclosing message.
        offset: usize,
    },
    /// A varint ran longer than 10 bytes.
    #[error("malformed varint at byte {offset}")]
    BadVarint {
        /// Offset of the varint, relative to its enclosing message.
        offset: usize,
    },
    /// A field used a wire type that protobuf 3 does not define (groups included).
    #[error("unsupported protobuf wire type {wire_type} at byte {offset}")]
    BadWireType {
        /// The wire type found in the key.
        wire_type: u8,
        /// Offset of the key, relative to its enclosing message.
        offset: usize,
    },
    /// A known field arrived with a wire type that does not fit its declared type.
    #[error("field {field} of {message} has wire type {wire_type}, which does not fit its type")]
    WrongWireType {
        /// The protobuf message name.
        message: &'static str,
        /// The field number.
        field: u32,
        /// The wire type found.
        wire_type: u8,
    },
    /// A field number of 0, which protobuf forbids.
    #[error("protobuf field number 0 at byte {offset}")]
    ZeroField {
        /// Offset of the key, relative to its enclosing message.
        offset: usize,
    },
    /// A string field held bytes that are not UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// What the string was (e.g. "label name").
        field: &'static str,
    },
}

/// Why a whole request was refused: nothing of it is stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The snappy layer failed.
    #[error(transparent)]
    Snappy(#[from] SnappyError),
    /// The protobuf layer failed.
    #[error("undecodable {message}: {source}")]
    Protobuf {
        /// The top-level protobuf message being decoded.
        message: &'static str,
        /// What was wrong.
        #[source]
        source: WireError,
    },
    /// A protobuf decoded by `prost` (remote-read messages) was malformed.
    #[error("undecodable {message}: {source}")]
    Prost {
        /// The protobuf message being decoded.
        message: &'static str,
        /// What prost reported.
        #[source]
        source: prost::DecodeError,
    },
}

/// Why one series of a request was refused; the rest of the request is still stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SeriesError {
    /// No `__name__` label (or an empty one).
    #[error("series has no __name__ label")]
    MissingMetricName,
    /// A label name was the empty string.
    #[error("empty label name")]
    EmptyLabelName,
    /// A label name outside `[a-zA-Z_][a-zA-Z0-9_]*` under legacy name validation.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A metric name outside `[a-zA-Z_:][a-zA-Z0-9_:]*` under legacy name validation.
    #[error("invalid metric name {0:?}")]
    InvalidMetricName(String),
    /// The same label name appeared twice in one series.
    #[error("duplicate label name {0:?}")]
    DuplicateLabelName(String),
    /// A label name longer than the configured limit.
    #[error("label name of {len} bytes is over the limit of {max}")]
    LabelNameTooLong {
        /// Length of the name, in bytes.
        len: usize,
        /// The configured limit, in bytes.
        max: usize,
    },
    /// A label value longer than the configured limit.
    #[error("value of label {name:?} has {len} bytes, over the limit of {max}")]
    LabelValueTooLong {
        /// The label's name.
        name: String,
        /// Length of the value, in bytes.
        len: usize,
        /// The configured limit, in bytes.
        max: usize,
    },
    /// More labels than the configured limit.
    #[error("series has {count} labels, over the limit of {max}")]
    TooManyLabels {
        /// Number of labels in the series.
        count: usize,
        /// The configured limit.
        max: usize,
    },
    /// A remote-write 2.0 `labels_refs` list of odd length.
    #[error("labels_refs has odd length {0}")]
    OddLabelRefs(usize),
    /// A remote-write 2.0 symbol reference past the end of the symbols table.
    #[error("symbol reference {reference} out of range: the table has {len} symbols")]
    SymbolOutOfRange {
        /// The reference found.
        reference: u32,
        /// Number of symbols in the request.
        len: usize,
    },
}

impl SeriesError {
    /// A short, stable, label-safe name of the reason, for metrics (`reason="..."`).
    pub fn kind(&self) -> &'static str {
        match self {
            SeriesError::MissingMetricName => "missing_metric_name",
            SeriesError::EmptyLabelName | SeriesError::InvalidLabelName(_) => "invalid_label_name",
            SeriesError::InvalidMetricName(_) => "invalid_metric_name",
            SeriesError::DuplicateLabelName(_) => "duplicate_label_name",
            SeriesError::LabelNameTooLong { .. } => "label_name_too_long",
            SeriesError::LabelValueTooLong { .. } => "label_value_too_long",
            SeriesError::TooManyLabels { .. } => "too_many_labels",
            SeriesError::OddLabelRefs(_) | SeriesError::SymbolOutOfRange { .. } => {
                "bad_symbol_reference"
            }
        }
    }
}

/// Why a `STREAMED_XOR_CHUNKS` remote-read body could not be split into frames.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The body ended inside a frame header or message.
    #[error("truncated frame at byte {offset}")]
    Truncated {
        /// Offset of the frame in the body.
        offset: usize,
    },
    /// A frame's length is over the cap.
    #[error("frame at byte {offset} has {len} bytes, over the limit of {max_bytes}")]
    TooLarge {
        /// Offset of the frame in the body.
        offset: usize,
        /// The length the frame claims.
        len: u64,
        /// The cap, in bytes.
        max_bytes: usize,
    },
    /// A frame's CRC32C does not match its bytes.
    #[error("frame at byte {offset}: checksum {got:#010x}, expected {expected:#010x}")]
    Checksum {
        /// Offset of the frame in the body.
        offset: usize,
        /// Checksum of the bytes read.
        got: u32,
        /// Checksum in the frame header.
        expected: u32,
    },
    /// A frame's message is not a valid `ChunkedReadResponse`.
    #[error("frame at byte {offset}: {source}")]
    Protobuf {
        /// Offset of the frame in the body.
        offset: usize,
        /// What prost reported.
        #[source]
        source: prost::DecodeError,
    },
}

/// Why a `Content-Type` header was refused (HTTP 415).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentTypeError {
    /// The media type is not `application/x-protobuf`.
    #[error("unsupported content type {0:?}: expected application/x-protobuf")]
    MediaType(String),
    /// The `proto` parameter names a message we do not accept.
    #[error("unsupported proto {0:?}: expected prometheus.WriteRequest or io.prometheus.write.v2.Request")]
    Proto(String),
}
