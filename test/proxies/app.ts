// The app behind the proxies: a real Fastify server with the plugin, one
// encapsulated context per set of plugin options ("profile"), each answering
// GET /<profile> with what the request looks like after the plugin.

import Fastify, { type FastifyInstance } from 'fastify'
import proxyFix, { type ProxyFixOptions, type ProxyHeader } from '../../lib/index'

export type Profiles = Record<string, ProxyFixOptions>

/** `request.proxyProtocol` as JSON: each TLV's value in hex. */
export interface SeenProxyHeader extends Omit<ProxyHeader, 'tlvs'> {
  tlvs: Array<{ type: number, value: string }>
}

/** What the app saw, as the route returns it. */
export interface Seen {
  ip: string
  ips: string[]
  hostname: string
  host: string
  port: number | null
  protocol: string
  originalIp: string
  originalHost: string
  /** `request.proxyProtocol`; only for a profile that reads PROXY headers. */
  proxyProtocol?: SeenProxyHeader | null
  /** The worker process that answered (for the cluster scenario). */
  pid: number
  /** The request headers exactly as they arrived, names in their case, repeats kept. */
  rawHeaders: string[]
}

export interface AppOptions {
  /** Serve HTTPS with this certificate and key (PEM), HTTP/2 and HTTP/1.1 (ALPN). */
  tls?: { cert: string, key: string }
  /** Every answer the app gives is also pushed here, in order. */
  requests?: Seen[]
  /** The app's log lines at warn and above (JSON), in order. */
  logs?: string[]
}

function seenHeader (header: ProxyHeader | null): SeenProxyHeader | null {
  if (header === null) return null
  return { ...header, tlvs: header.tlvs.map(({ type, value }) => ({ type, value: value.toString('hex') })) }
}

export function buildApp (profiles: Profiles, options: AppOptions = {}): FastifyInstance {
  const logs = options.logs
  const logger = logs === undefined ? false : { level: 'warn', stream: { write (line: string) { logs.push(line) } } }
  // Fastify's types pick the server kind from literal options; both kinds serve the same routes here.
  const app = (options.tls === undefined
    ? Fastify({ logger })
    : Fastify({ logger, http2: true, https: { ...options.tls, allowHTTP1: true } })) as unknown as FastifyInstance
  for (const [name, profileOptions] of Object.entries(profiles)) {
    const readsHeaders = profileOptions.proxyProtocol !== undefined && profileOptions.proxyProtocol !== false
    app.register(async function profile (child) {
      await child.register(proxyFix, profileOptions)
      child.get(`/${name}`, async (request): Promise<Seen> => {
        const seen: Seen = {
          ip: request.ip,
          ips: request.ips ?? [],
          hostname: request.hostname,
          host: request.host,
          port: request.port,
          protocol: request.protocol,
          originalIp: request.originalIp,
          originalHost: request.originalHost,
          ...(readsHeaders ? { proxyProtocol: seenHeader(request.proxyProtocol) } : {}),
          pid: process.pid,
          rawHeaders: request.raw.rawHeaders
        }
        options.requests?.push(seen)
        return seen
      })
    })
  }
  return app
}
