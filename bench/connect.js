'use strict'

// New connections per second: a small client for what autocannon cannot do,
// bytes of our own at the start of every connection. `loops` loops run
// concurrently, each one: connect, write the PROXY header (if any) and the
// request in one write, as HAProxy sends them, read the response until the
// server closes (the request says `Connection: close`), count it, repeat.
// Both sides of a pair use this client, with and without the header.

const net = require('node:net')

const OK = Buffer.from('HTTP/1.1 200 ', 'latin1')

/** The bytes of one connection: the PROXY header (or nothing), then a GET / that asks the server to close. */
function connectionBytes (port, headers, prefix = null) {
  const lines = [`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`]
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}\r\n`)
  lines.push('Connection: close\r\n\r\n')
  const request = Buffer.from(lines.join(''), 'latin1')
  return prefix === null ? request : Buffer.concat([prefix, request])
}

/**
 * One connection: writes `bytes`, resolves with everything the server sent
 * before closing (an empty Buffer when it closed without answering).
 */
function exchange (port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const chunks = []
    socket.on('connect', () => socket.write(bytes))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks)))
  })
}

/** The JSON body of one response on its own connection, or null when the server closed without answering. */
async function getOnce (port, bytes) {
  const response = (await exchange(port, bytes)).toString('latin1')
  if (response.length === 0) return null
  if (!response.startsWith(OK.toString('latin1'))) throw new Error(`not a 200: ${response.slice(0, 80)}`)
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))
}

/**
 * Connections for `seconds`, `loops` at a time, each carrying `bytes`.
 * Resolves with the connections answered with a 200, those that were not,
 * and the seconds from the first connect to the last close.
 */
function load (port, bytes, { loops, seconds }) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const end = started + BigInt(Math.round(seconds * 1e9))
    let answered = 0
    let failed = 0
    let running = loops

    function connect () {
      if (process.hrtime.bigint() >= end) {
        if (--running === 0) resolve({ answered, failed, seconds: Number(process.hrtime.bigint() - started) / 1e9 })
        return
      }
      const socket = net.connect({ host: '127.0.0.1', port })
      let ok = false
      let first = true
      socket.on('connect', () => socket.write(bytes))
      socket.on('data', (chunk) => {
        if (first) {
          first = false
          ok = chunk.length >= OK.length && chunk.compare(OK, 0, OK.length, 0, OK.length) === 0
        }
      })
      socket.on('error', () => { ok = false })
      socket.on('close', () => {
        if (ok) answered++
        else failed++
        connect()
      })
    }

    for (let k = 0; k < loops; k++) connect()
  })
}

module.exports = { connectionBytes, getOnce, load }
