// peercdn as an add-on to a site's own service worker built with Workbox
// (from local node_modules): peercdn answers manifest assets, Workbox's
// CacheFirst route everything else, and neither answers twice.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { VISITOR_PAGE, fetchInPage, pseudoRandomBytes, sha256, writeFile } from './lib/site.mjs'

const ASSET = pseudoRandomBytes(1024 * 1024 + 3, 29)
const NOTE = 'not in the manifest: Workbox caches this one\n'

// The site's own worker: peercdn first, then Workbox for the rest.
const SITE_WORKER = `
importScripts('peercdn/sw-addon.js')
importScripts('wb/workbox-sw/build/workbox-sw.js')
workbox.setConfig({ modulePathCb: (name, dev) => '/wb/' + name + '/build/' + name + (dev ? '.dev' : '.prod') + '.js', debug: false })
self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.peercdn.activate().then(() => self.clients.claim())))
self.addEventListener('fetch', (event) => { self.peercdn.handleFetch(event) })
workbox.routing.registerRoute(({ url }) => url.pathname.startsWith('/'), new workbox.strategies.CacheFirst({ cacheName: 'site' }))
`

browserTest('a Workbox service worker hands manifest assets to peercdn', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/asset.bin', ASSET)
    writeFile(dir, 'visitor.html', VISITOR_PAGE.replace("register('sw.js')", "register('site-sw.js')"))
    writeFile(dir, 'site-sw.js', SITE_WORKER)
    for (const name of ['workbox-sw', 'workbox-core', 'workbox-routing', 'workbox-strategies']) {
      fs.cpSync(path.join(ROOT, 'node_modules', name, 'build'), path.join(dir, 'wb', name, 'build'), { recursive: true })
    }
  })
  // Written after the manifest was built: not a manifest asset.
  writeFile(site, 'extra/note.txt', NOTE)
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const page = await (await browser.newContext()).newPage()
    const errors = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(origin.url + 'visitor.html')
    assert.equal(await page.evaluate(() => window.controlled), true)

    for (let i = 0; i < 2; i++) {
      const got = await fetchInPage(page, 'files/asset.bin', 'bytes=10-')
      assert.equal(got.status, 206, 'peercdn answers ranges piece by piece')
      assert.equal(got.sha256, sha256(ASSET.subarray(10)))
      const note = await fetchInPage(page, 'extra/note.txt')
      assert.equal(note.sha256, sha256(Buffer.from(NOTE)))
    }
    assert.equal(await origin.bytesServed('files/asset.bin'), ASSET.length, 'peercdn fetched the asset once, then served its pieces')
    assert.equal(await origin.bytesServed('extra/note.txt'), NOTE.length, 'Workbox fetched the other file once, then served its cache')
    const caches = await page.evaluate(() => caches.keys())
    assert.ok(caches.includes('site'), 'Workbox has its cache')
    assert.ok(caches.some((c) => c.startsWith('peercdn-')), 'peercdn has its piece cache')
    assert.deepEqual(errors, [])
  } finally {
    await browser.close()
    await origin.close()
  }
})
