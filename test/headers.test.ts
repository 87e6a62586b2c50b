// Reading list elements in place, against a model that splits the text: the
// fast paths (a comma near the end, long elements, long runs of spaces and
// tabs) must find exactly the element the split finds.
import { deepStrictEqual } from 'node:assert'
import t from 'tap'
import fc from 'fast-check'
import { previousElement, span } from '../lib/headers'
import { SEED, scaled, title } from './properties/support'

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
