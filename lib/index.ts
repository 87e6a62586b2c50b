// The Fastify glue: compile the options once, then answer `request.ip`,
// `hostname`, `protocol`… from a resolution computed at most once per request.

import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { httpErrors } from '@fastify/sensible'
import { explain, risks, summary } from './diagnostics'
import { ProxyFixError, codes, excerpt } from './errors'
import { normalizeOptions, type Config, type ProxyFixHeaders, type ProxyFixOptions } from './options'
import { resolve, type InvalidValue, type Resolution } from './resolve'
import { hostnameOf, requestHost } from './headers'
import {
  createResolver, portOf, receivedHost,
  type ProxyResolver, type RawRequest, type ResolvedRequest
} from './resolver'
import type { TrustFunction } from './trust'

declare module 'fastify' {
  interface FastifyRequest {
    /** The socket peer's address, as Fastify reports it without the plugin. */
    originalIp: string
    /** The `Host` header (or HTTP/2 `:authority`) as received; `''` when there is neither. */
    originalHost: string
    /** The validated path prefix from the prefix header, without a trailing slash, or `''`. */
    forwardedPrefix: string
  }
}

/** Per-request cache: null until resolved, then the resolution or `false` (peer untrusted). */
const kResolution = Symbol('fastify-proxy-fix.resolution')

/** Fastify's logger type; pino (and most loggers) can also say whether a level is on. */
type Logger = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }

interface ProxyFixRequest {
  [kResolution]: Resolution | false | null
  raw: FastifyRequest['raw']
  log?: Logger
}

/** The 400 for a malformed value from a trusted proxy: Fastify's error body, a short escaped message. */
// Built with @fastify/sensible's httpErrors, so that it is the same HttpError
// (statusCode, expose) that apps using sensible already handle.
//
// At most 200 characters: the fixed words take 40, the value's excerpt at
// most 64 and `...`. A header name (an ASCII token) is given whole up to
// NAME_ROOM characters, and the value's excerpt shrinks to make room for it.
const MESSAGE_ROOM = 200 - 'Invalid  header from a trusted proxy: ""'.length
const NAME_ROOM = 120
function invalidHeaderError (invalid: InvalidValue): Error {
  const header = excerpt(invalid.header, NAME_ROOM)
  const value = excerpt(invalid.value, Math.min(64, MESSAGE_ROOM - header.length - 3))
  const error = httpErrors.badRequest(`Invalid ${header} header from a trusted proxy: "${value}"`) as Error & { code?: string }
  error.code = codes.INVALID_HEADER
  return error
}

/** Whether debug lines would be written: one cheap check, false for loggers that cannot tell. */
function debugEnabled (log: Logger | undefined): boolean {
  return typeof log?.isLevelEnabled === 'function' && log.isLevelEnabled('debug')
}

function requestPrototype (instance: FastifyInstance): object {
  const key = Object.getOwnPropertySymbols(instance).find((s) => s.description === 'fastify.Request')
  /* c8 ignore next 3 */
  if (key === undefined) {
    throw new ProxyFixError(codes.OPTIONS, 'cannot find the Fastify request class (is this Fastify 5?)')
  }
  return (instance as unknown as Record<symbol, { prototype: object }>)[key].prototype
}

function trustProxyOption (instance: FastifyInstance): unknown {
  const key = Object.getOwnPropertySymbols(instance).find((s) => s.description === 'fastify.options')
  return key === undefined ? undefined : (instance as unknown as Record<symbol, { trustProxy?: unknown }>)[key].trustProxy
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
    throw new ProxyFixError(codes.CONFLICTING_OPTIONS, 'fastify-proxy-fix is already registered in this context')
  }

  instance.decorateRequest(kResolution as unknown as string, null)

  function resolved (request: ProxyFixRequest): Resolution | null {
    let r = request[kResolution]
    if (r === null || r === undefined) {
      const peer = request.raw.socket?.remoteAddress
      const resolution = resolve(config, peer, request.raw.headers)
      r = resolution ?? false
      request[kResolution] = r
      if (debugEnabled(request.log)) {
        for (const entry of explain(config, peer, request.raw.headers, resolution)) {
          (request.log as Logger).debug(entry.details, entry.message)
        }
      }
    }
    return r === false ? null : r
  }

  Object.defineProperties(proto, {
    ip: {
      configurable: true,
      get (this: ProxyFixRequest) {
        const r = resolved(this)
        return r === null ? this.raw.socket?.remoteAddress : r.ip
      }
    },
    ips: {
      configurable: true,
      get (this: ProxyFixRequest) {
        const r = resolved(this)
        if (r !== null) return r.ips
        const peer = this.raw.socket?.remoteAddress
        return peer === undefined ? [] : [peer]
      }
    },
    host: {
      configurable: true,
      get (this: ProxyFixRequest) {
        return resolved(this)?.host ?? requestHost(this.raw.headers)
      }
    },
    hostname: {
      configurable: true,
      get (this: ProxyFixRequest) {
        return resolved(this)?.hostname ?? hostnameOf(requestHost(this.raw.headers))
      }
    },
    port: {
      configurable: true,
      get (this: ProxyFixRequest) {
        const r = resolved(this)
        if (r !== null && r.port !== undefined) return r.port
        return portOf(requestHost(this.raw.headers))
      }
    },
    protocol: {
      configurable: true,
      get (this: ProxyFixRequest) {
        const r = resolved(this)
        if (r !== null && r.protocol !== null) return r.protocol
        const socket = this.raw.socket as (FastifyRequest['raw']['socket'] & { encrypted?: boolean }) | undefined
        if (socket) return socket.encrypted === true ? 'https' : 'http'
        return undefined
      }
    },
    forwardedPrefix: {
      configurable: true,
      get (this: ProxyFixRequest) {
        return resolved(this)?.prefix ?? ''
      }
    },
    originalIp: {
      configurable: true,
      get (this: ProxyFixRequest) {
        return this.raw.socket?.remoteAddress
      }
    },
    originalHost: {
      configurable: true,
      get (this: ProxyFixRequest) {
        return receivedHost(this.raw)
      }
    }
  })

  if (config.reject) {
    instance.addHook('onRequest', function rejectInvalidForwardedHeaders (request, reply, next) {
      const r = resolved(request as unknown as ProxyFixRequest)
      if (r !== null && r.invalid !== null) next(invalidHeaderError(r.invalid))
      else next()
    })
  }

  const line = summary(config)
  instance.log.info(line.details, line.message)
  for (const risk of risks(config)) instance.log.warn(risk.details, risk.message)
}

fp(proxyFix, { fastify: '5.x', name: 'fastify-proxy-fix' })

// CommonJS users get the plugin itself, with `.default` and `.proxyFix` (Fastify's
// convention), and the framework-free `createResolver`.
declare namespace proxyFix {
  export type { ProxyFixOptions, ProxyFixHeaders, TrustFunction, ProxyResolver, RawRequest, ResolvedRequest, InvalidValue }
  export { proxyFix, proxyFix as default, createResolver }
}
Object.assign(proxyFix, { default: proxyFix, proxyFix, createResolver })

export = proxyFix
