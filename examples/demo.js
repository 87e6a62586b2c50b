'use strict'
// `npm run demo`: an app behind a simulated two-proxy chain, on loopback only.
//
//   client 127.0.0.5 ──▶ edge proxy 127.0.0.3 ──▶ inner proxy 127.0.0.2 ──▶ app 127.0.0.1
//
// Each proxy appends the address it saw to X-Forwarded-For and sets
// X-Forwarded-Proto; the edge passes a client's X-Forwarded-Host through
// (as many setups do). The app trusts only the two proxies.

const http = require('node:http')
const Fastify = require('fastify')
const proxyFix = require('fastify-proxy-fix')

function startProxy (name, host, target, sourceAddress) {
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers }
    const prior = headers['x-forwarded-for']
    headers['x-forwarded-for'] = prior ? `${prior}, ${req.socket.remoteAddress}` : req.socket.remoteAddress
    headers['x-forwarded-proto'] = headers['x-forwarded-proto'] ?? 'https' // the edge terminates TLS
    headers['x-forwarded-host'] = headers['x-forwarded-host'] ?? headers.host
    const upstream = http.request({ host: target.host, port: target.port, localAddress: sourceAddress, method: req.method, path: req.url, headers }, (reply) => {
      res.writeHead(reply.statusCode, reply.headers)
      reply.pipe(res)
    })
    upstream.on('error', (error) => { res.writeHead(502); res.end(`${name}: ${error.message}`) })
    req.pipe(upstream)
  })
  return new Promise((resolve) => server.listen(0, host, () => resolve(server)))
}

function get (host, port, { from, headers = {} }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: '/', localAddress: from, headers: { host: 'shop.example:8443', ...headers } }, (res) => {
      let body = ''
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function main () {
  const app = Fastify()
  await app.register(proxyFix, { trustedProxies: ['127.0.0.2', '127.0.0.3'] })
  app.get('/', async (request) => ({
    ip: request.ip,
    originalIp: request.originalIp,
    hostname: request.hostname,
    protocol: request.protocol
  }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const appAddress = app.server.address()
  const inner = await startProxy('inner', '127.0.0.2', { host: '127.0.0.1', port: appAddress.port }, '127.0.0.2')
  const edge = await startProxy('edge', '127.0.0.3', { host: '127.0.0.2', port: inner.address().port }, '127.0.0.3')
  const edgePort = edge.address().port

  const cases = [
    ['client → edge → inner → app', await get('127.0.0.3', edgePort, { from: '127.0.0.5' })],
    ['client forges X-Forwarded-For: 6.6.6.6', await get('127.0.0.3', edgePort, { from: '127.0.0.5', headers: { 'x-forwarded-for': '6.6.6.6' } })],
    ['client sends malformed X-Forwarded-Host', await get('127.0.0.3', edgePort, { from: '127.0.0.6', headers: { 'x-forwarded-host': 'evil.example/admin' } })],
    ['client bypasses the proxies, forges all', await get('127.0.0.1', appAddress.port, {
      from: '127.0.0.9',
      headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }
    })]
  ]

  const rows = [['case', 'ip', 'originalIp', 'hostname', 'protocol']]
  for (const [name, { body }] of cases) rows.push([name, body.ip, body.originalIp, body.hostname, body.protocol])
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)))
  const line = (row) => row.map((cell, i) => String(cell).padEnd(widths[i])).join('  ')
  console.log('App at 127.0.0.1 trusts 127.0.0.2 and 127.0.0.3; the client is 127.0.0.5 (or .6, .9).\n')
  console.log(line(rows[0]))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows.slice(1)) console.log(line(row))

  await new Promise((resolve) => edge.close(resolve))
  await new Promise((resolve) => inner.close(resolve))
  await app.close()
  return cases.map(([, { body }]) => body)
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}

module.exports = main
