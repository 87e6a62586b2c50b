/**
 * The RFC 7239 `Forwarded` header, read like an address chain: from the
 * right, one element at a time, only as far as the walk goes.
 *
 *   Forwarded         = 1#forwarded-element
 *   forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
 *   forwarded-pair    = token "=" value
 *   value             = token / quoted-string
 *
 * Where the RFC leaves room, and why:
 * - Elements are separated by commas with optional spaces or tabs around them
 *   (the HTTP list rule). A comma inside a quoted string separates nothing:
 *   read from the right, a `"` opens a quoted string, and inside one a `"`
 *   after an odd run of backslashes is escaped.
 * - Inside an element there is no whitespace: not around `;` or `=`.
 * - Names are tokens in any case. `for`, `by`, `host` and `proto` given twice
 *   make the element malformed (section 4: a second `for` smuggled into a
 *   proxy's element must not be picked by position); a repeated extension
 *   parameter is not looked for, since nothing reads one.
 * - An empty token value (`for=`) and an empty pair (`;;`, a leading or
 *   trailing `;`) are malformed: no proxy writes one.
 * - An empty element (`for=a,,for=b`, a trailing comma) is an element without
 *   `for`: the walk ends there, which is the safe outcome.
 * - Characters outside Latin-1 cannot come from an HTTP/1.1 parser and are
 *   not obs-text: they make the element malformed.
 */

import { ipAt, portAt, type IP } from './ip'
import { skipSpaces, trimSpacesEnd } from './list'

/** The registered parameters of one element, unquoted and unescaped. */
export interface ForwardedElement {
  for?: string
  by?: string
  host?: string
  proto?: string
}

const HTAB = 0x09
const SP = 0x20
const DQUOTE = 0x22
const COMMA = 0x2c
const SEMICOLON = 0x3b
const EQUALS = 0x3d
const BACKSLASH = 0x5c
const DEL = 0x7f

// RFC 7230 tchar (all ASCII).
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1

function isTchar (c: number): boolean {
  return c < 0x80 && TCHAR[c] === 1
}

/** What may stand in a quoted-string, as qdtext or after a backslash: HTAB, SP, VCHAR, obs-text. */
function isQuotedText (c: number): boolean {
  return c === HTAB || (c >= SP && c !== DEL && c <= 0xff)
}

/**
 * The comma before the element that ends at `end` (exclusive), or -1 when
 * that element is the header's first. Quoted strings are recognised from
 * the right; an unbalanced quote makes the rest one element (malformed).
 */
export function elementComma (value: string, end: number): number {
  for (let i = end - 1; i >= 0; i--) {
    const c = value.charCodeAt(i)
    if (c === COMMA) return i
    if (c !== DQUOTE) continue
    // The closing quote of a quoted string: find the quote that opens it.
    for (i--; i >= 0; i--) {
      if (value.charCodeAt(i) !== DQUOTE) continue
      let run = 0
      while (i - run > 0 && value.charCodeAt(i - run - 1) === BACKSLASH) run++
      if (run % 2 === 0) break
      i -= run // an escaped quote, and the backslashes before it
    }
  }
  return -1
}

/** The end of the token that starts at value[i] (i itself when there is none). */
function tokenEnd (value: string, i: number, end: number): number {
  while (i < end && isTchar(value.charCodeAt(i))) i++
  return i
}

/** The end of the quoted-string that starts at value[i] (a `"`), or -1. */
function quotedEnd (value: string, i: number, end: number): number {
  for (i++; i < end; i++) {
    let c = value.charCodeAt(i)
    if (c === DQUOTE) return i + 1
    if (c === BACKSLASH && ++i < end) c = value.charCodeAt(i)
    if (!isQuotedText(c)) return -1
  }
  return -1
}

const ESCAPE = /\\([\s\S])/g

/** A value as a string: a token as is, a quoted-string unquoted and unescaped. */
function valueText (value: string, start: number, end: number): string {
  if (value.charCodeAt(start) !== DQUOTE) return value.slice(start, end)
  const inner = value.slice(start + 1, end - 1)
  return inner.includes('\\') ? inner.replace(ESCAPE, '$1') : inner
}

/** Which registered parameter value[start, end) names (in any case), or undefined. */
function registeredName (value: string, start: number, end: number): keyof ForwardedElement | undefined {
  const length = end - start
  if (length < 2 || length > 5) return undefined
  const name = value.slice(start, end).toLowerCase()
  return name === 'for' || name === 'by' || name === 'host' || name === 'proto' ? name : undefined
}

/**
 * Parses the element in value[start, end) (spaces and tabs around it
 * allowed): its registered parameters, or null when it is malformed.
 */
export function parseElement (value: string, start: number, end: number): ForwardedElement | null {
  let i = skipSpaces(value, start, end)
  end = trimSpacesEnd(value, i, end)
  const element: ForwardedElement = {}
  if (i === end) return element
  for (;;) {
    const nameStart = i
    i = tokenEnd(value, i, end)
    if (i === nameStart || i === end || value.charCodeAt(i) !== EQUALS) return null
    const name = registeredName(value, nameStart, i)
    const valueStart = ++i
    i = i < end && value.charCodeAt(i) === DQUOTE ? quotedEnd(value, i, end) : tokenEnd(value, i, end)
    if (i <= valueStart) return null
    if (name !== undefined) {
      if (element[name] !== undefined) return null
      element[name] = valueText(value, valueStart, i)
    }
    if (i === end) return element
    if (value.charCodeAt(i) !== SEMICOLON) return null
    i++
  }
}

/** A `for` value that names no address on purpose: `unknown`, or an obfuscated name. */
export const HIDDEN = 'hidden'

/** RFC 7239 obfuscated identifier (obfnode, obfport): "_" 1*(ALPHA / DIGIT / "." / "_" / "-"). */
export function isObfuscated (text: string, start: number, end: number): boolean {
  if (end - start < 2 || text.charCodeAt(start) !== 95) return false
  for (let i = start + 1; i < end; i++) {
    const c = text.charCodeAt(i)
    const lower = c | 0x20
    if (!((lower >= 97 && lower <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 45)) return false
  }
  return true
}

/** A node's port: 1–65535, or an obfuscated name. */
function isNodePort (text: string, start: number, end: number): boolean {
  return portAt(text, start, end) > 0 || isObfuscated(text, start, end)
}

/**
 * What a `for` value (unquoted) names: an address, HIDDEN, or null when it
 * is malformed. IPv6 must be bracketed; a port (or obfuscated port) may follow.
 */
export function forwardedNode (node: string): IP | typeof HIDDEN | null {
  const end = node.length
  if (node.charCodeAt(0) === 91) { // [
    const close = node.indexOf(']')
    if (close < 0 || (close + 1 < end && (node.charCodeAt(close + 1) !== 58 || !isNodePort(node, close + 2, end)))) return null
    const ip = ipAt(node, 1, close)
    return ip !== null && ip.written6 ? ip : null
  }
  const colon = node.indexOf(':')
  if (colon >= 0 && (node.indexOf(':', colon + 1) >= 0 || !isNodePort(node, colon + 1, end))) return null
  const nameEnd = colon < 0 ? end : colon
  const ip = ipAt(node, 0, nameEnd)
  if (ip !== null) return ip.written6 ? null : ip
  const hidden = (nameEnd === 7 && node.slice(0, 7).toLowerCase() === 'unknown') || isObfuscated(node, 0, nameEnd)
  return hidden ? HIDDEN : null
}

/**
 * Parses a whole `Forwarded` header value: its elements left to right, or
 * null when any of them is malformed. The walk never needs this (it reads
 * from the right, only as far as it goes); diagnostics and tests do.
 */
export function parseForwarded (value: string): ForwardedElement[] | null {
  const elements: ForwardedElement[] = []
  for (let end = value.length; end >= 0;) {
    const comma = elementComma(value, end)
    const element = parseElement(value, comma + 1, end)
    if (element === null) return null
    elements.push(element)
    end = comma
  }
  return elements.reverse()
}
