// Contract, "How the client is found", rules 1-4 and 6: one table per rule.
import t from 'tap'
import { ask, build } from './helpers'

const XFF = 'x-forwarded-for'

t.test('rule 1: an untrusted peer changes nothing, whatever it sends', async (t) => {
  for (const onInvalid of ['ignore', 'reject'] as const) {
    const app = await build({ trustedProxies: ['10.0.0.0/8'], onInvalid, headers: { port: 'x-forwarded-port', prefix: 'x-forwarded-prefix' } })
    const forged = {
      [XFF]: '1.1.1.1, 10.0.0.1',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-forwarded-prefix': '/admin'
    }
    const malformed = { [XFF]: 'not an ip', 'x-forwarded-host': 'a/b', 'x-forwarded-proto': 'gopher', 'x-forwarded-port': '0', 'x-forwarded-prefix': '//x' }
    for (const headers of [forged, malformed, {}]) {
      t.same(await ask(app, '203.0.113.9', headers), {
        ip: '203.0.113.9',
        ips: ['203.0.113.9'],
        host: 'app.internal:3000',
        hostname: 'app.internal',
        port: 3000,
        protocol: 'http',
        forwardedPrefix: '',
        originalIp: '203.0.113.9',
        originalHost: 'app.internal:3000'
      }, `${onInvalid}: ${JSON.stringify(headers)}`)
    }
    // An untrusted IPv4-mapped peer is reported as the socket says.
    t.equal((await ask(app, '::ffff:203.0.113.9', forged)).ip, '::ffff:203.0.113.9')
  }
})

t.test('rule 2: walk from the right, step over trusted proxies, stop at the first untrusted entry', async (t) => {
  const app = await build({ trustedProxies: ['10.0.0.0/8', '2001:db8::/32'] })
  const cases: Array<[string, string | undefined, string, string[]]> = [
    ['10.0.0.1', undefined, '10.0.0.1', ['10.0.0.1']],
    ['10.0.0.1', '203.0.113.7', '203.0.113.7', ['10.0.0.1', '203.0.113.7']],
    ['10.0.0.1', '203.0.113.7, 10.0.0.2', '203.0.113.7', ['10.0.0.1', '10.0.0.2', '203.0.113.7']],
    ['10.0.0.1', '6.6.6.6, 203.0.113.7, 10.0.0.2', '203.0.113.7', ['10.0.0.1', '10.0.0.2', '203.0.113.7']],
    ['10.0.0.1', '10.0.0.4, 10.0.0.3, 10.0.0.2', '10.0.0.4', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']],
    ['10.0.0.1', '198.51.100.1,10.0.0.2', '198.51.100.1', ['10.0.0.1', '10.0.0.2', '198.51.100.1']],
    ['10.0.0.1', '198.51.100.1 ,\t10.0.0.2 ', '198.51.100.1', ['10.0.0.1', '10.0.0.2', '198.51.100.1']],
    ['10.0.0.1', '2001:db8::9, 2001:db9::1', '2001:db9::1', ['10.0.0.1', '2001:db9::1']],
    ['2001:db8::1', '203.0.113.7, 2001:db8::2', '203.0.113.7', ['2001:db8::1', '2001:db8::2', '203.0.113.7']]
  ]
  for (const [peer, chain, ip, ips] of cases) {
    const seen = await ask(app, peer, chain === undefined ? {} : { [XFF]: chain })
    t.equal(seen.ip, ip, `${peer} + ${chain}: ip`)
    t.same(seen.ips, ips, `${peer} + ${chain}: ips`)
    t.equal(seen.originalIp, peer)
  }
})

t.test('rule 2: hops caps how many proxies are trusted, counting the peer', async (t) => {
  const chain = { [XFF]: '203.0.113.7, 10.0.0.3, 10.0.0.2' }
  const expected: Array<[number, string]> = [[1, '10.0.0.2'], [2, '10.0.0.3'], [3, '203.0.113.7'], [10, '203.0.113.7']]
  for (const [hops, ip] of expected) {
    const app = await build({ trustedProxies: '10.0.0.0/8', hops })
    t.equal((await ask(app, '10.0.0.1', chain)).ip, ip, `hops ${hops}`)
  }
  // hops never makes an untrusted peer trusted.
  const app = await build({ trustedProxies: '10.0.0.0/8', hops: 5 })
  t.equal((await ask(app, '192.0.2.1', chain)).ip, '192.0.2.1')
})

t.test('rule 2: a trust function gets the canonical address and the hop', async (t) => {
  const calls: Array<[string, number]> = []
  const app = await build({
    trustedProxies: (address, hop) => {
      calls.push([address, hop])
      return address !== '203.0.113.7' && address !== '2001:db8::7'
    }
  })
  t.equal((await ask(app, '::ffff:127.0.0.1', { [XFF]: '203.0.113.7, [::FFFF:10.0.0.3]:80, 10.0.0.2:9000' })).ip, '203.0.113.7')
  t.same(calls, [['127.0.0.1', 0], ['10.0.0.2', 1], ['10.0.0.3', 2]])
  t.equal((await ask(app, '127.0.0.1', { [XFF]: '2001:0DB8:0::7' })).ip, '2001:db8::7')
  const strict = await build({ trustedProxies: () => 'yes' as unknown as boolean })
  t.equal((await ask(strict, '127.0.0.1', { [XFF]: '1.1.1.1' })).ip, '127.0.0.1', 'only `true` trusts')
})

t.test('rule 3: ports are dropped, IPv4-mapped IPv6 matches IPv4 ranges, canonical output', async (t) => {
  const app = await build({ trustedProxies: ['loopback', '10.0.0.0/8'] })
  const cases: Array<[string, string, string, string[]]> = [
    ['127.0.0.1', '203.0.113.7:4711', '203.0.113.7', ['127.0.0.1', '203.0.113.7']],
    ['127.0.0.1', '[2001:DB8::1]:4711', '2001:db8::1', ['127.0.0.1', '2001:db8::1']],
    ['127.0.0.1', '[2001:db8::1]', '2001:db8::1', ['127.0.0.1', '2001:db8::1']],
    ['127.0.0.1', '2001:0db8:0000::0001', '2001:db8::1', ['127.0.0.1', '2001:db8::1']],
    ['127.0.0.1', '::ffff:203.0.113.7', '203.0.113.7', ['127.0.0.1', '203.0.113.7']],
    ['127.0.0.1', '203.0.113.7, ::ffff:10.0.0.2', '203.0.113.7', ['127.0.0.1', '10.0.0.2', '203.0.113.7']],
    ['::ffff:127.0.0.1', '203.0.113.7', '203.0.113.7', ['::ffff:127.0.0.1', '203.0.113.7']],
    ['::1', '203.0.113.7', '203.0.113.7', ['::1', '203.0.113.7']],
    ['127.0.0.1', '203.0.113.7, [::1]:8080', '203.0.113.7', ['127.0.0.1', '::1', '203.0.113.7']]
  ]
  for (const [peer, chain, ip, ips] of cases) {
    const seen = await ask(app, peer, { [XFF]: chain })
    t.equal(seen.ip, ip, `${peer} + ${chain}`)
    t.same(seen.ips, ips)
  }
})

t.test('rule 4: a non-address ends the walk; ignore keeps the last valid address, reject answers 400', async (t) => {
  const ignore = await build({ trustedProxies: ['10.0.0.0/8'] })
  const reject = await build({ trustedProxies: ['10.0.0.0/8'], onInvalid: 'reject' })
  const cases: Array<[string, string, string[], string]> = [
    // [chain, ip under ignore, ips under ignore, offending value]
    ['unknown', '10.0.0.1', ['10.0.0.1'], 'unknown'],
    ['', '10.0.0.1', ['10.0.0.1'], ''],
    ['203.0.113.7, garbage, 10.0.0.2', '10.0.0.2', ['10.0.0.1', '10.0.0.2'], 'garbage'],
    ['203.0.113.7, 10.0.0.3, ', '10.0.0.1', ['10.0.0.1'], ''],
    ['203.0.113.7,, 10.0.0.2', '10.0.0.2', ['10.0.0.1', '10.0.0.2'], ''],
    ['010.0.0.1', '10.0.0.1', ['10.0.0.1'], '010.0.0.1'],
    ['0x7f.0.0.1', '10.0.0.1', ['10.0.0.1'], '0x7f.0.0.1'],
    ['167772161', '10.0.0.1', ['10.0.0.1'], '167772161'],
    ['10.1', '10.0.0.1', ['10.0.0.1'], '10.1'],
    ['fe80::1%eth0', '10.0.0.1', ['10.0.0.1'], 'fe80::1%eth0'],
    ['1.2.3.4:0', '10.0.0.1', ['10.0.0.1'], '1.2.3.4:0'],
    ['[::1', '10.0.0.1', ['10.0.0.1'], '[::1'],
    ['<script>', '10.0.0.1', ['10.0.0.1'], '<script>']
  ]
  for (const [chain, ip, ips, bad] of cases) {
    const seen = await ask(ignore, '10.0.0.1', { [XFF]: chain })
    t.equal(seen.ip, ip, `ignore ${JSON.stringify(chain)}`)
    t.same(seen.ips, ips)
    const refused = await ask(reject, '10.0.0.1', { [XFF]: chain })
    t.equal(refused.statusCode, 400, `reject ${JSON.stringify(chain)}`)
    t.equal(refused.body.code, 'FST_PROXY_FIX_INVALID_HEADER')
    t.equal(refused.body.message, `Invalid x-forwarded-for header from a trusted proxy: "${bad.replace(/</g, '<')}"`)
  }
})

t.test('only what the walk reaches is judged', async (t) => {
  const reject = await build({ trustedProxies: ['10.0.0.0/8'], onInvalid: 'reject' })
  const seen = await ask(reject, '10.0.0.1', { [XFF]: 'garbage, 010.1.1.1, 203.0.113.7, 10.0.0.2' })
  t.equal(seen.ip, '203.0.113.7')
  const hops = await build({ trustedProxies: ['10.0.0.0/8'], onInvalid: 'reject', hops: 1 })
  t.equal((await ask(hops, '10.0.0.1', { [XFF]: 'garbage, 10.0.0.3' })).ip, '10.0.0.3')
})

t.test('headers.for: false reads no chain; custom names are case-insensitive', async (t) => {
  const off = await build({ trustedProxies: 'loopback', headers: { for: false } })
  const seen = await ask(off, '127.0.0.1', { [XFF]: '203.0.113.7', 'x-forwarded-proto': 'https' })
  t.equal(seen.ip, '127.0.0.1')
  t.same(seen.ips, ['127.0.0.1'])
  t.equal(seen.protocol, 'https', 'host and proto still come from the trusted peer')
  const custom = await build({ trustedProxies: 'loopback', headers: { for: 'X-Client-Chain' } })
  t.equal((await ask(custom, '127.0.0.1', { 'x-client-chain': '203.0.113.7', [XFF]: '198.51.100.1' })).ip, '203.0.113.7')
})

t.test('a huge chain of trusted hops is walked to the leftmost entry', async (t) => {
  const app = await build({ trustedProxies: '10.0.0.0/8' })
  const hops = Array.from({ length: 1000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`)
  const seen = await ask(app, '10.0.0.1', { [XFF]: ['203.0.113.7', ...hops].join(', ') })
  t.equal(seen.ip, '203.0.113.7')
  t.equal(seen.ips.length, 1002)
  const commas = await ask(app, '10.0.0.1', { [XFF]: ','.repeat(8000) })
  t.equal(commas.ip, '10.0.0.1')
})
