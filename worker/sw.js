// peercdn's standalone service worker: serve it at the site's root (or
// with `Service-Worker-Allowed: /`), with peercdn/ beside it.
importScripts('peercdn/sw-addon.js')

self.addEventListener('install', (event) => {
  self.skipWaiting()
  event.waitUntil(self.peercdn.ready.catch(() => {}))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(self.peercdn.activate().then(() => self.clients.claim()))
})

self.addEventListener('fetch', (event) => { self.peercdn.handleFetch(event) })
