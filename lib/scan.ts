// Scans over long runs of header text. Proxies write short values, which the
// parsers read in plain loops; a hostile value (16 KB of spaces, one 16 KB
// host name, a 16 KB quoted string) is handed here. The scans run in
// WebAssembly, sixteen bytes at a time (lib/scan.wat), over a copy of the
// string: about 0.1 ns per character, where V8's regular expressions take
// 0.5–1.2 ns and a JavaScript loop more. Texts under 256 characters (all a
// proxy writes) stay with the expressions and loops, which cost less than
// the copy.
//
// Each character class is defined once, as a one-character regular
// expression. The WebAssembly bitmap is built from it, and the sticky
// expression made from it is the reference the tests hold the native scan to,
// and the path for text the copy cannot carry: strings with characters above
// U+00FF (never from Node's HTTP parser, but a direct caller may pass one), or
// a runtime without WebAssembly (`node --jitless`).

import { SCAN_WASM } from './scan-wasm'

interface NativeScan {
  memory: WebAssembly.Memory
  runEnd: (pos: number, end: number, rows: number, high: number) => number
  runStart: (start: number, pos: number, rows: number, high: number) => number
  quotedEnd: (pos: number, end: number) => number
  percentEnd: (pos: number, end: number) => number
  unescape: (pos: number, end: number, out: number, table: number) => number
  prefixEnd: (pos: number, end: number, rows: number) => number
  pairEnd: (pos: number, end: number, byte: number) => number
  foldHash: (pos: number, end: number, seed: number) => number
  /** The first address after the module's own constants. */
  dataEnd: WebAssembly.Global
}

/** A set of Latin-1 characters, in both forms. */
export interface CharClass {
  /** The one-character expression the class was defined by. */
  readonly member: RegExp
  /** `[…]*`, sticky: the longest run of the class from `lastIndex`. */
  readonly run: RegExp
  /** Where the class's 16 bitmap rows start in the WebAssembly memory. */
  readonly rows: number
  /** -1 when the bytes 0x80–0xff are in the class, 0 when they are not. */
  readonly high: number
}

/** Compiles and starts the scanner; null where WebAssembly (or SIMD) is unavailable. */
export function instantiate (base64: string): NativeScan | null {
  try {
    const module = new WebAssembly.Module(Buffer.from(base64, 'base64'))
    return new WebAssembly.Instance(module).exports as unknown as NativeScan
  } catch {
    return null
  }
}

const native = instantiate(SCAN_WASM)
let bytes = native === null ? Buffer.alloc(0) : Buffer.from(native.memory.buffer)

// Memory layout: the module's own constants (lib/scan.wat) up to ROWS, then
// 16 rows per class, then the shuffle table of unescape, then the loaded
// text, then scratch room (a prefix or a quoted value copied alone, an
// unescaped copy). A scan reads whole blocks (16 bytes, 64 for quoted
// strings), so there is SLACK on each side of the text and of each scratch
// copy.
const ROWS = native === null ? 0 : native.dataEnd.value
const MAX_CLASSES = 16
const SHUFFLES = ROWS + 16 * MAX_CLASSES
const SLACK = 64
const TEXT = SHUFFLES + 256 * 8 + SLACK
const PAGE = 65536

if (native !== null) {
  // For each 8-bit mask of bytes to keep: their indices, in order.
  for (let mask = 0; mask < 256; mask++) {
    let at = SHUFFLES + mask * 8
    for (let b = 0; b < 8; b++) if ((mask & (1 << b)) !== 0) bytes[at++] = b
  }
}

let classes = 0

/** Defines a class by a one-character expression such as `/[ \t]/`. */
export function charClass (member: RegExp): CharClass {
  if (classes === MAX_CLASSES) throw new Error('scan: too many character classes')
  const rows = ROWS + 16 * classes++
  for (let c = 0; c < 128; c++) {
    if (member.test(String.fromCharCode(c))) bytes[rows + (c & 15)] |= 1 << (c >> 4)
  }
  return {
    member,
    run: new RegExp(`${member.source}*`, 'y'),
    rows,
    high: member.test('\x80') ? -1 : 0
  }
}

const WIDE = /[^\x00-\xff]/ // eslint-disable-line no-control-regex

// Buffer's own latin1Write, which Node's typings leave out: write(text,
// offset, 'latin1') reaches it too, at nearly twice the cost.
interface Latin1Buffer {
  latin1Write: (text: string, offset: number) => number
  latin1Slice: (start: number, end: number) => string
}

/** The string now in the memory, at TEXT. */
let loaded: string | null = null

/**
 * Forgets which string the memory holds. The resolver calls this once per
 * request: a header of the last request is then copied again rather than
 * compared (two equal-length strings are compared character by character,
 * which costs more than the copy).
 */
export function forgetText (): void {
  loaded = null
}

/** Makes the memory at least `size` bytes long. */
function reserve (size: number): void {
  if (size > bytes.length) {
    native!.memory.grow(Math.ceil((size - bytes.length) / PAGE))
    bytes = Buffer.from(native!.memory.buffer)
  }
}

/** The last string found to have a character above U+00FF. */
let wide: string | null = null

/** Whether `text` can be copied into the memory: WebAssembly is there, and
 *  the string has no character above U+00FF. A one-byte string answers the
 *  test at once (the expression cannot match one); a two-byte string is
 *  searched, so the last one is remembered: a parser that scans it many
 *  times would otherwise search it each time. */
function copyable (text: string): boolean {
  if (native === null || text === wide) return false
  if (!WIDE.test(text)) return true
  wide = text
  return false
}

/** Where `size` bytes of scratch may go: after the loaded text, which stays
 *  loaded (and intact). */
function scratch (size: number): number {
  const at = TEXT + (loaded === null ? 0 : loaded.length) + SLACK
  reserve(at + size + SLACK)
  return at
}

// Texts shorter than this stay with the expressions and loops: copying one
// costs more than reading it (a Forwarded header with a 16-character host
// would otherwise be copied on every request). A parser whose own loop is
// cheaper than a sticky expression reads such texts whole (SHORT_TEXT).
export const SHORT_TEXT = 256

/** Copies `text` into the memory unless it is there; false when it cannot
 *  or need not go there. */
function load (text: string): boolean {
  if (text === loaded) return true
  if (text.length < SHORT_TEXT || !copyable(text)) return false
  reserve(TEXT + text.length + SLACK)
  ;(bytes as unknown as Latin1Buffer).latin1Write(text, TEXT)
  loaded = text
  return true
}

/** The first index in [i, end) whose character is not in the class, or `end`. */
export function runEnd (cls: CharClass, text: string, i: number, end: number): number {
  if (i >= end) return end
  if (load(text)) return native!.runEnd(TEXT + i, TEXT + end, cls.rows, cls.high) - TEXT
  cls.run.lastIndex = i
  cls.run.test(text)
  const stop = cls.run.lastIndex
  return stop < end ? stop : end
}

/** The first index of the run of class characters that ends at `end` and
 *  does not start before `start`: text[result, end) are all in the class. */
export function runStart (cls: CharClass, text: string, start: number, end: number): number {
  if (end <= start) return end
  if (load(text)) return native!.runStart(TEXT + start, TEXT + end, cls.rows, cls.high) - TEXT
  // Backwards there is no sticky expression: a loop, for texts under 256
  // characters, strings no HTTP parser makes, and runtimes without WebAssembly.
  while (end > start && cls.member.test(text.charAt(end - 1))) end--
  return end
}

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/

/** The first `%` in [i, end) that is not followed by two hex digits inside
 *  [i, end) (RFC 3986 pct-encoded), or `end` when every one is. */
export function percentEnd (text: string, i: number, end: number): number {
  if (i >= end) return end
  if (load(text)) return native!.percentEnd(TEXT + i, TEXT + end) - TEXT
  for (let p = text.indexOf('%', i); p >= 0 && p < end; p = text.indexOf('%', p + 1)) {
    if (p + 2 >= end || !HEX_PAIR.test(text.slice(p + 1, p + 3))) return p
  }
  return end
}

/** The first index i in (start, end) where text[i - 1] and text[i] are
 *  both the character `code`, or `end`. */
export function pairEnd (code: number, text: string, start: number, end: number): number {
  if (load(text)) return native!.pairEnd(TEXT + start, TEXT + end, code) - TEXT
  for (let i = start + 1; i < end; i++) if (text.charCodeAt(i) === code && text.charCodeAt(i - 1) === code) return i
  return end
}

/**
 * Checks a path prefix, text[start, end), natively: every character in
 * `path` (the path characters, `/` and `%`), every `%` followed by two hex
 * digits and not encoding `/` or `\`, no dot segment. Returns where the run
 * of `slashes` that ends it starts (end when it ends in none), -1 when it is
 * not a valid prefix, null when the text cannot be copied (the caller's loop
 * then decides).
 */
export function checkPrefix (path: CharClass, slashes: CharClass, text: string, start: number, end: number): number | null {
  if (!copyable(text)) return null
  // A copy of the prefix alone, after the text's place, with two zeros
  // before it and 65 `/` after it: the scan looks two bytes back from each
  // of the prefix's places, and reads whole 64-byte chunks past its end.
  // (Copying the slice costs less than copyWithin.)
  const length = end - start
  const at = scratch(length + SLACK) + 2
  bytes[at - 2] = 0
  bytes[at - 1] = 0
  ;(bytes as unknown as Latin1Buffer).latin1Write(text.slice(start, end), at)
  bytes.fill(0x2f, at + length, at + length + 65)
  if (native!.prefixEnd(at, at + length, path.rows) !== 0) return -1
  // The trailing slashes, in the copy (not in the text, which would load it)
  return start + native!.runStart(at, at + length, slashes.rows, slashes.high) - at
}

// A seed per process, so that colliding names cannot be prepared in advance.
const SEED = (Math.random() * 0x100000000) | 0

// Names longer than this, in a text the memory can take, are hashed natively.
const LONG_HASH = 64

/**
 * A 32-bit hash of text[start, end) with ASCII letters lowercased, seeded
 * per process: names of one text equal but for case hash alike (two names of
 * one length in one text are hashed the same way; the same name in another
 * text may take the other path), and colliding names cannot be prepared in
 * advance. Equal hashes still need a comparison.
 */
export function foldHash (text: string, start: number, end: number): number {
  if (end - start > LONG_HASH && load(text)) return native!.foldHash(TEXT + start, TEXT + end, SEED)
  let h = SEED ^ (end - start)
  for (let i = start; i < end; i++) h = Math.imul(h ^ lowered(text.charCodeAt(i)), 0x9e3779b1)
  return h ^ (h >>> 16)
}

/** A character code with ASCII letters lowercased (and nothing else moved). */
export function lowered (c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c
}

// Shorter quoted-strings are unescaped by concatenation.
const LONG_QUOTED = 64

/** The content of a valid quoted-string, text[start, end) between its
 *  quotes, without its escaping backslashes. */
export function unescapeQuoted (text: string, start: number, end: number): string {
  if (end - start > LONG_QUOTED && copyable(text)) {
    // Read from the loaded header when it is there (it is, after a scan of
    // it); else from a copy of the value alone, so that the header stays
    // loaded. The result goes to scratch room after both.
    const length = end - start
    let at = TEXT + start
    if (text !== loaded) {
      at = scratch(2 * length + SLACK)
      ;(bytes as unknown as Latin1Buffer).latin1Write(text.slice(start, end), at)
    }
    const out = text === loaded ? scratch(length) : at + length + SLACK
    return (bytes as unknown as Latin1Buffer).latin1Slice(out, native!.unescape(at, at + length, out, SHUFFLES))
  }
  let out = ''
  let from = start
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === 0x5c) {
      out += text.slice(from, i)
      from = ++i // the escaped character opens the next run
    }
  }
  return out + text.slice(from, end)
}

// The rest of a quoted-string, after its opening quote: qdtext or quoted
// pairs (RFC 7230), up to and including the closing quote.
const QUOTED_PLAIN = /[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]*"/y
const QUOTED_REST = /(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"/y

/**
 * Where the quoted-string whose opening quote is before text[i] ends (after
 * its closing quote): a positive index when it has no backslash escape, the
 * index negated when it has one, 0 when it is unterminated or holds a
 * character a quoted-string may not.
 */
export function quotedEnd (text: string, i: number): number {
  if (load(text)) {
    const end = native!.quotedEnd(TEXT + i, TEXT + text.length)
    return end === 0 ? 0 : end > 0 ? end - TEXT : end + TEXT
  }
  QUOTED_PLAIN.lastIndex = i
  if (QUOTED_PLAIN.test(text)) return QUOTED_PLAIN.lastIndex
  QUOTED_REST.lastIndex = i
  return QUOTED_REST.test(text) ? -QUOTED_REST.lastIndex : 0
}

/** Whether the scans run natively here (false without WebAssembly). */
export const nativeScans = native !== null
