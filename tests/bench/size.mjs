// Benchmark 5, size: the gzip bytes (level 9) a visitor downloads for
// peercdn (the runtime worker/build.sh installs: wasm, glue, bootstraps)
// against WebTorrent's browser bundle from node_modules.
//   node tests/bench/size.mjs <runtime-dir> <results-dir>
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { ROOT } from '../e2e/lib/origin.mjs'

const [runtime, results] = process.argv.slice(2)
const PEERCDN = ['sw.js', 'peercdn/page.js', 'peercdn/sw-addon.js', 'peercdn/peercdn.js', 'peercdn/peercdn_bg.wasm']
const WEBTORRENT = path.join(ROOT, 'node_modules/webtorrent/dist/webtorrent.min.js')

function sizes (file) {
  const bytes = fs.readFileSync(file)
  return { raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length }
}

const files = Object.fromEntries(PEERCDN.map((f) => [f, sizes(path.join(runtime, f))]))
const peercdn = Object.values(files).reduce((s, f) => ({ raw: s.raw + f.raw, gzip: s.gzip + f.gzip }), { raw: 0, gzip: 0 })
const webtorrent = sizes(WEBTORRENT)
const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/webtorrent/package.json'), 'utf8')).version
const out = { peercdn, files, webtorrent: { ...webtorrent, version, file: 'webtorrent/dist/webtorrent.min.js' } }
fs.mkdirSync(results, { recursive: true })
fs.writeFileSync(path.join(results, 'size.json'), JSON.stringify(out, null, 2))
console.error(`[bench] size: peercdn ${peercdn.gzip} B gzip, webtorrent ${webtorrent.gzip} B gzip`)
