// npm run example:rate-limit — @fastify/rate-limit behind a proxy.
//
// @fastify/rate-limit keys its counters on request.ip. Behind a proxy without
// this plugin, every visitor shares the proxy's address and so one limit; with
// it, each client behind a trusted proxy has its own, and a client that talks
// to the app directly cannot dodge its limit by writing X-Forwarded-For.
//
// Register fastify-proxy-fix first, so every later plugin sees the client.

import Fastify from 'fastify'
import rateLimit from '@fastify/rate-limit'
import proxyFix from 'fastify-proxy-fix'

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

await app.register(proxyFix, {
  trustedProxies: process.env.TRUSTED_PROXIES ?? 'loopback'
})
await app.register(rateLimit, {
  max: Number(process.env.RATE_LIMIT_MAX ?? 5),
  timeWindow: '1 minute'
})

app.get('/', async (request) => ({ ip: request.ip }))

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { app.close() })

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
