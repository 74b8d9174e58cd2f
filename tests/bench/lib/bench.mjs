// Shared pieces of the browser benchmarks (tests/bench/*.mjs): options,
// summary statistics, and a bench's lifecycle (an origin and a browser,
// both ended whatever happens). Browser and site helpers come from
// tests/e2e/lib; nothing here asserts speed, only correctness of the bytes.
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from '../../e2e/lib/browser.mjs'
import { startOrigin } from '../../e2e/lib/origin.mjs'

export const MiB = 1024 * 1024

/** Median of a non-empty list of numbers. */
export function median (values) {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** MiB/s for `bytes` moved in `ms`. */
export function mibPerSec (bytes, ms) {
  return bytes / MiB / (ms / 1000)
}

/** Throws unless the bytes moved are the bytes meant: a figure never comes from a broken transfer. */
export function check (ok, what) {
  if (!ok) throw new Error(`benchmark moved wrong bytes: ${what}`)
}

/** Runs `body({origin, browser})` with `peercdn serve` on `site` and a fresh Chromium; closes both. */
export async function withOriginAndBrowser (site, body) {
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    return await body({ origin, browser })
  } finally {
    await browser.close()
    await origin.close()
  }
}

/** A new visitor (its own context and storage) on one page; `init` runs before any page script. */
export async function newVisitor (browser, init) {
  const context = await browser.newContext()
  if (init) await context.addInitScript(init)
  const page = await context.newPage()
  page.on('pageerror', (e) => log('page error:', String(e)))
  page.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') log(`page ${m.type()}:`, m.text()) })
  return { context, page }
}

/** Deletes a site made by prepareSite (its temporary parent directory): benchmark sites are large. */
export function removeSite (site) {
  fs.rmSync(path.dirname(site), { recursive: true, force: true })
}

export function log (...args) {
  console.error('[bench]', ...args)
}
