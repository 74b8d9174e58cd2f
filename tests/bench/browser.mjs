// The browser benchmarks' entry point (run by tests/bench/run.sh inside the
// isolated network namespace): runs the selected benchmarks one after the
// other and writes each one's figures to <results>/<name>.json.
//   node tests/bench/browser.mjs <results-dir> [--quick] [--only a,b]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { assertIsolated } from '../e2e/lib/browser.mjs'
import { log } from './lib/bench.mjs'
import { navigation } from './navigation.mjs'
import { offload } from './offload.mjs'
import { sha256Cost } from './sha256_cost.mjs'
import { swCost } from './sw_cost.mjs'
import { throughput } from './throughput.mjs'

const [results, ...flags] = process.argv.slice(2)
const quick = flags.includes('--quick')
const only = flags.includes('--only') ? flags[flags.indexOf('--only') + 1].split(',') : null

const BENCHES = {
  throughput: () => throughput({ reps: quick ? 1 : 3 }),
  swcost: () => swCost({ loads: quick ? 5 : 20 }),
  offload: () => offload({ sequential: quick ? 4 : 10, crowd: quick ? 4 : 8, crowdRuns: quick ? 1 : 3 }),
  navigation: () => navigation({ pages: quick ? 4 : 10 }),
  sha256: () => sha256Cost()
}

assertIsolated()
fs.mkdirSync(results, { recursive: true })
for (const [name, run] of Object.entries(BENCHES)) {
  if (only && !only.includes(name)) continue
  const started = Date.now()
  log(`${name}: start`)
  const loadBefore = os.loadavg()[0]
  const figures = await run()
  // The machine is shared: the load average says how quiet the run was.
  figures.loadAverage = { before: loadBefore, after: os.loadavg()[0] }
  figures.seconds = (Date.now() - started) / 1000
  fs.writeFileSync(path.join(results, `${name}.json`), JSON.stringify(figures, null, 2))
  log(`${name}: done in ${figures.seconds.toFixed(0)} s`)
}
