#!/usr/bin/env bash
# Benchmarks for the README (reported, never asserted): bundle size, idle memory of the release
# binary, and server-side render time of the dashboard shell, then the deployment benchmarks
# (server/examples/deploy_bench.rs: rollback start, event fan-out to 1,000 websocket clients,
# webhook ingestion, history at 1,000,000 deployments). Needs a release build
# (`cargo leptos build --release --split --features split`, which scripts/test.sh and scripts/run.sh do). Set
# FLIGHTDECK_BENCH_POSTGRES_URL (a superuser URL) to measure webhook ingestion on PostgreSQL too.
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
| WASM raw / gzip | $(kb $wasm_raw) / $(kb $wasm_gz) |
| JS raw / gzip | $(kb $js_raw) / $(kb $js_gz) |
| WASM + JS gzip (main bundle) | $(kb $((wasm_gz + js_gz))) |
| CSS raw / gzip | $(kb $css_raw) / $(kb $css_gz) |
OUT

# A split build (scripts/env.sh) loads the main bundle plus the chunks of the page opened.
if [ -f $pkg/__wasm_split_manifest.json ]; then
  python3 - "$pkg" <<'PY'
import glob, gzip, json, os, sys
pkg = sys.argv[1]
gz = lambda path: len(gzip.compress(open(path, "rb").read(), 9))
main = gz(f"{pkg}/flightdeck.wasm") + gz(f"{pkg}/flightdeck.js") + sum(gz(p) for p in glob.glob(f"{pkg}/__wasm_split*.js"))
every = main + sum(gz(p) for p in glob.glob(f"{pkg}/*.wasm") if not p.endswith("/flightdeck.wasm"))
print("\n| page (split build) | files | WASM + JS gzip to open it |\n|---|---|---|")
manifest = json.load(open(f"{pkg}/__wasm_split_manifest.json"))
for name, chunks in sorted(manifest.items()):
    page = name.strip("_").split("_route_view")[0]
    size = main + sum(gz(f"{pkg}/{c}.wasm") for c in chunks)
    print(f"| {page} | {len(chunks) + 3} | {size / 1024:.1f} KB |")
print(f"| main bundle only (sign-in) | 3 | {main / 1024:.1f} KB |")
print(f"| every page's code | {len(glob.glob(f'{pkg}/*.wasm')) + 2} | {every / 1024:.1f} KB |")
PY
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
