// The core alone, without Fastify: what it returns for untrusted peers,
// repeated header lines as arrays, and a missing Host.
import t from 'tap'
import { normalizeOptions } from '../lib/options'
import { resolve } from '../lib/resolve'

t.test('untrusted or missing peers resolve to null (nothing read)', async (t) => {
  const config = normalizeOptions({ trustedProxies: '10.0.0.0/8' })
  t.equal(resolve(config, undefined, { 'x-forwarded-for': '1.1.1.1' }), null)
  t.equal(resolve(config, '192.0.2.1', { 'x-forwarded-for': '1.1.1.1' }), null)
  t.equal(resolve(config, 'not an address', {}), null)
  t.equal(resolve(config, '', {}), null)
})

t.test('peers with a zone id are matched on their address', async (t) => {
  const config = normalizeOptions({ trustedProxies: 'linklocal' })
  t.equal(resolve(config, 'fe80::1%eth0', { 'x-forwarded-for': '203.0.113.7' })?.ip, '203.0.113.7')
  t.equal(resolve(config, '2001:db8::1%eth0', {}), null)
  const seen: string[] = []
  const fn = normalizeOptions({ trustedProxies: (address: string) => { seen.push(address); return true } })
  t.same(resolve(fn, 'fe80::1%eth0', {})?.ips, ['fe80::1%eth0'], 'the peer is reported as the socket says')
  t.same(seen, ['fe80::1'])
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
  const config = normalizeOptions({ trustedProxies: 'loopback' })
  const r = resolve(config, '127.0.0.1', { 'x-forwarded-for': 'junk', 'x-forwarded-host': 'a/b' })
  t.same(r?.invalid, { header: 'x-forwarded-for', value: 'junk' })
  t.equal(r?.ip, '127.0.0.1')
})
