// Visitors and peers: B gets assets from A over data channels, not from the
// origin; survives A leaving; bans a peer that lies.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, pseudoRandomBytes, sha256, waitInPage, writeFile } from './lib/site.mjs'

const BIG = pseudoRandomBytes(24 * 1024 * 1024 + 5, 13)

const DOWNLOAD = pseudoRandomBytes(6 * 1024 * 1024 + 777, 11)

browserTest('a second visitor gets a large asset from the first, none from the origin', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/download.bin', DOWNLOAD)
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    await openVisitor(a, origin.url + 'visitor.html')
    const first = await fetchInPage(a, 'files/download.bin')
    assert.equal(first.sha256, sha256(DOWNLOAD))
    const originAfterA = await origin.bytesServed('files/download.bin')
    assert.ok(originAfterA >= DOWNLOAD.length, 'the first visitor loads from the origin')

    const b = await (await browser.newContext()).newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    await waitInPage(b, () => window.peercdn.stats().peers >= 1)
    const got = await fetchInPage(b, 'files/download.bin')
    assert.equal(got.status, 200)
    assert.equal(got.sha256, sha256(DOWNLOAD))
    const bStats = await b.evaluate(() => window.peercdn.stats())
    const aStats = await a.evaluate(() => window.peercdn.stats())
    const seen = `A ${JSON.stringify(aStats)}, B ${JSON.stringify(bStats)}`
    assert.equal(await origin.bytesServed('files/download.bin'), originAfterA, `the origin served B none of it (${seen})`)
    assert.ok(bStats.fromPeers >= DOWNLOAD.length, `B got ${bStats.fromPeers} bytes from peers`)
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('the only peer leaves during the transfer: B still gets every byte right', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/big.bin', BIG)
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const contextA = await browser.newContext()
    const a = await contextA.newPage()
    await openVisitor(a, origin.url + 'visitor.html')
    assert.equal((await fetchInPage(a, 'files/big.bin')).sha256, sha256(BIG))

    const b = await (await browser.newContext()).newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    await waitInPage(b, () => window.peercdn.stats().peers >= 1)
    await b.evaluate(() => {
      window.download = fetch('files/big.bin').then(async (r) => {
        const digest = await crypto.subtle.digest('SHA-256', await r.arrayBuffer())
        return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('')
      })
    })
    await waitInPage(b, () => window.peercdn.stats().fromPeers > 0, undefined, 60000)
    await contextA.close()
    assert.equal(await b.evaluate(() => window.download), sha256(BIG))
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('a peer that sends corrupted pieces is banned; B still gets correct bytes', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/download.bin', DOWNLOAD)
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'evil.html', fs.readFileSync(path.join(ROOT, 'tests/e2e/lib/evil-peer.html')))
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const evil = await (await browser.newContext()).newPage()
    await evil.goto(origin.url + 'evil.html')
    assert.equal(await evil.evaluate((url) => window.startEvil(url), origin.url.replace(/^http/, 'ws') + 'announce'), true)

    const b = await (await browser.newContext()).newPage()
    await b.goto(origin.url + 'visitor.html')
    assert.equal(await b.evaluate(() => window.leading), true)
    // B's background fetching starts as soon as the liar offers pieces, so
    // it may be banned already by the time we look.
    await waitInPage(b, () => {
      const s = window.peercdn.stats()
      return s.peers >= 1 || s.peersBanned >= 1
    })
    const got = await fetchInPage(b, 'files/download.bin')
    assert.equal(got.sha256, sha256(DOWNLOAD))
    // Two waits, so a failure says which step did not happen.
    await waitInPage(evil, () => window.evil.requests > 0)
    await waitInPage(evil, () => window.evil.closed > 0)
    const stats = await b.evaluate(() => window.peercdn.stats())
    assert.ok(stats.peersBanned >= 1, `banned ${stats.peersBanned}`)
    assert.ok(stats.hashFailures >= 1, `hash failures ${stats.hashFailures}`)
    assert.equal(stats.fromPeers, 0, 'no byte from the liar was kept')
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('a peer that sends a text message is disconnected, and nothing is allocated for it', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/download.bin', DOWNLOAD)
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'evil.html', fs.readFileSync(path.join(ROOT, 'tests/e2e/lib/evil-peer.html')))
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const evil = await (await browser.newContext()).newPage()
    await evil.goto(origin.url + 'evil.html')
    // As a length, the text would be a 1.5 GB Uint8Array copied into wasm memory.
    const announce = origin.url.replace(/^http/, 'ws') + 'announce'
    assert.equal(await evil.evaluate((url) => window.startEvil(url, { text: '1500000000' }), announce), true)

    const b = await (await browser.newContext()).newPage()
    const warnings = []
    b.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()))
    await openVisitor(b, origin.url + 'visitor.html')
    await waitInPage(evil, () => window.evil.connected > 0)
    await waitInPage(evil, () => window.evil.closed > 0, undefined, 15000)
    assert.ok(warnings.some((w) => /peer sent a text or oversized message/.test(w)), `warnings: ${warnings}`)
    assert.equal(await b.evaluate(() => window.peercdn.stats().peers), 0)
    assert.equal((await fetchInPage(b, 'files/download.bin')).sha256, sha256(DOWNLOAD))
  } finally {
    await browser.close()
    await origin.close()
  }
})
