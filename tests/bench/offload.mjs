// Benchmark 3 and 4, offload and time to first peer byte, on the demo
// site (demo/site plus its generated video and download):
//   sequential  N visitors one after another, each viewing every asset of
//               the site and staying open (a seeder) once it holds it all;
//               origin bytes after each;
//   crowd       M visitors arriving at once on a fresh origin, `crowdRuns`
//               times (each on a fresh origin and browser); the run with
//               the median origin bytes is reported, with every run's
//               figure (one run varied from 1.35 to 2.46 sites).
// Origin bytes are what `/_peercdn/stats` counts (everything it sent:
// manifest assets, and the bootstrap a first visit always loads from the
// origin: page, runtime, manifest). The ceiling of the sequential offload
// is (N-1)/N: the first visitor's copy. Time to first peer byte: from
// navigation start to the leader's first `peercdn:stats` event counting a
// verified piece from a peer (recorded by an init script; no runtime hook).
// Correctness: every visitor's every asset, read back through its service
// worker, has the SHA-256 of the file on disk, with no new origin byte.
import fs from 'node:fs'
import path from 'node:path'
import { ROOT, prepareSite } from '../e2e/lib/origin.mjs'
import { fetchInPage, pieceCount, sha256, waitInPage } from '../e2e/lib/site.mjs'
import { check, log, median, newVisitor, removeSite, withOriginAndBrowser } from './lib/bench.mjs'

const MEDIA = process.env.PEERCDN_DEMO_MEDIA || path.join(ROOT, 'target/demo-media')

/** Init script: when this visitor's leader first has a peer, and first verifies a piece from one. */
function firstPeerHook () {
  window.__bench = { firstPeer: null, firstPeerByte: null }
  window.addEventListener('peercdn:stats', (e) => {
    const now = performance.now()
    if (e.detail.peers > 0 && window.__bench.firstPeer === null) window.__bench.firstPeer = now
    if (e.detail.fromPeers > 0 && window.__bench.firstPeerByte === null) window.__bench.firstPeerByte = now
  })
}

export async function offload ({ sequential, crowd, crowdRuns }) {
  const site = prepareSite(path.join(ROOT, 'demo/site'), (dir) => {
    fs.cpSync(MEDIA, path.join(dir, 'generated'), { recursive: true })
  })
  const manifest = JSON.parse(fs.readFileSync(path.join(site, 'peercdn.json'), 'utf8'))
  const assets = manifest.assets.map((a) => ({ path: a.path, sha256: sha256(fs.readFileSync(path.join(site, decodeURIComponent(a.path)))) }))
  const siteBytes = manifest.assets.reduce((sum, a) => sum + a.length, 0)
  const seq = await withOriginAndBrowser(site, (env) => runSequential(env, sequential, manifest, siteBytes, assets))
  const flashes = []
  for (let run = 1; run <= crowdRuns; run++) {
    flashes.push(await withOriginAndBrowser(site, (env) => runCrowd(env, crowd, manifest, siteBytes, assets)))
  }
  removeSite(site)
  const byOrigin = [...flashes].sort((a, b) => a.originBytes - b.originBytes)
  const flash = { ...byOrigin[(byOrigin.length - 1) >> 1], runs: flashes.map((f) => f.originPerSite) }
  const ttfpb = seq.visitors.slice(1).map((v) => v.firstPeerByteMs)
  return {
    siteBytes,
    assets: assets.length,
    pieces: pieceCount(manifest),
    pieceLength: manifest.piece_length,
    sequential: { ...seq, ceiling: (sequential - 1) / sequential },
    crowd: flash,
    firstPeerByte: { secondVisitorMs: ttfpb[0], medianMs: median(ttfpb), all: ttfpb }
  }
}

async function runSequential ({ origin, browser }, n, manifest, siteBytes, assets) {
  const visitors = []
  let paths = {}
  for (let k = 1; k <= n; k++) {
    const v = await visit(browser, origin, manifest, `visitor ${k}`, 300000)
    const now = await originPaths(origin)
    const originBytes = sum(now)
    if (v.complete) await verify(v.page, origin, assets)
    const fromOriginByPath = Object.fromEntries(Object.entries(now).filter(([p, b]) => b > (paths[p] ?? 0)).map(([p, b]) => [p, b - (paths[p] ?? 0)]))
    paths = now
    visitors.push({ k, originBytes, originShare: originBytes / (k * siteBytes), ...v.times, fromOriginByPath })
    log(`visitor ${k}: origin share ${(originBytes / (k * siteBytes)).toFixed(3)}, first peer byte ${v.times.firstPeerByteMs?.toFixed(0)} ms`)
  }
  const last = visitors[visitors.length - 1]
  return { visitors, complete: visitors.filter((v) => v.complete).length, originBytes: last.originBytes, deliveredBytes: n * siteBytes, offload: 1 - last.originShare }
}

async function runCrowd ({ origin, browser }, n, manifest, siteBytes, assets) {
  const started = Date.now()
  const settled = await Promise.allSettled([...Array(n)].map((_, i) => visit(browser, origin, manifest, `crowd visitor ${i + 1}`, 480000)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  const visitors = settled.map((s) => s.value)
  const seconds = (Date.now() - started) / 1000
  const originBytes = await originTotal(origin)
  const complete = visitors.filter((v) => v.complete)
  for (const v of complete) await verify(v.page, origin, assets)
  log(`crowd of ${n}: origin ${(originBytes / siteBytes).toFixed(2)}x the site, ${seconds.toFixed(0)} s`)
  return {
    visitors: n,
    complete: complete.length,
    cachedPieces: visitors.map((v) => v.times.cachedPieces),
    seconds,
    originBytes,
    deliveredBytes: n * siteBytes,
    originPerSite: originBytes / siteBytes,
    fromPeers: visitors.reduce((s, v) => s + v.fromPeers, 0),
    fromOriginByLeaders: visitors.reduce((s, v) => s + v.times.fromOrigin, 0),
    peersAtEnd: await Promise.all(visitors.map((v) => v.page.evaluate(() => window.peercdn.stats().peers)))
  }
}

/**
 * A new visitor opens the demo, views every asset of it (its page fetches
 * them all at once through the worker: a visitor's browser takes from the
 * origin only what its pages ask for), and stays until its Cache Storage
 * holds every piece (the leader's counters miss pieces its worker fetched
 * itself), or until `deadlineMs`: then it is reported incomplete.
 */
async function visit (browser, origin, manifest, label, deadlineMs) {
  const { page } = await newVisitor(browser, firstPeerHook)
  await page.goto(origin.url)
  await waitInPage(page, () => !!window.peercdn && !!navigator.serviceWorker.controller, undefined, 60000)
  await page.evaluate(() => {
    window.__viewing = fetch('peercdn.json').then((r) => r.json())
      .then((m) => Promise.all(m.assets.map((a) => fetch(a.path).then((r) => r.arrayBuffer()))))
      .catch((e) => console.error('viewing the site failed', e))
  })
  const want = { cache: 'peercdn-' + manifest.info_hash, pieces: pieceCount(manifest) }
  const deadline = Date.now() + deadlineMs
  let logged = Date.now()
  for (;;) {
    const now = await page.evaluate(async ({ cache }) => ({
      cached: (await (await caches.open(cache)).keys()).length, ...window.peercdn.stats(), at: performance.now(), ...window.__bench
    }), want)
    const complete = now.cached >= want.pieces
    if (complete || Date.now() > deadline) {
      return {
        page,
        complete,
        fromPeers: now.fromPeers,
        times: { complete, cachedPieces: now.cached, completeMs: now.at, firstPeerMs: now.firstPeer, firstPeerByteMs: now.firstPeerByte, fromPeers: now.fromPeers, fromOrigin: now.fromOrigin }
      }
    }
    if (Date.now() - logged > 30000) {
      logged = Date.now()
      log(`${label}: ${now.cached}/${want.pieces} pieces, ${now.peers} peers`)
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

/** Every asset through the visitor's worker is the file on disk, and the origin sent nothing for it. */
async function verify (page, origin, assets) {
  const before = await originTotal(origin)
  for (const a of assets) check((await fetchInPage(page, a.path)).sha256 === a.sha256, a.path)
  check(await originTotal(origin) === before, 'verification read from the origin: a visitor was missing pieces')
}

async function originPaths (origin) {
  return (await origin.stats()).origin.paths
}

const sum = (paths) => Object.values(paths).reduce((total, n) => total + n, 0)

async function originTotal (origin) {
  return sum(await originPaths(origin))
}
