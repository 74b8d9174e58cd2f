// Each piece's SHA-256 (peercdn.json) is checked in the browser beside the
// torrent's SHA-1: SHA-1 collisions are practical for whoever chooses both
// files, so a piece whose SHA-1 matches and SHA-256 does not is never
// cached nor served from peercdn (the page still gets its bytes, from a
// plain fetch).
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, pieceCount, pseudoRandomBytes, sha256, writeFile } from './lib/site.mjs'

const TAMPERED = pseudoRandomBytes(10_000, 61)
const INTACT = pseudoRandomBytes(10_000, 62)

/** The number of `asset`'s first piece: the pieces of the assets before it. */
function firstPiece (manifest, asset) {
  const index = manifest.assets.findIndex((a) => a.path === asset)
  return pieceCount({ ...manifest, assets: manifest.assets.slice(0, index) })
}

/** Changes one byte of the SHA-256 of `asset`'s first piece in the site's peercdn.json; returns that piece's number. */
function spoilSha256 (dir, asset) {
  const file = path.join(dir, 'peercdn.json')
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'))
  const piece = firstPiece(manifest, asset)
  const digests = Buffer.from(manifest.sha256, 'base64')
  digests[piece * 32] ^= 0xff
  manifest.sha256 = digests.toString('base64')
  fs.writeFileSync(file, JSON.stringify(manifest))
  return piece
}

/** The piece numbers in the visitor's swarm cache. */
function cachedPieces (page) {
  return page.evaluate(async () => {
    const name = (await caches.keys()).find((n) => n.startsWith('peercdn-'))
    const keys = name ? await (await caches.open(name)).keys() : []
    return keys.map((request) => Number(request.url.split('/').pop()))
  })
}

browserTest('a piece whose SHA-1 matches but whose SHA-256 does not is never cached or served by peercdn', async () => {
  const dir = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (site) => {
    writeFile(site, 'files/intact.bin', INTACT)
    writeFile(site, 'files/tampered.bin', TAMPERED)
    writeFile(site, 'visitor.html', PEER_PAGE)
  })
  const spoiled = spoilSha256(dir, 'files/tampered.bin')
  const intact = firstPiece(JSON.parse(fs.readFileSync(path.join(dir, 'peercdn.json'), 'utf8')), 'files/intact.bin')
  const origin = await startOrigin(dir)
  const browser = await launchBrowser()
  try {
    const page = await (await browser.newContext()).newPage()
    await openVisitor(page, origin.url + 'visitor.html')
    assert.equal((await fetchInPage(page, 'files/intact.bin')).sha256, sha256(INTACT))
    assert.equal((await fetchInPage(page, 'files/tampered.bin')).sha256, sha256(TAMPERED), 'the page still gets the file')
    const held = await cachedPieces(page)
    assert.ok(held.includes(intact), `the intact file's piece ${intact} is cached: ${held}`)
    assert.ok(!held.includes(spoiled), `piece ${spoiled} failed its SHA-256 and is not kept: ${held}`)
  } finally {
    await browser.close()
    await origin.close()
  }
})
