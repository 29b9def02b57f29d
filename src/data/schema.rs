//! The Kafka Connect schema model (`org.apache.kafka.connect.data.Schema`) and the logical types
//! Connect and Debezium put on top of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value as Json};
use thiserror::Error;

/// A shared, immutable schema. Parsed once per distinct schema and shared by every record.
pub type SchemaRef = Arc<Schema>;

/// A Connect schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The physical type.
    pub kind: Kind,
    /// Whether null is allowed.
    pub optional: bool,
    /// Schema name; for logical types the logical type's name.
    pub name: Option<String>,
    /// Schema version.
    pub version: Option<i32>,
    /// Documentation.
    pub doc: Option<String>,
    /// Parameters (e.g. `scale` of a Decimal).
    pub parameters: BTreeMap<String, String>,
    /// Default value, in its JsonConverter JSON form.
    pub default: Option<Json>,
}

/// Connect's physical types.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// 8-bit signed integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// 32-bit float.
    Float32,
    /// 64-bit float.
    Float64,
    /// Boolean.
    Boolean,
    /// UTF-8 string.
    String,
    /// Byte array.
    Bytes,
    /// Array of one element schema.
    Array(SchemaRef),
    /// Map from key schema to value schema.
    Map(SchemaRef, SchemaRef),
    /// Struct with ordered, named fields.
    Struct(Vec<Field>),
}

impl Kind {
    /// Connect's `Schema.Type` name (`INT64`, `STRUCT`, ...), as Java error messages print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Int8 => "INT8",
            Kind::Int16 => "INT16",
            Kind::Int32 => "INT32",
            Kind::Int64 => "INT64",
            Kind::Float32 => "FLOAT32",
            Kind::Float64 => "FLOAT64",
            Kind::Boolean => "BOOLEAN",
            Kind::String => "STRING",
            Kind::Bytes => "BYTES",
            Kind::Array(_) => "ARRAY",
            Kind::Map(_, _) => "MAP",
            Kind::Struct(_) => "STRUCT",
        }
    }
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Position in the struct.
    pub index: usize,
    /// Field schema.
    pub schema: SchemaRef,
}

/// Logical types Sluice maps to dedicated column types (Connect's and Debezium's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logical {
    /// `org.apache.kafka.connect.data.Decimal` (bytes, unscaled big-endian two's complement).
    Decimal {
        /// `scale` parameter.
        scale: i32,
        /// `connect.decimal.precision` parameter, when given.
        precision: Option<u8>,
    },
    /// `io.debezium.data.VariableScaleDecimal` (struct `scale`, `value`).
    VariableScaleDecimal,
    /// `org.apache.kafka.connect.data.Date` / `io.debezium.time.Date`: int32 days since epoch.
    Date,
    /// `org.apache.kafka.connect.data.Time` / `io.debezium.time.Time`: int32 ms past midnight.
    TimeMillis,
    /// `io.debezium.time.MicroTime`: int64 µs past midnight.
    TimeMicros,
    /// `io.debezium.time.NanoTime`: int64 ns past midnight.
    TimeNanos,
    /// `org.apache.kafka.connect.data.Timestamp`: int64 ms since epoch (UTC instant).
    TimestampMillisUtc,
    /// `io.debezium.time.Timestamp`: int64 ms, wall time without zone.
    TimestampMillis,
    /// `io.debezium.time.MicroTimestamp`: int64 µs, wall time without zone.
    TimestampMicros,
    /// `io.debezium.time.NanoTimestamp`: int64 ns, wall time without zone.
    TimestampNanos,
    /// `io.debezium.time.ZonedTimestamp`: ISO-8601 string with offset.
    ZonedTimestamp,
    /// `io.debezium.time.ZonedTime`: ISO time string with offset.
    ZonedTime,
    /// `io.debezium.time.MicroDuration`: int64 µs.
    MicroDuration,
    /// `io.debezium.data.Json`: JSON text.
    Json,
    /// `io.debezium.data.Uuid`: canonical UUID text.
    Uuid,
    /// `io.debezium.data.Bits`: bytes.
    Bits,
    /// `io.debezium.data.Enum`: a label.
    Enum,
}

/// Names of the logical types above, as they appear in schemas.
pub mod names {
    /// Connect Decimal.
    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    /// Connect Date.
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    /// Connect Time.
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    /// Connect Timestamp.
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
    /// Debezium variable-scale decimal.
    pub const VARIABLE_SCALE_DECIMAL: &str = "io.debezium.data.VariableScaleDecimal";
    /// Debezium date.
    pub const DBZ_DATE: &str = "io.debezium.time.Date";
    /// Debezium time (ms).
    pub const DBZ_TIME: &str = "io.debezium.time.Time";
    /// Debezium time (µs).
    pub const DBZ_MICRO_TIME: &str = "io.debezium.time.MicroTime";
    /// Debezium time (ns).
    pub const DBZ_NANO_TIME: &str = "io.debezium.time.NanoTime";
    /// Debezium timestamp (ms).
    pub const DBZ_TIMESTAMP: &str = "io.debezium.time.Timestamp";
    /// Debezium timestamp (µs).
    pub const DBZ_MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
    /// Debezium timestamp (ns).
    pub const DBZ_NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
    /// Debezium zoned timestamp.
    pub const DBZ_ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
    /// Debezium zoned time.
    pub const DBZ_ZONED_TIME: &str = "io.debezium.time.ZonedTime";
    /// Debezium duration (µs).
    pub const DBZ_MICRO_DURATION: &str = "io.debezium.time.MicroDuration";
    /// Debezium JSON.
    pub const DBZ_JSON: &str = "io.debezium.data.Json";
    /// Debezium UUID.
    pub const DBZ_UUID: &str = "io.debezium.data.Uuid";
    /// Debezium bits.
    pub const DBZ_BITS: &str = "io.debezium.data.Bits";
    /// Debezium enum.
    pub const DBZ_ENUM: &str = "io.debezium.data.Enum";
}

/// Why a schema could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid Connect schema at {path}: {message}")]
pub struct SchemaError {
    /// Where in the schema (`$.fields[2].items`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> SchemaError {
    SchemaError {
        path: path.to_string(),
        message: message.into(),
    }
}

impl Schema {
    /// A schema of `kind` with no name, parameters or default.
    pub fn new(kind: Kind, optional: bool) -> Schema {
        Schema {
            kind,
            optional,
            name: None,
            version: None,
            doc: None,
            parameters: BTreeMap::new(),
            default: None,
        }
    }

    /// The same schema with a name (builder style).
    pub fn named(mut self, name: &str) -> Schema {
        self.name = Some(name.to_string());
        self
    }

    /// The same schema with one parameter (builder style).
    pub fn param(mut self, key: &str, value: &str) -> Schema {
        self.parameters.insert(key.to_string(), value.to_string());
        self
    }

    /// A struct schema from `(name, schema)` pairs.
    pub fn structure(fields: Vec<(&str, SchemaRef)>, optional: bool) -> Schema {
        Schema::new(
            Kind::Struct(
                fields
                    .into_iter()
                    .enumerate()
                    .map(|(index, (name, schema))| Field {
                        name: name.to_string(),
                        index,
                        schema,
                    })
                    .collect(),
            ),
            optional,
        )
    }

    /// Struct fields (empty for other kinds).
    pub fn fields(&self) -> &[Field] {
        match &self.kind {
            Kind::Struct(f) => f,
            _ => &[],
        }
    }

    /// A struct field by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The logical type, if the schema's name is one Sluice knows.
    pub fn logical(&self) -> Option<Logical> {
        use names::*;
        let name = self.name.as_deref()?;
        Some(match name {
            DECIMAL => Logical::Decimal {
                scale: self
                    .parameters
                    .get("scale")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                precision: self
                    .parameters
                    .get("connect.decimal.precision")
                    .and_then(|s| s.parse().ok()),
            },
            VARIABLE_SCALE_DECIMAL => Logical::VariableScaleDecimal,
            DATE | DBZ_DATE => Logical::Date,
            TIME | DBZ_TIME => Logical::TimeMillis,
            DBZ_MICRO_TIME => Logical::TimeMicros,
            DBZ_NANO_TIME => Logical::TimeNanos,
            TIMESTAMP => Logical::TimestampMillisUtc,
            DBZ_TIMESTAMP => Logical::TimestampMillis,
            DBZ_MICRO_TIMESTAMP => Logical::TimestampMicros,
            DBZ_NANO_TIMESTAMP => Logical::TimestampNanos,
            DBZ_ZONED_TIMESTAMP => Logical::ZonedTimestamp,
            DBZ_ZONED_TIME => Logical::ZonedTime,
            DBZ_MICRO_DURATION => Logical::MicroDuration,
            DBZ_JSON => Logical::Json,
            DBZ_UUID => Logical::Uuid,
            DBZ_BITS => Logical::Bits,
            DBZ_ENUM => Logical::Enum,
            _ => return None,
        })
    }

    /// Parses JsonConverter's schema JSON (`{"type": "struct", "fields": [...], ...}`).
    pub fn from_connect_json(v: &Json) -> Result<Schema, SchemaError> {
        parse(v, "$")
    }

    /// JsonConverter's schema JSON for this schema (`field` names are added by the parent).
    pub fn to_connect_json(&self) -> Json {
        let mut m = Map::new();
        let ty = match &self.kind {
            Kind::Int8 => "int8",
            Kind::Int16 => "int16",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::Float32 => "float",
            Kind::Float64 => "double",
            Kind::Boolean => "boolean",
            Kind::String => "string",
            Kind::Bytes => "bytes",
            Kind::Array(items) => {
                m.insert("items".into(), items.to_connect_json());
                "array"
            }
            Kind::Map(k, v) => {
                m.insert("keys".into(), k.to_connect_json());
                m.insert("values".into(), v.to_connect_json());
                "map"
            }
            Kind::Struct(fields) => {
                let fs: Vec<Json> = fields
                    .iter()
                    .map(|f| {
                        let mut j = f.schema.to_connect_json();
                        if let Json::Object(o) = &mut j {
                            o.insert("field".into(), json!(f.name));
                        }
                        j
                    })
                    .collect();
                m.insert("fields".into(), Json::Array(fs));
                "struct"
            }
        };
        m.insert("type".into(), json!(ty));
        m.insert("optional".into(), json!(self.optional));
        if let Some(n) = &self.name {
            m.insert("name".into(), json!(n));
        }
        if let Some(v) = self.version {
            m.insert("version".into(), json!(v));
        }
        if let Some(d) = &self.doc {
            m.insert("doc".into(), json!(d));
        }
        if !self.parameters.is_empty() {
            m.insert("parameters".into(), json!(self.parameters));
        }
        if let Some(d) = &self.default {
            m.insert("default".into(), d.clone());
        }
        Json::Object(m)
    }
}

fn parse(v: &Json, path: &str) -> Result<Schema, SchemaError> {
    let Json::Object(o) = v else {
        return Err(err(path, "a schema must be a JSON object"));
    };
    let ty = o
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| err(path, "missing \"type\""))?;
    let kind = match ty {
        "int8" => Kind::Int8,
        "int16" => Kind::Int16,
        "int32" => Kind::Int32,
        "int64" => Kind::Int64,
        "float" | "float32" => Kind::Float32,
        "double" | "float64" => Kind::Float64,
        "boolean" => Kind::Boolean,
        "string" => Kind::String,
        "bytes" => Kind::Bytes,
        "array" => {
            let items = o
                .get("items")
                .ok_or_else(|| err(path, "array schema without \"items\""))?;
            Kind::Array(Arc::new(parse(items, &format!("{path}.items"))?))
        }
        "map" => {
            let k = o
                .get("keys")
                .ok_or_else(|| err(path, "map schema without \"keys\""))?;
            let v = o
                .get("values")
                .ok_or_else(|| err(path, "map schema without \"values\""))?;
            Kind::Map(
                Arc::new(parse(k, &format!("{path}.keys"))?),
                Arc::new(parse(v, &format!("{path}.values"))?),
            )
        }
        "struct" => {
            let fields = match o.get("fields") {
                Some(Json::Array(a)) => a,
                None => return Err(err(path, "struct schema without \"fields\"")),
                Some(_) => return Err(err(path, "\"fields\" must be an array")),
            };
            let mut out = Vec::with_capacity(fields.len());
            for (index, f) in fields.iter().enumerate() {
                let fpath = format!("{path}.fields[{index}]");
                let name = f
                    .get("field")
                    .and_then(Json::as_str)
                    .ok_or_else(|| err(&fpath, "struct field without \"field\" name"))?;
                if out.iter().any(|x: &Field| x.name == name) {
                    return Err(err(&fpath, format!("duplicate field \"{name}\"")));
                }
                out.push(Field {
                    name: name.to_string(),
                    index,
                    schema: Arc::new(parse(f, &fpath)?),
                });
            }
            Kind::Struct(out)
        }
        other => return Err(err(path, format!("unknown schema type \"{other}\""))),
    };
    let parameters = match o.get("parameters") {
        None | Some(Json::Null) => BTreeMap::new(),
        Some(Json::Object(p)) => p
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect(),
        Some(_) => return Err(err(path, "\"parameters\" must be an object")),
    };
    Ok(Schema {
        kind,
        optional: o.get("optional").and_then(Json::as_bool).unwrap_or(false),
        name: o.get("name").and_then(Json::as_str).map(str::to_string),
        version: o
            .get("version")
            .and_then(Json::as_i64)
            .and_then(|v| i32::try_from(v).ok()),
        doc: o.get("doc").and_then(Json::as_str).map(str::to_string),
        parameters,
        default: o.get("default").filter(|d| !d.is_null()).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_debezium_row_schema_and_round_trips() {
        let j = json!({"type":"struct","name":"pg.public.orders.Value","optional":true,"fields":[
            {"field":"id","type":"int64","optional":false},
            {"field":"price","type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal",
             "version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}},
            {"field":"tags","type":"array","optional":true,"items":{"type":"string","optional":true}},
            {"field":"attrs","type":"map","optional":true,"keys":{"type":"string","optional":false},"values":{"type":"double","optional":true}},
            {"field":"created","type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1}
        ]});
        let s = Schema::from_connect_json(&j).unwrap();
        assert_eq!(s.fields().len(), 5);
        assert_eq!(s.field("id").unwrap().schema.kind, Kind::Int64);
        assert_eq!(
            s.field("price").unwrap().schema.logical(),
            Some(Logical::Decimal {
                scale: 2,
                precision: Some(10)
            })
        );
        assert_eq!(
            s.field("created").unwrap().schema.logical(),
            Some(Logical::TimestampMicros)
        );
        assert!(matches!(
            s.field("attrs").unwrap().schema.kind,
            Kind::Map(_, _)
        ));
        let back = Schema::from_connect_json(&s.to_connect_json()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn errors_name_the_place() {
        let e = Schema::from_connect_json(
            &json!({"type":"struct","fields":[{"field":"a","type":"int99"}]}),
        )
        .unwrap_err();
        assert_eq!(e.path, "$.fields[0]");
        assert!(e.message.contains("int99"));
        let e = Schema::from_connect_json(&json!({"type":"array"})).unwrap_err();
        assert!(e.message.contains("items"));
        let e = Schema::from_connect_json(&json!({"type":"struct","fields":[{"field":"a","type":"int8"},{"field":"a","type":"int8"}]}))
            .unwrap_err();
        assert!(e.message.contains("duplicate"));
    }
}
