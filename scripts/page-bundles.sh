#!/usr/bin/env bash
# Per-page browser bundles, after `cargo leptos build --release`: the linker (scripts/wasm-ld) left
# one WASM variant per page island next to the bundle; each goes through wasm-bindgen and wasm-opt
# as cargo-leptos does for the whole-app bundle, into target/site/pkg/flightdeck-<island>.{js,wasm}.
# The server picks a page's bundle by its path (app/src/bundles.rs) and falls back to the
# whole-app bundle when these files are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

deps=target/front/wasm32-unknown-unknown/wasm-release/deps
pkg=target/site/pkg
variants=("$deps"/frontend-pages/*.wasm)
if [ ! -e "${variants[0]}" ]; then
  echo "page-bundles: no variants in $deps/frontend-pages; build with scripts/env.sh sourced (its linker makes them)" >&2
  exit 1
fi
for variant in "${variants[@]}"; do
  if [ "$variant" -ot "$deps/frontend.wasm" ]; then
    echo "page-bundles: $variant is older than the bundle; touch frontend/src/lib.rs and build again" >&2
    exit 1
  fi
done

rm -f "$pkg"/flightdeck-*.js "$pkg"/flightdeck-*.wasm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for variant in "${variants[@]}"; do
  name="flightdeck-$(basename "$variant" .wasm)"
  wasm-bindgen --target=web --no-typescript --out-name="$name" --out-dir="$work" "$variant"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$work/${name}_bg.wasm" -o "$pkg/$name.wasm"
  cp "$work/$name.js" "$pkg/$name.js"
done
echo "page-bundles: ${#variants[@]} bundles in $pkg"
