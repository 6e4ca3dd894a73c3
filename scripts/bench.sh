#!/usr/bin/env bash
# Benchmarks for the README (reported, never asserted): bundle size, idle memory of the release
# binary, and server-side render time of the dashboard shell, then the deployment benchmarks
# (server/examples/deploy_bench.rs: rollback start, event fan-out to 1,000 websocket clients,
# webhook ingestion, history at 1,000,000 deployments), and request rates with wrk (Debian's
# `wrk`): the largest page bundle as browsers fetch it, every signed-in page, and `POST /builds`
# with new builds only. Needs the release build (scripts/build.sh,
# which scripts/test.sh and scripts/run.sh run). Set FLIGHTDECK_BENCH_POSTGRES_URL (a superuser
# URL) to measure webhook ingestion on PostgreSQL too. Last, the failure predictor on histories
# from a second generator, over HTTP (scripts/predictor-check.py).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${FLIGHTDECK_BENCH_PORT:-3290}
requests=${FLIGHTDECK_BENCH_REQUESTS:-1000}

size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }
pkg=target/site/pkg
wasm_raw=$(size $pkg/flightdeck.wasm); wasm_gz=$(gz $pkg/flightdeck.wasm)
js_raw=$(size $pkg/flightdeck.js); js_gz=$(gz $pkg/flightdeck.js)
css_raw=$(size $pkg/flightdeck.css); css_gz=$(gz $pkg/flightdeck.css)

data=$(mktemp -d)
FLIGHTDECK_ADDR="127.0.0.1:$port" FLIGHTDECK_DATABASE_URL="sqlite://$data/bench.db" \
  FLIGHTDECK_ADMIN_PASSWORD=bench-admin-password FLIGHTDECK_LOG_FORMAT=json RUST_LOG=warn \
  target/release/flightdeck serve --demo > "$data/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
sleep 5
rss_idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

python3 - "$port" "$requests" <<'PY' > "$data/ssr"
import http.client, statistics, sys, time, urllib.parse
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
body = urllib.parse.urlencode({"username": "admin", "password": "bench-admin-password"})
c.request("POST", "/api/sign_in", body, {"Content-Type": "application/x-www-form-urlencoded",
          "Origin": f"http://127.0.0.1:{port}", "Accept": "application/json"})
r = c.getresponse(); r.read()
cookie = [v.split(";")[0] for k, v in r.getheaders() if k.lower() == "set-cookie" and v.startswith("fd_session=")][0]
def run(path, headers):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        c.request("GET", path, headers=headers)
        resp = c.getresponse(); resp.read()
        assert resp.status == 200, resp.status
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99) - 1]
for _ in range(50):  # warm-up
    c.request("GET", "/", headers={"Cookie": cookie, "Accept": "text/html"}); c.getresponse().read()
p50, p99 = run("/", {"Cookie": cookie, "Accept": "text/html"})
print(f"{p50:.2f} {p99:.2f}")
PY
read -r ssr_p50 ssr_p99 < "$data/ssr"
rss_after=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
cat <<OUT
| measure | value |
|---|---|
| idle RSS after start (release, SQLite, demo data) | $((rss_idle / 1024)) MB |
| RSS after $requests dashboard renders | $((rss_after / 1024)) MB |
| SSR of the dashboard shell, signed in (p50 / p99 over $requests sequential requests) | ${ssr_p50} ms / ${ssr_p99} ms |
| whole-app WASM raw / gzip (every island, not optimized; served only if the per-page bundles are missing) | $(kb $wasm_raw) / $(kb $wasm_gz) |
| whole-app JS raw / gzip | $(kb $js_raw) / $(kb $js_gz) |
| whole-app WASM + JS gzip | $(kb $((wasm_gz + js_gz))) |
| CSS raw / gzip | $(kb $css_raw) / $(kb $css_gz) |
OUT

# Each page loads the bundle of its own island (scripts/page-bundles.sh, app/src/bundles.rs).
python3 - "$pkg" <<'PY'
import glob, gzip, os, sys
pkg = sys.argv[1]
gz = lambda path: len(gzip.compress(open(path, "rb").read(), 9))
pages = {
    "SignInForm": "sign-in", "DashboardActivity": "dashboard", "DeploymentsBoard": "deployments",
    "DeploymentLive": "deployment", "HealthGrid": "health", "ComponentLive": "component",
    "SloList": "slos", "SloLive": "slo", "AlertFeed": "alerts", "AlertLive": "alert",
    "AuditTrail": "audit", "SettingsSections": "settings", "shell": "shell only (builds, config, not found)",
}
print("\n| page | its bundle | WASM + JS gzip to open it |\n|---|---|---|")
rows = []
for wasm in glob.glob(f"{pkg}/flightdeck-*.wasm"):
    island = os.path.basename(wasm)[len("flightdeck-"):].split(".")[0]
    size = gz(wasm) + gz(wasm[:-len(".wasm")] + ".js")
    rows.append((size, pages.get(island, island), island))
for size, page, island in sorted(rows):
    print(f"| {page} | {island} | {size / 1024:.1f} KB |")
PY
# The largest page bundle as many tablets reopening a page fetch it: plain, gzip and brotli (the
# build's precompressed copies, server/src/assets.rs), and again when the browser already has it.
if command -v wrk >/dev/null; then
  largest=$(ls -S "$pkg"/flightdeck-*.*.wasm | head -n 1)
  url="http://127.0.0.1:$port/pkg/$(basename "$largest")"
  rate() { wrk -t2 -c16 -d5s "$@" "$url" | awk '/Requests\/sec/ { printf "%d", $2 }'; }
  printf '\n| %s, wrk -t2 -c16 -d5s | requests/s |\n|---|---|\n' "largest bundle ($(basename "$largest"), $(kb "$(size "$largest")"))"
  printf '| uncompressed | %s |\n' "$(rate -H 'Accept-Encoding: identity')"
  printf '| gzip | %s |\n' "$(rate -H 'Accept-Encoding: gzip')"
  printf '| brotli (what Chromium asks for: gzip, deflate, br, zstd) | %s |\n' "$(rate -H 'Accept-Encoding: gzip, deflate, br, zstd')"
  printf '| the stylesheet (unhashed, no-cache), gzip | %s |\n' "$(url="http://127.0.0.1:$port/pkg/flightdeck.css" rate -H 'Accept-Encoding: gzip')"

  # Every signed-in page as a browser opening it asks for it, with one session (issue 17: at
  # least 8,000/s each). Reads are cached until something changes (server/src/read_cache.rs); the
  # demo's probes and SLO evaluations change something every few seconds, as in production.
  jar="$data/cookies"
  curl -sf -c "$jar" -o /dev/null -H "Origin: http://127.0.0.1:$port" -H 'Accept: application/json' \
    --data 'username=admin&password=bench-admin-password' "http://127.0.0.1:$port/api/sign_in"
  cookie="fd_session=$(awk '$6 == "fd_session" { print $7 }' "$jar")"
  # Beside it, each request a page render (scripts/wrk-miss.lua: an address the cache never saw).
  printf '\n| signed-in page (demo data), wrk -t2 -c16 -d5s | requests/s | rendered each time |\n|---|---|---|\n'
  for page in / /deployments /deployments/1 /health /health/1 /slos /slos/1 /alerts /alerts/1 \
    /audit /builds /flags /config /services/payments-gateway /system; do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" -H 'Accept: text/html' "http://127.0.0.1:$port$page")
    if [ "$status" != 200 ]; then printf '| %s | (answered %s) | |\n' "$page" "$status"; continue; fi
    printf '| %s | %s | %s |\n' "$page" \
      "$(url="http://127.0.0.1:$port$page" rate -H "Cookie: $cookie" -H 'Accept: text/html')" \
      "$(url="http://127.0.0.1:$port$page" rate -s scripts/wrk-miss.lua -H "Cookie: $cookie" -H 'Accept: text/html')"
  done
  # New builds only, on an empty database of their own: every answer a 201 after its commit.
  builds_db=$(mktemp -d)
  export FLIGHTDECK_DATABASE_URL="sqlite://$builds_db/builds.db"
  TOKEN=$(target/release/flightdeck token create --name wrk --role operator 2>/dev/null | tail -1)
  export TOKEN
  FLIGHTDECK_ADDR="127.0.0.1:$((port + 1))" FLIGHTDECK_ADMIN_PASSWORD=bench-admin-password RUST_LOG=warn \
    target/release/flightdeck serve > "$builds_db/log" 2>&1 &
  builds_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((port + 1))/api/health" >/dev/null && break; sleep 0.1; done
  printf '\n| POST /builds, new builds only (scripts/wrk-new-builds.lua), wrk -t2 -c64 -d10s | builds/s | stored |\n|---|---|---|\n'
  built=$(wrk -t2 -c64 -d10s -s scripts/wrk-new-builds.lua "http://127.0.0.1:$((port + 1))" | awk '/Requests\/sec/ { printf "%d", $2 }')
  kill $builds_pid; wait $builds_pid 2>/dev/null || true
  printf '| empty database | %s | %s |\n' "$built" "$(sqlite3 "$builds_db/builds.db" 'SELECT COUNT(*) FROM builds' 2>/dev/null || echo '?')"
  rm -rf "$builds_db"; unset FLIGHTDECK_DATABASE_URL TOKEN
else
  echo "(wrk is not installed: apt-get install wrk for the request rates)"
fi

printf '\n'
node scripts/page_load.mjs "http://127.0.0.1:$port" bench-admin-password

source scripts/env.sh
# A thousand websocket clients need more file descriptors than the default 1,024.
ulimit -n 65536 2>/dev/null || true
printf '\n| deployments | value |\n|---|---|\n'
cargo run --quiet --release -p flightdeck --example deploy_bench -- "${FLIGHTDECK_BENCH_POSTGRES_URL:-}"

printf "\n"
cargo run --quiet --release -p flightdeck --example health_bench

echo
echo "## Feature flags (OFREP)"
cargo run --quiet --release -p flightdeck --example flags_bench

echo
echo "## Builds (failure prediction, training, prediction latency, ingestion)"
cargo run --quiet --release -p flightdeck --example builds_bench

echo
echo "## Failure prediction on a history from a second generator, over HTTP"
python3 scripts/predictor-check.py --seeds 1-30
python3 scripts/predictor-check.py --seeds 1-30 --signals
