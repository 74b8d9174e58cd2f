// Benchmark 5, a multi-page visit in one tab: a first visitor holds the
// site; a second visitor opens one page, then follows `pages` links in the
// same tab (each page loads its own image, then dwells `dwellMs`). Twice:
//   saveData    the second visitor is on Save-Data, so it fetches only
//               what it views: each page and image from the first visitor,
//               just after the navigation that restarted its tab's leader;
//   background  a normal visitor, whose first page's leader fetches the
//               rest of the site from the first visitor in the background
//               (the site is within its budget): later pages come from
//               its own cache.
// Each navigation restarts that tab's leader, so this measures the gap a
// navigation makes:
//   time to first peer byte  from the navigation's start to the new
//                            leader's first `peercdn:stats` counting a
//                            verified piece from a peer;
//   origin bytes             for the pages and images the second visitor
//                            viewed (0 when every one came from the first);
//   load time                navigation start to the load event, beside
//                            the same visit with service workers blocked
//                            (the origin and the browser's HTTP cache).
// Correctness: every page and image the second visitor viewed has the
// SHA-256 of the file on disk.
import path from 'node:path'
import { ROOT, prepareSite } from '../e2e/lib/origin.mjs'
import { PEER_PAGE, openVisitor, peerPage, pseudoRandomBytes, sha256, viewWholeSite, waitInPage, writeFile } from '../e2e/lib/site.mjs'
import { check, log, median, newVisitor, removeSite, withOriginAndBrowser } from './lib/bench.mjs'

const IMAGE_BYTES = 400 * 1024

/** Page `i` of the visit: peercdn, about 150 KiB of text, its image and a link to the next page. */
function pageHtml (i) {
  const words = []
  for (let k = 0; words.length * 10 < 150 * 1024; k++) words.push(`w${(k * 7919 + i) % 99991}`)
  return `${peerPage()}\n<h1>page ${i}</h1><img src="img/i${i}.bin"><p>${words.join(' ')}</p>\n`
}

/** Init script: the first verified peer piece of this document, in ms since its navigation started. */
function firstPeerHook () {
  window.__firstPeerByte = null
  window.addEventListener('peercdn:stats', (e) => {
    if (e.detail.fromPeers > 0 && window.__firstPeerByte === null) window.__firstPeerByte = performance.now()
  })
}

export async function navigation ({ pages, dwellMs = 1000 }) {
  const files = {}
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'visitor.html', PEER_PAGE)
    for (let i = 0; i < pages; i++) {
      files[`p${i}.html`] = Buffer.from(pageHtml(i))
      files[`img/i${i}.bin`] = pseudoRandomBytes(IMAGE_BYTES + i, 500 + i)
    }
    for (const [file, bytes] of Object.entries(files)) writeFile(dir, file, bytes)
  })
  try {
    const variants = {}
    for (const saveData of [true, false]) {
      const visit = await withOriginAndBrowser(site, (env) => visitWithPeercdn(env, pages, dwellMs, files, saveData))
      const firstPeer = visit.navigations.map((n) => n.firstPeerByteMs).filter((ms) => ms !== null)
      variants[saveData ? 'saveData' : 'background'] = {
        ...visit,
        firstPeerByte: { medianMs: firstPeer.length ? median(firstPeer) : null, navigationsWithPeerBytes: firstPeer.length },
        loadMs: median(visit.navigations.map((n) => n.loadMs))
      }
    }
    const baseline = await withOriginAndBrowser(site, (env) => visitWithoutWorker(env, pages, dwellMs))
    return {
      pages,
      dwellMs,
      viewedBytes: Object.values(files).reduce((sum, b) => sum + b.length, 0),
      ...variants,
      baselineLoadMs: median(baseline)
    }
  } finally {
    removeSite(site)
  }
}

async function visitWithPeercdn ({ origin, browser }, pages, dwellMs, files, saveData) {
  const seeder = (await newVisitor(browser)).page
  await openVisitor(seeder, origin.url + 'visitor.html')
  await viewWholeSite(seeder)
  const { context, page } = await newVisitor(browser, firstPeerHook)
  if (saveData) {
    const cdp = await context.newCDPSession(page)
    await cdp.send('Emulation.setDataSaverOverride', { dataSaverEnabled: true })
  }
  await openVisitor(page, origin.url + 'visitor.html')
  await waitInPage(page, () => window.peercdn.stats().peers >= 1)
  const before = await viewedFromOrigin(origin, files)
  const navigations = []
  for (let i = 0; i < pages; i++) {
    const response = await page.goto(origin.url + `p${i}.html`, { waitUntil: 'load' })
    check(sha256(await response.body()) === sha256(files[`p${i}.html`]), `page ${i}`)
    const image = await page.evaluate(async (url) => {
      const bytes = await (await fetch(url)).arrayBuffer() // from Cache Storage now: the page loaded it
      const digest = await crypto.subtle.digest('SHA-256', bytes)
      return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('')
    }, `img/i${i}.bin`)
    check(image === sha256(files[`img/i${i}.bin`]), `image ${i}`)
    await page.waitForTimeout(dwellMs)
    const timing = await page.evaluate(() => ({
      loadMs: performance.getEntriesByType('navigation')[0].loadEventEnd,
      firstPeerByteMs: window.__firstPeerByte
    }))
    navigations.push({ page: i, ...timing, fromServiceWorker: response.fromServiceWorker() })
    log(`${saveData ? 'Save-Data' : 'background'} navigation ${i}: load ${timing.loadMs.toFixed(0)} ms, first peer byte ${timing.firstPeerByteMs?.toFixed(0) ?? 'none'}`)
  }
  const originBytes = (await viewedFromOrigin(origin, files)) - before
  return { navigations, originBytes }
}

/** The same visit with service workers blocked: page.js stays out of the way. */
async function visitWithoutWorker ({ origin, browser }, pages, dwellMs) {
  const context = await browser.newContext({ serviceWorkers: 'block' })
  const page = await context.newPage()
  await page.goto(origin.url + 'visitor.html')
  const loads = []
  for (let i = 0; i < pages; i++) {
    await page.goto(origin.url + `p${i}.html`, { waitUntil: 'load' })
    await page.waitForTimeout(dwellMs)
    loads.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd))
  }
  await context.close()
  return loads
}

async function viewedFromOrigin (origin, files) {
  let sum = 0
  for (const file of Object.keys(files)) sum += await origin.bytesServed(file)
  return sum
}
