// Property 5: no cross-talk under load. A real listening server, a keep-alive
// pool of 20 sockets and a couple of thousand concurrent requests with random
// chains: every response reports exactly the client its own request implied
// (matched by a request id), and the sockets really were shared.
import { deepStrictEqual, equal } from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import t from 'tap'
import { build, view } from '../helpers'
import {
  SEED, type Headers, allowlistCidrs, anyAddr, entryFor, inside, junkEntry, lines, list, modelRequest, protoValue, scaled, title, validHost
} from './support'

const REQUESTS = scaled(2000)
const SOCKETS = 20
const trustedProxies = ['loopback', '10.0.0.0/8', '2001:db8::/32']
const cidrs = allowlistCidrs(trustedProxies)

const printable = (value: string): boolean => /^[\t\x20-\x7e]*$/.test(value) // what an HTTP client may send
const trimmed = (value: string): string => value.replace(/^[ \t]+|[ \t]+$/g, '') // what an HTTP parser keeps
const address = fc.oneof({ weight: 3, arbitrary: inside(cidrs) }, { weight: 2, arbitrary: anyAddr })
const request = fc.record({
  // Several lines too: the server joins them with ', ' as Node does.
  chain: fc.option(lines(list(fc.oneof({ weight: 12, arbitrary: entryFor(address) }, { weight: 1, arbitrary: junkEntry }).filter(printable), 6)), { freq: 4, nil: undefined }),
  host: fc.option(validHost, { freq: 3, nil: undefined }),
  proto: fc.option(protoValue.filter(printable), { freq: 3, nil: undefined })
})

t.test(title('no cross-talk under load', REQUESTS, 'requests') + ` (keep-alive, ${SOCKETS} sockets)`, async (t) => {
  const app = await build({ trustedProxies })
  app.get('/echo', async (request) => ({ id: request.headers['x-request-id'], socket: request.raw.socket.remotePort, ...view(request) }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  const agent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS })
  t.teardown(async () => {
    agent.destroy()
    await app.close()
  })

  const model = {
    cidrs,
    hops: Infinity,
    forHeader: 'x-forwarded-for',
    hostHeader: 'x-forwarded-host',
    protoHeader: 'x-forwarded-proto',
    portHeader: null,
    prefixHeader: null,
    clientIpHeader: null,
    forwarded: false
  }
  const received = `127.0.0.1:${port}`
  const cases = fc.sample(request, { seed: SEED, numRuns: REQUESTS })

  function send (id: number, headers: Headers): Promise<any> {
    return new Promise((resolve, reject) => {
      const req = http.get({ agent, host: '127.0.0.1', port, path: '/echo', headers: { ...headers, 'x-request-id': String(id) } }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { body += chunk })
        res.on('end', () => { resolve({ status: res.statusCode, ...JSON.parse(body) }) })
      })
      req.on('error', reject)
    })
  }

  const start = Date.now()
  const responses = await Promise.all(cases.map((c, id) => {
    const headers: Headers = {}
    if (c.chain !== undefined) headers['x-forwarded-for'] = c.chain
    if (c.host !== undefined) headers['x-forwarded-host'] = c.host
    if (c.proto !== undefined) headers['x-forwarded-proto'] = c.proto
    return send(id, headers)
  }))
  const elapsed = Date.now() - start

  const sockets = new Set<number>()
  let mismatches = 0
  responses.forEach((response, id) => {
    const c = cases[id]
    // The server sees values with the edges' spaces and tabs removed, as HTTP parsers do.
    const headers: Headers = {}
    if (c.chain !== undefined) headers['x-forwarded-for'] = (Array.isArray(c.chain) ? c.chain : [c.chain]).map(trimmed)
    if (c.host !== undefined) headers['x-forwarded-host'] = c.host
    if (c.proto !== undefined) headers['x-forwarded-proto'] = trimmed(c.proto)
    const { invalid: _invalid, ...expected } = modelRequest(model, '127.0.0.1', headers, received)
    sockets.add(response.socket)
    try {
      equal(response.status, 200)
      equal(response.id, String(id), 'the response of its own request')
      deepStrictEqual(
        { ip: response.ip, ips: response.ips, host: response.host, hostname: response.hostname, port: response.port, protocol: response.protocol },
        { ip: expected.ip, ips: expected.ips, host: expected.host, hostname: expected.hostname, port: expected.port, protocol: expected.protocol })
    } catch (error) {
      if (mismatches++ < 5) t.fail(`request ${id}: ${(error as Error).message}`, { request: c })
    }
  })
  t.equal(mismatches, 0, `every response matches its own request (${REQUESTS} requests in ${elapsed} ms)`)
  t.ok(sockets.size <= SOCKETS && sockets.size < REQUESTS, `${sockets.size} keep-alive sockets carried ${REQUESTS} requests`)
})
