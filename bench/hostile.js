'use strict'

// End to end, under attack: what a 16 KB forwarded header costs a server
// with and without the plugin. A client behind a proxy controls what the
// proxy appends to (X-Forwarded-For, Forwarded), so it can send the worst
// value it finds; Node parses the whole header before any plugin runs.
//
// For each shape, bare Fastify, Fastify trustProxy and the plugin (2-entry
// allowlist, same handler as bench/e2e.js) each serve autocannon in turn, in
// a fresh process; the figure is the server's CPU time per request, and what
// the shape adds over the normal request in the same server. What the plugin
// adds beyond what bare Fastify adds is the plugin's own cost of that header
// (the median over rounds of that difference, each round's own).
//
// Environment: BENCH_HOSTILE_ROUNDS (5), BENCH_HOSTILE_DURATION (seconds per
// turn, 2).

const autocannon = require('autocannon')
const { start, ask, median } = require('./e2e')
const { HEADERS } = require('./allowlist')

const ROUNDS = Number(process.env.BENCH_HOSTILE_ROUNDS ?? 5)
const DURATION = Number(process.env.BENCH_HOSTILE_DURATION ?? 2)
const SERVERS = ['bare', 'trustProxy', 'plugin']
// Node's default limit is 16 KB for the whole header section: leave room for the rest.
const SIZE = 16 * 1024 - 512

// Node's HTTP parser strips spaces at the two ends of a header value, so the
// long runs are inside the value, where a client can put them.
const SHAPES = {
  normal: HEADERS['x-forwarded-for'],
  'spaces before an address': '203.0.113.7,' + ' '.repeat(SIZE - 20) + '10.1.2.3',
  'spaces and tabs after an address': '203.0.113.7' + ' \t'.repeat(SIZE / 2 - 11) + ', 10.1.2.3',
  'words, then spaces': 'a '.repeat(SIZE / 4) + ' '.repeat(SIZE / 2 - 10) + ', 10.1.2.3',
  'comma, then one long element': ',' + 'a'.repeat(SIZE - 1),
  'forged chain of trusted-looking hops': (() => {
    let text = '203.0.113.7'
    for (let k = 1; text.length + 12 < SIZE; k++) text += `, 10.0.${(k >> 8) & 255}.${k & 255}`
    return text
  })()
}

async function cpuPerRequest (variant, forwardedFor) {
  const server = await start(variant)
  try {
    const options = {
      url: `http://127.0.0.1:${server.port}/`,
      headers: { ...HEADERS, 'x-forwarded-for': forwardedFor },
      connections: 50,
      pipelining: 4 // enough to keep the server busy: CPU per request is then steadier
    }
    await autocannon({ ...options, duration: 1 })
    const before = (await ask(server, 'usage')).cpu
    const result = await autocannon({ ...options, duration: DURATION })
    const after = (await ask(server, 'usage')).cpu
    if (result.errors || result.non2xx) throw new Error(`${variant}: ${result.errors} errors, ${result.non2xx} non-2xx`)
    return (after.user + after.system - before.user - before.system) / result['2xx']
  } finally {
    server.child.kill()
  }
}

async function runHostile (log = (line) => process.stderr.write(line)) {
  // Round by round, every shape in every server (the servers' order turning
  // each round): a noisy minute then falls on one sample of every shape, not
  // on all the samples of one, and each round gives its own paired figure
  // of the plugin's own cost.
  const samples = Object.fromEntries(Object.keys(SHAPES).map((shape) => [shape, Object.fromEntries(SERVERS.map((v) => [v, []]))]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [shape, value] of Object.entries(SHAPES)) {
      for (let k = 0; k < SERVERS.length; k++) {
        const variant = SERVERS[(k + round) % SERVERS.length]
        samples[shape][variant].push(await cpuPerRequest(variant, value))
      }
      log('.')
    }
  }
  log('\n')
  const normal = samples.normal
  const results = {}
  for (const [shape, value] of Object.entries(SHAPES)) {
    const s = samples[shape]
    results[shape] = { length: value.length, ...Object.fromEntries(SERVERS.map((v) => [v, Number(median(s[v]).toFixed(2))])) }
    if (shape !== 'normal') {
      // what the shape adds in the plugin, less what it adds in bare Fastify, in the same round
      const own = s.plugin.map((x, round) => (x - normal.plugin[round]) - (s.bare[round] - normal.bare[round]))
      results[shape].own = Number(median(own).toFixed(2))
    }
  }
  return { settings: { rounds: ROUNDS, duration: DURATION, size: SIZE }, shapes: results }
}

function table (hostile) {
  const { normal, ...shapes } = hostile.shapes
  const rows = [
    '| X-Forwarded-For | bare Fastify | Fastify trustProxy | fastify-proxy-fix | the plugin\'s own cost of the header |',
    '|---|---:|---:|---:|---:|'
  ]
  const us = (x) => `${x.toFixed(1)} µs`
  const plus = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)} µs`
  rows.push(`| normal (\`${HEADERS['x-forwarded-for']}\`) | ${us(normal.bare)} | ${us(normal.trustProxy)} | ${us(normal.plugin)} | |`)
  for (const [shape, r] of Object.entries(shapes)) {
    const extra = (v) => r[v] - normal[v]
    rows.push(`| ${shape} (${(r.length / 1024).toFixed(1)} KB) | ${us(r.bare)} (${plus(extra('bare'))}) | ${us(r.trustProxy)} (${plus(extra('trustProxy'))}) | ` +
      `${us(r.plugin)} (${plus(extra('plugin'))}) | ${plus(r.own)} |`)
  }
  return rows.join('\n')
}

if (require.main === module) {
  runHostile().then((hostile) => console.log(table(hostile))).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}

module.exports = { runHostile, table }
