'use strict'

// End to end: autocannon against real servers listening on 127.0.0.1, each
// variant in its own process (bench/server.js), the load generated from
// this one. Every request comes from the loopback peer, trusted, with the
// normal forwarded headers (bench/inputs.js).
//
// Paired round by round: every round starts a fresh process of every
// variant, warms it up, and loads it for the same time, the variants' order
// turning from round to round. A round's ratio (plugin req/s / other req/s)
// compares servers measured seconds apart; the figure is the median of
// those ratios over rounds. The servers' CPU time per request is recorded
// too (the same ratio by CPU cost).
//
// The PROXY protocol: the plugin with `proxyProtocol: true` against the
// plugin without it, a difference of a few percent at most, is measured
// more tightly than seconds apart. At the end of each round a fresh process
// of each runs (the same age, warmed up alike: a process loaded longer has
// had more time to optimise) and the two take turns in short slices, which
// goes first alternating: first on keep-alive connections (the same
// autocannon load, except that each connection to the PROXY server begins
// with a v2 header, sent once before its first request), then with new
// connections (bench/connect.js: `Connection: close`, one request per
// connection, a v2 header on each, against plain connections).
//
//   node bench/e2e.js [--long]     prints JSON

const assert = require('node:assert')
const { fork } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')
const autocannon = require('autocannon')
const { HEADERS, EXPECTED, PROXY_V2 } = require('./inputs')
const connect = require('./connect')
const { median } = require('./timing')

const SETTINGS = {
  default: {
    rounds: 7,
    warmup: 0.5,
    duration: 2,
    connections: 100,
    pipelining: 10,
    servers: ['bare', 'trustProxy', 'plugin'],
    keepAlive: { warmup: 0.5, slices: 4, slice: 0.3 },
    // A fresh process serves new connections at several times its final cost for its first second or so.
    connect: { loops: 32, warmup: 1.5, slices: 4, slice: 0.3 }
  },
  long: {
    rounds: 11,
    warmup: 2,
    duration: 5,
    connections: 100,
    pipelining: 10,
    servers: ['bare', 'trustProxy', 'plugin', 'plugin-10k'],
    keepAlive: { warmup: 1, slices: 10, slice: 1 },
    connect: { loops: 32, warmup: 3, slices: 10, slice: 0.5 }
  }
}

/** The servers whose connections begin with a PROXY header. */
const WITH_HEADER = new Set(['plugin-proxyProtocol'])
/** The pair measured in turns at the end of each round: without, and with a v2 header on each connection. */
const PAIR = ['plugin', 'plugin-proxyProtocol']

/** Starts one server process; resolves with its handle and port. */
function start (variant) {
  const child = fork(path.join(__dirname, 'server.js'), [variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)))
    child.once('message', (message) => resolve({ variant, child, port: message.port }))
  })
}

function stop (server) {
  server.child.removeAllListeners('exit')
  server.child.kill()
}

/** The server's CPU time so far, in µs. */
function cpuTime (server) {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve(message.cpu.user + message.cpu.system))
    server.child.send('usage')
  })
}

function get (port) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: HEADERS }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => { body += chunk })
      response.on('end', () => resolve(JSON.parse(body)))
    }).on('error', reject)
  })
}

/** Every server must answer what it is supposed to, or its numbers mean nothing. */
async function check (server) {
  if (WITH_HEADER.has(server.variant)) {
    // A connection without the header is closed unanswered, so the answer to one with it proves the header was read.
    assert.deepStrictEqual(await connect.getOnce(server.port, connect.connectionBytes(server.port, HEADERS, PROXY_V2)), EXPECTED,
      `${server.variant} answers what it should`)
    assert.strictEqual(await connect.getOnce(server.port, connect.connectionBytes(server.port, HEADERS)), null,
      `${server.variant} closes a connection without a PROXY header`)
    return
  }
  const expected = server.variant === 'bare' ? { ip: '127.0.0.1', hostname: '127.0.0.1', protocol: 'http' } : EXPECTED
  assert.deepStrictEqual(await get(server.port), expected, `${server.variant} answers what it should`)
  if (PAIR.includes(server.variant)) {
    assert.deepStrictEqual(await connect.getOnce(server.port, connect.connectionBytes(server.port, HEADERS)), expected,
      `${server.variant} answers what it should on a new connection`)
  }
}

/**
 * autocannon's setupClient, putting `prefix` before the first request of
 * every connection the client opens (it reconnects through `_connect` and
 * writes each request as `getRequestBuffer()`). Were the prefix missing, a
 * server with `proxyProtocol: true` would close every connection, and
 * load() would throw on the errors.
 */
function prefixEveryConnection (prefix) {
  return function setupClient (client) {
    const connectClient = client._connect
    const requestBuffer = client.getRequestBuffer
    let fresh = false
    client._connect = function () {
      fresh = true
      return connectClient.apply(this, arguments)
    }
    client.getRequestBuffer = function () {
      const bytes = requestBuffer.call(this)
      if (!fresh) return bytes
      fresh = false
      return Buffer.concat([prefix, bytes])
    }
  }
}

async function load (server, settings, duration) {
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    headers: HEADERS,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration,
    // autocannon stops at its next sample: every 0.1 s, so that a slice of 0.3 s is not a second long.
    sampleInt: 100,
    ...(WITH_HEADER.has(server.variant) ? { setupClient: prefixEveryConnection(PROXY_V2) } : {})
  })
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${server.variant}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
  }
  return result['2xx']
}

/** New connections for `seconds`, each with a v2 header if the server requires one; how many were answered. */
async function loadConnections (server, settings, seconds) {
  const bytes = connect.connectionBytes(server.port, HEADERS, WITH_HEADER.has(server.variant) ? PROXY_V2 : null)
  const result = await connect.load(server.port, bytes, { loops: settings.connect.loops, seconds })
  if (result.failed) throw new Error(`${server.variant}: ${result.failed} of ${result.failed + result.answered} connections not answered with a 200`)
  return result.answered
}

/**
 * `measure(server, seconds)` on the two servers of the PAIR, both running:
 * each warmed up, then short slices taking turns (which goes first
 * alternates from round to round and from slice to slice), so that the two
 * are measured within the same second or so, however the machine's speed
 * swings. Returns, per variant, the sums of what `measure` counted.
 */
async function takeTurns (servers, { warmup, slices, slice }, round, measure) {
  const turn = round % 2 ? [...servers].reverse() : servers
  for (const server of turn) await measure(server, warmup)
  const totals = new Map(servers.map((server) => [server, { count: 0, seconds: 0, cpuMicros: 0 }]))
  for (let k = 0; k < slices; k++) {
    for (const server of k % 2 ? [...turn].reverse() : turn) {
      const cpu = await cpuTime(server)
      const started = process.hrtime.bigint()
      const count = await measure(server, slice)
      const total = totals.get(server)
      total.seconds += Number(process.hrtime.bigint() - started) / 1e9
      total.cpuMicros += (await cpuTime(server)) - cpu
      total.count += count
    }
  }
  return new Map(servers.map((server) => [server.variant, totals.get(server)]))
}

/** Requests on keep-alive connections, then new connections, on the PAIR, in turns. */
async function measurePair (servers, settings, round) {
  const keepAlive = await takeTurns(servers, settings.keepAlive, round, (server, seconds) => load(server, settings, seconds))
  const connections = await takeTurns(servers, settings.connect, round, (server, seconds) => loadConnections(server, settings, seconds))
  return new Map(servers.map(({ variant }) => {
    const k = keepAlive.get(variant)
    const c = connections.get(variant)
    return [variant, {
      pairRate: k.count / k.seconds,
      pairCpuPerRequest: k.cpuMicros / k.count,
      connectionRate: c.count / c.seconds,
      cpuPerConnection: c.cpuMicros / c.count
    }]
  }))
}

async function run ({ long = false, log = () => {} } = {}) {
  const settings = SETTINGS[long ? 'long' : 'default']
  const rounds = []
  for (let round = 0; round < settings.rounds; round++) {
    const measured = {}
    const pair = []
    try {
      for (let k = 0; k < settings.servers.length; k++) {
        const server = await start(settings.servers[(k + round) % settings.servers.length])
        try {
          await check(server)
          await load(server, settings, settings.warmup)
          const cpu = await cpuTime(server)
          const started = process.hrtime.bigint()
          const requests = await load(server, settings, settings.duration)
          const seconds = Number(process.hrtime.bigint() - started) / 1e9
          const cpuMicros = (await cpuTime(server)) - cpu
          measured[server.variant] = { rate: requests / seconds, cpuPerRequest: cpuMicros / requests, cpuShare: cpuMicros / 1e6 / seconds }
        } finally {
          stop(server)
        }
      }
      for (const variant of PAIR) {
        pair.push(await start(variant))
        await check(pair[pair.length - 1])
      }
      for (const [variant, figures] of await measurePair(pair, settings, round)) measured[variant] = { ...measured[variant], ...figures }
    } finally {
      for (const server of pair) stop(server)
    }
    rounds.push(measured)
    log(`round ${round + 1}/${settings.rounds}: ${settings.servers.map((v) => `${v} ${Math.round(measured[v].rate)}/s`).join(', ')}; ` +
      `keep-alive in turns: ${PAIR.map((v) => `${v} ${Math.round(measured[v].pairRate)}/s`).join(', ')}; ` +
      `new connections: ${PAIR.map((v) => `${v} ${Math.round(measured[v].connectionRate)}/s`).join(', ')}\n`)
  }
  const variants = {}
  for (const v of settings.servers) {
    const ratio = (other, key) => rounds.map((r) => key === 'rate' ? r[v].rate / r[other].rate : r[other].cpuPerRequest / r[v].cpuPerRequest)
    variants[v] = {
      rate: median(rounds.map((r) => r[v].rate)),
      cpuPerRequest: median(rounds.map((r) => r[v].cpuPerRequest)),
      cpuShare: median(rounds.map((r) => r[v].cpuShare)),
      vsBare: median(ratio('bare', 'rate')),
      vsBareRounds: ratio('bare', 'rate'),
      vsTrustProxy: median(ratio('trustProxy', 'rate')),
      vsTrustProxyRounds: ratio('trustProxy', 'rate'),
      cpuVsBare: median(ratio('bare', 'cpu')),
      cpuVsTrustProxy: median(ratio('trustProxy', 'cpu'))
    }
  }
  // The PROXY protocol: with a v2 header on each connection (proxyProtocol: true) / the plugin without it.
  const [plain, header] = PAIR
  const compare = (rate, cpu) => {
    const ratios = rounds.map((r) => r[header][rate] / r[plain][rate])
    return {
      plainRate: median(rounds.map((r) => r[plain][rate])),
      plainCpu: median(rounds.map((r) => r[plain][cpu])),
      headerRate: median(rounds.map((r) => r[header][rate])),
      headerCpu: median(rounds.map((r) => r[header][cpu])),
      ratio: median(ratios),
      rounds: ratios,
      cpuRatio: median(rounds.map((r) => r[plain][cpu] / r[header][cpu]))
    }
  }
  const proxyProtocol = { keepAlive: compare('pairRate', 'pairCpuPerRequest'), connections: compare('connectionRate', 'cpuPerConnection') }
  return { settings, variants, proxyProtocol }
}

if (require.main === module) {
  run({ long: process.argv.includes('--long'), log: (line) => process.stderr.write(line) })
    .then((result) => process.stdout.write(JSON.stringify(result) + '\n'))
    .catch((error) => {
      console.error(error)
      process.exitCode = 1
    })
}

module.exports = { run }
