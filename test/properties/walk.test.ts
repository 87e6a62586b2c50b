// Property 2: the chain walk matches a deliberately simple model (support.ts):
// split(',') for the list, net.isIP for addresses, BigInt prefixes for ranges.
// Random allowlists (IPv4/IPv6 CIDRs of any length, host bits set, names,
// IPv4-mapped), hops, and chains of addresses in every spelling, with ports,
// brackets, tabs and spaces, junk and broken entries.
import { deepStrictEqual, equal } from 'node:assert/strict'
import fc from 'fast-check'
import { build } from '../helpers'
import {
  type Headers, allowlist, allowlistCidrs, anyAddr, canonicalText, checkProperty, edge, entryFor, inside, junkEntry, lines,
  list, modelAddress, modelRequest, modelTrusted, peerAddress, peerText
} from './support'

const scenario = allowlist.chain((trustedProxies) => {
  const cidrs = allowlistCidrs(trustedProxies)
  const address = fc.oneof({ weight: 6, arbitrary: inside(cidrs) }, { weight: 2, arbitrary: anyAddr }, { weight: 1, arbitrary: edge(cidrs) })
  const chain = list(fc.oneof({ weight: 12, arbitrary: entryFor(address) }, { weight: 1, arbitrary: junkEntry }), 8)
  return fc.record({
    trustedProxies: fc.constant(trustedProxies),
    hops: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    onInvalid: fc.constantFrom<'ignore' | 'reject'>('ignore', 'reject'),
    asFunction: fc.boolean(),
    forName: fc.constantFrom('x-forwarded-for', 'X-Forwarded-For', 'x-chain'),
    requests: fc.array(fc.record({
      peer: fc.tuple(address, fc.nat()).map(([addr, style]) => peerText(addr, style)),
      chain: fc.option(lines(chain), { nil: undefined })
    }), { minLength: 1, maxLength: 8 })
  })
})

checkProperty('the walk matches the model', 600, fc.asyncProperty(scenario, async (s) => {
  const cidrs = allowlistCidrs(s.trustedProxies)
  // The same allowlist as a trust function: it must get canonical addresses, hop 0 the peer, then 1, 2, …
  const calls: Array<[string, number]> = []
  const trustFunction = (address: string, hop: number): boolean => {
    calls.push([address, hop])
    const addr = modelAddress(address)
    return addr !== null && modelTrusted(cidrs, addr)
  }
  const app = await build({
    trustedProxies: s.asFunction ? trustFunction : s.trustedProxies,
    ...(s.hops === undefined ? {} : { hops: s.hops }),
    headers: { for: s.forName },
    onInvalid: s.onInvalid
  })
  const model = {
    cidrs,
    hops: s.hops ?? Infinity,
    forHeader: s.forName.toLowerCase(),
    hostHeader: null,
    protoHeader: null,
    portHeader: null,
    prefixHeader: null,
    clientIpHeader: null,
    forwarded: false
  }
  try {
    for (const { peer, chain } of s.requests) {
      const headers: Headers = chain === undefined ? {} : { [s.forName.toLowerCase()]: chain }
      const expected = modelRequest(model, peer, headers, 'app.internal:3000')
      calls.length = 0
      const response = await app.inject({ url: '/', remoteAddress: peer, headers: { ...headers, host: 'app.internal:3000' } })
      if (s.asFunction) {
        // Asked about the peer (zone id dropped), then about each address the walk stepped over, in order.
        const asked = calls.map(([address]) => address)
        const peerAddr = peerAddress(peer) as NonNullable<ReturnType<typeof peerAddress>>
        deepStrictEqual(calls.map(([, hop]) => hop), asked.map((_, k) => k), 'hops count from 0')
        equal(asked[0], canonicalText(peerAddr), 'the peer, canonical')
        deepStrictEqual(asked.slice(1), expected.ips.slice(1, asked.length), 'the chain entries, canonical, nearest first')
      }
      if (s.onInvalid === 'reject' && expected.invalid.size > 0) {
        equal(response.statusCode, 400, `expected a 400 for ${[...expected.invalid.values()].join()}`)
        continue
      }
      equal(response.statusCode, 200, response.body)
      const seen = response.json()
      deepStrictEqual({ ip: seen.ip, ips: seen.ips }, { ip: expected.ip, ips: expected.ips })
    }
  } finally {
    await app.close()
  }
}), 'up to 8 chains each, allowlist or trust function, ignore or reject')
