// The Fastify glue: compile the options once, then answer `request.ip`,
// `hostname`, `protocol`… from a resolution computed at most once per request.

import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { httpErrors } from '@fastify/sensible'
import { allowlistListing, explain, familyHint, risks, summary } from './diagnostics'
import { ProxyFixError, codes, excerpt } from './errors'
import { normalizeOptions, type Config, type ProxyFixHeaders, type ProxyFixOptions } from './options'
import { resolve, trustsPeer, type InvalidValue, type Resolution } from './resolve'
import {
  createResolver, hostFor, hostnameFor, portFor, protocolFor, receivedHost,
  type ProxyResolver, type RawRequest, type ResolvedRequest
} from './request'
import { proxyHeaderOf, readProxyProtocol, unreadableServer } from './connection'
import type { TrustFunction } from './allowlist'
import type { ProxyEndpoint, ProxyHeader, ProxyTLV } from './proxy-header'

declare module 'fastify' {
  interface FastifyRequest {
    /** The socket peer's address, as Fastify reports it without the plugin. */
    originalIp: string
    /** The `Host` header (or HTTP/2 `:authority`) as received; `''` when there is neither. */
    originalHost: string
    /** The validated path prefix from the prefix header, without a trailing slash, or `''`. */
    forwardedPrefix: string
    /** The PROXY protocol header of the request's connection (with `proxyProtocol`), or null. */
    proxyProtocol: ProxyHeader | null
  }
}

/** Per-request cache: null until resolved, then the resolution. (A request
 *  without a socket resolves to null, so each read resolves it again: at
 *  once, since there is nothing to read.) */
const kResolution = Symbol('fastify-proxy-fix.resolution')

/** Fastify's logger type; pino (and most loggers) can also say whether a level is on. */
type Logger = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }

interface ProxyFixRequest {
  [kResolution]: Resolution | null | undefined
  raw: FastifyRequest['raw']
  log?: Logger
}

// Operator hints are logged once per peer address, for this many addresses at most.
const HINTED_PEERS = 100
// A throwing trust function is logged at most this often.
const TRUST_ERROR_INTERVAL = 60_000

// The 400's message is at most 200 characters: the fixed words take 40, the
// value's excerpt at most 64 and `...`. A header name (an ASCII token) is
// given whole up to NAME_ROOM characters, and the value's excerpt shrinks to
// make room for it.
const MESSAGE_ROOM = 200 - 'Invalid  header from a trusted proxy: ""'.length
const NAME_ROOM = 120

/**
 * The 400 for a malformed value from a trusted proxy: Fastify's error body, a
 * short escaped message. Built with @fastify/sensible's httpErrors, so that it
 * is the same HttpError (statusCode, expose) that apps using sensible already
 * handle.
 */
function invalidHeaderError (invalid: InvalidValue): Error {
  const header = excerpt(invalid.header, NAME_ROOM)
  const value = excerpt(invalid.value, Math.min(64, MESSAGE_ROOM - header.length - 3))
  const error = httpErrors.badRequest(`Invalid ${header} header from a trusted proxy: "${value}"`) as Error & { code?: string }
  error.code = codes.INVALID_HEADER
  return error
}

/** Whether lines of `level` would be written: false for loggers that cannot tell. */
function enabled (log: Logger | undefined, level: string): log is Logger {
  return typeof log?.isLevelEnabled === 'function' && log.isLevelEnabled(level)
}

// Fastify internals, in the one place that touches them: the request class
// of this context (to define the getters on its prototype), and the options
// the instance was created with (to refuse its own trustProxy).
function internal<T> (instance: FastifyInstance, description: string): T | undefined {
  const key = Object.getOwnPropertySymbols(instance).find((s) => s.description === description)
  return key === undefined ? undefined : (instance as unknown as Record<symbol, T>)[key]
}

function requestPrototype (instance: FastifyInstance): object {
  const requestClass = internal<{ prototype: object }>(instance, 'fastify.Request')
  /* c8 ignore next 3 */
  if (requestClass === undefined) {
    throw new ProxyFixError(codes.OPTIONS, 'cannot find the Fastify request class (is this Fastify 5?)')
  }
  return requestClass.prototype
}

function trustProxyOption (instance: FastifyInstance): unknown {
  return internal<{ trustProxy?: unknown }>(instance, 'fastify.options')?.trustProxy
}

function proxyFix (instance: FastifyInstance, options: ProxyFixOptions, done: (error?: Error) => void): void {
  try {
    install(instance, options)
  } catch (error) {
    done(error as Error)
    return
  }
  done()
}

function install (instance: FastifyInstance, options: ProxyFixOptions): void {
  const trustProxy = trustProxyOption(instance)
  if (trustProxy !== undefined && trustProxy !== false && trustProxy !== 0 && trustProxy !== '') {
    throw new ProxyFixError(codes.TRUST_PROXY_CONFLICT,
      "Fastify's own trustProxy option is on; it would disagree with fastify-proxy-fix. Remove trustProxy and move its value to trustedProxies")
  }
  const config: Config = normalizeOptions(options)
  const proto = requestPrototype(instance)
  if ('originalIp' in proto) {
    const where = Object.hasOwn(proto, 'originalIp') ? 'in this context' : 'in a parent context'
    throw new ProxyFixError(codes.CONFLICTING_OPTIONS,
      `fastify-proxy-fix is already registered ${where}. Register it once, at the root: a child context cannot have an allowlist of its own, ` +
      'since the first registration\'s getters and reject hook already apply to every context below it')
  }

  instance.decorateRequest(kResolution as unknown as string, null)
  const hinted = new Set<string>()
  let trustErrorLogged = -Infinity

  function resolved (request: ProxyFixRequest): Resolution | null {
    let r = request[kResolution]
    if (r === null || r === undefined) {
      const socket = request.raw.socket
      r = resolve(config, socket?.remoteAddress, request.raw.headers, config.proxyProtocol === false ? null : proxyHeaderOf(socket))
      request[kResolution] = r
      if (r !== null) report(request.log, r, request.raw.headers)
    }
    return r
  }

  /** What one resolution tells the operator: debug lines, a hint, a trust function's error. */
  function report (log: Logger | undefined, r: Resolution, headers: FastifyRequest['headers']): void {
    if (enabled(log, 'debug')) for (const entry of explain(config, r, headers)) log.debug(entry.details, entry.message)
    if (!r.trusted && hinted.size < HINTED_PEERS && !hinted.has(r.peer)) {
      const hint = familyHint(config, r.peer)
      if (hint !== null) {
        hinted.add(r.peer)
        log?.info(hint.details, hint.message)
      }
    }
    if (r.trustError !== undefined) warnTrustError(log, r.trustError)
  }

  function warnTrustError (log: Logger | undefined, error: unknown): void {
    if (Date.now() - trustErrorLogged < TRUST_ERROR_INTERVAL) return
    trustErrorLogged = Date.now()
    log?.warn({ err: error }, 'fastify-proxy-fix: the trustedProxies function threw, so that address is not trusted (logged at most once a minute)')
  }

  // The getters Fastify's request has (ip, ips, host, hostname, port,
  // protocol), replaced on its prototype, and the plugin's own.
  const getters: Record<string, (this: ProxyFixRequest) => unknown> = {
    ip () { return resolved(this)?.ip },
    ips () { return resolved(this)?.ips ?? [] },
    host () { return hostFor(resolved(this), this.raw.headers) },
    hostname () { return hostnameFor(resolved(this), this.raw.headers) },
    port () { return portFor(resolved(this), this.raw.headers) },
    protocol () { return protocolFor(resolved(this), this.raw.socket) },
    forwardedPrefix () { return resolved(this)?.prefix ?? '' },
    originalIp () { return this.raw.socket?.remoteAddress },
    originalHost () { return receivedHost(this.raw) },
    proxyProtocol () { return resolved(this)?.proxy ?? null }
  }
  for (const [name, get] of Object.entries(getters)) Object.defineProperty(proto, name, { configurable: true, get })

  if (config.proxyProtocol !== false) {
    readProxyProtocolOf(instance, config, function trustsConnection (peer) {
      // A connection refused for its header never becomes a request, so
      // the trust function's throw is told here.
      const record = { trustError: undefined }
      const trusted = trustsPeer(config, peer, record)
      if (record.trustError !== undefined) warnTrustError(instance.log, record.trustError)
      return trusted
    })
  }

  if (config.reject) {
    instance.addHook('onRequest', function rejectInvalidForwardedHeaders (request, reply, next) {
      const r = resolved(request as unknown as ProxyFixRequest)
      if (r !== null && r.invalid !== null) next(invalidHeaderError(r.invalid))
      else next()
    })
  }

  const line = summary(config)
  instance.log.info(line.details, line.message)
  const listing = allowlistListing(config)
  if (listing !== null) instance.log.debug(listing.details, listing.message)
  for (const risk of risks(config)) instance.log.warn(risk.details, risk.message)
}

/** Reads PROXY headers on the instance's server, logging each connection closed for its header. */
function readProxyProtocolOf (instance: FastifyInstance, config: Config, trusts: (peer: string) => boolean): void {
  const problem = unreadableServer(instance.server)
  if (problem !== null) throw new ProxyFixError(codes.PROXY_PROTOCOL_SERVER, `proxyProtocol cannot be read: ${problem}`)
  const log = instance.log
  const destroyUnread = readProxyProtocol(instance.server, {
    required: config.proxyProtocol === true,
    timeout: config.proxyProtocolTimeout,
    trusts,
    closed (peer, reason) {
      log.warn({ peer, reason }, `fastify-proxy-fix: closed a connection from trusted peer ${peer}: ${reason}`)
    }
  })
  // A connection still sending its header is not the HTTP server's yet, so
  // closing the app would otherwise wait for its timeout.
  instance.addHook('preClose', function closeUnreadConnections (done) {
    destroyUnread()
    done()
  })
}

// fastify-plugin marks the function itself (skip-override, name, version check).
fp(proxyFix, { fastify: '5.x', name: 'fastify-proxy-fix' })

// CommonJS users get the plugin itself, with `.default` and `.proxyFix` (Fastify's
// convention), the framework-free `createResolver`, and `ProxyFixError` with
// its `codes`.
declare namespace proxyFix {
  export type { ProxyFixOptions, ProxyFixHeaders, TrustFunction, ProxyResolver, RawRequest, ResolvedRequest, InvalidValue, ProxyHeader, ProxyEndpoint, ProxyTLV }
  export { proxyFix, proxyFix as default, createResolver, ProxyFixError, codes }
}
Object.assign(proxyFix, { default: proxyFix, proxyFix, createResolver, ProxyFixError, codes })

export = proxyFix
