// The values a trusted proxy forwards besides addresses: the host (RFC 3986
// host with an optional port), the protocol, the port and the path prefix.
// Each parser takes one list element and returns what it found, or null.

import { ipv6At, portAt } from './ip'

/** A forwarded host: `host` as sent, its name part, and its port (null without one). */
export interface ForwardedHost {
  host: string
  hostname: string
  port: number | null
}

/** A table of the characters of a class, for one load per character. */
function characters (list: string): Uint8Array {
  const table = new Uint8Array(128)
  for (const c of list) table[c.charCodeAt(0)] = 1
  return table
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
// RFC 3986 unreserved and sub-delims: a reg-name, with pct-encoded.
const REG_NAME = characters(ALPHANUMERIC + "-._~!$&'()*+,;=")
// IPvFuture after its version: unreserved, sub-delims and ":".
const FUTURE = characters(ALPHANUMERIC + "-._~!$&'()*+,;=:")

function isHex (c: number): boolean {
  const lower = c | 0x20
  return (c >= 48 && c <= 57) || (lower >= 97 && lower <= 102)
}

function inTable (table: Uint8Array, c: number): boolean {
  return c < 128 && table[c] === 1
}

/** Whether text[i] starts a `%XX` escape that ends before `end`. */
function isEscape (text: string, i: number, end: number): boolean {
  return i + 2 < end && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))
}

/** The end of the reg-name that starts text[start, end). */
function regNameEnd (text: string, start: number, end: number): number {
  let i = start
  while (i < end) {
    const c = text.charCodeAt(i)
    if (inTable(REG_NAME, c)) i++
    else if (c === 37 && isEscape(text, i, end)) i += 3
    else break
  }
  return i
}

/** Whether text[start, end) is an IPvFuture literal: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ). */
function isIPvFuture (text: string, start: number, end: number): boolean {
  if ((text.charCodeAt(start) | 0x20) !== 118) return false
  let i = start + 1
  while (i < end && isHex(text.charCodeAt(i))) i++
  if (i === start + 1 || i + 1 >= end || text.charCodeAt(i) !== 46) return false
  for (i++; i < end; i++) if (!inTable(FUTURE, text.charCodeAt(i))) return false
  return true
}

/** An RFC 3986 host with an optional port (1–65535), or null. */
export function parseHost (text: string): ForwardedHost | null {
  const end = text.length
  let nameEnd: number
  if (text.charCodeAt(0) === 91) { // [
    nameEnd = text.indexOf(']') + 1
    if (nameEnd === 0) return null
    if (ipv6At(text, 1, nameEnd - 1) === null && !isIPvFuture(text, 1, nameEnd - 1)) return null
  } else {
    nameEnd = regNameEnd(text, 0, end)
    if (nameEnd === 0) return null
  }
  if (nameEnd === end) return { host: text, hostname: text, port: null }
  if (text.charCodeAt(nameEnd) !== 58) return null
  const port = portAt(text, nameEnd + 1, end)
  return port < 0 ? null : { host: text, hostname: text.slice(0, nameEnd), port }
}

/** `'http'` or `'https'` (in any case), or null. */
export function parseProto (text: string): 'http' | 'https' | null {
  const lower = text.length <= 5 ? text.toLowerCase() : ''
  return lower === 'http' || lower === 'https' ? lower : null
}

// A path prefix, in two native passes. First its characters: a single
// leading `/`, then RFC 3986 pchars (with pct-encoded) and `/`; sticky and
// without `$`, so that a bad character ends the match where it is, with no
// backtracking (lastIndex, set before each use, tells how far it went).
// Then what no prefix may hold: a `.` or `..` segment (a dot also spelled
// `%2e`), an encoded `/` (%2F), `\` (%5C) or control character (%00–%1F, %7F).
const PREFIX_CHARACTERS = /\/(?!\/)(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*/y
const FORBIDDEN_IN_PREFIX = /\/(?:\.|%2e)(?:\.|%2e)?(?:\/|$)|%(?:[01][0-9a-f]|7f|2f|5c)/i

/**
 * A path prefix: starts with a single `/`; RFC 3986 path characters only;
 * no `.` or `..` segment (also as `%2e`), no encoded `/`, `\` or control
 * character. Returns it without trailing slashes (`/` alone gives `''`), or null.
 */
export function parsePrefix (text: string): string | null {
  PREFIX_CHARACTERS.lastIndex = 0
  if (!PREFIX_CHARACTERS.test(text) || PREFIX_CHARACTERS.lastIndex !== text.length || FORBIDDEN_IN_PREFIX.test(text)) return null
  let trimmed = text.length
  while (trimmed > 0 && text.charCodeAt(trimmed - 1) === 47) trimmed--
  return trimmed === text.length ? text : text.slice(0, trimmed)
}
