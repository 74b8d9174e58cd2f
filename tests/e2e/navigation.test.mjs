// Navigations to a page of the manifest: once a conditional request for
// peercdn.json says the manifest is current, the page comes from the cache
// or from peers like any file (on a real site, HTML is most of the bytes);
// after a deploy, the new page at once.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { BIN, ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, peerPage, pseudoRandomBytes, sha256, viewWholeSite, waitInPage, writeFile } from './lib/site.mjs'

/** A page of the site, with peercdn, its version and about `kib` KiB of text (several pieces). */
function articlePage (version, kib = 200) {
  const words = []
  for (let i = 0; words.length * 12 < kib * 1024; i++) words.push(`word${(i * 7919) % 100003}`)
  return Buffer.from(`${peerPage()}\n<p id="version">${version}</p>\n<p>${words.join(' ')}</p>\n`)
}

function siteWith (article) {
  return prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'article.html', article)
  })
}

browserTest('a navigation to a manifest page comes from a peer, with no origin byte for it', async () => {
  const article = articlePage('v1')
  const dir = siteWith(article)
  const origin = await startOrigin(dir)
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    await openVisitor(a, origin.url + 'visitor.html')
    await viewWholeSite(a)
    const served = await origin.bytesServed('article.html')

    const b = await (await browser.newContext()).newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    await waitInPage(b, () => window.peercdn.stats().peers >= 1)
    const response = await b.goto(origin.url + 'article.html')
    assert.equal(response.status(), 200)
    assert.equal(response.fromServiceWorker(), true, 'the worker answered the navigation')
    assert.equal(sha256(await response.body()), sha256(article), 'the page, byte for byte')
    assert.equal(await b.locator('#version').textContent(), 'v1')
    assert.equal(await origin.bytesServed('article.html'), served, 'the origin sent none of the page')
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('after a deploy, a navigation shows the new page at once, and the next one too', async () => {
  const dir = siteWith(articlePage('v1'))
  const origin = await startOrigin(dir)
  const browser = await launchBrowser()
  try {
    const page = await (await browser.newContext()).newPage()
    await openVisitor(page, origin.url + 'visitor.html')
    await page.goto(origin.url + 'article.html')
    assert.equal(await page.locator('#version').textContent(), 'v1')
    // A second look is answered by peercdn (the manifest is unchanged).
    const again = await page.goto(origin.url + 'article.html')
    assert.equal(again.fromServiceWorker(), true)
    assert.equal(await page.locator('#version').textContent(), 'v1')

    const v2 = articlePage('v2')
    writeFile(dir, 'article.html', v2)
    execFileSync(BIN, ['build', dir], { stdio: 'pipe' })
    const first = await page.goto(origin.url + 'article.html')
    assert.equal(await page.locator('#version').textContent(), 'v2', 'the deploy shows at once')
    assert.equal(sha256(await first.body()), sha256(v2))
    const next = await page.goto(origin.url + 'article.html')
    assert.equal(sha256(await next.body()), sha256(v2), 'and stays')
    assert.equal(await page.locator('#version').textContent(), 'v2')
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('after a navigation to a page without peercdn, its requests are not held for a leader that never comes', async (t) => {
  const photo = pseudoRandomBytes(300 * 1024 + 3, 77)
  const dir = siteWith(articlePage('v1'))
  writeFile(dir, 'img/photo.bin', photo)
  writeFile(dir, 'plain.html', '<!doctype html><meta charset="utf-8"><title>plain</title><img src="img/photo.bin">')
  execFileSync(BIN, ['build', dir], { stdio: 'pipe' })
  const origin = await startOrigin(dir)
  const browser = await launchBrowser()
  try {
    const page = await (await browser.newContext()).newPage()
    await openVisitor(page, origin.url + 'visitor.html')
    // The leader's page goes; no page brings a new one. The image, asked of
    // the worker, waited out its deadline for the gone leader before (8 s).
    await page.goto(origin.url + 'plain.html', { waitUntil: 'load' })
    const loadMs = await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd)
    t.diagnostic(`plain.html loaded in ${loadMs.toFixed(0)} ms`)
    assert.ok(loadMs < 5000, `plain.html loaded in ${loadMs.toFixed(0)} ms`)
    assert.equal((await fetchInPage(page, 'img/photo.bin')).sha256, sha256(photo))
  } finally {
    await browser.close()
    await origin.close()
  }
})
