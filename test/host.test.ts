// Contract rule 5 and "Host and port", "Prefix": host, protocol, port and
// prefix come from the rightmost value the trusted peer wrote.
import t from 'tap'
import { ask, build } from './helpers'

const all = { port: 'x-forwarded-port', prefix: 'x-forwarded-prefix' }

t.test('valid hosts are used as the client asked for them', async (t) => {
  const app = await build({ trustedProxies: 'loopback' })
  const cases: Array<[string, string, string, number | null]> = [
    // [x-forwarded-host, host, hostname, port]
    ['shop.example.com', 'shop.example.com', 'shop.example.com', null],
    ['Shop.Example.TEST:8443', 'Shop.Example.TEST:8443', 'Shop.Example.TEST', 8443],
    ['a.example, b.example', 'b.example', 'b.example', null],
    ['a.example,b.example:81', 'b.example:81', 'b.example', 81],
    [' b.example\t', 'b.example', 'b.example', null],
    ['[2001:db8::1]', '[2001:db8::1]', '[2001:db8::1]', null],
    ['[2001:db8::1]:8080', '[2001:db8::1]:8080', '[2001:db8::1]', 8080],
    ['[v1.fe80::a+en1]', '[v1.fe80::a+en1]', '[v1.fe80::a+en1]', null],
    ['[vF.a:b]:99', '[vF.a:b]:99', '[vF.a:b]', 99],
    ['203.0.113.7:65535', '203.0.113.7:65535', '203.0.113.7', 65535],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', 'xn--bcher-kva.example', null],
    ['my_host.local', 'my_host.local', 'my_host.local', null],
    ['ex%41mple.com', 'ex%41mple.com', 'ex%41mple.com', null],
    ["a-b.c~d!$&'()*+;=", "a-b.c~d!$&'()*+;=", "a-b.c~d!$&'()*+;=", null]
  ]
  for (const [forwarded, host, hostname, port] of cases) {
    const seen = await ask(app, '127.0.0.1', { 'x-forwarded-host': forwarded })
    t.same([seen.host, seen.hostname, seen.port], [host, hostname, port], JSON.stringify(forwarded))
    t.equal(seen.originalHost, 'app.internal:3000')
  }
})

t.test('malformed hosts are ignored, or refused under reject', async (t) => {
  const ignore = await build({ trustedProxies: 'loopback' })
  const reject = await build({ trustedProxies: 'loopback', onInvalid: 'reject' })
  const bad = [
    '', ' ', 'a.example, ', 'evil.example/path', 'user@evil.example', 'evil example', 'evil.example\\x',
    'evil.example:', 'evil.example:0', 'evil.example:65536', 'evil.example:08', 'evil.example:80:80', 'evil.example:http',
    '[::1', '[::1]x', '[v1.a/b]', '[::1]:', '[fe80::1%25eth0]', '[1.2.3.4]', '[v.x]', '[vz.x]', '[v1.]', 'ex%4mple', 'ex%', 'a?b', 'a#b', 'a"b', 'a<b>',
    'caf\u00e9.example', 'a\u0000b', 'a\u007fb', ':80'
  ]
  for (const value of bad) {
    const seen = await ask(ignore, '127.0.0.1', { 'x-forwarded-host': value })
    t.same([seen.host, seen.hostname, seen.port], ['app.internal:3000', 'app.internal', 3000], `ignored ${JSON.stringify(value)}`)
    const refused = await ask(reject, '127.0.0.1', { 'x-forwarded-host': value })
    t.equal(refused.statusCode, 400, `refused ${JSON.stringify(value)}`)
    t.match(refused.body.message, /^Invalid x-forwarded-host header from a trusted proxy: "/)
  }
})

t.test('protocol: http or https in any case, rightmost value', async (t) => {
  const app = await build({ trustedProxies: 'loopback' })
  const reject = await build({ trustedProxies: 'loopback', onInvalid: 'reject' })
  const cases: Array<[string, string | null]> = [
    ['https', 'https'], ['HTTPS', 'https'], ['Http', 'http'], ['http, https', 'https'], ['https,http', 'http'],
    ['wss', null], ['ftp', null], ['', null], ['https:', null], ['httpss', null], ['htt', null], ['https, ', null], ['hxxp', null], ['httpx', null]
  ]
  for (const [value, expected] of cases) {
    const seen = await ask(app, '127.0.0.1', { 'x-forwarded-proto': value })
    t.equal(seen.protocol, expected ?? 'http', JSON.stringify(value))
    const refused = await ask(reject, '127.0.0.1', { 'x-forwarded-proto': value })
    t.equal(refused.statusCode ?? 200, expected === null ? 400 : 200)
  }
})

t.test('port: the port header, else the forwarded host\'s port, else the Host header\'s', async (t) => {
  const app = await build({ trustedProxies: 'loopback', headers: all })
  const cases: Array<[Record<string, string>, string, string, number | null]> = [
    [{ 'x-forwarded-port': '8443' }, 'app.internal:8443', 'app.internal', 8443],
    [{ 'x-forwarded-port': '80, 443' }, 'app.internal:443', 'app.internal', 443],
    [{ 'x-forwarded-host': 'shop.example', 'x-forwarded-port': '8443' }, 'shop.example:8443', 'shop.example', 8443],
    [{ 'x-forwarded-host': 'shop.example:81', 'x-forwarded-port': '8443' }, 'shop.example:8443', 'shop.example', 8443],
    [{ 'x-forwarded-host': 'shop.example:8443', 'x-forwarded-port': '8443' }, 'shop.example:8443', 'shop.example', 8443],
    [{ 'x-forwarded-host': 'shop.example' }, 'shop.example', 'shop.example', null],
    [{ 'x-forwarded-host': 'shop.example:81' }, 'shop.example:81', 'shop.example', 81],
    [{ 'x-forwarded-host': 'shop.example:81', 'x-forwarded-port': 'nope' }, 'shop.example:81', 'shop.example', 81],
    [{ 'x-forwarded-port': '0' }, 'app.internal:3000', 'app.internal', 3000],
    [{ 'x-forwarded-port': '65536' }, 'app.internal:3000', 'app.internal', 3000],
    [{ 'x-forwarded-port': '' }, 'app.internal:3000', 'app.internal', 3000],
    [{}, 'app.internal:3000', 'app.internal', 3000]
  ]
  for (const [headers, host, hostname, port] of cases) {
    const seen = await ask(app, '127.0.0.1', headers)
    t.same([seen.host, seen.hostname, seen.port], [host, hostname, port], JSON.stringify(headers))
  }
  const v6 = await app.inject({ url: '/', remoteAddress: '127.0.0.1', headers: { host: '[::1]:3000', 'x-forwarded-port': '443' } })
  t.same([v6.json().host, v6.json().hostname, v6.json().port], ['[::1]:443', '[::1]', 443])
})

t.test('the port of the Host header is reported as Fastify reports it', async (t) => {
  const app = await build({ trustedProxies: 'loopback' })
  for (const [host, hostname, port] of [['example.com', 'example.com', null], ['[::1]', '[::1]', null], ['[::1]:99', '[::1]', 99], ['a:70000', 'a', 70000]] as const) {
    const seen = (await app.inject({ url: '/', remoteAddress: '203.0.113.1', headers: { host } })).json()
    t.same([seen.host, seen.hostname, seen.port], [host, hostname, port])
  }
})

t.test('prefix: a path starting with a single /, without trailing slash', async (t) => {
  const app = await build({ trustedProxies: 'loopback', headers: all })
  const reject = await build({ trustedProxies: 'loopback', headers: all, onInvalid: 'reject' })
  const cases: Array<[string, string | null]> = [
    ['/app', '/app'], ['/app/', '/app'], ['/', ''], ['/a/b/c', '/a/b/c'], ['/api/v1//', '/api/v1'], ['/x, /app', '/app'],
    ['/caf%C3%A9', '/caf%C3%A9'], ['/a.b/..c/.d', '/a.b/..c/.d'], ["/a-b_c~d!$&'()*+;=:@", "/a-b_c~d!$&'()*+;=:@"],
    ['', null], ['app', null], ['//evil.example', null], ['/a/../b', null], ['/a/./b', null], ['/..', null], ['/.', null],
    ['/a/%2e%2E/b', null], ['/a/.%2e', null], ['/%2e', null], ['/a\\b', null], ['/a%2fb', null], ['/a%5Cb', null], ['/a%zz', null], ['/a%2', null],
    ['/a b', null], ['/a?b', null], ['/a#b', null], ['/a\tb', null], ['/\u00e9', null], ['/a\u0001', null], ['/app, ', null]
  ]
  for (const [value, expected] of cases) {
    t.equal((await ask(app, '127.0.0.1', { 'x-forwarded-prefix': value })).forwardedPrefix, expected ?? '', JSON.stringify(value))
    const refused = await ask(reject, '127.0.0.1', { 'x-forwarded-prefix': value })
    t.equal(refused.statusCode ?? 200, expected === null ? 400 : 200, `reject ${JSON.stringify(value)}`)
  }
  const off = await build({ trustedProxies: 'loopback' })
  t.equal((await ask(off, '127.0.0.1', { 'x-forwarded-prefix': '/app' })).forwardedPrefix, '', 'prefix is off by default')
})

t.test('the first malformed value is the one refused, in the order for, host, proto, port, prefix', async (t) => {
  const reject = await build({ trustedProxies: 'loopback', headers: all, onInvalid: 'reject' })
  const everything = { 'x-forwarded-for': 'x', 'x-forwarded-host': 'a/b', 'x-forwarded-proto': 'ftp', 'x-forwarded-port': '0', 'x-forwarded-prefix': 'p' }
  const order = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix']
  for (let i = 0; i < order.length; i++) {
    const headers: Record<string, string> = {}
    for (const name of order.slice(i)) headers[name] = everything[name as keyof typeof everything]
    const refused = await ask(reject, '127.0.0.1', headers)
    t.match(refused.body.message, new RegExp(`^Invalid ${order[i]} header`))
  }
})
