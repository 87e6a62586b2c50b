// clientIpHeader: a single address the trusted peer sets (CF-Connecting-IP, X-Real-IP, ...).
import t from 'tap'
import { ask, build } from './helpers'

t.test('the trusted peer names the client; the chain is not read', async (t) => {
  const app = await build({ trustedProxies: ['173.245.48.0/20', '2400:cb00::/32'], clientIpHeader: 'CF-Connecting-IP' })
  const cases: Array<[string, string, string | undefined]> = [
    ['173.245.48.1', '203.0.113.7', '203.0.113.7'],
    ['173.245.48.1', ' 203.0.113.7\t', '203.0.113.7'],
    ['173.245.48.1', '203.0.113.7:4711', '203.0.113.7'],
    ['173.245.48.1', '2001:DB8::1', '2001:db8::1'],
    ['173.245.48.1', '[2001:db8::1]:443', '2001:db8::1'],
    ['173.245.48.1', '::ffff:203.0.113.7', '203.0.113.7'],
    ['2400:cb00::1', '198.51.100.3', '198.51.100.3']
  ]
  for (const [peer, value, ip] of cases) {
    const seen = await ask(app, peer, { 'cf-connecting-ip': value, 'x-forwarded-for': '6.6.6.6' })
    t.equal(seen.ip, ip, `${peer} says ${JSON.stringify(value)}`)
    t.same(seen.ips, [peer, ip])
    t.equal(seen.originalIp, peer)
  }
  const absent = await ask(app, '173.245.48.1', { 'x-forwarded-for': '6.6.6.6' })
  t.same([absent.ip, absent.ips], ['173.245.48.1', ['173.245.48.1']], 'absent: the client is the peer')
  const spoofed = await ask(app, '203.0.113.9', { 'cf-connecting-ip': '1.1.1.1' })
  t.same([spoofed.ip, spoofed.ips], ['203.0.113.9', ['203.0.113.9']], 'an untrusted peer cannot name a client')
})

t.test('a list, text or an empty value is malformed', async (t) => {
  const ignore = await build({ trustedProxies: 'loopback', clientIpHeader: 'x-real-ip' })
  const reject = await build({ trustedProxies: 'loopback', clientIpHeader: 'x-real-ip', onInvalid: 'reject' })
  for (const value of ['203.0.113.7, 198.51.100.1', '203.0.113.7,198.51.100.1', 'unknown', '', ' ', '010.1.1.1', 'fe80::1%eth0', '1.2.3.4:0', '_hidden']) {
    const seen = await ask(ignore, '127.0.0.1', { 'x-real-ip': value })
    t.same([seen.ip, seen.ips], ['127.0.0.1', ['127.0.0.1']], `ignored ${JSON.stringify(value)}`)
    const refused = await ask(reject, '127.0.0.1', { 'x-real-ip': value })
    t.equal(refused.statusCode, 400)
    t.match(refused.body.message, /^Invalid x-real-ip header from a trusted proxy/)
    t.equal((await ask(reject, '192.0.2.1', { 'x-real-ip': value })).ip, '192.0.2.1', 'untrusted: never refused')
  }
})

t.test('host and protocol still come from the X-Forwarded headers of the trusted peer', async (t) => {
  const app = await build({ trustedProxies: 'loopback', clientIpHeader: 'x-real-ip' })
  const seen = await ask(app, '127.0.0.1', { 'x-real-ip': '203.0.113.7', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https' })
  t.same([seen.ip, seen.hostname, seen.protocol], ['203.0.113.7', 'shop.example', 'https'])
})
