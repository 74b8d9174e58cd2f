// The runtime's resilience: no tracker at all, two tabs of one visitor, and
// a service worker stopped mid-session. Each checks the bytes.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import fs from 'node:fs'
import os from 'node:os'
import { launchBrowser, launchPersistentVisitor } from './lib/browser.mjs'
import { BIN, ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, pseudoRandomBytes, sha256, viewWholeSite, waitInPage, writeFile } from './lib/site.mjs'

const ASSET = pseudoRandomBytes(2 * 1024 * 1024 + 99, 23)

function site () {
  return prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/asset.bin', ASSET)
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
}

/** Collects console messages of `page` by type. */
function consoleOf (page) {
  const seen = { error: [], warning: [] }
  page.on('console', (m) => seen[m.type()]?.push(m.text()))
  page.on('pageerror', (e) => seen.error.push(String(e)))
  return seen
}

browserTest('no tracker: the site loads fully from the origin, with at most warnings', async () => {
  const origin = await startOrigin(site(), ['--no-tracker'])
  const browser = await launchBrowser()
  try {
    const page = await (await browser.newContext()).newPage()
    const seen = consoleOf(page)
    await page.goto(origin.url + 'visitor.html')
    assert.equal(await page.evaluate(() => window.controlled), true)
    assert.equal((await fetchInPage(page, 'files/asset.bin')).sha256, sha256(ASSET))
    assert.equal((await fetchInPage(page, 'index.html')).status, 200)
    // The missing tracker shows as a failed WebSocket and our warning only.
    const errors = seen.error.filter((e) => !/WebSocket connection to .* failed|status of 404/.test(e))
    assert.deepEqual(errors, [])
    assert.ok(seen.warning.some((w) => w.includes('tracker unreachable')), 'the page warns about the tracker')
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('two tabs of one visitor: one leader, one set of peer connections, both served', async () => {
  const origin = await startOrigin(site())
  const browser = await launchBrowser()
  try {
    const context = await browser.newContext()
    const first = await context.newPage()
    await first.goto(origin.url + 'visitor.html')
    assert.equal(await first.evaluate(() => window.leading), true)
    const second = await context.newPage()
    await second.goto(origin.url + 'visitor.html')
    assert.equal(await second.evaluate(() => window.controlled), true)
    // The second tab waits for the lock: it is not a leader while the first lives.
    assert.equal(await second.evaluate(() => window.peercdn === undefined), true)
    for (const page of [first, second]) {
      assert.equal((await fetchInPage(page, 'files/asset.bin')).sha256, sha256(ASSET))
    }
    const { tracker } = await origin.stats()
    assert.equal(tracker.peers, 1, 'one tracker peer for the visitor, not one per tab')

    // When the leader tab closes, the other takes over.
    await first.close()
    assert.equal(await second.evaluate(() => window.leading), true)
    await waitInPage(second, () => window.peercdn !== undefined)
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('a stopped service worker restarts and keeps serving', async () => {
  const origin = await startOrigin(site())
  const browser = await launchBrowser()
  try {
    const context = await browser.newContext()
    const page = await context.newPage()
    await openVisitor(page, origin.url + 'visitor.html')
    assert.equal((await fetchInPage(page, 'files/asset.bin')).sha256, sha256(ASSET))
    const cdp = await context.newCDPSession(page)
    await cdp.send('ServiceWorker.enable')
    await cdp.send('ServiceWorker.stopAllWorkers')
    const again = await fetchInPage(page, 'files/asset.bin', 'bytes=1000-')
    assert.equal(again.status, 206)
    assert.equal(again.sha256, sha256(ASSET.subarray(1000)))
    assert.equal((await fetchInPage(page, 'css/style.css')).status, 200)
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('a new manifest starts a new swarm and drops the old pieces', async () => {
  const dir = site()
  const origin = await startOrigin(dir)
  const browser = await launchBrowser()
  try {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(origin.url + 'visitor.html')
    assert.equal(await page.evaluate(() => window.controlled), true)
    assert.equal((await fetchInPage(page, 'files/asset.bin')).sha256, sha256(ASSET))
    const before = await page.evaluate(() => caches.keys())

    const changed = pseudoRandomBytes(ASSET.length, 99)
    writeFile(dir, 'files/asset.bin', changed)
    execFileSync(BIN, ['build', dir], { stdio: 'pipe' })
    // The worker reads the manifest when it starts.
    const cdp = await context.newCDPSession(page)
    await cdp.send('ServiceWorker.enable')
    await cdp.send('ServiceWorker.stopAllWorkers')
    assert.equal((await fetchInPage(page, 'files/asset.bin')).sha256, sha256(changed))
    const after = await waitInPage(page, (old) => {
      return caches.keys().then((keys) => keys.filter((k) => k.startsWith('peercdn-')))
        .then((keys) => keys.length === 1 && !old.includes(keys[0]) && keys)
    }, before)
    assert.equal(after.length, 1)
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('after one visit, offline, every manifest asset still loads', async () => {
  const dir = site()
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'peercdn.json'), 'utf8'))
  const origin = await startOrigin(dir)
  const context = await launchPersistentVisitor(fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-profile-')))
  try {
    const page = await context.newPage()
    await page.goto(origin.url + 'visitor.html')
    assert.equal(await page.evaluate(() => window.leading), true)
    await viewWholeSite(page)
    await context.setOffline(true)
    await page.reload()
    assert.equal(await page.evaluate(() => window.controlled), true)
    for (const asset of manifest.assets) {
      const got = await fetchInPage(page, asset.path)
      const expected = fs.readFileSync(path.join(dir, ...asset.path.split('/').map(decodeURIComponent)))
      assert.equal(got.status, 200, asset.path)
      assert.equal(got.sha256, sha256(expected), asset.path)
    }
  } finally {
    await context.close()
    await origin.close()
  }
})
