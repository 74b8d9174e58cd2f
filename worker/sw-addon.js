// peercdn inside any service worker. All logic is in Rust (../src/web);
// this loads the wasm and defines `self.peercdn`:
//   peercdn.handleFetch(event) -> true when peercdn answers the request
//     (it then calls respondWith and stops other fetch listeners, so a
//     later Workbox route never answers the same event twice);
//   peercdn.activate() -> a promise: drops the pieces of older manifests.
// Standalone use is sw.js; beside Workbox, importScripts this file and
// call handleFetch first in your own fetch listener (README).
//
// Offline and with a hanging origin: the wasm and the manifest come from
// the network within a deadline, else from the last copy that worked
// (Cache Storage), so the site opens after a browser restart with the
// origin down; a manifest that comes late replaces the old one at once.
//
// Navigations to a manifest page are answered from peercdn (the cache,
// then peers) once one conditional request for peercdn.json says the
// manifest served is current (a 304); a new manifest (a deploy) is adopted
// and that navigation goes to the network, so the new page shows at once;
// with the origin unreachable, peercdn's copy.
/* global wasm_bindgen */
// In a function scope: the host worker's own globals never meet ours.
(() => {
  // The runtime lives in peercdn/ at the root of the worker's scope.
  const peercdnScope = self.registration.scope
  const runtimeUrl = (name) => new URL('peercdn/' + name, peercdnScope).href
  // Not "peercdn-...": those caches are swarms', dropped with their manifest.
  const RUNTIME_CACHE = 'peercdn:runtime'
  // How long the network may take before the last good copy is used, and
  // how long a request waits for peercdn before going to the network.
  const DEADLINE_MS = 3000
  const HOLD_MS = 2 * DEADLINE_MS
  const after = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  const keep = (url, response) =>
    caches.open(RUNTIME_CACHE).then((cache) => cache.put(url, response)).catch(() => {})

  // `use(response)` must succeed before a network copy is kept (and it is
  // written again only when its ETag changed). With a copy kept before, the
  // network gets DEADLINE_MS; if it answers later, `late` gets what `use`
  // made of that answer.
  async function networkFirst (url, use, late) {
    const network = fetch(url, { cache: 'no-cache' })
      .then((r) => r.ok ? r : Promise.reject(new Error(url + ' answered ' + r.status)))
    const saved = await caches.open(RUNTIME_CACHE).then((cache) => cache.match(url)).catch(() => undefined)
    const tag = (r) => r && r.headers.get('ETag')
    const useAndKeep = (r) => use(r.clone()).then((value) => {
      if (!tag(r) || tag(r) !== tag(saved)) keep(url, r)
      return value
    })
    if (!saved) return network.then(useAndKeep)
    const first = await Promise.race([network.catch(() => null), after(DEADLINE_MS)])
    if (first) {
      try {
        return await useAndKeep(first)
      } catch (err) {
        console.warn('peercdn: the network copy failed, using the last good one;', err)
      }
    } else if (late && first === undefined) {
      network.then(useAndKeep).then(late).catch(() => {})
    }
    return use(saved)
  }

  importScripts(runtimeUrl('peercdn.js'))
  const wasmReady = networkFirst(runtimeUrl('peercdn_bg.wasm'), (r) => wasm_bindgen({ module_or_path: r }))
  const manifestUrl = new URL('peercdn.json', peercdnScope).href
  // The ETag of the manifest each worker was made of: what a navigation
  // revalidates against.
  const manifestTags = new WeakMap()
  const startWorker = (r) =>
    Promise.all([wasmReady, r.text()]).then(([, text]) => wasm_bindgen.Worker.load(peercdnScope, text))
      .then((w) => { manifestTags.set(w, r.headers.get('ETag')); return w })
  let peercdnWorker = null
  // Serve the manifest `w` was made of, unless that one is already served.
  const adopt = (w) => {
    if (peercdnWorker && peercdnWorker.infoHash === w.infoHash) {
      w.free()
      return peercdnWorker
    }
    if (peercdnWorker) peercdnWorker.free() // answers under way hold what they need
    peercdnWorker = w
    // A new manifest (a new swarm): drop the old pieces now, not only when
    // a new worker script activates.
    if (self.serviceWorker && self.serviceWorker.state === 'activated') w.activate()
    // A new or restarted worker has no leader tab's port: ask for one.
    self.clients.matchAll({ type: 'window' })
      .then((tabs) => tabs.forEach((tab) => tab.postMessage({ peercdn: 'need-leader' })))
    return w
  }
  // A late manifest may be adopted before the last good copy is ready:
  // then the late one stays.
  const peercdnReady = networkFirst(manifestUrl, startWorker, adopt)
    .then((w) => peercdnWorker ? (w.free(), peercdnWorker) : adopt(w))
  peercdnReady.catch((err) => console.warn('peercdn: disabled;', err))

  // Whether `w` still serves the site's manifest, by one conditional
  // request: true on a 304 (or the same ETag), and when the origin cannot
  // be reached within DEADLINE_MS (offline: peercdn's copy is all there
  // is). A new manifest is kept and adopted (within DEADLINE_MS), and false.
  async function manifestCurrent (w) {
    const tag = manifestTags.get(w)
    if (!tag) return false // nothing to revalidate against: the network answers
    const network = fetch(manifestUrl, { cache: 'no-store', headers: { 'If-None-Match': tag } })
    const r = await Promise.race([network, after(DEADLINE_MS)]).catch(() => undefined)
    if (!r || r.status === 304 || r.headers.get('ETag') === tag) return true
    if (!r.ok) return false
    const adopted = startWorker(r.clone()).then((next) => { keep(manifestUrl, r); adopt(next) })
    await Promise.race([adopted, after(DEADLINE_MS)]).catch((err) => console.warn('peercdn: a new manifest failed;', err))
    return false
  }

  // A navigation to one of `w`'s pages: peercdn's copy while the manifest
  // is current, else the network's (and peercdn's copy if that fails).
  const navigation = (w, event) => manifestCurrent(w).then((current) => current
    ? w.handleFetch(event)
    : fetch(event.request).catch((err) => (peercdnWorker.handleFetch(event) || Promise.reject(err))))

  // The leader tab (peers) hands over a port to fetch pieces through. Its
  // port goes dead without a word when that tab navigates or closes, so
  // each request peercdn answers checks that the leader's client is still
  // there (one cheap lookup); if not, the worker waits a little for the
  // next leader instead of its deadline.
  let leaderClient = null
  self.addEventListener('message', (event) => {
    if (event.data && event.data.peercdn === 'leader' && event.ports[0]) {
      const client = event.source && event.source.id
      peercdnReady.then(() => { leaderClient = client; peercdnWorker.setLeader(event.ports[0]) })
    }
  })
  const leaderThere = () => {
    const id = leaderClient
    if (id) {
      self.clients.get(id).then((client) => {
        if (!client && leaderClient === id) { leaderClient = null; peercdnWorker && peercdnWorker.leaderGone() }
      }).catch(() => {})
    }
  }
  // Now, and once more a second later: a navigating tab's old document may
  // still be there when its next page's first requests come.
  const checkLeader = () => { leaderThere(); setTimeout(leaderThere, 1000) }

  self.peercdn = {
    ready: peercdnReady,
    activate: () => peercdnReady.then(() => peercdnWorker.activate()).catch(() => {}),
    handleFetch (event) {
      const request = event.request
      const ours = request.method === 'GET' && request.url.startsWith(peercdnScope)
      const whenReady = () => Promise.race([peercdnReady, after(HOLD_MS)])
        .then(() => peercdnWorker && peercdnWorker.handleFetch(event))
      // Until the wasm is ready (HOLD_MS at most), hold same-origin GETs
      // for it. A navigation goes to the network meanwhile, and only if
      // that fails waits for peercdn's copy of the page (offline): when the
      // worker left it unanswered and the origin refused connections,
      // Chromium kept the navigation pending (30 s and more, until closed).
      const answer = peercdnWorker
        ? request.mode === 'navigate' && ours
          ? peercdnWorker.isPage(request.url) ? navigation(peercdnWorker, event) : undefined
          : peercdnWorker.handleFetch(event)
        : !ours
            ? undefined
            : request.mode === 'navigate'
              ? fetch(request).catch((err) => whenReady().then((answer) => answer || Promise.reject(err)))
              : whenReady().then((answer) => answer || fetch(request))
      if (!answer) return false
      checkLeader()
      // Whatever goes wrong inside peercdn, the site still gets its bytes.
      event.respondWith(answer.catch(() => fetch(request)))
      event.stopImmediatePropagation()
      return true
    }
  }
})()
