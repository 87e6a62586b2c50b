// npm run example:proxy-protocol — the plugin behind a TCP load balancer that
// speaks the PROXY protocol (AWS NLB, HAProxy `send-proxy`, nginx stream).
//
// Start it, then play the balancer yourself: a PROXY v1 line, then HTTP,
// on one connection from this machine (which is trusted):
//   printf 'PROXY TCP4 203.0.113.7 127.0.0.1 40000 3000\r\nGET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n' \
//     | nc 127.0.0.1 3000
// The reply shows the client from the PROXY header (ip, ips) and the header
// itself (proxyProtocol). `curl --haproxy-protocol http://127.0.0.1:3000/`
// sends one too, with curl's own address as the source. A plain
// `curl http://127.0.0.1:3000/` is served as well: PROXY_PROTOCOL=optional
// (the default here) reads a header when there is one, for health checkers
// that send none; PROXY_PROTOCOL=true closes a trusted connection without one.
//
// TRUSTED_PROXIES (default 'loopback') is the allowlist: your balancer's
// addresses. Behind an AWS NLB with a VPC endpoint service, /vpce answers the
// endpoint id the balancer put in its PROXY v2 header.

import Fastify from 'fastify'
import proxyFix from 'fastify-proxy-fix'

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

await app.register(proxyFix, {
  trustedProxies: process.env.TRUSTED_PROXIES ?? 'loopback',
  proxyProtocol: process.env.PROXY_PROTOCOL === 'true' ? true : 'optional'
})

app.get('/', async (request) => ({
  ip: request.ip,
  ips: request.ips,
  protocol: request.protocol,
  originalIp: request.originalIp,
  proxyProtocol: request.proxyProtocol
}))

// AWS puts the VPC endpoint id in TLV 0xEA, after a one-byte subtype 0x01.
const PP2_TYPE_AWS = 0xea
const PP2_SUBTYPE_AWS_VPCE_ID = 0x01
app.get('/vpce', async (request) => {
  const tlv = request.proxyProtocol?.tlvs.find(({ type, value }) => type === PP2_TYPE_AWS && value[0] === PP2_SUBTYPE_AWS_VPCE_ID)
  return { vpcEndpointId: tlv === undefined ? null : tlv.value.subarray(1).toString('ascii') }
})

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { app.close() })

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
