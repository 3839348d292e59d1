#!/usr/bin/env bash
# One command: set everything up and run every check and test (what CI runs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SKIP_BUILD=1 scripts/setup.sh
# shellcheck disable=SC1091
source .local/env.sh
echo "== rustfmt"
cargo fmt --all --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build binaries (the end-to-end tests run them)"
cargo build --workspace --bins --locked
echo "== tests"
cargo test --workspace --locked -- --test-threads="${TEST_THREADS:-2}"
