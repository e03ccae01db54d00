//! promlite-remote-write: the Prometheus remote-write 1.0/2.0 and remote-read
//! protocols.
//!
//! - [`proto`]: the protobuf messages as hand-written `prost` structs (no protoc),
//!   with Prometheus's exact field numbers.
//! - [`decompress_body`] + [`decode_write_request`]: the ingest path. The snappy
//!   header is checked against a cap before anything is allocated, then the
//!   protobuf is read without copying strings into validated [`SeriesView`]s
//!   (labels sorted, names unique and valid, `__name__` present, limits applied).
//!   A bad series is listed in [`DecodedWrite::rejected`]; malformed bytes refuse the
//!   request with a [`DecodeError`].
//! - [`parse_content_type`]: which protocol a request speaks.
//! - [`encode_v1`], [`encode_v2`], [`SymbolTable`]: bodies for senders and tests.
//! - remote-read bodies: [`decode_read_request`], [`encode_read_response`],
//!   [`write_chunked_frame`] and their client-side inverses.
//!
//! Nothing a client sends can make this crate panic or allocate past its limits.
//!
//! ```
//! use promlite_remote_write::{decode_write_request, decompress_body, encode_v1, Limits, WriteProtocol};
//! use promlite_remote_write::proto::{v1, Label, Sample};
//!
//! let body = encode_v1(&v1::WriteRequest {
//!     timeseries: vec![v1::TimeSeries {
//!         labels: vec![
//!             Label { name: "job".into(), value: "node".into() },
//!             Label { name: "__name__".into(), value: "up".into() },
//!         ],
//!         samples: vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }],
//!         ..Default::default()
//!     }],
//!     metadata: vec![],
//! });
//! let limits = Limits::default();
//! let bytes = decompress_body(&body, &limits)?;
//! let decoded = decode_write_request(WriteProtocol::V1, &bytes, &limits)?;
//! let series = decoded.series().next().expect("one series");
//! assert_eq!(series.labels[0].name, "__name__"); // sorted on the way in
//! assert_eq!(series.samples[0].value, 1.0);
//! # Ok::<(), promlite_remote_write::DecodeError>(())
//! ```
#![deny(missing_docs)]

mod content_type;
mod decode;
mod encode;
mod error;
pub mod proto;
mod read;
mod snappy;

pub use content_type::{parse_content_type, WriteProtocol};
pub use decode::{
    decode_known_labels, decode_write_request, decode_write_request_known,
    decode_write_request_with, decompress_body, decompress_body_into, DecodeBuffers, DecodedWrite,
    KnownLabelsError, KnownSeries, LabelRef, Limits, MetadataRef, NameValidation, RejectedSeries,
    SeriesView,
};
pub use encode::{encode_v1, encode_v2, SymbolTable};
pub use error::{ContentTypeError, DecodeError, FrameError, SeriesError, SnappyError, WireError};
pub use read::{
    decode_chunked_frames, decode_read_request, decode_read_response, encode_read_request,
    encode_read_response, write_chunked_frame, CHUNKED_CONTENT_TYPE,
};
pub use snappy::{compress, decompress, decompress_into, DEFAULT_MAX_DECOMPRESSED_BYTES};
