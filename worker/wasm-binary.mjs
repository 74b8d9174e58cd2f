// The few pieces of the wasm binary format the build steps rewrite
// (shorten-imports.mjs, order-functions.mjs): LEB128 numbers and the
// top-level sections.

export function readLeb (bytes, at) {
  let value = 0
  let shift = 0
  for (;;) {
    const byte = bytes[at++]
    value += (byte & 0x7f) * 2 ** shift
    shift += 7
    if (byte < 0x80) return [value, at]
  }
}

export function leb (value) {
  const out = []
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    out.push(byte)
  } while (value > 0)
  return out
}

/** The sections after the 8-byte header, each `{ id, body }`. */
export function readSections (wasm) {
  const sections = []
  let at = 8
  while (at < wasm.length) {
    const id = wasm[at]
    const [size, start] = readLeb(wasm, at + 1)
    sections.push({ id, body: wasm.subarray(start, start + size) })
    at = start + size
  }
  return sections
}

/** `wasm`'s header followed by `sections`. */
export function writeSections (wasm, sections) {
  const out = [wasm.subarray(0, 8)]
  for (const { id, body } of sections) out.push(Buffer.from([id, ...leb(body.length)]), body)
  return Buffer.concat(out)
}
