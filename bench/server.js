'use strict'

// One benchmark server, in its own process (servers share no heap and no JIT
// state). Started by bench/e2e.js with the variant name as argument; it
// listens on 127.0.0.1 (port chosen by the OS), reports the port over IPC
// and, when asked, its CPU time. Every variant answers the same handler:
// ip, hostname and protocol.
//
//   bare          Fastify, no proxy support: answers from the socket
//   trustProxy    Fastify's own trustProxy, the 2-entry allowlist
//   plugin        fastify-proxy-fix, the 2-entry allowlist
//   plugin-10k    fastify-proxy-fix, the 10,000-entry allowlist
//   plugin-proxyProtocol
//                 fastify-proxy-fix, the 2-entry allowlist, proxyProtocol: true
//                 (every connection from the loopback must begin with a header)

const path = require('node:path')
const Fastify = require('fastify')
const { LIB, SMALL, largeAllowlist } = require('./inputs')

/** A Fastify app of one variant, with the benchmark route. */
async function build (variant) {
  let app
  if (variant === 'bare') app = Fastify()
  else if (variant === 'trustProxy') app = Fastify({ trustProxy: SMALL })
  else if (variant === 'plugin' || variant === 'plugin-10k') {
    app = Fastify()
    await app.register(require(path.join(LIB, 'index.js')), { trustedProxies: variant === 'plugin' ? SMALL : largeAllowlist() })
  } else if (variant === 'plugin-proxyProtocol') {
    app = Fastify()
    await app.register(require(path.join(LIB, 'index.js')), { trustedProxies: SMALL, proxyProtocol: true })
  } else throw new Error(`unknown variant ${variant}`)
  app.get('/', async (request) => ({ ip: request.ip, hostname: request.hostname, protocol: request.protocol }))
  return app
}

async function main () {
  const app = await build(process.argv[2])
  await app.listen({ host: '127.0.0.1', port: 0 })
  process.on('message', (message) => {
    if (message === 'usage') process.send({ cpu: process.cpuUsage() })
  })
  process.send({ port: app.server.address().port })
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}

module.exports = { build }
