// Media preloading waits for peercdn's service worker. A first visit is
// not controlled until the worker activates, and whatever the page loads
// before that goes straight to the origin: a <video preload="metadata">
// reads megabytes past its metadata into the media buffer. So media
// elements start with preload="none" and get their data-preload once a
// worker controls the page; pressing play before that still works (from
// the origin), and without service workers they preload at once.
(() => {
  const media = document.querySelectorAll('video[data-preload], audio[data-preload]')
  const preload = () => media.forEach((m) => { m.preload = m.dataset.preload })
  const sw = navigator.serviceWorker
  if (!sw || sw.controller) return preload()
  sw.addEventListener('controllerchange', preload, { once: true })
})()
