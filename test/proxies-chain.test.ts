// Chains of real proxies, with an allowlist that covers all, some or one of
// the hops, so that the walk must stop at the right entry:
//   two tiers:   client → HAProxy (edge.cfg, TLS) → nginx (inner.conf) → app
//   three tiers: client → Caddy (Caddyfile, TLS) → HAProxy (inner.cfg) → nginx (inner.conf) → app

import t from 'tap'
import {
  CLIENT_A, freePorts, get, haveBinaries, headerLines, makeCertificate,
  startApp, startCaddy, startHaproxy, startNginx, tempDir, view, type Seen
} from './proxies/harness'

// This file's addresses: 127.0.4.x. Caddy connects from 127.0.0.1 (it cannot choose).
const NGINX = '127.0.4.10'
const HAPROXY_EDGE = '127.0.4.20'
const HAPROXY_INNER = '127.0.4.21'
const CADDY = '127.0.4.30'
const CADDY_SOURCE = '127.0.0.1'
const APP = '127.0.4.100'

// One route per allowlist; the same app and nginx serve both chains.
const profiles = {
  all2: { trustedProxies: [NGINX, HAPROXY_EDGE] },
  all3: { trustedProxies: [NGINX, HAPROXY_INNER, CADDY_SOURCE] },
  inner2: { trustedProxies: [NGINX, HAPROXY_INNER] },
  nginx: { trustedProxies: NGINX },
  subnet: { trustedProxies: '127.0.4.0/24' },
  hops2: { trustedProxies: 'loopback', hops: 2 },
  hops3: { trustedProxies: 'loopback', hops: 3 }
}
type Profile = keyof typeof profiles

t.test('chains of proxies', async (t) => {
  if (!haveBinaries(t, ['nginx', 'haproxy', 'caddy', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'chain-cert'))
  const app = await startApp(t, APP, profiles)
  const [nginxPort] = await freePorts(NGINX, 1)
  const [edgeHttp, edgeHttps] = await freePorts(HAPROXY_EDGE, 2)
  const [innerPort] = await freePorts(HAPROXY_INNER, 1)
  const [caddyHttp, caddyHttps] = await freePorts(CADDY, 2)
  await Promise.all([
    startNginx(t, {
      recipe: 'nginx/inner.conf',
      vars: { LISTEN_HTTP: `${NGINX}:${nginxPort}`, APP: app.address },
      bind: NGINX
    }),
    startHaproxy(t, {
      recipe: 'haproxy/edge.cfg',
      vars: {
        LISTEN_HTTP: `${HAPROXY_EDGE}:${edgeHttp}`,
        LISTEN_HTTPS: `${HAPROXY_EDGE}:${edgeHttps}`,
        CERT_AND_KEY: cert.both,
        APP: `${NGINX}:${nginxPort}`
      },
      source: HAPROXY_EDGE
    }),
    startHaproxy(t, {
      recipe: 'haproxy/inner.cfg',
      vars: { LISTEN_HTTP: `${HAPROXY_INNER}:${innerPort}`, APP: `${NGINX}:${nginxPort}` },
      source: HAPROXY_INNER
    }),
    startCaddy(t, {
      recipe: 'caddy/Caddyfile',
      vars: {
        HTTP_PORT: caddyHttp,
        HTTPS_PORT: caddyHttps,
        CERT: cert.cert,
        KEY: cert.key,
        APP: `${HAPROXY_INNER}:${innerPort}`
      },
      bind: CADDY
    })
  ])

  const twoTiers = async (profile: Profile, headers: Array<[string, string]> = []): Promise<Seen> =>
    await get({
      host: HAPROXY_EDGE,
      port: edgeHttps,
      path: `/${profile}`,
      from: CLIENT_A,
      ca: cert.pem,
      headers: [['Host', 'Shop.Example.TEST:8443'], ...headers]
    })
  const threeTiers = async (profile: Profile, headers: Array<[string, string]> = []): Promise<Seen> =>
    await get({
      host: CADDY,
      port: caddyHttps,
      path: `/${profile}`,
      from: CLIENT_A,
      ca: cert.pem,
      headers: [['Host', 'Shop.Example.TEST:8443'], ...headers]
    })
  // What every request through the chains asked for, whoever the client is.
  const asked = {
    hostname: 'Shop.Example.TEST',
    host: 'Shop.Example.TEST:8443',
    port: 8443,
    protocol: 'https',
    originalIp: NGINX,
    // nginx's `Host $host`: lowercased, port dropped.
    originalHost: 'shop.example.test'
  }

  await t.test('3. two tiers, HAProxy → nginx: the walk stops at the first untrusted entry', async (t) => {
    const all = await twoTiers('all2')
    t.strictSame(view(all), { ip: CLIENT_A, ips: [NGINX, HAPROXY_EDGE, CLIENT_A], ...asked }, 'both proxies trusted')
    // HAProxy's own X-Forwarded-For line, joined and extended by nginx.
    t.strictSame(headerLines(all, 'x-forwarded-for'), [`${CLIENT_A}, ${HAPROXY_EDGE}`])

    t.strictSame(view(await twoTiers('subnet')), view(all), 'both proxies in a CIDR block')
    t.strictSame(view(await twoTiers('hops2')), view(all), 'loopback, at most two hops')
    t.strictSame(view(await twoTiers('nginx')),
      { ip: HAPROXY_EDGE, ips: [NGINX, HAPROXY_EDGE], ...asked }, 'only nginx trusted: HAProxy is the client')

    const plain = await get({
      host: HAPROXY_EDGE, port: edgeHttp, path: '/all2', from: CLIENT_A, headers: [['Host', 'shop.example.test']]
    })
    t.strictSame(view(plain), {
      ip: CLIENT_A,
      ips: [NGINX, HAPROXY_EDGE, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: NGINX,
      originalHost: 'shop.example.test'
    }, 'plain HTTP at the edge: the edge\'s X-Forwarded-Proto passes through nginx')
  })

  await t.test('4. two tiers: forged headers through HAProxy → nginx never choose the client', async (t) => {
    const forged: Array<[string, string]> = [
      ['X-Forwarded-For', '6.6.6.6'],
      ['X-Forwarded-For', HAPROXY_EDGE],
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Proto', 'http']
    ]
    const seen = await twoTiers('all2', forged)
    t.strictSame(view(seen), { ip: CLIENT_A, ips: [NGINX, HAPROXY_EDGE, CLIENT_A], ...asked })
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [`6.6.6.6, ${HAPROXY_EDGE}, ${CLIENT_A}, ${HAPROXY_EDGE}`])
    t.strictSame(view(await twoTiers('hops2', forged)), view(seen), 'hops stops the walk before the forged entries')
    t.strictSame(view(await twoTiers('subnet', forged)), view(seen))
  })

  await t.test('3. three tiers, Caddy → HAProxy → nginx: the walk stops at the first untrusted entry', async (t) => {
    const all = await threeTiers('all3')
    t.strictSame(view(all),
      { ip: CLIENT_A, ips: [NGINX, HAPROXY_INNER, CADDY_SOURCE, CLIENT_A], ...asked }, 'all three proxies trusted')
    t.strictSame(headerLines(all, 'x-forwarded-for'), [`${CLIENT_A}, ${CADDY_SOURCE}, ${HAPROXY_INNER}`])

    t.strictSame(view(await threeTiers('hops3')), view(all), 'loopback, at most three hops')
    const caddyIsClient = { ip: CADDY_SOURCE, ips: [NGINX, HAPROXY_INNER, CADDY_SOURCE], ...asked }
    t.strictSame(view(await threeTiers('inner2')), caddyIsClient, 'Caddy not trusted: it is the client')
    t.strictSame(view(await threeTiers('subnet')), caddyIsClient, 'Caddy outside the CIDR block')
    t.strictSame(view(await threeTiers('hops2')), caddyIsClient, 'two hops: Caddy is the client')
    t.strictSame(view(await threeTiers('nginx')),
      { ip: HAPROXY_INNER, ips: [NGINX, HAPROXY_INNER], ...asked }, 'only nginx trusted: HAProxy is the client')
  })

  await t.test('4. three tiers: Caddy drops forged headers before they reach the chain', async (t) => {
    const forged: Array<[string, string]> = [
      ['X-Forwarded-For', `6.6.6.6, ${CADDY_SOURCE}`],
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Proto', 'http']
    ]
    const seen = await threeTiers('all3', forged)
    t.strictSame(view(seen), { ip: CLIENT_A, ips: [NGINX, HAPROXY_INNER, CADDY_SOURCE, CLIENT_A], ...asked })
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [`${CLIENT_A}, ${CADDY_SOURCE}, ${HAPROXY_INNER}`])
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['Shop.Example.TEST:8443'])
  })

  await t.test('5. a client that goes around the chain: nothing is rewritten', async (t) => {
    const seen = await get({
      host: app.host,
      port: app.port,
      path: '/all3',
      from: CLIENT_A,
      headers: [
        ['Host', 'shop.example.test:3000'],
        ['X-Forwarded-For', `6.6.6.6, ${CADDY_SOURCE}, ${HAPROXY_INNER}`],
        ['X-Forwarded-Host', 'evil.example'],
        ['X-Forwarded-Proto', 'https']
      ]
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
