// The PROXY protocol header a TCP balancer puts before a connection's bytes
// (HAProxy's specification, v1 text and v2 binary), read strictly: addresses
// as strict as everywhere else in the plugin, and anything the specification
// does not allow is malformed.

import { addressFromBytes, ipAt, ipv4At } from './ip'

export interface ProxyEndpoint {
  /** Canonical text: dotted IPv4 (also for an IPv4-mapped IPv6 address), RFC 5952 IPv6. */
  readonly address: string
  readonly port: number
}

export interface ProxyTLV {
  readonly type: number
  readonly value: Buffer
}

/** A parsed PROXY header: what `request.proxyProtocol` holds. */
export interface ProxyHeader {
  readonly version: 1 | 2
  /** `local` is a balancer's own connection (a health check): no client address. */
  readonly command: 'proxy' | 'local'
  /** The client's end of the balanced connection; null for LOCAL, UNKNOWN, AF_UNSPEC and AF_UNIX. */
  readonly source: ProxyEndpoint | null
  readonly destination: ProxyEndpoint | null
  /** Whether an SSL TLV says the client connected over TLS. */
  readonly ssl: boolean
  /** v2's type-length-value fields in order (empty for v1); sub-TLVs stay inside their parent's value. */
  readonly tlvs: readonly ProxyTLV[]
}

/** What the first bytes of a connection hold. */
export type ProxyRead =
  | { readonly state: 'complete', readonly header: ProxyHeader, readonly length: number }
  | { readonly state: 'incomplete' }
  | { readonly state: 'absent' }
  | { readonly state: 'malformed', readonly reason: string }

const INCOMPLETE: ProxyRead = { state: 'incomplete' }
const ABSENT: ProxyRead = { state: 'absent' }

function malformed (reason: string): ProxyRead {
  return { state: 'malformed', reason }
}

const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1')
const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')
/** The longest v1 line, CRLF included. */
const V1_MAX = 107
/** The largest v2 header in all (a fixed part of 16 bytes and what its length field announces). */
const V2_MAX = 4096
const V2_FIXED = 16

const AF_UNSPEC = 0
const AF_INET = 1
const AF_UNIX = 3
const STREAM = 1
/** The bytes of each family's address block: two addresses and two ports. */
const ADDRESS_BLOCK = [0, 12, 36, 216]
const FAMILY_NAMES = ['AF_UNSPEC', 'IPv4', 'IPv6', 'UNIX']

const PP2_TYPE_SSL = 0x20
const PP2_CLIENT_SSL = 0x01
/** An SSL TLV's fixed part: the client flags and the verify result. */
const SSL_FIXED = 5

/** Whether `bytes` begins with `signature`, or could once more bytes arrive. */
function startsLike (bytes: Uint8Array, signature: Uint8Array): boolean {
  const n = Math.min(bytes.length, signature.length)
  for (let i = 0; i < n; i++) if (bytes[i] !== signature[i]) return false
  return true
}

/**
 * Reads a PROXY header at the start of `bytes` (the first bytes of a
 * connection): `complete` with the header and its length in bytes,
 * `incomplete` while more bytes could complete it, `absent` when the bytes
 * do not begin with either signature, or `malformed` with the reason.
 */
export function readProxyHeader (bytes: Buffer): ProxyRead {
  if (startsLike(bytes, V2_SIGNATURE)) {
    return bytes.length < V2_FIXED ? INCOMPLETE : readV2(bytes)
  }
  if (startsLike(bytes, V1_SIGNATURE)) {
    return bytes.length < V1_SIGNATURE.length ? INCOMPLETE : readV1(bytes)
  }
  return ABSENT
}

function readV1 (bytes: Buffer): ProxyRead {
  const newline = bytes.indexOf(10, V1_SIGNATURE.length)
  if (newline < 0 || newline >= V1_MAX) {
    return bytes.length < V1_MAX ? INCOMPLETE : malformed(`a v1 line longer than ${V1_MAX} bytes`)
  }
  if (bytes[newline - 1] !== 13) return malformed('a v1 line that does not end in CRLF')
  const line = bytes.toString('latin1', V1_SIGNATURE.length, newline - 1)
  const header = parseV1Line(line)
  return typeof header === 'string' ? malformed(header) : { state: 'complete', header, length: newline + 1 }
}

// Headers are frozen (all but the TLVs' Buffers, which cannot be): every
// request on a keep-alive connection sees the same one, and a hook that
// changed it would change it for the requests after.
const NO_TLVS: readonly ProxyTLV[] = Object.freeze([])
const V1_UNKNOWN: ProxyHeader = Object.freeze({ version: 1, command: 'proxy', source: null, destination: null, ssl: false, tlvs: NO_TLVS })

/** The header a v1 line (after `PROXY `, before CRLF) describes, or why it is malformed. */
function parseV1Line (line: string): ProxyHeader | string {
  // UNKNOWN may be followed by anything: the receiver ignores the rest.
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return V1_UNKNOWN
  const fields = line.split(' ')
  const family = fields[0]
  if (family !== 'TCP4' && family !== 'TCP6') return `an unknown v1 protocol '${family}'`
  if (fields.length !== 5) return 'a v1 line without exactly two addresses and two ports, each after one space'
  const source = v1Address(family, fields[1])
  const destination = v1Address(family, fields[2])
  if (source === null || destination === null) return `a v1 ${family} line with an address that is not strict ${family === 'TCP4' ? 'IPv4' : 'IPv6'}`
  const sourcePort = v1Port(fields[3])
  const destinationPort = v1Port(fields[4])
  if (sourcePort < 0 || destinationPort < 0) return 'a v1 port that is not a number from 0 to 65535 without leading zeros'
  return Object.freeze({
    version: 1,
    command: 'proxy',
    source: Object.freeze({ address: source, port: sourcePort }),
    destination: Object.freeze({ address: destination, port: destinationPort }),
    ssl: false,
    tlvs: NO_TLVS
  })
}

/** The canonical address of a v1 field: dotted IPv4 for TCP4, IPv6 syntax for TCP6; or null. */
function v1Address (family: 'TCP4' | 'TCP6', text: string): string | null {
  if (family === 'TCP4') return ipv4At(text, 0, text.length) < 0 ? null : text
  const ip = ipAt(text, 0, text.length)
  return ip === null || !ip.written6 ? null : ip.toString()
}

const PORT = /^(?:0|[1-9]\d{0,4})$/

/** A v1 port, 0–65535 in decimal without leading zeros, or -1. */
function v1Port (text: string): number {
  if (!PORT.test(text)) return -1
  const port = Number(text)
  return port <= 65535 ? port : -1
}

function readV2 (bytes: Buffer): ProxyRead {
  const version = bytes[12] >> 4
  const command = bytes[12] & 0x0f
  if (version !== 2) return malformed(`a v2 signature with version ${version}`)
  if (command > 1) return malformed(`an unknown v2 command ${command}`)
  const length = V2_FIXED + bytes.readUInt16BE(14)
  if (length > V2_MAX) return malformed(`a v2 header of ${length} bytes, over ${V2_MAX}`)
  if (bytes.length < length) return INCOMPLETE
  const header = command === 0 ? V2_LOCAL : parseV2Proxy(bytes, length)
  return typeof header === 'string' ? malformed(header) : { state: 'complete', header, length }
}

// LOCAL: the receiver uses the real connection endpoints and discards the
// rest of the block, family and TLVs included.
const V2_LOCAL: ProxyHeader = Object.freeze({ version: 2, command: 'local', source: null, destination: null, ssl: false, tlvs: NO_TLVS })

/** The header of a v2 PROXY command in bytes[0, end), or why it is malformed. */
function parseV2Proxy (bytes: Buffer, end: number): ProxyHeader | string {
  const family = bytes[13] >> 4
  const transport = bytes[13] & 0x0f
  if (family > AF_UNIX) return `an unknown v2 address family ${family}`
  if (transport > STREAM) return transport === 2 ? 'a v2 header for a datagram (DGRAM) connection' : `an unknown v2 transport ${transport}`
  // The specification's only combinations: UNSPEC with UNSPEC, the others with STREAM (or DGRAM, refused above).
  if ((family === AF_UNSPEC) !== (transport === 0)) {
    return family === AF_UNSPEC ? 'a v2 AF_UNSPEC header with a transport' : `a v2 ${FAMILY_NAMES[family]} header without the STREAM transport`
  }
  const tlvStart = V2_FIXED + ADDRESS_BLOCK[family]
  if (tlvStart > end) return `a v2 header too short for its ${FAMILY_NAMES[family]} addresses`
  const tlvs = readTLVs(bytes, tlvStart, end)
  if (tlvs === null) return 'a v2 TLV that overruns the header'
  let ssl = false
  for (const tlv of tlvs) {
    if (tlv.type !== PP2_TYPE_SSL) continue
    if (tlv.value.length < SSL_FIXED) return 'a v2 SSL TLV shorter than its 5 fixed bytes'
    if ((tlv.value[0] & PP2_CLIENT_SSL) !== 0) ssl = true
  }
  if (family === AF_UNSPEC || family === AF_UNIX) {
    return Object.freeze({ version: 2, command: 'proxy', source: null, destination: null, ssl, tlvs })
  }
  const size = family === AF_INET ? 4 : 16
  const ports = V2_FIXED + 2 * size
  return Object.freeze({
    version: 2,
    command: 'proxy',
    source: Object.freeze({ address: addressFromBytes(bytes, V2_FIXED, size), port: bytes.readUInt16BE(ports) }),
    destination: Object.freeze({ address: addressFromBytes(bytes, V2_FIXED + size, size), port: bytes.readUInt16BE(ports + 2) }),
    ssl,
    tlvs
  })
}

/** The TLVs in bytes[start, end); null when one overruns `end`. */
function readTLVs (bytes: Buffer, start: number, end: number): readonly ProxyTLV[] | null {
  const tlvs: ProxyTLV[] = []
  if (start === end) return NO_TLVS
  // Values are views of one copy of the TLVs (from Node's pool of small
  // buffers): a view of `bytes`, the connection's first read, would keep all
  // of it alive with the header.
  const block = Buffer.allocUnsafe(end - start)
  bytes.copy(block, 0, start, end)
  let at = 0
  while (at < block.length) {
    if (at + 3 > block.length) return null
    const valueEnd = at + 3 + block.readUInt16BE(at + 1)
    if (valueEnd > block.length) return null
    tlvs.push(Object.freeze({ type: block[at], value: block.subarray(at + 3, valueEnd) }))
    at = valueEnd
  }
  return Object.freeze(tlvs)
}
