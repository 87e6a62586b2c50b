// Scenario 6: RFC 7239 Forwarded written by real proxies, read with `forwarded: true`.
//   client → nginx (forwarded.conf) → app, over IPv4 and over IPv6 (::1)
//   client → HAProxy (forwarded.cfg) → app, over IPv4 and over IPv6 (::1)
//   client → HAProxy (forwarded.cfg, TLS) → nginx (forwarded-inner.conf) → app

import t from 'tap'
import {
  CLIENT_A, freePorts, get, haveBinaries, headerLines, makeCertificate,
  rawBody, sendRaw, startApp, startHaproxy, startNginx, tempDir, view, type Seen
} from './proxies/harness'

// This file's addresses: 127.0.7.x, and ::1 for the IPv6 clients.
const NGINX = '127.0.7.10'
const NGINX_INNER = '127.0.7.12'
const HAPROXY = '127.0.7.20'
const HAPROXY_EDGE = '127.0.7.22'
const APP = '127.0.7.100'
const IPV6 = '::1'

const profiles = {
  nginx: { trustedProxies: NGINX, forwarded: true },
  haproxy: { trustedProxies: HAPROXY, forwarded: true },
  chain: { trustedProxies: [NGINX_INNER, HAPROXY_EDGE], forwarded: true },
  inner: { trustedProxies: NGINX_INNER, forwarded: true },
  nginxReject: { trustedProxies: NGINX, forwarded: true, onInvalid: 'reject' as const },
  haproxyReject: { trustedProxies: HAPROXY, forwarded: true, onInvalid: 'reject' as const }
}

// What a client sends to try to choose its own address, host and protocol.
const forged: Array<[string, string]> = [
  ['Forwarded', 'for=6.6.6.6;host=evil.example;proto=https'],
  ['X-Forwarded-For', '6.6.6.6']
]

t.test('6. Forwarded (RFC 7239) from real proxies', async (t) => {
  if (!haveBinaries(t, ['nginx', 'haproxy', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'forwarded-cert'))
  const app = await startApp(t, APP, profiles)
  const [nginxHttp] = await freePorts(NGINX, 1)
  const [nginxHttps, haproxyHttps] = await freePorts(IPV6, 2)
  const [haproxyHttp] = await freePorts(HAPROXY, 1)
  const [innerPort] = await freePorts(NGINX_INNER, 1)
  const [edgeHttp, edgeHttps] = await freePorts(HAPROXY_EDGE, 2)
  await Promise.all([
    startNginx(t, {
      recipe: 'nginx/forwarded.conf',
      vars: {
        LISTEN_HTTP: `${NGINX}:${nginxHttp}`,
        LISTEN_HTTPS: `[${IPV6}]:${nginxHttps}`,
        CERT: cert.cert,
        KEY: cert.key,
        APP: app.address
      },
      bind: NGINX
    }),
    startHaproxy(t, {
      recipe: 'haproxy/forwarded.cfg',
      vars: {
        LISTEN_HTTP: `${HAPROXY}:${haproxyHttp}`,
        LISTEN_HTTPS: `[${IPV6}]:${haproxyHttps}`,
        CERT_AND_KEY: cert.both,
        APP: app.address
      },
      source: HAPROXY
    }),
    startNginx(t, {
      recipe: 'nginx/forwarded-inner.conf',
      vars: { LISTEN_HTTP: `${NGINX_INNER}:${innerPort}`, APP: app.address },
      bind: NGINX_INNER
    }),
    startHaproxy(t, {
      recipe: 'haproxy/forwarded.cfg',
      vars: {
        LISTEN_HTTP: `${HAPROXY_EDGE}:${edgeHttp}`,
        LISTEN_HTTPS: `${HAPROXY_EDGE}:${edgeHttps}`,
        CERT_AND_KEY: cert.both,
        APP: `${NGINX_INNER}:${innerPort}`
      },
      source: HAPROXY_EDGE
    })
  ])

  await t.test('nginx, IPv4 client over HTTP, with a forged Forwarded', async (t) => {
    const seen = await get({
      host: NGINX, port: nginxHttp, path: '/nginx', from: CLIENT_A, headers: [['Host', 'Shop.Example.TEST:8080'], ...forged]
    })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [NGINX, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8080',
      port: 8080,
      protocol: 'http',
      originalIp: NGINX,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(seen, 'forwarded'), [`for=${CLIENT_A};host="Shop.Example.TEST:8080";proto=http`])
  })

  await t.test('nginx, IPv6 client over HTTPS: for="[::1]"', async (t) => {
    const seen = await get({
      host: IPV6, port: nginxHttps, path: '/nginx', from: IPV6, ca: cert.pem, headers: [['Host', 'shop.example.test'], ...forged]
    })
    t.strictSame(view(seen), {
      ip: IPV6,
      ips: [NGINX, IPV6],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'https',
      originalIp: NGINX,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(seen, 'forwarded'), [`for="[${IPV6}]";host="shop.example.test";proto=https`])
  })

  await t.test('HAProxy, IPv4 client over HTTP, with a forged Forwarded', async (t) => {
    const seen = await get({
      host: HAPROXY, port: haproxyHttp, path: '/haproxy', from: CLIENT_A, headers: [['Host', 'Shop.Example.TEST:8080'], ...forged]
    })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8080',
      port: 8080,
      protocol: 'http',
      originalIp: HAPROXY,
      originalHost: 'Shop.Example.TEST:8080'
    })
    t.strictSame(headerLines(seen, 'forwarded'), [`for=${CLIENT_A};host="Shop.Example.TEST:8080";proto=http`])
  })

  await t.test('HAProxy, IPv6 client over HTTPS: for="[::1]"', async (t) => {
    const seen = await get({
      host: IPV6, port: haproxyHttps, path: '/haproxy', from: IPV6, ca: cert.pem, headers: [['Host', 'shop.example.test'], ...forged]
    })
    t.strictSame(view(seen), {
      ip: IPV6,
      ips: [HAPROXY, IPV6],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'https',
      originalIp: HAPROXY,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(seen, 'forwarded'), [`for="[${IPV6}]";host="shop.example.test";proto=https`])
  })

  await t.test('HTTP/1.0 without a Host: no host= at all, so no 400 under reject', async (t) => {
    for (const [proxy, port, profile] of [[NGINX, nginxHttp, 'nginxReject'], [HAPROXY, haproxyHttp, 'haproxyReject']] as const) {
      const data = `GET /${profile} HTTP/1.0\r\nForwarded: for=6.6.6.6;host=evil.example\r\n\r\n`
      const seen = rawBody((await sendRaw({ host: proxy, port, from: CLIENT_A, data })).received)
      t.strictSame(view(seen), {
        ip: CLIENT_A,
        ips: [proxy, CLIENT_A],
        hostname: '',
        host: '',
        port: null,
        protocol: 'http',
        originalIp: proxy,
        originalHost: ''
      }, profile)
      t.strictSame(headerLines(seen, 'forwarded'), [`for=${CLIENT_A};proto=http`], profile)
    }
  })

  const throughChain = async (profile: string): Promise<Seen> => await get({
    host: HAPROXY_EDGE,
    port: edgeHttps,
    path: `/${profile}`,
    from: CLIENT_A,
    ca: cert.pem,
    headers: [['Host', 'Shop.Example.TEST:8443'], ...forged]
  })

  await t.test('HAProxy → nginx: host and protocol come from the element that names the client', async (t) => {
    const all = await throughChain('chain')
    t.strictSame(view(all), {
      ip: CLIENT_A,
      ips: [NGINX_INNER, HAPROXY_EDGE, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8443',
      port: 8443,
      protocol: 'https',
      originalIp: NGINX_INNER,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(all, 'forwarded'),
      [`for=${CLIENT_A};host="Shop.Example.TEST:8443";proto=https, for=${HAPROXY_EDGE}`])

    // Only nginx trusted: HAProxy is the client, and its element says nothing
    // of host or protocol, so they stay as the app received them.
    t.strictSame(view(await throughChain('inner')), {
      ip: HAPROXY_EDGE,
      ips: [NGINX_INNER, HAPROXY_EDGE],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: NGINX_INNER,
      originalHost: 'shop.example.test'
    })
  })

  await t.test('5. a client that goes around the proxies: Forwarded is not read', async (t) => {
    const seen = await get({
      host: app.host, port: app.port, path: '/nginx', from: CLIENT_A, headers: [['Host', 'shop.example.test:3000'], ...forged]
    })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test:3000',
      port: 3000,
      protocol: 'http',
      originalIp: CLIENT_A,
      originalHost: 'shop.example.test:3000'
    })
  })
})
