// The demo's live dashboard: listens to peercdn's `peercdn:stats` events
// (dispatched by the leader tab's controller) and draws them.
(() => {
  const $ = (id) => document.getElementById(id)
  const bytes = (n) => {
    const units = ['B', 'KiB', 'MiB', 'GiB']
    let i = 0
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`
  }
  const history = []
  let last = { fromPeers: 0, fromOrigin: 0 }

  function show (s) {
    $('peers').textContent = s.peers
    $('from-peers').textContent = bytes(s.fromPeers)
    $('from-origin').textContent = bytes(s.fromOrigin)
    $('from-cache').textContent = bytes(s.fromCache)
    $('uploaded').textContent = bytes(s.uploaded)
    const total = s.fromPeers + s.fromOrigin
    $('offload').textContent = total ? `${Math.round((100 * s.fromPeers) / total)} %` : '–'
  }

  function sample () {
    if (!window.peercdn) return
    const s = window.peercdn.stats()
    show(s)
    history.push({ peers: s.fromPeers - last.fromPeers, origin: s.fromOrigin - last.fromOrigin })
    if (history.length > 60) history.shift()
    last = s
    draw()
  }

  function draw () {
    const canvas = $('chart')
    const ctx = canvas.getContext('2d')
    const max = Math.max(1, ...history.map((h) => h.peers + h.origin))
    const w = canvas.width / 60
    ctx.clearRect(0, 0, canvas.width, canvas.height)
    history.forEach((h, i) => {
      const hp = (h.peers / max) * canvas.height
      const ho = (h.origin / max) * canvas.height
      ctx.fillStyle = '#2e9d5b'
      ctx.fillRect(i * w, canvas.height - hp, w - 1, hp)
      ctx.fillStyle = '#d9822b'
      ctx.fillRect(i * w, canvas.height - hp - ho, w - 1, ho)
    })
  }

  window.addEventListener('peercdn:leader', () => { $('role').textContent = 'this tab holds the peer connections' })
  window.addEventListener('peercdn:stats', (e) => show(e.detail))
  setTimeout(() => { if (!window.peercdn) $('role').textContent = 'another tab of this browser holds the peer connections' }, 3000)
  setInterval(sample, 1000)
})()
