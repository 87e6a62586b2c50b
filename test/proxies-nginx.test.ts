// nginx 1.22 alone in front of the app, with examples/recipes/nginx/site.conf:
// plain HTTP, TLS, HTTP/2, forged headers through nginx, and a client that
// goes around nginx.

import t from 'tap'
import {
  CLIENT_A, freePorts, get, get2, haveBinaries, headerLines, makeCertificate,
  startApp, startNginx, tempDir, view
} from './proxies/harness'

// This file's addresses: 127.0.1.x.
const NGINX = '127.0.1.10'
const APP = '127.0.1.100'

t.test('nginx in front of the app', async (t) => {
  if (!haveBinaries(t, ['nginx', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'nginx-cert'))
  const app = await startApp(t, APP, { app: { trustedProxies: NGINX } })
  const [httpPort, httpsPort] = await freePorts(NGINX, 2)
  await startNginx(t, {
    recipe: 'nginx/site.conf',
    vars: {
      LISTEN_HTTP: `${NGINX}:${httpPort}`,
      LISTEN_HTTPS: `${NGINX}:${httpsPort}`,
      CERT: cert.cert,
      KEY: cert.key,
      APP: app.address
    },
    bind: NGINX
  })
  const http = { host: NGINX, port: httpPort, path: '/app', from: CLIENT_A }
  const https = { host: NGINX, port: httpsPort, path: '/app', from: CLIENT_A, ca: cert.pem }

  await t.test('1. HTTP: client, host and port from X-Forwarded-*', async (t) => {
    const seen = await get({ ...http, headers: [['Host', 'Shop.Example.TEST:8080']] })
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
    // The recipe's X-Forwarded-Host is $http_host: case and port kept. Its
    // Host is $host: lowercased, port dropped.
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['Shop.Example.TEST:8080'])
    t.strictSame(headerLines(seen, 'host'), ['shop.example.test'])
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [CLIENT_A])
  })

  await t.test('1. HTTP: a Host without a port gives port null', async (t) => {
    const seen = await get({ ...http, headers: [['Host', 'shop.example.test']] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [NGINX, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: NGINX,
      originalHost: 'shop.example.test'
    })
  })

  await t.test('2. TLS terminated at nginx: protocol https', async (t) => {
    const seen = await get({ ...https, headers: [['Host', 'shop.example.test']] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [NGINX, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'https',
      originalIp: NGINX,
      originalHost: 'shop.example.test'
    })
    const onPort = await get({ ...https, headers: [['Host', 'shop.example.test:8443']] })
    t.strictSame([onPort.host, onPort.port, onPort.protocol], ['shop.example.test:8443', 8443, 'https'])
  })

  await t.test('9. HTTP/2 to nginx, HTTP/1 to the app: :authority is the host', async (t) => {
    const seen = await get2({ ...https, authority: 'Shop.Example.TEST:8443' })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [NGINX, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8443',
      port: 8443,
      protocol: 'https',
      originalIp: NGINX,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(seen, 'x-forwarded-host'), ['Shop.Example.TEST:8443'])
  })

  await t.test('4. forged X-Forwarded-* through nginx never choose the client', async (t) => {
    const forged: Array<[string, string]> = [
      ['Host', 'shop.example.test'],
      ['X-Forwarded-For', '6.6.6.6'],
      // Even a forged entry naming the trusted proxy itself.
      ['X-Forwarded-For', NGINX],
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Proto', 'https']
    ]
    const seen = await get({ ...http, headers: forged })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [NGINX, CLIENT_A],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: NGINX,
      originalHost: 'shop.example.test'
    })
    // $proxy_add_x_forwarded_for joins the client's lines into one and appends the peer.
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [`6.6.6.6, ${NGINX}, ${CLIENT_A}`])

    const overTls = await get({ ...https, headers: forged })
    t.strictSame([overTls.ip, overTls.hostname, overTls.protocol], [CLIENT_A, 'shop.example.test', 'https'])
  })

  await t.test('4. headers nginx does not set pass through untouched', async (t) => {
    const seen = await get({
      ...http,
      headers: [['Host', 'shop.example.test'], ['Forwarded', 'for=6.6.6.6'], ['X-Real-IP', '6.6.6.6']]
    })
    t.strictSame(headerLines(seen, 'forwarded'), ['for=6.6.6.6'])
    t.strictSame(headerLines(seen, 'x-real-ip'), ['6.6.6.6'])
    t.equal(seen.ip, CLIENT_A, 'the plugin does not read them in X-Forwarded-* mode')
  })

  await t.test('5. a client that goes around nginx: nothing is rewritten', async (t) => {
    const seen = await get({
      host: app.host,
      port: app.port,
      path: '/app',
      from: CLIENT_A,
      headers: [
        ['Host', 'shop.example.test:3000'],
        ['X-Forwarded-For', `6.6.6.6, ${NGINX}`],
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
