// Benchmark 3 and 4, offload and time to first peer byte, on the demo
// site (demo/site plus its generated video and download):
//   sequential  N visitors one after another, each staying open (a seeder)
//               once it holds the whole site; origin bytes after each;
//   crowd       M visitors arriving at once on a fresh origin.
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
import { fetchInPage, sha256, waitInPage } from '../e2e/lib/site.mjs'
import { check, log, median, newVisitor, withOriginAndBrowser } from './lib/bench.mjs'

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

export async function offload ({ sequential, crowd }) {
  const site = prepareSite(path.join(ROOT, 'demo/site'), (dir) => {
    fs.cpSync(MEDIA, path.join(dir, 'generated'), { recursive: true })
  })
  const manifest = JSON.parse(fs.readFileSync(path.join(site, 'peercdn.json'), 'utf8'))
  const assets = manifest.assets.map((a) => ({ path: a.path, sha256: sha256(fs.readFileSync(path.join(site, decodeURIComponent(a.path)))) }))
  const siteBytes = manifest.assets.reduce((sum, a) => sum + a.length, 0)
  const seq = await withOriginAndBrowser(site, (env) => runSequential(env, sequential, siteBytes, assets))
  const flash = await withOriginAndBrowser(site, (env) => runCrowd(env, crowd, siteBytes, assets))
  const ttfpb = seq.visitors.slice(1).map((v) => v.firstPeerByteMs)
  return {
    siteBytes,
    assets: assets.length,
    sequential: { ...seq, ceiling: (sequential - 1) / sequential },
    crowd: flash,
    firstPeerByte: { secondVisitorMs: ttfpb[0], medianMs: median(ttfpb), all: ttfpb }
  }
}

async function runSequential ({ origin, browser }, n, siteBytes, assets) {
  const visitors = []
  let paths = {}
  for (let k = 1; k <= n; k++) {
    const v = await visit(browser, origin, siteBytes)
    const now = await originPaths(origin)
    const originBytes = sum(now)
    await verify(v.page, origin, assets)
    const fromOriginByPath = Object.fromEntries(Object.entries(now).filter(([p, b]) => b > (paths[p] ?? 0)).map(([p, b]) => [p, b - (paths[p] ?? 0)]))
    paths = now
    visitors.push({ k, originBytes, originShare: originBytes / (k * siteBytes), ...v.times, fromOriginByPath })
    log(`visitor ${k}: origin share ${(originBytes / (k * siteBytes)).toFixed(3)}, first peer byte ${v.times.firstPeerByteMs?.toFixed(0)} ms`)
  }
  const last = visitors[visitors.length - 1]
  return { visitors: visitors.map(({ page, ...rest }) => rest), originBytes: last.originBytes, deliveredBytes: n * siteBytes, offload: 1 - last.originShare }
}

async function runCrowd ({ origin, browser }, n, siteBytes, assets) {
  const started = Date.now()
  const settled = await Promise.allSettled([...Array(n)].map(() => visit(browser, origin, siteBytes)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  const visitors = settled.map((s) => s.value)
  const seconds = (Date.now() - started) / 1000
  const originBytes = await originTotal(origin)
  for (const v of visitors) await verify(v.page, origin, assets)
  log(`crowd of ${n}: origin ${(originBytes / siteBytes).toFixed(2)}x the site, ${seconds.toFixed(0)} s`)
  return {
    visitors: n,
    seconds,
    originBytes,
    deliveredBytes: n * siteBytes,
    originPerSite: originBytes / siteBytes,
    fromPeers: visitors.reduce((s, v) => s + v.fromPeers, 0)
  }
}

/** A new visitor opens the demo and stays until its leader holds every asset byte. */
async function visit (browser, origin, siteBytes) {
  const { page } = await newVisitor(browser, firstPeerHook)
  await page.goto(origin.url)
  await waitInPage(page, () => !!window.peercdn && !!navigator.serviceWorker.controller, undefined, 60000)
  const stats = await waitInPage(page, (n) => {
    const s = window.peercdn.stats()
    return s.fromOrigin + s.fromPeers >= n && { ...s, at: performance.now(), ...window.__bench }
  }, siteBytes, 600000)
  return {
    page,
    fromPeers: stats.fromPeers,
    times: { completeMs: stats.at, firstPeerMs: stats.firstPeer, firstPeerByteMs: stats.firstPeerByte, fromPeers: stats.fromPeers, fromOrigin: stats.fromOrigin }
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
