#!/usr/bin/env bash
# Checks the REST API against its own OpenAPI document, as a client generated from it would use
# it: validates the document against the OpenAPI 3.1 schema, then lets schemathesis (a
# property-based API fuzzer, from PyPI) send a few thousand generated requests to the built
# binary, started with the demo's data (`scripts/api-fuzz.toml` names its identifiers, so that
# requests reach stored resources and not only their 404s). Fails on any 5xx, any answer that
# does not match the documented schema, status code, content type or headers, and any
# operation that ignores authentication.
#
# Every check runs. "Positive data acceptance" (a request the document allows is accepted) is
# left out only for the operations `scripts/api-fuzz.toml` names, each with the rule no OpenAPI
# document can state (a silence must end in the future, a deploy needs a configured target, ...).
#
# usage: scripts/api-fuzz.sh [BINARY] [extra schemathesis arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-target/release/flightdeck}
shift || true

venv=${FLIGHTDECK_PYENV:-$HOME/.cache/flightdeck/pyenv}
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q 4.32.5; then
  echo "[api-fuzz] installing schemathesis and openapi-spec-validator into $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5" "openapi-spec-validator==0.9.0"
fi

work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export FLIGHTDECK_DATABASE_URL="sqlite://$work/fuzz.db"
token=$("$binary" token create --name api-fuzz --role admin)
FLIGHTDECK_ADDR="127.0.0.1:$port" FLIGHTDECK_SITE_ROOT=target/site \
  FLIGHTDECK_ADMIN_PASSWORD=api-fuzz-admin-password \
  FLIGHTDECK_GITHUB_WEBHOOK_SECRET=api-fuzz-github-secret-0123 \
  "$binary" serve --demo >"$work/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# The demo writes three months of builds and trains on them first: a few seconds.
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break
  sleep 0.1
done
if ! curl -sf "http://127.0.0.1:$port/api/health" >/dev/null; then
  echo "[api-fuzz] the server did not start within a minute; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

base="http://127.0.0.1:$port"
curl -sf -H "Authorization: Bearer $token" "$base/api/openapi.json" -o "$work/openapi.json"
"$venv/bin/openapi-spec-validator" --schema 3.1 "$work/openapi.json"

# Revoking tokens and disabling users are left out: the run would revoke its own credential.
# A fixed seed makes a failure reproducible (and the run the same on every machine).
"$venv/bin/schemathesis" --config-file scripts/api-fuzz.toml run "$work/openapi.json" --url "$base/api/v1" \
  -H "Authorization: Bearer $token" \
  --exclude-path '/tokens/{id}' --exclude-path '/users/{username}' \
  --max-examples 25 --seed 20261202 --no-color "$@"
