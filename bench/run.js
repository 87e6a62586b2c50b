'use strict'

// npm run bench: the end-to-end comparison, then the core micro-benchmarks,
// then the targets checked against both. Writes bench/results.json
// and bench/results.svg. Expects the compiled library in dist/ (the npm
// script builds it first) or in BENCH_LIB.
//
//   node bench/run.js core | e2e    run one half (or BENCH_ONLY=core | e2e)
//   see bench/e2e.js and bench/core.js for their own settings

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { runE2E, table: e2eTable } = require('./e2e')
const core = require('./core')
const { chart } = require('./chart')
const lazy = require('./lazy')
const hostile = require('./hostile')

const only = process.argv[2] ?? process.env.BENCH_ONLY

function machine () {
  const cpus = os.cpus()
  return {
    node: process.version,
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2)))
  }
}

/** The targets, each with what was measured and whether it holds. */
function targets (results) {
  const rows = []
  const add = (target, measured, holds) => rows.push({ target, measured, holds })
  const e2e = results.e2e?.variants
  if (e2e?.plugin && e2e.bare && e2e.trustProxy) {
    add('1. plugin ≥ 0.95× bare Fastify (req/s)', `${e2e.plugin.vsBare.toFixed(2)}× (by server CPU per request: ${e2e.plugin.cpuVsBare.toFixed(2)}×)`, e2e.plugin.vsBare >= 0.95)
    add('1. plugin ≥ 1.3× Fastify trustProxy (req/s)', `${e2e.plugin.vsTrustProxy.toFixed(2)}× (by CPU: ${e2e.plugin.cpuVsTrustProxy.toFixed(2)}×)`, e2e.plugin.vsTrustProxy >= 1.3)
  }
  if (e2e?.plugin && e2e['plugin-10k']) {
    const slower = e2e.plugin.median / e2e['plugin-10k'].median
    add('3. 10,000 entries ≤ 1.5× the cost of 2, end to end', `${slower.toFixed(2)}× (CPU per request ${(e2e['plugin-10k'].cpuMicros / e2e.plugin.cpuMicros).toFixed(2)}×)`, slower <= 1.5)
  }
  if (results.lazy) {
    const unread = results.lazy.find((r) => r.onInvalid === 'ignore' && r.handler === 'reads nothing')
    const others = results.lazy.filter((r) => r !== unread)
    const once = others.every((r) => r.perRequest === 1)
    add('5. at most once per request; never when nothing is read (lazy)', `${unread.perRequest} when nothing is read, ${once ? '1' : 'not 1'} otherwise (reject: 1 in onRequest)`, unread.perRequest === 0 && once)
  }
  const c = results.core
  if (c) {
    const r2 = c['resolve-2']
    const r10k = c['resolve-10k']
    // The absolute targets were set on its machine; its anchors,
    // measured in this run, say how much slower or faster this one is.
    const factor = core.machineFactor(c)
    const scaled = (ns) => `${ns.toFixed(0)} ns here = ${(ns / factor).toFixed(0)} ns on the issue's machine (its anchors took ${factor.toFixed(2)}× their time here)`
    add('2. resolve() ≤ 150 ns (median)', scaled(r2.ns), r2.ns / factor <= 150)
    const garbage = r2.allocatedBytes - r2.returnedBytes
    add('2. allocates nothing it does not return', `${r2.allocatedBytes} B allocated, ${r2.returnedBytes} B returned per op (${garbage} B garbage)`, garbage <= 16)
    const speedup = c['proxyaddr-2'].ns / r2.ns
    const speedup10k = c['proxyaddr-10k'].ns / r10k.ns
    add('2. ≥ 10× faster than proxy-addr all()', `${speedup.toFixed(1)}× (2 entries), ${speedup10k.toFixed(0)}× (10,000)`, speedup >= 10)
    add('3. 10,000 entries ≤ 1.5× the cost of 2, core', `${(r10k.ns / r2.ns).toFixed(2)}×`, r10k.ns / r2.ns <= 1.5)
    const compile = c['compile-ours']
    add('3. compiling 10,000 entries < 50 ms', `${compile.coldMs.toFixed(1)} ms first call, ${compile.warmMs.toFixed(1)} ms warm`, compile.coldMs < 50)
    const perHop = (h) => c[`chain-${h}-2`].ns / (h + 1)
    const growth = perHop(100) / perHop(10)
    add('4. linear in the hops (per-address cost, 100 vs 10 hops)', `${perHop(10).toFixed(0)} → ${perHop(100).toFixed(0)} ns per address (${growth.toFixed(2)}×)`, growth <= 1.5)
    // Shapes whose cost is in their number of elements ("forged", "many") are linear, and reported apart.
    const shapes = Object.keys(c).filter((id) => /^long-/.test(id) && !/proxyaddr|forged|many/.test(id))
    const worst = shapes.reduce((a, id) => (c[id].ns > a.ns ? { id, ns: c[id].ns } : a), { id: '', ns: 0 })
    add('4. a hostile 16 KB header costs a few µs (≤ 5 µs on the issue\'s machine)',
      `worst of ${shapes.length} shapes: ${(worst.ns / 1000).toFixed(1)} µs here = ${(worst.ns / factor / 1000).toFixed(1)} µs there (${worst.id.replace('long-', '')})`,
      worst.ns / factor <= 5000)
    const h = results.hostile?.shapes
    if (h) {
      const own = Object.entries(h).filter(([shape]) => shape !== 'normal' && !/forged/.test(shape))
        .map(([shape, r]) => ({ shape, us: r.own, node: r.bare - h.normal.bare }))
        .reduce((a, b) => (b.us > a.us ? b : a))
      add('4. (end to end) the plugin\'s own cost of a hostile 16 KB header: a few µs',
        `worst: ${own.us >= 0 ? '+' : '−'}${Math.abs(own.us).toFixed(1)} µs per request (${own.shape}); Node's own cost of that header: +${own.node.toFixed(1)} µs`, own.us <= 5 * factor)
    }
    const forged = c['long-forged-chain']
    if (forged) add('4. (16 KB of forged trusted-looking hops, for the record)', `${(forged.ns / 1000).toFixed(0)} µs here, linear: every entry is a hop to walk (set hops to bound it)`, null)
    const elements = c['long-forwarded-a-forged-chain']
    const parameters = c['long-forwarded-many-parameters']
    if (elements && parameters) {
      add('4. (16 KB Forwarded of many elements or parameters, for the record)',
        `${(elements.ns / 1000).toFixed(0)} µs (1,250 elements), ${(parameters.ns / 1000).toFixed(0)} µs (2,000 parameters) here, linear: the contract makes every element count, so each is checked`, null)
    }
  }
  return rows
}

function targetTable (rows) {
  const mark = (x) => (x === null ? '–' : x ? 'holds' : 'misses')
  return ['| target | measured | |', '|---|---|---|', ...rows.map((r) => `| ${r.target} | ${r.measured} | ${mark(r.holds)} |`)].join('\n')
}

async function main () {
  const results = { date: new Date().toISOString(), machine: machine() }
  console.log(`node ${results.machine.node}, ${results.machine.cpu}, load average ${results.machine.loadAverage.join(' ')}`)
  if (!only) {
    results.lazy = await lazy.countResolutions()
    console.log('\nresolution strategy: lazy (resolve() calls per request, counted)\n')
    console.log(lazy.table(results.lazy))
  }
  if (only !== 'core') {
    results.e2e = await runE2E()
    console.log(`\nend to end: autocannon -c ${results.e2e.settings.connections} -p ${results.e2e.settings.pipelining}, ` +
      `${results.e2e.settings.rounds} rounds; every turn a fresh server process, ${results.e2e.settings.warmup} s warm-up, ${results.e2e.settings.duration} s measured; medians\n`)
    console.log(e2eTable(results.e2e))
    results.hostile = await hostile.runHostile()
    console.log(`\nunder attack: server CPU per request with a 16 KB X-Forwarded-For (median of ${results.hostile.settings.rounds} fresh processes each; in brackets, what the header adds over a normal request)\n`)
    console.log(hostile.table(results.hostile))
  }
  if (only !== 'e2e') {
    results.core = core.runAll()
    console.log(`\ncore (no Fastify), CPU time, ${core.ROUNDS} rounds per case, medians; each case in a fresh process (request, chain, 16 KB and anchor cases: median of ${core.PROCESSES} processes)\n`)
    console.log(core.markdown(core.report(results.core)))
  }
  results.machine.loadAverageAfter = os.loadavg().map((x) => Number(x.toFixed(2)))
  results.targets = targets(results)
  console.log('\ntargets (issue 5)\n')
  console.log(targetTable(results.targets))
  console.log(`\nload average before ${results.machine.loadAverage.join(' ')}, after ${results.machine.loadAverageAfter.join(' ')}` +
    ' (on a busy machine, trust the ratios more than the absolute numbers)')
  if (only) { // half a run does not replace the full results
    fs.writeFileSync(path.join(__dirname, `results-${only}.json`), JSON.stringify(results, null, 2) + '\n')
    console.log(`\nwrote bench/results-${only}.json`)
    return
  }
  fs.writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify(results, null, 2) + '\n')
  fs.writeFileSync(path.join(__dirname, 'results.svg'), chart(results))
  console.log('\nwrote bench/results.json and bench/results.svg')
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
