#!/usr/bin/env bash
# One command on a fresh machine: install what building and running need (no test tools), build
# in release mode (scripts/build.sh), and run Flightdeck on the embedded SQLite database in
# ./data. Extra arguments go to `flightdeck serve` (for example --demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
bash scripts/build.sh
exec target/release/flightdeck serve "$@"
