// The trusted-proxy allowlist, compiled once at registration into sorted,
// merged range tables: a lookup is a binary search, so 10,000 CIDR blocks
// cost about a dozen comparisons more than two. IPv4 (with IPv4-mapped IPv6) and
// IPv6 have a table each; IPv6 is held as four 32-bit words, no BigInt.

import { ipAt, portAt, type IP } from './ip'
import { ProxyFixError, codes } from './errors'

/** A user's own trust decision: `hop` counts from 0 = the socket peer. Only `true` is trust. */
export type TrustFunction = (address: string, hop: number) => boolean

/** Named ranges, as `proxy-addr` and Express define them. */
const LOOPBACK = ['127.0.0.0/8', '::1/128']
const LINKLOCAL = ['169.254.0.0/16', 'fe80::/10']
const UNIQUELOCAL = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
const NAMED = new Map<string, readonly string[]>([
  ['loopback', LOOPBACK],
  ['linklocal', LINKLOCAL],
  ['uniquelocal', UNIQUELOCAL],
  ['private', [...LOOPBACK, ...LINKLOCAL, ...UNIQUELOCAL]]
])

/** An inclusive range of addresses as integers (32-bit for IPv4, 128-bit for IPv6). */
export type Interval = [bigint, bigint]

/** The blocks of an allowlist before merging, and the texts of its single addresses. */
interface Blocks {
  v4: Interval[]
  v6: Interval[]
  texts: string[]
}

const ALL_IPV4: Interval = [0n, 0xffffffffn]
/** The IPv4-mapped block, ::ffff:0:0/96. */
const MAPPED: Interval = [0xffff00000000n, 0xffffffffffffn]

/** The compiled allowlist. */
export class Allowlist {
  /** The entries as written (trimmed), for diagnostics. */
  readonly entries: readonly string[]
  /** The entries that trust every IPv4 address on their own (`0.0.0.0/0`, `::/0`, `::/8`…). */
  readonly coveringIPv4: readonly string[]
  /** The ranges after merging, sorted, for diagnostics. */
  readonly ranges: { readonly v4: readonly Interval[], readonly v6: readonly Interval[] }
  // The tables a lookup searches: IPv4 as numbers, IPv6 as four 32-bit words a range.
  private readonly v4Starts: Float64Array
  private readonly v4Ends: Float64Array
  private readonly v6Starts: Uint32Array
  private readonly v6Ends: Uint32Array
  /** The single addresses listed, spelled as Node spells a socket peer. */
  private readonly addressTexts: Set<string>

  constructor (entries: readonly string[]) {
    const blocks: Blocks = { v4: [], v6: [], texts: [] }
    const covering: string[] = []
    for (const entry of entries) {
      const before = blocks.v4.length
      addEntry(entry, entry, blocks)
      if (blocks.v4.slice(before).some(([first, last]) => first === 0n && last === ALL_IPV4[1])) covering.push(entry)
    }
    this.entries = entries
    this.coveringIPv4 = [...new Set(covering)]
    this.addressTexts = new Set(blocks.texts)
    this.ranges = { v4: merge(blocks.v4), v6: merge(blocks.v6) }
    this.v4Starts = Float64Array.from(this.ranges.v4, ([first]) => Number(first))
    this.v4Ends = Float64Array.from(this.ranges.v4, ([, last]) => Number(last))
    this.v6Starts = Uint32Array.from(this.ranges.v6.flatMap(([first]) => words(first)))
    this.v6Ends = Uint32Array.from(this.ranges.v6.flatMap(([, last]) => words(last)))
  }

  /**
   * Whether `peer` is the text of a single address on the list (`10.0.0.1`,
   * `::ffff:10.0.0.1`, `2001:db8::1`): the usual peer, a proxy listed by its
   * address, is then trusted without being parsed. False says nothing: the
   * peer may be in a range, or spelled otherwise.
   */
  listsAddressText (peer: string): boolean {
    return this.addressTexts.has(peer)
  }

  /** Whether `ip` is inside one of the ranges. */
  matches (ip: IP): boolean {
    if (ip.v4 >= 0) return this.matchesV4(ip.v4)
    const starts = this.v6Starts
    let lo = 0
    let hi = (starts.length >>> 2) - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (compareWith(starts, mid << 2, ip) <= 0) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && compareWith(this.v6Ends, hi << 2, ip) >= 0
  }

  /** Whether the IPv4 address `v4` (an unsigned 32-bit number) is inside one of the ranges. */
  matchesV4 (v4: number): boolean {
    const starts = this.v4Starts
    let lo = 0
    let hi = starts.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid] <= v4) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && v4 <= this.v4Ends[hi]
  }
}

/** Compares the address at words[at..at+3] with `ip`. */
function compareWith (words: Uint32Array, at: number, ip: IP): number {
  return (words[at] - ip.w0) || (words[at + 1] - ip.w1) || (words[at + 2] - ip.w2) || (words[at + 3] - ip.w3)
}

/** A 128-bit address as four 32-bit words, most significant first. */
function words (address: bigint): number[] {
  return [96n, 64n, 32n, 0n].map((shift) => Number((address >> shift) & 0xffffffffn))
}

/** An IPv6 address as a 128-bit integer. */
function valueOf (ip: IP): bigint {
  return (BigInt(ip.w0) << 96n) | (BigInt(ip.w1) << 64n) | (BigInt(ip.w2) << 32n) | BigInt(ip.w3)
}

/** Sorts blocks and merges the ones that overlap or touch. */
function merge (blocks: readonly Interval[]): Interval[] {
  const sorted = [...blocks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const merged: Interval[] = []
  for (const [first, last] of sorted) {
    const previous = merged[merged.length - 1]
    if (previous !== undefined && first <= previous[1] + 1n) {
      if (last > previous[1]) previous[1] = last
    } else {
      merged.push([first, last])
    }
  }
  return merged
}

/** The block of `bits`-bit addresses that holds `address` under a prefix of `prefix` bits. */
function block (address: bigint, prefix: number, bits: number): Interval {
  const host = (1n << BigInt(bits - prefix)) - 1n
  return [address & ~host, address | host]
}

function invalid (entry: string, why: string): ProxyFixError {
  return new ProxyFixError(codes.INVALID_TRUSTED_PROXY, `trusted proxy entry '${entry}': ${why}`)
}

/** The prefix length after the `/` of an entry: 0, or decimal without a leading zero; -1 otherwise. */
function prefixLength (entry: string, slash: number): number {
  return entry.length === slash + 2 && entry.charCodeAt(slash + 1) === 48 ? 0 : portAt(entry, slash + 1, entry.length)
}

/** Adds one allowlist entry (address, CIDR block or name) to the blocks; `written` is what the user wrote, for messages. */
function addEntry (entry: string, written: string, blocks: Blocks): void {
  // a zone id anywhere (`fe80::1%eth0`, or after the prefix length, `fe80::/10%eth0`)
  if (entry.includes('%')) throw invalid(written, 'zone ids are not accepted in the allowlist')
  const slash = entry.indexOf('/')
  const ip = ipAt(entry, 0, slash < 0 ? entry.length : slash)
  if (ip === null) {
    const named = NAMED.get(entry.toLowerCase())
    if (named === undefined || slash >= 0) {
      throw invalid(written, "not an IP address, CIDR block or one of 'loopback', 'linklocal', 'uniquelocal', 'private'")
    }
    for (const range of named) addEntry(range, written, blocks)
    return
  }
  const width = ip.written6 ? 128 : 32
  const prefix = slash < 0 ? width : prefixLength(entry, slash)
  if (prefix < 0 || prefix > width) throw invalid(written, `prefix length must be 0–${width}`)
  if (ip.v4 >= 0) {
    // IPv4, or IPv4-mapped IPv6: as IPv6 a mapped entry with a prefix under 96
    // would be a range around the whole mapped block, never what was meant.
    const v4Prefix = ip.written6 ? prefix - 96 : prefix
    if (v4Prefix < 0) {
      const network = `${maskedText(ip, prefix)}/${prefix}`
      throw invalid(written, `an IPv4-mapped address needs a prefix of 96 or more: as IPv6 this is ${network}, ` +
        `which holds every IPv4 address; for the IPv4 range write ${dottedNetwork(ip.v4, prefix)}/${prefix} ` +
        `(or ${entry.slice(0, slash)}/${prefix + 96})`)
    }
    if (v4Prefix === 32) {
      const dotted = ip.toString()
      blocks.texts.push(dotted, '::ffff:' + dotted)
    }
    // A CIDR with host bits set means its network.
    blocks.v4.push(block(BigInt(ip.v4), v4Prefix, 32))
    return
  }
  if (prefix === 128) blocks.texts.push(ip.toString())
  const range = block(valueOf(ip), prefix, 128)
  blocks.v6.push(range)
  // A block either holds the whole IPv4-mapped block or misses it (one
  // inside it is written as a mapped address, above): if it holds it, it
  // trusts every IPv4 peer.
  if (range[0] <= MAPPED[0] && MAPPED[1] <= range[1]) blocks.v4.push(ALL_IPV4)
}

function dottedNetwork (v4: number, prefix: number): string {
  const size = 2 ** (32 - Math.max(0, Math.min(32, prefix)))
  const network = v4 - v4 % size
  return [network >>> 24, (network >>> 16) & 255, (network >>> 8) & 255, network & 255].join('.')
}

/** The IPv6 network text of `ip` masked to `prefix` bits. */
function maskedText (ip: IP, prefix: number): string {
  const [network] = block(valueOf(ip), prefix, 128)
  const text = words(network).flatMap((word) => [(word >>> 16).toString(16), (word & 0xffff).toString(16)]).join(':')
  return (ipAt(text, 0, text.length) as IP).toString()
}

/** Splits and trims the allowlist into its entries; throws a ProxyFixError naming a bad one. */
export function allowlistEntries (spec: string | readonly unknown[]): string[] {
  const list: readonly unknown[] = typeof spec === 'string' ? spec.split(',') : spec
  return list.map((entry, i) => {
    if (typeof entry !== 'string') {
      throw new ProxyFixError(codes.INVALID_TRUSTED_PROXY, `trusted proxy entry #${i + 1} must be a string, got ${typeof entry}`)
    }
    const trimmed = entry.trim()
    if (trimmed === '') throw invalid(entry, 'empty entry')
    return trimmed
  })
}

/** Compiles allowlist entries; throws a ProxyFixError naming a bad entry. */
export function compileAllowlist (entries: readonly string[]): Allowlist {
  return new Allowlist(entries)
}
