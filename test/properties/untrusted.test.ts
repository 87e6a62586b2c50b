// Property 1: a peer that is not trusted changes nothing. Whatever it sends,
// the request looks exactly as it does to Fastify without the plugin, and it
// is never rejected, even with onInvalid: 'reject'.
import { deepStrictEqual, equal } from 'node:assert/strict'
import fc from 'fast-check'
import Fastify from 'fastify'
import { build, view } from '../helpers'
import {
  anyAddr, checkProperty, edge, entryFor, forwardedHeader, inside, modelTrusted, peerAddress, peerText, receivedHost, requestHeaders, setup
} from './support'

const plain = Fastify()
plain.get('/', async (request) => view(request))

const scenario = setup.chain((s) => {
  const near = fc.oneof(anyAddr, edge(s.model.cidrs), inside(s.model.cidrs))
  return fc.record({
    setup: fc.constant(s),
    requests: fc.array(fc.record({
      peer: fc.tuple(fc.oneof(anyAddr, edge(s.model.cidrs)), fc.nat()).map(([addr, style]) => peerText(addr, style)),
      headers: requestHeaders(entryFor(near), 3, forwardedHeader(near)),
      host: receivedHost
    }), { minLength: 1, maxLength: 8 })
  })
})

checkProperty('untrusted peers change nothing', 400, fc.asyncProperty(scenario, async ({ setup, requests }) => {
  const app = await build(setup.options)
  try {
    for (const { peer, headers, host } of requests) {
      if (modelTrusted(setup.model.cidrs, peerAddress(peer) as NonNullable<ReturnType<typeof peerAddress>>)) continue
      const request = { url: '/', remoteAddress: peer, headers: { ...headers, host } }
      const [ours, theirs] = await Promise.all([app.inject(request), plain.inject(request)])
      equal(ours.statusCode, 200, ours.body)
      const seen = ours.json()
      const fastify = theirs.json()
      deepStrictEqual(seen, {
        ip: fastify.ip,
        ips: [peer],
        host: fastify.host,
        hostname: fastify.hostname,
        port: fastify.port,
        protocol: fastify.protocol,
        forwardedPrefix: '',
        originalIp: fastify.ip,
        originalHost: fastify.host
      })
    }
  } finally {
    await app.close()
  }
}), 'up to 8 requests each, any mode, ignore or reject')
