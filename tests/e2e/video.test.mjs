// A real video through peercdn: visitor B plays and seeks a 24 MiB H.264
// video that visitor A already has; the bytes come from A (the origin
// serves B none of them) and every range B reads is byte-identical.
import { browserTest } from './lib/trace.mjs'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { launchBrowser } from './lib/browser.mjs'
import { ROOT, prepareSite, startOrigin } from './lib/origin.mjs'
import { PEER_PAGE, fetchInPage, openVisitor, sha256, waitInPage, writeFile } from './lib/site.mjs'

/** The demo's generated video, made once per checkout (ffmpeg). */
function demoVideo () {
  const dir = path.join(ROOT, 'target/demo-media')
  execFileSync('bash', [path.join(ROOT, 'demo/generate.sh'), dir], { stdio: 'inherit' })
  return fs.readFileSync(path.join(dir, 'video.mp4'))
}

browserTest('B plays and seeks a video that comes from A', async () => {
  const video = demoVideo()
  const site = prepareSite(path.join(ROOT, 'tests/fixtures/site'), (dir) => {
    writeFile(dir, 'media/video.mp4', video)
    writeFile(dir, 'visitor.html', PEER_PAGE)
  })
  const origin = await startOrigin(site)
  const browser = await launchBrowser()
  try {
    const a = await (await browser.newContext()).newPage()
    await openVisitor(a, origin.url + 'visitor.html')
    assert.equal((await fetchInPage(a, 'media/video.mp4')).sha256, sha256(video))
    const originAfterA = await origin.bytesServed('media/video.mp4')

    const b = await (await browser.newContext()).newPage()
    await openVisitor(b, origin.url + 'visitor.html')
    await waitInPage(b, () => window.peercdn.stats().peers >= 1)

    const played = await b.evaluate(async () => {
      const v = document.createElement('video')
      v.muted = true
      v.src = 'media/video.mp4'
      document.body.append(v)
      const once = (name) => new Promise((resolve, reject) => {
        v.addEventListener(name, resolve, { once: true })
        v.addEventListener('error', () => reject(new Error('video error ' + (v.error && v.error.message))), { once: true })
      })
      await once('loadedmetadata')
      const duration = v.duration
      v.currentTime = 40
      await once('seeked')
      await v.play()
      await new Promise((resolve) => setTimeout(resolve, 1500))
      v.pause()
      return { duration, time: v.currentTime }
    })
    assert.ok(Math.abs(played.duration - 60) < 1, `duration ${played.duration}`)
    assert.ok(played.time > 40, `played from the seek point: ${played.time}`)

    const slice = await fetchInPage(b, 'media/video.mp4', 'bytes=15000000-17999999')
    assert.equal(slice.status, 206)
    assert.equal(slice.sha256, sha256(video.subarray(15000000, 18000000)))
    assert.equal(await origin.bytesServed('media/video.mp4'), originAfterA, 'the origin served B none of the video')
  } finally {
    await browser.close()
    await origin.close()
  }
})
