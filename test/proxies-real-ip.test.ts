// Scenario 7: one client address in X-Real-IP, read with `clientIpHeader`.
//   client → HAProxy (edge.cfg, TLS) → nginx (real-ip.conf: realip module) → app
//   client → nginx (real-ip-edge.conf: nginx at the edge) → app
//   client → Caddy (real-ip.Caddyfile: header_up X-Real-IP) → app

import t from 'tap'
import {
  CLIENT_A, freePorts, get, haveBinaries, headerLines, makeCertificate,
  startApp, startCaddy, startHaproxy, startNginx, tempDir, view
} from './proxies/harness'

// This file's addresses: 127.0.6.x. Caddy connects from 127.0.0.1.
const NGINX = '127.0.6.10'
const NGINX_EDGE = '127.0.6.12'
const HAPROXY = '127.0.6.20'
const CADDY = '127.0.6.30'
const CADDY_SOURCE = '127.0.0.1'
const APP = '127.0.6.100'

const profiles = {
  nginx: { trustedProxies: NGINX, clientIpHeader: 'x-real-ip' },
  edge: { trustedProxies: NGINX_EDGE, clientIpHeader: 'x-real-ip' },
  caddy: { trustedProxies: CADDY_SOURCE, clientIpHeader: 'x-real-ip' }
}

t.test('7. X-Real-IP with clientIpHeader', async (t) => {
  if (!haveBinaries(t, ['nginx', 'haproxy', 'caddy', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'real-ip-cert'))
  const app = await startApp(t, APP, profiles)
  const [nginxPort] = await freePorts(NGINX, 1)
  const [edgePort] = await freePorts(NGINX_EDGE, 1)
  const [haproxyHttp, haproxyHttps] = await freePorts(HAPROXY, 2)
  const [caddyPort] = await freePorts(CADDY, 1)
  await Promise.all([
    startNginx(t, {
      recipe: 'nginx/real-ip.conf',
      vars: { LISTEN_HTTP: `${NGINX}:${nginxPort}`, PROXIES_BEFORE_NGINX: HAPROXY, APP: app.address },
      bind: NGINX
    }),
    startNginx(t, {
      recipe: 'nginx/real-ip-edge.conf',
      vars: { LISTEN_HTTP: `${NGINX_EDGE}:${edgePort}`, APP: app.address },
      bind: NGINX_EDGE
    }),
    startHaproxy(t, {
      recipe: 'haproxy/edge.cfg',
      vars: {
        LISTEN_HTTP: `${HAPROXY}:${haproxyHttp}`,
        LISTEN_HTTPS: `${HAPROXY}:${haproxyHttps}`,
        CERT_AND_KEY: cert.both,
        APP: `${NGINX}:${nginxPort}`
      },
      source: HAPROXY
    }),
    startCaddy(t, {
      recipe: 'caddy/real-ip.Caddyfile',
      vars: { HTTP_PORT: caddyPort, APP: app.address },
      bind: CADDY
    })
  ])
  const forged: Array<[string, string]> = [
    ['X-Real-IP', '6.6.6.6'],
    ['X-Forwarded-For', '6.6.6.6'],
    ['X-Forwarded-For', HAPROXY]
  ]

  await t.test('HAProxy → nginx: nginx finds the client, the app reads X-Real-IP', async (t) => {
    for (const headers of [[], forged]) {
      const seen = await get({
        host: HAPROXY,
        port: haproxyHttps,
        path: '/nginx',
        from: CLIENT_A,
        ca: cert.pem,
        headers: [['Host', 'Shop.Example.TEST:8443'], ...headers]
      })
      t.strictSame(view(seen), {
        ip: CLIENT_A,
        ips: [NGINX, CLIENT_A],
        hostname: 'Shop.Example.TEST',
        host: 'Shop.Example.TEST:8443',
        port: 8443,
        protocol: 'https',
        originalIp: NGINX,
        originalHost: 'shop.example.test'
      }, headers.length === 0 ? 'plain request' : 'forged X-Real-IP and X-Forwarded-For')
      t.strictSame(headerLines(seen, 'x-real-ip'), [CLIENT_A])
    }
  })

  await t.test('nginx at the edge: a client\'s X-Real-IP, X-Forwarded-For, -Host and -Proto are not believed', async (t) => {
    const seen = await get({
      host: NGINX_EDGE,
      port: edgePort,
      path: '/edge',
      from: CLIENT_A,
      headers: [['Host', 'Shop.Example.TEST:8080'], ...forged, ['X-Forwarded-Host', 'evil.example'], ['X-Forwarded-Proto', 'https']]
    })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [NGINX_EDGE, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8080',
      port: 8080,
      protocol: 'http',
      originalIp: NGINX_EDGE,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(seen, 'x-real-ip'), [CLIENT_A])
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['Shop.Example.TEST:8080'])
  })

  await t.test('real-ip.conf reached directly passes a client\'s X-Forwarded-Host on: it belongs behind proxies only', async (t) => {
    const seen = await get({
      host: NGINX,
      port: nginxPort,
      path: '/nginx',
      from: CLIENT_A,
      headers: [['Host', 'shop.example.test'], ...forged, ['X-Forwarded-Host', 'evil.example']]
    })
    t.strictSame([seen.ip, seen.hostname], [CLIENT_A, 'evil.example'], 'the address is right, the host is the client\'s')
  })

  await t.test('Caddy with header_up X-Real-IP: the forged value is replaced', async (t) => {
    const seen = await get({
      host: CADDY,
      port: caddyPort,
      path: '/caddy',
      from: CLIENT_A,
      headers: [['Host', 'shop.example.test'], ...forged]
    })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [CADDY_SOURCE, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: CADDY_SOURCE,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(seen, 'x-real-ip'), [CLIENT_A])
  })

  await t.test('5. a client that goes around the proxies: X-Real-IP is not read', async (t) => {
    const seen = await get({
      host: app.host,
      port: app.port,
      path: '/nginx',
      from: CLIENT_A,
      headers: [['Host', 'shop.example.test:3000'], ['X-Real-IP', '6.6.6.6']]
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
