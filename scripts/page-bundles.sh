#!/usr/bin/env bash
# Per-page browser bundles, after the browser crate's release build (scripts/build.sh, or
# `cargo leptos build --release`): the linker (scripts/wasm-ld) left
# one WASM variant per page island next to the bundle; each goes through wasm-bindgen and wasm-opt
# as cargo-leptos does for the whole-app bundle, into target/site/pkg/flightdeck-<island>.{js,wasm}.
# Each bundle and the stylesheet get their content hash in their names
# (flightdeck-<island>.<hash>.{js,wasm}, flightdeck.<hash>.css), so browsers may keep them for
# good, and a gzip and a brotli copy next to them, so the server sends compressed bytes without
# compressing them again per request (server/src/assets.rs). The server picks a page's bundle by
# its path (app/src/bundles.rs) and falls back to the whole-app bundle when these files are missing.
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

rm -f "$pkg"/flightdeck-* "$pkg"/flightdeck.*.css*
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
for variant in "${variants[@]}"; do
  name="flightdeck-$(basename "$variant" .wasm)"
  wasm-bindgen --target=web --no-typescript --out-name="$name" --out-dir="$work" "$variant"
  # -Os, not -Oz: its output is 6 % larger raw but compresses 0.5 % smaller with gzip and
  # brotli, and what browsers download is the compressed bytes (DeploymentsBoard: 348.5 against
  # 350.2 KB gzipped with zopfli), and it runs 8 % faster.
  # --low-memory-unused lets wasm-opt fold a constant added to a pointer into the load's offset,
  # which is only sound when nothing lives in the first KiB: Rust links the stack first (it
  # starts at 1 MiB and grows down, static data above it), so only a stack about to overflow
  # reaches there. 0.8 % smaller gzipped (DeploymentsBoard: 2.8 KB), about a second a bundle.
  # --converge saved 1.8 KB more but doubled wasm-opt's time (20 to 41 s a bundle), left out.
  wasm-opt -Os --low-memory-unused --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$work/${name}_bg.wasm" -o "$work/$name.wasm"
  # One hash for the pair: the page loads both under one name.
  hash=$(hash_of "$work/$name.wasm" "$work/$name.js")
  cp "$work/$name.wasm" "$pkg/$name.$hash.wasm"
  cp "$work/$name.js" "$pkg/$name.$hash.js"
done
cp "$pkg/flightdeck.css" "$pkg/flightdeck.$(hash_of "$pkg/flightdeck.css").css"

# Compressed once here rather than per request. Only the hashed files: a later plain
# `cargo leptos build` rewrites the others, and a stale compressed copy would be served for them.
hashed=("$pkg"/flightdeck-*.*.js "$pkg"/flightdeck-*.*.wasm "$pkg"/flightdeck.*.css)
# zopfli writes gzip 4-5 % smaller than gzip -9 (about 1.3 s a bundle at --i5); gzip -9 where it
# is missing (setup.sh installs it).
if command -v zopfli >/dev/null; then
  printf '%s\n' "${hashed[@]}" | xargs -P 2 -I{} zopfli --i5 {}
else
  for file in "${hashed[@]}"; do gzip -9 -k -f "$file"; done
fi
printf '%s\n' "${hashed[@]}" | xargs -P 2 -I{} brotli -q 11 -k -f {}
echo "page-bundles: ${#variants[@]} bundles in $pkg, hashed, with .gz and .br copies"
