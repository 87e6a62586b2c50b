// What the plugin tells the operator: one line at registration saying what is
// trusted and read, a warning per risky configuration, and at debug level why
// a request's forwarded headers were ignored or refused. Pure functions that
// return log entries; the glue decides when to compute and log them.

import { scanIP } from './address'
import { excerpt } from './errors'
import { headerText } from './headers'
import { parseForwarded } from './forwarded'
import type { Config } from './options'
import type { RequestHeaders, Resolution } from './resolve'

/** A log entry: the fields to log and the message. */
export interface Entry {
  details: Record<string, unknown>
  message: string
}

/** Codes of the startup warnings, stable like the error codes. */
export const warningCodes = {
  TRUSTS_EVERYONE: 'FST_PROXY_FIX_TRUSTS_EVERYONE',
  HOST_FROM_PRIVATE_NETWORKS: 'FST_PROXY_FIX_HOST_FROM_PRIVATE_NETWORKS',
  CLIENT_HEADER_FROM_EVERYONE: 'FST_PROXY_FIX_CLIENT_HEADER_FROM_EVERYONE'
} as const

const V4_LAST = 2n ** 32n - 1n
const V6_LAST = 2n ** 128n - 1n
/** The RFC 1918 networks: trusting all of them means trusting whole internal networks. */
const PRIVATE_V4: Array<[bigint, bigint]> = [
  [0x0a000000n, 0x0affffffn], // 10.0.0.0/8
  [0xac100000n, 0xac1fffffn], // 172.16.0.0/12
  [0xc0a80000n, 0xc0a8ffffn] // 192.168.0.0/16
]

type Ranges = NonNullable<Config['matcher']>['ranges']

/** Whether [start, end] lies inside one of the merged, sorted intervals. */
function covers (intervals: ReadonlyArray<readonly [bigint, bigint]>, start: bigint, end: bigint): boolean {
  return intervals.some((r) => r[0] <= start && end <= r[1])
}

/** Which whole address family the allowlist trusts: a name for messages, or null. */
function everyone (ranges: Ranges | null): string | null {
  if (ranges === null) return null
  if (covers(ranges.v6, 0n, V6_LAST)) return '::/0 (every address, IPv4 included)'
  if (covers(ranges.v4, 0n, V4_LAST)) return '0.0.0.0/0 (every IPv4 address)'
  return null
}

/** Where the client address comes from, in the words of the log line. */
function clientSource (config: Config): string | null {
  if (config.clientIpHeader !== null) return config.clientIpHeader
  if (config.forwarded) return 'forwarded'
  return config.forHeader
}

/** The one `info` line at registration: what is trusted and which headers are read. */
export function summary (config: Config): Entry {
  const trusted = config.entries === null ? 'a function' : config.entries.join(', ')
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
  return {
    details: {
      proxyFix: {
        trustedProxies: config.entries ?? 'function',
        hops: config.hops === Infinity ? null : config.hops,
        client,
        host,
        proto,
        port: config.portHeader,
        prefix: config.prefixHeader,
        onInvalid: config.reject ? 'reject' : 'ignore'
      }
    },
    message: `fastify-proxy-fix: trusting ${trusted}${limit}; reading ${reads}; malformed values are ${config.reject ? 'refused with 400' : 'ignored'}`
  }
}

/** The `warn` lines for risky configurations, each naming the risk and the fix. */
export function risks (config: Config): Entry[] {
  const out: Entry[] = []
  const ranges = config.matcher === null ? null : config.matcher.ranges
  const all = everyone(ranges)
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
  if (hostHeader !== null && ranges !== null && PRIVATE_V4.every(([a, b]) => covers(ranges.v4, a, b))) {
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
  return out
}

function isTrusted (config: Config, address: string, hop: number): boolean {
  if (config.trustFunction !== null) return config.trustFunction(address, hop) === true
  scanIP(address, 0, address.length) // a walked address: canonical, so the scan succeeds and leaves it for the matcher
  return (config.matcher as NonNullable<Config['matcher']>).matches()
}

/** The forwarded headers this configuration reads, as sent. */
function forwardedHeaders (config: Config, headers: RequestHeaders): Record<string, string> {
  const names = config.forwarded
    ? ['forwarded', config.portHeader, config.prefixHeader]
    : [config.clientIpHeader ?? config.forHeader, config.hostHeader, config.protoHeader, config.portHeader, config.prefixHeader]
  const sent: Record<string, string> = {}
  for (const name of names) {
    const value = name === null ? undefined : headerText(headers[name])
    if (value !== undefined) sent[name as string] = excerpt(value)
  }
  return sent
}

/** Why the address chain was not read to its left end, or null when it was. */
function unreadChain (config: Config, peer: string, headers: RequestHeaders, r: Resolution): Entry | null {
  const header = config.forwarded ? 'forwarded' : config.forHeader
  if (config.clientIpHeader !== null || header === null || r.invalid?.header === header) return null
  const value = headerText(headers[header])
  if (value === undefined) return null
  const elements = config.forwarded ? parseForwarded(value) : null
  const total = elements !== null ? elements.length : value.split(',').length
  const walked = r.walked
  if (walked >= total) return null
  const unread = total - walked
  let why: string
  if (walked >= config.hops) {
    why = `hops is ${config.hops}`
  } else if (walked > 0 && !isTrusted(config, r.ip, walked)) {
    why = `${r.ip} (hop ${walked}) is not a trusted proxy, so it is the client`
  } else {
    why = `the element at hop ${walked + 1} names no address (for=unknown, an obfuscated name, or no for=)`
  }
  return {
    details: { proxyFix: { peer, header, client: r.ip, hop: walked, unread } },
    message: `fastify-proxy-fix: ${unread} ${header} ${unread === 1 ? 'entry' : 'entries'} left of the client not read: ${why}`
  }
}

/**
 * The `debug` lines for one request: forwarded headers ignored because the
 * peer is not trusted, a malformed value from a trusted proxy, or a chain whose
 * left part was not read. Empty when there is nothing to say.
 */
export function explain (config: Config, peer: string | undefined, headers: RequestHeaders, r: Resolution | null): Entry[] {
  if (peer === undefined) return []
  if (r === null) {
    const ignored = forwardedHeaders(config, headers)
    if (Object.keys(ignored).length === 0) return []
    return [{
      details: { proxyFix: { peer, ignored } },
      message: `fastify-proxy-fix: forwarded headers ignored: peer ${peer} is not a trusted proxy`
    }]
  }
  const out: Entry[] = []
  const chain = unreadChain(config, peer, headers, r)
  if (chain !== null) out.push(chain)
  if (r.invalid !== null) {
    const value = excerpt(r.invalid.value)
    out.push({
      details: { proxyFix: { peer, header: r.invalid.header, value } },
      message: `fastify-proxy-fix: malformed ${r.invalid.header} from trusted proxy ${peer}: "${value}", ` +
        (config.reject ? 'refused with 400' : 'ignored (the value stays as the socket saw it)')
    })
  }
  return out
}
