//! `io.confluent.connect.avro.AvroConverter`: Confluent wire format in, Connect data out.
//!
//! Each schema id is fetched once (`GET /schemas/ids/{id}`, plus the referenced schemas and,
//! as Java does, the schema's version under the record's subject), parsed, mapped to Connect
//! once and shared by every record that carries the id. Failures are classified:
//! - registry unreachable, timing out or answering 5xx/429 → [`ConvertError::Retriable`]
//!   (the record is fine; try again later);
//! - credentials refused (401/403) → [`ConvertError::Config`] (no record will convert);
//! - no magic byte, unknown schema id, a schema that is not Avro or cannot be mapped, bytes that
//!   do not decode → [`ConvertError::Data`] (a poison record).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::mapping::{AvroData, AvroDataConfig, Mapped};
use super::registry::{
    RegisteredSchema, RegistryClient, RegistryConfig, RegistryError, SchemaReference,
};
use super::schema::{AvroSchema, Names};
use super::wire;
use crate::data::converter::{ConvertError, Converter, ConverterKind};
use crate::data::record::Data;

/// The converter's Kafka Connect class name.
pub const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";

/// How long an unknown schema id is remembered before the registry is asked again, so a
/// stream of records with a bad id does not become a stream of registry requests.
const NOT_FOUND_RETRY: Duration = Duration::from_secs(30);
/// Deepest chain of schema references followed.
const MAX_REFERENCE_DEPTH: usize = 32;

/// Which subject a schema's version is looked up under (`key.subject.name.strategy` /
/// `value.subject.name.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` / `<topic>-value` (`TopicNameStrategy`, the default).
    #[default]
    TopicName,
    /// The record's full name (`RecordNameStrategy`).
    RecordName,
    /// `<topic>-<record full name>` (`TopicRecordNameStrategy`).
    TopicRecordName,
}

impl SubjectNameStrategy {
    /// The subject for a schema read from `topic`; `None` when the strategy needs a record
    /// name and the schema is not a record.
    pub fn subject(&self, topic: &str, is_key: bool, schema: &AvroSchema) -> Option<String> {
        let record = || match &schema.kind {
            super::schema::AvroKind::Record { name, .. } => Some(name.full()),
            _ => None,
        };
        match self {
            SubjectNameStrategy::TopicName => {
                Some(format!("{topic}-{}", if is_key { "key" } else { "value" }))
            }
            SubjectNameStrategy::RecordName => record(),
            SubjectNameStrategy::TopicRecordName => record().map(|r| format!("{topic}-{r}")),
        }
    }
}

/// The converter's settings, from its `<side>.converter.` properties.
#[derive(Debug, Clone)]
pub struct AvroConverterConfig {
    /// Registry URLs, credentials, timeouts.
    pub registry: RegistryConfig,
    /// AvroData settings.
    pub data: AvroDataConfig,
    /// Subject naming, for the version lookup.
    pub subject_strategy: SubjectNameStrategy,
    /// Most mapped schemas kept (`schemas.cache.config`, default 1000).
    pub cache_size: usize,
}

fn config_error(message: impl Into<String>) -> ConvertError {
    ConvertError::Config(message.into())
}

fn bool_prop(
    props: &BTreeMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, ConvertError> {
    match props.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(config_error(format!(
            "Invalid value {v} for configuration {key}: Expected value to be either true or false"
        ))),
    }
}

fn ms_prop(
    props: &BTreeMap<String, String>,
    key: &str,
    default: Duration,
) -> Result<Duration, ConvertError> {
    match props.get(key).map(|v| v.trim()) {
        None => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                config_error(format!(
                    "Invalid value {v} for configuration {key}: Not a positive number of milliseconds"
                ))
            }),
    }
}

impl AvroConverterConfig {
    /// Reads Confluent's property names: `schema.registry.url` (comma-separated, required),
    /// `basic.auth.credentials.source` (`URL` default, `USER_INFO`) with `basic.auth.user.info`
    /// or `schema.registry.basic.auth.user.info`, `bearer.auth.credentials.source=STATIC_TOKEN`
    /// with `bearer.auth.token`, `schema.registry.ssl.truststore.*` (PEM only),
    /// `http.connect.timeout.ms`, `http.read.timeout.ms`, the AvroData switches,
    /// `key.subject.name.strategy` / `value.subject.name.strategy`, `schemas.cache.config`.
    pub fn from_props(
        props: &BTreeMap<String, String>,
        kind: ConverterKind,
    ) -> Result<AvroConverterConfig, ConvertError> {
        let get = |k: &str| props.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let urls: Vec<String> = get("schema.registry.url")
            .ok_or_else(|| {
                config_error(
                    "Missing required configuration \"schema.registry.url\" which has no default value.",
                )
            })?
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect();
        let mut registry = RegistryConfig::new(urls);

        // Java prefers the deprecated name when both are set.
        let user_info = get("schema.registry.basic.auth.user.info").or(get("basic.auth.user.info"));
        let source = get("basic.auth.credentials.source")
            .unwrap_or("URL")
            .to_ascii_uppercase();
        registry.auth = match source.as_str() {
            "URL" => super::registry::Auth::FromUrl,
            "USER_INFO" => {
                let info = user_info.ok_or_else(|| {
                    config_error("basic.auth.credentials.source=USER_INFO needs basic.auth.user.info (user:password)")
                })?;
                let (user, password) = info.split_once(':').ok_or_else(|| {
                    config_error("basic.auth.user.info must be user:password")
                })?;
                super::registry::Auth::Basic {
                    user: user.to_string(),
                    password: password.to_string(),
                }
            }
            "SASL_INHERIT" => {
                return Err(config_error(
                    "basic.auth.credentials.source=SASL_INHERIT is not supported; use USER_INFO with basic.auth.user.info",
                ))
            }
            other => {
                return Err(config_error(format!(
                    "Invalid value {other} for configuration basic.auth.credentials.source: expected URL or USER_INFO"
                )))
            }
        };
        if let Some(b) = get("bearer.auth.credentials.source") {
            if !b.eq_ignore_ascii_case("STATIC_TOKEN") {
                return Err(config_error(format!(
                    "bearer.auth.credentials.source={b} is not supported; use STATIC_TOKEN with bearer.auth.token"
                )));
            }
            let token = get("bearer.auth.token").ok_or_else(|| {
                config_error("bearer.auth.credentials.source=STATIC_TOKEN needs bearer.auth.token")
            })?;
            registry.auth = super::registry::Auth::Bearer(token.to_string());
        }

        if let Some(pem) = get("schema.registry.ssl.truststore.certificates") {
            registry.ca_pem.push(pem.as_bytes().to_vec());
        }
        if let Some(path) = get("schema.registry.ssl.truststore.location") {
            let ty = get("schema.registry.ssl.truststore.type").unwrap_or("JKS");
            if !ty.eq_ignore_ascii_case("PEM") {
                return Err(config_error(format!(
                    "schema.registry.ssl.truststore.type={ty} cannot be read; use a PEM file with schema.registry.ssl.truststore.type=PEM"
                )));
            }
            let pem = std::fs::read(path).map_err(|e| {
                config_error(format!(
                    "cannot read schema.registry.ssl.truststore.location {path}: {e}"
                ))
            })?;
            registry.ca_pem.push(pem);
        }
        registry.connect_timeout =
            ms_prop(props, "http.connect.timeout.ms", registry.connect_timeout)?;
        registry.request_timeout =
            ms_prop(props, "http.read.timeout.ms", registry.request_timeout)?;

        let data = AvroDataConfig {
            connect_meta_data: bool_prop(props, "connect.meta.data", true)?,
            enhanced_avro_schema_support: bool_prop(props, "enhanced.avro.schema.support", false)?,
            generalized_sum_type_support: bool_prop(props, "generalized.sum.type.support", false)?,
            ignore_default_for_nullables: bool_prop(props, "ignore.default.for.nullables", false)?,
            discard_type_doc_default: bool_prop(props, "discard.type.doc.default", false)?,
            flatten_singleton_unions: bool_prop(props, "flatten.singleton.unions", false)?,
        };

        let strategy_key = if kind == ConverterKind::Key {
            "key.subject.name.strategy"
        } else {
            "value.subject.name.strategy"
        };
        let subject_strategy = match get(strategy_key) {
            None => SubjectNameStrategy::TopicName,
            Some(c) => match c.rsplit('.').next().unwrap_or(c) {
                "TopicNameStrategy" => SubjectNameStrategy::TopicName,
                "RecordNameStrategy" => SubjectNameStrategy::RecordName,
                "TopicRecordNameStrategy" => SubjectNameStrategy::TopicRecordName,
                _ => {
                    return Err(config_error(format!(
                        "{strategy_key}: class {c} could not be found (supported: io.confluent.kafka.serializers.subject.TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy)"
                    )))
                }
            },
        };
        let cache_size = match get("schemas.cache.config") {
            None => 1000,
            Some(v) => v.parse::<usize>().map(|n| n.max(1)).map_err(|_| {
                config_error(format!(
                    "Invalid value {v} for configuration schemas.cache.config: Not a number of type INT"
                ))
            })?,
        };
        Ok(AvroConverterConfig {
            registry,
            data,
            subject_strategy,
            cache_size,
        })
    }
}

/// One cached schema id for one topic: mapped, or failed for good (not Avro, unmappable).
type Entry = Result<Arc<Mapped>, String>;

/// The converter. One instance per task and side; its cache is its own, as in Java.
pub struct AvroConverter {
    is_key: bool,
    config: AvroConverterConfig,
    client: Arc<RegistryClient>,
    /// Drives the registry client; made on first use, so building a converter costs nothing.
    rt: Option<tokio::runtime::Runtime>,
    data: AvroData,
    /// Topic → schema id → mapped schema. Per topic because the Connect version comes from the
    /// topic's subject.
    schemas: HashMap<String, HashMap<i32, Entry>>,
    cached: usize,
    /// Unknown ids: when they were last asked for and the error.
    missing: HashMap<i32, (Instant, String)>,
}

impl std::fmt::Debug for AvroConverter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroConverter")
            .field("is_key", &self.is_key)
            .field("registry", &self.client.urls())
            .field("cached", &self.cached)
            .finish()
    }
}

/// A failure while fetching and preparing a schema.
enum FetchError {
    Registry(RegistryError),
    /// The schema is there but unusable: the same for every record with this id.
    Schema(String),
}

impl From<RegistryError> for FetchError {
    fn from(e: RegistryError) -> Self {
        FetchError::Registry(e)
    }
}

impl AvroConverter {
    /// A converter for these settings; `kind` tells key from value (subject names).
    pub fn new(config: AvroConverterConfig, kind: ConverterKind) -> Result<Self, ConvertError> {
        if kind == ConverterKind::Header {
            return Err(config_error(format!(
                "{AVRO_CONVERTER} is not a HeaderConverter"
            )));
        }
        let client =
            RegistryClient::new(&config.registry).map_err(|e| config_error(e.to_string()))?;
        Ok(AvroConverter {
            is_key: kind == ConverterKind::Key,
            data: AvroData::new(config.data.clone()),
            config,
            client: Arc::new(client),
            rt: None,
            schemas: HashMap::new(),
            cached: 0,
            missing: HashMap::new(),
        })
    }

    /// A converter from its properties (see [`AvroConverterConfig::from_props`]).
    pub fn from_props(
        props: &BTreeMap<String, String>,
        kind: ConverterKind,
    ) -> Result<Self, ConvertError> {
        AvroConverter::new(AvroConverterConfig::from_props(props, kind)?, kind)
    }

    /// The mapped schema for `id` as read from `topic`, fetched on first use.
    pub fn schema(&mut self, topic: &str, id: i32) -> Result<Arc<Mapped>, ConvertError> {
        if let Some(e) = self.schemas.get(topic).and_then(|m| m.get(&id)) {
            return e.clone().map_err(ConvertError::Data);
        }
        if let Some((at, msg)) = self.missing.get(&id) {
            if at.elapsed() < NOT_FOUND_RETRY {
                return Err(ConvertError::Data(msg.clone()));
            }
        }
        let client = self.client.clone();
        let (strategy, is_key) = (self.config.subject_strategy, self.is_key);
        let topic_owned = topic.to_string();
        let fetched =
            self.block(async move { fetch(&client, &topic_owned, id, strategy, is_key).await })?;
        let context = format!("Failed to fetch Avro schema id {id} for topic {topic}");
        let entry: Entry = match fetched {
            Ok((avro, version)) => match self.data.to_connect(&avro, version) {
                Ok(m) => Ok(Arc::new(m)),
                Err(e) => Err(format!("{context}: {e}")),
            },
            Err(FetchError::Schema(e)) => Err(format!("{context}: {e}")),
            Err(FetchError::Registry(e)) => {
                let msg = format!("{context}: {e}");
                return Err(match e {
                    _ if e.is_retriable() => ConvertError::Retriable(msg),
                    RegistryError::Unauthorized { .. } | RegistryError::Config(_) => {
                        ConvertError::Config(msg)
                    }
                    RegistryError::NotFound { .. } => {
                        self.missing.insert(id, (Instant::now(), msg.clone()));
                        ConvertError::Data(msg)
                    }
                    _ => ConvertError::Data(msg),
                });
            }
        };
        self.missing.remove(&id);
        if self.cached >= self.config.cache_size {
            self.schemas.clear();
            self.cached = 0;
        }
        self.cached += 1;
        self.schemas
            .entry(topic.to_string())
            .or_default()
            .insert(id, entry.clone());
        entry.map_err(ConvertError::Data)
    }

    /// Runs a registry call to completion on the converter's own runtime. Tasks call
    /// converters on plain threads; from inside an async runtime (tests, tools) the call moves
    /// to a scoped thread, since a runtime cannot block inside another.
    fn block<T: Send>(&mut self, fut: impl Future<Output = T> + Send) -> Result<T, ConvertError> {
        if self.rt.is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| {
                    config_error(format!("cannot start the Schema Registry client: {e}"))
                })?;
            self.rt = Some(rt);
        }
        let Some(rt) = self.rt.as_ref() else {
            return Err(config_error("Schema Registry client runtime missing"));
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(rt.block_on(fut));
        }
        std::thread::scope(|s| s.spawn(|| rt.block_on(fut)).join())
            .map_err(|_| config_error("the Schema Registry call panicked"))
    }
}

impl Drop for AvroConverter {
    fn drop(&mut self) {
        // Never blocks, so dropping a converter inside async code is fine too.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Fetches schema `id` and everything it needs: its references, and its version under the
/// topic's subject.
async fn fetch(
    client: &RegistryClient,
    topic: &str,
    id: i32,
    strategy: SubjectNameStrategy,
    is_key: bool,
) -> Result<(AvroSchema, Option<i32>), FetchError> {
    let registered = client.schema_by_id(id).await?;
    if !registered.schema_type().eq_ignore_ascii_case("AVRO") {
        return Err(FetchError::Schema(format!(
            "schema id {id} is a {} schema, not Avro; use the matching converter",
            registered.schema_type()
        )));
    }
    let mut names = Names::new();
    let mut seen = HashSet::new();
    resolve_references(client, &registered.references, &mut names, &mut seen, 0).await?;
    let avro = AvroSchema::parse_str_with(&registered.schema, &mut names)
        .map_err(|e| FetchError::Schema(e.to_string()))?;
    let version = match strategy.subject(topic, is_key, &avro) {
        None => None,
        Some(subject) => match client.lookup_version(&subject, &registered).await {
            Ok(v) => v,
            Err(e) if e.is_retriable() || matches!(e, RegistryError::Unauthorized { .. }) => {
                return Err(e.into())
            }
            // Java fails here; the version only fills the Connect schema's version, so
            // Sluice goes on without it.
            Err(e) => {
                tracing::warn!(
                    "schema id {id}: no version under subject {subject} ({e}); the Connect schema gets no version"
                );
                None
            }
        },
    };
    Ok((avro, version))
}

/// Parses referenced schemas depth-first, so each named type is defined before its users.
fn resolve_references<'a>(
    client: &'a RegistryClient,
    refs: &'a [SchemaReference],
    names: &'a mut Names,
    seen: &'a mut HashSet<(String, i32)>,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<(), FetchError>> + Send + 'a>> {
    Box::pin(async move {
        for r in refs {
            if !seen.insert((r.subject.clone(), r.version)) {
                continue;
            }
            if depth >= MAX_REFERENCE_DEPTH {
                return Err(FetchError::Schema(format!(
                    "schema references nest deeper than {MAX_REFERENCE_DEPTH}"
                )));
            }
            let s: RegisteredSchema = client
                .subject_version(&r.subject, &r.version.to_string())
                .await?;
            resolve_references(client, &s.references, names, seen, depth + 1).await?;
            AvroSchema::parse_str_with(&s.schema, names).map_err(|e| {
                FetchError::Schema(format!(
                    "referenced schema {} (subject {} version {}): {e}",
                    r.name, r.subject, r.version
                ))
            })?;
        }
        Ok(())
    })
}

impl Converter for AvroConverter {
    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Data>, ConvertError> {
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let (id, avro) = wire::split(bytes).map_err(|e| {
            ConvertError::Data(format!(
                "Failed to deserialize data for topic {topic} to Avro: {e}"
            ))
        })?;
        let mapped = self.schema(topic, id)?;
        let value = mapped.decode(avro).map_err(|e| {
            ConvertError::Data(format!(
                "Failed to deserialize data for topic {topic} to Avro (schema id {id}): {e}"
            ))
        })?;
        if value.is_null() {
            return Ok(None);
        }
        Ok(Some(Data::Value {
            schema: Some(mapped.schema.clone()),
            value,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn config() {
        let e = AvroConverterConfig::from_props(&props(&[]), ConverterKind::Value).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Missing required configuration \"schema.registry.url\" which has no default value."
        );
        let c = AvroConverterConfig::from_props(
            &props(&[
                ("schema.registry.url", "http://a:8081, http://b:8081"),
                ("basic.auth.credentials.source", "USER_INFO"),
                ("basic.auth.user.info", "u:p:w"),
                ("enhanced.avro.schema.support", "true"),
                (
                    "key.subject.name.strategy",
                    "io.confluent.kafka.serializers.subject.RecordNameStrategy",
                ),
            ]),
            ConverterKind::Key,
        )
        .unwrap();
        assert_eq!(c.registry.urls, ["http://a:8081", "http://b:8081"]);
        assert_eq!(
            c.registry.auth,
            super::super::registry::Auth::Basic {
                user: "u".into(),
                password: "p:w".into()
            }
        );
        assert!(c.data.enhanced_avro_schema_support);
        assert!(c.data.connect_meta_data);
        assert_eq!(c.subject_strategy, SubjectNameStrategy::RecordName);
        for bad in [
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.credentials.source", "SASL_INHERIT"),
            ("connect.meta.data", "maybe"),
            ("value.subject.name.strategy", "com.x.Custom"),
            ("schema.registry.ssl.truststore.location", "/x.jks"),
        ] {
            let p = props(&[("schema.registry.url", "http://a"), bad]);
            assert!(
                AvroConverterConfig::from_props(&p, ConverterKind::Value).is_err(),
                "{bad:?}"
            );
        }
        let p = props(&[("schema.registry.url", "http://a")]);
        assert!(AvroConverter::from_props(&p, ConverterKind::Header).is_err());
        assert!(AvroConverter::from_props(
            &props(&[("schema.registry.url", "nope")]),
            ConverterKind::Value
        )
        .is_err());
    }

    #[test]
    fn poison_records_need_no_registry() {
        let p = props(&[("schema.registry.url", "http://127.0.0.1:9")]);
        let mut c = AvroConverter::from_props(&p, ConverterKind::Value).unwrap();
        assert_eq!(c.to_connect("t", None).unwrap(), None);
        let e = c.to_connect("t", Some(br#"{"id":1}"#)).unwrap_err();
        assert!(matches!(e, ConvertError::Data(_)));
        assert!(
            e.to_string().starts_with(
                "Failed to deserialize data for topic t to Avro: Unknown magic byte 0x7b"
            ),
            "{e}"
        );
        let e = c.to_connect("t", Some(&[0, 0, 1])).unwrap_err();
        assert!(e.to_string().contains("too few"), "{e}");
    }

    #[test]
    fn subjects() {
        let rec = AvroSchema::parse_str(r#"{"type":"record","name":"a.R","fields":[]}"#).unwrap();
        let s = AvroSchema::parse_str(r#""string""#).unwrap();
        assert_eq!(
            SubjectNameStrategy::TopicName
                .subject("t", true, &s)
                .as_deref(),
            Some("t-key")
        );
        assert_eq!(
            SubjectNameStrategy::RecordName
                .subject("t", false, &rec)
                .as_deref(),
            Some("a.R")
        );
        assert_eq!(
            SubjectNameStrategy::TopicRecordName
                .subject("t", false, &rec)
                .as_deref(),
            Some("t-a.R")
        );
        assert_eq!(
            SubjectNameStrategy::RecordName.subject("t", false, &s),
            None
        );
    }
}
