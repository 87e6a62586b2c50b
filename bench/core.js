'use strict'

// The core without Fastify: resolve() on the normal request, against
// proxy-addr computing the same client, and with 10,000 allowlist entries
// against 2; readProxyHeader() on a v2 header with two TLVs and on a v1
// TCP4 line, against proxy-protocol-js parsing the same bytes. Paired batch
// by batch in this process (bench/timing.js).
//
//   node bench/core.js [--long]     prints JSON

const assert = require('node:assert')
const path = require('node:path')
const proxyaddr = require('proxy-addr')
const proxyProtocolJs = require('proxy-protocol-js')
const { LIB, SMALL, PEER, RANGE_PEER, CLIENT, HEADERS, largeAllowlist, PROXY_SOURCE, PROXY_DESTINATION, PROXY_V2, PROXY_V1 } = require('./inputs')
const { paired } = require('./timing')

const { normalizeOptions } = require(path.join(LIB, 'options.js'))
const { resolve } = require(path.join(LIB, 'resolve.js'))
const { readProxyHeader } = require(path.join(LIB, 'proxy-header.js'))

/** resolve() on the normal request (from `peer`) with `entries` trusted, checked first. */
function resolveNormal (entries, peer = PEER) {
  const config = normalizeOptions({ trustedProxies: entries })
  const result = resolve(config, peer, HEADERS)
  assert.deepStrictEqual([result.ip, result.hostname, result.protocol], [CLIENT, 'shop.example.com', 'https'])
  return () => resolve(config, peer, HEADERS)
}

/** readProxyHeader() on one whole header, checked first. */
function readWhole (bytes, version, tlvs) {
  const read = readProxyHeader(bytes)
  assert.strictEqual(read.state, 'complete')
  assert.strictEqual(read.length, bytes.length)
  assert.deepStrictEqual([read.header.version, read.header.source, read.header.destination, read.header.tlvs.length],
    [version, PROXY_SOURCE, PROXY_DESTINATION, tlvs])
  return () => readProxyHeader(bytes)
}

/** proxy-protocol-js's parse of the same bytes, checked first (it reads addresses, ports and the rest as one block). */
function theirs (parse, address) {
  const header = parse()
  assert.deepStrictEqual([address(header.source ?? header.proxyAddress.sourceAddress), address(header.destination ?? header.proxyAddress.destinationAddress)],
    [PROXY_SOURCE.address, PROXY_DESTINATION.address])
  return parse
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
  // The normal peer is listed by its address, and found by its text in
  // either; a peer in a range makes the 10,000 entries' ranges searched.
  const large = largeAllowlist()
  const versusSmall = paired(resolveNormal(large), ours, settings)
  const inRange = paired(resolveNormal(large, RANGE_PEER), resolveNormal(SMALL, RANGE_PEER), settings)

  // The PROXY header, parsed as it arrives: the whole header in one Buffer.
  const { V2ProxyProtocol, V1BinaryProxyProtocol, V1ProxyProtocol } = proxyProtocolJs
  const v2 = paired(readWhole(PROXY_V2, 2, 2),
    theirs(() => V2ProxyProtocol.parse(PROXY_V2), (a) => a.address.join('.')), settings)
  const ours1 = readWhole(PROXY_V1, 1, 0)
  const v1 = paired(ours1, theirs(() => V1BinaryProxyProtocol.parse(PROXY_V1), (peer) => peer.ipAddress), settings)
  // Its text parser, given the bytes decoded (what a caller holding a Buffer must do first).
  const v1Text = paired(ours1, theirs(() => V1ProxyProtocol.parse(PROXY_V1.toString('latin1')), (peer) => peer.ipAddress), settings)

  return {
    settings,
    proxyV2Ns: v2.subjectNs,
    proxyProtocolJsV2Ns: v2.yardstickNs,
    proxyProtocolJsOverOursV2: 1 / v2.ratio,
    proxyV1Ns: v1.subjectNs,
    proxyProtocolJsV1Ns: v1.yardstickNs,
    proxyProtocolJsOverOursV1: 1 / v1.ratio,
    proxyProtocolJsV1TextNs: v1Text.yardstickNs,
    proxyProtocolJsTextOverOursV1: 1 / v1Text.ratio,
    resolveNs: versusProxyAddr.subjectNs,
    proxyAddrNs: versusProxyAddr.yardstickNs,
    proxyAddrOverResolve: 1 / versusProxyAddr.ratio,
    largeNs: versusSmall.subjectNs,
    smallNs: versusSmall.yardstickNs,
    largeOverSmall: versusSmall.ratio,
    rangePeerNs: inRange.yardstickNs,
    rangePeerLargeOverSmall: inRange.ratio
  }
}

if (require.main === module) {
  process.stdout.write(JSON.stringify(run({ long: process.argv.includes('--long') })) + '\n')
}

module.exports = { run }
