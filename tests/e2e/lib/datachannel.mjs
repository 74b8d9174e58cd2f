// Two visitors joined by a raw RTCDataChannel, signalled directly through
// the test (no tracker): the baseline every peer transfer is compared with.
// `iceServers: []`: host candidates only, inside the namespace.

/** Opens `window.__pc` and `window.__dc` in both pages and connects them. */
export async function connectPages (a, b) {
  const offer = await a.evaluate(async () => {
    const pc = new RTCPeerConnection({ iceServers: [] })
    window.__pc = pc
    window.__dc = pc.createDataChannel('bytes', { ordered: true })
    window.__dc.binaryType = 'arraybuffer'
    await pc.setLocalDescription(await pc.createOffer())
    await waitIceComplete(pc)
    return pc.localDescription.toJSON()

    function waitIceComplete (pc) {
      if (pc.iceGatheringState === 'complete') return Promise.resolve()
      return new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve()
      }))
    }
  })
  const answer = await b.evaluate(async (offer) => {
    const pc = new RTCPeerConnection({ iceServers: [] })
    window.__pc = pc
    window.__dcReady = new Promise((resolve) => pc.addEventListener('datachannel', (e) => {
      window.__dc = e.channel
      e.channel.binaryType = 'arraybuffer'
      e.channel.addEventListener('open', () => resolve(), { once: true })
      if (e.channel.readyState === 'open') resolve()
    }))
    await pc.setRemoteDescription(offer)
    await pc.setLocalDescription(await pc.createAnswer())
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve()
      }))
    }
    return pc.localDescription.toJSON()
  }, offer)
  await a.evaluate(async (answer) => {
    await window.__pc.setRemoteDescription(answer)
    if (window.__dc.readyState !== 'open') {
      await new Promise((resolve) => window.__dc.addEventListener('open', resolve, { once: true }))
    }
  }, answer)
  await b.evaluate(() => window.__dcReady)
}

/**
 * Sends `totalBytes` of pseudo-random data from a to b in `messageBytes`
 * messages with bufferedAmount flow control. Returns the milliseconds from
 * the first send to the last byte received and both sides' SHA-256.
 */
export async function transfer (a, b, totalBytes, messageBytes) {
  const received = b.evaluate((total) => new Promise((resolve) => {
    const chunks = []
    let got = 0
    let started = 0
    window.__dc.onmessage = (e) => {
      if (!started) started = performance.now()
      chunks.push(new Uint8Array(e.data))
      got += e.data.byteLength
      if (got >= total) {
        window.__dc.onmessage = null
        const all = new Uint8Array(got)
        let off = 0
        for (const c of chunks) { all.set(c, off); off += c.length }
        crypto.subtle.digest('SHA-256', all).then((d) => resolve({
          end: performance.timeOrigin + performance.now(),
          sha256: [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, '0')).join('')
        }))
      }
    }
  }), totalBytes)
  received.catch(() => {}) // awaited below; do not report it twice
  const sent = await a.evaluate(async ({ total, size }) => {
    const dc = window.__dc
    const data = new Uint8Array(total)
    for (let i = 0; i < total; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(total, i + 65536)))
    const digest = await crypto.subtle.digest('SHA-256', data)
    dc.bufferedAmountLowThreshold = 4 * size
    const start = performance.timeOrigin + performance.now()
    for (let off = 0; off < total; off += size) {
      if (dc.bufferedAmount > 16 * size) {
        await new Promise((resolve) => dc.addEventListener('bufferedamountlow', resolve, { once: true }))
      }
      dc.send(data.subarray(off, Math.min(total, off + size)))
    }
    return {
      start,
      sha256: [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, '0')).join('')
    }
  }, { total: totalBytes, size: messageBytes })
  const got = await received
  return { ms: got.end - sent.start, sentSha256: sent.sha256, receivedSha256: got.sha256 }
}
