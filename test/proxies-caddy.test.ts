// Caddy 2.6 alone in front of the app, with examples/recipes/caddy/Caddyfile:
// plain HTTP, TLS, HTTP/2, forged headers through Caddy, and a client that
// goes around Caddy.

import t from 'tap'
import {
  CLIENT_A, freePorts, get, get2, haveBinaries, headerLines, makeCertificate,
  rawBody, sendRaw, startApp, startCaddy, tempDir, view
} from './proxies/harness'

// This file's addresses: 127.0.3.x. Caddy 2.6 cannot choose the address it
// connects from: towards the app it is the kernel's choice, 127.0.0.1.
const CADDY = '127.0.3.30'
const CADDY_SOURCE = '127.0.0.1'
const APP = '127.0.3.100'

t.test('Caddy in front of the app', async (t) => {
  if (!haveBinaries(t, ['caddy', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'caddy-cert'))
  const app = await startApp(t, APP, { app: { trustedProxies: CADDY_SOURCE }, reject: { trustedProxies: CADDY_SOURCE, onInvalid: 'reject' } })
  const [httpPort, httpsPort] = await freePorts(CADDY, 2)
  await startCaddy(t, {
    recipe: 'caddy/Caddyfile',
    vars: { HTTP_PORT: httpPort, HTTPS_PORT: httpsPort, CERT: cert.cert, KEY: cert.key, APP: app.address },
    bind: CADDY
  })
  const http = { host: CADDY, port: httpPort, path: '/app', from: CLIENT_A }
  const https = { host: CADDY, port: httpsPort, path: '/app', from: CLIENT_A, ca: cert.pem }

  await t.test('HTTP/1.0 without a Host: Caddy sends an empty X-Forwarded-Host, which is malformed', async (t) => {
    const data = (profile: string): string => `GET /${profile} HTTP/1.0\r\nX-Forwarded-Host: evil.example\r\n\r\n`
    const seen = rawBody((await sendRaw({ host: CADDY, port: httpPort, from: CLIENT_A, data: data('app') })).received)
    t.strictSame(headerLines(seen, 'x-forwarded-host'), [''])
    t.strictSame([seen.ip, seen.hostname, seen.originalHost], [CLIENT_A, APP, app.address], 'ignored: the Host Caddy wrote')
    const refused = await sendRaw({ host: CADDY, port: httpPort, from: CLIENT_A, data: data('reject') })
    t.match(refused.received, /^HTTP\/1\.[01] 400 [^]*Invalid x-forwarded-host header from a trusted proxy: \\"\\"/, 'refused under reject')
  })

  await t.test('1. HTTP: client, host and port from X-Forwarded-*', async (t) => {
    const seen = await get({ ...http, headers: [['Host', 'Shop.Example.TEST:8080']] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [CADDY_SOURCE, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8080',
      port: 8080,
      protocol: 'http',
      originalIp: CADDY_SOURCE,
      // Caddy passes the Host header on as it came: case and port kept.
      originalHost: 'Shop.Example.TEST:8080'
    })
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['Shop.Example.TEST:8080'])
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [CLIENT_A])
  })

  await t.test('1. HTTP: a Host without a port gives port null', async (t) => {
    const seen = await get({ ...http, headers: [['Host', 'shop.example.test']] })
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
  })

  await t.test('2. TLS terminated at Caddy: protocol https', async (t) => {
    const seen = await get({ ...https, headers: [['Host', 'shop.example.test']] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [CADDY_SOURCE, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'https',
      originalIp: CADDY_SOURCE,
      originalHost: 'shop.example.test'
    })
  })

  await t.test('9. HTTP/2 to Caddy, HTTP/1.1 to the app: :authority is the host', async (t) => {
    const seen = await get2({ ...https, authority: 'Shop.Example.TEST:8443' })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [CADDY_SOURCE, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8443',
      port: 8443,
      protocol: 'https',
      originalIp: CADDY_SOURCE,
      originalHost: 'Shop.Example.TEST:8443'
    })
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['Shop.Example.TEST:8443'])
  })

  await t.test('4. Caddy replaces forged X-Forwarded-* from its clients', async (t) => {
    const forged: Array<[string, string]> = [
      ['Host', 'shop.example.test'],
      ['X-Forwarded-For', '6.6.6.6'],
      ['X-Forwarded-For', CADDY_SOURCE],
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Proto', 'https']
    ]
    const seen = await get({ ...http, headers: forged })
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
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [CLIENT_A], 'the forged chain is gone')
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['shop.example.test'])
    t.strictSame(headerLines(seen, 'x-forwarded-proto'), ['http'])
  })

  await t.test('4. Caddy passes a client\'s Forwarded and X-Real-IP through untouched', async (t) => {
    const seen = await get({
      ...http,
      headers: [['Host', 'shop.example.test'], ['Forwarded', 'for=6.6.6.6'], ['X-Real-IP', '6.6.6.6']]
    })
    t.strictSame(headerLines(seen, 'forwarded'), ['for=6.6.6.6'])
    t.strictSame(headerLines(seen, 'x-real-ip'), ['6.6.6.6'])
    t.equal(seen.ip, CLIENT_A, 'the plugin does not read them in X-Forwarded-* mode')
  })

  await t.test('5. a client that goes around Caddy: nothing is rewritten', async (t) => {
    const seen = await get({
      host: app.host,
      port: app.port,
      path: '/app',
      from: CLIENT_A,
      headers: [
        ['Host', 'shop.example.test:3000'],
        ['X-Forwarded-For', `6.6.6.6, ${CADDY_SOURCE}`],
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
