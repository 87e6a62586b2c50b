import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import proxyFix from '../lib/index'
import type { ProxyFixOptions } from '../lib/options'
import { elementComma, parseElement, spanText, ElementSpans } from '../lib/forwarded'
import { endpointAt, ipAt } from '../lib/ip'

/** What a handler sees: every field the plugin answers. */
export function view (request: any): Record<string, unknown> {
  return {
    ip: request.ip,
    ips: request.ips,
    host: request.host,
    hostname: request.hostname,
    port: request.port,
    protocol: request.protocol,
    forwardedPrefix: request.forwardedPrefix,
    originalIp: request.originalIp,
    originalHost: request.originalHost
  }
}

export async function build (options: ProxyFixOptions, serverOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions)
  await app.register(proxyFix, options)
  app.get('/', async (request) => view(request))
  return app
}

/** Sends one request from `peer` with `headers` and returns what the handler saw. */
export async function ask (app: FastifyInstance, peer: string, headers: Record<string, string> = {}): Promise<any> {
  const response = await app.inject({ url: '/', remoteAddress: peer, headers: { host: 'app.internal:3000', ...headers } })
  return response.statusCode === 200 ? response.json() : { statusCode: response.statusCode, body: response.json() }
}

const PROXY_V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')

/** A PROXY v2 header: the version/command byte, the family/transport byte, then the block (addresses, ports, TLVs). */
export function proxyV2 (versionCommand: number, familyTransport: number, block: number[] | Buffer, announced?: number): Buffer {
  const body = Buffer.from(block)
  const length = Buffer.alloc(2)
  length.writeUInt16BE(announced ?? body.length)
  return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([versionCommand, familyTransport]), length, body])
}

/** One PROXY v2 type-length-value field. */
export function tlv (type: number, value: number[] | Buffer): Buffer {
  const head = Buffer.from([type, 0, 0])
  head.writeUInt16BE(value.length, 1)
  return Buffer.concat([head, Buffer.from(value)])
}

/** The registered parameters of one Forwarded element, unquoted and unescaped. */
export interface ForwardedElement {
  for?: string
  by?: string
  host?: string
  proto?: string
}

/**
 * A whole `Forwarded` value parsed with the library's own element reader:
 * its elements left to right, or null when any of them is malformed. (The
 * library never parses a whole header: it reads from the right, only as far
 * as the walk goes.)
 */
export function parseForwarded (value: string): ForwardedElement[] | null {
  const elements: ForwardedElement[] = []
  const spans = new ElementSpans()
  const firstComma = value.indexOf(',')
  for (let end = value.length; end >= 0;) {
    const comma = elementComma(value, end, firstComma)
    if (!parseElement(value, comma + 1, end, spans)) return null
    const element: ForwardedElement = {}
    for (const name of ['for', 'by', 'host', 'proto'] as const) {
      const text = spanText(value, spans[`${name}Start`], spans[`${name}End`])
      if (text !== undefined) element[name] = text
    }
    elements.push(element)
    end = comma
  }
  return elements.reverse()
}

/** The canonical text of a bare address, or null when `text` is not one. */
export function parseIP (text: string): string | null {
  return ipAt(text, 0, text.length)?.toString() ?? null
}

/** The canonical address of a list entry that may carry a port, or null. */
export function parseEndpoint (text: string): string | null {
  return endpointAt(text, 0, text.length)?.toString() ?? null
}
