'use strict'

// One benchmark server, in its own process (so servers share no heap and no
// JIT state). Started by bench/e2e.js with the variant name as argument; it
// listens on 127.0.0.1, port chosen by the OS, and reports the port over IPC.
// Every variant answers the same handler: ip, hostname and protocol.
//
//   bare         Fastify, no proxy support: answers from the socket
//   trustProxy   Fastify's own trustProxy: ['127.0.0.1', '10.0.0.0/8']
//   plugin       fastify-proxy-fix, trustedProxies: ['127.0.0.1', '10.0.0.0/8']
//   plugin-10k   fastify-proxy-fix with the 10,000-entry allowlist
//   plugin-reject  as plugin, with onInvalid: 'reject' (resolved in onRequest)
//   plugin-unread  as plugin, but the handler reads none of the fields (lazy: nothing is resolved)

const path = require('node:path')
const Fastify = require('fastify')
const { SMALL, EXPECTED, largeAllowlist } = require('./allowlist')

const LIB = path.resolve(process.env.BENCH_LIB ?? path.join(__dirname, '..', 'dist'))

async function build (variant) {
  if (variant === 'bare') return Fastify()
  if (variant === 'trustProxy') return Fastify({ trustProxy: SMALL })
  const proxyFix = require(path.join(LIB, 'index.js'))
  const app = Fastify()
  const options = { trustedProxies: variant === 'plugin-10k' ? largeAllowlist() : SMALL }
  if (variant === 'plugin-reject') options.onInvalid = 'reject'
  await app.register(proxyFix, options)
  return app
}

async function main () {
  const variant = process.argv[2]
  const app = await build(variant)
  if (variant === 'plugin-unread') app.get('/', async () => EXPECTED)
  else app.get('/', async (request) => ({ ip: request.ip, hostname: request.hostname, protocol: request.protocol }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  // The parent asks for CPU time and heap figures between rounds.
  process.on('message', (message) => {
    if (message === 'usage') process.send({ cpu: process.cpuUsage(), memory: process.memoryUsage() })
    if (message === 'gc' && global.gc) {
      // Let the last connections close first, then collect everything twice.
      setTimeout(() => {
        global.gc()
        global.gc()
        process.send({ memory: process.memoryUsage() })
      }, 250)
    }
  })
  process.send({ port: app.server.address().port })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
