// The PROXY protocol at the connection, against real listening servers on
// loopback: every server kind Fastify creates, the bytes after the header,
// headers in pieces, the timeout, what is closed and what is logged.

import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import http2 from 'node:http2'
import net from 'node:net'
import { Duplex, Writable } from 'node:stream'
import tls from 'node:tls'
import proxyFix, { createResolver, type ProxyFixOptions } from '../lib/index'
import { makeCertificate, startClusterApp, tempDir } from './proxies/harness'
import { proxyV2, tlv } from './helpers'

// This file's addresses: the app on 127.0.7.100; trusted balancers 127.0.7.1-9; untrusted clients 127.0.7.50+.
const APP = '127.0.7.100'
const BALANCER = '127.0.7.1'
const STRANGER = '127.0.7.50'
const TRUSTED = '127.0.7.0/28'

const REQUEST = 'GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n'
const V1 = 'PROXY TCP4 203.0.113.7 10.0.0.2 40000 443\r\n'

/** A v2 PROXY header over TCP4 from `source` to 10.0.0.2:443, with TLVs. */
function v2 (source: number[], tlvs: Buffer[] = [], command = 0x21): Buffer {
  return proxyV2(command, 0x11, Buffer.concat([Buffer.from([...source, 10, 0, 0, 2, 0x9c, 0x40, 1, 0xbb]), ...tlvs]))
}

const SSL_TLV = tlv(0x20, Buffer.from([1, 0, 0, 0, 0]))
const VPCE_TLV = tlv(0xea, Buffer.concat([Buffer.from([1]), Buffer.from('vpce-08d2bf15fac5001c9')]))

interface Running {
  app: FastifyInstance
  port: number
  /** How many requests reached a route. */
  routed: () => number
  /** The warn lines the app logged. */
  warnings: Array<{ msg: string, peer?: string, reason?: string }>
}

/** A listening app whose route answers what the request looks like, and what createResolver says of it. */
async function listen (t: Test, options: ProxyFixOptions, server: FastifyServerOptions = {}): Promise<Running> {
  const warnings: Running['warnings'] = []
  const stream = new Writable({
    write (line, _encoding, done) {
      const entry = JSON.parse(String(line))
      if (entry.level === 40) warnings.push(entry)
      done()
    }
  })
  const app = Fastify({ ...server, logger: { level: 'warn', stream } } as FastifyServerOptions)
  await app.register(proxyFix, options)
  const resolveRequest = createResolver(options)
  let routed = 0
  app.all('/', async (request) => {
    routed++
    const resolved = resolveRequest(request.raw)
    return {
      ip: request.ip,
      ips: request.ips,
      protocol: request.protocol,
      originalIp: request.originalIp,
      proxyProtocol: request.proxyProtocol,
      resolver: { ip: resolved.ip, ips: resolved.ips, protocol: resolved.protocol, proxyProtocol: resolved.proxyProtocol }
    }
  })
  t.teardown(() => app.close())
  await app.listen({ host: APP, port: 0 })
  return { app, port: (app.server.address() as net.AddressInfo).port, routed: () => routed, warnings }
}

interface Exchange {
  /** Everything the server sent back. */
  response: string
  /** The JSON body of a 200 reply, else null. */
  body: any
}

/**
 * Opens a connection from `from`, writes `pieces` (each a separate write,
 * `gap` ms apart) and returns what came back once the server closes it.
 */
async function exchange (port: number, pieces: Array<string | Buffer>, from = BALANCER, gap = 0): Promise<Exchange> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect({ host: APP, port, localAddress: from })
    socket.setNoDelay(true)
    let response = ''
    socket.on('data', (chunk) => { response += chunk.toString('latin1') })
    socket.on('error', reject)
    socket.on('close', () => resolve({ response, body: response.startsWith('HTTP/1.1 200') ? bodies(response)[0] : null }))
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return
        socket.write(piece)
        if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap))
      }
    })
  })
}

/** The JSON bodies of the responses in `text`, read by their Content-Length. */
function bodies (text: string): any[] {
  const found = []
  let at = 0
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at)
    const length = Number(/content-length: (\d+)/i.exec(text.slice(at, end))?.[1])
    found.push(JSON.parse(text.slice(end + 4, end + 4 + length)))
    at = end + 4 + length
  }
  return found
}

/** A connection from `from` whose first write carries `prefix` before the first bytes its user writes (as HAProxy sends them). */
function prefixed (port: number, prefix: Buffer, from = BALANCER): Duplex {
  const socket = net.connect({ host: APP, port, localAddress: from })
  let first = true
  const duplex = new Duplex({
    write (chunk: Buffer, _encoding, done) {
      socket.write(first ? Buffer.concat([prefix, chunk]) : chunk, done)
      first = false
    },
    read () { socket.resume() },
    final (done) { socket.end(done) },
    destroy (error, done) {
      socket.destroy()
      done(error)
    }
  })
  socket.on('data', (chunk) => { if (!duplex.push(chunk)) socket.pause() })
  socket.on('end', () => duplex.push(null))
  socket.on('close', () => duplex.destroy())
  socket.on('error', (error) => duplex.destroy(error))
  return duplex
}

/** One HTTP/1.1 request over TLS, the PROXY header in the same write as the ClientHello. */
async function httpsExchange (port: number, prefix: Buffer): Promise<Exchange> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({ socket: prefixed(port, prefix), servername: 'shop.example', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
    let response = ''
    socket.on('secureConnect', () => socket.write(REQUEST))
    socket.on('data', (chunk) => { response += chunk.toString('latin1') })
    socket.on('error', reject)
    socket.on('close', () => resolve({ response, body: bodies(response)[0] }))
  })
}

/** One HTTP/2 request on a connection the caller makes. */
async function h2Exchange (connect: () => Duplex, authority: string): Promise<any> {
  const session = http2.connect(authority, { createConnection: connect })
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject)
      const stream = session.request({ ':path': '/', 'x-forwarded-for': '6.6.6.6' })
      let body = ''
      stream.on('data', (chunk) => { body += String(chunk) })
      stream.on('end', () => resolve(JSON.parse(body)))
      stream.on('error', reject)
    })
  } finally {
    session.close()
  }
}

async function until (condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting until ${what}`)
}

async function connections (app: FastifyInstance): Promise<number> {
  return await new Promise((resolve, reject) => app.server.getConnections((error, count) => error === null ? resolve(count) : reject(error)))
}

const EXPECTED_V1 = {
  ip: '203.0.113.7',
  ips: [BALANCER, '203.0.113.7'],
  protocol: 'http',
  originalIp: BALANCER,
  proxyProtocol: {
    version: 1,
    command: 'proxy',
    source: { address: '203.0.113.7', port: 40000 },
    destination: { address: '10.0.0.2', port: 443 },
    ssl: false,
    tlvs: []
  }
}

t.test('HTTP/1.1: header and request in one write, in pieces, and on keep-alive', async (t) => {
  const { port } = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: true })
  const whole = await exchange(port, [V1 + REQUEST])
  t.match(whole.body, { ...EXPECTED_V1, resolver: { ip: '203.0.113.7', ips: EXPECTED_V1.ips, proxyProtocol: EXPECTED_V1.proxyProtocol } },
    'the request after the header in the same write reaches the parser; createResolver sees the same')
  const bytes = Buffer.from(V1 + REQUEST)
  const split = await exchange(port, Array.from(bytes, (byte) => Buffer.from([byte])), BALANCER, 1)
  t.same(split.body, whole.body, 'one byte per write gives the same answer')

  const keepAlive = REQUEST.replace('Connection: close', 'Connection: keep-alive')
  const second = REQUEST.replace('6.6.6.6', '10.0.0.9, 198.51.100.4')
  const both = await exchange(port, [v2([127, 0, 7, 2], [VPCE_TLV]), keepAlive, second], BALANCER, 20)
  const answers = bodies(both.response)
  t.equal(answers.length, 2, 'two requests on one connection')
  t.same(answers.map((body) => body.ips), [[BALANCER, '127.0.7.2', '6.6.6.6'], [BALANCER, '127.0.7.2', '198.51.100.4']],
    'each request resolves its own X-Forwarded-For behind the same trusted source')
  t.same(answers[0].proxyProtocol, answers[1].proxyProtocol, 'and sees the same PROXY header')
  t.equal(Buffer.from(answers[0].proxyProtocol.tlvs[0].value.data).subarray(1).toString(), 'vpce-08d2bf15fac5001c9', 'a VPC endpoint id is readable')
})

t.test('HTTPS: the header before the TLS handshake, in the same write as the ClientHello', async (t) => {
  const cert = await makeCertificate(tempDir(t, 'proxy-protocol-https'))
  const { port } = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: true }, { https: { key: readFileSync(cert.key), cert: readFileSync(cert.cert) } } as FastifyServerOptions)
  const v1 = await httpsExchange(port, Buffer.from(V1))
  t.match(v1.body, { ...EXPECTED_V1, protocol: 'https', resolver: { ip: '203.0.113.7', proxyProtocol: EXPECTED_V1.proxyProtocol } })
  const ssl = await httpsExchange(port, v2([203, 0, 113, 8], [SSL_TLV]))
  t.match(ssl.body, { ip: '203.0.113.8', protocol: 'https', proxyProtocol: { version: 2, ssl: true } })

  const optional = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: 'optional' }, { https: { key: readFileSync(cert.key), cert: readFileSync(cert.cert) } } as FastifyServerOptions)
  const plain = await httpsExchange(optional.port, Buffer.alloc(0))
  t.match(plain.body, { ip: '6.6.6.6', ips: [BALANCER, '6.6.6.6'], protocol: 'https', proxyProtocol: null }, "'optional': TLS without a header")
})

t.test('HTTP/2 over TLS and h2c', async (t) => {
  const cert = await makeCertificate(tempDir(t, 'proxy-protocol-h2'))
  const secure = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: true },
    { http2: true, https: { key: readFileSync(cert.key), cert: readFileSync(cert.cert) } } as FastifyServerOptions)
  const overTls = await h2Exchange(() => tls.connect({
    socket: prefixed(secure.port, Buffer.from(V1)), servername: 'shop.example', rejectUnauthorized: false, ALPNProtocols: ['h2']
  }), 'https://shop.example')
  t.match(overTls, { ...EXPECTED_V1, protocol: 'https', resolver: { ip: '203.0.113.7', proxyProtocol: EXPECTED_V1.proxyProtocol } })

  const cleartext = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: 'optional' }, { http2: true } as FastifyServerOptions)
  const h2c = await h2Exchange(() => prefixed(cleartext.port, v2([203, 0, 113, 9], [SSL_TLV])), 'http://shop.example')
  t.match(h2c, { ip: '203.0.113.9', ips: [BALANCER, '203.0.113.9'], protocol: 'https', proxyProtocol: { version: 2, ssl: true } },
    'the header in the same write as the HTTP/2 preface; the SSL TLV makes it https')
  const plain = await h2Exchange(() => net.connect({ host: APP, port: cleartext.port, localAddress: BALANCER }), 'http://shop.example')
  t.match(plain, { ip: '6.6.6.6', ips: [BALANCER, '6.6.6.6'], protocol: 'http', proxyProtocol: null }, "'optional': no header, plain h2c")
})

t.test('node:cluster workers read the header of the connections they are handed', async (t) => {
  const app = await startClusterApp(t, APP, 2, { app: { trustedProxies: TRUSTED, proxyProtocol: true } })
  for (let i = 0; i < 4; i++) {
    const { body } = await exchange(app.port, [V1 + REQUEST.replace('GET / ', 'GET /app ')])
    t.match(body, { ip: '203.0.113.7', ips: [BALANCER, '203.0.113.7'] }, `request ${i + 1}`)
  }
})

t.test('untrusted peers are never read: their PROXY header is not honored', async (t) => {
  const running = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: true })
  const forged = await exchange(running.port, [V1 + REQUEST], STRANGER)
  t.match(forged.response, /^HTTP\/1\.1 400 /, "Node's HTTP parser answers 400")
  const plain = await exchange(running.port, [REQUEST], STRANGER)
  t.match(plain.body, { ip: STRANGER, ips: [STRANGER], proxyProtocol: null }, 'plain HTTP from an untrusted peer is served, as without the option')
  t.equal(running.routed(), 1)
  t.same(running.warnings, [], 'nothing logged: an untrusted connection is not the plugin\'s')
})

t.test('true: a trusted connection without a valid header is closed, no response, a warning', async (t) => {
  const running = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: true })
  const cases: Array<[Array<string | Buffer>, RegExp]> = [
    [[REQUEST], /does not begin with a PROXY header/],
    [['PROXY TCP4 203.0.113.07 10.0.0.2 1 2\r\n' + REQUEST], /malformed PROXY header: a v1 TCP4 line with an address that is not strict IPv4/],
    [[Buffer.concat([proxyV2(0x21, 0x12, Buffer.alloc(12)), Buffer.from(REQUEST)])], /DGRAM/],
    [['PROXY ' + 'x'.repeat(120)], /longer than 107/]
  ]
  for (const [pieces, reason] of cases) {
    const { response } = await exchange(running.port, pieces)
    t.equal(response, '', `closed without a response: ${String(reason)}`)
    const warning = running.warnings.shift()
    t.match(warning, { peer: BALANCER, reason, msg: /closed a connection from trusted peer 127\.0\.7\.1/ })
  }
  t.equal(running.routed(), 0, 'nothing reached the route')
  await until(async () => await connections(running.app) === 0, 'no connection is left open')
})

t.test("'optional': plain HTTP is served; a signature that turns out malformed is closed", async (t) => {
  const running = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: 'optional' })
  const plain = await exchange(running.port, [REQUEST])
  t.match(plain.body, { ip: '6.6.6.6', ips: [BALANCER, '6.6.6.6'], proxyProtocol: null }, 'a health check without a header')
  const inPieces = await exchange(running.port, ['G', 'ET / HTTP/1.1\r\n', REQUEST.slice(16)], BALANCER, 10)
  t.match(inPieces.body, { ip: '6.6.6.6' }, 'plain HTTP in pieces')
  const local = await exchange(running.port, [v2([0, 0, 0, 0], [], 0x20), REQUEST])
  t.match(local.body, { ip: '6.6.6.6', ips: [BALANCER, '6.6.6.6'], proxyProtocol: { command: 'local', source: null } }, 'LOCAL keeps the peer')
  const unknown = await exchange(running.port, ['PROXY UNKNOWN\r\n' + REQUEST])
  t.match(unknown.body, { ip: '6.6.6.6', proxyProtocol: { version: 1, source: null } }, 'UNKNOWN keeps the peer')
  const bad = await exchange(running.port, ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n' + REQUEST])
  t.equal(bad.response, '', 'closed')
  t.match(running.warnings, [{ reason: /exactly two addresses/ }])
  t.equal(running.routed(), 4)
})

t.test('the timeout runs from the connection opening and covers only the header', async (t) => {
  const running = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: 'optional', proxyProtocolTimeout: 150 })
  const silent = await exchange(running.port, [])
  t.equal(silent.response, '', 'sending nothing times out')
  const slow = await exchange(running.port, ['PROXY TCP4 203.0.113.7 ', '10.0.0.2 40000 443\r\n'], BALANCER, 300)
  t.equal(slow.response, '', 'a header not complete within the timeout is closed')
  t.match(running.warnings, [{ reason: /no complete PROXY header within 150 ms/ }, { reason: /within 150 ms/ }])
  // A header trickled in pieces, each within the timeout of the last, is
  // still late: the clock does not restart with each piece.
  const trickled = await exchange(running.port, ['PROXY ', 'TCP4 ', '203.0.113.7 ', '10.0.0.2 ', '40000 443\r\n', REQUEST], BALANCER, 100)
  t.equal(trickled.response, '', 'a header trickled past the timeout is closed')
  t.match(running.warnings[2], { reason: /within 150 ms/ })
  const late = await exchange(running.port, [V1, REQUEST], BALANCER, 400)
  t.match(late.body, { ip: '203.0.113.7' }, 'the HTTP request after a complete header is not timed by it')
  t.equal(running.warnings.length, 3)
  t.equal(running.routed(), 1)
})

t.test('headers completed in any order: each connection is served or timed out on its own', async (t) => {
  const running = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: true, proxyProtocolTimeout: 500 })
  // Three connections send the first half of a header, oldest first; the
  // middle one and then the newest complete theirs, the oldest never does.
  function half (): { socket: net.Socket, closed: Promise<Exchange> } {
    const socket = net.connect({ host: APP, port: running.port, localAddress: BALANCER }, () => socket.write('PROXY TCP4 203.0.113.7 '))
    let response = ''
    socket.on('data', (chunk) => { response += chunk.toString('latin1') })
    const closed = new Promise<Exchange>((resolve) => socket.on('close', () => {
      resolve({ response, body: response.startsWith('HTTP/1.1 200') ? bodies(response)[0] : null })
    }))
    return { socket, closed }
  }
  const oldest = half()
  await until(async () => await connections(running.app) === 1, 'the oldest is open')
  const middle = half()
  await until(async () => await connections(running.app) === 2, 'the middle one is open')
  const newest = half()
  await until(async () => await connections(running.app) === 3, 'the newest is open')
  middle.socket.write('10.0.0.2 40000 443\r\n' + REQUEST)
  t.match((await middle.closed).body, { ip: '203.0.113.7' }, 'the middle one is served')
  newest.socket.write('10.0.0.2 40000 443\r\n' + REQUEST)
  t.match((await newest.closed).body, { ip: '203.0.113.7' }, 'the newest is served')
  t.same(running.warnings, [], 'the oldest is still within its timeout')
  t.equal((await oldest.closed).response, '', 'the oldest is closed at its deadline')
  t.match(running.warnings, [{ peer: BALANCER, reason: /within 500 ms/ }])
  t.equal(running.routed(), 2)
})

t.test('a peer that ends or resets before its header is complete leaves nothing behind', async (t) => {
  const running = await listen(t, { trustedProxies: TRUSTED, proxyProtocol: true })
  await new Promise<void>((resolve) => {
    const socket = net.connect({ host: APP, port: running.port, localAddress: BALANCER }, () => {
      socket.write('PROXY TCP')
      setTimeout(() => socket.resetAndDestroy(), 20)
    })
    socket.on('close', () => resolve())
  })
  await new Promise<void>((resolve) => {
    const socket = net.connect({ host: APP, port: running.port, localAddress: BALANCER }, () => socket.end('PROXY TCP'))
    socket.on('data', () => t.fail('no response'))
    socket.on('close', () => resolve())
  })
  await until(async () => await connections(running.app) === 0, 'both connections are gone')
  t.same(running.warnings, [])
  t.equal(running.routed(), 0)
})

t.test('a trust function is asked about the peer at hop 0; its throw is not trust', async (t) => {
  const hops: Array<[string, number]> = []
  const running = await listen(t, {
    trustedProxies: (address, hop) => {
      hops.push([address, hop])
      if (address === '127.0.7.3') throw new Error('boom')
      return address === BALANCER
    },
    proxyProtocol: true
  })
  const { body } = await exchange(running.port, [V1 + REQUEST])
  t.match(body, { ip: '203.0.113.7' })
  t.same(hops[0], [BALANCER, 0], 'the connection asked first, about the peer at hop 0')
  const thrower = await exchange(running.port, [REQUEST], '127.0.7.3')
  t.match(thrower.body, { ip: '127.0.7.3', ips: ['127.0.7.3'] }, 'a throwing trust function: the connection is served as untrusted')
  t.match(running.warnings, [{ err: { message: 'boom' }, msg: /trustedProxies function threw/ }], 'the throw is logged, once')
})

t.test('a trust function that throws for a connection that never becomes a request: the throw is logged', async (t) => {
  const running = await listen(t, {
    trustedProxies: (address) => {
      if (address === '127.0.7.3') throw new Error('boom')
      return address === BALANCER
    },
    proxyProtocol: true
  })
  // Untrusted, so its PROXY line goes to Node's HTTP parser, which refuses it.
  const { response } = await exchange(running.port, [V1 + REQUEST], '127.0.7.3')
  t.match(response, /^(HTTP\/1\.1 400 |$)/, 'refused by the HTTP parser, or closed')
  t.equal(running.routed(), 0)
  t.match(running.warnings, [{ err: { message: 'boom' }, msg: /trustedProxies function threw/ }])
})

t.test('configuration errors fail at ready() with a coded error', async (t) => {
  for (const [options, message] of [
    [{ proxyProtocol: 'yes' }, /proxyProtocol must be false, true or 'optional', got 'yes'/],
    [{ proxyProtocol: 1 }, /got 1/],
    [{ proxyProtocol: true, proxyProtocolTimeout: 0 }, /proxyProtocolTimeout must be a whole number of milliseconds from 1 to 2147483647, got 0/],
    [{ proxyProtocol: true, proxyProtocolTimeout: 2 ** 31 }, /got 2147483648/],
    [{ proxyProtocol: true, proxyProtocolTimeout: 1.5 }, /got 1.5/],
    [{ proxyProtocol: true, proxyProtocolTimeout: '100' }, /got '100'/]
  ] as const) {
    const app = Fastify()
    app.register(proxyFix, { trustedProxies: TRUSTED, ...options } as unknown as ProxyFixOptions)
    await t.rejects(async () => await app.ready(), { code: 'FST_PROXY_FIX_INVALID_PROXY_PROTOCOL', message }, JSON.stringify(options))
  }

  const listening = net.createServer()
  await new Promise<void>((resolve) => listening.listen(0, APP, resolve))
  t.teardown(() => listening.close())
  const late = Fastify({ serverFactory: () => listening as any })
  late.register(proxyFix, { trustedProxies: TRUSTED, proxyProtocol: true })
  await t.rejects(async () => await late.ready(), { code: 'FST_PROXY_FIX_PROXY_PROTOCOL_SERVER', message: /already listening/ })

  const notNet = Fastify({ serverFactory: () => Object.assign(new (require('node:events').EventEmitter)(), { listen () {}, close () {}, address () { return null } }) as any })
  notNet.register(proxyFix, { trustedProxies: TRUSTED, proxyProtocol: true })
  await t.rejects(async () => await notNet.ready(), { code: 'FST_PROXY_FIX_PROXY_PROTOCOL_SERVER', message: /not a Node net\.Server/ })

  const twice = Fastify()
  twice.register(async (child) => { await child.register(proxyFix, { trustedProxies: TRUSTED, proxyProtocol: true }) })
  twice.register(async (child) => { await child.register(proxyFix, { trustedProxies: TRUSTED, proxyProtocol: 'optional' }) })
  await t.rejects(async () => await twice.ready(), { code: 'FST_PROXY_FIX_PROXY_PROTOCOL_SERVER', message: /another registration already reads PROXY headers/ })
})

t.test('a sibling context without proxyProtocol walks from the peer and shows no header', async (t) => {
  const app = Fastify()
  app.register(async (child) => {
    await child.register(proxyFix, { trustedProxies: TRUSTED, proxyProtocol: true })
    child.get('/with', async (request) => ({ ip: request.ip, proxyProtocol: request.proxyProtocol }))
  })
  app.register(async (child) => {
    await child.register(proxyFix, { trustedProxies: TRUSTED })
    child.get('/without', async (request) => ({ ip: request.ip, proxyProtocol: request.proxyProtocol }))
  })
  t.teardown(() => app.close())
  await app.listen({ host: APP, port: 0 })
  const port = (app.server.address() as net.AddressInfo).port
  const keepAlive = REQUEST.replace('Connection: close', 'Connection: keep-alive')
  const both = await exchange(port, [V1, keepAlive.replace('GET / ', 'GET /with '), REQUEST.replace('GET / ', 'GET /without ')], BALANCER, 20)
  t.same(bodies(both.response), [
    { ip: '203.0.113.7', proxyProtocol: EXPECTED_V1.proxyProtocol },
    { ip: '6.6.6.6', proxyProtocol: null }
  ])
})

t.test('a connection closed by another connection listener before its header is forgotten, not timed out', async (t) => {
  const warnings: unknown[] = []
  const stream = new Writable({ write (line, _encoding, done) { warnings.push(JSON.parse(String(line))); done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(proxyFix, { trustedProxies: TRUSTED, proxyProtocol: true, proxyProtocolTimeout: 100 })
  // Added after the plugin's: it sees each trusted connection before its header is read.
  app.server.on('connection', (socket: net.Socket) => { if (socket.remoteAddress === '127.0.7.4') socket.destroy() })
  app.get('/', async (request) => ({ ip: request.ip }))
  t.teardown(() => app.close())
  await app.listen({ host: APP, port: 0 })
  const port = (app.server.address() as net.AddressInfo).port
  const { response } = await exchange(port, ['PROXY TCP4 '], '127.0.7.4')
  t.equal(response, '', 'closed by the other listener')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(warnings, [], 'no "no complete PROXY header" warning at its deadline')
  const { body } = await exchange(port, [V1 + REQUEST])
  t.match(body, { ip: '203.0.113.7' }, 'other connections are read as before')
})

t.test('closing the app does not wait for connections still sending their header', async (t) => {
  const app = Fastify()
  await app.register(proxyFix, { trustedProxies: TRUSTED, proxyProtocol: true, proxyProtocolTimeout: 600_000 })
  await app.listen({ host: APP, port: 0 })
  const port = (app.server.address() as net.AddressInfo).port
  const socket = net.connect({ host: APP, port, localAddress: BALANCER })
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.on('connect', () => socket.write('PROXY TCP4 ', () => resolve())))
  await until(async () => await connections(app) === 1, 'the server holds the connection')
  await app.close()
  await closed
  t.pass('the app closed, and the half-sent header\'s connection with it, long before its timeout')
})
