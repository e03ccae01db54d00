//! Remote-read bodies: the snappy `ReadRequest`, the snappy `SAMPLES` response and
//! the framed `STREAMED_XOR_CHUNKS` response.
//!
//! A streamed frame is `uvarint(len) | crc32c(message) as u32 big-endian | message`,
//! as Prometheus's `storage/remote/chunked.go` writes it. The reader checks both the
//! length bound and the checksum before decoding a frame.

use prost::Message;

use crate::error::{DecodeError, FrameError};
use crate::proto::read::{ChunkedReadResponse, ReadRequest, ReadResponse};
use crate::snappy;

/// `Content-Type` of a `STREAMED_XOR_CHUNKS` response.
pub const CHUNKED_CONTENT_TYPE: &str =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/// Decompresses and decodes a remote-read request under a decompressed-size cap.
pub fn decode_read_request(body: &[u8], max_bytes: usize) -> Result<ReadRequest, DecodeError> {
    let bytes = snappy::decompress(body, max_bytes)?;
    ReadRequest::decode(bytes.as_slice()).map_err(|source| DecodeError::Prost {
        message: "ReadRequest",
        source,
    })
}

/// Encodes and compresses a remote-read request (for a client or a test).
pub fn encode_read_request(request: &ReadRequest) -> Vec<u8> {
    snappy::compress(&request.encode_to_vec())
}

/// Encodes and compresses a `SAMPLES` response.
pub fn encode_read_response(response: &ReadResponse) -> Vec<u8> {
    snappy::compress(&response.encode_to_vec())
}

/// Decompresses and decodes a `SAMPLES` response (for a client or a test).
pub fn decode_read_response(body: &[u8], max_bytes: usize) -> Result<ReadResponse, DecodeError> {
    let bytes = snappy::decompress(body, max_bytes)?;
    ReadResponse::decode(bytes.as_slice()).map_err(|source| DecodeError::Prost {
        message: "ReadResponse",
        source,
    })
}

/// Appends one `STREAMED_XOR_CHUNKS` frame holding `message` to `out`.
pub fn write_chunked_frame(message: &ChunkedReadResponse, out: &mut Vec<u8>) {
    let bytes = message.encode_to_vec();
    prost::encoding::encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(&crc32c::crc32c(&bytes).to_be_bytes());
    out.extend_from_slice(&bytes);
}

/// Splits a `STREAMED_XOR_CHUNKS` body into its frames, checking each checksum;
/// a frame longer than `max_frame_bytes` is refused before it is read.
pub fn decode_chunked_frames(
    mut body: &[u8],
    max_frame_bytes: usize,
) -> Result<Vec<ChunkedReadResponse>, FrameError> {
    let mut frames = Vec::new();
    let mut offset = 0usize;
    while !body.is_empty() {
        let before = body.len();
        let len = prost::encoding::decode_varint(&mut body)
            .map_err(|_| FrameError::Truncated { offset })?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= max_frame_bytes)
            .ok_or(FrameError::TooLarge {
                offset,
                len,
                max_bytes: max_frame_bytes,
            })?;
        let (crc, rest) = body
            .split_first_chunk::<4>()
            .ok_or(FrameError::Truncated { offset })?;
        let (message, rest) = rest
            .split_at_checked(len)
            .ok_or(FrameError::Truncated { offset })?;
        let expected = u32::from_be_bytes(*crc);
        let got = crc32c::crc32c(message);
        if got != expected {
            return Err(FrameError::Checksum {
                offset,
                got,
                expected,
            });
        }
        frames.push(
            ChunkedReadResponse::decode(message)
                .map_err(|source| FrameError::Protobuf { offset, source })?,
        );
        offset += before - rest.len();
        body = rest;
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::read::{Chunk, ChunkEncoding, ChunkedSeries};
    use crate::proto::Label;

    fn frame(i: i64) -> ChunkedReadResponse {
        ChunkedReadResponse {
            chunked_series: vec![ChunkedSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: format!("m{i}"),
                }],
                chunks: vec![Chunk {
                    min_time_ms: i,
                    max_time_ms: i + 10,
                    r#type: ChunkEncoding::Xor as i32,
                    data: vec![0, 1, 2],
                }],
            }],
            query_index: i,
        }
    }

    #[test]
    fn frames_round_trip_and_detect_corruption() {
        let mut body = Vec::new();
        for i in 0..3 {
            write_chunked_frame(&frame(i), &mut body);
        }
        let frames = decode_chunked_frames(&body, 1 << 20).unwrap();
        assert_eq!(frames, (0..3).map(frame).collect::<Vec<_>>());

        let mut flipped = body.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 1;
        }
        assert!(matches!(
            decode_chunked_frames(&flipped, 1 << 20),
            Err(FrameError::Checksum { .. })
        ));
        assert!(matches!(
            decode_chunked_frames(&body[..body.len() - 1], 1 << 20),
            Err(FrameError::Truncated { .. })
        ));
        assert!(matches!(
            decode_chunked_frames(&body, 4),
            Err(FrameError::TooLarge { offset: 0, .. })
        ));
    }
}
