// Upload policy: a visitor who opts out, or whose browser asks to save data,
// never uploads; a visitor with an upload rate cap never exceeds it.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, peerPage, pseudoRandomBytes, sha256, waitInPage, writeFile } from './lib/site.mjs'

const DOWNLOAD = pseudoRandomBytes(6 * 1024 * 1024 + 321, 17)
const RATE = 1024 * 1024 // bytes per second, the capped visitor's setting
const BLOCK = 16 * 1024

function uploadSite () {
  return prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/download.bin', DOWNLOAD)
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'no-upload.html', peerPage('data-upload="off"'))
    writeFile(dir, 'capped.html', peerPage(`data-upload-rate="${RATE}"`))
  })
}

/** A visitor that loaded the download once, and so holds all of it. */
async function seededVisitor (browser, url, prepare = async () => {}) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await prepare(context, page)
  await openVisitor(page, url)
  assert.equal((await fetchInPage(page, 'files/download.bin')).sha256, sha256(DOWNLOAD))
  return page
}

browserTest('visitors with upload off or Save-Data on serve no peer: the next visitor uses the origin', async () => {
  const origin = await startOrigin(uploadSite())
  const browser = await launchBrowser()
  try {
    const optedOut = await seededVisitor(browser, origin.url + 'no-upload.html')
    const savesData = await seededVisitor(browser, origin.url + 'visitor.html', async (context, page) => {
      const cdp = await context.newCDPSession(page)
      await cdp.send('Emulation.setDataSaverOverride', { dataSaverEnabled: true })
    })
    assert.equal(await savesData.evaluate(() => navigator.connection.saveData), true)
    const before = await origin.bytesServed('files/download.bin')

    const b = await (await browser.newContext()).newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    const got = await fetchInPage(b, 'files/download.bin')
    assert.equal(got.sha256, sha256(DOWNLOAD))
    assert.ok(await origin.bytesServed('files/download.bin') >= before + DOWNLOAD.length, 'B came to the origin')
    assert.equal((await b.evaluate(() => window.peercdn.stats())).fromPeers, 0)
    for (const quiet of [optedOut, savesData]) {
      assert.equal((await quiet.evaluate(() => window.peercdn.stats())).uploaded, 0)
    }
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('a visitor with an upload rate cap never uploads faster than it', async () => {
  const origin = await startOrigin(uploadSite())
  const browser = await launchBrowser()
  try {
    const capped = await seededVisitor(browser, origin.url + 'capped.html')
    // Uploading can begin once B has connected (its background fetching
    // starts as soon as the capped visitor offers pieces): the bound below
    // counts from before that.
    const start = Date.now()
    const b = await (await browser.newContext()).newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    await waitInPage(b, () => window.peercdn.stats().peers >= 1)

    await b.evaluate(() => {
      window.download = fetch('files/download.bin').then(async (r) => {
        const digest = await crypto.subtle.digest('SHA-256', await r.arrayBuffer())
        return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('')
      })
      window.done = false
      window.download.finally(() => { window.done = true })
    })
    // Every sample is bounded by a second's burst plus the rate since the
    // start (read after the sample, so the bound errs on the generous side).
    let uploaded = 0
    while (!(await b.evaluate(() => window.done))) {
      uploaded = (await capped.evaluate(() => window.peercdn.stats())).uploaded
      const bound = RATE * (1 + (Date.now() - start) / 1000) + BLOCK
      assert.ok(uploaded <= bound, `uploaded ${uploaded} B, more than the cap allows (${Math.round(bound)} B)`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(await b.evaluate(() => window.download), sha256(DOWNLOAD))
    assert.ok(uploaded >= RATE, `the capped visitor did upload (${uploaded} B)`)
  } finally {
    await browser.close()
    await origin.close()
  }
})
