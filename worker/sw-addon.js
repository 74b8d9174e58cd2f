// peercdn inside any service worker. All logic is in Rust (../src/web);
// this loads the wasm and defines `self.peercdn`:
//   peercdn.handleFetch(event) -> true when peercdn answers the request
//     (it then calls respondWith and stops other fetch listeners, so a
//     later Workbox route never answers the same event twice);
//   peercdn.activate() -> a promise: drops the pieces of older manifests.
// Standalone use is sw.js; beside Workbox, importScripts this file and
// call handleFetch first in your own fetch listener (README).
/* global wasm_bindgen */
// In a function scope: the host worker's own globals never meet ours.
(() => {
  // The runtime lives in peercdn/ at the root of the worker's scope.
  const peercdnScope = self.registration.scope
  importScripts(new URL('peercdn/peercdn.js', peercdnScope).href)
  const peercdnReady = wasm_bindgen({ module_or_path: new URL('peercdn/peercdn_bg.wasm', peercdnScope) })
    .then(() => wasm_bindgen.Worker.load(peercdnScope))
  let peercdnWorker = null
  peercdnReady.then((w) => {
    peercdnWorker = w
    // Restarted with a new manifest (a new swarm): drop the old pieces now,
    // not only when a new worker script activates.
    if (self.serviceWorker && self.serviceWorker.state === 'activated') w.activate()
    // A restarted worker has lost the leader tab's port: ask for a new one.
    return self.clients.matchAll({ type: 'window' })
      .then((tabs) => tabs.forEach((tab) => tab.postMessage({ peercdn: 'need-leader' })))
  }).catch((err) => console.warn('peercdn: disabled;', err))

  // The leader tab (peers) hands over a port to fetch pieces through.
  self.addEventListener('message', (event) => {
    if (event.data && event.data.peercdn === 'leader' && event.ports[0]) {
      peercdnReady.then((w) => w.setLeader(event.ports[0]))
    }
  })

  self.peercdn = {
    ready: peercdnReady,
    activate: () => peercdnReady.then((w) => w.activate()).catch(() => {}),
    handleFetch (event) {
      const request = event.request
      // Until the wasm is ready, hold same-origin GETs for it; the rest (and
      // navigations) never wait for peercdn.
      const answer = peercdnWorker
        ? peercdnWorker.handleFetch(event)
        : request.method === 'GET' && request.mode !== 'navigate' && request.url.startsWith(peercdnScope)
          ? peercdnReady.then((w) => w.handleFetch(event) || fetch(request))
          : undefined
      if (!answer) return false
      // Whatever goes wrong inside peercdn, the site still gets its bytes.
      event.respondWith(answer.catch(() => fetch(request)))
      event.stopImmediatePropagation()
      return true
    }
  }
})()
