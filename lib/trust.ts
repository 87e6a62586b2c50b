// The trusted-proxy allowlist, compiled once at registration into sorted,
// merged range tables. A lookup is a binary search, so 10,000 CIDR blocks
// cost a few comparisons more than two.

import { parsed, scanIP } from './address'
import { ProxyFixError, codes } from './errors'

/** A user's own trust decision: `hop` counts from 0 = the socket peer. */
export type TrustFunction = (address: string, hop: number) => boolean
export type TrustSpec = string | readonly string[] | TrustFunction

/** Named ranges, as `proxy-addr` and Express define them. */
const NAMED: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
}
NAMED.private = [...NAMED.loopback, ...NAMED.linklocal, ...NAMED.uniquelocal]

const V4_SPAN = 2n ** 32n
const MAPPED_BASE = 0xffffn << 32n // ::ffff:0.0.0.0

type Interval = [bigint, bigint]

/** Matches the address left in `parsed` by the last scan against the allowlist. */
export class TrustMatcher {
  private readonly v4Starts: Float64Array
  private readonly v4Ends: Float64Array
  private readonly v6Starts: Uint32Array
  private readonly v6Ends: Uint32Array
  /** Entries after merging, for diagnostics. */
  readonly ranges: { v4: Interval[], v6: Interval[] }

  constructor (v4: Interval[], v6: Interval[]) {
    const m4 = merge(v4)
    const m6 = merge(v6)
    this.ranges = { v4: m4, v6: m6 }
    this.v4Starts = Float64Array.from(m4, (r) => Number(r[0]))
    this.v4Ends = Float64Array.from(m4, (r) => Number(r[1]))
    this.v6Starts = toWords(m6, 0)
    this.v6Ends = toWords(m6, 1)
  }

  /** Whether the address in `parsed` is inside one of the ranges. */
  matches (): boolean {
    if (parsed.family === 4) {
      const starts = this.v4Starts
      const x = parsed.v4
      let lo = 0
      let hi = starts.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1
        if (starts[mid] <= x) lo = mid + 1
        else hi = mid - 1
      }
      return hi >= 0 && x <= this.v4Ends[hi]
    }
    const starts = this.v6Starts
    let lo = 0
    let hi = (starts.length >>> 2) - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (compareWords(starts, mid << 2) <= 0) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && compareWords(this.v6Ends, hi << 2) >= 0
  }
}

/** Compares the IPv6 address in `parsed` with the one at words[at..at+3]. */
function compareWords (words: Uint32Array, at: number): number {
  return (words[at] - parsed.w0) || (words[at + 1] - parsed.w1) ||
    (words[at + 2] - parsed.w2) || (words[at + 3] - parsed.w3)
}

function toWords (intervals: Interval[], side: 0 | 1): Uint32Array {
  const words = new Uint32Array(intervals.length * 4)
  intervals.forEach((r, i) => {
    const v = r[side]
    for (let k = 0; k < 4; k++) words[i * 4 + k] = Number((v >> BigInt(96 - 32 * k)) & 0xffffffffn)
  })
  return words
}

function merge (intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const out: Interval[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && r[0] <= last[1] + 1n) {
      if (r[1] > last[1]) last[1] = r[1]
    } else {
      out.push([r[0], r[1]])
    }
  }
  return out
}

function invalid (entry: string, why: string): ProxyFixError {
  return new ProxyFixError(codes.INVALID_TRUSTED_PROXY, `trusted proxy entry '${entry}': ${why}`)
}

/** Adds one allowlist entry (address, CIDR block or name) to the interval lists. */
function addEntry (entry: string, v4: Interval[], v6: Interval[]): void {
  const named = NAMED[entry.toLowerCase()]
  if (named !== undefined) {
    for (const range of named) addEntry(range, v4, v6)
    return
  }
  const slash = entry.indexOf('/')
  const address = slash < 0 ? entry : entry.slice(0, slash)
  if (address.includes('%')) throw invalid(entry, 'zone ids are not accepted in the allowlist')
  if (!scanIP(address, 0, address.length)) {
    throw invalid(entry, "not an IP address, CIDR block or one of 'loopback', 'linklocal', 'uniquelocal', 'private'")
  }
  const ipv6Syntax = address.includes(':')
  const width = ipv6Syntax ? 128 : 32
  let prefix = width
  if (slash >= 0) {
    const text = entry.slice(slash + 1)
    if (!/^(0|[1-9][0-9]{0,2})$/.test(text) || Number(text) > width) {
      throw invalid(entry, `prefix length must be 0–${width}`)
    }
    prefix = Number(text)
  }
  if (!ipv6Syntax) {
    const size = 2n ** BigInt(32 - prefix)
    const start = (BigInt(parsed.v4) / size) * size // a CIDR with host bits set means its network
    v4.push([start, start + size - 1n])
    return
  }
  const value = parsed.family === 4
    ? MAPPED_BASE + BigInt(parsed.v4)
    : (BigInt(parsed.w0) << 96n) | (BigInt(parsed.w1) << 64n) | (BigInt(parsed.w2) << 32n) | BigInt(parsed.w3)
  const size = 2n ** BigInt(128 - prefix)
  const start = (value / size) * size
  const end = start + size - 1n
  v6.push([start, end])
  // The IPv4-mapped part of an IPv6 range matches IPv4 addresses too.
  const lo = start > MAPPED_BASE ? start : MAPPED_BASE
  const hi = end < MAPPED_BASE + V4_SPAN - 1n ? end : MAPPED_BASE + V4_SPAN - 1n
  if (lo <= hi) v4.push([lo - MAPPED_BASE, hi - MAPPED_BASE])
}

/** Splits and trims the allowlist into its entries. */
export function trustEntries (spec: string | readonly string[]): string[] {
  const list = typeof spec === 'string' ? spec.split(',') : spec
  return list.map((entry, i) => {
    if (typeof entry !== 'string') {
      throw new ProxyFixError(codes.INVALID_TRUSTED_PROXY, `trusted proxy entry #${i + 1} must be a string, got ${typeof entry}`)
    }
    const trimmed = entry.trim()
    if (trimmed === '') throw invalid(entry, 'empty entry')
    return trimmed
  })
}

/** Compiles allowlist entries into a matcher; throws a ProxyFixError naming a bad entry. */
export function compileTrust (entries: readonly string[]): TrustMatcher {
  const v4: Interval[] = []
  const v6: Interval[] = []
  for (const entry of entries) addEntry(entry, v4, v6)
  return new TrustMatcher(v4, v6)
}
