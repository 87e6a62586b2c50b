// The plugins and Fastify features this plugin meets in real apps, and the
// framework-free resolver for the places where there is no Fastify request yet.
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type InjectOptions } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import sensible from '@fastify/sensible'
import helmet from '@fastify/helmet'
import cors from '@fastify/cors'
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import proxyFix from '../lib/index'
import { createResolver, type RawRequest } from '../lib/request'
import type { ProxyFixOptions } from '../lib/options'
import { view } from './helpers'

const PROXY = '127.0.0.1'

async function get (app: FastifyInstance, from: string, headers: Record<string, string> = {}, url = '/'): Promise<number> {
  const response = await app.inject({ url, remoteAddress: from, headers })
  return response.statusCode
}

t.test('@fastify/rate-limit keys on the client behind a trusted proxy, in either order', async (t) => {
  for (const order of ['proxyFix first', 'rate-limit first']) {
    const app = Fastify()
    if (order === 'proxyFix first') await app.register(proxyFix, { trustedProxies: 'loopback' })
    await app.register(rateLimit, { max: 2, timeWindow: 60_000 })
    if (order === 'rate-limit first') await app.register(proxyFix, { trustedProxies: 'loopback' })
    app.get('/', async () => 'ok')

    const alice = { 'x-forwarded-for': '203.0.113.1' }
    const bob = { 'x-forwarded-for': '203.0.113.2' }
    t.same([await get(app, PROXY, alice), await get(app, PROXY, alice), await get(app, PROXY, alice)], [200, 200, 429],
      `${order}: alice has her own limit`)
    t.same([await get(app, PROXY, bob), await get(app, PROXY, bob), await get(app, PROXY, bob)], [200, 200, 429],
      `${order}: bob, behind the same proxy, has his own`)

    // Alice forging entries to the left of what the proxy appended stays alice.
    t.equal(await get(app, PROXY, { 'x-forwarded-for': '6.6.6.6, 203.0.113.1' }), 429, `${order}: a forged left part changes nothing`)

    // A direct client forging X-Forwarded-For is keyed on its socket address.
    const direct = '198.51.100.9'
    const forged = [1, 2, 3, 4].map((i) => ({ 'x-forwarded-for': `192.0.2.${i}` }))
    const codes: number[] = []
    for (const headers of forged) codes.push(await get(app, direct, headers))
    t.same(codes, [200, 200, 429, 429], `${order}: a direct client cannot escape its own limit`)
    await app.close()
  }
})

/** A response with the parts that may legitimately differ between two apps removed. */
async function snapshot (app: FastifyInstance, request: InjectOptions): Promise<Record<string, unknown>> {
  const response = await app.inject(request)
  const { date, 'content-length': length, ...headers } = response.headers
  return { statusCode: response.statusCode, headers, body: response.body }
}

interface Neighbour {
  name: string
  plugin: FastifyPluginAsync<any>
  options: Record<string, unknown>
  routes: (app: FastifyInstance) => void
  requests: Array<InjectOptions>
}

const forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https' }
const neighbours: Neighbour[] = [
  {
    name: '@fastify/sensible',
    plugin: sensible as unknown as FastifyPluginAsync,
    options: {},
    routes (app) {
      app.get('/teapot', async (request, reply) => reply.imateapot(`from ${request.ip}`))
      app.get('/chain', async (request) => ({ forwarded: (request as any).forwarded(), ip: request.ip }))
    },
    requests: [
      { url: '/teapot', remoteAddress: PROXY, headers: forwarded },
      { url: '/chain', remoteAddress: PROXY, headers: forwarded },
      { url: '/chain', remoteAddress: '198.51.100.9', headers: forwarded }
    ]
  },
  {
    name: '@fastify/helmet',
    plugin: helmet as unknown as FastifyPluginAsync,
    options: {},
    routes () {},
    requests: [
      { url: '/', remoteAddress: PROXY, headers: forwarded },
      { url: '/', remoteAddress: '198.51.100.9', headers: forwarded }
    ]
  },
  {
    name: '@fastify/cors',
    plugin: cors as unknown as FastifyPluginAsync,
    options: { origin: ['https://shop.example'], credentials: true },
    routes () {},
    requests: [
      { url: '/', remoteAddress: PROXY, headers: { ...forwarded, origin: 'https://shop.example' } },
      { url: '/', remoteAddress: PROXY, headers: { ...forwarded, origin: 'https://evil.example' } },
      { method: 'OPTIONS', url: '/', remoteAddress: PROXY, headers: { ...forwarded, origin: 'https://shop.example', 'access-control-request-method': 'GET' } }
    ]
  }
]

t.test('@fastify/sensible, @fastify/helmet, @fastify/cors: either order changes nothing for either', async (t) => {
  const options = { trustedProxies: 'loopback' }
  for (const neighbour of neighbours) {
    async function app (order: Array<'proxyFix' | 'neighbour'>): Promise<FastifyInstance> {
      const app = Fastify()
      for (const which of order) {
        if (which === 'proxyFix') await app.register(proxyFix, options)
        else await app.register(neighbour.plugin, neighbour.options)
      }
      app.get('/', async (request) => view(request))
      neighbour.routes(app)
      await app.ready()
      return app
    }
    const alone = await app(['neighbour'])
    const withoutNeighbour = await app(['proxyFix'])
    const before = await app(['neighbour', 'proxyFix'])
    const after = await app(['proxyFix', 'neighbour'])
    for (const request of neighbour.requests) {
      const label = `${neighbour.name}: ${request.method ?? 'GET'} ${request.url} from ${request.remoteAddress}`
      const a = await snapshot(before, request)
      const b = await snapshot(after, request)
      t.same(a, b, `${label}: the same whichever is registered first`)
      const own = await snapshot(alone, request)
      t.same(a.headers, own.headers, `${label}: the neighbour's headers are its own`)
      t.equal(a.statusCode, own.statusCode, `${label}: the neighbour's status is its own`)
      if (request.url === '/' && request.method === undefined) {
        t.same(a.body, (await snapshot(withoutNeighbour, request)).body, `${label}: what the plugin resolves is unchanged`)
      }
    }
    const seen = JSON.parse((await snapshot(after, neighbour.requests[0])).body as string)
    if (neighbour.name === '@fastify/sensible') {
      t.equal(seen.message, 'from 203.0.113.7', 'sensible replies see the client')
      t.same(JSON.parse((await snapshot(after, neighbour.requests[1])).body as string),
        { forwarded: ['127.0.0.1', '203.0.113.7'], ip: '203.0.113.7' }, "sensible's request.forwarded() still lists the raw chain")
    } else {
      t.equal(seen.ip, '203.0.113.7')
    }
    for (const server of [alone, withoutNeighbour, before, after]) await server.close()
  }
})

t.test('a malformed value refused with 400 keeps its body under every neighbour', async (t) => {
  const bodies: unknown[] = []
  for (const neighbour of neighbours) {
    const app = Fastify()
    await app.register(neighbour.plugin, neighbour.options)
    await app.register(proxyFix, { trustedProxies: 'loopback', onInvalid: 'reject' })
    app.get('/', async () => 'ok')
    const response = await app.inject({ url: '/', remoteAddress: PROXY, headers: { 'x-forwarded-proto': 'gopher' } })
    t.equal(response.statusCode, 400, neighbour.name)
    bodies.push(response.json())
  }
  t.same(bodies, Array(3).fill({
    statusCode: 400,
    code: 'FST_PROXY_FIX_INVALID_HEADER',
    error: 'Bad Request',
    message: 'Invalid x-forwarded-proto header from a trusted proxy: "gopher"'
  }))
})

function capture (): { lines: any[], stream: Writable } {
  const lines: any[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } })
  return { lines, stream }
}

t.test("Fastify's logger: the incoming-request line shows the client; request.log can be bound to it", async (t) => {
  const options = { trustedProxies: 'loopback' }
  const resolveClient = createResolver(options)
  const { lines, stream } = capture()
  const app = Fastify({
    logger: { level: 'info', stream },
    // Recipe: bind the client to every line of request.log. The factory gets the raw request,
    // before any Fastify request exists, so it asks the framework-free resolver.
    childLoggerFactory (logger, bindings, childOptions, raw) {
      return logger.child({ ...bindings, client: resolveClient(raw).ip }, childOptions)
    }
  })
  await app.register(proxyFix, options)
  app.get('/', async (request) => { request.log.info('handling'); return 'ok' })
  await app.inject({ url: '/', remoteAddress: PROXY, headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'shop.example:8443' } })
  await app.inject({ url: '/', remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example' } })

  const incoming = lines.filter((line) => line.msg === 'incoming request')
  t.same(incoming.map((line) => [line.req.remoteAddress, line.req.host]), [
    ['203.0.113.7', 'shop.example:8443'],
    ['198.51.100.9', 'localhost:80']
  ])
  t.same(lines.filter((line) => line.msg === 'handling').map((line) => line.client), ['203.0.113.7', '198.51.100.9'])
  t.same(lines.filter((line) => line.msg === 'request completed').map((line) => line.client), ['203.0.113.7', '198.51.100.9'])
})

// ---------------------------------------------------------------------------
// createResolver

/** A raw request as Node hands it over. */
function raw (peer: string | undefined, headers: IncomingHttpHeaders, extra: Partial<RawRequest> = {}): RawRequest {
  return { socket: peer === undefined ? undefined : { remoteAddress: peer }, headers, ...extra }
}

t.test('createResolver: full values for trusted and untrusted peers', async (t) => {
  const resolveClient = createResolver({
    trustedProxies: ['loopback', '10.0.0.0/8'],
    headers: { port: 'x-forwarded-port', prefix: 'x-forwarded-prefix' }
  })
  const headers = {
    host: 'backend:3000',
    'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.0.0.5',
    'x-forwarded-host': 'Shop.Example',
    'x-forwarded-proto': 'https',
    'x-forwarded-port': '8443',
    'x-forwarded-prefix': '/shop/'
  }
  t.same(resolveClient(raw('10.0.0.2', headers)), {
    trusted: true,
    ip: '203.0.113.7',
    ips: ['10.0.0.2', '10.0.0.5', '203.0.113.7'],
    host: 'Shop.Example:8443',
    hostname: 'Shop.Example',
    port: 8443,
    protocol: 'https',
    prefix: '/shop',
    originalIp: '10.0.0.2',
    originalHost: 'backend:3000',
    invalid: null,
    proxyProtocol: null
  }, 'a trusted proxy: the client as it asked')
  t.same(resolveClient(raw('198.51.100.9', headers)), {
    trusted: false,
    ip: '198.51.100.9',
    ips: ['198.51.100.9'],
    host: 'backend:3000',
    hostname: 'backend',
    port: 3000,
    protocol: 'http',
    prefix: '',
    originalIp: '198.51.100.9',
    originalHost: 'backend:3000',
    invalid: null,
    proxyProtocol: null
  }, 'an untrusted peer: what the socket and Host say, nothing forwarded')
  t.same(resolveClient({ socket: { remoteAddress: '198.51.100.9', encrypted: true }, headers: { host: '[2001:db8::1]' } }),
    { trusted: false, ip: '198.51.100.9', ips: ['198.51.100.9'], host: '[2001:db8::1]', hostname: '[2001:db8::1]', port: null, protocol: 'https', prefix: '', originalIp: '198.51.100.9', originalHost: '[2001:db8::1]', invalid: null, proxyProtocol: null },
    'a TLS socket is https; an IPv6 literal keeps its brackets')
  t.same(resolveClient(raw('10.0.0.2', { host: 'backend:3000', 'x-forwarded-port': '443' })),
    { trusted: true, ip: '10.0.0.2', ips: ['10.0.0.2'], host: 'backend:443', hostname: 'backend', port: 443, protocol: 'http', prefix: '', originalIp: '10.0.0.2', originalHost: 'backend:3000', invalid: null, proxyProtocol: null },
    'a forwarded port alone goes with the received host name')
})

t.test('createResolver: malformed values are reported, never thrown, whatever onInvalid says', async (t) => {
  for (const onInvalid of ['ignore', 'reject'] as const) {
    const result = createResolver({ trustedProxies: 'loopback', onInvalid })(raw('127.0.0.1', { host: 'backend', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'a b' }))
    t.same(result.invalid, { header: 'x-forwarded-host', value: 'a b' }, onInvalid)
    t.equal(result.hostname, 'backend', 'the host stays as received')
    t.equal(result.ip, '203.0.113.7', 'the valid values are still used')
  }
})

t.test('createResolver: no socket, HTTP/2 :authority, and a Host rewritten after arrival', async (t) => {
  const resolveClient = createResolver({ trustedProxies: 'loopback' })
  t.same(resolveClient({ headers: { 'x-forwarded-for': '203.0.113.7' } }),
    { trusted: false, ip: undefined, ips: [], host: '', hostname: '', port: null, protocol: 'http', prefix: '', originalIp: undefined, originalHost: '', invalid: null, proxyProtocol: null },
    'without a socket nothing is trusted')
  t.equal(resolveClient({ socket: null, headers: {} }).ip, undefined)
  // Node never reports a peer that is not a string; a caller's own object might.
  const odd = resolveClient({ socket: { remoteAddress: null as unknown as string }, headers: { 'x-forwarded-for': '203.0.113.7' } })
  t.same([odd.trusted, odd.ip, odd.ips, odd.originalIp], [false, undefined, [], undefined], 'a null peer is no peer')
  const h2 = resolveClient(raw('203.0.113.9', { ':authority': 'h2.example:8443' }, { rawHeaders: [':method', 'GET', ':authority', 'h2.example:8443'] }))
  t.same([h2.host, h2.hostname, h2.port, h2.originalHost], ['h2.example:8443', 'h2.example', 8443, 'h2.example:8443'])
  const rewritten = resolveClient(raw('203.0.113.9', { host: 'shop.example' }, { rawHeaders: ['Host', 'backend:3000', 'Accept', '*/*'] }))
  t.same([rewritten.host, rewritten.originalHost], ['shop.example', 'backend:3000'], 'originalHost is the line as received')
  const synthetic = resolveClient(raw('203.0.113.9', { host: 'backend' }, { rawHeaders: [] }))
  t.equal(synthetic.originalHost, 'backend', 'no Host line among rawHeaders: the headers object')
  const both = resolveClient(raw('203.0.113.9', { host: 'one' }, { rawHeaders: [':authority', 'two', 'host', 'one'] }))
  t.equal(both.originalHost, 'one', 'Host wins over :authority, as in Fastify')
})

t.test('createResolver: bad options throw at once, with the same codes as the plugin', async (t) => {
  t.throws(() => createResolver({} as ProxyFixOptions), { code: 'FST_PROXY_FIX_TRUSTED_PROXIES_REQUIRED' })
  t.throws(() => createResolver({ trustedProxies: '10.0.0.0/33' }), { code: 'FST_PROXY_FIX_INVALID_TRUSTED_PROXY' })
})

t.test('createResolver agrees with the plugin on every field', async (t) => {
  const options: ProxyFixOptions = { trustedProxies: ['loopback', '10.0.0.0/8'], headers: { port: 'x-forwarded-port', prefix: 'x-forwarded-prefix' } }
  const resolveClient = createResolver(options)
  let seen: RawRequest | undefined
  const app = Fastify()
  await app.register(proxyFix, options)
  app.get('/', async (request) => { seen = request.raw; return view(request) })
  const cases: Array<[string, Record<string, string>]> = [
    ['127.0.0.1', {}],
    ['127.0.0.1', { 'x-forwarded-for': '203.0.113.7, 10.1.2.3', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'HTTPS' }],
    ['127.0.0.1', { 'x-forwarded-for': 'junk', 'x-forwarded-port': '99999', 'x-forwarded-prefix': '/a/../b' }],
    ['10.9.9.9', { 'x-forwarded-port': '8443', 'x-forwarded-prefix': '/app' }],
    ['::ffff:203.0.113.5', { 'x-forwarded-for': '10.0.0.1', 'x-forwarded-host': 'evil.example' }],
    ['::1', { host: '[::1]:3000', 'x-forwarded-for': '2001:DB8::1' }]
  ]
  for (const [peer, headers] of cases) {
    const response = await app.inject({ url: '/', remoteAddress: peer, headers: { host: 'backend:3000', ...headers } })
    const fromPlugin = response.json()
    const r = resolveClient(seen as RawRequest)
    t.same({
      ip: r.ip,
      ips: r.ips,
      host: r.host,
      hostname: r.hostname,
      port: r.port,
      protocol: r.protocol,
      forwardedPrefix: r.prefix,
      originalIp: r.originalIp,
      originalHost: r.originalHost
    }, fromPlugin, `${peer} ${JSON.stringify(headers)}`)
  }
})

t.test('createResolver in a plain node:http server', async (t) => {
  const resolveClient = createResolver({ trustedProxies: 'loopback' })
  const server = createServer((req, res) => {
    const { ip, hostname, protocol, originalIp } = resolveClient(req)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ ip, hostname, protocol, originalIp }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const { port } = server.address() as AddressInfo
  const body = await new Promise<any>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Host': 'shop.example', 'X-Forwarded-Proto': 'https' } }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve(JSON.parse(text)))
    })
    req.on('error', reject)
    req.end()
  })
  t.same(body, { ip: '203.0.113.7', hostname: 'shop.example', protocol: 'https', originalIp: '127.0.0.1' })
})

/** The README recipe: route host constraints that see the forwarded host. */
async function hostConstrainedApp (recipe: boolean): Promise<FastifyInstance> {
  const options = { trustedProxies: 'loopback' }
  const resolveClient = createResolver(options)
  const app = Fastify(recipe
    ? {
        // Host constraints are matched before any hook runs: show them the client's host.
        rewriteUrl (req) {
          req.headers.host = resolveClient(req).host
          return req.url as string
        }
      }
    : {})
  await app.register(proxyFix, options)
  app.get('/', { constraints: { host: 'shop.example' } }, async (request) => ({ route: 'shop', ...view(request) }))
  app.get('/', { constraints: { host: /^admin\./ } }, async (request) => ({ route: 'admin', ...view(request) }))
  app.get('/', async (request) => ({ route: 'default', ...view(request) }))
  return app
}

t.test('host constraints see the forwarded host with the rewriteUrl recipe', async (t) => {
  const app = await hostConstrainedApp(true)
  const ask = async (peer: string, headers: Record<string, string>): Promise<any> =>
    (await app.inject({ url: '/', remoteAddress: peer, headers: { host: 'backend:3000', ...headers } })).json()

  const shop = await ask(PROXY, { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'shop.example' })
  t.same([shop.route, shop.hostname, shop.originalHost, shop.ip], ['shop', 'shop.example', 'backend:3000', '203.0.113.7'],
    'the trusted proxy\'s X-Forwarded-Host picks the route; originalHost is still what arrived')
  t.equal((await ask(PROXY, { 'x-forwarded-host': 'admin.example' })).route, 'admin', 'RegExp constraints too')
  t.equal((await ask('198.51.100.9', { 'x-forwarded-host': 'admin.example' })).route, 'default', 'a direct client cannot pick a host route')
  t.equal((await ask(PROXY, { 'x-forwarded-host': 'bad host' })).route, 'default', 'a malformed host is not used')
  t.equal((await ask(PROXY, {})).route, 'default')

  const plain = await hostConstrainedApp(false)
  const without = (await plain.inject({ url: '/', remoteAddress: PROXY, headers: { host: 'backend:3000', 'x-forwarded-host': 'shop.example' } })).json()
  t.same([without.route, without.hostname], ['default', 'shop.example'], 'without the recipe, routing sees the proxy\'s Host')

  // Over a real socket, where rawHeaders keep the client's spelling.
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  const body = await new Promise<any>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, headers: { Host: 'Backend:3000', 'X-Forwarded-Host': 'shop.example' } }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve(JSON.parse(text)))
    })
    req.on('error', reject)
    req.end()
  })
  t.same([body.route, body.originalHost], ['shop', 'Backend:3000'])
})

// ---------------------------------------------------------------------------
// docs/recipes-cloud.md: each recipe, fed what the platform documents it sends.

interface Recipe {
  name: string
  options: ProxyFixOptions
  peer: string
  headers: Record<string, string>
  expected: Record<string, unknown>
  /** Whether anything but the platform can connect (not on Heroku's Common Runtime). */
  reachable?: false
}

const recipes: Recipe[] = [
  {
    name: 'Cloudflare',
    options: { trustedProxies: ['173.245.48.0/20', '2400:cb00::/32'], clientIpHeader: 'cf-connecting-ip', headers: { host: false } },
    peer: '173.245.48.5',
    headers: { host: 'shop.example', 'cf-connecting-ip': '198.51.100.23', 'x-forwarded-for': '6.6.6.6, 198.51.100.23', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
    expected: { ip: '198.51.100.23', hostname: 'shop.example', protocol: 'https', port: null }
  },
  {
    name: 'AWS ALB',
    options: { trustedProxies: ['10.0.1.0/24', '10.0.2.0/24'], hops: 1, headers: { host: false, port: 'x-forwarded-port' } },
    peer: '10.0.1.17',
    headers: { host: 'shop.example', 'x-forwarded-for': '6.6.6.6, 10.0.2.9', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', 'x-forwarded-host': 'evil.example' },
    expected: { ip: '10.0.2.9', hostname: 'shop.example', protocol: 'https', port: 443 }
  },
  {
    name: 'Google Cloud external Application Load Balancer',
    options: { trustedProxies: ['35.191.0.0/16', '130.211.0.0/22', '2600:2d00:1:b029::/64', '2600:2d00:1:1::/64', '203.0.113.10'], headers: { host: false } },
    peer: '2600:2d00:1:b029::5',
    headers: { host: 'shop.example', 'x-forwarded-for': '6.6.6.6, 198.51.100.23, 203.0.113.10', 'x-forwarded-proto': 'https' },
    expected: { ip: '198.51.100.23', hostname: 'shop.example', protocol: 'https', port: null }
  },
  {
    name: 'Kubernetes ingress-nginx',
    options: { trustedProxies: ['10.244.0.0/16'], hops: 1, headers: { port: 'x-forwarded-port' } },
    peer: '10.244.1.7',
    headers: { host: 'shop-svc:8080', 'x-forwarded-for': '198.51.100.23', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', 'x-original-forwarded-for': '6.6.6.6' },
    expected: { ip: '198.51.100.23', hostname: 'shop.example', protocol: 'https', port: 443 }
  },
  {
    name: 'Heroku',
    options: { trustedProxies: ['0.0.0.0/0', '::/0'], hops: 1, headers: { host: false, port: 'x-forwarded-port' } },
    peer: '10.1.2.3',
    headers: { host: 'shop.example', 'x-forwarded-for': '6.6.6.6, 198.51.100.23', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443' },
    expected: { ip: '198.51.100.23', hostname: 'shop.example', protocol: 'https', port: 443 },
    reachable: false
  },
  {
    name: 'Fly.io',
    options: { trustedProxies: '192.0.2.1', clientIpHeader: 'fly-client-ip', headers: { host: false, port: 'fly-forwarded-port' } },
    peer: '192.0.2.1',
    headers: { host: 'shop.example', 'fly-client-ip': '198.51.100.23', 'x-forwarded-for': '198.51.100.23, 203.0.113.99', 'x-forwarded-proto': 'https', 'fly-forwarded-port': '443', 'x-forwarded-port': '9999' },
    expected: { ip: '198.51.100.23', hostname: 'shop.example', protocol: 'https', port: 443 }
  }
]

t.test('cloud recipes: the client each platform names, nothing a client can forge, no startup warning', async (t) => {
  for (const recipe of recipes) {
    const resolveClient = createResolver(recipe.options)
    const trusted = resolveClient(raw(recipe.peer, recipe.headers))
    t.same({ ip: trusted.ip, hostname: trusted.hostname, protocol: trusted.protocol, port: trusted.port }, recipe.expected, recipe.name)
    if (recipe.reachable !== false) {
      const direct = resolveClient(raw('198.51.100.200', recipe.headers))
      t.same([direct.ip, direct.hostname, direct.protocol], ['198.51.100.200', recipe.headers.host.split(':')[0], 'http'],
        `${recipe.name}: a client that connects directly changes nothing`)
    }

    const warnings: any[] = []
    const stream = new Writable({ write (chunk, _encoding, callback) { warnings.push(JSON.parse(String(chunk))); callback() } })
    const app = Fastify({ logger: { level: 'warn', stream } })
    await app.register(proxyFix, recipe.options)
    await app.ready()
    t.same(warnings, [], `${recipe.name}: no warning at startup`)
  }
})
