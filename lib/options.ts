// Options are checked once, at registration; the request path only reads the
// normalized config.

import { ProxyFixError, codes } from './errors'
import { allowlistEntries, compileAllowlist, type Allowlist, type TrustFunction } from './allowlist'

export interface ProxyFixHeaders {
  /** The client address chain. Default `'x-forwarded-for'`. */
  for?: string | false
  /** The host the client asked for. Default `'x-forwarded-host'`. */
  host?: string | false
  /** `http` or `https`. Default `'x-forwarded-proto'`. */
  proto?: string | false
  /** The port the client connected to (e.g. `'x-forwarded-port'`). Default `false`. */
  port?: string | false
  /** The path prefix the proxy mounted the app under (e.g. `'x-forwarded-prefix'`). Default `false`. */
  prefix?: string | false
}

export interface ProxyFixOptions {
  /**
   * Which peers may set forwarded headers: IPv4/IPv6 addresses, CIDR blocks,
   * the names `loopback`, `linklocal`, `uniquelocal`, `private`, as an array or
   * a comma-separated string; or a function `(address, hop) => boolean`
   * (`hop` 0 is the socket peer).
   */
  trustedProxies: string | readonly string[] | TrustFunction
  /** At most this many proxies are trusted, counting the socket peer as the first. */
  hops?: number
  headers?: ProxyFixHeaders
  /** Read RFC 7239 `Forwarded` instead of `headers.for`, `headers.host` and `headers.proto`. */
  forwarded?: boolean
  /** A single-address header the trusted peer sets (`cf-connecting-ip`, `x-real-ip`, …); replaces the chain. */
  clientIpHeader?: string
  /** What a malformed value from a trusted proxy gets. Default `'ignore'`. */
  onInvalid?: 'ignore' | 'reject'
  /**
   * Read a PROXY protocol header (v1 or v2) at the start of each connection
   * from a trusted peer: `true` requires one, `'optional'` reads one when
   * present. Default `false`.
   */
  proxyProtocol?: boolean | 'optional'
  /** Milliseconds a trusted connection has to send its whole PROXY header. Default `10000`. */
  proxyProtocolTimeout?: number
}

export interface Config {
  /** The compiled allowlist, or null when the user gave a function. */
  allowlist: Allowlist | null
  trustFunction: TrustFunction | null
  hops: number
  forHeader: string | null
  hostHeader: string | null
  protoHeader: string | null
  portHeader: string | null
  prefixHeader: string | null
  forwarded: boolean
  clientIpHeader: string | null
  reject: boolean
  proxyProtocol: boolean | 'optional'
  proxyProtocolTimeout: number
  /** Fastify's `prefix` register option, when the user gave one (it is not a header: see diagnostics). */
  registerPrefix: string | null
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const HEADER_KEYS = ['for', 'host', 'proto', 'port', 'prefix'] as const
const DEFAULT_HEADERS: Record<typeof HEADER_KEYS[number], string | false> = {
  for: 'x-forwarded-for',
  host: 'x-forwarded-host',
  proto: 'x-forwarded-proto',
  port: false,
  prefix: false
}

/** An option's value as an error message shows it: a string quoted. */
function shown (value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value)
}

/** A header option's name, lowercased. `false` (no such header) is the
 *  caller's to handle: `clientIpHeader` has no `false`, only absence. */
function headerName (option: string, value: unknown, orFalse = true): string {
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw new ProxyFixError(codes.INVALID_HEADER_NAME, `${option} must be a header name (an HTTP token)${orFalse ? ' or false' : ''}, got ${shown(value)}`)
  }
  const name = value.toLowerCase()
  // Header objects are plain objects: such a name would read an inherited property.
  if (value in Object.prototype || name in Object.prototype) {
    throw new ProxyFixError(codes.INVALID_HEADER_NAME, `${option} '${value}' names a property every object has, not a header`)
  }
  return name
}

/** Whether `fn` is an `async` function: it returns a Promise, never `true`. */
function isAsync (fn: unknown): boolean {
  const tag = Object.prototype.toString.call(fn)
  return tag === '[object AsyncFunction]' || tag === '[object AsyncGeneratorFunction]'
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const OPTION_KEYS = ['trustedProxies', 'hops', 'headers', 'forwarded', 'clientIpHeader', 'onInvalid', 'proxyProtocol', 'proxyProtocolTimeout'] as const
// Node's timers take at most 2^31 - 1 ms; a longer delay fires at once.
const LONGEST_TIMEOUT = 2 ** 31 - 1
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'] as const

/** Validates the user's options; throws a ProxyFixError with a code naming the problem. */
export function normalizeOptions (options: unknown): Config {
  if (!isObject(options)) {
    throw new ProxyFixError(codes.OPTIONS, 'options must be an object with at least `trustedProxies`')
  }
  // A misspelt option would otherwise be ignored silently, and `hop: 1`
  // would leave the hop limit off. Fastify's own register options (which it
  // passes on to the plugin) are let through. A missing trustedProxies keeps
  // its own code (a misspelt one is the usual cause, and is named).
  const unknown = Object.keys(options).filter((key) =>
    !(OPTION_KEYS as readonly string[]).includes(key) && !(REGISTER_KEYS as readonly string[]).includes(key))
  const spec = options.trustedProxies
  let allowlist: Allowlist | null = null
  let trustFunction: TrustFunction | null = null
  if (typeof spec === 'function') {
    if (isAsync(spec)) {
      throw new ProxyFixError(codes.INVALID_TRUSTED_PROXY,
        'trustedProxies is an async function: it returns a Promise, which is never trust. Make it a plain function that returns true or false')
    }
    trustFunction = spec as TrustFunction
  } else if (typeof spec === 'string' || Array.isArray(spec)) {
    if (spec.length === 0 || (typeof spec === 'string' && spec.trim() === '')) {
      throw new ProxyFixError(codes.TRUSTED_PROXIES_REQUIRED, 'trustedProxies is empty: name at least one proxy address, CIDR block or range name')
    }
    allowlist = compileAllowlist(allowlistEntries(spec))
  } else {
    const given = spec === undefined && unknown.length > 0 ? ` (given instead: ${unknown.join(', ')})` : ''
    throw new ProxyFixError(codes.TRUSTED_PROXIES_REQUIRED,
      `trustedProxies is required: an address, CIDR block or range name, an array or comma-separated string of them, or a function (address, hop) => boolean${given}`)
  }
  if (unknown.length > 0) {
    throw new ProxyFixError(codes.OPTIONS, `${unknown[0]} is not an option (known: ${OPTION_KEYS.join(', ')})`)
  }

  let hops = Infinity
  if (options.hops !== undefined) {
    if (typeof options.hops !== 'number' || !Number.isSafeInteger(options.hops) || options.hops < 1) {
      throw new ProxyFixError(codes.INVALID_HOPS, `hops must be a positive integer, got ${shown(options.hops)}`)
    }
    hops = options.hops
  }

  const given = options.headers === undefined ? {} : options.headers
  if (!isObject(given)) throw new ProxyFixError(codes.OPTIONS, 'headers must be an object')
  for (const key of Object.keys(given)) {
    if (!(HEADER_KEYS as readonly string[]).includes(key)) {
      throw new ProxyFixError(codes.OPTIONS, `headers.${key} is not an option (known: ${HEADER_KEYS.join(', ')})`)
    }
  }
  const names: Record<string, string | null> = {}
  for (const key of HEADER_KEYS) {
    const value = given[key] === undefined ? DEFAULT_HEADERS[key] : given[key]
    names[key] = value === false ? null : headerName(`headers.${key}`, value)
  }

  // Only an absent option takes its default: `null` is a mistake, as for hops.
  const forwarded = options.forwarded === undefined ? false : options.forwarded
  if (typeof forwarded !== 'boolean') {
    throw new ProxyFixError(codes.INVALID_FORWARDED, `forwarded must be true or false, got ${shown(forwarded)}`)
  }
  const clientIpHeader = options.clientIpHeader === undefined ? null : headerName('clientIpHeader', options.clientIpHeader, false)
  if (forwarded && clientIpHeader !== null) {
    throw new ProxyFixError(codes.CONFLICTING_OPTIONS, 'forwarded and clientIpHeader both say where the client address is: choose one')
  }

  const onInvalid = options.onInvalid === undefined ? 'ignore' : options.onInvalid
  if (onInvalid !== 'ignore' && onInvalid !== 'reject') {
    throw new ProxyFixError(codes.INVALID_ON_INVALID, `onInvalid must be 'ignore' or 'reject', got ${shown(onInvalid)}`)
  }

  const proxyProtocol = options.proxyProtocol === undefined ? false : options.proxyProtocol
  if (proxyProtocol !== false && proxyProtocol !== true && proxyProtocol !== 'optional') {
    throw new ProxyFixError(codes.INVALID_PROXY_PROTOCOL,
      `proxyProtocol must be false, true or 'optional', got ${shown(proxyProtocol)}`)
  }
  const proxyProtocolTimeout = options.proxyProtocolTimeout === undefined ? 10_000 : options.proxyProtocolTimeout
  if (typeof proxyProtocolTimeout !== 'number' || !Number.isInteger(proxyProtocolTimeout) || proxyProtocolTimeout < 1 || proxyProtocolTimeout > LONGEST_TIMEOUT) {
    throw new ProxyFixError(codes.INVALID_PROXY_PROTOCOL,
      `proxyProtocolTimeout must be a whole number of milliseconds from 1 to ${LONGEST_TIMEOUT}, got ${shown(proxyProtocolTimeout)}`)
  }

  return {
    allowlist,
    trustFunction,
    hops,
    forHeader: names.for,
    hostHeader: names.host,
    protoHeader: names.proto,
    portHeader: names.port,
    prefixHeader: names.prefix,
    forwarded,
    clientIpHeader,
    reject: onInvalid === 'reject',
    proxyProtocol,
    proxyProtocolTimeout,
    registerPrefix: typeof options.prefix === 'string' ? options.prefix : null
  }
}
