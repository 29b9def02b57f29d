//! Confluent's wire format: magic byte `0`, the schema id as a 4-byte big-endian integer, then
//! the Avro binary value.

use thiserror::Error;

/// The magic byte that starts every framed message.
pub const MAGIC_BYTE: u8 = 0;

/// Why bytes are not in the wire format.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    /// Fewer than the 5 header bytes.
    #[error("{0} bytes are too few for the Confluent wire format (magic byte 0, a 4-byte schema id, then the Avro data)")]
    TooShort(usize),
    /// The first byte is not 0.
    #[error("Unknown magic byte {byte:#04x}: the Confluent wire format starts with 0x00, a 4-byte schema id, then the Avro data{hint}")]
    UnknownMagicByte {
        /// The byte found.
        byte: u8,
        /// What the data looks like instead, when recognisable.
        hint: &'static str,
    },
}

/// Splits a framed message into its schema id and Avro payload.
pub fn split(bytes: &[u8]) -> Result<(i32, &[u8]), WireError> {
    let Some(&first) = bytes.first() else {
        return Err(WireError::TooShort(0));
    };
    if first != MAGIC_BYTE {
        let hint = match first {
            b'{' | b'[' => " (this looks like JSON: is the producer using JsonConverter?)",
            b'"' => " (this looks like a JSON string)",
            0x20..=0x7e => " (this looks like text)",
            _ => "",
        };
        return Err(WireError::UnknownMagicByte { byte: first, hint });
    }
    if bytes.len() < 5 {
        return Err(WireError::TooShort(bytes.len()));
    }
    let id = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Ok((id, &bytes[5..]))
}

/// Frames an Avro payload written with schema `id`.
pub fn frame(id: i32, avro: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + avro.len());
    out.push(MAGIC_BYTE);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(avro);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let f = frame(258, &[1, 2]);
        assert_eq!(f, [0, 0, 0, 1, 2, 1, 2]);
        assert_eq!(split(&f).unwrap(), (258, &[1u8, 2][..]));
        assert_eq!(split(&[0, 0, 0, 0, 9]).unwrap(), (9, &[][..]));
        assert_eq!(split(&[]), Err(WireError::TooShort(0)));
        assert_eq!(split(&[0, 1]), Err(WireError::TooShort(2)));
        let e = split(br#"{"a":1}"#).unwrap_err();
        assert!(e.to_string().contains("Unknown magic byte 0x7b"), "{e}");
        assert!(e.to_string().contains("JSON"), "{e}");
    }
}
