// The report's figures: one summary row per figure (ours, anchor, ratio,
// goal, met or missed by how much) and one detail section per benchmark,
// from the results JSON. Pure formatting; used by ../report.mjs.

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
const rate = (x) => `${x.toFixed(1)} MiB/s`
const ms = (x) => (x == null ? 'n/a' : `${x.toFixed(0)} ms`)
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`

/** "met" or "missed by N%" for a ratio and a goal; `atLeast` says which way the goal points. */
export function verdict (ratio, goal, atLeast) {
  const ok = atLeast ? ratio >= goal : ratio <= goal
  if (ok) return '**met**'
  const by = atLeast ? (goal - ratio) / goal : (ratio - goal) / goal
  return `**missed** by ${(by * 100).toFixed(0)}%`
}

const row = (...cells) => `| ${cells.join(' | ')} |`

function throughputRows (t) {
  if (!t) return []
  const ours = t.peercdn.mibPerSec
  return [
    row('peer throughput, 64 MiB A → B', rate(ours), `raw data channel (warm) ${rate(t.rawWarm.mibPerSec)}`, `${(ours / t.rawWarm.mibPerSec).toFixed(2)}x`, '≥ 0.8x', verdict(ours / t.rawWarm.mibPerSec, 0.8, true)),
    row('', '', `raw data channel (cold, first transfer) ${rate(t.rawCold.mibPerSec)}`, `${(ours / t.rawCold.mibPerSec).toFixed(2)}x`, '(≥ 0.8x)', verdict(ours / t.rawCold.mibPerSec, 0.8, true)),
    row('', '', `WebTorrent ${rate(t.webtorrent.mibPerSec)}`, `${(ours / t.webtorrent.mibPerSec).toFixed(2)}x`, '≥ 3x', verdict(ours / t.webtorrent.mibPerSec, 3, true))
  ]
}

function swCostRows (s) {
  if (!s) return []
  const v = s.variants
  const ours = v.peercdn.medianMs
  return [
    row(`page load, ${s.assets} cached assets (${mib(s.bytes)}), median of ${s.loads}`, ms(ours), `Workbox CacheFirst ${ms(v.workbox.medianMs)}`, `${(ours / v.workbox.medianMs).toFixed(2)}x`, '≤ 1.0x', verdict(ours / v.workbox.medianMs, 1, false)),
    row('', `worker only ${ms(v['peercdn-sw'].medianMs)}`, `Workbox CacheFirst ${ms(v.workbox.medianMs)}`, `${(v['peercdn-sw'].medianMs / v.workbox.medianMs).toFixed(2)}x`, '(≤ 1.0x)', verdict(v['peercdn-sw'].medianMs / v.workbox.medianMs, 1, false)),
    row('', '', `no worker (HTTP cache) ${ms(v.none.medianMs)}`, `${(ours / v.none.medianMs).toFixed(2)}x`, '—', '')
  ]
}

/**
 * Offload counting only the origin bytes the leaders' engines chose to
 * fetch (their `fromOrigin` counters), not what each page loaded before
 * its worker took over on a first visit.
 */
function runtimeOffload (o) {
  const v = o.sequential.visitors
  return 1 - v.reduce((sum, x) => sum + x.fromOrigin, 0) / (v.length * o.siteBytes)
}

function offloadRows (o) {
  if (!o) return []
  const s = o.sequential
  const n = s.visitors.length
  const c = o.crowd
  return [
    row(`offload, ${n} sequential visitors`, `${(s.offload * 100).toFixed(1)}%`, `ceiling (N-1)/N ${(s.ceiling * 100).toFixed(1)}%`, `${(s.offload / s.ceiling).toFixed(3)}`, '≥ 0.95', verdict(s.offload / s.ceiling, 0.95, true)),
    row('', `runtime's own origin fetches only: ${(100 * runtimeOffload(o)).toFixed(1)}%`, `ceiling ${(s.ceiling * 100).toFixed(1)}%`, `${(runtimeOffload(o) / s.ceiling).toFixed(3)}`, '(≥ 0.95)', verdict(runtimeOffload(o) / s.ceiling, 0.95, true)),
    row(`origin bytes, flash crowd of ${c.visitors}${c.runs?.length > 1 ? `, median of ${c.runs.length} runs` : ''}`, mib(c.originBytes), `site ${mib(o.siteBytes)}`, `${c.originPerSite.toFixed(2)}x`, '≤ 1.25x', verdict(c.originPerSite, 1.25, false)),
    ...(c.fromOriginByLeaders == null ? [] : [row('', `leaders' own origin fetches only: ${mib(c.fromOriginByLeaders)}`, `site ${mib(o.siteBytes)}`, `${(c.fromOriginByLeaders / o.siteBytes).toFixed(2)}x`, '(≤ 1.25x)', verdict(c.fromOriginByLeaders / o.siteBytes, 1.25, false))]),
    row('time to first peer byte, 2nd visitor', ms(o.firstPeerByte.secondVisitorMs), `median of visitors 2..${n}: ${ms(o.firstPeerByte.medianMs)}`, '—', '—', '')
  ]
}

function sizeRows (z) {
  if (!z) return []
  return [row('gzip bytes a visitor downloads', kb(z.peercdn.gzip), `WebTorrent ${z.webtorrent.version} bundle ${kb(z.webtorrent.gzip)}`, `${(z.peercdn.gzip / z.webtorrent.gzip).toFixed(2)}x`, '—', '')]
}

/** tracker.sh's medians of its per-round ratios against `against`. */
function trackerFigures (text, against = 'bittorrent-tracker') {
  const m = text?.match(new RegExp(`median per-round ratios \\(ours / ${against}\\): throughput ([\\d.]+)x per CPU-second.*?, ([\\d.]+)x wall clock; memory per peer ([\\d.]+)`))
  return m ? { cpu: Number(m[1]), wall: Number(m[2]), memory: Number(m[3]) } : null
}

function trackerRows (text) {
  const t = trackerFigures(text)
  if (!t) return [row('tracker', 'not run (--skip-tracker)', '', '', '', '')]
  const a = trackerFigures(text, 'aquatic_ws')
  return [
    row('tracker announces per CPU-second', '', 'bittorrent-tracker server', `${t.cpu.toFixed(2)}x (wall clock ${t.wall.toFixed(2)}x), median of the rounds`, '≥ 5x', verdict(t.cpu, 5, true)),
    row('tracker memory per peer', '', 'bittorrent-tracker server', t.memory.toFixed(3), '≤ 0.25', verdict(t.memory, 0.25, false)),
    ...(a
      ? [row('tracker announces per CPU-second', '', 'aquatic_ws', `${a.cpu.toFixed(2)}x (wall clock ${a.wall.toFixed(2)}x), median of the rounds`, '—', ''),
          row('tracker memory per peer', '', 'aquatic_ws', a.memory.toFixed(3), '—', '')]
      : [])
  ]
}

function navigationRows (n) {
  if (!n) return []
  const s = n.saveData
  return [
    row('time to first peer byte after an in-tab navigation (Save-Data visitor)', ms(s.firstPeerByte.medianMs), `median of ${n.pages} navigations`, '—', '≤ 1000 ms', s.firstPeerByte.medianMs != null && s.firstPeerByte.medianMs <= 1000 ? 'met' : 'missed'),
    row('origin bytes of an in-tab visit of pages a peer holds', mib(s.originBytes), `viewed ${mib(n.viewedBytes)}`, `${(s.originBytes / n.viewedBytes).toFixed(3)}`, '—', ''),
    row('page load, in-tab navigation (median)', `${ms(s.loadMs)} Save-Data, ${ms(n.background.loadMs)} normal`, `no worker ${ms(n.baselineLoadMs)}`, `${(s.loadMs / n.baselineLoadMs).toFixed(2)}x, ${(n.background.loadMs / n.baselineLoadMs).toFixed(2)}x`, '≤ 1x', verdict(n.background.loadMs / n.baselineLoadMs, 1, false))
  ]
}

export function figureRows (r) {
  return [...throughputRows(r.throughput), ...swCostRows(r.swcost), ...offloadRows(r.offload), ...navigationRows(r.navigation), ...sizeRows(r.size), ...trackerRows(r.tracker)]
}

export { detailSections } from './details.mjs'
