#!/usr/bin/env python3
"""Consistency check of tests/data/debezium (run by generate.sh after generation; stdlib only).

Checks that every *.jsonl line is valid, every key/value text is valid JSON, every referenced JSON
schema id exists in json-schemas.json (and the rebuilt schemas.enable=true text is valid JSON),
every Avro payload carries the Confluent magic byte and a schema id present in avro-schemas.json,
and that the dropped/error indexes in transforms.json match the files.
"""
import base64
import json
import pathlib
import struct
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2] / "tests/data/debezium")
schemas = json.loads((root / "json-schemas.json").read_text(encoding="utf-8"))
avro = json.loads((root / "avro-schemas.json").read_text(encoding="utf-8"))
envelope = [json.loads(l) for l in (root / "envelope.jsonl").read_text(encoding="utf-8").splitlines()]
n = len(envelope)
used = set()


def check_kv(where, d, part):
    text, sid = d.get(part), d.get(part + "_schema")
    if text is None:
        assert sid is None, f"{where}: {part} is null but has schema {sid}"
        return
    json.loads(text)
    if sid is not None:
        assert sid in schemas, f"{where}: unknown schema id {sid}"
        used.add(sid)
        json.loads('{"schema":' + schemas[sid] + ',"payload":' + text + "}")


for path in sorted(root.rglob("*.jsonl")):
    rel = path.relative_to(root).as_posix()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        d = json.loads(line)
        where = f"{rel}:{lineno}"
        assert 0 <= d["index"] < n, where
        if rel == "envelope.avro.jsonl":
            for part in ("key", "value"):
                b64 = d[part + "_avro_b64"]
                if b64 is None:
                    assert d[part + "_schema_id"] is None, where
                    continue
                raw = base64.b64decode(b64)
                magic, sid = struct.unpack(">bI", raw[:5])
                assert magic == 0 and sid == d[part + "_schema_id"] and str(sid) in avro, where
            continue
        if d.get("dropped") or "error" in d:
            continue
        check_kv(where, d, "key")
        check_kv(where, d, "value")

for entry in json.loads((root / "transforms.json").read_text(encoding="utf-8")):
    lines = [json.loads(l) for l in (root / entry["file"]).read_text(encoding="utf-8").splitlines()]
    assert [d["index"] for d in lines if d.get("dropped")] == entry["dropped_indexes"], entry["file"]
    assert [d["index"] for d in lines if "error" in d] == entry["error_indexes"], entry["file"]
    assert sum(1 for d in lines if d.get("dropped") is False) == entry["outputs"], entry["file"]

unused = set(schemas) - used
assert not unused, f"unreferenced schemas: {sorted(unused)}"
total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
print(f"check_fixtures: OK ({n} records, {len(schemas)} JSON schemas, {len(avro)} Avro schemas, {total // 1024} KiB)")
