#!/usr/bin/env bash
# Builds peercdn's browser runtime and installs it into a site directory:
#   <site>/sw.js                   the service worker bootstrap
#   <site>/peercdn/page.js         the page bootstrap (the site's one script tag)
#   <site>/peercdn/sw-addon.js     peercdn inside any service worker (sw.js uses it)
#   <site>/peercdn/peercdn.js      wasm-bindgen glue (--target no-modules), import names shortened
#   <site>/peercdn/peercdn_bg.wasm the wasm, optimised with wasm-opt -Oz (npm binaryen)
# Every .js is minified with npm terser.
# Usage: bash worker/build.sh <site-dir>
set -euo pipefail
# The site is named from the caller's directory, before we move to the
# checkout; it must exist (a typo must not write the runtime elsewhere).
[ $# -eq 1 ] || { echo "usage: worker/build.sh <site-dir>" >&2; exit 2; }
[ -d "$1" ] || { echo "worker/build.sh: $1: no such directory" >&2; exit 1; }
site=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
source tests/setup.sh
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_packages # binaryen's wasm-opt: Debian's is too old for today's wasm

# Panic messages carry source locations; for the crates from the registry
# those start with this machine's registry path, of no use to a visitor
# (and different on every machine): cut to `r/<crate>/...` (65 B gzip).
remap=
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  [ -d "$dir" ] && remap="$remap --remap-path-prefix=${dir%/}=r"
done
RUSTFLAGS="${RUSTFLAGS:-}$remap" cargo build --release --target wasm32-unknown-unknown -q
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm-bindgen --target no-modules --no-typescript --out-dir "$out" --out-name peercdn \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/peercdn.wasm"
mkdir -p "$site/peercdn"
# Merging duplicate and near-duplicate functions (generic instantiations
# that compile to the same code) before -Oz, repeated until nothing
# changes, saves about 0.7 KB gzip over -Oz alone. A function of more than
# 20 instructions stays out of its one caller (the default inlines it
# whatever its size): measured, that is about 2% more bytes before gzip
# but 5 KB (5%) fewer after it, probably because fewer and smaller huge
# functions (async state machines) mean fewer locals and more repeats.
# The value is the middle of a plateau (10 to 30 give within 0.4 KB); 60
# and more lose most of the gain: re-measure when the code changes much.
# Functions in the order of their Rust paths, generic arguments aside
# (the key worker/order-functions.mjs puts in the name section, dropped
# by --strip-debug): code that looks alike then sits within gzip's 32 KB
# window of itself. 0.6 KB gzip less than the linker's order.
# The producers and target-features sections are of no use to a visitor.
node worker/order-functions.mjs "$out/peercdn_bg.wasm" "$out/keyed.wasm"
node_modules/.bin/wasm-opt --duplicate-function-elimination --merge-similar-functions --converge -Oz \
  --one-caller-inline-max-function-size=20 --reorder-functions-by-name \
  --strip-debug --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$out/keyed.wasm" -o "$out/opt.wasm"
# Short import names in the wasm and the glue alike (see the script).
node worker/shorten-imports.mjs "$out/opt.wasm" "$out/peercdn.js" "$site/peercdn/peercdn_bg.wasm" "$out/glue.js"
# Minified (npm terser): a visitor downloads these; the readable sources
# stay in worker/ and the glue can be regenerated from the wasm.
minify() { node_modules/.bin/terser "$1" --compress --mangle --comments false -o "$2"; }
minify "$out/glue.js" "$site/peercdn/peercdn.js"
minify worker/sw.js "$site/sw.js"
minify worker/page.js "$site/peercdn/page.js"
minify worker/sw-addon.js "$site/peercdn/sw-addon.js"

# What a visitor downloads, compressed the way a server would send it.
total=0
for file in sw.js peercdn/page.js peercdn/sw-addon.js peercdn/peercdn.js peercdn/peercdn_bg.wasm; do
  bytes=$(gzip -9 -c "$site/$file" | wc -c)
  total=$((total + bytes))
  printf 'peercdn runtime: %-28s %7d B gzip\n' "$file" "$bytes"
done
printf 'peercdn runtime: %-28s %7d B gzip (%s KiB)\n' total "$total" "$(awk "BEGIN{printf \"%.1f\", $total/1024}")"
