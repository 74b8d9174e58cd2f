// A minimal origin serving one empty page on 127.0.0.1, which browsers
// treat as a secure context (crypto.subtle, service workers). For tests that
// need a page but not peercdn's own server.
import http from 'node:http'

export async function startBlankOrigin () {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<!doctype html><title>blank</title>')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(resolve)) }
}
