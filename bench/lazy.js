'use strict'

// How often is a request resolved? The plugin resolves lazily: on the first
// read of ip, ips, host, hostname, port, protocol or forwardedPrefix, once per
// request, and not at all when none is read; with onInvalid: 'reject' an
// onRequest hook resolves every request once. This counts the calls to
// resolve() (through the compiled module's export, which the plugin calls)
// for a few handlers, with Fastify's inject.

const path = require('node:path')
const Fastify = require('fastify')
const { SMALL, HEADERS } = require('./allowlist')

const LIB = path.resolve(process.env.BENCH_LIB ?? path.join(__dirname, '..', 'dist'))

const HANDLERS = {
  'reads nothing': () => 'ok',
  'reads ip once': (request) => request.ip,
  'reads ip, ips, hostname, protocol 3× each': (request) => {
    const seen = []
    for (let k = 0; k < 3; k++) seen.push(request.ip, request.ips.length, request.hostname, request.protocol)
    return seen.join(' ')
  }
}

async function countResolutions () {
  const resolveModule = require(path.join(LIB, 'resolve.js'))
  const original = resolveModule.resolve
  let calls = 0
  resolveModule.resolve = function countingResolve (...args) {
    calls++
    return original.apply(this, args)
  }
  const proxyFix = require(path.join(LIB, 'index.js'))
  const rows = []
  try {
    const scenarios = []
    for (const onInvalid of ['ignore', 'reject']) {
      for (const [name, handler] of Object.entries(HANDLERS)) scenarios.push({ onInvalid, name, handler })
    }
    // Fastify's request logger reads request.ip (and host) for its "incoming request" line.
    scenarios.push({ onInvalid: 'ignore', name: 'reads nothing, Fastify logger on', handler: HANDLERS['reads nothing'], logger: true })
    for (const { onInvalid, name, handler, logger } of scenarios) {
      const app = Fastify(logger ? { logger: { level: 'info', stream: { write () {} } } } : {})
      await app.register(proxyFix, { trustedProxies: SMALL, onInvalid })
      app.get('/', handler)
      await app.ready()
      calls = 0
      const requests = 10
      for (let k = 0; k < requests; k++) {
        const response = await app.inject({ method: 'GET', url: '/', headers: HEADERS, remoteAddress: '127.0.0.1' })
        if (response.statusCode !== 200) throw new Error(`${name}: status ${response.statusCode}`)
      }
      rows.push({ onInvalid, handler: name, requests, resolutions: calls, perRequest: calls / requests })
      await app.close()
    }
  } finally {
    resolveModule.resolve = original
  }
  return rows
}

function table (rows) {
  return ['| onInvalid | handler | resolutions per request |', '|---|---|---:|',
    ...rows.map((r) => `| ${r.onInvalid} | ${r.handler} | ${r.perRequest} |`)].join('\n')
}

if (require.main === module) {
  countResolutions().then((rows) => console.log(table(rows))).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}

module.exports = { countResolutions, table }
