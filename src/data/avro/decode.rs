//! Avro binary decoding straight into [`Value`], driven by a [`Plan`] built from the writer
//! schema and its Connect mapping (so unions, enums and map-entry arrays come out in their
//! Connect form without an intermediate Avro value tree).

use thiserror::Error;

use crate::data::json::unscaled_from_be_bytes;
use crate::data::value::{Decimal, Value};

/// How to decode one Avro node into its Connect value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    /// `boolean`.
    Boolean,
    /// `int` (Connect int8/int16/int32, Date, Time).
    Int,
    /// `long` (Connect int64, Timestamp).
    Long,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `bytes`.
    Bytes,
    /// `string` (also `uuid`).
    String,
    /// `fixed` of this size.
    Fixed(usize),
    /// `enum` with its symbols: the symbol text.
    Enum(Vec<String>),
    /// `decimal` over `bytes` (`fixed: None`) or `fixed`: [`Value::Decimal`].
    Decimal {
        /// Size when the underlying type is `fixed`.
        fixed: Option<usize>,
        /// Scale of the logical type.
        scale: i32,
    },
    /// `array`.
    Array(Box<Plan>),
    /// `map` (string keys).
    Map(Box<Plan>),
    /// An array of `io.confluent.connect.avro.MapEntry` records: a Connect map with
    /// non-string keys. `entry` is the record's plan; `key_pos` where its `key` field is.
    EntryArray {
        /// The entry record.
        entry: Box<Plan>,
        /// Position of the `key` field in the entry (`value` is the other one).
        key_pos: usize,
    },
    /// `record`: fields in encoding order, with their names for error paths.
    Record(Vec<(String, Plan)>),
    /// `["null", T]` / `[T, "null"]`: an optional `T`. A null takes the schema's default when
    /// it has one (as JsonConverter's `replace.null.with.default`), unless
    /// `ignore.default.for.nullables`.
    Optional {
        /// Union index of the `null` branch.
        null_index: usize,
        /// Plan of the other branch.
        inner: Box<Plan>,
        /// Value for null.
        default: Option<Value>,
    },
    /// Any other union: a Connect struct with one optional field per non-null branch, the
    /// written branch's field set (Confluent's `io.confluent.connect.avro.Union`).
    Union {
        /// Per union index: `None` for the null branch, else (struct field position, plan).
        branches: Vec<Option<(usize, Plan)>>,
        /// Number of struct fields.
        fields: usize,
        /// Value for the null branch.
        default: Option<Value>,
    },
    /// A one-branch union flattened to its branch (`flatten.singleton.unions`).
    Single(Box<Plan>),
}

/// Why Avro bytes did not decode with their writer schema.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{message} at {} (byte {offset})", if path.is_empty() { "$" } else { path.as_str() })]
pub struct DecodeError {
    /// Where in the value (`$.after.price`); empty for the top level.
    pub path: String,
    /// Byte offset in the Avro payload where it went wrong.
    pub offset: usize,
    /// What went wrong.
    pub message: String,
}

impl DecodeError {
    /// Prefixes the path with an enclosing segment (built while unwinding, so free on success).
    fn within(mut self, segment: impl std::fmt::Display) -> DecodeError {
        let rest = self
            .path
            .strip_prefix('$')
            .unwrap_or(&self.path)
            .to_string();
        self.path = format!("${segment}{rest}");
        self
    }
}

/// Bound on items in one array or map whose items take no bytes (e.g. an array of empty
/// records): a corrupt count must not spin for 2^63 iterations.
const MAX_ZERO_SIZE_ITEMS: u64 = 1 << 20;

/// Decodes one Avro binary value. Bytes after the value are ignored, as Confluent's
/// deserializer does.
pub(crate) fn decode(plan: &Plan, bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    r.value(plan)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, message: impl Into<String>) -> Result<T, DecodeError> {
        Err(DecodeError {
            path: String::new(),
            offset: self.pos,
            message: message.into(),
        })
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return self.fail(format!(
                "unexpected end of data: {what} needs {n} bytes, {} left",
                self.remaining()
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A zig-zag varint `long`.
    fn long(&mut self) -> Result<i64, DecodeError> {
        let mut n: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return self.fail("unexpected end of data inside a varint");
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return self.fail("varint longer than 64 bits");
            }
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return self.fail("varint longer than 10 bytes");
            }
        }
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn int(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        let v = self.long()?;
        if i32::try_from(v).is_err() {
            self.pos = start;
            return self.fail(format!("int value {v} out of the 32-bit range"));
        }
        Ok(v)
    }

    /// A non-negative length that fits in the remaining bytes.
    fn len(&mut self, what: &str) -> Result<usize, DecodeError> {
        let start = self.pos;
        let n = self.long()?;
        if n < 0 {
            self.pos = start;
            return self.fail(format!("negative {what} length {n}"));
        }
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => {
                let left = self.remaining();
                self.pos = start;
                self.fail(format!("{what} length {n} exceeds the {left} bytes left"))
            }
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.len("bytes")?;
        self.take(n, "bytes")
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.len("string")?;
        let b = self.take(n, "string")?;
        // Java's Utf8 decoding replaces malformed sequences rather than failing.
        Ok(match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => String::from_utf8_lossy(b).into_owned(),
        })
    }

    /// The item count of the next array/map block (0 at the end), skipping the byte size that
    /// follows a negative count.
    fn block_count(&mut self, item: &Plan, seen: u64) -> Result<u64, DecodeError> {
        let start = self.pos;
        let count = self.long()?;
        let count = if count < 0 {
            let Some(c) = count.checked_neg() else {
                return self.fail("invalid block count");
            };
            let size = self.long()?;
            if size < 0 {
                return self.fail(format!("negative block size {size}"));
            }
            c as u64
        } else {
            count as u64
        };
        if min_size(item) == 0 {
            if seen.saturating_add(count) > MAX_ZERO_SIZE_ITEMS {
                self.pos = start;
                return self.fail(format!(
                    "block of {count} items without data exceeds the limit of {MAX_ZERO_SIZE_ITEMS}"
                ));
            }
        } else if count > self.remaining() as u64 {
            let left = self.remaining();
            self.pos = start;
            return self.fail(format!("block count {count} exceeds the {left} bytes left"));
        }
        Ok(count)
    }

    fn union_index(&mut self, branches: usize) -> Result<usize, DecodeError> {
        let start = self.pos;
        let i = self.long()?;
        match usize::try_from(i) {
            Ok(i) if i < branches => Ok(i),
            _ => {
                self.pos = start;
                self.fail(format!(
                    "union index {i} out of range for a union of {branches} branches"
                ))
            }
        }
    }

    fn value(&mut self, plan: &Plan) -> Result<Value, DecodeError> {
        Ok(match plan {
            Plan::Boolean => match self.take(1, "boolean")?[0] {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                b => {
                    self.pos -= 1;
                    return self.fail(format!("invalid boolean byte {b:#04x}"));
                }
            },
            Plan::Int => Value::Int(self.int()?),
            Plan::Long => Value::Int(self.long()?),
            Plan::Float => {
                let b = self.take(4, "float")?;
                Value::Float(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            Plan::Double => {
                let b = self.take(8, "double")?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Float(f64::from_le_bytes(a))
            }
            Plan::Bytes => Value::Bytes(self.bytes()?.to_vec()),
            Plan::String => Value::String(self.string()?),
            Plan::Fixed(n) => Value::Bytes(self.take(*n, "fixed")?.to_vec()),
            Plan::Enum(symbols) => {
                let start = self.pos;
                let i = self.int()?;
                match usize::try_from(i).ok().and_then(|i| symbols.get(i)) {
                    Some(s) => Value::String(s.clone()),
                    None => {
                        self.pos = start;
                        return self.fail(format!(
                            "enum index {i} out of range for {} symbols",
                            symbols.len()
                        ));
                    }
                }
            }
            Plan::Decimal { fixed, scale } => {
                let start = self.pos;
                let b = match fixed {
                    Some(n) => self.take(*n, "fixed decimal")?,
                    None => self.bytes()?,
                };
                match unscaled_from_be_bytes(b) {
                    Some(unscaled) => Value::Decimal(Decimal {
                        unscaled,
                        scale: *scale,
                    }),
                    None => {
                        self.pos = start;
                        return self.fail(format!(
                            "decimal of {} bytes does not fit in 256 bits",
                            b.len()
                        ));
                    }
                }
            }
            Plan::Array(item) => {
                let mut out = Vec::new();
                loop {
                    let n = self.block_count(item, out.len() as u64)?;
                    if n == 0 {
                        break;
                    }
                    out.reserve(n.min(self.remaining() as u64) as usize);
                    for _ in 0..n {
                        let i = out.len();
                        out.push(
                            self.value(item)
                                .map_err(|e| e.within(format_args!("[{i}]")))?,
                        );
                    }
                }
                Value::Array(out)
            }
            Plan::Map(values) => {
                let mut out: Vec<(Value, Value)> = Vec::new();
                loop {
                    let n = self.block_count(&Plan::String, out.len() as u64)?;
                    if n == 0 {
                        break;
                    }
                    out.reserve(n.min(self.remaining() as u64) as usize);
                    for _ in 0..n {
                        let key = self.string()?;
                        let v = self
                            .value(values)
                            .map_err(|e| e.within(format_args!("[{key:?}]")))?;
                        // Java builds a HashMap: a repeated key keeps the last value. Small
                        // maps are checked in place, large ones once at the end.
                        let slot = if out.len() < 64 {
                            out.iter_mut().find(|(k, _)| k.as_str() == Some(&key))
                        } else {
                            None
                        };
                        match slot {
                            Some(slot) => slot.1 = v,
                            None => out.push((Value::String(key), v)),
                        }
                    }
                }
                if out.len() >= 64 {
                    dedup_last_wins(&mut out);
                }
                Value::Map(out)
            }
            Plan::EntryArray { entry, key_pos } => {
                let mut out = Vec::new();
                loop {
                    let n = self.block_count(entry, out.len() as u64)?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        let i = out.len();
                        let e = self
                            .value(entry)
                            .map_err(|e| e.within(format_args!("[{i}]")))?;
                        let Value::Struct(mut kv) = e else {
                            return self.fail("map entry is not a record");
                        };
                        if kv.len() != 2 {
                            return self.fail("map entry record must have 2 fields");
                        }
                        let second = kv.pop().unwrap_or(Value::Null);
                        let first = kv.pop().unwrap_or(Value::Null);
                        out.push(if *key_pos == 0 {
                            (first, second)
                        } else {
                            (second, first)
                        });
                    }
                }
                Value::Map(out)
            }
            Plan::Record(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, p) in fields {
                    out.push(
                        self.value(p)
                            .map_err(|e| e.within(format_args!(".{name}")))?,
                    );
                }
                Value::Struct(out)
            }
            Plan::Optional {
                null_index,
                inner,
                default,
            } => {
                if self.union_index(2)? == *null_index {
                    default.clone().unwrap_or(Value::Null)
                } else {
                    self.value(inner)?
                }
            }
            Plan::Union {
                branches,
                fields,
                default,
            } => {
                let i = self.union_index(branches.len())?;
                match &branches[i] {
                    None => default.clone().unwrap_or(Value::Null),
                    Some((pos, p)) => {
                        let mut out = vec![Value::Null; *fields];
                        out[*pos] = self.value(p)?;
                        Value::Struct(out)
                    }
                }
            }
            Plan::Single(inner) => {
                self.union_index(1)?;
                self.value(inner)?
            }
        })
    }
}

/// Keeps the last value of each repeated key, at the key's first position.
fn dedup_last_wins(entries: &mut Vec<(Value, Value)>) {
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
    for (k, v) in entries.drain(..) {
        let key = k.as_str().unwrap_or_default().to_string();
        match index.get(&key) {
            Some(&i) => out[i].1 = v,
            None => {
                index.insert(key, out.len());
                out.push((k, v));
            }
        }
    }
    *entries = out;
}

/// The fewest bytes one value of this plan takes (0 for empty records).
fn min_size(plan: &Plan) -> usize {
    match plan {
        Plan::Float => 4,
        Plan::Double => 8,
        Plan::Fixed(n) => *n,
        Plan::Decimal { fixed: Some(n), .. } => *n,
        Plan::Record(fields) => fields.iter().map(|(_, p)| min_size(p)).sum(),
        _ => 1,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use arrow::datatypes::i256;

    /// Zig-zag varint encoding of a long (test encoder).
    pub(crate) fn zz(v: i64) -> Vec<u8> {
        let mut n = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            if n < 0x80 {
                out.push(n as u8);
                return out;
            }
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn varints() {
        for v in [
            0i64,
            -1,
            1,
            63,
            -64,
            64,
            300,
            i32::MAX as i64,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(decode(&Plan::Long, &zz(v)).unwrap(), Value::Int(v), "{v}");
        }
        let e = decode(&Plan::Int, &zz(i64::from(i32::MAX) + 1)).unwrap_err();
        assert!(e.message.contains("32-bit"), "{e}");
        let e = decode(&Plan::Long, &[0xff; 11]).unwrap_err();
        assert!(e.message.contains("varint"), "{e}");
        let e = decode(&Plan::Long, &[0x80]).unwrap_err();
        assert!(e.message.contains("end of data"), "{e}");
    }

    #[test]
    fn primitives() {
        assert_eq!(decode(&Plan::Boolean, &[1]).unwrap(), Value::Boolean(true));
        assert!(decode(&Plan::Boolean, &[2]).is_err());
        assert_eq!(
            decode(&Plan::Float, &1.5f32.to_le_bytes()).unwrap(),
            Value::Float(1.5)
        );
        assert_eq!(
            decode(&Plan::Double, &(-2.25f64).to_le_bytes()).unwrap(),
            Value::Float(-2.25)
        );
        assert_eq!(
            decode(&Plan::String, &cat(&[&zz(3), b"abc"])).unwrap(),
            Value::String("abc".into())
        );
        let e = decode(&Plan::String, &cat(&[&zz(30), b"abc"])).unwrap_err();
        assert!(e.message.contains("exceeds"), "{e}");
        assert!(decode(&Plan::Bytes, &zz(-1)).is_err());
        assert_eq!(
            decode(&Plan::Fixed(2), &[9, 8, 7]).unwrap(),
            Value::Bytes(vec![9, 8])
        );
        assert_eq!(
            decode(&Plan::Enum(vec!["A".into(), "B".into()]), &zz(1)).unwrap(),
            Value::String("B".into())
        );
        assert!(decode(&Plan::Enum(vec!["A".into()]), &zz(1)).is_err());
    }

    #[test]
    fn decimals() {
        let p = Plan::Decimal {
            fixed: None,
            scale: 2,
        };
        // -12345 = 0xcfc7 in two's complement.
        let v = decode(&p, &cat(&[&zz(2), &[0xcf, 0xc7]])).unwrap();
        assert_eq!(
            v,
            Value::Decimal(Decimal {
                unscaled: i256::from_i128(-12345),
                scale: 2
            })
        );
        let p = Plan::Decimal {
            fixed: Some(3),
            scale: 0,
        };
        assert_eq!(
            decode(&p, &[0x00, 0x01, 0x00]).unwrap(),
            Value::Decimal(Decimal {
                unscaled: i256::from_i128(256),
                scale: 0
            })
        );
    }

    #[test]
    fn blocks_including_negative_counts() {
        let p = Plan::Array(Box::new(Plan::Long));
        // Block of 2 with a negative count (and its byte size), then a block of 1, then end.
        let bytes = cat(&[&zz(-2), &zz(2), &zz(5), &zz(6), &zz(1), &zz(7), &zz(0)]);
        assert_eq!(
            decode(&p, &bytes).unwrap(),
            Value::Array(vec![Value::Int(5), Value::Int(6), Value::Int(7)])
        );
        let m = Plan::Map(Box::new(Plan::Int));
        let bytes = cat(&[
            &zz(-2),
            &zz(8),
            &zz(1),
            b"a",
            &zz(1),
            &zz(1),
            b"b",
            &zz(2),
            &zz(1),
            &zz(1),
            b"a",
            &zz(3),
            &zz(0),
        ]);
        assert_eq!(
            decode(&m, &bytes).unwrap(),
            Value::Map(vec![
                (Value::String("a".into()), Value::Int(3)),
                (Value::String("b".into()), Value::Int(2)),
            ])
        );
        // A huge count with too few bytes is refused before allocating.
        let e = decode(&p, &zz(1 << 40)).unwrap_err();
        assert!(e.message.contains("block count"), "{e}");
        let empty = Plan::Array(Box::new(Plan::Record(vec![])));
        let e = decode(&empty, &zz(1 << 40)).unwrap_err();
        assert!(e.message.contains("without data"), "{e}");
    }

    #[test]
    fn unions_and_paths() {
        let p = Plan::Record(vec![
            ("id".into(), Plan::Long),
            (
                "name".into(),
                Plan::Optional {
                    null_index: 0,
                    inner: Box::new(Plan::String),
                    default: None,
                },
            ),
            (
                "u".into(),
                Plan::Union {
                    branches: vec![None, Some((0, Plan::Int)), Some((1, Plan::String))],
                    fields: 2,
                    default: None,
                },
            ),
        ]);
        let bytes = cat(&[&zz(7), &zz(1), &zz(2), b"hi", &zz(2), &zz(1), b"x"]);
        assert_eq!(
            decode(&p, &bytes).unwrap(),
            Value::Struct(vec![
                Value::Int(7),
                Value::String("hi".into()),
                Value::Struct(vec![Value::Null, Value::String("x".into())]),
            ])
        );
        let bytes = cat(&[&zz(7), &zz(0), &zz(0)]);
        assert_eq!(
            decode(&p, &bytes).unwrap(),
            Value::Struct(vec![Value::Int(7), Value::Null, Value::Null])
        );
        let e = decode(&p, &cat(&[&zz(7), &zz(0), &zz(3)])).unwrap_err();
        assert_eq!(e.path, "$.u");
        assert!(e.message.contains("union index 3"), "{e}");
        assert_eq!(e.offset, 2);
        let d = Plan::Optional {
            null_index: 1,
            inner: Box::new(Plan::String),
            default: Some(Value::String("dflt".into())),
        };
        assert_eq!(decode(&d, &zz(1)).unwrap(), Value::String("dflt".into()));
    }
}
