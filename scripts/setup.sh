#!/usr/bin/env bash
# Installs whatever this machine is missing, from the package registries only (Debian, crates.io,
# npm). Safe to run again: each step checks first.
#   scripts/setup.sh run   what building and running need (scripts/run.sh): the WebAssembly
#                          target, wasm-bindgen, wasm-opt and brotli;
#   scripts/setup.sh       that, and what the tests need: Chromium, PostgreSQL, Prometheus,
#                          Alertmanager, Python's venv, clippy, rustfmt and Trunk.
# cargo-leptos is not needed (scripts/build.sh makes the release build); install it yourself
# for `cargo leptos watch`.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}

WASM_BINDGEN_VERSION=0.2.130  # must equal the wasm-bindgen crate pinned in Cargo.toml
TRUNK_VERSION=0.21.14         # 0.22 needs rustc 1.96
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- Debian packages: brotli for the build; for the tests, Chromium (end-to-end), PostgreSQL (integration tests),
# Prometheus and Alertmanager (a real rule firing into Flightdeck) and Python's
# venv for the API fuzzer.
missing=()
# brotli and zopfli (gzip) compress the browser bundles once at build time (scripts/page-bundles.sh).
command -v brotli >/dev/null || missing+=(brotli)
command -v zopfli >/dev/null || missing+=(zopfli)
if [ "$mode" != run ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/prometheus ] || missing+=(prometheus)
  [ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
  # The API fuzzer (schemathesis, from PyPI) runs in a virtual environment of Debian's Python.
  /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Rust: the WebAssembly target and the build tools, at versions that install on this rustc.
if [ "$mode" != run ]; then
  for component in clippy rustfmt; do
    if ! rustup component list --installed | grep -q "^$component"; then
      say "adding the $component component"
      rustup component add "$component"
    fi
  done
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file pins a crate that is no longer in the index.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if [ "$mode" != run ] && ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (about 5 minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# --- npm: Playwright (driving Debian's Chromium; no browser download) and binaryen's wasm-opt.
# Debian's binaryen is too old: its wasm-opt produces a bundle that fails at hydration.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing end-to-end test tools (npm ci)"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
fi
say "ready"
