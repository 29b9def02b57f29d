use super::*;
use crate::data::arrow::BatchBuilder;
use crate::data::converter::{Converter, JsonConverter};
use crate::sample::{Generator, Options, Table};

fn table(cols: &[(&str, &str)]) -> TableColumns {
    let rows: Vec<Vec<String>> = cols
        .iter()
        .map(|(n, t)| vec![n.to_string(), t.to_string(), String::new()])
        .collect();
    TableColumns::from_rows(&rows)
}

/// Sample `users` envelopes (with at least one update and one delete) as one batch.
fn users() -> (crate::data::SchemaRef, RecordBatch, Vec<RowMeta>, Envelope) {
    let mut conv = JsonConverter::new(true);
    let mut builder = None;
    let mut schema = None;
    let mut meta = Vec::new();
    let mut ops = std::collections::HashSet::new();
    for (offset, e) in Generator::new(Options::default())
        .filter(|e| e.table == Table::Users && e.value.is_some())
        .take(400)
        .enumerate()
    {
        let data = conv
            .to_connect(&e.topic, e.value.as_deref().map(str::as_bytes))
            .expect("decodes")
            .expect("value");
        let (s, v) = data.to_value().expect("value");
        let s = s.expect("schema");
        let env = Envelope::of(&s).expect("envelope");
        let b = builder.get_or_insert_with(|| BatchBuilder::new(&s).expect("builder"));
        b.append(&v).expect("append");
        let m = env.meta(&v, offset as i64);
        ops.insert(m.op);
        meta.push(m);
        schema = Some(s);
    }
    assert!(
        ops.contains(&Some('d')) && ops.contains(&Some('u')),
        "{ops:?}"
    );
    let schema = schema.expect("schema");
    let env = Envelope::of(&schema).expect("envelope");
    (schema, builder.expect("rows").finish(), meta, env)
}

#[test]
fn envelope_metadata_uses_the_lsn() {
    let (_, _, meta, _) = users();
    assert!(
        meta.windows(2).all(|w| w[0].version < w[1].version),
        "LSNs increase"
    );
    assert!(meta
        .iter()
        .all(|m| m.version > 24_000_000 && m.source_ts_ms.is_some()));
    assert!(meta.iter().filter(|m| m.deleted).all(|m| m.op == Some('d')));
}

#[test]
fn unwrap_writes_after_and_before_of_deletes() {
    let (_, batch, meta, env) = users();
    let t = table(&[
        ("id", "Int64"),
        ("email", "String"),
        ("country", "Nullable(String)"),
        ("created_at", "Int64"),
        ("_version", "UInt64"),
        ("is_deleted", "UInt8"),
        ("_topic", "String"),
        ("_partition", "Int32"),
        ("_offset", "Int64"),
        ("_op", "String"),
        ("_source_ts_ms", "Int64"),
        ("not_in_record", "Nullable(String)"),
    ]);
    let mapping = Mapping::Unwrap {
        before: env.before,
        after: env.after,
    };
    let enc = encode(&batch, &meta, "shop.public.users", 2, &t, mapping).expect("encodes");
    assert_eq!(enc.row_starts.len(), batch.num_rows());
    assert!(!enc.columns.contains(&"not_in_record".to_string()));
    assert_eq!(enc.columns.len(), 11);
    // Decode the first column (id) and the delete flag of each row by hand.
    let d = meta.iter().position(|m| m.deleted).expect("a delete");
    let row = |i: usize| {
        let end = enc.row_starts.get(i + 1).copied().unwrap_or(enc.body.len());
        &enc.body[enc.row_starts[i]..end]
    };
    let r = row(d);
    let id = i64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
    assert!(id > 0);
    let email_len = r[8] as usize;
    assert_eq!(
        &r[9..9 + email_len],
        format!("user{id}@example.com").as_bytes()
    );
    // The tail: _partition, _offset, _op, _source_ts_ms.
    let tail = &r[r.len() - (4 + 8 + 2 + 8)..];
    assert_eq!(i32::from_le_bytes(tail[..4].try_into().expect("4")), 2);
    assert_eq!(
        i64::from_le_bytes(tail[4..12].try_into().expect("8")),
        meta[d].offset
    );
    assert_eq!(&tail[12..14], &[1, b'd']);
}

#[test]
fn staging_reads_dotted_paths_and_missing_required_columns_fail() {
    let (_, batch, meta, _) = users();
    let t = table(&[
        ("after.id", "Nullable(Int64)"),
        ("before.id", "Nullable(Int64)"),
        ("op", "String"),
        ("source.lsn", "Nullable(Int64)"),
    ]);
    let enc = encode(&batch, &meta, "t", 0, &t, Mapping::Plain).expect("encodes");
    let c = meta
        .iter()
        .position(|m| m.op == Some('c'))
        .expect("a create");
    let start = enc.row_starts[c];
    // after.id present, before.id null for a create.
    assert_eq!(enc.body[start], 0);
    assert_eq!(enc.body[start + 9], 1);
    let t = table(&[("id", "Int64")]);
    match encode(&batch, &meta, "t", 0, &t, Mapping::Plain) {
        Err(ChunkError::Batch(m)) => {
            assert!(m.contains("column id (Int64) is not Nullable"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bad_row_keeps_the_rows_before_it() {
    let (_, batch, meta, env) = users();
    // Int8 cannot hold the larger ids: the first such row fails, the ones before are kept.
    let t = table(&[("id", "Int8")]);
    let mapping = Mapping::Unwrap {
        before: env.before,
        after: env.after,
    };
    match encode(&batch, &meta, "t", 0, &t, mapping) {
        Err(ChunkError::Row {
            row,
            message,
            partial,
        }) => {
            assert!(
                row > 0 && message.contains("column id: 128 is out of range for Int8"),
                "{message}"
            );
            assert_eq!(partial.row_starts.len(), row);
            assert_eq!(partial.body.len(), row);
        }
        other => panic!("{other:?}"),
    }
}
