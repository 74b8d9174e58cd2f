// Benchmark 2, service-worker cost: a page that loads 100 assets of 32 KiB
// and one of 8 MiB, all already cached, timed from navigation start to the
// last body read (median of `loads` reloads), four ways on one origin:
//   peercdn       the page as a site adds peercdn (page.js + its worker);
//   peercdn-sw    peercdn's worker alone (sw.js registered, no page.js);
//   workbox       a Workbox CacheFirst worker (npm workbox-* builds);
//   none          no worker: the browser's HTTP cache and the origin.
// Correctness: the bodies' SHA-256 after the last load; and for the
// workers, no asset byte from the origin during the timed loads.
import fs from 'node:fs'
import path from 'node:path'
import { ROOT, prepareSite } from '../e2e/lib/origin.mjs'
import { pseudoRandomBytes, sha256, writeFile } from '../e2e/lib/site.mjs'
import { MiB, check, log, median, newVisitor, removeSite, withOriginAndBrowser } from './lib/bench.mjs'

const URLS = [...Array(100).keys()].map((i) => `assets/a${String(i).padStart(3, '0')}.bin`).concat('assets/big.bin')

const WORKBOX_SW = `
importScripts('wb/workbox-sw/build/workbox-sw.js')
workbox.setConfig({ modulePathCb: (name, dev) => '/wb/' + name + '/build/' + name + (dev ? '.dev' : '.prod') + '.js', debug: false })
self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))
workbox.routing.registerRoute(({ url }) => url.pathname.startsWith('/assets/'), new workbox.strategies.CacheFirst({ cacheName: 'assets' }))
`

// head: how the page brings its worker in. The loader fetches every asset
// in parallel and records when the last body is read.
const page = (head) => `<!doctype html>
<meta charset="utf-8"><title>sw cost</title>${head}
<script>
  const urls = ${JSON.stringify(URLS)}
  window.loaded = Promise.all(urls.map((u) => fetch(u).then((r) => {
    if (!r.ok) throw new Error(u + ' ' + r.status)
    return r.arrayBuffer()
  }))).then((bodies) => {
    window.bodies = bodies
    return { ms: performance.now(), controlled: !!navigator.serviceWorker.controller }
  })
</script>`

const register = (url) => `<script>navigator.serviceWorker.register('${url}')</script>`

const VARIANTS = {
  peercdn: page('<script src="peercdn/page.js"></script>'),
  'peercdn-sw': page(register('sw.js')),
  workbox: page(register('wb-sw.js')),
  none: page('')
}

export async function swCost ({ loads }) {
  const assets = URLS.map((u, i) => pseudoRandomBytes(u.endsWith('big.bin') ? 8 * MiB : 32 * 1024, 1000 + i))
  const want = sha256(Buffer.concat(assets))
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    URLS.forEach((u, i) => writeFile(dir, u, assets[i]))
    for (const [name, html] of Object.entries(VARIANTS)) writeFile(dir, `${name}.html`, html)
    writeFile(dir, 'wb-sw.js', WORKBOX_SW)
    for (const name of ['workbox-sw', 'workbox-core', 'workbox-routing', 'workbox-strategies']) {
      fs.cpSync(path.join(ROOT, 'node_modules', name, 'build'), path.join(dir, 'wb', name, 'build'), { recursive: true })
    }
  })
  try {
    return await withOriginAndBrowser(site, async ({ origin, browser }) => {
      const out = { loads, assets: URLS.length, bytes: assets.reduce((s, a) => s + a.length, 0), variants: {} }
      for (const name of Object.keys(VARIANTS)) {
        out.variants[name] = await timeVariant(browser, origin, name, loads, want)
        log(`sw cost ${name}: median ${out.variants[name].medianMs.toFixed(0)} ms`)
      }
      return out
    })
  } finally {
    removeSite(site)
  }
}

/** Warms a new visitor's caches, then times `loads` navigations. */
async function timeVariant (browser, origin, name, loads, want) {
  const { context, page } = await newVisitor(browser)
  try {
    const url = origin.url + name + '.html'
    await page.goto(url)
    await page.evaluate(() => window.loaded)
    const worker = name !== 'none'
    if (worker) await page.waitForFunction(() => !!navigator.serviceWorker.controller)
    for (let i = 0; i < 2; i++) await load(page, url) // the first controlled load fills the cache
    const before = await assetBytesFromOrigin(origin)
    const times = []
    for (let i = 0; i < loads; i++) {
      const result = await load(page, url)
      check(result.controlled === worker, `${name}: controlled by a worker: ${result.controlled}`)
      times.push(result.ms)
    }
    const originBytes = (await assetBytesFromOrigin(origin)) - before
    if (worker) check(originBytes === 0, `${name}: ${originBytes} asset bytes from the origin while cached`)
    check(await page.evaluate(bodiesSha256) === want, `${name}: bodies`)
    return { medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), times, originBytesDuringLoads: originBytes }
  } finally {
    await context.close()
  }
}

async function load (page, url) {
  await page.goto(url)
  return page.evaluate(() => window.loaded)
}

async function assetBytesFromOrigin (origin) {
  const { origin: served } = await origin.stats()
  return URLS.reduce((sum, u) => sum + (served.paths['/' + u] ?? 0), 0)
}

async function bodiesSha256 () {
  const all = new Uint8Array(window.bodies.reduce((s, b) => s + b.byteLength, 0))
  let at = 0
  for (const b of window.bodies) { all.set(new Uint8Array(b), at); at += b.byteLength }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all))
  return [...digest].map((x) => x.toString(16).padStart(2, '0')).join('')
}
