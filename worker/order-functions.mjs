// Build step (worker/build.sh), before wasm-opt: renames the wasm's
// functions (in its name section, which --strip-debug later drops) to the
// key wasm-opt's --reorder-functions-by-name then sorts them by.
//
// Why: gzip finds repeats only within its last 32 KB, so code that looks
// alike compresses better next to itself. Sorted by Rust path, a module's
// functions sit together; with the generic arguments left out of the key,
// trait impls (`<peercdn::X as core::fmt::Display>::fmt` becomes
// `<>::fmt`) and generic code (`alloc::vec::Vec<>::push`) sit together
// whatever their types. The full name follows, to break ties.
//
// Why not the plain names: each ends in a hash (`::h0123456789abcdef`) of
// the crate's build, which changes with any dependency or feature change,
// so sorting by it shuffles the copies of one generic function at random:
// measured over five such changes, the plain names' order saved 80 to
// 480 B gzip over the linker's, this key's 580 to 640 B.
//
//   node worker/order-functions.mjs <in.wasm> <out.wasm>
import fs from 'node:fs'

import { leb, readLeb, readSections, writeSections } from './wasm-binary.mjs'

const [inWasm, outWasm] = process.argv.slice(2)
if (!outWasm) throw new Error('usage: order-functions.mjs <in.wasm> <out.wasm>')

const CUSTOM_SECTION = 0
const FUNCTION_NAMES = 1

/** `name` without anything between angle brackets (the brackets stay). */
function withoutGenerics (name) {
  let out = ''
  let depth = 0
  for (const c of name) {
    if (c === '>' && depth > 0) depth-- // not the `>` of `->`
    if (depth === 0) out += c
    if (c === '<') depth++
  }
  return out
}

function sortKey (name) {
  const path = name.replace(/::h[0-9a-f]{16}$/, '')
  return `${withoutGenerics(path)} ${path}`
}

/** A function-names subsection with every name replaced by its key. */
function rekey (body) {
  let [count, at] = readLeb(body, 0)
  const out = [...leb(count)]
  while (count--) {
    const [index, lengthAt] = readLeb(body, at)
    const [length, start] = readLeb(body, lengthAt)
    const key = Buffer.from(sortKey(body.subarray(start, start + length).toString('utf8')))
    out.push(...leb(index), ...leb(key.length), ...key)
    at = start + length
  }
  return Buffer.from(out)
}

const wasm = fs.readFileSync(inWasm)
const sections = readSections(wasm)
let rekeyed = 0
for (const section of sections) {
  if (section.id !== CUSTOM_SECTION) continue
  const [length, start] = readLeb(section.body, 0)
  if (section.body.subarray(start, start + length).toString('utf8') !== 'name') continue
  const out = [section.body.subarray(0, start + length)]
  let at = start + length
  while (at < section.body.length) {
    const id = section.body[at]
    const [size, bodyAt] = readLeb(section.body, at + 1)
    let body = section.body.subarray(bodyAt, bodyAt + size)
    if (id === FUNCTION_NAMES) {
      body = rekey(body)
      rekeyed++
    }
    out.push(Buffer.from([id, ...leb(body.length)]), body)
    at = bodyAt + size
  }
  section.body = Buffer.concat(out)
}
// Without names wasm-opt would keep the linker's order, silently.
if (rekeyed !== 1) throw new Error(`expected one function-names subsection, found ${rekeyed}`)
const ordered = writeSections(wasm, sections)
new WebAssembly.Module(ordered) // checks the rewritten binary
fs.writeFileSync(outWasm, ordered)
