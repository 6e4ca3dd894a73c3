#!/usr/bin/env bash
# One command on a fresh machine: install what is missing, build in release mode, and run
# Flightdeck on the embedded SQLite database in ./data. Extra arguments go to `flightdeck serve`
# (for example --demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
cargo leptos build --release
bash scripts/page-bundles.sh
exec target/release/flightdeck serve "$@"
