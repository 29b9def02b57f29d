//! ClickHouse sink throughput per core of Sluice: Debezium envelopes of the sample `orders`
//! table (JsonConverter bytes) → Connect values → Arrow batch → RowBinary, and, when
//! `CLICKHOUSE_URL` is set (`scripts/services.sh up clickhouse`), inserted into a
//! `ReplacingMergeTree` table through the sink's client.
//!
//! `cargo bench --bench clickhouse` (release). Prints, per batch size, rows/s and MB/s per core:
//! `to-arrow` (JSON envelopes → Arrow, MB/s of input JSON) and `rowbinary` (Arrow → RowBinary,
//! MB/s of RowBinary) from wall time on one thread, and `insert` (the whole path including the
//! HTTP insert, MB/s of input JSON) from Sluice's own CPU time (`/proc/self/stat`), since the
//! server runs on the same machine and its time is not Sluice's. `BENCH_QUICK=1` uses fewer
//! rows.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use bytes::Bytes;
use sluice::connectors::clickhouse::batch::{encode, Envelope, Mapping, RowMeta};
use sluice::connectors::clickhouse::client::ChClient;
use sluice::connectors::clickhouse::config::ClickHouseSinkConfig;
use sluice::connectors::clickhouse::schema::TableColumns;
use sluice::data::arrow::BatchBuilder;
use sluice::data::converter::{Converter, JsonConverter};
use sluice::sample::{Generator, Options, Table};

/// Sluice's CPU time (user + system) so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the ')'.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn orders(n: usize) -> Vec<Vec<u8>> {
    Generator::new(Options::default())
        .filter(|e| e.table == Table::Orders)
        .filter_map(|e| e.value)
        .take(n)
        .map(String::into_bytes)
        .collect()
}

fn table() -> TableColumns {
    let rows: Vec<Vec<String>> = [
        ("id", "Int64"),
        ("user_id", "Int64"),
        ("status", "String"),
        ("total", "Nullable(Decimal(12, 2))"),
        ("created_at", "Int64"),
        ("updated_at", "Nullable(Int64)"),
        ("_version", "UInt64"),
        ("is_deleted", "UInt8"),
        ("_topic", "String"),
        ("_partition", "Int32"),
        ("_offset", "Int64"),
        ("_op", "String"),
        ("_source_ts_ms", "Int64"),
    ]
    .iter()
    .map(|(n, t)| vec![n.to_string(), t.to_string(), String::new()])
    .collect();
    TableColumns::from_rows(&rows)
}

/// JSON bytes → one Arrow batch of envelopes, its row metadata and the Debezium mapping.
fn to_batch(inputs: &[Vec<u8>]) -> Option<(RecordBatch, Vec<RowMeta>, Mapping)> {
    let mut conv = JsonConverter::new(true);
    let mut builder: Option<BatchBuilder> = None;
    let mut meta: Vec<RowMeta> = Vec::with_capacity(inputs.len());
    let mut env = None;
    for (i, bytes) in inputs.iter().enumerate() {
        let Ok(Some(data)) = conv.to_connect("shop.public.orders", Some(bytes)) else {
            continue;
        };
        let Ok((Some(schema), value)) = data.to_value() else {
            continue;
        };
        let e = env.get_or_insert_with(|| Envelope::of(&schema).expect("envelope"));
        meta.push(e.meta(&value, i as i64));
        builder
            .get_or_insert_with(|| BatchBuilder::new(&schema).expect("builder"))
            .append(&value)
            .expect("append");
    }
    let (mut b, e) = (builder?, env?);
    let mapping = Mapping::Unwrap {
        before: e.before,
        after: e.after,
    };
    Some((b.finish(), meta, mapping))
}

/// One batch → its RowBinary body.
fn rowbinary(batch: &(RecordBatch, Vec<RowMeta>, Mapping), table: &TableColumns) -> Vec<u8> {
    encode(&batch.0, &batch.1, "shop.public.orders", 0, table, batch.2)
        .expect("encodes")
        .body
}

/// JSON bytes → one RowBinary body.
fn encode_all(inputs: &[Vec<u8>], table: &TableColumns) -> Vec<u8> {
    to_batch(inputs)
        .map(|b| rowbinary(&b, table))
        .unwrap_or_default()
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // `cargo bench` passes --bench; `cargo test` (CI) runs a small smoke run.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let quick = std::env::var("BENCH_QUICK").as_deref() == Ok("1");
    let total = match (benchmarking, quick) {
        (false, _) => 10_000,
        (true, true) => 50_000,
        (true, false) => 300_000,
    };
    let inputs = orders(total);
    let input_bytes: usize = inputs.iter().map(Vec::len).sum();
    let t = table();
    println!(
        "clickhouse sink bench: {} Debezium `orders` envelopes, {:.1} MB of JSON",
        inputs.len(),
        mb(input_bytes)
    );
    println!(
        "{:<10} {:>8} {:>14} {:>10} {:>14}",
        "stage", "batch", "rows/s/core", "MB/s/core", "RowBinary B/row"
    );
    for batch in [1_000usize, 10_000, 100_000] {
        // Stage 1: JSON envelopes → Arrow (the data plane).
        let started = Instant::now();
        let batches: Vec<_> = inputs.chunks(batch).filter_map(to_batch).collect();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<10} {:>8} {:>14.0} {:>10.1} {:>14}",
            "to-arrow",
            batch,
            inputs.len() as f64 / secs,
            mb(input_bytes) / secs,
            ""
        );
        // Stage 2: Arrow → RowBinary (this sink's encoder); MB/s of RowBinary written.
        let started = Instant::now();
        let mut out = 0usize;
        for b in &batches {
            out += rowbinary(b, &t).len();
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<10} {:>8} {:>14.0} {:>10.1} {:>14.1}",
            "rowbinary",
            batch,
            inputs.len() as f64 / secs,
            mb(out) / secs,
            out as f64 / inputs.len() as f64
        );
    }

    let Ok(url) = std::env::var("CLICKHOUSE_URL") else {
        println!(
            "insert stage skipped: CLICKHOUSE_URL not set (scripts/services.sh up clickhouse)"
        );
        return;
    };
    let rest = url.trim_start_matches("http://");
    let (host, port) = rest.split_once(':').unwrap_or((rest, "8123"));
    let props = [
        ("hostname", host),
        ("port", port.trim_end_matches('/')),
        ("timeoutSeconds", "120"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = ClickHouseSinkConfig::parse(&props).expect("config");
    let client = ChClient::new(&config);
    let table_name = format!("sluice_bench_{}", std::process::id());
    client
        .execute(&format!(
            "CREATE TABLE {table_name} (id Int64, user_id Int64, status String, total Nullable(Decimal(12, 2)), \
             created_at Int64, updated_at Nullable(Int64), _version UInt64, is_deleted UInt8, _topic String, \
             _partition Int32, _offset Int64, _op String, _source_ts_ms Int64) \
             ENGINE = ReplacingMergeTree(_version) ORDER BY id"
        ))
        .await
        .expect("create bench table");
    let columns: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
    for batch in [1_000usize, 10_000, 100_000] {
        let cpu = cpu_time();
        let wall = Instant::now();
        for chunk in inputs.chunks(batch) {
            let body = encode_all(chunk, &t);
            client
                .insert_rowbinary(
                    &table_name,
                    &columns,
                    Bytes::from(body),
                    &[("wait_end_of_query".into(), "1".into())],
                )
                .await
                .expect("insert");
        }
        let cpu = (cpu_time() - cpu).as_secs_f64().max(1e-3);
        let wall = wall.elapsed().as_secs_f64();
        println!(
            "{:<10} {:>8} {:>14.0} {:>10.1} {:>14}",
            "insert",
            batch,
            inputs.len() as f64 / cpu,
            mb(input_bytes) / cpu,
            format!("wall {:.0} rows/s", inputs.len() as f64 / wall)
        );
    }
    let _ = client.execute(&format!("DROP TABLE {table_name}")).await;
}
