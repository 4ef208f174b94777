#!/usr/bin/env bash
# docker-compose.yml without Docker: the same commands as plain processes against the local
# PostgreSQL (a throw-away database), then a short end-to-end check: upload a model, enqueue
# jobs for two agents, wait for their measurements, ask for them over the API.
# Bounded in time (SMOKE_TIMEOUT_S, default 240 s); every process and the database are removed
# on exit, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PG_ADMIN_URL=${PERFLOOP_SMOKE_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
DEADLINE=$(( $(date +%s) + ${SMOKE_TIMEOUT_S:-240} ))
DB="perfloop_smoke_$$_$RANDOM"
WORK=$(mktemp -d)
PORT=${SMOKE_PORT:-$(( 20000 + RANDOM % 20000 ))}
PIDS=()

cleanup() {
    status=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null || true
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/*.log; do echo "== $log"; tail -n 20 "$log"; done >&2
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

left() { echo $(( DEADLINE - $(date +%s) )); }
token() { echo "plt_$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))')"; }

psql "$PG_ADMIN_URL" -qc "CREATE DATABASE \"$DB\""
export PERFLOOP_DATABASE_URL="postgresql+psycopg://${PG_ADMIN_URL#postgresql://}"
export PERFLOOP_DATABASE_URL="${PERFLOOP_DATABASE_URL%/*}/$DB"
export PERFLOOP_DATA_DIR="$WORK/data"
export PERFLOOP_ADMIN_TOKEN=$(token) PERFLOOP_AGENT_TOKEN_ORT_CPU=$(token)
export PERFLOOP_AGENT_TOKEN_ZIGZAG=$(token)
CLIENT_AUTH="Authorization: Bearer $PERFLOOP_ADMIN_TOKEN"
API="http://127.0.0.1:$PORT"

echo "smoke: migrate (service.bootstrap) into $DB"
"$BIN/python" -m service.bootstrap

echo "smoke: api (uvicorn, 2 workers) on $API"
"$BIN/uvicorn" service.main:create_app --factory --host 127.0.0.1 --port "$PORT" --workers 2 \
    --log-level warning >"$WORK/api.log" 2>&1 &
PIDS+=($!)
until curl -fs "$API/readyz" >/dev/null; do
    [ "$(left)" -gt 0 ] || { echo "smoke: api not ready" >&2; exit 1; }
    sleep 0.5
done

if "$BIN/perfloop" worker --help >/dev/null 2>&1; then
    echo "smoke: worker (trainer)"
    "$BIN/perfloop" worker --poll 2 >"$WORK/worker.log" 2>&1 &
    PIDS+=($!)
    WORKER_PID=$!
else
    echo "smoke: no 'perfloop worker' command in this checkout; trainer not started"
    WORKER_PID=
fi

for backend in ort-cpu zigzag; do
    var="PERFLOOP_AGENT_TOKEN_$(echo "$backend" | tr 'a-z-' 'A-Z_')"
    echo "smoke: agent $backend"
    PERFLOOP_AGENT_SERVER="$API" PERFLOOP_AGENT_TOKEN="${!var}" PERFLOOP_AGENT_POLL_INTERVAL_S=1 \
    PERFLOOP_AGENT_WARMUP_RUNS=1 PERFLOOP_AGENT_MIN_RUNS=5 PERFLOOP_AGENT_MIN_TIME_S=0 \
        "$BIN/perfloop" agent --backend "$backend" --device "$backend" \
        --spool-dir "$WORK/spool-$backend" >"$WORK/agent-$backend.log" 2>&1 &
    PIDS+=($!)
done

MODEL="$WORK/tiny.onnx"
"$BIN/python" - "$MODEL" <<'PY'
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w = numpy_helper.from_array(np.ones((8, 3, 3, 3), np.float32) * 0.1, "w")
graph = helper.make_graph(
    [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
     helper.make_node("Relu", ["c"], ["y"])],
    "smoke",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
    initializer=[w],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, sys.argv[1])
PY
MODEL_ID=$(curl -fs -H "$CLIENT_AUTH" -F "file=@$MODEL" "$API/api/v1/models" |
    "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "smoke: uploaded model $MODEL_ID"

for device in ort-cpu zigzag; do
    until curl -fs -H "$CLIENT_AUTH" "$API/api/v1/devices/$device" >/dev/null; do
        [ "$(left)" -gt 0 ] || { echo "smoke: agent $device never registered" >&2; exit 1; }
        sleep 1
    done
    curl -fs -H "$CLIENT_AUTH" -H 'Content-Type: application/json' \
        -d "{\"device\": \"$device\", \"model_ids\": [\"$MODEL_ID\"], \"priority\": 100}" \
        "$API/api/v1/jobs" >/dev/null
done

for device in ort-cpu zigzag; do
    until curl -fs -H "$CLIENT_AUTH" "$API/api/v1/measurements?device=$device" |
        "$BIN/python" -c "import json, sys; rows = json.load(sys.stdin);
sys.exit(0 if any(r['model_id'] == '$MODEL_ID' for r in rows) else 1)"; do
        [ "$(left)" -gt 0 ] || { echo "smoke: no measurement from $device" >&2; exit 1; }
        sleep 1
    done
    echo "smoke: $device measured $MODEL_ID"
done
for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "smoke: process $pid died" >&2; exit 1; }
done
echo "smoke: OK (api, ${WORKER_PID:+worker, }2 agents; $(left) s to spare)"
