// Resolving one request: who the client is, and what host, port, protocol
// and prefix it asked for, from the headers of trusted proxies only.

import { canonical, endpoint, isObfuscated, scanEndpoint, scanIP, scanPort } from './address'
import { headerText, hostnameOf, hostPart, previousElement, previousQuad, scanHost, scanPrefix, scanProto, requestHost, span, type HeaderValue } from './headers'
import { copyNotes, escapedIn, FOR_AT, HOST_AT, parameter, PROTO_AT, scanForwarded, valueIn, walkWasCut, type ForwardedNotes } from './forwarded'
import { charClass, forgetText, pairEnd, runEnd, unescapeQuoted } from './scan'
import type { Config } from './options'
import type { TrustMatcher } from './trust'

export type RequestHeaders = Record<string, HeaderValue>

/** A malformed value from a trusted proxy: the header (lower case) and the offending value. */
export interface InvalidValue {
  header: string
  value: string
}

/** What a trusted peer's headers say. `null` (or `undefined` for `port`) means "as received". */
export class Resolution {
  ip: string
  host: string | null = null
  hostname: string | null = null
  port: number | null | undefined = undefined
  protocol: 'http' | 'https' | null = null
  prefix = ''
  invalid: InvalidValue | null = null
  /** How many addresses the walk took from the headers (the client among them). */
  walked = 0
  /** The address chain header those addresses were read from, right to left. */
  chain: string | null = null
  /** Or the Forwarded header whose elements they are, right to left. */
  forwarded: string | null = null
  readonly peer: string
  private list: string[] | null = null

  constructor (peer: string) {
    this.peer = peer
    this.ip = peer
  }

  /** The addresses walked, nearest first: `[peer, …, client]`. Built on first
   *  read: most applications never read it, so the walk itself keeps no list. */
  get ips (): string[] {
    if (this.list === null) {
      if (this.chain !== null) this.list = chainAddresses(this.peer, this.chain, this.walked)
      else if (this.forwarded !== null) this.list = forwardedAddresses(this.peer, this.forwarded, this.walked)
      else this.list = this.walked === 0 ? [this.peer] : [this.peer, this.ip] // clientIpHeader
    }
    return this.list
  }
}

/** The peer and the `count` rightmost entries of an address chain, canonical. */
function chainAddresses (peer: string, chain: string, count: number): string[] {
  const list = [peer]
  let end = chain.length
  for (let k = 0; k < count; k++) {
    if (!previousQuad(chain, end)) {
      previousElement(chain, end)
      scanEndpoint(chain, span.start, span.end)
    }
    list.push(canonical(chain, endpoint.start, endpoint.end))
    end = span.comma
  }
  return list
}

/** The peer and the `count` rightmost `for` addresses of a Forwarded header
 *  (all of them walked, so all addresses), canonical. */
function forwardedAddresses (peer: string, value: string, count: number): string[] {
  const list = [peer]
  const noted = scanForwarded(value)
  for (let k = 0; k < count; k++) list.push(forAddress(value, noted - 1 - k))
  return list
}

/** The canonical address that the `for` of the k-th noted element names
 *  (the walk took it, so it is one). */
function forAddress (value: string, k: number, notes?: ForwardedNotes): string {
  forKind(value, k, notes)
  return canonical(parameter.text, endpoint.start, endpoint.end)
}

/** Whether the address just scanned is trusted at `hop` (the matcher reads it
 *  from `parsed`). A user's function gets its canonical text, `address`, and
 *  trusts only when it returns `true`. */
function trusts (config: Config, address: string, hop: number): boolean {
  if (config.trustFunction !== null) return config.trustFunction(address, hop) === true
  return (config.matcher as TrustMatcher).matches()
}

/** The entry just scanned from text[start, end) at `hop`: null when it is a
 *  trusted proxy, else its canonical text (it is the client). Only a user's
 *  trust function makes a proxy's address into a string. */
function clientAt (config: Config, text: string, start: number, end: number, hop: number): string | null {
  if (config.trustFunction === null) return (config.matcher as TrustMatcher).matches() ? null : canonical(text, start, end)
  const address = canonical(text, start, end)
  return config.trustFunction(address, hop) === true ? null : address
}

/** Whether the socket peer is trusted. A zone id (`fe80::1%eth0`) is not part of the match. */
export function isTrustedPeer (config: Config, peer: string): boolean {
  // One proxy sends most requests, and a keep-alive socket reports the same
  // string every time: remember the last answer of the allowlist.
  if (peer === lastPeer && config.matcher === lastMatcher && config.matcher !== null) return lastPeerTrusted
  const trusted = scanTrustedPeer(config, peer)
  if (config.matcher !== null) {
    lastPeer = peer
    lastMatcher = config.matcher
    lastPeerTrusted = trusted
  }
  return trusted
}

let lastPeer = ''
let lastMatcher: Config['matcher'] = null
let lastPeerTrusted = false

function scanTrustedPeer (config: Config, peer: string): boolean {
  const zone = peer.indexOf('%')
  const end = zone < 0 ? peer.length : zone
  if (!scanIP(peer, 0, end)) return false
  return trusts(config, config.trustFunction === null ? '' : canonical(peer, 0, end), 0)
}

/** Marks the first malformed value. With `start`, a quoted value with
 *  escapes, value[start, end) as written between its quotes: `invalid.value`
 *  unescapes it when it is first read (the walk judged it as written). */
function markInvalid (result: Resolution, header: string, value: string, start = -1, end = -1): void {
  if (result.invalid !== null) return
  if (start < 0) {
    result.invalid = { header, value }
    return
  }
  let unescaped: string | null = null
  result.invalid = Object.defineProperty({ header }, 'value', {
    enumerable: true,
    get: () => (unescaped ??= unescapeQuoted(value, start, end)),
    set: (replaced: string) => { unescaped = replaced }
  }) as InvalidValue
}

/**
 * Walks the address chain from the right: trusted entries are stepped over.
 * Only the client's address is made into a string; the entries stepped over
 * are matched as numbers and listed only if `ips` is read.
 */
function walkChain (config: Config, result: Resolution, header: string, value: string): void {
  result.chain = value
  let end = value.length
  let previousStart = 0
  let previousEnd = 0
  while (true) {
    // Most entries are plain IPv4: one backward pass; anything else the general way.
    const quad = previousQuad(value, end)
    if (!quad) previousElement(value, end)
    // Kept in locals: a user's trust function may call into this module again.
    const comma = span.comma
    const start = span.start
    const stop = span.end
    if (!quad && !scanEndpoint(value, start, stop)) {
      markInvalid(result, header, value.slice(start, stop))
      // The client is the last valid address walked (the peer when there is none).
      if (result.walked > 0 && scanEndpoint(value, previousStart, previousEnd)) result.ip = canonical(value, endpoint.start, endpoint.end)
      return
    }
    const hop = ++result.walked
    if (comma < 0 || hop >= config.hops) {
      result.ip = canonical(value, endpoint.start, endpoint.end)
      return
    }
    const client = clientAt(config, value, endpoint.start, endpoint.end, hop)
    if (client !== null) {
      result.ip = client
      return
    }
    previousStart = start
    previousEnd = stop
    end = comma
  }
}

/** The client from a single-address header such as CF-Connecting-IP. */
function readClientHeader (result: Resolution, header: string, value: string): void {
  let a = 0
  let b = value.length
  while (a < b && (value.charCodeAt(a) === 32 || value.charCodeAt(a) === 9)) a++
  while (b > a && (value.charCodeAt(b - 1) === 32 || value.charCodeAt(b - 1) === 9)) b--
  if (!scanEndpoint(value, a, b)) {
    markInvalid(result, header, value)
    return
  }
  result.ip = canonical(value, endpoint.start, endpoint.end)
  result.walked = 1
}

/** A forwarded host (with optional port) in text[start, end): sets host, hostname and port, or marks it malformed. */
function readHost (result: Resolution, header: string, text: string, start: number, end: number): void {
  const whole = start === 0 && end === text.length
  if (!scanHost(text, start, end)) {
    markInvalid(result, header, text.slice(start, end))
    return
  }
  const host = whole ? text : text.slice(start, end)
  result.host = host
  result.hostname = hostPart.end === end ? host : text.slice(start, hostPart.end)
  result.port = hostPart.port
  // Only what an X-Forwarded-Host value read whole can be: a Forwarded host
  // is quoted and may hold a comma, which a list header would split at. And
  // only a name of a sensible length, so that the comparison stays cheap (a
  // remembered 16 KB name would be compared in full with every 16 KB value).
  if (whole && end <= REMEMBERED_HOST && text.indexOf(',') < 0) {
    lastHost = text
    lastHostname = result.hostname
    lastPort = result.port
  }
}

/**
 * An application serves a few host names, so most requests repeat the last
 * one: a value equal to the last valid one read whole is not scanned again.
 * (A value read whole is one list element with nothing around it, so an
 * equal value needs no search for commas either.)
 */
function rememberedHost (result: Resolution, text: string): boolean {
  if (text !== lastHost) return false
  result.host = text
  result.hostname = lastHostname
  result.port = lastPort
  return true
}

// DNS names have at most 253 characters; a port and brackets add a few.
const REMEMBERED_HOST = 300
let lastHost: string | null = null
let lastHostname = ''
let lastPort: number | null = null

function readProto (result: Resolution, header: string, text: string, start: number, end: number): void {
  result.protocol = scanProto(text, start, end)
  if (result.protocol === null) markInvalid(result, header, text.slice(start, end))
}

/** What a Forwarded `for=` names: an address (left in `parsed`/`endpoint`), a
 *  legitimate non-address (`unknown`, `_obfuscated`), or something malformed. */
const ADDRESS = 0
const HIDDEN = 1
const MALFORMED = 2
// Malformed, judged as written (escapedKind): `parameter` holds it so.
const MALFORMED_AS_WRITTEN = 3

function isHiddenName (text: string, start: number, end: number): boolean {
  return (end - start === 7 && text.slice(start, end).toLowerCase() === 'unknown') || isObfuscated(text, start, end)
}

/** The first `:` in text[start, end), or -1. (A value is searched alone: a
 *  search in the whole header would read past it, on every element.) */
function colonIn (text: string, start: number, end: number): number {
  if (end - start > 32) {
    const at = text.slice(start, end).indexOf(':')
    return at < 0 ? -1 : start + at
  }
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 58) return i
  return -1
}

/** What the `for` value text[start, end) names. */
function classifyNode (text: string, start: number, end: number): number {
  if (start < end && text.charCodeAt(start) === 91) return scanEndpoint(text, start, end, true) ? ADDRESS : MALFORMED
  // Outside brackets only IPv4 (or a name) with one optional port: IPv6 must be bracketed.
  const colon = colonIn(text, start, end)
  if (colon >= 0 && colonIn(text, colon + 1, end) >= 0) return MALFORMED
  if (scanEndpoint(text, start, end, true)) return ADDRESS
  const nameEnd = colon < 0 ? end : colon
  if (!isHiddenName(text, start, nameEnd)) return MALFORMED
  // The port of a hidden node must still be a port: digits or an obfuscated name.
  if (colon < 0 || scanPort(text, colon + 1, end) > 0) return HIDDEN
  if (isObfuscated(text, colon + 1, end)) return HIDDEN
  return MALFORMED
}

// A `for` value with escapes longer than this is judged as written.
const LONG_ESCAPED = 64
const BACKSLASH = 92
const BACKSLASHES = /\\/g
// What a hidden node may hold (name, colon, port), and `\`.
const ESCAPED_NODE = charClass(/[A-Za-z0-9._\-:\\]/)

/**
 * What the `for` value of the k-th noted element names. For an address,
 * `parameter.text` is a text it is in and `endpoint` says where; for
 * MALFORMED_AS_WRITTEN, `parameter` holds the value as written.
 */
function forKind (value: string, k: number, notes?: ForwardedNotes): number {
  if (escapedIn(value, k, FOR_AT, notes)) {
    const kind = escapedKind(parameter.text, parameter.start, parameter.end)
    if (kind >= 0) return kind
  }
  valueIn(value, k, FOR_AT, notes)
  return classifyNode(parameter.text, parameter.start, parameter.end)
}

/**
 * What a long `for` value with escapes names, judged as written, text[start,
 * end) between its quotes; -1 when it is short or opens with `[` (IPv6):
 * then the caller unescapes it and classifies that. Else a hostile 16 KB
 * value would be unescaped into a new string, copied and scanned again.
 *
 * Nothing but `unknown` or an obfuscated name, IPv4, a colon and a port
 * (digits or an obfuscated name) makes a node outside brackets, so a value
 * with anything else, or with `\\` (an escaped `\`), is malformed. Without
 * them, each `\` escapes the character after it: unescaping only drops the
 * `\`s, so the colon, the name and the port can be found as written. Only
 * an IPv4 name is unescaped then (it is short: 64 characters written at
 * most), and left in `parameter` for the walk.
 */
function escapedKind (text: string, start: number, end: number): number {
  if (end - start <= LONG_ESCAPED) return -1
  if (firstCharacter(text, start) === 91) return -1
  if (runEnd(ESCAPED_NODE, text, start, end) < end || pairEnd(BACKSLASH, text, start, end) < end) return MALFORMED_AS_WRITTEN
  const colon = colonIn(text, start, end)
  // Without a port: a name (too long for IPv4, at least 32 characters unescaped).
  if (colon < 0) return hiddenPart(text, start, end, false) ? HIDDEN : MALFORMED_AS_WRITTEN
  if (colonIn(text, colon + 1, end) >= 0 || !hiddenPart(text, colon + 1, end, true)) return MALFORMED_AS_WRITTEN
  // (A `\` before the colon escapes it: the part before the colon drops it.)
  if (hiddenPart(text, start, colon, false)) return HIDDEN
  // IPv4 with a port (`1.2.3.4:_…`): its address, unescaped.
  if (colon - start > LONG_ESCAPED) return MALFORMED_AS_WRITTEN
  const address = text.slice(start, colon).replace(BACKSLASHES, '')
  if (classifyNode(address, 0, address.length) !== ADDRESS) return MALFORMED_AS_WRITTEN
  parameter.text = address
  parameter.start = 0
  parameter.end = address.length
  return ADDRESS
}

/** The code of the first character of an escaped value that starts at
 *  text[start], escaped or not. */
function firstCharacter (text: string, start: number): number {
  return text.charCodeAt(text.charCodeAt(start) === BACKSLASH ? start + 1 : start)
}

/** Whether text[start, end), a part of a value escapedKind reads, unescapes
 *  to a hidden node's name (`port`: to a port, digits or an obfuscated name). */
function hiddenPart (text: string, start: number, end: number, port: boolean): boolean {
  if (end - start <= LONG_ESCAPED) {
    const part = text.slice(start, end).replace(BACKSLASHES, '')
    return port ? scanPort(part, 0, part.length) > 0 || isObfuscated(part, 0, part.length) : isHiddenName(part, 0, part.length)
  }
  // Too long for `unknown` or digits: an obfuscated name, `_` (escaped or
  // not) then name characters.
  return firstCharacter(text, start) === 95
}

/**
 * Walks RFC 7239 elements from the right over their `for=` values, then
 * reads the host and protocol of the element that names the client. As in
 * the address chain, the values are read where they are in the header, and
 * only the client's address is made into a string.
 */
function readForwarded (config: Config, result: Resolution, header: HeaderValue): void {
  const value = headerText(header)
  if (value === undefined) return
  const count = scanForwarded(value)
  if (count < 0) {
    markInvalid(result, 'forwarded', value)
    return
  }
  // Only the `for` values the walk reaches are read, and then the client's
  // host and proto. A user's trust function runs in between (and may scan
  // another header), so with one the walk reads from its own copy of the notes.
  const cut = walkWasCut()
  const notes = config.trustFunction === null ? undefined : copyNotes(count)
  result.forwarded = value
  let client = -1
  let address: string | null = null
  let trustedCount = 1
  for (let i = count - 1; i >= 0; i--) { // every element noted for the walk has a `for`
    const kind = forKind(value, i, notes)
    const text = parameter.text
    if (kind !== ADDRESS) {
      if (kind === MALFORMED) markInvalid(result, 'forwarded', text.slice(parameter.start, parameter.end))
      if (kind === MALFORMED_AS_WRITTEN) markInvalid(result, 'forwarded', text, parameter.start, parameter.end)
      break
    }
    result.walked++
    client = i
    // The header's leftmost element is the client without asking; an element
    // that ends the walk further left does not spare the question.
    if ((i === 0 && !cut) || trustedCount >= config.hops) {
      address = canonical(text, endpoint.start, endpoint.end)
      break
    }
    address = clientAt(config, text, endpoint.start, endpoint.end, count - i)
    if (address !== null) break
    trustedCount++
  }
  if (client < 0) return
  // When the walk ended left of the last address it took (at a hidden or
  // malformed `for`, or at an element without one), that one is the client.
  result.ip = address ?? forAddress(value, client, notes)
  if (valueIn(value, client, HOST_AT, notes)) readHost(result, 'forwarded', parameter.text, parameter.start, parameter.end)
  if (valueIn(value, client, PROTO_AT, notes)) readProto(result, 'forwarded', parameter.text, parameter.start, parameter.end)
}

/** The rightmost element of a forwarded list header, left in `span`; false when absent. */
function lastElement (headers: RequestHeaders, name: string | null): string | undefined {
  if (name === null) return undefined
  const value = headerText(headers[name])
  if (value !== undefined) previousElement(value, value.length)
  return value
}

/**
 * Resolves one request. Returns null when the peer is not trusted (or there
 * is no peer): then nothing is read and nothing is rewritten.
 */
export function resolve (config: Config, peer: string | undefined, headers: RequestHeaders): Resolution | null {
  if (peer === undefined || !isTrustedPeer(config, peer)) return null
  const result = new Resolution(peer)
  forgetText()

  if (config.clientIpHeader !== null) {
    const value = headerText(headers[config.clientIpHeader])
    if (value !== undefined) readClientHeader(result, config.clientIpHeader, value)
  } else if (config.forHeader !== null && !config.forwarded) {
    const value = headerText(headers[config.forHeader])
    if (value !== undefined) walkChain(config, result, config.forHeader, value)
  }

  // Host and protocol: in X-Forwarded-* mode the rightmost value, which the
  // nearest trusted proxy wrote; in Forwarded mode the client's own element.
  if (config.forwarded) {
    readForwarded(config, result, headers.forwarded)
  } else {
    // The usual values first: the last host again, a bare `https` or `http`.
    let value = config.hostHeader === null ? undefined : headerText(headers[config.hostHeader])
    if (value !== undefined && !rememberedHost(result, value)) {
      previousElement(value, value.length)
      readHost(result, config.hostHeader as string, value, span.start, span.end)
    }
    value = config.protoHeader === null ? undefined : headerText(headers[config.protoHeader])
    if (value === 'https' || value === 'http') {
      result.protocol = value
    } else if (value !== undefined) {
      previousElement(value, value.length)
      readProto(result, config.protoHeader as string, value, span.start, span.end)
    }
  }

  let forwardedPort = -1
  let value = lastElement(headers, config.portHeader)
  if (value !== undefined) {
    forwardedPort = scanPort(value, span.start, span.end)
    if (forwardedPort < 0) markInvalid(result, config.portHeader as string, value.slice(span.start, span.end))
  }

  value = lastElement(headers, config.prefixHeader)
  if (value !== undefined) {
    const prefix = scanPrefix(value, span.start, span.end)
    if (prefix === null) markInvalid(result, config.prefixHeader as string, value.slice(span.start, span.end))
    else result.prefix = prefix
  }

  if (result.host !== null) {
    if (forwardedPort > 0 && forwardedPort !== result.port) {
      result.port = forwardedPort
      result.host = result.hostname + ':' + forwardedPort
    }
  } else if (forwardedPort > 0) {
    result.hostname = hostnameOf(requestHost(headers))
    result.port = forwardedPort
    result.host = result.hostname + ':' + forwardedPort
  }
  return result
}
