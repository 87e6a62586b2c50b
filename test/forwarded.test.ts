import { deepStrictEqual, equal } from 'node:assert'
import t from 'tap'
import fc from 'fast-check'
import parse from 'forwarded-parse'
import { elementComma, parseElement, spanText, ElementSpans } from '../lib/forwarded'
import { parseForwarded, type ForwardedElement } from './helpers'
import { modelElementComma, modelParseForwarded } from './properties/support'

// One behaviour per row: [name, header value, expected result].
type Row = [string, string, ForwardedElement[] | null]

function table (name: string, rows: Row[]): void {
  t.test(name, async (t) => {
    for (const [behaviour, input, expected] of rows) {
      t.strictSame(parseForwarded(input), expected, `${behaviour}: ${JSON.stringify(input)}`)
    }
  })
}

const REGISTERED = ['for', 'by', 'host', 'proto'] as const

// forwarded-parse as an oracle: null where it throws, extension parameters
// dropped as ours drops them.
function oracle (header: string): ForwardedElement[] | null {
  let parsed: Array<Record<string, string>>
  try {
    parsed = parse(header)
  } catch {
    return null
  }
  return parsed.map((pairs) => {
    const element: ForwardedElement = {}
    for (const key of REGISTERED) {
      if (Object.hasOwn(pairs, key)) element[key] = pairs[key]
    }
    return element
  })
}

// Every example in RFC 7239, as a header value. Sections 5.1 to 5.5 carry no
// examples of their own; their parameters are covered by the next table.
const RFC_EXAMPLES: Row[] = [
  ['§4 quoted obfuscated for', 'for="_gazonk"', [{ for: '_gazonk' }]],
  ['§4 capitalised name, quoted IPv6 with port', 'For="[2001:db8:cafe::17]:4711"', [{ for: '[2001:db8:cafe::17]:4711' }]],
  ['§4 three pairs in one element', 'for=192.0.2.60;proto=http;by=203.0.113.43', [{ for: '192.0.2.60', proto: 'http', by: '203.0.113.43' }]],
  ['§4 two elements', 'for=192.0.2.43, for=198.51.100.17', [{ for: '192.0.2.43' }, { for: '198.51.100.17' }]],
  ['§6 IPv4 with port', 'for="192.0.2.43:47011"', [{ for: '192.0.2.43:47011' }]],
  ['§6 IPv6 with port', 'for="[2001:db8:cafe::17]:47011"', [{ for: '[2001:db8:cafe::17]:47011' }]],
  ['§6.2 unknown', 'for=unknown', [{ for: 'unknown' }]],
  ['§6.3 obfuscated identifiers', 'for=_hidden, for=_SEVKISEK', [{ for: '_hidden' }, { for: '_SEVKISEK' }]],
  ['§7.1 list without spaces', 'for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown', [{ for: '192.0.2.43' }, { for: '[2001:db8:cafe::17]' }, { for: 'unknown' }]],
  ['§7.1 list with spaces', 'for=192.0.2.43, for="[2001:db8:cafe::17]", for=unknown', [{ for: '192.0.2.43' }, { for: '[2001:db8:cafe::17]' }, { for: 'unknown' }]],
  ['§7.4 converted X-Forwarded-For', 'for=192.0.2.43, for="[2001:db8:cafe::17]"', [{ for: '192.0.2.43' }, { for: '[2001:db8:cafe::17]' }]],
  ['§7.5 after the first proxy', 'for=192.0.2.43', [{ for: '192.0.2.43' }]],
  // The RFC prints this one folded over three lines; on the wire it is one line.
  ['§7.5 after the second proxy', 'for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com', [{ for: '192.0.2.43' }, { for: '198.51.100.17', by: '203.0.113.60', proto: 'http', host: 'example.com' }]]
]

table('RFC 7239 examples', RFC_EXAMPLES)

t.test('§7.1: a list split over two header lines equals the one-line list', async (t) => {
  const joined = ['for=192.0.2.43', 'for="[2001:db8:cafe::17]", for=unknown'].join(', ')
  t.strictSame(parseForwarded(joined), parseForwarded('for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown'))
})

table('parameters (RFC 7239 §5)', [
  ['§5.1 by', 'by=203.0.113.43', [{ by: '203.0.113.43' }]],
  ['§5.2 for', 'for=192.0.2.43', [{ for: '192.0.2.43' }]],
  ['§5.3 host', 'host=example.com', [{ host: 'example.com' }]],
  ['§5.3 host with a port is quoted', 'host="example.com:8443"', [{ host: 'example.com:8443' }]],
  ['§5.4 proto', 'proto=https', [{ proto: 'https' }]],
  ['all four in one element, any order', 'proto=https;host=example.com;by=_p;for=_c', [{ proto: 'https', host: 'example.com', by: '_p', for: '_c' }]],
  ['§5.5 an extension parameter is checked and dropped', 'for=192.0.2.43;secret=egah2CGj55fSJFs', [{ for: '192.0.2.43' }]],
  ['an element of extensions only has no parameters', 'ext=1;other="x"', [{}]],
  ['extension names shaped like registered ones are extensions', 'b=1;fo=1;forx=1;fox=1;bz=1;hose=1;hosts=1;proxy=1;prot=1', [{}]],
  ['the same extension in two elements', 'ext=1, ext=2', [{}, {}]],
  ['values are not validated here', 'for=not-an-address;proto=gopher;host=__', [{ for: 'not-an-address', proto: 'gopher', host: '__' }]]
])

table('parameter names are case-insensitive, values keep their case', [
  ['upper case', 'FOR=_a;BY=_b;HOST=Example.COM;PROTO=HTTPS', [{ for: '_a', by: '_b', host: 'Example.COM', proto: 'HTTPS' }]],
  ['mixed case', 'fOr=_A;bY=_B;hOsT=h;PrOtO=http', [{ for: '_A', by: '_B', host: 'h', proto: 'http' }]],
  // A repeated extension is not looked for: nothing reads one (see below).
  ['extension names are not checked for repeats', 'Ext=1;EXT=2', [{}]]
])

table('quoted strings', [
  ['empty quoted string', 'for=""', [{ for: '' }]],
  ['quoted token', 'proto="https"', [{ proto: 'https' }]],
  ['escaped quote', 'for="\\"_x\\""', [{ for: '"_x"' }]],
  ['escaped backslash', 'for="a\\\\b"', [{ for: 'a\\b' }]],
  ['escaped ordinary character', 'for="\\_gazonk"', [{ for: '_gazonk' }]],
  ['escaped space and tab', 'for="a\\ b\\\tc"', [{ for: 'a b\tc' }]],
  ['escaped obs-text', 'for="\\\u00ff"', [{ for: '\u00ff' }]],
  ['escape as the last character', 'for="ab\\c"', [{ for: 'abc' }]],
  ['several escapes', 'for="\\a\\b\\c"', [{ for: 'abc' }]],
  ['unescaped space and tab inside', 'for=" a\tb "', [{ for: ' a\tb ' }]],
  ['obs-text inside', 'host="caf\u00e9"', [{ host: 'caf\u00e9' }]],
  ['comma, semicolon and equals inside', 'for="a,b;c=d", for=_e', [{ for: 'a,b;c=d' }, { for: '_e' }]],
  ['brackets and colons inside', 'for="[::1]:80"', [{ for: '[::1]:80' }]]
])

table('whitespace', [
  ['spaces around a comma', 'for=_a , for=_b', [{ for: '_a' }, { for: '_b' }]],
  ['tabs around a comma', 'for=_a\t,\tfor=_b', [{ for: '_a' }, { for: '_b' }]],
  ['several spaces and tabs', 'for=_a \t ,\t  for=_b', [{ for: '_a' }, { for: '_b' }]],
  ['after a quoted string', 'for="_a" ,for=_b', [{ for: '_a' }, { for: '_b' }]],
  ['leading and trailing OWS', ' \tfor=_a\t ', [{ for: '_a' }]],
  ['before ;', 'for=_a ;by=_b', null],
  ['after ;', 'for=_a; by=_b', null],
  ['tab before ;', 'for=_a\t;by=_b', null],
  ['before =', 'for =_a', null],
  ['after =', 'for= _a', null],
  ['inside a token', 'for=_a b', null],
  ['line feed', 'for=_a,\nfor=_b', null],
  ['obs-fold (CRLF and space)', 'for=_a,\r\n for=_b', null]
])

// RFC 7230 §7: recipients accept empty list elements. Each stays in its place
// as an element without parameters (so without `for`, which ends the walk),
// also when it is the whole header.
table('empty list elements', [
  ['between two elements', 'for=_a,,for=_b', [{ for: '_a' }, {}, { for: '_b' }]],
  ['with whitespace', 'for=_a, \t ,for=_b', [{ for: '_a' }, {}, { for: '_b' }]],
  ['trailing comma', 'for=_a,', [{ for: '_a' }, {}]],
  ['trailing comma and space (an empty second line)', 'for=_a, ', [{ for: '_a' }, {}]],
  ['leading comma (an empty first line)', ', for=_a', [{}, { for: '_a' }]],
  ['empty header', '', [{}]],
  ['only whitespace', ' \t ', [{}]],
  ['only a comma', ',', [{}, {}]],
  ['only commas and whitespace', ' , ,\t,', [{}, {}, {}, {}]]
])

table('a registered parameter given twice makes its element malformed', [
  ['for twice', 'for=_a;for=_b', null],
  ['for twice, other case', 'for=_a;For=_b', null],
  ['by twice', 'by=_a;BY=_b', null],
  ['host twice', 'host=a;host=b', null],
  ['proto twice', 'proto=http;proto=https', null],
  ['an extension twice is not looked for', 'for=_a;x=1;x=2', [{ for: '_a' }]],
  ['in the last element only', 'for=_a, for=_b;proto=http;for=_c', null],
  ['the same parameter in different elements is the normal case', 'for=_a;proto=http, for=_b;proto=https', [{ for: '_a', proto: 'http' }, { for: '_b', proto: 'https' }]]
])

table('malformed syntax', [
  ['unterminated quote', 'for="_a', null],
  ['unterminated after an escaped quote', 'for="_a\\"', null],
  ['backslash at the end', 'for="_a\\', null],
  [';;', 'for=_a;;by=_b', null],
  ['leading ;', ';for=_a', null],
  ['trailing ;', 'for=_a;', null],
  ['; before a comma', 'for=_a;, for=_b', null],
  ['; alone', ';', null],
  ['name without =', 'for', null],
  ['name without = before ;', 'for;by=_b', null],
  ['colon instead of =', 'for:_a', null],
  ['empty name', '=_a', null],
  ['== ', 'for==_a', null],
  ['empty token value at the end', 'for=', null],
  ['empty token value before ;', 'for=;by=_b', null],
  ['empty token value before a comma', 'for=,for=_b', null],
  ['unquoted IPv6', 'for=[2001:db8:cafe::17]', null],
  ['unquoted port', 'for=192.0.2.43:47011', null],
  ['junk after a quoted string', 'for="_a"b', null],
  ['two quoted strings', 'for="_a""_b"', null],
  ['quote inside a token', 'for=_a"b"', null],
  ['= inside a token', 'for=a=b', null],
  ['quoted name', '"for"=_a', null],
  ['non-tchar in a name', 'f@r=_a', null],
  ['leading junk', '@for=_a', null],
  ['trailing junk', 'for=_a @', null],
  ['junk between elements', 'for=_a, @, for=_b', null]
])

table('control, non-Latin-1 and other characters outside the grammar', [
  ['NUL in a token', 'for=_a\u0000', null],
  ['NUL in a quoted string', 'for="_\u0000a"', null],
  ['control character in a quoted string', 'for="_\u0001"', null],
  ['DEL in a quoted string', 'for="_\u007f"', null],
  ['CR LF in a quoted string', 'for="_a\r\nb"', null],
  ['escaped control character', 'for="\\\u0001"', null],
  ['escaped DEL', 'for="\\\u007f"', null],
  ['escaped line feed', 'for="\\\n"', null],
  ['obs-text in a token', 'for=caf\u00e9', null],
  ['obs-text in a name', 'f\u00f6r=_a', null],
  ['beyond Latin-1 in a quoted string', 'host="\u0100"', null],
  ['beyond Latin-1 escaped', 'host="\\\u0100"', null],
  ['emoji (a surrogate pair) in a quoted string', 'for="\ud83d\ude80"', null],
  ['lone high surrogate in a quoted string', 'for="\ud800"', null],
  ['lone low surrogate in a token', 'for=\udc00', null],
  ['lone surrogate after a backslash', 'for="\\\ud800"', null],
  ['lone surrogate as whitespace', 'for=_a\ud800, for=_b', null]
])

t.test('large and repetitive inputs', async (t) => {
  const big = 'a'.repeat(16 * 1024)
  t.strictSame(parseForwarded(`for="${big}"`), [{ for: big }], '16 KB quoted value')
  t.strictSame(parseForwarded(`host=${big}`), [{ host: big }], '16 KB token value')
  t.equal(parseForwarded(`for="${big}`), null, '16 KB unterminated quote')
  t.strictSame(parseForwarded(`for="${'\\"'.repeat(8192)}"`), [{ for: '"'.repeat(8192) }], '8192 escapes')
  t.equal(parseForwarded(','.repeat(5000))?.length, 5001, '5000 commas and nothing else: empty elements')
  const afterCommas = parseForwarded(`for=_a${','.repeat(5000)}`)
  t.equal(afterCommas?.length, 5001, 'an element and 5000 empty ones')
  t.strictSame(afterCommas?.[5000], {})
  const chain = parseForwarded(Array.from({ length: 5000 }, (_, k) => `for=_n${k}`).join(', '))
  t.equal(chain?.length, 5000, '5000 elements')
  t.strictSame(chain?.[4999], { for: '_n4999' })
  const extensions = Array.from({ length: 5000 }, (_, k) => `x${k}=1`).join(';')
  t.strictSame(parseForwarded(`for=_a;${extensions}`), [{ for: '_a' }], '5000 distinct extensions')
  t.strictSame(parseForwarded(`for=_a;${extensions};for=_b`), null, 'a second for after 5000 extensions')
})

// A quadratic parser needs many seconds for 256 KB; a linear one milliseconds.
t.test('linear time on 256 KB of hostile input', async (t) => {
  const size = 1 << 18
  const shapes: Array<[string, string]> = [
    ['commas', ','.repeat(size)],
    ['whitespace', ' '.repeat(size)],
    ['elements', 'for=a,'.repeat(size / 6)],
    ['escapes', `for="${'\\a'.repeat(size / 2)}"`],
    ['unterminated quote', `for="${'a'.repeat(size)}`],
    ['long name, no =', 'a'.repeat(size)],
    ['long token', `for=${'a'.repeat(size)}`],
    ['OWS then junk', `for=a${' '.repeat(size)}x`],
    ['distinct extensions', Array.from({ length: size / 10 }, (_, k) => `x${k}=1`).join(';')]
  ]
  for (const [shape, input] of shapes) {
    const start = process.hrtime.bigint()
    parseForwarded(input)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    t.ok(ms < 1000, `${shape}: ${ms.toFixed(1)} ms`)
  }
})

// ---------------------------------------------------------------- properties

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 })
const latin1Text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\t', ' ', '"', '\\', ',', ';', '=', '[', ']', ':'),
    fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c))
  ),
  maxLength: 12
})

function randomCase (name: string, bits: number): string {
  let out = ''
  for (let k = 0; k < name.length; k++) out += (bits >> k) & 1 ? name[k].toUpperCase() : name[k]
  return out
}

interface Pair { name: string, value: string, quote: boolean, escapeAll: boolean }

const pair = fc.record({
  name: fc.oneof(
    fc.tuple(fc.constantFrom(...REGISTERED), fc.nat()).map(([name, bits]) => randomCase(name, bits)),
    token.filter((name) => !(REGISTERED as readonly string[]).includes(name.toLowerCase()))
  ),
  value: fc.oneof(token, latin1Text),
  quote: fc.boolean(),
  escapeAll: fc.boolean()
})
const element = fc.uniqueArray(pair, { minLength: 1, maxLength: 5, selector: (p) => p.name.toLowerCase() })
const separator = fc.constantFrom(',', ', ', ' ,', '\t,\t', ' \t, ')

function serializeValue ({ value, quote, escapeAll }: Pair): string {
  if (!quote && /^[!#$%&'*+\-.^_`|~0-9a-z]+$/i.test(value)) return value
  let out = '"'
  for (const c of value) out += escapeAll || c === '"' || c === '\\' ? `\\${c}` : c
  return `${out}"`
}

function serialize (elements: Pair[][], separators: string[]): string {
  return elements
    .map((pairs) => pairs.map((p) => `${p.name}=${serializeValue(p)}`).join(';'))
    .reduce((header, next, k) => header + separators[k % separators.length] + next)
}

function model (elements: Pair[][]): ForwardedElement[] {
  return elements.map((pairs) => {
    const out: ForwardedElement = {}
    for (const p of pairs) {
      const name = p.name.toLowerCase()
      if ((REGISTERED as readonly string[]).includes(name)) out[name as keyof ForwardedElement] = p.value
    }
    return out
  })
}

const header = fc.record({
  elements: fc.array(element, { minLength: 1, maxLength: 6 }),
  separators: fc.array(separator, { minLength: 1, maxLength: 3 })
})

t.test('property: generated valid headers parse to their model', async (t) => {
  fc.assert(fc.property(header, ({ elements, separators }) => {
    deepStrictEqual(parseForwarded(serialize(elements, separators)), model(elements))
  }), { numRuns: 2000 })
  t.pass('2000 headers')
})

t.test('property: never throws, and returns only registered string values', async (t) => {
  const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
  const headerish = fc.constantFrom('for', 'By', 'x', '=', ';', ',', '"', '\\', ' ', '\t', '_a', '[::1]', '\u0000', '\u00ff', '\ud800')
  const input = fc.oneof(
    fc.string({ unit: anyCodeUnit, maxLength: 64 }),
    fc.string({ unit: headerish, maxLength: 24 })
  )
  fc.assert(fc.property(input, (value) => {
    const result = parseForwarded(value)
    if (result === null) return true
    return result.every((element) =>
      Object.entries(element).every(([key, text]) =>
        (REGISTERED as readonly string[]).includes(key) && typeof text === 'string'))
  }), { numRuns: 5000 })
  t.pass('no input threw')
})

// ------------------------------------------------- differential: forwarded-parse

t.test('forwarded-parse agrees on every RFC 7239 example', async (t) => {
  for (const [behaviour, input] of RFC_EXAMPLES) {
    t.strictSame(parseForwarded(input), oracle(input), behaviour)
  }
})

t.test('forwarded-parse agrees on generated valid headers', async (t) => {
  fc.assert(fc.property(header, ({ elements, separators }) => {
    const value = serialize(elements, separators)
    deepStrictEqual(parseForwarded(value), oracle(value))
  }), { numRuns: 2000 })
  t.pass('2000 headers')
})

// Where the two differ, on purpose. Ours follows RFC 7239 §4 (no whitespace
// inside an element; a parameter at most once per element) and RFC 7230 §7
// (empty list elements; OWS around the value).
table('documented differences: ours', [
  ['whitespace after ;', 'for=192.0.2.43; proto=https', null],
  ['whitespace before ;', 'for=192.0.2.43 ;proto=https', null],
  ['duplicate for', 'for=192.0.2.43;for=198.51.100.17', null],
  ['duplicate extension', 'for=192.0.2.43;x=1;x=2', [{ for: '192.0.2.43' }]],
  ['empty list element', 'for=192.0.2.43,,for=198.51.100.17', [{ for: '192.0.2.43' }, {}, { for: '198.51.100.17' }]],
  ['trailing comma', 'for=192.0.2.43,', [{ for: '192.0.2.43' }, {}]],
  ['leading OWS', ' for=192.0.2.43', [{ for: '192.0.2.43' }]],
  ['trailing OWS', 'for=192.0.2.43\t', [{ for: '192.0.2.43' }]]
])

t.test('documented differences: forwarded-parse', async (t) => {
  t.strictSame(parse('for=192.0.2.43; proto=https'), [{ for: '192.0.2.43', proto: 'https' }], 'accepts whitespace after ;')
  t.strictSame(parse('for=192.0.2.43 ;proto=https'), [{ for: '192.0.2.43', proto: 'https' }], 'accepts whitespace before ;')
  t.strictSame(parse('for=192.0.2.43;for=198.51.100.17'), [{ for: '198.51.100.17' }], 'keeps the last duplicate')
  t.throws(() => parse('for=192.0.2.43,,for=198.51.100.17'), 'rejects an empty list element')
  t.throws(() => parse('for=192.0.2.43,'), 'rejects a trailing comma')
  t.throws(() => parse(' for=192.0.2.43'), 'rejects leading OWS')
  t.throws(() => parse('for=192.0.2.43\t'), 'rejects trailing OWS')
  t.strictSame(parse('for=192.0.2.43;secret=x'), [{ for: '192.0.2.43', secret: 'x' }], 'returns extensions (ours drops them)')
})

// On arbitrary header-like strings: when both accept they agree, and when
// only one accepts, the input falls in one of the differences above.
function stripQuoted (value: string): string {
  return value.replace(/"(?:[^"\\]|\\[\s\S])*"/g, '""')
}

function hasEmptyElementOrEdgeOws (value: string): boolean {
  return /^[ \t]|[ \t]$/.test(value) || stripQuoted(value).split(',').some((part) => /^[ \t]*$/.test(part))
}

function hasSpaceAroundSemicolonOrDuplicate (value: string): boolean {
  const bare = stripQuoted(value)
  if (/[ \t];|;[ \t]/.test(bare)) return true
  return bare.split(',').some((part) => {
    const names = part.split(';').map((p) => p.trim().split('=')[0].toLowerCase())
    return new Set(names).size !== names.length
  })
}

/** Where forwarded-parse accepts a repeated extension (keeping the last) and ours does not look. */
function hasRepeatedExtension (value: string): boolean {
  return stripQuoted(value).split(',').some((part) => {
    const names = part.split(';').map((p) => p.split('=')[0].toLowerCase())
    return new Set(names).size !== names.length
  })
}

t.test('forwarded-parse differs only where documented', async (t) => {
  const piece = fc.constantFrom('for', 'By', 'host', 'x', '=', ';', ',', '"', '\\', ' ', '\t', '_a', '1', '[', ':', '\u0001', '\u00ff')
  fc.assert(fc.property(fc.string({ unit: piece, maxLength: 16 }), (value) => {
    const ours = parseForwarded(value)
    const theirs = oracle(value)
    if (ours !== null && theirs !== null) deepStrictEqual(ours, theirs)
    else if (ours !== null) return hasEmptyElementOrEdgeOws(value) || hasRepeatedExtension(value)
    else if (theirs !== null) return hasSpaceAroundSemicolonOrDuplicate(value)
    return true
  }), { numRuns: 20000 })
  t.pass('20000 strings')
})

t.test('long tokens, quoted strings and runs of spaces read exactly as short ones', async (t) => {
  // Every character class, after short and long runs, against the grammar model.
  const codes = [0, 9, 10, 31, 32, 33, 34, 35, 44, 59, 61, 91, 92, 93, 126, 127, 128, 160, 255, 256, 0x2028, 0xd800]
  let checked = 0
  for (const pad of [0, 14, 15, 16, 17, 40]) {
    const x = 'x'.repeat(pad)
    for (const code of codes) {
      const c = String.fromCharCode(code)
      for (const value of [`for="${x}${c}"`, `for="${x}\\${c}"`, `for="${x}${c}`, `for=${x}${c}`, `${x}${c}=a`, `for=a${' '.repeat(pad)}${c}`, `for=a,${'\t'.repeat(pad)}${c}for=b`]) {
        const name = value.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
        t.strictSame(parseForwarded(value), modelParseForwarded(value), name)
        checked++
      }
    }
  }
  t.equal(checked, 6 * 22 * 7)
})

t.test('elements are found from the right: a comma inside a quoted string separates nothing', async (t) => {
  const elements = (value: string): string[] => {
    const out: string[] = []
    for (let end = value.length; end >= 0;) {
      const comma = elementComma(value, end, value.indexOf(','))
      out.unshift(value.slice(comma + 1, end))
      end = comma
    }
    return out
  }
  const cases: Array<[string, string[]]> = [
    ['for=a, for=b', ['for=a', ' for=b']],
    ['for="a,b", for=c', ['for="a,b"', ' for=c']],
    ['x="a\\",b", for=c', ['x="a\\",b"', ' for=c']],
    ['x="a\\\\", for=c', ['x="a\\\\"', ' for=c']],
    ['x="a\\\\\\",b", for=c', ['x="a\\\\\\",b"', ' for=c']],
    ['for=", for=1.2.3.4', ['for="', ' for=1.2.3.4']],
    ['for="a, for="b"', ['for="a', ' for="b"']],
    ['"', ['"']],
    ['a"b,c"d', ['a"b,c"d']],
    ['', ['']],
    [',', ['', '']]
  ]
  for (const [value, expected] of cases) {
    t.same(elements(value), expected, value)
    for (let end = value.length; end >= 0; end = elementComma(value, end, value.indexOf(','))) {
      t.equal(elementComma(value, end, value.indexOf(',')), modelElementComma(value, end), `${value} before ${end}`)
    }
  }
})

t.test('property: the element split from the right agrees with the model (a regular expression on the reversed text)', async (t) => {
  const piece = fc.constantFrom('for=a', 'x', '"', '\\', ',', ';', ' ', '\\"', '\\\\', 'b=c')
  fc.assert(fc.property(fc.string({ unit: piece, maxLength: 20 }), (value) => {
    for (let end = value.length; end >= 0;) {
      const comma = elementComma(value, end, value.indexOf(','))
      equal(comma, modelElementComma(value, end), `${JSON.stringify(value)} before ${end}`)
      end = comma
    }
  }), { numRuns: 20000 })
  t.pass('20000 headers')
})

t.test('an element is parsed on its own, spaces and tabs around it allowed', async (t) => {
  const spans = new ElementSpans()
  const parsed = (value: string, start: number, end: number): unknown => {
    if (!parseElement(value, start, end, spans)) return null
    const given: Record<string, string | undefined> = {
      for: spanText(value, spans.forStart, spans.forEnd),
      by: spanText(value, spans.byStart, spans.byEnd),
      host: spanText(value, spans.hostStart, spans.hostEnd),
      proto: spanText(value, spans.protoStart, spans.protoEnd)
    }
    return Object.fromEntries(Object.entries(given).filter(([, text]) => text !== undefined))
  }
  const value = 'junk", for=1.2.3.4;proto=https ,\tfor="[::1]";host=a.example\t'
  t.same(parsed(value, 6, 31), { for: '1.2.3.4', proto: 'https' })
  t.same([spans.forStart, spans.forEnd, spans.protoStart, spans.protoEnd], [11, 18, 25, 30], 'values are spans of the header')
  t.same(parsed(value, 32, value.length), { for: '[::1]', host: 'a.example' })
  t.same([spans.forStart, spans.protoStart], [37, -1], 'a quoted value\'s span has its quotes; spans of the last element are cleared')
  t.same(parsed(value, 0, 5), null)
  t.same(parsed('  ', 0, 2), {})
  t.same(parsed('for=a;FOR=b', 0, 11), null, 'for twice, in any case')
  t.same(parsed('by=a;BY=b', 0, 9), null, 'by twice')
  t.same(parsed('host=a;Host=b', 0, 13), null, 'host twice')
  t.same(parsed('proto=a;PROTO=b', 0, 15), null, 'proto twice')
  t.same(parsed('x=a;x=b;for=c', 0, 13), { for: 'c' }, 'an extension twice: not looked for')
})
