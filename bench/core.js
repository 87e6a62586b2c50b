'use strict'

// The core without Fastify: resolve() on the normal request, against
// proxy-addr computing the same client, and with 10,000 allowlist entries
// against 2. Paired batch by batch in this process (bench/timing.js).
//
//   node bench/core.js [--long]     prints JSON

const assert = require('node:assert')
const path = require('node:path')
const proxyaddr = require('proxy-addr')
const { LIB, SMALL, PEER, CLIENT, HEADERS, largeAllowlist } = require('./inputs')
const { paired } = require('./timing')

const { normalizeOptions } = require(path.join(LIB, 'options.js'))
const { resolve } = require(path.join(LIB, 'resolve.js'))

/** resolve() on the normal request with `entries` trusted, checked first. */
function resolveNormal (entries) {
  const config = normalizeOptions({ trustedProxies: entries })
  const result = resolve(config, PEER, HEADERS)
  assert.deepStrictEqual([result.ip, result.hostname, result.protocol], [CLIENT, 'shop.example.com', 'https'])
  return () => resolve(config, PEER, HEADERS)
}

function run ({ long = false } = {}) {
  const settings = long ? { rounds: 101, warmUpMs: 500 } : { rounds: 41, warmUpMs: 200 }

  const ours = resolveNormal(SMALL)
  const trust = proxyaddr.compile(SMALL)
  const socket = { remoteAddress: PEER }
  const request = { headers: HEADERS, socket, connection: socket }
  assert.strictEqual(proxyaddr(request, trust), CLIENT)
  const versusProxyAddr = paired(ours, () => proxyaddr(request, trust), settings)

  // The same code with either configuration: only the allowlist differs.
  const versusSmall = paired(resolveNormal(largeAllowlist()), ours, settings)

  return {
    settings,
    resolveNs: versusProxyAddr.subjectNs,
    proxyAddrNs: versusProxyAddr.yardstickNs,
    proxyAddrOverResolve: 1 / versusProxyAddr.ratio,
    largeNs: versusSmall.subjectNs,
    smallNs: versusSmall.yardstickNs,
    largeOverSmall: versusSmall.ratio
  }
}

if (require.main === module) {
  process.stdout.write(JSON.stringify(run({ long: process.argv.includes('--long') })) + '\n')
}

module.exports = { run }
