'use strict'

// End to end: autocannon against real servers listening on 127.0.0.1.
//
// Each server variant (bench/server.js) runs in its own process; autocannon
// runs here. The variants take turns in ROUNDS rounds (the order rotates
// every round, so slow drift of the machine spreads evenly); every turn is a
// fresh server process, warmed up, then measured. Each variant's median
// requests per second is compared with bare Fastify's and with Fastify
// trustProxy's from the same run. The servers'
// own CPU time is recorded too: a server below ~95% of a core was not the
// bottleneck, and the ratio then says less.
//
// Environment: BENCH_ROUNDS (5), BENCH_DURATION (seconds measured per turn,
// 3), BENCH_WARMUP (seconds of warm-up per turn, 2), BENCH_CONNECTIONS (100),
// BENCH_PIPELINING (10), BENCH_SERVERS (comma list of variants).

const assert = require('node:assert')
const { fork } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')
const autocannon = require('autocannon')
const { HEADERS, EXPECTED } = require('./allowlist')

const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 5),
  duration: Number(process.env.BENCH_DURATION ?? 3),
  warmup: Number(process.env.BENCH_WARMUP ?? 2),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 100),
  pipelining: Number(process.env.BENCH_PIPELINING ?? 10),
  servers: (process.env.BENCH_SERVERS ?? 'bare,trustProxy,plugin,plugin-10k').split(',')
}

const LABELS = {
  bare: 'bare Fastify (socket values)',
  trustProxy: 'Fastify trustProxy, 2 entries',
  plugin: 'fastify-proxy-fix, 2 entries',
  'plugin-10k': 'fastify-proxy-fix, 10,000 entries',
  'plugin-reject': "fastify-proxy-fix, 2 entries, onInvalid: 'reject'",
  'plugin-unread': 'fastify-proxy-fix, 2 entries, fields not read'
}

/** Starts one server process and resolves with its handle and port. */
function start (variant) {
  const child = fork(path.join(__dirname, 'server.js'), [variant], {
    execArgv: ['--expose-gc'],
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)))
    child.once('message', (message) => resolve({ variant, child, port: message.port }))
  })
}

/** Sends a request to a server process over IPC and waits for its answer. */
function ask (server, message) {
  return new Promise((resolve) => {
    server.child.once('message', resolve)
    server.child.send(message)
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

/** Every server must answer what it is supposed to, or the numbers mean nothing. */
async function check (server) {
  const body = await get(server.port)
  const expected = server.variant === 'bare'
    ? { ip: '127.0.0.1', hostname: '127.0.0.1', protocol: 'http' }
    : EXPECTED
  assert.deepStrictEqual(body, expected, `${server.variant} answers ${JSON.stringify(body)}`)
}

async function load (server, duration) {
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
  return result['2xx'] / result.duration
}

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function runE2E (log = (line) => process.stderr.write(line)) {
  const rates = Object.fromEntries(settings.servers.map((v) => [v, []]))
  const cpu = Object.fromEntries(settings.servers.map((v) => [v, []]))
  const clientCpu = Object.fromEntries(settings.servers.map((v) => [v, []]))
  const cost = Object.fromEntries(settings.servers.map((v) => [v, []]))
  for (let round = 0; round < settings.rounds; round++) {
    log(`round ${round + 1}/${settings.rounds}:`)
    for (let k = 0; k < settings.servers.length; k++) {
      // A fresh process every round: one process can be luckier with its JIT
      // than the next, so the median is over processes, not just over time.
      const server = await start(settings.servers[(k + round) % settings.servers.length])
      try {
        await check(server)
        await load(server, settings.warmup)
        const before = (await ask(server, 'usage')).cpu
        const started = process.hrtime.bigint()
        const client = process.cpuUsage()
        const rate = await load(server, settings.duration)
        const clientUsed = process.cpuUsage(client)
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        const after = (await ask(server, 'usage')).cpu
        const serverSeconds = (after.user + after.system - before.user - before.system) / 1e6
        rates[server.variant].push(rate)
        cpu[server.variant].push(serverSeconds / seconds)
        cost[server.variant].push(serverSeconds * 1e6 / (rate * seconds))
        clientCpu[server.variant].push((clientUsed.user + clientUsed.system) / 1e6 / seconds)
        log(` ${server.variant} ${Math.round(rate)}/s (server ${Math.round(cpu[server.variant].at(-1) * 100)}%, client ${Math.round(clientCpu[server.variant].at(-1) * 100)}%)`)
      } finally {
        server.child.kill()
      }
    }
    log('\n')
  }
  const medians = Object.fromEntries(settings.servers.map((v) => [v, median(rates[v])]))
  const costs = Object.fromEntries(settings.servers.map((v) => [v, median(cost[v])]))
  const variants = {}
  for (const v of settings.servers) {
    variants[v] = {
      label: LABELS[v],
      rates: rates[v].map(Math.round),
      median: Math.round(medians[v]),
      serverCpu: Number(median(cpu[v]).toFixed(2)),
      clientCpu: Number(median(clientCpu[v]).toFixed(2)),
      vsBare: medians.bare ? Number((medians[v] / medians.bare).toFixed(3)) : null,
      vsTrustProxy: medians.trustProxy ? Number((medians[v] / medians.trustProxy).toFixed(3)) : null,
      // Server CPU per request: what contention from other processes cannot inflate.
      cpuMicros: Number(costs[v].toFixed(2)),
      cpuVsBare: costs.bare ? Number((costs.bare / costs[v]).toFixed(3)) : null,
      cpuVsTrustProxy: costs.trustProxy ? Number((costs.trustProxy / costs[v]).toFixed(3)) : null
    }
  }
  return { settings, variants }
}

function table (e2e) {
  const rows = [
    '| server | req/s (median) | vs bare | vs trustProxy | server CPU µs/req | speed by CPU vs bare | vs trustProxy |',
    '|---|---:|---:|---:|---:|---:|---:|'
  ]
  const ratio = (x) => x === null ? '' : `${x.toFixed(2)}×`
  for (const v of Object.values(e2e.variants)) {
    rows.push(`| ${v.label} | ${v.median.toLocaleString('en-US')} | ${ratio(v.vsBare)} | ${ratio(v.vsTrustProxy)} | ` +
      `${v.cpuMicros.toFixed(1)} | ${ratio(v.cpuVsBare)} | ${ratio(v.cpuVsTrustProxy)} |`)
  }
  return rows.join('\n')
}

if (require.main === module) {
  runE2E().then((e2e) => console.log(table(e2e))).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}

module.exports = { runE2E, table, settings, start, ask, median }
