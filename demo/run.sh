#!/usr/bin/env bash
# The demo, from a fresh clone: builds the CLI and the browser runtime,
# generates the large demo files, builds the manifest and serves the site
# with `peercdn serve` (static origin + WebSocket tracker + stats).
#
# Usage: bash demo/run.sh [ADDR]     (default 127.0.0.1:8080)
# Open http://ADDR/ in two browser windows.
set -euo pipefail
cd "$(dirname "$0")/.."
addr=${1:-127.0.0.1:8080}
source tests/setup.sh

cargo build --release -q -p peercdn-cli
site=demo/site
bash worker/build.sh "$site"
bash demo/generate.sh "$site/generated"
target/release/peercdn build "$site"
exec target/release/peercdn serve "$site" --addr "$addr"
