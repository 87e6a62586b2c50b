'use strict'

// What every benchmark feeds the plugin: the normal request, the allowlists,
// the hostile 16 KB header values and the forged chains. Everything is
// generated from fixed seeds, so every run and every machine gets the same
// inputs.

const path = require('node:path')

/** The compiled library (built by `npm run build`), or BENCH_LIB. */
const LIB = path.resolve(process.env.BENCH_LIB ?? path.join(__dirname, '..', 'dist'))

// ---------------------------------------------------------------- the normal request

/** The 2-entry allowlist: the socket peer (loopback) and a private block. */
const SMALL = ['127.0.0.1', '10.0.0.0/8']
const PEER = '127.0.0.1'
/** A peer inside SMALL's 10.0.0.0/8 and not listed by itself: the allowlist's ranges are searched for it (PEER is found by its text). */
const RANGE_PEER = '10.20.30.40'
const CLIENT = '203.0.113.7'
/** A request from a trusted loopback proxy that names its client. */
const HEADERS = {
  'x-forwarded-for': CLIENT,
  'x-forwarded-host': 'shop.example.com',
  'x-forwarded-proto': 'https'
}
/** What every server behind a trusted peer must answer. */
const EXPECTED = { ip: CLIENT, hostname: 'shop.example.com', protocol: 'https' }

// ---------------------------------------------------------------- PROXY protocol headers

/**
 * What a TCP balancer puts before a connection's bytes. The source is a
 * trusted edge proxy (10.0.0.2, in SMALL's 10.0.0.0/8) that wrote the
 * normal request's X-Forwarded-* headers, so a server reading the header
 * walks one hop more and answers EXPECTED, as one that does not read it.
 */
const PROXY_SOURCE = { address: '10.0.0.2', port: 51234 }
const PROXY_DESTINATION = { address: '10.0.0.1', port: 443 }

/** A v2 TLV: type, 16-bit length, value. */
function tlv (type, value) {
  const head = Buffer.alloc(3)
  head[0] = type
  head.writeUInt16BE(value.length, 1)
  return Buffer.concat([head, value])
}

/**
 * A v2 PROXY header, TCP over IPv4, with two TLVs as HAProxy's
 * `send-proxy-v2-ssl` and AWS's PrivateLink write them: PP2_TYPE_SSL
 * (client flag SSL, verified, a PP2_SUBTYPE_SSL_VERSION sub-TLV) and
 * PP2_TYPE_AWS (the VPC endpoint id).
 */
function proxyV2 () {
  const tlvs = Buffer.concat([
    tlv(0x20, Buffer.concat([Buffer.from([0x01, 0, 0, 0, 0]), tlv(0x21, Buffer.from('TLSv1.3', 'latin1'))])),
    tlv(0xea, Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-08d2bf15fac5001c9', 'latin1')]))
  ])
  const fixed = Buffer.from('\r\n\r\n\0\r\nQUIT\n\x21\x11\0\0', 'latin1')
  const addresses = Buffer.alloc(12)
  PROXY_SOURCE.address.split('.').forEach((byte, i) => { addresses[i] = Number(byte) })
  PROXY_DESTINATION.address.split('.').forEach((byte, i) => { addresses[4 + i] = Number(byte) })
  addresses.writeUInt16BE(PROXY_SOURCE.port, 8)
  addresses.writeUInt16BE(PROXY_DESTINATION.port, 10)
  fixed.writeUInt16BE(addresses.length + tlvs.length, 14)
  return Buffer.concat([fixed, addresses, tlvs])
}
const PROXY_V2 = proxyV2()

/** The same endpoints as a v1 line. */
const PROXY_V1 = Buffer.from(`PROXY TCP4 ${PROXY_SOURCE.address} ${PROXY_DESTINATION.address} ${PROXY_SOURCE.port} ${PROXY_DESTINATION.port}\r\n`, 'latin1')

// ---------------------------------------------------------------- the large allowlist

/** A small deterministic PRNG (mulberry32): same seed, same sequence. */
function random (seed) {
  let a = seed >>> 0
  return function next () {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const CLIENT_V4 = (203 << 24 | 0 << 16 | 113 << 8 | 7) >>> 0

/** A random IPv4 /24 block or single address that does not hold the client. */
function v4Block (next) {
  const prefix = next() < 0.5 ? 24 : 32
  const address = Math.floor(next() * 2 ** 32)
  const start = prefix === 24 ? address - (address & 255) : address
  if ((CLIENT_V4 >>> 8) === (start >>> 8)) return null // never trust the client
  const text = [start >>> 24, (start >>> 16) & 255, (start >>> 8) & 255, start & 255].join('.')
  return prefix === 32 ? text : `${text}/24`
}

/**
 * 10,000 entries: random IPv4 /24 blocks and single addresses (none holds
 * the client 203.0.113.7), with the two entries of SMALL spread through the
 * list, so the normal request resolves exactly as with SMALL.
 */
function largeAllowlist (size = 10000, seed = 20240229) {
  const next = random(seed)
  const entries = new Set(SMALL)
  while (entries.size < size) {
    const entry = v4Block(next)
    if (entry !== null) entries.add(entry)
  }
  const list = [...entries].slice(SMALL.length)
  list.splice(Math.floor(list.length / 3), 0, SMALL[0])
  list.splice(Math.floor((2 * list.length) / 3), 0, SMALL[1])
  return list
}

// ---------------------------------------------------------------- hostile values

const KB16 = 16 * 1024

/** `unit` repeated to `length` characters (the last copy cut). */
function fill (unit, length) {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
}

/** Deterministic text of `length` characters drawn from `alphabet`. */
function garbage (length, alphabet, seed = 12345) {
  const next = random(seed)
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)]
  return out
}

/** `count` Forwarded extension parameters `a1=b;a2=b;…`. */
function parameters (count) {
  return Array.from({ length: count }, (_, k) => `a${k + 1}=b`).join(';')
}

/** `count` elements `for=<address>` with untrusted documentation addresses. */
function untrustedElements (count) {
  return Array.from({ length: count }, (_, k) => `for=198.51.${(k >> 8) & 255}.${k & 255}`).join(', ')
}

/**
 * Hostile values, one per way of making a parser loop, each what a trusted
 * proxy passes on from a client (a proxy appends, it does not clean). Every
 * value is about 16 KB, Node's limit for a request's whole header section;
 * the peer is the trusted loopback with SMALL trusted (so `10.x` entries are
 * trusted proxies and the walk goes past them to the hostile part).
 * `options` are added to `trustedProxies: SMALL`.
 */
const SHAPES = [
  // X-Forwarded-For, the default configuration
  { header: 'x-forwarded-for', name: "16 KB of 'a ', then `, 10.1.2.3`", value: fill('a ', KB16) + ', 10.1.2.3' },
  { header: 'x-forwarded-for', name: '16 KB of spaces, then `, 10.1.2.3`', value: ' '.repeat(KB16) + ', 10.1.2.3' },
  { header: 'x-forwarded-for', name: 'one 16 KB entry of digits and dots', value: garbage(KB16, '0123456789.') },
  { header: 'x-forwarded-for', name: 'one 16 KB entry of digits', value: '1'.repeat(KB16) },
  { header: 'x-forwarded-for', name: "`[` + 16 KB of ':'", value: '[' + ':'.repeat(KB16) },
  { header: 'x-forwarded-for', name: "`[` + 16 KB of ':', then `, 10.1.2.3`", value: '[' + ':'.repeat(KB16) + ', 10.1.2.3' },
  // X-Forwarded-Host
  { header: 'x-forwarded-host', name: '`a%41` repeated', value: fill('a%41', KB16) },
  { header: 'x-forwarded-host', name: "one 16 KB reg-name of 'a'", value: 'a'.repeat(KB16) },
  { header: 'x-forwarded-host', name: 'one 16 KB reg-name of labels `abcdefghi.`', value: fill('abcdefghi.', KB16) + 'com' },
  { header: 'x-forwarded-host', name: "`[v1.` + 16 KB of 'a'", value: '[v1.' + 'a'.repeat(KB16) },
  // X-Forwarded-Proto, X-Forwarded-Port
  { header: 'x-forwarded-proto', name: '16 KB of `https`', value: fill('https', KB16) },
  { header: 'x-forwarded-port', name: '16 KB of digits', value: '4'.repeat(KB16), options: { headers: { port: 'x-forwarded-port' } } },
  // X-Forwarded-Prefix
  { header: 'x-forwarded-prefix', name: '`/a%41` repeated', value: fill('/a%41', KB16), options: { headers: { prefix: 'x-forwarded-prefix' } } },
  { header: 'x-forwarded-prefix', name: '`/.a` repeated', value: fill('/.a', KB16), options: { headers: { prefix: 'x-forwarded-prefix' } } },
  { header: 'x-forwarded-prefix', name: '`/a%2e` repeated', value: fill('/a%2e', KB16), options: { headers: { prefix: 'x-forwarded-prefix' } } },
  { header: 'x-forwarded-prefix', name: "`/` + 16 KB of 'a'", value: '/' + 'a'.repeat(KB16), options: { headers: { prefix: 'x-forwarded-prefix' } } },
  { header: 'x-forwarded-prefix', name: '`/a` repeated, then a space (malformed at its end)', value: fill('/a', KB16 - 1) + ' ', options: { headers: { prefix: 'x-forwarded-prefix' } } },
  // A single-address header
  { header: 'cf-connecting-ip', name: '16 KB of hex digits and colons', value: garbage(KB16, '0123456789abcdef:'), options: { clientIpHeader: 'cf-connecting-ip' } },
  { header: 'cf-connecting-ip', name: '16 KB of digits and dots', value: garbage(KB16, '0123456789.'), options: { clientIpHeader: 'cf-connecting-ip' } },
  // Forwarded
  { header: 'forwarded', name: '2,000 parameters, then `for=10.0.0.2`', value: parameters(2000) + ';for=10.0.0.2', options: { forwarded: true } },
  { header: 'forwarded', name: '`for=10.0.0.2`, then 2,000 parameters', value: 'for=10.0.0.2;' + parameters(2000), options: { forwarded: true } },
  { header: 'forwarded', name: '`for="\\_\\_…"`, 16 KB quoted with escapes', value: `for="${fill('\\_', KB16)}"`, options: { forwarded: true } },
  { header: 'forwarded', name: '`x="a,a,…"`, 16 KB of quoted commas', value: `x="${fill('a,', KB16)}a"`, options: { forwarded: true } },
  { header: 'forwarded', name: '`x="a,a,…"`, then `, for=10.0.0.2`', value: `x="${fill('a,', KB16)}a", for=10.0.0.2`, options: { forwarded: true } },
  { header: 'forwarded', name: '1,000 untrusted `for=` elements', value: untrustedElements(1000), options: { forwarded: true } },
  { header: 'forwarded', name: 'a 16 KB parameter name', value: `for=10.0.0.2;${'x'.repeat(KB16)}=1`, options: { forwarded: true } },
  { header: 'forwarded', name: "16 KB of ';', then the proxy's `, for=203.0.113.7;proto=https`", value: ';'.repeat(KB16) + ', for=203.0.113.7;proto=https', options: { forwarded: true } },
  { header: 'forwarded', name: "16 KB of ';', then `, for=10.0.0.2` (walked)", value: ';'.repeat(KB16) + ', for=10.0.0.2', options: { forwarded: true } }
]

/**
 * Forged chains: about 16 KB of trusted-looking entries, peer and entries
 * all trusted, so the walk goes to the leftmost entry.
 */
function chain (unit, trusted, peer, options = {}) {
  const count = Math.floor((KB16 + 2) / (unit.length + 2))
  return { unit, count, value: Array(count).fill(unit).join(', '), peer, options: { trustedProxies: trusted, ...options } }
}
const CHAINS = [
  { name: 'X-Forwarded-For, `10.0.0.1, 10.0.0.1, …`', header: 'x-forwarded-for', ...chain('10.0.0.1', '10.0.0.0/8', '10.0.0.9') },
  { name: 'Forwarded, `for=10.0.0.1, for=10.0.0.1, …`', header: 'forwarded', ...chain('for=10.0.0.1', '10.0.0.0/8', '10.0.0.9', { forwarded: true }) },
  { name: 'X-Forwarded-For, IPv6 `2001:db8::1, …`', header: 'x-forwarded-for', ...chain('2001:db8::1', '2001:db8::/32', '2001:db8::9') },
  { name: 'Forwarded, IPv6 `for="[2001:db8::1]", …`', header: 'forwarded', ...chain('for="[2001:db8::1]"', '2001:db8::/32', '2001:db8::9', { forwarded: true }) }
]

/** A flat copy of a string, as Node's HTTP parser makes them (no rope of concatenations). */
const flat = (text) => Buffer.from(text, 'latin1').toString('latin1')
for (const shape of SHAPES) shape.value = flat(shape.value)
for (const c of CHAINS) c.value = flat(c.value)

module.exports = { LIB, SMALL, PEER, RANGE_PEER, CLIENT, HEADERS, EXPECTED, largeAllowlist, SHAPES, CHAINS, PROXY_SOURCE, PROXY_DESTINATION, PROXY_V2, PROXY_V1 }
