// The PROXY protocol from real TCP balancers, in front of a listening app
// with `proxyProtocol`:
//   HAProxy 2.6 in mode tcp: send-proxy (v1), send-proxy-v2 with its health
//     checks (IPv4 and IPv6 clients, and IPv4 clients on an IPv6 socket:
//     IPv4-mapped addresses), send-proxy-v2-ssl terminating TLS, and
//     send-proxy-v2 passing TLS through to an HTTPS app (HTTP/1.1 and HTTP/2);
//   nginx's stream module with proxy_protocol on;
//   curl --haproxy-protocol straight to the app;
//   a chain: nginx (HTTP, X-Forwarded-For) → HAProxy (mode tcp) → app;
// and what must never get through: a client's own PROXY header, a trusted
// peer without one (`true`) or with a malformed one; `'optional'` serving a
// trusted peer's plain connection.

import t, { type Test } from 'tap'
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  CLIENT_A, SITE, freePorts, get, get2, getWithPort, haveBinaries, headerLines, makeCertificate,
  rawBody, runCurl, sendRaw, startApp, startHaproxy, startNginx, tempDir, view,
  type App, type Proxy, type Seen, type SeenProxyHeader
} from './proxies/harness'

// This file's addresses: 127.0.8.x, and ::1 for the IPv6 clients.
const NGINX = '127.0.8.10'
const HAPROXY_V1 = '127.0.8.21'
const HAPROXY_V2 = '127.0.8.22'
const HAPROXY_SSL = '127.0.8.23'
const HAPROXY_PASS = '127.0.8.24'
const HAPROXY_OPT = '127.0.8.25'
/** Where HAProxy listens on an IPv6 socket for IPv4 clients (`[::ffff:127.0.8.26]`, as `bind :::80 v4v6` does). */
const MAPPED = '127.0.8.26'
const EDGE = '127.0.8.30'
const CHAIN = '127.0.8.31'
const CURL = '127.0.8.40'
const APP = '127.0.8.100'
const V6 = '::1'

const REQUIRED = ['haproxy', 'nginx', 'nginx-stream', 'openssl', 'curl'] as const

const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex')

/** A PROXY header of the PROXY command, as the test expects it. */
function header (version: 1 | 2, source: [string, number], destination: [string, number], tlvs: SeenProxyHeader['tlvs'] = []): SeenProxyHeader {
  return {
    version,
    command: 'proxy',
    source: { address: source[0], port: source[1] },
    destination: { address: destination[0], port: destination[1] },
    ssl: tlvs.some((tlv) => tlv.type === 0x20 && (parseInt(tlv.value.slice(0, 2), 16) & 1) === 1),
    tlvs
  }
}

/** A v2 header's LOCAL command (a balancer's health check), as the app shows it. */
const LOCAL: SeenProxyHeader = { version: 2, command: 'local', source: null, destination: null, ssl: false, tlvs: [] }

/** What the app answered to clients: everything but the balancers' health checks. */
function clientRequests (app: App): Seen[] {
  return app.requests.filter((seen) => seen.proxyProtocol?.command !== 'local')
}

/** The warn lines the plugin logged for connections it closed. */
function closedLogs (app: App): Array<{ peer: string, reason: string }> {
  return app.logs.map((line) => JSON.parse(line) as { level: number, peer?: string, reason?: string })
    .filter((entry) => entry.level === 40 && entry.peer !== undefined && entry.reason !== undefined)
    .map(({ peer, reason }) => ({ peer: peer as string, reason: reason as string }))
}

/** Polls until `find` returns something (a balancer's health check arriving), up to `ms`. */
async function until<T> (what: string, find: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`${what}: nothing within ${ms} ms`)
    await sleep(50)
  }
}

/** Two requests on one keep-alive connection; the second must reuse the socket. */
async function twoOnOneConnection (host: string, port: number, from: string): Promise<Array<{ seen: Seen, localPort: number, reused: boolean }>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const one = async (forwardedFor: string): ReturnType<typeof getWithPort> =>
      await getWithPort({ host, port, path: '/app', from, agent, headers: [['Host', SITE], ['X-Forwarded-For', forwardedFor]] })
    return [await one('6.6.6.6'), await one('7.7.7.7')]
  } finally {
    agent.destroy()
  }
}

/**
 * A request from CLIENT_A through a balancer that sends a v1 header (the
 * balancer listening at `proxy`:`port`): the app sees the client, the Host
 * it sent, and the header with the client's connection as its source.
 */
async function viaV1Balancer (t: Test, proxy: string, port: number): Promise<void> {
  const { seen, localPort } = await getWithPort({
    host: proxy, port, path: '/app', from: CLIENT_A, headers: [['Host', 'Shop.Example.TEST:8080']]
  })
  t.strictSame(view(seen), {
    ip: CLIENT_A,
    ips: [proxy, CLIENT_A],
    hostname: 'Shop.Example.TEST',
    host: 'Shop.Example.TEST:8080',
    port: 8080,
    protocol: 'http',
    originalIp: proxy,
    originalHost: 'Shop.Example.TEST:8080',
    proxyProtocol: header(1, [CLIENT_A, localPort], [proxy, port])
  })
}

/** The JSON body of a raw HTTP/1.1 response, or throws with what came back. */
/** What a server may do with bytes that are not HTTP: answer 400, or close. */
function refused (received: string): boolean {
  return received === '' || received.startsWith('HTTP/1.1 400 ')
}

const request = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`

/** A v2 PROXY header over IPv4/STREAM with these TLVs. */
function v2Header (source: [string, number], destination: [string, number], tlvs: Array<[number, Buffer]>): Buffer {
  const body = Buffer.concat([
    Buffer.from([...source[0].split('.').map(Number), ...destination[0].split('.').map(Number)]),
    Buffer.from([source[1] >> 8, source[1] & 0xff, destination[1] >> 8, destination[1] & 0xff]),
    ...tlvs.map(([type, value]) => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value]))
  ])
  return Buffer.concat([
    Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1'),
    Buffer.from([0x21, 0x11, body.length >> 8, body.length & 0xff]),
    body
  ])
}

function noDownServer (t: Test, proxy: Proxy): void {
  t.notMatch(proxy.log(), /is DOWN/, `${proxy.name}: its health checks kept the app up`)
}

t.test('TCP balancers in front of an HTTP app (proxyProtocol: true)', async (t) => {
  if (!haveBinaries(t, [...REQUIRED])) return
  const cert = await makeCertificate(tempDir(t, 'pp-cert'))
  const app = await startApp(t, APP, {
    app: { trustedProxies: [NGINX, HAPROXY_V1, HAPROXY_V2, HAPROXY_SSL, CURL], proxyProtocol: true }
  })
  const [v1Port] = await freePorts(HAPROXY_V1, 1)
  const [v2Port] = await freePorts(HAPROXY_V2, 1)
  const [v6Port] = await freePorts(V6, 1)
  const [mappedV1Port, mappedV2Port] = await freePorts(MAPPED, 2)
  const [sslPort] = await freePorts(HAPROXY_SSL, 1)
  const [nginxPort] = await freePorts(NGINX, 1)
  const [, v2] = await Promise.all([
    startHaproxy(t, {
      recipe: 'haproxy/proxy-protocol-v1.cfg',
      vars: { LISTEN_HTTP: `${HAPROXY_V1}:${v1Port}`, APP: app.address },
      source: HAPROXY_V1
    }),
    startHaproxy(t, {
      recipe: 'haproxy/proxy-protocol-v2.cfg',
      vars: { LISTEN_HTTP: `${HAPROXY_V2}:${v2Port}`, APP: app.address, HEALTH_PATH: '/app' },
      source: HAPROXY_V2
    }),
    // The same recipe listening on ::1: the header carries IPv6 addresses.
    startHaproxy(t, {
      recipe: 'haproxy/proxy-protocol-v2.cfg',
      vars: { LISTEN_HTTP: `[${V6}]:${v6Port}`, APP: app.address, HEALTH_PATH: '/app' },
      source: HAPROXY_V2
    }),
    // Both recipes on an IPv6 socket that IPv4 clients reach: HAProxy sends
    // TCP6 / AF_INET6 with IPv4-mapped addresses.
    startHaproxy(t, {
      recipe: 'haproxy/proxy-protocol-v1.cfg',
      vars: { LISTEN_HTTP: `[::ffff:${MAPPED}]:${mappedV1Port}`, APP: app.address },
      source: HAPROXY_V1
    }),
    startHaproxy(t, {
      recipe: 'haproxy/proxy-protocol-v2.cfg',
      vars: { LISTEN_HTTP: `[::ffff:${MAPPED}]:${mappedV2Port}`, APP: app.address, HEALTH_PATH: '/app' },
      source: HAPROXY_V2
    }),
    startHaproxy(t, {
      recipe: 'haproxy/proxy-protocol-v2-ssl.cfg',
      vars: { LISTEN_HTTPS: `${HAPROXY_SSL}:${sslPort}`, APP: app.address, CERT_AND_KEY: cert.both },
      source: HAPROXY_SSL
    }),
    startNginx(t, {
      recipe: 'nginx/stream-proxy-protocol.conf',
      vars: { LISTEN_HTTP: `${NGINX}:${nginxPort}`, APP: app.address },
      bind: NGINX,
      stream: true
    })
  ])

  await t.test('HAProxy send-proxy (v1): the client is the header\'s source', async (t) => {
    await viaV1Balancer(t, HAPROXY_V1, v1Port)
  })

  await t.test('HAProxy send-proxy: a client\'s X-Forwarded-* pass through and are not read', async (t) => {
    const seen = await get({
      host: HAPROXY_V1,
      port: v1Port,
      path: '/app',
      from: CLIENT_A,
      headers: [['Host', SITE], ['X-Forwarded-For', `6.6.6.6, ${HAPROXY_V1}`], ['X-Forwarded-Host', 'evil.example'], ['X-Forwarded-Proto', 'https']]
    })
    t.strictSame([seen.ip, seen.ips, seen.hostname, seen.protocol], [CLIENT_A, [HAPROXY_V1, CLIENT_A], SITE, 'http'])
    // mode tcp: HAProxy adds no header and changes none.
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [`6.6.6.6, ${HAPROXY_V1}`])
  })

  await t.test('keep-alive: every request on a connection has its header', async (t) => {
    const [first, second] = await twoOnOneConnection(HAPROXY_V1, v1Port, CLIENT_A)
    t.ok(second.reused, 'the second request went on the same connection')
    t.equal(first.localPort, second.localPort)
    for (const { seen } of [first, second]) {
      t.strictSame([seen.ip, seen.ips, seen.proxyProtocol], [CLIENT_A, [HAPROXY_V1, CLIENT_A], header(1, [CLIENT_A, first.localPort], [HAPROXY_V1, v1Port])])
    }
  })

  await t.test('HAProxy send-proxy-v2: the binary header', async (t) => {
    const { seen, localPort } = await getWithPort({ host: HAPROXY_V2, port: v2Port, path: '/app', from: CLIENT_A, headers: [['Host', SITE]] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY_V2, CLIENT_A],
      hostname: SITE,
      host: SITE,
      port: null,
      protocol: 'http',
      originalIp: HAPROXY_V2,
      originalHost: SITE,
      // HAProxy 2.6 sends no TLV unless told to.
      proxyProtocol: header(2, [CLIENT_A, localPort], [HAPROXY_V2, v2Port])
    })
  })

  await t.test('HAProxy send-proxy-v2 from an IPv6 client: AF_INET6 addresses', async (t) => {
    const { seen, localPort } = await getWithPort({ host: V6, port: v6Port, path: '/app', from: V6, headers: [['Host', SITE]] })
    t.strictSame([seen.ip, seen.ips, seen.originalIp, seen.proxyProtocol], [V6, [HAPROXY_V2, V6], HAPROXY_V2, header(2, [V6, localPort], [V6, v6Port])])
  })

  await t.test('HAProxy on an IPv6 socket, IPv4 clients: IPv4-mapped addresses come out dotted', async (t) => {
    for (const [version, port, haproxy] of [[1, mappedV1Port, HAPROXY_V1], [2, mappedV2Port, HAPROXY_V2]] as const) {
      const { seen, localPort } = await getWithPort({ host: MAPPED, port, path: '/app', from: CLIENT_A, headers: [['Host', SITE]] })
      t.strictSame([seen.ip, seen.ips, seen.proxyProtocol], [CLIENT_A, [haproxy, CLIENT_A], header(version, [CLIENT_A, localPort], [MAPPED, port])], `v${version}`)
    }
  })

  await t.test('HAProxy\'s health checks send a v2 LOCAL header: the app answers them as HAProxy\'s own', async (t) => {
    const check = await until('a health check from HAProxy', () => app.requests.find((seen) => seen.proxyProtocol?.command === 'local'))
    t.strictSame(view(check), {
      ip: HAPROXY_V2,
      ips: [HAPROXY_V2],
      // option httpchk sends HTTP/1.0 without a Host header.
      hostname: '',
      host: '',
      port: null,
      protocol: 'http',
      originalIp: HAPROXY_V2,
      originalHost: '',
      proxyProtocol: LOCAL
    })
    noDownServer(t, v2)
  })

  await t.test('HAProxy send-proxy-v2-ssl: TLS ended at HAProxy, the SSL TLV makes the protocol https', async (t) => {
    const { seen, localPort } = await getWithPort({
      host: HAPROXY_SSL, port: sslPort, path: '/app', from: CLIENT_A, ca: cert.pem, headers: [['Host', SITE]]
    })
    // The SSL TLV: client flags 0x01 (PP2_CLIENT_SSL), verify 0, then the
    // sub-TLV 0x21 (PP2_SUBTYPE_SSL_VERSION). The authority TLV is the SNI.
    const ssl = '01' + '00000000' + '21' + '0007' + hex('TLSv1.3')
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY_SSL, CLIENT_A],
      hostname: SITE,
      host: SITE,
      port: null,
      protocol: 'https',
      originalIp: HAPROXY_SSL,
      originalHost: SITE,
      proxyProtocol: header(2, [CLIENT_A, localPort], [HAPROXY_SSL, sslPort], [{ type: 0x02, value: hex(SITE) }, { type: 0x20, value: ssl }])
    })
    t.equal(seen.proxyProtocol?.ssl, true)
  })

  await t.test('nginx stream, proxy_protocol on: v1', async (t) => {
    await viaV1Balancer(t, NGINX, nginxPort)
  })

  await t.test('curl --haproxy-protocol from a trusted address: its own address as the source', async (t) => {
    const reply = await runCurl(['--haproxy-protocol', '--interface', CURL, '--write-out', '\n%{local_port}', `http://${app.address}/app`])
    t.equal(reply.code, 0, reply.stderr)
    const newline = reply.stdout.lastIndexOf('\n')
    const seen = JSON.parse(reply.stdout.slice(0, newline)) as Seen
    const localPort = Number(reply.stdout.slice(newline + 1))
    // The source (curl itself) is trusted too: it is a hop, and with no
    // X-Forwarded-For after it, it is also the client.
    t.strictSame([seen.ip, seen.ips, seen.originalIp, seen.proxyProtocol], [CURL, [CURL, CURL], CURL, header(1, [CURL, localPort], [APP, app.port])])
  })

  await t.test('a v2 header with an AWS VPC endpoint TLV (as an NLB sends it; crafted here)', async (t) => {
    const vpce = 'vpce-08d2bf15fac5001c9'
    const data = Buffer.concat([
      v2Header(['203.0.113.7', 40000], ['10.0.0.5', 443], [[0xea, Buffer.concat([Buffer.from([0x01]), Buffer.from(vpce, 'latin1')])]]),
      Buffer.from(request('/app'), 'latin1')
    ])
    const seen = rawBody((await sendRaw({ host: APP, port: app.port, from: CURL, data })).received)
    t.strictSame([seen.ip, seen.ips], ['203.0.113.7', [CURL, '203.0.113.7']])
    t.strictSame(seen.proxyProtocol, header(2, ['203.0.113.7', 40000], ['10.0.0.5', 443], [{ type: 0xea, value: '01' + hex(vpce) }]))
    // What docs/proxy-protocol.md's example does with request.proxyProtocol.tlvs.
    const tlv = seen.proxyProtocol?.tlvs.find((tlv) => tlv.type === 0xea && tlv.value.startsWith('01'))
    t.equal(Buffer.from(tlv?.value ?? '', 'hex').subarray(1).toString('utf8'), vpce)
  })

  await t.test('a client\'s own PROXY header, straight to the app from an untrusted address: never honored', async (t) => {
    const before = clientRequests(app).length
    const v1Line = `PROXY TCP4 6.6.6.6 ${APP} 1234 ${app.port}\r\n`
    const v2Bytes = v2Header(['6.6.6.6', 1234], [APP, app.port], [])
    for (const data of [v1Line + request('/app'), Buffer.concat([v2Bytes, Buffer.from(request('/app'), 'latin1')])]) {
      const reply = await sendRaw({ host: APP, port: app.port, from: CLIENT_A, data })
      t.ok(refused(reply.received), `answered 400 or closed: ${JSON.stringify(reply.received.slice(0, 40))}`)
    }
    const curl = await runCurl(['--haproxy-protocol', '--interface', CLIENT_A, '--output', '/dev/null', '--write-out', '%{http_code}', `http://${app.address}/app`])
    t.ok(curl.stdout === '400' || curl.code === 52, `curl: HTTP ${curl.stdout}, exit ${curl.code}`)
    t.equal(clientRequests(app).length, before, 'no request reached a route')
    t.strictSame(closedLogs(app).filter((entry) => entry.peer === CLIENT_A), [], 'an untrusted peer is not read at all')
  })

  await t.test('a client\'s own PROXY header behind HAProxy: HTTP bytes after the real header, never a second header', async (t) => {
    const before = clientRequests(app).length
    const reply = await sendRaw({ host: HAPROXY_V1, port: v1Port, from: CLIENT_A, data: `PROXY TCP4 6.6.6.6 ${HAPROXY_V1} 1234 ${v1Port}\r\n` + request('/app') })
    t.ok(refused(reply.received), `answered 400 or closed: ${JSON.stringify(reply.received.slice(0, 40))}`)
    t.equal(clientRequests(app).length, before, 'no request reached a route')
    t.notOk(app.requests.some((seen) => seen.ips.includes('6.6.6.6')), 'the forged source was never used')
  })

  await t.test('a trusted peer without a header (proxyProtocol: true): closed without a response', async (t) => {
    const before = clientRequests(app).length
    const reply = await sendRaw({ host: APP, port: app.port, from: HAPROXY_V1, data: request('/app') })
    t.strictSame(reply, { received: '', error: null }, 'closed, nothing sent back')
    const curl = await runCurl(['--interface', HAPROXY_V1, `http://${app.address}/app`])
    t.equal(curl.code, 52, `curl: empty reply (${curl.stderr.trim()})`)
    t.equal(clientRequests(app).length, before, 'no request reached a route')
    t.match(closedLogs(app).filter((entry) => entry.peer === HAPROXY_V1), [
      { peer: HAPROXY_V1, reason: /does not begin with a PROXY header/ },
      { peer: HAPROXY_V1, reason: /does not begin with a PROXY header/ }
    ], 'each logged at warn with the peer and the reason')
  })

  await t.test('a trusted peer with a malformed header: closed without a response', async (t) => {
    const before = clientRequests(app).length
    // A v1 port with a leading zero.
    const reply = await sendRaw({ host: APP, port: app.port, from: CURL, data: `PROXY TCP4 203.0.113.7 ${APP} 01234 ${app.port}\r\n` + request('/app') })
    t.strictSame(reply, { received: '', error: null }, 'closed, nothing sent back')
    t.equal(clientRequests(app).length, before, 'no request reached a route')
    t.match(closedLogs(app).filter((entry) => entry.peer === CURL), [{ peer: CURL, reason: /malformed PROXY header/ }])
  })
})

t.test('curl --haproxy-protocol over IPv6: a TCP6 line', async (t) => {
  if (!haveBinaries(t, ['curl'])) return
  const app = await startApp(t, V6, { app: { trustedProxies: V6, proxyProtocol: true } })
  const reply = await runCurl(['--globoff', '--haproxy-protocol', '--write-out', '\n%{local_port}', `http://${app.address}/app`])
  t.equal(reply.code, 0, reply.stderr)
  const newline = reply.stdout.lastIndexOf('\n')
  const seen = JSON.parse(reply.stdout.slice(0, newline)) as Seen
  t.strictSame([seen.ip, seen.ips, seen.proxyProtocol], [V6, [V6, V6], header(1, [V6, Number(reply.stdout.slice(newline + 1))], [V6, app.port])])
})

t.test('HAProxy passing TLS through to an HTTPS app', async (t) => {
  if (!haveBinaries(t, ['haproxy', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'pp-pass-cert'))
  const app = await startApp(t, APP, { app: { trustedProxies: HAPROXY_PASS, proxyProtocol: true } }, { tls: cert })
  const [port] = await freePorts(HAPROXY_PASS, 1)
  const haproxy = await startHaproxy(t, {
    recipe: 'haproxy/proxy-protocol-passthrough.cfg',
    vars: { LISTEN_HTTPS: `${HAPROXY_PASS}:${port}`, APP: app.address },
    source: HAPROXY_PASS
  })
  const https = { host: HAPROXY_PASS, port, path: '/app', from: CLIENT_A, ca: cert.pem }

  await t.test('HTTP/1.1: the app ends TLS, so the protocol is https; the header is not SSL', async (t) => {
    const { seen, localPort } = await getWithPort({ ...https, headers: [['Host', SITE]] })
    t.strictSame(view(seen), {
      ip: CLIENT_A,
      ips: [HAPROXY_PASS, CLIENT_A],
      hostname: SITE,
      host: SITE,
      port: null,
      protocol: 'https',
      originalIp: HAPROXY_PASS,
      originalHost: SITE,
      proxyProtocol: header(2, [CLIENT_A, localPort], [HAPROXY_PASS, port])
    })
  })

  await t.test('HTTP/2 (ALPN h2 with the app): the same header', async (t) => {
    const seen = await get2({ ...https, authority: 'Shop.Example.TEST:8443' })
    t.strictSame([seen.ip, seen.ips, seen.hostname, seen.port, seen.protocol, seen.originalIp], [CLIENT_A, [HAPROXY_PASS, CLIENT_A], 'Shop.Example.TEST', 8443, 'https', HAPROXY_PASS])
    t.match(seen.proxyProtocol, { version: 2, command: 'proxy', source: { address: CLIENT_A }, destination: { address: HAPROXY_PASS, port }, ssl: false, tlvs: [] })
  })

  await t.test('the plain TCP health checks (a LOCAL header, then nothing) keep the app up', async (t) => {
    // Only HAProxy connects to this app: two connections were the requests
    // above, any other is a check. (A check may be gone, reset by HAProxy,
    // before the app accepts it: its peer address then reads as undefined.)
    await until('a health check from HAProxy', () => app.connections.length > 2 ? true : undefined)
    noDownServer(t, haproxy)
    t.strictSame(closedLogs(app), [], 'nothing closed for its header')
    const seen = await get({ ...https, headers: [['Host', SITE]] })
    t.equal(seen.ip, CLIENT_A, 'still served')
  })
})

t.test('a chain: nginx (HTTP, X-Forwarded-For) → HAProxy (mode tcp, send-proxy) → app', async (t) => {
  if (!haveBinaries(t, ['haproxy', 'nginx', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'pp-chain-cert'))
  // The same chain twice: once with the edge on the list, once without.
  const trusted = await startApp(t, APP, { app: { trustedProxies: [CHAIN, EDGE], proxyProtocol: true } })
  const untrusted = await startApp(t, APP, { app: { trustedProxies: CHAIN, proxyProtocol: true } })
  const chainPorts = await freePorts(CHAIN, 2)
  const edgePorts = await freePorts(EDGE, 4)
  const chains = await Promise.all([trusted, untrusted].map(async (app, i) => {
    await Promise.all([
      startHaproxy(t, {
        recipe: 'haproxy/proxy-protocol-v1.cfg',
        vars: { LISTEN_HTTP: `${CHAIN}:${chainPorts[i]}`, APP: app.address },
        source: CHAIN
      }),
      startNginx(t, {
        recipe: 'nginx/site.conf',
        vars: {
          LISTEN_HTTP: `${EDGE}:${edgePorts[2 * i]}`,
          LISTEN_HTTPS: `${EDGE}:${edgePorts[2 * i + 1]}`,
          CERT: cert.cert,
          KEY: cert.key,
          APP: `${CHAIN}:${chainPorts[i]}`
        },
        bind: EDGE
      })
    ])
    return {
      http: { host: EDGE, port: edgePorts[2 * i], path: '/app', from: CLIENT_A },
      https: { host: EDGE, port: edgePorts[2 * i + 1], path: '/app', from: CLIENT_A, ca: cert.pem },
      chainPort: chainPorts[i]
    }
  }))

  /** The header HAProxy sent: its source is nginx's outgoing connection (any port). */
  function checkHeader (t: Test, seen: Seen, chainPort: number): void {
    const source = seen.proxyProtocol?.source
    t.ok(source !== null && source !== undefined && Number.isInteger(source.port) && source.port > 0, 'a source port')
    t.strictSame(seen.proxyProtocol, header(1, [EDGE, source?.port ?? 0], [CHAIN, chainPort]))
  }

  await t.test('edge trusted: the walk goes on from the PROXY source into X-Forwarded-*', async (t) => {
    const [chain] = chains
    const seen = await get({ ...chain.http, headers: [['Host', 'Shop.Example.TEST:8080'], ['X-Forwarded-For', '6.6.6.6']] })
    const { proxyProtocol, ...rest } = view(seen)
    t.strictSame(rest, {
      ip: CLIENT_A,
      ips: [CHAIN, EDGE, CLIENT_A],
      hostname: 'Shop.Example.TEST',
      host: 'Shop.Example.TEST:8080',
      port: 8080,
      protocol: 'http',
      originalIp: CHAIN,
      originalHost: 'shop.example.test'
    })
    t.strictSame(headerLines(seen, 'x-forwarded-for'), [`6.6.6.6, ${CLIENT_A}`])
    checkHeader(t, seen, chain.chainPort)

    const overTls = await get({ ...chain.https, headers: [['Host', SITE]] })
    t.strictSame([overTls.ip, overTls.ips, overTls.protocol], [CLIENT_A, [CHAIN, EDGE, CLIENT_A], 'https'], 'X-Forwarded-Proto from the edge')
  })

  await t.test('edge not trusted: the edge is the client, its headers are not read', async (t) => {
    const [, chain] = chains
    const seen = await get({ ...chain.http, headers: [['Host', 'Shop.Example.TEST:8080'], ['X-Forwarded-For', '6.6.6.6']] })
    const { proxyProtocol, ...rest } = view(seen)
    t.strictSame(rest, {
      ip: EDGE,
      ips: [CHAIN, EDGE],
      hostname: 'shop.example.test',
      host: 'shop.example.test',
      port: null,
      protocol: 'http',
      originalIp: CHAIN,
      originalHost: 'shop.example.test'
    })
    checkHeader(t, seen, chain.chainPort)

    const overTls = await get({ ...chain.https, headers: [['Host', SITE]] })
    t.strictSame([overTls.ip, overTls.ips, overTls.protocol], [EDGE, [CHAIN, EDGE], 'http'], 'X-Forwarded-Proto not read')
  })
})

t.test("proxyProtocol: 'optional' behind HAProxy send-proxy-v2", async (t) => {
  if (!haveBinaries(t, ['haproxy', 'curl'])) return
  const app = await startApp(t, APP, { app: { trustedProxies: HAPROXY_OPT, proxyProtocol: 'optional' } })
  const [port] = await freePorts(HAPROXY_OPT, 1)
  const haproxy = await startHaproxy(t, {
    recipe: 'haproxy/proxy-protocol-v2.cfg',
    vars: { LISTEN_HTTP: `${HAPROXY_OPT}:${port}`, APP: app.address, HEALTH_PATH: '/app' },
    source: HAPROXY_OPT
  })

  await t.test('through HAProxy: the header is read', async (t) => {
    const { seen, localPort } = await getWithPort({ host: HAPROXY_OPT, port, path: '/app', from: CLIENT_A, headers: [['Host', SITE]] })
    t.strictSame([seen.ip, seen.ips, seen.proxyProtocol], [CLIENT_A, [HAPROXY_OPT, CLIENT_A], header(2, [CLIENT_A, localPort], [HAPROXY_OPT, port])])
  })

  await t.test('a plain connection from the balancer\'s address (a health checker without a header) is served', async (t) => {
    const reply = await runCurl(['--interface', HAPROXY_OPT, `http://${app.address}/app`])
    t.equal(reply.code, 0, reply.stderr)
    const seen = JSON.parse(reply.stdout) as Seen
    t.strictSame([seen.ip, seen.ips, seen.originalIp, seen.proxyProtocol], [HAPROXY_OPT, [HAPROXY_OPT], HAPROXY_OPT, null])
  })

  await t.test('HAProxy\'s health checks (LOCAL) are served too', async (t) => {
    const check = await until('a health check from HAProxy', () => app.requests.find((seen) => seen.proxyProtocol?.command === 'local'))
    t.strictSame([check.ip, check.ips, check.proxyProtocol], [HAPROXY_OPT, [HAPROXY_OPT], LOCAL])
    noDownServer(t, haproxy)
  })

  await t.test('an untrusted client: plain HTTP is served, its PROXY header is not honored', async (t) => {
    const plain = rawBody((await sendRaw({ host: APP, port: app.port, from: CLIENT_A, data: request('/app') })).received)
    t.strictSame([plain.ip, plain.ips, plain.proxyProtocol], [CLIENT_A, [CLIENT_A], null])
    const before = clientRequests(app).length
    const reply = await sendRaw({ host: APP, port: app.port, from: CLIENT_A, data: `PROXY TCP4 6.6.6.6 ${APP} 1234 ${app.port}\r\n` + request('/app') })
    t.ok(refused(reply.received), `answered 400 or closed: ${JSON.stringify(reply.received.slice(0, 40))}`)
    t.equal(clientRequests(app).length, before, 'no request reached a route')
  })

  await t.test('a trusted peer that starts a header and breaks it: closed, as with true', async (t) => {
    const before = clientRequests(app).length
    const reply = await sendRaw({ host: APP, port: app.port, from: HAPROXY_OPT, data: 'PROXY TCP5 203.0.113.7 10.0.0.5 1234 80\r\n' + request('/app') })
    t.strictSame(reply, { received: '', error: null }, 'closed, nothing sent back')
    t.equal(clientRequests(app).length, before, 'no request reached a route')
    t.match(closedLogs(app), [{ peer: HAPROXY_OPT, reason: /malformed PROXY header/ }])
  })
})
