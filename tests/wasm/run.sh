#!/usr/bin/env bash
# The browser tests of src/web (src/web/tests/): wasm-bindgen-test in a real
# service worker of headless Chromium. Built outside the network namespace
# (cargo may fetch crates), run inside it (the browser must reach nothing
# but the test runner's server on 127.0.0.1).
# Usage: bash tests/wasm/run.sh [test name filter]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/setup.sh
ensure_wasm_target
ensure_chromium
ensure_wasm_bindgen # also the runner, at the version of the wasm-bindgen crate

cargo test --target wasm32-unknown-unknown --lib --no-run
# Absolute paths: the runner and driver that setup checked, whatever the
# namespace's PATH. The timeout is generous: a slow machine is not a failure.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$(command -v wasm-bindgen-test-runner) \
  CHROMEDRIVER=$(command -v chromedriver) \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON=tests/wasm/webdriver.json \
  WASM_BINDGEN_TEST_TIMEOUT=300 \
  exec tests/e2e/lib/netns.sh cargo test --target wasm32-unknown-unknown --lib -- "$@"
