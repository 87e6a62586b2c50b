// The app behind the proxies: a real Fastify server with the plugin, one
// encapsulated context per set of plugin options ("profile"), each answering
// GET /<profile> with what the request looks like after the plugin.

import Fastify, { type FastifyInstance } from 'fastify'
import proxyFix, { type ProxyFixOptions } from '../../lib/index'

export type Profiles = Record<string, ProxyFixOptions>

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
  /** The worker process that answered (for the cluster scenario). */
  pid: number
  /** The request headers exactly as they arrived, names in their case, repeats kept. */
  rawHeaders: string[]
}

export function buildApp (profiles: Profiles): FastifyInstance {
  const app = Fastify({ logger: false })
  for (const [name, options] of Object.entries(profiles)) {
    app.register(async function profile (child) {
      await child.register(proxyFix, options)
      child.get(`/${name}`, async (request): Promise<Seen> => ({
        ip: request.ip,
        ips: request.ips ?? [],
        hostname: request.hostname,
        host: request.host,
        port: request.port,
        protocol: request.protocol,
        originalIp: request.originalIp,
        originalHost: request.originalHost,
        pid: process.pid,
        rawHeaders: request.raw.rawHeaders
      }))
    })
  }
  return app
}
