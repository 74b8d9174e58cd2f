// Benchmark 7, the cost of each piece's SHA-256 check: crypto.subtle's
// SHA-256 over pieces of 16 KiB, 128 KiB and 1 MiB in Chromium (about
// 64 MiB each), beside its SHA-1 (the torrent's hash) measured the same
// way. Every piece a worker reads from Cache Storage or the origin is
// checked so, on top of the wasm's own SHA-1.
import { launchBrowser } from '../e2e/lib/browser.mjs'
import { startBlankOrigin } from '../e2e/lib/blank-origin.mjs'

export async function sha256Cost () {
  const origin = await startBlankOrigin()
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(origin.url)
    const sizes = await page.evaluate(async () => {
      const time = async (algorithm, data, n) => {
        for (let i = 0; i < 5; i++) await crypto.subtle.digest(algorithm, data)
        const started = performance.now()
        for (let i = 0; i < n; i++) await crypto.subtle.digest(algorithm, data)
        return performance.now() - started
      }
      const results = []
      for (const size of [16384, 131072, 1048576]) {
        const data = new Uint8Array(size)
        crypto.getRandomValues(data.subarray(0, Math.min(size, 65536)))
        const n = Math.max(20, Math.floor(64 * 1048576 / size))
        const sha256 = await time('SHA-256', data, n)
        const sha1 = await time('SHA-1', data, n)
        results.push({ size, n, sha256PerPieceMs: sha256 / n, sha256MibPerSec: (n * size / 1048576) / (sha256 / 1000), sha1MibPerSec: (n * size / 1048576) / (sha1 / 1000) })
      }
      return results
    })
    return { sizes }
  } finally {
    await browser.close()
    await origin.close()
  }
}
