// The PROXY header parser, rule by rule: a table of bytes → what they hold.

import t from 'tap'
import { readProxyHeader, type ProxyRead } from '../lib/proxy-header'
import { proxyV2, tlv } from './helpers'

const v2 = proxyV2

const INET_BLOCK = [192, 0, 2, 7, 10, 0, 0, 1, 0x1f, 0x90, 0, 80] // 192.0.2.7:8080 → 10.0.0.1:80
const INET6_BLOCK = [
  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // 2001:db8::1
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9, // ::ffff:203.0.113.9
  0, 1, 0xff, 0xff
]

function complete (read: ProxyRead): Extract<ProxyRead, { state: 'complete' }> {
  if (read.state !== 'complete') throw new Error(`expected a complete header, got ${JSON.stringify(read)}`)
  return read
}

t.test('v1 lines', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n', { source: { address: '192.0.2.7', port: 56324 }, destination: { address: '10.0.0.1', port: 443 } }],
    ['PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n', { source: { address: '0.0.0.0', port: 0 }, destination: { address: '255.255.255.255', port: 65535 } }],
    ['PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 2\r\n', { source: { address: '2001:db8::1', port: 1 }, destination: { address: '::1', port: 2 } }],
    ['PROXY TCP6 ::ffff:203.0.113.9 ::ffff:cb00:7109 1 2\r\n', { source: { address: '203.0.113.9', port: 1 }, destination: { address: '203.0.113.9', port: 2 } }]
  ]
  for (const [line, expected] of cases) {
    const read = complete(readProxyHeader(Buffer.from(line + 'GET / HTTP/1.1\r\n', 'latin1')))
    t.equal(read.length, line.length, `${JSON.stringify(line)}: the header ends after CRLF`)
    t.match(read.header, { version: 1, command: 'proxy', ssl: false, tlvs: [], ...(expected as object) }, JSON.stringify(line))
  }
  for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN anything at all \x01\r\n', 'PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n']) {
    const read = complete(readProxyHeader(Buffer.from(line, 'latin1')))
    t.equal(read.length, line.length)
    t.same(read.header, { version: 1, command: 'proxy', source: null, destination: null, ssl: false, tlvs: [] }, `${JSON.stringify(line)} keeps the peer`)
  }
})

t.test('malformed v1 lines', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\n', /CRLF/],
    ['PROXY TCP5 192.0.2.7 10.0.0.1 1 2\r\n', /unknown v1 protocol 'TCP5'/],
    ['PROXY UNKNOWNX\r\n', /unknown v1 protocol/],
    ['PROXY tcp4 192.0.2.7 10.0.0.1 1 2\r\n', /unknown v1 protocol/],
    ['PROXY  TCP4 192.0.2.7 10.0.0.1 1 2\r\n', /unknown v1 protocol ''/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 1\r\n', /exactly two addresses/],
    ['PROXY TCP4 192.0.2.7  10.0.0.1 1 2\r\n', /exactly two addresses/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 1 2 \r\n', /exactly two addresses/],
    ['PROXY TCP4 192.0.2.7\t10.0.0.1 1 2\r\n', /exactly two addresses/],
    ['PROXY TCP4 192.0.2.07 10.0.0.1 1 2\r\n', /not strict IPv4/],
    ['PROXY TCP4 ::1 10.0.0.1 1 2\r\n', /not strict IPv4/],
    ['PROXY TCP4 192.0.2.7 10.0.0.256 1 2\r\n', /not strict IPv4/],
    ['PROXY TCP6 192.0.2.7 ::1 1 2\r\n', /not strict IPv6/],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', /not strict IPv6/],
    ['PROXY TCP6 [::1] ::1 1 2\r\n', /not strict IPv6/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n', /port/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 1 080\r\n', /leading zeros/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 -1 2\r\n', /port/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 1 2x\r\n', /port/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 100000 2\r\n', /port/],
    ['PROXY TCP4 192.0.2.7 10.0.0.1 1 2\r\r\n', /port/],
    ['PROXY ' + 'x'.repeat(100) + '\n', /CRLF/]
  ]
  for (const [line, reason] of cases) {
    const read = readProxyHeader(Buffer.from(line, 'latin1'))
    t.equal(read.state, 'malformed', JSON.stringify(line))
    if (read.state === 'malformed') t.match(read.reason, reason, JSON.stringify(line))
  }
})

t.test('a v1 line of at most 107 bytes, CRLF included', async (t) => {
  const longest = 'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n'
  t.equal(longest.length, 104, 'the longest real line fits')
  t.equal(readProxyHeader(Buffer.from(longest)).state, 'complete')
  const atLimit = 'PROXY UNKNOWN ' + 'x'.repeat(107 - 16) + '\r\n'
  t.equal(atLimit.length, 107)
  t.equal(readProxyHeader(Buffer.from(atLimit)).state, 'complete', '107 bytes is allowed')
  const over = 'PROXY UNKNOWN ' + 'x'.repeat(108 - 16) + '\r\n'
  t.match(readProxyHeader(Buffer.from(over)), { state: 'malformed', reason: /longer than 107/ }, '108 bytes is not')
  t.match(readProxyHeader(Buffer.from('PROXY ' + 'x'.repeat(200))), { state: 'malformed', reason: /longer than 107/ },
    'no CRLF within 107 bytes is malformed at once')
  t.equal(readProxyHeader(Buffer.from('PROXY ' + 'x'.repeat(100))).state, 'incomplete', 'no CRLF yet, under the limit')
})

t.test('signatures: absent, incomplete, then decided', async (t) => {
  t.equal(readProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')).state, 'absent')
  t.equal(readProxyHeader(Buffer.from('PRI * HTTP/2.0\r\n')).state, 'absent', 'the HTTP/2 preface is not a PROXY header')
  t.equal(readProxyHeader(Buffer.from([0x16, 0x03, 0x01])).state, 'absent', 'a TLS ClientHello is not')
  t.equal(readProxyHeader(Buffer.from('PROXYX')).state, 'absent')
  t.equal(readProxyHeader(Buffer.from('\r\n\r\nX')).state, 'absent')
  t.equal(readProxyHeader(Buffer.alloc(0)).state, 'incomplete', 'nothing yet')
  const full = Buffer.concat([Buffer.from('PROXY TCP4 192.0.2.7 10.0.0.1 1 2\r\n'), v2(0x21, 0x11, INET_BLOCK)])
  for (const whole of [full.subarray(0, 35), v2(0x21, 0x11, [...INET_BLOCK, ...tlv(0x04, [1, 2, 3])])]) {
    for (let n = 0; n < whole.length; n++) {
      const read = readProxyHeader(whole.subarray(0, n))
      if (read.state !== 'incomplete') t.fail(`a prefix of ${n} bytes is ${read.state}`)
    }
    t.equal(readProxyHeader(whole).state, 'complete', 'the whole header is complete')
  }
})

t.test('v2 PROXY over INET and INET6, canonical addresses', async (t) => {
  const read = complete(readProxyHeader(Buffer.concat([v2(0x21, 0x11, INET_BLOCK), Buffer.from('GET /')])))
  t.equal(read.length, 28)
  t.same(read.header, {
    version: 2,
    command: 'proxy',
    source: { address: '192.0.2.7', port: 8080 },
    destination: { address: '10.0.0.1', port: 80 },
    ssl: false,
    tlvs: []
  })
  const six = complete(readProxyHeader(v2(0x21, 0x21, INET6_BLOCK)))
  t.same(six.header.source, { address: '2001:db8::1', port: 1 })
  t.same(six.header.destination, { address: '203.0.113.9', port: 65535 }, 'an IPv4-mapped address is dotted')
})

t.test('v2 TLVs: in order, values as given, the SSL TLV sets ssl', async (t) => {
  const vpce = Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-08d2bf15fac5001c9')])
  const ssl = [0x01, 0, 0, 0, 0, ...tlv(0x21, Buffer.from('TLSv1.3'))]
  const read = complete(readProxyHeader(v2(0x21, 0x11, [...INET_BLOCK, ...tlv(0xea, vpce), ...tlv(0x20, ssl), ...tlv(0x04, [])])))
  t.equal(read.header.ssl, true)
  t.same(read.header.tlvs.map((x) => x.type), [0xea, 0x20, 0x04])
  t.same(read.header.tlvs[0].value, vpce, 'an AWS VPC endpoint id is readable')
  t.equal(read.header.tlvs[0].value.subarray(1).toString(), 'vpce-08d2bf15fac5001c9')
  t.same(read.header.tlvs[1].value, Buffer.from(ssl), 'sub-TLVs stay inside the SSL value')
  const read64k = complete(readProxyHeader(Buffer.concat([v2(0x21, 0x11, [...INET_BLOCK, ...tlv(0xea, vpce)]), Buffer.alloc(65536)])))
  t.ok(read64k.header.tlvs[0].value.buffer.byteLength <= Buffer.poolSize, 'values do not keep the 64 KB read they came in alive')
  t.same(read64k.header.tlvs[0].value, vpce)
  t.equal(read.header.tlvs[2].value.length, 0)

  const noClientBit = complete(readProxyHeader(v2(0x21, 0x11, [...INET_BLOCK, ...tlv(0x20, [0x06, 0, 0, 0, 0])])))
  t.equal(noClientBit.header.ssl, false, 'an SSL TLV without the client-SSL bit')
  t.match(readProxyHeader(v2(0x21, 0x11, [...INET_BLOCK, ...tlv(0x20, [0x01, 0, 0, 0])])),
    { state: 'malformed', reason: /SSL TLV shorter/ })
  t.match(readProxyHeader(v2(0x21, 0x11, [...INET_BLOCK, 0x04, 0])), { state: 'malformed', reason: /overruns/ }, 'a cut TLV head')
  t.match(readProxyHeader(v2(0x21, 0x11, [...INET_BLOCK, 0x04, 0, 5, 1, 2])), { state: 'malformed', reason: /overruns/ }, 'a cut TLV value')
})

t.test('headers are frozen: every request on the connection sees the same one', async (t) => {
  const headers = [
    complete(readProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.2 40000 443\r\n'))).header,
    complete(readProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).header,
    complete(readProxyHeader(v2(0x21, 0x11, [...INET_BLOCK, ...tlv(0xea, [1, 2])]))).header,
    complete(readProxyHeader(v2(0x21, 0x11, INET_BLOCK))).header,
    complete(readProxyHeader(v2(0x21, 0x00, []))).header,
    complete(readProxyHeader(v2(0x20, 0x11, INET_BLOCK))).header
  ]
  for (const header of headers) {
    const parts = [header, header.tlvs, ...header.tlvs, header.source, header.destination].filter((part) => part !== null)
    t.ok(parts.every((part) => Object.isFrozen(part)), `${header.version} ${header.command}, ${header.tlvs.length} TLVs`)
    t.throws(() => { (header as { ssl: boolean }).ssl = true }, TypeError)
  }
})

t.test('v2 without a client address keeps the peer', async (t) => {
  const local = complete(readProxyHeader(v2(0x20, 0x11, [...INET_BLOCK, ...tlv(0x20, [1, 0, 0, 0, 0])])))
  t.same(local.header, { version: 2, command: 'local', source: null, destination: null, ssl: false, tlvs: [] },
    'LOCAL discards the whole block, TLVs included')
  t.equal(local.length, 16 + 12 + 8)
  t.equal(complete(readProxyHeader(v2(0x20, 0x00, []))).header.command, 'local', 'LOCAL with no block')
  t.equal(complete(readProxyHeader(v2(0x20, 0x72, [1, 2, 3]))).header.command, 'local', 'LOCAL ignores the family byte')
  for (const familyTransport of [0x00, 0x31]) {
    const block = familyTransport >= 0x30 ? Buffer.alloc(216) : Buffer.alloc(0)
    const read = complete(readProxyHeader(v2(0x21, familyTransport, Buffer.concat([block, tlv(0x20, [1, 0, 0, 0, 0])]))))
    t.match(read.header, { command: 'proxy', source: null, destination: null, ssl: true }, `family/transport 0x${familyTransport.toString(16)}`)
    t.equal(read.header.tlvs.length, 1)
  }
})

t.test('malformed v2 headers', async (t) => {
  const cases: Array<[Buffer, RegExp]> = [
    [v2(0x11, 0x11, INET_BLOCK), /version 1/],
    [v2(0x31, 0x11, INET_BLOCK), /version 3/],
    [v2(0x22, 0x11, INET_BLOCK), /unknown v2 command 2/],
    [v2(0x21, 0x12, INET_BLOCK), /DGRAM/],
    [v2(0x21, 0x22, INET6_BLOCK), /DGRAM/],
    [v2(0x21, 0x32, Buffer.alloc(216)), /DGRAM/],
    [v2(0x21, 0x13, INET_BLOCK), /unknown v2 transport 3/],
    [v2(0x21, 0x41, INET_BLOCK), /unknown v2 address family 4/],
    [v2(0x21, 0x10, INET_BLOCK), /IPv4 header without the STREAM/],
    [v2(0x21, 0x20, INET6_BLOCK), /IPv6 header without the STREAM/],
    [v2(0x21, 0x30, Buffer.alloc(216)), /UNIX header without the STREAM/],
    [v2(0x21, 0x01, []), /AF_UNSPEC header with a transport/],
    [v2(0x21, 0x11, INET_BLOCK.slice(0, 11)), /too short for its IPv4/],
    [v2(0x21, 0x21, INET_BLOCK), /too short for its IPv6/],
    [v2(0x21, 0x31, Buffer.alloc(215)), /too short for its UNIX/],
    [v2(0x21, 0x11, Buffer.alloc(4081)), /4097 bytes, over 4096/]
  ]
  for (const [bytes, reason] of cases) {
    t.match(readProxyHeader(bytes), { state: 'malformed', reason }, String(reason))
  }
  t.match(readProxyHeader(v2(0x21, 0x11, [], 0xffff)), { state: 'malformed' }, 'an announced length over the cap is malformed before it arrives')
  const largest = v2(0x21, 0x11, [...INET_BLOCK, ...tlv(0x04, Buffer.alloc(4080 - 12 - 3))])
  t.equal(largest.length, 4096)
  t.equal(readProxyHeader(largest).state, 'complete', '4,096 bytes in all is allowed')
})
