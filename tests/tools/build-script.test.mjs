// worker/build.sh as a site owner calls it: from their own directory, with
// a path relative to it. The runtime must land in that site, never in the
// checkout, and a site directory that does not exist is an error.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import test from 'node:test'

const ROOT = path.resolve(import.meta.dirname, '../..')
const SCRIPT = path.join(ROOT, 'worker/build.sh')

function runFrom (cwd, ...args) {
  return spawnSync('bash', [SCRIPT, ...args], { cwd, encoding: 'utf8' })
}

test('a relative site path is resolved against the caller\'s directory', () => {
  const caller = fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-owner-'))
  const name = path.basename(caller) + '-site'
  fs.mkdirSync(path.join(caller, name))
  const run = runFrom(caller, name)
  assert.equal(run.status, 0, run.stderr)
  for (const file of ['sw.js', 'peercdn/page.js', 'peercdn/sw-addon.js', 'peercdn/peercdn.js', 'peercdn/peercdn_bg.wasm']) {
    assert.ok(fs.statSync(path.join(caller, name, file)).size > 0, `${file} in the caller's site`)
  }
  assert.equal(fs.existsSync(path.join(ROOT, name)), false, 'nothing written into the checkout')
})

test('a site directory that does not exist is an error, and nothing is written', () => {
  const caller = fs.mkdtempSync(path.join(os.tmpdir(), 'peercdn-owner-'))
  const name = path.basename(caller) + '-missing'
  const run = runFrom(caller, name)
  assert.notEqual(run.status, 0)
  assert.match(run.stderr, /no such directory/)
  assert.equal(fs.existsSync(path.join(caller, name)), false)
  assert.equal(fs.existsSync(path.join(ROOT, name)), false)
})

test('no site argument is a usage error', () => {
  const run = runFrom(os.tmpdir())
  assert.equal(run.status, 2)
  assert.match(run.stderr, /usage: worker\/build.sh <site-dir>/)
})
