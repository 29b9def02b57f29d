#!/usr/bin/env python3
"""Read every Parquet file under a local directory or an S3 prefix with an independent reader
(pyarrow, duckdb or chdb) and print what it saw as ONE JSON object on stdout.

    python read_parquet.py --reader {pyarrow,duckdb,chdb} --path DIR|s3://BUCKET[/PREFIX]
                           [--s3-endpoint URL] [--glob '**/*.parquet'] [--hive] [--sql-columns]

Output:
    {"reader": "duckdb",
     "path": "<--path as given>",
     "files": ["year=2025/month=06/a.parquet", ...],   # keys relative to --path, sorted
     "rows": 6,
     "columns": [{"name": "ts", "type": "TIMESTAMP WITH TIME ZONE"}, ...],   # the reader's own type names
     "data": [{"ts": "2025-06-01 12:00:00.000007+00:00", "maybe": null, ...}, ...],
     "metadata": {"<file key>": {"<kv key>": "<kv value>"}}}  # pyarrow only; {} for the others

* Files are listed by the reader itself (pyarrow FileSelector, duckdb glob(), chdb's `One` format),
  recursively; any file or directory whose name starts with '.' or '_' is skipped (e.g. the sink's
  .sluice/ staging area, _SUCCESS), and the rest must match --glob (relative to --path; `**/`
  matches zero or more directories, `*` and `?` never match '/'). The kept files are then read as
  one explicit list, in key order; "data" is in (file key, row in file) order.
* Values are rendered with str() of what the reader hands to Python (null stays null); structs,
  maps and lists become JSON text. The text therefore differs between readers (see README.md).
* Hive partition columns (year=2025/...) are NOT added unless --hive is given.
* --sql-columns: schema only: files, rows and columns are reported, "data" is [] (nothing is
  decoded except what counting rows needs).
* S3: endpoint from --s3-endpoint or $S3_ENDPOINT; credentials from $AWS_ACCESS_KEY_ID,
  $AWS_SECRET_ACCESS_KEY, $AWS_REGION (defaults test / testtest / us-east-1, as scripts/services.sh);
  path-style addressing.
* Zero matching files: rows 0, files [], columns [], data []. A local --path that does not exist is an
  error; an S3 prefix without objects is not (S3 has no directories), a missing bucket is.
* Exit status: 0 with the JSON on stdout; 1 when reading fails (message on stderr); 2 on usage errors.
"""

import argparse
import decimal
import json
import os
import re
import sys

PROG = "read_parquet.py"
READERS = ("pyarrow", "duckdb", "chdb")


class ReadError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------
# target: where the files are


class Target:
    def __init__(self, path, endpoint):
        self.given = path
        if path.startswith("s3://"):
            rest = path[len("s3://"):].strip("/")
            if not rest:
                raise ReadError("s3 path has no bucket: " + path)
            self.bucket, _, self.prefix = rest.partition("/")
            self.prefix = self.prefix.strip("/")
            self.s3 = True
            endpoint = endpoint or os.environ.get("S3_ENDPOINT", "")
            if not endpoint:
                raise ReadError("--path is on S3 but neither --s3-endpoint nor $S3_ENDPOINT is set")
            self.endpoint = endpoint.rstrip("/")
            if "://" not in self.endpoint:
                self.endpoint = "http://" + self.endpoint
            self.scheme, _, self.hostport = self.endpoint.partition("://")
            self.key = os.environ.get("AWS_ACCESS_KEY_ID") or "test"
            self.secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or "testtest"
            self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        else:
            self.s3 = False
            self.root = os.path.abspath(path).rstrip("/") or "/"
            if not os.path.isdir(self.root):
                raise ReadError(f"no such directory: {self.root}")

    def rel(self, listed, base):
        """Key of a listed path relative to `base` (None when it is not under it)."""
        if base == "":
            return listed
        if listed.startswith(base + "/"):
            return listed[len(base) + 1:]
        return None


def glob_regex(glob):
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


def select(keys, glob):
    rx = glob_regex(glob)
    kept = set()
    for k in keys:
        if k is None or k == "":
            continue
        if any(part.startswith((".", "_")) for part in k.split("/")):
            continue
        if rx.fullmatch(k):
            kept.add(k)
    return sorted(kept)


def sql_str(s):
    """A duckdb (standard SQL) string literal."""
    return "'" + s.replace("'", "''") + "'"


def ch_str(s):
    """A ClickHouse string literal (backslash is an escape character there)."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


# ---------------------------------------------------------------------------------------------------
# rendering values


def _jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        # pyarrow renders a map as a list of (key, value) tuples
        return [_jsonable(x) for x in v]
    return str(v)


def render(v):
    if v is None:
        return None
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(_jsonable(v), ensure_ascii=False)
    return str(v)


def render_row(names, values):
    return {n: render(v) for n, v in zip(names, values)}


# ---------------------------------------------------------------------------------------------------
# pyarrow


def _temporal_as_text(arr):
    """The same array with every date/time/timestamp (also nested) cast to Arrow's string form."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ty = arr.type
    if pa.types.is_temporal(ty):
        if pa.types.is_timestamp(ty) or pa.types.is_date(ty) or pa.types.is_time(ty):
            return pc.cast(arr, pa.string())
        return arr
    if pa.types.is_struct(ty):
        children = [_temporal_as_text(arr.field(i)) for i in range(ty.num_fields)]
        return pa.StructArray.from_arrays(
            children, names=[ty.field(i).name for i in range(ty.num_fields)], mask=arr.is_null()
        )
    if pa.types.is_list(ty) or pa.types.is_large_list(ty):
        cls = pa.ListArray if pa.types.is_list(ty) else pa.LargeListArray
        return cls.from_arrays(arr.offsets, _temporal_as_text(arr.values), mask=arr.is_null())
    return arr


def read_pyarrow(t, args):
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    if t.s3:
        fs = pafs.S3FileSystem(
            access_key=t.key,
            secret_key=t.secret,
            region=t.region,
            endpoint_override=t.endpoint,
            scheme=t.scheme,
        )
        base = f"{t.bucket}/{t.prefix}" if t.prefix else t.bucket
        # allow_not_found below would also hide a missing bucket; duckdb and chdb fail on one.
        if fs.get_file_info(t.bucket).type == pafs.FileType.NotFound:
            raise ReadError(f"bucket {t.bucket!r} does not exist at {t.endpoint}")
    else:
        fs = pafs.LocalFileSystem()
        base = t.root
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    keys = select((t.rel(i.path, base) for i in infos if i.type == pafs.FileType.File), args.glob)
    out = {"files": keys, "rows": 0, "columns": [], "data": [], "metadata": {}}
    if not keys:
        return out

    tables, schemas, rows = [], [], 0
    for k in keys:
        with fs.open_input_file(f"{base}/{k}") as f:
            pf = pq.ParquetFile(f)
            kv = pf.metadata.metadata or {}
            out["metadata"][k] = {
                kk.decode("utf-8", "replace"): vv.decode("utf-8", "replace") for kk, vv in kv.items()
            }
            rows += pf.metadata.num_rows
            schemas.append(pf.schema_arrow)
            if not args.sql_columns and not args.hive:
                tables.append(pf.read())
    out["rows"] = rows
    schema = pa.unify_schemas(schemas)
    if args.hive:
        import pyarrow.dataset as ds

        dataset = ds.dataset(
            [f"{base}/{k}" for k in keys],
            filesystem=fs,
            format="parquet",
            partitioning="hive",
            partition_base_dir=base,
        )
        schema = dataset.schema
        if not args.sql_columns:
            tables = [dataset.to_table()]
    out["columns"] = [{"name": f.name, "type": str(f.type)} for f in schema]
    if not args.sql_columns:
        table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
        names = table.column_names
        try:
            pylist = table.to_pylist(maps_as_pydicts="lossy")
        except (OverflowError, ValueError):
            # Dates/timestamps outside Python's datetime range (year < 1 or > 9999, e.g. PostgreSQL
            # BC dates or Debezium's infinity sentinels): render temporal values as Arrow's text.
            table = pa.table([_temporal_as_text(c.combine_chunks()) for c in table.columns], names=names)
            pylist = table.to_pylist(maps_as_pydicts="lossy")
        out["data"] = [render_row(names, r.values()) for r in pylist]
        out["rows"] = table.num_rows
    return out


# ---------------------------------------------------------------------------------------------------
# duckdb (1.4.x, httpfs from the duckdb-ext-httpfs wheel: the extension download is blocked here)


def read_duckdb(t, args):
    import duckdb
    import duckdb_ext  # namespace package of the duckdb-ext-httpfs wheel

    ext_dir = os.path.join(list(duckdb_ext.__path__)[0], "extensions")
    con = duckdb.connect(
        config={
            "extension_directory": ext_dir,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute("SET TimeZone = 'UTC'")
    if t.s3:
        con.execute("LOAD httpfs")
        con.execute(
            "CREATE SECRET sluice_s3 (TYPE s3, KEY_ID {}, SECRET {}, REGION {}, ENDPOINT {}, "
            "URL_STYLE 'path', USE_SSL {})".format(
                sql_str(t.key),
                sql_str(t.secret),
                sql_str(t.region),
                sql_str(t.hostport),
                "true" if t.scheme == "https" else "false",
            )
        )
        base = f"s3://{t.bucket}/{t.prefix}" if t.prefix else f"s3://{t.bucket}"
    else:
        base = t.root
    listed = [r[0] for r in con.execute(f"SELECT file FROM glob({sql_str(base + '/**')})").fetchall()]
    keys = select((t.rel(p, base) for p in listed), args.glob)
    out = {"files": keys, "rows": 0, "columns": [], "data": [], "metadata": {}}
    if not keys:
        return out
    files = "[" + ", ".join(sql_str(f"{base}/{k}") for k in keys) + "]"
    # union_by_name: files written with different (evolved) schemas are merged by column name.
    src = f"read_parquet({files}, hive_partitioning = {'true' if args.hive else 'false'}, union_by_name = true)"
    out["columns"] = [{"name": r[0], "type": r[1]} for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    if args.sql_columns:
        out["rows"] = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        return out
    # preserve_insertion_order (the default) keeps the list's file order and the rows' order.
    cur = con.execute(f"SELECT * FROM {src}")
    names = [d[0] for d in cur.description]
    out["data"] = [render_row(names, r) for r in cur.fetchall()]
    out["rows"] = len(out["data"])
    return out


# ---------------------------------------------------------------------------------------------------
# chdb (ClickHouse in-process)

CHDB_SETTINGS = (
    "session_timezone = 'UTC', "
    "print_pretty_type_names = 0, "  # Tuple(a Nullable(Int32), b Nullable(String)) on one line
    "schema_inference_mode = 'union', "  # evolved schemas: union of all files, not the first file's
    "output_format_decimal_trailing_zeros = 1, "  # Decimal(10,2) 100 -> 100.00, as the other readers
    "output_format_json_quote_denormals = 1, "  # nan/inf as strings, not null
    "output_format_json_quote_64bit_integers = 0, "
    "output_format_json_quote_decimals = 0"
)


def read_chdb(t, args):
    import chdb

    def query(sql, fmt="JSONEachRow"):
        res = chdb.query(sql, fmt)
        # Binary columns (bytea) come out as raw bytes inside the JSON strings: U+FFFD for invalid UTF-8.
        return res.bytes().decode("utf-8", "replace")

    def each_row(text):
        # parse_float=Decimal keeps ClickHouse's own number text (3.03, 100.00) instead of a float repr.
        return [json.loads(line, parse_float=decimal.Decimal) for line in text.splitlines() if line.strip()]

    if t.s3:
        base_path = f"{t.bucket}/{t.prefix}" if t.prefix else t.bucket  # what _path holds on S3
        base_url = f"{t.endpoint}/{base_path}"

        def table(glob, fmt):
            return f"s3({ch_str(base_url + '/' + glob)}, {ch_str(t.key)}, {ch_str(t.secret)}, {ch_str(fmt)})"

    else:
        base_path = t.root

        def table(glob, fmt):
            return f"file({ch_str(base_path + '/' + glob)}, {ch_str(fmt)})"

    # `One` lists the files without reading them (ClickHouse's `**` includes .hidden and _ names,
    # and one broken .sluice/ temp file would fail a plain `**/*.parquet` read).
    listed = [r["_path"] for r in each_row(query(f"SELECT _path FROM {table('**', 'One')}"))]
    keys = select((t.rel(p, base_path) for p in listed), args.glob)
    out = {"files": keys, "rows": 0, "columns": [], "data": [], "metadata": {}}
    if not keys:
        return out
    bad = [k for k in keys if any(c in k for c in "*?{},\\")]
    if bad:
        raise ReadError(f"chdb: cannot build a ClickHouse glob for keys with *?{{}}, or \\: {bad[:3]}")
    # Explicit alternation of the kept keys; ClickHouse 26 accepts '/' inside {a/b,c/d}.
    glob = keys[0] if len(keys) == 1 else "{" + ",".join(keys) + "}"
    src = table(glob, "Parquet")
    settings = f"SETTINGS use_hive_partitioning = {1 if args.hive else 0}, {CHDB_SETTINGS}"
    out["columns"] = [{"name": r["name"], "type": r["type"]} for r in each_row(query(f"DESCRIBE TABLE {src} {settings}"))]
    if args.sql_columns:
        out["rows"] = int(each_row(query(f"SELECT count() AS n FROM {src} {settings}"))[0]["n"])
        return out
    names = [c["name"] for c in out["columns"]]
    rows = each_row(query(f"SELECT * FROM {src} ORDER BY _path, _row_number {settings}"))
    out["data"] = [render_row(names, [r.get(n) for n in names]) for r in rows]
    out["rows"] = len(out["data"])
    return out


# ---------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--reader", required=True, choices=READERS)
    ap.add_argument("--path", required=True, help="local directory or s3://bucket[/prefix]")
    ap.add_argument("--s3-endpoint", default=None, help="e.g. http://127.0.0.1:9000 (default: $S3_ENDPOINT)")
    ap.add_argument("--glob", default="**/*.parquet", help="relative to --path (default: **/*.parquet)")
    ap.add_argument("--hive", action="store_true", help="add hive partition columns (year=2025/...)")
    ap.add_argument("--sql-columns", action="store_true", help="schema only: files, rows, columns; no data")
    args = ap.parse_args(argv)
    try:
        sys.stdout.reconfigure(encoding="utf-8")
    except AttributeError:
        pass
    try:
        t = Target(args.path, args.s3_endpoint)
        fn = {"pyarrow": read_pyarrow, "duckdb": read_duckdb, "chdb": read_chdb}[args.reader]
        res = fn(t, args)
    except ImportError as e:
        print(
            f"{PROG}: {args.reader}: missing Python module ({e}); use the interpreter from "
            "`scripts/services.sh up readers` ($SLUICE_READERS_PYTHON)",
            file=sys.stderr,
        )
        return 1
    except Exception as e:  # noqa: BLE001 - every reader failure is reported the same way
        print(f"{PROG}: {args.reader} could not read {args.path}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    out = {"reader": args.reader, "path": args.path}
    out.update(res)
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
