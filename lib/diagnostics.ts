// What the plugin tells the operator: one line at registration saying what is
// trusted and read, a warning per risky configuration, and at debug level why
// a request's forwarded headers were ignored or not read to the end. Pure
// functions that return log entries, built from what the resolution
// recorded; the glue decides when to log them.

import { excerpt } from './errors'
import { ipAt } from './ip'
import { commaBefore, headerText, type RequestHeaders } from './list'
import { elementComma } from './forwarded'
import type { Interval } from './allowlist'
import type { Config } from './options'
import type { Resolution } from './resolve'

/** A log entry: the fields to log and the message. */
export interface Entry {
  details: Record<string, unknown>
  message: string
}

/** Codes of the startup warnings, stable like the error codes. */
const warningCodes = {
  TRUSTS_EVERYONE: 'FST_PROXY_FIX_TRUSTS_EVERYONE',
  HOST_FROM_PRIVATE_NETWORKS: 'FST_PROXY_FIX_HOST_FROM_PRIVATE_NETWORKS',
  CLIENT_HEADER_FROM_EVERYONE: 'FST_PROXY_FIX_CLIENT_HEADER_FROM_EVERYONE',
  PREFIX_LOOKS_LIKE_HEADER: 'FST_PROXY_FIX_PREFIX_LOOKS_LIKE_HEADER'
} as const

/** Allowlists longer than this are counted in the startup line, and listed at debug. */
const LISTED_ENTRIES = 8

const V6_LAST = 2n ** 128n - 1n
/** The RFC 1918 networks: trusting all of them means trusting whole internal networks. */
const PRIVATE_V4: Interval[] = [
  [0x0a000000n, 0x0affffffn], // 10.0.0.0/8
  [0xac100000n, 0xac1fffffn], // 172.16.0.0/12
  [0xc0a80000n, 0xc0a8ffffn] // 192.168.0.0/16
]

/** Whether [start, end] lies inside one of the merged, sorted intervals. */
function covers (intervals: readonly Interval[], [start, end]: Interval): boolean {
  return intervals.some((r) => r[0] <= start && end <= r[1])
}

/** Which whole address family the allowlist trusts, in the words of a message; null when none. */
function everyone (config: Config): string | null {
  const allowlist = config.allowlist
  if (allowlist === null) return null
  if (covers(allowlist.ranges.v6, [0n, V6_LAST])) return '::/0 (every address, IPv4 included)'
  if (allowlist.coveringIPv4.length > 0) {
    const entry = allowlist.coveringIPv4[0]
    return entry.includes(':') ? `${entry} (every IPv4 address, as IPv4-mapped IPv6)` : `${entry} (every IPv4 address)`
  }
  if (covers(allowlist.ranges.v4, [0n, 2n ** 32n - 1n])) return '0.0.0.0/0 (every IPv4 address, with the ranges together)'
  return null
}

/** Where the client address comes from, in the words of the log line. */
function clientSource (config: Config): string | null {
  if (config.clientIpHeader !== null) return config.clientIpHeader
  if (config.forwarded) return 'forwarded'
  return config.forHeader
}

/** The allowlist in a few words: its entries, or how many there are of each kind. */
function trustedInWords (entries: readonly string[] | null): string {
  if (entries === null) return 'a function'
  if (entries.length <= LISTED_ENTRIES) return entries.join(', ')
  const v6 = entries.filter((entry) => entry.includes(':')).length
  const v4 = entries.filter((entry) => ipAt(entry, 0, entry.split('/')[0].length)?.written6 === false).length
  const named = entries.length - v4 - v6
  const kinds = [`${v4} IPv4`, `${v6} IPv6`, ...(named > 0 ? [`${named} named`] : [])]
  return `${entries.length} entries (${kinds.join(', ')}; listed at debug level)`
}

/** The one `info` line at registration: what is trusted and which headers are read. */
export function summary (config: Config): Entry {
  const entries = config.allowlist?.entries ?? null
  const limit = config.hops === Infinity ? '' : ` (at most ${config.hops} ${config.hops === 1 ? 'proxy' : 'proxies'})`
  const read: string[] = []
  const client = clientSource(config)
  if (client !== null) read.push(`client from ${client}`)
  const host = config.forwarded ? 'forwarded' : config.hostHeader
  if (host !== null) read.push(`host from ${host}`)
  const proto = config.forwarded ? 'forwarded' : config.protoHeader
  if (proto !== null) read.push(`protocol from ${proto}`)
  if (config.portHeader !== null) read.push(`port from ${config.portHeader}`)
  if (config.prefixHeader !== null) read.push(`prefix from ${config.prefixHeader}`)
  const reads = read.length === 0 ? 'no forwarded headers' : read.join(', ')
  const proxyProtocol = config.proxyProtocol === false
    ? ''
    : `; PROXY protocol headers ${config.proxyProtocol === true ? 'required' : 'read when present'} on connections from trusted peers (within ${config.proxyProtocolTimeout} ms)`
  return {
    details: {
      proxyFix: {
        trustedProxies: entries === null ? 'function' : entries.length <= LISTED_ENTRIES ? entries : entries.length,
        hops: config.hops === Infinity ? null : config.hops,
        client,
        host,
        proto,
        port: config.portHeader,
        prefix: config.prefixHeader,
        onInvalid: config.reject ? 'reject' : 'ignore',
        proxyProtocol: config.proxyProtocol
      }
    },
    message: `fastify-proxy-fix: trusting ${trustedInWords(entries)}${limit}; reading ${reads}${proxyProtocol}; malformed values are ${config.reject ? 'refused with 400' : 'ignored'}`
  }
}

/** The `debug` line at registration with the whole allowlist, when the summary only counted it. */
export function allowlistListing (config: Config): Entry | null {
  const entries = config.allowlist?.entries
  if (entries === undefined || entries.length <= LISTED_ENTRIES) return null
  return {
    details: { proxyFix: { trustedProxies: entries } },
    message: `fastify-proxy-fix: trusted proxies: ${entries.join(', ')}`
  }
}

/** The `warn` lines for risky configurations, each naming the risk and the fix. */
export function risks (config: Config): Entry[] {
  const out: Entry[] = []
  const all = everyone(config)
  const readsChain = config.clientIpHeader === null && (config.forwarded || config.forHeader !== null)
  if (all !== null && readsChain && config.hops === Infinity) {
    out.push({
      details: { code: warningCodes.TRUSTS_EVERYONE },
      message: `fastify-proxy-fix: trustedProxies includes ${all} and hops is not set: every entry of ${clientSource(config)} counts as a proxy, ` +
        'so request.ip is the leftmost entry, which any client can write. Fix: list only your proxies\' addresses or ranges; ' +
        'or, if the app can only be reached through your proxies, set hops to their number'
    })
  }
  if (all !== null && config.clientIpHeader !== null) {
    out.push({
      details: { code: warningCodes.CLIENT_HEADER_FROM_EVERYONE },
      message: `fastify-proxy-fix: clientIpHeader '${config.clientIpHeader}' is believed from ${all}: any client that reaches the app ` +
        'directly can send it and choose its own request.ip. Fix: trust only the ranges of the CDN or proxy that sets the header ' +
        '(for Cloudflare, its published ranges, kept current)'
    })
  }
  const hostHeader = config.forwarded ? 'forwarded' : config.hostHeader
  const ranges = config.allowlist?.ranges
  if (hostHeader !== null && ranges !== undefined && PRIVATE_V4.every((range) => covers(ranges.v4, range))) {
    const fix = config.forwarded
      ? 'list only your proxies\' addresses'
      : 'list only your proxies\' addresses, or set headers.host: false if your proxy does not send the header'
    out.push({
      details: { code: warningCodes.HOST_FROM_PRIVATE_NETWORKS },
      message: 'fastify-proxy-fix: trustedProxies includes every private network (10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16) ' +
        `and the host is read from ${hostHeader}: any machine on those networks (another container, a neighbouring service) ` +
        `can choose request.hostname, which apps put in links, redirects and password-reset mails. Fix: ${fix}`
    })
  }
  if (config.registerPrefix !== null && !config.registerPrefix.startsWith('/')) {
    out.push({
      details: { code: warningCodes.PREFIX_LOOKS_LIKE_HEADER },
      message: `fastify-proxy-fix: the option prefix '${config.registerPrefix}' is Fastify's route prefix for register(), not a header, ` +
        `and this plugin has no routes: it does nothing. Fix: to read a prefix header, write headers: { prefix: '${config.registerPrefix}' }`
    })
  }
  return out
}

/**
 * An `info` hint for an untrusted peer that is the loopback address of the
 * other family than a trusted loopback (`::1` while only `127.0.0.1` is
 * trusted, or the other way round): a proxy on the same host that connects
 * over the other family. Null when there is nothing to say.
 */
export function familyHint (config: Config, peer: string): Entry | null {
  const allowlist = config.allowlist
  const other = peer === '::1' ? '127.0.0.1' : peer.startsWith('127.') ? '::1' : null
  if (allowlist === null || other === null) return null
  const ip = ipAt(other, 0, other.length)
  if (ip === null || !allowlist.matches(ip)) return null
  return {
    details: { proxyFix: { peer } },
    message: `fastify-proxy-fix: peer ${peer} is not a trusted proxy, but ${other} is: if your proxy on this host connects over ` +
      `${other === '::1' ? 'IPv4' : 'IPv6'}, add '${peer}' (or 'loopback') to trustedProxies`
  }
}

/** The forwarded headers this configuration reads, as sent. */
function forwardedHeaders (config: Config, headers: RequestHeaders): Record<string, string> {
  const names = config.forwarded
    ? ['forwarded', config.portHeader, config.prefixHeader]
    : [config.clientIpHeader ?? config.forHeader, config.hostHeader, config.protoHeader, config.portHeader, config.prefixHeader]
  const sent: Record<string, string> = {}
  for (const name of names) {
    const value = name === null ? undefined : headerText(headers, name)
    if (value !== undefined) sent[name as string] = excerpt(value)
  }
  return sent
}

/** How many entries of a chain lie in text[0, end): the part the walk did not read. */
function entriesBefore (r: Resolution, end: number): number {
  let count = 0
  const firstComma = r.chainText.indexOf(',')
  for (let at = end; at >= 0; count++) at = r.chainHeader === 'forwarded' ? elementComma(r.chainText, at, firstComma) : commaBefore(r.chainText, at, firstComma)
  return count
}

/** Why the address chain was not read to its left end, or null when it was. */
function unreadChain (config: Config, r: Resolution): Entry | null {
  if (r.stop === null || r.stop === 'malformed' || r.stop === 'leftmost') return null
  const hop = r.walked.length
  // A hidden entry was reached but named no address: it is unread too.
  const unread = (r.unreadEnd < 0 ? 0 : entriesBefore(r, r.unreadEnd)) + (r.stop === 'hidden' ? 1 : 0)
  const why = r.stop === 'hops'
    ? `hops is ${config.hops}`
    : r.stop === 'untrusted'
      ? `${r.ip} (hop ${hop}) is not a trusted proxy, so it is the client`
      : `the element at hop ${hop + 1} names no address (for=unknown, an obfuscated name, or no for=)`
  const header = r.chainHeader as string
  return {
    details: { proxyFix: { peer: r.peer, header, client: r.ip, hop, unread } },
    message: `fastify-proxy-fix: ${unread} ${header} ${unread === 1 ? 'entry' : 'entries'} left of the client not read: ${why}`
  }
}

/**
 * The `debug` lines for one request, from what its resolution recorded:
 * forwarded headers ignored because the peer is not trusted, a trusted peer
 * that sent no client header, a chain whose left part was not read, a
 * malformed value. Empty when there is nothing to say.
 */
export function explain (config: Config, r: Resolution, headers: RequestHeaders): Entry[] {
  if (!r.trusted) {
    const ignored = forwardedHeaders(config, headers)
    if (Object.keys(ignored).length === 0) return []
    return [{
      details: { proxyFix: { peer: r.peer, ignored } },
      message: `fastify-proxy-fix: forwarded headers ignored: peer ${r.peer} is not a trusted proxy`
    }]
  }
  if (r.proxy?.source != null && r.chainHeader === null && (r.stop === 'hops' || r.stop === 'untrusted')) {
    // The walk ended at the PROXY header's source: no forwarded header was read.
    const ignored = forwardedHeaders(config, headers)
    if (Object.keys(ignored).length === 0) return []
    const why = r.stop === 'hops' ? `hops is ${config.hops}` : 'it is not a trusted proxy'
    return [{
      details: { proxyFix: { peer: r.peer, source: r.ip, ignored } },
      message: `fastify-proxy-fix: forwarded headers ignored: the PROXY header's source ${r.ip} is the client (${why})`
    }]
  }
  const out: Entry[] = []
  if (config.clientIpHeader !== null && headerText(headers, config.clientIpHeader) === undefined) {
    out.push({
      // The last trusted address walked: the peer, or a PROXY header's trusted source.
      details: { proxyFix: { peer: r.peer, header: config.clientIpHeader, client: r.ip } },
      message: `fastify-proxy-fix: trusted proxy ${r.ip} sent no ${config.clientIpHeader} header, so it is the client`
    })
  }
  const chain = unreadChain(config, r)
  if (chain !== null) out.push(chain)
  if (r.invalid !== null) {
    const value = excerpt(r.invalid.value)
    out.push({
      details: { proxyFix: { peer: r.peer, header: r.invalid.header, value } },
      message: `fastify-proxy-fix: malformed ${r.invalid.header} from trusted proxy ${r.peer}: "${value}", ` +
        (config.reject ? 'refused with 400' : 'ignored (the value stays as the socket saw it)')
    })
  }
  return out
}
