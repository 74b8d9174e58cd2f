// Cross-check of `peercdn build` with an independent implementation: the npm
// package parse-torrent (WebTorrent's parser) reads our peercdn.torrent, and
// every piece hash is recomputed here from the files on disk with node's
// own SHA-1, zero padding (BEP 47) included.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import parseTorrent from 'parse-torrent'

const root = path.resolve(import.meta.dirname, '../..')
const bin = process.env.PEERCDN_BIN || path.join(root, 'target/debug/peercdn')

function build (site, extra = []) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-out-'))
  execFileSync(bin, ['build', site, '--out', out, ...extra], { stdio: 'pipe' })
  return {
    torrent: fs.readFileSync(path.join(out, 'peercdn.torrent')),
    json: JSON.parse(fs.readFileSync(path.join(out, 'peercdn.json'), 'utf8'))
  }
}

// A small deterministic PRNG so the generated site is the same every run.
function rng (seed) {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

function generateSite () {
  const site = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-gen-')), 'generated')
  const rand = rng(42)
  const sizes = [0, 1, 16383, 16384, 16385, 65536, 300001, 1 << 20, 2500000]
  const names = ['a.bin', 'dir/b c.bin', 'dir/sub/ünï.bin', 'z/[x].bin', 'q#1.bin', 'p%2.bin', 'e.js', 'f.wasm', 'g/h/i/j.dat']
  names.forEach((name, i) => {
    const file = path.join(site, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const bytes = Buffer.alloc(sizes[i])
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256)
    fs.writeFileSync(file, bytes)
  })
  return site
}

// Recomputes every piece from the files as parse-torrent lays them out.
function recomputePieces (parsed, site) {
  const data = Buffer.concat(parsed.files.map((file) => {
    const relative = file.path.split(path.sep).slice(1)
    if (relative[0] === '.pad') return Buffer.alloc(file.length)
    return fs.readFileSync(path.join(site, ...relative))
  }))
  assert.equal(data.length, parsed.length)
  const pieces = []
  for (let off = 0; off < data.length; off += parsed.pieceLength) {
    pieces.push(createHash('sha1').update(data.subarray(off, off + parsed.pieceLength)).digest('hex'))
  }
  return pieces
}

function crossCheck (site, extra) {
  const { torrent, json } = build(site, extra)
  const again = build(site, extra)
  assert.ok(torrent.equals(again.torrent), 'two builds give the same torrent')
  assert.deepEqual(json, again.json, 'two builds give the same peercdn.json')
  return { json, parsedPromise: parseTorrent(torrent) }
}

for (const [label, makeSite, extra] of [
  ['fixture site', () => path.join(root, 'tests/fixtures/site'), []],
  ['generated site, automatic piece length', generateSite, []],
  ['generated site, 64 KiB pieces', generateSite, ['--piece-length', '65536']]
]) {
  test(`parse-torrent agrees with peercdn build: ${label}`, async () => {
    const site = makeSite()
    const { json, parsedPromise } = crossCheck(site, extra)
    const parsed = await parsedPromise

    assert.equal(parsed.infoHash, json.info_hash)
    assert.equal(parsed.name, path.basename(site))
    assert.equal(parsed.pieceLength, json.piece_length)
    assert.deepEqual(recomputePieces(parsed, site), parsed.pieces)
    // The manifest carries the torrent's info dictionary itself (base64),
    // and no hash beside it.
    assert.equal(createHash('sha1').update(Buffer.from(json.info, 'base64')).digest('hex'), json.info_hash)
    assert.equal(json.pieces, undefined)

    // Every asset in peercdn.json is a file of the torrent at the same
    // offset; every other file is a BEP 47 padding file that ends on a
    // piece boundary.
    const assets = parsed.files.filter((f) => f.path.split(path.sep)[1] !== '.pad')
    assert.equal(assets.length, json.assets.length)
    assets.forEach((file, i) => {
      const entry = json.assets[i]
      const relative = file.path.split(path.sep).slice(1).join('/')
      // The URL path decodes to the file's path, and a browser's URL parser
      // leaves it exactly as written (so the service worker's lookup by
      // `URL.pathname` finds it).
      assert.equal(entry.path.split('/').map(decodeURIComponent).join('/'), relative)
      assert.equal(new URL(entry.path, 'http://127.0.0.1/').pathname, '/' + entry.path)
      assert.equal(file.length, entry.length)
      assert.equal(file.offset % parsed.pieceLength, 0, `${relative} starts on a piece boundary`)
    })
    for (const pad of parsed.files.filter((f) => f.path.split(path.sep)[1] === '.pad')) {
      assert.equal(pad.name, String(pad.length))
      assert.equal((pad.offset + pad.length) % parsed.pieceLength, 0)
    }
  })
}
