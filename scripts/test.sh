#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what is missing, starts a throw-away
# PostgreSQL, checks formatting and clippy (warnings are errors), runs unit and integration tests
# (SQLite and PostgreSQL, the fault tests on the real binary among them), builds the release
# site, checks the API against its OpenAPI document (scripts/api-fuzz.sh), builds the client-side
# (Trunk) app, and runs the end-to-end tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
# A clean checkout gains nothing from incremental compilation, and its cache would double the
# debug target's size; a CI run on a nearly full disk failed linking with a bus error.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# A clean run needs about 15 GB of disk (debug and release targets); say what there is.
step "disk free here: $(df -h --output=avail . | tail -n 1 | tr -d ' ')"

# --- A private PostgreSQL cluster for this run, removed afterwards.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_dir=$(mktemp -d)
# Below Linux's ephemeral range (32768-60999): a port in it can be taken by any outgoing
# connection of the moment (twice a run failed to start here on 55432 right after a benchmark).
pg_port=${FLIGHTDECK_TEST_PG_PORT:-25432}
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root.
  chown postgres "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap cleanup EXIT
step "starting PostgreSQL on 127.0.0.1:$pg_port"
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null ||
  { echo "PostgreSQL did not start; its log:"; cat "$pg_dir/log"; exit 1; }
export FLIGHTDECK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
export FLIGHTDECK_REQUIRE_POSTGRES=1
# setup.sh installed Prometheus and Alertmanager: their test must run, not skip.
export FLIGHTDECK_REQUIRE_PROMETHEUS=1

step "lint: rustfmt and clippy with warnings as errors (server, tests, examples, browser crate)"
cargo fmt --all -- --check
cargo clippy -p app -p flightdeck --tests --examples -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --features hydrate -- -D warnings

step "unit and integration tests (SQLite and PostgreSQL)"
cargo test -p app -p flightdeck

step "release build (scripts/build.sh, the one scripts/run.sh makes)"
bash scripts/build.sh

step "the API against its OpenAPI document (OpenAPI 3.1 schema check, then schemathesis)"
bash scripts/api-fuzz.sh target/release/flightdeck

step "client-side build (trunk build)"
trunk build --release
test -s target/trunk-dist/index.html
ls target/trunk-dist/*.wasm >/dev/null

step "end-to-end tests in Chromium"
(cd end2end && npx playwright test)

step "end-to-end test of the Trunk (client-side) build through its proxy"
(cd end2end && npx playwright test --config playwright.csr.config.ts)
