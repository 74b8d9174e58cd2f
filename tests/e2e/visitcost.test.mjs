// What a visit costs: a visitor's browser fetches from the origin only
// what its pages ask for (background fetching takes from peers only), and
// a visitor on Save-Data fetches nothing beyond what it views, from anyone.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, peerPage, pieceCount, pseudoRandomBytes, sha256, viewWholeSite, writeFile } from './lib/site.mjs'

const IMAGE = pseudoRandomBytes(300 * 1024 + 11, 41)
const VIDEO = pseudoRandomBytes(8 * 1024 * 1024 + 5, 42)
const DOWNLOAD = pseudoRandomBytes(6 * 1024 * 1024 + 7, 43)
/** Longer than the 5 s after which leaders used to fetch the whole site. */
const QUIET_MS = 9000

/** The page a first visitor opens: peercdn, a stylesheet and one image. */
const ARTICLE = peerPage() + '\n<link rel="stylesheet" href="css/style.css"><img src="img/photo.bin">'

function costSite () {
  return prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'img/photo.bin', IMAGE)
    writeFile(dir, 'media/video.bin', VIDEO)
    writeFile(dir, 'files/download.bin', DOWNLOAD)
    for (let i = 0; i < 20; i++) writeFile(dir, `pages/${i}.html`, pseudoRandomBytes(40_000 + i, 100 + i))
    writeFile(dir, 'article.html', ARTICLE)
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
}

/** What a visit of `article.html` may cost the origin: the page and what it loads, once; peercdn's own files twice (the page and the worker each load the wasm and the manifest). */
function visitFiles (dir) {
  const runtime = fs.readdirSync(path.join(dir, 'peercdn')).map((f) => 'peercdn/' + f)
  return { page: ['article.html', 'css/style.css', 'img/photo.bin'], peercdn: ['sw.js', 'peercdn.json', ...runtime] }
}

browserTest('a first visitor who views one page costs the origin that page, its assets and peercdn\'s files, nothing more', async () => {
  const dir = costSite()
  const origin = await startOrigin(dir)
  const browser = await launchBrowser()
  try {
    const page = await (await browser.newContext()).newPage()
    await openVisitor(page, origin.url + 'article.html')
    await page.waitForFunction(() => document.querySelector('img').complete)
    await page.waitForTimeout(QUIET_MS)
    const { origin: served } = await origin.stats()
    const files = visitFiles(dir)
    const allowed = new Set([...files.page, ...files.peercdn])
    const extra = Object.entries(served.paths)
      .filter(([p, bytes]) => bytes > 0 && !allowed.has(p.slice(1)))
    assert.deepEqual(extra, [], 'the origin sent nothing the page did not ask for')
    const size = (f) => fs.statSync(path.join(dir, f)).size
    const ceiling = files.page.reduce((sum, f) => sum + size(f), 0) + 2 * files.peercdn.reduce((sum, f) => sum + size(f), 0)
    assert.ok(served.bytes <= ceiling, `origin bytes ${served.bytes}, more than the visit's ${ceiling}`)
  } finally {
    await browser.close()
    await origin.close()
  }
})

/** Pieces in the visitor's Cache Storage, and its dashboard counters. */
function holdings (page) {
  return page.evaluate(async () => {
    const name = (await caches.keys()).find((n) => n.startsWith('peercdn-'))
    const pieces = name ? (await (await caches.open(name)).keys()).length : 0
    return { pieces, ...window.peercdn.stats() }
  })
}

browserTest('on Save-Data a visitor fetches only what it views, though a peer holds the whole site', async () => {
  const dir = costSite()
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'peercdn.json'), 'utf8'))
  const origin = await startOrigin(dir)
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    await openVisitor(a, origin.url + 'visitor.html')
    await viewWholeSite(a)

    const context = await browser.newContext()
    const b = await context.newPage()
    const cdp = await context.newCDPSession(b)
    await cdp.send('Emulation.setDataSaverOverride', { dataSaverEnabled: true })
    await openVisitor(b, origin.url + 'visitor.html')
    assert.equal((await fetchInPage(b, 'files/download.bin')).sha256, sha256(DOWNLOAD))
    await b.waitForTimeout(QUIET_MS)
    const held = await holdings(b)
    const viewed = Math.ceil(DOWNLOAD.length / manifest.piece_length)
    assert.equal(held.pieces, viewed, `B holds the download's ${viewed} pieces and nothing else: ${JSON.stringify(held)}`)
    assert.ok(held.fromPeers + held.fromOrigin <= viewed * manifest.piece_length, `B fetched only the download: ${JSON.stringify(held)}`)

    // Without Save-Data, a visitor fills its store from A in the background,
    // peercdn's own files too (A's worker fetched those itself, not through
    // its leader, and told the leader).
    const sharedPieces = pieceCount(manifest)
    const c = await (await browser.newContext()).newPage()
    await openVisitor(c, origin.url + 'visitor.html')
    assert.equal((await fetchInPage(c, 'files/download.bin')).sha256, sha256(DOWNLOAD))
    const deadline = Date.now() + 60000
    let filled = await holdings(c)
    while (filled.pieces < sharedPieces && Date.now() < deadline) {
      await c.waitForTimeout(500)
      filled = await holdings(c)
    }
    assert.equal(filled.pieces, sharedPieces, `C holds the whole site: ${JSON.stringify(filled)}`)
    assert.equal(filled.fromOrigin, 0, 'all of it from A')
  } finally {
    await browser.close()
    await origin.close()
  }
})
