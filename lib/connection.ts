// The PROXY protocol at the connection: a trusted peer's first bytes are read
// for a PROXY header before Node's HTTP parser or TLS sees any of them; the
// bytes after the header are put back for the server. Connections from other
// peers are handed to the server untouched.

import { Server, type Socket } from 'node:net'
import { readProxyHeader, type ProxyHeader } from './proxy-header'

/** Where a connection's PROXY header is kept, on the TCP socket it was read from. */
const kProxyHeader = Symbol('fastify-proxy-fix.proxyHeader')
/** Where a connection still sending its header keeps its place in the server's list. */
const kUnread = Symbol('fastify-proxy-fix.unread')
/** Marks a server whose connections are already read for PROXY headers. */
const kReadsProxyProtocol = Symbol('fastify-proxy-fix.readsProxyProtocol')

export interface ProxyProtocolReading {
  /** `true`: a trusted connection must begin with a PROXY header; otherwise it may. */
  required: boolean
  /** Milliseconds a trusted connection has, from its opening, to send its whole header. */
  timeout: number
  /** Whether the socket peer (hop 0) is trusted. */
  trusts: (peer: string) => boolean
  /** Told of each trusted connection closed because of its header. */
  closed: (peer: string, reason: string) => void
}

type HeaderSocket = Socket & { [kProxyHeader]?: ProxyHeader, [kUnread]?: Unread }

/** A connection still sending its header: one link of its server's list, oldest first. */
interface Unread {
  socket: HeaderSocket
  /** When (performance.now(), a clock that never steps back) the whole header must have arrived. */
  deadline: number
  /** The bytes received so far, while they hold no whole header. */
  received: Buffer | null
  older: Unread | null
  newer: Unread | null
}

/** Why a server cannot be read for PROXY headers, or null when it can. */
export function unreadableServer (server: unknown): string | null {
  if (!(server instanceof Server)) return 'the server is not a Node net.Server (a serverFactory that returns something else?)'
  if (server.listening) return 'the server is already listening, so connections may already have been served'
  if ((server as Server & { [kReadsProxyProtocol]?: true })[kReadsProxyProtocol] === true) {
    return 'another registration already reads PROXY headers on this server'
  }
  return null
}

/**
 * Reads a PROXY header at the start of each connection from a trusted peer
 * of `server`, then hands the connection to the listeners the server had
 * (Node's HTTP, TLS or HTTP/2 connection handler) with the bytes after the
 * header put back. A connection whose header is missing (when required),
 * malformed or late is destroyed: the server never sees it. Returns a
 * function that destroys the connections still sending their header (for
 * closing the server without waiting for their timeouts).
 */
export function readProxyProtocol (server: Server, reading: ProxyProtocolReading): () => void {
  const listeners = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  Object.defineProperty(server, kReadsProxyProtocol, { value: true })

  // The connections still sending their header, oldest first: each has the
  // same timeout on a monotonic clock, so the oldest is also the first due
  // (a wall clock set back would break that), and one timer per
  // server (as Node's HTTP server does for its headersTimeout) closes the
  // late ones from the front. A list linked through the records, rather than
  // a Map or a Set keyed by socket: a hash table of short-lived sockets
  // measured about 2.5 µs more young-generation GC per connection. The
  // listeners below are the same functions for every connection (`this` is
  // the socket): a timer and closures per connection would also cost more
  // than reading the header.
  let oldest: Unread | null = null
  let newest: Unread | null = null
  const sweepEvery = Math.min(Math.max(Math.ceil(reading.timeout / 4), 10), 1000)
  let sweeper: NodeJS.Timeout | null = null
  function sweep (): void {
    const now = performance.now()
    // close() takes each from the list, so the next oldest comes to the front.
    for (let due = oldest; due !== null && due.deadline <= now; due = oldest) {
      close(due.socket, `no complete PROXY header within ${reading.timeout} ms`)
    }
  }
  function stopSweeping (): void {
    if (sweeper !== null) clearInterval(sweeper)
    sweeper = null
  }
  server.on('close', stopSweeping)

  function serve (socket: Socket): void {
    for (const listener of listeners) listener.call(server, socket)
  }

  function stopReading (socket: HeaderSocket): void {
    const unread = socket[kUnread] as Unread
    socket[kUnread] = undefined
    if (unread.older === null) oldest = unread.newer
    else unread.older.newer = unread.newer
    if (unread.newer === null) newest = unread.older
    else unread.newer.older = unread.older
    socket.removeListener('data', onData)
    socket.removeListener('end', onGone)
    socket.removeListener('error', onGone)
    socket.removeListener('close', onGone)
  }

  function close (socket: HeaderSocket, reason: string): void {
    stopReading(socket)
    socket.destroy()
    // The peer's address was read (and kept by Node) when the connection opened.
    reading.closed(socket.remoteAddress as string, reason)
  }

  // A peer that leaves ('end') or resets ('error') before its header is
  // complete has sent nothing to answer; a socket closed by anyone else (a
  // 'connection' listener added after the plugin's) is gone too ('close').
  function onGone (this: HeaderSocket): void {
    stopReading(this)
    this.destroy()
  }

  function handOver (socket: HeaderSocket, rest: Buffer): void {
    stopReading(socket)
    socket.pause()
    if (rest.length > 0) socket.unshift(rest)
    serve(socket)
    // Node's HTTP server reads through a 'data' listener (for the bytes put
    // back) as well as straight from the handle: the paused socket must flow
    // again. TLS and HTTP/2 read what was put back themselves.
    if (socket.listenerCount('data') > 0) socket.resume()
  }

  function onData (this: HeaderSocket, chunk: Buffer): void {
    const unread = this[kUnread] as Unread
    const received = unread.received === null ? chunk : Buffer.concat([unread.received, chunk])
    unread.received = received
    const read = readProxyHeader(received)
    if (read.state === 'complete') {
      this[kProxyHeader] = read.header
      handOver(this, received.subarray(read.length))
    } else if (read.state === 'malformed') {
      close(this, `malformed PROXY header: ${read.reason}`)
    } else if (read.state === 'absent') {
      if (reading.required) close(this, 'the connection does not begin with a PROXY header (proxyProtocol is true)')
      else handOver(this, received)
    }
  }

  server.on('connection', function readHeader (socket: HeaderSocket) {
    const peer = socket.remoteAddress
    if (peer === undefined || !reading.trusts(peer)) {
      serve(socket)
      return
    }
    const unread: Unread = { socket, deadline: performance.now() + reading.timeout, received: null, older: newest, newer: null }
    if (newest === null) oldest = unread
    else newest.newer = unread
    newest = unread
    socket[kUnread] = unread
    sweeper ??= setInterval(sweep, sweepEvery).unref()
    socket.on('data', onData)
    socket.on('end', onGone)
    socket.on('error', onGone)
    socket.on('close', onGone)
  })

  return function destroyUnread (): void {
    stopSweeping()
    while (oldest !== null) {
      const socket = oldest.socket
      stopReading(socket)
      socket.destroy()
    }
  }
}

/**
 * The PROXY header of the connection a request came on, or null. For HTTPS
 * and HTTP/2 over TLS the request's socket is the TLS socket; the header was
 * read from the TCP socket under it, which Node keeps as `_parent` (there is
 * no documented way from one to the other).
 */
export function proxyHeaderOf (socket: object | null | undefined): ProxyHeader | null {
  if (socket == null) return null
  const own = (socket as HeaderSocket)[kProxyHeader]
  if (own !== undefined) return own
  return (socket as { _parent?: HeaderSocket | null })._parent?.[kProxyHeader] ?? null
}
