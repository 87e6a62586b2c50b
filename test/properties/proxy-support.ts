// Shared by the PROXY protocol properties: generators of valid v1 and v2
// headers with what the contract says they mean (written from HAProxy's
// specification, never from lib/), and generators of headers that are
// malformed by construction, one category each.
//
// Headers are built here, never by the oracle (proxy-protocol-js): its v2
// build() writes the wrong length field when TLVs follow.
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import { isIP } from 'node:net'
import { type Addr, anyAddr, canonicalText, dotted, modelAddress, spell } from './support'

// ------------------------------------------------------------ the model

export interface ModelEndpoint { address: string, port: number }
export interface ModelTLV { type: number, value: Buffer }

/** What a header means by the contract: the shape of `request.proxyProtocol`. */
export interface ModelHeader {
  version: 1 | 2
  command: 'proxy' | 'local'
  source: ModelEndpoint | null
  destination: ModelEndpoint | null
  ssl: boolean
  tlvs: ModelTLV[]
}

/** A valid header, its bytes, what it means, and what the oracle must read from it. */
export interface ValidHeader {
  bytes: Buffer
  expected: ModelHeader
  /** A short description for failure messages. */
  label: string
  v1?: { protocol: 'TCP4' | 'TCP6' | 'UNKNOWN', source?: string, destination?: string }
  v2?: { command: number, family: number, transport: number, block: Buffer, tlvBytes: Buffer }
}

export const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1')
export const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')
const V1_MAX = 107
const V2_MAX = 4096
const PP2_TYPE_SSL = 0x20
const PP2_TYPE_CRC32C = 0x03

/** The TLVs as they are written on the wire. */
export function encodeTLVs (tlvs: readonly ModelTLV[]): Buffer {
  return Buffer.concat(tlvs.map(({ type, value }) => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 255]), value])))
}

/** A header as JSON can carry it (TLV values in hex): what the connection tests' route answers. */
export function headerJSON (header: Readonly<Omit<ModelHeader, 'tlvs'>> & { tlvs: readonly ModelTLV[] } | null): unknown {
  if (header === null) return null
  return {
    version: header.version,
    command: header.command,
    source: header.source === null ? null : { address: header.source.address, port: header.source.port },
    destination: header.destination === null ? null : { address: header.destination.address, port: header.destination.port },
    ssl: header.ssl,
    tlvs: header.tlvs.map(({ type, value }) => ({ type, value: Buffer.from(value).toString('hex') }))
  }
}

// ------------------------------------------------------------ addresses

const V4_MAX = (1n << 32n) - 1n
const MAPPED = 0xffffn << 32n

const v4Addr: fc.Arbitrary<Addr> = fc.oneof(
  fc.bigInt({ min: 0n, max: V4_MAX }),
  fc.constantFrom(0n, V4_MAX, 0x7f000001n, 0xc0000201n, 0x0a000001n)
).map((value): Addr => ({ family: 4, value }))

/** 16 bytes of an address: IPv4 (also as family 4) is written IPv4-mapped. */
function bytes16 (addr: Addr): Buffer {
  const value = addr.family === 4 ? MAPPED | addr.value : addr.value
  const out = Buffer.alloc(16)
  for (let i = 0; i < 16; i++) out[i] = Number((value >> BigInt(120 - 8 * i)) & 255n)
  return out
}

function bytes4 (addr: Addr): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(Number(addr.value & V4_MAX)) // (the malformed headers take any address)
  return out
}

/**
 * The canonical text of an address written as text, by two readers that are
 * not lib/: the BigInt model of support.ts (ipaddr.js's RFC 5952), and for
 * IPv6 that is not IPv4-mapped, the WHATWG URL serializer of Node, which
 * also writes RFC 5952 (lowercase, the first longest run of zeros as `::`).
 */
export function canonicalOf (text: string): string {
  const model = modelAddress(text)
  if (model === null) throw new Error(`test: '${text}' is not an address`)
  const canonical = canonicalText(model)
  if (model.family === 6) {
    const host = new URL(`http://[${text}]/`).hostname
    if (host !== `[${canonical}]`) throw new Error(`test: the canonicalizers disagree on '${text}': ${host} and ${canonical}`)
  } else if (isIP(canonical) !== 4) {
    throw new Error(`test: '${canonical}' is not dotted IPv4`)
  }
  return canonical
}

/** The canonical text of 4 or 16 address bytes (ipaddr.js; IPv4-mapped written dotted). */
export function canonicalOfBytes (bytes: ArrayLike<number>): string {
  const addr = ipaddr.fromByteArray(Array.from(bytes))
  if (addr.kind() === 'ipv4') return addr.toString()
  const v6 = addr as ipaddr.IPv6
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toRFC5952String()
}

// ------------------------------------------------------------ v1

const port = fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 1, 80, 443, 65535))

/** How a TCP6 line spells an address: any RFC 4291 form, IPv4 only as IPv4-mapped. */
function tcp6Text (addr: Addr, style: number, bits: number): string {
  return addr.family === 4 ? spell(addr, 3 + 4 * (style % 1000), bits) : spell(addr, style, bits)
}

const v1Tcp: fc.Arbitrary<ValidHeader> = fc.record({
  protocol: fc.constantFrom<'TCP4' | 'TCP6'>('TCP4', 'TCP6'),
  v4: fc.tuple(v4Addr, v4Addr),
  v6: fc.tuple(anyAddr, anyAddr),
  spelling: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()),
  ports: fc.tuple(port, port)
}).map(({ protocol, v4, v6, spelling: [s1, b1, s2, b2], ports: [sp, dp] }) => {
  const [src, dst] = protocol === 'TCP4' ? v4 : v6
  const source = protocol === 'TCP4' ? dotted(src.value) : tcp6Text(src, s1, b1)
  const destination = protocol === 'TCP4' ? dotted(dst.value) : tcp6Text(dst, s2, b2)
  const line = `PROXY ${protocol} ${source} ${destination} ${sp} ${dp}\r\n`
  return {
    bytes: Buffer.from(line, 'latin1'),
    expected: {
      version: 1,
      command: 'proxy',
      source: { address: canonicalText(src), port: sp },
      destination: { address: canonicalText(dst), port: dp },
      ssl: false,
      tlvs: []
    },
    label: JSON.stringify(line),
    v1: { protocol, source, destination }
  } satisfies ValidHeader
}).filter((h) => h.bytes.length <= V1_MAX)

const printableChar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c))
/** What may follow `PROXY UNKNOWN `: up to the 107 bytes of the longest line (now and then exactly). */
const unknownRest = fc.oneof(
  fc.string({ unit: printableChar, maxLength: V1_MAX - 'PROXY UNKNOWN \r\n'.length }),
  fc.string({ unit: printableChar, minLength: V1_MAX - 'PROXY UNKNOWN \r\n'.length, maxLength: V1_MAX - 'PROXY UNKNOWN \r\n'.length })
)

/** `UNKNOWN`, alone or followed by anything up to the CRLF (which the receiver ignores). */
const v1Unknown: fc.Arbitrary<ValidHeader> = fc.option(unknownRest, { nil: undefined }).map((rest) => {
  const line = rest === undefined ? 'PROXY UNKNOWN\r\n' : `PROXY UNKNOWN ${rest}\r\n`
  return {
    bytes: Buffer.from(line, 'latin1'),
    expected: { version: 1, command: 'proxy', source: null, destination: null, ssl: false, tlvs: [] },
    label: JSON.stringify(line),
    v1: { protocol: 'UNKNOWN' }
  } satisfies ValidHeader
})

export const validV1: fc.Arbitrary<ValidHeader> = fc.oneof({ weight: 4, arbitrary: v1Tcp }, { weight: 1, arbitrary: v1Unknown })

// ------------------------------------------------------------ v2

const text = (max: number): fc.Arbitrary<Buffer> => fc.string({ maxLength: max }).map((s) => Buffer.from(s, 'utf8'))

/** A TLV as balancers send them, or of any type but SSL and CRC32C (both have rules of their own). */
const plainTLV: fc.Arbitrary<ModelTLV> = fc.oneof(
  fc.record({ type: fc.constant(0x01), value: fc.constantFrom('h2', 'http/1.1', 'acme-tls/1').map((s) => Buffer.from(s)) }), // ALPN
  fc.record({ type: fc.constant(0x02), value: fc.constantFrom('shop.example.com', 'a', 'xn--bcher-kva.example').map((s) => Buffer.from(s)) }), // AUTHORITY
  fc.record({ type: fc.constant(0x04), value: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) }), // NOOP
  fc.record({ type: fc.constant(0x05), value: fc.uint8Array({ maxLength: 128 }).map((b) => Buffer.from(b)) }), // UNIQUE_ID
  // AWS: subtype 0x01 and the VPC endpoint id
  fc.record({ type: fc.constant(0xea), value: fc.stringMatching(/^vpce-[0-9a-f]{17}$/).map((id) => Buffer.concat([Buffer.from([0x01]), Buffer.from(id)])) }),
  fc.record({ type: fc.constant(0xee), value: fc.uint8Array({ minLength: 5, maxLength: 5 }).map((b) => Buffer.from(b)) }), // Azure link id
  fc.record({
    type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== PP2_TYPE_SSL && t !== PP2_TYPE_CRC32C),
    value: fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b))
  })
)

/** PP2_TYPE_SSL: client flags, a 32-bit verify result, sub-TLVs (version, CN, cipher, algorithms). */
const sslTLV: fc.Arbitrary<ModelTLV> = fc.record({
  client: fc.integer({ min: 0, max: 7 }),
  verify: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  subs: fc.array(fc.record({ type: fc.integer({ min: 0x21, max: 0x25 }), value: text(20) }), { maxLength: 4 })
}).map(({ client, verify, subs }) => ({ type: PP2_TYPE_SSL, value: Buffer.concat([Buffer.from([client]), Buffer.from(verify), encodeTLVs(subs)]) }))

const tlvList: fc.Arbitrary<ModelTLV[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<ModelTLV[]>([]) },
  { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 4, arbitrary: plainTLV }, { weight: 1, arbitrary: sslTLV }), { minLength: 1, maxLength: 6 }) },
  // now and then one large TLV
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 3800 }).map((n) => [{ type: 0x04, value: Buffer.alloc(n, 0x5a) }]) }
)

/** The family and transport pairs HAProxy's specification allows (v2 PROXY), DGRAM aside (the contract refuses it). */
const PROXY_PAIRS: ReadonlyArray<[number, number]> = [[0, 0], [1, 1], [2, 1], [3, 1]]

export interface V2Parts {
  command: number
  family: number
  transport: number
  block: Buffer
  tlvBytes: Buffer
  /** What the length field says; the bytes of block and TLVs by default. */
  length?: number
  /** The version and command byte, when not 0x20 | command. */
  versionByte?: number
}

export function buildV2 (parts: V2Parts): Buffer {
  const length = parts.length ?? parts.block.length + parts.tlvBytes.length
  const fixed = Buffer.from([parts.versionByte ?? (0x20 | parts.command), (parts.family << 4) | parts.transport, length >> 8, length & 255])
  return Buffer.concat([V2_SIGNATURE, fixed, parts.block, parts.tlvBytes])
}

interface Endpoints { source: Addr, destination: Addr, sport: number, dport: number, unix: [Buffer, Buffer] }

const unixPath: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 108, maxLength: 108 }).map((b) => Buffer.from(b)),
  fc.stringMatching(/^\/[a-z0-9/._-]{0,60}$/).map((p) => Buffer.concat([Buffer.from(p), Buffer.alloc(108 - Buffer.byteLength(p))]))
)

const endpoints: fc.Arbitrary<Endpoints> = fc.record({
  source: anyAddr,
  destination: anyAddr,
  sport: port,
  dport: port,
  unix: fc.tuple(unixPath, unixPath)
}).map(({ source, destination, sport, dport, unix }) => ({ source, destination, sport, dport, unix }))

function block (family: number, e: Endpoints): Buffer {
  const ports = Buffer.alloc(4)
  ports.writeUInt16BE(e.sport, 0)
  ports.writeUInt16BE(e.dport, 2)
  if (family === 1) return Buffer.concat([bytes4(e.source), bytes4(e.destination), ports])
  if (family === 2) return Buffer.concat([bytes16(e.source), bytes16(e.destination), ports])
  if (family === 3) return Buffer.concat(e.unix)
  return Buffer.alloc(0)
}

export const validV2: fc.Arbitrary<ValidHeader> = fc.record({
  local: fc.nat({ max: 5 }).map((n) => n === 0),
  pair: fc.constantFrom(...PROXY_PAIRS),
  localPair: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 })),
  endpoints,
  v4: fc.tuple(v4Addr, v4Addr),
  tlvs: tlvList
}).map(({ local, pair, localPair, endpoints: e, v4, tlvs }): ValidHeader => {
  const [family, transport] = local ? localPair : pair
  // AF_INET takes IPv4 only; IPv4 in AF_INET6 is written IPv4-mapped.
  const ends = family === 1 ? { ...e, source: v4[0], destination: v4[1] } : e
  const addressBlock = block(family, ends)
  const room = V2_MAX - 16 - addressBlock.length
  const kept: ModelTLV[] = []
  let size = 0
  for (const tlv of tlvs) {
    if (size + 3 + tlv.value.length > room) break
    kept.push({ type: tlv.type, value: tlv.value }) // (fc.record's objects have no prototype)
    size += 3 + tlv.value.length
  }
  const tlvBytes = encodeTLVs(kept)
  const command = local ? 0 : 1
  const address = !local && (family === 1 || family === 2)
  return {
    bytes: buildV2({ command, family, transport, block: addressBlock, tlvBytes }),
    expected: {
      version: 2,
      command: local ? 'local' : 'proxy',
      source: address ? { address: canonicalText(ends.source), port: ends.sport } : null,
      destination: address ? { address: canonicalText(ends.destination), port: ends.dport } : null,
      ssl: !local && kept.some((tlv) => tlv.type === PP2_TYPE_SSL && (tlv.value[0] & 1) === 1),
      tlvs: local ? [] : kept
    },
    label: `v2 ${local ? 'LOCAL' : 'PROXY'} family ${family} transport ${transport}, ${kept.length} TLVs (${kept.map((t) => t.type.toString(16)).join(' ')})`,
    v2: { command, family, transport, block: addressBlock, tlvBytes }
  }
})

/** A v2 header of exactly 4,096 bytes, the largest allowed. */
export const largestV2: fc.Arbitrary<ValidHeader> = fc.tuple(endpoints, v4Addr, v4Addr).map(([e, s, d]) => {
  const ends = { ...e, source: s, destination: d }
  const addressBlock = block(1, ends)
  const filler: ModelTLV = { type: 0x04, value: Buffer.alloc(V2_MAX - 16 - 12 - 3, 0x00) }
  const tlvBytes = encodeTLVs([filler])
  return {
    bytes: buildV2({ command: 1, family: 1, transport: 1, block: addressBlock, tlvBytes }),
    expected: {
      version: 2,
      command: 'proxy',
      source: { address: canonicalText(s), port: e.sport },
      destination: { address: canonicalText(d), port: e.dport },
      ssl: false,
      tlvs: [filler]
    },
    label: 'v2 PROXY of 4096 bytes',
    v2: { command: 1, family: 1, transport: 1, block: addressBlock, tlvBytes }
  } satisfies ValidHeader
})

export const validHeader: fc.Arbitrary<ValidHeader> = fc.oneof(
  { weight: 5, arbitrary: validV1 },
  { weight: 6, arbitrary: validV2 },
  { weight: 1, arbitrary: largestV2 }
)

// ------------------------------------------------------------ malformed by construction

export interface MalformedHeader { bytes: Buffer, category: string }

const v1Line = (fields: string[], end = '\r\n'): Buffer => Buffer.from(`PROXY ${fields.join(' ')}${end}`, 'latin1')
const goodV4 = fc.constantFrom('192.0.2.1', '10.0.0.1', '0.0.0.0', '255.255.255.255')
const goodV6 = fc.constantFrom('2001:db8::1', '::1', '::ffff:192.0.2.1', 'fe80::1')
const goodPort = fc.constantFrom('0', '1', '443', '65535')
const badV4 = fc.constantFrom('010.0.0.1', '1.2.3', '1.2.3.256', '0x7f.0.0.1', '167772161', '::1', '::ffff:1.2.3.4', '1.2.3.4.5', 'localhost', '1.2.3.4:80', '[1.2.3.4]', '1.2.3.-1')
const badV6 = fc.constantFrom('1.2.3.4', 'fe80::1%eth0', '1::2::3', '[::1]', '12345::', '1:2:3:4:5:6:7:8:9', ':::', 'g::1', '::1/128', '::01.2.3.4')
const badPort = fc.constantFrom('65536', '99999', '080', '00', '-1', 'x', '1.5', '+1', '0x10', '１', '123456')

const v1Malformed: fc.Arbitrary<MalformedHeader> = fc.oneof(
  fc.tuple(badV4, goodV4, goodPort, goodPort, fc.boolean()).map(([bad, good, p1, p2, first]) =>
    ({ bytes: v1Line(['TCP4', first ? bad : good, first ? good : bad, p1, p2]), category: 'v1 TCP4 address that is not strict IPv4' })),
  fc.tuple(badV6, goodV6, goodPort, goodPort, fc.boolean()).map(([bad, good, p1, p2, first]) =>
    ({ bytes: v1Line(['TCP6', first ? bad : good, first ? good : bad, p1, p2]), category: 'v1 TCP6 address that is not strict IPv6' })),
  fc.tuple(fc.constantFrom<['TCP4', string] | ['TCP6', string]>(['TCP4', '192.0.2.1'], ['TCP6', '2001:db8::1']), badPort, goodPort, fc.boolean())
    .map(([[protocol, address], bad, good, first]) =>
      ({ bytes: v1Line([protocol, address, address, first ? bad : good, first ? good : bad]), category: 'v1 port outside 0-65535 or not plain decimal' })),
  fc.tuple(fc.constantFrom('TCP5', 'UDP4', 'tcp4', 'TCP', 'TCP44', 'UNKNOWN4', 'unknown', 'TCP4\t', ''), goodV4, goodPort)
    .map(([protocol, address, p]) => ({ bytes: v1Line([protocol, address, address, p, p]), category: 'v1 unknown protocol' })),
  fc.tuple(fc.constantFrom<'TCP4' | 'TCP6'>('TCP4', 'TCP6'), fc.nat({ max: 4 }), fc.nat({ max: 4 })).map(([protocol, how, at]) => {
    const address = protocol === 'TCP4' ? '192.0.2.1' : '2001:db8::1'
    const fields = [protocol, address, address, '80', '443']
    if (how === 0) fields.splice(1 + (at % 4), 1) // a field missing
    else if (how === 1) fields.splice(1 + at, 0, '80') // one too many
    else if (how === 2) fields[at] = ` ${fields[at]}` // two spaces
    else if (how === 3) fields[4] += ' ' // a trailing space
    else fields[at] += '\t'
    return { bytes: v1Line(fields), category: 'v1 line without exactly five fields, each after one space' }
  }),
  fc.tuple(fc.constantFrom('\n', '\r\r\n', ' \n', '\n\r'), fc.boolean()).map(([end, v6]) =>
    ({ bytes: v1Line(v6 ? ['TCP6', '::1', '::1', '1', '2'] : ['TCP4', '1.2.3.4', '5.6.7.8', '1', '2'], end), category: 'v1 line that does not end in CRLF' })),
  // A line of 108 bytes or more (no LF in the first 107): over the limit, whatever comes later.
  fc.tuple(fc.oneof(fc.constant(V1_MAX - 1), fc.integer({ min: V1_MAX - 1, max: 400 })), fc.constantFrom('UNKNOWN ', 'TCP6 ', 'TCP4 1.2.3.4 ', '')).map(([size, start]) => {
    const head = `PROXY ${start}`
    return { bytes: Buffer.from(head + 'x'.repeat(size - head.length) + '\r\n', 'latin1'), category: 'v1 line over 107 bytes' }
  })
)

const someBlock = fc.tuple(fc.integer({ min: 0, max: 3 }), endpoints).map(([family, e]) => ({ family, block: block(family, e) }))

const v2Malformed: fc.Arbitrary<MalformedHeader> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 15 }).filter((v) => v !== 2), fc.integer({ min: 0, max: 15 }), someBlock).map(([version, command, { family, block }]) =>
    ({ bytes: buildV2({ command, family, transport: 1, block, tlvBytes: Buffer.alloc(0), versionByte: (version << 4) | command }), category: 'v2 version other than 2' })),
  fc.tuple(fc.integer({ min: 2, max: 15 }), someBlock).map(([command, { family, block }]) =>
    ({ bytes: buildV2({ command, family, transport: 1, block, tlvBytes: Buffer.alloc(0) }), category: 'v2 unknown command' })),
  fc.tuple(fc.integer({ min: 4, max: 15 }), fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 40 })).map(([family, transport, block]) =>
    ({ bytes: buildV2({ command: 1, family, transport, block: Buffer.from(block), tlvBytes: Buffer.alloc(0) }), category: 'v2 PROXY with an unknown address family' })),
  fc.tuple(fc.integer({ min: 2, max: 15 }), someBlock).map(([transport, { family, block }]) =>
    ({ bytes: buildV2({ command: 1, family, transport, block, tlvBytes: Buffer.alloc(0) }), category: 'v2 PROXY over DGRAM or an unknown transport' })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), endpoints).map(([family, e]) =>
    ({ bytes: buildV2({ command: 1, family, transport: 0, block: block(family, e), tlvBytes: Buffer.alloc(0) }), category: 'v2 PROXY over AF_INET/AF_INET6/AF_UNIX without STREAM' })),
  fc.constant({ bytes: buildV2({ command: 1, family: 0, transport: 1, block: Buffer.alloc(0), tlvBytes: Buffer.alloc(0) }), category: 'v2 PROXY over AF_UNSPEC with a transport' }),
  fc.tuple(fc.integer({ min: V2_MAX - 16 + 1, max: 65535 }), fc.integer({ min: 0, max: 1 }), fc.uint8Array({ maxLength: 64 })).map(([length, command, rest]) =>
    ({ bytes: buildV2({ command, family: 1, transport: 1, block: Buffer.from(rest), tlvBytes: Buffer.alloc(0), length }), category: 'v2 header over 4096 bytes' })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.nat(), endpoints).map(([family, cut, e]) => {
    const full = block(family, e)
    const short = full.subarray(0, cut % full.length)
    return { bytes: buildV2({ command: 1, family, transport: 1, block: short, tlvBytes: Buffer.alloc(0) }), category: 'v2 PROXY too short for its addresses' }
  }),
  fc.tuple(fc.constantFrom(...PROXY_PAIRS), endpoints, fc.array(plainTLV, { maxLength: 3 }), fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 2 }).map((b) => Buffer.from(b)), // a TLV head cut short
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 300 }), fc.uint8Array({ maxLength: 40 }))
      .map(([type, over, value]) => Buffer.concat([Buffer.from([type, (value.length + over) >> 8, (value.length + over) & 255]), value]))
  )).map(([[family, transport], e, tlvs, tail]) =>
    ({ bytes: buildV2({ command: 1, family, transport, block: block(family, e), tlvBytes: Buffer.concat([encodeTLVs(tlvs), tail]) }), category: 'v2 TLV that overruns the header' })),
  fc.tuple(fc.constantFrom(...PROXY_PAIRS), endpoints, fc.uint8Array({ maxLength: 4 }), fc.array(plainTLV, { maxLength: 2 })).map(([[family, transport], e, value, others]) =>
    ({ bytes: buildV2({ command: 1, family, transport, block: block(family, e), tlvBytes: encodeTLVs([...others, { type: PP2_TYPE_SSL, value: Buffer.from(value) }]) }), category: 'v2 SSL TLV shorter than 5 bytes' }))
)

/** A header that the contract calls malformed: a connection that sends it is closed at once. */
export const malformedHeader: fc.Arbitrary<MalformedHeader> = fc.oneof(v1Malformed, v2Malformed)
