// Reading list elements in place, against a model that splits the text; and
// the grammars of the values in them (host, prefix), against the models in
// properties/support.ts.
import { deepStrictEqual } from 'node:assert'
import t from 'tap'
import fc from 'fast-check'
import { commaBefore, headerText, lastElement, skipSpaces, trimSpacesEnd } from '../lib/list'
import { parseHost, parsePrefix } from '../lib/host'
import { SEED, modelHost, modelPrefix, scaled, title } from './properties/support'

/** The element that ends at `end`, read as the walk reads it: [comma, start, end]. */
function previousElement (text: string, end: number): [number, number, number] {
  const comma = commaBefore(text, end, text.indexOf(','))
  const start = skipSpaces(text, comma + 1, end)
  return [comma, start, trimSpacesEnd(text, start, end)]
}

/** A host as the parsers read it from a list: the rightmost element. */
function scanHost (text: string): { hostname: string, port: number | null } | null {
  const host = parseHost(lastElement(text))
  return host === null ? null : { hostname: host.hostname, port: host.port }
}

/** A prefix in text[start, end). */
function scanPrefix (text: string, start: number, end: number): string | null {
  return parsePrefix(text.slice(start, end))
}

/** The element that ends at `end`, as a split would give it: [comma, start, end]. */
function model (text: string, end: number): [number, number, number] {
  const comma = end === 0 ? -1 : text.lastIndexOf(',', end - 1) // lastIndexOf(x, -1) reads position 0
  let a = comma + 1
  let b = end
  while (a < b && (text[a] === ' ' || text[a] === '\t')) a++
  while (b > a && (text[b - 1] === ' ' || text[b - 1] === '\t')) b--
  return [comma, a, b]
}

/** Every element of `text`, read from the right as the walk reads them. */
function walk (text: string): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = []
  let end = text.length
  while (true) {
    const element = previousElement(text, end)
    out.push(element)
    if (element[0] < 0) return out
    end = element[0]
  }
}

function walkModel (text: string): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = []
  let end = text.length
  while (true) {
    const element = model(text, end)
    out.push(element)
    if (element[0] < 0) return out
    end = element[0]
  }
}

const run = (unit: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(unit, fc.integer({ min: 1, max: 300 })).map(([piece, n]) => piece.repeat(n))
const text = fc.array(fc.oneof(
  run(fc.constantFrom(',', ' ', '\t', 'a', 'a b', ' ,', '1.2.3.4', ', ', 'a b c')),
  // White space that is not a space or tab (String.prototype.trim removes it).
  fc.string({ unit: fc.constantFrom(',', ' ', '\t', 'a', '.', '\u00a0', '\u2028', '\v'), maxLength: 20 })
), { maxLength: 12 }).map((parts) => parts.join(''))

const runs = scaled(2000)
t.test(title('the walk finds the element a split finds, long or short', runs), async (t) => {
  fc.assert(fc.property(text, (value) => {
    deepStrictEqual(walk(value), walkModel(value))
  }), { seed: SEED, numRuns: runs })
  t.pass(`${runs} texts`)
})

t.test('long elements with commas before them, in every arrangement', async (t) => {
  const long = 'a'.repeat(5000)
  for (const value of [
    ',' + long, ',,' + long, ','.repeat(3000) + long, long + ',', ',' + long + ',' + long, 'x,' + ' '.repeat(70) + 'y',
    ',a'.repeat(2000) + long, long + ',a'.repeat(10), ',' + 'a'.repeat(64) + ',' + 'a'.repeat(65), ','.repeat(65) + 'a'.repeat(65)
  ]) {
    deepStrictEqual(walk(value), walkModel(value))
    t.pass(`${value.length} characters`)
  }
})

// Hosts of every length, with the escape broken at each place it can break.
t.test('long hosts with percent escapes agree with the grammar', async (t) => {
  const wrong: string[] = []
  for (const n of [20, 61, 62, 63, 64, 65, 66, 100, 1000, 16000]) {
    const body = 'a%41.b-'.repeat(Math.ceil(n / 7)).slice(0, n)
    const variants = [body, body + '%4', body + '%', body + '%4g', '%' + body, body + '%41', body + '%2F%2f',
      body.slice(0, n >> 1) + '%g1' + body.slice(n >> 1), body.slice(0, n >> 1) + '%' + body.slice(n >> 1), body + 'é', body + '/x']
    for (const v of variants) {
      for (const text of [v, `${v}:8080`, `${v}:`, `${v}:0`, `x,${v}`]) {
        const start = text.startsWith('x,') ? 2 : 0
        const model = modelHost(text.slice(start))
        const scanned = scanHost(text)
        if (JSON.stringify(scanned) !== JSON.stringify(model)) wrong.push(`${text.length} ${JSON.stringify(text.slice(-12))}`)
      }
    }
  }
  t.same(wrong, [])
})

// Pieces that break a prefix, placed anywhere.
const PREFIX_PIECES = ['/', '/', 'a', 'Z', '9', '-', '~', '@', ':', '.', '..', '%2e', '%2E', '%2f', '%2F', '%5c', '%5C',
  '%41', '%4', '%', '%g1', '%e2', '\\', ' ', '?', '#', '\u00e9', '\x00', '\x7f']

const prefixCase = fc.tuple(
  fc.array(fc.constantFrom(...PREFIX_PIECES), { minLength: 1, maxLength: 60 }),
  fc.integer({ min: 0, max: 200 }),
  fc.nat({ max: 20 }),
  fc.constantFrom('', ' ', ', x', ',  /a')
).map(([pieces, padding, before, after]) => {
  // a long plain segment first, so most cases take the long path
  const prefix = '/' + 'p'.repeat(padding) + pieces.join('')
  const text = 'q'.repeat(before) + prefix + after
  return { text, start: before, end: before + prefix.length }
})

const prefixRuns = scaled(4000)
t.test(title('long and short prefixes agree with the grammar', prefixRuns), async (t) => {
  fc.assert(fc.property(prefixCase, ({ text, start, end }) => {
    deepStrictEqual(scanPrefix(text, start, end), modelPrefix(text.slice(start, end)), JSON.stringify(text.slice(start, end)))
  }), { seed: SEED, numRuns: prefixRuns })
  t.pass()
})

t.test('prefixes: every byte, alone and in every place of an escape, long and short', async (t) => {
  const wrong: string[] = []
  for (let b = 0; b < 256; b++) {
    const c = String.fromCharCode(b)
    for (const piece of [c, `%${c}0`, `%0${c}`, `%2${c}`, `%5${c}`, `%${c}e`, `/%2${c}/`, `/.%2${c}/`]) {
      for (const n of [10, 70, 77, 78, 79, 80]) {
        const prefix = '/' + 'a'.repeat(n) + piece + '/b'
        if (scanPrefix(prefix, 0, prefix.length) !== modelPrefix(prefix)) wrong.push(`${JSON.stringify(piece)} after ${n}`)
      }
    }
  }
  t.same(wrong, [])
})

t.test('prefixes: each breaking piece at each place', async (t) => {
  const wrong: string[] = []
  const breakers = ['/.', '/..', '/%2e', '/%2E%2e', '/.%2e', '/%2e.', '/.a', '/a.', '%2f', '%5C', '%4', '%', '%g1', '\\', '//']
  for (const n of [40, 62, 63, 64, 65, 66, 80, 127, 128, 129, 300]) {
    for (const piece of breakers) {
      for (const at of [1, 2, 15, 16, 17, n >> 1, n - 1, n]) {
        const body = '/' + 'b'.repeat(n)
        // the piece inside a segment, as a whole segment, and at the very end
        for (const prefix of [body.slice(0, at) + piece + body.slice(at), body.slice(0, at) + piece + '/' + body.slice(at),
          body.slice(0, at) + piece, body + piece, body + piece + '/', body + piece + '//c']) {
          const expected = modelPrefix(prefix)
          if (scanPrefix(prefix, 0, prefix.length) !== expected) wrong.push(`${JSON.stringify(prefix.slice(Math.max(0, at - 3), at + 6))} at ${at} of ${prefix.length}`)
          const inList = `x, ${prefix}  `
          if (scanPrefix(inList, 3, 3 + prefix.length) !== expected) wrong.push(`in a list: ${at} of ${prefix.length}`)
        }
      }
    }
  }
  t.same(wrong, [])
  const slashes = '/a' + '/'.repeat(5000)
  t.equal(scanPrefix(slashes, 0, slashes.length), '/a', 'a long run of trailing slashes')
  t.equal(scanPrefix('/' + 'a'.repeat(100) + '\u0161', 0, 102), null, 'above U+00FF')
  t.equal(scanPrefix('/' + 'a'.repeat(100) + '\u0161', 0, 101), '/' + 'a'.repeat(100))
})

t.test('prefixes: encoded control characters are malformed like raw ones', async (t) => {
  // A prefix ends up in links and Location headers: %0d%0a would split a header line once decoded.
  for (const prefix of ['/a%00b', '/a%0d%0aSet-Cookie:%20x=1', '/a%1F', '/a%1f/b', '/%7F', '/a%7f', '/a\x00', '/a\x7f']) {
    t.equal(parsePrefix(prefix), null, JSON.stringify(prefix))
  }
  for (const prefix of ['/a%20b', '/a%7e', '/a%2d', '/%80', '/a%21']) t.equal(parsePrefix(prefix), prefix, JSON.stringify(prefix))
})

t.test('header values: own properties only, strings and arrays only', async (t) => {
  const inherited = Object.create({ 'x-forwarded-for': '6.6.6.6' }) as Record<string, string>
  t.equal(headerText(inherited, 'x-forwarded-for'), undefined, 'an inherited property is no header')
  t.equal(headerText({}, 'constructor'), undefined)
  t.equal(headerText({}, '__proto__'), undefined)
  t.equal(headerText({ a: ['1', '2'] }, 'a'), '1, 2')
  t.equal(headerText({ a: 5 as unknown as string }, 'a'), undefined, 'a number is no header value')
  t.equal(lastElement(' a , b\t'), 'b')
  t.equal(lastElement('b'), 'b')
})
