#!/usr/bin/env bash
# The release build: the server binary (target/release/flightdeck) and the site it serves
# (target/site), laid out as `cargo leptos build --release` lays it out, with plain cargo,
# wasm-bindgen and wasm-opt, so nothing needs cargo-leptos. `scripts/run.sh` and the test
# command both build through here; `cargo leptos watch` keeps working for whoever has it.
#
#   1. the browser crate for wasm32 (its linker, scripts/wasm-ld, also links one variant per page
#      island);
#   2. the whole-app bundle (every island; the server needs it present, and serves it only when
#      the page bundles are missing), the stylesheet and the static assets into target/site;
#   3. the server, and meanwhile one bundle per page, hashed and precompressed
#      (scripts/page-bundles.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

# What cargo-leptos tells the build (leptos reads some of it at compile time). The same values,
# so switching between this and `cargo leptos build --release` does not rebuild everything.
export LEPTOS_OUTPUT_NAME=flightdeck LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend \
  LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false

site=target/site
pkg=$site/pkg
started=$SECONDS
say() { printf '\033[1m[build]\033[0m %s (%ss)\n' "$*" $((SECONDS - started)); }

say "browser crate (wasm32, profile wasm-release)"
cargo build --package=frontend --lib --target-dir=target/front --target=wasm32-unknown-unknown \
  --no-default-features --features=hydrate --profile=wasm-release

say "whole-app bundle, stylesheet and assets into $site"
mkdir -p "$pkg"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wasm-bindgen --target=web --no-typescript --out-name=flightdeck --out-dir="$work" \
  target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm
# Not run through wasm-opt: it is the fallback, never served when the page bundles exist.
cp "$work/flightdeck_bg.wasm" "$pkg/flightdeck.wasm"
cp "$work/flightdeck.js" "$pkg/flightdeck.js"
cp style/main.css "$pkg/flightdeck.css"
cp -r public/. "$site/"

# Side by side: the server's last minutes are one thread (fat LTO, one codegen unit), and the
# page bundles (wasm-opt) use the other core meanwhile.
say "server (release) and page bundles, side by side"
cargo build --package=flightdeck --bin=flightdeck --release &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
bash scripts/page-bundles.sh
say "page bundles done"
wait $server
say "done: target/release/flightdeck serves $site"
