// Reading list elements in place, against a model that splits the text: the
// fast paths (a comma near the end, long elements, long runs of spaces and
// tabs) must find exactly the element the split finds.
import { deepStrictEqual } from 'node:assert'
import t from 'tap'
import fc from 'fast-check'
import { hostPart, previousElement, scanHost, span } from '../lib/headers'
import { SEED, modelHost, scaled, title } from './properties/support'

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
    previousElement(text, end)
    out.push([span.comma, span.start, span.end])
    if (span.comma < 0) return out
    end = span.comma
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
t.test(title('previousElement finds the element a split finds, long or short', runs), async (t) => {
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

// Hosts over 64 characters are checked by the native scans (a class run, then
// the `%XX` escapes): held here to the grammar at the lengths around the
// switch and far past it, with the escape broken at each place it can break.
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
        const scanned = scanHost(text, start, text.length)
        if (scanned !== (model !== null)) wrong.push(`${scanned} ${text.length} ${JSON.stringify(text.slice(-12))}`)
        else if (scanned && (hostPart.end - start !== model!.hostname.length || hostPart.port !== model!.port)) wrong.push(`parts ${JSON.stringify(text.slice(-12))}`)
      }
    }
  }
  t.same(wrong, [])
})
