//! A zero-copy protobuf wire reader: varints, fixed-width numbers and
//! length-delimited slices borrowed from the input.
//!
//! Every read is bounds-checked and returns a [`WireError`] with the offset where it
//! failed; nothing here allocates. Groups (wire types 3 and 4) are refused, as
//! proto3 never produces them.

use crate::error::WireError;

/// Wire type 0: varint.
pub(crate) const VARINT: u8 = 0;
/// Wire type 1: 8 bytes little-endian.
pub(crate) const FIXED64: u8 = 1;
/// Wire type 2: varint length, then that many bytes.
pub(crate) const LEN: u8 = 2;
/// Wire type 5: 4 bytes little-endian.
pub(crate) const FIXED32: u8 = 5;

/// A cursor over one protobuf message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// True once every byte was consumed.
    pub(crate) fn is_done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads the next field key: `(field number, wire type)`, or `None` at the end.
    #[inline]
    pub(crate) fn key(&mut self) -> Result<Option<(u32, u8)>, WireError> {
        if self.is_done() {
            return Ok(None);
        }
        let offset = self.pos;
        let key = self.varint()?;
        let wire_type = (key & 7) as u8;
        let field = u32::try_from(key >> 3).map_err(|_| WireError::BadVarint { offset })?;
        if field == 0 {
            return Err(WireError::ZeroField { offset });
        }
        match wire_type {
            VARINT | FIXED64 | LEN | FIXED32 => Ok(Some((field, wire_type))),
            _ => Err(WireError::BadWireType { wire_type, offset }),
        }
    }

    /// Reads a base-128 varint of at most 10 bytes.
    #[inline(always)]
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        // Common case first: field keys, small lengths and refs fit one byte.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_slow()
    }

    /// The multi-byte case of [`Reader::varint`] (timestamps, long lengths), kept
    /// out of line so the one-byte case inlines everywhere.
    #[inline(never)]
    fn varint_slow(&mut self) -> Result<u64, WireError> {
        let offset = self.pos;
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(WireError::Truncated { offset })?;
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(WireError::BadVarint { offset });
            }
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(WireError::BadVarint { offset });
            }
        }
    }

    /// Reads 8 little-endian bytes.
    #[inline]
    pub(crate) fn fixed64(&mut self) -> Result<u64, WireError> {
        let offset = self.pos;
        let bytes = self
            .buf
            .get(self.pos..self.pos.saturating_add(8))
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .ok_or(WireError::Truncated { offset })?;
        self.pos += 8;
        Ok(u64::from_le_bytes(bytes))
    }

    /// Reads a length-delimited field's bytes.
    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let offset = self.pos;
        let len = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated { offset })?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or(WireError::Truncated { offset })?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or(WireError::Truncated { offset })?;
        self.pos = end;
        Ok(out)
    }

    /// Reads a length-delimited UTF-8 string; `what` names it in the error.
    #[inline]
    pub(crate) fn str(&mut self, what: &'static str) -> Result<&'a str, WireError> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| WireError::InvalidUtf8 { field: what })
    }

    /// Skips a field of the given wire type.
    pub(crate) fn skip(&mut self, wire_type: u8) -> Result<(), WireError> {
        match wire_type {
            VARINT => self.varint().map(drop),
            FIXED64 => self.fixed64().map(drop),
            LEN => self.bytes().map(drop),
            FIXED32 => {
                let offset = self.pos;
                let end = self.pos.checked_add(4).filter(|&e| e <= self.buf.len());
                self.pos = end.ok_or(WireError::Truncated { offset })?;
                Ok(())
            }
            _ => Err(WireError::BadWireType {
                wire_type,
                offset: self.pos,
            }),
        }
    }
}

/// Fails unless `wire_type` is the one field `field` of `message` must have.
#[inline]
pub(crate) fn expect_wire_type(
    message: &'static str,
    field: u32,
    wire_type: u8,
    want: u8,
) -> Result<(), WireError> {
    if wire_type == want {
        Ok(())
    } else {
        Err(WireError::WrongWireType {
            message,
            field,
            wire_type,
        })
    }
}

/// Reads a `repeated uint32` field that may be packed (one LEN field) or not (one
/// varint per element), as protobuf requires parsers to accept both, into `out`.
pub(crate) fn read_repeated_u32(
    r: &mut Reader<'_>,
    wire_type: u8,
    message: &'static str,
    field: u32,
    out: &mut Vec<u32>,
) -> Result<(), WireError> {
    match wire_type {
        // uint32 decoding truncates a wider varint, as every protobuf runtime does.
        VARINT => out.push(r.varint()? as u32),
        LEN => {
            let mut packed = Reader::new(r.bytes()?);
            while !packed.is_done() {
                out.push(packed.varint()? as u32);
            }
        }
        _ => {
            return Err(WireError::WrongWireType {
                message,
                field,
                wire_type,
            })
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        let mut r = Reader::new(&[
            0x00, 0x7f, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        assert_eq!(r.varint(), Ok(0));
        assert_eq!(r.varint(), Ok(127));
        assert_eq!(r.varint(), Ok(300));
        assert_eq!(r.varint(), Ok(u64::MAX));
        assert!(r.is_done());
        assert_eq!(
            Reader::new(&[0xff; 10]).varint(),
            Err(WireError::BadVarint { offset: 0 })
        );
        assert_eq!(
            Reader::new(&[0x80, 0x80]).varint(),
            Err(WireError::Truncated { offset: 0 })
        );
    }

    #[test]
    fn keys_and_lengths() {
        // Field 0, group wire type, and a length past the end.
        assert_eq!(
            Reader::new(&[0x02]).key(),
            Err(WireError::ZeroField { offset: 0 })
        );
        assert_eq!(
            Reader::new(&[0x0b]).key(),
            Err(WireError::BadWireType {
                wire_type: 3,
                offset: 0
            })
        );
        let mut r = Reader::new(&[0x0a, 0x05, b'a']);
        assert_eq!(r.key(), Ok(Some((1, LEN))));
        assert_eq!(r.bytes(), Err(WireError::Truncated { offset: 1 }));
        let mut r = Reader::new(&[0x0a, 0x02, 0xc3, 0x28]);
        r.key().unwrap();
        assert_eq!(
            r.str("label name"),
            Err(WireError::InvalidUtf8 {
                field: "label name"
            })
        );
    }

    #[test]
    fn skips_every_wire_type() {
        let bytes = [
            0x08, 0x96, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x01, b'x', 0x25, 1, 2, 3, 4,
        ];
        let mut r = Reader::new(&bytes);
        let mut fields = Vec::new();
        while let Some((f, wt)) = r.key().unwrap() {
            r.skip(wt).unwrap();
            fields.push(f);
        }
        assert_eq!(fields, [1, 2, 3, 4]);
        let mut r = Reader::new(&[0x25, 1, 2]);
        let (_, wt) = r.key().unwrap().unwrap();
        assert_eq!(r.skip(wt), Err(WireError::Truncated { offset: 1 }));
    }
}
