# Sourced by the other scripts: tool paths, and the flags of the size-lean browser build.
# shellcheck shell=bash
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$repo_root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Type-erased components make the WASM bundle smaller (see README, Benchmarks). Set for the
# wasm32 target only, so the server build and its cache are untouched.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components"
