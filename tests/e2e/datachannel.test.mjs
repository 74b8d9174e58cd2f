// The test environment itself: two separate visitors (browser contexts)
// connect a raw RTCDataChannel inside the isolated namespace and move bytes
// intact. Every peer test depends on this working.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import { launchBrowser } from './lib/browser.mjs'
import { connectPages, transfer } from './lib/datachannel.mjs'
import { startBlankOrigin } from './lib/blank-origin.mjs'

browserTest('two visitors connect a data channel and move 4 MiB intact', async () => {
  const origin = await startBlankOrigin()
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    const b = await (await browser.newContext()).newPage()
    await a.goto(origin.url)
    await b.goto(origin.url)
    await connectPages(a, b)
    const candidate = await a.evaluate(async () => {
      const stats = await window.__pc.getStats()
      const byId = (id) => [...stats.values()].find((s) => s.id === id)
      const transport = [...stats.values()].find((s) => s.type === 'transport')
      const pair = byId(transport.selectedCandidatePairId)
      return byId(pair.localCandidateId).address
    })
    assert.equal(candidate, process.env.PEERCDN_NETNS_ADDR, 'peers connect over the namespace address only')
    const result = await transfer(a, b, 4 << 20, 64 << 10)
    assert.equal(result.receivedSha256, result.sentSha256)
  } finally {
    await browser.close()
    await origin.close()
  }
})
