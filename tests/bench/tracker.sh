#!/usr/bin/env bash
# Tracker benchmark (not a test): announces per second and resident memory
# per 1,000 peers, `peercdn serve` versus bittorrent-tracker's server and
# aquatic_ws, with the same load generator in the same run, in alternating
# rounds. Prints every round, the per-round ratios and the medians.
#
#   tests/bench/tracker.sh [--peers 2000] [--offers 5] [--swarm-size 50] [--secs 8] [--rounds 5]
#
# Needs node, taskset, and `npm ci` done at the repository root. Builds
# the binaries first (several minutes cold, in their own target
# directory; aquatic_ws from crates.io, tests/setup.sh). About 4 minutes
# once built. PEERCDN_BENCH_AQUATIC=0 leaves aquatic_ws out.
#
# The server is built with the `native` profile, as for production (see
# the README): the release profile is tuned for the wasm's size. Set
# PEERCDN_BENCH_PROFILE=release to measure that build instead.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
base=${CARGO_TARGET_DIR:-$repo/target}
# Two target directories: the generator is its own workspace, and sharing
# one directory with the main workspace confuses rustc about which build
# of a shared dependency (serde_core) to link.
server_target=$base/tracker-bench
load_target=$base/tracker-load
profile=${PEERCDN_BENCH_PROFILE:-native}
CARGO_TARGET_DIR=$server_target \
  cargo build --profile "$profile" -q -p peercdn-cli --manifest-path "$repo/Cargo.toml"
CARGO_TARGET_DIR=$load_target \
  cargo build --release -q --manifest-path "$repo/tests/bench/tracker-load/Cargo.toml"
aquatic=()
if [ "${PEERCDN_BENCH_AQUATIC:-1}" != 0 ]; then
  # shellcheck source=../setup.sh
  . "$repo/tests/setup.sh"
  aquatic=(--aquatic "$(ensure_aquatic_ws)")
fi
exec "$load_target/release/peercdn-tracker-load" --peercdn "$server_target/$profile/peercdn" --repo "$repo" "${aquatic[@]}" "$@"
