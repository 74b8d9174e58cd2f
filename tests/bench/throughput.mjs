// Benchmark 1, peer throughput: one 64 MiB asset from visitor A to visitor
// B (two contexts of one Chromium) three ways, each on a fresh connection
// and timed from the request (or first wire) to the last verified byte:
//   peercdn    B's fetch through its service worker, leader tab, data
//              channel, SHA-1 verification and Cache Storage;
//   raw        a bare RTCDataChannel between the same two pages, 64 KiB
//              messages with bufferedAmount flow control (cold: first
//              transfer on the connection; warm: the second);
//   webtorrent the npm `webtorrent` browser bundle, seeder in A's context,
//              leecher in a new context, over the same tracker.
// Every transfer's SHA-256 is checked against the file's.
import fs from 'node:fs'
import path from 'node:path'
import { connectPages, transfer } from '../e2e/lib/datachannel.mjs'
import { ROOT, prepareSite } from '../e2e/lib/origin.mjs'
import { PEER_PAGE, pseudoRandomBytes, sha256, waitInPage, writeFile } from '../e2e/lib/site.mjs'
import { MiB, check, log, median, mibPerSec, newVisitor, removeSite, withOriginAndBrowser } from './lib/bench.mjs'
import { WEBTORRENT_PAGE, webTorrentLeech, webTorrentSeed } from './lib/webtorrent.mjs'

const SIZE = 64 * MiB

export async function throughput ({ reps }) {
  const big = pseudoRandomBytes(SIZE, 64)
  const want = sha256(big)
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'files/big.bin', big)
    writeFile(dir, 'visitor.html', PEER_PAGE)
    writeFile(dir, 'webtorrent.html', WEBTORRENT_PAGE)
    writeFile(dir, 'wt/webtorrent.min.js', fs.readFileSync(path.join(ROOT, 'node_modules/webtorrent/dist/webtorrent.min.js')))
  })
  try {
    return await withOriginAndBrowser(site, async ({ origin, browser }) => {
      const runs = { peercdn: [], peercdnOriginBytes: [], rawCold: [], rawWarm: [], webtorrent: [], webtorrentFromAdd: [] }
      const { page: a } = await newVisitor(browser)
      await a.goto(origin.url + 'visitor.html')
      check(await a.evaluate(() => window.leading), 'A leads')
      check((await fetchTimed(a)).sha256 === want, 'A from the origin')
      for (let i = 0; i < reps; i++) {
        const b = await peercdnRun(browser, origin, want)
        runs.peercdn.push(b.ms)
      runs.peercdnOriginBytes.push(b.originBytes)
        log(`peercdn run ${i + 1}: ${mibPerSec(SIZE, b.ms).toFixed(1)} MiB/s`)
        await connectPages(a, b.page)
        for (const key of ['rawCold', 'rawWarm']) {
          const raw = await transfer(a, b.page, SIZE, 64 * 1024)
          check(raw.receivedSha256 === raw.sentSha256, 'raw data channel')
          runs[key].push(raw.ms)
        }
        await a.evaluate(() => window.__pc.close())
        log(`raw run ${i + 1}: cold ${mibPerSec(SIZE, runs.rawCold[i]).toFixed(1)}, warm ${mibPerSec(SIZE, runs.rawWarm[i]).toFixed(1)} MiB/s`)
        await b.context.close()
      }
      const announce = origin.url.replace(/^http/, 'ws') + 'announce'
      const { page: seeder } = await newVisitor(browser)
      await seeder.goto(origin.url + 'webtorrent.html')
      const torrent = await webTorrentSeed(seeder, 'files/big.bin', announce)
      for (let i = 0; i < reps; i++) {
        const w = await webTorrentLeech(browser, origin.url + 'webtorrent.html', torrent, announce)
        check(w.sha256 === want, 'webtorrent')
        runs.webtorrent.push(w.fromWireMs)
        runs.webtorrentFromAdd.push(w.fromAddMs)
        log(`webtorrent run ${i + 1}: ${mibPerSec(SIZE, w.fromWireMs).toFixed(1)} MiB/s`)
      }
      return summarize(runs)
    })
  } finally {
    removeSite(site)
  }
}

/** A new visitor B, once it has a peer, fetches the asset; origin bytes for it must not grow. */
async function peercdnRun (browser, origin, want) {
  const { context, page } = await newVisitor(browser)
  await page.goto(origin.url + 'visitor.html')
  check(await page.evaluate(() => window.leading), 'B leads')
  await waitInPage(page, () => window.peercdn.stats().peers >= 1, undefined, 90000)
  const before = await origin.bytesServed('files/big.bin')
  const got = await fetchTimed(page)
  check(got.sha256 === want, 'peercdn body')
  // The runtime may rescue a slow run from the origin (its deadlines):
  // recorded with the run, so a figure says how much was not from the peer.
  const originBytes = (await origin.bytesServed('files/big.bin')) - before
  if (originBytes) log(`peercdn run: ${originBytes} bytes came from the origin`)
  return { context, page, ms: got.ms, originBytes }
}

/** Fetches the asset in the page: milliseconds from the request to the whole body, and its SHA-256. */
function fetchTimed (page) {
  return page.evaluate(async () => {
    const start = performance.now()
    const body = await (await fetch('files/big.bin')).arrayBuffer()
    const ms = performance.now() - start
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body))
    return { ms, sha256: [...digest].map((x) => x.toString(16).padStart(2, '0')).join('') }
  })
}

function summarize (runs) {
  const out = { bytes: SIZE, runs: {} }
  out.peercdnOriginBytes = runs.peercdnOriginBytes
  delete runs.peercdnOriginBytes
  for (const [key, list] of Object.entries(runs)) {
    out.runs[key] = list.map((ms) => ({ ms, mibPerSec: mibPerSec(SIZE, ms) }))
    out[key] = { medianMs: median(list), mibPerSec: mibPerSec(SIZE, median(list)) }
  }
  return out
}
