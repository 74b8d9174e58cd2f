// What a failing browser test prints to explain itself, since CI is where
// the rare failures happen and its output is all we get: for every visitor
// (browser context) the test opened, its peer connections' state changes
// and data channels opening and closing, its pages' console, and the
// requests its pages and service worker sent for site files. Nothing is
// printed while tests pass.
//
// Use `browserTest` instead of node:test's `test`; `launchBrowser` and
// `launchPersistentVisitor` (browser.mjs) trace into the running test.
import { test } from 'node:test'

let lines = null
let visitors = 0
/** What the running test started that must end with it (browsers, servers). */
let cleanups = []

/**
 * A test's time limit, below the runner's 300 s per test: past it the test
 * fails, and the browsers and servers it started are closed, so that its
 * body ends too. (Cancelled by the runner instead, a test left its browser
 * open, and the test process, and CI, never ended.)
 */
const TEST_LIMIT_MS = 270_000

/** node:test's `test`, printing the trace of the test's visitors if it fails. */
export function browserTest (name, body) {
  return test(name, async (t) => {
    lines = []
    visitors = 0
    cleanups = []
    const started = Date.now()
    let timer
    const limit = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the test took more than ${TEST_LIMIT_MS} ms`)), TEST_LIMIT_MS)
    })
    try {
      await Promise.race([body(t), limit])
    } catch (error) {
      console.log(`trace of the failed test (ms since its start):\n${lines.map(({ at, text }) => `  ${at - started} ${text}`).join('\n')}`)
      throw error
    } finally {
      clearTimeout(timer)
      lines = null
      const pending = cleanups
      cleanups = []
      await Promise.allSettled(pending.map((close) => close()))
    }
  })
}

/** Inside a `browserTest`: `close` runs when the test ends, however it ends (closing twice is harmless). */
export function endsWithTest (close) {
  if (lines !== null) cleanups.push(close)
}

/** True inside a `browserTest`: visitors launched now are traced. */
export function tracing () {
  return lines !== null
}

function note (text) {
  lines?.push({ at: Date.now(), text })
}

/** Traces `context`: its pages' peer connections and console, and its requests. */
export async function traceContext (context) {
  const visitor = `visitor ${++visitors}:`
  await context.addInitScript(watchPeerConnections)
  const watchPage = (page) => page.on('console', (m) => note(`${visitor} console ${m.type()}: ${m.text()}`))
  context.pages().forEach(watchPage)
  context.on('page', watchPage)
  context.on('request', (r) => {
    const url = new URL(r.url())
    if (url.pathname.includes('/_peercdn/')) return
    const from = r.serviceWorker() ? 'worker' : r.headers()['x-peercdn-origin'] ? 'leader' : 'page'
    note(`${visitor} ${from} requests ${url.pathname} ${r.headers().range ?? ''}`)
  })
  context.on('response', (r) => r.status() >= 400 && note(`${visitor} answered ${r.status()}: ${r.url()}`))
  context.on('requestfailed', (r) => note(`${visitor} request failed: ${r.url()} ${r.failure()?.errorText}`))
}

/** Runs in each page before its scripts: logs every RTCPeerConnection's life to the console. */
function watchPeerConnections () {
  const Native = window.RTCPeerConnection
  if (!Native) return
  let count = 0
  const say = (text) => console.debug(`[rtc] ${text}`)
  const watchChannel = (id, channel) => {
    channel.addEventListener('open', () => say(`pc${id} channel open`))
    channel.addEventListener('close', () => say(`pc${id} channel closed`))
  }
  window.RTCPeerConnection = class extends Native {
    constructor (...args) {
      super(...args)
      const id = ++count
      this.traceId = id
      say(`pc${id} created`)
      this.addEventListener('connectionstatechange', () => say(`pc${id} ${this.connectionState}`))
      this.addEventListener('datachannel', (e) => {
        say(`pc${id} remote channel arrives ${e.channel.readyState}`)
        watchChannel(id, e.channel)
      })
    }

    createDataChannel (...args) {
      const channel = super.createDataChannel(...args)
      watchChannel(this.traceId, channel)
      return channel
    }

    close () {
      say(`pc${this.traceId} closed by the page`)
      return super.close()
    }
  }
}
