// Property 7: the PROXY protocol parser (lib/proxy-header.ts). It never
// throws, whatever the bytes, and decides once: a decision taken on the first
// bytes of a connection is the decision on all of them, which is what lets
// the connection reader parse a header split over any number of segments.
// On generated valid v1 and v2 headers it agrees with the oracle
// (proxy-protocol-js) and with what the header means by the contract, with
// addresses canonical.
//
// The oracle is compared only where it is meaningful (see proxy-support.ts):
// it is given exactly the header bytes of valid headers built here; its
// addresses (text for v1, bytes for v2) are canonicalized by ipaddr.js and
// Node's URL serializer before they are compared with ours, and its v2
// `data` (everything after the address block) with our TLVs written again.
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import fc from 'fast-check'
import * as oracle from 'proxy-protocol-js'
import { readProxyHeader, type ProxyRead } from '../../lib/proxy-header'
import { checkProperty } from './support'
import {
  V1_SIGNATURE, V2_SIGNATURE, type ValidHeader, buildV2, canonicalOf, canonicalOfBytes, encodeTLVs, malformedHeader, validHeader, validV1, validV2
} from './proxy-support'

// ------------------------------------------------------------ inputs

const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b))
const ascii = (alphabet: string, max: number): fc.Arbitrary<Buffer> =>
  fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength: max }).map((s) => Buffer.from(s, 'latin1'))

/** Some bytes changed, added or removed. */
function mutate (input: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 2 }))
  return fc.tuple(input, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([value, edits]) => {
    let out = Buffer.from(value)
    for (const [at, byte, how] of edits) {
      const i = at % (out.length + 1)
      if (how === 0) out = Buffer.concat([out.subarray(0, i), out.subarray(i + 1)])
      else if (how === 1) out = Buffer.concat([out.subarray(0, i), Buffer.from([byte]), out.subarray(i)])
      else if (i < out.length) out[i] = byte
    }
    return out
  })
}

/** A v2 fixed part with any version, command, family, transport and length, then anything. */
const v2Like = fc.tuple(
  fc.oneof(fc.constantFrom(0x20, 0x21), fc.integer({ min: 0, max: 255 })),
  fc.oneof(fc.constantFrom(0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32), fc.integer({ min: 0, max: 255 })),
  fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 65535 })),
  bytes(320)
).map(([vc, ft, length, rest]) => Buffer.concat([V2_SIGNATURE, Buffer.from([vc, ft, length >> 8, length & 255]), rest]))

const anything: fc.Arbitrary<Buffer> = fc.oneof(
  bytes(200),
  // a signature, whole or cut short, then anything
  fc.tuple(fc.constantFrom(V1_SIGNATURE, V2_SIGNATURE), fc.nat(), bytes(150)).map(([sig, cut, rest]) => Buffer.concat([sig.subarray(0, cut % (sig.length + 1)), rest])),
  fc.tuple(ascii('PROXY TCP46UNKOW :.0123456789abcdefABCDEF\r\n\t%[]', 130)).map(([s]) => Buffer.concat([V1_SIGNATURE, s])),
  v2Like,
  mutate(validHeader.map((h) => h.bytes)),
  malformedHeader.map((h) => h.bytes),
  validHeader.map((h) => h.bytes)
)

// ------------------------------------------------------------ helpers

/** Whether `input` agrees with `signature` as far as both go. */
function startsLike (input: Buffer, signature: Buffer): boolean {
  const n = Math.min(input.length, signature.length)
  return input.subarray(0, n).equals(signature.subarray(0, n))
}

/** Reads `input` from inside a larger buffer, as a socket's chunk may be. */
function readAt (input: Buffer, offset: number): ProxyRead {
  const outer = Buffer.alloc(offset + input.length + 7, 0xa5)
  input.copy(outer, offset)
  return readProxyHeader(outer.subarray(offset, offset + input.length))
}

/** The prefix lengths worth checking below `length`: all of them when few, else the edges and a sample. */
function prefixLengths (length: number, seed: number): number[] {
  if (length <= 300) return Array.from({ length }, (_, k) => k)
  const picks = new Set([0, 1, 5, 6, 11, 12, 15, 16, 17, length - 2, length - 1])
  for (let k = 0; k < 40; k++) picks.add((seed * (k + 1) * 2654435761) % length)
  return [...picks].filter((k) => k >= 0 && k < length)
}

function checkShape (read: ProxyRead, input: Buffer): void {
  ok(['complete', 'incomplete', 'absent', 'malformed'].includes(read.state), `state ${read.state}`)
  if (read.state === 'malformed') ok(typeof read.reason === 'string' && read.reason.length > 0, 'a reason')
  if (read.state !== 'complete') return
  ok(Number.isInteger(read.length) && read.length > 0 && read.length <= input.length, `length ${read.length} within ${input.length} bytes`)
  const { header } = read
  ok(header.version === 1 || header.version === 2)
  ok(header.command === 'proxy' || header.command === 'local')
  equal(header.source === null, header.destination === null, 'both endpoints or neither')
  for (const end of [header.source, header.destination]) {
    if (end === null) continue
    equal(end.address, canonicalOf(end.address), 'canonical address')
    ok(Number.isInteger(end.port) && end.port >= 0 && end.port <= 65535, `port ${end.port}`)
  }
  if (header.version === 1) equal(header.tlvs.length, 0, 'v1 has no TLVs')
}

// ------------------------------------------------------------ properties

checkProperty('readProxyHeader never throws, and decides once: prefixes, extensions and offsets agree', 3000,
  fc.property(anything, bytes(40), fc.nat(), fc.nat({ max: 64 }), (input, extra, cut, offset) => {
    const read = readProxyHeader(input)
    checkShape(read, input)
    equal(read.state === 'absent', !startsLike(input, V1_SIGNATURE) && !startsLike(input, V2_SIGNATURE), 'absent exactly when no signature can start')
    deepStrictEqual(readAt(input, offset), read, 'the same bytes inside a larger buffer')
    // A decision on the first bytes is the decision on all of them.
    const first = readProxyHeader(input.subarray(0, cut % (input.length + 1)))
    if (first.state !== 'incomplete') deepStrictEqual(read, first, 'a decided prefix decides the whole')
    if (read.state !== 'incomplete') deepStrictEqual(readProxyHeader(Buffer.concat([input, extra])), read, 'bytes appended change nothing')
    if (read.state === 'complete') {
      deepStrictEqual(readProxyHeader(input.subarray(0, read.length)), read, 'the header alone reads the same')
      for (const k of prefixLengths(read.length, cut)) {
        equal(readProxyHeader(input.subarray(0, k)).state, 'incomplete', `a prefix of ${k} of the ${read.length} header bytes`)
      }
    }
  }), 'arbitrary bytes, signatures, mutated and malformed headers')

checkProperty('headers malformed by construction are malformed, whatever follows; no prefix of one is complete', 1500,
  fc.property(malformedHeader, bytes(60), fc.nat(), ({ bytes: input, category }, extra, cut) => {
    const read = readProxyHeader(input)
    equal(read.state, 'malformed', `${category}: ${JSON.stringify(input.toString('latin1'))} read as ${JSON.stringify(read)}`)
    deepStrictEqual(readProxyHeader(Buffer.concat([input, extra])), read, 'bytes appended change nothing')
    const prefix = readProxyHeader(input.subarray(0, cut % (input.length + 1)))
    ok(prefix.state === 'incomplete' || prefix.state === 'malformed', `a prefix read as ${prefix.state}`)
  }))

/** Our reading of a valid header: complete, exactly its bytes, what it means; then again with a request after it. */
function readValid (header: ValidHeader, tail: Buffer): Extract<ProxyRead, { state: 'complete' }> {
  const read = readProxyHeader(header.bytes)
  if (read.state !== 'complete') throw new Error(`${header.label} read as ${JSON.stringify(read)}`)
  equal(read.length, header.bytes.length, 'the whole header and nothing more')
  deepStrictEqual(read.header, header.expected, header.label)
  deepStrictEqual(readProxyHeader(Buffer.concat([header.bytes, tail])), read, 'with the stream after it')
  return read
}

const request = fc.constantFrom('GET / HTTP/1.1\r\nHost: a\r\n\r\n', '\x16\x03\x01\x02\x00\x01', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n', '')
  .map((s) => Buffer.from(s, 'latin1'))

checkProperty('v1 headers (TCP4, TCP6 in any spelling, UNKNOWN) agree with the oracle; addresses canonical', 1500,
  fc.property(validV1, request, (header, tail) => {
    const { header: ours } = readValid(header, tail)
    const v1 = header.v1 as NonNullable<ValidHeader['v1']>
    const line = header.bytes.toString('latin1')
    if (v1.protocol === 'UNKNOWN') {
      equal(ours.source, null)
      // The oracle reads UNKNOWN only when four fields follow; when it does, it says UNKNOWN.
      try {
        equal(oracle.V1ProxyProtocol.parse(line).inetProtocol, 'UNKNOWN')
      } catch (error) {
        ok(error instanceof oracle.V1ProxyProtocolParseError, String(error))
      }
      return
    }
    const source = ours.source as NonNullable<typeof ours.source>
    const destination = ours.destination as NonNullable<typeof ours.destination>
    const text = oracle.V1ProxyProtocol.parse(line)
    const binary = oracle.V1BinaryProxyProtocol.parse(header.bytes)
    for (const o of [text, binary]) {
      equal(o.inetProtocol, v1.protocol)
      equal(o.source.ipAddress, v1.source, 'the oracle reads the address as written')
      equal(source.address, canonicalOf(o.source.ipAddress), 'source: the oracle\'s text, canonical')
      equal(destination.address, canonicalOf(o.destination.ipAddress), 'destination: the oracle\'s text, canonical')
      equal(source.port, o.source.port)
      equal(destination.port, o.destination.port)
      equal(o.data?.length ?? 0, 0, 'nothing after the line')
    }
  }))

checkProperty('v2 headers (LOCAL, PROXY; INET, INET6, UNSPEC, UNIX; TLVs, SSL) agree with the oracle; addresses canonical', 1500,
  fc.property(fc.oneof({ weight: 9, arbitrary: validV2 }, { weight: 1, arbitrary: validHeader.filter((h) => h.v2 !== undefined) }), request,
    (header, tail) => {
      const { header: ours } = readValid(header, tail)
      const v2 = header.v2 as NonNullable<ValidHeader['v2']>
      const o = oracle.V2ProxyProtocol.parse(new Uint8Array(header.bytes))
      equal(o.command, v2.command, 'command')
      equal(o.addressFamilyType, v2.family << 4, 'address family')
      equal(o.transportProtocol, v2.transport, 'transport')
      const data = Buffer.from(o.data ?? [])
      if (ours.command === 'local') {
        // LOCAL: the block is discarded, TLVs and all.
        equal(ours.tlvs.length, 0)
        ok(data.equals(v2.tlvBytes), 'the oracle\'s data is what followed the addresses')
        return
      }
      ok(data.equals(encodeTLVs(ours.tlvs)), 'our TLVs, written again, are the oracle\'s data')
      const address = o.proxyAddress
      if (address instanceof oracle.IPv4ProxyAddress || address instanceof oracle.IPv6ProxyAddress) {
        deepStrictEqual(ours.source, { address: canonicalOfBytes(address.sourceAddress.address), port: address.sourcePort }, 'source')
        deepStrictEqual(ours.destination, { address: canonicalOfBytes(address.destinationAddress.address), port: address.destinationPort }, 'destination')
      } else {
        equal(ours.source, null, 'AF_UNSPEC and AF_UNIX carry no client address')
        if (address instanceof oracle.UnixProxyAddress) {
          deepStrictEqual(Buffer.from([...address.sourceAddress.address, ...address.destinationAddress.address]), v2.block, 'the oracle reads the UNIX paths')
        }
      }
      equal(ours.ssl, ours.tlvs.some((tlv) => tlv.type === 0x20 && tlv.value.length >= 5 && (tlv.value[0] & 1) === 1), 'ssl is the client bit of an SSL TLV')
    }))

// A few fixed points, so that a failure above is easy to read.
checkProperty('v1 boundaries: a line of 107 bytes in all is read, one of 108 is malformed', 50,
  fc.property(fc.constantFrom('UNKNOWN ', 'TCP6 '), fc.constantFrom('x', ' ', ':'), (start, filler) => {
    const line = (size: number): Buffer => {
      const head = `PROXY ${start}`
      return Buffer.from(head + filler.repeat(size - head.length - 2) + '\r\n', 'latin1')
    }
    const longest = readProxyHeader(line(107))
    if (start === 'UNKNOWN ') equal(longest.state, 'complete', 'UNKNOWN and anything, 107 bytes')
    else equal(longest.state, 'malformed', 'no addresses')
    const over = readProxyHeader(line(108))
    equal(over.state, 'malformed')
    ok(over.state === 'malformed' && /107/.test(over.reason), 'over the limit')
    deepStrictEqual(readProxyHeader(line(108).subarray(0, 107)), over, 'decided at the 107th byte')
  }))

checkProperty('v2 boundaries: 4,096 bytes in all is read, 4,097 is malformed at the 16th byte', 50,
  fc.property(fc.integer({ min: 0, max: 1 }), (command) => {
    const block = Buffer.from([192, 0, 2, 1, 198, 51, 100, 2, 0x12, 0x34, 0x01, 0xbb])
    const fill = (n: number): Buffer => encodeTLVs([{ type: 0x04, value: Buffer.alloc(n) }])
    const largest = buildV2({ command, family: 1, transport: 1, block, tlvBytes: fill(4096 - 16 - 12 - 3) })
    equal(largest.length, 4096)
    const read = readProxyHeader(largest)
    equal(read.state, 'complete')
    const over = buildV2({ command, family: 1, transport: 1, block, tlvBytes: fill(4096 - 16 - 12 - 3 + 1) })
    equal(readProxyHeader(over.subarray(0, 16)).state, 'malformed', 'decided on the fixed part alone')
  }))
