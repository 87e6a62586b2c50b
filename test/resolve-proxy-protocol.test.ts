// A PROXY header's source in the walk, without any server: the next hop after
// the peer, trusted like any other, then the forwarded headers of the mode.

import t from 'tap'
import { normalizeOptions, type ProxyFixOptions } from '../lib/options'
import { resolve } from '../lib/resolve'
import { createResolver } from '../lib/request'
import type { ProxyHeader } from '../lib/proxy-header'

const BALANCER = '10.0.0.1'

function header (source: string | null, extra: Partial<ProxyHeader> = {}): ProxyHeader {
  return {
    version: 2,
    command: 'proxy',
    source: source === null ? null : { address: source, port: 40000 },
    destination: source === null ? null : { address: '10.0.0.2', port: 443 },
    ssl: false,
    tlvs: [],
    ...extra
  }
}

function seen (options: ProxyFixOptions, proxy: ProxyHeader | null, headers: Record<string, string> = {}, peer = BALANCER): unknown {
  const r = resolve(normalizeOptions(options), peer, { host: 'shop.example', ...headers }, proxy)
  return { ip: r?.ip, ips: r?.ips, protocol: r?.protocol, host: r?.host, stop: r?.stop }
}

t.test('an untrusted source is the client: no forwarded header is read', async (t) => {
  const forged = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }
  t.same(seen({ trustedProxies: '10.0.0.0/8' }, header('203.0.113.7'), forged),
    { ip: '203.0.113.7', ips: [BALANCER, '203.0.113.7'], protocol: null, host: null, stop: 'untrusted' })
  t.same(seen({ trustedProxies: '10.0.0.0/8', forwarded: true }, header('203.0.113.7'), { forwarded: 'for=6.6.6.6;proto=https' }),
    { ip: '203.0.113.7', ips: [BALANCER, '203.0.113.7'], protocol: null, host: null, stop: 'untrusted' })
  t.same(seen({ trustedProxies: '10.0.0.0/8', clientIpHeader: 'cf-connecting-ip' }, header('2001:db8::7'), { 'cf-connecting-ip': '6.6.6.6' }),
    { ip: '2001:db8::7', ips: [BALANCER, '2001:db8::7'], protocol: null, host: null, stop: 'untrusted' })
})

t.test('a trusted source goes on into the forwarded headers, as if it were the peer', async (t) => {
  const headers = { 'x-forwarded-for': '6.6.6.6, 203.0.113.7', 'x-forwarded-host': 'www.example', 'x-forwarded-proto': 'https' }
  t.same(seen({ trustedProxies: '10.0.0.0/8' }, header('10.1.1.1'), headers),
    { ip: '203.0.113.7', ips: [BALANCER, '10.1.1.1', '203.0.113.7'], protocol: 'https', host: 'www.example', stop: 'untrusted' })
  t.same(seen({ trustedProxies: '10.0.0.0/8', forwarded: true }, header('10.1.1.1'), { forwarded: 'for=203.0.113.7;proto=https' }),
    { ip: '203.0.113.7', ips: [BALANCER, '10.1.1.1', '203.0.113.7'], protocol: 'https', host: null, stop: 'leftmost' })
  t.same(seen({ trustedProxies: '10.0.0.0/8', clientIpHeader: 'x-real-ip' }, header('10.1.1.1'), { 'x-real-ip': '203.0.113.7' }),
    { ip: '203.0.113.7', ips: [BALANCER, '10.1.1.1', '203.0.113.7'], protocol: null, host: null, stop: 'leftmost' })
  t.same(seen({ trustedProxies: '10.0.0.0/8' }, header('10.1.1.1')),
    { ip: '10.1.1.1', ips: [BALANCER, '10.1.1.1'], protocol: null, host: null, stop: 'leftmost' },
    'without a chain, the trusted source is the leftmost address: the client')
})

t.test('hops counts the source like any other hop', async (t) => {
  const headers = { 'x-forwarded-for': '6.6.6.6, 10.2.2.2, 203.0.113.7', 'x-forwarded-host': 'www.example' }
  t.same(seen({ trustedProxies: '10.0.0.0/8', hops: 1 }, header('10.1.1.1'), headers),
    { ip: '10.1.1.1', ips: [BALANCER, '10.1.1.1'], protocol: null, host: null, stop: 'hops' }, 'hops 1: the peer only')
  t.same(seen({ trustedProxies: 'private', hops: 2 }, header('10.1.1.1'), { 'x-forwarded-for': '10.3.3.3, 10.2.2.2' }),
    { ip: '10.2.2.2', ips: [BALANCER, '10.1.1.1', '10.2.2.2'], protocol: null, host: null, stop: 'hops' }, 'hops 2: peer and source')
  t.same(seen({ trustedProxies: 'private', hops: 3 }, header('10.1.1.1'), { 'x-forwarded-for': '10.4.4.4, 10.3.3.3, 10.2.2.2' }),
    { ip: '10.3.3.3', ips: [BALANCER, '10.1.1.1', '10.2.2.2', '10.3.3.3'], protocol: null, host: null, stop: 'hops' })
})

t.test('LOCAL, UNKNOWN and AF_UNSPEC keep the peer as the start of the walk', async (t) => {
  for (const proxy of [header(null, { command: 'local' }), header(null, { version: 1 }), header(null)]) {
    t.same(seen({ trustedProxies: '10.0.0.0/8' }, proxy, { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' }),
      { ip: '203.0.113.7', ips: [BALANCER, '203.0.113.7'], protocol: null, host: null, stop: 'untrusted' })
  }
})

t.test('the SSL TLV makes the protocol https unless a trusted proxy further along says otherwise', async (t) => {
  const ssl = header('203.0.113.7', { ssl: true })
  t.equal((seen({ trustedProxies: '10.0.0.0/8' }, ssl, { 'x-forwarded-proto': 'http' }) as { protocol: string }).protocol, 'https',
    'an untrusted source sends no header that counts')
  const edge = header('10.1.1.1', { ssl: true })
  t.equal((seen({ trustedProxies: '10.0.0.0/8' }, edge) as { protocol: string }).protocol, 'https')
  t.equal((seen({ trustedProxies: '10.0.0.0/8' }, edge, { 'x-forwarded-proto': 'http' }) as { protocol: string }).protocol, 'http')
  t.equal((seen({ trustedProxies: '10.0.0.0/8', forwarded: true }, edge, { forwarded: 'for=203.0.113.7;proto=http' }) as { protocol: string }).protocol, 'http')
  t.equal((seen({ trustedProxies: '10.0.0.0/8' }, header(null, { ssl: true })) as { protocol: string }).protocol, 'https', 'AF_UNSPEC with SSL')
  // A malformed forwarded protocol says nothing: it is not taken, and the TLV's https stays.
  t.equal((seen({ trustedProxies: '10.0.0.0/8' }, edge, { 'x-forwarded-proto': 'wss' }) as { protocol: string }).protocol, 'https')
  t.equal((seen({ trustedProxies: '10.0.0.0/8', forwarded: true }, edge, { forwarded: 'for=203.0.113.7;proto=wss' }) as { protocol: string }).protocol, 'https')
  t.equal((seen({ trustedProxies: '10.0.0.0/8' }, edge, { 'x-forwarded-proto': 'http, wss' }) as { protocol: string }).protocol, 'https')
})

t.test('an untrusted peer\'s header is never used, whatever it says', async (t) => {
  t.same(seen({ trustedProxies: '10.0.0.0/8' }, header('10.1.1.1', { ssl: true }), { 'x-forwarded-for': '6.6.6.6' }, '192.0.2.1'),
    { ip: '192.0.2.1', ips: ['192.0.2.1'], protocol: null, host: null, stop: null })
})

t.test('the trust function sees the source at hop 1', async (t) => {
  const calls: Array<[string, number]> = []
  const trustedProxies = (address: string, hop: number): boolean => {
    calls.push([address, hop])
    return address.startsWith('10.')
  }
  t.same(seen({ trustedProxies }, header('10.1.1.1'), { 'x-forwarded-for': '203.0.113.7, 10.2.2.2' }),
    { ip: '203.0.113.7', ips: [BALANCER, '10.1.1.1', '10.2.2.2', '203.0.113.7'], protocol: null, host: null, stop: 'leftmost' })
  t.same(calls, [[BALANCER, 0], ['10.1.1.1', 1], ['10.2.2.2', 2]])
})

t.test('createResolver on a socket the plugin has not read', async (t) => {
  const resolveRequest = createResolver({ trustedProxies: '10.0.0.0/8', proxyProtocol: true })
  const plain = resolveRequest({ socket: { remoteAddress: BALANCER }, headers: { host: 'shop.example', 'x-forwarded-for': '203.0.113.7' } })
  t.same([plain.ip, plain.proxyProtocol], ['203.0.113.7', null], 'a socket without a header resolves as without the option')
  const socketless = resolveRequest({ headers: { host: 'shop.example' } })
  t.same([socketless.ip, socketless.proxyProtocol], [undefined, null], 'no socket, no header')
})

t.test('a peer no longer trusted (a trust function that changed its mind) shows no header', async (t) => {
  let trusted = true
  const config = normalizeOptions({ trustedProxies: () => trusted, proxyProtocol: true })
  t.equal(resolve(config, BALANCER, {}, header('203.0.113.7'))?.proxy?.source?.address, '203.0.113.7')
  trusted = false
  const r = resolve(config, BALANCER, {}, header('203.0.113.7'))
  t.same([r?.ip, r?.ips, r?.proxy], [BALANCER, [BALANCER], null])
})
