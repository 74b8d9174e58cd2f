#!/usr/bin/env bash
# peercdn's benchmarks against their anchors, measured side by side in one
# run; writes docs/BENCHMARKS.md and its plots (docs/bench-*.png). Not a
# test: it prints figures and ratios and fails only when something breaks
# (a transfer whose bytes are wrong, a server that does not start).
#
#   bash tests/bench/run.sh [--quick] [--skip-tracker] [--only throughput,swcost,offload]
#
#   --quick         fewer repetitions and visitors (about 5 minutes once built)
#   --skip-tracker  leave out tests/bench/tracker.sh (about 2 minutes)
#   --only LIST     only these browser benchmarks; earlier results of the
#                   others are kept and reported again
#
# Installs what is missing (tests/setup.sh), builds the CLI and the runtime
# into $CARGO_TARGET_DIR (default target/), runs every browser benchmark
# inside the isolated network namespace (tests/e2e/lib/netns.sh), and the
# plots with matplotlib from a venv under $CARGO_TARGET_DIR/bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
command_line="bash tests/bench/run.sh $*"
quick=() tracker=1 only=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=(--quick) ;;
    --skip-tracker) tracker= ;;
    --only) only=(--only "${2:?--only takes a list}"); shift ;;
    *) echo "usage: bash tests/bench/run.sh [--quick] [--skip-tracker] [--only throughput,swcost,offload]" >&2; exit 2 ;;
  esac
  shift
done
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
out=$CARGO_TARGET_DIR/bench
results=$out/results
step() { printf '\n== %s\n' "$*" >&2; }

step "setup and build"
source tests/setup.sh
ensure_wasm_target
ensure_npm_packages
ensure_chromium
ensure_wasm_bindgen
ensure_ffmpeg
[ ${#only[@]} -gt 0 ] || rm -rf "$results"
mkdir -p "$results"
cargo build --release -q -p peercdn-cli
rm -rf "$out/runtime" && mkdir -p "$out/runtime"
bash worker/build.sh "$out/runtime"
bash demo/generate.sh "$out/demo-media"
export PEERCDN_BIN=$CARGO_TARGET_DIR/release/peercdn
export PEERCDN_RUNTIME_DIR=$out/runtime
export PEERCDN_DEMO_MEDIA=$out/demo-media

step "size"
node tests/bench/size.mjs "$out/runtime" "$results"

step "browser benchmarks (Chromium, isolated network namespace)"
tests/e2e/lib/netns.sh node tests/bench/browser.mjs "$results" "${quick[@]}" "${only[@]}"

if [ -n "$tracker" ]; then
  step "tracker (tests/bench/tracker.sh)"
  if [ ${#quick[@]} -gt 0 ]; then set -- --rounds 1 --secs 4; else set --; fi
  bash tests/bench/tracker.sh "$@" | tee "$results/tracker.txt"
fi

step "plots and report"
if [ ! -x "$out/venv/bin/python" ] || ! "$out/venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$out/venv"
  "$out/venv/bin/pip" install -q --disable-pip-version-check 'matplotlib>=3.8,<4'
fi
mkdir -p docs
"$out/venv/bin/python" tests/bench/plots.py "$results" docs
node tests/bench/report.mjs "$results" docs/BENCHMARKS.md "$command_line"
echo "wrote docs/BENCHMARKS.md" >&2
