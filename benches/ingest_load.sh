#!/usr/bin/env bash
# Sustained ingest with acknowledgements: ioc-bridge (embedded broker) storing into SQLite and
# into PostgreSQL (started on loopback here), driven by `ingest-load`, which simulates many
# edges publishing QoS 1 events with an outbox-like window and counting the IOC's acks.
# Usage: benches/ingest_load.sh [EDGES] [EVENTS_PER_EDGE] [WINDOW]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EDGES="${1:-50}"; PER_EDGE="${2:-2000}"; WINDOW="${3:-64}"
# Dev profile: dependencies and ioc-bridge are optimised there (see Cargo.toml), without a
# second full release build.
cargo build -q -p ioc-bridge -p benches --bin ioc-bridge --bin ingest-load
BIN="$ROOT/target/debug"
W="$(mktemp -d)"; chmod 755 "$W"
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${PGBIN:-}" ] && su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $W/pg/data -m immediate stop" >/dev/null 2>&1; rm -rf "$W"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() { # NAME STORE_TOML
  local MQTT MQTT5 HTTP; MQTT=$(port); MQTT5=$(port); HTTP=$(port)
  cat > "$W/$1.toml" <<CFG
[http]
listen = "127.0.0.1:$HTTP"
[mqtt]
embedded = true
embedded_listen = "127.0.0.1:$MQTT"
embedded_listen_v5 = "127.0.0.1:$MQTT5"
host = "127.0.0.1"
port = $MQTT5
client_id = "ioc-bridge-$1"
$2
CFG
  RUST_LOG=warn "$BIN/ioc-bridge" serve --config "$W/$1.toml" > "$W/$1.out" 2> "$W/$1.log" &
  local pid=$!
  for _ in $(seq 100); do grep -q dashboard "$W/$1.out" && break; sleep 0.1; done
  echo "== $1"
  "$BIN/ingest-load" 127.0.0.1 "$MQTT" "$EDGES" "$PER_EDGE" "$WINDOW"
  kill $pid; wait $pid 2>/dev/null || true
}

run sqlite "[store]
type = \"sqlite\"
sqlite_path = \"$W/ioc.db\""

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)
PGPORT=$(port)
mkdir -p "$W/pg"; chmod 777 "$W/pg"
su postgres -s /bin/sh -c "$PGBIN/initdb -D $W/pg/data -U postgres --auth=trust -E UTF8 >/dev/null && \
  $PGBIN/pg_ctl -D $W/pg/data -l $W/pg/log -o '-p $PGPORT -c listen_addresses=127.0.0.1 -k $W/pg' -w start >/dev/null && \
  $PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -c 'CREATE DATABASE ioc' >/dev/null"
run postgres "[store]
type = \"postgres\"
postgres_url = \"postgres://postgres@127.0.0.1:$PGPORT/ioc\""
