// peercdn's service worker bootstrap. All logic is in Rust (../src/web);
// this only loads the wasm and hands it the events. Serve it at the site's
// root (or with `Service-Worker-Allowed: /`) and peercdn/ beside it.
/* global wasm_bindgen */
importScripts('peercdn/peercdn.js')

const scope = self.registration.scope
const ready = wasm_bindgen({ module_or_path: 'peercdn/peercdn_bg.wasm' })
  .then(() => wasm_bindgen.Worker.load(scope))
let worker = null
ready.then((w) => {
  worker = w
  // A restarted worker has lost the leader tab's port: ask for a new one.
  return self.clients.matchAll({ type: 'window' })
    .then((tabs) => tabs.forEach((tab) => tab.postMessage({ peercdn: 'need-leader' })))
}).catch((err) => console.warn('peercdn: disabled;', err))

// The leader tab (peers) hands over a port to fetch pieces through.
self.addEventListener('message', (event) => {
  if (event.data && event.data.peercdn === 'leader' && event.ports[0]) {
    ready.then((w) => w.setLeader(event.ports[0]))
  }
})

self.addEventListener('install', (event) => {
  self.skipWaiting()
  event.waitUntil(ready.catch(() => {}))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(ready.then((w) => w.activate()).catch(() => {}).then(() => self.clients.claim()))
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  // Until the wasm is ready, hold same-origin GETs for it; the rest (and
  // navigations) never wait for peercdn.
  const answer = worker
    ? worker.handleFetch(event)
    : request.method === 'GET' && request.mode !== 'navigate' && request.url.startsWith(scope)
      ? ready.then((w) => w.handleFetch(event) || fetch(request))
      : undefined
  // Whatever goes wrong inside peercdn, the site still gets its bytes.
  if (answer) event.respondWith(answer.catch(() => fetch(request)))
})
