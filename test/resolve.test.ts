// The core alone, without Fastify: what it returns for untrusted peers,
// repeated header lines as arrays, and a missing Host.
import t from 'tap'
import { normalizeOptions } from '../lib/options'
import { resolve } from '../lib/resolve'

t.test('untrusted peers resolve to themselves, nothing read; no peer resolves to null', async (t) => {
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8' })
  t.equal(resolve(config, undefined, { 'x-forwarded-for': '1.1.1.1' }), null)
  for (const peer of ['192.0.2.1', 'not an address', '', '::ffff:192.0.2.1']) {
    const r = resolve(config, peer, { 'x-forwarded-for': '1.1.1.1', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'bogus' })
    t.same([r?.trusted, r?.ip, r?.ips, r?.host, r?.protocol, r?.invalid, r?.stop], [false, peer, [peer], null, null, null, null], JSON.stringify(peer))
  }
})

t.test('peers with a zone id are matched on their address', async (t) => {
  const config = normalizeOptions({ trustedProxies: 'linklocal' })
  t.equal(resolve(config, 'fe80::1%eth0', { 'x-forwarded-for': '203.0.113.7' })?.ip, '203.0.113.7')
  t.equal(resolve(config, '2001:db8::1%eth0', {})?.trusted, false)
  const seen: string[] = []
  const fn = normalizeOptions({ trustedProxies: (address: string) => { seen.push(address); return true } })
  const zoned = resolve(fn, 'fe80::1%eth0', {})
  t.same([zoned?.ips, zoned?.trusted], [['fe80::1%eth0'], true], 'the peer is reported as the socket says')
  t.same(seen, ['fe80::1'])
})

t.test('a listed proxy is trusted in every spelling of its address, and an address next to it is not', async (t) => {
  // A peer spelled as Node spells it is found by its text; any other spelling is parsed.
  const config = normalizeOptions({ trustedProxies: ['10.0.0.1', '2001:db8::1', '198.51.100.0/24'] })
  const trustedPeers = ['10.0.0.1', '::ffff:10.0.0.1', '::FFFF:10.0.0.1', '::ffff:a00:1', '0:0:0:0:0:ffff:10.0.0.1',
    '2001:db8::1', '2001:DB8::1', '2001:db8:0:0:0:0:0:1', '2001:db8::1%eth0', '198.51.100.0', '198.51.100.9', '::ffff:198.51.100.9']
  for (const peer of trustedPeers) t.equal(resolve(config, peer, { 'x-forwarded-for': '203.0.113.7' })?.ip, '203.0.113.7', peer)
  const untrustedPeers = ['10.0.0.0', '10.0.0.2', '::ffff:10.0.0.2', '2001:db8::', '2001:db8::2', '198.51.101.0', '010.0.0.1', '10.0.0.1 ', '::10.0.0.1']
  for (const peer of untrustedPeers) t.equal(resolve(config, peer, { 'x-forwarded-for': '203.0.113.7' })?.ip, peer, peer)
})

t.test('header values given as arrays are read as joined lines', async (t) => {
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8' })
  const r = resolve(config, '10.0.0.1', { 'x-forwarded-for': ['6.6.6.6', '203.0.113.7, 10.0.0.2'], 'x-forwarded-host': ['a.example', 'b.example'] })
  t.same(r?.ips, ['10.0.0.1', '10.0.0.2', '203.0.113.7'])
  t.equal(r?.hostname, 'b.example')
})

t.test('a forwarded port without any Host gives an empty hostname', async (t) => {
  const config = normalizeOptions({ trustedProxies: 'loopback', headers: { port: 'x-forwarded-port' } })
  const r = resolve(config, '127.0.0.1', { 'x-forwarded-port': '443' })
  t.same([r?.host, r?.hostname, r?.port], [':443', '', 443])
  const h2 = resolve(config, '127.0.0.1', { ':authority': 'h2.example:8443', 'x-forwarded-port': '443' })
  t.same([h2?.host, h2?.hostname, h2?.port], ['h2.example:443', 'h2.example', 443])
  const v6 = resolve(config, '127.0.0.1', { host: '[::1]', 'x-forwarded-port': '443' })
  t.same([v6?.host, v6?.hostname], ['[::1]:443', '[::1]'])
})

t.test('the first malformed value is recorded even when ignored', async (t) => {
  t.equal(resolve(normalizeOptions({ trustedProxies: 'loopback' }), '127.0.0.1', {})?.trusted, true)
  const config = normalizeOptions({ trustedProxies: 'loopback' })
  const r = resolve(config, '127.0.0.1', { 'x-forwarded-for': 'junk', 'x-forwarded-host': 'a/b' })
  t.same(r?.invalid, { header: 'x-forwarded-for', value: 'junk' })
  t.equal(r?.ip, '127.0.0.1')
})

t.test('long runs of spaces and tabs, and long values, read exactly as short ones', async (t) => {
  // Runs longer than a few characters and hosts longer than 64 are scanned
  // natively (regular expressions, indexOf): same grammar, other code.
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8' })
  const pad = (n: number): string => ' \t'.repeat(n).slice(0, n)
  const via = (headers: Record<string, string>): ReturnType<typeof resolve> => resolve(config, '10.0.0.1', headers)
  for (const n of [0, 1, 8, 9, 40, 16000]) {
    const name = `${n} spaces`
    t.equal(via({ 'x-forwarded-for': `${pad(n)}203.0.113.7${pad(n)},${pad(n)}10.1.2.3${pad(n)}` })?.ip, '203.0.113.7', name)
    t.same(via({ 'x-forwarded-for': `${pad(n)}203.0.113.7:80${pad(n)},${pad(n)}[::ffff:10.1.2.3]${pad(n)}` })?.ips, ['10.0.0.1', '10.1.2.3', '203.0.113.7'], name)
    t.equal(via({ 'x-forwarded-for': `203.0.113.7,${pad(n)}10.1.2.3` })?.ip, '203.0.113.7', `${name} before the last entry only`)
    const blank = via({ 'x-forwarded-for': `203.0.113.7,${pad(n)}, 10.1.2.3` })
    t.same([blank?.ip, blank?.invalid], ['10.1.2.3', { header: 'x-forwarded-for', value: '' }], name)
    const inner = via({ 'x-forwarded-for': `1.2.3.4 x${pad(n)}, 10.1.2.3` })
    t.same([inner?.ip, inner?.invalid?.value], ['10.1.2.3', '1.2.3.4 x'], name)
    const words = via({ 'x-forwarded-for': `a b\tc d${pad(n)}` })
    t.same([words?.ip, words?.invalid?.value], ['10.0.0.1', 'a b\tc d'], name)
    const nbsp = via({ 'x-forwarded-for': `a b c\u00a0${pad(n)}` })
    t.same([nbsp?.ip, nbsp?.invalid?.value], ['10.0.0.1', 'a b c\u00a0'], `${name}: other white space is not a space`)
    t.equal(via({ 'x-forwarded-host': `a.example,${pad(n)}b.example${pad(n)}` })?.host, 'b.example', name)
    t.equal(via({ 'x-forwarded-proto': `${pad(n)}https${pad(n)}` })?.protocol, 'https', name)
  }
  const long = 'a'.repeat(70) + '.example'
  for (const [host, valid] of [
    [long, true], [`${long}:8443`, true], [`${long}%41`, true], [`${long}%4`, false], [`${long}/x`, false], [`${long} x`, false],
    [`[v1.${'a'.repeat(80)}]`, true], [`[v1.${'a'.repeat(80)}/]`, false], [`[${':'.repeat(80)}`, false]
  ] as const) {
    const r = via({ 'x-forwarded-host': host })
    t.equal(r?.host, valid ? host : null, host.slice(60))
    t.equal(r?.invalid !== null, !valid)
  }
  t.equal(via({ 'x-forwarded-for': `[${':'.repeat(16000)}` })?.invalid?.header, 'x-forwarded-for', 'no closing bracket')
  t.equal(via({ 'x-forwarded-for': '[::1, 2001:db8::1]' })?.ip, '10.0.0.1', 'a bracket closed in another element')
})

t.test('request.ips lists the entries the walk stepped over, and why it stopped', async (t) => {
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8', hops: 2 })
  const r = resolve(config, '10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7:1, 10.0.0.3 , [::ffff:10.0.0.2]:9' })
  t.equal(r?.ip, '10.0.0.3', 'hops: 2 makes the second entry the client')
  t.equal(r?.stop, 'hops')
  const ips = r?.ips
  t.same(ips, ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
  t.not(r?.ips, ips, 'a new array on each read')
  ips?.reverse()
  ips?.push('6.6.6.6')
  t.same(r?.ips, ['10.0.0.1', '10.0.0.2', '10.0.0.3'], 'changing one changes nothing for the next read')
  t.equal(r?.ip, '10.0.0.3')
  const none = resolve(config, '10.0.0.1', {})
  t.same([none?.ips, none?.stop], [['10.0.0.1'], null])
  const stops: Array<[string, string, string]> = [
    ['6.6.6.6, 203.0.113.7, 10.0.0.3', 'untrusted', '203.0.113.7'],
    ['10.0.0.3', 'leftmost', '10.0.0.3'],
    ['junk, 10.0.0.3', 'malformed', '10.0.0.3']
  ]
  for (const [chain, stop, ip] of stops) {
    const s = resolve(normalizeOptions({ trustedProxies: '10.0.0.0/8' }), '10.0.0.1', { 'x-forwarded-for': chain })
    t.same([s?.stop, s?.ip], [stop, ip], chain)
  }
  const hidden = resolve(normalizeOptions({ trustedProxies: '10.0.0.0/8', forwarded: true }), '10.0.0.1', { forwarded: 'for=1.2.3.4, for=unknown, for=10.0.0.3' })
  t.same([hidden?.stop, hidden?.ip], ['hidden', '10.0.0.3'])
  const header = normalizeOptions({ trustedProxies: '10.0.0.0/8', clientIpHeader: 'x-real-ip' })
  t.same(resolve(header, '10.0.0.1', { 'x-real-ip': '203.0.113.7' })?.ips, ['10.0.0.1', '203.0.113.7'])
  t.same(resolve(header, '10.0.0.1', {})?.ips, ['10.0.0.1'])
  const seen: string[] = []
  const fn = normalizeOptions({ trustedProxies: (address: string, hop: number) => { seen.push(`${address}@${hop}`); return address.startsWith('10.') } })
  const viaFn = resolve(fn, '10.0.0.1', { 'x-forwarded-for': '203.0.113.7, ::ffff:10.0.0.2' })
  t.same([viaFn?.ip, viaFn?.ips, seen], ['203.0.113.7', ['10.0.0.1', '10.0.0.2', '203.0.113.7'], ['10.0.0.1@0', '10.0.0.2@1']], 'the leftmost entry is the client without asking')
})

t.test('hosts read one after another never mix', async (t) => {
  const config = normalizeOptions({ trustedProxies: 'loopback' })
  const host = (value: string): unknown[] => {
    const r = resolve(config, '127.0.0.1', { 'x-forwarded-host': value })
    return [r?.host ?? null, r?.hostname ?? null, r?.port ?? null, r?.invalid?.value ?? null]
  }
  t.same(host('a.example:81'), ['a.example:81', 'a.example', 81, null])
  t.same(host(['a.example', '81'].join(':')), ['a.example:81', 'a.example', 81, null], 'an equal value built elsewhere')
  t.same(host('a.example:82'), ['a.example:82', 'a.example', 82, null])
  t.same(host('a.example:81, b.example'), ['b.example', 'b.example', null, null], 'a list element is read on its own')
  t.same(host('b.example'), ['b.example', 'b.example', null, null])
  t.same(host('a.example:0'), [null, null, null, 'a.example:0'])
  t.same(host('a.example:0'), [null, null, null, 'a.example:0'])
  t.same(host('[::1]'), ['[::1]', '[::1]', null, null])
  t.same(host(''), [null, null, null, ''], 'an empty host is malformed')
})

t.test('what one resolution leaves behind never changes the next one', async (t) => {
  const forwarded = normalizeOptions({ trustedProxies: 'loopback', forwarded: true })
  const listed = normalizeOptions({ trustedProxies: 'loopback' })
  const hostOf = (value: string): string | null | undefined => resolve(listed, '127.0.0.1', { 'x-forwarded-host': value })?.host
  t.equal(hostOf('a.example,b.example'), 'b.example')
  // A quoted Forwarded host may hold a comma: it is valid there, but must not
  // be remembered as a whole X-Forwarded-Host value.
  t.equal(resolve(forwarded, '127.0.0.1', { forwarded: 'for=1.2.3.4;host="a.example,b.example"' })?.host, 'a.example,b.example')
  t.equal(hostOf('a.example,b.example'), 'b.example', 'still the rightmost element')

  // A trust function that resolves another request in the middle of the walk.
  const audit = normalizeOptions({ trustedProxies: 'loopback' })
  const reentrant = normalizeOptions({
    trustedProxies: (address: string) => {
      resolve(audit, '127.0.0.1', { 'x-forwarded-for': '9.9.9.9, 8.8.8.8', forwarded: 'for=7.7.7.7' })
      return address === '127.0.0.1' || address.startsWith('10.')
    }
  })
  const r = resolve(reentrant, '127.0.0.1', { 'x-forwarded-for': '6.6.6.6,junk, 10.0.0.2' })
  t.same([r?.ip, r?.ips, r?.invalid?.value], ['10.0.0.2', ['127.0.0.1', '10.0.0.2'], 'junk'])
  const reentrantForwarded = normalizeOptions({ trustedProxies: (reentrant as { trustFunction: (a: string, h: number) => boolean }).trustFunction, forwarded: true })
  const f = resolve(reentrantForwarded, '127.0.0.1', { forwarded: 'for=6.6.6.6;host=a.example, for=10.0.0.2;host=b.example, for=10.0.0.3' })
  t.same([f?.ip, f?.ips, f?.host], ['6.6.6.6', ['127.0.0.1', '10.0.0.3', '10.0.0.2', '6.6.6.6'], 'a.example'])
})

t.test('Forwarded: the trust function is asked about the client unless it is the header\'s leftmost element', async (t) => {
  const calls: string[] = []
  const config = normalizeOptions({ trustedProxies: (address: string, hop: number) => { calls.push(`${address}@${hop}`); return address === '127.0.0.1' }, forwarded: true })
  for (const [value, expected] of [
    ['for=1.2.3.4', ['127.0.0.1@0']],
    [',for=1.2.3.4', ['127.0.0.1@0', '1.2.3.4@1']],
    ['by=x, for=1.2.3.4', ['127.0.0.1@0', '1.2.3.4@1']],
    ['for=5.6.7.8, for=1.2.3.4', ['127.0.0.1@0', '1.2.3.4@1']]
  ] as const) {
    calls.length = 0
    t.equal(resolve(config, '127.0.0.1', { forwarded: value })?.ip, '1.2.3.4', value)
    t.same(calls, expected, value)
  }
})

t.test('long chains, prefixes and escapes together', async (t) => {
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8', headers: { prefix: 'x-forwarded-prefix' } })
  const run = ' '.repeat(2000)
  const chain = `198.51.100.9,${run}10.0.0.3,${run}10.0.0.2`
  for (const prefix of ['/' + 'a'.repeat(100), '/' + 'b'.repeat(3000)]) {
    const r = resolve(config, '10.0.0.1', { 'x-forwarded-for': chain, 'x-forwarded-prefix': prefix })
    t.same([r?.ip, r?.prefix, r?.ips], ['198.51.100.9', prefix, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '198.51.100.9']], `prefix of ${prefix.length}`)
  }
  const forwarded = normalizeOptions({ trustedProxies: '10.0.0.0/8', forwarded: true })
  const escaped = '\\_'.repeat(200)
  const header = `for=198.51.100.9,${run}for="_${escaped}",${run}for=10.0.0.2`
  const r = resolve(forwarded, '10.0.0.1', { forwarded: header })
  t.same([r?.ip, r?.ips], ['10.0.0.2', ['10.0.0.1', '10.0.0.2']], 'an escaped name ends the walk; the header is intact')
})

t.test('a trust function that throws is not trust, and is recorded once', async (t) => {
  // ipaddr.js's match() throws on a family mismatch: one IPv6 client must not crash the app.
  let calls = 0
  const config = normalizeOptions({
    trustedProxies: (address: string) => {
      calls++
      if (address.includes(':')) throw new Error(`cannot match ${address}`)
      return address.startsWith('10.')
    }
  })
  const r = resolve(config, '10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 2001:db8::1, 10.0.0.2' })
  t.same([r?.ip, r?.ips, r?.stop], ['2001:db8::1', ['10.0.0.1', '10.0.0.2', '2001:db8::1'], 'untrusted'])
  t.match(r?.trustError, { message: 'cannot match 2001:db8::1' })
  const peer = resolve(config, '2001:db8::9', { 'x-forwarded-for': '6.6.6.6' })
  t.same([peer?.trusted, peer?.ip], [false, '2001:db8::9'], 'a peer it throws on is untrusted')
  t.match(peer?.trustError, { message: 'cannot match 2001:db8::9' })
  const returnsTruthy = normalizeOptions({ trustedProxies: (() => 1) as unknown as () => boolean })
  t.equal(resolve(returnsTruthy, '10.0.0.1', {})?.trusted, false, 'only true is trust')
  t.ok(calls > 0)
})

t.test('Forwarded is read from the right, only as far as the walk goes', async (t) => {
  // A client behind a proxy that appends to Forwarded writes what it likes to
  // the left of the proxy's element: it must change nothing.
  const config = normalizeOptions({ trustedProxies: 'loopback', forwarded: true, onInvalid: 'reject' })
  const proxy = 'for=203.0.113.7;proto=https;host=shop.example'
  for (const junk of ['for="', 'for=1.1.1.1;for=2.2.2.2', 'x=a b', ';;', 'for="a,b', '"', 'for=unknown', '\\"', 'a"b,c', 'for="\\"']) {
    const r = resolve(config, '127.0.0.1', { forwarded: `${junk}, ${proxy}` })
    t.same([r?.ip, r?.protocol, r?.host, r?.invalid], ['203.0.113.7', 'https', 'shop.example', null], junk)
  }
  // What the walk reaches is strict.
  for (const element of ['for=1.1.1.1;for=2.2.2.2', 'for=127.0.0.2;FOR=127.0.0.3', 'for=127.0.0.2;host=a;Host=b', 'x=a b', ';;', 'for="127.0.0.2']) {
    const r = resolve(config, '127.0.0.1', { forwarded: `for=6.6.6.6, ${element}` })
    t.same([r?.ip, r?.invalid?.header, r?.stop], ['127.0.0.1', 'forwarded', 'malformed'], element)
  }
  const trustedChain = resolve(config, '127.0.0.1', { forwarded: `for=9.9.9.9;proto=http, for=127.0.0.2;x=1;x=2, ${proxy.replace('203.0.113.7', '127.0.0.3')}` })
  t.same([trustedChain?.ip, trustedChain?.ips, trustedChain?.protocol], ['9.9.9.9', ['127.0.0.1', '127.0.0.3', '127.0.0.2', '9.9.9.9'], 'http'],
    'a repeated extension parameter is not looked for')
})

t.test('header names are read as own properties: nothing inherited, no throw', async (t) => {
  const config = normalizeOptions({ trustedProxies: 'loopback', headers: { port: 'x-forwarded-port', prefix: 'x-forwarded-prefix' } })
  const headers = Object.create({ 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example' }) as Record<string, string>
  const r = resolve(config, '127.0.0.1', headers)
  t.same([r?.ip, r?.host, r?.invalid], ['127.0.0.1', null, null])
  const odd = resolve(config, '127.0.0.1', { 'x-forwarded-for': 5 as unknown as string, 'x-forwarded-port': {} as unknown as string })
  t.same([odd?.ip, odd?.port, odd?.invalid], ['127.0.0.1', undefined, null], 'values that are neither strings nor arrays are absent')
})

t.test('a trust function may resolve other requests with the same configuration mid-walk', async (t) => {
  let depth = 0
  const inner: Array<string | undefined> = []
  const config = normalizeOptions({
    forwarded: true,
    trustedProxies: (address: string) => {
      if (depth < 2) {
        depth++
        // Another request, resolved with this very configuration, in the middle of this walk.
        inner.push(resolve(config, '10.0.0.1', { forwarded: 'for=9.9.9.9;proto=http, for="[2001:db8::7]"', host: 'other' })?.ip)
        depth--
      }
      return address.startsWith('10.')
    }
  })
  const r = resolve(config, '10.0.0.1', { forwarded: 'for=6.6.6.6;host=a.example;proto=https, for=10.0.0.2;host=b.example, for=10.0.0.3' })
  t.same([r?.ip, r?.ips, r?.host, r?.protocol], ['6.6.6.6', ['10.0.0.1', '10.0.0.3', '10.0.0.2', '6.6.6.6'], 'a.example', 'https'])
  t.ok(inner.length > 0)
  t.ok(inner.every((ip) => ip === '2001:db8::7'), 'and the inner requests resolved as alone')
})
