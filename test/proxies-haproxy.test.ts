// HAProxy 2.6 alone in front of the app, with examples/recipes/haproxy/edge.cfg:
// plain HTTP, TLS, HTTP/2, forged headers through HAProxy, and a client that
// goes around HAProxy.

import t from 'tap'
import {
  CLIENT_A, freePorts, get, get2, haveBinaries, headerLines, makeCertificate,
  rawBody, sendRaw, startApp, startHaproxy, tempDir, view
} from './proxies/harness'

// This file's addresses: 127.0.2.x.
const HAPROXY = '127.0.2.20'
const APP = '127.0.2.100'

t.test('HAProxy in front of the app', async (t) => {
  if (!haveBinaries(t, ['haproxy', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'haproxy-cert'))
  const app = await startApp(t, APP, { app: { trustedProxies: HAPROXY }, reject: { trustedProxies: HAPROXY, onInvalid: 'reject' } })
  const [httpPort, httpsPort] = await freePorts(HAPROXY, 2)
  await startHaproxy(t, {
    recipe: 'haproxy/edge.cfg',
    vars: {
      LISTEN_HTTP: `${HAPROXY}:${httpPort}`,
      LISTEN_HTTPS: `${HAPROXY}:${httpsPort}`,
      CERT_AND_KEY: cert.both,
      APP: app.address
    },
    source: HAPROXY
  })
  const http = { host: HAPROXY, port: httpPort, path: '/app', from: CLIENT_A }
  const https = { host: HAPROXY, port: httpsPort, path: '/app', from: CLIENT_A, ca: cert.pem }

  await t.test('1. HTTP: client, host and port from X-Forwarded-*', async (t) => {
    const seen = await get({ ...http, headers: [['Host', 'Shop.Example.TEST:8080']] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8080',
      port: 8080,
      protocol: 'http',
      originalIp: HAPROXY,
      // HAProxy passes the Host header on as it came.
      originalHost: 'Shop.Example.TEST:8080'
    })
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['Shop.Example.TEST:8080'])
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [CLIENT_A])
    // HAProxy 2.6 sends every header name in lower case, not only its own.
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0)
    t.strictSame(names, names.map((name) => name.toLowerCase()), 'all header names lower case')
  })

  await t.test('1. HTTP: a Host without a port gives port null', async (t) => {
    const seen = await get({ ...http, headers: [['Host', 'shop.example.test']] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: HAPROXY,
      originalHost: 'shop.example.test'
    })
  })

  await t.test('2. TLS terminated at HAProxy: protocol https', async (t) => {
    const seen = await get({ ...https, headers: [['Host', 'shop.example.test']] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'https',
      originalIp: HAPROXY,
      originalHost: 'shop.example.test'
    })
  })

  await t.test('9. HTTP/2 to HAProxy, HTTP/1.1 to the app: :authority is the host', async (t) => {
    const seen = await get2({ ...https, authority: 'Shop.Example.TEST:8443' })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8443',
      port: 8443,
      protocol: 'https',
      originalIp: HAPROXY,
      // HAProxy turns :authority into a Host header.
      originalHost: 'Shop.Example.TEST:8443'
    })
  })

  await t.test('4. forged X-Forwarded-* through HAProxy never choose the client', async (t) => {
    const forged: Array<[string, string]> = [
      ['Host', 'shop.example.test'],
      ['X-Forwarded-For', '6.6.6.6'],
      ['X-Forwarded-For', HAPROXY],
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Proto', 'https']
    ]
    const seen = await get({ ...http, headers: forged })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: HAPROXY,
      originalHost: 'shop.example.test'
    })
    // option forwardfor keeps the client's lines and adds one of its own
    // after them; only reading all lines, in order, finds the client.
    t.strictSame(headerLines(seen, 'x-forwarded-for'), ['6.6.6.6', HAPROXY, CLIENT_A])
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['shop.example.test'], 'set-header replaced the forged host')

    const overTls = await get({ ...https, headers: forged })
    t.strictSame([overTls.ip, overTls.hostname, overTls.protocol], [CLIENT_A, 'shop.example.test', 'https'])
  })

  await t.test('HTTP/1.0 without a Host: no X-Forwarded-Host at all, so no 400 under reject', async (t) => {
    const data = 'GET /reject HTTP/1.0\r\nX-Forwarded-Host: evil.example\r\n\r\n'
    const seen = rawBody((await sendRaw({ host: HAPROXY, port: httpPort, from: CLIENT_A, data })).received)
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY, CLIENT_A],
      hostname: '',
      host: '',
      port: null,
      protocol: 'http',
      originalIp: HAPROXY,
      originalHost: ''
    })
    t.strictSame(headerLines(seen, 'x-forwarded-host'), [], 'the forged one is gone, and none is added')
  })

  await t.test('4. headers HAProxy does not set pass through untouched', async (t) => {
    const seen = await get({
      ...http,
      headers: [['Host', 'shop.example.test'], ['Forwarded', 'for=6.6.6.6'], ['X-Real-IP', '6.6.6.6']]
    })
    t.strictSame(headerLines(seen, 'forwarded'), ['for=6.6.6.6'])
    t.strictSame(headerLines(seen, 'x-real-ip'), ['6.6.6.6'])
    t.equal(seen.ip, CLIENT_A)
  })

  await t.test('5. a client that goes around HAProxy: nothing is rewritten', async (t) => {
    const seen = await get({
      host: app.host,
      port: app.port,
      path: '/app',
      from: CLIENT_A,
      headers: [
        ['Host', 'shop.example.test:3000'],
        ['X-Forwarded-For', '6.6.6.6'],
        ['X-Forwarded-For', HAPROXY],
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
