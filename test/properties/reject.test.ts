// Property 6: rejection is safe. Under onInvalid: 'reject', a malformed value
// from a trusted proxy always gets a 400 whose message is short, printable
// ASCII, names the header and quotes no more than a 64-character escaped
// excerpt of the offending value; a valid request is never rejected; and
// nothing an untrusted peer sends is ever rejected.
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import fc from 'fast-check'
import { build } from '../helpers'
import {
  anyAddr, checkProperty, edge, entryFor, forwardedHeader, hostile, inside, lines, modelRequest, peerText, receivedHost,
  requestHeaders, setup
} from './support'

/** Undoes the excerpt's escapes: `\xNN` and `\uNNNN`; anything else must be printable ASCII but `"` and `\`. */
function unescapeExcerpt (text: string): string | null {
  if (!/^(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\x[0-9a-f]{2}|\\u[0-9a-f]{4})*$/.test(text)) return null
  return text.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/g, (_all, x?: string, u?: string) => String.fromCharCode(parseInt(x ?? u ?? '', 16)))
}

/** The quote shows the offending value, or its start followed by `...`, in at most 64 characters. */
function quotes (quoted: string, value: string): boolean {
  const whole = unescapeExcerpt(quoted)
  if (whole === value && quoted.length <= 64) return true
  if (!quoted.endsWith('...')) return false
  const start = unescapeExcerpt(quoted.slice(0, -3))
  return start !== null && quoted.length - 3 <= 64 && value.startsWith(start) && start.length < value.length
}

const scenario = setup.map((s) => ({ ...s, options: { ...s.options, onInvalid: 'reject' as const } })).chain((s) => {
  const near = fc.oneof({ weight: 3, arbitrary: inside(s.model.cidrs) }, { weight: 1, arbitrary: anyAddr })
  const headers = requestHeaders(entryFor(near), 2, forwardedHeader(near))
  return fc.record({
    setup: fc.constant(s),
    requests: fc.array(fc.record({
      peer: fc.tuple(fc.oneof(inside(s.model.cidrs), anyAddr, edge(s.model.cidrs)), fc.nat()).map(([addr, style]) => peerText(addr, style)),
      // Long and hostile values of every header, so the excerpt is tested where it matters.
      headers: fc.tuple(headers, fc.constantFrom('x-forwarded-for', 'x-chain', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port',
        'x-forwarded-prefix', 'x-real-ip', 'forwarded'), fc.option(lines(hostile), { freq: 2, nil: undefined }))
        .map(([h, name, extra]) => (extra === undefined ? h : { ...h, [name]: extra })),
      host: receivedHost
    }), { minLength: 1, maxLength: 8 })
  })
})

checkProperty('rejection is safe', 400, fc.asyncProperty(scenario, async ({ setup, requests }) => {
  const app = await build(setup.options)
  try {
    for (const { peer, headers, host } of requests) {
      const expected = modelRequest(setup.model, peer, headers, host)
      const response = await app.inject({ url: '/', remoteAddress: peer, headers: { ...headers, host } })
      if (expected.invalid.size === 0) {
        equal(response.statusCode, 200, `no 400 without a malformed value from a trusted proxy: ${response.body}`)
        continue
      }
      equal(response.statusCode, 400, 'a malformed value from a trusted proxy')
      const body = response.json()
      deepStrictEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
      deepStrictEqual([body.statusCode, body.code, body.error], [400, 'FST_PROXY_FIX_INVALID_HEADER', 'Bad Request'])
      const message: string = body.message
      ok(message.length <= 200, `message of ${message.length} characters`)
      ok(/^[\x20-\x7e]*$/.test(message), `message not printable ASCII: ${JSON.stringify(message)}`)
      const m = /^Invalid ([a-z0-9-]+) header from a trusted proxy: "(.*)"$/.exec(message)
      ok(m !== null, `message shape: ${message}`)
      const [, header, quoted] = m as RegExpExecArray
      ok(expected.invalid.has(header), `${header} is not one of the malformed headers ${[...expected.invalid.keys()]}`)
      ok(quotes(quoted, expected.invalid.get(header) as string), `quote ${JSON.stringify(quoted)} of ${JSON.stringify(expected.invalid.get(header)?.slice(0, 100))}`)
    }
  } finally {
    await app.close()
  }
}), 'up to 8 requests each, trusted and untrusted peers, any mode')
