// Shared by the property tests: replayable run settings, reference models
// written to be obviously correct rather than fast, and input generators.
//
// The models never call lib/: addresses are judged by `net.isIP` (plus the
// contract's "no zone id" rule), ranges by BigInt arithmetic, lists by
// `split(',')`, hosts and prefixes by regular expressions taken from RFC 3986.

import { isIP } from 'node:net'
import { relative } from 'node:path'
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import t from 'tap'

// ------------------------------------------------------------ run settings

function envNumber (name: string, fallback: number, integer: boolean): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'`)
  }
  return value
}

/** The seed of every property. Replay a failure with PROXY_FIX_SEED=<seed>. */
export const SEED = envNumber('PROXY_FIX_SEED', 7239, true)
/** Multiplies every case count: PROXY_FIX_RUNS=20 for a soak, 0.1 for a smoke run. */
const SCALE = envNumber('PROXY_FIX_RUNS', 1, false)
/** Replays one shrunk counterexample: PROXY_FIX_PATH=<the path fast-check printed>. */
const PATH = process.env.PROXY_FIX_PATH === '' ? undefined : process.env.PROXY_FIX_PATH

export function scaled (numRuns: number): number {
  return Math.max(1, Math.round(numRuns * SCALE))
}

/** The test name carries what replays it. */
export function title (name: string, numRuns: number, unit = 'numRuns'): string {
  return `${name} [seed=${SEED} ${unit}=${numRuns}]`
}

/**
 * Runs a fast-check property as one tap test named with its seed and case
 * count; `note` adds what one case holds (say, "up to 8 requests").
 */
export function checkProperty<T> (
  name: string,
  numRuns: number,
  property: fc.IProperty<T> | fc.IAsyncProperty<T>,
  note = ''
): void {
  const runs = scaled(numRuns)
  t.test(title(name, runs) + (note === '' ? '' : ` (${note})`), async (t) => {
    const details = await fc.check(property as fc.IAsyncProperty<T>, { seed: SEED, numRuns: runs, path: PATH })
    if (details.failed) {
      const error = details.errorInstance
      t.fail(`property failed after ${details.numRuns} cases`, {
        counterexample: fc.stringify(details.counterexample),
        error: error instanceof Error ? error.message : String(error),
        shrunk: details.numShrinks,
        replay: `PROXY_FIX_SEED=${details.seed} PROXY_FIX_PATH='${details.counterexamplePath ?? ''}' npx tap ${relative(process.cwd(), process.argv[1] ?? '<this file>')}`
      })
    } else {
      t.pass(`${details.numRuns} cases passed`)
    }
  })
}

// ----------------------------------------------------------- the address model

/** An address by value. IPv4-mapped IPv6 is family 4, as the contract says it matches IPv4 ranges. */
export interface Addr { family: 4 | 6, value: bigint }

const MAPPED_PREFIX = 0xffffn // the group before the last 32 bits of ::ffff:a.b.c.d
const V4_MAX = (1n << 32n) - 1n
const V6_MAX = (1n << 128n) - 1n

function v4FromDotted (text: string): bigint {
  return text.split('.').reduce((acc, octet) => acc * 256n + BigInt(Number(octet)), 0n)
}

/** Expands a text `net.isIP` called IPv6: embedded IPv4 becomes two groups, `::` zeros. */
function v6FromText (text: string): bigint {
  const expanded = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a: string, b: string, c: string, d: string) =>
    ((Number(a) << 8) | Number(b)).toString(16) + ':' + ((Number(c) << 8) | Number(d)).toString(16))
  let groups: string[]
  if (expanded.includes('::')) {
    const [left, right] = expanded.split('::')
    const l = left === '' ? [] : left.split(':')
    const r = right === '' ? [] : right.split(':')
    groups = [...l, ...Array(8 - l.length - r.length).fill('0'), ...r]
  } else {
    groups = expanded.split(':')
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
}

/** IPv4 octets in decimal without leading zeros: net.isIP already insists, the contract too. */
function strictDotted (text: string): boolean {
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  return tail === null || tail.slice(1).every((octet) => /^(0|[1-9]\d{0,2})$/.test(octet))
}

/** The value of a bare address as written: `syntax` 6 for anything with a colon. */
export function rawAddress (text: string): { syntax: 4 | 6, value: bigint } | null {
  const family = isIP(text)
  if (family === 0 || text.includes('%') || !strictDotted(text)) return null
  return family === 4 ? { syntax: 4, value: v4FromDotted(text) } : { syntax: 6, value: v6FromText(text) }
}

/** The contract's bare address (no brackets, no port, no zone id), or null. */
export function modelAddress (text: string): Addr | null {
  const raw = rawAddress(text)
  if (raw === null) return null
  if (raw.syntax === 6 && raw.value >> 32n === MAPPED_PREFIX) return { family: 4, value: raw.value & V4_MAX }
  return { family: raw.syntax, value: raw.value }
}

function v6Groups (value: bigint): number[] {
  return Array.from({ length: 8 }, (_, k) => Number((value >> BigInt(112 - 16 * k)) & 0xffffn))
}

export function dotted (value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.')
}

/** Canonical text: dotted decimal for IPv4 (and mapped), RFC 5952 for IPv6 (ipaddr.js formats). */
export function canonicalText (addr: Addr): string {
  return addr.family === 4 ? dotted(addr.value) : new ipaddr.IPv6(v6Groups(addr.value)).toRFC5952String()
}

const PORT = /^[1-9]\d{0,4}$/
export function modelPort (text: string): number | null {
  return PORT.test(text) && Number(text) <= 65535 ? Number(text) : null
}

/**
 * A chain entry by the contract: `a.b.c.d`, `a.b.c.d:port`, bare IPv6,
 * `[IPv6]` or `[IPv6]:port`; the port 1–65535 and dropped.
 */
export function modelEndpoint (entry: string): Addr | null {
  const bracketed = /^\[([^\]]*)\](?::([\s\S]*))?$/.exec(entry)
  let address: string
  let port: string | undefined
  let family: number
  if (bracketed !== null) {
    address = bracketed[1]
    port = bracketed[2]
    family = 6
  } else {
    const parts = entry.split(':')
    if (parts.length === 2) {
      [address, port] = parts
      family = 4
    } else {
      address = entry
      family = parts.length === 1 ? 4 : 6
    }
  }
  if (port !== undefined && modelPort(port) === null) return null
  if (isIP(address) !== family) return null
  return modelAddress(address)
}

/** An address that only differs by a zone id or spelling is the same address. */
export function sameAddress (a: Addr, b: Addr): boolean {
  return a.family === b.family && a.value === b.value
}

// ------------------------------------------------------------- the trust model

export interface Cidr { family: 4 | 6, base: bigint, bits: number }

const LOOPBACK = ['127.0.0.0/8', '::1/128']
const LINKLOCAL = ['169.254.0.0/16', 'fe80::/10']
const UNIQUELOCAL = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
const RANGES = new Map([['loopback', LOOPBACK], ['linklocal', LINKLOCAL], ['uniquelocal', UNIQUELOCAL],
  ['private', [...LOOPBACK, ...LINKLOCAL, ...UNIQUELOCAL]]])

/** The blocks a range name stands for, or undefined (a Map: 'constructor' is not a name). */
export function named (name: string): string[] | undefined {
  return RANGES.get(name)
}

/** The CIDR blocks an allowlist entry stands for (names expanded); throws on a bad entry. */
export function modelCidrs (entry: string): Cidr[] {
  const blocks = named(entry.trim())
  if (blocks !== undefined) return blocks.flatMap(modelCidrs)
  const [text, length] = entry.trim().split('/')
  const raw = rawAddress(text)
  if (raw === null) throw new Error(`model: bad allowlist entry ${entry}`)
  return [{ family: raw.syntax, base: raw.value, bits: length === undefined ? (raw.syntax === 4 ? 32 : 128) : Number(length) }]
}

/** Top `bits` of two `width`-bit values agree. */
function samePrefix (a: bigint, b: bigint, bits: number, width: number): boolean {
  const shift = BigInt(width - bits)
  return a >> shift === b >> shift
}

/** IPv4 ranges match IPv4 (and mapped) addresses; IPv6 ranges match an IPv4 address as ::ffff:a.b.c.d. */
export function inCidr (addr: Addr, cidr: Cidr): boolean {
  if (cidr.family === 4) return addr.family === 4 && samePrefix(addr.value, cidr.base, cidr.bits, 32)
  const value = addr.family === 4 ? (MAPPED_PREFIX << 32n) | addr.value : addr.value
  return samePrefix(value, cidr.base, cidr.bits, 128)
}

export function modelTrusted (cidrs: readonly Cidr[], addr: Addr): boolean {
  return cidrs.some((cidr) => inCidr(addr, cidr))
}

/** Allowlist as given to the plugin: an array, or a comma-separated string. */
export type Allowlist = string | string[]

export function allowlistEntries (allowlist: Allowlist): string[] {
  return typeof allowlist === 'string' ? allowlist.split(',') : allowlist
}

export function allowlistCidrs (allowlist: Allowlist): Cidr[] {
  return allowlistEntries(allowlist).flatMap(modelCidrs)
}

/** A socket peer as Node reports it; its zone id is not part of the match. */
export function peerAddress (peer: string): Addr | null {
  return modelAddress(peer.split('%')[0])
}

// ------------------------------------------------- the RFC 7239 grammar model

export interface ForwardedElement { for?: string, by?: string, host?: string, proto?: string }

// RFC 7230 token and quoted-string (qdtext and quoted-pair, obs-text included).
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+"
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x20-\\x7e\\x80-\\xff])*"'
const PAIR = `${TOKEN}=(?:${TOKEN}|${QUOTED})`
// forwarded-element = forwarded-pair *( ";" forwarded-pair ), no whitespace inside; or nothing
const ELEMENT = new RegExp(`^(?:${PAIR}(?:;${PAIR})*)?$`)
const PAIRS = new RegExp(`(${TOKEN})=(${TOKEN}|${QUOTED})`, 'g')
// An element read backwards (on the reversed text): characters other than
// `"` and `,`, or a quoted string, which read backwards starts at its closing
// quote, holds quotes followed by an odd run of backslashes (escaped ones),
// and ends at a quote followed by an even run (the opening one).
const REVERSED_ELEMENT = /(?:[^",]|"(?:[^"]|"(?=(?:\\\\)*\\(?!\\)))*"(?=(?:\\\\)*(?!\\)))*/y
export const FORWARDED_NAMES = ['for', 'by', 'host', 'proto'] as const

/**
 * Where the element that ends at `end` starts, reading from the right: the
 * comma's index, or -1 when the element is the first (or its quotes do not
 * balance, so the rest is one malformed element).
 */
export function modelElementComma (text: string, end: number): number {
  const reversed = text.slice(0, end).split('').reverse().join('')
  REVERSED_ELEMENT.lastIndex = 0
  REVERSED_ELEMENT.test(reversed)
  const stop = REVERSED_ELEMENT.lastIndex
  return reversed[stop] === ',' ? end - 1 - stop : -1
}

/** One element by the grammar (OWS around it removed): its registered parameters, or null. */
export function modelParseElement (text: string): ForwardedElement | null {
  const body = text.replace(/^[ \t]+|[ \t]+$/g, '')
  if (!ELEMENT.test(body)) return null
  const element: Record<string, string> = {}
  for (const [, name, value] of body.matchAll(PAIRS)) {
    const lower = name.toLowerCase()
    if (!(FORWARDED_NAMES as readonly string[]).includes(lower)) continue
    if (lower in element) return null
    element[lower] = value.startsWith('"') ? value.slice(1, -1).replace(/\\([\s\S])/g, '$1') : value
  }
  return element
}

/**
 * `Forwarded` by the RFC 7239 grammar, written as regular expressions and
 * read from the right: elements (OWS around them, empty ones kept as `{}`),
 * each a `;` separated run of `token=value` pairs with for, by, host and proto
 * at most once. Values unquoted; only registered names kept. Null when any
 * element is malformed.
 */
export function modelParseForwarded (text: string): ForwardedElement[] | null {
  const elements: ForwardedElement[] = []
  for (let end = text.length; end >= 0;) {
    const comma = modelElementComma(text, end)
    const element = modelParseElement(text.slice(comma + 1, end))
    if (element === null) return null
    elements.unshift(element)
    end = comma
  }
  return elements
}

const OBFUSCATED = /^_[A-Za-z0-9._-]+$/

/**
 * An RFC 7239 node: `IPv4[:port]`, `"[IPv6][:port]"`, or a name that is not an
 * address (`unknown`, `_obfuscated`, with an optional port) that ends the walk.
 */
export function modelNode (node: string): Addr | 'hidden' | 'malformed' {
  const m = /^(\[[^\]]*\]|[^:]*)(?::([\s\S]*))?$/.exec(node)
  if (m === null) return 'malformed' // a colon outside brackets more than once: unbracketed IPv6
  const [, name, port] = m
  if (port !== undefined && modelPort(port) === null && !OBFUSCATED.test(port)) return 'malformed'
  if (name.startsWith('[')) {
    const inner = name.slice(1, -1)
    return isIP(inner) === 6 ? modelAddress(inner) ?? 'malformed' : 'malformed'
  }
  if (isIP(name) === 4) return modelAddress(name) ?? 'malformed'
  return name.toLowerCase() === 'unknown' || OBFUSCATED.test(name) ? 'hidden' : 'malformed'
}

// ---------------------------------------------------------- the request model

export type HeaderValue = string | string[]
export type Headers = Record<string, HeaderValue | undefined>

/** Several header lines arrive joined with ', '. */
export function joined (value: HeaderValue | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

/** The elements of a comma list, spaces and tabs around them removed. */
export function listElements (value: string): string[] {
  return value.split(',').map((element) => element.replace(/^[ \t]+|[ \t]+$/g, ''))
}

function rightmost (value: HeaderValue | undefined): string | undefined {
  const text = joined(value)
  return text === undefined ? undefined : listElements(text).pop()
}

const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/
const IP_FUTURE = /^[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/

/** An RFC 3986 host (not empty, no zone id) with an optional port 1–65535. */
export function modelHost (text: string): { hostname: string, port: number | null } | null {
  let hostname: string
  let port: string | undefined
  if (text.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::([\s\S]*))?$/.exec(text)
    if (m === null) return null
    if (!((isIP(m[1]) === 6 && rawAddress(m[1]) !== null) || IP_FUTURE.test(m[1]))) return null
    hostname = `[${m[1]}]`
    port = m[2]
  } else {
    const colon = text.indexOf(':')
    hostname = colon < 0 ? text : text.slice(0, colon)
    port = colon < 0 ? undefined : text.slice(colon + 1)
    if (!REG_NAME.test(hostname)) return null
  }
  if (port === undefined) return { hostname, port: null }
  const number = modelPort(port)
  return number === null ? null : { hostname, port: number }
}

export function modelProto (text: string): 'http' | 'https' | null {
  return /^https?$/i.test(text) ? (text.toLowerCase() as 'http' | 'https') : null
}

const PATH_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/

/** A prefix: one leading `/`, RFC 3986 path characters, no dot segments, no encoded `/`, `\` or control character. */
export function modelPrefix (text: string): string | null {
  if (!text.startsWith('/') || text.startsWith('//')) return null
  if (!PATH_CHARS.test(text) || /%2f|%5c|%[01][0-9a-f]|%7f/i.test(text)) return null
  const dotSegment = text.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.')
    return decoded === '.' || decoded === '..'
  })
  return dotSegment ? null : text.replace(/\/+$/, '')
}

/** Fastify's own reading of the Host header (what the plugin must leave alone). */
export function fastifyHost (host: string): { hostname: string, port: number | null } {
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0]
  const m = /:(\d+)$/.exec(host)
  return { hostname, port: m === null ? null : parseInt(m[1], 10) }
}

export interface ModelConfig {
  cidrs: Cidr[]
  hops: number
  forHeader: string | null
  hostHeader: string | null
  protoHeader: string | null
  portHeader: string | null
  prefixHeader: string | null
  clientIpHeader: string | null
  /** Read RFC 7239 `Forwarded` instead of the for/host/proto headers. */
  forwarded: boolean
}

export interface Expected {
  ip: string
  ips: string[]
  host: string
  hostname: string
  port: number | null
  protocol: 'http' | 'https'
  forwardedPrefix: string
  /** The malformed values a trusted proxy sent: header name → its first offending element. */
  invalid: Map<string, string>
}

/** What the contract says a request resolves to. `received` is the Host header as sent. */
export function modelRequest (config: ModelConfig, peer: string, headers: Headers, received: string): Expected {
  const original = fastifyHost(received)
  const result: Expected = {
    ip: peer,
    ips: [peer],
    host: received,
    hostname: original.hostname,
    port: original.port,
    protocol: 'http',
    forwardedPrefix: '',
    invalid: new Map()
  }
  const peerAddr = peerAddress(peer)
  if (peerAddr === null || !modelTrusted(config.cidrs, peerAddr)) return result
  const get = (name: string | null): HeaderValue | undefined => (name === null ? undefined : headers[name])
  // The first malformed value of each header is the one a 400 quotes.
  const mark = (header: string, value: string): void => {
    if (!result.invalid.has(header)) result.invalid.set(header, value)
  }

  let forwardedHost: { hostname: string, port: number | null } | null = null
  const readHost = (header: string, text: string): void => {
    forwardedHost = modelHost(text)
    if (forwardedHost === null) mark(header, text)
  }
  const readProto = (header: string, text: string): void => {
    const protocol = modelProto(text)
    if (protocol === null) mark(header, text)
    else result.protocol = protocol
  }

  if (config.forwarded) {
    // From the right, element by element, only as far as the walk goes.
    const text = joined(headers.forwarded)
    let client: ForwardedElement | null = null
    let proxies = 1
    for (let end = text === undefined ? -1 : text.length; end >= 0;) {
      const value = text as string
      const comma = modelElementComma(value, end)
      const element = modelParseElement(value.slice(comma + 1, end))
      if (element === null) {
        mark('forwarded', value.slice(comma + 1, end).replace(/^[ \t]+|[ \t]+$/g, ''))
        break
      }
      const node = element.for === undefined ? null : modelNode(element.for)
      if (node === null || node === 'hidden') break
      if (node === 'malformed') {
        mark('forwarded', element.for as string)
        break
      }
      result.ip = canonicalText(node)
      result.ips.push(result.ip)
      client = element
      if (comma < 0 || proxies >= config.hops || !modelTrusted(config.cidrs, node)) break
      proxies++
      end = comma
    }
    if (client?.host !== undefined) readHost('forwarded', client.host)
    if (client?.proto !== undefined) readProto('forwarded', client.proto)
  } else if (config.clientIpHeader !== null) {
    const text = joined(get(config.clientIpHeader))
    if (text !== undefined) {
      const addr = modelEndpoint(text.replace(/^[ \t]+|[ \t]+$/g, ''))
      if (addr === null) {
        mark(config.clientIpHeader, text)
      } else {
        result.ip = canonicalText(addr)
        result.ips.push(result.ip)
      }
    }
  } else {
    const text = joined(get(config.forHeader))
    if (text !== undefined) {
      const entries = listElements(text)
      let proxies = 1 // the peer
      for (let i = entries.length - 1; i >= 0; i--) {
        const addr = modelEndpoint(entries[i])
        if (addr === null) {
          mark(config.forHeader as string, entries[i])
          break
        }
        result.ip = canonicalText(addr)
        result.ips.push(result.ip)
        if (i === 0 || proxies >= config.hops || !modelTrusted(config.cidrs, addr)) break
        proxies++
      }
    }
  }

  if (!config.forwarded) {
    const hostText = rightmost(get(config.hostHeader))
    if (hostText !== undefined) readHost(config.hostHeader as string, hostText)
    const protoText = rightmost(get(config.protoHeader))
    if (protoText !== undefined) readProto(config.protoHeader as string, protoText)
  }
  let forwardedPort: number | null = null
  const portText = rightmost(get(config.portHeader))
  if (portText !== undefined) {
    forwardedPort = modelPort(portText)
    if (forwardedPort === null) mark(config.portHeader as string, portText)
  }
  const prefixText = rightmost(get(config.prefixHeader))
  if (prefixText !== undefined) {
    const prefix = modelPrefix(prefixText)
    if (prefix === null) mark(config.prefixHeader as string, prefixText)
    else result.forwardedPrefix = prefix
  }

  const host = forwardedHost as { hostname: string, port: number | null } | null
  if (host !== null || forwardedPort !== null) {
    result.hostname = host?.hostname ?? original.hostname
    result.port = forwardedPort ?? host?.port ?? null
    result.host = result.port === null ? result.hostname : `${result.hostname}:${result.port}`
  }
  return result
}

// ------------------------------------------------------------------ generators

export const ows = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('', '', '', '', ' ', '\t', '  ', ' \t ') },
  // Runs past the parsers' short loops, which hand long ones to native scans.
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(' ', '\t'), minLength: 7, maxLength: 40 }) }
)

const v4Any = fc.bigInt({ min: 0n, max: V4_MAX })
const v6Any = fc.bigInt({ min: 0n, max: V6_MAX })
/** IPv6 values near the interesting places: documentation, link-local, ULA, loopback, mapped, v4-compatible. */
const v6Value = fc.oneof(
  v6Any,
  fc.tuple(fc.constantFrom(0x20010db8n << 96n, 0xfe80n << 112n, 0xfc00n << 112n, 0xfd12n << 112n, 0n, MAPPED_PREFIX << 32n),
    fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }), fc.constantFrom(96n, 64n, 32n, 16n, 8n))
    .map(([base, low, keep]) => base | (low & ((1n << keep) - 1n)))
)

export const anyAddr: fc.Arbitrary<Addr> = fc.oneof(
  v4Any.map((value): Addr => ({ family: 4, value })),
  v6Value.map((value): Addr => (value >> 32n === MAPPED_PREFIX ? { family: 4, value: value & V4_MAX } : { family: 6, value }))
)

function compressRun (groups: string[], start: number, length: number): string {
  return groups.slice(0, start).join(':') + '::' + groups.slice(start + length).join(':')
}

function zeroRuns (parts: number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  for (let i = 0; i < parts.length;) {
    if (parts[i] !== 0) { i++; continue }
    let j = i
    while (j < parts.length && parts[j] === 0) j++
    runs.push([i, j - i])
    i = j
  }
  return runs
}

function randomCase (text: string, bits: number): string {
  let out = ''
  for (let k = 0; k < text.length; k++) out += (bits >>> (k % 31)) & 1 ? text[k].toUpperCase() : text[k]
  return out
}

/** Writes a 128-bit value in one of the text forms RFC 4291 allows. */
function spellV6 (value: bigint, style: number, bits: number): string {
  const parts = v6Groups(value)
  const hex = parts.map((p) => p.toString(16))
  const runs = zeroRuns(parts)
  switch (style % 6) {
    case 0: return new ipaddr.IPv6(parts).toRFC5952String()
    case 1: return hex.join(':')
    case 2: return parts.map((p) => p.toString(16).padStart(4, '0')).join(':')
    case 3: { // any zero run compressed, not only the longest
      if (runs.length === 0) return randomCase(hex.join(':'), bits)
      const [start, length] = runs[bits % runs.length]
      return randomCase(compressRun(hex, start, length), bits)
    }
    case 4: { // the last 32 bits as dotted decimal
      const head = hex.slice(0, 6)
      const headRuns = zeroRuns(parts.slice(0, 6))
      const tail = dotted(value & V4_MAX)
      if (headRuns.length > 0 && bits % 2 === 0) {
        const [start, length] = headRuns[(bits >>> 1) % headRuns.length]
        const left = head.slice(0, start).join(':')
        const right = head.slice(start + length).join(':')
        return `${left}::${right}${right === '' ? '' : ':'}${tail}`
      }
      return `${head.join(':')}:${tail}`
    }
    default: return randomCase(new ipaddr.IPv6(parts).toRFC5952String(), bits)
  }
}

/** An address in one of its spellings; IPv4 also as IPv4-mapped IPv6. */
export function spell (addr: Addr, style: number, bits: number): string {
  if (addr.family === 6) return spellV6(addr.value, style, bits)
  if (style % 4 !== 3) return dotted(addr.value)
  return spellV6((MAPPED_PREFIX << 32n) | addr.value, bits, bits >>> 3)
}

export const spelling = fc.tuple(fc.nat(), fc.nat())

export const validPort = fc.integer({ min: 1, max: 65535 }).map(String)
export const badPort = fc.constantFrom('0', '65536', '99999', '080', '', 'x', '-1', '1 ', '８０')

/** An address as a proxy writes it in a chain: maybe bracketed, maybe with a port (rarely a bad one). */
export function entryFor (addr: fc.Arbitrary<Addr>): fc.Arbitrary<string> {
  return fc.tuple(addr, spelling, fc.nat({ max: 39 }), fc.oneof({ weight: 19, arbitrary: validPort }, { weight: 1, arbitrary: badPort }))
    .map(([a, [style, bits], wrap, port]) => {
      const text = spell(a, style, bits)
      const v6 = text.includes(':')
      if (wrap < 20) return text
      if (wrap < 31) return v6 ? `[${text}]:${port}` : `${text}:${port}`
      if (wrap < 39) return v6 ? `[${text}]` : text
      return v6 ? `[${text}]:` : `[${text}]` // malformed on purpose
    })
}

/** Things that look like chain entries and are not. */
export const junkEntry = fc.oneof(
  fc.constantFrom('unknown', '', '_hidden', '1.2.3', '010.0.0.1', '1.2.3.4.5', 'fe80::1%eth0', '[fe80::1%25eth0]',
    '[::1', '::1]', '1.2.3.4:', '[1.2.3.4]', ':::', 'localhost', '0x7f.0.0.1', '167772161', '1.2.3.256',
    '[::1]:0', '1.2.3.4:080', 'for=1.2.3.4', '"1.2.3.4"', '1.2.3.4 x', '::ffff:1.2.3.4:80', '1::2::3',
    '12345::', '1:2:3:4:5:6:7:8:9', '::1.2.3.4', '1.2.3.4\u0000', '\u00a01.2.3.4', '١.٢.٣.٤'),
  fc.string({ maxLength: 12 }),
  fc.tuple(entryFor(anyAddr), fc.nat(), fc.string({ minLength: 1, maxLength: 2 }), fc.boolean())
    .map(([entry, at, piece, remove]) => {
      const i = at % (entry.length + 1)
      return remove ? entry.slice(0, i) + entry.slice(i + 1) : entry.slice(0, i) + piece + entry.slice(i)
    })
)

/** A comma list from elements, spaces or tabs around each separator. */
export function list (elements: fc.Arbitrary<string>, maxLength = 6): fc.Arbitrary<string> {
  return fc.array(fc.tuple(ows, elements, ows), { minLength: 1, maxLength })
    .map((parts) => parts.map(([a, e, b]) => a + e + b).join(','))
}

/** A value sent once, or as several header lines. */
export function lines (value: fc.Arbitrary<string>): fc.Arbitrary<HeaderValue> {
  return fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: fc.array(value, { minLength: 1, maxLength: 3 }) })
}

/** A random address inside one of the blocks. */
export function inside (cidrs: readonly Cidr[]): fc.Arbitrary<Addr> {
  return fc.tuple(fc.nat({ max: cidrs.length - 1 }), fc.bigInt({ min: 0n, max: V6_MAX })).map(([k, random]) => {
    const cidr = cidrs[k]
    const width = cidr.family === 4 ? 32 : 128
    const hostBits = BigInt(width - cidr.bits)
    const value = ((cidr.base >> hostBits) << hostBits) | (random & ((1n << hostBits) - 1n))
    if (cidr.family === 4) return { family: 4, value }
    return value >> 32n === MAPPED_PREFIX ? { family: 4, value: value & V4_MAX } : { family: 6, value }
  })
}

/** An address just outside one of the blocks (one below its first or above its last address). */
export function edge (cidrs: readonly Cidr[]): fc.Arbitrary<Addr> {
  return fc.tuple(fc.nat({ max: cidrs.length - 1 }), fc.boolean(), anyAddr).map(([k, below, fallback]) => {
    const cidr = cidrs[k]
    const width = cidr.family === 4 ? 32 : 128
    const max = cidr.family === 4 ? V4_MAX : V6_MAX
    const hostBits = BigInt(width - cidr.bits)
    const first = (cidr.base >> hostBits) << hostBits
    const last = first + (1n << hostBits) - 1n
    const value = below ? (first > 0n ? first - 1n : last + 1n) : (last < max ? last + 1n : first - 1n)
    if (value < 0n || value > max) return fallback // a /0 has no outside
    if (cidr.family === 4) return { family: 4, value }
    return value >> 32n === MAPPED_PREFIX ? { family: 4, value: value & V4_MAX } : { family: 6, value }
  })
}

/** One allowlist entry: a CIDR of random length (host bits and all), an address, or a name. */
export const allowEntry: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(v4Any, fc.oneof(fc.integer({ min: 8, max: 32 }), fc.integer({ min: 0, max: 32 }))).map(([v, bits]) => `${dotted(v)}/${bits}`) },
  // (An IPv4-mapped address takes a prefix of 96 or more: under 96 the plugin refuses it.)
  { weight: 3, arbitrary: fc.tuple(v6Value, fc.oneof(fc.integer({ min: 32, max: 128 }), fc.integer({ min: 0, max: 128 })), spelling).map(([v, bits, [style, b]]) => `${spellV6(v, style, b)}/${v >> 32n === MAPPED_PREFIX && bits < 96 ? 96 + bits % 33 : bits}`) },
  { weight: 2, arbitrary: fc.tuple(anyAddr, spelling).map(([a, [style, b]]) => spell(a, style, b)) },
  { weight: 2, arbitrary: fc.constantFrom('loopback', 'linklocal', 'uniquelocal', 'private') }
)

export const allowlist: fc.Arbitrary<Allowlist> = fc.tuple(fc.array(allowEntry, { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([entries, asString]) => (asString ? entries.join(', ') : entries))

/** A peer as a Node socket reports it: dotted, ::ffff:dotted on dual-stack, RFC 5952, maybe a zone id. */
export function peerText (addr: Addr, style: number): string {
  if (addr.family === 4) return style % 3 === 0 ? `::ffff:${dotted(addr.value)}` : dotted(addr.value)
  const text = new ipaddr.IPv6(v6Groups(addr.value)).toRFC5952String()
  return style % 7 === 0 ? `${text}%eth0` : text
}

/** Header values that are nothing like what proxies send. */
export const hostile: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }), // lone surrogates too
  fc.string({ unit: fc.constantFrom(',', ' ', '\t', ':', '[', ']', '.', '%', '"', ';', '=', '/', '\\', '0', '1', 'f', '_', '\u0000', '\u007f', '\u00ff', '\ud800'), maxLength: 40 }),
  fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1000, max: 16384 }))
    .map(([piece, size]) => piece.repeat(Math.ceil(size / piece.length)).slice(0, size)),
  fc.integer({ min: 1000, max: 5000 }).map((n) => ','.repeat(n)),
  fc.integer({ min: 500, max: 3000 }).map((n) => Array.from({ length: n }, (_, k) => `10.0.${(k >> 8) & 255}.${k & 255}`).join(', '))
)

const label = fc.string({ unit: fc.constantFrom('a', 'b', 'z', 'Q', '0', '9', '-', '_', '~', '%41', '!'), minLength: 1, maxLength: 8 })
/** Hosts a proxy would forward: names, IPv4, bracketed IPv6, with or without a port. */
export const validHost = fc.tuple(
  fc.oneof(fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')),
    fc.array(label, { minLength: 10, maxLength: 30 }).map((labels) => labels.join('.')), // long names take the native path
    anyAddr.map((addr) => (addr.family === 4 ? dotted(addr.value) : `[${spellV6(addr.value, 0, 0)}]`))),
  fc.option(validPort, { nil: undefined })
).map(([name, port]) => (port === undefined ? name : `${name}:${port}`))

export const hostValue = fc.oneof(
  { weight: 2, arbitrary: validHost },
  {
    weight: 1,
    arbitrary: fc.constantFrom('example.com', 'Shop.Example.COM:8443', '[2001:db8::1]', '[::1]:443', '127.0.0.1:3000', 'a', 'xn--bcher-kva.example',
      '[v1.x]', 'host%41', 'ex_ample.com:65535', '', ':80', 'example.com:', 'example.com:0', 'a b', 'a/b', '[fe80::1%25eth0]',
      'example.com:65536', '[::1', 'user@host', 'example.com:080')
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '.', '_', '~', '%', '4', '1', ':', '[', ']', '!', '@', '/', ' '), maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '.', '~', '%', '4', '1', ':', '[', ']', 'v', '@', ' '), minLength: 60, maxLength: 100 }) }
)
export const protoValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('http', 'https', 'HTTPS', 'Http') },
  { weight: 1, arbitrary: fc.constantFrom('ws', 'https ', '', 'httpss', 'ftp', 'https:') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) })
export const portValue = fc.oneof(validPort, badPort, fc.string({ maxLength: 6 }))
export const prefixValue = fc.oneof(
  fc.constantFrom('/', '/app', '/app/', '/a/b/', '//evil', '/a/../b', '/a/%2e%2E/b', '/a/./b', '/.', '/a%2fb', '/a%5Cb', '/a\\b',
    'app', '', '/a b', '/%zz', '/a//b', '/%2e', '/..x', '/a;b=c', '/@:x'),
  fc.string({ unit: fc.constantFrom('/', '.', 'a', '%', '2', 'e', 'E', 'f', '5', 'c', '\\', ':', '@', ' ', '~'), maxLength: 12 })
)

/** Header names a configuration may use; the generated requests send any of them. */
export const HEADER_NAMES = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix',
  'x-chain', 'x-real-ip', 'forwarded'] as const

/** Plugin options (header part) and the model's view of them. */
export interface Setup {
  options: {
    trustedProxies: Allowlist
    hops?: number
    headers: Record<string, string | false>
    clientIpHeader?: string
    forwarded?: boolean
    onInvalid: 'ignore' | 'reject'
  }
  model: ModelConfig
}

export const setup: fc.Arbitrary<Setup> = fc.record({
  trustedProxies: allowlist,
  hops: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  forName: fc.constantFrom<string | false | undefined>(undefined, undefined, 'X-Chain', false),
  host: fc.constantFrom<string | false | undefined>(undefined, false),
  proto: fc.constantFrom<string | false | undefined>(undefined, false),
  port: fc.constantFrom<string | false | undefined>(undefined, 'x-forwarded-port', 'X-Forwarded-Port'),
  prefix: fc.constantFrom<string | false | undefined>(undefined, 'x-forwarded-prefix'),
  clientIpHeader: fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'X-Real-IP'),
  forwarded: fc.boolean(),
  onInvalid: fc.constantFrom<'ignore' | 'reject'>('ignore', 'reject')
}).map((s): Setup => {
  const forwarded = s.forwarded && s.clientIpHeader === undefined // the two cannot be combined
  const headers: Record<string, string | false> = {}
  if (s.forName !== undefined) headers.for = s.forName
  if (s.host !== undefined) headers.host = s.host
  if (s.proto !== undefined) headers.proto = s.proto
  if (s.port !== undefined) headers.port = s.port
  if (s.prefix !== undefined) headers.prefix = s.prefix
  const name = (given: string | false | undefined, fallback: string | null): string | null =>
    given === undefined ? fallback : given === false ? null : given.toLowerCase()
  return {
    options: {
      trustedProxies: s.trustedProxies,
      ...(s.hops === undefined ? {} : { hops: s.hops }),
      headers,
      ...(s.clientIpHeader === undefined ? {} : { clientIpHeader: s.clientIpHeader }),
      ...(forwarded ? { forwarded } : {}),
      onInvalid: s.onInvalid
    },
    model: {
      cidrs: allowlistCidrs(s.trustedProxies),
      hops: s.hops ?? Infinity,
      forHeader: name(s.forName, 'x-forwarded-for'),
      hostHeader: name(s.host, 'x-forwarded-host'),
      protoHeader: name(s.proto, 'x-forwarded-proto'),
      portHeader: name(s.port, null),
      prefixHeader: name(s.prefix, null),
      clientIpHeader: s.clientIpHeader === undefined ? null : s.clientIpHeader.toLowerCase(),
      forwarded
    }
  }
})

const TOKEN_ONLY = new RegExp(`^${TOKEN}$`)

/** A parameter value as a proxy writes it: a token when it can be, else (or at random) a quoted-string. */
function forwardedValue (value: string, quote: boolean, escapeAll: boolean): string {
  if (!quote && TOKEN_ONLY.test(value)) return value
  let out = '"'
  for (const c of value) out += escapeAll || c === '"' || c === '\\' ? `\\${c}` : c
  return `${out}"`
}

/** A `for=`/`by=` node: an address (IPv6 bracketed), maybe with a port, a hidden name, or junk. */
export function forwardedNode (addr: fc.Arbitrary<Addr>): fc.Arbitrary<string> {
  const port = fc.oneof({ weight: 8, arbitrary: validPort }, { weight: 1, arbitrary: fc.constantFrom('_p1', '_x-y.z', '_') }, { weight: 1, arbitrary: badPort })
  return fc.oneof(
    {
      weight: 16,
      arbitrary: fc.tuple(addr, spelling, fc.option(port, { freq: 2, nil: undefined })).map(([a, [style, bits], p]) => {
        const text = spell(a, style, bits)
        const node = text.includes(':') ? `[${text}]` : text
        return p === undefined ? node : `${node}:${p}`
      })
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('unknown', 'UNKNOWN', '_hidden', '_a.b-c', 'unknown:80', '_x:_y', '_', 'unknown:0',
        '2001:db8::1', '[1.2.3.4]', '[fe80::1%25eth0]', '', '1.2.3', 'localhost', '[::1', '1.2.3.4:', '[2001:db8::1]:_')
    },
    { weight: 1, arbitrary: junkEntry }
  )
}

/** An RFC 7239 element: parameters in any order and case; now and then no `for`, or a name given twice. */
export function forwardedElement (addr: fc.Arbitrary<Addr>): fc.Arbitrary<string> {
  const valueFor = (name: string): fc.Arbitrary<string> => name === 'for' || name === 'by'
    ? forwardedNode(addr)
    : name === 'host' ? hostValue : name === 'proto' ? protoValue : fc.string({ maxLength: 6 })
  const others = fc.uniqueArray(fc.constantFrom<string>('by', 'host', 'proto', 'secret', 'x-id'), { maxLength: 3 })
  const shape = fc.tuple(others, fc.nat({ max: 19 }), fc.nat({ max: 19 })).map(([names, forAt, twice]) => {
    const order = [...names]
    if (forAt < 18) order.splice(forAt % (order.length + 1), 0, 'for') // 1 in 10 without for=
    if (twice === 0 && order.length > 0) order.push(order[forAt % order.length]) // 1 in 20 with a duplicate
    return order
  })
  const escapeAll = fc.nat({ max: 7 }).map((n) => n === 0)
  return shape.chain((names) => fc.tuple(...names.map((name) => fc.tuple(valueFor(name), fc.nat(), fc.boolean(), escapeAll)))
    .map((values) => values.map(([value, bits, quote, escapeAll], k) =>
      `${randomCase(names[k], bits)}=${forwardedValue(value, quote, escapeAll)}`).join(';')))
}

/** A whole `Forwarded` value: elements, OWS around commas, now and then an empty element. */
export function forwardedHeader (addr: fc.Arbitrary<Addr>): fc.Arbitrary<string> {
  return list(fc.oneof({ weight: 12, arbitrary: forwardedElement(addr) }, { weight: 1, arbitrary: fc.constant('') }), 5)
}

/** Headers a request may carry: each forwarded header absent, plausible, or hostile. */
export function requestHeaders (chainEntry: fc.Arbitrary<string>, hostileWeight: number, forwarded: fc.Arbitrary<string>): fc.Arbitrary<Headers> {
  const value = (plausible: fc.Arbitrary<string>): fc.Arbitrary<HeaderValue | undefined> => fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: lines(plausible) },
    { weight: hostileWeight, arbitrary: lines(hostile) }
  )
  const chain = list(fc.oneof({ weight: 6, arbitrary: chainEntry }, { weight: 1, arbitrary: junkEntry }))
  return fc.record({
    'x-forwarded-for': value(chain),
    'x-forwarded-host': value(list(hostValue, 2)),
    'x-forwarded-proto': value(list(protoValue, 2)),
    'x-forwarded-port': value(list(portValue, 2)),
    'x-forwarded-prefix': value(list(prefixValue, 2)),
    'x-chain': value(chain),
    'x-real-ip': value(fc.oneof(chainEntry, junkEntry, list(chainEntry, 2))),
    forwarded: value(forwarded)
  }).map((headers) => {
    const out: Headers = {}
    for (const [name, v] of Object.entries(headers)) if (v !== undefined) out[name] = v
    return out
  })
}

/** The Host header of a request (inject sends one unless told otherwise). */
export const receivedHost = fc.constantFrom('app.internal:3000', 'app.internal', '[::1]:8080', '127.0.0.1', 'Example.com:443', 'h:1:2')
