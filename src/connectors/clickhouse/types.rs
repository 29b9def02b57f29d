//! ClickHouse column types: parsed from `system.columns.type` text, printed back for DDL.

use std::fmt;

use thiserror::Error;

/// A ClickHouse data type, as far as the RowBinary encoder needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChType {
    /// Int8 … Int256 (bits).
    Int(u16),
    /// UInt8 … UInt256 (bits).
    UInt(u16),
    /// Float32.
    Float32,
    /// Float64.
    Float64,
    /// Bool (one byte, 0/1).
    Bool,
    /// String.
    String,
    /// FixedString(n).
    FixedString(usize),
    /// UUID.
    Uuid,
    /// Date (UInt16 days).
    Date,
    /// Date32 (Int32 days).
    Date32,
    /// DateTime([tz]) (UInt32 seconds).
    DateTime(Option<String>),
    /// DateTime64(precision[, tz]) (Int64 ticks of 10^-precision s).
    DateTime64(u8, Option<String>),
    /// Decimal(precision, scale).
    Decimal(u8, u8),
    /// Nullable(T).
    Nullable(Box<ChType>),
    /// LowCardinality(T): the same RowBinary as T.
    LowCardinality(Box<ChType>),
    /// Array(T).
    Array(Box<ChType>),
    /// Map(K, V).
    Map(Box<ChType>, Box<ChType>),
    /// Tuple(T…) with optional element names.
    Tuple(Vec<(Option<String>, ChType)>),
    /// Enum8 / Enum16 (bits, (name, value) pairs).
    Enum(u8, Vec<(String, i16)>),
    /// JSON / Object('json'): written as a string (needs `input_format_binary_read_json_as_string`).
    Json,
    /// Anything else: kept as text, refused by the encoder with a clear error.
    Other(String),
}

/// A type text that could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("cannot parse ClickHouse type '{text}': {reason}")]
pub struct TypeParseError {
    /// The type text.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

impl ChType {
    /// Parses a type as `system.columns` prints it.
    pub fn parse(text: &str) -> Result<ChType, TypeParseError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let err = |reason: String| TypeParseError {
            text: text.to_string(),
            reason,
        };
        let t = p.ty().map_err(err)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(err(format!("unexpected text at byte {}", p.i)));
        }
        Ok(t)
    }

    /// The type without Nullable / LowCardinality wrappers.
    pub fn base(&self) -> &ChType {
        match self {
            ChType::Nullable(t) | ChType::LowCardinality(t) => t.base(),
            t => t,
        }
    }

    /// True for Nullable(T) (also inside LowCardinality).
    pub fn is_nullable(&self) -> bool {
        match self {
            ChType::Nullable(_) => true,
            ChType::LowCardinality(t) => t.is_nullable(),
            _ => false,
        }
    }
}

impl fmt::Display for ChType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChType::Int(b) => write!(f, "Int{b}"),
            ChType::UInt(b) => write!(f, "UInt{b}"),
            ChType::Float32 => f.write_str("Float32"),
            ChType::Float64 => f.write_str("Float64"),
            ChType::Bool => f.write_str("Bool"),
            ChType::String => f.write_str("String"),
            ChType::FixedString(n) => write!(f, "FixedString({n})"),
            ChType::Uuid => f.write_str("UUID"),
            ChType::Date => f.write_str("Date"),
            ChType::Date32 => f.write_str("Date32"),
            ChType::DateTime(None) => f.write_str("DateTime"),
            ChType::DateTime(Some(tz)) => write!(f, "DateTime('{}')", quote(tz)),
            ChType::DateTime64(p, None) => write!(f, "DateTime64({p})"),
            ChType::DateTime64(p, Some(tz)) => write!(f, "DateTime64({p}, '{}')", quote(tz)),
            ChType::Decimal(p, s) => write!(f, "Decimal({p}, {s})"),
            ChType::Nullable(t) => write!(f, "Nullable({t})"),
            ChType::LowCardinality(t) => write!(f, "LowCardinality({t})"),
            ChType::Array(t) => write!(f, "Array({t})"),
            ChType::Map(k, v) => write!(f, "Map({k}, {v})"),
            ChType::Tuple(items) => {
                f.write_str("Tuple(")?;
                for (i, (name, t)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match name {
                        Some(n) => write!(f, "`{n}` {t}")?,
                        None => write!(f, "{t}")?,
                    }
                }
                f.write_str(")")
            }
            ChType::Enum(bits, items) => {
                write!(f, "Enum{bits}(")?;
                for (i, (name, v)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{}' = {v}", quote(name))?;
                }
                f.write_str(")")
            }
            ChType::Json => f.write_str("JSON"),
            ChType::Other(s) => f.write_str(s),
        }
    }
}

/// Escapes a string for a single-quoted ClickHouse literal.
pub fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    fn ident(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn number(&mut self) -> Result<i64, String> {
        self.ws();
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("expected a number at byte {start}"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.ws();
        if self.s.get(self.i) != Some(&b'\'') {
            return Err(format!("expected a quoted string at byte {}", self.i));
        }
        self.i += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                b'\\' => {
                    if let Some(&n) = self.s.get(self.i) {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'\'' => return Ok(String::from_utf8_lossy(&out).into_owned()),
                c => out.push(c),
            }
        }
        Err("unterminated string".into())
    }

    fn ty(&mut self) -> Result<ChType, String> {
        let start = self.i;
        let name = self.ident();
        let int_bits = |n: &str| -> Option<u16> {
            match n {
                "8" | "16" | "32" | "64" | "128" | "256" => n.parse().ok(),
                _ => None,
            }
        };
        let t = match name.as_str() {
            n if n.starts_with("UInt") && int_bits(&n[4..]).is_some() => {
                ChType::UInt(int_bits(&n[4..]).unwrap_or(64))
            }
            n if n.starts_with("Int") && int_bits(&n[3..]).is_some() => {
                ChType::Int(int_bits(&n[3..]).unwrap_or(64))
            }
            "Float32" => ChType::Float32,
            "Float64" => ChType::Float64,
            "Bool" | "Boolean" => ChType::Bool,
            "String" => ChType::String,
            "UUID" => ChType::Uuid,
            "Date" => ChType::Date,
            "Date32" => ChType::Date32,
            "JSON" => {
                // JSON(max_dynamic_paths=…) parameters do not change the string input form.
                self.skip_args()?;
                ChType::Json
            }
            "Object" => {
                self.skip_args()?;
                ChType::Json
            }
            "FixedString" => {
                self.expect(b'(')?;
                let n = self.number()?;
                self.expect(b')')?;
                ChType::FixedString(usize::try_from(n).map_err(|_| "negative length")?)
            }
            "DateTime" => {
                let tz = if self.eat(b'(') {
                    let tz = self.string()?;
                    self.expect(b')')?;
                    Some(tz)
                } else {
                    None
                };
                ChType::DateTime(tz)
            }
            "DateTime64" => {
                self.expect(b'(')?;
                let p = self.number()?;
                let tz = if self.eat(b',') {
                    Some(self.string()?)
                } else {
                    None
                };
                self.expect(b')')?;
                if !(0..=9).contains(&p) {
                    return Err(format!("DateTime64 precision {p} is outside 0..=9"));
                }
                ChType::DateTime64(p as u8, tz)
            }
            "Decimal" => {
                self.expect(b'(')?;
                let p = self.number()?;
                let s = if self.eat(b',') { self.number()? } else { 0 };
                self.expect(b')')?;
                decimal(p, s)?
            }
            "Decimal32" | "Decimal64" | "Decimal128" | "Decimal256" => {
                self.expect(b'(')?;
                let s = self.number()?;
                self.expect(b')')?;
                let p = match name.as_str() {
                    "Decimal32" => 9,
                    "Decimal64" => 18,
                    "Decimal128" => 38,
                    _ => 76,
                };
                decimal(p, s)?
            }
            "Nullable" | "LowCardinality" | "Array" => {
                self.expect(b'(')?;
                let inner = Box::new(self.ty()?);
                self.expect(b')')?;
                match name.as_str() {
                    "Nullable" => ChType::Nullable(inner),
                    "LowCardinality" => ChType::LowCardinality(inner),
                    _ => ChType::Array(inner),
                }
            }
            "Map" => {
                self.expect(b'(')?;
                let k = self.ty()?;
                self.expect(b',')?;
                let v = self.ty()?;
                self.expect(b')')?;
                ChType::Map(Box::new(k), Box::new(v))
            }
            "Tuple" => {
                self.expect(b'(')?;
                let mut items = Vec::new();
                loop {
                    items.push(self.tuple_item()?);
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b')')?;
                ChType::Tuple(items)
            }
            "Enum8" | "Enum16" => {
                self.expect(b'(')?;
                let mut items = Vec::new();
                loop {
                    let n = self.string()?;
                    self.expect(b'=')?;
                    let v = self.number()?;
                    items.push((n, i16::try_from(v).map_err(|_| "enum value out of range")?));
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b')')?;
                ChType::Enum(if name == "Enum8" { 8 } else { 16 }, items)
            }
            "" => return Err(format!("expected a type at byte {start}")),
            _ => {
                self.skip_args()?;
                let text = String::from_utf8_lossy(&self.s[start..self.i])
                    .trim()
                    .to_string();
                ChType::Other(text)
            }
        };
        Ok(t)
    }

    /// `name Type` or `Type` inside Tuple(…).
    fn tuple_item(&mut self) -> Result<(Option<String>, ChType), String> {
        self.ws();
        let save = self.i;
        if self.s.get(self.i) == Some(&b'`') {
            self.i += 1;
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'`' {
                self.i += 1;
            }
            let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            self.i += 1;
            return Ok((Some(name), self.ty()?));
        }
        let word = self.ident();
        self.ws();
        // A following identifier means `word` was the element's name.
        if self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            return Ok((Some(word), self.ty()?));
        }
        self.i = save;
        Ok((None, self.ty()?))
    }

    /// Skips a balanced `( … )` if present.
    fn skip_args(&mut self) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Ok(());
        }
        let mut depth = 0;
        let mut quoted = false;
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                b'\\' if quoted => self.i += 1,
                b'\'' => quoted = !quoted,
                b'(' if !quoted => depth += 1,
                b')' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err("unbalanced parentheses".into())
    }
}

fn decimal(p: i64, s: i64) -> Result<ChType, String> {
    if !(1..=76).contains(&p) || !(0..=p).contains(&s) {
        return Err(format!("Decimal({p}, {s}) is out of range"));
    }
    Ok(ChType::Decimal(p as u8, s as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_system_columns_prints() {
        let cases = [
            ("Int64", ChType::Int(64)),
            ("UInt256", ChType::UInt(256)),
            (
                "Nullable(Decimal(10, 2))",
                ChType::Nullable(Box::new(ChType::Decimal(10, 2))),
            ),
            ("Decimal64(4)", ChType::Decimal(18, 4)),
            (
                "DateTime64(6, 'UTC')",
                ChType::DateTime64(6, Some("UTC".into())),
            ),
            (
                "DateTime('Europe/Paris')",
                ChType::DateTime(Some("Europe/Paris".into())),
            ),
            (
                "LowCardinality(Nullable(String))",
                ChType::LowCardinality(Box::new(ChType::Nullable(Box::new(ChType::String)))),
            ),
            (
                "Map(String, Array(UInt8))",
                ChType::Map(
                    Box::new(ChType::String),
                    Box::new(ChType::Array(Box::new(ChType::UInt(8)))),
                ),
            ),
            (
                "Tuple(a Int32, b String)",
                ChType::Tuple(vec![
                    (Some("a".into()), ChType::Int(32)),
                    (Some("b".into()), ChType::String),
                ]),
            ),
            (
                "Tuple(Int32, String)",
                ChType::Tuple(vec![(None, ChType::Int(32)), (None, ChType::String)]),
            ),
            (
                "Enum8('a' = 1, 'b\\'c' = -2)",
                ChType::Enum(8, vec![("a".into(), 1), ("b'c".into(), -2)]),
            ),
            ("FixedString(16)", ChType::FixedString(16)),
            ("JSON(max_dynamic_paths = 10)", ChType::Json),
            ("Object('json')", ChType::Json),
            ("IPv4", ChType::Other("IPv4".into())),
        ];
        for (text, want) in cases {
            assert_eq!(ChType::parse(text).as_ref(), Ok(&want), "{text}");
        }
        assert!(ChType::parse("Decimal(80, 2)").is_err());
        assert!(ChType::parse("Nullable(Int64").is_err());
        assert!(ChType::parse("DateTime64(12)").is_err());
    }

    #[test]
    fn prints_types_that_parse_back() {
        for text in [
            "Nullable(DateTime64(6, 'UTC'))",
            "Map(String, Tuple(`x` Int8, `y` Float64))",
            "Enum16('it''s' = 1)",
            "LowCardinality(String)",
        ] {
            let Ok(t) = ChType::parse(text) else {
                // Doubled quotes are not ClickHouse's escaping; the parser may refuse them.
                continue;
            };
            assert_eq!(ChType::parse(&t.to_string()), Ok(t.clone()), "{text}");
        }
    }
}
