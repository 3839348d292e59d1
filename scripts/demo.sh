#!/usr/bin/env bash
# One command: set everything up and run the main job on embedded defaults. Starts ioc-bridge
# (embedded MQTT broker, SQLite, dashboard on http://127.0.0.1:8080/), composes a sample gate
# scene from the real photos in ../shared/testdata, enrols the staff in it, and runs edge-agent
# on the scene (looping, in real time) plus a second camera on a real street clip.
# Ctrl-C stops everything. HTTP_PORT and MQTT_PORT override the ports.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
# shellcheck disable=SC1091
source .local/env.sh
cargo build --workspace --bins --locked -q
BIN="$ROOT/target/debug"
DEMO="$ROOT/var/demo"
HTTP_PORT="${HTTP_PORT:-8080}"
MQTT_PORT="${MQTT_PORT:-1883}"
MQTT5_PORT="${MQTT5_PORT:-1884}"
# The dashboard's log-in (change it for anything but a demo on loopback).
DEMO_USER="${DEMO_USER:-admin}"
DEMO_PASSWORD="${DEMO_PASSWORD:-gatewatch-demo}"
mkdir -p "$DEMO"
"$BIN/make-scene" "$DEMO" >/dev/null

cat > "$DEMO/ioc-bridge.toml" <<CFG
[http]
listen = "127.0.0.1:$HTTP_PORT"
[mqtt]
embedded = true
embedded_listen = "127.0.0.1:$MQTT_PORT"
embedded_listen_v5 = "127.0.0.1:$MQTT5_PORT"
host = "127.0.0.1"
port = $MQTT5_PORT
client_id = "ioc-bridge"
[store]
sqlite_path = "ioc.db"
[models]
manifests_dir = "$ROOT/models/manifests"
dir = "$ROOT/.local/models"
ort_dylib_path = "$ORT_DYLIB_PATH"
face_detector = "yunet_s_640_640"
face_embedder = "mobilefacenet_192d"
CFG
echo "$DEMO_PASSWORD" | "$BIN/ioc-bridge" user add --config "$DEMO/ioc-bridge.toml" --username "$DEMO_USER" --role admin >/dev/null

cat > "$DEMO/edge-agent.toml" <<CFG
site_id = "demo-site"
edge_id = "gate-edge-1"
[mqtt]
host = "127.0.0.1"
port = $MQTT_PORT
[models]
manifests_dir = "$ROOT/models/manifests"
dir = "$ROOT/.local/models"
ort_dylib_path = "$ORT_DYLIB_PATH"
face_detector = "yunet_s_640_640"
face_embedder = "mobilefacenet_192d"
[recognition]
min_face_px = 40
repeat_after_secs = 10
[gallery]
path = "gallery.json"
[[cameras]]
id = "main-gate"
uri = "file://$DEMO/gate.mp4"
analysis_fps = 5
loop_file = true
[[cameras]]
id = "street"
uri = "file://$ROOT/../shared/testdata/video/people_640x360.mp4"
analysis_fps = 5
loop_file = true
CFG

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$BIN/ioc-bridge" serve --config "$DEMO/ioc-bridge.toml" > "$DEMO/ioc-bridge.out" 2> "$DEMO/ioc-bridge.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q dashboard "$DEMO/ioc-bridge.out" 2>/dev/null && break; sleep 0.1; done
grep -q dashboard "$DEMO/ioc-bridge.out" || { cat "$DEMO/ioc-bridge.log"; exit 1; }

"$BIN/edge-agent" enrol --config "$DEMO/edge-agent.toml" --photos "$DEMO/enrol" --replace
"$BIN/edge-agent" run --config "$DEMO/edge-agent.toml" 2> "$DEMO/edge-agent.log" &
pids+=($!)
echo
echo "Dashboard: http://127.0.0.1:$HTTP_PORT/   log in as $DEMO_USER / $DEMO_PASSWORD   (logs in $DEMO; Ctrl-C to stop)"
wait "${pids[@]}"
