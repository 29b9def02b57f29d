//! Debezium-shaped sample change events for a small shop schema (`users`, `products`,
//! `orders`, `order_lines`), as Debezium's PostgreSQL connector with Kafka's `JsonConverter`
//! writes them: the try-it demo, the benchmarks and the tests share this one generator.
//!
//! Events are deterministic for a seed. Rows carry the PostgreSQL types a CDC lake cares about
//! (`NUMERIC(p,2)` as Connect `Decimal`, `timestamp` as `MicroTimestamp`, `timestamptz` as
//! `ZonedTimestamp`); updates and deletes carry the previous row in `before` (REPLICA IDENTITY
//! FULL), and a delete may be followed by its tombstone.

use base64::Engine;
use serde_json::{json, Value};

/// One of the four tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `users`.
    Users,
    /// `products`.
    Products,
    /// `orders`.
    Orders,
    /// `order_lines`.
    OrderLines,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 4] = [
        Table::Users,
        Table::Products,
        Table::Orders,
        Table::OrderLines,
    ];

    /// The PostgreSQL table name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Products => "products",
            Table::Orders => "orders",
            Table::OrderLines => "order_lines",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How events are generated.
#[derive(Debug, Clone)]
pub struct Options {
    /// Debezium `topic.prefix`: topics are `<prefix>.public.<table>`.
    pub topic_prefix: String,
    /// `JsonConverter` `schemas.enable`: envelopes with `schema` + `payload`, or payload only.
    pub with_schemas: bool,
    /// `source.ts_ms` of the first event (epoch ms).
    pub start_ms: i64,
    /// Milliseconds between consecutive events' `source.ts_ms`.
    pub step_ms: i64,
    /// Emit a tombstone (null value) after each delete, as `tombstones.on.delete=true` does.
    pub tombstones: bool,
    /// Seed of the pseudo-random choices.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            topic_prefix: "shop".into(),
            with_schemas: true,
            start_ms: 1_750_000_000_000,
            step_ms: 1,
            tombstones: true,
            seed: 1,
        }
    }
}

/// One Kafka record: topic, key and value as `JsonConverter` bytes (`None` = tombstone).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The table the event belongs to.
    pub table: Table,
    /// Kafka topic.
    pub topic: String,
    /// Debezium `op` (`c`, `u`, `d`), `None` for tombstones.
    pub op: Option<char>,
    /// Primary key of the row.
    pub id: i64,
    /// Key JSON.
    pub key: String,
    /// Value JSON, `None` for a tombstone.
    pub value: Option<String>,
}

/// Rows live in one table: `(id, version)`, where the version picks the row's content.
#[derive(Debug, Default)]
struct TableState {
    next_id: i64,
    live: Vec<(i64, u32)>,
}

/// Live rows kept per table for updates and deletes (older ones just stop changing).
const MAX_LIVE: usize = 10_000;

/// The event stream (endless; take what you need).
#[derive(Debug)]
pub struct Generator {
    options: Options,
    rng: u64,
    seq: i64,
    lsn: i64,
    tables: [TableState; 4],
    value_schemas: [String; 4],
    key_schemas: [String; 4],
    pending_tombstone: Option<Event>,
}

impl Generator {
    /// A generator with these options.
    pub fn new(options: Options) -> Self {
        let prefix = options.topic_prefix.clone();
        let value_schemas = Table::ALL.map(|t| envelope_schema(&prefix, t).to_string());
        let key_schemas = Table::ALL.map(|t| key_schema(&prefix, t).to_string());
        Self {
            rng: options.seed.max(1),
            options,
            seq: 0,
            lsn: 24_023_128,
            tables: Default::default(),
            value_schemas,
            key_schemas,
            pending_tombstone: None,
        }
    }

    /// The topic of a table.
    pub fn topic(&self, table: Table) -> String {
        format!("{}.public.{}", self.options.topic_prefix, table.name())
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: cheap, deterministic, good enough for picking tables and rows.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick_table(&mut self) -> Table {
        match self.random() % 100 {
            0..=14 => Table::Users,
            15..=24 => Table::Products,
            25..=54 => Table::Orders,
            _ => Table::OrderLines,
        }
    }

    fn wrap(&self, table: Table, schemas: &[String; 4], payload: Value) -> String {
        if self.options.with_schemas {
            format!(
                r#"{{"schema":{},"payload":{}}}"#,
                schemas[table.index()],
                payload
            )
        } else {
            payload.to_string()
        }
    }

    fn make(&mut self) -> Event {
        let table = self.pick_table();
        let roll = self.random() % 100;
        let live = self.tables[table.index()].live.len();
        let (op, id, before, after) = if live == 0 || roll < 87 {
            let state = &mut self.tables[table.index()];
            state.next_id += 1;
            let id = state.next_id;
            if state.live.len() < MAX_LIVE {
                state.live.push((id, 0));
            }
            ('c', id, None, Some((id, 0)))
        } else {
            let i = (self.random() % live as u64) as usize;
            let state = &mut self.tables[table.index()];
            let (id, version) = state.live[i];
            if roll < 97 {
                state.live[i].1 = version + 1;
                ('u', id, Some((id, version)), Some((id, version + 1)))
            } else {
                state.live.swap_remove(i);
                ('d', id, Some((id, version)), None)
            }
        };
        self.seq += 1;
        self.lsn += 64 + (self.random() % 512) as i64;
        let ts_ms = self.options.start_ms + (self.seq - 1) * self.options.step_ms;
        let payload = json!({
            "before": before.map(|(id, v)| row(table, id, v, ts_ms)),
            "after": after.map(|(id, v)| row(table, id, v, ts_ms)),
            "source": {
                "version": "3.6.3.Final",
                "connector": "postgresql",
                "name": self.options.topic_prefix,
                "ts_ms": ts_ms,
                "snapshot": "false",
                "db": "shop",
                "sequence": format!("[\"{}\",\"{}\"]", self.lsn - 64, self.lsn),
                "ts_us": ts_ms * 1000,
                "ts_ns": ts_ms * 1_000_000,
                "schema": "public",
                "table": table.name(),
                "txId": 700 + self.seq,
                "lsn": self.lsn,
                "xmin": null
            },
            "transaction": null,
            "op": op.to_string(),
            "ts_ms": ts_ms + 3,
            "ts_us": (ts_ms + 3) * 1000,
            "ts_ns": (ts_ms + 3) * 1_000_000
        });
        let key = self.wrap(table, &self.key_schemas, json!({ "id": id }));
        let value = self.wrap(table, &self.value_schemas, payload);
        let topic = self.topic(table);
        if op == 'd' && self.options.tombstones {
            self.pending_tombstone = Some(Event {
                table,
                topic: topic.clone(),
                op: None,
                id,
                key: key.clone(),
                value: None,
            });
        }
        Event {
            table,
            topic,
            op: Some(op),
            id,
            key,
            value: Some(value),
        }
    }
}

impl Iterator for Generator {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if let Some(t) = self.pending_tombstone.take() {
            return Some(t);
        }
        Some(self.make())
    }
}

/// Connect `Decimal` bytes in JSON: the unscaled value, big-endian two's complement, minimal
/// length, base64 (what `JsonConverter` with `decimal.format=BASE64` writes).
pub fn decimal_base64(unscaled: i64) -> String {
    let bytes = unscaled.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    base64::engine::general_purpose::STANDARD.encode(&bytes[start..])
}

/// ISO-8601 UTC text with microseconds, as Debezium's `ZonedTimestamp` writes it.
fn zoned(micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => "1970-01-01T00:00:00.000000Z".into(),
    }
}

const STATUSES: [&str; 4] = ["pending", "paid", "shipped", "delivered"];
const CATEGORIES: [&str; 5] = ["books", "garden", "kitchen", "toys", "tools"];
const COUNTRIES: [&str; 5] = ["FR", "DE", "US", "JP", "BR"];

/// Row `id` at `version` (version 0 = as inserted); `ts_ms` is the change's commit time.
fn row(table: Table, id: i64, version: u32, ts_ms: i64) -> Value {
    let created_us = (1_700_000_000_000 + id * 1_000) * 1000 + id % 1000;
    let updated = zoned(ts_ms * 1000 + (id % 1000));
    let v = i64::from(version);
    match table {
        Table::Users => json!({
            "id": id,
            "email": format!("user{id}@example.com"),
            "full_name": format!("User {id} v{version}"),
            "country": COUNTRIES[(id % 5) as usize],
            "created_at": created_us,
            "updated_at": updated,
        }),
        Table::Products => json!({
            "id": id,
            "sku": format!("SKU-{id:06}"),
            "name": format!("Product {id}"),
            "category": CATEGORIES[(id % 5) as usize],
            "price": decimal_base64(199 + (id * 37 + v * 10) % 100_000),
            "created_at": created_us,
            "updated_at": updated,
        }),
        Table::Orders => json!({
            "id": id,
            "user_id": 1 + id % 997,
            "status": STATUSES[(version as usize).min(3)],
            "total": decimal_base64(1_000 + (id * 7_919) % 9_000_000 + v),
            "created_at": created_us,
            "updated_at": updated,
        }),
        Table::OrderLines => json!({
            "id": id,
            "order_id": 1 + id / 3,
            "product_id": 1 + id % 499,
            "quantity": 1 + (id % 9) as i32 + version as i32,
            "unit_price": decimal_base64(199 + (id * 53) % 50_000),
            "created_at": created_us,
        }),
    }
}

fn field(name: &str, ty: &str, optional: bool) -> Value {
    json!({"type": ty, "optional": optional, "field": name})
}

fn named(name: &str, ty: &str, optional: bool, semantic: &str) -> Value {
    json!({"type": ty, "optional": optional, "name": semantic, "version": 1, "field": name})
}

fn decimal(name: &str, precision: u8) -> Value {
    json!({"type": "bytes", "optional": true, "name": "org.apache.kafka.connect.data.Decimal",
           "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": precision.to_string()},
           "field": name})
}

/// The row struct's fields of a table (Debezium's `<prefix>.public.<table>.Value`).
fn row_fields(table: Table) -> Vec<Value> {
    let created = named(
        "created_at",
        "int64",
        false,
        "io.debezium.time.MicroTimestamp",
    );
    let updated = named(
        "updated_at",
        "string",
        true,
        "io.debezium.time.ZonedTimestamp",
    );
    match table {
        Table::Users => vec![
            field("id", "int64", false),
            field("email", "string", false),
            field("full_name", "string", true),
            field("country", "string", true),
            created,
            updated,
        ],
        Table::Products => vec![
            field("id", "int64", false),
            field("sku", "string", false),
            field("name", "string", true),
            field("category", "string", true),
            decimal("price", 10),
            created,
            updated,
        ],
        Table::Orders => vec![
            field("id", "int64", false),
            field("user_id", "int64", false),
            field("status", "string", false),
            decimal("total", 12),
            created,
            updated,
        ],
        Table::OrderLines => vec![
            field("id", "int64", false),
            field("order_id", "int64", false),
            field("product_id", "int64", false),
            field("quantity", "int32", false),
            decimal("unit_price", 10),
            created,
        ],
    }
}

fn key_schema(prefix: &str, table: Table) -> Value {
    json!({"type": "struct", "optional": false, "name": format!("{prefix}.public.{}.Key", table.name()),
           "fields": [field("id", "int64", false)]})
}

fn envelope_schema(prefix: &str, table: Table) -> Value {
    let row_name = format!("{prefix}.public.{}.Value", table.name());
    let row = |name: &str| {
        json!({"type": "struct", "optional": true, "name": row_name, "field": name,
               "fields": row_fields(table)})
    };
    let source = json!({"type": "struct", "optional": false, "name": "io.debezium.connector.postgresql.Source",
        "field": "source", "fields": [
            field("version", "string", false), field("connector", "string", false),
            field("name", "string", false), field("ts_ms", "int64", false),
            {"type": "string", "optional": true, "name": "io.debezium.data.Enum", "version": 1,
             "parameters": {"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},
             "default": "false", "field": "snapshot"},
            field("db", "string", false), field("sequence", "string", true),
            field("ts_us", "int64", true), field("ts_ns", "int64", true),
            field("schema", "string", false), field("table", "string", false),
            field("txId", "int64", true), field("lsn", "int64", true), field("xmin", "int64", true)]});
    let transaction = json!({"type": "struct", "optional": true, "name": "event.block", "version": 1,
        "field": "transaction", "fields": [field("id", "string", false),
            field("total_order", "int64", false), field("data_collection_order", "int64", false)]});
    json!({"type": "struct", "optional": false,
           "name": format!("{prefix}.public.{}.Envelope", table.name()), "version": 2,
           "fields": [row("before"), row("after"), source, transaction,
                      field("op", "string", false), field("ts_ms", "int64", true),
                      field("ts_us", "int64", true), field("ts_ns", "int64", true)]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::converter::{Converter, JsonConverter};

    #[test]
    fn decimals_are_minimal_twos_complement() {
        assert_eq!(decimal_base64(159), "AJ8=");
        assert_eq!(decimal_base64(1), "AQ==");
        assert_eq!(decimal_base64(-1), "/w==");
        assert_eq!(decimal_base64(128), "AIA=");
        assert_eq!(decimal_base64(-129), "/38=");
    }

    #[test]
    fn events_are_deterministic_and_cover_every_op() {
        let a: Vec<Event> = Generator::new(Options::default()).take(3_000).collect();
        let b: Vec<Event> = Generator::new(Options::default()).take(3_000).collect();
        assert_eq!(a, b);
        for op in [Some('c'), Some('u'), Some('d'), None] {
            assert!(a.iter().any(|e| e.op == op), "{op:?}");
        }
        for t in Table::ALL {
            assert!(a
                .iter()
                .any(|e| e.table == t && e.topic == format!("shop.public.{}", t.name())));
        }
        // A tombstone follows its delete, with the same key.
        let d = a.iter().position(|e| e.op == Some('d')).expect("a delete");
        assert_eq!(a[d + 1].value, None);
        assert_eq!(a[d + 1].key, a[d].key);
    }

    #[test]
    fn values_decode_with_the_json_converter_and_keep_debezium_types() {
        use crate::data::value::Value as V;
        let mut conv = JsonConverter::new(true);
        let events: Vec<Event> = Generator::new(Options::default()).take(500).collect();
        let mut decimals = 0;
        for e in events.iter().filter(|e| e.value.is_some()) {
            let value = e.value.as_deref().unwrap_or_default();
            let data = conv
                .to_connect(&e.topic, Some(value.as_bytes()))
                .unwrap_or_else(|err| panic!("{}: {err}: {value}", e.topic))
                .expect("not a tombstone");
            let (schema, decoded) = data.to_value().expect("payload fits its schema");
            let schema = schema.expect("schema");
            let crate::data::Kind::Struct(fields) = &schema.kind else {
                panic!("envelope is a struct")
            };
            let V::Struct(values) = decoded else {
                panic!("struct value")
            };
            let after = fields
                .iter()
                .position(|f| f.name == "after")
                .expect("after");
            if let (V::Struct(row), crate::data::Kind::Struct(row_fields)) =
                (&values[after], &fields[after].schema.kind)
            {
                for (f, v) in row_fields.iter().zip(row) {
                    if f.name == "price" || f.name == "total" || f.name == "unit_price" {
                        assert!(matches!(v, V::Decimal(d) if d.scale == 2), "{v:?}");
                        decimals += 1;
                    }
                }
            }
        }
        assert!(decimals > 100, "{decimals}");
        let plain: Value = serde_json::from_str(
            Generator::new(Options {
                with_schemas: false,
                ..Options::default()
            })
            .next()
            .and_then(|e| e.value)
            .as_deref()
            .unwrap_or("null"),
        )
        .expect("schemaless JSON");
        assert!(
            plain.get("schema").is_none() && plain["op"] == "c",
            "{plain}"
        );
    }
}
