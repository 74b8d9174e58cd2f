// Headless Chromium for the e2e tests and benchmarks: Debian's
// /usr/bin/chromium driven by playwright-core (never a downloaded browser),
// with the flags that keep it quiet and inside the test network namespace.
import { chromium } from 'playwright-core'
import { endsWithTest, traceContext, tracing } from './trace.mjs'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Chromium hides host candidates behind mDNS names by default; inside the
  // namespace there is no mDNS, so peers would never connect.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // Any name lookup fails: nothing can resolve an outside host.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'
]

/** Refuses to run outside the namespace made by lib/netns.sh. */
export function assertIsolated () {
  if (!process.env.PEERCDN_NETNS_ADDR) {
    throw new Error('browser tests must run inside tests/e2e/lib/netns.sh (isolated network namespace)')
  }
  return process.env.PEERCDN_NETNS_ADDR
}

/** A browser whose contexts are separate visitors with in-memory storage. */
export async function launchBrowser () {
  assertIsolated()
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  endsWithTest(() => browser.close())
  if (!tracing()) return browser
  // Inside a `browserTest`, every visitor is traced (trace.mjs).
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (...args) => {
    const context = await newContext(...args)
    await traceContext(context)
    return context
  }
  return browser
}

/** A visitor with an on-disk profile, for reload and offline tests. */
export async function launchPersistentVisitor (userDataDir) {
  assertIsolated()
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS
  })
  endsWithTest(() => context.close())
  if (tracing()) await traceContext(context)
  return context
}
