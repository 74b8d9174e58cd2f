// WebTorrent as a benchmark anchor: the npm `webtorrent` browser bundle
// (copied into the site as wt/webtorrent.min.js) seeding in one context and
// leeching in another, through the origin's tracker; STUN-free, no DHT.

export const WEBTORRENT_PAGE = `<!doctype html>
<meta charset="utf-8"><title>webtorrent</title>
<script type="module">
  import WebTorrent from './wt/webtorrent.min.js'
  const hex = (bytes) => [...new Uint8Array(bytes)].map((x) => x.toString(16).padStart(2, '0')).join('')
  const client = () => new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, utp: false })
  window.seed = async (url, announce) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer())
    const name = url.split('/').pop()
    return new Promise((resolve, reject) => {
      const c = client()
      c.on('error', (e) => reject(String(e)))
      c.seed(new File([bytes], name), { announce: [announce] }, (t) => resolve([...t.torrentFile]))
    })
  }
  window.leech = (torrentFile, announce) => new Promise((resolve, reject) => {
    const c = client()
    c.on('error', (e) => reject(String(e)))
    const added = performance.now()
    let firstWire = 0
    const torrent = c.add(new Uint8Array(torrentFile), { announce: [announce] }, (t) => {
      t.on('done', async () => {
        const done = performance.now()
        const body = await t.files[0].arrayBuffer()
        resolve({ fromAddMs: done - added, fromWireMs: done - (firstWire || added), sha256: hex(await crypto.subtle.digest('SHA-256', body)) })
      })
    })
    torrent.on('wire', () => { if (!firstWire) firstWire = performance.now() })
  })
  window.webTorrentReady = true
</script>`

/** Seeds the site file at `url` from `page`; resolves to the .torrent bytes (as an array). */
export async function webTorrentSeed (page, url, announce) {
  await page.waitForFunction(() => window.webTorrentReady === true)
  return page.evaluate(({ url, announce }) => window.seed(url, announce), { url, announce })
}

/** A new context downloads the torrent; returns its timings and the SHA-256 of what it got. */
export async function webTorrentLeech (browser, pageUrl, torrentFile, announce) {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(pageUrl)
    await page.waitForFunction(() => window.webTorrentReady === true)
    return await page.evaluate(({ torrentFile, announce }) => window.leech(torrentFile, announce), { torrentFile, announce })
  } finally {
    await context.close()
  }
}
