/**
 * The RFC 7239 `Forwarded` header, parsed: syntax only, no Fastify here.
 *
 *   Forwarded         = 1#forwarded-element
 *   forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
 *   forwarded-pair    = token "=" value
 *   value             = token / quoted-string
 *
 * What this parser accepts, and why where the RFC leaves room:
 *
 * - Elements are separated by commas with optional spaces or tabs around them
 *   (the HTTP list rule); several header lines arrive joined with ', '.
 * - Inside an element there is no whitespace at all: not around `;`, not
 *   around `=` (the element grammar has no OWS).
 * - Parameter names are tokens, matched case-insensitively. `for`, `by`,
 *   `host` and `proto` are returned; extension parameters are checked and
 *   dropped. A name given twice in one element (in any case) makes the whole
 *   header malformed: RFC 7239 section 4 says it MUST NOT happen, and a
 *   second `for` smuggled into a proxy's element must not be picked by
 *   position.
 * - Values are a token or a quoted-string, returned unquoted and unescaped
 *   but otherwise as sent: whether a `for` is an address is the resolver's
 *   question. An empty token (`for=`) is malformed; `for=""` is the empty
 *   string.
 * - Empty pairs (`;;`, a leading or trailing `;`) are malformed. The ABNF
 *   would allow them, but no proxy writes one and nothing is lost by
 *   refusing: it is the stricter reading, kept on purpose.
 * - An empty list element (`for=a,,for=b`, a trailing `,`) is kept as an
 *   element with no parameters, `{}`, in its position. RFC 7230 section 7
 *   tells recipients to accept empty list elements, and they appear in
 *   practice when an empty `Forwarded:` line is joined with others; dropping
 *   one would shift the positions the walk from the right relies on, and
 *   rejecting one would turn a harmless blank line into a malformed header.
 *   An element without `for` ends the walk, which is the safe outcome.
 * - A header with no non-empty element at all (`''`, `' , '`) is malformed:
 *   `1#forwarded-element` needs at least one element.
 * - Characters outside Latin-1 (including lone surrogates) cannot come from
 *   an HTTP/1.1 parser and are not `obs-text`: they make the header
 *   malformed wherever they appear.
 *
 * It never throws. `scanForwarded` checks the whole header in one
 * left-to-right pass and only notes, per element, where the values of its
 * registered parameters are (extension names are told apart in a table of
 * positions, for the duplicate check); `valueIn` and `elementAt` then read
 * just the values the walk reaches. A header of 16,000 empty elements, or
 * of 2,000 extension parameters, thus makes no objects at all.
 */

import { skipOWS } from './headers'
import { charClass, foldHash, lowered, quotedEnd, runEnd, SHORT_TEXT, unescapeQuoted as unescape } from './scan'

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

// RFC 7230 tchar, indexed by character code (every tchar is ASCII).
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789") TCHAR[c.charCodeAt(0)] = 1
for (let c = 0x41; c <= 0x5a; c++) {
  TCHAR[c] = 1
  TCHAR[c | 0x20] = 1
}

function isTchar (c: number): boolean {
  return c < 0x80 && TCHAR[c] === 1
}

// What may stand inside a quoted-string, as qdtext or after a backslash:
// HTAB, SP, VCHAR and obs-text. `"` and `\` are dealt with before this test.
function isQuotedText (c: number): boolean {
  return c === HTAB || (c >= SP && c !== DEL && c <= 0xff)
}

// Bits for the registered parameters, so a duplicate check is one AND.
const FOR = 1
const BY = 2
const HOST = 4
const PROTO = 8

/** Whether value[start, end), as long as `lower`, is `lower` in any case. */
function nameIs (value: string, start: number, end: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    // `| 0x20` lowercases ASCII letters and maps nothing else onto one.
    if ((value.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false
  }
  return true
}

function registeredParameter (value: string, start: number, end: number): number {
  switch (end - start) {
    case 3: return nameIs(value, start, end, 'for') ? FOR : 0
    case 2: return nameIs(value, start, end, 'by') ? BY : 0
    case 4: return nameIs(value, start, end, 'host') ? HOST : 0
    case 5: return nameIs(value, start, end, 'proto') ? PROTO : 0
    default: return 0
  }
}

/** Whether the last quoted-string `valueEnd` read had a backslash escape. */
let escaped = false

// In a long header, runs longer than this are handed to the native scans
// (lib/scan.ts): a hostile 16 KB value then costs a SIMD scan. A header
// shorter than SHORT_TEXT (all a proxy writes) is read by the loops alone:
// there the native scans would fall back to a sticky expression, which costs
// more than the loop for a run as short as a host name or a quoted IPv6.
const SHORT_RUN = 16
const TOKEN_RUN = charClass(/[!#$%&'*+\-.^_`|~0-9A-Za-z]/)

/** The end of the token that starts at value[i] (i itself when there is none). */
function tokenEnd (value: string, i: number, length: number): number {
  const short = length < SHORT_TEXT || i + SHORT_RUN >= length ? length : i + SHORT_RUN
  while (i < short && isTchar(value.charCodeAt(i))) i++
  return i === short && short < length ? runEnd(TOKEN_RUN, value, i, length) : i
}

/** The end of the value (a token or a quoted-string) that starts at
 *  value[i], or -1 when there is none or it is malformed. */
function valueEnd (value: string, i: number, length: number): number {
  escaped = false
  if (i < length && value.charCodeAt(i) === DQUOTE) {
    // past `length` in a short header: the loop finds the end or its absence
    const short = length < SHORT_TEXT ? length + 1 : i + SHORT_RUN
    for (i++; i < short; i++) {
      if (i === length) return -1 // unterminated
      let c = value.charCodeAt(i)
      if (c === DQUOTE) return i + 1
      if (c === BACKSLASH) {
        escaped = true
        if (++i === length) return -1
        c = value.charCodeAt(i)
      }
      if (!isQuotedText(c)) return -1
    }
    const end = quotedEnd(value, i)
    if (end >= 0) return end === 0 ? -1 : end
    escaped = true
    return -end
  }
  const end = tokenEnd(value, i, length)
  return end === i ? -1 : end // `for=`, `for= x`, `for=[::1]`
}

// What the last `scanForwarded` noted, per element, in one table of NOTE
// numbers each: where the value of each registered parameter starts and
// ends (quotes included; start -1 when the element has none, end negated
// when the value has escapes). The walk reads the `for` of each element it
// reaches, and the client's element, without parsing anything again.
const NOTE = 8
export const FOR_AT = 0
const BY_AT = 2
export const HOST_AT = 4
export const PROTO_AT = 6
let notes = new Int32Array(64 * NOTE)

/** The spans of the element being scanned, noted when it ends (plain
 *  variables: cheaper per element than a typed array to fill and copy). */
let forStart = -1
let forEnd = -1
let byStart = -1
let byEnd = -1
let hostStart = -1
let hostEnd = -1
let protoStart = -1
let protoEnd = -1

function note (k: number): void {
  const at = k * NOTE
  if (at + NOTE > notes.length) {
    const grown = new Int32Array(notes.length * 2)
    grown.set(notes)
    notes = grown
  }
  notes[at + FOR_AT] = forStart
  notes[at + FOR_AT + 1] = forEnd
  notes[at + BY_AT] = byStart
  notes[at + BY_AT + 1] = byEnd
  notes[at + HOST_AT] = hostStart
  notes[at + HOST_AT + 1] = hostEnd
  notes[at + PROTO_AT] = protoStart
  notes[at + PROTO_AT + 1] = protoEnd
}

// Commas and the spaces or tabs around them: between elements, any run of
// them is valid (empty elements are allowed), so the walk skips it natively.
const SEPARATORS = charClass(/[ \t,]/)

// The current element's extension names, for the duplicate check: an
// open-addressing table keyed by a seeded hash of the lowercased name (no
// string is made, and a 16 KB name is hashed natively), holding each name's
// hash and where it is. A new element takes a new stamp, so nothing is ever
// cleared.
let nameStamps = new Float64Array(16)
let nameHashes = new Int32Array(16)
let nameSpans = new Int32Array(32)
let nameCount = 0
let stamp = 1 // the arrays start at 0: never a live stamp

/** Starts the next element's table. */
function newElement (): void {
  stamp++
  nameCount = 0
}

/** Whether value[a, a + length) and value[b, b + length) are equal but for case. */
function sameName (value: string, a: number, b: number, length: number): boolean {
  if (length > 64) return value.slice(a, a + length).toLowerCase() === value.slice(b, b + length).toLowerCase()
  for (let k = 0; k < length; k++) if (lowered(value.charCodeAt(a + k)) !== lowered(value.charCodeAt(b + k))) return false
  return true
}

/** Whether value[start, end), an extension name, repeats one of the current
 *  element's (in any case); notes it otherwise. */
function repeatsName (value: string, start: number, end: number): boolean {
  const hash = foldHash(value, start, end)
  let mask = nameStamps.length - 1
  let k = hash & mask
  // Names are compared only when their hashes agree: a cluster of other
  // names costs one number comparison each.
  while (nameStamps[k] === stamp) {
    if (nameHashes[k] === hash) {
      const at = nameSpans[2 * k]
      if (nameSpans[2 * k + 1] - at === end - start && sameName(value, at, start, end - start)) return true
    }
    k = (k + 1) & mask
  }
  nameStamps[k] = stamp
  nameHashes[k] = hash
  nameSpans[2 * k] = start
  nameSpans[2 * k + 1] = end
  if (++nameCount * 2 > mask) { // keep the table at most half full
    const stamps = nameStamps
    const hashes = nameHashes
    const spans = nameSpans
    nameStamps = new Float64Array(stamps.length * 2)
    nameHashes = new Int32Array(hashes.length * 2)
    nameSpans = new Int32Array(spans.length * 2)
    mask = nameStamps.length - 1
    for (let j = 0; j < stamps.length; j++) {
      if (stamps[j] !== stamp) continue
      let slot = hashes[j] & mask
      while (nameStamps[slot] === stamp) slot = (slot + 1) & mask
      nameStamps[slot] = stamp
      nameHashes[slot] = hashes[j]
      nameSpans[2 * slot] = spans[2 * j]
      nameSpans[2 * slot + 1] = spans[2 * j + 1]
    }
  }
  return false
}

/**
 * Checks a whole `Forwarded` header value (several header lines arrive joined
 * with ', '): returns -1 when it is malformed (any syntax error, or a
 * parameter given twice in one element). Otherwise it notes elements for
 * `valueIn` and `elementAt` and returns how many it noted:
 *
 * - with `all`, every element, left to right;
 * - without, only what a walk from the right can reach: the elements after
 *   the last one that has no `for` (an empty element has none), since the
 *   walk ends there. A header of 16,000 empty elements then notes nothing,
 *   and runs of them are skipped natively.
 */
export function scanForwarded (value: string, all = false): number {
  const length = value.length
  let count = 0
  cut = false
  let anyPair = false
  let i = skipOWS(value, 0, length)

  for (;;) {
    forStart = byStart = hostStart = protoStart = -1
    if (i < length && value.charCodeAt(i) !== COMMA) {
      anyPair = true
      let seen = 0
      if (nameCount > 0) newElement()

      for (;;) {
        // forwarded-pair = token "=" value
        const nameStart = i
        i = tokenEnd(value, i, length)
        // An empty name (`;;`, a trailing `;`, junk) or no `=` right after it.
        if (i === nameStart || i === length || value.charCodeAt(i) !== EQUALS) return -1

        const parameter = registeredParameter(value, nameStart, i)
        if (parameter === 0) {
          if (repeatsName(value, nameStart, i)) return -1
        } else if ((seen & parameter) !== 0) {
          return -1
        }
        seen |= parameter
        const valueStart = i + 1
        i = valueEnd(value, valueStart, length)
        if (i < 0) return -1
        const valueEnds = escaped ? -i : i
        if (parameter === FOR) {
          forStart = valueStart
          forEnd = valueEnds
        } else if (parameter === BY) {
          byStart = valueStart
          byEnd = valueEnds
        } else if (parameter === HOST) {
          hostStart = valueStart
          hostEnd = valueEnds
        } else if (parameter === PROTO) {
          protoStart = valueStart
          protoEnd = valueEnds
        }
        if (i === length || value.charCodeAt(i) !== SEMICOLON) break
        i++
      }
    }
    if (all || forStart >= 0) {
      note(count++)
    } else { // the walk ends at this element: nothing left of it matters
      count = 0
      cut = true
    }

    // After an element: OWS, then a comma or the end. Anything else is junk:
    // `for=a b`, `for="a"b`, `for=a ;by=b`.
    i = skipOWS(value, i, length)
    if (i === length) break
    if (value.charCodeAt(i) !== COMMA) return -1
    i = skipOWS(value, i + 1, length)
    if (!all && i < length && value.charCodeAt(i) === COMMA) {
      // Empty elements, each of which ends the walk: skip the whole run.
      count = 0
      cut = true
      i = runEnd(SEPARATORS, value, i, length)
    }
  }

  return anyPair ? count : -1
}

/** Whether the last `scanForwarded` for the walk left out elements before
 *  the ones it noted (so the first noted element is not the header's first). */
let cut = false

export function walkWasCut (): boolean {
  return cut
}

/** A copy of what the last `scanForwarded` noted about its first `count`
 *  elements, for a caller that runs other code (which may scan another
 *  header) between reading them. */
export type ForwardedNotes = Int32Array

export function copyNotes (count: number): ForwardedNotes {
  return notes.slice(0, count * NOTE)
}

/** Where the last `valueIn` found a value: text[start, end), unquoted and
 *  unescaped. `text` is the header itself, unless the value had escapes:
 *  then it is the value alone, unescaped. */
export const parameter = { text: '', start: 0, end: 0 }

/** Leaves in `parameter` where the value noted at `at` of `table` is; false when absent. */
function spanAt (value: string, table: Int32Array, at: number): boolean {
  const start = table[at]
  if (start < 0) return false
  const end = table[at + 1]
  if (end < 0) {
    const text = unescape(value, start + 1, -end - 1)
    parameter.text = text
    parameter.start = 0
    parameter.end = text.length
  } else {
    const quoted = value.charCodeAt(start) === DQUOTE ? 1 : 0
    parameter.text = value
    parameter.start = start + quoted
    parameter.end = end - quoted
  }
  return true
}

/**
 * Where the value of a registered parameter (FOR_AT, HOST_AT, PROTO_AT) of
 * the k-th element the last `scanForwarded` of `value` noted is: left in
 * `parameter`, in place unless it had escapes, so that the walk makes no
 * string for a proxy's address. False when the element has none.
 */
export function valueIn (value: string, k: number, at: number, copy?: ForwardedNotes): boolean {
  return spanAt(value, copy ?? notes, k * NOTE + at)
}

/**
 * When the value noted at `at` of the k-th element is a quoted-string with
 * escapes, leaves its content as written (between its quotes, escapes and
 * all) in `parameter` and returns true; false otherwise.
 */
export function escapedIn (value: string, k: number, at: number, copy?: ForwardedNotes): boolean {
  const table = copy ?? notes
  const start = table[k * NOTE + at]
  const end = table[k * NOTE + at + 1]
  if (start < 0 || end >= 0) return false
  parameter.text = value
  parameter.start = start + 1
  parameter.end = -end - 1
  return true
}

/** A parameter's value from its noted span, as a string; undefined when absent. */
function valueAt (value: string, table: Int32Array, at: number): string | undefined {
  if (!spanAt(value, table, at)) return undefined
  return parameter.text === value ? value.slice(parameter.start, parameter.end) : parameter.text
}

/** The k-th element the last `scanForwarded` of `value` noted: its
 *  registered parameters, unquoted and unescaped. */
export function elementAt (value: string, k: number): ForwardedElement {
  const at = k * NOTE
  const element: ForwardedElement = {}
  const forValue = valueAt(value, notes, at + FOR_AT)
  if (forValue !== undefined) element.for = forValue
  const by = valueAt(value, notes, at + BY_AT)
  if (by !== undefined) element.by = by
  const host = valueAt(value, notes, at + HOST_AT)
  if (host !== undefined) element.host = host
  const proto = valueAt(value, notes, at + PROTO_AT)
  if (proto !== undefined) element.proto = proto
  return element
}

/**
 * Parses a whole `Forwarded` header value. Returns the elements left to
 * right, values unquoted and unescaped, only the registered parameters kept;
 * or `null` when the header is malformed.
 */
export function parseForwarded (value: string): ForwardedElement[] | null {
  const count = scanForwarded(value, true)
  if (count < 0) return null
  const elements: ForwardedElement[] = []
  for (let k = 0; k < count; k++) elements.push(elementAt(value, k))
  return elements
}
