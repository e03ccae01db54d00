//! Which remote-write protocol a request speaks, from its `Content-Type` header.
//!
//! `application/x-protobuf` alone means 1.0 (`prometheus.WriteRequest`), as the
//! 2.0 specification requires for backward compatibility; `proto=` selects the
//! message explicitly. Media type and parameter names are case-insensitive; the
//! proto value is compared exactly, after stripping optional quotes.

use crate::error::ContentTypeError;

/// The remote-write protocol version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteProtocol {
    /// Remote-write 1.0: `prometheus.WriteRequest`.
    V1,
    /// Remote-write 2.0: `io.prometheus.write.v2.Request`.
    V2,
}

impl WriteProtocol {
    /// The protobuf message name, as in the `proto=` parameter.
    pub fn proto_name(self) -> &'static str {
        match self {
            WriteProtocol::V1 => "prometheus.WriteRequest",
            WriteProtocol::V2 => "io.prometheus.write.v2.Request",
        }
    }

    /// The full `Content-Type` value a sender uses for this protocol.
    pub fn content_type(self) -> &'static str {
        match self {
            WriteProtocol::V1 => "application/x-protobuf;proto=prometheus.WriteRequest",
            WriteProtocol::V2 => "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        }
    }
}

/// Parses a `Content-Type` header value; `None` (header absent) means 1.0, as
/// Prometheus's own receiver assumes.
pub fn parse_content_type(value: Option<&str>) -> Result<WriteProtocol, ContentTypeError> {
    let Some(value) = value else {
        return Ok(WriteProtocol::V1);
    };
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/x-protobuf") {
        return Err(ContentTypeError::MediaType(value.to_owned()));
    }
    let mut protocol = WriteProtocol::V1;
    for param in parts {
        let Some((name, val)) = param.split_once('=') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("proto") {
            continue;
        }
        let val = val.trim().trim_matches('"');
        protocol = match val {
            "prometheus.WriteRequest" => WriteProtocol::V1,
            "io.prometheus.write.v2.Request" => WriteProtocol::V2,
            other => return Err(ContentTypeError::Proto(other.to_owned())),
        };
    }
    Ok(protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_content_type(None), Ok(WriteProtocol::V1));
        assert_eq!(
            parse_content_type(Some("application/x-protobuf")),
            Ok(WriteProtocol::V1)
        );
        assert_eq!(
            parse_content_type(Some("application/x-protobuf;proto=prometheus.WriteRequest")),
            Ok(WriteProtocol::V1)
        );
        assert_eq!(
            parse_content_type(Some(
                "Application/X-Protobuf; Proto=\"io.prometheus.write.v2.Request\""
            )),
            Ok(WriteProtocol::V2)
        );
        for p in [WriteProtocol::V1, WriteProtocol::V2] {
            assert_eq!(parse_content_type(Some(p.content_type())), Ok(p));
        }
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            parse_content_type(Some("application/json")),
            Err(ContentTypeError::MediaType(_))
        ));
        assert!(matches!(
            parse_content_type(Some("")),
            Err(ContentTypeError::MediaType(_))
        ));
        assert_eq!(
            parse_content_type(Some(
                "application/x-protobuf;proto=io.prometheus.write.v3.Request"
            )),
            Err(ContentTypeError::Proto(
                "io.prometheus.write.v3.Request".into()
            ))
        );
    }
}
