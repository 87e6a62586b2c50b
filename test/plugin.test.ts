// The Fastify glue: where the resolved values show up, and where they must not leak.
import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import { connect as connectH2 } from 'node:http2'
import { connect as connectTcp } from 'node:net'
import type { AddressInfo } from 'node:net'
import proxyFix from '../lib/index'
import { ask, build, view } from './helpers'

t.test('CommonJS shape: the plugin, .default and .proxyFix, with fastify-plugin metadata', async (t) => {
  const required = require('../lib/index')
  t.equal(typeof required, 'function')
  t.equal(required.default, required)
  t.equal(required.proxyFix, required)
  t.same(required[Symbol.for('plugin-meta')], { fastify: '5.x', name: 'fastify-proxy-fix' })
  t.equal(required[Symbol.for('skip-override')], true)
})

t.test('400 replies: Fastify error body, short escaped message', async (t) => {
  const app = await build({ trustedProxies: 'loopback', onInvalid: 'reject' })
  const response = await app.inject({ url: '/', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': 'a"b\\c\u00e9\u2603' } })
  t.equal(response.statusCode, 400)
  t.same(response.json(), {
    statusCode: 400,
    code: 'FST_PROXY_FIX_INVALID_HEADER',
    error: 'Bad Request',
    message: 'Invalid x-forwarded-for header from a trusted proxy: "a\\x22b\\x5cc\\xe9\\u2603"'
  })
  const long = 'x'.repeat(10000)
  const message: string = (await ask(app, '127.0.0.1', { 'x-forwarded-for': long })).body.message
  t.ok(message.length <= 200, `${message.length} characters`)
  t.ok(message.includes('"' + 'x'.repeat(64) + '..."'), 'quotes 64 characters of the value')
  const escaped: string = (await ask(app, '127.0.0.1', { 'x-forwarded-host': '\u00e9'.repeat(100) })).body.message
  t.ok(escaped.length <= 200)
  t.notOk(/[^\x20-\x7e]/.test(escaped), 'only printable ASCII')
})

t.test('400 replies name a long header in full, and stay within 200 characters', async (t) => {
  // The value's excerpt gives way to the name: a name of up to 120 characters
  // is named whole; a longer one (it is still a token) is cut.
  for (const length of [8, 40, 41, 93, 94, 120, 121, 500]) {
    const name = 'x-' + 'a'.repeat(length - 2)
    const app = await build({ trustedProxies: 'loopback', onInvalid: 'reject', headers: { proto: name } })
    for (const value of ['wss', 'w'.repeat(300), '\u00e9'.repeat(100)]) {
      const message: string = (await ask(app, '127.0.0.1', { [name]: value })).body.message
      t.ok(message.length <= 200, `${length}: ${message.length} characters`)
      if (length <= 120) t.ok(message.startsWith(`Invalid ${name} header from a trusted proxy: "`), `${length}: named whole`)
      else t.ok(message.startsWith(`Invalid ${name.slice(0, 120)}... header`), `${length}: cut at 120`)
      t.ok(message.includes(value.slice(0, 16)) || value[0] === '\u00e9', `${length}: some of the value is quoted`)
    }
    if (length <= 93) {
      const message: string = (await ask(app, '127.0.0.1', { [name]: 'w'.repeat(300) })).body.message
      t.ok(message.includes('"' + 'w'.repeat(64) + '..."'), `${length}: 64 characters of the value still fit`)
    }
    await app.close()
  }
})

t.test('a custom error handler sees the refusal', async (t) => {
  const app = Fastify()
  await app.register(proxyFix, { trustedProxies: 'loopback', onInvalid: 'reject' })
  app.setErrorHandler(async (error: any, request, reply) => reply.code(error.statusCode).send({ custom: error.code }))
  app.get('/', async () => 'ok')
  const response = await app.inject({ url: '/', headers: { 'x-forwarded-proto': 'ftp' } })
  t.same(response.json(), { custom: 'FST_PROXY_FIX_INVALID_HEADER' })
})

t.test("Fastify's incoming-request log line shows the client", async (t) => {
  const lines: any[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } })
  const app = await build({ trustedProxies: 'loopback' }, { logger: { level: 'info', stream } })
  await ask(app, '127.0.0.1', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'shop.example' })
  const incoming = lines.find((line) => line.msg === 'incoming request')
  t.equal(incoming.req.remoteAddress, '203.0.113.7')
  t.equal(incoming.req.host, 'shop.example')
})

t.test('routes before and after the plugin, child contexts, and the 404 handler', async (t) => {
  const app = Fastify()
  app.register(async (early) => { early.get('/early-child', async (request) => view(request)) })
  app.get('/before', async (request) => view(request))
  app.register(proxyFix, { trustedProxies: 'loopback', onInvalid: 'reject' })
  app.get('/after', async (request) => view(request))
  app.register(async (child) => {
    child.get('/child', async (request) => view(request))
    child.register(async (grandchild) => { grandchild.get('/grandchild', async (request) => view(request)) })
  }, { prefix: '/nested' })
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send(view(request)))
  const headers = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }
  for (const url of ['/early-child', '/before', '/after', '/nested/child', '/nested/grandchild', '/missing']) {
    const response = await app.inject({ url, headers })
    t.equal(response.json().ip, '203.0.113.7', url)
    t.equal(response.json().protocol, 'https', url)
  }
  for (const url of ['/before', '/after', '/nested/child', '/nested/grandchild', '/missing']) {
    const response = await app.inject({ url, headers: { 'x-forwarded-for': 'junk' } })
    t.equal(response.statusCode, 400, `${url} is guarded`)
  }
})

t.test('the plugin registered in one child context leaves its siblings alone', async (t) => {
  const app = Fastify()
  app.register(async (child) => {
    await child.register(proxyFix, { trustedProxies: 'loopback' })
    child.get('/inside', async (request) => view(request))
  })
  app.get('/outside', async (request) => ({ ip: request.ip, originalIp: (request as any).originalIp ?? null }))
  const headers = { 'x-forwarded-for': '203.0.113.7' }
  t.equal((await app.inject({ url: '/inside', headers })).json().ip, '203.0.113.7')
  t.same((await app.inject({ url: '/outside', headers })).json(), { ip: '127.0.0.1', originalIp: null })
})

t.test('each getter resolves at most once per request', async (t) => {
  let calls = 0
  const app = Fastify()
  await app.register(proxyFix, { trustedProxies: (address) => { calls++; return address === '127.0.0.1' } })
  app.get('/', async (request) => [request.ip, request.ips, request.hostname, request.protocol, request.host, request.port, request.ip])
  app.get('/none', async () => 'nothing read')
  await app.inject({ url: '/', headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } })
  t.equal(calls, 2, 'the peer and one chain entry, once each (the leftmost entry needs no check)')
  calls = 0
  await app.inject({ url: '/none', headers: { 'x-forwarded-for': '203.0.113.7' } })
  t.equal(calls, 0, 'lazy: nothing read, nothing resolved')
})

t.test('without a socket, the values are what Fastify gives', async (t) => {
  const app = await build({ trustedProxies: 'loopback' })
  let proto: any
  app.get('/proto', async (request) => { proto = Object.getPrototypeOf(request); return 'ok' })
  await app.inject('/proto')
  while (!Object.hasOwn(proto, 'originalIp')) proto = Object.getPrototypeOf(proto)
  const fake = { raw: { headers: { ':authority': 'h2.example:8443' }, socket: undefined } }
  const read = (name: string): unknown => Object.getOwnPropertyDescriptor(proto, name)?.get?.call(fake)
  t.same(['ip', 'ips', 'host', 'hostname', 'port', 'protocol', 'originalIp', 'originalHost', 'forwardedPrefix'].map(read),
    [undefined, [], 'h2.example:8443', 'h2.example', 8443, undefined, undefined, 'h2.example:8443', ''])
  const empty = { raw: { headers: {}, socket: { remoteAddress: '203.0.113.1', encrypted: true } } }
  t.same(['host', 'hostname', 'port', 'protocol', 'originalHost'].map((name) => Object.getOwnPropertyDescriptor(proto, name)?.get?.call(empty)),
    ['', '', null, 'https', ''])
})

t.test('requests on one keep-alive connection are resolved independently', async (t) => {
  const app = await build({ trustedProxies: 'loopback' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  const chains = ['203.0.113.1', '203.0.113.2, 127.0.0.9', 'junk', '', '198.51.100.4']
  const raw = chains.map((chain, i) =>
    `GET / HTTP/1.1\r\nHost: app.internal\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: ${chain}\r\nX-Forwarded-Host: host${i}.example\r\n\r\n`).join('')
  const bodies = await new Promise<any[]>((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1')
    let data = ''
    socket.on('data', (chunk) => {
      data += chunk
      const found = [...data.matchAll(/\r\n\r\n[0-9a-f]+\r\n(\{.*?\})\r\n/g)].map((m) => JSON.parse(m[1]))
      const plain = [...data.matchAll(/\r\n\r\n(\{[^\r]*\})/g)].map((m) => JSON.parse(m[1]))
      const all = found.length > 0 ? found : plain
      if (all.length === chains.length) { socket.end(); resolve(all) }
    })
    socket.on('error', reject)
    socket.write(raw)
  })
  t.same(bodies.map((b) => [b.ip, b.hostname]), [
    ['203.0.113.1', 'host0.example'],
    ['203.0.113.2', 'host1.example'],
    ['127.0.0.1', 'host2.example'],
    ['127.0.0.1', 'host3.example'],
    ['198.51.100.4', 'host4.example']
  ], 'repeated X-Forwarded-For lines are joined in order; each request has its own answer')
})

t.test('HTTP/2: host from :authority, client from the trusted chain', async (t) => {
  const app = Fastify({ http2: true })
  await app.register(proxyFix, { trustedProxies: 'loopback' })
  app.get('/', async (request) => view(request))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  const get = (headers: Record<string, string>): Promise<any> => new Promise((resolve, reject) => {
    const session = connectH2(`http://127.0.0.1:${port}`)
    session.on('error', reject)
    const stream = session.request({ ':path': '/', ...headers })
    let body = ''
    stream.on('data', (chunk) => { body += chunk })
    stream.on('end', () => { session.close(); resolve(JSON.parse(body)) })
    stream.on('error', reject)
  })
  const plain = await get({})
  t.equal(plain.originalHost, `127.0.0.1:${port}`)
  t.equal(plain.hostname, '127.0.0.1')
  t.equal(plain.port, port)
  const forwarded = await get({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https' })
  t.same([forwarded.ip, forwarded.hostname, forwarded.protocol, forwarded.originalHost], ['203.0.113.7', 'shop.example', 'https', `127.0.0.1:${port}`])
})
