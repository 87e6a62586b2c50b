// `for` values with escapes (`for="_\a\b…"`), long and short: the verdict,
// the client and the invalid value must be what unescaping first and reading
// the result gives. The model unescapes with a regular expression and judges
// with modelNode (test/properties/support.ts).
import { deepStrictEqual } from 'node:assert/strict'
import t from 'tap'
import fc from 'fast-check'
import { normalizeOptions } from '../lib/options'
import { resolve } from '../lib/resolve'
import { createResolver } from '../lib/request'
import { SEED, canonicalText, modelNode, scaled, title } from './properties/support'

const config = normalizeOptions({ trustedProxies: '10.0.0.0/8', forwarded: true })
const PEER = '10.0.0.1'

/** What the walk should give for `for="<escaped>", for=10.1.2.3`. */
function expected (escaped: string): { ip: string, invalid: string | null } {
  const value = escaped.replace(/\\([\s\S])/g, '$1')
  const node = modelNode(value)
  if (node === 'hidden') return { ip: '10.1.2.3', invalid: null }
  if (node === 'malformed') return { ip: '10.1.2.3', invalid: value }
  return { ip: canonicalText(node), invalid: null }
}

function seen (escaped: string): { ip: string, invalid: string | null } {
  const r = resolve(config, PEER, { host: 'app.internal', forwarded: `for="${escaped}";proto=https, for=10.1.2.3` })
  if (r === null) throw new Error('the peer is trusted')
  if (r.invalid !== null && r.invalid.header !== 'forwarded') throw new Error(`invalid ${r.invalid.header}`)
  return { ip: r.ip, invalid: r.invalid?.value ?? null }
}

/** Whether text can stand between the quotes of a quoted-string: no bare
 *  `"`, no `\` at the end (it would escape the closing quote). */
function quotedContent (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return false
  }
  return !/(^|[^\\])(\\\\)*\\$/.test(text)
}

/** Every character escaped. */
const escapeAll = (text: string): string => text.replace(/[\s\S]/g, '\\$&')

// Runs of characters a hidden node may hold and of ones it may not, each as
// it is or escaped; an escaped `\` now and then; long and short.
const character = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '9', '.', '_', '-', '0') },
  { weight: 1, arbitrary: fc.constantFrom(':', '65535', 'unknown', '[', ']', ' ', '@', '\t', '\xe9') })
const run = fc.tuple(character, fc.integer({ min: 1, max: 40 }), fc.nat(3)).map(([c, n, how]) =>
  how === 0 ? escapeAll(c.repeat(n)) : how === 1 ? c.repeat(n).replace(/(.)(.)/g, '$1\\$2') : c.repeat(n))
const piece = fc.oneof({ weight: 8, arbitrary: run }, { weight: 1, arbitrary: fc.constantFrom('\\\\', '\\"', '\\:', ':') })
const start = fc.constantFrom('_', '\\_', '', '\\', 'unknown', escapeAll('unknown'), 'unknown:', escapeAll('unknown:'), '_a:', '\\_\\:')
// Addresses, spelled with every character escaped: long, and still addresses.
const address = fc.constantFrom('[2001:db8::1]:4711', '[1111:2222:3333:4444:5555:6666:7777:8888]:65535', '[::ffff:198.51.100.9]',
  '192.0.2.43:47011', '[fe80::1]', '203.0.113.7').map(escapeAll)
// Names as a hidden node has them (`_` and name characters, a port), and
// IPv4 addresses, with
// one piece of anything else slipped in now and then.
const nameRun = fc.tuple(fc.constantFrom('a', 'Z', '9', '.', '_', '-'), fc.integer({ min: 1, max: 40 }), fc.boolean())
  .map(([c, n, escape]) => escape ? escapeAll(c.repeat(n)) : c.repeat(n))
// (IPv4 with a port is an address, however long an obfuscated port makes it.)
const hiddenName = fc.tuple(fc.constantFrom('_', '\\_', 'unknown', 'UnKnOwN', '203.0.113.7', escapeAll('198.51.100.9'), '10.0.0.5', '1.2.3'),
  fc.array(nameRun, { maxLength: 4 })).map(([head, runs]) => head + runs.join(''))
const hiddenPort = fc.oneof(fc.constantFrom('', ':80', '\\:\\8\\0', ':65535', ':0', ':'), hiddenName.map((name) => ':' + name))
const hiddenLike = fc.tuple(hiddenName, hiddenPort, fc.option(fc.tuple(piece, fc.nat()), { freq: 3 })).map(([name, port, slip]) => {
  const value = name + port
  if (slip === null) return value
  const at = slip[1] % (value.length + 1)
  return value.slice(0, at) + slip[0] + value.slice(at)
})
const escapedValue = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(start, fc.array(piece, { maxLength: 8 })).map(([head, pieces]) => head + pieces.join('')) },
  { weight: 4, arbitrary: hiddenLike },
  { weight: 2, arbitrary: address })

const runs = scaled(4000)
t.test(title('a long for= value with escapes is judged as unescaping it first would judge it', runs), async (t) => {
  const kinds = { hidden: 0, malformed: 0, address: 0 } // long values only
  fc.assert(fc.property(escapedValue, (escaped) => {
    if (!quotedContent(escaped)) return
    const want = expected(escaped)
    const node = modelNode(escaped.replace(/\\([\s\S])/g, '$1'))
    if (escaped.length > 64) kinds[node === 'hidden' ? 'hidden' : node === 'malformed' ? 'malformed' : 'address']++
    deepStrictEqual(seen(escaped), want, JSON.stringify(escaped))
  }), { seed: SEED, numRuns: runs })
  // Each verdict came up for long values (short ones are unescaped first).
  t.ok(kinds.hidden > runs / 40 && kinds.malformed > runs / 20 && kinds.address > runs / 50, JSON.stringify(kinds))
})

t.test('long escaped values at the edges of the rules', async (t) => {
  const name = '_' + escapeAll('a'.repeat(40))
  const cases: Array<[string, string]> = [
    ['an obfuscated name', name],
    ['with a port', name + ':8080'],
    ['with an escaped colon and port', name + '\\:\\8\\0'],
    ['with an obfuscated port, long', name + ':_' + escapeAll('p'.repeat(40))],
    ['unknown with a long obfuscated port', 'unknown:_' + escapeAll('p'.repeat(40))],
    ['escaped unknown with a long obfuscated port', escapeAll('UNKNOWN:_' + 'p'.repeat(40))],
    ['a name of `_` alone before an escaped colon', '\\_\\:_' + escapeAll('p'.repeat(40))],
    ['a name of `_` alone, long port', '_:_' + escapeAll('p'.repeat(40))],
    ['an escaped backslash', name + '\\\\'],
    ['two escaped backslashes in the middle', name + '\\\\\\\\' + name.slice(1)],
    ['two colons', name + ':_a:_b'],
    ['a colon and nothing after it', name + ':'],
    ['port 0', name + ':0'],
    ['port 65536', name + ':65536'],
    ['no leading `_`', escapeAll('a'.repeat(40))],
    ['a space inside', name + '\\ a'],
    ['a Latin-1 letter inside', name + '\\\xe9'],
    ['bracketed IPv6, every character escaped', escapeAll('[1111:2222:3333:4444:5555:6666:7777:8888]:65535')],
    ['a bracket, then junk', '\\[' + escapeAll('a'.repeat(40))],
    ['IPv4 with a port, every character escaped, padded by escaped spaces', escapeAll('192.0.2.43:4711' + ' '.repeat(30))],
    ['IPv4 with a long obfuscated port', '192.0.2.43:_' + escapeAll('p'.repeat(40))],
    ['IPv4 with a long obfuscated port, all escaped', escapeAll('192.0.2.43:_' + 'p'.repeat(40))],
    ['IPv4 with a long obfuscated port, the colon escaped', '192.0.2.43\\:_' + escapeAll('p'.repeat(40))],
    ['a trusted IPv4 with a long obfuscated port', '10.0.0.9:_' + escapeAll('p'.repeat(40))],
    ['IPv4 with a long port of junk', '192.0.2.43:_' + escapeAll('p'.repeat(40)) + '@'],
    ['IPv4 with a long port of digits', '192.0.2.43:' + escapeAll('1'.repeat(40))],
    ['a long name that looks like IPv4', escapeAll('192.0.2.43'.repeat(5)) + ':_p'],
    ['not quite IPv4, long port', '192.0.2:_' + escapeAll('p'.repeat(40))]
  ]
  for (const [label, escaped] of cases) t.same(seen(escaped), expected(escaped), label)
})

t.test('the invalid value of a long escaped for= is unescaped when it is read', async (t) => {
  const escaped = '_' + escapeAll('b'.repeat(40)) + '\\\\'
  const unescaped = '_' + 'b'.repeat(40) + '\\'
  const r = resolve(config, PEER, { forwarded: `for="${escaped}", for=10.1.2.3` })
  const invalid = r?.invalid
  if (invalid === null || invalid === undefined) throw new Error('the value is malformed')
  t.equal(invalid.value, unescaped)
  t.equal(invalid.value, unescaped, 'the same when read again')
  t.same({ ...invalid }, { header: 'forwarded', value: unescaped }, 'spread')
  t.same(JSON.parse(JSON.stringify(invalid)), { header: 'forwarded', value: unescaped }, 'as JSON')
  invalid.value = 'redacted'
  t.equal(invalid.value, 'redacted', 'and may be replaced, as any other invalid value')
  const resolveClient = createResolver({ trustedProxies: '10.0.0.0/8', forwarded: true })
  const seenByResolver = resolveClient({ socket: { remoteAddress: PEER }, headers: { forwarded: `for="${escaped}", for=10.1.2.3` } })
  t.same(seenByResolver.invalid, { header: 'forwarded', value: unescaped }, 'through createResolver')
  t.equal(seenByResolver.ip, '10.1.2.3')
})
