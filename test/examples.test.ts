// Every example under examples/ runs as its npm script says, answers as its
// comments promise, and exits cleanly on SIGTERM. The examples import the
// package by name, so they run against the built dist/ (npm test builds first).
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = join(__dirname, '..')
const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts

interface Running {
  port: number
  lines: any[]
  child: ChildProcess
}

/** Starts `npm run example:<name>` (its `node <file>` command, without npm in between) on a free port. */
async function start (name: string, env: Record<string, string> = {}): Promise<Running> {
  const script = scripts[`example:${name}`]
  const match = /^node (examples\/[\w.-]+\.mjs)$/.exec(script ?? '')
  if (match === null) throw new Error(`package.json has no "example:${name}": "node examples/…" script (got ${script})`)
  const child = spawn(process.execPath, [match[1]], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: any[] = []
  let stderr = ''
  child.stderr?.on('data', (chunk) => { stderr += chunk })
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = ''
    child.stdout?.on('data', (chunk) => {
      buffered += chunk
      let newline: number
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline))
        buffered = buffered.slice(newline + 1)
        lines.push(line)
        const listening = /^Server listening at http:\/\/127\.0\.0\.1:(\d+)$/.exec(line.msg)
        if (listening !== null) resolve(Number(listening[1]))
      }
    })
    child.once('exit', (code) => reject(new Error(`example:${name} exited with ${code} before listening:\n${stderr}`)))
  })
  return { port, lines, child }
}

/** SIGTERM, then the exit code, once stdout and stderr are drained ('close', not 'exit'). */
async function stop (running: Running): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => running.child.once('close', (code) => resolve(code)))
  running.child.kill('SIGTERM')
  return await exited
}

async function get (port: number, headers: Record<string, string>, from = '127.0.0.1'): Promise<{ status: number, body: any }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress: from, headers: { host: 'backend:3000', ...headers } }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end()
  })
}

const forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https' }

t.test('example:basic — a trusted proxy on loopback', async (t) => {
  const app = await start('basic')
  t.teardown(() => { app.child.kill() })
  t.same((await get(app.port, forwarded)).body, {
    ip: '203.0.113.7',
    ips: ['127.0.0.1', '203.0.113.7'],
    hostname: 'shop.example',
    protocol: 'https',
    originalIp: '127.0.0.1',
    originalHost: 'backend:3000'
  })
  t.ok(app.lines.some((line) => line.msg === 'fastify-proxy-fix: trusting loopback; reading client from x-forwarded-for, host from x-forwarded-host, protocol from x-forwarded-proto; malformed values are ignored'),
    'the startup line says what is trusted')
  t.equal(await stop(app), 0, 'exits cleanly on SIGTERM')
})

t.test('example:basic — a peer that is not on TRUSTED_PROXIES, explained at LOG_LEVEL=debug', async (t) => {
  const app = await start('basic', { TRUSTED_PROXIES: '10.0.0.0/8', LOG_LEVEL: 'debug' })
  t.teardown(() => { app.child.kill() })
  const { body } = await get(app.port, forwarded)
  t.same([body.ip, body.hostname, body.protocol], ['127.0.0.1', 'backend', 'http'], 'nothing forwarded is believed')
  t.equal(await stop(app), 0)
  // Read the log after the child's stdout has closed: the reply can arrive before the line does.
  t.ok(app.lines.some((line) => line.msg === 'fastify-proxy-fix: forwarded headers ignored: peer 127.0.0.1 is not a trusted proxy'))
})

t.test('example:cloudflare — CF-Connecting-IP only from the ranges in the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fastify-proxy-fix-cf-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const headers = { 'cf-connecting-ip': '198.51.100.23', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }

  const real = await start('cloudflare')
  t.teardown(() => { real.child.kill() })
  const startup = real.lines.find((line) => String(line.msg).startsWith('fastify-proxy-fix: trusting'))
  t.match(startup.msg, 'trusting 22 entries (15 IPv4, 7 IPv6; listed at debug level)', 'the shipped file lists 15 IPv4 and 7 IPv6 ranges')
  t.same((await get(real.port, headers)).body, { ip: '127.0.0.1', protocol: 'http', hostname: 'backend', originalIp: '127.0.0.1' },
    'loopback is not Cloudflare: the header is ignored')
  t.equal(await stop(real), 0)

  const ranges = join(dir, 'ranges.txt')
  writeFileSync(ranges, '# this machine plays Cloudflare\n\n127.0.0.1/32   # loopback\n')
  const local = await start('cloudflare', { CLOUDFLARE_RANGES: ranges })
  t.teardown(() => { local.child.kill() })
  t.same((await get(local.port, headers)).body, { ip: '198.51.100.23', protocol: 'https', hostname: 'backend', originalIp: '127.0.0.1' },
    'from a listed range: the visitor, its protocol, and the Host it asked for (X-Forwarded-Host is not read)')
  t.equal(await stop(local), 0)

  writeFileSync(ranges, '# nothing yet\n')
  await t.rejects(start('cloudflare', { CLOUDFLARE_RANGES: ranges }), /FST_PROXY_FIX_TRUSTED_PROXIES_REQUIRED/, 'an empty file stops the app')
})

t.test('example:rate-limit — one limit per client behind the proxy, none to escape for a direct client', async (t) => {
  // 127.0.0.2 plays the proxy; 127.0.0.1 is a client that talks to the app directly.
  const app = await start('rate-limit', { TRUSTED_PROXIES: '127.0.0.2', RATE_LIMIT_MAX: '2' })
  t.teardown(() => { app.child.kill() })
  const statuses = async (headers: Record<string, string>, from: string, n: number): Promise<number[]> => {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push((await get(app.port, headers, from)).status)
    return out
  }
  t.same(await statuses({ 'x-forwarded-for': '203.0.113.1' }, '127.0.0.2', 3), [200, 200, 429], 'alice')
  t.same(await statuses({ 'x-forwarded-for': '203.0.113.2' }, '127.0.0.2', 2), [200, 200], 'bob has his own limit')
  const direct: number[] = []
  for (let i = 1; i <= 3; i++) direct.push((await get(app.port, { 'x-forwarded-for': `192.0.2.${i}` }, '127.0.0.1')).status)
  t.same(direct, [200, 200, 429], 'a new forged address each time does not reset a direct client\'s limit')
  t.equal(await stop(app), 0)
})

/** Sends `bytes` on one connection from `from` and returns the JSON body of the reply, or null when closed without one. */
async function raw (port: number, bytes: Buffer | string, from = '127.0.0.1'): Promise<any> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => socket.end(bytes))
    let reply = ''
    socket.on('data', (chunk) => { reply += chunk })
    socket.on('error', reject)
    socket.on('close', () => resolve(reply === '' ? null : JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))))
  })
}

t.test('example:proxy-protocol — the client from the balancer\'s PROXY header, health checks without one', async (t) => {
  // 127.0.0.2 plays the balancer; 127.0.0.3 is a client that talks to the app directly.
  const app = await start('proxy-protocol', { TRUSTED_PROXIES: '127.0.0.2' })
  t.teardown(() => { app.child.kill() })
  const request = 'GET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n'
  t.match(await raw(app.port, 'PROXY TCP4 203.0.113.7 127.0.0.1 40000 3000\r\n' + request, '127.0.0.2'), {
    ip: '203.0.113.7',
    ips: ['127.0.0.2', '203.0.113.7'],
    originalIp: '127.0.0.2',
    proxyProtocol: { version: 1, command: 'proxy', source: { address: '203.0.113.7', port: 40000 } }
  }, 'the printf | nc line of the comments')
  t.match(await raw(app.port, request, '127.0.0.2'), { ip: '127.0.0.2', proxyProtocol: null }, 'a health check without a header')
  const forged = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: app.port, localAddress: '127.0.0.3' }, () => socket.end('PROXY TCP4 203.0.113.7 127.0.0.1 1 2\r\n' + request))
    let reply = ''
    socket.on('data', (chunk) => { reply += chunk })
    socket.on('close', () => resolve(reply))
  })
  t.match(forged, /^HTTP\/1\.1 400 /, 'a direct client cannot send its own PROXY header')

  const vpce = Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-08d2bf15fac5001c9')])
  const block = Buffer.concat([Buffer.from([203, 0, 113, 7, 127, 0, 0, 1, 0x9c, 0x40, 0x0b, 0xb8, 0xea, 0, vpce.length]), vpce])
  const v2 = Buffer.concat([Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1'), Buffer.from([0x21, 0x11, 0, block.length]), block])
  t.same(await raw(app.port, Buffer.concat([v2, Buffer.from(request.replace('GET / ', 'GET /vpce '))]), '127.0.0.2'),
    { vpcEndpointId: 'vpce-08d2bf15fac5001c9' }, '/vpce reads the AWS TLV')
  t.equal(await stop(app), 0)

  const strict = await start('proxy-protocol', { TRUSTED_PROXIES: '127.0.0.2', PROXY_PROTOCOL: 'true' })
  t.teardown(() => { strict.child.kill() })
  t.equal(await raw(strict.port, request, '127.0.0.2'), null, 'PROXY_PROTOCOL=true: a trusted connection without a header is closed')
  for (let i = 0; i < 200 && !strict.lines.some((line) => line.level === 40); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.match(strict.lines.find((line) => line.level === 40), { peer: '127.0.0.2', reason: /does not begin with a PROXY header/ }, 'and logged at warn')
  t.equal(await stop(strict), 0)
})
