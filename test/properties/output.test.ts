// Property 3: whatever a trusted proxy sends, the request's view stays well
// formed: `ip` is an address, `hostname` the original or a valid RFC 3986
// host, `protocol` http or https, `port` null or 1–65535. And every field is
// what the model (support.ts) says: rightmost values, the walk, ignore/reject.
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import { isIP } from 'node:net'
import fc from 'fast-check'
import { createResolver } from '../../lib/request'
import { build } from '../helpers'
import {
  anyAddr, checkProperty, entryFor, fastifyHost, forwardedHeader, inside, modelHost, modelPrefix, modelRequest, modelTrusted,
  peerAddress, peerText, receivedHost, requestHeaders, setup
} from './support'

const scenario = setup.chain((s) => {
  const near = fc.oneof({ weight: 3, arbitrary: inside(s.model.cidrs) }, { weight: 1, arbitrary: anyAddr })
  return fc.record({
    setup: fc.constant(s),
    requests: fc.array(fc.record({
      peer: fc.tuple(inside(s.model.cidrs), fc.nat()).map(([addr, style]) => peerText(addr, style)),
      headers: requestHeaders(entryFor(near), 2, forwardedHeader(near)),
      host: receivedHost
    }), { minLength: 1, maxLength: 8 })
  })
})

checkProperty('output is always an address, a host, a protocol, a port', 400, fc.asyncProperty(scenario, async ({ setup, requests }) => {
  const app = await build(setup.options)
  try {
    for (const { peer, headers, host } of requests) {
      const response = await app.inject({ url: '/', remoteAddress: peer, headers: { ...headers, host } })
      const expected = modelRequest(setup.model, peer, headers, host)
      if (response.statusCode === 400) {
        equal(setup.options.onInvalid, 'reject', 'a 400 only under reject')
        ok(expected.invalid.size > 0, `a 400 only for a malformed value: ${response.body}`)
        continue
      }
      equal(response.statusCode, 200, response.body)
      const seen = response.json()

      // The invariants, checked on their own terms.
      ok(isIP(seen.ip) !== 0, `ip ${seen.ip}`)
      ok(seen.ips.every((ip: string) => isIP(ip) !== 0), `ips ${seen.ips}`)
      equal(seen.ips[seen.ips.length - 1], seen.ip)
      const original = fastifyHost(host)
      ok(seen.hostname === original.hostname || modelHost(seen.hostname)?.port === null, `hostname ${seen.hostname}`)
      ok(seen.protocol === 'http' || seen.protocol === 'https', `protocol ${seen.protocol}`)
      ok(seen.port === null || (Number.isInteger(seen.port) && seen.port >= 1 && seen.port <= 65535), `port ${seen.port}`)
      ok(seen.forwardedPrefix === '' || modelPrefix(seen.forwardedPrefix) === seen.forwardedPrefix, `prefix ${seen.forwardedPrefix}`)
      equal(seen.originalIp, peer)
      equal(seen.originalHost, host)

      // And exactly what the contract says.
      const { invalid, ...fields } = expected
      equal(setup.options.onInvalid === 'reject' && invalid.size > 0, false, `expected a 400 for ${[...invalid.keys()]}`)
      deepStrictEqual(seen, { ...fields, originalIp: peer, originalHost: host })
    }
  } finally {
    await app.close()
  }
}), 'up to 8 requests each, trusted peers, any mode, ignore or reject')

// The framework-free createResolver gives the same answers, for trusted and
// untrusted peers alike, and reports the malformed value instead of rejecting.
const resolverScenario = setup.chain((s) => {
  const near = fc.oneof({ weight: 3, arbitrary: inside(s.model.cidrs) }, { weight: 1, arbitrary: anyAddr })
  return fc.record({
    setup: fc.constant(s),
    requests: fc.array(fc.record({
      peer: fc.tuple(fc.oneof(inside(s.model.cidrs), anyAddr), fc.nat()).map(([addr, style]) => peerText(addr, style)),
      headers: requestHeaders(entryFor(near), 2, forwardedHeader(near)),
      host: receivedHost,
      http2: fc.boolean() // the received host as HTTP/2's :authority instead of Host
    }), { minLength: 1, maxLength: 8 })
  })
})

checkProperty('createResolver answers as the model', 1000, fc.property(resolverScenario, ({ setup, requests }) => {
  const resolveRequest = createResolver(setup.options)
  for (const { peer, headers, host, http2 } of requests) {
    const seen = resolveRequest({ socket: { remoteAddress: peer }, headers: { ...headers, [http2 ? ':authority' : 'host']: host } })
    const { invalid, forwardedPrefix, ...fields } = modelRequest(setup.model, peer, headers, host)
    const peerAddr = peerAddress(peer) as NonNullable<ReturnType<typeof peerAddress>>
    deepStrictEqual(seen, {
      ...fields,
      prefix: forwardedPrefix,
      trusted: modelTrusted(setup.model.cidrs, peerAddr),
      originalIp: peer,
      originalHost: host,
      invalid: seen.invalid === null ? null : { header: seen.invalid.header, value: invalid.get(seen.invalid.header) },
      proxyProtocol: null
    })
    equal(seen.invalid === null, invalid.size === 0, 'a malformed value is reported')
  }
}), 'up to 8 requests each, any peer, any mode')
