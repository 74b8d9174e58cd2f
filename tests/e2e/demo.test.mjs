// The README's demo command, as a visitor sees it: `bash demo/run.sh`
// builds everything and serves demo/site; a first visitor views the whole
// site (plays the video, downloads the file), then a second visitor's
// leader gets the large assets from the first in the background, and its
// dashboard says so.
import { browserTest, endsWithTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT } from './lib/origin.mjs'
import { pieceCount, viewWholeSite, waitInPage } from './lib/site.mjs'

const LARGE = ['generated/video.mp4', 'generated/download.bin']

/** Runs the demo command on a free loopback port; resolves with its URL once it serves. */
function startDemo () {
  const child = spawn('bash', [path.join(ROOT, 'demo/run.sh'), '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  endsWithTest(() => { if (child.exitCode === null) child.kill('SIGTERM') })
  const lines = readline.createInterface({ input: child.stdout })
  const url = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`demo/run.sh exited with ${code}`)))
    lines.on('line', (line) => {
      const site = line.match(/site (\S+)/)
      if (site) resolve(site[1].endsWith('/') ? site[1] : site[1] + '/')
    })
  })
  // run.sh ends by exec'ing `peercdn serve`, so this PID is the server.
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
  return { url, stop }
}

async function originBytes (url) {
  const stats = await (await fetch(url + '_peercdn/stats')).json()
  return Object.fromEntries(LARGE.map((p) => [p, stats.origin.paths['/' + p] ?? 0]))
}

/** Waits until this visitor's Cache Storage holds every piece of the manifest. */
function holdsTheSite (page, pieces) {
  return waitInPage(page, async (n) => {
    const names = (await caches.keys()).filter((k) => k.startsWith('peercdn-'))
    return names.length === 1 && (await (await caches.open(names[0])).keys()).length >= n
  }, pieces, 240000)
}

browserTest('the demo command: a second visitor gets the large assets from the first, as its dashboard shows', async () => {
  const demo = startDemo()
  try {
    const url = await demo.url
    const manifest = await (await fetch(url + 'peercdn.json')).json()
    const large = manifest.assets.filter((a) => LARGE.includes(a.path))
    assert.equal(large.length, 2)
    assert.ok(large.every((a) => a.length >= 20 * 1024 * 1024), 'video and download are large')
    const browser = await launchBrowser()
    try {
      const a = await (await browser.newContext()).newPage()
      await a.goto(url)
      await viewWholeSite(a, 200000)
      const before = await originBytes(url)

      const b = await (await browser.newContext()).newPage()
      await b.goto(url)
      await holdsTheSite(b, pieceCount(manifest))
      assert.deepEqual(await originBytes(url), before, 'the origin sent B nothing of the video and the download')

      // The dashboard as B sees it (dashboard.js redraws every second).
      const largeBytes = large.reduce((sum, a) => sum + a.length, 0)
      const shown = await waitInPage(b, (min) => {
        const text = (id) => document.getElementById(id).textContent
        const mib = (t) => t.endsWith('MiB') ? parseFloat(t) * 1048576 : 0
        const fromPeers = mib(text('from-peers'))
        return fromPeers >= min && { fromPeers: text('from-peers'), offload: text('offload') }
      }, largeBytes * 0.99, 30000)
      assert.ok(parseInt(shown.offload) >= 90, `offload shown: ${shown.offload}`)
    } finally {
      await browser.close()
    }
  } finally {
    await demo.stop()
  }
})
