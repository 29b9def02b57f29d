#!/usr/bin/env python3
"""Writes the Avro fixtures used by tests/avro.rs with an independent encoder (fastavro).

    python3 -m venv /tmp/fa && /tmp/fa/bin/pip install fastavro==1.13.1
    /tmp/fa/bin/python tests/data/avro/gen_fixtures.py

For each NAME it writes NAME.avsc (the writer schema, as a producer registers it) and
NAME-<n>.bin (one Avro binary value each, without the Confluent framing: the tests frame them
with the id their registry assigns). The values are spelled out again in tests/avro.rs, which
checks the decoded Connect values field by field.
"""

import datetime
import decimal
import io
import json
import os
import uuid

import fastavro

HERE = os.path.dirname(os.path.abspath(__file__))


def enum(allowed, default=None):
    s = {
        "type": "string",
        "connect.version": 1,
        "connect.parameters": {"allowed": allowed},
        "connect.name": "io.debezium.data.Enum",
    }
    if default is not None:
        s["connect.default"] = default
    return s


# The Avro schemas Debezium's PostgreSQL connector produces through Confluent's AvroConverter
# for a table `orders` in `public` (topic prefix `pg`).
ORDERS_VALUE = {
    "type": "record",
    "name": "Value",
    "namespace": "pg.public.orders",
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "customer_id", "type": "long"},
        {
            "name": "total",
            "type": [
                "null",
                {
                    "type": "bytes",
                    "scale": 2,
                    "precision": 10,
                    "connect.version": 1,
                    "connect.parameters": {"scale": "2", "connect.decimal.precision": "10"},
                    "connect.name": "org.apache.kafka.connect.data.Decimal",
                    "logicalType": "decimal",
                },
            ],
            "default": None,
        },
        {
            "name": "created_at",
            "type": {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.MicroTimestamp"},
        },
        {
            "name": "ship_date",
            "type": ["null", {"type": "int", "connect.version": 1, "connect.name": "io.debezium.time.Date"}],
            "default": None,
        },
        {
            "name": "updated_at",
            "type": ["null", {"type": "string", "connect.version": 1, "connect.name": "io.debezium.time.ZonedTimestamp"}],
            "default": None,
        },
        {"name": "uid", "type": {"type": "string", "connect.version": 1, "connect.name": "io.debezium.data.Uuid"}},
        {
            "name": "attrs",
            "type": ["null", {"type": "string", "connect.version": 1, "connect.name": "io.debezium.data.Json"}],
            "default": None,
        },
        {"name": "status", "type": enum("new,paid,shipped")},
        {"name": "tags", "type": ["null", {"type": "array", "items": ["null", "string"]}], "default": None},
        {"name": "qty", "type": {"type": "int", "connect.type": "int16"}},
        {
            "name": "price_var",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "VariableScaleDecimal",
                    "namespace": "io.debezium.data",
                    "fields": [{"name": "scale", "type": "int"}, {"name": "value", "type": "bytes"}],
                    "connect.doc": "Variable scaled decimal",
                    "connect.version": 1,
                    "connect.name": "io.debezium.data.VariableScaleDecimal",
                },
            ],
            "default": None,
        },
    ],
    "connect.name": "pg.public.orders.Value",
}

SOURCE = {
    "type": "record",
    "name": "Source",
    "namespace": "io.debezium.connector.postgresql",
    "fields": [
        {"name": "version", "type": "string"},
        {"name": "connector", "type": "string"},
        {"name": "name", "type": "string"},
        {"name": "ts_ms", "type": "long"},
        {"name": "snapshot", "type": [enum("true,last,false,incremental", "false"), "null"], "default": "false"},
        {"name": "db", "type": "string"},
        {"name": "sequence", "type": ["null", "string"], "default": None},
        {"name": "schema", "type": "string"},
        {"name": "table", "type": "string"},
        {"name": "txId", "type": ["null", "long"], "default": None},
        {"name": "lsn", "type": ["null", "long"], "default": None},
        {"name": "xmin", "type": ["null", "long"], "default": None},
    ],
    "connect.name": "io.debezium.connector.postgresql.Source",
}

ORDERS_ENVELOPE = {
    "type": "record",
    "name": "Envelope",
    "namespace": "pg.public.orders",
    "fields": [
        {"name": "before", "type": ["null", ORDERS_VALUE], "default": None},
        {"name": "after", "type": ["null", "Value"], "default": None},
        {"name": "source", "type": SOURCE},
        {
            "name": "transaction",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "block",
                    "namespace": "event",
                    "fields": [
                        {"name": "id", "type": "string"},
                        {"name": "total_order", "type": "long"},
                        {"name": "data_collection_order", "type": "long"},
                    ],
                    "connect.version": 1,
                    "connect.name": "event.block",
                },
            ],
            "default": None,
        },
        {"name": "op", "type": "string"},
        {"name": "ts_ms", "type": ["null", "long"], "default": None},
        {"name": "ts_us", "type": ["null", "long"], "default": None},
    ],
    "connect.version": 1,
    "connect.name": "pg.public.orders.Envelope",
}

ORDERS_KEY = {
    "type": "record",
    "name": "Key",
    "namespace": "pg.public.orders",
    "fields": [{"name": "id", "type": "int"}],
    "connect.name": "pg.public.orders.Key",
}


def source(ts_ms, snapshot, lsn):
    return {
        "version": "2.7.3.Final",
        "connector": "postgresql",
        "name": "pg",
        "ts_ms": ts_ms,
        "snapshot": snapshot,
        "db": "inventory",
        "sequence": '["24023928","24023928"]',
        "schema": "public",
        "table": "orders",
        "txId": 767,
        "lsn": lsn,
        "xmin": None,
    }


ROW_1 = {
    "id": 1,
    "customer_id": 42,
    "total": decimal.Decimal("123.45"),
    "created_at": 1700000000123456,
    "ship_date": 19700,
    "updated_at": "2023-11-14T22:13:20.123456Z",
    "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "attrs": '{"gift": true}',
    "status": "paid",
    "tags": ["a", None, "b"],
    "qty": 3,
    "price_var": {"scale": 3, "value": (123456).to_bytes(3, "big", signed=True)},
}

ROW_1_UPDATED = dict(
    ROW_1,
    total=decimal.Decimal("-0.05"),
    ship_date=None,
    updated_at=None,
    attrs=None,
    status="shipped",
    tags=[],
    price_var=None,
)

ORDERS = [
    # insert (snapshot "false")
    {
        "before": None,
        "after": ROW_1,
        "source": source(1700000000000, "false", 24023928),
        "transaction": None,
        "op": "c",
        "ts_ms": 1700000000456,
        "ts_us": 1700000000456789,
    },
    # update; snapshot written as null (decodes to the schema default "false"), in a transaction
    {
        "before": ROW_1,
        "after": ROW_1_UPDATED,
        "source": source(1700000001000, None, 24024000),
        "transaction": {"id": "767:24024000", "total_order": 2, "data_collection_order": 1},
        "op": "u",
        "ts_ms": 1700000001456,
        "ts_us": None,
    },
    # delete
    {
        "before": ROW_1_UPDATED,
        "after": None,
        "source": source(1700000002000, "false", 24025000),
        "transaction": None,
        "op": "d",
        "ts_ms": 1700000002456,
        "ts_us": None,
    },
]

EVERYTHING = {
    "type": "record",
    "name": "Everything",
    "namespace": "com.example",
    "doc": "all Avro types",
    "fields": [
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "s", "type": "string", "doc": "a string"},
        {"name": "by", "type": "bytes"},
        {"name": "fx", "type": {"type": "fixed", "name": "Md5", "size": 4}},
        {"name": "e", "type": {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "CLUBS"]}},
        {"name": "arr", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": "string"}},
        {"name": "u", "type": ["null", "string", "long", "Md5"]},
        {
            "name": "dec_fixed",
            "type": {"type": "fixed", "name": "Dec", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4},
        },
        {"name": "date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tmillis", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tmicros", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "tsmillis", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tsmicros", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "uuid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "nested", "type": {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}},
        {"name": "opt_nested", "type": ["null", "Inner"], "default": None},
        {"name": "small", "type": {"type": "int", "connect.type": "int8"}, "default": 7},
    ],
}

UTC = datetime.timezone.utc
EVERYTHING_VALUES = [
    {
        "b": True,
        "i": -2147483648,
        "l": 9007199254740993,
        "f": 1.5,
        "d": -0.1,
        "s": "héllo ✓",
        "by": b"\x00\xff\x10",
        "fx": b"\x01\x02\x03\x04",
        "e": "CLUBS",
        "arr": list(range(-2, 300)),
        "m": {"k1": "v1", "k2": ""},
        "u": 77,
        "dec_fixed": decimal.Decimal("-12345.6789"),
        "date": datetime.date(2024, 2, 29),
        "tmillis": datetime.time(13, 14, 15, 678000),
        "tmicros": datetime.time(23, 59, 59, 999999),
        "tsmillis": datetime.datetime(2024, 2, 29, 12, 0, 0, 123000, tzinfo=UTC),
        "tsmicros": datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "uuid": uuid.UUID("123e4567-e89b-12d3-a456-426614174000"),
        "nested": {"x": 5},
        "opt_nested": {"x": 6},
        "small": -3,
    },
    {
        "b": False,
        "i": 0,
        "l": -1,
        "f": -0.0,
        "d": 1e300,
        "s": "",
        "by": b"",
        "fx": b"\xff\xff\xff\xff",
        "e": "SPADES",
        "arr": [],
        "m": {},
        "u": ("com.example.Md5", b"\x09\x08\x07\x06"),
        "dec_fixed": decimal.Decimal("0.0001"),
        "date": datetime.date(1970, 1, 1),
        "tmillis": datetime.time(0, 0),
        "tmicros": datetime.time(0, 0, 0, 1),
        "tsmillis": datetime.datetime(1970, 1, 1, tzinfo=UTC),
        "tsmicros": datetime.datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
        "uuid": uuid.UUID("00000000-0000-0000-0000-000000000000"),
        "nested": {"x": -1},
        "opt_nested": None,
        "small": 127,
    },
]


def write(name, schema, values):
    parsed = fastavro.parse_schema(schema)
    with open(os.path.join(HERE, f"{name}.avsc"), "w") as f:
        json.dump(schema, f, indent=1, ensure_ascii=False)
        f.write("\n")
    for n, v in enumerate(values):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, v)
        with open(os.path.join(HERE, f"{name}-{n}.bin"), "wb") as f:
            f.write(buf.getvalue())


if __name__ == "__main__":
    write("orders-envelope", ORDERS_ENVELOPE, ORDERS)
    write("orders-key", ORDERS_KEY, [{"id": 1}])
    write("everything", EVERYTHING, EVERYTHING_VALUES)
    print("fastavro", fastavro.__version__, "wrote fixtures to", HERE)
