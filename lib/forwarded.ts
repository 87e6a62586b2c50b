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
 * It never throws, runs in one left-to-right pass, and allocates only the
 * returned elements and strings (plus a lowercased name per extension
 * parameter, for the duplicate check).
 */

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

function skipOws (value: string, i: number, length: number): number {
  while (i < length) {
    const c = value.charCodeAt(i)
    if (c !== SP && c !== HTAB) break
    i++
  }
  return i
}

// Bits for the registered parameters, so a duplicate check is one AND.
const FOR = 1
const BY = 2
const HOST = 4
const PROTO = 8

function nameIs (value: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false
  for (let k = 0; k < lower.length; k++) {
    // `| 0x20` lowercases ASCII letters and maps nothing else onto one.
    if ((value.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false
  }
  return true
}

function registeredParameter (value: string, start: number, end: number): number {
  if (nameIs(value, start, end, 'for')) return FOR
  if (nameIs(value, start, end, 'by')) return BY
  if (nameIs(value, start, end, 'host')) return HOST
  if (nameIs(value, start, end, 'proto')) return PROTO
  return 0
}

// The content of a valid quoted-string (between the quotes), unescaped.
function unescape (value: string, start: number, end: number): string {
  let out = ''
  let from = start
  for (let i = start; i < end; i++) {
    if (value.charCodeAt(i) === BACKSLASH) {
      out += value.slice(from, i)
      from = ++i // the escaped character opens the next run
    }
  }
  return out + value.slice(from, end)
}

/**
 * Parses a whole `Forwarded` header value (several header lines arrive joined
 * with ', '). Returns the elements left to right, values unquoted and
 * unescaped, only the registered parameters kept; or `null` when the header
 * is malformed (any syntax error, or a parameter given twice in one element).
 */
export function parseForwarded (value: string): ForwardedElement[] | null {
  const length = value.length
  const elements: ForwardedElement[] = []
  let anyPair = false
  // Lowercased extension names of the current element, for the duplicate
  // check; made on the first extension parameter, so most headers need none.
  let extensions: Set<string> | undefined
  let i = skipOws(value, 0, length)

  for (;;) {
    const element: ForwardedElement = {}

    if (i < length && value.charCodeAt(i) !== COMMA) {
      anyPair = true
      let seen = 0
      extensions?.clear()

      for (;;) {
        // forwarded-pair = token "=" value
        const nameStart = i
        while (i < length && isTchar(value.charCodeAt(i))) i++
        // An empty name (`;;`, a trailing `;`, junk) or no `=` right after it.
        if (i === nameStart || i === length || value.charCodeAt(i) !== EQUALS) return null

        const parameter = registeredParameter(value, nameStart, i)
        if (parameter === 0) {
          const name = value.slice(nameStart, i).toLowerCase()
          if (extensions === undefined) extensions = new Set()
          else if (extensions.has(name)) return null
          extensions.add(name)
        } else if ((seen & parameter) !== 0) {
          return null
        }
        seen |= parameter
        i++

        let start: number
        let end: number
        let escaped = false
        if (i < length && value.charCodeAt(i) === DQUOTE) {
          start = ++i
          for (;;) {
            if (i === length) return null // unterminated
            let c = value.charCodeAt(i)
            if (c === DQUOTE) break
            if (c === BACKSLASH) {
              escaped = true
              if (++i === length) return null
              c = value.charCodeAt(i)
            }
            if (!isQuotedText(c)) return null
            i++
          }
          end = i++
        } else {
          start = i
          while (i < length && isTchar(value.charCodeAt(i))) i++
          if (i === start) return null // `for=`, `for= x`, `for=[::1]`
          end = i
        }

        if (parameter !== 0) {
          const text = escaped ? unescape(value, start, end) : value.slice(start, end)
          if (parameter === FOR) element.for = text
          else if (parameter === BY) element.by = text
          else if (parameter === HOST) element.host = text
          else element.proto = text
        }

        if (i === length || value.charCodeAt(i) !== SEMICOLON) break
        i++
      }
    }

    elements.push(element)
    // After an element: OWS, then a comma or the end. Anything else is junk:
    // `for=a b`, `for="a"b`, `for=a ;by=b`.
    i = skipOws(value, i, length)
    if (i === length) break
    if (value.charCodeAt(i) !== COMMA) return null
    i = skipOws(value, i + 1, length)
  }

  return anyPair ? elements : null
}
