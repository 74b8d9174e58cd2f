// After one visit, the site opens after a real browser restart with the
// origin really gone: the server stopped (its port refuses connections),
// or a server that answers the page but never answers anything else (the
// worker's own fetches of its wasm and manifest hang). The worker keeps
// the last verified manifest and its wasm in Cache Storage; the page, its
// images, the video (playing and seeking) and the download load
// byte-identical from the cached pieces. And a deploy whose manifest
// comes after the worker's deadline is served as soon as it comes.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { launchPersistentVisitor } from './lib/browser.mjs'
import { BIN, ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { fetchInPage, peerPage, pseudoRandomBytes, sha256, viewWholeSite, waitInPage, writeFile } from './lib/site.mjs'

const DOWNLOAD = pseudoRandomBytes(5 * 1024 * 1024 + 99, 23)
const IMAGES = ['grid.svg', 'rings.svg', 'waves.svg']

/** The demo's generated video, made once per checkout (ffmpeg). */
function demoVideo () {
  const dir = path.join(ROOT, 'target/demo-media')
  execFileSync('bash', [path.join(ROOT, 'demo/generate.sh'), dir], { stdio: 'inherit' })
  return fs.readFileSync(path.join(dir, 'video.mp4'))
}

function site () {
  const video = demoVideo()
  const images = IMAGES.map((name) => `<img src="img/${name}" alt="">`).join('')
  return prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'media/video.mp4', video)
    writeFile(dir, 'files/download.bin', DOWNLOAD)
    for (const name of IMAGES) writeFile(dir, `img/${name}`, fs.readFileSync(path.join(ROOT, 'demo/site/img', name)))
    writeFile(dir, 'visitor.html', peerPage() + images)
  })
}

/** On the origin's port: `visitor.html` from `dir`, and no answer ever to anything else. */
function startHangingOrigin (dir, port) {
  const held = new Set()
  const server = http.createServer((request, response) => {
    if (request.url === '/visitor.html') {
      response.setHeader('Content-Type', 'text/html')
      return response.end(fs.readFileSync(path.join(dir, 'visitor.html')))
    }
    held.add(response)
  })
  server.on('connection', (socket) => held.add(socket))
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    close: () => new Promise((resolve) => {
      for (const thing of held) thing.destroy()
      server.close(resolve)
    })
  })))
}

/** The first visit views the whole site, so Cache Storage holds all of it. */
async function firstVisit (dir, profile) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'peercdn.json'), 'utf8'))
  const origin = await startOrigin(dir)
  const context = await launchPersistentVisitor(profile)
  try {
    const page = await context.newPage()
    await page.goto(origin.url + 'visitor.html')
    assert.equal(await page.evaluate(() => window.leading), true)
    await viewWholeSite(page)
    // The worker's last good wasm and manifest, kept as it started.
    await waitInPage(page, async () => (await (await caches.open('peercdn:runtime')).keys()).length >= 2)
  } finally {
    await context.close()
    await origin.close()
  }
  return { manifest, url: origin.url }
}

/** After the restart: every asset, the images shown, the video played and sought. */
async function checkSiteOffline (page, dir, manifest) {
  assert.equal(await page.evaluate(() => window.controlled), true)
  for (const asset of manifest.assets) {
    const got = await fetchInPage(page, asset.path)
    const expected = fs.readFileSync(path.join(dir, ...asset.path.split('/').map(decodeURIComponent)))
    assert.equal(got.status, 200, asset.path)
    assert.equal(got.sha256, sha256(expected), asset.path)
  }
  const ranged = await fetchInPage(page, 'files/download.bin', 'bytes=1000000-3999999')
  assert.equal(ranged.status, 206)
  assert.equal(ranged.sha256, sha256(DOWNLOAD.subarray(1000000, 4000000)))
  const widths = await page.evaluate(() => Promise.all([...document.images].map((img) =>
    img.decode().then(() => img.naturalWidth, () => 0))))
  assert.deepEqual(widths.map((w) => w > 0), IMAGES.map(() => true), `image widths ${widths}`)
  const played = await page.evaluate(async () => {
    const v = document.createElement('video')
    v.muted = true
    v.src = 'media/video.mp4'
    document.body.append(v)
    const once = (name) => new Promise((resolve, reject) => {
      v.addEventListener(name, resolve, { once: true })
      v.addEventListener('error', () => reject(new Error('video error ' + (v.error && v.error.message))), { once: true })
    })
    await once('loadedmetadata')
    v.currentTime = 40
    await once('seeked')
    await v.play()
    await new Promise((resolve) => setTimeout(resolve, 1500))
    v.pause()
    return { duration: v.duration, time: v.currentTime }
  })
  assert.ok(Math.abs(played.duration - 60) < 1, `duration ${played.duration}`)
  assert.ok(played.time > 40, `played from the seek point: ${played.time}`)
}

browserTest('after a browser restart with the origin stopped, the whole site loads from the cache', async () => {
  const dir = site()
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-profile-'))
  const { manifest, url } = await firstVisit(dir, profile)
  const context = await launchPersistentVisitor(profile)
  try {
    const page = await context.newPage()
    await page.goto(url + 'visitor.html')
    await checkSiteOffline(page, dir, manifest)
  } finally {
    await context.close()
  }
})

browserTest('after a browser restart, an origin that never answers holds nothing for long', async () => {
  const dir = site()
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-profile-'))
  const { manifest, url } = await firstVisit(dir, profile)
  const hanging = await startHangingOrigin(dir, new URL(url).port)
  const context = await launchPersistentVisitor(profile)
  try {
    const page = await context.newPage()
    await page.goto(url + 'visitor.html')
    // Without a deadline on the worker's fetches, this waits out the test's timeout.
    await checkSiteOffline(page, dir, manifest)
  } finally {
    await context.close()
    await hanging.close()
  }
})

/** On `port`: everything forwarded to `target`, but the manifest held back `delayMs` first. */
function startSlowManifestProxy (port, target, delayMs) {
  const timers = new Set()
  const server = http.createServer((request, response) => {
    const forward = () => {
      const upstream = http.request(new URL(request.url, target), { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode, answer.headers)
        answer.pipe(response)
      })
      upstream.on('error', () => response.destroy())
      request.pipe(upstream)
    }
    if (!request.url.startsWith('/peercdn.json')) return forward()
    const timer = setTimeout(() => { timers.delete(timer); forward() }, delayMs)
    timers.add(timer)
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    close: () => new Promise((resolve) => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      server.close(resolve)
    })
  })))
}

browserTest('a deploy whose manifest comes after the deadline replaces the kept one at once', async () => {
  const dir = site()
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-profile-'))
  const { url } = await firstVisit(dir, profile)
  const deployed = pseudoRandomBytes(DOWNLOAD.length, 77)
  writeFile(dir, 'files/download.bin', deployed)
  execFileSync(BIN, ['build', dir], { stdio: 'pipe' })
  const newHash = JSON.parse(fs.readFileSync(path.join(dir, 'peercdn.json'), 'utf8')).info_hash
  const origin = await startOrigin(dir)
  // Slower than the worker's 3 s deadline: it starts on the kept manifest.
  const proxy = await startSlowManifestProxy(new URL(url).port, origin.url, 5000)
  const context = await launchPersistentVisitor(profile)
  try {
    const page = await context.newPage()
    await page.goto(url + 'visitor.html')
    assert.equal(await page.evaluate(() => window.controlled), true)
    const seen = []
    const deadline = Date.now() + 30000
    while (Date.now() < deadline) {
      const got = await fetchInPage(page, 'files/download.bin')
      seen.push(got.sha256 === sha256(deployed) ? 'new' : got.sha256 === sha256(DOWNLOAD) ? 'old' : 'wrong')
      if (seen.at(-1) !== 'old') break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    assert.ok(!seen.includes('wrong'), `never a wrong byte: ${seen}`)
    assert.equal(seen.at(-1), 'new', `the deployed bytes once the late manifest came: ${seen}`)
    // The kept swarm's pieces go with it.
    await waitInPage(page, async (hash) => {
      const names = (await caches.keys()).filter((k) => k.startsWith('peercdn-'))
      return names.length === 1 && names[0] === 'peercdn-' + hash
    }, newHash)
  } finally {
    await context.close()
    await proxy.close()
    await origin.close()
  }
})
