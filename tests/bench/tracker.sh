#!/bin/sh
# Tracker benchmark (not a test): announces per second and resident memory
# per 1,000 peers, `peercdn serve` versus bittorrent-tracker's server, with
# the same load generator in the same run. Prints the ratios.
#
#   tests/bench/tracker.sh [--peers 2000] [--offers 5] [--swarm-size 50] [--secs 8] [--rounds 3]
#
# Needs node, taskset, and `npm ci` done at the repository root. Builds
# release binaries first (several minutes cold). Runs in well under 3
# minutes once built.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
export CARGO_TARGET_DIR="$target"
cargo build --release -q -p peercdn-cli --manifest-path "$repo/Cargo.toml"
cargo build --release -q --manifest-path "$repo/tests/bench/tracker-load/Cargo.toml"
exec "$target/release/peercdn-tracker-load" --peercdn "$target/release/peercdn" --repo "$repo" "$@"
