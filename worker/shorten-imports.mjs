// Build step (worker/build.sh): gives the wasm's imports short names.
//
// wasm-bindgen names each import after the JS it calls plus a 16-digit hash
// (`__wbg_new_with_opt_readable_stream_and_init_383c64eccf9e9cc7`), and the
// same long name appears twice in what a visitor downloads: in the wasm's
// import section and as a key of the glue's import object. Hashes do not
// compress, so those names cost about 4 KB of gzip. This renames them to
// `$0`, `$1`, ... in both files, and the module name to `$`.
//
// Invariant: a name is renamed only if it occurs exactly once in the glue
// (as its import object key), so nothing else in the glue can be changed;
// anything unexpected stops the build rather than shipping a broken pair.
//
// Exports named with such a hash (the closure trampolines,
// `wasm_bindgen__convert__closures_____invoke__h60702a48838d1764`) become
// `$e0`, `$e1`, ...: every whole-word occurrence in the glue is replaced
// (the `wasm.` property access and the glue's own function of the same
// name alike), and every `wasm.<name>` left in the glue must be an export.
//
//   node worker/shorten-imports.mjs <in.wasm> <in.js> <out.wasm> <out.js>
import fs from 'node:fs'

import { leb, readLeb, readSections, writeSections } from './wasm-binary.mjs'

const [inWasm, inJs, outWasm, outJs] = process.argv.slice(2)
if (!outJs) throw new Error('usage: shorten-imports.mjs <in.wasm> <in.js> <out.wasm> <out.js>')

const IMPORT_SECTION = 2
const EXPORT_SECTION = 7

function name (text) {
  const bytes = Buffer.from(text, 'utf8')
  return [...leb(bytes.length), ...bytes]
}

/** The end of an import's description (its kind byte is at `at`). */
function skipDescription (bytes, at) {
  const kind = bytes[at++]
  const limits = (p) => {
    const flags = bytes[p++];
    [, p] = readLeb(bytes, p)
    if (flags & 1) [, p] = readLeb(bytes, p)
    return p
  }
  switch (kind) {
    case 0: return readLeb(bytes, at)[1] // function: type index
    case 1: return limits(at + 1) // table: reference type, limits
    case 2: return limits(at) // memory: limits
    case 3: return at + 2 // global: value type, mutability
    case 4: return readLeb(bytes, at + 1)[1] // tag: attribute, type index
    default: throw new Error(`unknown import kind ${kind}`)
  }
}

/** The import section's entries: module and field names, raw description bytes. */
function parseImports (body) {
  let [count, at] = readLeb(body, 0)
  const entries = []
  while (count--) {
    const texts = []
    for (let i = 0; i < 2; i++) {
      const [length, start] = readLeb(body, at)
      texts.push(body.subarray(start, start + length).toString('utf8'))
      at = start + length
    }
    const end = skipDescription(body, at)
    entries.push({ module: texts[0], field: texts[1], description: body.subarray(at, end) })
    at = end
  }
  return entries
}

function occurrences (text, word) {
  return text.split(word).length - 1
}

const wasm = fs.readFileSync(inWasm)
let glue = fs.readFileSync(inJs, 'utf8')
const sections = readSections(wasm)
const section = sections.find((s) => s.id === IMPORT_SECTION)
if (!section) throw new Error('no import section')
const entries = parseImports(section.body)
const modules = new Set(entries.map((e) => e.module))
if (modules.size !== 1) throw new Error(`expected one import module, found ${[...modules]}`)
const [module] = modules
if (occurrences(glue, `"${module}": import0`) !== 1) throw new Error('glue import object not found')
if (/[$]\d/.test(glue)) throw new Error('glue already uses $<digit> names')

let renamed = 0
const rewritten = [...leb(entries.length)]
entries.forEach((entry, index) => {
  let field = entry.field
  if (occurrences(glue, entry.field + ':') === 1 && occurrences(glue, entry.field) === 1) {
    field = `$${index}`
    glue = glue.replace(entry.field + ':', `${field}:`)
    renamed++
  }
  rewritten.push(...name('$'), ...name(field), ...entry.description)
})
glue = glue.replace(`"${module}": import0`, '"$": import0')
section.body = Buffer.from(rewritten)

/** Renames the exports whose names end in a 16-digit hash, in the glue too. */
function shortenExports (body) {
  if (/[$]e\d/.test(glue)) throw new Error('glue already uses $e<digit> names')
  let [count, at] = readLeb(body, 0)
  const out = [...leb(count)]
  let n = 0
  while (count--) {
    const [length, start] = readLeb(body, at)
    let field = body.subarray(start, start + length).toString('utf8')
    at = start + length
    const end = readLeb(body, at + 1)[1] // kind byte, then the index
    if (/^\w+_h[0-9a-f]{16}$/.test(field)) {
      const word = new RegExp(`\\b${field}\\b`, 'g')
      if (!word.test(glue)) throw new Error(`export ${field} not in the glue`)
      glue = glue.replace(word, `$e${n}`)
      field = `$e${n++}`
    }
    out.push(...name(field), ...body.subarray(at, end))
    at = end
  }
  return [Buffer.from(out), n]
}
const exportSection = sections.find((s) => s.id === EXPORT_SECTION)
if (!exportSection) throw new Error('no export section')
const [exportBody, exportsRenamed] = shortenExports(exportSection.body)
exportSection.body = exportBody

const shortened = writeSections(wasm, sections)
// Compiling checks the rewritten binary; every import must still be a key
// of the glue's import object.
for (const { module, name } of WebAssembly.Module.imports(new WebAssembly.Module(shortened))) {
  if (module !== '$' || !(glue.includes(`${name}:`))) throw new Error(`import ${module}.${name} lost`)
}
const exported = new Set(WebAssembly.Module.exports(new WebAssembly.Module(shortened)).map((e) => e.name))
for (const [, used] of glue.matchAll(/\bwasm\.([\w$]+)/g)) {
  if (!exported.has(used)) throw new Error(`the glue uses wasm.${used}, not an export`)
}
fs.writeFileSync(outWasm, shortened)
fs.writeFileSync(outJs, glue)
console.log(`shorten-imports: ${renamed} of ${entries.length} import names and ${exportsRenamed} export names shortened`)
