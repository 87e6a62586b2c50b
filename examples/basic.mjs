// npm run example:basic — the plugin behind one reverse proxy on this machine.
//
// Start it, then play the proxy yourself:
//   curl -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Forwarded-Host: shop.example' \
//        -H 'X-Forwarded-Proto: https' http://127.0.0.1:3000/
// The reply shows the client the proxy vouched for (ip, hostname, protocol) and
// what the socket saw (originalIp, originalHost). Send the same headers from
// another machine, one that is not trusted, and they are ignored.
//
// TRUSTED_PROXIES (default 'loopback') is the allowlist: your proxy's address
// or network, e.g. TRUSTED_PROXIES=10.0.0.0/8. LOG_LEVEL=debug makes the
// plugin say, for each request, which forwarded headers it ignored and why.

import Fastify from 'fastify'
import proxyFix from 'fastify-proxy-fix'

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

await app.register(proxyFix, {
  trustedProxies: process.env.TRUSTED_PROXIES ?? 'loopback'
})

app.get('/', async (request) => ({
  ip: request.ip,
  ips: request.ips,
  hostname: request.hostname,
  protocol: request.protocol,
  originalIp: request.originalIp,
  originalHost: request.originalHost
}))

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { app.close() })

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
