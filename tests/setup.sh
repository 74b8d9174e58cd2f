# Installs what peercdn's tests, demo and benchmarks need, only when it is
# missing. Sourced by tests/run.sh (and the demo and bench scripts); each
# function is idempotent and quiet when there is nothing to do.

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown
}

# The npm packages the tests use (reference implementations and the browser
# driver), pinned in package-lock.json. --ignore-scripts: some optional native
# modules try to download prebuilt binaries, which fails offline.
ensure_npm_packages() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --ignore-scripts --no-audit --no-fund
  fi
}

# Debian's Chromium and ChromeDriver (never a browser download).
ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    apt-get update -q && apt-get install -y -q chromium chromium-driver
  fi
}

# cargo-fuzz and a nightly toolchain, for the fuzzing campaigns only.
ensure_cargo_fuzz() {
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
}

# The wasm-bindgen CLI at exactly the version of the wasm-bindgen crate in
# Cargo.lock (they must match), and its wasm-bindgen-test-runner (the wasm
# browser tests; same package, same version). Not --locked: its lock file
# names a webpki-roots release the registry no longer serves. --force: a
# matching wasm-bindgen with a missing or stale runner is reinstalled.
ensure_wasm_bindgen() {
  local want tool
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
  for tool in wasm-bindgen wasm-bindgen-test-runner; do
    if ! "$tool" --version 2>/dev/null | grep -qF " $want"; then
      cargo install wasm-bindgen-cli --version "$want" --force
      return
    fi
  done
}

# ffmpeg, from Debian's packages: the demo's video.
ensure_ffmpeg() {
  command -v ffmpeg >/dev/null || { apt-get update -q && apt-get install -y -q ffmpeg; }
}

# aquatic_ws, for the tracker benchmark only (the strongest WebTorrent
# tracker to measure against), built from crates.io into the target
# directory. Not --locked: with its lock file, metrics 0.22.3 fails to
# build on today's rustc. Prints the binary's path.
ensure_aquatic_ws() {
  local root=${CARGO_TARGET_DIR:-$PWD/target}/aquatic
  if [ ! -x "$root/bin/aquatic_ws" ]; then
    cargo install aquatic_ws --root "$root" >&2
  fi
  echo "$root/bin/aquatic_ws"
}
