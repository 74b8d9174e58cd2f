#!/usr/bin/env bash
# Generates the demo's large files (too large to commit) into DIR, once:
# a 32 MiB download. Deterministic content, so the manifest is stable.
set -euo pipefail
dir=${1:?usage: demo/generate.sh DIR}
mkdir -p "$dir"
if [ ! -f "$dir/download.bin" ]; then
  # 32 MiB of a repeatable pseudo-random stream: a SHA-256 hash chain.
  python3 - "$dir/download.bin" <<'PY'
import hashlib, sys
with open(sys.argv[1], "wb") as out:
    block = b"peercdn demo"
    for i in range((32 << 20) // 32):
        block = hashlib.sha256(block).digest()
        out.write(block)
PY
fi
