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

import { IP, ipAt, ipv4At, ipv6At, portAt } from './ip'
import { skipSpaces, trimSpacesEnd } from './list'

const DQUOTE = 0x22
const COMMA = 0x2c
const SEMICOLON = 0x3b
const EQUALS = 0x3d
const BACKSLASH = 0x5c

// RFC 7230 tchar (all ASCII).
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1

function isTchar (c: number): boolean {
  return c < 0x80 && TCHAR[c] === 1
}

/**
 * The comma before the element that ends at `end` (exclusive), or -1 when
 * that element is the header's first. Quoted strings are recognised from
 * the right; an unbalanced quote makes the rest one element (malformed).
 * `firstComma` is `value.indexOf(',')`, found once per header: with no comma
 * before `end`, nothing is read backwards.
 */
export function elementComma (value: string, end: number, firstComma: number): number {
  if (firstComma < 0 || firstComma >= end) return -1
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

// RFC 7230 quoted-string: qdtext (HTAB, SP, VCHAR but `"` and `\`, obs-text)
// and quoted-pair (`\` then HTAB, SP, VCHAR or obs-text). Sticky: matched
// in place in the header, from lastIndex, which is set before each use.
const QUOTED = /"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"/y

/** The end of the quoted-string that starts at value[i] (a `"`) and ends by `end`, or -1. */
function quotedEnd (value: string, i: number, end: number): number {
  QUOTED.lastIndex = i
  return QUOTED.test(value) && QUOTED.lastIndex <= end ? QUOTED.lastIndex : -1
}

/** The content of a quoted-string, unescaped: each `\` stands for the character after it. */
function unescape (quoted: string): string {
  // Over the bytes (QUOTED let only Latin-1 through): building the string
  // piece by piece would cost a call per escape, and a value can hold 8,000.
  const bytes = Buffer.from(quoted, 'latin1')
  let length = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === BACKSLASH) i++
    bytes[length++] = bytes[i]
  }
  return bytes.toString('latin1', 0, length)
}

/** A value as a string: a token as is, a quoted-string unquoted and unescaped. */
function valueText (value: string, start: number, end: number): string {
  if (value.charCodeAt(start) !== DQUOTE) return value.slice(start, end)
  const inner = value.slice(start + 1, end - 1)
  return inner.includes('\\') ? unescape(inner) : inner
}

/** Whether value[start…] is `lower` (a lowercase name) in any case. */
function isName (value: string, start: number, lower: string): boolean {
  // `| 0x20` lowercases a letter, and maps no other token character onto one.
  for (let k = 0; k < lower.length; k++) if ((value.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false
  return true
}

// The registered parameters, as small numbers (cheaper to compare than their names).
const FOR = 0
const BY = 1
const HOST = 2
const PROTO = 3
const NOT_REGISTERED = -1
type RegisteredName = typeof FOR | typeof BY | typeof HOST | typeof PROTO

/**
 * Where the registered parameters of one element are in the header: each
 * value as written (a quoted-string with its quotes), start -1 when absent.
 * The walk reads one element after another into the same spans, so that no
 * element costs an object or a copy of its values.
 */
export class ElementSpans {
  forStart = -1
  forEnd = -1
  byStart = -1
  byEnd = -1
  hostStart = -1
  hostEnd = -1
  protoStart = -1
  protoEnd = -1

  clear (): void {
    this.forStart = this.byStart = this.hostStart = this.protoStart = -1
  }

  /** Records the value at [start, end) of the registered parameter `name`; false when the element already gave it. */
  set (name: RegisteredName, start: number, end: number): boolean {
    if (name === FOR) {
      if (this.forStart >= 0) return false
      this.forStart = start
      this.forEnd = end
    } else if (name === BY) {
      if (this.byStart >= 0) return false
      this.byStart = start
      this.byEnd = end
    } else if (name === HOST) {
      if (this.hostStart >= 0) return false
      this.hostStart = start
      this.hostEnd = end
    } else {
      if (this.protoStart >= 0) return false
      this.protoStart = start
      this.protoEnd = end
    }
    return true
  }
}

/** Which registered parameter value[start, end) names (in any case), or NOT_REGISTERED. */
function registeredName (value: string, start: number, end: number): RegisteredName | typeof NOT_REGISTERED {
  switch (end - start) {
    case 2: return isName(value, start, 'by') ? BY : NOT_REGISTERED
    case 3: return isName(value, start, 'for') ? FOR : NOT_REGISTERED
    case 4: return isName(value, start, 'host') ? HOST : NOT_REGISTERED
    case 5: return isName(value, start, 'proto') ? PROTO : NOT_REGISTERED
    default: return NOT_REGISTERED
  }
}

/**
 * Parses the element in value[start, end) (spaces and tabs around it
 * allowed) into `spans`: false when it is malformed.
 */
export function parseElement (value: string, start: number, end: number, spans: ElementSpans): boolean {
  spans.clear()
  let i = skipSpaces(value, start, end)
  end = trimSpacesEnd(value, i, end)
  if (i === end) return true
  for (;;) {
    const nameStart = i
    i = tokenEnd(value, i, end)
    if (i === nameStart || i === end || value.charCodeAt(i) !== EQUALS) return false
    const name = registeredName(value, nameStart, i)
    if (name === NOT_REGISTERED) {
      // Extension parameters are only checked: a run of them in one native pass.
      i = nameStart + extensionsLength(value, nameStart, end)
      if (i === nameStart) return false
      if (i === end) return value.charCodeAt(i - 1) !== SEMICOLON
      continue
    }
    const valueStart = ++i
    i = i < end && value.charCodeAt(i) === DQUOTE ? quotedEnd(value, i, end) : tokenEnd(value, i, end)
    if (i <= valueStart || !spans.set(name, valueStart, i)) return false
    if (i === end) return true
    if (value.charCodeAt(i) !== SEMICOLON) return false
    i++
  }
}

/** A value's text from its span (unquoted and unescaped), or undefined when absent. */
export function spanText (value: string, start: number, end: number): string | undefined {
  return start < 0 ? undefined : valueText(value, start, end)
}

// Extension pairs one after another, each followed by `;` or the end: token
// "=" (token / quoted-string), as long as the name is not a registered one.
const EXTENSIONS = /^(?:(?!(?:for|by|host|proto)=)[!#$%&'*+\-.^_`|~0-9A-Za-z]+=(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*")(?:;|$))*/i

/** How long the run of extension pairs at value[start, end) is (with the `;` after each). */
function extensionsLength (value: string, start: number, end: number): number {
  return (EXTENSIONS.exec(value.slice(start, end)) as RegExpExecArray)[0].length
}

/** A `for` value that names no address on purpose: `unknown`, or an obfuscated name. */
export const HIDDEN = 'hidden'

/** RFC 7239 obfuscated identifier (obfnode, obfport): "_" 1*(ALPHA / DIGIT / "." / "_" / "-"). */
const OBFUSCATED = /^_[A-Za-z0-9._-]+$/

export function isObfuscated (text: string): boolean {
  return OBFUSCATED.test(text)
}

/** A node's port: 1–65535, or an obfuscated name. */
function isNodePort (port: string): boolean {
  return portAt(port, 0, port.length) > 0 || isObfuscated(port)
}

// A node outside brackets: a name, then maybe `:` and a port (IPv6 must be bracketed).
const NODE = /^([^:]*)(?::([^:]*))?$/
// Inside brackets, then maybe `:` and a port.
const BRACKETED_NODE = /^\[([^\]]*)\](?::([^]*))?$/

/**
 * What the `for` value at value[start, end) (as written, maybe quoted)
 * names. The usual ones, a bare IPv4 address or a quoted bracketed IPv6
 * address, are read in place; anything else as forwardedNode reads it.
 */
export function forwardedNodeAt (value: string, start: number, end: number): IP | typeof HIDDEN | null {
  if (value.charCodeAt(start) !== DQUOTE) {
    const v4 = ipv4At(value, start, end)
    if (v4 >= 0) return new IP(v4, 0, 0, 0, 0, false, value, start, end)
  } else if (value.charCodeAt(start + 1) === 91 && value.charCodeAt(end - 2) === 93) {
    const ip = ipv6At(value, start + 2, end - 2)
    if (ip !== null) return ip
  }
  return forwardedNode(valueText(value, start, end))
}

/**
 * What a `for` value (unquoted) names: an address, HIDDEN, or null when it
 * is malformed. IPv6 must be bracketed; a port (or obfuscated port) may follow.
 */
export function forwardedNode (node: string): IP | typeof HIDDEN | null {
  const v4 = ipv4At(node, 0, node.length) // the usual node: IPv4 without a port
  if (v4 >= 0) return new IP(v4, 0, 0, 0, 0, false, node, 0, node.length)
  const bracketed = node.charCodeAt(0) === 91
  const parts = (bracketed ? BRACKETED_NODE : NODE).exec(node)
  if (parts === null || (parts[2] !== undefined && !isNodePort(parts[2]))) return null
  const name = parts[1]
  const ip = ipAt(name, 0, name.length)
  if (ip !== null) return ip.written6 === bracketed ? ip : null
  if (bracketed) return null
  return (name.length === 7 && name.toLowerCase() === 'unknown') || isObfuscated(name) ? HIDDEN : null
}
