#!/usr/bin/env bash
# Side-by-side: every model with its pre/post-processing, and the face path for k faces, in Rust
# (criterion) and through ONNX Runtime's Python API, in one run on the same machine. Installs a
# private virtualenv under .local/pybench (PyPI only).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source .local/env.sh
VENV="$ROOT/.local/pybench"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r benches/python/requirements.txt
cargo bench --profile dev -p benches --bench models_latency -- --warm-up-time 2 --measurement-time 6 2>&1 | grep -E "^[a-z].*|time:"
"$VENV/bin/python" benches/python/models_bench.py "$GATEWATCH_MODELS_DIR" "$ROOT/../shared/testdata" 30
