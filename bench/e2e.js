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
//   node bench/e2e.js [--long]     prints JSON

const assert = require('node:assert')
const { fork } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')
const autocannon = require('autocannon')
const { HEADERS, EXPECTED } = require('./inputs')
const { median } = require('./timing')

const SETTINGS = {
  default: { rounds: 7, warmup: 1, duration: 2, connections: 100, pipelining: 10, servers: ['bare', 'trustProxy', 'plugin'] },
  long: { rounds: 11, warmup: 2, duration: 5, connections: 100, pipelining: 10, servers: ['bare', 'trustProxy', 'plugin', 'plugin-10k'] }
}

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
  const expected = server.variant === 'bare' ? { ip: '127.0.0.1', hostname: '127.0.0.1', protocol: 'http' } : EXPECTED
  assert.deepStrictEqual(await get(server.port), expected, `${server.variant} answers what it should`)
}

async function load (server, settings, duration) {
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    headers: HEADERS,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration
  })
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${server.variant}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
  }
  return result['2xx']
}

async function run ({ long = false, log = () => {} } = {}) {
  const settings = SETTINGS[long ? 'long' : 'default']
  const rounds = []
  for (let round = 0; round < settings.rounds; round++) {
    const measured = {}
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
    rounds.push(measured)
    log(`round ${round + 1}/${settings.rounds}: ${settings.servers.map((v) => `${v} ${Math.round(measured[v].rate)}/s`).join(', ')}\n`)
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
  return { settings, variants }
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
