#!/usr/bin/env bash
# Starts the release binary on a fresh SQLite database for the end-to-end tests (Playwright's
# webServer runs this and stops it afterwards). Run from end2end/.
set -euo pipefail
port="${1:-3210}"
# Optional: an extra origin allowed to make cookie-authenticated writes (the Trunk dev server).
export FLIGHTDECK_ALLOWED_ORIGINS="${2:-}"
cd "$(dirname "$0")/.."
data=$(mktemp -d)
export FLIGHTDECK_ADDR="127.0.0.1:${port}"
export FLIGHTDECK_DATABASE_URL="sqlite://${data}/flightdeck.db"
export FLIGHTDECK_ADMIN_PASSWORD="${FLIGHTDECK_E2E_ADMIN_PASSWORD:-e2e-admin-password-123}"
export FLIGHTDECK_LOG_FORMAT=json
target/release/flightdeck serve --demo &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT INT TERM
wait "$server"
