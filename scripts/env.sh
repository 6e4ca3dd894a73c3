# Sourced by the other scripts: tool paths, and the flags of the size-lean build.
# shellcheck shell=bash
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$repo_root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Type-erased components make the WASM bundle smaller (see `docs/benchmarks.md`). The server must be
# built the same way as the browser bundle, or hydration finds markers it does not expect, so the
# flag is set for both targets (and only through these variables, so a plain `cargo leptos build`
# is consistent too, just larger).
# The remap shortens the crate paths kept in panic messages (smaller bundle, no build paths shipped).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src/="
# The browser bundle's linker also links one variant per page island (see scripts/wasm-ld).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$repo_root/scripts/wasm-ld"
host_triple=$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${host_triple}_RUSTFLAGS=--cfg erase_components"
