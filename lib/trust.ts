// The trusted-proxy allowlist, compiled once at registration into sorted,
// merged range tables. A lookup is a binary search, so 10,000 CIDR blocks
// cost a few comparisons more than two. Compiling is plain number arithmetic
// (IPv6 as four 32-bit words, no BigInt), so 10,000 entries take a few ms.

import { parsed, scanIP, scanPort } from './address'
import { ProxyFixError, codes } from './errors'

/** A user's own trust decision: `hop` counts from 0 = the socket peer. */
export type TrustFunction = (address: string, hop: number) => boolean
export type TrustSpec = string | readonly string[] | TrustFunction

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

type Interval = [bigint, bigint]

/**
 * The blocks of an allowlist before merging. Every block is a CIDR block, so
 * an IPv4 block is its start and its number of host bits, packed in one
 * number (`start * 64 + hostBits`, exact below 2^38) that sorts by start.
 * An IPv6 block is 8 words: its first and its last address, 4 words each.
 */
interface Blocks {
  v4: number[]
  v6: number[]
}

/** Matches the address left in `parsed` by the last scan against the allowlist. */
export class TrustMatcher {
  private readonly v4Starts: Float64Array
  private readonly v4Ends: Float64Array
  private readonly v6Starts: Uint32Array
  private readonly v6Ends: Uint32Array

  constructor (blocks: Blocks) {
    const v4 = mergeV4(blocks.v4)
    this.v4Starts = v4[0]
    this.v4Ends = v4[1]
    const v6 = mergeV6(blocks.v6)
    this.v6Starts = v6[0]
    this.v6Ends = v6[1]
  }

  /** The ranges after merging, for diagnostics (IPv6 as 128-bit integers). */
  get ranges (): { v4: Interval[], v6: Interval[] } {
    const v4 = Array.from(this.v4Starts, (start, i): Interval => [BigInt(start), BigInt(this.v4Ends[i])])
    const v6 = Array.from({ length: this.v6Starts.length >>> 2 }, (_, i): Interval => [toBigInt(this.v6Starts, i << 2), toBigInt(this.v6Ends, i << 2)])
    return { v4, v6 }
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

function toBigInt (words: Uint32Array, at: number): bigint {
  return (BigInt(words[at]) << 96n) | (BigInt(words[at + 1]) << 64n) | (BigInt(words[at + 2]) << 32n) | BigInt(words[at + 3])
}

/** 2^k for k = 0…32: the size of a block with k host bits. */
const BLOCK_SIZE = Array.from({ length: 33 }, (_, k) => 2 ** k)

/** Sorts and merges overlapping or adjacent IPv4 blocks into [starts, ends]. */
function mergeV4 (packed: number[]): [Float64Array, Float64Array] {
  const keys = Float64Array.from(packed).sort()
  const starts = new Float64Array(keys.length)
  const ends = new Float64Array(keys.length)
  let count = 0
  for (let i = 0; i < keys.length; i++) {
    const hostBits = keys[i] % 64
    const start = (keys[i] - hostBits) / 64
    const end = start + BLOCK_SIZE[hostBits] - 1
    if (count > 0 && start <= ends[count - 1] + 1) {
      if (end > ends[count - 1]) ends[count - 1] = end
    } else {
      starts[count] = start
      ends[count++] = end
    }
  }
  return [starts.slice(0, count), ends.slice(0, count)]
}

/** Compares the 4-word addresses a[i..i+3] and b[j..j+3]. */
function compare (a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  return (a[i] - b[j]) || (a[i + 1] - b[j + 1]) || (a[i + 2] - b[j + 2]) || (a[i + 3] - b[j + 3])
}

function copyWords (from: ArrayLike<number>, i: number, to: Uint32Array, j: number): void {
  to[j] = from[i]
  to[j + 1] = from[i + 1]
  to[j + 2] = from[i + 2]
  to[j + 3] = from[i + 3]
}

/** Sorts and merges overlapping or adjacent IPv6 blocks into [starts, ends] (4 words each). */
function mergeV6 (blocks: number[]): [Uint32Array, Uint32Array] {
  const order = new Uint32Array(blocks.length >>> 3)
  for (let i = 0; i < order.length; i++) order[i] = i << 3
  order.sort((a, b) => compare(blocks, a, blocks, b))
  const starts = new Uint32Array(blocks.length >>> 1)
  const ends = new Uint32Array(blocks.length >>> 1)
  const next = new Uint32Array(4) // the address after the last merged end
  let count = 0
  for (let i = 0; i < order.length; i++) {
    const at = order[i]
    const last = (count - 1) << 2
    if (count > 0 && (compare(blocks, at, ends, last) <= 0 || compare(blocks, at, next, 0) === 0)) {
      if (compare(blocks, at + 4, ends, last) > 0) copyWords(blocks, at + 4, ends, last)
    } else {
      copyWords(blocks, at, starts, count << 2)
      copyWords(blocks, at + 4, ends, count << 2)
      count++
    }
    // next = end + 1, with the carry (it wraps to 0 after the last address, where nothing can follow)
    copyWords(ends, (count - 1) << 2, next, 0)
    for (let k = 3; k >= 0; k--) {
      next[k] = next[k] + 1
      if (next[k] !== 0) break
    }
  }
  return [starts.slice(0, count << 2), ends.slice(0, count << 2)]
}

function invalid (entry: string, why: string): ProxyFixError {
  return new ProxyFixError(codes.INVALID_TRUSTED_PROXY, `trusted proxy entry '${entry}': ${why}`)
}

/** The mask of word `k` (0 = most significant) of an IPv6 prefix. */
function wordMask (prefix: number, k: number): number {
  const kept = Math.min(32, Math.max(0, prefix - 32 * k))
  return ~(2 ** (32 - kept) - 1) >>> 0
}

/** Adds one allowlist entry (address, CIDR block or name) to the blocks. */
function addEntry (entry: string, blocks: Blocks): void {
  const slash = entry.indexOf('/')
  const end = slash < 0 ? entry.length : slash
  // a zone id anywhere (`fe80::1%eth0`, or after the prefix length, `fe80::/10%eth0`)
  if (entry.includes('%')) throw invalid(entry, 'zone ids are not accepted in the allowlist')
  if (!scanIP(entry, 0, end)) {
    // Not an address, so maybe a name (names have no '/' or '%', and no address is a name).
    const named = NAMED.get(entry.toLowerCase())
    if (named === undefined) {
      throw invalid(entry, "not an IP address, CIDR block or one of 'loopback', 'linklocal', 'uniquelocal', 'private'")
    }
    for (const range of named) addEntry(range, blocks)
    return
  }
  const ipv6Syntax = parsed.family === 6 || parsed.mapped // the address was written with colons
  const width = ipv6Syntax ? 128 : 32
  let prefix = width
  if (slash >= 0) {
    // 0, or a decimal number without a leading zero (scanPort reads those)
    prefix = entry.length === slash + 2 && entry.charCodeAt(slash + 1) === 48 ? 0 : scanPort(entry, slash + 1, entry.length)
    if (prefix < 0 || prefix > width) throw invalid(entry, `prefix length must be 0–${width}`)
  }
  if (!ipv6Syntax) {
    const hostBits = 32 - prefix
    const start = parsed.v4 - parsed.v4 % 2 ** hostBits // a CIDR with host bits set means its network
    blocks.v4.push(start * 64 + hostBits)
    return
  }
  const family6 = parsed.family === 6
  const w0 = family6 ? parsed.w0 : 0
  const w1 = family6 ? parsed.w1 : 0
  const w2 = family6 ? parsed.w2 : 0xffff
  const w3 = family6 ? parsed.w3 : parsed.v4
  const m0 = wordMask(prefix, 0)
  const m1 = wordMask(prefix, 1)
  const m2 = wordMask(prefix, 2)
  const m3 = wordMask(prefix, 3)
  const s0 = (w0 & m0) >>> 0
  const s1 = (w1 & m1) >>> 0
  const s2 = (w2 & m2) >>> 0
  const s3 = (w3 & m3) >>> 0
  blocks.v6.push(s0, s1, s2, s3, (w0 | ~m0) >>> 0, (w1 | ~m1) >>> 0, (w2 | ~m2) >>> 0, (w3 | ~m3) >>> 0)
  // The IPv4-mapped part (::ffff:0:0/96) of an IPv6 block matches IPv4
  // addresses too: a CIDR block either holds all of it or lies inside it.
  if (s0 === 0 && s1 === 0 && s2 === ((0xffff & m2) >>> 0)) {
    blocks.v4.push(s3 * 64 + 32 - Math.max(0, prefix - 96))
  }
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
  const blocks: Blocks = { v4: [], v6: [] }
  for (const entry of entries) addEntry(entry, blocks)
  return new TrustMatcher(blocks)
}
