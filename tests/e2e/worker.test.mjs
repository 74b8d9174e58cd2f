// The service worker alone (no peers): manifest assets come from the
// origin, verified piece by piece, then from Cache Storage; Range requests
// get 206; the site keeps working offline.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import path from 'node:path'
import { launchPersistentVisitor } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { VISITOR_PAGE, fetchInPage, pseudoRandomBytes, sha256, writeFile } from './lib/site.mjs'
import fs from 'node:fs'
import os from 'node:os'

const BIG = pseudoRandomBytes(3 * 1024 * 1024 + 12345, 7)

function site () {
  return prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'media/big.bin', BIG)
    writeFile(dir, 'visitor.html', VISITOR_PAGE)
  })
}

browserTest('service worker: origin once, then Cache Storage; ranges; offline', async () => {
  const origin = await startOrigin(site())
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-profile-'))
  const context = await launchPersistentVisitor(profile)
  try {
    const page = await context.newPage()
    await page.goto(origin.url + 'visitor.html')
    assert.equal(await page.evaluate(() => window.controlled), true)

    const whole = await fetchInPage(page, 'media/big.bin')
    assert.equal(whole.status, 200)
    assert.equal(whole.length, BIG.length)
    assert.equal(whole.sha256, sha256(BIG))
    const afterFirst = await origin.bytesServed('media/big.bin')
    assert.equal(afterFirst, BIG.length, 'the origin sent each byte once')

    const again = await fetchInPage(page, 'media/big.bin')
    assert.equal(again.sha256, sha256(BIG))
    const ranged = await fetchInPage(page, 'media/big.bin', 'bytes=1000000-2100000')
    assert.equal(ranged.status, 206)
    assert.equal(ranged.contentRange, `bytes 1000000-2100000/${BIG.length}`)
    assert.equal(ranged.sha256, sha256(BIG.subarray(1000000, 2100001)))
    assert.equal(await origin.bytesServed('media/big.bin'), afterFirst, 'later reads come from Cache Storage')

    const css = await fetchInPage(page, 'css/style.css')
    assert.equal(css.contentType, 'text/css')
    assert.equal(css.sha256, sha256(fs.readFileSync(path.join(ROOT, 'tests/fixtures/site/css/style.css'))))

    const missing = await fetchInPage(page, 'media/big.bin', `bytes=${BIG.length}-`)
    assert.equal(missing.status, 416)

    // Offline: the page itself (network first, then its pieces) and every
    // asset read before come from Cache Storage.
    await fetchInPage(page, 'visitor.html')
    await context.setOffline(true)
    await page.reload()
    assert.equal(await page.evaluate(() => window.controlled), true)
    const offline = await fetchInPage(page, 'media/big.bin', 'bytes=5-')
    assert.equal(offline.sha256, sha256(BIG.subarray(5)))
    assert.equal((await fetchInPage(page, 'css/style.css')).sha256, css.sha256)
  } finally {
    await context.close()
    await origin.close()
  }
})
