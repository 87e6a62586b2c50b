// Strict IP address parsing for the hot path.
//
// A scan reads the characters between two indices of a string (so a header is
// never split or copied) and leaves the numeric address in `parsed`, where the
// trust matcher reads it. Only what the caller keeps (the canonical text) is
// ever allocated.
//
// IPv4 is four decimal octets without leading zeros; `010.0.0.1`, `1.2.3`,
// `0x7f.0.0.1` and `167772161` are not addresses. IPv6 follows RFC 4291 text
// forms as Node's `net.isIP` does (`::` stands for at least one group); zone
// ids are not accepted.

import { charClass, runEnd } from './scan'

/** The last address scanned: `family` 4 or 6; an IPv4-mapped IPv6 address is
 *  reported as family 4 (`v4`), so it matches IPv4 ranges. IPv6 is held as
 *  four 32-bit words, most significant first. */
export const parsed = { family: 0, mapped: false, v4: 0, w0: 0, w1: 0, w2: 0, w3: 0 }

const groups = new Uint16Array(8)

function hexValue (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  const l = c | 0x20
  if (l >= 97 && l <= 102) return l - 87
  return -1
}

/** The value of the dotted quad found by the last `quadEnd` (a typed array,
 *  so that storing a value above 2^31 allocates nothing). */
const quadValue = new Float64Array(1)

/**
 * Reads a dotted quad that starts at text[start] and returns the index just
 * after it (its value in `quadValue[0]`), or -1 when there is none. Each
 * character is read once: this is the hot path of every request.
 */
function quadEnd (text: string, start: number, end: number): number {
  let value = 0
  let octets = 0
  let i = start
  while (true) {
    if (i >= end) return -1
    let octet = text.charCodeAt(i++) - 48
    if (octet < 0 || octet > 9) return -1
    let c = i < end ? text.charCodeAt(i) : -1
    if (c >= 48 && c <= 57) {
      if (octet === 0) return -1 // no leading zeros
      octet = octet * 10 + c - 48
      c = ++i < end ? text.charCodeAt(i) : -1
      if (c >= 48 && c <= 57) {
        octet = octet * 10 + c - 48
        if (octet > 255) return -1
        c = ++i < end ? text.charCodeAt(i) : -1
        if (c >= 48 && c <= 57) return -1 // four digits
      }
    }
    value = value * 256 + octet
    if (++octets === 4) break
    if (c !== 46) return -1
    i++
  }
  quadValue[0] = value
  return i
}

/** Leaves the IPv4 address `value` in `parsed`. */
export function setIPv4 (value: number): void {
  parsed.family = 4
  parsed.mapped = false
  parsed.v4 = value
}

/** Scans a dotted-quad IPv4 address in text[start, end) into `parsed.v4`. */
export function scanIPv4 (text: string, start: number, end: number): boolean {
  if (quadEnd(text, start, end) !== end) return false
  setIPv4(quadValue[0])
  return true
}

/** Scans an IPv6 address (no brackets, no zone) in text[start, end). */
export function scanIPv6 (text: string, start: number, end: number): boolean {
  if (end - start < 2) return false
  let count = 0
  let gap = -1
  let i = start
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false
    gap = 0
    i += 2
  }
  while (i < end) {
    const first = i
    let value = 0
    while (i < end && i - first < 5) {
      const h = hexValue(text.charCodeAt(i))
      if (h < 0) break
      value = value * 16 + h
      i++
    }
    const digits = i - first
    if (digits === 0 || digits > 4) return false
    if (i < end && text.charCodeAt(i) === 46) {
      // Embedded IPv4 in the last 32 bits.
      if (count > 6 || !scanIPv4(text, first, end)) return false
      groups[count++] = parsed.v4 >>> 16
      groups[count++] = parsed.v4 & 0xffff
      i = end
      break
    }
    if (count === 8) return false
    groups[count++] = value
    if (i === end) break
    if (text.charCodeAt(i) !== 58) return false
    i++
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false
      gap = count
      i++
    } else if (i === end) {
      return false
    }
  }
  if (gap < 0) {
    if (count !== 8) return false
  } else {
    if (count > 7) return false
    const tail = count - gap
    for (let k = 1; k <= tail; k++) groups[8 - k] = groups[count - k]
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0
  }
  setIPv6FromGroups()
  return true
}

function setIPv6FromGroups (): void {
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 &&
    groups[4] === 0 && groups[5] === 0xffff) {
    parsed.family = 4
    parsed.mapped = true
    parsed.v4 = groups[6] * 65536 + groups[7]
    return
  }
  parsed.family = 6
  parsed.w0 = (groups[0] * 65536 + groups[1]) >>> 0
  parsed.w1 = (groups[2] * 65536 + groups[3]) >>> 0
  parsed.w2 = (groups[4] * 65536 + groups[5]) >>> 0
  parsed.w3 = (groups[6] * 65536 + groups[7]) >>> 0
}

/** Scans a bare IPv4 or IPv6 address in text[start, end). (No IPv4 text is
 *  IPv6 and the other way round, so trying both in turn is exact.) */
export function scanIP (text: string, start: number, end: number): boolean {
  return scanIPv4(text, start, end) || scanIPv6(text, start, end)
}

/** A port in text[start, end): 1–65535 in decimal without a leading zero; -1 otherwise. */
export function scanPort (text: string, start: number, end: number): number {
  const digits = end - start
  if (digits < 1 || digits > 5 || text.charCodeAt(start) === 48) return -1
  let port = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    port = port * 10 + (c - 48)
  }
  return port <= 65535 ? port : -1
}

// Names longer than this (a hostile 16 KB `for=_…`) are checked by the native scans.
const LONG_NAME = 64
const OBFUSCATED = charClass(/[A-Za-z0-9._-]/)

/** RFC 7239 obfuscated identifier (obfnode, obfport): "_" 1*(ALPHA / DIGIT / "." / "_" / "-"). */
export function isObfuscated (text: string, start: number, end: number): boolean {
  if (end - start < 2 || text.charCodeAt(start) !== 95) return false
  if (end - start > LONG_NAME) return runEnd(OBFUSCATED, text, start + 1, end) === end
  for (let i = start + 1; i < end; i++) {
    const c = text.charCodeAt(i)
    const l = c | 0x20
    if (!((l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 45)) return false
  }
  return true
}

function validPort (text: string, start: number, end: number, obfuscated: boolean): boolean {
  return scanPort(text, start, end) > 0 || (obfuscated && isObfuscated(text, start, end))
}

/** Where the address of the last `scanEndpoint` starts and ends in its text. */
export const endpoint = { start: 0, end: 0 }

/**
 * Scans an address as proxies write it in a list: `203.0.113.7`,
 * `203.0.113.7:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
 * The port is checked and dropped; `obfuscatedPort` also accepts RFC 7239's
 * `_name` ports. The address span is left in `endpoint`.
 */
export function scanEndpoint (text: string, start: number, end: number, obfuscatedPort = false): boolean {
  if (start >= end) return false
  if (text.charCodeAt(start) === 91) {
    const close = text.indexOf(']', start) // native: a 16 KB value costs no loop
    if (close < 0 || close >= end) return false
    if (close + 1 < end) {
      if (text.charCodeAt(close + 1) !== 58 || !validPort(text, close + 2, end, obfuscatedPort)) return false
    }
    endpoint.start = start + 1
    endpoint.end = close
    return scanIPv6(text, start + 1, close)
  }
  // A dotted quad, alone or followed by a port, in one pass.
  const quad = quadEnd(text, start, end)
  if (quad === end || (quad >= 0 && text.charCodeAt(quad) === 58 && validPort(text, quad + 1, end, obfuscatedPort))) {
    setIPv4(quadValue[0])
    endpoint.start = start
    endpoint.end = quad
    return true
  }
  // Anything else can only be an unbracketed IPv6 address, which takes no port
  // (an IPv4 text, with or without a port, has fewer than two colons and is never IPv6).
  endpoint.start = start
  endpoint.end = end
  return scanIPv6(text, start, end)
}

function dotted (v4: number): string {
  return (v4 >>> 24) + '.' + ((v4 >>> 16) & 255) + '.' + ((v4 >>> 8) & 255) + '.' + (v4 & 255)
}

/** RFC 5952 text of the IPv6 address just scanned (lowercase, longest zero run compressed). */
function formatIPv6 (): string {
  const g = groups
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  let out = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::'
      i += bestLength - 1
      continue
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':'
    out += g[i].toString(16)
  }
  return out
}

/**
 * The canonical text of the address just scanned from text[start, end):
 * dotted decimal for IPv4 and IPv4-mapped IPv6, RFC 5952 for IPv6. A strict
 * IPv4 scan only accepts the canonical spelling, so it is reused as is.
 */
export function canonical (text: string, start: number, end: number): string {
  if (parsed.family === 4) {
    if (parsed.mapped) return dotted(parsed.v4)
    return start === 0 && end === text.length ? text : text.slice(start, end)
  }
  return formatIPv6()
}

/** The canonical text of a bare address, or null when `text` is not one. */
export function parseIP (text: string): string | null {
  return scanIP(text, 0, text.length) ? canonical(text, 0, text.length) : null
}

/** The canonical address of a list entry that may carry a port, or null. */
export function parseEndpoint (text: string, obfuscatedPort = false): string | null {
  if (!scanEndpoint(text, 0, text.length, obfuscatedPort)) return null
  return canonical(text, endpoint.start, endpoint.end)
}
