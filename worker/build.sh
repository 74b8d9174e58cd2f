#!/usr/bin/env bash
# Builds peercdn's browser runtime and installs it into a site directory:
#   <site>/sw.js                   the service worker bootstrap
#   <site>/peercdn/page.js         the page bootstrap (the site's one script tag)
#   <site>/peercdn/sw-addon.js     peercdn inside any service worker (sw.js uses it)
#   <site>/peercdn/peercdn.js      wasm-bindgen glue (--target no-modules)
#   <site>/peercdn/peercdn_bg.wasm the wasm, optimised with wasm-opt -Oz (npm binaryen)
# Every .js is minified with npm terser.
# Usage: bash worker/build.sh <site-dir>
set -euo pipefail
cd "$(dirname "$0")/.."
site=${1:?usage: worker/build.sh <site-dir>}
source tests/setup.sh
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_packages # binaryen's wasm-opt: Debian's is too old for today's wasm

cargo build --release --target wasm32-unknown-unknown -q
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm-bindgen --target no-modules --no-typescript --out-dir "$out" --out-name peercdn \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/peercdn.wasm"
mkdir -p "$site/peercdn"
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$out/peercdn_bg.wasm" -o "$site/peercdn/peercdn_bg.wasm"
# Minified (npm terser): a visitor downloads these; the readable sources
# stay in worker/ and the glue can be regenerated from the wasm.
minify() { node_modules/.bin/terser "$1" --compress --mangle --comments false -o "$2"; }
minify "$out/peercdn.js" "$site/peercdn/peercdn.js"
minify worker/sw.js "$site/sw.js"
minify worker/page.js "$site/peercdn/page.js"
minify worker/sw-addon.js "$site/peercdn/sw-addon.js"
