// Resolving one request: who the client is, and what host, port, protocol
// and prefix it asked for, from the headers of trusted proxies only.

import { endpointAt, ipAt, ipv4At, portAt, type IP } from './ip'
import { headerText, lastElement, skipSpaces, trimSpacesEnd, type RequestHeaders } from './list'
import { parseHost, parsePrefix, parseProto } from './host'
import { ForwardedChain, ListChain, trusts, walk, type Stop, type WalkRecord } from './walk'
import { spanText } from './forwarded'
import type { Config } from './options'
import type { ProxyHeader } from './proxy-header'

/** A malformed value from a trusted proxy: the header (lower case) and the offending value. */
export interface InvalidValue {
  header: string
  value: string
}

/** What one request resolved to. `null` (or `undefined` for `port`) means "as received". */
export class Resolution implements WalkRecord {
  /** Whether the socket peer is a trusted proxy: only then was any header read. */
  trusted = false
  ip: string
  readonly walked: IP[] = []
  /** Why the walk stopped (at a PROXY header's source, or in the address chain); null when nothing was walked. */
  stop: Stop | null = null
  /** The header the chain was read from, and its text (for diagnostics). */
  chainHeader: string | null = null
  chainText = ''
  unreadEnd = -1
  host: string | null = null
  hostname: string | null = null
  port: number | null | undefined = undefined
  protocol: 'http' | 'https' | null = null
  prefix = ''
  invalid: InvalidValue | null = null
  trustError: unknown = undefined

  /** The connection's PROXY header; null without one, and for a peer not trusted now. */
  proxy: ProxyHeader | null = null

  constructor (readonly peer: string) {
    this.ip = peer
  }

  /** The addresses walked, nearest first: `[peer, …, client]`; a new array on each read. */
  get ips (): string[] {
    const ips = [this.peer]
    for (const address of this.walked) ips.push(address.toString())
    return ips
  }

  /** Records a malformed value; the first one is kept. */
  markInvalid (header: string, value: string): void {
    this.invalid ??= { header, value }
  }
}

/** The client from a single-address header such as CF-Connecting-IP. */
function readClientHeader (result: Resolution, header: string, value: string): void {
  const start = skipSpaces(value, 0, value.length)
  const address = endpointAt(value, start, trimSpacesEnd(value, start, value.length))
  if (address === null) {
    result.markInvalid(header, value)
    return
  }
  result.walked.push(address)
  result.ip = address.toString()
}

/** A forwarded host (with optional port): sets host, hostname and port, or marks it malformed. */
function readHost (result: Resolution, header: string, value: string): void {
  const host = parseHost(value)
  if (host === null) {
    result.markInvalid(header, value)
    return
  }
  result.host = host.host
  result.hostname = host.hostname
  result.port = host.port
}

/** A forwarded protocol: sets it, or marks it malformed (and keeps the one before, a PROXY header's `https`). */
function readProto (result: Resolution, header: string, value: string): void {
  const protocol = parseProto(value)
  if (protocol === null) result.markInvalid(header, value)
  else result.protocol = protocol
}

/** Host and protocol from the element that names the client (Forwarded mode). */
function readClientElement (result: Resolution, chain: ForwardedChain): void {
  const element = chain.clientElement
  const host = spanText(chain.text, element.hostStart, element.hostEnd)
  if (host !== undefined) readHost(result, 'forwarded', host)
  const proto = spanText(chain.text, element.protoStart, element.protoEnd)
  if (proto !== undefined) readProto(result, 'forwarded', proto)
}

/** The rightmost element of a list header's text, or undefined when it is absent. */
function lastOf (text: string | undefined): string | undefined {
  return text === undefined ? undefined : lastElement(text)
}

/** The Host header (or HTTP/2 `:authority`) as Fastify reads it; `''` when there is neither. */
export function requestHost (headers: RequestHeaders): string {
  return headerText(headers, 'host') ?? headerText(headers, ':authority') ?? ''
}

/** The host name part of a Host value (Fastify's rule: a bracketed IPv6 literal keeps its brackets). */
export function hostnameOf (host: string): string {
  if (host.charCodeAt(0) === 91) return host.slice(0, host.indexOf(']') + 1)
  const colon = host.indexOf(':')
  return colon < 0 ? host : host.slice(0, colon)
}

/** Where a peer's address ends: before its zone id (`fe80::1%eth0`), which is not part of the match. */
function addressEnd (peer: string): number {
  const zone = peer.indexOf('%')
  return zone < 0 ? peer.length : zone
}

/** Whether the socket peer (hop 0) is a trusted proxy. A zone id (`fe80::1%eth0`) is not part of the match. */
export function trustsPeer (config: Config, peer: string, record: Pick<WalkRecord, 'trustError'>): boolean {
  // The usual peers need no address object: a proxy listed by its address is
  // found by its text, any other IPv4 peer is matched as a number.
  const allowlist = config.allowlist
  if (allowlist !== null) {
    if (allowlist.listsAddressText(peer)) return true
    const v4 = ipv4At(peer, 0, peer.length)
    if (v4 >= 0) return allowlist.matchesV4(v4)
  }
  const address = ipAt(peer, 0, addressEnd(peer))
  return address !== null && trusts(config, address, 0, record)
}

/**
 * The PROXY header's source as the next hop after the peer: returns whether
 * the walk goes on into the forwarded headers (the source is a trusted
 * proxy within the hop limit), else the source is the client.
 */
function walkProxySource (config: Config, result: Resolution, proxy: ProxyHeader): boolean {
  if (proxy.ssl) result.protocol = 'https'
  if (proxy.source === null) return true
  const source = ipAt(proxy.source.address, 0, proxy.source.address.length) as IP
  result.walked.push(source)
  result.ip = proxy.source.address
  if (config.hops <= 1) result.stop = 'hops'
  else if (!trusts(config, source, 1, result)) result.stop = 'untrusted'
  else {
    result.stop = 'leftmost'
    return true
  }
  return false
}

/**
 * Resolves one request from its socket peer, its connection's PROXY header
 * (null without one) and its headers; null without a peer (or with one that
 * is not a string, which Node never reports). For an untrusted
 * peer nothing is read: the result says so and holds only the peer.
 */
export function resolve (config: Config, peer: string | undefined, headers: RequestHeaders, proxy: ProxyHeader | null = null): Resolution | null {
  if (typeof peer !== 'string') return null
  const result = new Resolution(peer)
  if (!trustsPeer(config, peer, result)) return result
  result.trusted = true
  if (proxy !== null) {
    result.proxy = proxy
    if (!walkProxySource(config, result, proxy)) return result
  }

  if (config.clientIpHeader !== null) {
    const name = config.clientIpHeader
    const value = headerText(headers, name, headers[name])
    if (value !== undefined) readClientHeader(result, name, value)
  } else if (config.forwarded) {
    const value = headerText(headers, 'forwarded', headers.forwarded)
    if (value !== undefined) {
      const chain = new ForwardedChain(value)
      result.chainHeader = 'forwarded'
      result.chainText = value
      walk(config, chain, result)
      readClientElement(result, chain)
    }
  } else if (config.forHeader !== null) {
    const name = config.forHeader
    const value = headerText(headers, name, headers[name])
    if (value !== undefined) {
      result.chainHeader = name
      result.chainText = value
      walk(config, new ListChain(name, value), result)
    }
  }

  // In X-Forwarded-* mode, host and protocol are the rightmost values, which
  // the nearest trusted proxy wrote.
  // (Each header is read where it is used, `headers[name]`: see headerText.)
  if (!config.forwarded) {
    const hostName = config.hostHeader
    const host = hostName === null ? undefined : lastOf(headerText(headers, hostName, headers[hostName]))
    if (host !== undefined) readHost(result, hostName as string, host)
    const protoName = config.protoHeader
    const proto = protoName === null ? undefined : headerText(headers, protoName, headers[protoName])
    // The usual values first: a proxy writes one word.
    if (proto === 'https' || proto === 'http') result.protocol = proto
    else if (proto !== undefined) readProto(result, protoName as string, lastElement(proto))
  }

  let forwardedPort = -1
  const portName = config.portHeader
  const port = portName === null ? undefined : lastOf(headerText(headers, portName, headers[portName]))
  if (port !== undefined) {
    forwardedPort = portAt(port, 0, port.length)
    if (forwardedPort < 0) result.markInvalid(portName as string, port)
  }

  const prefixName = config.prefixHeader
  const prefix = prefixName === null ? undefined : lastOf(headerText(headers, prefixName, headers[prefixName]))
  if (prefix !== undefined) {
    const valid = parsePrefix(prefix)
    if (valid === null) result.markInvalid(prefixName as string, prefix)
    else result.prefix = valid
  }

  // A forwarded port replaces the port of the host (forwarded or received).
  if (forwardedPort > 0) {
    result.hostname ??= hostnameOf(requestHost(headers))
    result.port = forwardedPort
    result.host = result.hostname + ':' + forwardedPort
  }
  return result
}
