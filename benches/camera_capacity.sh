#!/usr/bin/env bash
# How many 1080p cameras at 5 analysed fps this machine sustains in real time, and frame-to-IOC
# latency (event captured_at on the edge -> received_at in the IOC store) p50/p99.
#
#   benches/camera_capacity.sh [SECONDS_PER_RUN] [CAMERA_COUNTS]    # defaults: 40 "1 2 3 4"
#
# Each run: ioc-bridge (embedded broker, SQLite) and edge-agent with N cameras, each reading a
# 1080p H.264 clip (the people_640x360 test video scaled to 1920x1080) in real time, looped, with
# a gate line (YOLOX people + tracker + YuNet faces + identity per track). The analysed fps per
# camera is read from the agent's /metrics over the second half of the run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source .local/env.sh
SECS="${1:-40}"
COUNTS="${2:-1 2 3 4}"
BIN="$ROOT/target/debug"
cargo build --workspace --bins --locked -q
W="$ROOT/.local/bench/capacity"
rm -rf "$W/run"; mkdir -p "$W/run"
CLIP="$W/people_1080p.mp4"
if [ ! -f "$CLIP" ]; then
  gst-launch-1.0 -q filesrc location="$ROOT/../shared/testdata/video/people_640x360.mp4" ! decodebin \
    ! videoscale ! video/x-raw,width=1920,height=1080 ! videoconvert \
    ! x264enc speed-preset=veryfast tune=zerolatency bitrate=4000 key-int-max=50 ! h264parse \
    ! mp4mux ! filesink location="$CLIP"
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MQTT=$(port); MQTT5=$(port); HTTP=$(port); METRICS=$(port)
cat > "$W/run/ioc-bridge.toml" <<CFG
[http]
listen = "127.0.0.1:$HTTP"
[mqtt]
embedded = true
embedded_listen = "127.0.0.1:$MQTT"
embedded_listen_v5 = "127.0.0.1:$MQTT5"
host = "127.0.0.1"
port = $MQTT5
client_id = "ioc-bridge-bench"
[store]
sqlite_path = "ioc.db"
CFG
echo "bench-password" | "$BIN/ioc-bridge" user add --config "$W/run/ioc-bridge.toml" --username bench --role admin >/dev/null
"$BIN/ioc-bridge" serve --config "$W/run/ioc-bridge.toml" > "$W/run/bridge.out" 2> "$W/run/bridge.log" &
BRIDGE=$!
trap 'kill $BRIDGE 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q dashboard "$W/run/bridge.out" && break; sleep 0.1; done
agent_cfg() { # N EDGE
  cat <<CFG
site_id = "bench"
edge_id = "$2"
[mqtt]
host = "127.0.0.1"
port = $MQTT
[models]
manifests_dir = "$ROOT/models/manifests"
dir = "$ROOT/.local/models"
face_detector = "yunet_s_640_640"
face_embedder = "mobilefacenet_192d"
intra_threads = 1
[recognition]
min_face_px = 24
repeat_after_secs = 5
[outbox]
dir = "$W/run/outbox-$2"
[metrics]
listen = "127.0.0.1:$METRICS"
[gallery]
path = "$W/run/gallery.json"
CFG
  for i in $(seq "$1"); do
    cat <<CFG
[[cameras]]
id = "cam-$i"
uri = "file://$CLIP"
analysis_fps = 5
loop_file = true
[[cameras.gates]]
id = "door"
a = [0.05, 0.6]
b = [0.95, 0.6]
in_direction = "left_to_right"
CFG
  done
}
mkdir -p "$W/run/enrol/angelina_jolie"
ln -sf "$ROOT/../shared/testdata/faces/celebrities/angelina_jolie/img1.jpg" "$W/run/enrol/angelina_jolie/"
agent_cfg 1 enrol > "$W/run/enrol.toml"
"$BIN/edge-agent" enrol --config "$W/run/enrol.toml" --photos "$W/run/enrol" --replace > /dev/null 2>&1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB"
for n in $COUNTS; do
  agent_cfg "$n" "edge-n$n" > "$W/run/agent-$n.toml"
  "$BIN/edge-agent" run --config "$W/run/agent-$n.toml" 2> "$W/run/agent-$n.log" &
  AGENT=$!
  sleep $((SECS / 2))
  curl -s "http://127.0.0.1:$METRICS/metrics" > "$W/run/m1-$n.txt" || true
  T1=$(date +%s.%N)
  sleep $((SECS / 2))
  curl -s "http://127.0.0.1:$METRICS/metrics" > "$W/run/m2-$n.txt" || true
  T2=$(date +%s.%N)
  kill -INT $AGENT; wait $AGENT || true
  python3 - "$n" "$W/run/m1-$n.txt" "$W/run/m2-$n.txt" "$T1" "$T2" "http://127.0.0.1:$HTTP" <<'PY'
import json, re, sys, urllib.request, statistics
from datetime import datetime
n, m1, m2, t1, t2, http = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
def read(p):
    out = {}
    for line in open(p):
        m = re.match(r'gatewatch_camera_frames_analysed_total\{camera="([^"]+)"\} (\S+)', line)
        if m: out[m.group(1)] = float(m.group(2))
        m = re.match(r'gatewatch_inference_seconds_sum\{camera="([^"]+)"\} (\S+)', line)
        if m: out["inf:" + m.group(1)] = float(m.group(2))
    return out
a, b = read(m1), read(m2)
cams = sorted(k for k in b if not k.startswith("inf:"))
fps = [(b[c] - a.get(c, 0)) / (t2 - t1) for c in cams]
inf = [((b["inf:" + c] - a.get("inf:" + c, 0)) / max(b[c] - a.get(c, 0), 1)) * 1000 for c in cams]
login = urllib.request.Request(f"{http}/api/login", data=json.dumps({"username": "bench", "password": "bench-password"}).encode(),
                               headers={"Content-Type": "application/json"})
cookie = urllib.request.urlopen(login).headers["Set-Cookie"].split(";")[0]
ev = json.load(urllib.request.urlopen(urllib.request.Request(f"{http}/api/events?limit=1000", headers={"Cookie": cookie})))["events"]
ts = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
lat = sorted((ts(e["received_at"]) - ts(e["captured_at"])) * 1000 for e in ev
             if e["edge_id"] == f"edge-n{n}" and e["kind"] != "gate_count")
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print(f"cameras={n} fps_per_camera(min/mean)={min(fps):.2f}/{statistics.mean(fps):.2f} "
      f"sustained={'yes' if min(fps) >= 4.75 else 'NO'} inference_ms_per_frame={statistics.mean(inf):.0f} "
      f"events={len(lat)} latency_ms_p50={q(0.5):.0f} p99={q(0.99):.0f}")
PY
done
