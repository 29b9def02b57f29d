//! Avro schemas as the Schema Registry serves them: parsed from their JSON form, named types
//! resolved (Avro's namespace rules), extra attributes (`logicalType`, `connect.*`, …) kept.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json};
use thiserror::Error;

/// An Avro schema node.
#[derive(Debug, Clone, PartialEq)]
pub struct AvroSchema {
    /// The type and its structure.
    pub kind: AvroKind,
    /// Attributes that are not part of the type's structure (`logicalType`, `precision`,
    /// `connect.name`, …), as written.
    pub props: Map<String, Json>,
}

/// Avro types.
#[derive(Debug, Clone, PartialEq)]
pub enum AvroKind {
    /// `null`.
    Null,
    /// `boolean`.
    Boolean,
    /// `int` (32-bit).
    Int,
    /// `long` (64-bit).
    Long,
    /// `float` (32-bit IEEE).
    Float,
    /// `double` (64-bit IEEE).
    Double,
    /// `bytes`.
    Bytes,
    /// `string`.
    String,
    /// `record`.
    Record {
        /// Full name.
        name: FullName,
        /// The record's `doc`.
        doc: Option<String>,
        /// Fields in declaration (= encoding) order.
        fields: Vec<AvroField>,
    },
    /// `enum`.
    Enum {
        /// Full name.
        name: FullName,
        /// The enum's `doc`.
        doc: Option<String>,
        /// Symbols in index order.
        symbols: Vec<String>,
        /// The enum's `default` symbol.
        default: Option<String>,
    },
    /// `fixed`.
    Fixed {
        /// Full name.
        name: FullName,
        /// Size in bytes.
        size: usize,
    },
    /// `array`.
    Array(Box<AvroSchema>),
    /// `map` (string keys).
    Map(Box<AvroSchema>),
    /// A union of its branches, in index order.
    Union(Vec<AvroSchema>),
}

/// A record field.
#[derive(Debug, Clone, PartialEq)]
pub struct AvroField {
    /// Field name.
    pub name: String,
    /// The field's `doc`.
    pub doc: Option<String>,
    /// The field's `default` (Avro JSON encoding), when it has one; `Some(Json::Null)` for
    /// `"default": null`.
    pub default: Option<Json>,
    /// Field type.
    pub schema: AvroSchema,
}

/// A named type's name and namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FullName {
    /// Namespace, `None` for the null namespace.
    pub namespace: Option<String>,
    /// Simple name.
    pub name: String,
}

impl FullName {
    /// `namespace.name`, or `name` in the null namespace.
    pub fn full(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Why an Avro schema could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid Avro schema at {path}: {message}")]
pub struct AvroSchemaError {
    /// Where in the schema (`$.fields[2].type`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> AvroSchemaError {
    AvroSchemaError {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Named types defined so far, by full name. Schema references (types defined in other
/// registered schemas) are parsed into the same table before the schema that uses them.
#[derive(Debug, Default, Clone)]
pub struct Names {
    defined: HashMap<String, AvroSchema>,
}

impl Names {
    /// An empty table.
    pub fn new() -> Names {
        Names::default()
    }

    /// Whether a full name is defined.
    pub fn contains(&self, full_name: &str) -> bool {
        self.defined.contains_key(full_name)
    }
}

impl AvroSchema {
    /// Parses a schema's JSON text.
    pub fn parse_str(text: &str) -> Result<AvroSchema, AvroSchemaError> {
        AvroSchema::parse_str_with(text, &mut Names::new())
    }

    /// Parses a schema's JSON text with named types already defined (schema references); the
    /// types this schema defines are added to `names`.
    pub fn parse_str_with(text: &str, names: &mut Names) -> Result<AvroSchema, AvroSchemaError> {
        let json: Json =
            serde_json::from_str(text).map_err(|e| err("$", format!("not valid JSON: {e}")))?;
        AvroSchema::parse_with(&json, names)
    }

    /// Parses a schema's JSON value with named types already defined.
    pub fn parse_with(json: &Json, names: &mut Names) -> Result<AvroSchema, AvroSchemaError> {
        let mut p = Parser {
            names,
            defining: HashSet::new(),
        };
        p.parse(json, None, "$")
    }

    /// A schema of `kind` without attributes.
    pub fn of(kind: AvroKind) -> AvroSchema {
        AvroSchema {
            kind,
            props: Map::new(),
        }
    }

    /// The `logicalType` attribute.
    pub fn logical_type(&self) -> Option<&str> {
        self.props.get("logicalType").and_then(Json::as_str)
    }

    /// Avro's name for this type (`record`, `string`, …).
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            AvroKind::Null => "null",
            AvroKind::Boolean => "boolean",
            AvroKind::Int => "int",
            AvroKind::Long => "long",
            AvroKind::Float => "float",
            AvroKind::Double => "double",
            AvroKind::Bytes => "bytes",
            AvroKind::String => "string",
            AvroKind::Record { .. } => "record",
            AvroKind::Enum { .. } => "enum",
            AvroKind::Fixed { .. } => "fixed",
            AvroKind::Array(_) => "array",
            AvroKind::Map(_) => "map",
            AvroKind::Union(_) => "union",
        }
    }

    /// The full name of a record, enum or fixed.
    pub fn full_name(&self) -> Option<String> {
        match &self.kind {
            AvroKind::Record { name, .. }
            | AvroKind::Enum { name, .. }
            | AvroKind::Fixed { name, .. } => Some(name.full()),
            _ => None,
        }
    }
}

fn primitive(name: &str) -> Option<AvroKind> {
    Some(match name {
        "null" => AvroKind::Null,
        "boolean" => AvroKind::Boolean,
        "int" => AvroKind::Int,
        "long" => AvroKind::Long,
        "float" => AvroKind::Float,
        "double" => AvroKind::Double,
        "bytes" => AvroKind::Bytes,
        "string" => AvroKind::String,
        _ => return None,
    })
}

/// Keys that are part of a type's structure, so not kept as attributes.
const STRUCTURAL: &[&str] = &[
    "type",
    "name",
    "namespace",
    "doc",
    "fields",
    "aliases",
    "symbols",
    "default",
    "size",
    "items",
    "values",
];

struct Parser<'n> {
    names: &'n mut Names,
    /// Named types whose definition is being parsed: a reference to one is a recursive schema.
    defining: HashSet<String>,
}

impl Parser<'_> {
    fn parse(
        &mut self,
        json: &Json,
        namespace: Option<&str>,
        path: &str,
    ) -> Result<AvroSchema, AvroSchemaError> {
        match json {
            Json::String(name) => self.reference(name, namespace, path),
            Json::Array(branches) => {
                let mut out = Vec::with_capacity(branches.len());
                for (i, b) in branches.iter().enumerate() {
                    let s = self.parse(b, namespace, &format!("{path}[{i}]"))?;
                    if matches!(s.kind, AvroKind::Union(_)) {
                        return Err(err(path, "a union may not immediately contain a union"));
                    }
                    out.push(s);
                }
                Ok(AvroSchema::of(AvroKind::Union(out)))
            }
            Json::Object(o) => self.object(o, namespace, path),
            other => Err(err(
                path,
                format!("a schema must be a type name, an object or an array, not {other}"),
            )),
        }
    }

    fn reference(
        &mut self,
        name: &str,
        namespace: Option<&str>,
        path: &str,
    ) -> Result<AvroSchema, AvroSchemaError> {
        if let Some(kind) = primitive(name) {
            return Ok(AvroSchema::of(kind));
        }
        // Avro's lookup: the name qualified by the enclosing namespace, then as written.
        let qualified = match namespace {
            Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
            _ => name.to_string(),
        };
        for candidate in [qualified.as_str(), name] {
            if self.defining.contains(candidate) {
                return Err(err(
                    path,
                    format!("recursive type {candidate} is not supported (it cannot be mapped to a Connect schema here)"),
                ));
            }
            if let Some(s) = self.names.defined.get(candidate) {
                return Ok(s.clone());
            }
        }
        Err(err(path, format!("unknown type {name:?}")))
    }

    fn object(
        &mut self,
        o: &Map<String, Json>,
        namespace: Option<&str>,
        path: &str,
    ) -> Result<AvroSchema, AvroSchemaError> {
        let ty = match o.get("type") {
            Some(Json::String(t)) => t.as_str(),
            // `{"type": {...}}` / `{"type": [...]}`: the nested schema is the type.
            Some(nested @ (Json::Object(_) | Json::Array(_))) => {
                return self.parse(nested, namespace, &format!("{path}.type"))
            }
            Some(_) => return Err(err(path, "\"type\" must be a string, object or array")),
            None => return Err(err(path, "missing \"type\"")),
        };
        let props: Map<String, Json> = o
            .iter()
            .filter(|(k, _)| !STRUCTURAL.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let doc = o.get("doc").and_then(Json::as_str).map(str::to_string);
        let kind = match ty {
            "record" | "error" => return self.record(o, props, doc, namespace, path),
            "enum" => {
                let name = full_name(o, namespace, path)?;
                let symbols = match o.get("symbols") {
                    Some(Json::Array(a)) => a
                        .iter()
                        .map(|s| {
                            s.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| err(path, "enum symbols must be strings"))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err(err(path, "enum without a \"symbols\" array")),
                };
                let default = o.get("default").and_then(Json::as_str).map(str::to_string);
                let s = AvroSchema {
                    kind: AvroKind::Enum {
                        name: name.clone(),
                        doc,
                        symbols,
                        default,
                    },
                    props,
                };
                self.define(&name, &s, path)?;
                return Ok(s);
            }
            "fixed" => {
                let name = full_name(o, namespace, path)?;
                let size = o
                    .get("size")
                    .and_then(Json::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| err(path, "fixed without a non-negative integer \"size\""))?;
                let s = AvroSchema {
                    kind: AvroKind::Fixed {
                        name: name.clone(),
                        size,
                    },
                    props,
                };
                self.define(&name, &s, path)?;
                return Ok(s);
            }
            "array" => {
                let items = o
                    .get("items")
                    .ok_or_else(|| err(path, "array without \"items\""))?;
                AvroKind::Array(Box::new(self.parse(
                    items,
                    namespace,
                    &format!("{path}.items"),
                )?))
            }
            "map" => {
                let values = o
                    .get("values")
                    .ok_or_else(|| err(path, "map without \"values\""))?;
                AvroKind::Map(Box::new(self.parse(
                    values,
                    namespace,
                    &format!("{path}.values"),
                )?))
            }
            other => match primitive(other) {
                Some(kind) => kind,
                // `{"type": "com.example.Named"}` refers to a named type.
                None => return self.reference(other, namespace, path),
            },
        };
        Ok(AvroSchema { kind, props })
    }

    fn record(
        &mut self,
        o: &Map<String, Json>,
        props: Map<String, Json>,
        doc: Option<String>,
        namespace: Option<&str>,
        path: &str,
    ) -> Result<AvroSchema, AvroSchemaError> {
        let name = full_name(o, namespace, path)?;
        let full = name.full();
        let fields_json = match o.get("fields") {
            Some(Json::Array(a)) => a,
            _ => return Err(err(path, "record without a \"fields\" array")),
        };
        self.defining.insert(full.clone());
        let mut fields: Vec<AvroField> = Vec::with_capacity(fields_json.len());
        let inner_ns = name.namespace.clone();
        for (i, f) in fields_json.iter().enumerate() {
            let fpath = format!("{path}.fields[{i}]");
            let fo = f
                .as_object()
                .ok_or_else(|| err(&fpath, "a field must be an object"))?;
            let fname = fo
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| err(&fpath, "field without a \"name\""))?;
            if fields.iter().any(|x| x.name == fname) {
                return Err(err(&fpath, format!("duplicate field {fname:?}")));
            }
            let ty = fo
                .get("type")
                .ok_or_else(|| err(&fpath, format!("field {fname:?} without a \"type\"")))?;
            let schema = self.parse(ty, inner_ns.as_deref(), &format!("{fpath}.type"))?;
            fields.push(AvroField {
                name: fname.to_string(),
                doc: fo.get("doc").and_then(Json::as_str).map(str::to_string),
                default: fo.get("default").cloned(),
                schema,
            });
        }
        self.defining.remove(&full);
        let s = AvroSchema {
            kind: AvroKind::Record {
                name: name.clone(),
                doc,
                fields,
            },
            props,
        };
        self.define(&name, &s, path)?;
        Ok(s)
    }

    fn define(
        &mut self,
        name: &FullName,
        s: &AvroSchema,
        path: &str,
    ) -> Result<(), AvroSchemaError> {
        let full = name.full();
        match self.names.defined.get(&full) {
            // A reference schema may define the same type again; identical definitions are fine.
            Some(existing) if existing != s => {
                Err(err(path, format!("type {full} is defined twice")))
            }
            _ => {
                self.names.defined.insert(full, s.clone());
                Ok(())
            }
        }
    }
}

/// Name and namespace of a named type: a dotted `name` carries its namespace; otherwise
/// `namespace`, otherwise the enclosing namespace.
fn full_name(
    o: &Map<String, Json>,
    enclosing: Option<&str>,
    path: &str,
) -> Result<FullName, AvroSchemaError> {
    let name = o
        .get("name")
        .and_then(Json::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| err(path, "named type without a \"name\""))?;
    if let Some((ns, simple)) = name.rsplit_once('.') {
        return Ok(FullName {
            namespace: Some(ns.to_string()).filter(|n| !n.is_empty()),
            name: simple.to_string(),
        });
    }
    let namespace = match o.get("namespace") {
        Some(Json::String(ns)) => Some(ns.clone()).filter(|n| !n.is_empty()),
        Some(Json::Null) | None => enclosing.map(str::to_string),
        Some(_) => return Err(err(path, "\"namespace\" must be a string")),
    };
    Ok(FullName {
        namespace,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_and_references() {
        let s = AvroSchema::parse_str(
            r#"{"type":"record","name":"Outer","namespace":"a.b","fields":[
                {"name":"x","type":{"type":"fixed","name":"F","size":4}},
                {"name":"y","type":"F"},
                {"name":"z","type":{"type":"record","name":"c.Inner","fields":[{"name":"q","type":"string"}]}},
                {"name":"w","type":["null","c.Inner"]},
                {"name":"u","type":{"type":"string","logicalType":"uuid"}}
            ]}"#,
        )
        .unwrap();
        let AvroKind::Record { name, fields, .. } = &s.kind else {
            panic!("{s:?}")
        };
        assert_eq!(name.full(), "a.b.Outer");
        assert_eq!(fields[0].schema.full_name().as_deref(), Some("a.b.F"));
        assert_eq!(fields[1].schema, fields[0].schema);
        assert_eq!(fields[2].schema.full_name().as_deref(), Some("c.Inner"));
        let AvroKind::Union(b) = &fields[3].schema.kind else {
            panic!()
        };
        assert_eq!(b[1], fields[2].schema);
        assert_eq!(fields[4].schema.logical_type(), Some("uuid"));
    }

    #[test]
    fn errors() {
        let e = AvroSchema::parse_str(
            r#"{"type":"record","name":"N","fields":[{"name":"next","type":["null","N"]}]}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("recursive"), "{e}");
        let e = AvroSchema::parse_str(
            r#"{"type":"record","name":"N","fields":[{"name":"a","type":"Nope"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "$.fields[0].type");
        assert!(e.message.contains("Nope"));
        assert!(AvroSchema::parse_str(r#"["null",["int"]]"#).is_err());
        assert!(AvroSchema::parse_str(r#"{"type":"fixed","name":"F"}"#).is_err());
        assert!(AvroSchema::parse_str("{").is_err());
    }

    #[test]
    fn predefined_names() {
        let mut names = Names::new();
        AvroSchema::parse_str_with(
            r#"{"type":"enum","name":"com.x.Color","symbols":["RED","GREEN"]}"#,
            &mut names,
        )
        .unwrap();
        assert!(names.contains("com.x.Color"));
        let s = AvroSchema::parse_str_with(
            r#"{"type":"record","name":"com.x.Car","fields":[{"name":"c","type":"Color"}]}"#,
            &mut names,
        )
        .unwrap();
        let AvroKind::Record { fields, .. } = &s.kind else {
            panic!()
        };
        assert!(matches!(fields[0].schema.kind, AvroKind::Enum { .. }));
    }
}
