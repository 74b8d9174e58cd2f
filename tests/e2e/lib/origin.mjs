// The origin for browser tests: a site directory with peercdn's runtime
// installed (worker/build.sh) and its manifest built, served by
// `peercdn serve` on 127.0.0.1 (a secure context, as service workers need).
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { endsWithTest } from './trace.mjs'

export const ROOT = path.resolve(import.meta.dirname, '../../..')
export const BIN = process.env.PEERCDN_BIN || path.join(ROOT, 'target/debug/peercdn')

/** Copies `from` into a fresh directory, lets `extra(dir)` add files, installs the runtime and builds the manifest. */
export function prepareSite (from, extra = () => {}) {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-e2e-')), 'site')
  fs.cpSync(from, dir, { recursive: true })
  extra(dir)
  installRuntime(dir)
  execFileSync(BIN, ['build', dir], { stdio: 'pipe' })
  return dir
}

/**
 * The built runtime (sw.js, peercdn/) copied into `dir`; built once per run
 * into target/e2e-runtime (or $PEERCDN_RUNTIME_DIR, as the benchmarks set).
 */
function installRuntime (dir) {
  const built = process.env.PEERCDN_RUNTIME_DIR || path.join(ROOT, 'target/e2e-runtime')
  if (!fs.existsSync(path.join(built, 'sw.js'))) {
    fs.mkdirSync(built, { recursive: true })
    execFileSync('bash', [path.join(ROOT, 'worker/build.sh'), built], { stdio: 'inherit' })
  }
  fs.cpSync(built, dir, { recursive: true })
}

/** Starts `peercdn serve` on `dir`; resolves once it prints its URLs. */
export async function startOrigin (dir, args = []) {
  const child = spawn(BIN, ['serve', dir, '--addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  endsWithTest(() => { if (child.exitCode === null) child.kill('SIGTERM') })
  const lines = readline.createInterface({ input: child.stdout })
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`peercdn serve exited with ${code}`)))
    lines.on('line', (line) => {
      const site = line.match(/site (\S+)/)
      if (site) resolve(site[1].endsWith('/') ? site[1] : site[1] + '/')
    })
  })
  return {
    url,
    async stats () {
      const response = await fetch(new URL('_peercdn/stats', url))
      return response.json()
    },
    /** Body bytes the origin has sent for the site file at `path` (relative, as in peercdn.json). */
    async bytesServed (path) {
      const { origin } = await this.stats()
      return origin.paths['/' + path] ?? 0
    },
    close () {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGTERM')
      })
    }
  }
}
