#!/usr/bin/env bash
# Benchmark (not a test): `peercdn build` on a generated 1 GiB site of mixed
# file sizes against `sha1sum` of the same files, same run, warm page cache.
# Prints each run's time and throughput and the ratio ours / sha1sum
# (goal: >= 1.0, i.e. at least sha1sum's throughput, using every core).
#
# Usage: bash tests/bench/build_vs_sha1sum.sh [runs]   (default 3 runs each)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}

cargo build --release -q -p peercdn-cli
bin=${CARGO_TARGET_DIR:-target}/release/peercdn
work=$(mktemp -d /tmp/peercdn-bench-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
site=$work/site
out=$work/out

# Mixed sizes, 1 GiB in all: a few large videos, medium downloads, many
# images and small files. Random bytes: nothing compresses or dedups.
make_files() { # count size dir
  mkdir -p "$site/$3"
  for i in $(seq 1 "$1"); do head -c "$2" /dev/urandom >"$site/$3/f$i.bin"; done
}
make_files 2 $((256 << 20)) video
make_files 8 $((32 << 20)) download
make_files 128 $((1 << 20)) img
make_files 1024 $((64 << 10)) thumb
make_files 2048 $((32 << 10)) small
bytes=$(du -sb "$site" | cut -f1)
files=$(find "$site" -type f | wc -l)
find "$site" -type f -print0 | xargs -0 cat >/dev/null # warm the page cache

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null; calc "$(date +%s.%N) - $s"; }
best() { printf '%s\n' "$@" | sort -g | head -n1; }
mibs() { calc "$bytes / 1048576 / $1"; }

ours=(); theirs=()
for _ in $(seq 1 "$runs"); do
  ours+=("$(seconds "$bin" build "$site" --out "$out")")
  theirs+=("$(seconds sh -c "find '$site' -type f -print0 | xargs -0 sha1sum")")
done
o=$(best "${ours[@]}"); t=$(best "${theirs[@]}")
printf 'site: %d files, %d bytes; %d cores; best of %d runs\n' "$files" "$bytes" "$(nproc)" "$runs"
printf 'peercdn build : %s s each; best %.3f s = %.0f MiB/s\n' "${ours[*]}" "$o" "$(mibs "$o")"
printf 'sha1sum       : %s s each; best %.3f s = %.0f MiB/s\n' "${theirs[*]}" "$t" "$(mibs "$t")"
printf 'ratio (peercdn build throughput / sha1sum throughput): %.2fx\n' "$(calc "$t / $o")"
