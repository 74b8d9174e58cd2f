// Test content: deterministic pseudo-random files, and the page a visitor
// opens (it registers the service worker and waits to be controlled).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** `length` bytes from a seeded generator: the same every run. */
export function pseudoRandomBytes (length, seed) {
  const bytes = Buffer.alloc(length)
  let s = seed >>> 0
  for (let i = 0; i < length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0
    bytes[i] = s >>> 24
  }
  return bytes
}

export function sha256 (bytes) {
  return createHash('sha256').update(bytes).digest('hex')
}

export const VISITOR_PAGE = `<!doctype html>
<meta charset="utf-8"><title>visitor</title>
<script>
  window.controlled = navigator.serviceWorker.register('sw.js')
    .then(() => navigator.serviceWorker.controller || new Promise((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })))
    .then(() => true)
</script>`

export function writeFile (dir, relative, bytes) {
  fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true })
  fs.writeFileSync(path.join(dir, relative), bytes)
}

/** Runs in the page: fetches `url` (with an optional Range) and reports status, headers and SHA-256 of the body. */
export function fetchInPage (page, url, range) {
  return page.evaluate(async ({ url, range }) => {
    const response = await fetch(url, range ? { headers: { Range: range } } : {})
    const body = new Uint8Array(await response.arrayBuffer())
    const digest = await crypto.subtle.digest('SHA-256', body)
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      contentRange: response.headers.get('content-range'),
      length: body.length,
      sha256: [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('')
    }
  }, { url, range })
}

/** A visitor page that adds peercdn the way a site does: one script tag (`attributes`: its data- options). */
export function peerPage (attributes = '') {
  return `<!doctype html>
<meta charset="utf-8"><title>peer visitor</title>
<script src="peercdn/page.js"${attributes ? ' ' + attributes : ''}></script>
<script>
  window.controlled = navigator.serviceWorker.ready
    .then(() => navigator.serviceWorker.controller || new Promise((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })))
    .then(() => true)
  window.leading = new Promise((resolve) => {
    if (window.peercdn) resolve(true)
    window.addEventListener('peercdn:leader', () => resolve(true), { once: true })
  })
</script>`
}

export const PEER_PAGE = peerPage()

/**
 * Opens a peer page at `url` in `page` and waits until peercdn's worker
 * controls it and its leader has started. A fetch before the worker
 * controls the page goes to the network, and the visitor then holds none
 * of it (the video test's first visitor did so once).
 */
export async function openVisitor (page, url) {
  await page.goto(url)
  for (const ready of ['controlled', 'leading']) {
    if (await page.evaluate((name) => window[name], ready) !== true) throw new Error(`${url}: the page never became ${ready}`)
  }
}

/** Polls `check` in the page until it returns a truthy value (or throws after `ms`). */
export async function waitInPage (page, check, arg, ms = 30000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await page.evaluate(check, arg)
    if (value) return value
    if (Date.now() > deadline) {
      // What the page's peercdn saw, so a failure in CI says where it stopped.
      const seen = await page.evaluate(() => JSON.stringify(window.peercdn?.stats?.() ?? null)).catch((e) => String(e))
      throw new Error(`timed out waiting for ${check}; the page's peercdn stats: ${seen}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The pieces of a manifest: each asset starts a piece of its own (BEP 47 padding), and an empty one takes none. */
export function pieceCount (manifest) {
  return manifest.assets.reduce((sum, a) => sum + Math.ceil(a.length / manifest.piece_length), 0)
}

/**
 * The visitor views the whole site: its page fetches every asset of the
 * manifest through the worker (a visitor's browser fetches from the origin
 * only what its pages ask for), then waits until Cache Storage holds every
 * piece. Returns the manifest.
 */
export async function viewWholeSite (page, ms = 120000) {
  const manifest = await page.evaluate(async () => {
    // Only requests of a controlled page reach the worker: a page that is
    // not controlled yet (the demo's first visit) waits for its worker to
    // claim it (else the first fetch raced it, went to the network, and its
    // piece was never stored: the demo test's failure in full runs).
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }))
    }
    const manifest = await (await fetch('peercdn.json')).json()
    for (const asset of manifest.assets) await (await fetch(asset.path)).arrayBuffer()
    return manifest
  })
  try {
    await waitInPage(page, async (pieces) => {
      const names = (await caches.keys()).filter((k) => k.startsWith('peercdn-'))
      return names.length === 1 && (await (await caches.open(names[0])).keys()).length >= pieces
    }, pieceCount(manifest), ms)
  } catch (error) {
    // Which pieces never arrived, to say why.
    const held = await page.evaluate(async () => {
      const names = (await caches.keys()).filter((k) => k.startsWith('peercdn-'))
      const keys = names.length ? await (await caches.open(names[0])).keys() : []
      return { caches: names.length, pieces: keys.map((r) => Number(r.url.split('/').pop())).sort((x, y) => x - y) }
    })
    throw new Error(`${error.message}; ${held.caches} swarm caches holding ${held.pieces.length} of ${pieceCount(manifest)} pieces: ${held.pieces.join(',')}`)
  }
  return manifest
}
