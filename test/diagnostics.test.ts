// What the plugin tells the operator, read from a captured log stream: one
// info line at registration, a warning per risky configuration, and at debug
// level why a request's forwarded headers were ignored or refused.
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Writable } from 'node:stream'
import proxyFix from '../lib/index'
import { explain } from '../lib/diagnostics'
import { normalizeOptions, type ProxyFixOptions } from '../lib/options'
import { resolve, type Resolution } from '../lib/resolve'
import type { ProxyHeader } from '../lib/proxy-header'

interface Captured { app: FastifyInstance, lines: any[] }

async function start (options: ProxyFixOptions, level = 'debug', server: FastifyServerOptions = {}): Promise<Captured> {
  const lines: any[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } })
  const app = Fastify({ logger: { level, stream }, disableRequestLogging: true, ...server })
  await app.register(proxyFix, options)
  app.get('/', async (request) => ({ ip: request.ip, hostname: request.hostname }))
  await app.ready()
  return { app, lines }
}

const ours = (lines: any[], level: number): any[] => lines.filter((line) => line.level === level && String(line.msg).startsWith('fastify-proxy-fix:'))
const INFO = 30
const WARN = 40
const DEBUG = 20

t.test('registration: one info line saying what is trusted and which headers are read', async (t) => {
  const cases: Array<[ProxyFixOptions, string]> = [
    [{ trustedProxies: 'loopback, 10.0.0.0/8' },
      'fastify-proxy-fix: trusting loopback, 10.0.0.0/8; reading client from x-forwarded-for, host from x-forwarded-host, protocol from x-forwarded-proto; malformed values are ignored'],
    [{ trustedProxies: ['10.0.0.0/8'], hops: 1, headers: { host: false, port: 'x-forwarded-port', prefix: 'x-forwarded-prefix' }, onInvalid: 'reject' },
      'fastify-proxy-fix: trusting 10.0.0.0/8 (at most 1 proxy); reading client from x-forwarded-for, protocol from x-forwarded-proto, port from x-forwarded-port, prefix from x-forwarded-prefix; malformed values are refused with 400'],
    [{ trustedProxies: 'loopback', hops: 2, forwarded: true },
      'fastify-proxy-fix: trusting loopback (at most 2 proxies); reading client from forwarded, host from forwarded, protocol from forwarded; malformed values are ignored'],
    [{ trustedProxies: '173.245.48.0/20', clientIpHeader: 'CF-Connecting-IP', headers: { host: false } },
      'fastify-proxy-fix: trusting 173.245.48.0/20; reading client from cf-connecting-ip, protocol from x-forwarded-proto; malformed values are ignored'],
    [{ trustedProxies: () => true, headers: { for: false, host: false, proto: false } },
      'fastify-proxy-fix: trusting a function; reading no forwarded headers; malformed values are ignored'],
    [{ trustedProxies: '10.0.0.0/8', proxyProtocol: true },
      'fastify-proxy-fix: trusting 10.0.0.0/8; reading client from x-forwarded-for, host from x-forwarded-host, protocol from x-forwarded-proto; ' +
      'PROXY protocol headers required on connections from trusted peers (within 10000 ms); malformed values are ignored'],
    [{ trustedProxies: '10.0.0.0/8', proxyProtocol: 'optional', proxyProtocolTimeout: 3000, headers: { for: false, host: false, proto: false } },
      'fastify-proxy-fix: trusting 10.0.0.0/8; reading no forwarded headers; ' +
      'PROXY protocol headers read when present on connections from trusted peers (within 3000 ms); malformed values are ignored']
  ]
  for (const [options, message] of cases) {
    const { lines } = await start(options, 'info')
    const info = ours(lines, INFO)
    t.equal(info.length, 1, 'one line')
    t.equal(info[0].msg, message)
  }
  const { lines } = await start({ trustedProxies: ['loopback'], hops: 3, headers: { port: 'x-forwarded-port' } }, 'info')
  t.same(ours(lines, INFO)[0].proxyFix, {
    trustedProxies: ['loopback'],
    hops: 3,
    client: 'x-forwarded-for',
    host: 'x-forwarded-host',
    proto: 'x-forwarded-proto',
    port: 'x-forwarded-port',
    prefix: null,
    onInvalid: 'ignore',
    proxyProtocol: false
  }, 'the same as fields, for log processors')
  const fn = await start({ trustedProxies: () => false }, 'info')
  t.equal(ours(fn.lines, INFO)[0].proxyFix.trustedProxies, 'function')
  t.equal((await start({ trustedProxies: 'loopback' }, 'warn')).lines.length, 0, 'nothing above info')
})

t.test('a long allowlist is counted in the startup line and listed at debug', async (t) => {
  const ranges = ['173.245.48.0/20', '103.21.244.0/22', '103.22.200.0/22', '103.31.4.0/22', '141.101.64.0/18', '108.162.192.0/18',
    '2400:cb00::/32', '2606:4700::/32', '2803:f800::/32']
  const { lines } = await start({ trustedProxies: [...ranges, 'loopback'], clientIpHeader: 'cf-connecting-ip' })
  const [info] = ours(lines, INFO)
  t.equal(info.msg, 'fastify-proxy-fix: trusting 10 entries (6 IPv4, 3 IPv6, 1 named; listed at debug level); reading client from cf-connecting-ip, host from x-forwarded-host, protocol from x-forwarded-proto; malformed values are ignored')
  t.equal(info.proxyFix.trustedProxies, 10)
  const [listing] = ours(lines, DEBUG)
  t.same(listing.proxyFix.trustedProxies, [...ranges, 'loopback'])
  t.equal(listing.msg, `fastify-proxy-fix: trusted proxies: ${[...ranges, 'loopback'].join(', ')}`)
  const eight = await start({ trustedProxies: ranges.slice(0, 8) })
  t.match(ours(eight.lines, INFO)[0].msg, /^fastify-proxy-fix: trusting 173\.245\.48\.0\/20, .*2606:4700::\/32;/, 'eight are listed')
  t.same(ours(eight.lines, DEBUG), [], 'and not again at debug')
  const addresses = await start({ trustedProxies: [...ranges, '10.0.0.1'] }, 'info')
  t.match(ours(addresses.lines, INFO)[0].msg, 'trusting 10 entries (7 IPv4, 3 IPv6; listed at debug level)', 'no named ranges: none counted')
})

t.test('risky configurations warn once at startup, naming the risk and the fix', async (t) => {
  const EVERYONE = 'FST_PROXY_FIX_TRUSTS_EVERYONE'
  const HOST = 'FST_PROXY_FIX_HOST_FROM_PRIVATE_NETWORKS'
  const CLIENT = 'FST_PROXY_FIX_CLIENT_HEADER_FROM_EVERYONE'
  const cases: Array<[ProxyFixOptions, string[]]> = [
    [{ trustedProxies: '0.0.0.0/0' }, [EVERYONE, HOST]],
    [{ trustedProxies: '::/0', headers: { host: false } }, [EVERYONE]],
    [{ trustedProxies: ['0.0.0.0/0', '::/0'], headers: { host: false } }, [EVERYONE]],
    [{ trustedProxies: '0.0.0.0/0', forwarded: true }, [EVERYONE, HOST]],
    [{ trustedProxies: '0.0.0.0/0', hops: 1, headers: { host: false } }, []],
    [{ trustedProxies: '0.0.0.0/0', headers: { for: false, host: false } }, []],
    [{ trustedProxies: '0.0.0.0/0', clientIpHeader: 'cf-connecting-ip', headers: { host: false } }, [CLIENT]],
    [{ trustedProxies: '::/0', clientIpHeader: 'x-real-ip', hops: 1, headers: { host: false } }, [CLIENT]],
    [{ trustedProxies: 'private' }, [HOST]],
    [{ trustedProxies: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] }, [HOST]],
    [{ trustedProxies: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], forwarded: true }, [HOST]],
    [{ trustedProxies: 'uniquelocal', headers: { host: false } }, []],
    [{ trustedProxies: ['10.0.0.0/8', '172.16.0.0/12'] }, []],
    [{ trustedProxies: ['10.0.0.0/8', '172.16.0.0/13', '192.168.0.0/16'] }, []],
    [{ trustedProxies: 'loopback' }, []],
    [{ trustedProxies: () => true }, []],
    [{ trustedProxies: ['173.245.48.0/20', '2400:cb00::/32'], clientIpHeader: 'cf-connecting-ip', headers: { host: false } }, []]
  ]
  for (const [options, codes] of cases) {
    const { lines } = await start(options, 'info')
    const warnings = ours(lines, WARN)
    t.same(warnings.map((line) => line.code), codes, JSON.stringify(options, (_k, v) => typeof v === 'function' ? 'fn' : v))
    for (const line of warnings) t.match(line.msg, /: .+ Fix: .+/, 'names the risk, then the fix')
  }

  const { lines } = await start({ trustedProxies: '0.0.0.0/0' }, 'info')
  const [everyone, host] = ours(lines, WARN).map((line) => line.msg)
  t.equal(everyone, "fastify-proxy-fix: trustedProxies includes 0.0.0.0/0 (every IPv4 address) and hops is not set: every entry of x-forwarded-for counts as a proxy, so request.ip is the leftmost entry, which any client can write. Fix: list only your proxies' addresses or ranges; or, if the app can only be reached through your proxies, set hops to their number")
  t.equal(host, "fastify-proxy-fix: trustedProxies includes every private network (10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16) and the host is read from x-forwarded-host: any machine on those networks (another container, a neighbouring service) can choose request.hostname, which apps put in links, redirects and password-reset mails. Fix: list only your proxies' addresses, or set headers.host: false if your proxy does not send the header")
  const cf = await start({ trustedProxies: '::/0', clientIpHeader: 'cf-connecting-ip', headers: { host: false } }, 'info')
  t.equal(ours(cf.lines, WARN)[0].msg, "fastify-proxy-fix: clientIpHeader 'cf-connecting-ip' is believed from ::/0 (every address, IPv4 included): any client that reaches the app directly can send it and choose its own request.ip. Fix: trust only the ranges of the CDN or proxy that sets the header (for Cloudflare, its published ranges, kept current)")

  // An IPv6 range that holds the IPv4-mapped block trusts every IPv4 peer: named as written.
  for (const entry of ['::/8', '::ffff:0:0/96']) {
    const mapped = await start({ trustedProxies: ['127.0.0.1', entry], headers: { host: false } }, 'info')
    t.match(ours(mapped.lines, WARN)[0].msg, `trustedProxies includes ${entry} (every IPv4 address, as IPv4-mapped IPv6) and hops is not set`)
  }
  const split = await start({ trustedProxies: ['0.0.0.0/1', '128.0.0.0/1'], headers: { host: false } }, 'info')
  t.match(ours(split.lines, WARN)[0].msg, 'trustedProxies includes 0.0.0.0/0 (every IPv4 address, with the ranges together)')

  const prefix = await start({ trustedProxies: 'loopback', prefix: 'x-forwarded-prefix' } as ProxyFixOptions, 'info')
  const [misplaced] = ours(prefix.lines, WARN)
  t.equal(misplaced.code, 'FST_PROXY_FIX_PREFIX_LOOKS_LIKE_HEADER')
  t.equal(misplaced.msg, "fastify-proxy-fix: the option prefix 'x-forwarded-prefix' is Fastify's route prefix for register(), not a header, and this plugin has no routes: it does nothing. Fix: to read a prefix header, write headers: { prefix: 'x-forwarded-prefix' }")
  t.same(ours((await start({ trustedProxies: 'loopback', prefix: '/api' } as ProxyFixOptions, 'info')).lines, WARN), [], 'a route prefix is no header name')

  const once = await start({ trustedProxies: '0.0.0.0/0', headers: { host: false } }, 'info')
  for (let i = 0; i < 3; i++) await once.app.inject({ url: '/', headers: { 'x-forwarded-for': '6.6.6.6' } })
  t.equal(ours(once.lines, WARN).length, 1, 'requests add no warnings')
})

/** Sends one request and returns the debug lines the plugin wrote for it. */
async function debugLines (captured: Captured, peer: string, headers: Record<string, string>, url = '/'): Promise<any[]> {
  const before = captured.lines.length
  await captured.app.inject({ url, remoteAddress: peer, headers: { host: 'backend:3000', ...headers } })
  return ours(captured.lines.slice(before), DEBUG)
}

t.test('debug: an untrusted peer sending forwarded headers', async (t) => {
  const c = await start({ trustedProxies: 'loopback', headers: { port: 'x-forwarded-port' } })
  const [line, ...more] = await debugLines(c, '198.51.100.9', { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-real-ip': '1.1.1.1' })
  t.same(more, [])
  t.equal(line.msg, 'fastify-proxy-fix: forwarded headers ignored: peer 198.51.100.9 is not a trusted proxy')
  t.same(line.proxyFix, { peer: '198.51.100.9', ignored: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example' } }, 'only the headers this config reads')
  t.ok(line.reqId, 'on the request logger')
  t.same(await debugLines(c, '198.51.100.9', { 'x-real-ip': '1.1.1.1' }), [], 'nothing forwarded that this config reads: nothing to say')
  t.same(await debugLines(c, '127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }), [], 'a trusted proxy and a fully read chain: nothing to say')

  const cf = await start({ trustedProxies: '173.245.48.0/20', clientIpHeader: 'cf-connecting-ip', headers: { proto: false } })
  const [ignored] = await debugLines(cf, '127.0.0.1', { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': '5.5.5.5' })
  t.same(ignored.proxyFix.ignored, { 'cf-connecting-ip': '6.6.6.6' }, 'clientIpHeader mode reads no chain, so X-Forwarded-For is not listed')
  t.same(await debugLines(cf, '173.245.48.1', { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': '5.5.5.5' }), [],
    'with clientIpHeader the chain is not read, so nothing of it is reported')

  const fwd = await start({ trustedProxies: 'loopback', forwarded: true, headers: { prefix: 'x-forwarded-prefix' } })
  const [f] = await debugLines(fwd, '198.51.100.9', { forwarded: 'for=6.6.6.6;host=evil.example', 'x-forwarded-for': '5.5.5.5', 'x-forwarded-prefix': '/x' })
  t.same(f.proxyFix.ignored, { forwarded: 'for=6.6.6.6;host=evil.example', 'x-forwarded-prefix': '/x' })
})

t.test('debug: a malformed value from a trusted proxy, escaped and truncated', async (t) => {
  const c = await start({ trustedProxies: 'loopback' })
  const [line] = await debugLines(c, '127.0.0.1', { 'x-forwarded-host': 'é"' + 'x'.repeat(100) })
  t.equal(line.msg, `fastify-proxy-fix: malformed x-forwarded-host from trusted proxy 127.0.0.1: "\\xe9\\x22${'x'.repeat(56)}...", ignored (the value stays as the socket saw it)`)
  t.same(line.proxyFix, { peer: '127.0.0.1', header: 'x-forwarded-host', value: `\\xe9\\x22${'x'.repeat(56)}...` })
  const [chain, ...more] = await debugLines(c, '127.0.0.1', { 'x-forwarded-for': '6.6.6.6, junk, 127.0.0.2' })
  t.same(more, [], 'a malformed chain is reported once, as malformed')
  t.match(chain.msg, /malformed x-forwarded-for from trusted proxy 127\.0\.0\.1: "junk"/)

  const reject = await start({ trustedProxies: 'loopback', onInvalid: 'reject' })
  const [refused] = await debugLines(reject, '127.0.0.1', { 'x-forwarded-proto': 'ftp' })
  t.equal(refused.msg, 'fastify-proxy-fix: malformed x-forwarded-proto from trusted proxy 127.0.0.1: "ftp", refused with 400')
})

t.test('debug: the part of the chain that was not read, and why', async (t) => {
  const c = await start({ trustedProxies: 'loopback' })
  const [forged] = await debugLines(c, '127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 5.5.5.5, 203.0.113.7, 127.0.0.2' })
  t.equal(forged.msg, 'fastify-proxy-fix: 2 x-forwarded-for entries left of the client not read: 203.0.113.7 (hop 2) is not a trusted proxy, so it is the client')
  t.same(forged.proxyFix, { peer: '127.0.0.1', header: 'x-forwarded-for', client: '203.0.113.7', hop: 2, unread: 2 })

  const both = await debugLines(c, '127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7', 'x-forwarded-proto': 'gopher' })
  t.same(both.map((line) => line.proxyFix.header), ['x-forwarded-for', 'x-forwarded-proto'], 'an unread chain and a malformed value: both said')

  const hops = await start({ trustedProxies: 'loopback', hops: 2 })
  const [limited] = await debugLines(hops, '127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 127.0.0.3, 127.0.0.2' })
  t.equal(limited.msg, 'fastify-proxy-fix: 1 x-forwarded-for entry left of the client not read: hops is 2')

  let calls = 0
  const fn = await start({ trustedProxies: (address, hop) => { calls++; return address.startsWith('127.') && hop < 5 } })
  const [byFunction] = await debugLines(fn, '127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' })
  t.equal(byFunction.proxyFix.client, '203.0.113.7')
  t.match(byFunction.msg, /203\.0\.113\.7 \(hop 1\) is not a trusted proxy/)
  t.ok(calls > 0)

  const fwd = await start({ trustedProxies: 'loopback', forwarded: true })
  const [hidden] = await debugLines(fwd, '127.0.0.1', { forwarded: 'for=6.6.6.6, for=unknown, for=127.0.0.3' })
  t.equal(hidden.msg, 'fastify-proxy-fix: 2 forwarded entries left of the client not read: the element at hop 2 names no address (for=unknown, an obfuscated name, or no for=)')
  const [alone] = await debugLines(fwd, '127.0.0.1', { forwarded: 'for=unknown;proto=https' })
  t.equal(alone.msg, 'fastify-proxy-fix: 1 forwarded entry left of the client not read: the element at hop 1 names no address (for=unknown, an obfuscated name, or no for=)')
  const [none] = await debugLines(fwd, '127.0.0.1', { forwarded: 'for=6.6.6.6, proto=https' })
  t.match(none.msg, /2 forwarded entries left of the client not read: the element at hop 1 names no address/)
  const [untrusted] = await debugLines(fwd, '127.0.0.1', { forwarded: 'for=6.6.6.6, for="[2001:db8::1]:4711"' })
  t.match(untrusted.msg, /1 forwarded entry left of the client not read: 2001:db8::1 \(hop 1\) is not a trusted proxy/)
  const [broken, ...rest] = await debugLines(fwd, '127.0.0.1', { forwarded: 'for=6.6.6.6;;' })
  t.same(rest, [])
  t.match(broken.msg, /malformed forwarded from trusted proxy/)
  t.same(await debugLines(fwd, '127.0.0.1', { forwarded: 'for=127.0.0.5, for=127.0.0.3' }), [], 'every element walked')
})

t.test('debug lines come from the one walk: no second walk, no second call of the trust function', async (t) => {
  let calls = 0
  const trustedProxies = (address: string): boolean => { calls++; return address.startsWith('127.') }
  const info = await start({ trustedProxies }, 'info')
  const headers = { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 127.0.0.2' }
  calls = 0
  t.same(await debugLines(info, '127.0.0.1', headers), [])
  t.equal(calls, 3, 'the peer, then one call per entry the walk asks about')
  const debug = await start({ trustedProxies }, 'debug')
  calls = 0
  t.equal((await debugLines(debug, '127.0.0.1', headers)).length, 1)
  t.equal(calls, 3, 'the same calls at debug level')

  // A route may turn debug on for itself; the check is per request.
  const lines: any[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } })
  const app = Fastify({ logger: { level: 'info', stream }, disableRequestLogging: true })
  await app.register(proxyFix, { trustedProxies: 'loopback' })
  app.get('/quiet', async (request) => request.ip)
  app.get('/loud', { logLevel: 'debug' }, async (request) => request.ip)
  await app.inject({ url: '/quiet', remoteAddress: '198.51.100.9', headers })
  await app.inject({ url: '/loud', remoteAddress: '198.51.100.9', headers })
  t.equal(ours(lines, DEBUG).length, 1, 'only the route at debug level explains')

  // Loggers that cannot tell their level (and Fastify's disabled logger) are not asked to explain.
  const seen: string[] = []
  const record = (level: string) => (..._args: unknown[]) => { seen.push(level) }
  const custom: any = { info: record('info'), warn: record('warn'), error: record('error'), fatal: record('fatal'), trace: record('trace'), debug: record('debug'), level: 'debug' }
  custom.child = () => custom
  const plain = Fastify({ loggerInstance: custom, disableRequestLogging: true })
  await plain.register(proxyFix, { trustedProxies: 'loopback' })
  plain.get('/', async (request) => request.ip)
  await plain.inject({ url: '/', remoteAddress: '198.51.100.9', headers })
  t.notOk(seen.includes('debug'), 'no isLevelEnabled: no debug lines')
  t.ok(seen.includes('info'), 'the registration line still goes out')
  const off = Fastify()
  await off.register(proxyFix, { trustedProxies: 'loopback' })
  off.get('/', async (request) => request.ip)
  t.equal((await off.inject({ url: '/', remoteAddress: '198.51.100.9', headers })).body, '198.51.100.9')
})

t.test('explain: nothing to say about an untrusted peer that sent nothing this config reads', async (t) => {
  const config = normalizeOptions({ trustedProxies: 'loopback' })
  t.same(explain(config, resolve(config, '198.51.100.9', { forwarded: 'for=1.2.3.4' }) as Resolution, { forwarded: 'for=1.2.3.4' }), [])
})

t.test('a trusted peer that sent no client header says so at debug', async (t) => {
  const cf = await start({ trustedProxies: '173.245.48.0/20', clientIpHeader: 'cf-connecting-ip' })
  const [line, ...more] = await debugLines(cf, '173.245.48.1', {})
  t.same(more, [])
  t.equal(line.msg, 'fastify-proxy-fix: trusted proxy 173.245.48.1 sent no cf-connecting-ip header, so it is the client')
  t.same(line.proxyFix, { peer: '173.245.48.1', header: 'cf-connecting-ip', client: '173.245.48.1' })
  t.same(await debugLines(cf, '173.245.48.1', { 'cf-connecting-ip': '203.0.113.7' }), [])
  // Behind a PROXY header whose source is trusted, that source is the client.
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8', clientIpHeader: 'x-real-ip' })
  const proxy = { version: 2, command: 'proxy', source: { address: '10.0.0.9', port: 1 }, destination: { address: '10.0.0.2', port: 443 }, ssl: false, tlvs: [] } as const
  const r = resolve(config, '10.0.0.1', {}, { ...proxy, tlvs: [] }) as Resolution
  t.same(explain(config, r, {}).map((entry) => [entry.message, entry.details]), [[
    'fastify-proxy-fix: trusted proxy 10.0.0.9 sent no x-real-ip header, so it is the client',
    { proxyFix: { peer: '10.0.0.1', header: 'x-real-ip', client: '10.0.0.9' } }
  ]])
})

t.test('a loopback peer of the other family than the trusted one gets an info hint, once per address', async (t) => {
  const v4 = await start({ trustedProxies: '127.0.0.1' }, 'info')
  for (let i = 0; i < 3; i++) await v4.app.inject({ url: '/', remoteAddress: '::1' })
  const hints = ours(v4.lines, INFO).slice(1)
  t.equal(hints.length, 1, 'once')
  t.equal(hints[0].msg, "fastify-proxy-fix: peer ::1 is not a trusted proxy, but 127.0.0.1 is: if your proxy on this host connects over IPv6, add '::1' (or 'loopback') to trustedProxies")
  const v6 = await start({ trustedProxies: '::1' }, 'info')
  for (const peer of ['127.0.0.1', '127.0.0.1', '127.0.0.2']) await v6.app.inject({ url: '/', remoteAddress: peer })
  t.same(ours(v6.lines, INFO).slice(1).map((line) => line.msg), [
    "fastify-proxy-fix: peer 127.0.0.1 is not a trusted proxy, but ::1 is: if your proxy on this host connects over IPv4, add '127.0.0.1' (or 'loopback') to trustedProxies",
    "fastify-proxy-fix: peer 127.0.0.2 is not a trusted proxy, but ::1 is: if your proxy on this host connects over IPv4, add '127.0.0.2' (or 'loopback') to trustedProxies"
  ])
  const quiet = await start({ trustedProxies: '10.0.0.1' }, 'info')
  for (const peer of ['::1', '127.0.0.1', '198.51.100.9']) await quiet.app.inject({ url: '/', remoteAddress: peer })
  t.equal(ours(quiet.lines, INFO).length, 1, 'no loopback trusted: nothing to hint')
  const many = await start({ trustedProxies: '::1' }, 'info')
  for (let i = 0; i < 120; i++) await many.app.inject({ url: '/', remoteAddress: `127.0.0.${i + 2}` })
  t.equal(ours(many.lines, INFO).length, 1 + 100, 'at most 100 addresses are remembered and hinted')
  const fn = await start({ trustedProxies: () => false }, 'info')
  await fn.app.inject({ url: '/', remoteAddress: '::1' })
  t.equal(ours(fn.lines, INFO).length, 1, 'a trust function: nothing to compare with')
})

t.test('a trust function that throws: warned at most once a minute, the request goes on untrusted', async (t) => {
  const clock = t.capture(Date, 'now', () => now)
  let now = 1_000_000
  const app = await start({ trustedProxies: (address) => { if (address.includes(':')) throw new Error('family mismatch'); return address.startsWith('127.') } }, 'info')
  const first = await app.app.inject({ url: '/', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7, 2001:db8::1' } })
  t.equal(first.statusCode, 200)
  t.equal(first.json().ip, '2001:db8::1', 'the entry it threw on is the client')
  await app.app.inject({ url: '/', remoteAddress: '::1' })
  const warned = (): any[] => app.lines.filter((line) => line.level === WARN && String(line.msg).includes('function threw'))
  t.equal(warned().length, 1, 'two throws within a minute: one warning')
  t.equal(warned()[0].err.message, 'family mismatch')
  now += 60_000
  t.equal((await app.app.inject({ url: '/', remoteAddress: '::1' })).statusCode, 200)
  t.equal(warned().length, 2, 'a minute later, the next one')
  t.ok(clock.calls.length > 0)
})

t.test('explain: a walk that ends at the PROXY header\'s source says the forwarded headers were not read', async (t) => {
  const proxy: ProxyHeader = {
    version: 2, command: 'proxy', source: { address: '203.0.113.7', port: 1 }, destination: { address: '10.0.0.2', port: 443 }, ssl: false, tlvs: []
  }
  const headers = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example' }
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8', proxyProtocol: true })
  t.same(explain(config, resolve(config, '10.0.0.1', headers, proxy) as Resolution, headers), [{
    details: { proxyFix: { peer: '10.0.0.1', source: '203.0.113.7', ignored: headers } },
    message: 'fastify-proxy-fix: forwarded headers ignored: the PROXY header\'s source 203.0.113.7 is the client (it is not a trusted proxy)'
  }])
  const oneHop = normalizeOptions({ trustedProxies: 'private, 203.0.113.0/24', hops: 1, proxyProtocol: true })
  t.match(explain(oneHop, resolve(oneHop, '10.0.0.1', headers, proxy) as Resolution, headers), [{ message: /\(hops is 1\)$/ }])
  t.same(explain(config, resolve(config, '10.0.0.1', {}, proxy) as Resolution, {}), [], 'nothing to say when no forwarded header was sent')
  const edge = { ...proxy, source: { address: '10.9.9.9', port: 1 } }
  t.match(explain(config, resolve(config, '10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 10.8.8.8, 198.51.100.1' }, edge) as Resolution,
    { 'x-forwarded-for': '6.6.6.6, 10.8.8.8, 198.51.100.1' }), [{ details: { proxyFix: { header: 'x-forwarded-for', client: '198.51.100.1', hop: 2, unread: 2 } } }],
  'behind a trusted source, the chain is explained as usual, hops counting the source')
})
