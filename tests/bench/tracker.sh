#!/bin/sh
# Tracker benchmark (not a test): announces per second and resident memory
# per 1,000 peers, `peercdn serve` versus bittorrent-tracker's server, with
# the same load generator in the same run, in alternating rounds. Prints
# every round and the ratios of each server's best round.
#
#   tests/bench/tracker.sh [--peers 2000] [--offers 5] [--swarm-size 50] [--secs 8] [--rounds 3]
#
# Needs node, taskset, and `npm ci` done at the repository root. Builds
# release binaries first (several minutes cold, in their own target
# directory). About 90 s once built.
#
# The core crate is built at opt-level 3 here: the workspace's release
# profile compiles it at "z" because the same crate is the visitor's wasm,
# but a native server wants speed (set PEERCDN_BENCH_CORE_OPT=z to measure
# the default build instead).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
base=${CARGO_TARGET_DIR:-$repo/target}
# Two target directories: the generator is its own workspace, and sharing
# one directory with the main workspace confuses rustc about which build
# of a shared dependency (serde_core) to link.
server_target=$base/tracker-bench
load_target=$base/tracker-load
CARGO_TARGET_DIR=$server_target \
  CARGO_PROFILE_RELEASE_PACKAGE_PEERCDN_OPT_LEVEL=${PEERCDN_BENCH_CORE_OPT:-3} \
  cargo build --release -q -p peercdn-cli --manifest-path "$repo/Cargo.toml"
CARGO_TARGET_DIR=$load_target \
  cargo build --release -q --manifest-path "$repo/tests/bench/tracker-load/Cargo.toml"
exec "$load_target/release/peercdn-tracker-load" --peercdn "$server_target/release/peercdn" --repo "$repo" "$@"
