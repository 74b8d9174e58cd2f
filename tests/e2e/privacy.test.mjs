// What others learn of a visitor: ids they cannot predict, and no answer
// (so no address) to strangers' offers from a visitor who does not upload.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, openVisitor, peerPage, waitInPage, writeFile } from './lib/site.mjs'

browserTest('peer ids come from the CSPRNG: two visitors whose Math.random is the same still connect', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => writeFile(dir, 'visitor.html', PEER_PAGE))
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const visitors = []
    for (let i = 0; i < 2; i++) {
      const context = await browser.newContext()
      // Same ids from Math.random would collide: the tracker keeps a peer
      // id for its first connection and refuses the second.
      await context.addInitScript(() => { Math.random = () => 0.5 })
      const page = await context.newPage()
      await openVisitor(page, origin.url + 'visitor.html')
      visitors.push(page)
    }
    for (const page of visitors) await waitInPage(page, () => window.peercdn.stats().peers >= 1)
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('a visitor who does not upload answers no stranger\'s offer; one who uploads does', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'leech.html', peerPage('data-upload="off"'))
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'evil.html', fs.readFileSync(path.join(ROOT, 'tests/e2e/lib/evil-peer.html')))
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const harvester = await (await browser.newContext()).newPage()
    await harvester.goto(origin.url + 'evil.html')
    const announce = origin.url.replace(/^http/, 'ws') + 'announce'
    assert.equal(await harvester.evaluate((url) => window.startEvil(url, { harvest: true }), announce), true)

    const leech = await (await browser.newContext()).newPage()
    await openVisitor(leech, origin.url + 'leech.html')
    // Five of the harvester's offers go to the leech, the only other peer.
    await waitInPage(harvester, () => window.evil.offersToOthers >= 5, undefined, 20000)
    await new Promise((resolve) => setTimeout(resolve, 1000)) // time for an answer to the last
    assert.equal(await harvester.evaluate(() => window.evil.answers), 0, 'the leech answered none')

    // The control: a visitor who uploads answers the same offers.
    const uploader = await (await browser.newContext()).newPage()
    await openVisitor(uploader, origin.url + 'visitor.html')
    await waitInPage(harvester, () => window.evil.answers >= 1, undefined, 20000)
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('a flood of offers that never complete holds at most two of a visitor\'s connections', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'evil.html', fs.readFileSync(path.join(ROOT, 'tests/e2e/lib/evil-peer.html')))
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const context = await browser.newContext()
    // Counts the visitor's answering connections still open, and their peak.
    await context.addInitScript(() => {
      const seen = (window.answering = { open: 0, max: 0, total: 0 })
      const Native = window.RTCPeerConnection
      window.RTCPeerConnection = class extends Native {
        createAnswer (...args) {
          if (!this.counted) {
            this.counted = true
            seen.total++
            seen.max = Math.max(seen.max, ++seen.open)
          }
          return super.createAnswer(...args)
        }

        close () {
          if (this.counted && !this.closed) {
            this.closed = true
            seen.open--
          }
          return super.close()
        }
      }
    })
    const b = await context.newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    const flooder = await (await browser.newContext()).newPage()
    await flooder.goto(origin.url + 'evil.html')
    const announce = origin.url.replace(/^http/, 'ws') + 'announce'
    assert.equal(await flooder.evaluate((url) => window.startEvil(url, { flood: 50 }), announce), true)
    // All fifty offers reach B, its only other peer, within about 10 s.
    await waitInPage(flooder, () => window.evil.offersToOthers >= 40, undefined, 30000)
    const seen = await b.evaluate(() => window.answering)
    assert.ok(seen.total >= 1, 'B answered the flooder at all')
    assert.ok(seen.max <= 2, `B held ${seen.max} answering connections at once (${seen.total} in all)`)
  } finally {
    await browser.close()
    await origin.close()
  }
})
