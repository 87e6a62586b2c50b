// The native scans (lib/scan.ts, lib/scan.wat) against the regular
// expressions they stand in for: every class on every Latin-1 character, runs
// that cross the 16- and 64-byte blocks the SIMD code reads, quoted strings
// with runs of backslashes, strings the copy cannot carry (above U+00FF), and
// a runtime without WebAssembly.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import fc from 'fast-check'
import {
  charClass, checkPrefix, foldHash, forgetText, instantiate, nativeScans, type CharClass,
  pairEnd as pairEndOnce, percentEnd as percentEndOnce, quotedEnd as quotedEndOnce, runEnd as runEndOnce, runStart as runStartOnce,
  unescapeQuoted as unescapeQuotedOnce
} from '../lib/scan'
import { SEED, scaled, title } from './properties/support'

// Texts under 256 characters are read by the expressions and loops, longer
// ones natively. Each scan below runs twice, on the text as it is and behind
// a long pad (outside the range scanned), and the two must agree.
const PAD = 'x'.repeat(300)
const P = PAD.length

function agree<T> (plain: T, padded: T, text: string): T {
  if (plain !== padded) throw new Error(`short and long paths differ on ${JSON.stringify(text)}: ${String(plain)} / ${String(padded)}`)
  return plain
}
const runEnd = (cls: CharClass, text: string, i: number, end: number): number =>
  agree(runEndOnce(cls, text, i, end), runEndOnce(cls, PAD + text, i + P, end + P) - P, text)
const runStart = (cls: CharClass, text: string, start: number, end: number): number =>
  agree(runStartOnce(cls, text, start, end), runStartOnce(cls, PAD + text, start + P, end + P) - P, text)
const percentEnd = (text: string, i: number, end: number): number =>
  agree(percentEndOnce(text, i, end), percentEndOnce(PAD + text, i + P, end + P) - P, text)
const pairEnd = (code: number, text: string, i: number, end: number): number =>
  agree(pairEndOnce(code, text, i, end), pairEndOnce(code, PAD + text, i + P, end + P) - P, text)
const quotedEnd = (text: string, i: number): number => {
  const padded = quotedEndOnce(PAD + text, i + P)
  return agree(quotedEndOnce(text, i), padded > 0 ? padded - P : padded < 0 ? padded + P : 0, text)
}
const unescapeQuoted = (text: string, start: number, end: number): string =>
  agree(unescapeQuotedOnce(text, start, end), unescapeQuotedOnce(PAD + text, start + P, end + P), text)

// The classes the parsers define, spelled as they spell them.
const CLASSES: Record<string, CharClass> = {
  'spaces and tabs': charClass(/[ \t]/),
  'list separators': charClass(/[ \t,]/),
  'reg-name': charClass(/[A-Za-z0-9\-._~!$&'()*+,;=%]/),
  tchar: charClass(/[!#$%&'*+\-.^_`|~0-9A-Za-z]/),
  // one that takes in the bytes 0x80-0xff, as qdtext does
  qdtext: charClass(/[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]/)
}

function modelEnd (cls: CharClass, text: string, i: number, end: number): number {
  while (i < end && cls.member.test(text[i])) i++
  return i
}

function modelStart (cls: CharClass, text: string, start: number, end: number): number {
  while (end > start && cls.member.test(text[end - 1])) end--
  return end
}

// RFC 7230 quoted-string after its opening quote, read one character at a time.
function modelQuoted (text: string, i: number): number {
  let escapes = false
  const allowed = (c: number): boolean => c === 9 || (c >= 0x20 && c !== 0x7f && c <= 0xff)
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) return escapes ? -(i + 1) : i + 1
    if (c === 0x5c) {
      escapes = true
      if (++i === text.length || !allowed(text.charCodeAt(i))) return 0
    } else if (!allowed(c)) {
      return 0
    }
  }
  return 0
}

// RFC 3986 pct-encoded: each `%` followed by two hex digits before `end`.
function modelPercent (text: string, i: number, end: number): number {
  for (let p = i; p < end; p++) {
    if (text[p] === '%' && !(p + 2 < end && /^[0-9A-Fa-f]{2}$/.test(text.slice(p + 1, p + 3)))) return p
  }
  return end
}

t.test('the committed WebAssembly is what lib/scan.wat compiles to', async (t) => {
  const build = require('../scripts/build-wasm.js')
  const bytes: Buffer = await build.compile()
  t.equal(readFileSync(join(__dirname, '..', 'lib', 'scan-wasm.ts'), 'utf8'), build.source(bytes),
    'run `npm run build:wasm` after editing lib/scan.wat')
})

t.test('the scans run natively here', async (t) => {
  t.equal(nativeScans, true)
  t.equal(instantiate('AGFzbQ=='), null, 'a module that does not compile gives the fallback')
})

t.test('every class, on every Latin-1 character, in every lane', async (t) => {
  for (const [name, cls] of Object.entries(CLASSES)) {
    const wrong: string[] = []
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c)
      const inside = cls.member.test(ch)
      // the character at each position of a 48-character run, so it lands in every lane
      for (let at = 0; at < 48; at++) {
        const filler = inside ? ch : (cls.member.test('a') ? 'a' : ' ')
        const text = filler.repeat(at) + ch + filler.repeat(47 - at)
        const expected = inside ? 48 : at
        if (runEnd(cls, text, 0, 48) !== expected) wrong.push(`end ${c} at ${at}`)
        const back = inside ? 0 : at + 1
        if (runStart(cls, text, 0, 48) !== back) wrong.push(`start ${c} at ${at}`)
      }
    }
    t.same(wrong, [], name)
  }
})

// Texts made of runs, so that class boundaries fall anywhere in a block.
const PIECES = [' ', '\t', ',', 'a', 'Z', '0', '%', ':', '"', '\\', '\x00', '\x01', '\x1f', '\x7f', '\x80', '\xa0', '\xff', '~', '=', ';']
// Above U+00FF: each aliases a Latin-1 class member in its low byte, which a
// careless copy (one byte per character) would take for the member.
const WIDE = ['\u0120', '\u0109', '\u012c', '\u0122', '\u015c', '\u2028', '\ud800']

function textOf (pieces: string[], wide: boolean): fc.Arbitrary<string> {
  const run = fc.tuple(fc.constantFrom(...pieces), fc.integer({ min: 1, max: 40 })).map(([c, n]) => c.repeat(n))
  const arb = fc.array(run, { maxLength: 14 }).map((runs) => runs.join(''))
  return wide
    ? fc.tuple(arb, fc.constantFrom(...WIDE), fc.nat()).map(([s, w, k]) => {
      const at = s.length === 0 ? 0 : k % s.length
      return s.slice(0, at) + w + s.slice(at)
    })
    : arb
}

const scanCase = (wide: boolean): fc.Arbitrary<[string, number, number]> => textOf(PIECES, wide).chain((text) =>
  fc.tuple(fc.constant(text), fc.nat({ max: text.length }), fc.nat({ max: text.length }))
    .map(([s, a, b]): [string, number, number] => [s, Math.min(a, b), Math.max(a, b)]))

for (const wide of [false, true]) {
  const runs = scaled(3000)
  t.test(title(`runEnd and runStart are the model's, ${wide ? 'above U+00FF (fallback)' : 'Latin-1 (native)'}`, runs), async (t) => {
    fc.assert(fc.property(scanCase(wide), ([text, i, end]) => {
      for (const cls of Object.values(CLASSES)) {
        if (runEnd(cls, text, i, end) !== modelEnd(cls, text, i, end)) return false
        if (runStart(cls, text, i, end) !== modelStart(cls, text, i, end)) return false
      }
      return true
    }), { seed: SEED, numRuns: runs })
    t.pass()
  })

  t.test(title(`quotedEnd is the model's, ${wide ? 'above U+00FF (fallback)' : 'Latin-1 (native)'}`, runs), async (t) => {
    // Mostly backslashes and quotes, so that escapes cross block edges.
    const quoted = textOf(['\\', '\\', '"', 'a', ' ', '\t', '\x01', '\x7f', '\xff'], wide).chain((text) =>
      fc.tuple(fc.constant(text), fc.nat({ max: text.length })))
    fc.assert(fc.property(quoted, ([text, i]) => quotedEnd(text, i) === modelQuoted(text, i)), { seed: SEED, numRuns: runs })
    t.pass()
  })
}

for (const wide of [false, true]) {
  const runs = scaled(3000)
  t.test(title(`percentEnd is the model's, ${wide ? 'above U+00FF (fallback)' : 'Latin-1 (native)'}`, runs), async (t) => {
    const percent = textOf(['%', '%', '0', '9', 'a', 'f', 'A', 'F', 'g', 'G', '/', ':', '@', '\x00', '\xff'], wide).chain((text) =>
      fc.tuple(fc.constant(text), fc.nat({ max: text.length }), fc.nat({ max: text.length })))
    fc.assert(fc.property(percent, ([text, a, b]) => {
      const [i, end] = a < b ? [a, b] : [b, a]
      return percentEnd(text, i, end) === modelPercent(text, i, end)
    }), { seed: SEED, numRuns: runs })
    t.pass()
  })
}

function modelPair (code: number, text: string, i: number, end: number): number {
  for (let k = i + 1; k < end; k++) if (text.charCodeAt(k) === code && text.charCodeAt(k - 1) === code) return k
  return end
}

for (const wide of [false, true]) {
  const runs = scaled(3000)
  t.test(title(`pairEnd is the model's, ${wide ? 'above U+00FF (fallback)' : 'Latin-1 (native)'}`, runs), async (t) => {
    // Single backslashes between other bytes, and now and then two.
    const single = textOf(['\\a', 'a\\', 'b', '\\\xff', '"'], wide)
    const text = fc.oneof(single, fc.tuple(single, single).map(([a, b]) => a + '\\\\' + b), textOf(['\\', 'a'], wide))
    fc.assert(fc.property(text.chain((s) => fc.tuple(fc.constant(s), fc.nat({ max: s.length }), fc.nat({ max: s.length }))), ([s, a, b]) => {
      const [i, end] = a < b ? [a, b] : [b, a]
      return pairEnd(92, s, i, end) === modelPair(92, s, i, end)
    }), { seed: SEED, numRuns: runs })
    t.pass()
  })
}

t.test('pairEnd: a pair in every lane, and at the end', async (t) => {
  for (let at = 1; at < 60; at++) {
    const text = 'ab'.repeat(40).slice(0, at - 1) + '\\\\' + 'ba'.repeat(40)
    t.equal(pairEnd(92, text, 0, text.length), at, `the second \\ at ${at}`)
    t.equal(pairEnd(92, text, 0, at + 1), at, 'the pair just inside the end')
    t.equal(pairEnd(92, text, 0, at), at, 'the end cuts the pair (and is returned)')
    t.equal(pairEnd(92, text, at, text.length), text.length, 'the start cuts the pair')
  }
})

t.test('percent escapes: every digit, every lane, the last bytes', async (t) => {
  // 64-byte chunks, with the next block read for a `%` in the last two lanes:
  // every lane of two chunks and a half.
  const wrong: string[] = []
  for (let c = 0; c < 256; c++) {
    for (let at = 0; at < 140; at++) {
      for (const [digits, ok] of [[String.fromCharCode(c) + 'a', /[0-9A-Fa-f]/.test(String.fromCharCode(c))], ['a' + String.fromCharCode(c), /[0-9A-Fa-f]/.test(String.fromCharCode(c))]] as Array<[string, boolean]>) {
        const text = 'b'.repeat(at) + '%' + digits + 'b'.repeat(140 - at)
        if (percentEnd(text, 0, text.length) !== (ok ? text.length : at)) wrong.push(`${c} at ${at}`)
      }
    }
  }
  t.same(wrong, [])
  for (let n = 0; n < 140; n++) {
    const text = 'a'.repeat(n) + '%4'
    t.equal(percentEnd(text, 0, text.length), n, `a % one digit from the end, after ${n}`)
    t.equal(percentEnd(text + '1', 0, text.length + 1), text.length + 1)
    t.equal(percentEnd(text + '1', 0, text.length), n, 'the end bounds the digits')
  }
  t.equal(percentEnd('%41', 2, 1), 1)
})

// Valid quoted-string content: runs of characters and escaped pairs.
const escapedContent = (wide: boolean): fc.Arbitrary<[string, number, number]> => {
  const piece = fc.oneof(
    fc.tuple(fc.constantFrom('a', ' ', '\t', '\xff', '~', 'b'), fc.integer({ min: 1, max: 40 })).map(([c, n]) => c.repeat(n)),
    fc.tuple(fc.constantFrom('\\', '"', 'a', ' ', '\xff'), fc.integer({ min: 1, max: 40 })).map(([c, n]) => ('\\' + c).repeat(n)))
  const body = fc.array(piece, { maxLength: 16 }).map((pieces) => pieces.join(''))
  const content = wide ? body.map((b) => b + '\u0161' + b) : body
  return fc.tuple(fc.nat({ max: 20 }), content).map(([pad, c]): [string, number, number] => ['x'.repeat(pad) + c + '"tail', pad, pad + c.length])
}

for (const wide of [false, true]) {
  const runs = scaled(2000)
  t.test(title(`unescapeQuoted drops exactly the escaping backslashes, ${wide ? 'above U+00FF (fallback)' : 'Latin-1 (native)'}`, runs), async (t) => {
    fc.assert(fc.property(escapedContent(wide), ([text, start, end]) =>
      unescapeQuoted(text, start, end) === text.slice(start, end).replace(/\\([\s\S])/g, '$1')), { seed: SEED, numRuns: runs })
    t.pass()
  })
}

t.test('unescapeQuoted at every length around the blocks', async (t) => {
  for (let n = 0; n < 140; n++) {
    const plain = 'a'.repeat(n)
    const escaped = '\\a'.repeat(n)
    const pairs = '\\\\'.repeat(n)
    t.equal(unescapeQuoted(plain, 0, n), plain)
    t.equal(unescapeQuoted(escaped, 0, 2 * n), plain, `${n} escaped letters`)
    t.equal(unescapeQuoted(pairs, 0, 2 * n), '\\'.repeat(n), `${n} escaped backslashes`)
  }
})

t.test('quoted strings: escapes, block edges, what ends them', async (t) => {
  const cases: Array<[string, number]> = [
    ['"', 1],
    ['abc"', 4],
    ['a\\"b"', -5],
    ['\\\\"', -3],
    ['\\\\\\"', 0],
    ['ab', 0],
    ['a\\', 0],
    ['a\x01"', 0],
    ['a\\\x01"', 0],
    ['a\t\x80\xff"', 5],
    ['a\x7f"', 0],
    ['"\x01', 1] // what follows the closing quote is not the string's
  ]
  for (let n = 60; n < 70; n++) {
    cases.push(['a'.repeat(n) + '"', n + 1])
    cases.push(['a'.repeat(n) + '\\"', 0])
    cases.push(['a'.repeat(n) + '\\""', -(n + 3)])
    cases.push(['\\'.repeat(n) + '"', n % 2 === 0 ? -(n + 1) : 0])
  }
  for (const [text, expected] of cases) t.equal(quotedEnd(text, 0), expected, JSON.stringify(text))
})

t.test('quotedEnd: what ends a string after clean 64-byte chunks, at every offset', async (t) => {
  // Chunks with no quote and no control byte are passed over on one test of
  // all four blocks; the byte that stops the string must be found in any
  // lane of any of them, after plain text or after escapes, and a tab (which
  // the quick test counts as a control) must not stop it.
  let checked = 0
  for (const body of ['a', '\\a', '\\\\']) {
    for (const stop of ['"', '\x00', '\x01', '\x1f', '\x7f', '\t', '\\"']) {
      for (let n = 0; n < 200; n++) {
        const text = body.repeat(n).slice(0, n) + stop + 'b"'
        const got = quotedEnd(text, 0)
        if (got !== modelQuoted(text, 0)) t.fail(`${JSON.stringify(text)}: ${got}, not ${modelQuoted(text, 0)}`)
        checked++
      }
    }
  }
  t.equal(checked, 3 * 7 * 200)
  // A clean chunk hands on only the parity of the backslash run it ends with
  // (whole masks when that run is 16 or longer): runs of every length, ending
  // at every place around the chunk edges, escaping a quote or a letter.
  for (let run = 0; run <= 40; run++) {
    for (let at = 0; at < 140; at++) {
      for (const next of ['"x"', 'x"']) {
        const text = 'a'.repeat(at) + '\\'.repeat(run) + next + 'b'.repeat(70) + '"'
        const got = quotedEnd(text, 0)
        if (got !== modelQuoted(text, 0)) t.fail(`${run} backslashes after ${at}, then ${next}: ${got}, not ${modelQuoted(text, 0)}`)
      }
    }
  }
  t.equal(quotedEnd('a'.repeat(150) + '\t"', 0), 152, 'a tab is text')
  t.equal(quotedEnd('\\a'.repeat(75) + '\x7f"', 0), 0, 'DEL after escapes')
})

t.test('foldHash: equal but for case hashes alike, natively and in the fallback', async (t) => {
  const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  const seen = new Map<number, string>()
  let collisions = 0
  for (const wide of [false, true]) {
    for (let n = 1; n < 150; n++) {
      let name = ''
      for (let k = 0; k < n; k++) name += tchars[(k * 7 + n) % tchars.length]
      const pad = wide ? '\u0161' : ''
      const upper = `x;${name.toUpperCase()}=1${pad}`
      const lower = `;${name.toLowerCase()}=1`
      t.equal(foldHash(upper, 2, 2 + n), foldHash(lower + pad, 1, 1 + n), `${n} characters${wide ? ', fallback' : ''}`)
      t.equal(foldHash(PAD + upper, P + 2, P + 2 + n), foldHash(PAD + lower + pad, P + 1, P + 1 + n), `${n} characters in a long text${wide ? ', fallback' : ''}`)
      const hash = foldHash(upper, 2, 2 + n)
      if (!wide && seen.has(hash)) collisions++
      seen.set(hash, name)
    }
  }
  t.equal(collisions, 0, 'different names, different hashes')
  t.not(foldHash('^'.repeat(80), 0, 80), foldHash('~'.repeat(80), 0, 80), '^ and ~ differ only in bit 5, and are not letters')
  t.not(foldHash('a'.repeat(80), 0, 80), foldHash('a'.repeat(81), 0, 81), 'the length counts')
})

t.test('foldHash: names built to make lanes cancel do not collide', async (t) => {
  // Review found that names whose 16-byte blocks repeat their first four
  // bytes in the next four all hashed alike, whatever the seed: the first two
  // lanes started equal and were XORed together. Lanes now start apart and
  // are mixed in one by one.
  const words: string[] = []
  for (const a of 'abcdefghijklmnop') for (const b of 'abcdefghijklmnop') words.push(`${a}${b}aq`)
  for (const [label, make] of [
    ['lanes 0 and 1 equal', (w: string) => (w + w + 'zzzzzzzz').repeat(5)],
    ['lanes 2 and 3 equal', (w: string) => ('zzzzzzzz' + w + w).repeat(5)],
    ['all four lanes equal', (w: string) => (w + w + w + w).repeat(5)]
  ] as Array<[string, (w: string) => string]>) {
    const text = PAD + words.map(make).join(';')
    const hashes = new Set<number>()
    let at = P
    for (const w of words) {
      const name = make(w)
      hashes.add(foldHash(text, at, at + name.length))
      at += name.length + 1
    }
    t.equal(hashes.size, words.length, label)
  }
})

t.test('a text longer than the memory grows it', async (t) => {
  const text = 'a' + ' '.repeat(200_000) + 'b' + '"'.repeat(3)
  t.equal(runEnd(CLASSES['spaces and tabs'], text, 1, text.length), 200_001)
  t.equal(runStart(CLASSES['spaces and tabs'], text, 0, 200_001), 1)
  t.equal(quotedEnd(text, 0), 200_003)
  t.equal(runEnd(CLASSES['spaces and tabs'], 'a  b', 1, 4), 3, 'and a short one after it')
})

t.test('scratch copies leave the loaded text intact', async (t) => {
  // (The scans themselves here, not both paths: the point is what stays loaded.)
  const ows = CLASSES['spaces and tabs']
  const path = charClass(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]/)
  forgetText()
  const first = '/' + 'y'.repeat(80)
  const slashes = charClass(/[/]/)
  t.equal(checkPrefix(path, slashes, first, 0, first.length), first.length, 'with nothing loaded')
  for (const n of [70, 100, 3000]) {
    const text = 'a,' + ' '.repeat(4000) + 'b'
    t.equal(runEndOnce(ows, text, 2, text.length), 4002)
    const prefix = '/' + 'z'.repeat(n) + '//'
    t.equal(checkPrefix(path, slashes, prefix, 0, prefix.length), n + 1)
    t.equal(runEndOnce(ows, text, 2, text.length), 4002, `after a prefix of ${n + 1}`)
    const quoted = '\\q'.repeat(n)
    t.equal(unescapeQuotedOnce(quoted, 0, quoted.length), 'q'.repeat(n))
    t.equal(runEndOnce(ows, text, 2, text.length), 4002, `after unescaping ${2 * n}`)
  }
})

t.test('a string above U+00FF is searched for once, not at every scan', async (t) => {
  const ows = CLASSES['spaces and tabs']
  const text = ' '.repeat(100) + 'x\u0100'
  for (let k = 0; k < 3; k++) t.equal(runEnd(ows, text, 0, text.length), 100)
  t.equal(checkPrefix(charClass(/[a-z/]/), charClass(/[/]/), text, 0, text.length), null)
})

t.test('an empty range is answered without a scan', async (t) => {
  const cls = CLASSES['spaces and tabs']
  t.equal(runEnd(cls, '   ', 2, 2), 2)
  t.equal(runEnd(cls, '   ', 3, 1), 1)
  t.equal(runStart(cls, '   ', 2, 2), 2)
})

t.test('without WebAssembly (node --jitless) the expressions give the same answers', async (t) => {
  const out = execFileSync(process.execPath, [...process.execArgv, '--jitless', '--no-warnings',
    join(__dirname, 'fixtures', 'scan-without-wasm.ts')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  t.same(JSON.parse(out), { nativeScans: false, runEnd: 201, runStart: 1, quotedEnd: -208 })
})

t.test('the class table has a fixed size, and says so when it is full', async (t) => {
  t.throws(() => { for (let k = 0; k < 20; k++) charClass(/a/) }, /too many character classes/)
})
