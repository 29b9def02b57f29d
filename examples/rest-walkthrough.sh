#!/usr/bin/env bash
# A tour of the Connect REST API on Sluice's demo: needs only cargo and curl.
#   examples/rest-walkthrough.sh
# Starts `sluice demo` on a free port, then lists, inspects, pauses, resumes, stops, reads and
# resets offsets, restarts, and deletes the demo connector, printing each call and its answer.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
STATE=$(mktemp -d)
./target/debug/sluice demo --rest-port "$PORT" --state-dir "$STATE" 2>"$STATE/sluice.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$STATE"' EXIT
URL="http://127.0.0.1:$PORT"
until curl -fs "$URL/health" >/dev/null; do sleep 0.2; done

call() { # call METHOD PATH [BODY]
    printf '\n$ curl -X %s %s%s\n' "$1" "$URL" "$2"
    if [ $# -ge 3 ]; then
        curl -s -w '\n[HTTP %{http_code}]\n' -X "$1" -H 'Content-Type: application/json' --data "$3" "$URL$2"
    else
        curl -s -w '\n[HTTP %{http_code}]\n' -X "$1" "$URL$2"
    fi
}
wait_state() { # wait_state STATE
    until curl -s "$URL/connectors/demo-file-sink/status" | grep -q "\"tasks\":\[{\"id\":0,\"state\":\"$1\""; do sleep 0.2; done
}

until curl -fs "$URL/connectors/demo-file-sink" >/dev/null; do sleep 0.2; done
wait_state RUNNING
call GET "/connectors?expand=info&expand=status"
call GET /connector-plugins
call GET /connectors/demo-file-sink/tasks/0/offsets
call PUT /connectors/demo-file-sink/pause null
wait_state PAUSED
call GET /connectors/demo-file-sink/status
call PUT /connectors/demo-file-sink/resume null
wait_state RUNNING
call PUT /connectors/demo-file-sink/stop
call GET /connectors/demo-file-sink/offsets
call PATCH /connectors/demo-file-sink/offsets '{"offsets":[{"partition":{"kafka_topic":"sluice-demo","kafka_partition":0},"offset":{"kafka_offset":0}}]}'
call PUT /connectors/demo-file-sink/resume
wait_state RUNNING
call POST "/connectors/demo-file-sink/restart?includeTasks=true" '""'
call PUT /connector-plugins/FileStreamSink/config/validate '{"connector.class":"FileStreamSink","tasks.max":"0"}'
call DELETE /connectors/demo-file-sink
call GET /connectors/demo-file-sink
echo
echo "Lines written by the demo sink: $(wc -l < "$STATE/demo-sink.txt")"
