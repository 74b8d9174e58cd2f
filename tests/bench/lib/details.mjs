// The report's detail sections, one per benchmark: how it was measured,
// every run's figure, and the plots. Pure formatting; used by figures.mjs.

const rate = (x) => `${x.toFixed(1)}`
const list = (runs) => runs.map((r) => rate(r.mibPerSec)).join(', ')

function throughput (t) {
  return `## 1. Peer throughput

A 64 MiB pseudo-random asset from visitor A to visitor B, two contexts of
one Chromium, each path on a fresh connection, timed from the request (or,
for WebTorrent, its first peer connection) to the last byte; SHA-256 of
every received copy checked. peercdn: B's \`fetch()\` through its service
worker, leader tab, data channel, SHA-1 verification, Cache Storage and the
streamed response. Raw: a bare RTCDataChannel between the same two pages,
64 KiB messages, bufferedAmount flow control; "cold" is the first transfer
on the connection (SCTP warm-up), "warm" the second. WebTorrent: the npm
bundle seeding from another context, through the same tracker.

| path | median MiB/s | runs (MiB/s) |
| --- | --- | --- |
| peercdn (service worker → peer) | ${rate(t.peercdn.mibPerSec)} | ${list(t.runs.peercdn)}${t.peercdnOriginBytes.some(Boolean) ? ` (bytes the runtime took from the origin instead, per run: ${t.peercdnOriginBytes.join(', ')})` : ''} |
| raw data channel, cold | ${rate(t.rawCold.mibPerSec)} | ${list(t.runs.rawCold)} |
| raw data channel, warm | ${rate(t.rawWarm.mibPerSec)} | ${list(t.runs.rawWarm)} |
| WebTorrent (from first wire) | ${rate(t.webtorrent.mibPerSec)} | ${list(t.runs.webtorrent)} |
| WebTorrent (from \`add\`) | ${rate(t.webtorrentFromAdd.mibPerSec)} | ${list(t.runs.webtorrentFromAdd)} |

![throughput per path](bench-throughput.png)`
}

function swCost (s) {
  const rows = Object.entries(s.variants).map(([name, v]) =>
    `| ${name} | ${v.medianMs.toFixed(0)} | ${v.minMs.toFixed(0)}–${v.maxMs.toFixed(0)} | ${v.originBytesDuringLoads} |`)
  return `## 2. Service-worker cost

A page that fetches ${s.assets - 1} assets of 32 KiB and one of 8 MiB in
parallel, all already cached, timed from navigation start to the last
body read; median of ${s.loads} loads each, one visitor per variant, after
two warm-up loads. \`peercdn\` is the page as a site ships it (page.js, so
the leader tab starts too); \`peercdn-sw\` registers peercdn's sw.js alone;
\`workbox\` a Workbox CacheFirst route; \`none\` no worker: the browser's
HTTP cache (in memory for these contexts) and, where it does not keep an
asset, the origin over loopback (the last column).

| variant | median ms | range ms | asset bytes from the origin during the loads |
| --- | --- | --- | --- |
${rows.join('\n')}`
}

function offload (o) {
  const s = o.sequential
  const rows = s.visitors.map((v) =>
    `| ${v.k} | ${(v.originBytes / 2 ** 20).toFixed(1)} | ${(v.originShare * 100).toFixed(1)}% | ${(1 / v.k * 100).toFixed(1)}% | ${v.firstPeerByteMs == null ? '—' : v.firstPeerByteMs.toFixed(0)} | ${v.complete ? (v.completeMs / 1000).toFixed(1) : `incomplete (${v.cachedPieces} of ${o.pieces} pieces)`} |`)
  return `## 3. Offload and 4. time to first peer byte

The demo site (${(o.siteBytes / 2 ** 20).toFixed(1)} MiB in ${o.assets} assets: video, download, images,
page, runtime). Visitors arrive one after another, each staying open once
its leader holds every byte; origin bytes are everything \`/_peercdn/stats\`
counts (assets, and the page, runtime and manifest a first visit always
loads from the origin before its worker runs). Share = origin bytes /
(visitors × site); the floor is 1/N (the first copy). Then a fresh origin
and a flash crowd of ${o.crowd.visitors} visitors arriving at once:
${(o.crowd.originBytes / 2 ** 20).toFixed(1)} MiB from the origin
(${o.crowd.originPerSite.toFixed(2)}x the site); ${o.crowd.complete} of ${o.crowd.visitors} visitors
held the whole site after ${o.crowd.seconds.toFixed(0)} s${o.crowd.complete < o.crowd.visitors ? ` (pieces held: ${o.crowd.cachedPieces.join(', ')} of ${o.pieces})` : ''}.${o.crowd.runs?.length > 1 ? ` That is the run with the median origin bytes of ${o.crowd.runs.length}, each on a fresh origin and browser; every run's origin bytes, in sites: ${o.crowd.runs.map((r) => r.toFixed(2) + 'x').join(', ')} (the crowd varies widely from run to run).` : ''}
Every visitor's every asset is then read back through its worker and
SHA-256-checked, with no new origin byte.

Time to first peer byte: navigation start to the leader's first
\`peercdn:stats\` event counting a verified piece from a peer.

| visitors | origin MiB | origin share | floor 1/N | first peer byte ms | whole site at s |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

![origin share against visitors](bench-offload.png)`
}

function size (z) {
  const rows = Object.entries(z.files).map(([f, v]) => `| ${f} | ${v.raw} | ${v.gzip} |`)
  return `## 5. Size

gzip -9 of what a visitor downloads.

| file | bytes | gzip |
| --- | --- | --- |
${rows.join('\n')}
| **peercdn total** | ${z.peercdn.raw} | ${z.peercdn.gzip} |
| ${z.webtorrent.file} (${z.webtorrent.version}) | ${z.webtorrent.raw} | ${z.webtorrent.gzip} |`
}

function navigation (n) {
  const rows = (v) => v.navigations.map((x) => `| ${x.page} | ${x.loadMs.toFixed(0)} | ${x.firstPeerByteMs == null ? '—' : x.firstPeerByteMs.toFixed(0)} |`).join('\n')
  return `## 5b. A multi-page visit in one tab

\`tests/bench/navigation.mjs\`: a first visitor holds a site of ${n.pages} pages (about 150 KiB of text and a 400 KiB image each); a second visitor opens
one page, then follows ${n.pages} links in the same tab, dwelling ${n.dwellMs} ms on each. Every navigation restarts the tab's leader. On Save-Data
the second visitor fetches only what it views, so each page's image comes from the first visitor just after the navigation: origin bytes
${n.saveData.originBytes} of ${n.viewedBytes} viewed. A normal visitor's first leader fetched the rest of the site from the first visitor in the
background, so its later pages came from its own cache (origin bytes ${n.background.originBytes}). Times from each navigation's start (ms);
the same visit with service workers blocked loads its pages in ${n.baselineLoadMs.toFixed(0)} ms (median) from the loopback origin.

| Save-Data navigation | load | first peer byte |
| --- | --- | --- |
${rows(n.saveData)}

| normal navigation | load | first peer byte |
| --- | --- | --- |
${rows(n.background)}`
}

function sha256 (h) {
  const rows = h.sizes.map((x) => `| ${x.size / 1024} KiB | ${x.sha256PerPieceMs.toFixed(3)} | ${x.sha256MibPerSec.toFixed(0)} | ${x.sha1MibPerSec.toFixed(0)} |`)
  return `## 5c. The SHA-256 check

\`tests/bench/sha256_cost.mjs\`: crypto.subtle in Chromium, about 64 MiB of pieces of each size. Every piece a worker reads from
Cache Storage or takes from the origin is checked against the manifest's SHA-256 beside the wasm's SHA-1.

| piece | SHA-256 ms per piece | SHA-256 MiB/s | SHA-1 MiB/s (crypto.subtle) |
| --- | --- | --- | --- |
${rows.join('\n')}`
}

function tracker (text) {
  return `## 6. Tracker

\`tests/bench/tracker.sh\` (its own benchmark; see its header), output as printed:

\`\`\`
${text.trim()}
\`\`\``
}

export function detailSections (r) {
  return [
    r.throughput && throughput(r.throughput),
    r.swcost && swCost(r.swcost),
    r.offload && offload(r.offload),
    r.navigation && navigation(r.navigation),
    r.sha256 && sha256(r.sha256),
    r.size && size(r.size),
    r.tracker && tracker(r.tracker)
  ].filter(Boolean)
}
