// Strict IP address parsing and canonical text.
//
// IPv4 is four decimal octets without leading zeros: `010.0.0.1`, `1.2.3`,
// `0x7f.0.0.1` and `167772161` are not addresses. IPv6 follows the RFC 4291
// text forms as Node's `net.isIP` does (`::` stands for at least one group);
// zone ids are not accepted. Parsers read text[start, end) of a larger string,
// so a header is never split to be parsed.

/** A parsed address: IPv4 (and IPv4-mapped IPv6) as `v4`; an address
 *  written in IPv6 syntax also as four 32-bit words (the mapped one as
 *  `::ffff:a.b.c.d`), which are 0 for one written as IPv4. */
export class IP {
  constructor (
    /** The IPv4 address as an unsigned 32-bit number, or -1 for other IPv6. */
    readonly v4: number,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    /** Whether it was written with colons (IPv6 syntax, also for a mapped IPv4). */
    readonly written6: boolean,
    private readonly source: string,
    private readonly start: number,
    private readonly end: number
  ) {}

  /** The canonical text: dotted decimal for IPv4 and IPv4-mapped IPv6, RFC 5952 for IPv6. */
  toString (): string {
    if (this.v4 >= 0) {
      if (this.written6) return dotted(this.v4)
      // A strict IPv4 parse accepts only the canonical spelling.
      return this.start === 0 && this.end === this.source.length ? this.source : this.source.slice(this.start, this.end)
    }
    return formatIPv6([this.w0 >>> 16, this.w0 & 0xffff, this.w1 >>> 16, this.w1 & 0xffff,
      this.w2 >>> 16, this.w2 & 0xffff, this.w3 >>> 16, this.w3 & 0xffff])
  }
}

function isDigit (c: number): boolean {
  return c >= 48 && c <= 57
}

/** The dotted quad in text[start, end) as a number, or -1 when it is not exactly one.
 *  Each character is read once: this runs on every address of every request. */
export function ipv4At (text: string, start: number, end: number): number {
  let value = 0
  let octet = 0
  let digits = 0
  let dots = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (isDigit(c)) {
      if (digits === 1 && octet === 0) return -1 // no leading zeros
      octet = octet * 10 + c - 48
      if (octet > 255) return -1
      digits++
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet
      octet = 0
      digits = 0
      dots++
    } else {
      return -1
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1
}

function hexValue (c: number): number {
  if (isDigit(c)) return c - 48
  const lower = c | 0x20
  return lower >= 97 && lower <= 102 ? lower - 87 : -1
}

// The longest IPv6 text: eight groups of four digits, or six and a dotted quad.
const LONGEST_IPV6 = 45

/**
 * The eight 16-bit groups of the IPv6 address in text[start, end), or null,
 * reading each character once: `h16` groups separated by `:`, at most one
 * `::`, and maybe a dotted quad as the last two groups. The groups after a
 * `::` are read after the ones before it, then moved to the end with zeros
 * between.
 */
function ipv6Groups (text: string, start: number, end: number): number[] | null {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0]
  let count = 0
  let gap = -1 // how many groups came before the `::`
  let value = 0
  let digits = 0 // of the group being read
  let from = start
  if (text.charCodeAt(start) === 58) { // a leading `::`
    if (text.charCodeAt(start + 1) !== 58) return null
    gap = 0
    from = start + 2
  }
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i)
    const h = hexValue(c)
    if (h >= 0) {
      if (digits === 4) return null
      value = value * 16 + h
      digits++
    } else if (c === 58 && digits > 0) { // `:` after a group
      if (count === 8) return null
      groups[count++] = value
      value = 0
      digits = 0
    } else if (c === 58 && gap < 0) { // the second `:` of `::`
      gap = count
    } else if (c === 46 && count < 7) { // the last two groups as a dotted quad
      const quad = ipv4At(text, i - digits, end)
      if (quad < 0) return null
      groups[count++] = Math.floor(quad / 65536)
      groups[count++] = quad % 65536
      return placeGroups(groups, count, gap)
    } else {
      return null
    }
  }
  if (digits > 0) {
    if (count === 8) return null
    groups[count++] = value
  } else if (gap !== count) {
    return null // a `:` at the end that is not `::`
  }
  return placeGroups(groups, count, gap)
}

/** The groups of an address read as `count` groups with a `::` after the first `gap` (-1: none), or null. */
function placeGroups (groups: number[], count: number, gap: number): number[] | null {
  if (gap < 0) return count === 8 ? groups : null
  if (count > 7) return null
  for (let k = count - 1; k >= gap; k--) {
    groups[8 - count + k] = groups[k]
    if (8 - count + k !== k) groups[k] = 0
  }
  return groups
}

/** The address (IPv4 or IPv6, no brackets, no zone id) in text[start, end), or null. */
export function ipAt (text: string, start: number, end: number): IP | null {
  const v4 = ipv4At(text, start, end)
  return v4 >= 0 ? new IP(v4, 0, 0, 0, 0, false, text, start, end) : ipv6At(text, start, end)
}

/** The address in IPv6 syntax (maybe IPv4-mapped) in text[start, end), or null. */
export function ipv6At (text: string, start: number, end: number): IP | null {
  if (end - start < 2 || end - start > LONGEST_IPV6) return null
  const g = ipv6Groups(text, start, end)
  if (g === null) return null
  const w0 = (g[0] * 65536 + g[1]) >>> 0
  const w1 = (g[2] * 65536 + g[3]) >>> 0
  const w2 = (g[4] * 65536 + g[5]) >>> 0
  const w3 = (g[6] * 65536 + g[7]) >>> 0
  const mapped = w0 === 0 && w1 === 0 && w2 === 0xffff
  return new IP(mapped ? w3 : -1, w0, w1, w2, w3, true, text, start, end)
}

/** A port in text[start, end): 1–65535 in decimal without a leading zero; -1 otherwise. */
export function portAt (text: string, start: number, end: number): number {
  const digits = end - start
  if (digits < 1 || digits > 5 || text.charCodeAt(start) === 48) return -1
  let port = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (!isDigit(c)) return -1
    port = port * 10 + c - 48
  }
  return port <= 65535 ? port : -1
}

/**
 * An address as proxies write it in a list, in text[start, end):
 * `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`, `[2001:db8::1]` or
 * `[2001:db8::1]:4711`. The port is checked and dropped. Null otherwise.
 */
export function endpointAt (text: string, start: number, end: number): IP | null {
  if (start < end && text.charCodeAt(start) === 91) { // [
    const close = indexIn(text, 93, start, end) // ]
    if (close < 0) return null
    if (close + 1 < end && (text.charCodeAt(close + 1) !== 58 || portAt(text, close + 2, end) < 0)) return null
    return ipv6At(text, start + 1, close)
  }
  const v4 = ipv4At(text, start, end)
  if (v4 >= 0) return new IP(v4, 0, 0, 0, 0, false, text, start, end)
  const colon = indexIn(text, 58, start, end)
  if (colon < 0) return null
  // Before the first colon, IPv6 has a group (at most 4 characters) and a
  // dotted quad with a port has its address (at least 7). An unbracketed
  // IPv6 address takes no port.
  if (colon - start <= 4) return ipv6At(text, start, end)
  const quad = ipv4At(text, start, colon)
  return quad < 0 || portAt(text, colon + 1, end) < 0 ? null : new IP(quad, 0, 0, 0, 0, false, text, start, colon)
}

/** The first index of the character `code` in text[start, end), or -1. */
function indexIn (text: string, code: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === code) return i
  return -1
}

function dotted (v4: number): string {
  return (v4 >>> 24) + '.' + ((v4 >>> 16) & 255) + '.' + ((v4 >>> 8) & 255) + '.' + (v4 & 255)
}

/** RFC 5952 text of eight groups: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIPv6 (g: number[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j === i ? i + 1 : j
  }
  let out = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::'
      i += bestLength - 1
    } else {
      out += (out === '' || out.endsWith(':') ? '' : ':') + g[i].toString(16)
    }
  }
  return out
}

/** The canonical text of the address in bytes[start, start + 4) (IPv4) or
 *  [start, start + 16) (IPv6, network order; an IPv4-mapped one is dotted). */
export function addressFromBytes (bytes: Uint8Array, start: number, length: 4 | 16): string {
  const mapped = length === 16 && bytes[start + 10] === 0xff && bytes[start + 11] === 0xff && isZero(bytes, start, start + 10)
  if (length === 4 || mapped) {
    const at = length === 4 ? start : start + 12
    return bytes[at] + '.' + bytes[at + 1] + '.' + bytes[at + 2] + '.' + bytes[at + 3]
  }
  const groups: number[] = []
  for (let i = start; i < start + 16; i += 2) groups.push(bytes[i] << 8 | bytes[i + 1])
  return formatIPv6(groups)
}

function isZero (bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false
  return true
}
