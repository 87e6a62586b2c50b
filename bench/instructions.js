'use strict'

// Instructions per request, counted by callgrind: deterministic, so it is
// the one figure a busy machine cannot move. Each variant (bench/server.js's
// apps, with the normal request through Fastify's inject) runs under
//
//   valgrind --tool=callgrind node --predictable --single-threaded …
//
// --predictable makes V8 deterministic and --single-threaded runs no
// background tasks (the compiler's work is counted as the process's own, as
// a busy server pays for it). The GC flags remove what would still move a
// count by several percent from one run of the same program to the next:
// --predictable-gc-schedule (fixed heap sizes), no scavenge, memory-reducer
// or marking tasks (posted tasks run when the event loop gets to them), and
// a large initial old space (no major GC, a threshold effect that falls in
// one run's window and not in another's). Scavenges, which every allocation
// pays for, stay.
//
// Each variant runs twice, with WARM + N and WARM + 2N requests; the
// difference over N is what one request costs once the process is warm,
// without startup or compilations: up to request 5,000 or so V8 is still
// optimising (a sixth of bare Fastify's count between requests 3,000 and
// 5,000 was the compiler's), and when it compiles which function moves with
// any change to the code, by ±0.4% of a request's count. The child yields to the event loop
// every few requests, as a server does (injected requests awaited back to
// back keep their garbage alive until the loop turns). Counts do not depend
// on the machine's load, so two processes run at once.
//
//   npm run bench:instructions [-- --requests N]     (default N 4000, WARM 2000: requests 6,000 to 10,000)
//   node bench/instructions.js --child VARIANT COUNT  (what runs under valgrind)

const assert = require('node:assert')
const { spawn } = require('node:child_process')
const os = require('node:os')
const { HEADERS, PEER, RANGE_PEER, EXPECTED } = require('./inputs')

const VALGRIND = process.env.VALGRIND ?? '/usr/bin/valgrind'
const NODE_FLAGS = ['--predictable', '--single-threaded', '--predictable-gc-schedule', '--no-minor-gc-task',
  '--no-memory-reducer', '--no-incremental-marking-task', '--initial-old-space-size=256']
const VARIANTS = ['bare', 'plugin', 'trustProxy', 'plugin-10k']
const LABELS = {
  bare: 'bare Fastify',
  plugin: 'fastify-proxy-fix, 2 entries',
  trustProxy: 'Fastify trustProxy, 2 entries',
  'plugin-10k': 'fastify-proxy-fix, 10,000 entries, from a peer in a listed range'
}

/**
 * In the process under valgrind: `count` injected normal requests. With
 * 10,000 entries they come from a peer in a listed range, so that the
 * ranges are searched (the normal peer is listed by its address, and found
 * by its text in any allowlist).
 */
async function child (variant, count) {
  const { build } = require('./server')
  const app = await build(variant)
  await app.ready()
  const request = { method: 'GET', url: '/', headers: HEADERS, remoteAddress: variant === 'plugin-10k' ? RANGE_PEER : PEER }
  const first = await app.inject(request)
  const expected = variant === 'bare' ? { ip: PEER, hostname: 'localhost', protocol: 'http' } : EXPECTED
  assert.deepStrictEqual(first.json(), expected, `${variant} answers what it should`)
  for (let i = 1; i < count; i++) {
    await app.inject(request)
    if (i % 16 === 0) await new Promise(setImmediate)
  }
  await app.close()
}

/** Instructions executed by one process of `variant` serving `count` requests. */
function count (variant, requests) {
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null',
    process.execPath, ...NODE_FLAGS, __filename, '--child', variant, String(requests)]
  return new Promise((resolve, reject) => {
    const proc = spawn(VALGRIND, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    proc.stderr.setEncoding('utf8')
    proc.stderr.on('data', (chunk) => { stderr += chunk })
    proc.on('error', reject)
    proc.on('close', (code) => {
      const match = /Collected\s*:\s*(\d+)/.exec(stderr)
      if (code !== 0 || match === null) reject(new Error(`${variant} × ${requests}: valgrind exited with ${code}\n${stderr.slice(-2000)}`))
      else resolve(Number(match[1]))
    })
  })
}

/** Runs `tasks` (functions returning promises), at most `limit` at a time. */
async function pool (tasks, limit) {
  const results = new Array(tasks.length)
  let next = 0
  async function worker () {
    while (next < tasks.length) {
      const k = next++
      results[k] = await tasks[k]()
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}

async function run ({ requests = 4000, warm = 2000, log = () => {} } = {}) {
  const started = process.hrtime.bigint()
  const jobs = []
  for (const variant of VARIANTS) {
    for (const n of [warm + requests, warm + 2 * requests]) {
      jobs.push(async () => {
        const instructions = await count(variant, n)
        log(`${variant} × ${n}: ${instructions.toLocaleString('en-US')} instructions\n`)
        return { variant, n, instructions }
      })
    }
  }
  const counts = await pool(jobs, Math.max(1, Math.min(2, os.cpus().length)))
  const perRequest = {}
  for (const variant of VARIANTS) {
    const [once, twice] = counts.filter((c) => c.variant === variant)
    perRequest[variant] = (twice.instructions - once.instructions) / requests
  }
  return { requests, warm, perRequest, seconds: Number(process.hrtime.bigint() - started) / 1e9 }
}

function table (result) {
  const { perRequest: p } = result
  const fmt = (x) => Math.round(x).toLocaleString('en-US')
  const pct = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`
  const rows = [
    '| instructions per request (callgrind, `inject`) | per request | vs bare Fastify | target | |',
    '|---|---:|---:|---|---|'
  ]
  const mark = (ok) => (ok ? 'met' : '**not met**')
  for (const v of VARIANTS) {
    const vsBare = p[v] / p.bare - 1
    let target = ''
    if (v === 'plugin') target = `≤ bare + 2% | ${mark(vsBare <= 0.02)}`
    else if (v === 'plugin-10k') target = `≤ 2 entries + 5% (here ${pct(p[v] / p.plugin - 1)}) | ${mark(p[v] / p.plugin - 1 <= 0.05)}`
    else target = ' | '
    rows.push(`| ${LABELS[v]} | ${fmt(p[v])} | ${v === 'bare' ? '' : pct(vsBare)} | ${target} |`)
  }
  return rows.join('\n') + `\n\n${result.warm} requests of warm-up, then ${result.requests} and ${2 * result.requests}: ` +
    `the difference over ${result.requests}; node ${process.version}, ${NODE_FLAGS.join(' ')}; ${Math.round(result.seconds)} s under valgrind.`
}

if (require.main === module) {
  const at = process.argv.indexOf('--child')
  if (at >= 0) {
    child(process.argv[at + 1], Number(process.argv[at + 2])).catch((error) => {
      console.error(error)
      process.exitCode = 1
    })
  } else {
    const r = process.argv.indexOf('--requests')
    run({ requests: r >= 0 ? Number(process.argv[r + 1]) : undefined, log: (line) => process.stderr.write(line) })
      .then((result) => console.log(table(result)))
      .catch((error) => {
        console.error(error)
        process.exitCode = 1
      })
  }
}

module.exports = { run, table }
