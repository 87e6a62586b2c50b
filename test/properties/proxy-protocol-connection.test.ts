// Property 8: the PROXY protocol at the connection (lib/connection.ts), on a
// real Fastify server listening on 127.0.0.1, with clients that pick their
// own 127.0.0.x address:
// - a peer that is not trusted changes nothing with a PROXY header: its
//   answers are what a Fastify without the plugin answers, refusals byte for
//   byte, and as many requests reach the route;
// - a trusted peer's header and requests, split into any segments (down to
//   one byte each, with or without pauses), give the same answers as one
//   write, and what the contract says: source, TLVs, the request bodies;
// - a malformed header from a trusted peer is closed at once, a slow one at
//   the timeout: without a byte of answer, without reaching a route, logged
//   at warn with the peer and the reason, and without leaking a socket;
// - a trusted peer that leaves in the middle of its header is let go at once,
//   and closing the app does not wait for headers still on their way;
// - a trusted peer that opens 1,000 connections and never completes a header
//   is cleaned up by the timeout.
// After each property the server holds no connection and the process has no
// more sockets or timers open than before it.
// Headers come from proxy-support.ts (built there from the specification).
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { relative } from 'node:path'
import fc from 'fast-check'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import proxyFix from '../../lib/index'
import type { ProxyFixOptions } from '../../lib/options'
import { view } from '../helpers'
import { SEED, allowEntry, allowlistCidrs, modelTrusted, peerAddress, scaled, title } from './support'
import { type ValidHeader, V1_SIGNATURE, V2_SIGNATURE, headerJSON, malformedHeader, validHeader } from './proxy-support'

/** The balancer: trusted by every app below. Each property has its own, so that none waits on another's sockets. */
const BALANCER = { split: '127.0.0.71', malformed: '127.0.0.73', slow: '127.0.0.74', storm: '127.0.0.75', leaving: '127.0.0.76', closing: '127.0.0.77' }
/** A peer no app trusts. */
const STRANGER = '127.0.0.72'
const HOST = 'app.internal:3000'
const PATH = process.env.PROXY_FIX_PATH === '' ? undefined : process.env.PROXY_FIX_PATH

// ------------------------------------------------------------ the server

interface Warning { peer?: string, reason?: string, msg: string }

interface Served {
  app: FastifyInstance
  port: number
  /** Requests that reached a route. */
  calls: number
  warnings: Warning[]
}

/** Every route answers what the handler saw, the body it read and the PROXY header. */
function routes (app: FastifyInstance, served: Served, withPlugin: boolean): void {
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH'],
    url: '/',
    handler: async (request) => {
      served.calls++
      const body = typeof request.body === 'string' ? request.body : null
      return withPlugin ? { ...view(request), body, proxy: headerJSON(request.proxyProtocol) } : { ...view(request), body }
    }
  })
}

/** An app with the plugin (options given), or a plain Fastify (null), listening on 127.0.0.1. */
async function serve (options: ProxyFixOptions | null): Promise<Served> {
  const served = { calls: 0, warnings: [] as Warning[] } as Served
  const stream = {
    write (line: string) {
      const entry = JSON.parse(line)
      if (entry.level === 40) served.warnings.push({ peer: entry.peer, reason: entry.reason, msg: entry.msg })
    }
  }
  const app = Fastify({ logger: { level: 'warn', stream } })
  if (options !== null) await app.register(proxyFix, options)
  routes(app, served, options !== null)
  await app.listen({ host: '127.0.0.1', port: 0 })
  served.app = app
  served.port = (app.server.address() as AddressInfo).port
  served.warnings.length = 0 // startup warnings (a wide allowlist) are not about connections
  return served
}

function connections (app: FastifyInstance): Promise<number> {
  return new Promise((resolve, reject) => app.server.getConnections((error, count) => (error === null ? resolve(count) : reject(error))))
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until the server holds no connection; fails after `ms`. */
async function drained (app: FastifyInstance, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  let count = await connections(app)
  while (count > 0 && Date.now() < deadline) {
    await sleep(10)
    count = await connections(app)
  }
  equal(count, 0, `the server still holds ${count} connections after ${ms} ms`)
}

/** Sockets and timers of this process, by kind. */
function resources (): Map<string, number> {
  const counts = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return counts
}

/** Waits until no more sockets or timers are open than `before`; fails after `ms`. */
async function noLeaks (before: Map<string, number>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  const extra = (): string[] => ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']
    .filter((kind) => (resources().get(kind) ?? 0) > (before.get(kind) ?? 0))
    .map((kind) => `${kind}: ${before.get(kind) ?? 0} before, ${resources().get(kind) ?? 0} after`)
  while (extra().length > 0 && Date.now() < deadline) await sleep(10)
  deepStrictEqual(extra(), [], 'open handles after the test')
}

// ------------------------------------------------------------ the client

/** Bytes to write, after a pause: -1 none (same tick), 0 one turn of the event loop, else milliseconds. */
interface Piece { bytes: Buffer, pause: number }

interface Exchange {
  received: Buffer
  /** From just before the client connects to the close. */
  ms: number
  /** The client gave up waiting for the server to close. */
  stuck: boolean
  error?: string
}

function pause (ms: number): Promise<void> {
  if (ms < 0) return Promise.resolve()
  return ms === 0 ? new Promise((resolve) => setImmediate(resolve)) : sleep(ms)
}

/**
 * Connects from `from`, writes the pieces (TCP_NODELAY, so each write is a
 * segment of its own when the pause lets the server read it) until the
 * server closes its side, never ends its own, and waits for the server to
 * close the connection.
 */
function exchange (port: number, from: string, pieces: readonly Piece[], guard = 5000): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let error: string | undefined
    let stuck = false
    const start = Date.now() // before the connection exists: the server's timer starts later
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from, noDelay: true })
    const timer = setTimeout(() => {
      stuck = true
      socket.destroy()
    }, guard)
    let ended = false
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('end', () => { ended = true })
    socket.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ received: Buffer.concat(chunks), ms: Date.now() - start, stuck, ...(error === undefined ? {} : { error }) })
    })
    async function write (): Promise<void> {
      for (const piece of pieces) {
        await pause(piece.pause)
        if (socket.destroyed || !socket.writable || ended) return
        socket.write(piece.bytes)
      }
    }
    socket.once('connect', () => { write().catch((e: Error) => { error = e.message }) })
  })
}

interface Response { status: number, headers: Record<string, string>, body: string }

/** The HTTP/1.1 responses in `raw` (each with a Content-Length), the Date header left out; then what is left. */
function responses (raw: Buffer): { list: Response[], rest: string } {
  const list: Response[] = []
  let text = raw.toString('latin1')
  for (;;) {
    const end = text.indexOf('\r\n\r\n')
    if (end < 0) break
    const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).toLowerCase()
      if (name !== 'date') headers[name] = line.slice(colon + 1).trim()
    }
    const length = Number(headers['content-length'] ?? 0)
    if (text.length < end + 4 + length) break
    list.push({ status: Number(statusLine.split(' ')[1]), headers, body: Buffer.from(text.slice(end + 4, end + 4 + length), 'latin1').toString('utf8') })
    text = text.slice(end + 4 + length)
  }
  return { list, rest: text }
}

/** Cuts `stream` at `cuts` into pieces, each written after its pause. */
function split (stream: Buffer, cuts: readonly number[], pauses: readonly number[]): Piece[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].filter((c) => c > 0 && c < stream.length).sort((a, b) => a - b)
  const bounds = [0, ...points, stream.length]
  return bounds.slice(1).map((end, k) => ({ bytes: stream.subarray(bounds[k], end), pause: pauses.length === 0 ? 0 : pauses[k % pauses.length] }))
}

// ------------------------------------------------------------ requests

interface Request { method: 'GET' | 'POST' | 'PUT' | 'PATCH', body: string, xff?: string, proto?: string }

const requestArb: fc.Arbitrary<Request> = fc.record({
  method: fc.constantFrom<Request['method']>('GET', 'POST', 'PUT', 'PATCH'),
  body: fc.string({ maxLength: 120 }),
  xff: fc.option(fc.constantFrom('203.0.113.7', '10.0.0.1, 198.51.100.2', 'junk', '2001:db8::1, 10.9.9.9'), { freq: 3, nil: undefined }),
  proto: fc.option(fc.constantFrom('https', 'http', 'gopher'), { freq: 4, nil: undefined })
}, { requiredKeys: ['method', 'body'] })

/** Requests as a client writes them; the last one asks the server to close. */
function wire (requests: readonly Request[]): Buffer {
  return Buffer.concat(requests.map((r, k) => {
    const body = r.method === 'GET' ? '' : r.body
    const lines = [`${r.method} / HTTP/1.1`, `Host: ${HOST}`]
    if (r.xff !== undefined) lines.push(`X-Forwarded-For: ${r.xff}`)
    if (r.proto !== undefined) lines.push(`X-Forwarded-Proto: ${r.proto}`)
    if (r.method !== 'GET') lines.push('Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`)
    lines.push(`Connection: ${k === requests.length - 1 ? 'close' : 'keep-alive'}`)
    return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8')
  }))
}

/** Ways to cut a stream: a few random places, near the header's end, or every byte. */
function cutsFor (headerLength: number, total: number): fc.Arbitrary<{ cuts: number[], pauses: number[] }> {
  const pauseArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(-1, 0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) })
  const near = fc.integer({ min: Math.max(1, headerLength - 3), max: headerLength + 3 })
  return fc.oneof(
    fc.record({ cuts: fc.array(fc.oneof(fc.nat({ max: total }), near), { maxLength: 12 }), pauses: fc.array(pauseArb, { minLength: 1, maxLength: 6 }) }),
    // every byte, a turn of the event loop apart: with client and server in one
    // process, the server reads each byte on its own (200 one-byte writes are
    // 200 reads, where writes in the same tick are one or two)
    fc.record({ cuts: fc.constant(Array.from({ length: total }, (_, k) => k)), pauses: fc.constant<number[]>([0]) })
  )
}

// ------------------------------------------------------------ running

/** A counterexample with 4 KB headers in it, cut to what a reader can use. */
function short (text: string): string {
  return text.length <= 3000 ? text : `${text.slice(0, 3000)}... (${text.length} characters)`
}

/**
 * A property with a server: `setup` before the first case, then the property,
 * then the server must hold no connection, closes, and the process must have
 * no more sockets or timers than before. A failure is not shrunk (each case
 * costs sockets and timeouts): the replay path gives the case as generated.
 */
function checkWithServer<T> (name: string, numRuns: number, note: string, setup: () => Promise<Served[]>,
  property: (servers: Served[]) => fc.IAsyncProperty<T>): void {
  const runs = scaled(numRuns)
  t.test(`${title(name, runs)} (${note})`, async (t) => {
    const before = resources()
    const servers = await setup()
    try {
      const details = await fc.check(property(servers), { seed: SEED, numRuns: runs, path: PATH, endOnFailure: true })
      if (details.failed) {
        const error = details.errorInstance
        t.fail(`property failed after ${details.numRuns} cases`, {
          counterexample: short(fc.stringify(details.counterexample)),
          error: error instanceof Error ? error.message : String(error),
          replay: `PROXY_FIX_SEED=${details.seed} PROXY_FIX_PATH='${details.counterexamplePath ?? ''}' npx tap ${relative(process.cwd(), process.argv[1] ?? '<this file>')}`
        })
      } else {
        t.pass(`${details.numRuns} cases passed`)
      }
      for (const served of servers) await drained(served.app, 2000)
    } finally {
      for (const served of servers) await served.app.close()
    }
    await noLeaks(before, 2000)
    t.pass('no socket or timer left open')
  })
}

// ------------------------------------------------------------ 1. untrusted peers

/** Allowlist entries that do not trust STRANGER (the balancer is always trusted). */
const stranger = peerAddress(STRANGER) as NonNullable<ReturnType<typeof peerAddress>>
const allowlistArb = fc.array(allowEntry, { maxLength: 4 })
  .map((extra) => [BALANCER.split, ...extra.filter((entry) => !modelTrusted(allowlistCidrs([entry]), stranger))])

const preamble = fc.oneof(
  { weight: 4, arbitrary: validHeader.map((h) => h.bytes) },
  { weight: 2, arbitrary: malformedHeader.map((h) => h.bytes) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), V1_SIGNATURE, V2_SIGNATURE) }
)

checkWithServer('an untrusted peer\'s PROXY header changes nothing: the answers are a plain Fastify\'s', 40,
  'true or optional, random allowlists and hops, valid, malformed or no header, 1-2 requests, split at random',
  async () => [await serve(null)],
  ([plain]) => fc.asyncProperty(
    fc.record({
      mode: fc.constantFrom<true | 'optional'>(true, 'optional'),
      trustedProxies: allowlistArb,
      hops: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      header: preamble,
      requests: fc.array(requestArb, { minLength: 1, maxLength: 2 })
    }, { requiredKeys: ['mode', 'trustedProxies', 'header', 'requests'] }).chain((c) => {
      const stream = Buffer.concat([c.header, wire(c.requests)])
      return fc.record({ c: fc.constant(c), stream: fc.constant(stream), cut: cutsFor(c.header.length, stream.length) })
    }),
    async ({ c, stream, cut }) => {
      const ours = await serve({ trustedProxies: c.trustedProxies, proxyProtocol: c.mode, proxyProtocolTimeout: 1000, ...(c.hops === undefined ? {} : { hops: c.hops }) })
      try {
        const pieces = split(stream, cut.cuts, cut.pauses)
        const plainCalls = plain.calls
        const [mine, theirs] = await Promise.all([exchange(ours.port, STRANGER, pieces), exchange(plain.port, STRANGER, pieces)])
        ok(!mine.stuck && !theirs.stuck, 'both servers close the connection')
        equal(ours.calls, plain.calls - plainCalls, 'as many requests reach the route')
        const a = responses(mine.received)
        const b = responses(theirs.received)
        // A server that refuses the stream (400) closes while the client may
        // still be writing: a write then fails (EPIPE, ECONNRESET), and Node
        // drops what the client had not read yet. Such a race is the client's,
        // and the same for both servers, so only the responses both read are compared.
        const raced = [mine.error, theirs.error].filter((error) => error !== undefined)
        for (const error of raced) ok(error === 'EPIPE' || error === 'ECONNRESET', `client error ${error}`)
        if (raced.length === 0) {
          equal(a.rest, b.rest, 'the same bytes after the last whole response')
          equal(a.list.length, b.list.length, 'as many responses')
        }
        a.list.slice(0, b.list.length).forEach((response, k) => {
          const other = b.list[k]
          if (other.status !== 200) {
            deepStrictEqual(response, other, 'a refusal byte for byte')
            return
          }
          const { 'content-length': _a, ...headers } = response.headers
          const { 'content-length': _b, ...otherHeaders } = other.headers
          deepStrictEqual(headers, otherHeaders, 'the same response headers')
          const fastify = JSON.parse(other.body)
          deepStrictEqual(JSON.parse(response.body), {
            ...fastify,
            ips: [STRANGER],
            forwardedPrefix: '',
            originalIp: fastify.ip,
            originalHost: fastify.host,
            proxy: null
          })
        })
        deepStrictEqual(ours.warnings, [], 'nothing logged: the connection was never read')
      } finally {
        await ours.app.close()
      }
    }))

// ------------------------------------------------------------ 2. splitting

/** What the contract says each response holds, from the header and the request alone. */
function expectedView (header: ValidHeader | null, request: Request): Record<string, unknown> {
  const source = header?.expected.source ?? null
  const out: Record<string, unknown> = {
    originalIp: BALANCER.split,
    proxy: headerJSON(header?.expected ?? null),
    body: request.method === 'GET' ? null : request.body
  }
  // Without forwarded headers the walk ends at the source (or the peer).
  if (request.xff === undefined) {
    out.ip = source?.address ?? BALANCER.split
    out.ips = source === null ? [BALANCER.split] : [BALANCER.split, source.address]
  }
  if (request.proto === undefined) out.protocol = header?.expected.ssl === true ? 'https' : 'http'
  return out
}

const SPLIT_TRUSTED = [BALANCER.split, '10.0.0.0/8', '2001:db8::/32', '192.0.2.0/24']

checkWithServer('a header and requests split into any segments read as in one write, and as the contract says', 80,
  'v1 and v2 headers, or none with optional; 1-3 pipelined requests with bodies; cuts anywhere, down to every byte',
  async () => [
    await serve({ trustedProxies: SPLIT_TRUSTED, proxyProtocol: true, proxyProtocolTimeout: 3000 }),
    await serve({ trustedProxies: SPLIT_TRUSTED, proxyProtocol: 'optional', proxyProtocolTimeout: 3000 })
  ],
  ([required, optional]) => fc.asyncProperty(
    fc.record({
      optional: fc.boolean(),
      header: fc.option(validHeader.filter((h) => h.bytes.length <= 600), { freq: 6, nil: null }),
      requests: fc.array(requestArb, { minLength: 1, maxLength: 3 })
    }).chain((c) => {
      const headerBytes = c.header?.bytes ?? Buffer.alloc(0)
      const stream = Buffer.concat([headerBytes, wire(c.requests)])
      return fc.record({ c: fc.constant(c), stream: fc.constant(stream), cut: cutsFor(headerBytes.length, stream.length) })
    }),
    async ({ c, stream, cut }) => {
      // Without a header only 'optional' serves the connection.
      const served = c.optional || c.header === null ? optional : required
      const calls = served.calls
      const whole = await exchange(served.port, BALANCER.split, [{ bytes: stream, pause: -1 }])
      const pieces = split(stream, cut.cuts, cut.pauses)
      const cutUp = await exchange(served.port, BALANCER.split, pieces)
      ok(!whole.stuck && !cutUp.stuck, 'the server closes both connections (Connection: close)')
      const one = responses(whole.received)
      const many = responses(cutUp.received)
      equal(one.list.length, c.requests.length, `one response per request, got ${JSON.stringify(whole.received.toString('latin1').slice(0, 300))}`)
      deepStrictEqual(many, one, `split into ${pieces.length} pieces`)
      equal(served.calls - calls, 2 * c.requests.length, 'every request reached the route')
      one.list.forEach((response, k) => {
        equal(response.status, 200, response.body)
        const seen = JSON.parse(response.body)
        const expected = expectedView(c.header, c.requests[k])
        for (const [key, value] of Object.entries(expected)) deepStrictEqual(seen[key], value, `${key} of request ${k + 1}`)
      })
      deepStrictEqual(served.warnings, [], 'no connection closed')
    }))

// ------------------------------------------------------------ 3. malformed and slow headers

const MALFORMED_TIMEOUT = 10_000
const SLOW_TIMEOUT = 200

/** What a trusted peer may send first that must close its connection at once. */
const refused = fc.oneof(
  { weight: 6, arbitrary: malformedHeader.map((h) => ({ bytes: h.bytes, category: h.category, signature: true })) },
  // No signature at all: refused only when a header is required.
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('GET / HTTP/1.1\r\n', 'PROXX TCP4', 'POST /', 'PRI * HTTP/2.0\r\n', '\x16\x03\x01', '\r\n\r\n\0\r\nQUIT!', 'proxy tcp4').map((s) => Buffer.from(s, 'latin1')),
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b))
    ).filter((b) => !V1_SIGNATURE.subarray(0, b.length).equals(b.subarray(0, V1_SIGNATURE.length)) &&
      !V2_SIGNATURE.subarray(0, b.length).equals(b.subarray(0, V2_SIGNATURE.length)))
      .map((bytes) => ({ bytes, category: 'no PROXY signature', signature: false }))
  }
)

checkWithServer('a malformed header from a trusted peer is closed at once: no answer, no route, a warning, no leak', 80,
  `true or optional (timeout ${MALFORMED_TIMEOUT} ms, so a close at once is not the timeout); any request after it; split at random`,
  async () => [
    await serve({ trustedProxies: BALANCER.malformed, proxyProtocol: true, proxyProtocolTimeout: MALFORMED_TIMEOUT }),
    await serve({ trustedProxies: BALANCER.malformed, proxyProtocol: 'optional', proxyProtocolTimeout: MALFORMED_TIMEOUT })
  ],
  ([required, optional]) => fc.asyncProperty(
    fc.record({ optional: fc.boolean(), first: refused, requests: fc.array(requestArb, { minLength: 1, maxLength: 2 }) })
      .filter((c) => !c.optional || c.first.signature)
      .chain((c) => {
        const stream = Buffer.concat([c.first.bytes, wire(c.requests)])
        return fc.record({ c: fc.constant(c), stream: fc.constant(stream), cut: cutsFor(c.first.bytes.length, stream.length) })
      }),
    async ({ c, stream, cut }) => {
      const served = c.optional ? optional : required
      const calls = served.calls
      const warnings = served.warnings.length
      const result = await exchange(served.port, BALANCER.malformed, split(stream, cut.cuts, cut.pauses))
      ok(!result.stuck, 'the server closes the connection')
      ok(result.ms < 2000, `closed after ${result.ms} ms: at once, not at the timeout`)
      equal(result.received.toString('latin1'), '', `${c.first.category}: not a byte of answer`)
      equal(served.calls, calls, 'no route reached')
      const logged = served.warnings.slice(warnings)
      equal(logged.length, 1, 'one warning')
      equal(logged[0].peer, BALANCER.malformed, 'naming the peer')
      ok(typeof logged[0].reason === 'string' && logged[0].reason !== '', 'and the reason')
    }))

checkWithServer('a slow header from a trusted peer is closed at the timeout: no answer, no route, a warning, no leak', 12,
  `true or optional, timeout ${SLOW_TIMEOUT} ms; 1-4 connections at once, each a part of a header (maybe none) trickled in, then nothing`,
  async () => [
    await serve({ trustedProxies: BALANCER.slow, proxyProtocol: true, proxyProtocolTimeout: SLOW_TIMEOUT }),
    await serve({ trustedProxies: BALANCER.slow, proxyProtocol: 'optional', proxyProtocolTimeout: SLOW_TIMEOUT })
  ],
  ([required, optional]) => fc.asyncProperty(
    fc.boolean(),
    fc.array(fc.record({
      header: validHeader,
      keep: fc.nat(),
      cuts: fc.array(fc.nat(), { maxLength: 8 }),
      pauses: fc.array(fc.constantFrom(0, 5, 20, 40, 80), { minLength: 1, maxLength: 4 })
    }), { minLength: 1, maxLength: 4 }),
    async (isOptional, slow) => {
      const served = isOptional ? optional : required
      const calls = served.calls
      const warnings = served.warnings.length
      const results = await Promise.all(slow.map(({ header, keep, cuts, pauses }) => {
        const part = header.bytes.subarray(0, keep % header.bytes.length) // never the whole header
        return exchange(served.port, BALANCER.slow, part.length === 0 ? [] : split(part, cuts, pauses))
      }))
      for (const result of results) {
        ok(!result.stuck, 'the server closes the connection')
        ok(result.ms >= SLOW_TIMEOUT && result.ms < SLOW_TIMEOUT + 1500, `closed after ${result.ms} ms, at the timeout`)
        equal(result.received.length, 0, 'not a byte of answer')
      }
      equal(served.calls, calls, 'no route reached')
      const logged = served.warnings.slice(warnings)
      equal(logged.length, slow.length, 'one warning each')
      for (const warning of logged) {
        equal(warning.peer, BALANCER.slow)
        equal(warning.reason, `no complete PROXY header within ${SLOW_TIMEOUT} ms`)
      }
    }))

checkWithServer('a trusted peer that leaves (FIN or RST) in the middle of its header is let go at once, not at the timeout', 30,
  `true or optional, timeout ${MALFORMED_TIMEOUT} ms; a part of a header (maybe none), split, then end() or a reset`,
  async () => [
    await serve({ trustedProxies: BALANCER.leaving, proxyProtocol: true, proxyProtocolTimeout: MALFORMED_TIMEOUT }),
    await serve({ trustedProxies: BALANCER.leaving, proxyProtocol: 'optional', proxyProtocolTimeout: MALFORMED_TIMEOUT })
  ],
  ([required, optional]) => fc.asyncProperty(
    fc.boolean(), validHeader, fc.nat(), fc.array(fc.nat(), { maxLength: 4 }), fc.constantFrom('end', 'reset'),
    async (isOptional, header, keep, cuts, how) => {
      const served = isOptional ? optional : required
      const calls = served.calls
      const part = header.bytes.subarray(0, keep % header.bytes.length)
      const socket = net.connect({ host: '127.0.0.1', port: served.port, localAddress: BALANCER.leaving, noDelay: true })
      socket.on('error', () => {})
      try {
        await new Promise((resolve) => socket.once('connect', resolve))
        for (const piece of split(part, cuts, [0])) {
          await pause(0)
          socket.write(piece.bytes)
        }
        await pause(0)
        if (how === 'end') socket.end()
        else socket.resetAndDestroy()
        await drained(served.app, 1000)
        equal(served.calls, calls, 'no route reached')
      } finally {
        socket.destroy()
      }
    }))

/** Connects from `from` and resolves once connected, with a promise of the close. */
async function open (port: number, from: string): Promise<{ socket: net.Socket, closed: Promise<void>, received: () => Buffer }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from, noDelay: true })
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  await new Promise((resolve) => socket.once('connect', resolve))
  return { socket, closed, received: () => Buffer.concat(chunks) }
}

checkWithServer('closing the app lets go at once of connections still sending their header, and of idle served ones', 12,
  `true or optional, timeout ${MALFORMED_TIMEOUT} ms; 1-12 parts of headers and 0-2 keep-alive connections served, then app.close()`,
  async () => [],
  () => fc.asyncProperty(
    fc.boolean(),
    fc.array(fc.tuple(validHeader, fc.nat()), { minLength: 1, maxLength: 12 }),
    fc.array(validHeader.filter((h) => h.bytes.length <= 600), { maxLength: 2 }),
    async (isOptional, partials, kept) => {
      const served = await serve({ trustedProxies: BALANCER.closing, proxyProtocol: isOptional ? 'optional' : true, proxyProtocolTimeout: MALFORMED_TIMEOUT })
      const clients: Array<Awaited<ReturnType<typeof open>>> = []
      try {
        for (const [header, keep] of partials) {
          const client = await open(served.port, BALANCER.closing)
          const part = header.bytes.subarray(0, keep % header.bytes.length)
          if (part.length > 0) client.socket.write(part)
          clients.push(client)
        }
        for (const header of kept) {
          const client = await open(served.port, BALANCER.closing)
          // One request on a connection kept alive: served, then idle.
          client.socket.write(Buffer.concat([header.bytes, Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: keep-alive\r\n\r\n`)]))
          const deadline = Date.now() + 2000
          while (responses(client.received()).list.length === 0 && Date.now() < deadline) await sleep(5)
          equal(responses(client.received()).list.length, 1, 'served')
          clients.push(client)
        }
        const deadline = Date.now() + 2000
        while (await connections(served.app) < clients.length && Date.now() < deadline) await sleep(5)
        equal(await connections(served.app), clients.length, 'every connection accepted')
        const start = Date.now()
        await served.app.close()
        const took = Date.now() - start
        ok(took < 2000, `app.close() took ${took} ms`)
        await Promise.all(clients.map((client) => client.closed))
        equal(served.calls, kept.length, 'only the complete headers reached the route')
      } finally {
        for (const client of clients) client.socket.destroy()
        await served.app.close()
      }
    }))

// ------------------------------------------------------------ 4. a storm of half-open headers

const STORM = scaled(1000)
const STORM_TIMEOUT = 200

t.test(title('1,000 connections that never complete a header are closed by the timeout', STORM, 'connections') +
  ` (timeout ${STORM_TIMEOUT} ms, optional, opened 200 at a time)`, async (t) => {
  const before = resources()
  const served = await serve({ trustedProxies: BALANCER.storm, proxyProtocol: 'optional', proxyProtocolTimeout: STORM_TIMEOUT })
  try {
    // Each sends nothing, or a part of a valid header.
    const parts = fc.sample(fc.tuple(validHeader, fc.nat()), { seed: SEED, numRuns: STORM })
      .map(([header, keep]) => header.bytes.subarray(0, keep % header.bytes.length))
    const closed: Array<Promise<{ ms: number, received: number, byServer: boolean }>> = []
    let accepted = 0
    served.app.server.on('connection', () => { accepted++ }) // counts only: the plugin's listener reads the socket
    const acceptedBelow = (total: number): boolean => accepted < total
    let peak = 0
    const sampler = setInterval(() => {
      served.app.server.getConnections((_error, count) => { peak = Math.max(peak, count) })
    }, 5)
    const started = Date.now()
    for (let wave = 0; wave < parts.length; wave += 200) {
      const opened = parts.slice(wave, wave + 200).map((part) => new Promise<void>((resolve) => {
        const start = Date.now()
        const socket = net.connect({ host: '127.0.0.1', port: served.port, localAddress: BALANCER.storm })
        let received = 0
        let byServer = false
        socket.on('error', () => {})
        socket.on('data', (chunk: Buffer) => { received += chunk.length })
        socket.on('end', () => { byServer = true })
        closed.push(new Promise((resolve) => socket.on('close', () => resolve({ ms: Date.now() - start, received, byServer }))))
        socket.once('connect', () => {
          if (part.length > 0) socket.write(part)
          resolve()
        })
      }))
      await Promise.all(opened)
      // Let the server accept this wave before the next (past its backlog, a SYN waits a second to be sent again).
      const total = Math.min(wave + 200, parts.length)
      const deadline = Date.now() + 5000
      while (acceptedBelow(total) && Date.now() < deadline) await pause(0)
    }
    const openedIn = Date.now() - started
    const results = await Promise.all(closed)
    const cleaned = Date.now() - started
    clearInterval(sampler)
    equal(results.length, STORM)
    equal(results.filter((r) => r.byServer).length, STORM, 'every connection closed by the server')
    equal(results.filter((r) => r.received > 0).length, 0, 'not a byte of answer')
    const early = results.filter((r) => r.ms < STORM_TIMEOUT)
    equal(early.length, 0, `none closed before the timeout (${early.map((r) => r.ms).slice(0, 5).join(', ')} ms)`)
    await drained(served.app, 2000)
    equal(served.calls, 0, 'no route reached')
    equal(served.warnings.filter((w) => w.reason === `no complete PROXY header within ${STORM_TIMEOUT} ms` && w.peer === BALANCER.storm).length, STORM, 'one warning each')
    ok(peak >= Math.min(200, STORM), `held at once: ${peak}`)
    t.pass(`opened in ${openedIn} ms, up to ${peak} held at once, all closed ${cleaned} ms after the first`)
    // The server still serves a balancer that behaves.
    const header = Buffer.from('PROXY TCP4 198.51.100.9 192.0.2.1 4711 443\r\n', 'latin1')
    const after = await exchange(served.port, BALANCER.storm, [{ bytes: Buffer.concat([header, wire([{ method: 'GET', body: '' }])]), pause: -1 }])
    const answer = responses(after.received).list
    equal(answer.length, 1)
    equal(JSON.parse(answer[0].body).ip, '198.51.100.9', 'a complete header afterwards is served')
    await drained(served.app, 2000)
  } finally {
    await served.app.close()
  }
  await noLeaks(before, 2000)
  t.pass('no socket or timer left open')
})
