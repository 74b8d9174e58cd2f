// Interop with a stock WebTorrent browser client over our tracker:
// peercdn visitor A -> WebTorrent client W (given our peercdn.torrent, no
// web seed: peers only) -> peercdn visitor B, after A has left. So
// WebTorrent downloads from peercdn, and peercdn downloads from WebTorrent.
// And W given only a magnet link: the info dictionary comes from A (BEP 9).
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, pseudoRandomBytes, sha256, viewWholeSite, waitInPage, writeFile } from './lib/site.mjs'

const ASSET = pseudoRandomBytes(3 * 1024 * 1024 + 31, 17)

const WEBTORRENT_PAGE = `<!doctype html>
<meta charset="utf-8"><title>webtorrent</title>
<script type="module">
  import WebTorrent from './wt/webtorrent.min.js'
  window.startWebTorrent = async (announce) => {
    const torrentFile = new Uint8Array(await (await fetch('peercdn.torrent')).arrayBuffer())
    const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, utp: false })
    window.client = client
    return new Promise((resolve, reject) => {
      client.on('error', (e) => reject(String(e)))
      client.add(torrentFile, { announce: [announce] }, (torrent) => {
        window.torrent = torrent
        torrent.on('done', async () => {
          const file = torrent.files.find((f) => f.name === 'asset.bin')
          const bytes = new Uint8Array(await file.arrayBuffer())
          const digest = await crypto.subtle.digest('SHA-256', bytes)
          resolve([...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join(''))
        })
      })
    })
  }
  // Only the info hash and our tracker: the metadata must come from a peer (BEP 9).
  window.startMagnet = (magnet) => {
    const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, utp: false })
    window.client = client
    return new Promise((resolve, reject) => {
      client.on('error', (e) => reject(String(e)))
      client.add(magnet, (torrent) => {
        window.gotMetadata = true
        torrent.on('done', async () => {
          const files = {}
          for (const file of torrent.files) {
            if (file.path.split('/').includes('.pad')) continue
            const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(await file.arrayBuffer()))
            files[file.path] = [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('')
          }
          resolve(files)
        })
      })
    })
  }
  window.webTorrentReady = true
</script>`

/** Body bytes the origin has sent for every manifest asset. */
async function assetBytesServed (origin, manifest) {
  const { origin: served } = await origin.stats()
  return manifest.assets.reduce((sum, a) => sum + (served.paths['/' + a.path] ?? 0), 0)
}

function webTorrentSite () {
  return prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/asset.bin', ASSET)
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'webtorrent.html', WEBTORRENT_PAGE)
    writeFile(dir, 'wt/webtorrent.min.js', fs.readFileSync(path.join(ROOT, 'node_modules/webtorrent/dist/webtorrent.min.js')))
  })
}

browserTest('WebTorrent downloads from a peercdn visitor, and seeds to another', async () => {
  const site = webTorrentSite()
  const manifest = JSON.parse(fs.readFileSync(path.join(site, 'peercdn.json'), 'utf8'))
  const origin = await startOrigin(site)
  const announce = origin.url.replace(/^http/, 'ws') + 'announce'
  const browser = await launchBrowser()
  try {
    // A: a peercdn visitor that viewed the whole site.
    const contextA = await browser.newContext()
    const a = await contextA.newPage()
    await a.goto(origin.url + 'visitor.html')
    assert.equal(await a.evaluate(() => window.leading), true)
    await viewWholeSite(a)

    // W: stock WebTorrent, peers only (our torrent has no web seed).
    const w = await (await browser.newContext()).newPage()
    w.on('console', (m) => console.log('W:', m.text()))
    await w.goto(origin.url + 'webtorrent.html')
    await waitInPage(w, () => window.webTorrentReady === true)
    const fromA = await w.evaluate((url) => window.startWebTorrent(url), announce)
    assert.equal(fromA, sha256(ASSET))
    const uploadedByA = await a.evaluate(() => window.peercdn.stats().uploaded)
    assert.ok(uploadedByA >= ASSET.length, `A uploaded ${uploadedByA} bytes to WebTorrent`)

    // B: a peercdn visitor served by W once A has gone.
    await contextA.close()
    const originBefore = await origin.bytesServed('files/asset.bin')
    const b = await (await browser.newContext()).newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    await waitInPage(b, () => window.peercdn.stats().peers >= 1, undefined, 60000)
    assert.equal((await fetchInPage(b, 'files/asset.bin')).sha256, sha256(ASSET))
    assert.equal(await origin.bytesServed('files/asset.bin'), originBefore, 'B got the asset from WebTorrent, not the origin')
  } finally {
    await browser.close()
    await origin.close()
  }
})

browserTest('WebTorrent joins by magnet link only: metadata and every file from a peercdn visitor', async () => {
  const site = webTorrentSite()
  const manifest = JSON.parse(fs.readFileSync(path.join(site, 'peercdn.json'), 'utf8'))
  const origin = await startOrigin(site)
  const announce = origin.url.replace(/^http/, 'ws') + 'announce'
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    await openVisitor(a, origin.url + 'visitor.html')
    await viewWholeSite(a)

    const w = await (await browser.newContext()).newPage()
    await w.goto(origin.url + 'webtorrent.html')
    await waitInPage(w, () => window.webTorrentReady === true)
    const before = await assetBytesServed(origin, manifest)
    const magnet = `magnet:?xt=urn:btih:${manifest.info_hash}&tr=${encodeURIComponent(announce)}`
    const files = await w.evaluate((m) => window.startMagnet(m), magnet)
    const expected = {}
    for (const asset of manifest.assets) {
      const bytes = fs.readFileSync(path.join(site, ...asset.path.split('/').map(decodeURIComponent)))
      expected[path.basename(site) + '/' + asset.path.split('/').map(decodeURIComponent).join('/')] = sha256(bytes)
    }
    assert.deepEqual(files, expected, 'every file byte-identical')
    assert.equal(await assetBytesServed(origin, manifest), before, 'no asset byte from the origin while WebTorrent downloaded')
  } finally {
    await browser.close()
    await origin.close()
  }
})
