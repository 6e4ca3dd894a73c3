#!/usr/bin/env bash
# Lighthouse over every signed-in page of a `serve --demo`, as a phone on a slow 4G network sees
# it (Lighthouse's default: a Moto G Power, 4x slower CPU, simulated throttling): the scores and
# FCP, LCP, TBT and CLS per page, for the README (reported, never asserted). Needs the release
# build (scripts/build.sh) and Debian's chromium; installs lighthouse 12.2.3 (13.x needs Node 22)
# into target/lighthouse the first time. `--preset=desktop` as the first argument measures a desk.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${FLIGHTDECK_LIGHTHOUSE_PORT:-3291}
base="http://127.0.0.1:$port"
tools=target/lighthouse
if [ ! -x "$tools/node_modules/.bin/lighthouse" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" -E lighthouse@12.2.3 >/dev/null
fi

data=$(mktemp -d)
FLIGHTDECK_ADDR="127.0.0.1:$port" FLIGHTDECK_DATABASE_URL="sqlite://$data/lh.db" \
  FLIGHTDECK_ADMIN_PASSWORD=lighthouse-admin-password RUST_LOG=warn \
  target/release/flightdeck serve --demo > "$data/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.1; done
sleep 5 # the demo's first deployments and probes
cookie=$(curl -s -o /dev/null -D - -H "origin: $base" -H "accept: application/json" \
  -d "username=admin&password=lighthouse-admin-password" "$base/api/sign_in" |
  sed -n 's/^[Ss]et-[Cc]ookie: \(fd_session=[^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "lighthouse.sh: could not sign in" >&2; exit 1; }

pages=(/ /deployments /deployments/1 /services/checkout-api /health /alerts /alerts/1 /slos /slos/1
  /builds "/builds/pipeline?name=acme%2Fweb%2Fe2e" /flags /flags/holiday-banner /config /audit
  /settings /system)
printf '| page | performance | accessibility | best practices | SEO | FCP | LCP | TBT | CLS |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for page in "${pages[@]}"; do
  CHROME_PATH=/usr/bin/chromium "$tools/node_modules/.bin/lighthouse" "$base$page" --quiet \
    --chrome-flags="--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update" \
    --extra-headers="{\"Cookie\": \"$cookie\"}" --output=json --output-path="$data/report.json" \
    --only-categories=performance,accessibility,best-practices,seo "$@" >/dev/null 2>&1 ||
    { printf '| %s | (lighthouse failed) |\n' "$page"; continue; }
  python3 - "$page" "$data/report.json" <<'PY'
import json, sys
page, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
if r["finalDisplayedUrl"].split("?")[0].endswith("/signin"):
    sys.exit(f"{page}: answered with the sign-in page; the session cookie did not hold")
score = lambda c: "—" if r["categories"][c]["score"] is None else round(r["categories"][c]["score"] * 100)
metric = lambda a: r["audits"][a]["displayValue"].replace("\u00a0", " ")
cats = ["performance", "accessibility", "best-practices", "seo"]
metrics = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift"]
print("| " + " | ".join([f"`{page}`"] + [str(score(c)) for c in cats] + [metric(a) for a in metrics]) + " |")
PY
done
