// Forwarded (RFC 7239) under `forwarded: true`: the parser never throws and
// agrees with the RFC grammar (written as regular expressions in support.ts)
// and with forwarded-parse on the values both read the same way; the walk over
// for= values, and the host and proto of the client's element, match the
// model. (Untrusted peers, output and rejection with `forwarded: true` are in
// untrusted, output and reject.test.ts, whose setups pick the mode at random.)
import { deepStrictEqual, equal } from 'node:assert/strict'
import fc from 'fast-check'
import forwardedParse from 'forwarded-parse'
import { parseForwarded } from '../helpers'
import { build } from '../helpers'
import {
  FORWARDED_NAMES, allowlist, allowlistCidrs, anyAddr, checkProperty, edge, forwardedElement, forwardedHeader, hostile,
  inside, lines, modelParseForwarded, modelRequest, peerText
} from './support'

/** One character changed, added or removed. */
function mutate (text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const piece = fc.constantFrom(',', ';', '=', '"', '\\', ' ', '\t', 'for', '[', ':', '\u0000', '\u00e9', '\u0100', '\ud800')
  return fc.tuple(text, fc.nat(), piece, fc.boolean()).map(([value, at, p, remove]) => {
    const i = at % (value.length + 1)
    return remove ? value.slice(0, i) + value.slice(i + 1) : value.slice(0, i) + p + value.slice(i)
  })
}

const header = forwardedHeader(anyAddr)
const anyHeader = fc.oneof(header, mutate(header), mutate(mutate(header)), hostile,
  fc.string({ unit: fc.constantFrom('for', 'By', 'x', '=', ';', ',', '"', '\\', ' ', '\t', '_a', '1', '[', ':', '\u00ff'), maxLength: 16 }))

checkProperty('parseForwarded never throws and agrees with the RFC 7239 grammar', 5000, fc.property(anyHeader, (value) => {
  deepStrictEqual(parseForwarded(value), modelParseForwarded(value))
}))

/** Where forwarded-parse reads differently by design (see test/forwarded.test.ts): empty elements, OWS at the edges. */
function outsideDocumentedDifferences (value: string): boolean {
  const elements = modelParseForwarded(value)
  return elements !== null && !/^[ \t]|[ \t]$/.test(value) && elements.every((element) => Object.keys(element).length > 0) &&
    !value.split(',').some((part) => /^[ \t]*$/.test(part))
}

// Elements joined without blank elements or OWS at the edges, which forwarded-parse reads differently.
const plainHeader = fc.tuple(fc.array(forwardedElement(anyAddr), { minLength: 1, maxLength: 5 }), fc.constantFrom(',', ', ', ' ,', '\t, '))
  .map(([elements, separator]) => elements.join(separator))

checkProperty('forwarded-parse agrees on valid headers', 3000, fc.property(fc.oneof(plainHeader, mutate(plainHeader)), (value) => {
  if (!outsideDocumentedDifferences(value)) return
  let theirs: Array<Record<string, string>> | null
  try {
    theirs = forwardedParse(value)
  } catch {
    theirs = null
  }
  // forwarded-parse keeps extension parameters; ours drops them. Elements with only extensions: {}.
  const registered = theirs?.map((element) => Object.fromEntries(Object.entries(element)
    .filter(([name]) => (FORWARDED_NAMES as readonly string[]).includes(name)))) ?? null
  equal(registered === null, false, `forwarded-parse refused ${JSON.stringify(value)}`)
  deepStrictEqual(parseForwarded(value), registered)
}))

const scenario = allowlist.chain((trustedProxies) => {
  const cidrs = allowlistCidrs(trustedProxies)
  const address = fc.oneof({ weight: 6, arbitrary: inside(cidrs) }, { weight: 2, arbitrary: anyAddr }, { weight: 1, arbitrary: edge(cidrs) })
  const value = fc.oneof({ weight: 10, arbitrary: forwardedHeader(address) }, { weight: 1, arbitrary: mutate(forwardedElement(address)) })
  return fc.record({
    trustedProxies: fc.constant(trustedProxies),
    hops: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    onInvalid: fc.constantFrom<'ignore' | 'reject'>('ignore', 'reject'),
    port: fc.boolean(),
    requests: fc.array(fc.record({
      peer: fc.tuple(address, fc.nat()).map(([addr, style]) => peerText(addr, style)),
      forwarded: fc.option(lines(value), { nil: undefined }),
      port: fc.option(fc.constantFrom('443', '8443', '0', 'x'), { nil: undefined }),
      xff: fc.option(fc.constantFrom('6.6.6.6', 'junk'), { nil: undefined }) // never read in this mode
    }), { minLength: 1, maxLength: 8 })
  })
})

checkProperty('the Forwarded walk matches the model', 500, fc.asyncProperty(scenario, async (s) => {
  const app = await build({
    trustedProxies: s.trustedProxies,
    ...(s.hops === undefined ? {} : { hops: s.hops }),
    forwarded: true,
    headers: s.port ? { port: 'x-forwarded-port' } : {},
    onInvalid: s.onInvalid
  })
  const model = {
    cidrs: allowlistCidrs(s.trustedProxies),
    hops: s.hops ?? Infinity,
    forHeader: 'x-forwarded-for',
    hostHeader: 'x-forwarded-host',
    protoHeader: 'x-forwarded-proto',
    portHeader: s.port ? 'x-forwarded-port' : null,
    prefixHeader: null,
    clientIpHeader: null,
    forwarded: true
  }
  try {
    for (const request of s.requests) {
      const headers: Record<string, string | string[]> = { host: 'app.internal:3000' }
      if (request.forwarded !== undefined) headers.forwarded = request.forwarded
      if (request.port !== undefined) headers['x-forwarded-port'] = request.port
      if (request.xff !== undefined) headers['x-forwarded-for'] = request.xff
      const expected = modelRequest(model, request.peer, headers, 'app.internal:3000')
      const response = await app.inject({ url: '/', remoteAddress: request.peer, headers })
      if (s.onInvalid === 'reject' && expected.invalid.size > 0) {
        equal(response.statusCode, 400, `expected a 400 for ${[...expected.invalid.values()].join()}`)
        continue
      }
      equal(response.statusCode, 200, response.body)
      const { invalid, ...fields } = expected
      deepStrictEqual(response.json(), { ...fields, originalIp: request.peer, originalHost: 'app.internal:3000' })
    }
  } finally {
    await app.close()
  }
}), 'up to 8 requests each, ignore or reject')
