// The stock WebTorrent tracker client (npm `bittorrent-tracker`, the code
// WebTorrent itself uses) against `peercdn serve`'s tracker, over real
// sockets on 127.0.0.1. The other direction (our messages against the
// stock server) is cli/tests/serve_interop.rs.
//
// Node has no WebRTC here (the client's `webrtc-polyfill` needs a native
// module that is not built), so a module hook swaps in a stand-in
// RTCPeerConnection that makes real-looking SDP offers and answers without
// networking. Everything on the tracker path is the stock client's code.
//
// Needs the peercdn binary: PEERCDN_BIN, or target/debug/peercdn
// (`cargo build -p peercdn-cli`).

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { register } from 'node:module'
import { createInterface } from 'node:readline'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

// A stand-in WebRTC: offers and answers carry a unique SDP, ICE gathering
// "completes" at once, and nothing ever connects.
const fakeWebrtc = `
let n = 0
class FakeChannel {
  constructor (label) { this.label = label; this.readyState = 'connecting'; this.bufferedAmount = 0; this.bufferedAmountLowThreshold = 0 }
  send () {}
  close () { this.readyState = 'closed' }
}
export class RTCPeerConnection {
  constructor (config) {
    this.config = config; this.id = ++n
    this.signalingState = 'stable'; this.iceConnectionState = 'new'; this.iceGatheringState = 'new'; this.connectionState = 'new'
    this.localDescription = null; this.remoteDescription = null
  }
  createDataChannel (label) { return new FakeChannel(label) }
  async createOffer () { return { type: 'offer', sdp: 'v=0\\r\\no=fake-offer-' + this.id + ' 1 IN IP4 127.0.0.1\\r\\n' } }
  async createAnswer () { return { type: 'answer', sdp: 'v=0\\r\\no=fake-answer-' + this.id + ' 1 IN IP4 127.0.0.1\\r\\n' } }
  async setLocalDescription (d) {
    this.localDescription = d
    this.iceGatheringState = 'complete'
    setTimeout(() => this.onicecandidate && this.onicecandidate({ candidate: null }), 0)
  }
  async setRemoteDescription (d) { this.remoteDescription = d }
  async addIceCandidate () {}
  getStats () { return Promise.resolve(new Map()) }
  getSenders () { return [] }
  close () { this.connectionState = 'closed' }
}
export class RTCSessionDescription { constructor (init) { this.type = init.type; this.sdp = init.sdp } }
export class RTCIceCandidate { constructor (init) { Object.assign(this, init) } }
`
const fakeUrl = 'data:text/javascript,' + encodeURIComponent(fakeWebrtc)
const hooks = `
export async function resolve (specifier, context, next) {
  if (specifier === 'webrtc-polyfill') return { url: ${JSON.stringify(fakeUrl)}, shortCircuit: true }
  return next(specifier, context)
}`
register('data:text/javascript,' + encodeURIComponent(hooks))
// Imported only after the hook is in place.
const { default: Client } = await import('bittorrent-tracker')

let server
let base

before(async () => {
  const bin = process.env.PEERCDN_BIN || join(root, 'target', 'debug', 'peercdn')
  assert.ok(existsSync(bin), `no peercdn binary at ${bin}: cargo build -p peercdn-cli, or set PEERCDN_BIN`)
  const site = mkdtempSync(join(tmpdir(), 'peercdn-tracker-'))
  server = spawn(bin, ['serve', site, '--tracker-only', '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await new Promise((resolve, reject) => {
    server.once('error', reject)
    createInterface({ input: server.stdout }).once('line', (l) => resolve([l]))
  })
  base = line.match(/ws:\/\/(127\.0\.0\.1:\d+)\/announce/)[1]
})

after(() => { server.kill('SIGTERM') })

async function stats () {
  const res = await fetch(`http://${base}/_peercdn/stats`)
  return (await res.json()).tracker
}

function client (infoHash, peerByte) {
  return new Client({
    infoHash,
    peerId: Buffer.alloc(20, peerByte).toString('hex'),
    announce: [`ws://${base}/announce`],
    port: 6881,
    rtcConfig: { iceServers: [] }
  })
}

function once (emitter, event, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms)
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args) })
  })
}

test('two stock clients exchange offer and answer through our tracker', async () => {
  const infoHash = 'aa'.repeat(20)
  const a = client(infoHash, 0xa1)
  const b = client(infoHash, 0xb2)
  a.on('warning', (e) => assert.fail(`A warning: ${e.message}`))
  b.on('warning', (e) => assert.fail(`B warning: ${e.message}`))
  try {
    const updateA = once(a, 'update')
    a.start()
    const [first] = await updateA
    assert.equal(first.complete + first.incomplete, 1)

    // B's offers are relayed to A; A answers; B gets the answer.
    const peerAtA = once(a, 'peer')
    const peerAtB = once(b, 'peer')
    b.start()
    const [remoteAtA] = await peerAtA
    assert.equal(remoteAtA.id, Buffer.alloc(20, 0xb2).toString('hex'))
    const [remoteAtB] = await peerAtB
    assert.equal(remoteAtB.id, Buffer.alloc(20, 0xa1).toString('hex'))
    assert.match(remoteAtB._pc.remoteDescription.sdp, /fake-answer-/, 'B holds A\'s SDP answer')

    const t = await stats()
    assert.equal(t.peers, 2)
    assert.equal(t.offers_relayed, 1, 'one other peer, so one of B\'s offers')
    assert.equal(t.answers_relayed, 1)
  } finally {
    a.destroy()
    b.destroy()
  }
})

test('stock client sees swarm counts and scrapes our tracker', async () => {
  const infoHash = 'bb'.repeat(20)
  const seeder = new Client({
    infoHash,
    peerId: Buffer.alloc(20, 0xc3).toString('hex'),
    announce: [`ws://${base}/announce`],
    port: 6881,
    rtcConfig: { iceServers: [] },
    getAnnounceOpts: () => ({ left: 0 })
  })
  const leecher = client(infoHash, 0xd4)
  try {
    const seeded = once(seeder, 'update')
    seeder.start()
    await seeded
    const updated = once(leecher, 'update')
    leecher.start()
    const [update] = await updated
    assert.deepEqual([update.complete, update.incomplete], [1, 1])
    const scraped = once(leecher, 'scrape')
    leecher.scrape()
    const [scrape] = await scraped
    assert.equal(scrape.infoHash, infoHash)
    assert.deepEqual([scrape.complete, scrape.incomplete], [1, 1])
  } finally {
    seeder.destroy()
    leecher.destroy()
  }
})

test('stopping leaves the swarm', async () => {
  const infoHash = 'cc'.repeat(20)
  const c = client(infoHash, 0xe5)
  const started = once(c, 'update')
  c.start()
  await started
  const before = await stats()
  c.stop()
  let after = before
  for (let i = 0; i < 50 && after.peers >= before.peers; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = await stats()
  }
  assert.equal(after.peers, before.peers - 1)
  c.destroy()
})
