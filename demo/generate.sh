#!/usr/bin/env bash
# Generates the demo's large files (too large to commit) into DIR, once:
# a 32 MiB download and a seekable ~24 MiB H.264 video (ffmpeg's test
# pattern, a keyframe every 2 s, moov atom first so playback and seeking
# start before the whole file is there).
set -euo pipefail
dir=${1:?usage: demo/generate.sh DIR}
cd "$(dirname "$0")/.."
source tests/setup.sh
mkdir -p "$dir"
if [ ! -f "$dir/video.mp4" ]; then
  ensure_ffmpeg
  ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25:duration=60 \
    -f lavfi -i sine=frequency=440:duration=60 \
    -c:v libx264 -preset ultrafast -b:v 3200k -maxrate 3200k -bufsize 6400k -g 50 -pix_fmt yuv420p \
    -c:a aac -b:a 96k -movflags +faststart "$dir/video.tmp.mp4"
  mv "$dir/video.tmp.mp4" "$dir/video.mp4"
fi
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
