// One raw Node request in, everything the plugin decorates a request with
// out: the framework-free `createResolver`, and the fallbacks (what Fastify
// says without the plugin) that the plugin's getters share.

import { normalizeOptions, type ProxyFixOptions } from './options'
import { hostnameOf, requestHost, resolve, type InvalidValue, type Resolution } from './resolve'
import { proxyHeaderOf } from './connection'
import type { RequestHeaders } from './list'
import type { ProxyHeader } from './proxy-header'

/** What the resolver reads of a request: Node's `IncomingMessage` and `Http2ServerRequest` both fit. */
export interface RawRequest {
  socket?: { remoteAddress?: string, encrypted?: boolean } | null
  headers: RequestHeaders
  /** Header lines as received; `originalHost` prefers them, so a rewritten `headers.host` does not hide the received one. */
  rawHeaders?: readonly string[]
}

/** Everything the plugin decorates a request with, computed for one raw request. */
export interface ResolvedRequest {
  /** Whether the socket peer is a trusted proxy (only then were forwarded headers read). */
  trusted: boolean
  /** The client address; the socket peer's when it is untrusted; `undefined` without a socket. */
  ip: string | undefined
  /** The addresses walked, nearest first: `[socket peer, …, client]`. */
  ips: string[]
  host: string
  hostname: string
  port: number | null
  protocol: 'http' | 'https'
  /** The validated path prefix without a trailing slash, or `''`. */
  prefix: string
  originalIp: string | undefined
  originalHost: string
  /** The first malformed value a trusted proxy sent, or null. The caller decides what to do with it. */
  invalid: InvalidValue | null
  /** The connection's PROXY header (read by the plugin with `proxyProtocol`), or null. */
  proxyProtocol: ProxyHeader | null
}

export type ProxyResolver = (request: RawRequest) => ResolvedRequest

/** The Host header as the client sent it: from `rawHeaders` when there are any. */
export function receivedHost (request: RawRequest): string {
  const lines = request.rawHeaders
  if (lines !== undefined) {
    let authority: string | undefined
    for (let i = 0; i < lines.length; i += 2) {
      const name = lines[i]
      if (name.length === 4 && name.toLowerCase() === 'host') return lines[i + 1]
      if (authority === undefined && name === ':authority') authority = lines[i + 1]
    }
    if (authority !== undefined) return authority
  }
  return requestHost(request.headers)
}

const PORT = /:(\d+)$/

/** The port of a Host value, or null when it has none (Fastify's rule). */
function portOf (host: string): number | null {
  const match = PORT.exec(host)
  return match === null ? null : parseInt(match[1], 10)
}

/** `request.host` and its parts for a resolution: the forwarded ones, or the received Host's. */
export function hostFor (r: Resolution | null, headers: RequestHeaders): string {
  return r?.host ?? requestHost(headers)
}

export function hostnameFor (r: Resolution | null, headers: RequestHeaders): string {
  return r?.hostname ?? hostnameOf(requestHost(headers))
}

export function portFor (r: Resolution | null, headers: RequestHeaders): number | null {
  return r !== null && r.port !== undefined ? r.port : portOf(requestHost(headers))
}

export function protocolFor (r: Resolution | null, socket: RawRequest['socket']): 'http' | 'https' | undefined {
  if (r?.protocol != null) return r.protocol
  if (socket == null) return undefined
  return socket.encrypted === true ? 'https' : 'http'
}

/**
 * Compiles the options (throwing a `ProxyFixError` when they are wrong, as the
 * plugin does at registration) and returns a function that resolves one raw
 * request. Its result has every value, also for untrusted peers (then they are
 * what the socket and the `Host` header say). It never rejects: a malformed
 * value is reported in `invalid`, whatever `onInvalid` says.
 */
export function createResolver (options: ProxyFixOptions): ProxyResolver {
  const config = normalizeOptions(options)
  return function resolveRequest (request: RawRequest): ResolvedRequest {
    const socket = request.socket ?? undefined
    const headers = request.headers
    const r = resolve(config, socket?.remoteAddress, headers, config.proxyProtocol === false ? null : proxyHeaderOf(socket))
    return {
      trusted: r?.trusted ?? false,
      ip: r?.ip,
      ips: r?.ips ?? [],
      host: hostFor(r, headers),
      hostname: hostnameFor(r, headers),
      port: portFor(r, headers),
      protocol: protocolFor(r, socket) ?? 'http',
      prefix: r?.prefix ?? '',
      originalIp: r?.peer,
      originalHost: receivedHost(request),
      invalid: r?.invalid ?? null,
      proxyProtocol: r?.proxy ?? null
    }
  }
}
