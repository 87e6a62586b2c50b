// "Bad configuration": every mistake fails at ready() with a code and names the bad entry.
import t from 'tap'
import Fastify from 'fastify'
import proxyFix from '../lib/index'

async function readyError (options: unknown, serverOptions: Record<string, unknown> = {}): Promise<any> {
  const app = Fastify(serverOptions)
  app.register(proxyFix, options as any)
  try {
    await app.ready()
  } catch (error) {
    return error
  }
  return null
}

t.test('trustedProxies is required and must not be empty', async (t) => {
  for (const options of [undefined, {}, { trustedProxies: undefined }, { trustedProxies: 42 }, { trustedProxies: null }, { trustedProxies: {} }]) {
    t.match(await readyError(options), { code: 'FST_PROXY_FIX_TRUSTED_PROXIES_REQUIRED' }, JSON.stringify(options))
  }
  for (const trustedProxies of ['', '  ', []]) {
    t.match(await readyError({ trustedProxies }), { code: 'FST_PROXY_FIX_TRUSTED_PROXIES_REQUIRED', message: /empty/ })
  }
  t.match(await readyError('loopback'), { code: 'FST_PROXY_FIX_OPTIONS' })
  t.match(await readyError(['loopback']), { code: 'FST_PROXY_FIX_OPTIONS' })
})

t.test('each bad allowlist entry is named', async (t) => {
  for (const entry of ['10.0.0.0/33', '300.1.1.1', 'foo', '010.0.0.1', '::/129', 'fe80::1%eth0']) {
    const error = await readyError({ trustedProxies: ['loopback', entry] })
    t.equal(error.code, 'FST_PROXY_FIX_INVALID_TRUSTED_PROXY')
    t.ok(error.message.includes(`'${entry}'`), error.message)
  }
  t.match(await readyError({ trustedProxies: 'loopback, 10.0.0.0/33' }), { message: /'10.0.0.0\/33': prefix length must be 0–32/ })
})

t.test('hops must be a positive integer', async (t) => {
  for (const hops of [0, -1, 1.5, Infinity, NaN, '2', null, true]) {
    t.match(await readyError({ trustedProxies: 'loopback', hops }), { code: 'FST_PROXY_FIX_INVALID_HOPS', message: /hops must be a positive integer/ }, String(hops))
  }
  t.equal(await readyError({ trustedProxies: 'loopback', hops: 1 }), null)
})

t.test('header names must be HTTP tokens or false', async (t) => {
  for (const value of ['', 'x forwarded', 'x-forwarded-for:', 'x\u00e9', true, 1, null]) {
    t.match(await readyError({ trustedProxies: 'loopback', headers: { for: value } }), { code: 'FST_PROXY_FIX_INVALID_HEADER_NAME', message: /headers\.for must be a header name/ }, String(value))
  }
  t.match(await readyError({ trustedProxies: 'loopback', headers: { hots: 'x' } }), { code: 'FST_PROXY_FIX_OPTIONS', message: /headers\.hots is not an option/ })
  t.match(await readyError({ trustedProxies: 'loopback', headers: 'x-real-ip' }), { code: 'FST_PROXY_FIX_OPTIONS' })
  t.match(await readyError({ trustedProxies: 'loopback', clientIpHeader: 'cf connecting ip' }), { code: 'FST_PROXY_FIX_INVALID_HEADER_NAME', message: /clientIpHeader/ })
})

t.test('onInvalid, forwarded and clientIpHeader', async (t) => {
  t.match(await readyError({ trustedProxies: 'loopback', onInvalid: 'drop' }), { code: 'FST_PROXY_FIX_INVALID_ON_INVALID', message: /'drop'/ })
  t.match(await readyError({ trustedProxies: 'loopback', onInvalid: 1 }), { code: 'FST_PROXY_FIX_INVALID_ON_INVALID' })
  t.match(await readyError({ trustedProxies: 'loopback', forwarded: 'yes' }), { code: 'FST_PROXY_FIX_INVALID_FORWARDED' })
  // null is not "absent": it fails as it does for hops and the header options
  t.match(await readyError({ trustedProxies: 'loopback', onInvalid: null }), { code: 'FST_PROXY_FIX_INVALID_ON_INVALID', message: /got null/ })
  t.match(await readyError({ trustedProxies: 'loopback', forwarded: null }), { code: 'FST_PROXY_FIX_INVALID_FORWARDED', message: /got null/ })
  t.equal(await readyError({ trustedProxies: 'loopback', onInvalid: undefined, forwarded: undefined }), null, 'undefined is absent')
  // clientIpHeader has no false: its message does not offer one
  t.match(await readyError({ trustedProxies: 'loopback', clientIpHeader: false }), { code: 'FST_PROXY_FIX_INVALID_HEADER_NAME', message: /^clientIpHeader must be a header name \(an HTTP token\), got false$/ })
  t.match(await readyError({ trustedProxies: 'loopback', forwarded: true, clientIpHeader: 'x-real-ip' }), { code: 'FST_PROXY_FIX_CONFLICTING_OPTIONS' })
})

t.test('an unknown option is refused (a misspelt hops would leave the limit off)', async (t) => {
  t.match(await readyError({ trustedProxies: 'loopback', hop: 1 }), { code: 'FST_PROXY_FIX_OPTIONS', message: /^hop is not an option \(known: trustedProxies, hops,/ })
  t.match(await readyError({ trustedProxies: 'loopback', trustProxy: true }), { code: 'FST_PROXY_FIX_OPTIONS', message: /trustProxy is not an option/ })
  // a misspelt trustedProxies is still "required", and the misspelling is named
  t.match(await readyError({ trustedProxy: 'loopback' }), { code: 'FST_PROXY_FIX_TRUSTED_PROXIES_REQUIRED', message: /\(given instead: trustedProxy\)$/ })
  t.match(await readyError({ trustedProxies: 42, hop: 1 }), { code: 'FST_PROXY_FIX_TRUSTED_PROXIES_REQUIRED', message: /boolean$/ })
  // Fastify's register options reach the plugin too, and are not its business
  t.equal(await readyError({ trustedProxies: 'loopback', logLevel: 'warn', logSerializers: {}, prefix: '/api' }), null)
})

t.test("Fastify's own trustProxy, in any form, is refused", async (t) => {
  for (const trustProxy of [true, 1, '127.0.0.1', ['127.0.0.1'], () => true]) {
    t.match(await readyError({ trustedProxies: 'loopback' }, { trustProxy }), { code: 'FST_PROXY_FIX_TRUST_PROXY_CONFLICT', message: /trustProxy/ })
  }
  // Off in every form Fastify treats as off.
  for (const trustProxy of [false, 0, '']) {
    t.equal(await readyError({ trustedProxies: 'loopback' }, { trustProxy }), null)
  }
})

t.test('registering twice in one context, or again in a child context, is refused with where and what to do', async (t) => {
  const app = Fastify()
  app.register(proxyFix, { trustedProxies: 'loopback' })
  app.register(proxyFix, { trustedProxies: 'loopback' })
  await t.rejects(async () => await app.ready(), {
    code: 'FST_PROXY_FIX_CONFLICTING_OPTIONS',
    message: "fastify-proxy-fix is already registered in this context. Register it once, at the root: a child context cannot have an allowlist of its own, since the first registration's getters and reject hook already apply to every context below it"
  })
  const nested = Fastify()
  nested.register(proxyFix, { trustedProxies: 'loopback' })
  nested.register(async (child) => { await child.register(proxyFix, { trustedProxies: '10.0.0.0/8' }) })
  await t.rejects(async () => await nested.ready(), { code: 'FST_PROXY_FIX_CONFLICTING_OPTIONS', message: /^fastify-proxy-fix is already registered in a parent context\. Register it once, at the root/ })
})

t.test('sibling contexts may each have their own allowlist', async (t) => {
  const app = Fastify()
  app.register(async (child) => {
    await child.register(proxyFix, { trustedProxies: '127.0.0.1' })
    child.get('/a', async (request) => request.ip)
  })
  app.register(async (child) => {
    await child.register(proxyFix, { trustedProxies: '10.0.0.0/8', onInvalid: 'reject' })
    child.get('/b', async (request) => request.ip)
  })
  const headers = { 'x-forwarded-for': '203.0.113.7' }
  t.equal((await app.inject({ url: '/a', remoteAddress: '127.0.0.1', headers })).body, '203.0.113.7')
  t.equal((await app.inject({ url: '/a', remoteAddress: '10.0.0.1', headers })).body, '10.0.0.1')
  t.equal((await app.inject({ url: '/b', remoteAddress: '10.0.0.1', headers })).body, '203.0.113.7')
  t.equal((await app.inject({ url: '/b', remoteAddress: '127.0.0.1', headers })).body, '127.0.0.1')
  t.equal((await app.inject({ url: '/a', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': 'junk' } })).statusCode, 200, "the other sibling's reject hook stays in its context")
  t.equal((await app.inject({ url: '/b', remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': 'junk' } })).statusCode, 400)
})

t.test('header names that every object has are refused: they would read an inherited property', async (t) => {
  // Header names are case-insensitive: 'Constructor' is the header 'constructor'.
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'Constructor', '__PROTO__', 'CONSTRUCTOR']) {
    t.match(await readyError({ trustedProxies: 'loopback', headers: { for: name } }), { code: 'FST_PROXY_FIX_INVALID_HEADER_NAME', message: `headers.for '${name}' names a property every object has, not a header` }, name)
    t.match(await readyError({ trustedProxies: 'loopback', clientIpHeader: name }), { code: 'FST_PROXY_FIX_INVALID_HEADER_NAME' }, name)
    t.match(await readyError({ trustedProxies: 'loopback', headers: { prefix: name } }), { code: 'FST_PROXY_FIX_INVALID_HEADER_NAME' }, name)
  }
})

t.test('an async trust function is refused: a Promise is never true', async (t) => {
  t.match(await readyError({ trustedProxies: async () => true }), { code: 'FST_PROXY_FIX_INVALID_TRUSTED_PROXY', message: /async function/ })
  t.match(await readyError({ trustedProxies: async function * () { yield true } }), { code: 'FST_PROXY_FIX_INVALID_TRUSTED_PROXY' })
  t.equal(await readyError({ trustedProxies: () => true }), null)
})

t.test('ProxyFixError and codes are exported, so an app need not copy strings', async (t) => {
  const error = await readyError({ trustedProxies: 'loopback', hops: 0 })
  t.ok(error instanceof proxyFix.ProxyFixError)
  t.equal(error.name, 'ProxyFixError')
  t.equal(error.code, proxyFix.codes.INVALID_HOPS)
  t.ok(Object.values(proxyFix.codes).every((code) => /^FST_PROXY_FIX_[A-Z_]+$/.test(code)))
})
