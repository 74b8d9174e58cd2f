// peercdn's page bootstrap, the one script a site adds:
//   <script src="/peercdn/page.js" data-trackers="wss://example.org/announce"></script>
// It registers the service worker and, in one tab per origin (a Web Lock),
// starts the controller (Rust, ../src/web/page) that holds the peers.
// Options (data- attributes): trackers (space-separated; default: this
// origin's /announce), ice-servers (JSON array of RTCIceServer; default
// none), upload ("off" to never upload), upload-rate (bytes per second
// uploaded at most), max-peers.
/* global wasm_bindgen */
(() => {
  if (!('serviceWorker' in navigator) || !('locks' in navigator)) return
  const script = document.currentScript
  const base = new URL('.', script.src)
  const scope = new URL('..', base).href
  const data = script.dataset
  const wsOrigin = scope.replace(/^http/, 'ws')
  const options = {
    scope,
    trackers: (data.trackers || wsOrigin + 'announce').split(/\s+/).filter(Boolean),
    iceServers: JSON.parse(data.iceServers || '[]'),
    upload: data.upload !== 'off',
    uploadRate: Number(data.uploadRate) || undefined,
    background: data.background === 'off' ? 0 : Number(data.background),
    maxPeers: Number(data.maxPeers) || undefined
  }
  navigator.serviceWorker.register(new URL('sw.js', scope), { scope })
  const glue = document.createElement('script')
  glue.src = new URL('peercdn.js', base)
  glue.onload = () => wasm_bindgen({ module_or_path: new URL('peercdn_bg.wasm', base) })
    .then(() => navigator.locks.request('peercdn-leader', () =>
      // The manifest as the origin has it now (a stale one pins an old swarm).
      fetch(new URL('peercdn.json', scope), { cache: 'no-cache' })
        .then((r) => r.ok ? r.text() : Promise.reject(new Error('peercdn.json answered ' + r.status)))
        .then((manifest) => wasm_bindgen.Controller.start({ ...options, manifest }))
        .then((controller) => {
          window.peercdn = controller
          window.dispatchEvent(new CustomEvent('peercdn:leader'))
          return new Promise(() => {}) // hold the lock while this tab lives
        })))
    .catch((err) => console.warn('peercdn: peers disabled;', err))
  document.head.append(glue)
})()
