'use strict'

// npm run bench: every figure as a ratio measured in this run, in one table.
//
//   node bench/run.js            the default run (under 3 minutes on 2 cores)
//   node bench/run.js --long     more rounds and processes, and the plugin
//                                with 10,000 entries end to end (or BENCH_LONG=1)
//
// The core and the hostile shapes run first (bench/core.js, bench/hostile.js,
// each in three fresh processes, five in a long run; each figure the median
// over them: under load, one process's ratios can be off by a third), then end to end
// (bench/e2e.js, which starts its own server processes, and ends each round
// with the plugin with and without the PROXY protocol taking turns, on
// keep-alive and on new connections, through bench/connect.js). Instruction
// counts are a separate run: npm run bench:instructions.

const { execFile } = require('node:child_process')
const os = require('node:os')
const path = require('node:path')
const { median } = require('./timing')

const LONG = process.argv.includes('--long') || ['1', 'true'].includes(process.env.BENCH_LONG ?? '')

/** Runs one bench script in a fresh Node process; resolves with its JSON. */
function runScript (name) {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(__dirname, name), ...(LONG ? ['--long'] : [])],
      { maxBuffer: 64 << 20 }, (error, stdout) => {
        if (error) reject(error)
        else resolve(JSON.parse(stdout))
      })
    child.stderr.pipe(process.stderr)
  })
}

/** Several processes of one script: every number the median over them. */
async function runMany (name, processes) {
  const runs = []
  for (let k = 0; k < processes; k++) runs.push(await runScript(name))
  if (runs.length === 1) return runs[0]
  const merge = (values) => typeof values[0] === 'number'
    ? median(values)
    : Array.isArray(values[0])
      ? values[0].map((_, i) => merge(values.map((v) => v[i])))
      : values[0] !== null && typeof values[0] === 'object'
        ? Object.fromEntries(Object.keys(values[0]).map((key) => [key, merge(values.map((v) => v[key]))]))
        : values[0]
  return merge(runs)
}

const x = (ratio, digits = 2) => `${ratio.toFixed(digits)}×`
const us = (ns) => ns >= 10000 ? `${(ns / 1000).toFixed(0)} µs` : `${(ns / 1000).toFixed(1)} µs`
const mark = (ok) => (ok ? 'met' : '**not met**')

function table ({ e2e, core, hostile }) {
  const rows = [['measure', 'result', 'target', '']]
  const section = (title) => rows.push([`**${title}**`, '', '', ''])
  const row = (measure, result, target = '', met = null) => rows.push([measure, result, target, met === null ? '' : mark(met)])

  const s = e2e.settings
  section(`End to end: autocannon -c ${s.connections} -p ${s.pipelining}, ${s.rounds} paired rounds of ${s.duration} s, ` +
    'a fresh process per server per round; median of the per-round ratios')
  const p = e2e.variants.plugin
  const range = (values) => `${x(Math.min(...values))}–${x(Math.max(...values))}`
  row('plugin / bare Fastify, req/s', `${x(p.vsBare)} (rounds ${range(p.vsBareRounds)}); by server CPU per request ${x(p.cpuVsBare)}`,
    'within noise of bare (≥ 0.95×)', p.vsBare >= 0.95)
  row('plugin / Fastify `trustProxy`, req/s', `${x(p.vsTrustProxy)} (rounds ${range(p.vsTrustProxyRounds)}); by server CPU per request ${x(p.cpuVsTrustProxy)}`,
    '≥ 1.3×', p.vsTrustProxy >= 1.3)
  if (e2e.variants['plugin-10k']) {
    const big = e2e.variants['plugin-10k']
    row('plugin with 10,000 entries / bare Fastify, req/s', `${x(big.vsBare)}; by server CPU per request ${x(big.cpuVsBare)}`)
  }
  row('medians, req/s (server CPU per request)', s.servers.map((v) => `${v} ${Math.round(e2e.variants[v].rate).toLocaleString('en-US')} ` +
    `(${e2e.variants[v].cpuPerRequest.toFixed(1)} µs)`).join(', '))

  const { keepAlive: k, connections: c } = e2e.proxyProtocol
  section('The PROXY protocol: the plugin with `proxyProtocol: true` (a v2 header on each connection) and without it, both running, ' +
    'taking turns at the end of each round; median of the per-round ratios')
  row(`keep-alive connections (-c ${s.connections} -p ${s.pipelining}, ${s.keepAlive.slices} slices of ${s.keepAlive.slice} s each), req/s with / without`,
    `${x(k.ratio)} (rounds ${range(k.rounds)}); by server CPU per request ${x(k.cpuRatio)}`, '≥ 0.97×', k.ratio >= 0.97)
  row('medians, req/s (server CPU per request)', `without ${Math.round(k.plainRate).toLocaleString('en-US')} (${k.plainCpu.toFixed(1)} µs), ` +
    `with ${Math.round(k.headerRate).toLocaleString('en-US')} (${k.headerCpu.toFixed(1)} µs)`)
  row(`new connections (\`Connection: close\`, one request each, ${s.connect.loops} concurrent loops of bench/connect.js, ` +
    `${s.connect.slices} slices of ${s.connect.slice} s each), connections/s with a v2 header / plain`,
    `${x(c.ratio)} (rounds ${range(c.rounds)}); by server CPU per connection ${x(c.cpuRatio)}`, '≥ 0.9×', c.ratio >= 0.9)
  row('medians, connections/s (server CPU per connection)', `plain ${Math.round(c.plainRate).toLocaleString('en-US')} (${c.plainCpu.toFixed(1)} µs), ` +
    `v2 header ${Math.round(c.headerRate).toLocaleString('en-US')} (${c.headerCpu.toFixed(1)} µs)`)

  section('The core, no Fastify: `resolve()` on the normal request, paired batch by batch with its yardstick')
  row('`resolve()`, 2 entries, per call', `${core.resolveNs.toFixed(0)} ns`, '≤ 150 ns', core.resolveNs <= 150)
  row('`proxy-addr` (compiled trust, same client) / `resolve()`', `${x(core.proxyAddrOverResolve, 1)} (proxy-addr ${core.proxyAddrNs.toFixed(0)} ns)`)
  row('`resolve()` with 10,000 entries / with 2', x(core.largeOverSmall), '≤ 1.05×', core.largeOverSmall <= 1.05)
  row('the same from a peer in a listed range (10.20.30.40 in 10.0.0.0/8): 10,000 entries / 2',
    `${x(core.rangePeerLargeOverSmall)} (2 entries ${core.rangePeerNs.toFixed(0)} ns)`, '≤ 1.05×', core.rangePeerLargeOverSmall <= 1.05)

  section('The PROXY header, no connection: `readProxyHeader()` on the whole header, paired batch by batch with proxy-protocol-js parsing the same bytes')
  row('`readProxyHeader()`, v2, TCP over IPv4 with two TLVs (SSL, AWS), 72 bytes', `${core.proxyV2Ns.toFixed(0)} ns`, '≤ 1 µs', core.proxyV2Ns <= 1000)
  row('proxy-protocol-js `V2ProxyProtocol.parse` / `readProxyHeader()`', `${x(core.proxyProtocolJsOverOursV2)} (proxy-protocol-js ${core.proxyProtocolJsV2Ns.toFixed(0)} ns)`)
  row('`readProxyHeader()`, v1, a TCP4 line, 40 bytes', `${core.proxyV1Ns.toFixed(0)} ns`)
  row('proxy-protocol-js `V1BinaryProxyProtocol.parse` / `readProxyHeader()`', `${x(core.proxyProtocolJsOverOursV1)} (proxy-protocol-js ${core.proxyProtocolJsV1Ns.toFixed(0)} ns)`)
  row('proxy-protocol-js `V1ProxyProtocol.parse` of the bytes decoded as text / `readProxyHeader()`',
    `${x(core.proxyProtocolJsTextOverOursV1)} (proxy-protocol-js ${core.proxyProtocolJsV1TextNs.toFixed(0)} ns)`)

  const passNs = median(hostile.shapes.map((h) => h.passNs))
  section(`Hostile 16 KB values: \`resolve()\` as a multiple of one sticky-regex pass over the same text (a pass: ${us(passNs)})`)
  for (const h of hostile.shapes) {
    row(`${h.header}: ${h.name}`, `${h.passes.toFixed(2)} passes (${us(h.ns)})`, '≤ 6 passes', h.passes <= 6)
  }
  const isIPNs = median(hostile.chains.map((c) => c.isIPNs))
  section(`Forged chains of trusted entries, walked to the leftmost: cost per entry as a multiple of one \`net.isIP('10.0.0.1')\` (${isIPNs.toFixed(0)} ns)`)
  for (const c of hostile.chains) {
    const ofIPv6 = c.perEntryOfIPv6 === null ? '' : `; ${c.perEntryOfIPv6.toFixed(2)} \`net.isIP('2001:db8::1')\` per entry`
    row(`${c.name}, ${c.entries.toLocaleString('en-US')} entries`, `${c.perEntry.toFixed(2)} per entry (${us(c.ns)} in all)${ofIPv6}`, '≤ 5', c.perEntry <= 5)
  }
  const [head, ...body] = rows
  return [`| ${head.join(' | ')} |`, '|---|---|---|---|', ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

async function main () {
  const started = process.hrtime.bigint()
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ')
  const cpus = os.cpus()
  console.error(`${LONG ? 'long' : 'default'} run: core, hostile shapes, then end to end`)
  const core = await runMany('core.js', LONG ? 5 : 3)
  const hostile = await runMany('hostile.js', LONG ? 5 : 3)
  const e2e = await runScript('e2e.js')
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  console.log(`\nnode ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${new Date().toISOString().slice(0, 10)}, ` +
    `${LONG ? 'long' : 'default'} run in ${Math.round(seconds)} s; load average before ${load}, after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
  console.log(table({ e2e, core, hostile }))
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
