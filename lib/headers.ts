// Reading forwarded header values in place: list elements are found by index
// from the right, hosts, protocols, ports and prefixes are validated without
// splitting or copying the header.

import { endpoint, scanIPv6, scanPort, setIPv4 } from './address'
import { charClass, checkPrefix, percentEnd, runEnd, runStart } from './scan'

export type HeaderValue = string | string[] | undefined

/** One header's value as a string (repeated lines joined as Node joins them). */
export function headerText (value: HeaderValue): string | undefined {
  if (typeof value === 'string' || value === undefined) return value
  return value.join(', ')
}

/** The Host header (or HTTP/2 `:authority`) as Fastify reads it; `''` when there is neither. */
export function requestHost (headers: Record<string, HeaderValue>): string {
  return headerText(headers.host) ?? headerText(headers[':authority']) ?? ''
}

/** The host name part of a Host value (Fastify's rule: a bracketed IPv6 literal keeps its brackets). */
export function hostnameOf (host: string): string {
  if (host.charCodeAt(0) === 91) return host.slice(0, host.indexOf(']') + 1)
  const colon = host.indexOf(':')
  return colon < 0 ? host : host.slice(0, colon)
}

/** The span of the list element that ends at `end` (exclusive), without the
 *  spaces and tabs around it; `span.comma` is the comma before it, or -1. */
export const span = { start: 0, end: 0, comma: -1 }

function isOWS (c: number): boolean {
  return c === 32 || c === 9
}

// Runs of spaces and tabs longer than this are handed to the native scans
// (lib/scan.ts): a hostile 16 KB run then costs a copy and a SIMD scan, not a
// JavaScript loop (a call costs about as much as 30 characters of loop).
// Proxies write one space, so the loops below end at once.
const SHORT_RUN = 32
const OWS = charClass(/[ \t]/)

/** The first index in [start, end) that is not a space or tab, or `end`. */
export function skipOWS (text: string, start: number, end: number): number {
  const short = start + SHORT_RUN < end ? start + SHORT_RUN : end
  for (let i = start; i < short; i++) if (!isOWS(text.charCodeAt(i))) return i
  return runEnd(OWS, text, short, end)
}

/** Where text[start, end) ends without its trailing spaces and tabs, when
 *  text[start] is neither and `end` is a comma or the end of the text. */
function trimmedEnd (text: string, start: number, end: number): number {
  const short = end - SHORT_RUN > start ? end - SHORT_RUN : start
  for (let b = end; b > short; b--) if (!isOWS(text.charCodeAt(b - 1))) return b
  return runStart(OWS, text, start, short)
}

// How far back from the end of an element lastIndexOf may read: it reads one
// character at a time (about 10 µs for 16 KB), indexOf runs at memchr speed.
const NEAR = 64

/** The last comma before `end`, or -1, reading at most NEAR characters backwards. */
function commaBefore (text: string, end: number): number {
  // Most elements are short: the comma is among the last NEAR characters.
  const near = end > NEAR ? end - NEAR : 0
  for (let i = end - 1; i >= near; i--) if (text.charCodeAt(i) === 44) return i
  if (near === 0) return -1
  // A long element. `lo` is a comma, and there is none in [hi, end): narrow
  // the gap with forward searches until lastIndexOf has little left to read.
  let lo = text.indexOf(',')
  if (lo < 0 || lo >= near) return -1 // none, or the first is the one at `end` or past it
  let hi = near
  while (hi - lo > NEAR) {
    const next = text.indexOf(',', lo + 1)
    if (next < 0 || next >= hi) return lo // the comma after lo lies past the gap: lo is the last one
    lo = next
    const half = lo + ((hi - lo) >> 1)
    const comma = text.indexOf(',', half)
    if (comma >= 0 && comma < hi) lo = comma
    else hi = half
  }
  return text.lastIndexOf(',', hi - 1)
}

/** Finds the element of a comma list that ends at `end` (a comma, or the end
 *  of the text) and leaves it in `span`. */
export function previousElement (text: string, end: number): void {
  const i = commaBefore(text, end)
  span.comma = i
  const a = skipOWS(text, i + 1, end)
  span.start = a
  span.end = a === end ? end : trimmedEnd(text, a, end)
}

/**
 * The chain walk's fast path: the element that ends at `end`, when it is a
 * plain dotted quad with a few spaces or tabs around it at most, read
 * backwards in one pass (no search for the comma, no second forward scan).
 * It leaves `span`, `endpoint` and `parsed` exactly as previousElement +
 * scanEndpoint would; false means "not that simple" (a port, IPv6, brackets,
 * long runs of spaces, garbage), and the caller takes that path instead.
 */
export function previousQuad (text: string, end: number): boolean {
  let i = end - 1
  const trailing = i - SHORT_RUN
  let c = codeAt(text, i)
  while (isOWS(c)) {
    if (i === trailing) return false
    c = codeAt(text, --i)
  }
  const stop = i + 1
  let value = 0
  for (let shift = 0; shift < 32; shift += 8) {
    if (shift > 0) {
      if (c !== 46) return false
      c = codeAt(text, --i)
    }
    let octet = c - 48
    if (octet < 0 || octet > 9) return false
    c = codeAt(text, --i)
    if (c >= 48 && c <= 57) { // tens, then hundreds: the leading digit may not be 0
      const tens = c - 48
      c = codeAt(text, --i)
      if (c >= 48 && c <= 57) {
        octet += tens * 10 + (c - 48) * 100
        if (c === 48 || octet > 255) return false
        c = codeAt(text, --i)
        if (c >= 48 && c <= 57) return false
      } else {
        if (tens === 0) return false
        octet += tens * 10
      }
    }
    value |= octet << shift
  }
  const start = i + 1
  const leading = i - SHORT_RUN
  while (isOWS(c)) {
    if (i === leading) return false
    c = codeAt(text, --i)
  }
  if (i >= 0 && c !== 44) return false
  span.comma = i
  span.start = endpoint.start = start
  span.end = endpoint.end = stop
  setIPv4(value >>> 0)
  return true
}

/** The character code at `i`, or -1 before the start of the text. */
function codeAt (text: string, i: number): number {
  return i >= 0 ? text.charCodeAt(i) : -1
}

/** Where the host of the last `scanHost` ends, and its port (null when it has none). */
export const hostPart = { end: 0, port: null as number | null }

// RFC 3986 reg-name: unreserved / pct-encoded / sub-delims. A table: one load
// per character of a host instead of a chain of comparisons.
const REG_NAME = new Uint8Array(128)
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1

function isRegNameChar (c: number): boolean {
  return c < 128 && REG_NAME[c] === 1
}

function isHex (c: number): boolean {
  const l = c | 0x20
  return (c >= 48 && c <= 57) || (l >= 97 && l <= 102)
}

// Long hosts are checked by the native scans, short ones by the table: the
// same grammar either way (the tests hold the two to each other).
const LONG_HOST = 64
const REG_NAME_RUN = charClass(/[A-Za-z0-9\-._~!$&'()*+,;=%]/)
const FUTURE_RUN = charClass(/[A-Za-z0-9\-._~!$&'()*+,;=:]/)

function isIPvFuture (text: string, start: number, end: number): boolean {
  // "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
  if ((text.charCodeAt(start) | 0x20) !== 118) return false
  let i = start + 1
  while (i < end && isHex(text.charCodeAt(i))) i++
  if (i === start + 1 || i >= end - 1 || text.charCodeAt(i) !== 46) return false
  return runEnd(FUTURE_RUN, text, i + 1, end) === end
}

/** The end of the reg-name (RFC 3986: unreserved, sub-delims, %XX) that starts text[start, end). */
function regNameEnd (text: string, start: number, end: number): number {
  if (end - start > LONG_HOST) {
    // Natively: where the characters leave the grammar, or a `%` before that
    // is not followed by two hex digits, whichever comes first.
    const stop = runEnd(REG_NAME_RUN, text, start, end)
    const percent = text.indexOf('%', start)
    return percent < 0 || percent >= stop ? stop : percentEnd(text, percent, stop)
  }
  let i = start
  while (i < end) {
    const c = text.charCodeAt(i)
    if (c === 37) {
      if (i + 2 >= end || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return i
      i += 3
    } else if (isRegNameChar(c)) {
      i++
    } else {
      break
    }
  }
  return i
}

/** Validates an RFC 3986 host with an optional port in text[start, end). */
export function scanHost (text: string, start: number, end: number): boolean {
  let i = start
  if (text.charCodeAt(start) === 91) {
    i = text.indexOf(']', start)
    if (i < 0 || i >= end) return false
    if (!scanIPv6(text, start + 1, i) && !isIPvFuture(text, start + 1, i)) return false
    i++
  } else {
    i = regNameEnd(text, start, end)
    if (i === start) return false
  }
  hostPart.end = i
  if (i === end) {
    hostPart.port = null
    return true
  }
  if (text.charCodeAt(i) !== 58) return false
  const port = scanPort(text, i + 1, end)
  if (port < 0) return false
  hostPart.port = port
  return true
}

/** `'http'` or `'https'` (any case) in text[start, end), or null. */
export function scanProto (text: string, start: number, end: number): 'http' | 'https' | null {
  const length = end - start
  if (length !== 4 && length !== 5) return null
  if ((text.charCodeAt(start) | 0x20) !== 104 || (text.charCodeAt(start + 1) | 0x20) !== 116 ||
    (text.charCodeAt(start + 2) | 0x20) !== 116 || (text.charCodeAt(start + 3) | 0x20) !== 112) return null
  if (length === 4) return 'http'
  return (text.charCodeAt(start + 4) | 0x20) === 115 ? 'https' : null
}

// RFC 3986 pchar minus pct-encoded: unreserved / sub-delims / ":" / "@"
function isPathChar (c: number): boolean {
  return isRegNameChar(c) || c === 58 || c === 64
}

/** Whether text[start, end) is `.` or `..`, also spelled `%2e`. */
function isDotSegment (text: string, start: number, end: number): boolean {
  let dots = 0
  let i = start
  while (i < end) {
    if (text.charCodeAt(i) === 46) {
      i++
    } else if (text.charCodeAt(i) === 37 && text.charCodeAt(i + 1) === 50 && (text.charCodeAt(i + 2) | 0x20) === 101) {
      i += 3
    } else {
      return false
    }
    dots++
  }
  return dots === 1 || dots === 2
}

// Prefixes longer than this are checked natively (lib/scan.ts), shorter
// ones by the loop below: the same rules either way.
const LONG_PREFIX = 64
const PREFIX_RUN = charClass(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]/)
const SLASHES = charClass(/[/]/)

/**
 * A path prefix in text[start, end): starts with a single `/`; RFC 3986 path
 * characters only; no `.`/`..` segments (also `%2e`), no encoded `/` or `\`.
 * Returns it without trailing slashes (`/` alone gives `''`), or null.
 */
export function scanPrefix (text: string, start: number, end: number): string | null {
  if (start >= end || text.charCodeAt(start) !== 47) return null
  if (end - start > 1 && text.charCodeAt(start + 1) === 47) return null
  if (end - start > LONG_PREFIX) {
    const trailing = checkPrefix(PREFIX_RUN, SLASHES, text, start, end)
    if (trailing !== null) return trailing < 0 ? null : text.slice(start, trailing)
  }
  let segment = start + 1
  for (let i = start + 1; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 47
    if (c === 47) {
      if (isDotSegment(text, segment, i)) return null
      segment = i + 1
    } else if (c === 37) {
      if (i + 2 >= end || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return null
      const h1 = text.charCodeAt(i + 1)
      const h2 = text.charCodeAt(i + 2) | 0x20
      if ((h1 === 50 && h2 === 102) || (h1 === 53 && h2 === 99)) return null // %2f, %5c
      i += 2
    } else if (!isPathChar(c)) {
      return null
    }
  }
  let b = end
  while (b > start && text.charCodeAt(b - 1) === 47) b--
  return text.slice(start, b)
}
