'use strict'

// Hostile 16 KB values and forged chains, through resolve() without
// Fastify. Each shape is paired, batch by batch in this process, with a
// yardstick over the same text (bench/timing.js):
//
//   - a hostile value against one sticky-regex pass over it,
//     `/[\t\x20-\x7e\x80-\xff]*/y` tested once from index 0;
//   - a forged chain, per entry, against one `net.isIP('10.0.0.1')`.
//
//   node bench/hostile.js [--long]     prints JSON

const assert = require('node:assert')
const net = require('node:net')
const path = require('node:path')
const { LIB, SMALL, PEER, SHAPES, CHAINS } = require('./inputs')
const { paired } = require('./timing')

const { normalizeOptions } = require(path.join(LIB, 'options.js'))
const { resolve } = require(path.join(LIB, 'resolve.js'))

/** One sticky-regex pass over `text`: every character looked at once. */
function regexPass (text) {
  const re = /[\t\x20-\x7e\x80-\xff]*/y
  re.lastIndex = 0
  assert.ok(re.test(text) && re.lastIndex === text.length, 'the yardstick reads the whole text')
  return () => {
    re.lastIndex = 0
    return re.test(text)
  }
}

/** `net.isIP` on an IPv4 address, ISIP_PER times per call (so calling it costs next to nothing). */
const ISIP_PER = 64
function isIPs () {
  let family = 0
  for (let i = 0; i < ISIP_PER; i++) family += net.isIP('10.0.0.1')
  return family
}

/** The same on an IPv6 address: the yardstick of the entry's own family, for the IPv6 chains. */
function isIPv6s () {
  let family = 0
  for (let i = 0; i < ISIP_PER; i++) family += net.isIP('2001:db8::1')
  return family
}

function run ({ long = false } = {}) {
  const settings = long ? { rounds: 61, warmUpMs: 300 } : { rounds: 25, warmUpMs: 120 }
  const shapes = SHAPES.map((shape) => {
    const config = normalizeOptions({ trustedProxies: SMALL, ...shape.options })
    const headers = { [shape.header]: shape.value }
    assert.ok(resolve(config, PEER, headers).trusted)
    const r = paired(() => resolve(config, PEER, headers), regexPass(shape.value), settings)
    return { header: shape.header, name: shape.name, length: shape.value.length, passes: r.ratio, ns: r.subjectNs, passNs: r.yardstickNs, spread: r.spread }
  })
  const chains = CHAINS.map((c) => {
    const config = normalizeOptions(c.options)
    const headers = { [c.header]: c.value }
    const result = resolve(config, c.peer, headers)
    assert.strictEqual(result.stop, 'leftmost', `${c.name}: the walk goes to the leftmost entry`)
    assert.strictEqual(result.ips.length, c.count + 1, `${c.name}: every entry is walked`)
    const r = paired(() => resolve(config, c.peer, headers), isIPs, { ...settings, per: ISIP_PER })
    const v6 = c.unit.includes(':') ? paired(() => resolve(config, c.peer, headers), isIPv6s, { ...settings, per: ISIP_PER }) : null
    return {
      header: c.header,
      name: c.name,
      length: c.value.length,
      entries: c.count,
      perEntry: r.ratio / c.count,
      ns: r.subjectNs,
      isIPNs: r.yardstickNs,
      spread: r.spread.map((x) => x / c.count),
      perEntryOfIPv6: v6 === null ? null : v6.ratio / c.count
    }
  })
  return { settings, shapes, chains }
}

if (require.main === module) {
  process.stdout.write(JSON.stringify(run({ long: process.argv.includes('--long') })) + '\n')
}

module.exports = { run, regexPass, isIPs, ISIP_PER }
