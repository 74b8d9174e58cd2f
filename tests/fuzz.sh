#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short while (FUZZ_SECONDS, 30 by
# default) from its seeds: the decoders of untrusted bytes (bencode, the
# manifest, the peer wire, tracker messages, WebSocket frames, Range
# headers, URL paths) must never panic, whatever they are fed. A crash
# fails the run and leaves the input under fuzz/artifacts/<target>/.
# Usage: bash tests/fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/setup.sh
ensure_cargo_fuzz
seconds=${FUZZ_SECONDS:-30}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for target in "${targets[@]}"; do
  corpus=target/fuzz-corpus/$target
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/seeds/$target" ] && seeds=("fuzz/seeds/$target")
  printf 'fuzz: %s for %s s\n' "$target" "$seconds"
  log=$corpus.log
  if ! cargo +nightly fuzz run "$target" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target failed (input under fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  grep -E '^Done' "$log" || true
done
