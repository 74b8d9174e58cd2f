// The page bootstrap through the worker: when the worker already controls
// a first visit's page before page.js has loaded peercdn's wasm, the
// worker serves peercdn's own files itself. Asking the leader tab for
// them would wait for the very tab that needs them to start (it held a
// second visitor's leader for 8 s, and its first requests went to the
// origin: seen in the demo test).
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, pseudoRandomBytes, sha256, writeFile } from './lib/site.mjs'

const DOWNLOAD = pseudoRandomBytes(2 * 1024 * 1024 + 99, 21)

/** Registers peercdn's worker, and adds page.js only once the worker controls the page. */
const LATE_BOOTSTRAP_PAGE = `<!doctype html>
<meta charset="utf-8"><title>late bootstrap</title>
<script>
  navigator.serviceWorker.register('sw.js')
  window.controlled = new Promise((resolve) => {
    if (navigator.serviceWorker.controller) return resolve(true)
    navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), { once: true })
  })
  window.leading = new Promise((resolve) => window.addEventListener('peercdn:leader', () => resolve(true), { once: true }))
  window.bootstrap = () => {
    const script = document.createElement('script')
    script.src = 'peercdn/page.js'
    document.head.append(script)
  }
</script>`

browserTest('a page the worker controls before peercdn starts gets its runtime at once, and its assets from a peer', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/download.bin', DOWNLOAD)
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'late.html', LATE_BOOTSTRAP_PAGE)
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    await openVisitor(a, origin.url + 'visitor.html')
    assert.equal((await fetchInPage(a, 'files/download.bin')).sha256, sha256(DOWNLOAD))
    const originAfterA = await origin.bytesServed('files/download.bin')

    const b = await (await browser.newContext()).newPage()
    await b.goto(origin.url + 'late.html')
    assert.equal(await b.evaluate(() => window.controlled), true)
    // page.js, peercdn.js and the wasm now go through B's new worker, and
    // the page asks for the download at once, as a page asks for its media.
    await b.evaluate(() => { window.bootstrap(); window.download = fetch('files/download.bin').then((r) => r.arrayBuffer()) })
    assert.equal(await b.evaluate(() => window.leading), true)
    const got = await b.evaluate(async () => {
      const digest = await crypto.subtle.digest('SHA-256', await window.download)
      return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('')
    })
    assert.equal(got, sha256(DOWNLOAD))
    assert.equal(await origin.bytesServed('files/download.bin'), originAfterA, 'the origin served B none of the download')
  } finally {
    await browser.close()
    await origin.close()
  }
})
