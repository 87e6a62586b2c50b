// The walk, the same in every mode: from the right of an address chain
// (X-Forwarded-For entries, or Forwarded elements), stepping over trusted
// proxies, until the client. It records where and why it stopped.

import { endpointAt, type IP } from './ip'
import { commaBefore, skipSpaces, trimSpacesEnd } from './list'
import { elementComma, forwardedNodeAt, parseElement, spanText, ElementSpans, HIDDEN } from './forwarded'
import type { Config } from './options'
import type { TrustFunction } from './allowlist'

/** Why a walk stopped at the client: it was the leftmost entry, the first
 *  untrusted one, the one the hop limit reached; or the entry the walk
 *  reached was malformed, or named no address (Forwarded `for=unknown`, an
 *  obfuscated name, no `for`): then the client is the last address walked. */
export type Stop = 'leftmost' | 'untrusted' | 'hops' | 'malformed' | 'hidden'

/** What the walk writes: the caller's record of one request. */
export interface WalkRecord {
  /** The addresses taken from the chain, nearest first (the peer is not among them). */
  readonly walked: IP[]
  /** The client: the last address walked, as text. */
  ip: string
  stop: Stop | null
  /** Where the entries the walk did not read end in the chain's text (they are text[0, unreadEnd)); -1 when none are left. */
  unreadEnd: number
  /** The first error a trust function threw. */
  trustError: unknown
  markInvalid: (header: string, value: string) => void
}

/** Whether `ip` is a trusted proxy at `hop`. A trust function trusts only by
 *  returning `true`; its throw is recorded and is not trust. */
export function trusts (config: Config, ip: IP, hop: number, record: Pick<WalkRecord, 'trustError'>): boolean {
  if (config.allowlist !== null) return config.allowlist.matches(ip)
  try {
    return (config.trustFunction as TrustFunction)(ip.toString(), hop) === true
  } catch (error) {
    if (record.trustError === undefined) record.trustError = error
    return false
  }
}

/** A chain read from the right, one entry per `next()`. */
interface Chain {
  readonly header: string
  /** The end of the part not read yet; -1 when the whole chain has been read. */
  readonly end: number
  /** The next entry to the left: its address, HIDDEN, or null when it is malformed. */
  next: () => IP | typeof HIDDEN | null
  /** The malformed value `next` just found, as the header had it (without the spaces around it). */
  malformed: () => string
}

/** The entries of a comma list such as X-Forwarded-For. */
export class ListChain implements Chain {
  end: number
  private start = 0
  private stop = 0
  private readonly firstComma: number

  constructor (readonly header: string, private readonly text: string) {
    this.end = text.length
    this.firstComma = text.indexOf(',')
  }

  next (): IP | null {
    const comma = commaBefore(this.text, this.end, this.firstComma)
    this.start = skipSpaces(this.text, comma + 1, this.end)
    this.stop = trimSpacesEnd(this.text, this.start, this.end)
    this.end = comma
    return endpointAt(this.text, this.start, this.stop)
  }

  malformed (): string {
    return this.text.slice(this.start, this.stop)
  }
}

/** The `for` values of the elements of a Forwarded header. */
export class ForwardedChain implements Chain {
  readonly header = 'forwarded'
  end: number
  /** The element of the last address read: the client's, when the walk stops (nothing in it before). */
  clientElement = new ElementSpans()
  /** Where the next element is parsed; it swaps places with clientElement when it names an address. */
  private spare = new ElementSpans()
  private bad = ''
  private readonly firstComma: number

  constructor (readonly text: string) {
    this.end = text.length
    this.firstComma = text.indexOf(',')
  }

  next (): IP | typeof HIDDEN | null {
    const end = this.end
    const comma = elementComma(this.text, end, this.firstComma)
    const element = this.spare
    const valid = parseElement(this.text, comma + 1, end, element)
    if (!valid) {
      const start = skipSpaces(this.text, comma + 1, end)
      this.bad = this.text.slice(start, trimSpacesEnd(this.text, start, end))
    }
    this.end = comma
    if (!valid) return null
    if (element.forStart < 0) return HIDDEN
    const node = forwardedNodeAt(this.text, element.forStart, element.forEnd)
    if (node === null) this.bad = spanText(this.text, element.forStart, element.forEnd) as string
    else if (node !== HIDDEN) {
      this.spare = this.clientElement
      this.clientElement = element
    }
    return node
  }

  malformed (): string {
    return this.bad
  }
}

/**
 * Walks `chain` from the right: an entry that is trusted, while fewer than
 * `hops` proxies (the peer counts as the first) have been trusted, is a proxy
 * to step over; the first that is not is the client, and so is the leftmost.
 * The user's trust function is called at most once per entry, and never for
 * the leftmost entry or one the hop limit makes the client.
 */
export function walk (config: Config, chain: Chain, record: WalkRecord): void {
  // The peer is the first trusted proxy, and so is each address already walked (a PROXY header's source).
  for (let trusted = record.walked.length + 1; ; trusted++) {
    const entry = chain.next()
    record.unreadEnd = chain.end
    if (entry === null) {
      record.stop = 'malformed'
      record.markInvalid(chain.header, chain.malformed())
      break
    }
    if (entry === HIDDEN) {
      record.stop = 'hidden'
      break
    }
    record.walked.push(entry)
    if (chain.end < 0) record.stop = 'leftmost'
    else if (trusted >= config.hops) record.stop = 'hops'
    else if (!trusts(config, entry, record.walked.length, record)) record.stop = 'untrusted'
    else continue
    break
  }
  // Only the client's address is made into text here; the proxies' when `ips` is read.
  const walked = record.walked
  if (walked.length > 0) record.ip = walked[walked.length - 1].toString()
}
