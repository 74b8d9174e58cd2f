// Re-announcing: every announce carries fresh offers, and the tracker
// relays them to peers at random, connected ones included; a visitor
// never holds two connections to one peer, and one whose first
// connection attempt failed tries again soon, not an interval later.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, waitInPage, writeFile } from './lib/site.mjs'

const INTERVAL_S = 10 // the shortest announce interval a client accepts

browserTest('re-announces never open a second connection to a connected peer', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
  const origin = await startOrigin(site, ['--interval', String(INTERVAL_S)])
  const browser = await launchBrowser()
  try {
    const visitors = []
    for (const name of ['A', 'B']) {
      const page = await (await browser.newContext()).newPage()
      await page.goto(origin.url + 'visitor.html')
      assert.equal(await page.evaluate(() => window.leading), true, `${name} leads its tabs`)
      visitors.push(page)
    }
    for (const page of visitors) await waitInPage(page, () => window.peercdn.stats().peers >= 1)
    // Each visitor re-announces twice (with offers the tracker relays to
    // the other, the only peer in the swarm) while we watch the count.
    const until = Date.now() + (2 * INTERVAL_S + 5) * 1000
    while (Date.now() < until) {
      for (const [i, page] of visitors.entries()) {
        const peers = (await page.evaluate(() => window.peercdn.stats())).peers
        assert.ok(peers <= 1, `visitor ${'AB'[i]} holds ${peers} connections to its one peer`)
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    for (const page of visitors) {
      assert.equal((await page.evaluate(() => window.peercdn.stats())).peers, 1, 'still connected')
    }
    // The window saw the re-announces: two first announces, two more each.
    const { announces, offers_relayed: relayed } = (await origin.stats()).tracker
    assert.ok(announces >= 6, `${announces} announces`)
    assert.ok(relayed >= 5, `${relayed} offers relayed`)
  } finally {
    await browser.close()
    await origin.close()
  }
})

/** Runs in B's page first: the answers to its first announce's offers are lost. */
function loseFirstAnswers () {
  const Native = window.RTCPeerConnection
  let made = 0
  window.RTCPeerConnection = class extends Native {
    constructor (...args) {
      super(...args)
      this.lost = ++made <= 4 // peercdn makes 4 offers per announce
    }

    setRemoteDescription (description) {
      if (this.lost && description?.type === 'answer') return Promise.reject(new Error('answer lost (test)'))
      return super.setRemoteDescription(description)
    }
  }
}

browserTest('a visitor whose first connection attempt fails connects within seconds, not an announce interval later', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
  const origin = await startOrigin(site) // the default interval: 120 s
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    await a.goto(origin.url + 'visitor.html')
    assert.equal(await a.evaluate(() => window.leading), true)
    const contextB = await browser.newContext()
    await contextB.addInitScript(loseFirstAnswers)
    const b = await contextB.newPage()
    await b.goto(origin.url + 'visitor.html')
    assert.equal(await b.evaluate(() => window.leading), true)
    await waitInPage(b, () => window.peercdn.stats().peers >= 1, undefined, 30000)
    const { announces } = (await origin.stats()).tracker
    assert.ok(announces >= 3, `B announced again (${announces} announces in all)`)
  } finally {
    await browser.close()
    await origin.close()
  }
})

/**
 * Runs in A's page first: the data channel of the first offer A answers
 * never reaches peercdn, and that connection is never closed, so the
 * offerer holds a channel that is open on its side only.
 */
function swallowFirstAnsweredChannel () {
  const Native = window.RTCPeerConnection
  let swallowed = false
  window.RTCPeerConnection = class extends Native {
    constructor (...args) {
      super(...args)
      // Registered before peercdn's listener, so it can stop the event.
      this.addEventListener('datachannel', (e) => {
        if (swallowed) return
        swallowed = this.zombie = true
        e.stopImmediatePropagation()
      })
    }

    close () {
      if (!this.zombie) super.close()
    }
  }
}

browserTest('a connection open on one side only is dropped, and the visitor connects again', async () => {
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
  const origin = await startOrigin(site) // the default interval: 120 s
  const browser = await launchBrowser()
  try {
    const contextA = await browser.newContext()
    await contextA.addInitScript(swallowFirstAnsweredChannel)
    const a = await contextA.newPage()
    await a.goto(origin.url + 'visitor.html')
    assert.equal(await a.evaluate(() => window.leading), true)
    const b = await (await browser.newContext()).newPage()
    await b.goto(origin.url + 'visitor.html')
    assert.equal(await b.evaluate(() => window.leading), true)
    // A counts only connections its peercdn got: the second one, made
    // when B drops the first (no handshake came) and announces again.
    await waitInPage(a, () => window.peercdn.stats().peers >= 1, undefined, 40000)
    assert.equal(await a.evaluate(() => window.peercdn.stats().peers), 1)
  } finally {
    await browser.close()
    await origin.close()
  }
})
