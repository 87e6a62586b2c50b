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

/** An inclusive range of addresses as integers (32-bit for IPv4, 128-bit for IPv6), for diagnostics. */
export type Interval = [bigint, bigint]

/** The blocks of an allowlist before merging: IPv4 as [first, last] numbers,
 *  IPv6 as 8 words each (first address, then last address); and the texts of
 *  the single addresses. */
interface Blocks {
  v4: number[]
  v6: number[]
  texts: string[]
}

/** The compiled allowlist. */
export class Allowlist {
  /** The entries as written (trimmed), for diagnostics. */
  readonly entries: readonly string[]
  /** The entries that trust every IPv4 address on their own (`0.0.0.0/0`, `::/0`, `::/8`…). */
  readonly coveringIPv4: readonly string[]
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
      for (let i = before; i < blocks.v4.length; i += 2) {
        if (blocks.v4[i] === 0 && blocks.v4[i + 1] === 0xffffffff) covering.push(entry)
      }
    }
    this.entries = entries
    this.coveringIPv4 = [...new Set(covering)]
    this.addressTexts = new Set(blocks.texts)
    ;[this.v4Starts, this.v4Ends] = mergeV4(blocks.v4)
    ;[this.v6Starts, this.v6Ends] = mergeV6(blocks.v6)
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

  /** The ranges after merging, for diagnostics. */
  get ranges (): { v4: Interval[], v6: Interval[] } {
    const v4 = Array.from(this.v4Starts, (start, i): Interval => [BigInt(start), BigInt(this.v4Ends[i])])
    const v6 = Array.from({ length: this.v6Starts.length >>> 2 }, (_, i): Interval =>
      [toBigInt(this.v6Starts, i << 2), toBigInt(this.v6Ends, i << 2)])
    return { v4, v6 }
  }
}

/** Compares the address at words[at..at+3] with `ip`. */
function compareWith (words: Uint32Array, at: number, ip: IP): number {
  return (words[at] - ip.w0) || (words[at + 1] - ip.w1) || (words[at + 2] - ip.w2) || (words[at + 3] - ip.w3)
}

function toBigInt (words: Uint32Array, at: number): bigint {
  return (BigInt(words[at]) << 96n) | (BigInt(words[at + 1]) << 64n) | (BigInt(words[at + 2]) << 32n) | BigInt(words[at + 3])
}

/** Sorts and merges overlapping or adjacent IPv4 blocks ([first, last] pairs) into [starts, ends]. */
function mergeV4 (pairs: number[]): [Float64Array, Float64Array] {
  const order = Array.from({ length: pairs.length >>> 1 }, (_, i) => i << 1).sort((a, b) => pairs[a] - pairs[b])
  const starts: number[] = []
  const ends: number[] = []
  for (const at of order) {
    const last = ends.length - 1
    if (last >= 0 && pairs[at] <= ends[last] + 1) {
      ends[last] = Math.max(ends[last], pairs[at + 1])
    } else {
      starts.push(pairs[at])
      ends.push(pairs[at + 1])
    }
  }
  return [Float64Array.from(starts), Float64Array.from(ends)]
}

/** Compares the 4-word addresses a[i..i+3] and b[j..j+3]. */
function compare (a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  return (a[i] - b[j]) || (a[i + 1] - b[j + 1]) || (a[i + 2] - b[j + 2]) || (a[i + 3] - b[j + 3])
}

/** Whether the 4-word address b[j..j+3] is the one right after a[i..i+3]. */
function follows (a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): boolean {
  let carry = 1
  for (let k = 3; k >= 0; k--) {
    const next = a[i + k] + carry
    carry = next > 0xffffffff ? 1 : 0
    if ((next >>> 0) !== b[j + k]) return false
  }
  return carry === 0
}

/** Sorts and merges overlapping or adjacent IPv6 blocks into [starts, ends] (4 words each). */
function mergeV6 (blocks: number[]): [Uint32Array, Uint32Array] {
  const order = Array.from({ length: blocks.length >>> 3 }, (_, i) => i << 3).sort((a, b) => compare(blocks, a, blocks, b))
  const starts: number[] = []
  const ends: number[] = []
  for (const at of order) {
    const last = ends.length - 4
    if (last >= 0 && (compare(blocks, at, ends, last) <= 0 || follows(ends, last, blocks, at))) {
      if (compare(blocks, at + 4, ends, last) > 0) ends.splice(last, 4, ...blocks.slice(at + 4, at + 8))
    } else {
      starts.push(...blocks.slice(at, at + 4))
      ends.push(...blocks.slice(at + 4, at + 8))
    }
  }
  return [Uint32Array.from(starts), Uint32Array.from(ends)]
}

function invalid (entry: string, why: string): ProxyFixError {
  return new ProxyFixError(codes.INVALID_TRUSTED_PROXY, `trusted proxy entry '${entry}': ${why}`)
}

/** The mask of word `k` (0 = most significant) of an IPv6 prefix. */
function wordMask (prefix: number, k: number): number {
  const kept = Math.min(32, Math.max(0, prefix - 32 * k))
  return kept === 0 ? 0 : (~0 << (32 - kept)) >>> 0
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
    const size = 2 ** (32 - v4Prefix)
    const first = ip.v4 - ip.v4 % size // a CIDR with host bits set means its network
    blocks.v4.push(first, first + size - 1)
    return
  }
  if (prefix === 128) blocks.texts.push(ip.toString())
  const m = [wordMask(prefix, 0), wordMask(prefix, 1), wordMask(prefix, 2), wordMask(prefix, 3)]
  const w = [ip.w0, ip.w1, ip.w2, ip.w3]
  const first = w.map((word, k) => (word & m[k]) >>> 0)
  const last = w.map((word, k) => (word | ~m[k]) >>> 0)
  blocks.v6.push(...first, ...last)
  // A block either holds the whole IPv4-mapped block (::ffff:0:0/96) or
  // misses it (one inside it is written as a mapped address, above): if it
  // holds it, it trusts every IPv4 peer.
  if (prefix <= 96 && first[0] === 0 && first[1] === 0 && first[2] === (0xffff & m[2]) >>> 0) blocks.v4.push(0, 0xffffffff)
}

function dottedNetwork (v4: number, prefix: number): string {
  const size = 2 ** (32 - Math.max(0, Math.min(32, prefix)))
  const network = v4 - v4 % size
  return [network >>> 24, (network >>> 16) & 255, (network >>> 8) & 255, network & 255].join('.')
}

/** The IPv6 network text of `ip` masked to `prefix` bits. */
function maskedText (ip: IP, prefix: number): string {
  const words = [ip.w0, ip.w1, ip.w2, ip.w3].map((word, k) => (word & wordMask(prefix, k)) >>> 0)
  const text = words.flatMap((word) => [(word >>> 16).toString(16), (word & 0xffff).toString(16)]).join(':')
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
