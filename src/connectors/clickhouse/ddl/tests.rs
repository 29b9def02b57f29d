use std::collections::HashSet;

use super::*;
use crate::data::converter::{Converter, JsonConverter};
use crate::sample::{Generator, Options, Table};

fn caps(major: u32, minor: u32, token: bool) -> Capabilities {
    let mut settings = HashSet::new();
    if token {
        settings.insert("insert_deduplication_token".to_string());
    }
    Capabilities {
        version: (major, minor),
        settings,
    }
}

/// The envelope schema of a sample table, as the JsonConverter reads it.
fn envelope(table: Table) -> crate::data::SchemaRef {
    let mut conv = JsonConverter::new(true);
    let event = Generator::new(Options::default())
        .find(|e| e.table == table && e.value.is_some())
        .expect("an event");
    let data = conv
        .to_connect(&event.topic, event.value.as_deref().map(str::as_bytes))
        .expect("decodes")
        .expect("not a tombstone");
    data.to_value().expect("value").0.expect("schema")
}

#[test]
fn replacing_table_on_a_current_server() {
    let env = envelope(Table::Orders);
    let row = &env.field("after").expect("after").schema;
    let c = caps(24, 8, true);
    let spec = table_spec(
        TableMode::Replacing,
        row,
        &["id".to_string()],
        &[
            "_topic".into(),
            "_partition".into(),
            "_offset".into(),
            "_op".into(),
            "_source_ts_ms".into(),
        ],
        &c,
    )
    .expect("spec");
    let sql = create_table_sql("staging", "orders", &spec, None, &c);
    assert_eq!(
        sql,
        "CREATE TABLE IF NOT EXISTS `staging`.`orders`\n(\n    `id` Int64,\n    `user_id` Int64,\n    \
         `status` String,\n    `total` Nullable(Decimal(12, 2)),\n    \
         `created_at` DateTime64(6, 'UTC'),\n    `updated_at` Nullable(DateTime64(6, 'UTC')),\n    \
         `_version` UInt64,\n    `is_deleted` UInt8,\n    `_topic` String,\n    `_partition` Int32,\n    \
         `_offset` Int64,\n    `_op` String,\n    `_source_ts_ms` Int64\n)\n\
         ENGINE = ReplacingMergeTree(_version, is_deleted)\nORDER BY (`id`)\n\
         SETTINGS non_replicated_deduplication_window = 1000"
    );
}

#[test]
fn replacing_table_on_18_16_falls_back() {
    let env = envelope(Table::Products);
    let row = &env.field("after").expect("after").schema;
    let c = caps(18, 16, false);
    let spec = table_spec(TableMode::Replacing, row, &["id".into()], &[], &c).expect("spec");
    let sql = create_table_sql("default", "products", &spec, Some("main"), &c);
    // No is_deleted engine parameter (23.2+), no DateTime64 (20.1+): raw µs in Int64.
    assert!(
        sql.contains("ENGINE = ReplacingMergeTree(_version)\n"),
        "{sql}"
    );
    assert!(sql.contains("`created_at` Int64,"), "{sql}");
    assert!(sql.contains("`updated_at` Nullable(Int64),"), "{sql}");
    assert!(sql.contains("`price` Nullable(Decimal(10, 2)),"), "{sql}");
    assert!(sql.contains("`is_deleted` UInt8"), "{sql}");
    assert!(sql.contains(" ON CLUSTER `main`"), "{sql}");
    assert!(!sql.contains("SETTINGS"), "{sql}");
}

#[test]
fn staging_table_flattens_the_envelope() {
    let env = envelope(Table::Users);
    let c = caps(24, 8, true);
    let spec = table_spec(TableMode::Staging, &env, &[], &["_offset".into()], &c).expect("spec");
    let names: Vec<&str> = spec.columns.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "before.id",
        "after.email",
        "source.lsn",
        "source.ts_ms",
        "op",
        "ts_ms",
        "_offset",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert!(spec
        .columns
        .iter()
        .all(|(n, t)| n == "_offset" || t.is_nullable()));
    let sql = create_table_sql("db", "users_changes", &spec, None, &c);
    assert!(
        sql.contains("ENGINE = MergeTree\nORDER BY tuple()"),
        "{sql}"
    );
    assert!(
        sql.contains("`source.snapshot` LowCardinality(Nullable(String))"),
        "{sql}"
    );
}

#[test]
fn connect_types_map_by_server_version() {
    use crate::data::schema::{Kind, Schema};
    use std::sync::Arc;
    let new = caps(24, 8, true);
    let old = caps(18, 16, false);
    let s = |kind: Kind, name: Option<&str>| {
        let mut s = Schema::new(kind, false);
        if let Some(n) = name {
            s = s.named(n);
        }
        s
    };
    let cases: Vec<(Schema, &str, &str)> = vec![
        (s(Kind::Boolean, None), "Bool", "UInt8"),
        (
            s(Kind::Int32, Some("io.debezium.time.Date")),
            "Date32",
            "Date",
        ),
        (
            s(Kind::Int64, Some("io.debezium.time.Timestamp")),
            "DateTime64(3, 'UTC')",
            "Int64",
        ),
        (
            s(Kind::Int64, Some("io.debezium.time.NanoTimestamp")),
            "DateTime64(9, 'UTC')",
            "Int64",
        ),
        (
            s(Kind::String, Some("io.debezium.time.ZonedTimestamp")),
            "DateTime64(6, 'UTC')",
            "Int64",
        ),
        (
            s(Kind::Int64, Some("io.debezium.time.MicroTime")),
            "Int64",
            "Int64",
        ),
        (
            s(Kind::String, Some("io.debezium.data.Uuid")),
            "UUID",
            "UUID",
        ),
        (
            s(Kind::String, Some("io.debezium.data.Json")),
            "String",
            "String",
        ),
        (
            s(Kind::String, Some("io.debezium.data.Enum")),
            "LowCardinality(String)",
            "String",
        ),
        (
            s(Kind::Bytes, Some("org.apache.kafka.connect.data.Decimal")).param("scale", "3"),
            "Decimal(38, 3)",
            "Decimal(38, 3)",
        ),
        (
            s(Kind::Array(Arc::new(Schema::new(Kind::Int16, true))), None),
            "Array(Nullable(Int16))",
            "Array(Nullable(Int16))",
        ),
    ];
    for (schema, want_new, want_old) in cases {
        assert_eq!(
            column_type(&schema, &new).map(|t| t.to_string()).as_deref(),
            Ok(want_new)
        );
        assert_eq!(
            column_type(&schema, &old).map(|t| t.to_string()).as_deref(),
            Ok(want_old)
        );
    }
    let map = s(
        Kind::Map(
            Arc::new(Schema::new(Kind::String, false)),
            Arc::new(Schema::new(Kind::Int64, true)),
        ),
        None,
    );
    assert_eq!(
        column_type(&map, &new).map(|t| t.to_string()).as_deref(),
        Ok("Map(String, Nullable(Int64))")
    );
    assert!(column_type(&map, &old).is_err());
    // Optional arrays stay non-Nullable (ClickHouse has no Nullable(Array)).
    let opt_array = Schema::new(Kind::Array(Arc::new(Schema::new(Kind::Int8, false))), true);
    assert_eq!(
        nullable(&opt_array, &new).map(|t| t.to_string()).as_deref(),
        Ok("Array(Int8)")
    );
}

#[test]
fn evolve_adds_columns() {
    let cols = [("x".to_string(), ChType::Nullable(Box::new(ChType::Int(32))))];
    assert_eq!(
        add_columns_sql("db", "t", &cols, None, &caps(24, 8, true)),
        "ALTER TABLE `db`.`t` ADD COLUMN IF NOT EXISTS `x` Nullable(Int32)"
    );
    assert_eq!(
        add_columns_sql("db", "t", &cols, Some("c"), &caps(18, 16, false)),
        "ALTER TABLE `db`.`t` ON CLUSTER `c` ADD COLUMN `x` Nullable(Int32)"
    );
}
