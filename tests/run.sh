#!/usr/bin/env bash
# peercdn's whole test suite, from a fresh clone: installs what is missing,
# then runs the checks, the native tests and the interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/setup.sh

# Each step prints the seconds the run has taken so far, so a slow step shows.
started=$SECONDS
step() { printf '\n== %s (at %d s)\n' "$*" $((SECONDS - started)); }

step "setup"
ensure_wasm_target
ensure_npm_packages
ensure_chromium
ensure_wasm_bindgen
ensure_ffmpeg # the video e2e test generates the demo video (inside the namespace there is no network to install it)

step "format and lints (native and wasm32)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings

step "native tests"
cargo test --workspace
# The swarm scenarios at their full 32 MiB size (the debug run above uses 2 MiB).
cargo test --release --test swarm

step "fuzz (every target 30 s from its seeds)"
bash tests/fuzz.sh

step "wasm build"
cargo build --release --target wasm32-unknown-unknown

# Node tests get a 5-minute timeout each: a hang fails the run instead of
# holding CI to its limit.
step "interop tests (node: reference implementations)"
cargo build -p peercdn-cli
cargo build --release --example wire_peer
node --test --test-timeout=300000 tests/interop/

step "tool tests (worker/build.sh as a site owner calls it)"
node --test --test-timeout=300000 tests/tools/

step "wasm browser tests (wasm-bindgen-test in a service worker, inside the namespace)"
bash tests/wasm/run.sh

step "browser tests (Chromium, inside an isolated network namespace)"
rm -rf target/e2e-runtime && mkdir -p target/e2e-runtime
bash worker/build.sh target/e2e-runtime
# The whole browser suite is bounded too (a test process that never ends,
# as one with its browser left open did, would hold CI to its limit).
timeout --kill-after=30 2400 tests/e2e/lib/netns.sh node --test --test-timeout=300000 tests/e2e/
step "done"
