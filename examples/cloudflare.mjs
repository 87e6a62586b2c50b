// npm run example:cloudflare — an origin server behind Cloudflare.
//
// Cloudflare connects from its own published ranges and names the visitor in
// CF-Connecting-IP. The plugin believes that header only from those ranges,
// which this example reads from a file you keep current, one CIDR block per
// line ('#' starts a comment):
//
//   { curl -sSf https://www.cloudflare.com/ips-v4; echo; curl -sSf https://www.cloudflare.com/ips-v6; echo; } \
//     | grep -v '^$' > cloudflare-ips.txt
//
// (a newline after each list: the first one has no final newline, and
// `curl URL1 URL2` would glue its last block to the second's first)
//
// Refresh it on a schedule and restart the app. An empty or unreadable file
// stops the app at startup instead of silently trusting nobody. CLOUDFLARE_RANGES points at another
// file (the test points it at one that lists 127.0.0.1, to play Cloudflare).

import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import proxyFix from 'fastify-proxy-fix'

/** The CIDR blocks in a ranges file: one per line, blank lines and '#' comments ignored. */
function loadRanges (file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '')
}

const rangesFile = process.env.CLOUDFLARE_RANGES ?? new URL('./cloudflare-ips.txt', import.meta.url)
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

await app.register(proxyFix, {
  trustedProxies: loadRanges(rangesFile),
  clientIpHeader: 'cf-connecting-ip',
  // Cloudflare sets X-Forwarded-Proto, but passes a visitor's X-Forwarded-Host
  // through untouched, and keeps the visitor's Host: read the host from Host.
  headers: { host: false }
})

app.get('/', async (request) => ({
  ip: request.ip,
  protocol: request.protocol,
  hostname: request.hostname,
  originalIp: request.originalIp
}))

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { app.close() })

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
