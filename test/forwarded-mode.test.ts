// forwarded: true — the walk over RFC 7239 `for=` values, host and proto from the client's element.
import t from 'tap'
import { ask, build } from './helpers'

t.test('the walk runs over for= values from the right', async (t) => {
  const app = await build({ trustedProxies: ['10.0.0.0/8', '2001:db8::/32'], forwarded: true })
  const cases: Array<[string, string, string[]]> = [
    ['for=192.0.2.60;proto=http;by=203.0.113.43', '192.0.2.60', ['10.0.0.1', '192.0.2.60']],
    ['for=192.0.2.43, for=198.51.100.17', '198.51.100.17', ['10.0.0.1', '198.51.100.17']],
    ['for=192.0.2.43, for=10.0.0.7', '192.0.2.43', ['10.0.0.1', '10.0.0.7', '192.0.2.43']],
    ['For="[2001:db8:cafe::17]:4711"', '2001:db8:cafe::17', ['10.0.0.1', '2001:db8:cafe::17']],
    ['for="192.0.2.43:47011"', '192.0.2.43', ['10.0.0.1', '192.0.2.43']],
    ['for="[2001:db8::1]:_obf", for="[2001:DB8::2]"', '2001:db8::1', ['10.0.0.1', '2001:db8::2', '2001:db8::1']],
    ['for=192.0.2.43;by=_x', '192.0.2.43', ['10.0.0.1', '192.0.2.43']],
    ['for="[::ffff:198.51.100.9]"', '198.51.100.9', ['10.0.0.1', '198.51.100.9']],
    ['for=10.0.0.9, for=10.0.0.8', '10.0.0.9', ['10.0.0.1', '10.0.0.8', '10.0.0.9']]
  ]
  for (const [header, ip, ips] of cases) {
    const seen = await ask(app, '10.0.0.1', { forwarded: header })
    t.equal(seen.ip, ip, header)
    t.same(seen.ips, ips, header)
  }
  const hops = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true, hops: 2 })
  t.equal((await ask(hops, '10.0.0.1', { forwarded: 'for=192.0.2.1, for=10.0.0.3, for=10.0.0.2' })).ip, '10.0.0.3')
  const calls: Array<[string, number]> = []
  const fn = await build({ trustedProxies: (address, hop) => { calls.push([address, hop]); return address.startsWith('10.') }, forwarded: true })
  t.equal((await ask(fn, '10.0.0.1', { forwarded: 'for=192.0.2.1, for=10.0.0.3, for=10.0.0.2' })).ip, '192.0.2.1')
  t.same(calls, [['10.0.0.1', 0], ['10.0.0.2', 1], ['10.0.0.3', 2]])
})

t.test('host and proto come from the element that names the client', async (t) => {
  const app = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true })
  const cases: Array<[string, string, string, string]> = [
    // [header, ip, hostname, protocol]
    ['for=192.0.2.60;host=shop.example;proto=https', '192.0.2.60', 'shop.example', 'https'],
    ['for=192.0.2.60;host="shop.example:8443";proto=HTTPS', '192.0.2.60', 'shop.example', 'https'],
    ['for=192.0.2.60;host=a.example;proto=https, for=10.0.0.2;host=inner.internal;proto=http', '192.0.2.60', 'a.example', 'https'],
    ['for=192.0.2.60;host=a.example, for=198.51.100.1;host=b.example;proto=https', '198.51.100.1', 'b.example', 'https'],
    ['for=unknown;host=hidden.example;proto=https', '10.0.0.1', 'app.internal', 'http'],
    ['for=192.0.2.60', '192.0.2.60', 'app.internal', 'http']
  ]
  for (const [header, ip, hostname, protocol] of cases) {
    const seen = await ask(app, '10.0.0.1', { forwarded: header })
    t.same([seen.ip, seen.hostname, seen.protocol], [ip, hostname, protocol], header)
  }
  const port = await ask(app, '10.0.0.1', { forwarded: 'for=192.0.2.60;host="[2001:db8::1]:8443"' })
  t.same([port.host, port.hostname, port.port], ['[2001:db8::1]:8443', '[2001:db8::1]', 8443])
})

t.test('X-Forwarded-For/Host/Proto are ignored entirely; port and prefix headers still apply', async (t) => {
  const app = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true, headers: { port: 'x-forwarded-port', prefix: 'x-forwarded-prefix' } })
  const seen = await ask(app, '10.0.0.1', {
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'https',
    'x-forwarded-port': '8443',
    'x-forwarded-prefix': '/app'
  })
  t.same([seen.ip, seen.hostname, seen.protocol, seen.port, seen.forwardedPrefix], ['10.0.0.1', 'app.internal', 'http', 8443, '/app'])
  const both = await ask(app, '10.0.0.1', { forwarded: 'for=192.0.2.1;host=shop.example', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-port': '8443' })
  t.same([both.ip, both.host, both.port], ['192.0.2.1', 'shop.example:8443', 8443])
})

/** A header as a test name: long ones cut. */
function short (header: string): string {
  return header.length > 80 ? `${header.slice(0, 60)}… (${header.length} characters)` : header
}

t.test('unknown, obfuscated names and elements without for end the walk without a 400', async (t) => {
  const reject = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true, onInvalid: 'reject' })
  const cases: Array<[string, string, string[]]> = [
    ['for=unknown', '10.0.0.1', ['10.0.0.1']],
    ['for=UNKNOWN', '10.0.0.1', ['10.0.0.1']],
    ['for="unknown:8080"', '10.0.0.1', ['10.0.0.1']],
    ['for=_hidden', '10.0.0.1', ['10.0.0.1']],
    ['for="_hidden:_port"', '10.0.0.1', ['10.0.0.1']],
    ['for=_gazonk, for=10.0.0.2', '10.0.0.2', ['10.0.0.1', '10.0.0.2']],
    ['for=192.0.2.1, by=10.0.0.2;proto=https', '10.0.0.1', ['10.0.0.1']],
    ['for=192.0.2.1, for=unknown, for=10.0.0.2', '10.0.0.2', ['10.0.0.1', '10.0.0.2']],
    ['for=192.0.2.1,,for=10.0.0.2', '10.0.0.2', ['10.0.0.1', '10.0.0.2']],
    // long names take the native scan
    [`for=_${'a.b-c_9'.repeat(2000)}, for=10.0.0.2`, '10.0.0.2', ['10.0.0.1', '10.0.0.2']],
    [`for="_${'a.b\\-c_9'.repeat(1000)}:_${'p'.repeat(100)}", for=10.0.0.2`, '10.0.0.2', ['10.0.0.1', '10.0.0.2']]
  ]
  for (const [header, ip, ips] of cases) {
    const seen = await ask(reject, '10.0.0.1', { forwarded: header })
    t.same([seen.ip, seen.ips], [ip, ips], short(header))
  }
})

t.test('malformed values: ignored (header treated as absent) or 400', async (t) => {
  const ignore = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true })
  const reject = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true, onInvalid: 'reject' })
  const syntax = ['for="192.0.2.1', 'for=192.0.2.1;;proto=http', 'for', 'for=[2001:db8::1]', 'for=1.2.3.4;for=5.6.7.8',
    'for=1.2.3.4; proto=http', 'for=1.2.3.4;proto=http\u0001', 'for=1.2.3.4;host=a;HOST=b']
  for (const header of syntax) {
    const seen = await ask(ignore, '10.0.0.1', { forwarded: header + ';host=evil.example' })
    t.same([seen.ip, seen.hostname], ['10.0.0.1', 'app.internal'], `ignored ${JSON.stringify(header)}`)
    const refused = await ask(reject, '10.0.0.1', { forwarded: header })
    t.equal(refused.statusCode, 400, `refused ${JSON.stringify(header)}`)
    t.match(refused.body.message, /^Invalid forwarded header from a trusted proxy/)
  }
  const values: Array<[string, string]> = [
    ['for=garbage', '10.0.0.1'],
    ['for="2001:db8::1"', '10.0.0.1'],
    ['for="[1.2.3.4]"', '10.0.0.1'],
    ['for="010.0.0.1"', '10.0.0.1'],
    ['for="unknown:0"', '10.0.0.1'],
    ['for="_x:y"', '10.0.0.1'],
    ['for="[fe80::1%25eth0]"', '10.0.0.1'],
    ['for=192.0.2.1, for=bogus, for=10.0.0.2', '10.0.0.2'],
    [`for=192.0.2.1, for=_${'a'.repeat(5000)}!, for=10.0.0.2`, '10.0.0.2'],
    ['for=192.0.2.1;host="a/b"', '192.0.2.1'],
    ['for=192.0.2.1;host=""', '192.0.2.1'],
    ['for=192.0.2.1;proto=ftp', '192.0.2.1']
  ]
  for (const [header, ip] of values) {
    const seen = await ask(ignore, '10.0.0.1', { forwarded: header })
    t.equal(seen.ip, ip, `ignored ${short(header)}`)
    t.equal(seen.hostname, 'app.internal')
    t.equal(seen.protocol, 'http')
    t.equal((await ask(reject, '10.0.0.1', { forwarded: header })).statusCode, 400, `refused ${short(header)}`)
  }
  t.equal((await ask(reject, '10.0.0.1', { forwarded: 'for=bogus, for=192.0.2.1' })).ip, '192.0.2.1', 'only what the walk reaches is judged')
  // A bad host or proto is judged in the client's element only, on its own, as X-Forwarded-Host and -Proto are.
  const proxyProto = await ask(reject, '10.0.0.1', { forwarded: 'for=198.51.100.1, for=10.0.0.2;proto=wss;host="a b"' })
  t.same([proxyProto.ip, proxyProto.protocol], ['198.51.100.1', 'http'], 'host and proto of a proxy\'s element are not read (no 400)')
  const clientProto = await ask(ignore, '10.0.0.1', { forwarded: 'for=203.0.113.7;proto=wss;host=shop.example' })
  t.same([clientProto.ip, clientProto.hostname, clientProto.protocol], ['203.0.113.7', 'shop.example', 'http'],
    'a bad proto is not taken; the client and a good host are')
  // An empty element, like one without for, names no address: the walk ends, no 400.
  for (const header of ['', ' ', 'for=192.0.2.1, ', 'proto=https']) {
    const seen = await ask(reject, '10.0.0.1', { forwarded: header })
    t.same([seen.ip, seen.protocol], ['10.0.0.1', 'http'], `no address in ${JSON.stringify(header)}`)
  }
})

t.test('a quoted Forwarded host may hold an RFC 3986 sub-delimiter, a comma too', async (t) => {
  const reject = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true, onInvalid: 'reject' })
  for (const [header, host, port] of [
    ['for=192.0.2.1;host="a,b"', 'a,b', null],
    ['for=192.0.2.1;host="a,b:8443", for=10.0.0.2', 'a,b', 8443],
    ["for=192.0.2.1;host=\"x!$&'()*+;=y\"", "x!$&'()*+;=y", null],
    ['for=192.0.2.1;host="a\\,b"', 'a,b', null]
  ] as Array<[string, string, number | null]>) {
    const seen = await ask(reject, '10.0.0.1', { forwarded: header })
    t.same([seen.ip, seen.hostname, seen.port], ['192.0.2.1', host, port], header)
  }
})

t.test('untrusted peers: Forwarded is never read nor refused', async (t) => {
  const reject = await build({ trustedProxies: ['10.0.0.0/8'], forwarded: true, onInvalid: 'reject' })
  for (const header of ['for=1.1.1.1;host=evil.example;proto=https', 'for="broken', 'for=garbage']) {
    const seen = await ask(reject, '192.0.2.9', { forwarded: header })
    t.same([seen.ip, seen.ips, seen.hostname, seen.protocol], ['192.0.2.9', ['192.0.2.9'], 'app.internal', 'http'])
  }
})
