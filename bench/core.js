'use strict'

// Core micro-benchmarks: no Fastify, no sockets.
//
//   node bench/core.js            all cases, a table, JSON on request (--json FILE)
//   node bench/core.js --case ID  one case (what the table runs, in a fresh process)
//
// Every case runs in its own Node process so that one case's type feedback
// and heap never shape another's: in an application, resolve() sees one
// configuration for its whole life. In that process a case is checked to
// give the expected answer, warmed up, then timed in ROUNDS rounds (median
// ns/op of CPU time; the wall-clock median is kept in the JSON as wallNs). Allocation is measured over a loop that no GC interrupts: the heap
// growth per op is what the op allocated; what is still there after a full
// GC, with every result kept, is what it returns; the difference is garbage.
//
// Environment: BENCH_LIB (compiled lib, default dist/), BENCH_CORE_ROUNDS (5),
// BENCH_ROUND_MS (target length of a round, 100), BENCH_WARMUP_MS (200),
// BENCH_PROCESSES (5).

const assert = require('node:assert')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { PerformanceObserver, performance } = require('node:perf_hooks')
const v8 = require('node:v8')
const proxyaddr = require('proxy-addr')
const { SMALL, CLIENT, PEER, HEADERS, largeAllowlist } = require('./allowlist')

const LIB = path.resolve(process.env.BENCH_LIB ?? path.join(__dirname, '..', 'dist'))
const ROUNDS = Number(process.env.BENCH_CORE_ROUNDS ?? 5)
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 100)
const NODE_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64']

// ---------------------------------------------------------------- inputs

function list (size) {
  return size === 2 ? SMALL : largeAllowlist()
}

/** `client, 10.x.y.z, …` with `hops` trusted proxies after the client. */
function chain (hops) {
  const entries = [CLIENT]
  for (let k = 1; k <= hops; k++) entries.push(`10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`)
  return entries.join(', ')
}

/** Deterministic text of `length` characters drawn from `alphabet`. */
function garbage (length, alphabet) {
  let seed = 12345
  let out = ''
  for (let i = 0; i < length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    out += alphabet[(seed >>> 16) % alphabet.length]
  }
  return out
}

const KB16 = 16 * 1024 - 64 // leaves room for the other headers under Node's 16 KB limit
const FORGED = (() => { // as many trusted-looking entries as fit: the costliest valid header
  let text = CLIENT
  let k = 1
  while (text.length + 12 < KB16) text += `, 10.0.${(k >> 8) & 255}.${k++ & 255}`
  return text
})()
// Hostile 16 KB values, one per way of making a parser loop: each is what a
// trusted proxy would pass on from a client (a proxy appends, it does not
// clean). Node's HTTP parser strips spaces at the two ends of a header value,
// so the long runs are inside the value, where a client can put them. The
// strings are flattened, as the ones Node's parser makes are.
const flat = (text) => Buffer.from(text, 'latin1').toString('latin1')
const LONG = Object.fromEntries(Object.entries({
  commas: ','.repeat(KB16),
  'no commas': garbage(KB16, 'abcdefXYZ0123456789.:[]_- '),
  mixed: garbage(KB16, 'abc019.:[], \t'),
  'spaces before an address': '203.0.113.7,' + ' '.repeat(KB16 - 20) + '10.1.2.3',
  'spaces and tabs after an address': '203.0.113.7' + ' \t'.repeat(KB16 / 2 - 11) + ', 10.1.2.3',
  'words, then spaces': 'a '.repeat(KB16 / 4) + ' '.repeat(KB16 / 2 - 10) + ', 10.1.2.3',
  'comma, then one long element': ',' + 'a'.repeat(KB16 - 1),
  'open bracket': '[' + ':'.repeat(KB16 - 1),
  'forged chain': FORGED
}).map(([name, text]) => [name, flat(text)]))
// The same, in the other headers the default configuration (and `forwarded:
// true`, or a prefix header) reads. Shapes whose cost is in the number of
// elements the parser must read, not in their length, have "forged" or
// "many" in their names: they are linear, and reported apart.
// Two escaped values of 8 KB each: the header stays within 16 KB.
const FORWARDED_ESCAPES = '\\a'.repeat(KB16 / 4 - 10)
const LONG_OTHER = {
  'X-Forwarded-Host, one long name': [{ 'x-forwarded-host': 'a'.repeat(KB16) }, { 'x-forwarded-host': 'b'.repeat(KB16) }],
  'X-Forwarded-Host, percent escapes': [{ 'x-forwarded-host': 'a%41'.repeat(KB16 / 4) }, { 'x-forwarded-host': 'b%41'.repeat(KB16 / 4) }],
  'X-Forwarded-Host, spaces': { 'x-forwarded-host': 'a,' + ' '.repeat(KB16 - 18) + 'shop.example.com' },
  'X-Forwarded-Proto, spaces': { 'x-forwarded-proto': 'http,' + ' '.repeat(KB16 - 10) + 'https' },
  'X-Forwarded-Prefix, escapes': [{ 'x-forwarded-prefix': '/a%41'.repeat(KB16 / 5) }, { 'x-forwarded-prefix': '/b%41'.repeat(KB16 / 5) }],
  'X-Forwarded-Prefix, dot-like segments': [{ 'x-forwarded-prefix': '/.a'.repeat(KB16 / 3) }, { 'x-forwarded-prefix': '/.b'.repeat(KB16 / 3) }],
  'X-Forwarded-Prefix, dot-like segments of escapes': [{ 'x-forwarded-prefix': '/.%2a'.repeat(KB16 / 5) }, { 'x-forwarded-prefix': '/.%2b'.repeat(KB16 / 5) }],
  'X-Forwarded-Prefix, encoded dots in segments': [{ 'x-forwarded-prefix': '/a%2e'.repeat(KB16 / 5) }, { 'x-forwarded-prefix': '/b%2E'.repeat(KB16 / 5) }],
  'Forwarded, empty elements': { forwarded: ','.repeat(KB16 - 16) + 'for=203.0.113.7' },
  'Forwarded, one long quoted value': { forwarded: `for="${'a'.repeat(KB16 - 6)}"` },
  'Forwarded, one long parameter name': [{ forwarded: `for=203.0.113.7;${'x'.repeat(KB16 - 20)}=1` }, { forwarded: `for=203.0.113.7;${'y'.repeat(KB16 - 20)}=1` }],
  'Forwarded, an escaped element the walk reaches': { forwarded: `for="_${FORWARDED_ESCAPES}";host="${FORWARDED_ESCAPES}", for=10.1.2.3` },
  'Forwarded, a malformed escaped element the walk reaches': { forwarded: `for="_${FORWARDED_ESCAPES}\\\\";host="${FORWARDED_ESCAPES}", for=10.1.2.3` },
  'Forwarded, spaces': { forwarded: 'for=203.0.113.7' + ' '.repeat(KB16 - 30) + ',for=10.1.2.3' },
  'Forwarded, a forged chain': { forwarded: 'for=203.0.113.7' + ',for=10.0.0.1'.repeat(Math.floor((KB16 - 16) / 13)) },
  'Forwarded, many parameters': { forwarded: 'for=203.0.113.7' + Array.from({ length: 2000 }, (_, k) => `;x${k}=1`).join('').slice(0, KB16 - 20).replace(/;[^;]*$/, '') }
}
for (const [name, value] of Object.entries(LONG_OTHER)) {
  const pair = Array.isArray(value) ? value : [value]
  LONG_OTHER[name] = pair.map((headers) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, flat(v)])))
}
/** Whether a shape's cost is in its number of elements (linear, reported apart). */
const linearShape = (name) => /forged|many/i.test(name)

function headersWith (forwardedFor) {
  return { ...HEADERS, 'x-forwarded-for': forwardedFor }
}

/** What proxy-addr reads: a request-like object. */
function requestLike (headers) {
  const socket = { remoteAddress: PEER }
  return { headers, socket, connection: socket }
}

// ---------------------------------------------------------------- cases

function ours () {
  return {
    ...require(path.join(LIB, 'options.js')),
    ...require(path.join(LIB, 'resolve.js')),
    ...require(path.join(LIB, 'address.js'))
  }
}

/** resolve() on a request; checks it walks to `expectIp` first. */
function resolveCase (size, headers, expectIp, options = {}) {
  const { normalizeOptions, resolve } = ours()
  const config = normalizeOptions({ trustedProxies: list(size), ...options })
  const result = resolve(config, PEER, headers)
  if (expectIp !== undefined) {
    assert.strictEqual(result.ip, expectIp)
    assert.strictEqual(result.hostname, 'shop.example.com')
    assert.strictEqual(result.protocol, 'https')
    const reference = proxyaddr.all(requestLike(headers), proxyaddr.compile(list(size)))
    assert.deepStrictEqual(result.ips, reference)
  }
  return () => resolve(config, PEER, headers)
}

/** resolve() on two requests in turn, so that nothing remembered from the
 *  last request (the last valid host) can answer the next one. */
function alternatingCase (first, second, options = {}) {
  const { normalizeOptions, resolve } = ours()
  const config = normalizeOptions({ trustedProxies: SMALL, ...options })
  let k = 0
  return () => resolve(config, PEER, (k++ & 1) === 0 ? first : second)
}

/** proxy-addr's all() with the same allowlist on the same request. */
function proxyAddrCase (size, headers, expectIp) {
  const trust = proxyaddr.compile(list(size))
  const req = requestLike(headers)
  const ips = proxyaddr.all(req, trust)
  if (expectIp !== undefined) assert.strictEqual(ips[ips.length - 1], expectIp)
  return () => proxyaddr.all(req, trust)
}

const PROBES = [['10.1.2.3', 'ipv4', true], [CLIENT, 'ipv4', false], ['2001:db8::7', 'ipv6', false], ['::ffff:10.1.2.3', 'ipv6', true]]

/** One trust check per op, cycling through PROBES (trusted and not, both families). */
function checkCase (kind, size) {
  const entries = list(size)
  let check
  if (kind === 'ours') {
    const { normalizeOptions, scanIP } = ours()
    const { matcher } = normalizeOptions({ trustedProxies: entries })
    check = (address) => scanIP(address, 0, address.length) && matcher.matches()
  } else if (kind === 'proxy-addr') {
    const trust = proxyaddr.compile(entries)
    check = (address) => trust(address, 1)
  } else if (kind === 'BlockList') {
    const blockList = buildBlockList(entries)
    const families = new Map(PROBES)
    check = (address) => blockList.check(address, families.get(address))
  } else {
    check = (address) => net.isIP(address) !== 0 // the floor: validating, no matching
  }
  if (kind !== 'net.isIP') {
    for (const [address, , expected] of PROBES) assert.strictEqual(check(address), expected, `${kind} ${address}`)
  }
  const addresses = PROBES.map((p) => p[0])
  let i = 0
  return () => check(addresses[i++ & 3])
}

function buildBlockList (entries) {
  const blockList = new net.BlockList()
  for (const entry of entries) {
    const [address, prefix] = entry.split('/')
    const family = address.includes(':') ? 'ipv6' : 'ipv4'
    if (prefix === undefined) blockList.addAddress(address, family)
    else blockList.addSubnet(address, Number(prefix), family)
  }
  return blockList
}

const CASES = {}
function add (id, group, label, what, setup, extra = {}) {
  CASES[id] = { group, label, what, setup, ...extra }
}

for (const size of [2, 10000]) {
  const n = size === 2 ? '2' : '10k'
  add(`resolve-${n}`, 'request', `resolve(), ${n} entries`, 'walk + host + proto', () => resolveCase(size, HEADERS, CLIENT), { alloc: true })
  add(`proxyaddr-${n}`, 'request', `proxy-addr all(), ${n} entries`, 'walk only', () => proxyAddrCase(size, HEADERS, CLIENT), { alloc: true })
}
// The same request as an RFC 7239 header, under `forwarded: true`: not one of
// the targets, but what a Forwarded user pays per request.
const FORWARDED_REQUEST = {
  forwarded: `for=${CLIENT};host=${HEADERS['x-forwarded-host']};proto=${HEADERS['x-forwarded-proto']}, for=10.1.2.3`
}
add('resolve-forwarded', 'request', 'resolve(), Forwarded, 2 entries', 'walk + host + proto', () => {
  const { normalizeOptions, resolve } = ours()
  const config = normalizeOptions({ trustedProxies: SMALL, forwarded: true })
  const result = resolve(config, PEER, FORWARDED_REQUEST)
  assert.deepStrictEqual([result.ip, result.hostname, result.protocol, result.ips], [CLIENT, 'shop.example.com', 'https', [PEER, '10.1.2.3', CLIENT]])
  return () => resolve(config, PEER, FORWARDED_REQUEST)
}, { alloc: true })
for (const hops of [1, 10, 100]) {
  for (const size of [2, 10000]) {
    const n = size === 2 ? '2' : '10k'
    add(`chain-${hops}-${n}`, 'chain', `resolve(), ${hops} hop${hops > 1 ? 's' : ''}, ${n} entries`, `${hops}`, () => resolveCase(size, headersWith(chain(hops)), CLIENT), { hops })
  }
  add(`chain-${hops}-proxyaddr`, 'chain', `proxy-addr all(), ${hops} hop${hops > 1 ? 's' : ''}, 2 entries`, `${hops}`, () => proxyAddrCase(2, headersWith(chain(hops)), CLIENT), { hops })
}
const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-')
for (const [name, text] of Object.entries(LONG)) {
  const key = slug(name)
  add(`long-${key}`, 'long', `resolve(), 16 KB ${name}`, `${text.length} chars`, () => resolveCase(2, headersWith(text)))
  add(`long-${key}-proxyaddr`, 'long', `proxy-addr all(), 16 KB ${name}`, `${text.length} chars`, () => proxyAddrCase(2, headersWith(text)))
}
for (const [name, extra] of Object.entries(LONG_OTHER)) {
  // Two values in turn where one repeated would be remembered (a host).
  const [first, second = first] = extra
  const options = first.forwarded !== undefined
    ? { forwarded: true }
    : first['x-forwarded-prefix'] !== undefined ? { headers: { prefix: 'x-forwarded-prefix' } } : {}
  add(`long-${slug(name)}`, 'long', `resolve(), 16 KB ${name}`, `${Object.values(first)[0].length} chars`,
    () => alternatingCase({ ...HEADERS, ...first }, { ...HEADERS, ...second }, options))
}
for (const kind of ['ours', 'proxy-addr', 'BlockList']) {
  for (const size of [2, 10000]) {
    const n = size === 2 ? '2' : '10k'
    add(`check-${kind}-${n}`, 'check', `${kind === 'ours' ? 'our matcher (scan + lookup)' : kind === 'proxy-addr' ? 'proxy-addr compiled trust' : 'net.BlockList.check'}, ${n} entries`, 'per address', () => checkCase(kind, size))
  }
}
add('check-isIP', 'check', 'net.isIP (validation only, reference)', 'per address', () => checkCase('net.isIP', 2))

// The issue's own anchors, measured here so that its absolute targets can be
// read on this machine: net.isIP on an IPv4 address (~25 ns there) and one
// proxy-addr trust check with the 2-entry list (~0.8 µs there).
const ANCHORS = { 'anchor-isIP': 25, 'anchor-proxyaddr': 800 }
add('anchor-isIP', 'anchor', 'net.isIP(\'203.0.113.7\')', 'issue: ~25 ns', () => () => net.isIP(CLIENT))
add('anchor-proxyaddr', 'anchor', 'proxy-addr trust check, 2 entries', 'issue: ~0.8 µs', () => {
  const trust = proxyaddr.compile(SMALL)
  return () => trust('10.1.2.3', 1)
})

/** How much slower this machine is than the one the issue measured on
 *  (geometric mean of the anchors' ratios; 1 = the same). */
function machineFactor (r) {
  const ratios = Object.entries(ANCHORS).map(([id, ns]) => r[id].ns / ns)
  return Math.exp(ratios.reduce((sum, x) => sum + Math.log(x), 0) / ratios.length)
}

const COMPILERS = {
  ours: (entries) => ours().normalizeOptions({ trustedProxies: entries }),
  'proxy-addr': (entries) => proxyaddr.compile(entries),
  BlockList: buildBlockList
}
for (const name of Object.keys(COMPILERS)) add(`compile-${name}`, 'compile', `compile 10,000 entries: ${name}`, 'ms', null, { compile: name })

// ---------------------------------------------------------------- measuring

let sink = null // every result lands here, so no loop is optimised away
process.on('exit', () => { if (sink === undefined) console.log('') })

/** CPU time per op, in ns (and wall time in `lastWall`): CPU time is what
 *  other processes on a shared machine cannot inflate by taking the core. */
let lastWall = 0
function timeLoop (op, iterations) {
  const wall = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  for (let i = 0; i < iterations; i++) sink = op()
  const used = process.cpuUsage(cpu)
  lastWall = Number(process.hrtime.bigint() - wall) / iterations
  return (used.user + used.system) * 1000 / iterations
}

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Runs op for WARMUP_MS of CPU time, so that everything is optimized before
 *  the loop length is chosen (calibrating on cold code picks loops far too
 *  short, and their rounds then measure the JIT, not the code). */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 200)
function warmUp (op) {
  const start = process.cpuUsage()
  let batch = 64
  while (true) {
    for (let i = 0; i < batch; i++) sink = op()
    const used = process.cpuUsage(start)
    if (used.user + used.system > WARMUP_MS * 1000) return
    if (batch < 65536) batch *= 2
  }
}

function calibrate (op) {
  let iterations = 16
  while (true) {
    const ns = timeLoop(op, iterations) * iterations
    if (ns > ROUND_MS * 1e6 / 4 || iterations > 1e8) return Math.max(1, Math.round(iterations * (ROUND_MS * 1e6) / ns))
    iterations *= 4
  }
}

const gcTimes = []
new PerformanceObserver((list) => { for (const entry of list.getEntries()) gcTimes.push(entry.startTime) }).observe({ entryTypes: ['gc'] })
const heapUsed = () => v8.getHeapStatistics().used_heap_size
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

/** Bytes allocated and bytes returned (still reachable through the results)
 *  per op: medians of five loops that no GC interrupted (one loop is off by
 *  ±20 B, from whatever else the process allocates meanwhile). */
async function allocation (op, iterations) {
  const allocated = []
  const returned = []
  let count = Math.min(20000, iterations)
  for (let attempt = 0; attempt < 12 && allocated.length < 5; attempt++) {
    const keep = new Array(count).fill(null)
    global.gc(); global.gc()
    await settle()
    const t0 = performance.now()
    const before = heapUsed()
    for (let i = 0; i < count; i++) keep[i] = op()
    const after = heapUsed()
    const t1 = performance.now()
    await settle()
    if (gcTimes.some((t) => t >= t0 && t <= t1)) { // a scavenge ran: measure again, shorter
      count >>= 1
      continue
    }
    global.gc(); global.gc()
    const retained = heapUsed()
    keep.fill(null)
    allocated.push((after - before) / count)
    returned.push((retained - before) / count)
  }
  if (allocated.length === 0) return { allocatedBytes: null, returnedBytes: null }
  return { allocatedBytes: Math.round(median(allocated)), returnedBytes: Math.round(median(returned)) }
}

async function runCase (id) {
  const spec = CASES[id]
  if (spec.compile !== undefined) {
    const entries = largeAllowlist()
    const compile = COMPILERS[spec.compile]
    if (spec.compile === 'ours') ours() // load the modules first: requiring them is not compiling
    global.gc() // the list's own garbage is not the compiler's
    let start = process.hrtime.bigint()
    const cpu = process.cpuUsage()
    sink = compile(entries)
    const coldMs = Number(process.hrtime.bigint() - start) / 1e6
    const used = process.cpuUsage(cpu)
    const coldCpuMs = (used.user + used.system) / 1000 // includes V8's compiler threads
    const times = []
    for (let r = 0; r < ROUNDS; r++) {
      start = process.hrtime.bigint()
      sink = compile(entries)
      times.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
    return { id, coldMs, coldCpuMs, warmMs: median(times) }
  }
  const op = spec.setup()
  warmUp(op)
  const iterations = calibrate(op)
  timeLoop(op, iterations)
  const times = []
  const walls = []
  for (let r = 0; r < ROUNDS; r++) {
    times.push(timeLoop(op, iterations))
    walls.push(lastWall)
  }
  const out = { id, ns: median(times), min: Math.min(...times), max: Math.max(...times), wallNs: median(walls), iterations }
  if (spec.alloc) Object.assign(out, await allocation(op, iterations))
  return out
}

// ---------------------------------------------------------------- report

/** The request, chain, 16 KB and anchor cases run in PROCESSES fresh processes (median
 *  of their medians): one process can be unlucky with its JIT, or with a noisy
 *  neighbour on a shared machine, by 30% or more. The processes of one case
 *  are spread over the run (pass k runs every such case once), so that a
 *  noisy minute lands on one process of many cases, not on all of one. */
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 5)

function runAll () {
  const outs = {}
  for (let k = 0; k < PROCESSES; k++) {
    for (const id of Object.keys(CASES)) {
      const runs = ['request', 'chain', 'long', 'anchor'].includes(CASES[id].group) ? PROCESSES : 1
      if (k >= runs) continue
      ;(outs[id] ??= []).push(JSON.parse(execFileSync(process.execPath, [...NODE_FLAGS, __filename, '--case', id], { encoding: 'utf8' })))
      process.stderr.write('.')
    }
  }
  const results = {}
  for (const id of Object.keys(CASES)) {
    const runs = outs[id].sort((a, b) => a.ns - b.ns)
    results[id] = runs.length > 1 ? { ...runs[runs.length >> 1], processes: runs.map((o) => Number(o.ns.toFixed(1))) } : runs[0]
  }
  process.stderr.write('\n')
  return results
}

const fmt = (ns) => ns >= 10000 ? `${(ns / 1000).toFixed(1)} µs` : ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`
const times = (a, b) => `${(b / a).toFixed(1)}×`

function report (r) {
  const rows = []
  const row = (...cells) => rows.push(cells)
  row('case', 'median', 'note')
  row('**one request** (`203.0.113.7, 10.1.2.3` + host + proto)', '', '')
  for (const n of ['2', '10k']) {
    const ours = r[`resolve-${n}`]
    const theirs = r[`proxyaddr-${n}`]
    row(`resolve(), ${n} entries`, fmt(ours.ns), `allocates ${ours.allocatedBytes} B/op, returns ${ours.returnedBytes} B; ${times(ours.ns, theirs.ns)} faster than proxy-addr`)
    row(`proxy-addr all(), ${n} entries`, fmt(theirs.ns), `allocates ${theirs.allocatedBytes} B/op (address chain only)`)
  }
  row('resolve() 10k vs 2 entries', `${(r['resolve-10k'].ns / r['resolve-2'].ns).toFixed(2)}×`, 'target ≤ 1.5×')
  const forwarded = r['resolve-forwarded']
  row('resolve(), the same request in `Forwarded`', fmt(forwarded.ns), `\`forwarded: true\` (not a target); allocates ${forwarded.allocatedBytes} B/op, returns ${forwarded.returnedBytes} B`)
  row('**chain of trusted hops**', '', '')
  for (const hops of [1, 10, 100]) {
    for (const n of ['2', '10k']) {
      const c = r[`chain-${hops}-${n}`]
      row(`resolve(), ${hops} hops, ${n} entries`, fmt(c.ns), `${fmt(c.ns / (hops + 1))} per address`)
    }
    const p = r[`chain-${hops}-proxyaddr`]
    row(`proxy-addr all(), ${hops} hops, 2 entries`, fmt(p.ns), `${fmt(p.ns / (hops + 1))} per address`)
  }
  row('**16 KB X-Forwarded-For**', '', '')
  for (const name of Object.keys(LONG)) {
    const key = slug(name)
    const ours = r[`long-${key}`]
    const theirs = r[`long-${key}-proxyaddr`]
    row(`${name}`, fmt(ours.ns), `proxy-addr ${fmt(theirs.ns)} (${times(ours.ns, theirs.ns)})`)
  }
  row('**16 KB in the other headers**', '', '')
  for (const name of Object.keys(LONG_OTHER)) row(name, fmt(r[`long-${slug(name)}`].ns), linearShape(name) ? 'linear: one step per element or parameter' : '')
  row('**one trust check**', '', '')
  for (const kind of ['ours', 'proxy-addr', 'BlockList']) {
    for (const n of ['2', '10k']) row(CASES[`check-${kind}-${n}`].label, fmt(r[`check-${kind}-${n}`].ns), '')
  }
  row(CASES['check-isIP'].label, fmt(r['check-isIP'].ns), '')
  const factor = machineFactor(r)
  row('**the issue\'s anchors, on this machine**', '', '')
  for (const [id, ns] of Object.entries(ANCHORS)) row(CASES[id].label, fmt(r[id].ns), `the issue measured ~${fmt(ns)}: ${(r[id].ns / ns).toFixed(2)}×`)
  row('this machine vs the issue\'s', `${factor.toFixed(2)}×`, 'geometric mean of the two: absolute targets scale by it')
  row('**compiling 10,000 entries**', '', '')
  for (const name of Object.keys(COMPILERS)) {
    const c = r[`compile-${name}`]
    row(name, `${c.warmMs.toFixed(1)} ms`, `first call in a fresh process ${c.coldMs.toFixed(1)} ms`)
  }
  return rows
}

function markdown (rows) {
  const [head, ...body] = rows
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

async function main () {
  const at = process.argv.indexOf('--case')
  if (at >= 0) {
    process.stdout.write(JSON.stringify(await runCase(process.argv[at + 1])))
    return
  }
  const results = runAll()
  console.log(`\ncore (node ${process.version}, ${ROUNDS} rounds per case, each case in a fresh process)\n`)
  console.log(markdown(report(results)))
  const out = process.argv.indexOf('--json')
  if (out >= 0) fs.writeFileSync(process.argv[out + 1], JSON.stringify(results, null, 2) + '\n')
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}

module.exports = { CASES, ROUNDS, PROCESSES, report, markdown, runAll, machineFactor, NODE_FLAGS }
