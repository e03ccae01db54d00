//! promlite-remote-write: Prometheus remote-write 1.0/2.0 and remote-read messages
//! (hand-written prost structs, no protoc), the snappy block codec, and decoding
//! to validated series.
#![deny(missing_docs)]
