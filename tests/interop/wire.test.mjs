// WebTorrent's own wire code (npm `bittorrent-protocol` and `ut_metadata`,
// what the WebTorrent client runs in every browser) against the peercdn
// engine, over a byte stream (a child process's stdin/stdout standing in
// for the data channel):
// - as a magnet-link client knowing only the info hash, it fetches the info
//   dictionary from our engine over ut_metadata (BEP 9; ut_metadata checks
//   it against the info hash), then downloads the big asset block by block
//   and checks every piece's SHA-1 against that dictionary;
// - as a seeder, it serves the same site to our engine, which downloads
//   and verifies the asset.
//
// Needs the bridge binary: PEERCDN_WIRE_PEER, or
// target/release/examples/wire_peer (`cargo build --release --example wire_peer`).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import Protocol from 'bittorrent-protocol'
import utMetadata from 'ut_metadata'
import bencode from 'bencode'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = process.env.PEERCDN_WIRE_PEER ?? join(root, 'target', 'release', 'examples', 'wire_peer')
const ASSET = 3 * 1024 * 1024 + 12345
const BLOCK = 16 * 1024

function bridge (args) {
  assert.ok(existsSync(bin), `missing ${bin}`)
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const lines = createInterface({ input: child.stderr })
  const json = []
  const waiters = []
  lines.on('line', line => {
    if (!line.startsWith('{')) return
    json.push(JSON.parse(line))
    waiters.splice(0).forEach(w => w())
  })
  const nth = n => new Promise(resolve => {
    const check = () => (json.length > n ? resolve(json[n]) : waiters.push(check))
    check()
  })
  const wire = new Protocol()
  child.stdout.pipe(wire).pipe(child.stdin)
  return { child, wire, nth }
}

const sha1 = buf => createHash('sha1').update(buf).digest()
const once = (emitter, event) => new Promise(resolve => emitter.once(event, (...a) => resolve(a)))

function request (wire, index, offset, length) {
  return new Promise((resolve, reject) =>
    wire.request(index, offset, length, (err, block) => (err ? reject(err) : resolve(block))))
}

test('a WebTorrent magnet client fetches metadata and pieces from our engine', async () => {
  const { child, wire, nth } = bridge(['seed', String(ASSET)])
  const layout = await nth(0)
  wire.use(utMetadata())
  // Listen before sending: the engine's handshake and extended handshake
  // can arrive in one chunk and be emitted in the same tick.
  const handshake = once(wire, 'handshake')
  const extended = once(wire, 'extended')
  wire.handshake(layout.info_hash, Buffer.alloc(20, 7).toString('hex'), { dht: false })
  const [infoHash, , extensions] = await handshake
  assert.equal(infoHash, layout.info_hash)
  assert.equal(extensions.extended, true, 'BEP 10 bit set')
  await extended
  wire.ut_metadata.fetch()
  // ut_metadata emits only a dictionary whose SHA-1 is the info hash.
  const [torrent] = await once(wire.ut_metadata, 'metadata')
  const info = bencode.decode(torrent).info
  assert.equal(sha1(bencode.encode(info)).toString('hex'), layout.info_hash)
  const pieceLength = info['piece length']
  assert.equal(pieceLength, layout.piece_length)

  wire.interested()
  if (wire.peerChoking) await once(wire, 'unchoke')
  const first = layout.big_offset / pieceLength
  const count = Math.ceil(layout.big_length / pieceLength)
  for (let p = first; p < first + count; p++) {
    const size = Math.min(pieceLength, layout.total_length - p * pieceLength)
    const blocks = []
    for (let off = 0; off < size; off += BLOCK) {
      blocks.push(request(wire, p, off, Math.min(BLOCK, size - off)))
    }
    const piece = Buffer.concat(await Promise.all(blocks))
    assert.ok(sha1(piece).equals(Buffer.from(info.pieces.subarray(p * 20, p * 20 + 20))), `piece ${p}`)
  }
  wire.destroy()
  child.kill()
})

test('our engine downloads and verifies the asset from a WebTorrent seeder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peercdn-wire-'))
  const file = join(dir, 'content')
  const { child, wire, nth } = bridge(['leech', String(ASSET), file])
  const layout = await nth(0)
  const content = readFileSync(file)
  const pieceLength = layout.piece_length
  const pieces = Math.ceil(layout.total_length / pieceLength)
  wire.on('handshake', () => {
    wire.handshake(layout.info_hash, Buffer.alloc(20, 9).toString('hex'), { dht: false })
    const bits = Buffer.alloc(Math.ceil(pieces / 8))
    for (let p = 0; p < pieces; p++) bits[p >> 3] |= 0x80 >> (p & 7)
    wire.bitfield(bits)
  })
  wire.on('interested', () => wire.unchoke())
  wire.on('request', (index, offset, length, cb) => {
    const start = index * pieceLength + offset
    cb(null, content.subarray(start, start + length))
  })
  const outcome = await nth(1)
  assert.equal(outcome.done, true)
  assert.equal(outcome.hash_failures, 0)
  assert.equal(outcome.from_peers, layout.big_length)
  wire.destroy()
  child.kill()
})
